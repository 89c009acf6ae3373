/* Docker's --format in src/cli/output.c: tables aligned as docker/cli's
 * tabwriter aligns them, headers, json rows, plain templates, inspect's
 * forms, and the error texts. The expected texts are docker's output for
 * the same format over the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "cli/output.h"

#include <string.h>

static const struct cli_header ps_headers[] = {
    {".ID", "CONTAINER ID"},    {".Image", "IMAGE"}, {".Names", "NAMES"},
    {".RunningFor", "CREATED"}, {NULL, NULL},
};

static const char *ps_default = "table {{.ID}}\t{{.Image}}\t{{.Names}}";

static const char *ps_rows =
    "[{\"ID\": \"0123456789ab\", \"Image\": \"nginx:latest\", \"Names\": \"web\","
    "  \"RunningFor\": \"2 minutes ago\", \"CPUPerc\": \"0.5%\"},"
    " {\"ID\": \"ba9876543210\", \"Image\": \"busybox\", \"Names\": \"db\","
    "  \"RunningFor\": \"1 hour ago\", \"CPUPerc\": \"12.0%\"}]";

struct result {
    int rc;
    char *out;
    char *err;
};

static struct result print_rows(const char *format, const char *rows_text)
{
    json_error_t je;
    json_t *rows = json_loads(rows_text, 0, &je);
    assert_non_null(rows);
    struct result res = {0};
    size_t len = 0;
    FILE *f = open_memstream(&res.out, &len);
    assert_non_null(f);
    cell_err_t err = CELL_ERR_INIT;
    res.rc = cli_print_formatted(f, format, rows, ps_default, ps_headers, &err);
    fclose(f);
    if (res.rc < 0)
        res.err = strdup(cell_error_text(&err));
    cell_error_clear(&err);
    json_decref(rows);
    return res;
}

static struct result inspect(const char *format, const char *objs_text)
{
    json_error_t je;
    json_t *objs = json_loads(objs_text, 0, &je);
    assert_non_null(objs);
    struct result res = {0};
    size_t len = 0;
    FILE *f = open_memstream(&res.out, &len);
    assert_non_null(f);
    cell_err_t err = CELL_ERR_INIT;
    res.rc = cli_print_object_formatted(f, format, objs, &err);
    fclose(f);
    if (res.rc < 0)
        res.err = strdup(cell_error_text(&err));
    cell_error_clear(&err);
    json_decref(objs);
    return res;
}

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

static void expect_output(const char *format, const char *rows, const char *expected)
{
    struct result r = print_rows(format, rows);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, expected);
    result_free(&r);
}

static void test_default_table_is_aligned_like_docker(void **state)
{
    (void)state;
    /* Columns are their widest cell plus 3, at least 10; the last is not padded. */
    const char *expected = "CONTAINER ID   IMAGE          NAMES\n"
                           "0123456789ab   nginx:latest   web\n"
                           "ba9876543210   busybox        db\n";
    expect_output(NULL, ps_rows, expected);
    expect_output("", ps_rows, expected);
    expect_output("table", ps_rows, expected);
    expect_output("table {{.ID}}\\t{{.Image}}\\t{{.Names}}", ps_rows, expected);
}

static void test_table_min_width_and_short_columns(void **state)
{
    (void)state;
    expect_output("table {{.Names}}\\t{{.Names}}", ps_rows,
                  "NAMES     NAMES\n"
                  "web       web\n"
                  "db        db\n");
}

static void test_wide_characters_count_two_cells(void **state)
{
    (void)state;
    const char *rows = "[{\"ID\": \"a\", \"Image\": \"日本語\", \"Names\": \"x\"},"
                       " {\"ID\": \"b\", \"Image\": \"café\", \"Names\": \"y\"},"
                       " {\"ID\": \"c\", \"Image\": \"e\\u0301t\\u00e9😀\", \"Names\": \"z\"}]";
    /* 日本語 is 6 cells wide, café 4, e + combining acute + t + é + 😀 5:
     * the IMAGE column is max(6 + 3, 10) = 10 cells. */
    expect_output("table {{.Image}}\\t{{.Names}}", rows,
                  "IMAGE     NAMES\n"
                  "日本語    x\n"
                  "café      y\n"
                  "e\xcc\x81té😀     z\n");
    const char *wide = "[{\"ID\": \"a\", \"Image\": \"コンテナのイメージ\", \"Names\": \"x\"}]";
    expect_output("table {{.Image}}\\t{{.Names}}", wide,
                  "IMAGE                NAMES\n"
                  "コンテナのイメージ   x\n");
}

static void test_header_labels(void **state)
{
    (void)state;
    /* From the table, else the field's words in capitals. */
    expect_output("table {{.ID}}\\t{{.RunningFor}}\\t{{.CPUPerc}}", ps_rows,
                  "CONTAINER ID   CREATED         CPU PERC\n"
                  "0123456789ab   2 minutes ago   0.5%\n"
                  "ba9876543210   1 hour ago      12.0%\n");
    const char *rows = "[{\"LocalVolumes\": \"2\", \"SizeRootFs\": \"1B\", \"ID\": \"x\"}]";
    expect_output("table {{.LocalVolumes}}\\t{{.SizeRootFs}}", rows,
                  "LOCAL VOLUMES   SIZE ROOT FS\n"
                  "2               1B\n");
    expect_output("table {{.Names}}\\t{{.State.Pid}}",
                  "[{\"Names\": \"web\", \"State\": {\"Pid\": 4242}}]",
                  "NAMES     PID\n"
                  "web       4242\n");
    /* Docker's header functions leave the label alone; pad still pads it. */
    expect_output("table {{.Names | upper}}\\t{{truncate .ID 4}}|{{pad .Image 1 0}}", ps_rows,
                  "NAMES     CONTAINER ID| IMAGE\n"
                  "WEB       0123| nginx:latest\n"
                  "DB        ba98| busybox\n");
}

static void test_table_without_rows_prints_its_header(void **state)
{
    (void)state;
    expect_output(NULL, "[]", "CONTAINER ID   IMAGE     NAMES\n");
    expect_output("table {{.ID}}\\t{{.RunningFor}}\\t{{.LocalVolumes}}", "[]",
                  "CONTAINER ID   CREATED   LOCAL VOLUMES\n");
}

static void test_json_rows(void **state)
{
    (void)state;
    const char *rows = "[{\"ID\": \"a\", \"Command\": \"\\\"sh -c 'x && y'\\\"\", \"Ports\": \"\"},"
                       " {\"ID\": \"b\", \"Command\": \"<none>\", \"Ports\": \"80/tcp\"}]";
    expect_output("json", rows,
                  "{\"ID\":\"a\",\"Command\":\"\\\"sh -c 'x && y'\\\"\",\"Ports\":\"\"}\n"
                  "{\"ID\":\"b\",\"Command\":\"<none>\",\"Ports\":\"80/tcp\"}\n");
    expect_output("{{json .}}", "[{\"ID\": \"a\"}]", "{\"ID\":\"a\"}\n");
}

static void test_plain_template_rows(void **state)
{
    (void)state;
    /* No header, no alignment; \t typed in single quotes is a tab. */
    expect_output("{{.ID}}\\t{{.Names}}", ps_rows, "0123456789ab\tweb\nba9876543210\tdb\n");
    expect_output("  {{.Names}}: {{.Image}}  ", ps_rows, "web: nginx:latest\ndb: busybox\n");
    expect_output("{{.Names}}\\n--", ps_rows, "web\n--\ndb\n--\n");
    expect_output("{{.Names}}", "[]", "");
}

static void test_bad_templates(void **state)
{
    (void)state;
    struct result r = print_rows("{{.ID", ps_rows);
    assert_true(r.rc < 0);
    assert_string_equal(r.err, "template parsing error: template: :1: unclosed action");
    assert_string_equal(r.out, "");
    result_free(&r);
    r = print_rows("table {{.ID}}\\t{{foo .Names}}", ps_rows);
    assert_string_equal(r.err,
                        "template parsing error: template: :1: function \"foo\" not defined");
    result_free(&r);
    /* A field the rows lack fails the whole table, before anything is printed. */
    r = print_rows("table {{.ID}}\\t{{.Nmes}}", ps_rows);
    assert_true(r.rc < 0);
    assert_string_equal(r.err, "template parsing error: template: :1:10: executing \"\" at "
                               "<.Nmes>: map has no entry for key \"Nmes\"");
    assert_string_equal(r.out, "");
    result_free(&r);
}

static void test_tabwriter_blocks_like_go(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    /* A column's block ends at a line without a cell in it; the text after a
     * line's last tab is not padded, nor is unfinished last text. */
    const char *text = "a\tb\tc\naaa\tbbbb\n\tx\nno tabs\nlong cell\tq\nend";
    assert_int_equal(cli_tabwrite(f, text, strlen(text), 0, 1, CLI_WIDTH_CELLS), 0);
    fclose(f);
    assert_string_equal(out, "a   b c\n"
                             "aaa bbbb\n"
                             "    x\n"
                             "no tabs\n"
                             "long cell q\n"
                             "end");
    free(out);
    assert_int_equal(cli_text_width("日本", 6, CLI_WIDTH_RUNES), 2);
    assert_int_equal(cli_text_width("日本", 6, CLI_WIDTH_CELLS), 4);
    assert_int_equal(cli_text_width("👨\u200d👩\u200d👧", strlen("👨\u200d👩\u200d👧"), CLI_WIDTH_CELLS),
                     2);
}

/* runc's list keeps Go's own tabwriter: it counts runes. */
static void test_cli_table_counts_runes(void **state)
{
    (void)state;
    struct cli_table t = {.ncols = 3};
    const char *header[] = {"ID", "PID", "STATUS"};
    const char *row[] = {"日本", "123", "running"};
    assert_int_equal(cli_table_add_row(&t, header), 0);
    assert_int_equal(cli_table_add_row(&t, row), 0);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    cli_table_print(f, &t, 12, 3);
    fclose(f);
    cli_table_clear(&t);
    assert_string_equal(out, "ID          PID         STATUS\n"
                             "日本          123         running\n");
    free(out);
}

static void test_inspect_forms(void **state)
{
    (void)state;
    const char *objs = "[{\"Id\": \"c1\", \"State\": {\"Pid\": 42, \"Running\": true},"
                       "  \"Args\": [\"a && b\", \"<x>\"], \"Labels\": {}}]";
    struct result r = inspect(NULL, objs);
    assert_int_equal(r.rc, 0);
    /* Docker's inspect: four spaces, and encoding/json's escapes of <, > and &. */
    assert_string_equal(r.out, "[\n"
                               "    {\n"
                               "        \"Id\": \"c1\",\n"
                               "        \"State\": {\n"
                               "            \"Pid\": 42,\n"
                               "            \"Running\": true\n"
                               "        },\n"
                               "        \"Args\": [\n"
                               "            \"a \\u0026\\u0026 b\",\n"
                               "            \"\\u003cx\\u003e\"\n"
                               "        ],\n"
                               "        \"Labels\": {}\n"
                               "    }\n"
                               "]\n");
    result_free(&r);
    r = inspect("json", objs);
    assert_string_equal(r.out, "[{\"Id\":\"c1\",\"State\":{\"Pid\":42,\"Running\":true},\"Args\":"
                               "[\"a \\u0026\\u0026 b\",\"\\u003cx\\u003e\"],\"Labels\":{}}]\n");
    result_free(&r);
    r = inspect("{{.State.Pid}} {{json .Args}}", objs);
    assert_string_equal(r.out, "42 [\"a && b\",\"<x>\"]\n");
    result_free(&r);
    /* One object alone is the same as a list of one; \t is not translated. */
    r = inspect("{{.Id}}\\t", "{\"Id\": \"c2\"}");
    assert_string_equal(r.out, "c2\\t\n");
    result_free(&r);
    r = inspect(NULL, "[]");
    assert_string_equal(r.out, "[]\n");
    result_free(&r);
    r = inspect("{{.Id}}", "[]");
    assert_string_equal(r.out, "\n");
    result_free(&r);
}

static void test_inspect_errors(void **state)
{
    (void)state;
    struct result r = inspect("{{.Id", "[{\"Id\": \"c1\"}]");
    assert_true(r.rc < 0);
    assert_string_equal(r.err, "template parsing error: template: :1: unclosed action");
    assert_string_equal(r.out, "");
    result_free(&r);
    /* The objects that render are printed; the first failure is the error. */
    r = inspect("{{.Config.Image}}", "[{\"Config\": {\"Image\": \"x\"}}, {\"Id\": \"c2\"}]");
    assert_true(r.rc < 0);
    assert_string_equal(r.out, "x\n");
    assert_string_equal(r.err, "template parsing error: template: :1:2: executing \"\" at "
                               "<.Config.Image>: map has no entry for key \"Config\"");
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_table_is_aligned_like_docker),
        cmocka_unit_test(test_table_min_width_and_short_columns),
        cmocka_unit_test(test_wide_characters_count_two_cells),
        cmocka_unit_test(test_header_labels),
        cmocka_unit_test(test_table_without_rows_prints_its_header),
        cmocka_unit_test(test_json_rows),
        cmocka_unit_test(test_plain_template_rows),
        cmocka_unit_test(test_bad_templates),
        cmocka_unit_test(test_tabwriter_blocks_like_go),
        cmocka_unit_test(test_cli_table_counts_runes),
        cmocka_unit_test(test_inspect_forms),
        cmocka_unit_test(test_inspect_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

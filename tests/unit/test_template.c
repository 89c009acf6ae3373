/* Go's text/template over JSON values (base/template.c). Each expected text
 * is what Go's text/template with Docker's functions prints for the same
 * template over the values Docker formats, which these JSON values stand
 * for: integers print as Go's ints (not as decoded float64s), null as a nil
 * pointer prints (<nil>), and objects keep the order they were built in
 * (the engine builds them in Docker's order: a struct's fields as declared,
 * a map's keys sorted), where Go's json sorts a map's keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/template.h"

#include <string.h>

static const char *data_text =
    "{\"ID\": \"0123456789ab\", \"Names\": \"web\", \"Image\": \"nginx:latest\","
    " \"State\": {\"Pid\": 4242, \"Running\": true, \"ExitCode\": 0, \"Health\": null},"
    " \"Labels\": {\"b\": \"2\", \"a\": \"1\", \"com.example\": \"x\"},"
    " \"Args\": [\"-g\", \"daemon off;\"], \"Empty\": [], \"NoLabels\": {},"
    " \"Ratio\": 0.25, \"Big\": 1000000.0, \"Size\": 1048576, \"Null\": null,"
    " \"Mixed\": [1, \"a\", null, true, {\"k\": [2.5]}], \"Html\": \"<a&b>\"}";

/* The rendered text, or "ERR: " and the error. */
static char *run_opt(const char *tmpl, const char *json, const char *option, bool header)
{
    json_error_t je;
    json_t *data = json ? json_loads(json, JSON_DECODE_ANY, &je) : NULL;
    if (json)
        assert_non_null(data);
    struct cell_template *t = NULL;
    cell_err_t err = CELL_ERR_INIT;
    char *out = NULL;
    int r = cell_template_parse(tmpl, &t, &err);
    if (r == 0 && option)
        assert_int_equal(cell_template_option(t, option, &err), 0);
    if (r == 0)
        r = header ? cell_template_render_header(t, data, &out, &err)
                   : cell_template_render(t, data, &out, &err);
    if (r < 0) {
        assert_null(out);
        assert_int_equal(asprintf(&out, "ERR: %s", cell_error_text(&err)) > 0, 1);
    }
    cell_error_clear(&err);
    cell_template_free(t);
    json_decref(data);
    return out;
}

static void check(const char *tmpl, const char *expected)
{
    _cleanup_free_ char *out = run_opt(tmpl, data_text, NULL, false);
    if (strcmp(out, expected) != 0)
        print_error("template %s\n", tmpl);
    assert_string_equal(out, expected);
}

static void test_text_and_fields(void **state)
{
    (void)state;
    check("", "");
    check("plain text", "plain text");
    check("{{.ID}}\t{{.Names}}", "0123456789ab\tweb");
    check("{{.State.Pid}}", "4242");
    check("{{ .State.Running }}", "true");
    check("{{.Image}}:{{.Names}}", "nginx:latest:web");
    check("{{$.Names}} {{$}}", "web map[Args:[-g daemon off;] Big:1e+06 Empty:[] Html:<a&b> "
                               "ID:0123456789ab Image:nginx:latest Labels:map[a:1 b:2 "
                               "com.example:x] Mixed:[1 a <nil> true map[k:[2.5]]] Names:web "
                               "NoLabels:map[] Null:<nil> Ratio:0.25 Size:1048576 "
                               "State:map[ExitCode:0 Health:<nil> Pid:4242 Running:true]]");
    /* Go's two-character \t is no escape in template text. */
    check("a\\tb", "a\\tb");
    check("{{/* a comment */}}x{{- /* trimmed */ -}} y", "xy");
}

static void test_values_print_as_fmt_v(void **state)
{
    (void)state;
    check("{{.Labels}}", "map[a:1 b:2 com.example:x]");
    check("{{.Args}}", "[-g daemon off;]");
    check("{{.Empty}} {{.NoLabels}}", "[] map[]");
    check("{{.Mixed}}", "[1 a <nil> true map[k:[2.5]]]");
    check("{{.Ratio}} {{.Big}} {{.Size}}", "0.25 1e+06 1048576");
    check("{{.Null}} {{.State.Health}}", "<nil> <nil>");
    check("{{.Missing}}", "<no value>");
    check("{{.Missing.Deeper}}", "<no value>");
    check("{{1.5}} {{1e3}} {{0x1F}} {{-7}} {{'a'}} {{123456.0}} {{1234567.0}} {{0.0001}} "
          "{{0.00001}}",
          "1.5 1000 31 -7 97 123456 1.234567e+06 0.0001 1e-05");
    check("{{true}} {{\"s\"}} {{`raw\\n`}} {{\"esc\\t\\u00e9\"}}", "true s raw\\n esc\té");
}

static void test_trim_markers(void **state)
{
    (void)state;
    check("a  {{- .Names -}}  \n b", "awebb");
    check("a {{.Names -}}\n\t b", "a webb");
    check("a \n{{- .Names}} b", "aweb b");
    check("{{- 3}}", "3");
    check("{{-3}}", "-3");
}

static void test_pipelines_and_functions(void **state)
{
    (void)state;
    check("{{.Names | upper}}", "WEB");
    check("{{upper .Names | lower}}", "web");
    check("{{title \"hello world-foo_bar baz\"}}", "Hello World-Foo_bar Baz");
    check("{{upper \"grüße é\"}}", "GRÜßE É");
    check("{{join .Args \", \"}}", "-g, daemon off;");
    check("{{split .Image \":\"}}", "[nginx latest]");
    check("{{index (split .Image \":\") 1}}", "latest");
    check("{{split \"abc\" \"\"}} {{len (split \"\" \",\")}}", "[a b c] 1");
    check("{{truncate .ID 5}} {{truncate .ID 50}}", "01234 0123456789ab");
    check("[{{pad .Names 2 1}}] [{{pad \"\" 2 1}}]", "[  web ] []");
    check("{{json .Labels}}", "{\"b\":\"2\",\"a\":\"1\",\"com.example\":\"x\"}");
    check("{{json .Html}} {{json .Ratio}} {{json .Big}} {{json .Null}} {{json .Missing}}",
          "\"<a&b>\" 0.25 1000000 null null");
    check("{{json .State}}", "{\"Pid\":4242,\"Running\":true,\"ExitCode\":0,\"Health\":null}");
    check("{{len .Args}} {{len .Labels}} {{len .Names}}", "2 3 3");
    check("{{index .Args 1}} {{index .Labels \"com.example\"}} {{index .Mixed 4 \"k\" 0}}",
          "daemon off; x 2.5");
    /* A label that is not there is "", as Docker's map[string]string gives. */
    check("[{{index .Labels \"nope\"}}] [{{index .NoLabels \"nope\"}}]", "[] []");
    check("{{slice .ID 2 5}} {{slice .Args 1}}", "234 [daemon off;]");
    check("{{print \"a\" 1 2 \"b\" .Null 3}}", "a1 2b<nil> 3");
    check("{{println .Names 3}}", "web 3\n");
    check("{{.Names | printf \"%s-%s\" \"x\"}}", "x-web");
    check("{{printf \"%-6s|%5d|%q|%v|%x|%05.1f\" .Names 42 .Names .Args 255 3.14159}}",
          "web   |   42|\"web\"|[-g daemon off;]|ff|003.1");
    check("{{printf \"%d %s\" .Names 1}}", "%!d(string=web) %!s(int=1)");
    check("{{printf \"%d\"}} {{printf \"%d\" 1 2}}", "%!d(MISSING) 1%!(EXTRA int=2)");
    check("{{printf \"%T %T %T %v\" .Labels .Ratio .Null .Null}}",
          "map[string]interface {} float64 <nil> <nil>");
}

static void test_comparisons_and_logic(void **state)
{
    (void)state;
    check("{{eq .Names \"web\"}} {{eq .State.Pid 4242}} {{eq .Names \"a\" \"b\" \"web\"}}",
          "true true true");
    check("{{ne .Names \"web\"}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}",
          "false true true true false");
    check("{{eq .Null .Missing}} {{eq .Names .Null}}", "true false");
    check("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}", "0 2 x ");
    check("{{not .Empty}} {{not .Args}} {{not .Null}}", "true false true");
    check("{{if and .State.Running (eq .State.ExitCode 0)}}up{{end}}", "up");
    /* and stops at its first false argument: the bad index is never run. */
    check("{{and false (index .Args 9)}}", "false");
}

static void test_control_structures(void **state)
{
    (void)state;
    check("{{if .State.Running}}running{{else}}stopped{{end}}", "running");
    check("{{if .Empty}}a{{else if .Null}}b{{else if .Names}}c{{else}}d{{end}}", "c");
    check("{{with .State}}{{.Pid}}{{end}}", "4242");
    check("{{with .Missing}}x{{else}}none{{end}}", "none");
    check("{{with .Null}}x{{else with .Names}}{{.}}{{end}}", "web");
    check("{{range .Args}}<{{.}}>{{end}}", "<-g><daemon off;>");
    check("{{range $i, $a := .Args}}{{$i}}={{$a}};{{end}}", "0=-g;1=daemon off;;");
    check("{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}", "a=1,b=2,com.example=x,");
    check("{{range .Labels}}{{.}}{{end}}", "12x");
    check("{{range .Empty}}x{{else}}empty{{end}} {{range .Missing}}x{{else}}none{{end}}",
          "empty none");
    check("{{range split \"a,b,c,d\" \",\"}}{{if eq . \"b\"}}{{continue}}{{end}}"
          "{{if eq . \"d\"}}{{break}}{{end}}[{{.}}]{{end}}",
          "[a][c]");
    check("{{range .Mixed}}[{{.}}]{{end}}", "[1][a][<nil>][true][map[k:[2.5]]]");
    check("{{range 3}}{{.}}{{end}}", "012");
    check("{{range .Args}}{{$.Names}}{{end}}", "webweb");
    check("{{$n := .Names}}{{$n}} {{$n = \"x\"}}{{$n}}", "web x");
    check("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2");
    check("{{(index .Args 0)}} {{(.State).Pid}} {{$s := .State}}{{$s.Pid}}", "-g 4242 4242");
}

static void check_error(const char *tmpl, const char *expected)
{
    _cleanup_free_ char *out = run_opt(tmpl, data_text, NULL, false);
    if (strcmp(out, expected) != 0)
        print_error("template %s\n", tmpl);
    assert_string_equal(out, expected);
}

static void test_parse_errors_read_as_gos(void **state)
{
    (void)state;
    check_error("{{foo .}}", "ERR: template: :1: function \"foo\" not defined");
    check_error("{{.ID", "ERR: template: :1: unclosed action");
    check_error("{{if .ID}}x", "ERR: template: :1: unexpected EOF");
    check_error("{{end}}", "ERR: template: :1: unexpected {{end}}");
    check_error("{{else}}", "ERR: template: :1: unexpected {{else}}");
    check_error("{{}}", "ERR: template: :1: missing value for command");
    check_error("{{.ID | 3}}", "ERR: template: :1: non executable command in pipeline stage 2");
    check_error("{{$y}}", "ERR: template: :1: undefined variable \"$y\"");
    check_error("{{break}}", "ERR: template: :1: {{break}} outside {{range}}");
    check_error("{{\"abc}}", "ERR: template: :1: unterminated quoted string");
    check_error("{{1x}}", "ERR: template: :1: bad number syntax: \"1x\"");
    check_error("{{(.ID}}", "ERR: template: :1: unclosed left paren");
    check_error("{{.ID)}}", "ERR: template: :1: unexpected right paren U+0029 ')'");
    check_error("{{|}}", "ERR: template: :1: unexpected \"|\" in command");
    check_error("{{/* x }}", "ERR: template: :1: unclosed comment");
    check_error("a\nb\n{{nope}}", "ERR: template: :3: function \"nope\" not defined");
    check_error("{{template \"x\"}}", "ERR: template: :1: {{template}} is not supported");
    check_error("{{.ID+}}", "ERR: template: :1: bad character U+002B '+'");
    check_error("{{.ID.}}", "ERR: template: :1: unexpected <.> in operand");
}

static void test_exec_errors_read_as_gos(void **state)
{
    (void)state;
    check_error("{{.State.Pid.X}}",
                "ERR: template: :1:2: executing \"\" at <.State.Pid.X>: can't evaluate field X "
                "in type int");
    check_error("{{.Null.X}}", "ERR: template: :1:2: executing \"\" at <.Null.X>: nil pointer "
                               "evaluating interface {}.X");
    check_error("x {{index .Args 5}}", "ERR: template: :1:4: executing \"\" at <index .Args 5>: "
                                       "error calling index: index out of range: 5");
    check_error("{{eq 1 \"a\"}}", "ERR: template: :1:2: executing \"\" at <eq 1 \"a\">: error "
                                  "calling eq: incompatible types for comparison: int and string");
    check_error("{{lt .Args 1}}", "ERR: template: :1:2: executing \"\" at <lt .Args 1>: error "
                                  "calling lt: invalid type for comparison");
    check_error("{{upper 5}}",
                "ERR: template: :1:8: executing \"\" at <5>: expected string; found 5");
    check_error("{{upper .Missing}}", "ERR: template: :1:8: executing \"\" at <.Missing>: "
                                      "invalid value; expected string");
    check_error("{{join .Labels \",\"}}",
                "ERR: template: :1:7: executing \"\" at <.Labels>: wrong type for value; "
                "expected []string; got map[string]interface {}");
    check_error("{{upper}}", "ERR: template: :1:2: executing \"\" at <upper>: wrong number of "
                             "args for upper: want 1 got 0");
    check_error("{{.ID 3}}", "ERR: template: :1:2: executing \"\" at <.ID>: ID is not a method "
                             "but has arguments");
    check_error("{{3 3}}", "ERR: template: :1:2: executing \"\" at <3>: can't give argument to "
                           "non-function 3");
    check_error("{{range .Names}}{{end}}", "ERR: template: :1:8: executing \"\" at <.Names>: "
                                           "range can't iterate over web");
    check_error("\n {{len 3}}", "ERR: template: :2:3: executing \"\" at <len 3>: error calling "
                                "len: len of type int");
}

static void test_missingkey_error(void **state)
{
    (void)state;
    _cleanup_free_ char *a = run_opt("{{.Nope}}", data_text, "missingkey=error", false);
    assert_string_equal(a, "ERR: template: :1:2: executing \"\" at <.Nope>: map has no entry "
                           "for key \"Nope\"");
    _cleanup_free_ char *b = run_opt("{{.State.Nope}}", data_text, "missingkey=error", false);
    assert_string_equal(b, "ERR: template: :1:2: executing \"\" at <.State.Nope>: map has no "
                           "entry for key \"Nope\"");
    _cleanup_free_ char *c = run_opt("{{.Null}}", data_text, "missingkey=error", false);
    assert_string_equal(c, "<nil>");
    struct cell_template *t = NULL;
    cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_template_parse("x", &t, &err), 0);
    assert_true(cell_template_option(t, "missingkey=panic", &err) < 0);
    assert_string_equal(cell_error_text(&err), "template: unrecognized option: missingkey=panic");
    cell_error_clear(&err);
    cell_template_free(t);
}

/* Docker's table header: the same template over {"Field": "LABEL"}, its
 * string functions returning their argument as it is. */
static void test_header_functions_return_their_argument(void **state)
{
    (void)state;
    const char *labels = "{\"Names\": \"NAMES\", \"Image\": \"IMAGE\", \"ID\": \"CONTAINER ID\"}";
    _cleanup_free_ char *h = run_opt("{{.Names | lower}}\t{{split .Image \":\"}}\t{{truncate .ID "
                                     "3}}\t{{json .ID}}|{{pad .Names 1 1}}|",
                                     labels, NULL, true);
    assert_string_equal(h, "NAMES\tIMAGE\tCONTAINER ID\tCONTAINER ID| NAMES |");
    _cleanup_free_ char *d = run_opt("{{.RunningFor}}|{{.State.Pid}}|{{.CPUPerc}}|{{.ID.X}}",
                                     labels, "missingkey=error", true);
    assert_string_equal(d, "RUNNING FOR|PID|CPU PERC|X");
    _cleanup_free_ char *r = run_opt("{{truncate .ID 3}}", labels, NULL, false);
    assert_string_equal(r, "CON");
}

static void test_go_json_encoding(void **state)
{
    (void)state;
    json_error_t je;
    json_t *v = json_loads("{\"s\": \"<a&b>\\u2028\\u0001\\n\\\"\", \"f\": [0.1, 1e21, 1e-7, 100.0,"
                           " -0.5], \"e\": {}, \"a\": []}",
                           0, &je);
    assert_non_null(v);
    _cleanup_free_ char *plain = cell_json_encode_go(v, false, 0);
    assert_string_equal(plain,
                        "{\"s\":\"<a&b>\\u2028\\u0001\\n\\\"\",\"f\":[0.1,1e+21,1e-7,100,-0.5],"
                        "\"e\":{},\"a\":[]}");
    _cleanup_free_ char *html = cell_json_encode_go(json_object_get(v, "s"), true, 0);
    assert_string_equal(html, "\"\\u003ca\\u0026b\\u003e\\u2028\\u0001\\n\\\"\"");
    json_t *small = json_pack("{s:[i,s],s:{}}", "k", 1, "x", "e");
    _cleanup_free_ char *indented = cell_json_encode_go(small, false, 4);
    assert_string_equal(indented,
                        "{\n    \"k\": [\n        1,\n        \"x\"\n    ],\n    \"e\": {}\n}");
    json_decref(small);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_fields),
        cmocka_unit_test(test_values_print_as_fmt_v),
        cmocka_unit_test(test_trim_markers),
        cmocka_unit_test(test_pipelines_and_functions),
        cmocka_unit_test(test_comparisons_and_logic),
        cmocka_unit_test(test_control_structures),
        cmocka_unit_test(test_parse_errors_read_as_gos),
        cmocka_unit_test(test_exec_errors_read_as_gos),
        cmocka_unit_test(test_missingkey_error),
        cmocka_unit_test(test_header_functions_return_their_argument),
        cmocka_unit_test(test_go_json_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

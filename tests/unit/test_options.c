/* The shared option parser (src/cli/options.c): every flag form runc's
 * callers send, and the errors for the ones they must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "cli/options.h"

struct opts {
    bool detach;
    const char *bundle;
    int preserve;
    char **env;
};

static const struct cli_option table[] = {
    {"detach", 'd', CLI_OPT_BOOL, offsetof(struct opts, detach), ""},
    {"bundle", 'b', CLI_OPT_STRING, offsetof(struct opts, bundle), ""},
    {"preserve-fds", 0, CLI_OPT_INT, offsetof(struct opts, preserve), ""},
    {"env", 'e', CLI_OPT_STRV, offsetof(struct opts, env), ""},
    {0},
};

/* Parses a NULL-terminated word list; returns the positional count. */
static int parse(struct opts *o, char **argv, cell_err_t *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(o, 0, sizeof *o);
    struct cli_parser p = {.options = table, .target = o};
    return cli_parse(&p, argc, argv, err);
}

static void test_long_forms_with_space_and_equals(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"--bundle", "/b", "--preserve-fds=2", "id", NULL};
    assert_int_equal(parse(&o, argv, &err), 1);
    assert_string_equal(o.bundle, "/b");
    assert_int_equal(o.preserve, 2);
    assert_string_equal(argv[0], "id");
}

static void test_single_dash_long_and_short(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"-bundle", "/x", "-d", "id", NULL};
    assert_int_equal(parse(&o, argv, &err), 1);
    assert_string_equal(o.bundle, "/x");
    assert_true(o.detach);
}

static void test_bool_never_takes_the_next_word(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"--detach", "id", "--detach=false", NULL};
    assert_int_equal(parse(&o, argv, &err), 1);
    assert_false(o.detach);
    assert_string_equal(argv[0], "id");
}

static void test_options_after_positionals(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"id", "KILL", "-d", NULL};
    assert_int_equal(parse(&o, argv, &err), 2);
    assert_true(o.detach);
    assert_string_equal(argv[1], "KILL");
}

static void test_double_dash_ends_options(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"id", "--", "-d", NULL};
    assert_int_equal(parse(&o, argv, &err), 2);
    assert_false(o.detach);
    assert_string_equal(argv[1], "-d");
}

static void test_string_list_appends(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"-e", "A=1", "--env=B=2", NULL};
    assert_int_equal(parse(&o, argv, &err), 0);
    assert_string_equal(o.env[0], "A=1");
    assert_string_equal(o.env[1], "B=2");
    assert_null(o.env[2]);
    cli_options_free(table, &o);
}

static void expect_error(char **argv, const char *text)
{
    struct opts o;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(parse(&o, argv, &err), -1);
    assert_non_null(strstr(cell_error_text(&err), text));
}

static void test_unknown_flag(void **state)
{
    (void)state;
    char *argv[] = {"--nope", "id", NULL};
    expect_error(argv, "unknown flag: --nope");
}

static void test_missing_value(void **state)
{
    (void)state;
    char *argv[] = {"id", "--bundle", NULL};
    expect_error(argv, "flag needs an argument: --bundle");
}

static void test_bad_integer(void **state)
{
    (void)state;
    char *argv[] = {"--preserve-fds", "x", NULL};
    expect_error(argv, "invalid value \"x\" for flag --preserve-fds");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_forms_with_space_and_equals),
        cmocka_unit_test(test_single_dash_long_and_short),
        cmocka_unit_test(test_bool_never_takes_the_next_word),
        cmocka_unit_test(test_options_after_positionals),
        cmocka_unit_test(test_double_dash_ends_options),
        cmocka_unit_test(test_string_list_appends),
        cmocka_unit_test(test_unknown_flag),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_bad_integer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

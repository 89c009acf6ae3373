/* The shared option parser (src/cli/options.c): every flag form runc's
 * callers send, and the errors for the ones they must not (Go's syntax,
 * cell-runtime's); then Docker's syntax (pflag's, cell's): combined short
 * flags, attached values, and a command's words left alone. */
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

/* Go's flag package has no combined short flags: "-db" is one unknown name. */
static void test_go_has_no_combined_shorts(void **state)
{
    (void)state;
    char *argv[] = {"-db", "/x", NULL};
    expect_error(argv, "unknown flag: -db");
}

/* In Go's syntax a short name is a name: "--d" is -d. */
static void test_go_short_name_with_two_dashes(void **state)
{
    (void)state;
    struct opts o;
    cell_err_t err = CELL_ERR_INIT;
    char *argv[] = {"--d", "--b=/y", NULL};
    assert_int_equal(parse(&o, argv, &err), 0);
    assert_true(o.detach);
    assert_string_equal(o.bundle, "/y");
}

/* Docker's syntax, with a table shaped like `cell run`'s. */
struct dopts {
    bool interactive, tty, detach, rm;
    const char *user, *name;
    char **env, **publish;
    int cpus;
};

static const struct cli_option dtable[] = {
    {"interactive", 'i', CLI_OPT_BOOL, offsetof(struct dopts, interactive), ""},
    {"tty", 't', CLI_OPT_BOOL, offsetof(struct dopts, tty), ""},
    {"detach", 'd', CLI_OPT_BOOL, offsetof(struct dopts, detach), ""},
    {"rm", 0, CLI_OPT_BOOL, offsetof(struct dopts, rm), ""},
    {"user", 'u', CLI_OPT_STRING, offsetof(struct dopts, user), ""},
    {"name", 0, CLI_OPT_STRING, offsetof(struct dopts, name), ""},
    {"env", 'e', CLI_OPT_STRV, offsetof(struct dopts, env), ""},
    {"publish", 'p', CLI_OPT_STRV, offsetof(struct dopts, publish), ""},
    {"cpus", 0, CLI_OPT_INT, offsetof(struct dopts, cpus), ""},
    {0},
};

struct dparse {
    struct dopts o;
    bool help;
    int n; /* positionals, or -1 */
    cell_err_t err;
};

static void dparse(struct dparse *d, char **argv, bool stop_at_positional)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(d, 0, sizeof *d);
    d->err = (cell_err_t)CELL_ERR_INIT;
    struct cli_parser p = {.options = dtable,
                           .target = &d->o,
                           .syntax = CLI_SYNTAX_DOCKER,
                           .stop_at_positional = stop_at_positional};
    d->n = cli_parse(&p, argc, argv, &d->err);
    d->help = p.help;
}

static void dclear(struct dparse *d)
{
    cli_options_free(dtable, &d->o);
    cell_error_clear(&d->err);
}

static void test_docker_combined_bools(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-it", "img", "-d", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 1);
    assert_true(d.o.interactive && d.o.tty && d.o.detach);
    dclear(&d);
    char *argv2[] = {"-dit", "img", NULL};
    dparse(&d, argv2, false);
    assert_int_equal(d.n, 1);
    assert_true(d.o.interactive && d.o.tty && d.o.detach);
    dclear(&d);
}

static void test_docker_short_value_attached_or_next(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-p80:80", "-uroot", "-eA=B", "-p", "443:443", "-e=C=D", "img", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 1);
    assert_string_equal(argv[0], "img");
    assert_string_equal(d.o.user, "root");
    assert_string_equal(d.o.publish[0], "80:80");
    assert_string_equal(d.o.publish[1], "443:443");
    assert_null(d.o.publish[2]);
    assert_string_equal(d.o.env[0], "A=B");
    assert_string_equal(d.o.env[1], "C=D");
    assert_null(d.o.env[2]);
    dclear(&d);
}

/* The last of combined shorts may take a value: "-ite A=B", "-iteA=B". */
static void test_docker_combined_then_value(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-ite", "A=B", "-duroot", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 0);
    assert_true(d.o.interactive && d.o.tty && d.o.detach);
    assert_string_equal(d.o.env[0], "A=B");
    assert_string_equal(d.o.user, "root");
    dclear(&d);
}

static void test_docker_long_forms(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"--name=web", "--user", "nobody", "--env", "X=1",
                    "--env=Y=2",  "--cpus", "2",      "--rm",  NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 0);
    assert_string_equal(d.o.name, "web");
    assert_string_equal(d.o.user, "nobody");
    assert_string_equal(d.o.env[0], "X=1");
    assert_string_equal(d.o.env[1], "Y=2");
    assert_int_equal(d.o.cpus, 2);
    assert_true(d.o.rm);
    dclear(&d);
}

/* The last string wins; a value may start with a dash. */
static void test_docker_last_string_wins_and_dash_values(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"--name", "a", "--name", "-b", "-u", "-1", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 0);
    assert_string_equal(d.o.name, "-b");
    assert_string_equal(d.o.user, "-1");
    dclear(&d);
}

static void test_docker_bools_never_take_the_next_word(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-d", "false", "--rm", "true", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 2);
    assert_true(d.o.detach && d.o.rm);
    assert_string_equal(argv[0], "false");
    dclear(&d);
    char *argv2[] = {"-d", "-d=false", "--rm", "--rm=false", NULL};
    dparse(&d, argv2, false);
    assert_int_equal(d.n, 0);
    assert_false(d.o.detach || d.o.rm);
    dclear(&d);
}

static void test_docker_double_dash_and_lone_dash(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-", "-d", "--", "-i", "--rm", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 3);
    assert_string_equal(argv[0], "-");
    assert_string_equal(argv[1], "-i");
    assert_string_equal(argv[2], "--rm");
    assert_true(d.o.detach);
    assert_false(d.o.interactive || d.o.rm);
    dclear(&d);
}

/* Without the stop, options may follow positionals ("cell images foo -q"). */
static void test_docker_interspersed(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"a", "-t", "b", "--name", "n", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 2);
    assert_string_equal(argv[0], "a");
    assert_string_equal(argv[1], "b");
    assert_true(d.o.tty);
    assert_string_equal(d.o.name, "n");
    dclear(&d);
}

/* `cell run -it IMAGE sh -c 'ls -l'`: the command's words are not ours. */
static void test_docker_stop_at_positional(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"-it", "--rm", "alpine", "sh", "-c", "ls -l", "-d", "--", NULL};
    dparse(&d, argv, true);
    assert_int_equal(d.n, 6);
    assert_true(d.o.interactive && d.o.tty && d.o.rm);
    assert_false(d.o.detach);
    const char *want[] = {"alpine", "sh", "-c", "ls -l", "-d", "--"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(argv[i], want[i]);
    dclear(&d);
    /* "--" before the image ends the options and is dropped, as pflag does. */
    char *argv2[] = {"-d", "--", "-img", "x", NULL};
    dparse(&d, argv2, true);
    assert_int_equal(d.n, 2);
    assert_string_equal(argv2[0], "-img");
    dclear(&d);
}

static void test_docker_help(void **state)
{
    (void)state;
    struct dparse d;
    char *argv[] = {"--help", NULL};
    dparse(&d, argv, false);
    assert_int_equal(d.n, 0);
    assert_true(d.help);
    dclear(&d);
    char *argv2[] = {"-h", NULL};
    dparse(&d, argv2, false);
    assert_true(d.help);
    dclear(&d);
}

static void dexpect_error(char **argv, const char *text)
{
    struct dparse d;
    dparse(&d, argv, false);
    assert_int_equal(d.n, -1);
    if (!strstr(cell_error_text(&d.err), text))
        fail_msg("expected \"%s\", got \"%s\"", text, cell_error_text(&d.err));
    dclear(&d);
}

/* A long name needs two dashes: "-name" is -n -a -m -e. */
static void test_docker_long_name_needs_two_dashes(void **state)
{
    (void)state;
    char *argv[] = {"-name", "web", NULL};
    dexpect_error(argv, "unknown shorthand flag: 'n' in -name");
    /* "-detach" is -d then -e with the value "tach", as in Docker. */
    struct dparse d;
    char *argv2[] = {"-detach", NULL};
    dparse(&d, argv2, false);
    assert_int_equal(d.n, 0);
    assert_true(d.o.detach);
    assert_string_equal(d.o.env[0], "tach");
    dclear(&d);
}

static void test_docker_errors(void **state)
{
    (void)state;
    char *a1[] = {"--nope", NULL};
    dexpect_error(a1, "unknown flag: --nope");
    char *a2[] = {"-ix", NULL};
    dexpect_error(a2, "unknown shorthand flag: 'x' in -x");
    char *a3[] = {"img", "--name", NULL};
    dexpect_error(a3, "flag needs an argument: --name");
    char *a4[] = {"-du", NULL};
    dexpect_error(a4, "flag needs an argument: 'u' in -u");
    char *a5[] = {"--cpus=x", NULL};
    dexpect_error(a5, "invalid value \"x\" for flag --cpus");
    char *a6[] = {"-d=maybe", NULL};
    dexpect_error(a6, "invalid value \"maybe\" for flag -d");
    char *a7[] = {"--rm=", NULL};
    dexpect_error(a7, "invalid value \"\" for flag --rm");
    char *a8[] = {"---rm", NULL};
    dexpect_error(a8, "bad flag syntax: ---rm");
    /* A short name is not a long one. */
    char *a9[] = {"--d", NULL};
    dexpect_error(a9, "unknown flag: --d");
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
        cmocka_unit_test(test_go_has_no_combined_shorts),
        cmocka_unit_test(test_go_short_name_with_two_dashes),
        cmocka_unit_test(test_docker_combined_bools),
        cmocka_unit_test(test_docker_short_value_attached_or_next),
        cmocka_unit_test(test_docker_combined_then_value),
        cmocka_unit_test(test_docker_long_forms),
        cmocka_unit_test(test_docker_last_string_wins_and_dash_values),
        cmocka_unit_test(test_docker_bools_never_take_the_next_word),
        cmocka_unit_test(test_docker_double_dash_and_lone_dash),
        cmocka_unit_test(test_docker_interspersed),
        cmocka_unit_test(test_docker_stop_at_positional),
        cmocka_unit_test(test_docker_help),
        cmocka_unit_test(test_docker_long_name_needs_two_dashes),
        cmocka_unit_test(test_docker_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

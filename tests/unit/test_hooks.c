/* Hooks: running one kind (exit status, timeout, stdin, argv) and keeping
 * hooks in the container's state. The hooks are /bin/sh scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "base/warn.h"
#include "runtime/hooks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *sh_argv[] = {"sh", "-c", NULL, "hook", NULL};

static struct cell_hook sh_hook(const char *script, int64_t timeout)
{
    sh_argv[2] = (char *)script;
    return (struct cell_hook){.path = "/bin/sh", .args = sh_argv, .timeout = timeout};
}

static void test_hooks_success_and_exit_status(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_hook ok = sh_hook("exit 0", CELL_UNSET);
    assert_int_equal(cell_hooks_run(&ok, 1, CELL_HOOK_PRESTART, "{}", &err), 0);
    struct cell_hook bad[] = {
        {.path = "/bin/true", .timeout = CELL_UNSET},
        {.path = "/bin/sh",
         .args = (char *[]){"sh", "-c", "echo oops >&2; exit 3", NULL},
         .timeout = 5},
    };
    assert_true(cell_hooks_run(bad, 2, CELL_HOOK_POSTSTART, "{}", &err) < 0);
    assert_string_equal(cell_error_text(&err),
                        "hooks.poststart[1] /bin/sh: exited with status 3: oops");
}

static void collect_warning(const char *msg, void *data)
{
    assert_int_equal(cell_strv_push(data, msg), 0);
}

/* runtime.md step 13: a failing poststop hook is a warning, and the
 * remaining hooks run as if it had succeeded. */
static void test_hooks_poststop_failure_warns_and_goes_on(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char **warnings = NULL;
    cell_warn_set_sink(collect_warning, &warnings);
    char dir[] = "/tmp/cell-hooks-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char after[512], path[300];
    snprintf(path, sizeof path, "%s/after", dir);
    snprintf(after, sizeof after, "touch %s", path);
    struct cell_hook hooks[] = {
        {.path = "/bin/sh", .args = (char *[]){"sh", "-c", "exit 3", NULL}, .timeout = CELL_UNSET},
        {.path = "/bin/sh", .args = (char *[]){"sh", "-c", after, NULL}, .timeout = CELL_UNSET},
    };
    assert_int_equal(cell_hooks_run(hooks, 2, CELL_HOOK_POSTSTOP, "{}", &err), 0);
    cell_warn_set_sink(NULL, NULL);
    assert_null(err.msg);
    assert_int_equal(access(path, F_OK), 0);
    assert_non_null(warnings);
    assert_string_equal(warnings[0], "hooks.poststop[0] /bin/sh: exited with status 3");
    assert_null(warnings[1]);
    cell_strv_free(warnings);
    unlink(path);
    rmdir(dir);
}

static void test_hooks_timeout_kills(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_hook slow = sh_hook("exec sleep 20", 1);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_true(cell_hooks_run(&slow, 1, CELL_HOOK_CREATE_RUNTIME, NULL, &err) < 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(b.tv_sec - a.tv_sec < 5);
    assert_non_null(strstr(cell_error_text(&err), "timed out after 1 s"));
}

static void test_hooks_state_on_stdin_and_argv0(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char dir[] = "/tmp/cell-hooks-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[512], path[300];
    snprintf(path, sizeof path, "%s/out", dir);
    snprintf(script, sizeof script, "{ cat; echo \"|$0\"; } > %s", path);
    struct cell_hook h = {.path = "/bin/sh",
                          .args = (char *[]){"my-hook", "-c", script, "arg0", NULL},
                          .timeout = CELL_UNSET};
    assert_int_equal(cell_hooks_run(&h, 1, CELL_HOOK_POSTSTOP, "{\"id\":\"x\"}", &err), 0);
    _cleanup_free_ char *text = NULL;
    assert_int_equal(cell_read_file_at(AT_FDCWD, path, &text, NULL), 0);
    assert_string_equal(text, "{\"id\":\"x\"}|arg0\n");
    unlink(path);
    rmdir(dir);
}

static void test_hooks_state_json_round_trip(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec spec;
    memset(&spec, 0, sizeof spec);
    struct cell_hook h = {.path = "/usr/bin/x",
                          .args = (char *[]){"x", "-v", NULL},
                          .env = (char *[]){"A=1", NULL},
                          .timeout = 7};
    spec.hooks[CELL_HOOK_POSTSTOP] = &h;
    spec.n_hooks[CELL_HOOK_POSTSTOP] = 1;
    json_t *j = cell_hooks_to_json(&spec);
    assert_non_null(j);
    struct cell_hook *out = NULL;
    size_t n = 9;
    assert_int_equal(cell_hooks_from_json(j, CELL_HOOK_POSTSTART, &out, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cell_hooks_from_json(j, CELL_HOOK_POSTSTOP, &out, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].path, "/usr/bin/x");
    assert_string_equal(out[0].args[1], "-v");
    assert_null(out[0].args[2]);
    assert_string_equal(out[0].env[0], "A=1");
    assert_int_equal(out[0].timeout, 7);
    cell_hooks_free(out, n);
    json_decref(j);
    memset(&spec, 0, sizeof spec);
    assert_null(cell_hooks_to_json(&spec));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hooks_success_and_exit_status),
        cmocka_unit_test(test_hooks_poststop_failure_warns_and_goes_on),
        cmocka_unit_test(test_hooks_timeout_kills),
        cmocka_unit_test(test_hooks_state_on_stdin_and_argv0),
        cmocka_unit_test(test_hooks_state_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

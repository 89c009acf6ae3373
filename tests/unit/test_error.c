/* The error object: return values, messages, context and errno text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"

#include <errno.h>
#include <string.h>

static int fail_with_vlist(cell_err_t *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cell_verror(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

static void test_error_returns_minus_errnum(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_error(&err, ENOENT, "open %s", "x"), -ENOENT);
    assert_int_equal(err.errnum, ENOENT);
    assert_string_equal(err.msg, "open x");
}

static void test_error_without_errno_is_negative(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_error(&err, 0, "bad value %d", 7), -1);
    assert_int_equal(err.errnum, 0);
    assert_string_equal(cell_error_text(&err), "bad value 7");
}

static void test_error_null_object_still_returns(void **state)
{
    (void)state;
    assert_int_equal(cell_error(NULL, EPERM, "mount"), -EPERM);
    assert_int_equal(cell_error(NULL, 0, "mount"), -1);
    assert_int_equal(cell_error_prepend(NULL, "ctx"), -1);
    cell_error_clear(NULL);
}

static void test_verror_formats(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(fail_with_vlist(&err, EACCES, "%s=%d", "n", 3), -EACCES);
    assert_string_equal(err.msg, "n=3");
}

static void test_text_appends_strerror(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, ENOENT, "open /x");
    assert_string_equal(cell_error_text(&err), "open /x: No such file or directory");
}

static void test_text_appends_strerror_once(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, EPERM, "mount proc");
    cell_error_text(&err);
    assert_string_equal(cell_error_text(&err), "mount proc: Operation not permitted");
}

static void test_text_without_message(void **state)
{
    (void)state;
    cell_err_t with_errno = {EBUSY, NULL};
    assert_string_equal(cell_error_text(&with_errno), "Device or resource busy");
    cell_err_t empty = CELL_ERR_INIT;
    assert_string_equal(cell_error_text(&empty), "unknown error");
}

static void test_new_error_replaces_old(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, ENOENT, "first");
    cell_error(&err, 0, "second");
    assert_int_equal(err.errnum, 0);
    assert_string_equal(cell_error_text(&err), "second");
}

static void test_prepend_adds_context_outermost_first(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, EPERM, "mount proc on /proc");
    assert_int_equal(cell_error_prepend(&err, "init"), -EPERM);
    assert_int_equal(cell_error_prepend(&err, "container %s", "c1"), -EPERM);
    assert_string_equal(cell_error_text(&err),
                        "container c1: init: mount proc on /proc: Operation not permitted");
}

static void test_prepend_without_errno_returns_minus_one(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, 0, "process.args: required");
    assert_int_equal(cell_error_prepend(&err, "config.json"), -1);
    assert_string_equal(cell_error_text(&err), "config.json: process.args: required");
}

static void test_prepend_to_empty_error(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error_prepend(&err, "ctx");
    assert_string_equal(cell_error_text(&err), "ctx: failed");
}

static void test_prepend_after_text_keeps_single_strerror(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, ENOENT, "open x");
    cell_error_text(&err);
    cell_error_prepend(&err, "load");
    assert_string_equal(cell_error_text(&err), "load: open x: No such file or directory");
}

static void test_clear_resets(void **state)
{
    (void)state;
    cell_err_t err = CELL_ERR_INIT;
    cell_error(&err, EIO, "write");
    cell_error_clear(&err);
    assert_null(err.msg);
    assert_int_equal(err.errnum, 0);
    cell_error_clear(&err); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_returns_minus_errnum),
        cmocka_unit_test(test_error_without_errno_is_negative),
        cmocka_unit_test(test_error_null_object_still_returns),
        cmocka_unit_test(test_verror_formats),
        cmocka_unit_test(test_text_appends_strerror),
        cmocka_unit_test(test_text_appends_strerror_once),
        cmocka_unit_test(test_text_without_message),
        cmocka_unit_test(test_new_error_replaces_old),
        cmocka_unit_test(test_prepend_adds_context_outermost_first),
        cmocka_unit_test(test_prepend_without_errno_returns_minus_one),
        cmocka_unit_test(test_prepend_to_empty_error),
        cmocka_unit_test(test_prepend_after_text_keeps_single_strerror),
        cmocka_unit_test(test_clear_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

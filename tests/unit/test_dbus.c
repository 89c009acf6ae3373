/* The D-Bus wire format of runtime/dbus.c (alignment, array lengths, the
 * header of a method call, replies and errors) and the systemd driver's
 * cgroupsPath "slice:prefix:name" parsing. Talking to a real systemd is for
 * tests/integration/test_cgroup_systemd.py in the systemd VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "runtime/cgroup/cgroup_internal.h"
#include "runtime/cgroup/dbus.h"

#include <stdlib.h>
#include <string.h>

static void test_alignment(void **state)
{
    (void)state;
    struct cell_dbus_buf b = {0};
    cell_dbus_put_u8(&b, 7);
    cell_dbus_put_string(&b, "ab"); /* padded to 4, then length 2, "ab\0" */
    cell_dbus_put_u64(&b, 1);       /* at 8 + 3 = 11, padded to 16 */
    const uint8_t want[] = {7, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0, 0,
                            0, 0, 0, 0, 1, 0, 0, 0, 0,   0,   0, 0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    cell_dbus_buf_free(&b);
}

/* An array's length counts its elements, not the padding before the
 * first: a(sv) with one ("A", u 5) element after a u32 length at 0. */
static void test_array_length(void **state)
{
    (void)state;
    struct cell_dbus_buf b = {0};
    size_t h = cell_dbus_array_begin(&b, 8);
    cell_dbus_pad(&b, 8);
    cell_dbus_put_string(&b, "A");
    cell_dbus_put_signature(&b, "u");
    cell_dbus_put_u32(&b, 5);
    cell_dbus_array_end(&b, h, 8);
    const uint8_t want[] = {16, 0, 0, 0, 0,   0, 0, 0, /* length, pad */
                            1,  0, 0, 0, 'A', 0, 1, 'u', 0, 0, 0, 0, 5, 0, 0, 0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    cell_dbus_buf_free(&b);

    /* empty: just the length, and the padding to the element alignment */
    h = cell_dbus_array_begin(&b, 8);
    cell_dbus_array_end(&b, h, 8);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "\0\0\0\0\0\0\0\0", 8);
    cell_dbus_buf_free(&b);
}

static void test_method_call(void **state)
{
    (void)state;
    struct cell_dbus_buf body = {0}, msg = {0};
    cell_dbus_put_string(&body, "x.scope");
    const struct cell_dbus_call call = {"org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "GetUnit", "s"};
    assert_int_equal(cell_dbus_message(&call, 42, &body, &msg), 0);
    assert_memory_equal(msg.data, "l\1\0\1", 4);
    uint32_t v;
    memcpy(&v, msg.data + 4, 4);
    assert_int_equal(v, body.len);
    memcpy(&v, msg.data + 8, 4);
    assert_int_equal(v, 42);
    /* the first field: PATH, signature "o", the path */
    assert_memory_equal(msg.data + 16, "\1\1o\0", 4);
    memcpy(&v, msg.data + 20, 4);
    assert_int_equal(v, strlen(call.path));
    assert_string_equal((char *)msg.data + 24, call.path);
    assert_int_equal(cell_dbus_message_size(msg.data), msg.len);
    /* the body is last, 8-aligned */
    assert_int_equal((msg.len - body.len) % 8, 0);
    assert_memory_equal(msg.data + msg.len - body.len, body.data, body.len);

    /* it parses back: the signature field, no reply serial */
    uint8_t *copy = malloc(msg.len);
    memcpy(copy, msg.data, msg.len);
    struct cell_dbus_reply r;
    assert_int_equal(cell_dbus_parse(copy, msg.len, &r, NULL), 0);
    assert_int_equal(r.type, CELL_DBUS_METHOD_CALL);
    assert_int_equal(r.serial, 42);
    assert_string_equal(r.signature, "s");
    assert_string_equal(cell_dbus_reply_string(&r), "x.scope");
    cell_dbus_reply_free(&r);
    cell_dbus_buf_free(&body);
    cell_dbus_buf_free(&msg);
}

/* An ERROR as systemd sends it: error name, reply serial, signature "s"
 * and the message as the body. */
static uint8_t *error_message(size_t *len)
{
    struct cell_dbus_buf b = {0}, body = {0};
    cell_dbus_put_string(&body, "Unit x.scope not loaded.");
    const uint8_t fixed[4] = {'l', CELL_DBUS_ERROR, 1, 1};
    for (int i = 0; i < 4; i++)
        cell_dbus_put_u8(&b, fixed[i]);
    cell_dbus_put_u32(&b, (uint32_t)body.len);
    cell_dbus_put_u32(&b, 9);
    size_t h = cell_dbus_array_begin(&b, 8);
    cell_dbus_put_u8(&b, 4);
    cell_dbus_put_signature(&b, "s");
    cell_dbus_put_string(&b, "org.freedesktop.systemd1.NoSuchUnit");
    cell_dbus_pad(&b, 8);
    cell_dbus_put_u8(&b, 5);
    cell_dbus_put_signature(&b, "u");
    cell_dbus_put_u32(&b, 3);
    cell_dbus_pad(&b, 8);
    cell_dbus_put_u8(&b, 8);
    cell_dbus_put_signature(&b, "g");
    cell_dbus_put_signature(&b, "s");
    cell_dbus_array_end(&b, h, 8);
    cell_dbus_pad(&b, 8);
    for (size_t i = 0; i < body.len; i++)
        cell_dbus_put_u8(&b, body.data[i]);
    cell_dbus_buf_free(&body);
    *len = b.len;
    return b.data;
}

static void test_error_reply(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = error_message(&len);
    struct cell_dbus_reply r;
    assert_int_equal(cell_dbus_message_size(data), len);
    assert_int_equal(cell_dbus_parse(data, len, &r, NULL), 0);
    assert_int_equal(r.type, CELL_DBUS_ERROR);
    assert_int_equal(r.reply_serial, 3);
    assert_string_equal(r.error_name, "org.freedesktop.systemd1.NoSuchUnit");
    assert_string_equal(cell_dbus_reply_string(&r), "Unit x.scope not loaded.");
    cell_dbus_reply_free(&r);
}

/* Every truncation and a string without its NUL are refused, not read past. */
static void test_bad_messages(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = error_message(&len);
    struct cell_dbus_reply r;
    cell_err_t err = CELL_ERR_INIT;
    for (size_t n = 16; n < len; n++)
        assert_true(cell_dbus_parse(data, n, &r, &err) < 0);
    assert_non_null(strstr(cell_error_text(&err), "D-Bus message"));
    cell_error_clear(&err);
    data[0] = 'B'; /* big-endian: not spoken here */
    assert_int_equal(cell_dbus_message_size(data), 0);
    data[0] = 'l';
    data[16 + 1 + 3 + 4 + 3] = 'X'; /* inside the error name */
    uint8_t *nul = memchr(data + 24, 0, len - 24);
    *nul = 'Y'; /* its NUL gone */
    assert_true(cell_dbus_parse(data, len, &r, NULL) < 0);
    free(data);
}

static void expect_path(const char *cgroups_path, const char *id, const char *path,
                        const char *unit)
{
    _cleanup_free_ char *p = NULL, *u = NULL;
    cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_systemd_path(cgroups_path, id, &p, &u, &err), 0);
    assert_string_equal(p, path);
    assert_string_equal(u, unit);
}

static void test_systemd_paths(void **state)
{
    (void)state;
    expect_path("system.slice:cell:c1", "c1", "/system.slice/cell-c1.scope", "cell-c1.scope");
    expect_path(NULL, "c2", "/system.slice/cell-c2.scope", "cell-c2.scope");
    expect_path(":cell:c3", "c3", "/system.slice/cell-c3.scope", "cell-c3.scope");
    expect_path("machine-a-b.slice:p:n", "x",
                "/machine.slice/machine-a.slice/machine-a-b.slice/p-n.scope", "p-n.scope");
    expect_path("-.slice::n", "x", "/n.scope", "n.scope");
    expect_path("system.slice:p:x-y.slice", "x", "/x.slice/x-y.slice", "x-y.slice");
}

static void test_systemd_bad_paths(void **state)
{
    (void)state;
    const char *bad[] = {"/cell/x",
                         "a:b",
                         "a:b:c:d",
                         "system.slice:p:",
                         "system:p:n",
                         "a--b.slice:p:n",
                         "system.slice:p:../n",
                         "system.slice:p/q:n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *p = NULL, *u = NULL;
        cell_err_t err = CELL_ERR_INIT;
        assert_true(cell_cgroup_systemd_path(bad[i], "x", &p, &u, &err) < 0);
        assert_null(p);
        assert_non_null(strstr(cell_error_text(&err), "linux.cgroupsPath"));
        cell_error_clear(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),         cmocka_unit_test(test_array_length),
        cmocka_unit_test(test_method_call),       cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_bad_messages),      cmocka_unit_test(test_systemd_paths),
        cmocka_unit_test(test_systemd_bad_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

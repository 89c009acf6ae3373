/* The seccomp compiler (JSON -> BPF program), its cache and the CPU list
 * parser of sched.c: pure logic, no filter is loaded here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "runtime/process/sched.h"
#include "runtime/seccomp/seccomp_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Compiles text; returns the result, fills s, keeps the message in msg. */
static int compile(const char *text, struct cell_seccomp *s, char *msg, size_t n)
{
    json_t *j = load(text);
    cell_err_t err = CELL_ERR_INIT;
    memset(s, 0, sizeof *s);
    int r = seccomp_compile(j, s, &err);
    snprintf(msg, n, "%s", r < 0 ? cell_error_text(&err) : "");
    cell_error_clear(&err);
    json_decref(j);
    return r;
}

static void test_names_resolve(void **state)
{
    (void)state;
    uint32_t v;
    assert_int_equal(seccomp_name_lookup(SECCOMP_ACTIONS, "SCMP_ACT_NOTIFY", &v), 0);
    assert_int_equal(seccomp_name_lookup(SECCOMP_OPERATORS, "SCMP_CMP_MASKED_EQ", &v), 0);
    assert_int_equal(seccomp_name_lookup(SECCOMP_ARCHS, "SCMP_ARCH_AARCH64", &v), 0);
    assert_int_equal(seccomp_name_lookup(SECCOMP_FLAGS, "SECCOMP_FILTER_FLAG_LOG", &v), 0);
    assert_int_equal(v, SECCOMP_FILTER_FLAG_LOG);
    assert_int_equal(seccomp_name_lookup(SECCOMP_ACTIONS, "SCMP_ACT_allow", &v), -1);
    assert_int_equal(seccomp_name_lookup(SECCOMP_ARCHS, NULL, &v), -1);
}

static void test_small_profile_compiles(void **state)
{
    (void)state;
    struct cell_seccomp s;
    char msg[256];
    assert_int_equal(compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                             "[\"mkdir\",\"no_such_call\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                             &s, msg, sizeof msg),
                     0);
    assert_true(s.len > 4);
    assert_false(s.notify);
    assert_int_equal(s.flags, 0);
    free(s.insns);
}

static void test_notify_asks_for_a_listener_and_drops_tsync(void **state)
{
    (void)state;
    struct cell_seccomp s;
    char msg[256];
    assert_int_equal(compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\","
                             "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\"],\"syscalls\":[{\"names\":"
                             "[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                             &s, msg, sizeof msg),
                     0);
    assert_true(s.notify);
    assert_int_equal(s.flags, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    free(s.insns);
}

static void test_killable_recv_dropped_without_a_listener(void **state)
{
    (void)state;
    struct cell_seccomp s;
    char msg[256];
    assert_int_equal(compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_"
                             "FLAG_WAIT_KILLABLE_RECV\",\"SECCOMP_FILTER_FLAG_LOG\"]}",
                             &s, msg, sizeof msg),
                     0);
    assert_int_equal(s.flags, SECCOMP_FILTER_FLAG_LOG);
    free(s.insns);
}

static void test_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{}", "linux.seccomp.defaultAction"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}", "defaultErrnoRet"},
        {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "cannot be the default"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":"
         "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "syscalls[0].args[0].index"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":"
         "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "syscalls[0].args[0]"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}",
         "architectures[0]"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":"
         "\"SCMP_ACT_NOTIFY\"}]}",
         "listenerPath"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[7]}", "syscalls[0]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cell_seccomp s;
        char msg[512];
        assert_true(compile(cases[i].json, &s, msg, sizeof msg) < 0);
        if (!strstr(msg, cases[i].needle))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, msg, cases[i].needle);
        free(s.insns);
    }
}

static void test_cache_key_ignores_key_order_only(void **state)
{
    (void)state;
    json_t *a = load("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[]}");
    json_t *b = load("{\"flags\":[],\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
    json_t *c = load("{\"flags\":[],\"defaultAction\":\"SCMP_ACT_LOG\"}");
    char ka[65], kb[65], kc[65];
    assert_int_equal(seccomp_cache_key(a, ka), 0);
    assert_int_equal(seccomp_cache_key(b, kb), 0);
    assert_int_equal(seccomp_cache_key(c, kc), 0);
    assert_string_equal(ka, kb);
    assert_string_not_equal(ka, kc);
    assert_int_equal(strlen(ka), 64);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_cache_round_trip_and_corrupt_entry(void **state)
{
    (void)state;
    char dir[] = "/tmp/cell-unit-seccomp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct cell_seccomp s, back = {0};
    char msg[256], path[256];
    assert_int_equal(
        compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\","
                "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                &s, msg, sizeof msg),
        0);
    const char *key = "0000000000000000000000000000000000000000000000000000000000000001";
    assert_true(seccomp_cache_load(dir, key, &back) < 0);
    seccomp_cache_store(dir, key, &s);
    assert_int_equal(seccomp_cache_load(dir, key, &back), 0);
    assert_int_equal(back.len, s.len);
    assert_int_equal(back.flags, s.flags);
    assert_true(back.notify);
    assert_memory_equal(back.insns, s.insns, s.len * sizeof *s.insns);
    free(back.insns);
    snprintf(path, sizeof path, "%s/.seccomp-cache/%s.bpf", dir, key);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("CELLBPF1 but short", f);
    fclose(f);
    back = (struct cell_seccomp){0};
    assert_true(seccomp_cache_load(dir, key, &back) < 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/.seccomp-cache", dir);
    rmdir(path);
    rmdir(dir);
    free(s.insns);
}

static void test_cpu_lists(void **state)
{
    (void)state;
    cpu_set_t set;
    assert_int_equal(cell_sched_parse_cpu_list("0-3,7", &set), 0);
    assert_int_equal(CPU_COUNT(&set), 5);
    assert_true(CPU_ISSET(7, &set) && CPU_ISSET(0, &set) && !CPU_ISSET(4, &set));
    assert_int_equal(cell_sched_parse_cpu_list("5", &set), 0);
    assert_int_equal(CPU_COUNT(&set), 1);
    const char *bad[] = {"", "3-1", "a", "1,", ",1", "1--2", "-1", "0-99999", "1 2", "1-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cell_sched_parse_cpu_list(bad[i], &set) != -EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_resolve),
        cmocka_unit_test(test_small_profile_compiles),
        cmocka_unit_test(test_notify_asks_for_a_listener_and_drops_tsync),
        cmocka_unit_test(test_killable_recv_dropped_without_a_listener),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_cache_key_ignores_key_order_only),
        cmocka_unit_test(test_cache_round_trip_and_corrupt_entry),
        cmocka_unit_test(test_cpu_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

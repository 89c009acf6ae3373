/* The values of `cell run` flags (src/engine/flags.h): the spec fragments
 * they become, and the one-line errors, word for word as Docker prints them
 * (docker/cli opts and cli/command/container/opts.go, go-units, moby's
 * daemon), each case taken from what Docker's code does with that value. */
/* Messages are built in fixed buffers sized for the paths these tests make. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/strv.h"
#include "engine/flags.h"
#include "runtime/runtime.h"
#include "runtime/spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------- */

static void assert_json(json_t *got, const char *expected)
{
    json_error_t je;
    json_t *want = json_loads(expected, 0, &je);
    if (!want)
        fail_msg("bad expected JSON %s: %s", expected, je.text);
    if (!json_equal(got, want)) {
        char *text = json_dumps(got, JSON_COMPACT);
        print_error("got      %s\nexpected %s\n", text ? text : "NULL", expected);
        free(text);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

/* r is a failure whose whole message is msg, with errnum errnum. */
static void assert_error(int r, cell_err_t *err, int errnum, const char *msg)
{
    if (r >= 0)
        fail_msg("succeeded, expected: %s", msg);
    assert_int_equal(err->errnum, errnum);
    const char *text = cell_error_text(err);
    if (strcmp(text, msg) != 0)
        fail_msg("error\n  got      %s\n  expected %s", text, msg);
    cell_error_clear(err);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/cell-test-flags-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

/* ---- sizes ------------------------------------------------------------ */

static void size_ok(const char *flag, const char *s, int64_t want)
{
    int64_t got = 0;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_size(flag, s, &got, &err) < 0)
        fail_msg("%s %s: %s", flag, s, cell_error_text(&err));
    assert_int_equal(got, want);
}

static void size_bad(const char *flag, const char *s, const char *msg)
{
    int64_t got = 42;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_error(cell_flags_size(flag, s, &got, &err), &err, 0, msg);
    assert_int_equal(got, 42);
}

static void test_size(void **state)
{
    (void)state;
    size_ok("--memory", "512m", 512LL << 20);
    size_ok("memory", "1.5g", 3LL << 29);
    size_ok("-m, --memory", "10 MiB", 10LL << 20);
    size_ok("--memory", "1GB", 1LL << 30);
    size_ok("--memory", "0", 0);
    size_ok("--shm-size", "64", 64);
    size_ok("--shm-size", "1b", 1);
    size_ok("--shm-size", "1k", 1024);
    size_ok("--shm-size", "2T", 2LL << 40);
    size_ok("--shm-size", "1e3", 1000); /* Go's ParseFloat takes exponents */
    size_ok("--memory-swap", "-1", -1);
    size_ok("--memory-swap", "1g", 1LL << 30);
    size_bad("--memory", "12q",
             "invalid argument \"12q\" for \"-m, --memory\" flag: invalid suffix: 'q'");
    size_bad("--memory", "abc",
             "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'");
    size_bad("--memory", "-1",
             "invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'");
    size_bad("--shm-size", "1.2.3",
             "invalid argument \"1.2.3\" for \"--shm-size\" flag: strconv.ParseFloat: parsing "
             "\"1.2.3\": invalid syntax");
    size_bad("--shm-size", "10BB",
             "invalid argument \"10BB\" for \"--shm-size\" flag: invalid suffix: 'bb'");
    size_bad("--shm-size", "1kbbb",
             "invalid argument \"1kbbb\" for \"--shm-size\" flag: invalid suffix: 'kbbb'");
    size_bad("--shm-size", "1mx",
             "invalid argument \"1mx\" for \"--shm-size\" flag: invalid suffix: 'mx'");
    size_bad(
        "--memory", "5m",
        "invalid argument \"5m\" for \"-m, --memory\" flag: Minimum memory limit allowed is 6MB");
    size_bad("--memory-reservation", "1k",
             "invalid argument \"1k\" for \"--memory-reservation\" flag: Minimum memory "
             "reservation allowed is 6MB");
}

/* ---- --cpus ------------------------------------------------------------- */

static void test_cpus(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t nanos;
    } ok[] = {{"0.5", 500000000},  {"1/2", 500000000}, {"0", 0},
              {"1", 1000000000},   {".25", 250000000}, {"1.5e-1", 150000000},
              {"+0.01", 10000000}, {"0.000000001", 1}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t n = -1;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        if (cell_flags_cpus(ok[i].s, &n, &err) < 0)
            fail_msg("%s: %s", ok[i].s, cell_error_text(&err));
        assert_int_equal(n, ok[i].nanos);
    }
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    int ncpu = CPU_COUNT(&set);
    char range[256], more[32];
    snprintf(range, sizeof(range),
             "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu,
             ncpu);
    snprintf(more, sizeof(more), "%d.5", ncpu);
    static const char *const bad[] = {"abc", "0.0000000001", "-1", NULL, "1/0", "1e999", ""};
    const char *why[] = {"failed to parse abc as a rational number",
                         "value is too precise",
                         range,
                         range,
                         "failed to parse 1/0 as a rational number",
                         range,
                         "failed to parse  as a rational number"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        const char *s = bad[i] ? bad[i] : more;
        int64_t n = -7;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        char msg[512];
        snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--cpus\" flag: %s", s, why[i]);
        assert_error(cell_flags_cpus(s, &n, &err), &err, 0, msg);
        assert_int_equal(n, -7);
    }
}

/* ---- --ulimit ----------------------------------------------------------- */

static void ulimit_ok(const char *s, const char *json)
{
    json_t *rl = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_ulimit(s, &rl, &err) < 0)
        fail_msg("%s: %s", s, cell_error_text(&err));
    assert_json(rl, json);
    json_decref(rl);
}

static void ulimit_bad(const char *s, const char *why)
{
    json_t *rl = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char msg[512];
    snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--ulimit\" flag: %s", s, why);
    assert_error(cell_flags_ulimit(s, &rl, &err), &err, 0, msg);
    assert_null(rl);
}

static void test_ulimit(void **state)
{
    (void)state;
    ulimit_ok("nofile=1024:2048", "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":2048}");
    ulimit_ok("nproc=512", "{\"type\":\"RLIMIT_NPROC\",\"soft\":512,\"hard\":512}");
    /* -1 is RLIM_INFINITY, in the runtime's form for integers above INT64_MAX */
    json_t *rl = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_flags_ulimit("core=-1", &rl, &err), 0);
    uint64_t soft = 0, hard = 0;
    assert_int_equal(cell_spec_json_u64(json_object_get(rl, "soft"), &soft), 0);
    assert_int_equal(cell_spec_json_u64(json_object_get(rl, "hard"), &hard), 0);
    assert_true(soft == UINT64_MAX && hard == UINT64_MAX);
    json_decref(rl);
    assert_int_equal(cell_flags_ulimit("memlock=100:infinity", &rl, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(rl, "soft")), 100);
    assert_int_equal(cell_spec_json_u64(json_object_get(rl, "hard"), &hard), 0);
    assert_true(hard == UINT64_MAX);
    json_decref(rl);
    ulimit_bad("nofile", "invalid ulimit argument: nofile");
    ulimit_bad("as=1", "invalid ulimit type: as");
    ulimit_bad("NOFILE=1", "invalid ulimit type: NOFILE");
    ulimit_bad("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, "
                               "`soft[:hard]`");
    ulimit_bad("nofile=x", "strconv.ParseInt: parsing \"x\": invalid syntax");
    ulimit_bad("nofile=1:99999999999999999999",
               "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
    ulimit_bad("nofile=2048:1024",
               "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024");
    ulimit_bad("nofile=-1:100", "ulimit soft limit must be less than or equal to hard limit: "
                                "soft: -1 (unlimited), hard: 100");
}

/* ---- --restart ---------------------------------------------------------- */

static void test_restart(void **state)
{
    (void)state;
    static const struct {
        const char *s, *name;
        int n;
    } ok[] = {{"no", "no", 0},
              {"always", "always", 0},
              {"unless-stopped", "unless-stopped", 0},
              {"on-failure", "on-failure", 0},
              {"on-failure:3", "on-failure", 3},
              {"on-failure:", "on-failure", 0},
              {"", "no", 0},
              {"always:0", "always", 0}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *name = NULL;
        int n = -5;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        if (cell_flags_restart(ok[i].s, &name, &n, &err) < 0)
            fail_msg("%s: %s", ok[i].s, cell_error_text(&err));
        assert_string_equal(name, ok[i].name);
        assert_int_equal(n, ok[i].n);
        free(name);
    }
    static const char *const bad[][2] = {
        {":3", "invalid restart policy format: no policy provided before colon"},
        {"on-failure:x", "invalid restart policy format: maximum retry count must be an integer"},
        {"always:3",
         "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
        {"no:-1", "invalid restart policy: maximum retry count can only be used with "
                  "'on-failure' and cannot be negative"},
        {"on-failure:-2", "invalid restart policy: maximum retry count cannot be negative"},
        {"sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', "
                      "'always', 'on-failure', or 'unless-stopped'"}};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *name = NULL, msg[512];
        int n = 0;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--restart\" flag: %s", bad[i][0],
                 bad[i][1]);
        assert_error(cell_flags_restart(bad[i][0], &name, &n, &err), &err, 0, msg);
        assert_null(name);
    }
}

/* ---- --sysctl ----------------------------------------------------------- */

static void test_sysctl(void **state)
{
    (void)state;
    static const char *const ok[] = {"net.core.somaxconn=1024", "kernel.shmmax=68719476736",
                                     "kernel.sem=250 32000 100 128", "fs.mqueue.msg_max=20",
                                     "net.ipv4.ip_forward="};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *k = NULL, *v = NULL;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        if (cell_flags_sysctl(ok[i], false, &k, &v, &err) < 0)
            fail_msg("%s: %s", ok[i], cell_error_text(&err));
        size_t kl = strlen(k);
        assert_memory_equal(ok[i], k, kl);
        assert_string_equal(ok[i] + kl + 1, v);
        free(k);
        free(v);
    }
    char *k = NULL, *v = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_flags_sysctl("kernel.msgmax=65536", true, &k, &v, &err), 0);
    free(k);
    free(v);
    k = v = NULL;
    assert_error(cell_flags_sysctl("kernel.domainname=x", false, &k, &v, &err), &err, 0,
                 "invalid argument \"kernel.domainname=x\" for \"--sysctl\" flag: sysctl "
                 "'kernel.domainname=x' is not allowed");
    assert_error(cell_flags_sysctl("vm.swappiness=1", false, &k, &v, &err), &err, 0,
                 "invalid argument \"vm.swappiness=1\" for \"--sysctl\" flag: sysctl "
                 "'vm.swappiness=1' is not allowed");
    assert_error(cell_flags_sysctl("net.core.somaxconn", false, &k, &v, &err), &err, 0,
                 "invalid argument \"net.core.somaxconn\" for \"--sysctl\" flag: sysctl "
                 "'net.core.somaxconn' is not allowed");
    assert_error(cell_flags_sysctl("net.core.somaxconn=1", true, &k, &v, &err), &err, 0,
                 "invalid argument \"net.core.somaxconn=1\" for \"--sysctl\" flag: sysctl "
                 "\"net.core.somaxconn\" not allowed in host network namespace");
    assert_null(k);
    assert_null(v);
}

/* ---- --add-host, --stop-signal ------------------------------------------ */

static void test_add_host(void **state)
{
    (void)state;
    static const char *const ok[][3] = {{"db:10.0.0.2", "db", "10.0.0.2"},
                                        {"db=10.0.0.2", "db", "10.0.0.2"},
                                        {"v6:::1", "v6", "::1"},
                                        {"v6=fe80::1", "v6", "fe80::1"},
                                        {"v6:[2001:db8::33]", "v6", "2001:db8::33"},
                                        {"gw:host-gateway", "gw", "host-gateway"}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *name = NULL, *ip = NULL;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        if (cell_flags_add_host(ok[i][0], &name, &ip, &err) < 0)
            fail_msg("%s: %s", ok[i][0], cell_error_text(&err));
        assert_string_equal(name, ok[i][1]);
        assert_string_equal(ip, ok[i][2]);
        free(name);
        free(ip);
    }
    char *name = NULL, *ip = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_error(
        cell_flags_add_host("db", &name, &ip, &err), &err, 0,
        "invalid argument \"db\" for \"--add-host\" flag: bad format for add-host: \"db\"");
    assert_error(cell_flags_add_host(":1.2.3.4", &name, &ip, &err), &err, 0,
                 "invalid argument \":1.2.3.4\" for \"--add-host\" flag: bad format for "
                 "add-host: \":1.2.3.4\"");
    assert_error(cell_flags_add_host("a:b=1.2.3.4", &name, &ip, &err), &err, 0,
                 "invalid argument \"a:b=1.2.3.4\" for \"--add-host\" flag: bad format for "
                 "add-host: \"a:b=1.2.3.4\"");
    assert_error(cell_flags_add_host("db:10.0.0.300", &name, &ip, &err), &err, 0,
                 "invalid argument \"db:10.0.0.300\" for \"--add-host\" flag: invalid IP address "
                 "in add-host: \"10.0.0.300\"");
    assert_null(name);
    assert_null(ip);
}

static void test_signal(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int sig;
    } ok[] = {{"SIGTERM", 15}, {"TERM", 15}, {"term", 15}, {"9", 9}, {"SIGUSR1", 10}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int sig = 0;
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        assert_int_equal(cell_flags_signal(ok[i].s, &sig, &err), 0);
        assert_int_equal(sig, ok[i].sig);
    }
    int sig = 0;
    assert_int_equal(cell_flags_signal("RTMIN+1", &sig, NULL), 0);
    assert_int_equal(sig, SIGRTMIN + 1);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_error(cell_flags_signal("SIGFOO", &sig, &err), &err, 0,
                 "invalid argument \"SIGFOO\" for \"--stop-signal\" flag: invalid signal: SIGFOO");
    assert_error(cell_flags_signal("0", &sig, &err), &err, 0,
                 "invalid argument \"0\" for \"--stop-signal\" flag: invalid signal: 0");
}

/* ---- -e, --env-file ----------------------------------------------------- */

static void test_env(void **state)
{
    (void)state;
    setenv("CELL_TEST_FLAGS_SET", "from host", 1);
    unsetenv("CELL_TEST_FLAGS_UNSET");
    _cleanup_strv_ char **env = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_flags_env("A=1", &env, &err), 0);
    assert_int_equal(cell_flags_env("B=", &env, &err), 0);
    assert_int_equal(cell_flags_env("C=x=y", &env, &err), 0);
    assert_int_equal(cell_flags_env("CELL_TEST_FLAGS_SET", &env, &err), 0);
    assert_int_equal(cell_flags_env("CELL_TEST_FLAGS_UNSET", &env, &err), 0);
    assert_int_equal(cell_strv_len(env), 4);
    assert_string_equal(env[0], "A=1");
    assert_string_equal(env[1], "B=");
    assert_string_equal(env[2], "C=x=y");
    assert_string_equal(env[3], "CELL_TEST_FLAGS_SET=from host");
    assert_error(
        cell_flags_env("=x", &env, &err), &err, 0,
        "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x");
    assert_int_equal(cell_strv_len(env), 4);
}

static void env_file_bad(const char *dir, const char *text, int errnum, const char *why)
{
    char path[PATH_MAX], msg[1024];
    snprintf(path, sizeof(path), "%s/bad.env", dir);
    if (text)
        write_file(path, text);
    _cleanup_strv_ char **env = NULL;
    assert_int_equal(cell_strv_push(&env, "KEEP=1"), 0);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (errnum)
        snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--env-file\" flag: %s", path,
                 why);
    else
        snprintf(msg, sizeof(msg),
                 "invalid argument \"%s\" for \"--env-file\" flag: invalid env file (%s): %s", path,
                 path, why);
    assert_error(cell_flags_env_file(path, &env, &err), &err, errnum, msg);
    assert_int_equal(cell_strv_len(env), 1); /* untouched */
    unlink(path);
}

static void test_env_file(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/ok.env", dir);
    setenv("CELL_TEST_FLAGS_SET", "from host", 1);
    unsetenv("CELL_TEST_FLAGS_UNSET");
    write_file(path, "\xef\xbb\xbf# a comment\n"
                     "\n"
                     "   \t\n"
                     "PLAIN=value\n"
                     "  INDENTED=kept trailing  \n"
                     "QUOTED=\"as is\"\n"
                     "   # indented comment\n"
                     "CELL_TEST_FLAGS_SET\n"
                     "CELL_TEST_FLAGS_UNSET\n"
                     "EMPTY=\n"
                     "CRLF=x\r\n"
                     "EQ=a=b");
    _cleanup_strv_ char **env = NULL;
    assert_int_equal(cell_strv_push(&env, "FIRST=1"), 0);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_env_file(path, &env, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    static const char *const want[] = {"FIRST=1",
                                       "PLAIN=value",
                                       "INDENTED=kept trailing  ",
                                       "QUOTED=\"as is\"",
                                       "CELL_TEST_FLAGS_SET=from host",
                                       "EMPTY=",
                                       "CRLF=x",
                                       "EQ=a=b"};
    assert_int_equal(cell_strv_len(env), ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want); i++)
        assert_string_equal(env[i], want[i]);

    env_file_bad(dir, "OK=1\nBAD KEY=1\n", 0, "variable 'BAD KEY' contains whitespaces");
    env_file_bad(dir, "OK=1\n=x\n", 0, "no variable name on line '=x'");
    env_file_bad(dir, "OK=1\nX=\xff\n", 0, "invalid utf8 bytes at line 2: [88 61 255]");
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "open %s/bad.env: No such file or directory", dir);
    env_file_bad(dir, NULL, ENOENT, missing);
    rm_rf(dir);
}

/* ---- --security-opt ---------------------------------------------------- */

static void test_security_opt(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    char good[PATH_MAX], bad[PATH_MAX], missing[PATH_MAX];
    snprintf(good, sizeof(good), "%s/profile.json", dir);
    snprintf(bad, sizeof(bad), "%s/broken.json", dir);
    snprintf(missing, sizeof(missing), "%s/none.json", dir);
    write_file(good, "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": []}");
    write_file(bad, "{\"defaultAction\": ");

    struct cell_security_opts o = CELL_SECURITY_OPTS_INIT;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char arg[PATH_MAX + 16], msg[2 * PATH_MAX];
    snprintf(arg, sizeof(arg), "seccomp=%s", good);
    assert_int_equal(cell_flags_security_opt(arg, &o, &err), 0);
    assert_int_equal(o.seccomp, CELL_SECCOMP_PROFILE);
    assert_json(o.seccomp_profile, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}");
    assert_string_equal(o.seccomp_path, good);
    assert_int_equal(o.no_new_privileges, -1);
    assert_int_equal(cell_flags_security_opt("no-new-privileges", &o, &err), 0);
    assert_int_equal(o.no_new_privileges, 1);
    assert_int_equal(cell_flags_security_opt("no-new-privileges=false", &o, &err), 0);
    assert_int_equal(o.no_new_privileges, 0);
    assert_int_equal(cell_flags_security_opt("no-new-privileges:true", &o, &err), 0);
    assert_int_equal(o.no_new_privileges, 1);
    assert_int_equal(cell_flags_security_opt("label=disable", &o, &err), 0);
    assert_true(o.label_disable);
    assert_int_equal(cell_flags_security_opt("label=user:system_u", &o, &err), 0);
    assert_int_equal(cell_flags_security_opt("label:type:svirt_t", &o, &err), 0);
    assert_int_equal(cell_flags_security_opt("label=level:s0:c1,c2", &o, &err), 0);
    assert_string_equal(o.label_user, "system_u");
    assert_string_equal(o.label_type, "svirt_t");
    assert_string_equal(o.label_level, "s0:c1,c2");
    assert_null(o.label_role);
    assert_int_equal(cell_flags_security_opt("apparmor=unconfined", &o, &err), 0);
    assert_string_equal(o.apparmor, "unconfined");
    assert_int_equal(cell_flags_security_opt("systempaths=unconfined", &o, &err), 0);
    assert_true(o.systempaths_unconfined);
    assert_int_equal(cell_flags_security_opt("seccomp=unconfined", &o, &err), 0);
    assert_int_equal(o.seccomp, CELL_SECCOMP_UNCONFINED);
    assert_null(o.seccomp_profile);

    snprintf(arg, sizeof(arg), "seccomp=%s", bad);
    snprintf(msg, sizeof(msg),
             "invalid argument \"%s\" for \"--security-opt\" flag: compacting json for seccomp "
             "profile (%s) failed: line 1 column 18: unexpected end of file while parsing",
             arg, bad);
    /* jansson's own words for where the JSON ends */
    int r = cell_flags_security_opt(arg, &o, &err);
    assert_true(r < 0);
    assert_non_null(strstr(cell_error_text(&err), "compacting json for seccomp profile ("));
    cell_error_clear(&err);
    snprintf(arg, sizeof(arg), "seccomp=%s", missing);
    snprintf(msg, sizeof(msg),
             "invalid argument \"%s\" for \"--security-opt\" flag: opening seccomp profile (%s) "
             "failed: open %s: No such file or directory",
             arg, missing, missing);
    assert_error(cell_flags_security_opt(arg, &o, &err), &err, ENOENT, msg);
    assert_int_equal(o.seccomp, CELL_SECCOMP_UNCONFINED); /* unchanged by the failures */
    assert_error(cell_flags_security_opt("foo", &o, &err), &err, 0,
                 "invalid --security-opt: \"foo\"");
    assert_error(cell_flags_security_opt("label=", &o, &err), &err, 0,
                 "invalid --security-opt: \"label=\"");
    assert_error(cell_flags_security_opt("disable", &o, &err), &err, 0,
                 "invalid --security-opt: \"disable\"");
    assert_error(cell_flags_security_opt("foo=bar", &o, &err), &err, 0,
                 "invalid --security-opt 2: \"foo=bar\"");
    assert_error(cell_flags_security_opt("systempaths=x", &o, &err), &err, 0,
                 "invalid --security-opt 2: \"systempaths=x\"");
    assert_error(cell_flags_security_opt("no-new-privileges=maybe", &o, &err), &err, 0,
                 "invalid --security-opt 2: \"no-new-privileges=maybe\"");
    assert_error(cell_flags_security_opt("label=shape:round", &o, &err), &err, 0,
                 "invalid argument \"label=shape:round\" for \"--security-opt\" flag: bad label "
                 "option \"shape:round\", valid options 'disable' or 'user, role, level, type' "
                 "followed by ':' and a value");
    cell_security_opts_clear(&o);
    assert_int_equal(o.no_new_privileges, -1);
    rm_rf(dir);
}

/* ---- -v -------------------------------------------------------------------- */

static void volume_ok(const char *s, const char *json)
{
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_volume(s, &m, &err) < 0)
        fail_msg("%s: %s", s, cell_error_text(&err));
    assert_json(m, json);
    json_decref(m);
}

static void volume_bad(const char *s, int errnum, const char *why)
{
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char msg[2048];
    snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"-v, --volume\" flag: %s", s, why);
    assert_error(cell_flags_volume(s, &m, &err), &err, errnum, msg);
    assert_null(m);
}

static void test_volume(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    char s[PATH_MAX + 64], json[2 * PATH_MAX], why[2 * PATH_MAX];
#define V(fmt_s, fmt_json)                                                                         \
    do {                                                                                           \
        snprintf(s, sizeof(s), fmt_s, dir);                                                        \
        snprintf(json, sizeof(json), fmt_json, dir);                                               \
        volume_ok(s, json);                                                                        \
    } while (0)
    V("%s:/data", "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\","
                  "\"options\":[\"rbind\",\"rprivate\"]}");
    V("%s/:/data/:ro", "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\","
                       "\"options\":[\"rbind\",\"ro\",\"rprivate\"]}");
    V("%s:/d:rshared,Z,rw", "{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\","
                            "\"options\":[\"rbind\",\"rshared\"]}");
    V("%s:/d:ro,cached,slave", "{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\","
                               "\"options\":[\"rbind\",\"ro\",\"slave\"]}");
    /* a missing source is made, as Docker's daemon makes it for -v */
    V("%s/made/deep:/m", "{\"destination\":\"/m\",\"type\":\"bind\",\"source\":\"%s/made/deep\","
                         "\"options\":[\"rbind\",\"rprivate\"]}");
    struct stat st;
    snprintf(s, sizeof(s), "%s/made/deep", dir);
    assert_int_equal(stat(s, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0755);
    /* "./x" is taken against the working directory, as Docker's client does */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    snprintf(s, sizeof(s), "./rel:/r");
    snprintf(json, sizeof(json),
             "{\"destination\":\"/r\",\"type\":\"bind\",\"source\":\"%s/rel\","
             "\"options\":[\"rbind\",\"rprivate\"]}",
             dir);
    volume_ok(s, json);
    assert_int_equal(chdir(cwd), 0);

    volume_bad("", 0, "invalid empty volume spec");
    volume_bad("/a::/b", 0, "invalid spec: /a::/b: empty section between colons");
    volume_bad("/a:/b:", 0, "invalid spec: /a:/b:: empty section between colons");
    volume_bad("/a:/b:ro:x", 0, "invalid spec: /a:/b:ro:x: too many colons");
    volume_bad("/a:rw", 0, "invalid volume specification: '/a:rw'");
    volume_bad("/a:/b:xx", 0, "invalid mode: xx");
    volume_bad("/a:/b:ro,rw", 0, "invalid mode: ro,rw");
    volume_bad("/a:/b:ro,", 0, "invalid mode: ro,");
    volume_bad("/a:/", 0,
               "invalid volume specification: '/a:/': invalid mount config for type "
               "\"bind\": invalid specification: destination can't be '/'");
    volume_bad("/a:rel", 0,
               "invalid volume specification: '/a:rel': invalid mount config for "
               "type \"bind\": invalid mount path: 'rel' mount path must be absolute");
    volume_bad("/a:/b:nocopy", 0,
               "invalid volume specification: '/a:/b:nocopy': invalid mount "
               "config for type \"bind\": field VolumeOptions must not be "
               "specified");
    volume_bad("data:/x", ENOTSUP,
               "named volume data (volumes are not in cell yet): Operation not supported");
    volume_bad("/data", ENOTSUP,
               "anonymous volume /data (volumes are not in cell yet): Operation not supported");
    /* nothing was made for the refused ones */
    assert_int_equal(access("/a", F_OK), -1);
    snprintf(s, sizeof(s), "%s/file", dir);
    write_file(s, "x");
    snprintf(s, sizeof(s), "%s/file/sub:/x", dir);
    snprintf(why, sizeof(why), "mkdir %s/file/sub: Not a directory", dir);
    volume_bad(s, ENOTDIR, why);
#undef V
    rm_rf(dir);
}

/* ---- --tmpfs and --mount ------------------------------------------------ */

static void tmpfs_ok(const char *s, const char *options)
{
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_tmpfs(s, &m, &err) < 0)
        fail_msg("%s: %s", s, cell_error_text(&err));
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"destination\":\"%.*s\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":%s}",
             (int)strcspn(s, ":"), s, options);
    assert_json(m, json);
    json_decref(m);
}

static void test_tmpfs(void **state)
{
    (void)state;
    tmpfs_ok("/run", "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\"]");
    tmpfs_ok("/run:", "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\"]");
    tmpfs_ok("/run:size=64m,mode=1777",
             "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"size=64m\",\"mode=1777\"]");
    tmpfs_ok("/run:exec", "[\"nosuid\",\"nodev\",\"rprivate\",\"exec\"]");
    tmpfs_ok("/run:size=1m,ro,size=2m,shared",
             "[\"noexec\",\"nosuid\",\"nodev\",\"ro\",\"size=2m\",\"shared\"]");
    tmpfs_ok("/run:defaults,uid=1000",
             "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"uid=1000\"]");
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_error(cell_flags_tmpfs("run", &m, &err), &err, 0,
                 "invalid argument \"run\" for \"--tmpfs\" flag: invalid mount path: 'run' mount "
                 "path must be absolute");
    assert_error(cell_flags_tmpfs("/:size=1m", &m, &err), &err, 0,
                 "invalid argument \"/:size=1m\" for \"--tmpfs\" flag: invalid specification: "
                 "destination can't be '/'");
    assert_error(cell_flags_tmpfs("/run:foo", &m, &err), &err, 0,
                 "invalid argument \"/run:foo\" for \"--tmpfs\" flag: Invalid tmpfs option "
                 "[\"foo\"]");
    assert_error(cell_flags_tmpfs("/run:color=red", &m, &err), &err, 0,
                 "invalid argument \"/run:color=red\" for \"--tmpfs\" flag: Invalid tmpfs option "
                 "[\"color\" \"red\"]");
    assert_error(cell_flags_tmpfs("/run:size=1m,", &m, &err), &err, 0,
                 "invalid argument \"/run:size=1m,\" for \"--tmpfs\" flag: Invalid tmpfs option "
                 "[\"\"]");
    assert_null(m);
}

static void mount_ok(const char *s, const char *json)
{
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_mount(s, &m, &err) < 0)
        fail_msg("%s: %s", s, cell_error_text(&err));
    assert_json(m, json);
    json_decref(m);
}

static void mount_bad(const char *s, int errnum, const char *why)
{
    json_t *m = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_free_ char *msg = NULL;
    char *q = NULL; /* s has no character Go would escape but '"' */
    size_t n = 0;
    FILE *f = open_memstream(&q, &n);
    for (const char *p = s; *p; p++)
        fprintf(f, *p == '"' ? "\\\"" : "%c", *p);
    fclose(f);
    assert_true(asprintf(&msg, "invalid argument \"%s\" for \"--mount\" flag: %s", q, why) > 0);
    free(q);
    assert_error(cell_flags_mount(s, &m, &err), &err, errnum, msg);
    assert_null(m);
}

static void test_mount(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    char s[PATH_MAX + 128], json[2 * PATH_MAX], why[2 * PATH_MAX];
#define M(fmt_s, fmt_json)                                                                         \
    do {                                                                                           \
        snprintf(s, sizeof(s), fmt_s, dir);                                                        \
        snprintf(json, sizeof(json), fmt_json, dir);                                               \
        mount_ok(s, json);                                                                         \
    } while (0)
    M("type=bind,source=%s,target=/d", "{\"destination\":\"/d\",\"type\":\"bind\","
                                       "\"source\":\"%s\",\"options\":[\"rbind\",\"rprivate\"]}");
    M("Type=BIND,src=%s,dst=/d,readonly", "{\"destination\":\"/d\",\"type\":\"bind\","
                                          "\"source\":\"%s\",\"options\":[\"rbind\",\"ro\","
                                          "\"rprivate\"]}");
    M("type=bind,source=%s,destination=/d,ro=false,bind-propagation=RSLAVE",
      "{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\","
      "\"rslave\"]}");
    M("type=bind,source=%s,target=/d,bind-recursive=disabled,consistency=cached",
      "{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\","
      "\"rprivate\"]}");
    M("type=bind,source=%s,target=/d,ro=1,bind-recursive=readonly,bind-propagation=rprivate",
      "{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\","
      "\"rro\",\"rprivate\"]}");
    /* CSV: a quoted field may hold a comma */
    M("type=bind,\"source=%s\",\"target=/a,b\"", "{\"destination\":\"/a,b\",\"type\":\"bind\","
                                                 "\"source\":\"%s\",\"options\":[\"rbind\","
                                                 "\"rprivate\"]}");
    mount_ok("type=tmpfs,target=/t", "{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":"
                                     "\"tmpfs\",\"options\":[\"noexec\",\"nosuid\",\"nodev\","
                                     "\"rprivate\"]}");
    mount_ok("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777,readonly",
             "{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
             "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"ro\",\"mode=1777\",\"size=64m\"]}");
    mount_ok("type=tmpfs,dst=/t,tmpfs-size=1000", "{\"destination\":\"/t\",\"type\":\"tmpfs\","
                                                  "\"source\":\"tmpfs\",\"options\":[\"noexec\","
                                                  "\"nosuid\",\"nodev\",\"rprivate\","
                                                  "\"size=1000\"]}");

    mount_bad("type=bind,target=/d", 0,
              "invalid mount config for type \"bind\": field Source must not be empty");
    snprintf(s, sizeof(s), "type=bind,source=%s/none,target=/d", dir);
    snprintf(why, sizeof(why),
             "invalid mount config for type \"bind\": bind source path does not exist: %s/none",
             dir);
    mount_bad(s, 0, why);
    assert_int_equal(access(s + 17, F_OK), -1); /* --mount does not make it */
    mount_bad("type=bind,source=rel,target=/d", 0,
              "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must "
              "be absolute");
    snprintf(s, sizeof(s), "type=bind,source=%s,target=/d,bind-propagation=up", dir);
    mount_bad(s, 0, "invalid mount config for type \"bind\": invalid propagation mode: up");
    snprintf(s, sizeof(s), "type=bind,source=%s,target=/", dir);
    mount_bad(s, 0,
              "invalid mount config for type \"bind\": invalid specification: destination "
              "can't be '/'");
    mount_bad("type=bind,source=/tmp", 0, "target is required");
    mount_bad("type=,target=/x", 0, "type is required");
    mount_bad("type=bind,foo", 0, "invalid field 'foo' must be a key=value pair");
    mount_bad("type=bind,Foo=bar", 0, "unexpected key 'foo' in 'Foo=bar'");
    mount_bad("type=bind,readonly=maybe", 0, "invalid value for readonly: maybe");
    mount_bad("type=bind,bind-recursive=sometimes", 0,
              "invalid value for bind-recursive: sometimes (must be \"enabled\", \"disabled\", "
              "\"writable\", or \"readonly\")");
    mount_bad(
        "type=bind,target=/d,bind-recursive=writable", 0,
        "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
    mount_bad("type=bind,target=/d,ro,bind-recursive=readonly", 0,
              "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be "
              "specified in conjunction");
    mount_bad("type=tmpfs,target=/t,tmpfs-size=x", 0, "invalid value for tmpfs-size: x");
    mount_bad("type=tmpfs,target=/t,tmpfs-mode=999", 0, "invalid value for tmpfs-mode: 999");
    mount_bad("type=bind,source=/tmp,target=/t,tmpfs-size=1m", 0,
              "cannot mix 'tmpfs-*' options with mount type 'bind'");
    mount_bad("type=tmpfs,target=/t,bind-propagation=shared", 0,
              "cannot mix 'bind-*' options with mount type 'tmpfs'");
    mount_bad("type=bind,source=/tmp,target=/t,volume-nocopy", 0,
              "cannot mix 'volume-*' options with mount type 'bind'");
    mount_bad("type=tmpfs,source=x,target=/t", 0,
              "invalid mount config for type \"tmpfs\": field Source must not be specified");
    mount_bad("type=npipe,target=/t", 0,
              "invalid mount config for type \"npipe\": mount type unknown");
    mount_bad("target=/x", ENOTSUP, "mount type volume (not in cell yet): Operation not supported");
    mount_bad("type=volume,source=data,target=/x,volume-nocopy", ENOTSUP,
              "mount type volume (not in cell yet): Operation not supported");
    mount_bad("type=bind,source=a\"b,target=/t", 0,
              "parse error on line 1, column 19: bare \" in non-quoted-field");
    mount_bad("type=bind,\"source=x\"y,target=/t", 0,
              "parse error on line 1, column 20: extraneous or missing \" in quoted-field");
#undef M
    rm_rf(dir);
}

/* ---- --device ------------------------------------------------------------ */

static void test_device(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    char json[512];
    json_t *dev = NULL, *rule = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    static const char *const forms[][3] = {{"/dev/null", "/dev/null", "rwm"},
                                           {"/dev/null:/dev/mynull", "/dev/mynull", "rwm"},
                                           {"/dev/null:r", "/dev/null", "r"},
                                           {"/dev/null:/dev/n:mw", "/dev/n", "mw"}};
    for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
        if (cell_flags_device(forms[i][0], &dev, &rule, &err) < 0)
            fail_msg("%s: %s", forms[i][0], cell_error_text(&err));
        snprintf(json, sizeof(json),
                 "{\"path\":\"%s\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":%u,"
                 "\"uid\":%u,\"gid\":%u}",
                 forms[i][1], st.st_mode & 07777, st.st_uid, st.st_gid);
        assert_json(dev, json);
        snprintf(json, sizeof(json),
                 "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"%s\"}",
                 forms[i][2]);
        assert_json(rule, json);
        json_decref(dev);
        json_decref(rule);
        dev = rule = NULL;
    }
    static const char *const bad[][2] = {
        {"/dev/null:/a:xyz", "bad mode specified: xyz"},
        {"/dev/null:/a:rwmr", "bad mode specified: rwmr"},
        {"a:b:c:d", "bad format for path: a:b:c:d"},
        {":/dev/x", "bad format for path: :/dev/x"},
        {"/dev/null:rel", "rel is not an absolute path"},
        {"/etc/hostname", "error gathering device information while adding custom device "
                          "\"/etc/hostname\": not a device node"},
        {"/dev/cell-none", "error gathering device information while adding custom device "
                           "\"/dev/cell-none\": No such file or directory"}};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char msg[512];
        snprintf(msg, sizeof(msg), "invalid argument \"%s\" for \"--device\" flag: %s", bad[i][0],
                 bad[i][1]);
        assert_error(cell_flags_device(bad[i][0], &dev, &rule, &err), &err,
                     strstr(bad[i][1], "No such") ? ENOENT : 0, msg);
        assert_null(dev);
        assert_null(rule);
    }
}

/* A directory of device nodes brings each of them (Docker's --device /dev/dri). */
static void test_device_directory(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    char path[PATH_MAX], arg[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/null", dir);
    assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
    assert_int_equal(chmod(path, 0666), 0); /* past the umask */
    snprintf(path, sizeof(path), "%s/sub/zero", dir);
    assert_int_equal(mknod(path, S_IFCHR | 0640, makedev(1, 5)), 0);
    assert_int_equal(chmod(path, 0640), 0);
    snprintf(path, sizeof(path), "%s/plain", dir);
    write_file(path, "not a device");
    snprintf(path, sizeof(path), "%s/link", dir);
    assert_int_equal(symlink("/dev/full", path), 0); /* symlinks inside are not followed */

    json_t *devs = json_array(), *rules = json_array();
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    snprintf(arg, sizeof(arg), "%s:/dev/gpu:rw", dir);
    if (cell_flags_devices(arg, devs, rules, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    assert_int_equal(json_array_size(devs), 2);
    assert_int_equal(json_array_size(rules), 2);
    json_t *want =
        json_pack("[{s:s,s:s,s:i,s:i,s:i,s:i,s:i},{s:s,s:s,s:i,s:i,s:i,s:i,s:i}]", "path",
                  "/dev/gpu/null", "type", "c", "major", 1, "minor", 3, "fileMode", 0666, "uid", 0,
                  "gid", 0, "path", "/dev/gpu/sub/zero", "type", "c", "major", 1, "minor", 5,
                  "fileMode", 0640, "uid", 0, "gid", 0);
    /* readdir order is the file system's: compare as sets */
    for (size_t i = 0; i < 2; i++) {
        bool found = false;
        for (size_t j = 0; j < 2; j++)
            found |= json_equal(json_array_get(devs, i), json_array_get(want, j));
        assert_true(found);
        assert_string_equal(json_string_value(json_object_get(json_array_get(rules, i), "access")),
                            "rw");
    }
    json_decref(want);

    /* the one-device call says it got a directory */
    json_t *dev = NULL, *rule = NULL;
    char msg[3 * PATH_MAX];
    snprintf(msg, sizeof(msg),
             "invalid argument \"%s\" for \"--device\" flag: error gathering device information "
             "while adding custom device \"%s\": a directory of 2 devices where one device node "
             "was expected",
             arg, dir);
    assert_error(cell_flags_device(arg, &dev, &rule, &err), &err, 0, msg);
    assert_null(dev);
    assert_null(rule);
    /* an empty directory is not a device */
    snprintf(path, sizeof(path), "%s/empty", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(msg, sizeof(msg),
             "invalid argument \"%s\" for \"--device\" flag: error gathering device information "
             "while adding custom device \"%s\": not a device node",
             path, path);
    size_t had = json_array_size(devs);
    assert_error(cell_flags_devices(path, devs, rules, &err), &err, 0, msg);
    assert_int_equal(json_array_size(devs), had);
    json_decref(devs);
    json_decref(rules);
    rm_rf(dir);
}

/* ---- block I/O ----------------------------------------------------------- */

/* Some block device of this host, or NULL. */
static const char *some_block_device(char *buf, size_t n, struct stat *st)
{
    _cleanup_closedir_ DIR *d = opendir("/dev");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        snprintf(buf, n, "/dev/%s", e->d_name);
        if (stat(buf, st) == 0 && S_ISBLK(st->st_mode))
            return buf;
    }
    return NULL;
}

static void test_throttle(void **state)
{
    (void)state;
    char blk[PATH_MAX], arg[PATH_MAX + 32], json[256], msg[1024];
    struct stat st;
    if (!some_block_device(blk, sizeof(blk), &st))
        fail_msg("this host has no block device in /dev");
    json_t *e = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    snprintf(arg, sizeof(arg), "%s:1mb", blk);
    assert_int_equal(cell_flags_throttle("device-read-bps", arg, false, &e, &err), 0);
    snprintf(json, sizeof(json), "{\"major\":%u,\"minor\":%u,\"rate\":1048576}", major(st.st_rdev),
             minor(st.st_rdev));
    assert_json(e, json);
    json_decref(e);
    snprintf(arg, sizeof(arg), "%s:1000", blk);
    assert_int_equal(cell_flags_throttle("--device-write-iops", arg, true, &e, &err), 0);
    snprintf(json, sizeof(json), "{\"major\":%u,\"minor\":%u,\"rate\":1000}", major(st.st_rdev),
             minor(st.st_rdev));
    assert_json(e, json);
    json_decref(e);
    e = NULL;

    assert_error(cell_flags_throttle("device-read-bps", "sda:1mb", false, &e, &err), &err, 0,
                 "invalid argument \"sda:1mb\" for \"--device-read-bps\" flag: bad format for "
                 "device path: sda:1mb");
    assert_error(
        cell_flags_throttle("device-read-bps", "/dev/sda", false, &e, &err), &err, 0,
        "invalid argument \"/dev/sda\" for \"--device-read-bps\" flag: bad format: /dev/sda");
    assert_error(cell_flags_throttle("device-read-bps", "/dev/sda:fast", false, &e, &err), &err, 0,
                 "invalid argument \"/dev/sda:fast\" for \"--device-read-bps\" flag: invalid rate "
                 "for device: /dev/sda:fast. The correct format is <device-path>:<number>[<unit>]. "
                 "Number must be a positive integer. Unit is optional and can be kb, mb, or gb");
    assert_error(cell_flags_throttle("device-read-iops", "/dev/sda:1k", true, &e, &err), &err, 0,
                 "invalid argument \"/dev/sda:1k\" for \"--device-read-iops\" flag: invalid rate "
                 "for device: /dev/sda:1k. The correct format is <device-path>:<number>. Number "
                 "must be a positive integer");
    assert_error(cell_flags_throttle("device-read-bps", "/dev/null:1mb", false, &e, &err), &err, 0,
                 "invalid argument \"/dev/null:1mb\" for \"--device-read-bps\" flag: /dev/null is "
                 "not a block device");
    assert_error(cell_flags_throttle("device-read-bps", "/dev/cell-none:1", false, &e, &err), &err,
                 ENOENT,
                 "invalid argument \"/dev/cell-none:1\" for \"--device-read-bps\" flag: stat "
                 "/dev/cell-none: No such file or directory");
    assert_null(e);

    snprintf(arg, sizeof(arg), "%s:200", blk);
    assert_int_equal(cell_flags_weight_device(arg, &e, &err), 0);
    snprintf(json, sizeof(json), "{\"major\":%u,\"minor\":%u,\"weight\":200}", major(st.st_rdev),
             minor(st.st_rdev));
    assert_json(e, json);
    json_decref(e);
    snprintf(arg, sizeof(arg), "%s:0", blk);
    assert_int_equal(cell_flags_weight_device(arg, &e, &err), 0);
    json_decref(e);
    e = NULL;
    static const char *const bad[] = {":5", ":1001", ":x", ":-1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        snprintf(arg, sizeof(arg), "%s%s", blk, bad[i]);
        snprintf(msg, sizeof(msg),
                 "invalid argument \"%s\" for \"--blkio-weight-device\" flag: invalid weight for "
                 "device: %s",
                 arg, arg);
        assert_error(cell_flags_weight_device(arg, &e, &err), &err, 0, msg);
    }
    assert_null(e);
}

/* ---- user resolution ------------------------------------------------------ */

struct rootfs {
    char *top;
    int fd;
};

static const char passwd_text[] = "root:x:0:0:root:/root:/bin/sh\n"
                                  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                                  "  bob:x:1001:1001::/home/bob:/bin/sh  \n"
                                  "\n"
                                  "nohome:x:1002:1002:::/bin/false\n"
                                  "dup:x:1003:1003::/first:/bin/sh\n"
                                  "dup:x:1004:1004::/second:/bin/sh\n";
static const char group_text[] = "root:x:0:\n"
                                 "wheel:x:10:alice,bob\n"
                                 "users:x:100:carol,alice\n"
                                 "staff:x:50:\n"
                                 "alice:x:1000:\n";

/* top/etc/{passwd,group} as given (NULL: no file). */
static void rootfs_make(struct rootfs *r, const char *passwd, const char *group)
{
    char path[PATH_MAX];
    r->top = tmpdir_new();
    snprintf(path, sizeof(path), "%s/etc", r->top);
    assert_int_equal(mkdir(path, 0755), 0);
    if (passwd) {
        snprintf(path, sizeof(path), "%s/etc/passwd", r->top);
        write_file(path, passwd);
    }
    if (group) {
        snprintf(path, sizeof(path), "%s/etc/group", r->top);
        write_file(path, group);
    }
    r->fd = open(r->top, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(r->fd >= 0);
}

static void rootfs_drop(struct rootfs *r)
{
    close(r->fd);
    rm_rf(r->top);
    free(r->top);
}

static void user_ok(int rootfd, const char *user, char *const *group_add, const char *json,
                    const char *home)
{
    json_t *u = NULL;
    char *h = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_flags_resolve_user(rootfd, user, group_add, &u, &h, &err) < 0)
        fail_msg("user \"%s\": %s", user, cell_error_text(&err));
    assert_json(u, json);
    assert_string_equal(h, home);
    json_decref(u);
    free(h);
}

static void user_bad(int rootfd, const char *user, char *const *group_add, const char *msg)
{
    json_t *u = NULL;
    char *h = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_error(cell_flags_resolve_user(rootfd, user, group_add, &u, &h, &err), &err, 0, msg);
    assert_null(u);
    assert_null(h);
}

static void test_resolve_user(void **state)
{
    (void)state;
    struct rootfs r;
    rootfs_make(&r, passwd_text, group_text);
    user_ok(r.fd, "", NULL, "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}", "/root");
    user_ok(r.fd, "root", NULL, "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}", "/root");
    user_ok(r.fd, "alice", NULL, "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,10,100]}",
            "/home/alice");
    user_ok(r.fd, "1000", NULL, "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,10,100]}",
            "/home/alice");
    user_ok(r.fd, "bob", NULL, "{\"uid\":1001,\"gid\":1001,\"additionalGids\":[1001,10]}",
            "/home/bob");
    /* an explicit group replaces the gid and drops the supplementary groups */
    user_ok(r.fd, "alice:staff", NULL, "{\"uid\":1000,\"gid\":50,\"additionalGids\":[50]}",
            "/home/alice");
    user_ok(r.fd, "alice:50", NULL, "{\"uid\":1000,\"gid\":50,\"additionalGids\":[50]}",
            "/home/alice");
    user_ok(r.fd, "alice:999", NULL, "{\"uid\":1000,\"gid\":999,\"additionalGids\":[999]}",
            "/home/alice");
    user_ok(r.fd, "1000:wheel", NULL, "{\"uid\":1000,\"gid\":10,\"additionalGids\":[10]}",
            "/home/alice");
    /* numeric ids need no entry; home is then "/" */
    user_ok(r.fd, "4242", NULL, "{\"uid\":4242,\"gid\":0,\"additionalGids\":[0]}", "/");
    user_ok(r.fd, "4242:4343", NULL, "{\"uid\":4242,\"gid\":4343,\"additionalGids\":[4343]}", "/");
    user_ok(r.fd, "nohome", NULL, "{\"uid\":1002,\"gid\":1002,\"additionalGids\":[1002]}", "/");
    user_ok(r.fd, "dup", NULL, "{\"uid\":1003,\"gid\":1003,\"additionalGids\":[1003]}", "/first");
    user_ok(r.fd, "alice:staff:extra", NULL, "{\"uid\":1000,\"gid\":50,\"additionalGids\":[50]}",
            "/home/alice");
    /* --group-add: names or gids, each once, after the user's own */
    char *adds[] = {"staff", "2000", "users", "50", "10", NULL};
    user_ok(r.fd, "bob", adds,
            "{\"uid\":1001,\"gid\":1001,\"additionalGids\":[1001,10,50,2000,100,10]}", "/home/bob");

    user_bad(r.fd, "nobody", NULL,
             "unable to find user nobody: no matching entries in passwd file");
    user_bad(r.fd, "alice:nogroup", NULL,
             "unable to find group nogroup: no matching entries in group file");
    user_bad(r.fd, "-1", NULL, "uids and gids must be in range 0-2147483647");
    user_bad(r.fd, "alice:2147483648", NULL, "uids and gids must be in range 0-2147483647");
    char *bad_adds[] = {"staff", "nogroup", NULL};
    user_bad(r.fd, "alice", bad_adds,
             "Unable to find group nogroup: no matching entries in group file");
    rootfs_drop(&r);

    /* no /etc files: numbers only */
    rootfs_make(&r, NULL, NULL);
    user_ok(r.fd, "", NULL, "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}", "/");
    user_ok(r.fd, "12:34", NULL, "{\"uid\":12,\"gid\":34,\"additionalGids\":[34]}", "/");
    char *num_adds[] = {"5", NULL};
    user_ok(r.fd, "12", num_adds, "{\"uid\":12,\"gid\":0,\"additionalGids\":[0,5]}", "/");
    user_bad(r.fd, "root", NULL, "unable to find user root: no matching entries in passwd file");
    rootfs_drop(&r);
}

/* An image whose /etc points out of it reads its own files or none: never
 * the host's /etc/passwd (which has root and daemon). */
static void test_resolve_user_symlinked_etc(void **state)
{
    (void)state;
    static const char *const targets[] = {"/", "../../etc", "/etc"};
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        struct rootfs r;
        rootfs_make(&r, NULL, NULL);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/etc", r.top);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(symlink(targets[i], path), 0);
        /* with etc -> "/", /etc/passwd is the rootfs's own /passwd */
        snprintf(path, sizeof(path), "%s/passwd", r.top);
        write_file(path, "inside:x:77:78::/in:/bin/sh\n");
        if (strcmp(targets[i], "/") == 0)
            user_ok(r.fd, "inside", NULL, "{\"uid\":77,\"gid\":78,\"additionalGids\":[78]}", "/in");
        user_bad(r.fd, "daemon", NULL,
                 "unable to find user daemon: no matching entries in passwd file");
        user_bad(r.fd, "root", NULL,
                 "unable to find user root: no matching entries in passwd file");
        user_ok(r.fd, "1:1", NULL, "{\"uid\":1,\"gid\":1,\"additionalGids\":[1]}", "/");
        rootfs_drop(&r);
    }
}

/* A FIFO or a device in place of /etc/passwd is not read (it could block, or
 * be the host's). */
static void test_resolve_user_not_a_file(void **state)
{
    (void)state;
    struct rootfs r;
    rootfs_make(&r, NULL, group_text);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/etc/passwd", r.top);
    assert_int_equal(mkfifo(path, 0644), 0);
    user_bad(r.fd, "alice", NULL, "unable to find user alice: no matching entries in passwd file");
    user_ok(r.fd, "1000:wheel", NULL, "{\"uid\":1000,\"gid\":10,\"additionalGids\":[10]}", "/");
    rootfs_drop(&r);
}

/* ---- the fragments in a config.json -------------------------------------- */

static void must(int r, cell_err_t *err)
{
    if (r < 0)
        fail_msg("%s", cell_error_text(err));
}

/* The call's output j, once the call has run (the comma orders them). */
#define TAKE(call) (must((call), &err), j)

/* Every kind of fragment, put where the engine puts it, is what cell's own
 * spec parser accepts (RLIM_INFINITY written as a number by
 * cell_flags_json_dumps). */
static void test_fragments_in_a_spec(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = tmpdir_new();
    json_t *spec = cell_runtime_default_spec(false);
    json_t *proc = json_object_get(spec, "process"), *linux = json_object_get(spec, "linux");
    json_t *mounts = json_object_get(spec, "mounts"), *res = json_object_get(linux, "resources");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *j = NULL, *rule = NULL;
    char arg[PATH_MAX + 64];

    json_t *rlimits = json_array();
    json_array_append_new(rlimits, TAKE(cell_flags_ulimit("nofile=1024:2048", &j, &err)));
    json_array_append_new(rlimits, TAKE(cell_flags_ulimit("core=-1", &j, &err)));
    json_object_set_new(proc, "rlimits", rlimits);
    snprintf(arg, sizeof(arg), "%s:/data:ro", dir);
    json_array_append_new(mounts, TAKE(cell_flags_volume(arg, &j, &err)));
    snprintf(arg, sizeof(arg),
             "type=bind,src=%s,dst=/rro,ro,bind-recursive=readonly,"
             "bind-propagation=rprivate",
             dir);
    json_array_append_new(mounts, TAKE(cell_flags_mount(arg, &j, &err)));
    json_array_append_new(mounts, TAKE(cell_flags_tmpfs("/run:size=64m,mode=1777", &j, &err)));
    json_t *devices = json_array(), *rules = json_array();
    assert_int_equal(cell_flags_device("/dev/null:/dev/n:rw", &j, &rule, &err), 0);
    json_array_append_new(devices, j);
    json_array_append_new(rules, rule);
    json_object_set_new(linux, "devices", devices);
    json_object_set_new(res, "devices", rules);
    char blk[PATH_MAX];
    struct stat st;
    assert_non_null(some_block_device(blk, sizeof(blk), &st));
    snprintf(arg, sizeof(arg), "%s:1mb", blk);
    json_t *bps = json_array(), *weights = json_array();
    json_array_append_new(bps, TAKE(cell_flags_throttle("device-read-bps", arg, false, &j, &err)));
    snprintf(arg, sizeof(arg), "%s:300", blk);
    json_array_append_new(weights, TAKE(cell_flags_weight_device(arg, &j, &err)));
    json_object_set_new(
        res, "blockIO",
        json_pack("{s:o, s:o}", "throttleReadBpsDevice", bps, "weightDevice", weights));
    char *k = NULL, *v = NULL;
    assert_int_equal(cell_flags_sysctl("net.core.somaxconn=1024", false, &k, &v, &err), 0);
    json_object_set_new(linux, "sysctl", json_pack("{s:s}", k, v));
    free(k);
    free(v);
    struct rootfs r;
    rootfs_make(&r, passwd_text, group_text);
    char *home = NULL, *adds[] = {"staff", NULL};
    assert_int_equal(cell_flags_resolve_user(r.fd, "alice", adds, &j, &home, &err), 0);
    json_object_set_new(proc, "user", j);
    free(home);
    rootfs_drop(&r);

    _cleanup_free_ char *text = cell_flags_json_dumps(spec, JSON_COMPACT);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"soft\":18446744073709551615,\"hard\":18446744073709551615"));
    struct cell_spec *parsed = NULL;
    if (cell_spec_parse(text, strlen(text), &parsed, &err) < 0)
        fail_msg("%s\n%s", cell_error_text(&err), text);
    cell_spec_free(parsed);
    json_decref(spec);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_ulimit),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_sysctl),
        cmocka_unit_test(test_add_host),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_env_file),
        cmocka_unit_test(test_security_opt),
        cmocka_unit_test(test_volume),
        cmocka_unit_test(test_tmpfs),
        cmocka_unit_test(test_mount),
        cmocka_unit_test(test_device),
        cmocka_unit_test(test_device_directory),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_resolve_user),
        cmocka_unit_test(test_resolve_user_symlinked_etc),
        cmocka_unit_test(test_resolve_user_not_a_file),
        cmocka_unit_test(test_fragments_in_a_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

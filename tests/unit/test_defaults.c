/* The engine's default confinement (engine/defaults.h): Docker's default
 * capabilities and the --cap-add/--cap-drop/--privileged rules, the masked
 * and read-only paths, the converter of Docker-format seccomp profiles and
 * Docker's default profile; every converted profile is compiled by the
 * runtime's own seccomp compiler, so a malformed result fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/strv.h"
#include "engine/defaults.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PODMAN_PROFILE "/usr/share/containers/seccomp.json"

static const struct cell_defaults_host amd64_6_1 = {"amd64", 6, 1};

/* ---- helpers -------------------------------------------------------------- */

static char **strv(const char *first, ...)
{
    char **v = calloc(1, sizeof *v);
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        assert_int_equal(cell_strv_push(&v, s), 0);
    va_end(ap);
    return v;
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

static void assert_strv(char *const *got, char *const *want)
{
    size_t n = cell_strv_len(want);
    for (size_t i = 0; i < n && got[i]; i++)
        assert_string_equal(got[i], want[i]);
    assert_int_equal(cell_strv_len(got), n);
}

/* The effective capabilities of this process, as a count. */
static size_t own_cap_count(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {0};
    assert_int_equal(syscall(SYS_capget, &hdr, d), 0);
    return (size_t)__builtin_popcount(d[0].effective) + (size_t)__builtin_popcount(d[1].effective);
}

static char **caps_ok(char **add, char **drop, bool privileged)
{
    char **out = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_defaults_apply_caps(add, drop, privileged, &out, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    cell_strv_free(add);
    cell_strv_free(drop);
    return out;
}

static void caps_fail(char **add, char **drop, bool privileged, const char *msg)
{
    char **out = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_defaults_apply_caps(add, drop, privileged, &out, &err) < 0);
    assert_null(out);
    assert_string_equal(cell_error_text(&err), msg);
    cell_strv_free(add);
    cell_strv_free(drop);
}

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    return j;
}

static json_t *convert_ok(const char *profile, char **caps, const struct cell_defaults_host *h)
{
    json_t *p = load(profile);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *out = cell_defaults_seccomp_convert(p, caps, h, "prof.json", &err);
    if (!out)
        fail_msg("%s", cell_error_text(&err));
    json_decref(p);
    cell_strv_free(caps);
    return out;
}

static void convert_fail(const char *profile, const char *msg)
{
    json_t *p = load(profile);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_null(cell_defaults_seccomp_convert(p, NULL, &amd64_6_1, "prof.json", &err));
    assert_string_equal(cell_error_text(&err), msg);
    json_decref(p);
}

/* The names of the rules of an OCI profile, one string: "a,b|c|d". */
static char *rule_names(const json_t *sc)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    size_t i, j;
    json_t *r, *name;
    json_array_foreach(json_object_get(sc, "syscalls"), i, r)
    {
        json_array_foreach(json_object_get(r, "names"), j, name)
        {
            fprintf(f, "%s%s", j ? "," : (i ? "|" : ""), json_string_value(name));
        }
    }
    fclose(f);
    return s;
}

static void assert_rules(const json_t *sc, const char *want)
{
    _cleanup_free_ char *got = rule_names(sc);
    assert_string_equal(got, want);
}

/* How a syscall fares: "allow" (a rule allows it whatever its arguments),
 * "args" (allowed for some arguments only), "errno N" (a rule refuses
 * it), or "default" (no rule names it: defaultAction). */
static const char *fate(const json_t *sc, const char *syscall, char buf[32])
{
    size_t i, j;
    json_t *r, *name;
    const char *found = "default";
    json_array_foreach(json_object_get(sc, "syscalls"), i, r)
    {
        json_array_foreach(json_object_get(r, "names"), j, name)
        {
            if (strcmp(json_string_value(name), syscall) != 0)
                continue;
            const char *action = json_string_value(json_object_get(r, "action"));
            if (strcmp(action, "SCMP_ACT_ALLOW") != 0) {
                snprintf(buf, 32, "errno %d",
                         (int)json_integer_value(json_object_get(r, "errnoRet")));
                return buf;
            }
            if (json_array_size(json_object_get(r, "args")) == 0)
                return "allow";
            found = "args";
        }
    }
    return found;
}

static void assert_fate(const json_t *sc, const char *syscall, const char *want)
{
    char buf[32];
    const char *got = fate(sc, syscall, buf);
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s, expected %s", syscall, got, want);
}

/* What the runtime does with linux.seccomp: the spec parser, then the
 * compiler. 0, or -1 with the message in msg. */
static int runtime_compiles(const json_t *sc, char *msg, size_t n)
{
    json_t *doc = json_pack("{s:s,s:{s:s},s:{s:O}}", "ociVersion", "1.0.2", "root", "path",
                            "rootfs", "linux", "seccomp", sc);
    _cleanup_free_ char *text = json_dumps(doc, 0);
    json_decref(doc);
    struct cell_spec *spec = NULL;
    struct cell_seccomp *prog = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    int r = cell_spec_parse(text, strlen(text), &spec, &err);
    if (r == 0)
        r = cell_seccomp_prepare(spec, &prog, &err);
    snprintf(msg, n, "%s", r < 0 ? cell_error_text(&err) : "");
    if (r == 0 && !prog)
        r = -1, snprintf(msg, n, "no filter");
    cell_seccomp_free(prog);
    if (spec)
        cell_spec_free(spec);
    return r < 0 ? -1 : 0;
}

static void assert_compiles(const json_t *sc)
{
    char msg[512];
    if (runtime_compiles(sc, msg, sizeof msg) < 0)
        fail_msg("the runtime refuses the profile: %s", msg);
}

/* ---- capabilities --------------------------------------------------------- */

static void test_default_caps_are_dockers_fourteen(void **state)
{
    (void)state;
    _cleanup_strv_ char **caps = cell_defaults_caps();
    _cleanup_strv_ char **want =
        strv("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
             "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
             "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL);
    assert_strv(caps, want);
}

static void test_no_flags_give_the_defaults(void **state)
{
    (void)state;
    _cleanup_strv_ char **got = caps_ok(NULL, NULL, false);
    _cleanup_strv_ char **want = cell_defaults_caps();
    assert_strv(got, want);
}

/* Names in any case, with or without CAP_; an added one goes last, once. */
static void test_cap_add_and_drop_take_any_spelling(void **state)
{
    (void)state;
    _cleanup_strv_ char **got =
        caps_ok(strv("sys_admin", "CAP_NET_ADMIN", "Net_Admin", "chown", NULL),
                strv("cap_mknod", "NET_RAW", "Audit_Write", NULL), false);
    _cleanup_strv_ char **want =
        strv("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID",
             "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
             "CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", NULL);
    assert_strv(got, want);
}

/* docker run --cap-drop ALL --cap-add NET_BIND_SERVICE: only that one. */
static void test_drop_all_then_add_gives_only_the_added(void **state)
{
    (void)state;
    _cleanup_strv_ char **got =
        caps_ok(strv("net_bind_service", "CHOWN", NULL), strv("all", NULL), false);
    _cleanup_strv_ char **want = strv("CAP_NET_BIND_SERVICE", "CAP_CHOWN", NULL);
    assert_strv(got, want);
    _cleanup_strv_ char **none = caps_ok(NULL, strv("ALL", NULL), false);
    assert_int_equal(cell_strv_len(none), 0);
}

/* docker run --cap-add ALL --cap-drop MKNOD: everything this process has
 * but MKNOD; and --cap-add ALL wins over --cap-drop ALL. */
static void test_add_all_then_drop(void **state)
{
    (void)state;
    _cleanup_strv_ char **got = caps_ok(strv("ALL", NULL), strv("mknod", NULL), false);
    assert_int_equal(cell_strv_len(got), own_cap_count() - 1);
    assert_false(strv_has(got, "CAP_MKNOD"));
    assert_true(strv_has(got, "CAP_SYS_ADMIN"));
    assert_string_equal(got[0], "CAP_CHOWN");
    _cleanup_strv_ char **both = caps_ok(strv("ALL", NULL), strv("ALL", NULL), false);
    assert_int_equal(cell_strv_len(both), own_cap_count());
}

static void test_privileged_gets_every_capability(void **state)
{
    (void)state;
    _cleanup_strv_ char **got = caps_ok(NULL, strv("ALL", NULL), true);
    assert_int_equal(cell_strv_len(got), own_cap_count());
    assert_true(strv_has(got, "CAP_SYS_ADMIN"));
    assert_true(strv_has(got, "CAP_SYS_MODULE"));
    assert_true(strv_has(got, "CAP_MKNOD"));
}

static void test_unknown_capability_is_one_line(void **state)
{
    (void)state;
    caps_fail(strv("foo", NULL), NULL, false, "--cap-add: unknown capability: \"CAP_FOO\"");
    caps_fail(NULL, strv("CHOWN", "cap_bar", NULL), false,
              "--cap-drop: unknown capability: \"CAP_BAR\"");
    /* Docker checks the names before it looks at --privileged. */
    caps_fail(strv("CAP_NOPE", NULL), NULL, true, "--cap-add: unknown capability: \"CAP_NOPE\"");
    caps_fail(strv("", NULL), NULL, false, "--cap-add: unknown capability: \"CAP_\"");
}

/* A capability this process lacks cannot be given: in a child that drops
 * CAP_SYS_MODULE from its effective set, --cap-add SYS_MODULE fails. */
static void test_capability_the_process_lacks_is_refused(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {0};
        if (syscall(SYS_capget, &hdr, d) < 0)
            _exit(3);
        d[0].effective &= ~(1U << CAP_SYS_MODULE);
        if (syscall(SYS_capset, &hdr, d) < 0)
            _exit(3);
        char *add[] = {"sys_module", NULL}, **out = NULL;
        cell_err_t err = CELL_ERR_INIT;
        if (cell_defaults_apply_caps(add, NULL, false, &out, &err) == 0)
            _exit(1);
        const char *want = "--cap-add: capability not supported by your kernel or not "
                           "available in the current environment: \"CAP_SYS_MODULE\"";
        _exit(strcmp(cell_error_text(&err), want) == 0 ? 0 : 2);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- masked and read-only paths ------------------------------------------- */

static void test_masked_and_readonly_paths(void **state)
{
    (void)state;
    static const char *const masked[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
    };
    json_t *m = cell_defaults_masked_paths();
    assert_non_null(m);
    assert_true(json_array_size(m) >= ARRAY_SIZE(masked));
    for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
        assert_string_equal(json_string_value(json_array_get(m, i)), masked[i]);
    /* The rest: each CPU's thermal_throttle directory, where it exists. */
    for (size_t i = ARRAY_SIZE(masked); i < json_array_size(m); i++) {
        const char *p = json_string_value(json_array_get(m, i));
        unsigned cpu;
        char tail[32];
        struct stat st;
        assert_int_equal(sscanf(p, "/sys/devices/system/cpu/cpu%u/%31s", &cpu, tail), 2);
        assert_string_equal(tail, "thermal_throttle");
        assert_int_equal(stat(p, &st), 0);
    }
    json_decref(m);
    json_t *ro = cell_defaults_readonly_paths();
    _cleanup_free_ char *s = json_dumps(ro, JSON_COMPACT);
    assert_string_equal(s, "[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
                           "\"/proc/sysrq-trigger\"]");
    json_decref(ro);
}

/* ---- the converter -------------------------------------------------------- */

#define HEAD "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"

static void test_includes_caps_need_every_capability(void **state)
{
    (void)state;
    const char *p = HEAD "\"syscalls\":["
                         "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                         "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
                         "{\"names\":[\"kcmp\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_SYS_PTRACE\"]}}]}";
    json_t *none = convert_ok(p, strv("CAP_CHOWN", NULL), &amd64_6_1);
    assert_rules(none, "read");
    json_t *admin = convert_ok(p, strv("CAP_SYS_ADMIN", NULL), &amd64_6_1);
    assert_rules(admin, "read|mount");
    json_t *both = convert_ok(p, strv("CAP_SYS_PTRACE", "CAP_SYS_ADMIN", NULL), &amd64_6_1);
    assert_rules(both, "read|mount|kcmp");
    assert_compiles(both);
    json_decref(none);
    json_decref(admin);
    json_decref(both);
}

static void test_excludes_caps_any_capability(void **state)
{
    (void)state;
    const char *p =
        HEAD "\"syscalls\":[{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\","
             "\"errnoRet\":38,\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_BPF\"]}}]}";
    json_t *kept = convert_ok(p, NULL, &amd64_6_1);
    assert_rules(kept, "clone3");
    json_t *dropped = convert_ok(p, strv("CAP_BPF", NULL), &amd64_6_1);
    assert_rules(dropped, "");
    json_decref(kept);
    json_decref(dropped);
}

static void test_arches_in_includes_and_excludes(void **state)
{
    (void)state;
    const struct cell_defaults_host arm64 = {"arm64", 6, 1};
    const char *p = HEAD "\"syscalls\":["
                         "{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"arches\":[\"amd64\",\"x32\"]}},"
                         "{\"names\":[\"set_tls\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"arches\":[\"arm\",\"arm64\"]}},"
                         "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"excludes\":{\"arches\":[\"s390x\",\"arm64\"]}}]}";
    json_t *x = convert_ok(p, NULL, &amd64_6_1);
    assert_rules(x, "arch_prctl|clone");
    json_t *a = convert_ok(p, NULL, &arm64);
    assert_rules(a, "set_tls");
    json_decref(x);
    json_decref(a);
}

static void test_min_kernel_against_the_host(void **state)
{
    (void)state;
    const struct cell_defaults_host k47 = {"amd64", 4, 7}, k48 = {"amd64", 4, 8},
                                    k310 = {"amd64", 3, 10};
    const char *p = HEAD "\"syscalls\":["
                         "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"minKernel\":\"4.8\"}},"
                         "{\"names\":[\"old\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"excludes\":{\"minKernel\":\"4.0\"}},"
                         "{\"names\":[\"any\"],\"action\":\"SCMP_ACT_ALLOW\","
                         "\"includes\":{\"minKernel\":\"\"}}]}";
    json_t *a = convert_ok(p, NULL, &k47), *b = convert_ok(p, NULL, &k48),
           *c = convert_ok(p, NULL, &k310);
    assert_rules(a, "any");
    assert_rules(b, "ptrace|any");
    assert_rules(c, "old|any");
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* What stays of a rule: names, action, errnoRet, args; "name" becomes
 * names; comment, includes and excludes go. */
static void test_rule_keeps_only_oci_members(void **state)
{
    (void)state;
    const char *p =
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"flags\":"
        "[\"SECCOMP_FILTER_FLAG_LOG\"],\"archMap\":[{\"architecture\":\"SCMP_ARCH_AARCH64\","
        "\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},{\"architecture\":\"SCMP_ARCH_X86_64\","
        "\"subArchitectures\":[\"SCMP_ARCH_X86\"]}],\"syscalls\":["
        "{\"name\":\"mkdir\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,\"comment\":\"c\","
        "\"args\":[],\"includes\":{},\"excludes\":{}},"
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
        "\"value\":4294967295,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}";
    json_t *out = convert_ok(p, NULL, &amd64_6_1);
    _cleanup_free_ char *s = json_dumps(out, JSON_COMPACT);
    assert_string_equal(
        s, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"flags\":"
           "[\"SECCOMP_FILTER_FLAG_LOG\"],\"architectures\":[\"SCMP_ARCH_X86_64\","
           "\"SCMP_ARCH_X86\"],\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":"
           "\"SCMP_ACT_ERRNO\",\"errnoRet\":18},{\"names\":[\"personality\"],\"action\":"
           "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":4294967295,\"valueTwo\":0,"
           "\"op\":\"SCMP_CMP_EQ\"}]}]}");
    assert_compiles(out);
    json_decref(out);
}

static void test_arch_map_for_an_arch_it_does_not_list(void **state)
{
    (void)state;
    const struct cell_defaults_host ppc = {"ppc64le", 6, 1};
    json_t *out = convert_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":"
                             "\"SCMP_ARCH_X86_64\",\"subArchitectures\":null}],\"syscalls\":[]}",
                             NULL, &ppc);
    assert_int_equal(json_array_size(json_object_get(out, "architectures")), 0);
    json_decref(out);
}

/* Docker reads {} (no default action, no rules) as "no filter". */
static void test_empty_profile_means_no_filter(void **state)
{
    (void)state;
    json_t *out = convert_ok("{}", NULL, &amd64_6_1);
    assert_true(json_is_null(out));
    json_decref(out);
    out = convert_ok("{\"defaultAction\":\"\",\"syscalls\":null}", NULL, &amd64_6_1);
    assert_true(json_is_null(out));
    json_decref(out);
}

static void test_bad_profiles_name_the_file_and_field(void **state)
{
    (void)state;
    convert_fail("[]", "prof.json: expected a JSON object");
    convert_fail("{\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                 "prof.json: defaultAction: expected a string");
    convert_fail("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                 "prof.json: defaultAction: unknown action \"SCMP_ACT_NOPE\"");
    convert_fail(HEAD "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
                 "prof.json: archMap: both 'architectures' and 'archMap' are specified, use "
                 "either 'architectures' or 'archMap'");
    convert_fail(HEAD "\"syscalls\":{}}", "prof.json: syscalls: expected an array");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                      "{\"names\":[\"b\"],\"action\":\"ALLOW\"}]}",
                 "prof.json: syscalls[1].action: unknown action \"ALLOW\"");
    convert_fail(HEAD "\"syscalls\":[{\"name\":\"a\",\"names\":[\"b\"],\"action\":"
                      "\"SCMP_ACT_ALLOW\"}]}",
                 "prof.json: syscalls[0]: both 'name' and 'names' are specified, use either "
                 "'name' or 'names'");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                 "prof.json: syscalls[0].names: expected a non-empty array of strings");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\",1],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                 "prof.json: syscalls[0].names: expected an array of strings ([1] is not a "
                 "string)");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\","
                      "\"errnoRet\":-1}]}",
                 "prof.json: syscalls[0].errnoRet: expected an errno between 0 and 65535");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                 "prof.json: syscalls[0].args[0].index: expected an integer between 0 and 5");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"args\":[{\"index\":0,\"value\":1,\"op\":\"EQ\"}]}]}",
                 "prof.json: syscalls[0].args[0].op: unknown operator \"EQ\"");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                 "prof.json: syscalls[0].args[0].value: expected an integer between 0 and "
                 "2^64-1");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"includes\":{\"caps\":\"CAP_X\"}}]}",
                 "prof.json: syscalls[0].includes.caps: expected an array of strings");
    /* A bad condition is an error even in a rule another condition drops. */
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"includes\":{\"arches\":[\"s390\"],\"minKernel\":\"4\"}}]}",
                 "prof.json: syscalls[0].includes.minKernel: invalid kernel version \"4\", "
                 "expected \"<kernel>.<major>\"");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"excludes\":{\"minKernel\":\"4.8.1\"}}]}",
                 "prof.json: syscalls[0].excludes.minKernel: invalid kernel version \"4.8.1\", "
                 "expected \"<kernel>.<major>\"");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"excludes\":{\"minKernel\":\"0.0\"}}]}",
                 "prof.json: syscalls[0].excludes.minKernel: invalid kernel version \"0.0\": "
                 "version cannot be 0.0");
    convert_fail(HEAD "\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
                      "\"excludes\":{\"minKernel\":\"4.256\"}}]}",
                 "prof.json: syscalls[0].excludes.minKernel: invalid kernel version \"4.256\": "
                 "256 is out of range");
}

/* podman's default profile is in Docker's format too: it converts, and the
 * result compiles. */
static void test_podman_profile_converts_and_compiles(void **state)
{
    (void)state;
    json_error_t je;
    json_t *p = json_load_file(PODMAN_PROFILE, 0, &je);
    if (!p)
        fail_msg("%s: %s (podman is in scripts/deps.sh)", PODMAN_PROFILE, je.text);
    _cleanup_strv_ char **caps = cell_defaults_caps();
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *out = cell_defaults_seccomp_convert(p, caps, &amd64_6_1, PODMAN_PROFILE, &err);
    if (!out)
        fail_msg("%s", cell_error_text(&err));
    assert_fate(out, "read", "allow");
    assert_fate(out, "sethostname", "errno 1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "architectures"), 2)),
                        "SCMP_ARCH_X32");
    assert_compiles(out);
    json_decref(out);
    json_decref(p);
}

/* --security-opt seccomp=FILE: a missing file, bad JSON, a bad field and a
 * good profile, each named by its path. */
static void test_profile_from_a_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/cell-defaults-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/p.json", dir);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char want[256];
    assert_null(cell_defaults_seccomp_from_file(path, NULL, &err));
    snprintf(want, sizeof want, "seccomp profile %s: No such file or directory", path);
    assert_string_equal(cell_error_text(&err), want);
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [}",
         "line 2 column 16: unexpected token near '}'"},
        {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
         " \"action\": \"SCMP_ACT_ALOW\"}]}",
         "syscalls[0].action: unknown action \"SCMP_ACT_ALOW\""},
        {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
         " \"action\": \"SCMP_ACT_ALLOW\"}]}",
         NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        cell_error_clear(&err);
        json_t *out = cell_defaults_seccomp_from_file(path, NULL, &err);
        if (!cases[i].error) {
            assert_non_null(out);
            assert_fate(out, "read", "allow");
            assert_compiles(out);
            json_decref(out);
            continue;
        }
        assert_null(out);
        snprintf(want, sizeof want, "seccomp profile %s: %s", path, cases[i].error);
        assert_string_equal(cell_error_text(&err), want);
    }
    unlink(path);
    rmdir(dir);
}

/* A compile check that cannot fail proves nothing: spoil one action. */
static void test_a_spoiled_result_does_not_compile(void **state)
{
    (void)state;
    _cleanup_strv_ char **caps = cell_defaults_caps();
    json_t *sc = cell_defaults_seccomp(caps);
    assert_non_null(sc);
    json_object_set_new(json_array_get(json_object_get(sc, "syscalls"), 3), "action",
                        json_string("SCMP_ACT_BOGUS"));
    char msg[512];
    assert_int_equal(runtime_compiles(sc, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "unknown action \"SCMP_ACT_BOGUS\""));
    json_decref(sc);
}

/* ---- Docker's default profile --------------------------------------------- */

static json_t *default_for(char **caps, const struct cell_defaults_host *h)
{
    json_t *p = cell_defaults_seccomp_profile();
    assert_non_null(p);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *out = cell_defaults_seccomp_convert(p, caps, h, "default", &err);
    if (!out)
        fail_msg("%s", cell_error_text(&err));
    json_decref(p);
    cell_strv_free(caps);
    return out;
}

static void test_default_profile_for_default_caps(void **state)
{
    (void)state;
    json_t *sc = default_for(cell_defaults_caps(), &amd64_6_1);
    _cleanup_free_ char *archs = json_dumps(json_object_get(sc, "architectures"), JSON_COMPACT);
    assert_string_equal(archs, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
    assert_string_equal(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ERRNO");
    assert_int_equal(json_integer_value(json_object_get(sc, "defaultErrnoRet")), EPERM);
    static const char *const allowed[] = {
        "read",
        "write",
        "openat",
        "execve",
        "exit_group",
        "mmap",
        "futex",
        "arch_prctl",
        "modify_ldt",
        "chroot",
        "ptrace",
        "process_vm_readv",
        "name_to_handle_at",
        "ioctl",
        "setuid",
        "capset",
        "prctl",
        "seccomp",
        "io_uring_setup" /* not in Docker's list */,
    };
    for (size_t i = 0; i < ARRAY_SIZE(allowed) - 1; i++)
        assert_fate(sc, allowed[i], "allow");
    assert_fate(sc, "io_uring_setup", "default");
    assert_fate(sc, "clone", "args");  /* without namespace flags only */
    assert_fate(sc, "socket", "args"); /* per address family */
    assert_fate(sc, "personality", "args");
    assert_fate(sc, "clone3", "errno 38"); /* ENOSYS: glibc falls back to clone */
    static const char *const refused[] = {
        "mount",
        "umount2",
        "unshare",
        "setns",
        "keyctl",
        "add_key",
        "request_key",
        "kexec_load",
        "kexec_file_load",
        "open_by_handle_at",
        "init_module",
        "finit_module",
        "delete_module",
        "bpf",
        "perf_event_open",
        "reboot",
        "swapon",
        "swapoff",
        "pivot_root",
        "sethostname",
        "syslog",
        "acct",
        "settimeofday",
        "clock_settime",
        "iopl",
        "ioperm",
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "mbind",
        "vhangup",
        "userfaultfd",
        "fsopen",
        "open_tree",
        "move_mount",
        "quotactl",
        "lookup_dcookie",
        "set_tls",
        "s390_runtime_instr",
    };
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
        assert_fate(sc, refused[i], "default");
    assert_compiles(sc);
    json_decref(sc);
}

/* ptrace and process_vm_* are allowed from kernel 4.8 on (before, ptrace
 * could bypass the filter), else only with CAP_SYS_PTRACE. */
static void test_default_profile_ptrace_on_old_kernels(void **state)
{
    (void)state;
    const struct cell_defaults_host k47 = {"amd64", 4, 7};
    json_t *old = default_for(cell_defaults_caps(), &k47);
    assert_fate(old, "ptrace", "default");
    assert_fate(old, "process_vm_writev", "default");
    json_t *traced = default_for(strv("CAP_SYS_PTRACE", NULL), &k47);
    assert_fate(traced, "ptrace", "allow");
    assert_fate(traced, "kcmp", "allow");
    json_decref(old);
    json_decref(traced);
}

static void test_default_profile_with_sys_admin(void **state)
{
    (void)state;
    json_t *sc = default_for(strv("CAP_SYS_ADMIN", NULL), &amd64_6_1);
    static const char *const allowed[] = {
        "mount",           "umount2",     "unshare", "setns",      "clone",  "clone3",  "bpf",
        "perf_event_open", "sethostname", "fsopen",  "move_mount", "syslog", "quotactl"};
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
        assert_fate(sc, allowed[i], "allow");
    /* Still refused: these need other capabilities. */
    assert_fate(sc, "chroot", "default");
    assert_fate(sc, "init_module", "default");
    assert_fate(sc, "keyctl", "default");
    assert_compiles(sc);
    json_decref(sc);
}

static void test_default_profile_per_capability(void **state)
{
    (void)state;
    static const struct {
        const char *cap, *syscall;
    } pairs[] = {
        {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
        {"CAP_SYS_BOOT", "reboot"},
        {"CAP_SYS_CHROOT", "chroot"},
        {"CAP_SYS_MODULE", "finit_module"},
        {"CAP_SYS_PACCT", "acct"},
        {"CAP_SYS_PTRACE", "pidfd_getfd"},
        {"CAP_SYS_RAWIO", "iopl"},
        {"CAP_SYS_TIME", "clock_settime"},
        {"CAP_SYS_TTY_CONFIG", "vhangup"},
        {"CAP_SYS_NICE", "mbind"},
        {"CAP_SYSLOG", "syslog"},
        {"CAP_BPF", "bpf"},
        {"CAP_PERFMON", "perf_event_open"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
        json_t *without = default_for(NULL, &amd64_6_1);
        json_t *with = default_for(strv(pairs[i].cap, NULL), &amd64_6_1);
        assert_fate(without, pairs[i].syscall, "default");
        assert_fate(with, pairs[i].syscall, "allow");
        json_decref(without);
        json_decref(with);
    }
}

/* The same as the form the engine calls, on this host. */
static void test_default_profile_on_this_host(void **state)
{
    (void)state;
    _cleanup_strv_ char **caps = cell_defaults_caps();
    struct cell_defaults_host h;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_defaults_host(&h, &err), 0);
    assert_string_equal(h.arch, "amd64");
    assert_true(h.kernel >= 4);
    json_t *a = cell_defaults_seccomp(caps);
    json_t *b = default_for(cell_defaults_caps(), &h);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_caps_are_dockers_fourteen),
        cmocka_unit_test(test_no_flags_give_the_defaults),
        cmocka_unit_test(test_cap_add_and_drop_take_any_spelling),
        cmocka_unit_test(test_drop_all_then_add_gives_only_the_added),
        cmocka_unit_test(test_add_all_then_drop),
        cmocka_unit_test(test_privileged_gets_every_capability),
        cmocka_unit_test(test_unknown_capability_is_one_line),
        cmocka_unit_test(test_capability_the_process_lacks_is_refused),
        cmocka_unit_test(test_masked_and_readonly_paths),
        cmocka_unit_test(test_includes_caps_need_every_capability),
        cmocka_unit_test(test_excludes_caps_any_capability),
        cmocka_unit_test(test_arches_in_includes_and_excludes),
        cmocka_unit_test(test_min_kernel_against_the_host),
        cmocka_unit_test(test_rule_keeps_only_oci_members),
        cmocka_unit_test(test_arch_map_for_an_arch_it_does_not_list),
        cmocka_unit_test(test_empty_profile_means_no_filter),
        cmocka_unit_test(test_bad_profiles_name_the_file_and_field),
        cmocka_unit_test(test_podman_profile_converts_and_compiles),
        cmocka_unit_test(test_profile_from_a_file),
        cmocka_unit_test(test_a_spoiled_result_does_not_compile),
        cmocka_unit_test(test_default_profile_for_default_caps),
        cmocka_unit_test(test_default_profile_ptrace_on_old_kernels),
        cmocka_unit_test(test_default_profile_with_sys_admin),
        cmocka_unit_test(test_default_profile_per_capability),
        cmocka_unit_test(test_default_profile_on_this_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

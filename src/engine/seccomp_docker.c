/* Docker's seccomp profile format -> linux.seccomp (config-linux.md
 * "Seccomp"). Docker's format is the OCI object plus conditions: archMap
 * (an arch and its sub-arches), and per rule "includes"/"excludes" on the
 * container's capabilities, the host's arch and the kernel version. The
 * conditions are resolved here, once, for one container on this host, the
 * way moby's profiles/seccomp resolves them; what remains is plain OCI.
 *
 * The whole profile is checked, not only the rules that stay: Docker reads
 * the file completely before it evaluates a condition, so a malformed rule
 * is an error on every host. */
#include "engine/defaults.h"

#include "base/cleanup.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

/* One conversion: its inputs and where errors go. */
struct conv {
    char *const *caps;
    const struct cell_defaults_host *host;
    const char *what;
    cell_err_t *err;
};

/* "<what>: <field>: <message>" */
__attribute__((format(printf, 3, 4))) static int fail(const struct conv *c, const char *field,
                                                      const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cell_error(c->err, 0, "%s: %s: %s", c->what, field, msg);
}

static int nomem(const struct conv *c)
{
    return cell_error(c->err, ENOMEM, "%s", c->what);
}

/* A member, with JSON null read as absent (Go's decoder does the same). */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

static const char *const actions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

static const char *const operators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

/* ---- checks of single values ---------------------------------------------- */

/* An array of strings, or absent. */
static int check_strings(const struct conv *c, const json_t *v, const char *field)
{
    size_t i;
    json_t *s;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, field, "expected an array of strings");
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s))
            return fail(c, field, "expected an array of strings ([%zu] is not a string)", i);
    }
    return 0;
}

static bool array_has(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

static int check_name(const struct conv *c, const json_t *v, const char *const *names, size_t n,
                      const char *field, const char *kind)
{
    if (!json_is_string(v))
        return fail(c, field, "expected a string");
    if (!in_list(names, n, json_string_value(v)))
        return fail(c, field, "unknown %s \"%s\"", kind, json_string_value(v));
    return 0;
}

/* errnoRet / defaultErrnoRet: the 16 bits of SECCOMP_RET_DATA. */
static int check_errno(const struct conv *c, const json_t *v, const char *field)
{
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffff))
        return fail(c, field, "expected an errno between 0 and 65535");
    return 0;
}

static bool is_u64(const json_t *v)
{
    uint64_t x;
    return (json_is_integer(v) && json_integer_value(v) >= 0) || cell_spec_json_u64(v, &x) == 0;
}

/* "<kernel>.<major>", each 0-255, not 0.0 (moby's KernelVersion); "" is
 * no condition. *present says whether there is one. */
static int parse_kernel(const struct conv *c, const json_t *v, const char *field,
                        unsigned version[2], bool *present)
{
    *present = false;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return fail(c, field, "invalid kernel version, expected \"<kernel>.<major>\"");
    const char *s = json_string_value(v);
    if (!*s)
        return 0;
    unsigned parts[2] = {0, 0};
    const char *p = s;
    for (int i = 0; i < 2; i++) {
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || (i == 0 && p[digits] != '.') || (i == 1 && p[digits]))
            return fail(c, field, "invalid kernel version \"%s\", expected \"<kernel>.<major>\"",
                        s);
        parts[i] = (unsigned)strtoul(p, NULL, 10);
        if (parts[i] > 255)
            return fail(c, field, "invalid kernel version \"%s\": %u is out of range", s, parts[i]);
        p += digits + 1;
    }
    if (parts[0] == 0 && parts[1] == 0)
        return fail(c, field, "invalid kernel version \"%s\": version cannot be 0.0", s);
    version[0] = parts[0];
    version[1] = parts[1];
    *present = true;
    return 0;
}

static bool kernel_at_least(const struct conv *c, const unsigned v[2])
{
    return c->host->kernel > v[0] || (c->host->kernel == v[0] && c->host->major >= v[1]);
}

/* ---- includes / excludes -------------------------------------------------- */

struct filter {
    json_t *caps, *arches;
    bool has_kernel;
    unsigned kernel[2];
};

static int parse_filter(const struct conv *c, const json_t *rule, const char *key,
                        const char *where, struct filter *f)
{
    char field[96];
    json_t *obj = member(rule, key);
    *f = (struct filter){0};
    if (!obj)
        return 0;
    snprintf(field, sizeof field, "%s.%s", where, key);
    if (!json_is_object(obj))
        return fail(c, field, "expected an object");
    f->caps = member(obj, "caps");
    f->arches = member(obj, "arches");
    char sub[128];
    snprintf(sub, sizeof sub, "%s.caps", field);
    int r = check_strings(c, f->caps, sub);
    if (r < 0)
        return r;
    snprintf(sub, sizeof sub, "%s.arches", field);
    if ((r = check_strings(c, f->arches, sub)) < 0)
        return r;
    snprintf(sub, sizeof sub, "%s.minKernel", field);
    return parse_kernel(c, member(obj, "minKernel"), sub, f->kernel, &f->has_kernel);
}

/* excludes: any one condition that holds leaves the rule out. */
static bool excluded(const struct conv *c, const struct filter *f)
{
    if (f->arches && array_has(f->arches, c->host->arch))
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(f->caps, i, v)
    {
        if (strv_has(c->caps, json_string_value(v)))
            return true;
    }
    return f->has_kernel && kernel_at_least(c, f->kernel);
}

/* includes: every condition must hold for the rule to stay. */
static bool included(const struct conv *c, const struct filter *f)
{
    if (f->arches && json_array_size(f->arches) && !array_has(f->arches, c->host->arch))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(f->caps, i, v)
    {
        if (!strv_has(c->caps, json_string_value(v)))
            return false;
    }
    return !f->has_kernel || kernel_at_least(c, f->kernel);
}

/* ---- one rule ------------------------------------------------------------- */

static int check_arg(const struct conv *c, const json_t *arg, const char *field)
{
    char sub[128];
    json_t *index = member(arg, "index"), *two = member(arg, "valueTwo");
    if (!json_is_object(arg))
        return fail(c, field, "expected an object");
    snprintf(sub, sizeof sub, "%s.index", field);
    if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5)
        return fail(c, sub, "expected an integer between 0 and 5");
    snprintf(sub, sizeof sub, "%s.value", field);
    if (!is_u64(member(arg, "value")))
        return fail(c, sub, "expected an integer between 0 and 2^64-1");
    snprintf(sub, sizeof sub, "%s.valueTwo", field);
    if (two && !is_u64(two))
        return fail(c, sub, "expected an integer between 0 and 2^64-1");
    snprintf(sub, sizeof sub, "%s.op", field);
    return check_name(c, member(arg, "op"), operators, ARRAY_SIZE(operators), sub, "operator");
}

static int check_args(const struct conv *c, const json_t *args, const char *where)
{
    char field[96];
    snprintf(field, sizeof field, "%s.args", where);
    if (args && !json_is_array(args))
        return fail(c, field, "expected an array");
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        snprintf(field, sizeof field, "%s.args[%zu]", where, i);
        int r = check_arg(c, a, field);
        if (r < 0)
            return r;
    }
    return 0;
}

/* "names", or the older one-name "name" (not both), as an array. */
static int rule_names(const struct conv *c, const json_t *rule, const char *where, json_t **out)
{
    char field[96];
    json_t *names = member(rule, "names"), *name = member(rule, "name");
    bool has_names = json_is_array(names) && json_array_size(names) > 0;
    if (name && has_names)
        return fail(c, where,
                    "both 'name' and 'names' are specified, use either 'name' or 'names'");
    if (name) {
        snprintf(field, sizeof field, "%s.name", where);
        if (!json_is_string(name) || !*json_string_value(name))
            return fail(c, field, "expected a syscall name");
        *out = json_pack("[O]", name);
        return *out ? 0 : nomem(c);
    }
    snprintf(field, sizeof field, "%s.names", where);
    int r = check_strings(c, names, field);
    if (r < 0)
        return r;
    if (!has_names)
        return fail(c, field, "expected a non-empty array of strings");
    *out = json_incref(names);
    return 0;
}

/* The OCI rule: names, action, errnoRet and args, nothing else. */
static int oci_rule(const struct conv *c, const json_t *rule, const char *where, json_t **out)
{
    char field[96];
    json_t *action = member(rule, "action"), *errno_ret = member(rule, "errnoRet");
    json_t *args = member(rule, "args"), *names = NULL;
    snprintf(field, sizeof field, "%s.action", where);
    int r = check_name(c, action, actions, ARRAY_SIZE(actions), field, "action");
    snprintf(field, sizeof field, "%s.errnoRet", where);
    if (r < 0 || (r = check_errno(c, errno_ret, field)) < 0 ||
        (r = check_args(c, args, where)) < 0 || (r = rule_names(c, rule, where, &names)) < 0)
        return r;
    json_t *o = json_pack("{s:o,s:O}", "names", names, "action", action);
    if (o && errno_ret && json_object_set(o, "errnoRet", errno_ret) < 0)
        json_decref(TAKE_PTR(o));
    if (o && args && json_array_size(args) && json_object_set_new(o, "args", json_deep_copy(args)))
        json_decref(TAKE_PTR(o));
    if (!o)
        return nomem(c);
    *out = o;
    return 0;
}

/* Adds the rule to out when its conditions hold for this container. */
static int add_rule(const struct conv *c, const json_t *rule, size_t idx, json_t *out)
{
    char where[48];
    snprintf(where, sizeof where, "syscalls[%zu]", idx);
    if (!json_is_object(rule))
        return fail(c, where, "expected an object");
    struct filter inc, exc;
    json_t *o = NULL;
    int r = parse_filter(c, rule, "includes", where, &inc);
    if (r < 0 || (r = parse_filter(c, rule, "excludes", where, &exc)) < 0 ||
        (r = oci_rule(c, rule, where, &o)) < 0)
        return r;
    if (excluded(c, &exc) || !included(c, &inc)) {
        json_decref(o);
        return 0;
    }
    return json_array_append_new(out, o) < 0 ? nomem(c) : 0;
}

static int add_rules(const struct conv *c, const json_t *rules, json_t *out)
{
    json_t *syscalls = json_array();
    if (!syscalls || json_object_set_new(out, "syscalls", syscalls) < 0)
        return nomem(c);
    if (rules && !json_is_array(rules))
        return fail(c, "syscalls", "expected an array");
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        int r = add_rule(c, rule, i, syscalls);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- the profile's header ------------------------------------------------- */

/* archMap: the entry for this build's arch gives the arch and its
 * sub-arches; a profile for other arches only yields none. */
static const struct {
    const char *docker, *scmp;
} arch_names[] = {
    {"amd64", "SCMP_ARCH_X86_64"},    {"x86", "SCMP_ARCH_X86"},
    {"arm64", "SCMP_ARCH_AARCH64"},   {"arm", "SCMP_ARCH_ARM"},
    {"ppc64le", "SCMP_ARCH_PPC64LE"}, {"ppc64", "SCMP_ARCH_PPC64"},
    {"s390x", "SCMP_ARCH_S390X"},     {"s390", "SCMP_ARCH_S390"},
    {"riscv64", "SCMP_ARCH_RISCV64"}, {"loong64", "SCMP_ARCH_LOONGARCH64"},
    {"mips64", "SCMP_ARCH_MIPS64"},   {"mipsel64", "SCMP_ARCH_MIPSEL64"},
    {"mipsle", "SCMP_ARCH_MIPSEL"},
};

static const char *scmp_arch(const char *docker)
{
    for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
        if (strcmp(arch_names[i].docker, docker) == 0)
            return arch_names[i].scmp;
    return NULL;
}

static int check_arch_entry(const struct conv *c, const json_t *e, size_t i)
{
    char field[64];
    snprintf(field, sizeof field, "archMap[%zu]", i);
    if (!json_is_object(e))
        return fail(c, field, "expected an object");
    snprintf(field, sizeof field, "archMap[%zu].architecture", i);
    if (!json_is_string(member(e, "architecture")))
        return fail(c, field, "expected a string");
    snprintf(field, sizeof field, "archMap[%zu].subArchitectures", i);
    return check_strings(c, member(e, "subArchitectures"), field);
}

static int arch_map(const struct conv *c, const json_t *map, json_t *out)
{
    const char *native = scmp_arch(c->host->arch);
    json_t *archs = json_array(), *e, *found = NULL;
    size_t i;
    if (!archs || json_object_set_new(out, "architectures", archs) < 0)
        return nomem(c);
    if (!json_is_array(map))
        return fail(c, "archMap", "expected an array");
    json_array_foreach(map, i, e)
    {
        int r = check_arch_entry(c, e, i);
        if (r < 0)
            return r;
        if (!found && native && strcmp(json_string_value(member(e, "architecture")), native) == 0)
            found = e;
    }
    if (!found)
        return 0;
    json_t *sub = member(found, "subArchitectures");
    if (json_array_append(archs, member(found, "architecture")) < 0 ||
        (sub && json_array_extend(archs, sub) < 0))
        return nomem(c);
    return 0;
}

static int architectures(const struct conv *c, const json_t *profile, json_t *out)
{
    json_t *archs = member(profile, "architectures"), *map = member(profile, "archMap");
    bool has_archs = json_is_array(archs) && json_array_size(archs);
    bool has_map = json_is_array(map) && json_array_size(map);
    if (has_archs && has_map)
        return fail(c, "archMap",
                    "both 'architectures' and 'archMap' are specified, use either "
                    "'architectures' or 'archMap'");
    if (map)
        return arch_map(c, map, out);
    int r = check_strings(c, archs, "architectures");
    if (r < 0 || !archs)
        return r;
    return json_object_set(out, "architectures", archs) < 0 ? nomem(c) : 0;
}

/* The members that pass to the OCI object as they are. */
static int header(const struct conv *c, const json_t *profile, json_t *out)
{
    json_t *action = member(profile, "defaultAction"), *ret = member(profile, "defaultErrnoRet");
    json_t *flags = member(profile, "flags"), *path = member(profile, "listenerPath");
    json_t *md = member(profile, "listenerMetadata");
    int r = check_name(c, action, actions, ARRAY_SIZE(actions), "defaultAction", "action");
    if (r < 0 || (r = check_errno(c, ret, "defaultErrnoRet")) < 0 ||
        (r = check_strings(c, flags, "flags")) < 0)
        return r;
    if (path && !json_is_string(path))
        return fail(c, "listenerPath", "expected a string");
    if (md && !json_is_string(md))
        return fail(c, "listenerMetadata", "expected a string");
    if (json_object_set(out, "defaultAction", action) < 0 ||
        (ret && json_object_set(out, "defaultErrnoRet", ret) < 0) ||
        (flags && json_object_set_new(out, "flags", json_deep_copy(flags)) < 0) ||
        (path && json_object_set(out, "listenerPath", path) < 0) ||
        (md && json_object_set(out, "listenerMetadata", md) < 0))
        return nomem(c);
    return architectures(c, profile, out);
}

json_t *cell_defaults_seccomp_convert(const json_t *profile, char *const *caps,
                                      const struct cell_defaults_host *host, const char *what,
                                      cell_err_t *err)
{
    struct conv c = {.caps = caps, .host = host, .what = what, .err = err};
    if (!json_is_object(profile)) {
        cell_error(err, 0, "%s: expected a JSON object", what);
        return NULL;
    }
    json_t *rules = member(profile, "syscalls"), *action = member(profile, "defaultAction");
    /* Docker reads a profile without a default action or rules as "no
     * filter", not as an error. */
    bool no_action = !action || (json_is_string(action) && !*json_string_value(action));
    if (no_action && json_array_size(rules) == 0 && (!rules || json_is_array(rules)))
        return json_null();
    json_t *out = json_object();
    if (!out) {
        nomem(&c);
        return NULL;
    }
    if (header(&c, profile, out) < 0 || add_rules(&c, rules, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Docker's name for the arch this was built for (Go's GOARCH, as moby maps
 * it): the arch whose syscalls the container's programs make. */
static const char *build_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__loongarch64)
    return "loong64";
#else
    return "unknown";
#endif
}

int cell_defaults_host(struct cell_defaults_host *h, cell_err_t *err)
{
    struct utsname u;
    if (uname(&u) < 0)
        return cell_error(err, errno, "uname");
    /* "6.1.0-18-amd64", "3.12-1-amd64": the first two numbers. */
    if (sscanf(u.release, "%u.%u", &h->kernel, &h->major) != 2)
        return cell_error(err, 0, "kernel release \"%s\": not <kernel>.<major>...", u.release);
    h->arch = build_arch();
    return 0;
}

json_t *cell_defaults_seccomp_from_docker(const json_t *profile, char *const *caps,
                                          const char *what, cell_err_t *err)
{
    struct cell_defaults_host host;
    if (cell_defaults_host(&host, err) < 0)
        return NULL;
    return cell_defaults_seccomp_convert(profile, caps, &host, what, err);
}

json_t *cell_defaults_seccomp_from_file(const char *path, char *const *caps, cell_err_t *err)
{
    _cleanup_free_ char *what = NULL;
    if (asprintf(&what, "seccomp profile %s", path) < 0) {
        cell_error(err, ENOMEM, "seccomp profile %s", path);
        return NULL;
    }
    errno = 0;
    json_error_t je;
    json_t *profile = json_load_file(path, 0, &je);
    if (!profile) {
        /* jansson says "unable to open <path>: <strerror>" itself; only the
         * errno is kept from that. */
        if (je.line < 1 && errno)
            cell_error(err, errno, "%s", what);
        else
            cell_error(err, 0, "%s: line %d column %d: %s", what, je.line, je.column, je.text);
        return NULL;
    }
    json_t *out = cell_defaults_seccomp_from_docker(profile, caps, what, err);
    json_decref(profile);
    return out;
}

/* linux.seccomp (config-linux.md "Seccomp") through libseccomp. The runtime
 * process turns the JSON into a libseccomp filter and exports its BPF into
 * memory before clone; the init only hands that program to seccomp(2), so
 * no allocation, no JSON and no libseccomp code runs in the container. */
#include "runtime/seccomp/seccomp_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define WHERE "config.json: linux.seccomp"

/* One filter under construction. */
struct build {
    scmp_filter_ctx f;
    uint32_t default_action;
    bool notify;
    cell_err_t *err;
};

static void filter_release(scmp_filter_ctx *f)
{
    if (*f)
        seccomp_release(*f);
}

/* errnoRet: a uint, only for the actions that return one (the spec asks
 * for an error otherwise); absent means EPERM. */
static int action_with_errno(uint32_t base, const char *name, const json_t *ret, const char *where,
                             uint32_t *out, cell_err_t *err)
{
    bool takes_errno = base == SCMP_ACT_ERRNO(0) || base == SCMP_ACT_TRACE(0);
    if (ret && !takes_errno)
        return cell_error(err, 0, "%s: %s does not take an errno", where, name);
    json_int_t e = EPERM;
    if (ret) {
        if (!json_is_integer(ret) || json_integer_value(ret) < 0 ||
            json_integer_value(ret) > 0xffff)
            return cell_error(err, 0, "%s: expected an errno between 0 and 65535", where);
        e = json_integer_value(ret);
    }
    *out = takes_errno ? base | (uint32_t)e : base;
    return 0;
}

static int parse_action(const json_t *name, const json_t *ret, const char *where,
                        const char *ret_key, uint32_t *out, cell_err_t *err)
{
    uint32_t base;
    if (!json_is_string(name))
        return cell_error(err, 0, "%s: expected a string", where);
    if (seccomp_name_lookup(SECCOMP_ACTIONS, json_string_value(name), &base) < 0)
        return cell_error(err, 0, "%s: unknown action \"%s\"", where, json_string_value(name));
    char ret_where[128];
    snprintf(ret_where, sizeof ret_where, WHERE ".%s", ret_key);
    return action_with_errno(base, json_string_value(name), ret, ret_where, out, err);
}

/* A member that must be an array (of anything) when present. */
static int get_array(const json_t *obj, const char *key, const char *where, json_t **out,
                     cell_err_t *err)
{
    *out = json_object_get(obj, key);
    if (*out && !json_is_array(*out))
        return cell_error(err, 0, "%s.%s: expected an array", where, key);
    return 0;
}

static int add_archs(struct build *b, const json_t *sc)
{
    json_t *a;
    int r = get_array(sc, "architectures", WHERE, &a, b->err);
    if (r < 0)
        return r;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        uint32_t arch;
        if (!json_is_string(v) || seccomp_name_lookup(SECCOMP_ARCHS, json_string_value(v), &arch))
            return cell_error(b->err, 0, WHERE ".architectures[%zu]: unknown architecture %s", i,
                              json_is_string(v) ? json_string_value(v) : "(not a string)");
        r = seccomp_arch_add(b->f, arch);
        if (r < 0 && r != -EEXIST)
            return cell_error(b->err, -r, WHERE ".architectures[%zu]: add %s", i,
                              json_string_value(v));
    }
    return 0;
}

static int parse_flags(const json_t *sc, unsigned *out, cell_err_t *err)
{
    json_t *a;
    int r = get_array(sc, "flags", WHERE, &a, err);
    size_t i;
    json_t *v;
    *out = 0;
    if (r < 0)
        return r;
    json_array_foreach(a, i, v)
    {
        uint32_t flag;
        if (!json_is_string(v) || seccomp_name_lookup(SECCOMP_FLAGS, json_string_value(v), &flag))
            return cell_error(err, 0, WHERE ".flags[%zu]: unknown flag %s", i,
                              json_is_string(v) ? json_string_value(v) : "(not a string)");
        *out |= flag;
    }
    return 0;
}

static int parse_arg(const json_t *arg, const char *where, struct scmp_arg_cmp *out,
                     cell_err_t *err)
{
    json_t *index = json_object_get(arg, "index"), *op = json_object_get(arg, "op");
    json_t *two = json_object_get(arg, "valueTwo");
    uint32_t cmp;
    uint64_t value = 0, value_two = 0;
    if (!json_is_object(arg))
        return cell_error(err, 0, "%s: expected an object", where);
    if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5)
        return cell_error(err, 0, "%s.index: expected an integer between 0 and 5", where);
    if (!json_is_string(op) || seccomp_name_lookup(SECCOMP_OPERATORS, json_string_value(op), &cmp))
        return cell_error(err, 0, "%s.op: unknown operator %s", where,
                          json_is_string(op) ? json_string_value(op) : "(not a string)");
    if (cell_spec_json_u64(json_object_get(arg, "value"), &value) < 0 ||
        (two && cell_spec_json_u64(two, &value_two) < 0))
        return cell_error(err, 0, "%s: value and valueTwo must be integers between 0 and 2^64-1",
                          where);
    *out = (struct scmp_arg_cmp){.arg = (unsigned)json_integer_value(index),
                                 .op = (enum scmp_compare)cmp,
                                 .datum_a = value,
                                 .datum_b = value_two};
    return 0;
}

/* libseccomp refuses two comparisons of one argument in a rule; runc then
 * adds one rule per comparison (any of them matches), and so do we. */
static bool repeats_an_argument(const struct scmp_arg_cmp *c, size_t n)
{
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (seen & (1U << c[i].arg))
            return true;
        seen |= 1U << c[i].arg;
    }
    return false;
}

static int add_syscall(struct build *b, const char *name, uint32_t action,
                       const struct scmp_arg_cmp *c, size_t n, const char *where)
{
    int nr = seccomp_syscall_resolve_name(name);
    /* A name this libseccomp does not know is skipped, as runc and crun
     * do: profiles list syscalls of newer kernels. */
    if (nr == __NR_SCMP_ERROR)
        return 0;
    /* libseccomp refuses a rule that repeats the default action; such a
     * rule changes nothing, so it is dropped (runc does the same). */
    if (action == b->default_action)
        return 0;
    int r = 0;
    if (n > 1 && repeats_an_argument(c, n)) {
        for (size_t i = 0; i < n && r == 0; i++)
            r = seccomp_rule_add_array(b->f, action, nr, 1, &c[i]);
    } else {
        r = seccomp_rule_add_array(b->f, action, nr, (unsigned)n, c);
    }
    if (r < 0)
        return cell_error(b->err, -r, "%s: add rule for %s", where, name);
    return 0;
}

static int add_rule_names(struct build *b, const json_t *rule, uint32_t action,
                          const struct scmp_arg_cmp *c, size_t n, const char *where)
{
    json_t *names = json_object_get(rule, "names");
    if (!json_is_array(names) || json_array_size(names) == 0)
        return cell_error(b->err, 0, "%s.names: expected a non-empty array of strings", where);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (!json_is_string(v))
            return cell_error(b->err, 0, "%s.names[%zu]: expected a string", where, i);
        int r = add_syscall(b, json_string_value(v), action, c, n, where);
        if (r < 0)
            return r;
    }
    return 0;
}

static int add_rule(struct build *b, const json_t *rule, size_t idx)
{
    char where[64], key[64];
    snprintf(where, sizeof where, WHERE ".syscalls[%zu]", idx);
    snprintf(key, sizeof key, "syscalls[%zu].errnoRet", idx);
    if (!json_is_object(rule))
        return cell_error(b->err, 0, "%s: expected an object", where);
    uint32_t action;
    json_t *args;
    int r = parse_action(json_object_get(rule, "action"), json_object_get(rule, "errnoRet"), where,
                         key, &action, b->err);
    if (r < 0 || (r = get_array(rule, "args", where, &args, b->err)) < 0)
        return r;
    size_t n = json_array_size(args);
    _cleanup_free_ struct scmp_arg_cmp *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return cell_error(b->err, ENOMEM, "%s", where);
    for (size_t i = 0; i < n; i++) {
        char aw[96];
        snprintf(aw, sizeof aw, "%s.args[%zu]", where, i);
        if ((r = parse_arg(json_array_get(args, i), aw, &c[i], b->err)) < 0)
            return r;
    }
    if (action == SCMP_ACT_NOTIFY)
        b->notify = true;
    return add_rule_names(b, rule, action, c, n, where);
}

static int add_rules(struct build *b, const json_t *sc)
{
    json_t *rules;
    int r = get_array(sc, "syscalls", WHERE, &rules, b->err);
    if (r < 0)
        return r;
    size_t i;
    json_t *v;
    json_array_foreach(rules, i, v)
    {
        if ((r = add_rule(b, v, i)) < 0)
            return r;
    }
    return 0;
}

/* libseccomp writes BPF only to an fd; a memfd keeps it in memory. */
static int export_bpf(struct build *b, struct cell_seccomp *out)
{
    _cleanup_close_ int fd = memfd_create("cell-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return cell_error(b->err, errno, WHERE ": memfd for the filter");
    int r = seccomp_export_bpf(b->f, fd);
    if (r < 0)
        return cell_error(b->err, -r, WHERE ": export the filter");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cell_error(b->err, errno, WHERE ": export the filter");
    size_t len = (size_t)st.st_size / sizeof(struct sock_filter);
    if (len == 0 || len > BPF_MAXINSNS)
        return cell_error(b->err, E2BIG, WHERE ": filter of %zu instructions", len);
    out->insns = malloc((size_t)st.st_size);
    if (!out->insns)
        return cell_error(b->err, ENOMEM, WHERE);
    if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size)
        return cell_error(b->err, errno ? errno : EIO, WHERE ": read the exported filter");
    out->len = (unsigned short)len;
    return 0;
}

/* The flags as seccomp(2) takes them for this filter. */
static int filter_flags(const json_t *sc, bool notify, unsigned *out, cell_err_t *err)
{
    int r = parse_flags(sc, out, err);
    if (r < 0)
        return r;
    if (notify) {
        /* The init is single-threaded, so TSYNC has nothing to do, and the
         * kernel refuses it together with a listener. */
        *out &= ~(unsigned)SECCOMP_FILTER_FLAG_TSYNC;
        *out |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    } else {
        /* Only meaningful for a listener; the kernel refuses it without. */
        *out &= ~(unsigned)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
    return 0;
}

static int check_listener(const json_t *sc, bool notify, cell_err_t *err)
{
    json_t *path = json_object_get(sc, "listenerPath"),
           *md = json_object_get(sc, "listenerMetadata");
    if (path && (!json_is_string(path) || json_string_length(path) == 0))
        return cell_error(err, 0, WHERE ".listenerPath: expected a non-empty string");
    if (md && !json_is_string(md))
        return cell_error(err, 0, WHERE ".listenerMetadata: expected a string");
    if (md && !path)
        return cell_error(err, 0, WHERE ".listenerMetadata: set without listenerPath");
    if (notify && !path)
        return cell_error(err, 0, WHERE ": SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    return 0;
}

int seccomp_compile(const json_t *sc, struct cell_seccomp *out, cell_err_t *err)
{
    struct build b = {.err = err};
    int r =
        parse_action(json_object_get(sc, "defaultAction"), json_object_get(sc, "defaultErrnoRet"),
                     WHERE ".defaultAction", "defaultErrnoRet", &b.default_action, err);
    if (r < 0)
        return r;
    if (b.default_action == SCMP_ACT_NOTIFY)
        return cell_error(err, 0, WHERE ".defaultAction: SCMP_ACT_NOTIFY cannot be the default");
    __attribute__((cleanup(filter_release))) scmp_filter_ctx f = seccomp_init(b.default_action);
    if (!f)
        return cell_error(err, 0, WHERE ".defaultAction: not supported by this kernel");
    b.f = f;
    /* A binary tree of syscall numbers instead of a linear list: the kernel
     * evaluates it for every syscall nr when it loads the filter (to cache
     * the always-allowed ones) and on each uncached syscall after. For
     * podman's profile: 0.3 ms to load instead of 0.8. */
    if ((r = seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
        return cell_error(err, -r, WHERE ": filter optimization");
    if ((r = add_archs(&b, sc)) < 0 || (r = add_rules(&b, sc)) < 0 ||
        (r = check_listener(sc, b.notify, err)) < 0 ||
        (r = filter_flags(sc, b.notify, &out->flags, err)) < 0)
        return r;
    out->notify = b.notify;
    return export_bpf(&b, out);
}

/* With a cache root, a program kept from an earlier start is used as is;
 * else it is compiled and kept for the next one. */
static int compile_or_load(const json_t *sc, const char *cache_root, struct cell_seccomp *s,
                           cell_err_t *err)
{
    char key[65];
    if (!cache_root || seccomp_cache_key(sc, key) < 0)
        return seccomp_compile(sc, s, err);
    if (seccomp_cache_load(cache_root, key, s) == 0)
        return 0;
    free(s->insns);
    *s = (struct cell_seccomp){0};
    int r = seccomp_compile(sc, s, err);
    if (r == 0)
        seccomp_cache_store(cache_root, key, s);
    return r;
}

int cell_seccomp_prepare_at(const struct cell_spec *spec, const char *cache_root,
                            struct cell_seccomp **out, cell_err_t *err)
{
    *out = NULL;
    const json_t *sc = spec->linux.seccomp;
    if (!sc)
        return 0;
    struct cell_seccomp *s = calloc(1, sizeof *s);
    if (!s)
        return cell_error(err, ENOMEM, WHERE);
    int r = compile_or_load(sc, cache_root, s, err);
    if (r < 0) {
        cell_seccomp_free(s);
        return r;
    }
    *out = s;
    return 0;
}

int cell_seccomp_prepare(const struct cell_spec *spec, struct cell_seccomp **out, cell_err_t *err)
{
    return cell_seccomp_prepare_at(spec, NULL, out, err);
}

/* In the init, as late as the credentials allow (see init.c). Only this
 * syscall runs here: the program was built before clone. */
int cell_seccomp_install(const struct cell_seccomp *s, int *notify_fd, cell_err_t *err)
{
    *notify_fd = -1;
    struct sock_fprog prog = {.len = s->len, .filter = s->insns};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog);
    if (r < 0)
        return cell_error(err, errno, "seccomp: load the filter%s",
                          errno == EACCES ? " (needs noNewPrivileges or CAP_SYS_ADMIN)" : "");
    if (s->notify)
        *notify_fd = (int)r;
    return 0;
}

void cell_seccomp_free(struct cell_seccomp *s)
{
    if (!s)
        return;
    free(s->insns);
    free(s);
}

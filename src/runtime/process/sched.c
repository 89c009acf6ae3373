/* Scheduling of the container's process (sched.h). The JSON members stay
 * raw in the spec and are read here, each error naming its field. */
#include "runtime/process/sched.h"

#include "base/cleanup.h"

#include <errno.h>
#include <stdint.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

/* sched_setattr(2)'s argument; glibc has no wrapper, and the kernel
 * header's version clashes with glibc's struct sched_param. */
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

struct name_value {
    const char *name;
    unsigned long value;
};

/* SCHED_ISO is in the spec's list but in no mainline kernel: refused. */
static const struct name_value policies[] = {
    {"SCHED_OTHER", SCHED_NORMAL}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},  {"SCHED_IDLE", SCHED_IDLE}, {"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct name_value sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

static const struct name_value io_classes[] = {
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
};

static int lookup(const struct name_value *t, size_t n, const json_t *name, unsigned long *out)
{
    for (size_t i = 0; json_is_string(name) && i < n; i++)
        if (!strcmp(t[i].name, json_string_value(name))) {
            *out = t[i].value;
            return 0;
        }
    return -1;
}

static const char *str_or(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

/* An optional integer member within [min, max]; absent leaves *out. */
static int get_int(const json_t *obj, const char *key, const char *where, long long min,
                   long long max, long long *out, cell_err_t *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return cell_error(err, 0, "config.json: %s.%s: expected an integer between %lld and %lld",
                          where, key, min, max);
    *out = json_integer_value(v);
    return 0;
}

static int get_u64(const json_t *obj, const char *key, const char *where, uint64_t *out,
                   cell_err_t *err)
{
    json_t *v = json_object_get(obj, key);
    if (v && cell_spec_json_u64(v, out) < 0)
        return cell_error(err, 0, "config.json: %s.%s: expected an unsigned integer", where, key);
    return 0;
}

static int parse_sched_flags(const json_t *flags, uint64_t *out, cell_err_t *err)
{
    size_t i;
    json_t *v;
    if (flags && !json_is_array(flags))
        return cell_error(err, 0, "config.json: process.scheduler.flags: expected an array");
    json_array_foreach(flags, i, v)
    {
        unsigned long f;
        if (lookup(sched_flags, ARRAY_SIZE(sched_flags), v, &f) < 0)
            return cell_error(err, 0, "config.json: process.scheduler.flags[%zu]: unknown flag %s",
                              i, str_or(v));
        *out |= f;
    }
    return 0;
}

static int parse_scheduler(const json_t *s, struct sched_attr *a, cell_err_t *err)
{
    const char *w = "process.scheduler";
    unsigned long policy;
    long long nice = 0, prio = 0;
    if (!json_is_object(s))
        return cell_error(err, 0, "config.json: %s: expected an object", w);
    if (lookup(policies, ARRAY_SIZE(policies), json_object_get(s, "policy"), &policy) < 0)
        return cell_error(err, 0, "config.json: %s.policy: unknown or unsupported policy %s", w,
                          str_or(json_object_get(s, "policy")));
    *a = (struct sched_attr){.size = sizeof *a, .sched_policy = (uint32_t)policy};
    int r;
    if ((r = get_int(s, "nice", w, -20, 19, &nice, err)) < 0 ||
        (r = get_int(s, "priority", w, 0, 99, &prio, err)) < 0 ||
        (r = parse_sched_flags(json_object_get(s, "flags"), &a->sched_flags, err)) < 0 ||
        (r = get_u64(s, "runtime", w, &a->sched_runtime, err)) < 0 ||
        (r = get_u64(s, "deadline", w, &a->sched_deadline, err)) < 0 ||
        (r = get_u64(s, "period", w, &a->sched_period, err)) < 0)
        return r;
    a->sched_nice = (int32_t)nice;
    a->sched_priority = (uint32_t)prio;
    return 0;
}

static int apply_scheduler(const json_t *s, cell_err_t *err)
{
    struct sched_attr a;
    int r = parse_scheduler(s, &a, err);
    if (r < 0)
        return r;
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        return cell_error(err, errno, "process.scheduler: set policy %s",
                          str_or(json_object_get(s, "policy")));
    return 0;
}

/* Children inherit the I/O priority, so setting it on the init covers the
 * process group the spec speaks of. */
static int apply_io_priority(const json_t *io, cell_err_t *err)
{
    unsigned long cls;
    long long prio = -1;
    if (!json_is_object(io))
        return cell_error(err, 0, "config.json: process.ioPriority: expected an object");
    if (lookup(io_classes, ARRAY_SIZE(io_classes), json_object_get(io, "class"), &cls) < 0)
        return cell_error(err, 0, "config.json: process.ioPriority.class: unknown class %s",
                          str_or(json_object_get(io, "class")));
    int r = get_int(io, "priority", "process.ioPriority", 0, 7, &prio, err);
    if (r < 0)
        return r;
    if (prio < 0)
        return cell_error(err, 0, "config.json: process.ioPriority.priority: required");
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(cls, prio)) < 0)
        return cell_error(err, errno, "process.ioPriority: set %s %lld",
                          str_or(json_object_get(io, "class")), prio);
    return 0;
}

int cell_sched_apply(const struct cell_process *p, cell_err_t *err)
{
    int r = 0;
    if (p->scheduler)
        r = apply_scheduler(p->scheduler, err);
    if (r == 0 && p->io_priority)
        r = apply_io_priority(p->io_priority, err);
    return r;
}

int cell_sched_set_personality(const struct cell_spec *spec, cell_err_t *err)
{
    const json_t *pers = spec->linux.personality;
    if (!pers)
        return 0;
    const char *domain = json_string_value(json_object_get(pers, "domain"));
    unsigned long persona;
    if (domain && !strcmp(domain, "LINUX"))
        persona = PER_LINUX;
    else if (domain && !strcmp(domain, "LINUX32"))
        persona = PER_LINUX32;
    else
        return cell_error(err, 0,
                          "config.json: linux.personality.domain: expected LINUX or LINUX32");
    /* The spec defines no flag yet: any would be one we cannot honour. */
    json_t *flags = json_object_get(pers, "flags");
    if (flags && (!json_is_array(flags) || json_array_size(flags) > 0))
        return cell_error(err, 0, "config.json: linux.personality.flags: no flag is supported");
    if (personality(persona) < 0)
        return cell_error(err, errno, "linux.personality: set %s", domain);
    return 0;
}

static int parse_range(const char *s, char **end, unsigned long *lo, unsigned long *hi)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *lo = *hi = strtoul(s, end, 10);
    if (**end == '-') {
        s = *end + 1;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        *hi = strtoul(s, end, 10);
    }
    return errno || *hi < *lo || *hi >= CPU_SETSIZE ? -EINVAL : 0;
}

int cell_sched_parse_cpu_list(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    const char *s = list;
    if (!s || !*s)
        return -EINVAL;
    for (;;) {
        char *end;
        unsigned long lo, hi;
        if (parse_range(s, &end, &lo, &hi) < 0)
            return -EINVAL;
        for (unsigned long c = lo; c <= hi; c++)
            CPU_SET(c, set);
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -EINVAL;
        s = end + 1;
    }
}

int cell_sched_exec_affinity(const struct cell_process *p, bool final, cell_err_t *err)
{
    const char *key = final ? "final" : "initial";
    json_t *v = p->exec_cpu_affinity ? json_object_get(p->exec_cpu_affinity, key) : NULL;
    if (!v)
        return 0;
    cpu_set_t set;
    if (!json_is_string(v) || cell_sched_parse_cpu_list(json_string_value(v), &set) < 0)
        return cell_error(err, 0,
                          "config.json: process.execCPUAffinity.%s: expected a CPU list "
                          "like \"0-3,7\"",
                          key);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        return cell_error(err, errno, "process.execCPUAffinity.%s: set %s", key,
                          json_string_value(v));
    return 0;
}

/* update: change the resource limits of a created or running container,
 * from a linux.resources JSON document (--resources FILE, "-" for stdin)
 * or from runc's flags. As runc-update(8) says, with --resources "all other
 * options are ignored": a caller that passes both gets the same limits from
 * cell as from runc. */
#include "cli/runtime/runtime_cli.h"

#include "base/cleanup.h"
#include "base/units.h"
#include "runtime/runtime.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct update_opts {
    const char *resources;
    const char *memory, *memory_reservation, *memory_swap, *kernel_memory, *kernel_memory_tcp;
    const char *cpu_period, *cpu_quota, *cpu_share, *cpu_rt_period, *cpu_rt_runtime;
    const char *cpuset_cpus, *cpuset_mems;
    const char *pids_limit, *blkio_weight;
};

#define OPT(name, field, help)                                                                     \
    {                                                                                              \
        name, 0, CLI_OPT_STRING, offsetof(struct update_opts, field), help                         \
    }

const struct cli_option cli_update_options[] = {
    {"resources", 'r', CLI_OPT_STRING, offsetof(struct update_opts, resources),
     "a linux.resources JSON file to apply (\"-\": standard input)"},
    OPT("memory", memory, "memory limit in bytes (k, m, g suffixes; -1: none)"),
    OPT("memory-reservation", memory_reservation, "memory soft limit in bytes"),
    OPT("memory-swap", memory_swap, "memory+swap limit in bytes (-1: unlimited swap)"),
    OPT("kernel-memory", kernel_memory, "kernel memory limit in bytes (cgroup v1 only)"),
    OPT("kernel-memory-tcp", kernel_memory_tcp, "kernel TCP buffer limit (cgroup v1 only)"),
    OPT("cpu-period", cpu_period, "CFS period in microseconds"),
    OPT("cpu-quota", cpu_quota, "CFS quota in microseconds per period (-1: none)"),
    OPT("cpu-share", cpu_share, "CPU shares (relative weight)"),
    OPT("cpu-rt-period", cpu_rt_period, "realtime period in microseconds"),
    OPT("cpu-rt-runtime", cpu_rt_runtime, "realtime runtime in microseconds"),
    OPT("cpuset-cpus", cpuset_cpus, "CPUs to run on (0-3, 0,1)"),
    OPT("cpuset-mems", cpuset_mems, "memory nodes to use (0-3, 0,1)"),
    OPT("pids-limit", pids_limit, "maximum number of processes (-1: none)"),
    OPT("blkio-weight", blkio_weight, "block IO weight (10..1000)"),
    {0},
};

/* "-1", "1024", "256m", "1.5g", "64MiB": binary multiples, as runc's
 * (docker's RAMInBytes). */
static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

/* Sets obj.group.key from a flag value, when the flag was given. */
static int set_num(json_t *res, const char *group, const char *key, const char *flag,
                   const char *value, bool size, cell_err_t *err)
{
    int64_t v;
    if (!value)
        return 0;
    if ((size ? cell_size_parse(value, &v) : parse_i64(value, &v)) < 0)
        return cell_error(err, 0, "update: invalid value \"%s\" for --%s", value, flag);
    json_t *g = json_object_get(res, group);
    if (!g)
        json_object_set_new(res, group, g = json_object());
    json_object_set_new(g, key, json_integer(v));
    return 0;
}

static int set_str(json_t *res, const char *group, const char *key, const char *value)
{
    if (!value)
        return 0;
    json_t *g = json_object_get(res, group);
    if (!g)
        json_object_set_new(res, group, g = json_object());
    json_object_set_new(g, key, json_string(value));
    return 0;
}

static int apply_flags(const struct update_opts *o, json_t *res, cell_err_t *err)
{
    const struct {
        const char *group, *key, *flag, *value;
        bool size;
    } nums[] = {
        {"memory", "limit", "memory", o->memory, true},
        {"memory", "reservation", "memory-reservation", o->memory_reservation, true},
        {"memory", "swap", "memory-swap", o->memory_swap, true},
        {"memory", "kernel", "kernel-memory", o->kernel_memory, true},
        {"memory", "kernelTCP", "kernel-memory-tcp", o->kernel_memory_tcp, true},
        {"cpu", "period", "cpu-period", o->cpu_period, false},
        {"cpu", "quota", "cpu-quota", o->cpu_quota, false},
        {"cpu", "shares", "cpu-share", o->cpu_share, false},
        {"cpu", "realtimePeriod", "cpu-rt-period", o->cpu_rt_period, false},
        {"cpu", "realtimeRuntime", "cpu-rt-runtime", o->cpu_rt_runtime, false},
        {"pids", "limit", "pids-limit", o->pids_limit, false},
        {"blockIO", "weight", "blkio-weight", o->blkio_weight, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
        int r = set_num(res, nums[i].group, nums[i].key, nums[i].flag, nums[i].value, nums[i].size,
                        err);
        if (r < 0)
            return r;
    }
    set_str(res, "cpu", "cpus", o->cpuset_cpus);
    set_str(res, "cpu", "mems", o->cpuset_mems);
    return 0;
}

static json_t *load_resources(const char *path, cell_err_t *err)
{
    json_error_t jerr;
    if (!path)
        return json_object();
    json_t *j = !strcmp(path, "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(path, 0, &jerr);
    if (!j)
        cell_error(err, 0, "update: --resources %s: %s (line %d)", path, jerr.text, jerr.line);
    else if (!json_is_object(j)) {
        json_decref(j);
        cell_error(err, 0, "update: --resources %s: expected a JSON object", path);
        return NULL;
    }
    return j;
}

int cli_cmd_update(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct update_opts o = {0};
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, &o, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    json_t *res = load_resources(o.resources, err);
    if (!res)
        return -1;
    /* Nothing to change (no flag, or "{}") is no error: runc applies
     * nothing and succeeds, and containerd may send an empty document. */
    int r = o.resources ? 0 : apply_flags(&o, res, err);
    if (r == 0)
        r = cell_runtime_update(cli_root(ctx), id, res, err);
    json_decref(res);
    return r < 0 ? -1 : 0;
}

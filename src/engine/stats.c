/* What `stats` shows of a container, computed as Docker's client computes
 * it from the cgroup's counters (the runtime's stats event), the init's
 * network namespace and the host. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t host_memory(void)
{
    struct sysinfo si;
    if (sysinfo(&si) < 0)
        return 0;
    return (int64_t)si.totalram * si.mem_unit;
}

static int64_t num_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_integer_value(v);
}

/* Docker's usage "without cache": what the kernel would not give back
 * easily, usage less the inactive file pages (total_inactive_file on v1,
 * inactive_file on v2). */
static void memory_of(const json_t *mem, struct cell_stats_sample *s)
{
    int64_t usage = num_at(mem, "usage", "usage");
    const json_t *raw = json_object_get(mem, "raw");
    const json_t *inactive = json_object_get(raw, "total_inactive_file");
    if (!inactive)
        inactive = json_object_get(raw, "inactive_file");
    int64_t v = json_integer_value(inactive);
    s->mem_usage = v < usage ? usage - v : usage;
    /* An unlimited cgroup says "max" (INT64_MAX) or a huge page-rounded
     * number on v1: Docker shows the host's memory then. */
    int64_t limit = num_at(mem, "usage", "limit"), host = host_memory();
    s->mem_limit = (limit <= 0 || (host > 0 && limit > host)) ? host : limit;
}

static void blkio_of(const json_t *blkio, struct cell_stats_sample *s)
{
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(blkio, "ioServiceBytesRecursive"), i, entry)
    {
        const char *op = json_string_value(json_object_get(entry, "op"));
        int64_t v = json_integer_value(json_object_get(entry, "value"));
        if (op && (op[0] == 'r' || op[0] == 'R'))
            s->blk_read += v;
        else if (op && (op[0] == 'w' || op[0] == 'W'))
            s->blk_write += v;
    }
}

/* The init's own network namespace, every interface but loopback (Docker
 * counts the container's endpoints, which lo is not). */
static void network_of(pid_t pid, struct cell_stats_sample *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
    _cleanup_free_ char *text = NULL;
    if (pid <= 0 || cell_read_file_at(AT_FDCWD, path, &text, NULL) < 0)
        return;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        if (!colon)
            continue; /* the two header lines */
        *colon = 0;
        char *name = l + strspn(l, " ");
        unsigned long long v[16] = {0};
        if (!strcmp(name, "lo") ||
            sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
            continue;
        s->net_rx += (int64_t)v[0];
        s->net_tx += (int64_t)v[8];
    }
}

int cell_engine_stats_sample(struct cell_engine *e, const char *id, struct cell_stats_sample *s,
                             cell_err_t *err)
{
    *s = (struct cell_stats_sample){.when_ns = mono_ns()};
    struct cell_ctr c;
    if (cell_ctr_open(e, id, false, &c, err) < 0)
        return -1;
    const char *status = cell_state_status_of(c.rec);
    pid_t pid = (pid_t)num_at(c.rec, "State", "Pid");
    bool live = (!strcmp(status, "running") || !strcmp(status, "paused")) &&
                cell_state_monitor_alive(c.rec);
    cell_ctr_close(&c);
    if (!live)
        return 0; /* Docker's stats of a stopped container: all zero */
    json_t *ev = cell_runtime_stats(e->runtime_root, id, NULL);
    if (!ev)
        return 0; /* it stopped in between */
    const json_t *data = json_object_get(ev, "data");
    s->running = true;
    s->cpu_ns = num_at(json_object_get(data, "cpu"), "usage", "total");
    memory_of(json_object_get(data, "memory"), s);
    blkio_of(json_object_get(data, "blkio"), s);
    s->pids = num_at(data, "pids", "current");
    network_of(pid, s);
    json_decref(ev);
    return 0;
}

double cell_engine_stats_cpu_percent(const struct cell_stats_sample *prev,
                                     const struct cell_stats_sample *cur)
{
    /* Docker: cpu delta / system delta * online CPUs * 100, where the
     * system delta is every CPU's time from /proc/stat, i.e. about wall
     * time * online CPUs. We take that system delta as wall time * online
     * CPUs outright (as podman takes wall time), so the two factors cancel:
     * 100% is one CPU kept busy, as in Docker. */
    if (!prev || !prev->running || !cur->running)
        return 0;
    double cpu = (double)(cur->cpu_ns - prev->cpu_ns);
    double wall = (double)(cur->when_ns - prev->when_ns);
    return cpu > 0 && wall > 0 ? cpu / wall * 100.0 : 0;
}

double cell_engine_stats_mem_percent(const struct cell_stats_sample *s)
{
    return s->mem_limit > 0 ? (double)s->mem_usage / (double)s->mem_limit * 100.0 : 0;
}

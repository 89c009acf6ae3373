/* `cell explain`: the cgroup of a container's init and its limits beside
 * its use, read from the cgroup files themselves on a v1, hybrid or v2
 * host alike.
 *
 * /proc/PID/cgroup gives one path per hierarchy ("4:memory:/cell/ID"; v2's
 * single line is "0::/path"), relative to the root of this process's
 * cgroup namespace; /proc/self/mountinfo says where each hierarchy is
 * mounted and which controllers it carries. A controller is read where a
 * v1 hierarchy carries it, else in the v2 tree. */
#include "base/cleanup.h"
#include "engine/explain.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A v1 limit at or above this is "no limit": the kernel's
 * PAGE_COUNTER_MAX rounded to pages (9223372036854771712 on 4 KiB). */
#define V1_UNLIMITED (1ULL << 62)

struct hierarchy {
    char *mountpoint, *root; /* where it is mounted, and which of its cgroups is there */
    char *controllers;       /* v1: the super options ("rw,memory"); v2: NULL */
};

struct layout {
    struct hierarchy h[32];
    size_t n;
    bool v1, v2;
    char *lines; /* /proc/PID/cgroup */
};

static void layout_clear(struct layout *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->h[i].mountpoint);
        free(l->h[i].root);
        free(l->h[i].controllers);
    }
    free(l->lines);
}

/* Whether a comma-separated list has item. */
static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (!strncmp(p, item, n) && (p[n] == ',' || !p[n] || p[n] == '\n'))
            return true;
    return false;
}

/* One mountinfo line of a cgroup or cgroup2 mount into l. */
static void add_mount(struct layout *l, const char *line)
{
    char root[4096], mp[4096], fstype[16], super[1024] = "";
    const char *sep = strstr(line, " - ");
    if (l->n == ARRAY_SIZE(l->h) || !sep ||
        sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2 ||
        sscanf(sep + 3, "%15s %*s %1023s", fstype, super) < 1)
        return;
    bool v2 = !strcmp(fstype, "cgroup2");
    if (!v2 && strcmp(fstype, "cgroup"))
        return;
    struct hierarchy *h = &l->h[l->n++];
    h->mountpoint = strdup(mp);
    h->root = strdup(root);
    h->controllers = v2 ? NULL : strdup(super);
    l->v1 |= !v2;
    l->v2 |= v2;
}

static void read_layout(struct layout *l, int procfd)
{
    _cleanup_free_ char *info = cell_explain_read(AT_FDCWD, "/proc/self/mountinfo");
    for (char *line = info, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        add_mount(l, line);
    }
    l->lines = cell_explain_read(procfd, "cgroup");
}

/* The path in /proc/PID/cgroup of the hierarchy carrying controller (v1),
 * or of the v2 hierarchy (controller NULL); allocated, or NULL. */
static char *cgroup_path(const struct layout *l, const char *controller)
{
    for (const char *p = l->lines; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *c = strchr(p, ':'), *path = c ? strchr(c + 1, ':') : NULL;
        if (!path)
            continue;
        _cleanup_free_ char *controllers = strndup(c + 1, (size_t)(path - c - 1));
        bool match = controller ? list_has(controllers, controller) : !strncmp(p, "0::", 3);
        if (match)
            return strndup(path + 1, strcspn(path + 1, "\n"));
    }
    return NULL;
}

/* The host directory of a controller's cgroup, and whether it is in the
 * v2 tree; false when no hierarchy carries it. */
static bool controller_dir(const struct layout *l, const char *controller, char *dir, size_t size,
                           bool *v2)
{
    const struct hierarchy *h = NULL;
    for (size_t i = 0; i < l->n && !h; i++)
        if (l->h[i].controllers && list_has(l->h[i].controllers, controller))
            h = &l->h[i];
    for (size_t i = 0; i < l->n && !h; i++)
        if (!l->h[i].controllers)
            h = &l->h[i];
    _cleanup_free_ char *path = h ? cgroup_path(l, h->controllers ? controller : NULL) : NULL;
    if (!path)
        return false;
    *v2 = !h->controllers;
    /* A mount of a cgroup below the hierarchy's root shows that cgroup at
     * its mount point: the part of the path under it goes on top. */
    const char *rel = path;
    size_t rl = strlen(h->root);
    if (strcmp(h->root, "/") && !strncmp(rel, h->root, rl) && (rel[rl] == '/' || !rel[rl]))
        rel += rl;
    snprintf(dir, size, "%s%s", h->mountpoint, rel);
    return true;
}

/* ---- values ------------------------------------------------------------------------ */

/* A number file: null when missing, unlimited ("max", -1, or a v1 value
 * past V1_UNLIMITED). */
static json_t *number(const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    _cleanup_free_ char *text = cell_explain_read(AT_FDCWD, path);
    if (!text || !strncmp(text, "max", 3))
        return json_null();
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end == text || v < 0 || (unsigned long long)v >= V1_UNLIMITED)
        return json_null();
    return json_integer(v);
}

/* The value of "key N" in a flat keyed file (memory.events, cpu.stat). */
static json_t *keyed(const char *dir, const char *file, const char *key)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    _cleanup_free_ char *text = cell_explain_read(AT_FDCWD, path);
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ' ')
            return json_integer(strtoll(p + kl + 1, NULL, 10));
    return json_null();
}

static json_t *memory(const struct layout *l)
{
    char dir[4096];
    bool v2;
    if (!controller_dir(l, "memory", dir, sizeof dir, &v2))
        return json_null();
    if (v2)
        return json_pack("{s:s, s:o, s:o, s:o, s:o}", "Dir", dir, "Limit",
                         number(dir, "memory.max"), "Current", number(dir, "memory.current"),
                         "Peak", number(dir, "memory.peak"), "OOMKills",
                         keyed(dir, "memory.events", "oom_kill"));
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "Dir", dir, "Limit",
                     number(dir, "memory.limit_in_bytes"), "Current",
                     number(dir, "memory.usage_in_bytes"), "Peak",
                     number(dir, "memory.max_usage_in_bytes"), "OOMKills",
                     keyed(dir, "memory.oom_control", "oom_kill"));
}

/* v2's cpu.max: "max 100000" or "50000 100000". */
static void cpu_max(const char *dir, json_t **quota, json_t **period)
{
    char path[4200], q[32];
    snprintf(path, sizeof path, "%s/cpu.max", dir);
    _cleanup_free_ char *text = cell_explain_read(AT_FDCWD, path);
    long long p;
    bool both = text && sscanf(text, "%31s %lld", q, &p) == 2;
    *quota = both && strcmp(q, "max") ? json_integer(strtoll(q, NULL, 10)) : json_null();
    *period = both ? json_integer(p) : json_null();
}

static json_t *cpu(const struct layout *l)
{
    char dir[4096], acct[4096];
    bool v2, acct_v2;
    if (!controller_dir(l, "cpu", dir, sizeof dir, &v2))
        return json_null();
    json_t *quota, *period, *usage;
    if (v2) {
        cpu_max(dir, &quota, &period);
        usage = keyed(dir, "cpu.stat", "usage_usec");
        if (json_is_integer(usage))
            json_integer_set(usage, json_integer_value(usage) * 1000);
    } else {
        quota = number(dir, "cpu.cfs_quota_us");
        period = number(dir, "cpu.cfs_period_us");
        usage = controller_dir(l, "cpuacct", acct, sizeof acct, &acct_v2) && !acct_v2
                    ? number(acct, "cpuacct.usage")
                    : json_null();
    }
    json_int_t q = json_integer_value(quota), p = json_integer_value(period);
    json_t *cpus = json_is_integer(quota) && p > 0 ? json_real((double)q / (double)p) : json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "Dir", dir, "Quota", quota, "Period",
                     period, "CPUs", cpus, "UsageNs", usage, "Periods",
                     keyed(dir, "cpu.stat", "nr_periods"), "Throttled",
                     keyed(dir, "cpu.stat", "nr_throttled"));
}

static json_t *pids(const struct layout *l)
{
    char dir[4096];
    bool v2;
    if (!controller_dir(l, "pids", dir, sizeof dir, &v2))
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:o}", "Dir", dir, "Max", number(dir, "pids.max"), "Current",
                     number(dir, "pids.current"), "Peak", number(dir, "pids.peak"));
}

void cell_explain_cgroup(json_t *o, int procfd)
{
    struct layout l = {0};
    read_layout(&l, procfd);
    /* The path shown is the memory controller's (v1), else the v2 one:
     * the cgroup a user looks for first. */
    _cleanup_free_ char *path = cgroup_path(&l, "memory");
    if (!path)
        path = cgroup_path(&l, NULL);
    const char *layout = l.v1 && l.v2 ? "hybrid" : l.v1 ? "v1" : l.v2 ? "v2" : "none";
    json_object_set_new(o, "Cgroup",
                        json_pack("{s:s?, s:s, s:o, s:o, s:o}", "Path", path, "Layout", layout,
                                  "Memory", memory(&l), "CPU", cpu(&l), "Pids", pids(&l)));
    layout_clear(&l);
}

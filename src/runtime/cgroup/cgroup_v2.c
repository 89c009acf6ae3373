/* The cgroup v2 driver: one directory in the unified hierarchy, controllers
 * enabled from the root down (Documentation/admin-guide/cgroup-v2.rst,
 * "Enabling and Disabling"), v1-style values converted. */
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- controller sets --- */

bool cg_controllers_has(const struct cg_controllers *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return true;
    return false;
}

void cg_controllers_add(struct cg_controllers *s, const char *name)
{
    if (s->n < CG_MAX_CONTROLLERS && strlen(name) < sizeof s->names[0] &&
        !cg_controllers_has(s, name))
        strcpy(s->names[s->n++], name);
}

static void controllers_remove(struct cg_controllers *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->names[i], name)) {
            memmove(s->names[i], s->names[i + 1], (s->n - i - 1) * sizeof s->names[0]);
            s->n--;
            return;
        }
    }
}

void cg_controllers_parse(struct cg_controllers *s, const char *text)
{
    s->n = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len > 0 && len < sizeof s->names[0]) {
            char name[sizeof s->names[0]];
            snprintf(name, sizeof name, "%.*s", (int)len, p);
            cg_controllers_add(s, name);
        }
        p += len;
    }
}

/* The controllers cell can name in an error; other prefixes of unified
 * keys (irq.pressure, ...) are files that need no controller. */
static const char *const known_controllers[] = {"cpuset",  "cpu",  "io",   "memory",
                                                "hugetlb", "pids", "rdma", "misc"};

static const char *controller_field(const char *name)
{
    static const char *const fields[] = {
        CG_FIELD("cpu.cpus"),       CG_FIELD("cpu"),  CG_FIELD("blockIO"), CG_FIELD("memory"),
        CG_FIELD("hugepageLimits"), CG_FIELD("pids"), CG_FIELD("rdma"),    CG_FIELD("unified")};
    for (size_t i = 0; i < ARRAY_SIZE(known_controllers); i++)
        if (!strcmp(name, known_controllers[i]))
            return fields[i];
    return NULL;
}

void cg_res_controllers(const struct cell_resources *r, struct cg_controllers *out)
{
    out->n = 0;
    for (size_t i = 0; r && i < ARRAY_SIZE(known_controllers); i++)
        if (cg_res_uses(r, known_controllers[i]))
            cg_controllers_add(out, known_controllers[i]);
}

/* --- enabling controllers --- */

static int read_set(const char *dir, const char *file, struct cg_controllers *s, cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    int r = cg_read(dir, file, &text);
    if (r < 0)
        return cell_error(err, -r, "read %s/%s", dir, file);
    cg_controllers_parse(s, text);
    return 0;
}

static bool subset(const struct cg_controllers *a, const struct cg_controllers *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (!cg_controllers_has(b, a->names[i]))
            return false;
    return true;
}

/* True when the parent (which existed before) already gives the new cgroup
 * what it needs: the common case, answered with two reads. */
static bool parent_ready(const char *root, const char *path, const struct cg_controllers *want,
                         bool all)
{
    char parent[PATH_MAX];
    struct cg_controllers avail, enabled;
    snprintf(parent, sizeof parent, "%s%.*s", root, (int)(strrchr(path, '/') - path), path);
    if (read_set(parent, "cgroup.controllers", &avail, NULL) < 0 ||
        read_set(parent, "cgroup.subtree_control", &enabled, NULL) < 0)
        return false;
    return subset(want, &enabled) && (!all || subset(&avail, &enabled));
}

static int check_available(const struct cg_controllers *want, const struct cg_controllers *avail,
                           const char *root, cell_err_t *err)
{
    for (size_t i = 0; i < want->n; i++) {
        const char *field = controller_field(want->names[i]);
        if (field && !cg_controllers_has(avail, want->names[i]))
            return cell_error(err, 0,
                              "%s: the %s controller is not available (not in "
                              "%s/cgroup.controllers)",
                              field, want->names[i], root);
    }
    return 0;
}

/* Writes "+a +b ..." for what goal has and enabled lacks. When the kernel
 * refuses the lot, tries one by one: a controller nobody asked for may be
 * left out (it is dropped from goal, so no child asks for it). */
static int enable_missing(const char *dir, struct cg_controllers *goal,
                          const struct cg_controllers *enabled, const struct cg_controllers *want,
                          cell_err_t *err)
{
    char line[CG_MAX_CONTROLLERS * 34] = "";
    for (size_t i = 0; i < goal->n; i++) {
        if (cg_controllers_has(enabled, goal->names[i]))
            continue;
        strcat(line, line[0] ? " +" : "+");
        strcat(line, goal->names[i]);
    }
    if (!line[0] || cg_try_write(dir, "cgroup.subtree_control", line) == 0)
        return 0;
    struct cg_controllers todo = *goal;
    for (size_t i = 0; i < todo.n; i++) {
        const char *name = todo.names[i];
        char one[40];
        snprintf(one, sizeof one, "+%s", name);
        if (cg_controllers_has(enabled, name))
            continue;
        int r = cg_try_write(dir, "cgroup.subtree_control", one);
        if (r < 0 && cg_controllers_has(want, name))
            return cell_error(err, -r, "enable the %s controller in %s/cgroup.subtree_control",
                              name, dir);
        if (r < 0)
            controllers_remove(goal, name);
    }
    return 0;
}

int cell_cgroup_v2_enable(const char *root, const char *path, unsigned kept,
                          const struct cg_controllers *want, bool all, cell_err_t *err)
{
    size_t depth = cg_path_depth(path);
    if (kept + 1 >= depth && parent_ready(root, path, want, all))
        return 0;
    struct cg_controllers avail, goal = {0}, enabled;
    int r = read_set(root, "cgroup.controllers", &avail, err);
    if (r == 0)
        r = check_available(want, &avail, root, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < avail.n; i++)
        if (all || cg_controllers_has(want, avail.names[i]))
            cg_controllers_add(&goal, avail.names[i]);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", root);
    const char *next = path;
    for (size_t d = 0; d < depth; d++) {
        enabled.n = 0;
        if (d <= kept && (r = read_set(dir, "cgroup.subtree_control", &enabled, err)) < 0)
            return r;
        if ((r = enable_missing(dir, &goal, &enabled, want, err)) < 0)
            return r;
        size_t len = strcspn(next + 1, "/") + 1;
        strncat(dir, next, len);
        next += len;
    }
    return 0;
}

/* --- resources --- */

static int unsupported(const char *field, cell_err_t *err)
{
    return cell_error(err, 0, "%s: not supported on cgroup v2", field);
}

/* What v2 has no file for; checked before anything is made. */
static int v2_check(const struct cell_resources *r, cell_err_t *err)
{
    if (r->memory.kernel != CELL_UNSET && r->memory.kernel >= 0)
        return unsupported(CG_FIELD("memory.kernel"), err);
    if (r->memory.kernel_tcp != CELL_UNSET && r->memory.kernel_tcp >= 0)
        return unsupported(CG_FIELD("memory.kernelTCP"), err);
    if (r->memory.swappiness != CELL_UNSET)
        return unsupported(CG_FIELD("memory.swappiness"), err);
    if (r->memory.disable_oom_killer == 1)
        return unsupported(CG_FIELD("memory.disableOOMKiller"), err);
    if (r->memory.use_hierarchy == 0)
        return cell_error(err, 0,
                          CG_FIELD("memory.useHierarchy") ": cgroup v2 is always "
                                                          "hierarchical");
    if (r->cpu.realtime_runtime != CELL_UNSET || r->cpu.realtime_period != CELL_UNSET)
        return unsupported(r->cpu.realtime_runtime != CELL_UNSET ? CG_FIELD("cpu.realtimeRuntime")
                                                                 : CG_FIELD("cpu.realtimePeriod"),
                           err);
    if (r->block_io.leaf_weight != CELL_UNSET)
        return unsupported(CG_FIELD("blockIO.leafWeight"), err);
    for (size_t i = 0; i < r->block_io.n_weight_device; i++)
        if (r->block_io.weight_device[i].leaf_weight != CELL_UNSET)
            return unsupported(CG_FIELD("blockIO.weightDevice.leafWeight"), err);
    if (r->network.class_id != CELL_UNSET)
        return unsupported(CG_FIELD("network.classID"), err);
    if (r->network.n_priorities)
        return unsupported(CG_FIELD("network.priorities"), err);
    return 0;
}

/* The memory limit that the swap arithmetic uses: the new one, else (on
 * update) the one in force. */
static int limit_for_swap(const char *dir, const struct cell_resources *r, int64_t *limit,
                          cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    *limit = r->memory.limit;
    if (*limit != CELL_UNSET)
        return 0;
    int ret = cg_read(dir, "memory.max", &text);
    if (ret < 0)
        return cell_error(err, -ret, "read %s/memory.max", dir);
    *limit = !strcmp(text, "max") ? -1 : strtoll(text, NULL, 10);
    return 0;
}

static int memory_swap(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char value[24];
    int64_t limit;
    int ret = limit_for_swap(dir, r, &limit, err);
    if (ret == 0)
        ret = cell_cgroup_swap_v2(r->memory.swap, limit, value, sizeof value, err);
    if (ret < 0)
        return ret;
    ret = cg_try_write(dir, "memory.swap.max", value);
    /* Without swap accounting, "no swap beyond memory" and "no limit" are
     * both moot. */
    if (ret == -ENOENT && (!strcmp(value, "0") || !strcmp(value, "max")))
        return 0;
    return ret < 0
               ? cg_write_error(dir, "memory.swap.max", value, CG_FIELD("memory.swap"), ret, err)
               : 0;
}

/* checkBeforeUpdate: v2 would OOM-kill rather than refuse a limit below the
 * usage, as v1 does. */
static int check_usage(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    if (r->memory.check_before_update != 1 || r->memory.limit < 0)
        return 0;
    int ret = cg_read(dir, "memory.current", &text);
    if (ret < 0)
        return cell_error(err, -ret, "read %s/memory.current", dir);
    int64_t usage = strtoll(text, NULL, 10);
    if (r->memory.limit < usage)
        return cell_error(err, EBUSY,
                          CG_FIELD("memory.limit") " (%" PRId64
                                                   ") is below the current usage (%" PRId64 ")",
                          r->memory.limit, usage);
    return 0;
}

static int v2_memory(const char *dir, const struct cell_resources *r, bool update, cell_err_t *err)
{
    char buf[24];
    int ret = update ? check_usage(dir, r, err) : 0;
    if (ret == 0 && r->memory.limit != CELL_UNSET) {
        cg_limit_str(r->memory.limit, buf, sizeof buf);
        ret = cg_write(dir, "memory.max", buf, CG_FIELD("memory.limit"), err);
    }
    if (ret == 0 && r->memory.reservation != CELL_UNSET) {
        cg_limit_str(r->memory.reservation, buf, sizeof buf);
        ret = cg_write(dir, "memory.low", buf, CG_FIELD("memory.reservation"), err);
    }
    if (ret == 0 && cg_swap_set(r))
        ret = memory_swap(dir, r, err);
    return ret;
}

/* cpu.max is "$MAX $PERIOD"; a new period alone keeps the quota in force. */
static int cpu_max_value(const char *dir, const struct cell_resources *r, char *buf, size_t len,
                         cell_err_t *err)
{
    char quota[24];
    if (r->cpu.quota != CELL_UNSET) {
        cg_limit_str(r->cpu.quota, quota, sizeof quota);
    } else {
        _cleanup_free_ char *text = NULL;
        int ret = cg_read(dir, "cpu.max", &text);
        if (ret < 0)
            return cell_error(err, -ret, "read %s/cpu.max", dir);
        snprintf(quota, sizeof quota, "%.*s", (int)strcspn(text, " "), text);
    }
    if (r->cpu.period != CELL_UNSET)
        snprintf(buf, len, "%s %" PRId64, quota, r->cpu.period);
    else
        snprintf(buf, len, "%s", quota);
    return 0;
}

static int v2_cpu(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char weight[24], max[64], burst[24];
    int ret = 0;
    if (r->cpu.shares != CELL_UNSET) {
        snprintf(weight, sizeof weight, "%" PRIu64,
                 cell_cgroup_shares_to_weight((uint64_t)r->cpu.shares));
        ret = cg_write(dir, "cpu.weight", weight, CG_FIELD("cpu.shares"), err);
    }
    struct cg_knob knobs[] = {
        {"cpu.max", NULL, CG_FIELD("cpu.quota")},
        {"cpu.max.burst", NULL, CG_FIELD("cpu.burst")},
    };
    if (ret == 0 && (r->cpu.quota != CELL_UNSET || r->cpu.period != CELL_UNSET) &&
        (ret = cpu_max_value(dir, r, max, sizeof max, err)) == 0)
        knobs[0].value = max;
    if (r->cpu.burst != CELL_UNSET) {
        snprintf(burst, sizeof burst, "%" PRId64, r->cpu.burst);
        knobs[1].value = burst;
    }
    if (ret == 0)
        ret = cg_write_group(dir, knobs, ARRAY_SIZE(knobs), err);
    if (ret == 0)
        ret = cg_write_i64(dir, "cpu.idle", r->cpu.idle, CG_FIELD("cpu.idle"), err);
    if (ret == 0 && r->cpu.cpus)
        ret = cg_write(dir, "cpuset.cpus", r->cpu.cpus, CG_FIELD("cpu.cpus"), err);
    if (ret == 0 && r->cpu.mems)
        ret = cg_write(dir, "cpuset.mems", r->cpu.mems, CG_FIELD("cpu.mems"), err);
    return ret;
}

static int v2_pids_max(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char buf[24];
    if (r->pids.limit == CELL_UNSET)
        return 0;
    cg_limit_str(r->pids.limit, buf, sizeof buf);
    return cg_write(dir, "pids.max", buf, CG_FIELD("pids.limit"), err);
}

/* With BFQ, io.bfq.weight takes the v1 range as is; otherwise io.weight
 * (iocost) takes 1..10000. prefix is "" or "MAJ:MIN ". */
static int io_weight(const char *dir, const char *prefix, int64_t weight, const char *field,
                     cell_err_t *err)
{
    char bfq[64], converted[64];
    snprintf(bfq, sizeof bfq, "%s%" PRId64, prefix, weight);
    snprintf(converted, sizeof converted, "%s%" PRIu64, prefix,
             cell_cgroup_blkio_to_io_weight((uint64_t)weight));
    int ret = cg_try_write(dir, "io.bfq.weight", bfq);
    if (ret == -ENOENT)
        ret = cg_try_write(dir, "io.weight", converted);
    if (ret == -ENOENT) {
        cell_error(err, 0, "%s: not supported by this kernel (io.bfq.weight and io.weight missing)",
                   field);
        return ret;
    }
    return ret < 0 ? cg_write_error(dir, "io.weight", converted, field, ret, err) : 0;
}

/* One io.max line per device: "8:0 rbps=1048576 wiops=120". */
static void io_max_add(char *line, size_t len, const struct cell_throttle_device *t, size_t n,
                       int64_t major, int64_t minor, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].major == major && t[i].minor == minor)
            snprintf(line + strlen(line), len - strlen(line), " %s=%" PRIu64, key, t[i].rate);
}

static int io_max_device(const char *dir, const struct cell_resources *r, int64_t major,
                         int64_t minor, cell_err_t *err)
{
    const typeof(r->block_io) *b = &r->block_io;
    char line[256];
    snprintf(line, sizeof line, "%" PRId64 ":%" PRId64, major, minor);
    io_max_add(line, sizeof line, b->throttle_read_bps, b->n_throttle_read_bps, major, minor,
               "rbps");
    io_max_add(line, sizeof line, b->throttle_write_bps, b->n_throttle_write_bps, major, minor,
               "wbps");
    io_max_add(line, sizeof line, b->throttle_read_iops, b->n_throttle_read_iops, major, minor,
               "riops");
    io_max_add(line, sizeof line, b->throttle_write_iops, b->n_throttle_write_iops, major, minor,
               "wiops");
    return cg_write(dir, "io.max", line, CG_FIELD("blockIO.throttle"), err);
}

/* Each device once, in the order the lists first name it. */
static int v2_io_max(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    const typeof(r->block_io) *b = &r->block_io;
    const struct cell_throttle_device *lists[] = {b->throttle_read_bps, b->throttle_write_bps,
                                                  b->throttle_read_iops, b->throttle_write_iops};
    const size_t counts[] = {b->n_throttle_read_bps, b->n_throttle_write_bps,
                             b->n_throttle_read_iops, b->n_throttle_write_iops};
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            bool seen = false;
            for (size_t pl = 0; pl <= l && !seen; pl++)
                for (size_t pi = 0; pi < (pl == l ? i : counts[pl]) && !seen; pi++)
                    seen = lists[pl][pi].major == lists[l][i].major &&
                           lists[pl][pi].minor == lists[l][i].minor;
            int ret = seen ? 0 : io_max_device(dir, r, lists[l][i].major, lists[l][i].minor, err);
            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

static int v2_io(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    int ret = 0;
    if (r->block_io.weight != CELL_UNSET)
        ret = io_weight(dir, "", r->block_io.weight, CG_FIELD("blockIO.weight"), err);
    for (size_t i = 0; ret == 0 && i < r->block_io.n_weight_device; i++) {
        const struct cell_weight_device *w = &r->block_io.weight_device[i];
        char prefix[48];
        snprintf(prefix, sizeof prefix, "%" PRId64 ":%" PRId64 " ", w->major, w->minor);
        if (w->weight != CELL_UNSET)
            ret = io_weight(dir, prefix, w->weight, CG_FIELD("blockIO.weightDevice"), err);
    }
    return ret == 0 ? v2_io_max(dir, r, err) : ret;
}

int cell_cgroup_v2_write_hugetlb(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    return cg_write_hugetlb(dir, r, "max", "rsvd.max", err);
}

int cell_cgroup_v2_write_unified(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    for (size_t i = 0; i < r->n_unified; i++) {
        const struct cell_key_value *kv = &r->unified[i];
        char field[320];
        snprintf(field, sizeof field, CG_FIELD("unified") ".%s", kv->key);
        if (!cg_unified_key_valid(kv->key))
            return cell_error(err, 0, "%s: not a file of the cgroup", field);
        int ret = cg_write(dir, kv->key, kv->value, field, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int v2_rdma(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    for (size_t i = 0; i < r->n_rdma; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s %s", r->rdma[i].key, r->rdma[i].value);
        int ret = cg_write(dir, "rdma.max", buf, CG_FIELD("rdma"), err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* The typed fields first, then `unified`, which may override them. */
static int v2_apply(const char *dir, const struct cell_resources *r, bool update, cell_err_t *err)
{
    if (!r)
        return 0;
    int ret = v2_memory(dir, r, update, err);
    if (ret == 0)
        ret = v2_cpu(dir, r, err);
    if (ret == 0)
        ret = v2_pids_max(dir, r, err);
    if (ret == 0)
        ret = v2_io(dir, r, err);
    if (ret == 0)
        ret = cell_cgroup_v2_write_hugetlb(dir, r, err);
    if (ret == 0)
        ret = v2_rdma(dir, r, err);
    if (ret == 0)
        ret = cell_cgroup_v2_write_unified(dir, r, err);
    if (ret == 0 && r->n_devices)
        ret = cell_cgroup_bpf_devices(dir, r->devices, r->n_devices, err);
    return ret;
}

/* --- the driver --- */

static int check(const struct cell_resources *r, cell_err_t *err)
{
    int ret = r ? cell_cgroup_check_resources(r, err) : 0;
    return ret == 0 && r ? v2_check(r, err) : ret;
}

static int v2_create(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    struct cell_cgroup_hier *h = &cg->hiers[0];
    _cleanup_free_ char *root = cell_cgroup_hier_root(cg, h);
    unsigned kept = 0;
    bool made = false;
    int ret = check(r, err);
    if (ret == 0 && !root)
        ret = cell_error(err, EINVAL, "cgroup %s: %s is not under its hierarchy", cg->path,
                         h->host_dir);
    if (ret < 0)
        return ret;
    ret = cg_mkdir_path(root, cg->path, &kept, &made, NULL, NULL, err);
    if (ret == 0) {
        struct cg_controllers want;
        cg_res_controllers(r, &want);
        ret = cell_cgroup_v2_enable(root, cg->path, kept, &want, true, err);
    }
    if (ret == 0)
        ret = v2_apply(h->host_dir, r, false, err);
    if (ret < 0 && (made || kept + 1 < cg_path_depth(cg->path)))
        cg_remove_path(root, cg->path, cg_keep(cg, kept), NULL);
    if (ret == 0)
        h->keep = cg_keep(cg, kept);
    return ret;
}

static int v2_update(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    int ret = check(r, err);
    return ret < 0 ? ret : v2_apply(cg->hiers[0].host_dir, r, true, err);
}

static int v2_open_join_fds(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                            cell_err_t *err)
{
    *fds = NULL;
    *n = 0;
    *clone_fd = open(cg->hiers[0].host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*clone_fd < 0)
        return cell_error(err, errno, "open %s", cg->hiers[0].host_dir);
    return 0;
}

static int v2_attach(struct cell_cgroup *cg, pid_t pid, cell_err_t *err)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    return cg_write(cg->hiers[0].host_dir, "cgroup.procs", buf, NULL, err);
}

static int v2_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err)
{
    *pids = NULL;
    *n = 0;
    return cg_read_pids(cg->hiers[0].host_dir, pids, n, err);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cgroup.events says "frozen 1" once every task has stopped; the kernel
 * notifies pollers (POLLPRI) when it changes. */
static int wait_frozen(const char *dir, bool frozen, cell_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.events", dir);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cell_error(err, errno, "open %s", path);
    int64_t deadline = now_ms() + 5000;
    for (;;) {
        char buf[256];
        ssize_t len = pread(fd, buf, sizeof buf - 1, 0);
        if (len < 0)
            return cell_error(err, errno, "read %s", path);
        buf[len] = '\0';
        if ((cg_keyed_value(buf, "frozen") == 1) == frozen)
            return 0;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return cell_error(err, EBUSY, "%s %s: not done after 5 s", frozen ? "freeze" : "thaw",
                              dir);
        struct pollfd p = {fd, POLLPRI, 0};
        if (poll(&p, 1, left > 10 ? 10 : (int)left) < 0 && errno != EINTR)
            return cell_error(err, errno, "poll %s", path);
    }
}

static int v2_freeze(struct cell_cgroup *cg, bool frozen, cell_err_t *err)
{
    const char *dir = cg->hiers[0].host_dir;
    int ret = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err);
    if (ret == 0)
        ret = wait_frozen(dir, frozen, err);
    if (ret < 0 && frozen)
        cg_try_write(dir, "cgroup.freeze", "0");
    return ret;
}

static int v2_frozen(struct cell_cgroup *cg, bool *frozen, cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    *frozen = false;
    int ret = cg_read(cg->hiers[0].host_dir, "cgroup.freeze", &text);
    if (ret == -ENOENT)
        return 0;
    if (ret < 0)
        return cell_error(err, -ret, "read %s/cgroup.freeze", cg->hiers[0].host_dir);
    *frozen = !strcmp(text, "1");
    return 0;
}

static int v2_oom_kills(struct cell_cgroup *cg, int64_t *count, cell_err_t *err)
{
    _cleanup_free_ char *text = NULL;
    *count = 0;
    int ret = cg_read(cg->hiers[0].host_dir, "memory.events", &text);
    if (ret == -ENOENT)
        return 0; /* no memory controller here: no memory limit either */
    if (ret < 0)
        return cell_error(err, -ret, "read %s/memory.events", cg->hiers[0].host_dir);
    *count = cg_keyed_value(text, "oom_kill");
    return 0;
}

static int v2_destroy(struct cell_cgroup *cg, cell_err_t *err)
{
    _cleanup_free_ char *root = cell_cgroup_hier_root(cg, &cg->hiers[0]);
    return root ? cg_remove_path(root, cg->path, cg->hiers[0].keep, err) : 0;
}

const struct cell_cgroup_ops cell_cgroup_v2_ops = {
    .name = "v2",
    .create = v2_create,
    .open_join_fds = v2_open_join_fds,
    .attach = v2_attach,
    .update = v2_update,
    .pids = v2_pids,
    .freeze = v2_freeze,
    .frozen = v2_frozen,
    .oom_kills = v2_oom_kills,
    .stats = cg_v2_stats,
    .destroy = v2_destroy,
};

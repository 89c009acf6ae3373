/* The cgroup v1 driver: a directory in every mounted controller hierarchy,
 * and in the hybrid layout one in the unified hierarchy too when a resource
 * needs it (hugetlb that only cgroup2 has, `unified` keys). */
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_unified(const struct cell_cgroup_hier *h)
{
    return !strcmp(h->fstype, "cgroup2");
}

static struct cell_cgroup_hier *find_hier(struct cell_cgroup *cg, const char *controller)
{
    for (size_t i = 0; i < cg->n_hiers; i++)
        if (!is_unified(&cg->hiers[i]) && cell_cgroup_hier_has(&cg->hiers[i], controller))
            return &cg->hiers[i];
    return NULL;
}

static struct cell_cgroup_hier *find_unified(struct cell_cgroup *cg)
{
    for (size_t i = 0; i < cg->n_hiers; i++)
        if (is_unified(&cg->hiers[i]))
            return &cg->hiers[i];
    return NULL;
}

/* The container's directory in the hierarchy of controller. */
static const char *dir_of(struct cell_cgroup *cg, const char *controller, const char *field,
                          cell_err_t *err)
{
    struct cell_cgroup_hier *h = find_hier(cg, controller);
    if (!h)
        cell_error(err, 0, "%s: the %s controller is not mounted", field, controller);
    return h ? h->host_dir : NULL;
}

static const char *num(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

/* --- resources --- */

/* Without swap accounting there is no memory+swap file; a swap limit that
 * asks for nothing beyond the memory limit (or for no limit) is then moot. */
static bool swap_moot(const char *dir, const struct cell_resources *r)
{
    char path[PATH_MAX];
    if (r->memory.swap >= 0 && r->memory.swap != r->memory.limit)
        return false;
    snprintf(path, sizeof path, "%s/memory.memsw.limit_in_bytes", dir);
    return access(path, F_OK) < 0 && errno == ENOENT;
}

static int memory_limits(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char limit[24], swap[24];
    struct cg_knob knobs[] = {
        {"memory.limit_in_bytes", NULL, CG_FIELD("memory.limit")},
        {"memory.memsw.limit_in_bytes", NULL, CG_FIELD("memory.swap")},
    };
    if (r->memory.limit != CELL_UNSET)
        knobs[0].value = num(limit, sizeof limit, r->memory.limit);
    if (cg_swap_set(r) && !swap_moot(dir, r))
        knobs[1].value = num(swap, sizeof swap, r->memory.swap);
    return cg_write_group(dir, knobs, ARRAY_SIZE(knobs), err);
}

/* Kernel memory limits: -1 (none) is what a kernel without them does. */
static int kmem_limit(const char *dir, const char *file, int64_t v, const char *field,
                      cell_err_t *err)
{
    char buf[24];
    if (v == CELL_UNSET)
        return 0;
    int r = cg_try_write(dir, file, num(buf, sizeof buf, v));
    if (r == 0 || (r == -ENOENT && v < 0))
        return 0;
    return cg_write_error(dir, file, buf, field, r, err);
}

static int v1_memory(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (!cg_res_uses(r, "memory") && r->memory.use_hierarchy < 0)
        return 0;
    const char *dir = dir_of(cg, "memory", CG_FIELD("memory"), err);
    int ret = dir ? memory_limits(dir, r, err) : -ENOENT;
    if (ret == 0)
        ret = cg_write_i64(dir, "memory.soft_limit_in_bytes", r->memory.reservation,
                           CG_FIELD("memory.reservation"), err);
    if (ret == 0)
        ret = kmem_limit(dir, "memory.kmem.limit_in_bytes", r->memory.kernel,
                         CG_FIELD("memory.kernel"), err);
    if (ret == 0)
        ret = kmem_limit(dir, "memory.kmem.tcp.limit_in_bytes", r->memory.kernel_tcp,
                         CG_FIELD("memory.kernelTCP"), err);
    if (ret == 0)
        ret = cg_write_i64(dir, "memory.swappiness", r->memory.swappiness,
                           CG_FIELD("memory.swappiness"), err);
    if (ret == 0 && r->memory.disable_oom_killer >= 0)
        ret = cg_write(dir, "memory.oom_control", r->memory.disable_oom_killer ? "1" : "0",
                       CG_FIELD("memory.disableOOMKiller"), err);
    if (ret == 0 && r->memory.use_hierarchy >= 0)
        ret = cg_write(dir, "memory.use_hierarchy", r->memory.use_hierarchy ? "1" : "0",
                       CG_FIELD("memory.useHierarchy"), err);
    return ret;
}

static void knob_i64(struct cg_knob *k, char *buf, size_t len, int64_t v)
{
    if (v != CELL_UNSET)
        k->value = num(buf, len, v < 0 ? -1 : v);
}

static int cfs_bandwidth(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char period[24], quota[24], burst[24];
    struct cg_knob knobs[] = {
        {"cpu.cfs_period_us", NULL, CG_FIELD("cpu.period")},
        {"cpu.cfs_quota_us", NULL, CG_FIELD("cpu.quota")},
        {"cpu.cfs_burst_us", NULL, CG_FIELD("cpu.burst")},
    };
    knob_i64(&knobs[0], period, sizeof period, r->cpu.period);
    knob_i64(&knobs[1], quota, sizeof quota, r->cpu.quota);
    knob_i64(&knobs[2], burst, sizeof burst, r->cpu.burst);
    return cg_write_group(dir, knobs, ARRAY_SIZE(knobs), err);
}

static int rt_bandwidth(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char period[24], runtime[24];
    struct cg_knob knobs[] = {
        {"cpu.rt_period_us", NULL, CG_FIELD("cpu.realtimePeriod")},
        {"cpu.rt_runtime_us", NULL, CG_FIELD("cpu.realtimeRuntime")},
    };
    knob_i64(&knobs[0], period, sizeof period, r->cpu.realtime_period);
    knob_i64(&knobs[1], runtime, sizeof runtime, r->cpu.realtime_runtime);
    return cg_write_group(dir, knobs, ARRAY_SIZE(knobs), err);
}

static int v1_cpu(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (!cg_res_uses(r, "cpu"))
        return 0;
    const char *dir = dir_of(cg, "cpu", CG_FIELD("cpu"), err);
    int ret =
        dir ? cg_write_i64(dir, "cpu.shares", r->cpu.shares, CG_FIELD("cpu.shares"), err) : -ENOENT;
    if (ret == 0)
        ret = cfs_bandwidth(dir, r, err);
    if (ret == 0)
        ret = rt_bandwidth(dir, r, err);
    if (ret == 0)
        ret = cg_write_i64(dir, "cpu.idle", r->cpu.idle, CG_FIELD("cpu.idle"), err);
    return ret;
}

static int v1_cpuset(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (!r->cpu.cpus && !r->cpu.mems)
        return 0;
    const char *dir = dir_of(cg, "cpuset", CG_FIELD("cpu.cpus"), err);
    int ret = dir ? 0 : -ENOENT;
    if (ret == 0 && r->cpu.cpus)
        ret = cg_write(dir, "cpuset.cpus", r->cpu.cpus, CG_FIELD("cpu.cpus"), err);
    if (ret == 0 && r->cpu.mems)
        ret = cg_write(dir, "cpuset.mems", r->cpu.mems, CG_FIELD("cpu.mems"), err);
    return ret;
}

static int v1_pids_max(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (r->pids.limit == CELL_UNSET)
        return 0;
    const char *dir = dir_of(cg, "pids", CG_FIELD("pids.limit"), err);
    char buf[24];
    cg_limit_str(r->pids.limit, buf, sizeof buf);
    return dir ? cg_write(dir, "pids.max", buf, CG_FIELD("pids.limit"), err) : -ENOENT;
}

/* The weights live in blkio.weight* with CFQ (before Linux 5.0) and in
 * blkio.bfq.weight* with BFQ. */
static int blkio_weights(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    char buf[64];
    int ret = 0;
    if (r->block_io.weight != CELL_UNSET)
        ret = cg_write_either(dir, "blkio.weight", "blkio.bfq.weight",
                              num(buf, sizeof buf, r->block_io.weight), CG_FIELD("blockIO.weight"),
                              err);
    if (ret == 0)
        ret = cg_write_i64(dir, "blkio.leaf_weight", r->block_io.leaf_weight,
                           CG_FIELD("blockIO.leafWeight"), err);
    for (size_t i = 0; ret == 0 && i < r->block_io.n_weight_device; i++) {
        const struct cell_weight_device *w = &r->block_io.weight_device[i];
        if (w->weight != CELL_UNSET) {
            snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor,
                     w->weight);
            ret = cg_write_either(dir, "blkio.weight_device", "blkio.bfq.weight_device", buf,
                                  CG_FIELD("blockIO.weightDevice"), err);
        }
        if (ret == 0 && w->leaf_weight != CELL_UNSET) {
            snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor,
                     w->leaf_weight);
            ret = cg_write(dir, "blkio.leaf_weight_device", buf,
                           CG_FIELD("blockIO.weightDevice.leafWeight"), err);
        }
    }
    return ret;
}

static int throttle(const char *dir, const char *file, const struct cell_throttle_device *t,
                    size_t n, const char *field, cell_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor,
                 t[i].rate);
        int ret = cg_write(dir, file, buf, field, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int v1_blkio(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (!cg_res_uses(r, "io"))
        return 0;
    const char *dir = dir_of(cg, "blkio", CG_FIELD("blockIO"), err);
    const typeof(r->block_io) *b = &r->block_io;
    int ret = dir ? blkio_weights(dir, r, err) : -ENOENT;
    if (ret == 0)
        ret = throttle(dir, "blkio.throttle.read_bps_device", b->throttle_read_bps,
                       b->n_throttle_read_bps, CG_FIELD("blockIO.throttleReadBpsDevice"), err);
    if (ret == 0)
        ret = throttle(dir, "blkio.throttle.write_bps_device", b->throttle_write_bps,
                       b->n_throttle_write_bps, CG_FIELD("blockIO.throttleWriteBpsDevice"), err);
    if (ret == 0)
        ret = throttle(dir, "blkio.throttle.read_iops_device", b->throttle_read_iops,
                       b->n_throttle_read_iops, CG_FIELD("blockIO.throttleReadIOPSDevice"), err);
    if (ret == 0)
        ret = throttle(dir, "blkio.throttle.write_iops_device", b->throttle_write_iops,
                       b->n_throttle_write_iops, CG_FIELD("blockIO.throttleWriteIOPSDevice"), err);
    return ret;
}

static int hugetlb_v1(const char *dir, const struct cell_resources *r, cell_err_t *err)
{
    return cg_write_hugetlb(dir, r, "limit_in_bytes", "rsvd.limit_in_bytes", err);
}

static int v1_hugetlb(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (r->n_hugepage_limits == 0)
        return 0;
    struct cell_cgroup_hier *h = find_hier(cg, "hugetlb");
    if (h)
        return hugetlb_v1(h->host_dir, r, err);
    h = find_unified(cg);
    if (h)
        return cell_cgroup_v2_write_hugetlb(h->host_dir, r, err);
    return cell_error(err, 0, CG_FIELD("hugepageLimits") ": the hugetlb controller is not mounted");
}

static int v1_network(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    int ret = 0;
    if (r->network.class_id != CELL_UNSET) {
        const char *dir = dir_of(cg, "net_cls", CG_FIELD("network.classID"), err);
        ret = dir ? cg_write_i64(dir, "net_cls.classid", r->network.class_id,
                                 CG_FIELD("network.classID"), err)
                  : -ENOENT;
    }
    if (ret < 0 || r->network.n_priorities == 0)
        return ret;
    const char *dir = dir_of(cg, "net_prio", CG_FIELD("network.priorities"), err);
    for (size_t i = 0; dir && ret == 0 && i < r->network.n_priorities; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s %s", r->network.priorities[i].key,
                 r->network.priorities[i].value);
        ret = cg_write(dir, "net_prio.ifpriomap", buf, CG_FIELD("network.priorities"), err);
    }
    return dir ? ret : -ENOENT;
}

static bool rule_is_everything(const struct cell_device_rule *d)
{
    return d->major < 0 && d->minor < 0 && strchr(d->access, 'r') && strchr(d->access, 'w') &&
           strchr(d->access, 'm');
}

/* The kernel reads any "a" line as all devices with all access, so a
 * narrower rule of type a is written as its c and b halves. */
static int device_rule(const char *dir, const struct cell_device_rule *d, cell_err_t *err)
{
    const char *file = d->allow ? "devices.allow" : "devices.deny";
    char buf[64];
    if (d->type == 'a' && !rule_is_everything(d)) {
        struct cell_device_rule half = *d;
        half.type = 'c';
        int ret = device_rule(dir, &half, err);
        half.type = 'b';
        return ret < 0 ? ret : device_rule(dir, &half, err);
    }
    cg_device_rule_str(d, buf, sizeof buf);
    return cg_write(dir, file, buf, CG_FIELD("devices"), err);
}

/* The rules apply in order on top of "deny everything". */
static int v1_devices(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (r->n_devices == 0)
        return 0;
    const char *dir = dir_of(cg, "devices", CG_FIELD("devices"), err);
    const struct cell_device_rule *first = &r->devices[0];
    int ret = dir ? 0 : -ENOENT;
    /* Rule lists usually begin with that very line; no need to say it twice. */
    if (ret == 0 && (first->allow || first->type != 'a' || !rule_is_everything(first)))
        ret = cg_write(dir, "devices.deny", "a", CG_FIELD("devices"), err);
    for (size_t i = 0; ret == 0 && i < r->n_devices; i++)
        ret = device_rule(dir, &r->devices[i], err);
    return ret;
}

static int v1_rdma(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (r->n_rdma == 0)
        return 0;
    const char *dir = dir_of(cg, "rdma", CG_FIELD("rdma"), err);
    int ret = dir ? 0 : -ENOENT;
    for (size_t i = 0; ret == 0 && i < r->n_rdma; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s %s", r->rdma[i].key, r->rdma[i].value);
        ret = cg_write(dir, "rdma.max", buf, CG_FIELD("rdma"), err);
    }
    return ret;
}

static int v1_unified(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    if (r->n_unified == 0)
        return 0;
    struct cell_cgroup_hier *h = find_unified(cg);
    if (!h)
        return cell_error(err, 0,
                          CG_FIELD("unified") ": needs cgroup v2, and this container's cgroup "
                                              "has no part in the unified hierarchy");
    return cell_cgroup_v2_write_unified(h->host_dir, r, err);
}

static int v1_apply(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    static int (*const steps[])(struct cell_cgroup *, const struct cell_resources *,
                                cell_err_t *) = {
        v1_devices, v1_memory,  v1_cpu,     v1_cpuset, v1_pids_max,
        v1_blkio,   v1_hugetlb, v1_network, v1_rdma,   v1_unified,
    };
    for (size_t i = 0; r && i < ARRAY_SIZE(steps); i++) {
        int ret = steps[i](cg, r, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* --- making the directories --- */

static char *parent_of(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    return slash ? strndup(dir, (size_t)(slash - dir)) : NULL;
}

/* A new cpuset cgroup starts with no cpus and no memory nodes, and a task
 * cannot join it (ENOSPC); fill them in from the nearest ancestor that has
 * them. root_len marks the hierarchy root, which always has them. */
static int cpuset_fill(const char *dir, const char *file, size_t root_len, cell_err_t *err)
{
    _cleanup_free_ char *value = NULL, *parent = NULL;
    int r = cg_read(dir, file, &value);
    if (r < 0)
        return cell_error(err, -r, "read %s/%s", dir, file);
    if (value[0] || strlen(dir) <= root_len || !(parent = parent_of(dir)))
        return 0;
    r = cpuset_fill(parent, file, root_len, err);
    if (r < 0)
        return r;
    free(value);
    value = NULL;
    r = cg_read(parent, file, &value);
    if (r < 0)
        return cell_error(err, -r, "read %s/%s", parent, file);
    return cg_write(dir, file, value, NULL, err);
}

struct cpuset_ctx {
    size_t root_len;
};

/* On a cpuset parent we made: fill it, and let its future children (the
 * containers) be filled by the kernel at mkdir time. */
static int cpuset_parent_made(const char *dir, void *data, cell_err_t *err)
{
    const struct cpuset_ctx *c = data;
    int r = cpuset_fill(dir, "cpuset.cpus", c->root_len, err);
    if (r == 0)
        r = cpuset_fill(dir, "cpuset.mems", c->root_len, err);
    if (r == 0)
        r = cg_write(dir, "cgroup.clone_children", "1", NULL, err);
    return r;
}

struct made {
    bool leaf;     /* the leaf was made by this create */
    unsigned kept; /* components that existed before */
    bool tried;    /* cleanup applies */
};

static int make_cpuset(const char *root, const char *path, const char *dir,
                       const struct cell_resources *r, struct made *m, cell_err_t *err)
{
    struct cpuset_ctx c = {strlen(root)};
    int ret = cg_mkdir_path(root, path, &m->kept, &m->leaf, cpuset_parent_made, &c, err);
    if (ret < 0)
        return ret;
    /* With the parent made here, clone_children filled the leaf. */
    if (m->kept + 1 < cg_path_depth(path))
        return 0;
    if (!r || !r->cpu.cpus)
        ret = cpuset_fill(dir, "cpuset.cpus", c.root_len, err);
    if (ret == 0 && (!r || !r->cpu.mems))
        ret = cpuset_fill(dir, "cpuset.mems", c.root_len, err);
    return ret;
}

/* The v2 controllers the unified part of a hybrid cgroup needs. */
static void hybrid_wants(struct cell_cgroup *cg, const struct cell_resources *r,
                         struct cg_controllers *want)
{
    want->n = 0;
    if (!r)
        return;
    if (r->n_hugepage_limits && !find_hier(cg, "hugetlb"))
        cg_controllers_add(want, "hugetlb");
    for (size_t i = 0; i < r->n_unified; i++) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(r->unified[i].key, "."),
                 r->unified[i].key);
        if (strcmp(name, "cgroup"))
            cg_controllers_add(want, name);
    }
}

static int make_hier(struct cell_cgroup *cg, struct cell_cgroup_hier *h,
                     const struct cell_resources *r, struct made *m, cell_err_t *err)
{
    _cleanup_free_ char *root = cell_cgroup_hier_root(cg, h);
    if (!root)
        return cell_error(err, EINVAL, "cgroup %s: %s is not under its hierarchy", cg->path,
                          h->host_dir);
    m->tried = true;
    if (cell_cgroup_hier_has(h, "cpuset"))
        return make_cpuset(root, cg->path, h->host_dir, r, m, err);
    int ret = cg_mkdir_path(root, cg->path, &m->kept, &m->leaf, NULL, NULL, err);
    if (ret == 0 && is_unified(h)) {
        struct cg_controllers want;
        hybrid_wants(cg, r, &want);
        ret = cell_cgroup_v2_enable(root, cg->path, m->kept, &want, false, err);
    }
    return ret;
}

/* Removes what a failed create made: the leaves it made, and the parents
 * that are ours once empty. A leaf that existed before stays. */
static void unmake(struct cell_cgroup *cg, const struct made *made)
{
    size_t depth = cg_path_depth(cg->path);
    for (size_t i = 0; i < cg->n_hiers; i++) {
        if (!made[i].tried || (!made[i].leaf && made[i].kept + 1 >= depth))
            continue;
        _cleanup_free_ char *root = cell_cgroup_hier_root(cg, &cg->hiers[i]);
        if (root)
            cg_remove_path(root, cg->path, cg_keep(cg, made[i].kept), NULL);
    }
}

static bool needs_unified(struct cell_cgroup *cg, const struct cell_resources *r)
{
    return cg->layout == CELL_CGROUP_HYBRID && r &&
           (r->n_unified || (r->n_hugepage_limits && !find_hier(cg, "hugetlb")));
}

static int add_unified(struct cell_cgroup *cg, cell_err_t *err)
{
    if (find_unified(cg))
        return 0;
    _cleanup_free_ char *dir = NULL;
    if (asprintf(&dir, "%s/unified%s", cell_cgroup_mountpoint, cg->path) < 0 ||
        !cell_cgroup_add_hier(cg, "unified", "cgroup2", NULL, dir))
        return cell_error(err, ENOMEM, "cgroup");
    return 0;
}

static int v1_check(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    int ret = r ? cell_cgroup_check_resources(r, err) : 0;
    if (ret == 0 && r && r->n_unified && cg->layout == CELL_CGROUP_V1)
        ret = cell_error(err, 0, CG_FIELD("unified") ": needs cgroup v2 (this host has v1 only)");
    if (ret == 0 && needs_unified(cg, r))
        ret = add_unified(cg, err);
    return ret;
}

static int v1_create(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    int ret = v1_check(cg, r, err);
    if (ret < 0)
        return ret;
    _cleanup_free_ struct made *made = calloc(cg->n_hiers, sizeof *made);
    if (!made)
        return cell_error(err, ENOMEM, "cgroup");
    for (size_t i = 0; ret == 0 && i < cg->n_hiers; i++)
        ret = make_hier(cg, &cg->hiers[i], r, &made[i], err);
    if (ret == 0)
        ret = v1_apply(cg, r, err);
    if (ret < 0) {
        unmake(cg, made);
        return ret;
    }
    for (size_t i = 0; i < cg->n_hiers; i++)
        cg->hiers[i].keep = cg_keep(cg, made[i].kept);
    return 0;
}

static int v1_update(struct cell_cgroup *cg, const struct cell_resources *r, cell_err_t *err)
{
    int ret = r ? cell_cgroup_check_resources(r, err) : 0;
    return ret < 0 ? ret : v1_apply(cg, r, err);
}

/* --- processes --- */

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* "tasks" moves only the writing thread: no threadgroup lock, so no RCU
 * grace period to wait for (cgroup.procs waits 5-13 ms after idle). The
 * unified part of a hybrid cgroup is joined by clone3(CLONE_INTO_CGROUP),
 * which only concerns the cgroup2 hierarchy. */
static int v1_open_join_fds(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                            cell_err_t *err)
{
    _cleanup_free_ int *out = calloc(cg->n_hiers + 1, sizeof *out);
    _cleanup_close_ int cfd = -1;
    size_t k = 0;
    if (!out)
        return cell_error(err, ENOMEM, "cgroup");
    for (size_t i = 0; i < cg->n_hiers; i++) {
        const struct cell_cgroup_hier *h = &cg->hiers[i];
        char path[PATH_MAX];
        int fd;
        if (is_unified(h)) {
            snprintf(path, sizeof path, "%s", h->host_dir);
            fd = cfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
            snprintf(path, sizeof path, "%s/tasks", h->host_dir);
            fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd >= 0)
                out[k++] = fd;
        }
        if (fd < 0) {
            int e = errno;
            close_all(out, k);
            return cell_error(err, e, "open %s", path);
        }
    }
    *n = k;
    *fds = TAKE_PTR(out);
    *clone_fd = TAKE_FD(cfd);
    return 0;
}

static int v1_attach(struct cell_cgroup *cg, pid_t pid, cell_err_t *err)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    for (size_t i = 0; i < cg->n_hiers; i++) {
        int ret = cg_write(cg->hiers[i].host_dir, "cgroup.procs", buf, NULL, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Every hierarchy holds the same processes; memory's is the one to ask. */
static int v1_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err)
{
    struct cell_cgroup_hier *h = find_hier(cg, "memory");
    *pids = NULL;
    *n = 0;
    if (!h)
        h = cg->n_hiers ? &cg->hiers[0] : NULL;
    return h ? cg_read_pids(h->host_dir, pids, n, err) : 0;
}

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* freezer.state reads FREEZING until every task has stopped; asking again
 * retries the tasks that were busy in the kernel. */
static int v1_freeze(struct cell_cgroup *cg, bool frozen, cell_err_t *err)
{
    const char *dir = dir_of(cg, "freezer", "freeze", err);
    const char *want = frozen ? "FROZEN" : "THAWED";
    if (!dir)
        return -ENOENT;
    long delay = 10, waited = 0;
    while (waited < 5000000) {
        _cleanup_free_ char *state = NULL;
        int ret = cg_write(dir, "freezer.state", want, NULL, err);
        if (ret == 0 && (ret = cg_read(dir, "freezer.state", &state)) < 0)
            ret = cell_error(err, -ret, "read %s/freezer.state", dir);
        if (ret < 0 || !strcmp(state, want))
            return ret;
        sleep_us(delay);
        waited += delay;
        delay = delay * 2 > 10000 ? 10000 : delay * 2;
    }
    if (frozen)
        cg_try_write(dir, "freezer.state", "THAWED");
    return cell_error(err, EBUSY, "freeze %s: still not %s after 5 s", dir, want);
}

static int v1_frozen(struct cell_cgroup *cg, bool *frozen, cell_err_t *err)
{
    struct cell_cgroup_hier *h = find_hier(cg, "freezer");
    _cleanup_free_ char *state = NULL;
    *frozen = false;
    if (!h)
        return 0;
    int ret = cg_read(h->host_dir, "freezer.state", &state);
    if (ret == -ENOENT)
        return 0;
    if (ret < 0)
        return cell_error(err, -ret, "read %s/freezer.state", h->host_dir);
    *frozen = strcmp(state, "THAWED") != 0;
    return 0;
}

static int v1_oom_kills(struct cell_cgroup *cg, int64_t *count, cell_err_t *err)
{
    struct cell_cgroup_hier *h = find_hier(cg, "memory");
    _cleanup_free_ char *text = NULL;
    *count = 0;
    if (!h)
        return 0;
    int ret = cg_read(h->host_dir, "memory.oom_control", &text);
    if (ret == -ENOENT)
        return 0;
    if (ret < 0)
        return cell_error(err, -ret, "read %s/memory.oom_control", h->host_dir);
    *count = cg_keyed_value(text, "oom_kill");
    /* Kernels before 4.13 have no counter; with the killer disabled the
     * tasks wait under_oom instead of dying. */
    if (*count == 0 && cg_keyed_value(text, "under_oom") > 0)
        *count = 1;
    return 0;
}

static int v1_destroy(struct cell_cgroup *cg, cell_err_t *err)
{
    int ret = 0;
    for (size_t i = 0; i < cg->n_hiers; i++) {
        _cleanup_free_ char *root = cell_cgroup_hier_root(cg, &cg->hiers[i]);
        int r = root ? cg_remove_path(root, cg->path, cg->hiers[i].keep, ret < 0 ? NULL : err) : 0;
        if (r < 0 && ret == 0)
            ret = r;
    }
    return ret;
}

const struct cell_cgroup_ops cell_cgroup_v1_ops = {
    .name = "v1",
    .create = v1_create,
    .open_join_fds = v1_open_join_fds,
    .attach = v1_attach,
    .update = v1_update,
    .pids = v1_pids,
    .freeze = v1_freeze,
    .frozen = v1_frozen,
    .oom_kills = v1_oom_kills,
    .stats = cg_v1_stats,
    .destroy = v1_destroy,
};

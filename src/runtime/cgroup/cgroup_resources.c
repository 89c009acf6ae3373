/* linux.resources values as cgroup files take them, and the checks that do
 * not depend on the host. */
#include "runtime/cgroup/cgroup_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The v1 range 2..262144 mapped linearly onto the v2 range 1..10000. */
uint64_t cell_cgroup_shares_to_weight(uint64_t shares)
{
    shares = clamp(shares, 2, 262144);
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* The v1 range 10..1000 mapped linearly onto the v2 range 1..10000. */
uint64_t cell_cgroup_blkio_to_io_weight(uint64_t weight)
{
    weight = clamp(weight, 10, 1000);
    return 1 + ((weight - 10) * 9999) / 990;
}

void cg_limit_str(int64_t v, char *buf, size_t len)
{
    if (v < 0)
        snprintf(buf, len, "max");
    else
        snprintf(buf, len, "%" PRId64, v);
}

bool cg_swap_set(const struct cell_resources *r)
{
    return r->memory.swap != CELL_UNSET && r->memory.swap != 0;
}

/* The spec's swap is v1's memory+swap limit; v2 limits swap alone. */
int cell_cgroup_swap_v2(int64_t swap, int64_t limit, char *buf, size_t len, cell_err_t *err)
{
    if (swap < 0) {
        snprintf(buf, len, "max");
        return 0;
    }
    if (limit == CELL_UNSET || limit < 0)
        return cell_error(err, 0,
                          CG_FIELD("memory.swap") ": a memory+swap limit (%" PRId64
                                                  ") needs a memory limit",
                          swap);
    if (swap < limit)
        return cell_error(err, 0,
                          CG_FIELD("memory.swap") " (%" PRId64 ") is below memory.limit (%" PRId64
                                                  "): it counts memory+swap",
                          swap, limit);
    snprintf(buf, len, "%" PRId64, swap - limit);
    return 0;
}

bool cg_page_size_valid(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && s[digits] && strchr("KMGTPE", s[digits]) && s[digits + 1] == 'B' &&
           s[digits + 2] == '\0';
}

bool cg_unified_key_valid(const char *key)
{
    return key[0] && !strchr(key, '/') && !strstr(key, "..") && strcmp(key, ".");
}

void cg_device_rule_str(const struct cell_device_rule *d, char *buf, size_t len)
{
    if (d->type == 'a') {
        snprintf(buf, len, "a");
        return;
    }
    char major[24] = "*", minor[24] = "*";
    if (d->major >= 0)
        snprintf(major, sizeof major, "%" PRId64, d->major);
    if (d->minor >= 0)
        snprintf(minor, sizeof minor, "%" PRId64, d->minor);
    snprintf(buf, len, "%c %s:%s %s", d->type, major, minor, d->access);
}

static int check_memory(const struct cell_resources *r, cell_err_t *err)
{
    int64_t limit = r->memory.limit, swap = r->memory.swap;
    if (cg_swap_set(r) && swap >= 0 && limit != CELL_UNSET && limit >= 0 && swap < limit)
        return cell_error(err, 0,
                          CG_FIELD("memory.swap") " (%" PRId64 ") is below memory.limit (%" PRId64
                                                  "): it counts memory+swap",
                          swap, limit);
    return 0;
}

static int check_cpu(const struct cell_resources *r, cell_err_t *err)
{
    int64_t quota = r->cpu.quota, burst = r->cpu.burst;
    if (quota != CELL_UNSET && quota > 0 && burst != CELL_UNSET && burst > quota)
        return cell_error(
            err, 0, CG_FIELD("cpu.burst") " (%" PRId64 ") is larger than cpu.quota (%" PRId64 ")",
            burst, quota);
    return 0;
}

int cell_cgroup_check_resources(const struct cell_resources *r, cell_err_t *err)
{
    int ret = check_memory(r, err);
    if (ret == 0)
        ret = check_cpu(r, err);
    for (size_t i = 0; ret == 0 && i < r->n_hugepage_limits; i++)
        if (!cg_page_size_valid(r->hugepage_limits[i].page_size))
            ret = cell_error(err, 0,
                             CG_FIELD("hugepageLimits[%zu].pageSize") ": \"%s\" is not a size "
                                                                      "like 2MB or 1GB",
                             i, r->hugepage_limits[i].page_size);
    for (size_t i = 0; ret == 0 && i < r->n_unified; i++)
        if (!cg_unified_key_valid(r->unified[i].key))
            ret = cell_error(err, 0, CG_FIELD("unified") ": \"%s\" is not a file of the cgroup",
                             r->unified[i].key);
    return ret;
}

static bool set(int64_t v)
{
    return v != CELL_UNSET;
}

static bool uses_memory(const struct cell_resources *r)
{
    return set(r->memory.limit) || set(r->memory.reservation) || cg_swap_set(r) ||
           set(r->memory.kernel) || set(r->memory.kernel_tcp) || set(r->memory.swappiness) ||
           r->memory.disable_oom_killer >= 0;
}

static bool uses_cpu(const struct cell_resources *r)
{
    return set(r->cpu.shares) || set(r->cpu.quota) || set(r->cpu.burst) || set(r->cpu.period) ||
           set(r->cpu.realtime_runtime) || set(r->cpu.realtime_period) || set(r->cpu.idle);
}

static bool uses_io(const struct cell_resources *r)
{
    return set(r->block_io.weight) || set(r->block_io.leaf_weight) || r->block_io.n_weight_device ||
           r->block_io.n_throttle_read_bps || r->block_io.n_throttle_write_bps ||
           r->block_io.n_throttle_read_iops || r->block_io.n_throttle_write_iops;
}

static bool unified_uses(const struct cell_resources *r, const char *controller)
{
    size_t n = strlen(controller);
    for (size_t i = 0; i < r->n_unified; i++)
        if (!strncmp(r->unified[i].key, controller, n) && r->unified[i].key[n] == '.')
            return true;
    return false;
}

bool cg_res_uses(const struct cell_resources *r, const char *controller)
{
    if (!r)
        return false;
    if (unified_uses(r, controller))
        return true;
    if (!strcmp(controller, "memory"))
        return uses_memory(r);
    if (!strcmp(controller, "cpu"))
        return uses_cpu(r);
    if (!strcmp(controller, "cpuset"))
        return r->cpu.cpus || r->cpu.mems;
    if (!strcmp(controller, "pids"))
        return set(r->pids.limit);
    if (!strcmp(controller, "io"))
        return uses_io(r);
    if (!strcmp(controller, "hugetlb"))
        return r->n_hugepage_limits > 0;
    if (!strcmp(controller, "rdma"))
        return r->n_rdma > 0;
    return false;
}

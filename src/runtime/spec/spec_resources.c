/* linux.resources (config-linux.md, "Control groups"): also the input of
 * `update --resources`, hence its own entry point. */
#include "runtime/spec/spec_internal.h"

#include "base/cleanup.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integer domains. CELL_UNSET (INT64_MIN) is never a valid value. */
#define I64_MIN   (INT64_MIN + 1)
#define U64_MAX   INT64_MAX /* uint64 fields kept in an int64_t */
#define LIMIT_MIN (-1)      /* memory and pids limits: -1 means unlimited */

#define FIELD_INT(key, member, min, max)                                                           \
    {                                                                                              \
        key, SPEC_FIELD_INT64, offsetof(struct cell_resources, member), min, max                   \
    }
#define FIELD_BOOL(key, member)                                                                    \
    {                                                                                              \
        key, SPEC_FIELD_TRISTATE, offsetof(struct cell_resources, member)                          \
    }
#define FIELD_STR(key, member)                                                                     \
    {                                                                                              \
        key, SPEC_FIELD_STRING, offsetof(struct cell_resources, member)                            \
    }

static const struct spec_field memory_fields[] = {
    FIELD_INT("limit", memory.limit, LIMIT_MIN, INT64_MAX),
    FIELD_INT("reservation", memory.reservation, LIMIT_MIN, INT64_MAX),
    FIELD_INT("swap", memory.swap, LIMIT_MIN, INT64_MAX),
    FIELD_INT("kernel", memory.kernel, LIMIT_MIN, INT64_MAX),
    FIELD_INT("kernelTCP", memory.kernel_tcp, LIMIT_MIN, INT64_MAX),
    FIELD_INT("swappiness", memory.swappiness, 0, U64_MAX),
    FIELD_BOOL("disableOOMKiller", memory.disable_oom_killer),
    FIELD_BOOL("useHierarchy", memory.use_hierarchy),
    FIELD_BOOL("checkBeforeUpdate", memory.check_before_update),
};

static const struct spec_field cpu_fields[] = {
    FIELD_INT("shares", cpu.shares, 0, U64_MAX),
    FIELD_INT("quota", cpu.quota, I64_MIN, INT64_MAX),
    FIELD_INT("burst", cpu.burst, 0, U64_MAX),
    FIELD_INT("period", cpu.period, 0, U64_MAX),
    FIELD_INT("realtimeRuntime", cpu.realtime_runtime, I64_MIN, INT64_MAX),
    FIELD_INT("realtimePeriod", cpu.realtime_period, 0, U64_MAX),
    FIELD_INT("idle", cpu.idle, I64_MIN, INT64_MAX),
    FIELD_STR("cpus", cpu.cpus),
    FIELD_STR("mems", cpu.mems),
};

static const struct spec_field pids_fields[] = {
    FIELD_INT("limit", pids.limit, LIMIT_MIN, INT64_MAX),
};

static const struct spec_field block_io_fields[] = {
    FIELD_INT("weight", block_io.weight, 0, UINT16_MAX),
    FIELD_INT("leafWeight", block_io.leaf_weight, 0, UINT16_MAX),
};

static const struct spec_field network_fields[] = {
    FIELD_INT("classID", network.class_id, 0, UINT32_MAX),
};

/* Reads the scalar members of the sub-object key (memory, cpu, ...). */
static int parse_scalars(struct spec_ctx *c, const json_t *obj, const char *key,
                         struct cell_resources *r, const struct spec_field *fields, size_t n)
{
    json_t *sub = NULL;
    int ret = spec_get_object(c, obj, key, false, &sub);
    if (ret < 0 || !sub)
        return ret;
    size_t mark = spec_push_key(c, key);
    ret = spec_get_fields(c, sub, r, fields, n);
    if (ret >= 0)
        spec_pop(c, mark);
    return ret;
}

/* --- devices --- */

static int parse_rule_type(struct spec_ctx *c, const json_t *obj, char *type)
{
    _cleanup_free_ char *s = NULL;
    int r = spec_get_string(c, obj, "type", false, &s);
    if (r < 0 || !s)
        return r;
    if (strlen(s) != 1 || !strchr("acb", s[0])) {
        spec_push_key(c, "type");
        return spec_fail(c, "expected \"a\", \"c\" or \"b\", got \"%s\"", s);
    }
    *type = s[0];
    return 0;
}

/* cgroup v1 devices.allow takes one to three of r, w, m. */
static bool access_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || strspn(s, "rwm") != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr(s + i + 1, s[i]))
            return false;
    return true;
}

static int parse_rule_access(struct spec_ctx *c, const json_t *obj, char access[4])
{
    _cleanup_free_ char *s = NULL;
    int r = spec_get_string(c, obj, "access", false, &s);
    if (r < 0 || !s)
        return r;
    if (!access_valid(s)) {
        spec_push_key(c, "access");
        return spec_fail(c, "expected a combination of \"r\", \"w\" and \"m\", got \"%s\"", s);
    }
    strcpy(access, s);
    return 0;
}

/* Absent type, major and minor mean "all"; absent access means all three. */
static int parse_device_rule(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_device_rule *d = elem;
    d->type = 'a';
    d->major = d->minor = -1;
    strcpy(d->access, "rwm");
    int r = spec_get_bool(c, obj, "allow", true, &d->allow);
    if (r >= 0)
        r = parse_rule_type(c, obj, &d->type);
    if (r >= 0)
        r = spec_get_int(c, obj, "major", false, -1, INT64_MAX, &d->major);
    if (r >= 0)
        r = spec_get_int(c, obj, "minor", false, -1, INT64_MAX, &d->minor);
    if (r >= 0)
        r = parse_rule_access(c, obj, d->access);
    return r;
}

/* --- blockIO --- */

static int parse_weight_device(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_weight_device *w = elem;
    w->weight = w->leaf_weight = CELL_UNSET;
    int r = spec_get_int(c, obj, "major", true, 0, INT64_MAX, &w->major);
    if (r >= 0)
        r = spec_get_int(c, obj, "minor", true, 0, INT64_MAX, &w->minor);
    if (r >= 0)
        r = spec_get_int(c, obj, "weight", false, 0, UINT16_MAX, &w->weight);
    if (r >= 0)
        r = spec_get_int(c, obj, "leafWeight", false, 0, UINT16_MAX, &w->leaf_weight);
    return r;
}

static int parse_throttle_device(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_throttle_device *t = elem;
    int r = spec_get_int(c, obj, "major", true, 0, INT64_MAX, &t->major);
    if (r >= 0)
        r = spec_get_int(c, obj, "minor", true, 0, INT64_MAX, &t->minor);
    if (r >= 0)
        r = spec_get_u64(c, obj, "rate", true, &t->rate);
    return r;
}

static int parse_throttles(struct spec_ctx *c, const json_t *bio, struct cell_resources *res)
{
    int r = spec_get_object_array(c, bio, "throttleReadBpsDevice",
                                  sizeof *res->block_io.throttle_read_bps, parse_throttle_device,
                                  (void **)&res->block_io.throttle_read_bps,
                                  &res->block_io.n_throttle_read_bps);
    if (r >= 0)
        r = spec_get_object_array(c, bio, "throttleWriteBpsDevice",
                                  sizeof *res->block_io.throttle_write_bps, parse_throttle_device,
                                  (void **)&res->block_io.throttle_write_bps,
                                  &res->block_io.n_throttle_write_bps);
    if (r >= 0)
        r = spec_get_object_array(c, bio, "throttleReadIOPSDevice",
                                  sizeof *res->block_io.throttle_read_iops, parse_throttle_device,
                                  (void **)&res->block_io.throttle_read_iops,
                                  &res->block_io.n_throttle_read_iops);
    if (r >= 0)
        r = spec_get_object_array(c, bio, "throttleWriteIOPSDevice",
                                  sizeof *res->block_io.throttle_write_iops, parse_throttle_device,
                                  (void **)&res->block_io.throttle_write_iops,
                                  &res->block_io.n_throttle_write_iops);
    return r;
}

static int parse_block_io(struct spec_ctx *c, const json_t *obj, struct cell_resources *res)
{
    json_t *bio = NULL;
    int r = parse_scalars(c, obj, "blockIO", res, block_io_fields, ARRAY_SIZE(block_io_fields));
    if (r >= 0)
        r = spec_get_object(c, obj, "blockIO", false, &bio);
    if (r < 0 || !bio)
        return r;
    size_t mark = spec_push_key(c, "blockIO");
    r = spec_get_object_array(c, bio, "weightDevice", sizeof *res->block_io.weight_device,
                              parse_weight_device, (void **)&res->block_io.weight_device,
                              &res->block_io.n_weight_device);
    if (r >= 0)
        r = parse_throttles(c, bio, res);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

/* --- hugepageLimits --- */

/* The hugetlb controller names its files by size: hugetlb.2MB.limit_in_bytes. */
static bool page_size_valid(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && s[0] != '0' && strchr("KMG", s[digits]) && s[digits] != '\0' &&
           strcmp(s + digits + 1, "B") == 0;
}

static int parse_hugepage_limit(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_hugepage_limit *h = elem;
    int r = spec_get_string(c, obj, "pageSize", true, &h->page_size);
    if (r < 0)
        return r;
    if (!page_size_valid(h->page_size)) {
        spec_push_key(c, "pageSize");
        return spec_fail(c, "expected a size such as \"2MB\" or \"1GB\", got \"%s\"", h->page_size);
    }
    return spec_get_u64(c, obj, "limit", true, &h->limit);
}

/* --- network --- */

static int parse_priority(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_key_value *kv = elem;
    int64_t prio = 0;
    int r = spec_get_string(c, obj, "name", true, &kv->key);
    if (r >= 0)
        r = spec_get_int(c, obj, "priority", true, 0, UINT32_MAX, &prio);
    if (r >= 0 && asprintf(&kv->value, "%" PRId64, prio) < 0) {
        kv->value = NULL;
        r = spec_fail_nomem(c);
    }
    return r;
}

static int parse_network(struct spec_ctx *c, const json_t *obj, struct cell_resources *res)
{
    json_t *net = NULL;
    int r = parse_scalars(c, obj, "network", res, network_fields, ARRAY_SIZE(network_fields));
    if (r >= 0)
        r = spec_get_object(c, obj, "network", false, &net);
    if (r < 0 || !net)
        return r;
    size_t mark = spec_push_key(c, "network");
    r = spec_get_object_array(c, net, "priorities", sizeof *res->network.priorities, parse_priority,
                              (void **)&res->network.priorities, &res->network.n_priorities);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

/* --- rdma --- */

/* The line cgroup's rdma.max takes for one device, with only the limits
 * given: "hca_handle=3 hca_object=10000". */
static int rdma_limits(struct spec_ctx *c, const json_t *obj, char **out)
{
    if (!json_is_object(obj))
        return spec_fail(c, "expected an object");
    int64_t handles = CELL_UNSET, objects = CELL_UNSET;
    int r = spec_get_int(c, obj, "hcaHandles", false, 0, UINT32_MAX, &handles);
    if (r >= 0)
        r = spec_get_int(c, obj, "hcaObjects", false, 0, UINT32_MAX, &objects);
    if (r < 0)
        return r;
    if (handles == CELL_UNSET && objects == CELL_UNSET)
        return spec_fail(c, "expected hcaHandles, hcaObjects or both");
    char handle_part[32] = "", object_part[32] = "";
    if (handles != CELL_UNSET)
        snprintf(handle_part, sizeof handle_part, "hca_handle=%" PRId64, handles);
    if (objects != CELL_UNSET)
        snprintf(object_part, sizeof object_part, "hca_object=%" PRId64, objects);
    bool both = handle_part[0] && object_part[0];
    if (asprintf(out, "%s%s%s", handle_part, both ? " " : "", object_part) < 0) {
        *out = NULL;
        return spec_fail_nomem(c);
    }
    return 0;
}

static int parse_rdma(struct spec_ctx *c, const json_t *obj, struct cell_resources *res)
{
    json_t *rdma = NULL;
    int r = spec_get_object(c, obj, "rdma", false, &rdma);
    if (r < 0 || !rdma)
        return r;
    r = spec_alloc_array(c, json_object_size(rdma), sizeof *res->rdma, (void **)&res->rdma);
    if (r < 0)
        return r;
    res->n_rdma = json_object_size(rdma);
    size_t mark = spec_push_key(c, "rdma"), i = 0;
    const char *dev;
    json_t *v;
    json_object_foreach(rdma, dev, v)
    {
        size_t dmark = spec_push_key(c, dev);
        res->rdma[i].key = strdup(dev);
        if (!res->rdma[i].key)
            return spec_fail_nomem(c);
        r = rdma_limits(c, v, &res->rdma[i++].value);
        if (r < 0)
            return r;
        spec_pop(c, dmark);
    }
    spec_pop(c, mark);
    return 0;
}

/* --- the whole object --- */

static int parse_arrays(struct spec_ctx *c, const json_t *obj, struct cell_resources *res)
{
    int r = spec_get_object_array(c, obj, "devices", sizeof *res->devices, parse_device_rule,
                                  (void **)&res->devices, &res->n_devices);
    if (r >= 0)
        r = spec_get_object_array(c, obj, "hugepageLimits", sizeof *res->hugepage_limits,
                                  parse_hugepage_limit, (void **)&res->hugepage_limits,
                                  &res->n_hugepage_limits);
    return r;
}

/* --- values that say "not set" ---
 *
 * Clients fill in a zero for what they were not asked for: dockerd 20.10
 * hands every container "cpu": {"shares": 0} and "blockIO": {"weight": 0}.
 * runc 1.1 writes nothing for these zeros, while the kernel would refuse
 * some (blkio.weight 0: ERANGE) and quietly take others as a real setting
 * (cpu.shares 0 becomes 2, the least CPU there is). So they are unset here,
 * once, for every cgroup driver and for `update`. Where runc 1.1 writes a
 * zero, it stays a value: memory.swappiness (nil or -1 is unset), cpu.idle
 * and cpu.burst (pointers), pids.limit (see below), throttle rates (0 lifts
 * the throttle), hugepage limits, net_prio priorities. */
static void zero_is_unset(int64_t *v)
{
    if (*v == 0)
        *v = CELL_UNSET;
}

static void empty_is_unset(char **s)
{
    if (*s && !(*s)[0]) {
        free(*s);
        *s = NULL;
    }
}

static void drop_unset_zeros(struct cell_resources *r)
{
    /* Each with what runc 1.1 does with a 0 (fs: v1, fs2: v2). */
    int64_t *zeros[] = {
        &r->memory.limit,         /* fs: not written; fs2: numToStr(0) is "" */
        &r->memory.reservation,   /* fs, fs2: written when != 0 */
        &r->memory.swap,          /* fs: not written; fs2: 0 is "unset" */
        &r->memory.kernel,        /* ignored in 1.1; before, written when != 0 */
        &r->memory.kernel_tcp,    /* ignored in 1.1; before, written when != 0 */
        &r->cpu.shares,           /* fs: written when != 0; fs2: weight 0, unwritten */
        &r->cpu.quota,            /* fs: when != 0; fs2: cpu.max when quota or period */
        &r->cpu.period,           /* fs: when != 0; fs2: as quota */
        &r->cpu.realtime_runtime, /* fs SetRtSched: written when != 0 */
        &r->cpu.realtime_period,  /* fs SetRtSched: written when != 0 */
        &r->block_io.weight,      /* fs, fs2: written when != 0 */
        &r->block_io.leaf_weight, /* fs: written when != 0 */
        &r->network.class_id,     /* fs net_cls: written when != 0 */
    };
    for (size_t i = 0; i < ARRAY_SIZE(zeros); i++)
        zero_is_unset(zeros[i]);
    /* fs blkio: an entry's weight and leafWeight are written when != 0. */
    for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
        zero_is_unset(&r->block_io.weight_device[i].weight);
        zero_is_unset(&r->block_io.weight_device[i].leaf_weight);
    }
    /* fs memory: oom_control is written only when disableOOMKiller is true. */
    if (r->memory.disable_oom_killer == 0)
        r->memory.disable_oom_killer = -1;
    empty_is_unset(&r->cpu.cpus); /* fs, fs2 cpuset: written when != "" */
    empty_is_unset(&r->cpu.mems); /* fs, fs2 cpuset: written when != "" */
    /* pids.limit 0 stays a limit of 0: runc 1.1 skips it (PidsLimit != 0),
     * but the spec says 0 is a valid limit that runtimes SHOULD honour, and
     * runc 1.4 does. Docker 20.10 leaves pids out for --pids-limit 0. */
}

int spec_parse_resources_in(struct spec_ctx *c, const json_t *obj, struct cell_resources *res)
{
    int r = parse_arrays(c, obj, res);
    if (r >= 0)
        r = parse_scalars(c, obj, "memory", res, memory_fields, ARRAY_SIZE(memory_fields));
    if (r >= 0)
        r = parse_scalars(c, obj, "cpu", res, cpu_fields, ARRAY_SIZE(cpu_fields));
    if (r >= 0)
        r = parse_scalars(c, obj, "pids", res, pids_fields, ARRAY_SIZE(pids_fields));
    if (r >= 0)
        r = parse_block_io(c, obj, res);
    if (r >= 0)
        r = parse_network(c, obj, res);
    if (r >= 0)
        r = parse_rdma(c, obj, res);
    if (r >= 0)
        r = spec_get_string_map(c, obj, "unified", &res->unified, &res->n_unified);
    if (r >= 0)
        drop_unset_zeros(res);
    return r;
}

int cell_spec_parse_resources(json_t *obj, const char *where, struct cell_resources *out,
                              cell_err_t *err)
{
    struct spec_ctx c;
    spec_ctx_init(&c, where, err);
    memset(out, 0, sizeof *out);
    cell_resources_clear(out);
    if (!json_is_object(obj))
        return spec_fail(&c, "expected an object");
    int r = spec_parse_resources_in(&c, obj, out);
    if (r < 0)
        cell_resources_clear(out);
    return r;
}

static void resources_set_unset(struct cell_resources *r)
{
    int64_t *ints[] = {
        &r->memory.limit,
        &r->memory.reservation,
        &r->memory.swap,
        &r->memory.kernel,
        &r->memory.kernel_tcp,
        &r->memory.swappiness,
        &r->cpu.shares,
        &r->cpu.quota,
        &r->cpu.burst,
        &r->cpu.period,
        &r->cpu.realtime_runtime,
        &r->cpu.realtime_period,
        &r->cpu.idle,
        &r->pids.limit,
        &r->block_io.weight,
        &r->block_io.leaf_weight,
        &r->network.class_id,
    };
    for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
        *ints[i] = CELL_UNSET;
    r->memory.disable_oom_killer = -1;
    r->memory.use_hierarchy = -1;
    r->memory.check_before_update = -1;
}

void cell_resources_clear(struct cell_resources *r)
{
    free(r->devices);
    free(r->cpu.cpus);
    free(r->cpu.mems);
    free(r->block_io.weight_device);
    free(r->block_io.throttle_read_bps);
    free(r->block_io.throttle_write_bps);
    free(r->block_io.throttle_read_iops);
    free(r->block_io.throttle_write_iops);
    for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
        free(r->hugepage_limits[i].page_size);
    free(r->hugepage_limits);
    spec_kv_free(r->network.priorities, r->network.n_priorities);
    spec_kv_free(r->rdma, r->n_rdma);
    spec_kv_free(r->unified, r->n_unified);
    memset(r, 0, sizeof *r);
    resources_set_unset(r);
}

/* The "linux" section (config-linux.md), except linux.resources, which is in
 * spec_resources.c. */
#include "runtime/spec/spec_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

static int find_ns_type(const char *name)
{
    for (int t = 0; t < CELL_NS_COUNT; t++)
        if (strcmp(cell_ns_name(t), name) == 0)
            return t;
    return -1;
}

static int parse_namespace(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    if (!json_is_object(obj))
        return spec_fail(c, "expected an object");
    _cleanup_free_ char *type = NULL;
    int r = spec_get_string(c, obj, "type", true, &type);
    if (r < 0)
        return r;
    int t = find_ns_type(type);
    size_t mark = spec_push_key(c, "type");
    if (t < 0)
        return spec_fail(c, "unknown namespace type \"%s\"", type);
    if (lx->ns[t].present)
        return spec_fail(c, "duplicate namespace type \"%s\"", type);
    spec_pop(c, mark);
    lx->ns[t].present = true;
    return spec_get_abs_path(c, obj, "path", false, &lx->ns[t].path);
}

static int parse_namespaces(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    json_t *arr = NULL;
    int r = spec_get_array(c, obj, "namespaces", &arr);
    if (r < 0 || !arr)
        return r;
    size_t mark = spec_push_key(c, "namespaces");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t imark = spec_push_index(c, i);
        r = parse_namespace(c, json_array_get(arr, i), lx);
        if (r < 0)
            return r;
        spec_pop(c, imark);
    }
    spec_pop(c, mark);
    return 0;
}

static int parse_id_mapping(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_id_mapping *m = elem;
    int64_t container_id = 0, host_id = 0, size = 0;
    int r = spec_get_int(c, obj, "containerID", true, 0, UINT32_MAX, &container_id);
    if (r >= 0)
        r = spec_get_int(c, obj, "hostID", true, 0, UINT32_MAX, &host_id);
    if (r >= 0)
        r = spec_get_int(c, obj, "size", true, 0, UINT32_MAX, &size);
    m->container_id = (uint32_t)container_id;
    m->host_id = (uint32_t)host_id;
    m->size = (uint32_t)size;
    return r;
}

int spec_parse_id_mappings(struct spec_ctx *c, const json_t *obj, const char *key,
                           struct cell_id_mapping **out, size_t *n)
{
    return spec_get_object_array(c, obj, key, sizeof **out, parse_id_mapping, (void **)out, n);
}

static int parse_time_offset(struct spec_ctx *c, const json_t *obj, int64_t *secs,
                             int64_t *nanosecs)
{
    if (!json_is_object(obj))
        return spec_fail(c, "expected an object");
    *secs = 0;
    *nanosecs = 0;
    int r = spec_get_int(c, obj, "secs", false, INT64_MIN, INT64_MAX, secs);
    if (r >= 0) /* the kernel refuses a nanosecond part of a second or more */
        r = spec_get_int(c, obj, "nanosecs", false, 0, 999999999, nanosecs);
    return r;
}

static int parse_time_offsets(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    json_t *offsets = NULL;
    int r = spec_get_object(c, obj, "timeOffsets", false, &offsets);
    if (r < 0 || !offsets)
        return r;
    size_t mark = spec_push_key(c, "timeOffsets");
    const char *clock;
    json_t *v;
    json_object_foreach(offsets, clock, v)
    {
        size_t cmark = spec_push_key(c, clock);
        if (strcmp(clock, "monotonic") == 0) {
            lx->time_offsets.has_monotonic = true;
            r = parse_time_offset(c, v, &lx->time_offsets.monotonic_secs,
                                  &lx->time_offsets.monotonic_nanosecs);
        } else if (strcmp(clock, "boottime") == 0) {
            lx->time_offsets.has_boottime = true;
            r = parse_time_offset(c, v, &lx->time_offsets.boottime_secs,
                                  &lx->time_offsets.boottime_nanosecs);
        } else {
            r = spec_fail(c, "unknown clock (expected \"monotonic\" or \"boottime\")");
        }
        if (r < 0)
            return r;
        spec_pop(c, cmark);
    }
    spec_pop(c, mark);
    return 0;
}

static int parse_device_type(struct spec_ctx *c, const json_t *obj, char *type)
{
    _cleanup_free_ char *s = NULL;
    int r = spec_get_string(c, obj, "type", true, &s);
    if (r < 0)
        return r;
    if (strlen(s) != 1 || !strchr("cbup", s[0])) {
        spec_push_key(c, "type");
        return spec_fail(c, "expected \"c\", \"b\", \"u\" or \"p\", got \"%s\"", s);
    }
    *type = s[0];
    return 0;
}

static int parse_device(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_device *d = elem;
    d->major = d->minor = d->file_mode = d->uid = d->gid = CELL_UNSET;
    int r = spec_get_abs_path(c, obj, "path", true, &d->path);
    if (r >= 0)
        r = parse_device_type(c, obj, &d->type);
    bool need_numbers = d->type != 'p'; /* a fifo has no device number */
    if (r >= 0)
        r = spec_get_int(c, obj, "major", need_numbers, 0, INT64_MAX, &d->major);
    if (r >= 0)
        r = spec_get_int(c, obj, "minor", need_numbers, 0, INT64_MAX, &d->minor);
    if (r >= 0)
        r = spec_get_int(c, obj, "fileMode", false, 0, UINT32_MAX, &d->file_mode);
    if (r >= 0)
        r = spec_get_int(c, obj, "uid", false, 0, UINT32_MAX, &d->uid);
    if (r >= 0)
        r = spec_get_int(c, obj, "gid", false, 0, UINT32_MAX, &d->gid);
    return r;
}

static int parse_devices(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    return spec_get_object_array(c, obj, "devices", sizeof *lx->devices, parse_device,
                                 (void **)&lx->devices, &lx->n_devices);
}

struct propagation_name {
    const char *name;
    unsigned long flags;
};

static const struct propagation_name propagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_rootfs_propagation(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    _cleanup_free_ char *s = NULL;
    int r = spec_get_string(c, obj, "rootfsPropagation", false, &s);
    if (r < 0 || !s)
        return r;
    for (size_t i = 0; i < ARRAY_SIZE(propagations); i++) {
        if (strcmp(propagations[i].name, s) == 0) {
            lx->rootfs_propagation = propagations[i].flags;
            return 0;
        }
    }
    spec_push_key(c, "rootfsPropagation");
    return spec_fail(c, "unknown propagation \"%s\"", s);
}

static int parse_resources_member(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    json_t *res = NULL;
    int r = spec_get_object(c, obj, "resources", false, &res);
    if (r < 0 || !res)
        return r;
    lx->has_resources = true;
    size_t mark = spec_push_key(c, "resources");
    r = spec_parse_resources_in(c, res, &lx->resources);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

static int parse_linux_paths(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    int r = spec_get_string(c, obj, "cgroupsPath", false, &lx->cgroups_path);
    if (r >= 0)
        r = spec_get_strv(c, obj, "maskedPaths", SPEC_STRV_ABSOLUTE, &lx->masked_paths);
    if (r >= 0)
        r = spec_get_strv(c, obj, "readonlyPaths", SPEC_STRV_ABSOLUTE, &lx->readonly_paths);
    if (r >= 0)
        r = spec_get_string(c, obj, "mountLabel", false, &lx->mount_label);
    return r;
}

/* seccomp, personality and intelRdt stay JSON, borrowed from the document,
 * for the modules that apply them. */
static int parse_raw_members(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    int r = spec_get_object(c, obj, "seccomp", false, &lx->seccomp);
    if (r >= 0)
        r = spec_get_object(c, obj, "personality", false, &lx->personality);
    if (r >= 0)
        r = spec_get_object(c, obj, "intelRdt", false, &lx->intel_rdt);
    return r;
}

int spec_parse_linux(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx)
{
    int r = parse_namespaces(c, obj, lx);
    if (r >= 0)
        r = spec_parse_id_mappings(c, obj, "uidMappings", &lx->uid_mappings, &lx->n_uid_mappings);
    if (r >= 0)
        r = spec_parse_id_mappings(c, obj, "gidMappings", &lx->gid_mappings, &lx->n_gid_mappings);
    if (r >= 0)
        r = parse_time_offsets(c, obj, lx);
    if (r >= 0)
        r = parse_devices(c, obj, lx);
    if (r >= 0)
        r = parse_resources_member(c, obj, lx);
    if (r >= 0)
        r = parse_rootfs_propagation(c, obj, lx);
    if (r >= 0)
        r = parse_linux_paths(c, obj, lx);
    if (r >= 0)
        r = spec_get_string_map(c, obj, "sysctl", &lx->sysctl, &lx->n_sysctl);
    if (r >= 0)
        r = parse_raw_members(c, obj, lx);
    return r;
}

void spec_linux_clear(struct cell_linux *lx)
{
    for (int t = 0; t < CELL_NS_COUNT; t++)
        free(lx->ns[t].path);
    free(lx->uid_mappings);
    free(lx->gid_mappings);
    for (size_t i = 0; lx->devices && i < lx->n_devices; i++)
        free(lx->devices[i].path);
    free(lx->devices);
    free(lx->cgroups_path);
    cell_resources_clear(&lx->resources);
    cell_strv_free(lx->masked_paths);
    cell_strv_free(lx->readonly_paths);
    free(lx->mount_label);
    spec_kv_free(lx->sysctl, lx->n_sysctl);
    memset(lx, 0, sizeof *lx);
    cell_resources_clear(&lx->resources); /* back to "nothing set" */
}

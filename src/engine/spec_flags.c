/* The flags that become parts of config.json as they are (mounts, rlimits,
 * devices, sysctls, block IO throttles): parsed once at create into the
 * record's "Spec" object, which every start merges into config.json. */
#include "engine/spec.h"

#include "base/cleanup.h"
#include "engine/flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef int (*mount_parser)(const char *s, json_t **mount, cell_err_t *err);

static int add_mounts(char **values, mount_parser parse, json_t *mounts, cell_err_t *err)
{
    for (char **p = values; p && *p; p++) {
        json_t *m = NULL;
        if (parse(*p, &m, err) < 0)
            return -1;
        json_array_append_new(mounts, m);
    }
    return 0;
}

static int add_rlimits(char **values, json_t *rlimits, cell_err_t *err)
{
    for (char **p = values; p && *p; p++) {
        json_t *r = NULL;
        if (cell_flags_ulimit(*p, &r, err) < 0)
            return -1;
        json_array_append_new(rlimits, r);
    }
    return 0;
}

static int add_sysctls(char **values, bool host_network, json_t *sysctl, cell_err_t *err)
{
    for (char **p = values; p && *p; p++) {
        _cleanup_free_ char *k = NULL, *v = NULL;
        if (cell_flags_sysctl(*p, host_network, &k, &v, err) < 0)
            return -1;
        json_object_set_new(sysctl, k, json_string(v));
    }
    return 0;
}

static int add_throttles(char **values, const char *flag, bool iops, json_t *blkio,
                         const char *field, cell_err_t *err)
{
    if (!values || !*values)
        return 0;
    json_t *list = json_array();
    json_object_set_new(blkio, field, list);
    for (char **p = values; *p; p++) {
        json_t *e = NULL;
        if (cell_flags_throttle(flag, *p, iops, &e, err) < 0)
            return -1;
        json_array_append_new(list, e);
    }
    return 0;
}

static int add_block_io(const struct cell_run_opts *o, json_t *blkio, cell_err_t *err)
{
    if (add_throttles(o->device_read_bps, "--device-read-bps", false, blkio,
                      "throttleReadBpsDevice", err) < 0 ||
        add_throttles(o->device_write_bps, "--device-write-bps", false, blkio,
                      "throttleWriteBpsDevice", err) < 0 ||
        add_throttles(o->device_read_iops, "--device-read-iops", true, blkio,
                      "throttleReadIOPSDevice", err) < 0 ||
        add_throttles(o->device_write_iops, "--device-write-iops", true, blkio,
                      "throttleWriteIOPSDevice", err) < 0)
        return -1;
    if (!o->blkio_weight_device || !*o->blkio_weight_device)
        return 0;
    json_t *list = json_array();
    json_object_set_new(blkio, "weightDevice", list);
    for (char **p = o->blkio_weight_device; *p; p++) {
        json_t *e = NULL;
        if (cell_flags_weight_device(*p, &e, err) < 0)
            return -1;
        json_array_append_new(list, e);
    }
    return 0;
}

static int add_hosts(char **values, json_t *hosts, cell_err_t *err)
{
    for (char **p = values; p && *p; p++) {
        _cleanup_free_ char *name = NULL, *ip = NULL;
        if (cell_flags_add_host(*p, &name, &ip, err) < 0)
            return -1;
        if (!strcmp(ip, "host-gateway"))
            return cell_error(
                err, 0, "--add-host %s: host-gateway needs a network (cell has none yet)", *p);
        json_array_append_new(hosts, json_pack("[s,s]", ip, name));
    }
    return 0;
}

int cell_spec_flags(const struct cell_run_opts *o, json_t *rec, cell_err_t *err)
{
    json_t *spec = json_pack("{s:[], s:[], s:[], s:[], s:{}, s:{}, s:[]}", "mounts", "rlimits",
                             "devices", "deviceRules", "sysctl", "blockIO", "extraHosts");
    json_object_set_new(rec, "Spec", spec);
    json_t *mounts = json_object_get(spec, "mounts");
    bool host_net = o->network && !strcmp(o->network, "host");
    if (add_mounts(o->volume, cell_flags_volume, mounts, err) < 0 ||
        add_mounts(o->mount, cell_flags_mount, mounts, err) < 0 ||
        add_mounts(o->tmpfs, cell_flags_tmpfs, mounts, err) < 0 ||
        add_rlimits(o->ulimit, json_object_get(spec, "rlimits"), err) < 0 ||
        add_sysctls(o->sysctl, host_net, json_object_get(spec, "sysctl"), err) < 0 ||
        add_block_io(o, json_object_get(spec, "blockIO"), err) < 0 ||
        add_hosts(o->add_host, json_object_get(spec, "extraHosts"), err) < 0)
        return -1;
    for (char **p = o->device; p && *p; p++)
        if (cell_flags_devices(*p, json_object_get(spec, "devices"),
                               json_object_get(spec, "deviceRules"), err) < 0)
            return -1;
    return 0;
}

/* Every element of a over b's entries of the same destination/path. */
static void append_all(json_t *to, const json_t *from)
{
    if (json_is_array(from))
        json_array_extend(to, (json_t *)from);
}

static json_t *object_path(json_t *root, const char *a, const char *b)
{
    json_t *x = json_object_get(root, a);
    if (!json_is_object(x)) {
        x = json_object();
        json_object_set_new(root, a, x);
    }
    if (!b)
        return x;
    json_t *y = json_object_get(x, b);
    if (!json_is_object(y)) {
        y = json_object();
        json_object_set_new(x, b, y);
    }
    return y;
}

/* A mount given by a flag replaces a default one at the same place (Docker:
 * -v over /dev/shm, --tmpfs /dev/shm). */
static void drop_mount_at(json_t *mounts, const char *dst)
{
    for (size_t i = json_array_size(mounts); i-- > 0;)
        if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")),
                    dst))
            json_array_remove(mounts, i);
}

void cell_spec_apply_flags(const json_t *rec, json_t *spec)
{
    const json_t *f = json_object_get(rec, "Spec");
    if (!f)
        return;
    json_t *mounts = json_object_get(spec, "mounts");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(f, "mounts"), i, m)
    {
        drop_mount_at(mounts, json_string_value(json_object_get(m, "destination")));
        json_array_append(mounts, m);
    }
    json_t *proc = json_object_get(spec, "process");
    if (json_array_size(json_object_get(f, "rlimits")))
        json_object_set(proc, "rlimits", json_object_get(f, "rlimits"));
    json_t *linux = json_object_get(spec, "linux");
    if (json_array_size(json_object_get(f, "devices"))) {
        json_t *devs = json_object_get(linux, "devices");
        if (!devs) {
            devs = json_array();
            json_object_set_new(linux, "devices", devs);
        }
        append_all(devs, json_object_get(f, "devices"));
        append_all(json_object_get(object_path(linux, "resources", NULL), "devices"),
                   json_object_get(f, "deviceRules"));
    }
    if (json_object_size(json_object_get(f, "sysctl")))
        json_object_update(object_path(linux, "sysctl", NULL), json_object_get(f, "sysctl"));
    if (json_object_size(json_object_get(f, "blockIO")))
        json_object_update(object_path(linux, "resources", "blockIO"),
                           json_object_get(f, "blockIO"));
}

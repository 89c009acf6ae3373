/* --device and the block-I/O flags: values that name host device nodes,
 * whose numbers are read from the host (as Docker's daemon reads them). */
#include "engine/flags.h"
#include "engine/flags_internal.h"

#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ---- --device ------------------------------------------------------------- */

/* Docker's validDeviceMode: a non-empty set of r, w and m. */
static bool device_mode_valid(const char *mode)
{
    if (!*mode || strlen(mode) > 3)
        return false;
    for (const char *p = mode; *p; p++)
        if (!strchr("rwm", *p) || strchr(p + 1, *p))
            return false;
    return true;
}

struct device_spec {
    char *host, *container;
    const char *perms;
};

/* Docker's client: validateLinuxPath, then parseLinuxDevice. */
static int device_split(const char *s, struct device_spec *d, cell_err_t *err)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if ((c2 && strchr(c2 + 1, ':')) || !*s || c1 == s)
        return flag_error(err, 0, "device", s, "bad format for path: %s", s);
    d->host = strndup(s, c1 ? (size_t)(c1 - s) : strlen(s));
    d->perms = "rwm";
    const char *ctr = s;
    if (c2) {
        if (!device_mode_valid(c2 + 1))
            return flag_error(err, 0, "device", s, "bad mode specified: %s", c2 + 1);
        d->perms = c2 + 1;
        d->container = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        ctr = d->container;
    } else if (c1 && device_mode_valid(c1 + 1)) {
        d->perms = c1 + 1;
        d->container = d->host ? strdup(d->host) : NULL;
        ctr = d->container;
    } else {
        d->container = strdup(c1 ? c1 + 1 : s);
        ctr = d->container;
    }
    if (!d->host || !d->container)
        return cell_error(err, ENOMEM, "--device");
    if (*ctr != '/')
        return flag_error(err, 0, "device", s, "%s is not an absolute path", ctr);
    return 0;
}

/* A device node's entry and rule, as runc's DeviceFromPath reads the node
 * (lstat): -ENODEV when it is not a device node. */
static int device_node(const char *host, const char *container, const char *perms, json_t *devices,
                       json_t *rules)
{
    struct stat st;
    if (lstat(host, &st) < 0)
        return -errno;
    const char *type = S_ISBLK(st.st_mode)    ? "b"
                       : S_ISCHR(st.st_mode)  ? "c"
                       : S_ISFIFO(st.st_mode) ? "p"
                                              : NULL;
    if (!type)
        return -ENODEV;
    json_int_t major = major(st.st_rdev), minor = minor(st.st_rdev);
    json_t *dev =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", container, "type", type, "major",
                  major, "minor", minor, "fileMode", (json_int_t)(st.st_mode & 07777), "uid",
                  (json_int_t)st.st_uid, "gid", (json_int_t)st.st_gid);
    json_t *rule = json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type, "major", major,
                             "minor", minor, "access", perms);
    if (!dev || !rule || json_array_append_new(devices, dev) < 0 ||
        json_array_append_new(rules, rule) < 0)
        return -ENOMEM;
    return 0;
}

/* Every device node below dir (symlinks not followed), with host_prefix
 * replaced by container_prefix in its path; nodes that cannot be read are
 * skipped, as Docker skips them. */
static int device_dir(const char *dir, const char *host_prefix, const char *container_prefix,
                      const char *perms, json_t *devices, json_t *rules)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *path = NULL, *ctr = NULL;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0 ||
            asprintf(&ctr, "%s%s", container_prefix, path + strlen(host_prefix)) < 0)
            return -ENOMEM;
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        int r = S_ISDIR(st.st_mode)
                    ? device_dir(path, host_prefix, container_prefix, perms, devices, rules)
                    : device_node(path, ctr, perms, devices, rules);
        if (r == -ENOMEM)
            return r;
    }
    return 0;
}

static void device_spec_clear(struct device_spec *d)
{
    free(d->host);
    free(d->container);
}

int cell_flags_devices(const char *s, json_t *devices, json_t *rules, cell_err_t *err)
{
    __attribute__((cleanup(device_spec_clear))) struct device_spec d = {0};
    if (device_split(s, &d, err) < 0)
        return -1;
    /* Docker resolves a symlink given as the host path (/dev/disk/by-id/...). */
    char resolved[PATH_MAX];
    const char *host = realpath(d.host, resolved) ? resolved : d.host;
    size_t had = json_array_size(devices);
    int r = device_node(host, d.container, d.perms, devices, rules);
    struct stat st;
    if (r == -ENODEV && stat(host, &st) == 0 && S_ISDIR(st.st_mode)) {
        r = device_dir(host, host, d.container, d.perms, devices, rules);
        if (r == 0 && json_array_size(devices) == had)
            r = -ENODEV;
    }
    if (r == -ENOMEM)
        return cell_error(err, ENOMEM, "--device");
    if (r < 0) {
        /* The errno's text follows (cell_error_text), where Docker prints Go's. */
        _cleanup_free_ char *q = go_quote(d.host);
        return flag_error(err, r == -ENODEV ? 0 : -r, "device", s,
                          "error gathering device information while adding custom device %s%s",
                          q ? q : d.host, r == -ENODEV ? ": not a device node" : "");
    }
    return 0;
}

int cell_flags_device(const char *s, json_t **device, json_t **rule, cell_err_t *err)
{
    json_t *devices = json_array(), *rules = json_array();
    int r = devices && rules ? cell_flags_devices(s, devices, rules, err)
                             : cell_error(err, ENOMEM, "--device");
    if (r == 0 && json_array_size(devices) != 1) {
        _cleanup_free_ char *host = strndup(s, strcspn(s, ":"));
        _cleanup_free_ char *q = host ? go_quote(host) : NULL;
        r = flag_error(err, 0, "device", s,
                       "error gathering device information while adding custom device %s: a "
                       "directory of %zu devices where one device node was expected",
                       q ? q : s, json_array_size(devices));
    }
    if (r == 0) {
        *device = json_incref(json_array_get(devices, 0));
        *rule = json_incref(json_array_get(rules, 0));
    }
    json_decref(devices);
    json_decref(rules);
    return r;
}

/* ---- block I/O --------------------------------------------------------- */

/* The major and minor of the block device at path (Docker stats it). */
static int block_device(const char *flag, const char *s, const char *path, json_int_t *major_out,
                        json_int_t *minor_out, cell_err_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        return flag_error(err, errno, flag, s, "stat %s", path);
    }
    /* Docker would pass the numbers of any file on and let the kernel refuse
     * them when the container starts; saying so now is clearer. */
    if (!S_ISBLK(st.st_mode))
        return flag_error(err, 0, flag, s, "%s is not a block device", path);
    *major_out = major(st.st_rdev);
    *minor_out = minor(st.st_rdev);
    return 0;
}

/* DEVICE:VALUE with DEVICE under /dev/ (Docker's client checks that much). */
static int device_value(const char *flag, const char *s, char **path, const char **value,
                        cell_err_t *err)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return flag_error(err, 0, flag, s, "bad format: %s", s);
    if (strncmp(s, "/dev/", 5) != 0)
        return flag_error(err, 0, flag, s, "bad format for device path: %s", s);
    *path = strndup(s, (size_t)(colon - s));
    if (!*path)
        return cell_error(err, ENOMEM, "%s", flag);
    *value = colon + 1;
    return 0;
}

int cell_flags_throttle(const char *flag, const char *s, bool iops, json_t **entry, cell_err_t *err)
{
    _cleanup_free_ char *path = NULL;
    const char *v;
    if (device_value(flag, s, &path, &v, err) < 0)
        return -1;
    int64_t rate = 0;
    uint64_t u = 0;
    _cleanup_free_ char *why = NULL;
    bool bad = iops ? parse_go_uint(v, &u) < 0 || u > INT64_MAX : ram_in_bytes(v, &rate, &why) < 0;
    if (bad && iops)
        return flag_error(err, 0, flag, s,
                          "invalid rate for device: %s. The correct format is "
                          "<device-path>:<number>. Number must be a positive integer",
                          s);
    if (bad)
        return flag_error(err, 0, flag, s,
                          "invalid rate for device: %s. The correct format is "
                          "<device-path>:<number>[<unit>]. Number must be a positive integer. "
                          "Unit is optional and can be kb, mb, or gb",
                          s);
    json_int_t maj, min;
    if (block_device(flag, s, path, &maj, &min, err) < 0)
        return -1;
    json_t *o = json_pack("{s:I, s:I, s:I}", "major", maj, "minor", min, "rate",
                          (json_int_t)(iops ? (int64_t)u : rate));
    if (!o)
        return cell_error(err, ENOMEM, "%s", flag);
    *entry = o;
    return 0;
}

int cell_flags_weight_device(const char *s, json_t **entry, cell_err_t *err)
{
    static const char flag[] = "blkio-weight-device";
    _cleanup_free_ char *path = NULL;
    const char *v;
    if (device_value(flag, s, &path, &v, err) < 0)
        return -1;
    uint64_t w;
    if (parse_go_uint(v, &w) < 0 || w > UINT16_MAX || (w > 0 && (w < 10 || w > 1000)))
        return flag_error(err, 0, flag, s, "invalid weight for device: %s", s);
    json_int_t maj, min;
    if (block_device(flag, s, path, &maj, &min, err) < 0)
        return -1;
    json_t *o = json_pack("{s:I, s:I, s:I}", "major", maj, "minor", min, "weight", (json_int_t)w);
    if (!o)
        return cell_error(err, ENOMEM, "%s", flag);
    *entry = o;
    return 0;
}

/* The namespaces and the user of a container's config.json: --pid, --ipc,
 * --uts, --network, --cgroupns (host, private, container:X), --userns with
 * --uidmap/--gidmap, and the image's or -u's user resolved in its root. */
#include "engine/spec.h"

#include "base/cleanup.h"
#include "engine/flags.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "host", "private", "", "shareable", "container:X", "none" as Docker takes
 * them for each flag; checked when the record is made. */
static int check_mode(const char *flag, const char *v, const char *const *allowed, cell_err_t *err)
{
    if (!v)
        return 0;
    if (!strncmp(v, "container:", 10) && v[10] && strstr(allowed[0], "container"))
        return 0;
    for (const char *const *a = allowed + 1; *a; a++)
        if (!strcmp(v, *a))
            return 0;
    return cell_error(err, 0, "invalid argument \"%s\" for \"%s\" flag: invalid %s mode", v, flag,
                      flag + 2);
}

static const char *const pid_modes[] = {"container", "host", "", NULL};
static const char *const ipc_modes[] = {"container", "host", "private", "shareable",
                                        "none",      "",     NULL};
static const char *const uts_modes[] = {"-", "host", "", NULL};
static const char *const cgroupns_modes[] = {"-", "host", "private", "", NULL};
static const char *const net_modes[] = {"container", "host", "none", "bridge", "", NULL};
static const char *const userns_modes[] = {"-", "host", "auto", "", NULL};

/* "0:100000:65536" */
static int parse_map(const char *flag, const char *s, json_t *list, cell_err_t *err)
{
    unsigned long c, h, n;
    char tail;
    if (sscanf(s, "%lu:%lu:%lu%c", &c, &h, &n, &tail) != 3 || n == 0)
        return cell_error(err, 0,
                          "invalid argument \"%s\" for \"%s\" flag: expected "
                          "CONTAINER_ID:HOST_ID:SIZE",
                          s, flag);
    json_array_append_new(list, json_pack("{s:I, s:I, s:I}", "containerID", (json_int_t)c, "hostID",
                                          (json_int_t)h, "size", (json_int_t)n));
    return 0;
}

int cell_spec_namespaces(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    if (check_mode("--pid", o->pid, pid_modes, err) < 0 ||
        check_mode("--ipc", o->ipc, ipc_modes, err) < 0 ||
        check_mode("--uts", o->uts, uts_modes, err) < 0 ||
        check_mode("--cgroupns", o->cgroupns, cgroupns_modes, err) < 0 ||
        check_mode("--network", o->network, net_modes, err) < 0 ||
        check_mode("--userns", o->userns, userns_modes, err) < 0)
        return -1;
    json_object_set_new(hc, "PidMode", json_string(o->pid ? o->pid : ""));
    json_object_set_new(hc, "IpcMode", json_string(o->ipc ? o->ipc : "private"));
    json_object_set_new(hc, "UTSMode", json_string(o->uts ? o->uts : ""));
    json_object_set_new(hc, "CgroupnsMode", json_string(o->cgroupns ? o->cgroupns : "private"));
    json_object_set_new(hc, "UsernsMode", json_string(o->userns ? o->userns : ""));
    json_t *uids = json_array(), *gids = json_array();
    json_object_set_new(hc, "UidMaps", uids);
    json_object_set_new(hc, "GidMaps", gids);
    for (char **p = o->uidmap; p && *p; p++)
        if (parse_map("--uidmap", *p, uids, err) < 0)
            return -1;
    for (char **p = o->gidmap; p && *p; p++)
        if (parse_map("--gidmap", *p, gids, err) < 0)
            return -1;
    if (json_array_size(uids) && !json_array_size(gids))
        json_object_set(hc, "GidMaps", uids);
    if (json_array_size(gids) && !json_array_size(uids))
        return cell_error(err, 0, "--gidmap needs --uidmap");
    if (o->userns && !strcmp(o->userns, "host") && json_array_size(uids))
        return cell_error(err, 0, "--userns host cannot be used with --uidmap");
    if (o->userns && !strcmp(o->userns, "auto") && json_array_size(uids))
        return cell_error(err, 0, "--userns auto cannot be used with --uidmap");
    return 0;
}

/* /proc/PID/ns/NS of container X's init. */
static int container_ns(struct cell_engine *e, const char *x, const char *ns, char **path,
                        cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, x, false, &c, err) < 0)
        return -1;
    json_t *st = json_object_get(c.rec, "State");
    pid_t pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
    bool running = json_is_true(json_object_get(st, "Running"));
    cell_ctr_close(&c);
    if (!running || pid <= 0)
        return cell_error(err, 0, "cannot join container %s: it is not running", x);
    if (asprintf(path, "/proc/%d/ns/%s", (int)pid, ns) < 0)
        return cell_error(err, ENOMEM, "namespace path");
    return 0;
}

static void set_ns(json_t *list, const char *type, const char *path)
{
    for (size_t i = json_array_size(list); i-- > 0;)
        if (!strcmp(json_string_value(json_object_get(json_array_get(list, i), "type")), type))
            json_array_remove(list, i);
    if (path && !*path)
        return; /* host: no entry */
    json_t *n = json_pack("{s:s}", "type", type);
    if (path)
        json_object_set_new(n, "path", json_string(path));
    json_array_append_new(list, n);
}

/* One namespace by its mode: private (new), host (none), container:X (X's). */
static int apply_mode(struct cell_engine *e, json_t *list, const char *type, const char *procname,
                      const char *mode, cell_err_t *err)
{
    if (!mode || !*mode || !strcmp(mode, "private") || !strcmp(mode, "shareable") ||
        !strcmp(mode, "none") || !strcmp(mode, "bridge")) {
        set_ns(list, type, NULL);
        return 0;
    }
    if (!strcmp(mode, "host")) {
        set_ns(list, type, "");
        return 0;
    }
    _cleanup_free_ char *path = NULL;
    if (container_ns(e, mode + 10, procname, &path, err) < 0)
        return -1;
    set_ns(list, type, path);
    return 0;
}

int cell_spec_apply_namespaces(struct cell_engine *e, const json_t *rec, json_t *spec,
                               cell_err_t *err)
{
    const json_t *hc = json_object_get(rec, "HostConfig");
    json_t *linux = json_object_get(spec, "linux");
    json_t *list = json_object_get(linux, "namespaces");
#define MODE(k) json_string_value(json_object_get(hc, k))
    if (apply_mode(e, list, "pid", "pid", MODE("PidMode"), err) < 0 ||
        apply_mode(e, list, "ipc", "ipc", MODE("IpcMode"), err) < 0 ||
        apply_mode(e, list, "uts", "uts", MODE("UTSMode"), err) < 0 ||
        apply_mode(e, list, "cgroup", "cgroup", MODE("CgroupnsMode"), err) < 0 ||
        apply_mode(e, list, "network", "net", MODE("NetworkMode"), err) < 0)
        return -1;
    const char *userns = MODE("UsernsMode");
    const char *uts = MODE("UTSMode");
#undef MODE
    if (uts && !strcmp(uts, "host")) { /* the host's name, as Docker leaves it */
        json_object_del(spec, "hostname");
        json_object_del(spec, "domainname");
    }
    /* --userns auto's range was picked at create (userns.c) and recorded. */
    if (userns && !strcmp(userns, "auto") && !json_array_size(json_object_get(hc, "UidMaps")))
        return cell_error(err, 0, "--userns auto: no id range is recorded for this container");
    if (json_array_size(json_object_get(hc, "UidMaps"))) {
        json_object_set(linux, "uidMappings", json_object_get(hc, "UidMaps"));
        json_object_set(linux, "gidMappings", json_object_get(hc, "GidMaps"));
    }
    if (json_object_get(linux, "uidMappings"))
        set_ns(list, "user", NULL);
    return 0;
}

int cell_spec_apply_user(const json_t *rec, const char *rootfs, json_t *spec, cell_err_t *err)
{
    const json_t *cfg = json_object_get(rec, "Config"), *hc = json_object_get(rec, "HostConfig");
    const char *user = json_string_value(json_object_get(cfg, "User"));
    size_t n = json_array_size(json_object_get(hc, "GroupAdd"));
    _cleanup_strv_ char **groups = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; groups && i < n; i++)
        groups[i] = strdup(json_string_value(json_array_get(json_object_get(hc, "GroupAdd"), i)));
    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cell_error(err, errno, "open %s", rootfs);
    json_t *u = NULL;
    _cleanup_free_ char *home = NULL;
    if (cell_flags_resolve_user(rootfd, user ? user : "", groups, &u, &home, err) < 0)
        return -1;
    json_t *proc = json_object_get(spec, "process");
    json_object_set_new(proc, "user", u);
    /* HOME from passwd when the image and flags did not set it. */
    json_t *env = json_object_get(proc, "env");
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v) if (!strncmp(json_string_value(v), "HOME=", 5)) return 0;
    _cleanup_free_ char *kv = NULL;
    if (asprintf(&kv, "HOME=%s", home) >= 0)
        json_array_append_new(env, json_string(kv));
    return 0;
}

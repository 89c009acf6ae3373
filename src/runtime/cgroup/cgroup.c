/* The cgroup interface: which layout the host has, where the container's
 * cgroup is in each hierarchy, its record in the state, and the dispatch to
 * the v1 or v2 driver. */
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

const char *cell_cgroup_mountpoint = "/sys/fs/cgroup";

static const char *const layout_names[] = {
    [CELL_CGROUP_V1] = "v1",
    [CELL_CGROUP_HYBRID] = "hybrid",
    [CELL_CGROUP_V2] = "v2",
};

const char *cell_cgroup_layout_name(enum cell_cgroup_layout layout)
{
    return layout_names[layout];
}

static int layout_from_name(const char *name, enum cell_cgroup_layout *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(layout_names); i++) {
        if (name && !strcmp(name, layout_names[i])) {
            *out = (enum cell_cgroup_layout)i;
            return 0;
        }
    }
    return -EINVAL;
}

static bool is_cgroup2(const char *path)
{
    struct statfs fs;
    return statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cell_cgroup_detect_layout(enum cell_cgroup_layout *out, cell_err_t *err)
{
    struct statfs fs;
    if (statfs(cell_cgroup_mountpoint, &fs) < 0)
        return cell_error(err, errno, "statfs %s", cell_cgroup_mountpoint);
    if (fs.f_type == CGROUP2_SUPER_MAGIC) {
        *out = CELL_CGROUP_V2;
        return 0;
    }
    char unified[4096];
    snprintf(unified, sizeof unified, "%s/unified", cell_cgroup_mountpoint);
    *out = is_cgroup2(unified) ? CELL_CGROUP_HYBRID : CELL_CGROUP_V1;
    return 0;
}

/* --- the path --- */

/* Appends "/component" for each non-empty component of p, refusing "." and
 * "..", which could leave the hierarchy or name a directory twice. */
static int append_components(char *buf, size_t size, const char *p)
{
    size_t len = strlen(buf);
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 0) {
            p++;
            continue;
        }
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return -EINVAL;
        if (len + 1 + n >= size)
            return -ENAMETOOLONG;
        buf[len++] = '/';
        memcpy(buf + len, p, n);
        len += n;
        buf[len] = '\0';
        p += n;
    }
    return 0;
}

int cell_cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, cell_err_t *err)
{
    char buf[4096] = "";
    int r;
    if (!cgroups_path || !*cgroups_path) {
        if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
            return cell_error(err, 0, "cgroup of container \"%s\": bad id", id ? id : "");
        snprintf(buf, sizeof buf, "%s/%s", CELL_PARENT, id);
        r = 0;
    } else {
        if (cgroups_path[0] != '/')
            strcpy(buf, CELL_PARENT);
        r = append_components(buf, sizeof buf, cgroups_path);
    }
    if (r < 0 || !buf[0])
        return cell_error(err, r == -ENAMETOOLONG ? ENAMETOOLONG : 0,
                          "linux.cgroupsPath \"%s\": not a cgroup below the root", cgroups_path);
    *out = strdup(buf);
    return *out ? 0 : cell_error(err, ENOMEM, "cgroup path");
}

/* Super options that are not controllers (cgroup1_show_options). */
static bool generic_option(const char *opt, size_t len)
{
    static const char *const generic[] = {
        "rw", "ro", "noprefix", "xattr", "favordynmods", "cpuset_v2_mode", "clone_children"};
    for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
        if (strlen(generic[i]) == len && !strncmp(opt, generic[i], len))
            return true;
    return len >= 14 && !strncmp(opt, "release_agent=", 14);
}

char *cell_cgroup_v1_options(const char *super_options)
{
    char *out = malloc(strlen(super_options) + 1);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (const char *p = super_options; *p;) {
        size_t len = strcspn(p, ",");
        if (len && !generic_option(p, len)) {
            if (out[0])
                strcat(out, ",");
            strncat(out, p, len);
        }
        p += len + (p[len] == ',');
    }
    return out;
}

/* Undoes mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* The fields of one mountinfo line that matter here. */
struct mount_line {
    char *dev, *mount_point, *fstype, *super_options;
};

static bool split_mount_line(char *line, struct mount_line *m)
{
    char *fields[6] = {0}, *save = NULL, *tok;
    int i = 0;
    /* id parent dev root mount_point options [optional...] - fstype source super */
    for (tok = strtok_r(line, " ", &save); tok && i < 6; tok = strtok_r(NULL, " ", &save))
        fields[i++] = tok;
    if (i < 6)
        return false;
    while (tok && strcmp(tok, "-"))
        tok = strtok_r(NULL, " ", &save);
    char *fstype = strtok_r(NULL, " ", &save);
    char *source = strtok_r(NULL, " ", &save);
    char *super = strtok_r(NULL, " ", &save);
    if (!tok || !fstype || !source || !super)
        return false;
    unescape(fields[4]);
    *m = (struct mount_line){fields[2], fields[4], fstype, super};
    return true;
}

/* The entry name under the mountpoint, or NULL when m is mounted elsewhere. */
static const char *entry_under_mountpoint(const char *mount_point)
{
    size_t ml = strlen(cell_cgroup_mountpoint);
    if (strncmp(mount_point, cell_cgroup_mountpoint, ml) || mount_point[ml] != '/')
        return NULL;
    const char *name = mount_point + ml + 1;
    return *name && !strchr(name, '/') ? name : NULL;
}

static bool seen_dev(char **devs, size_t n, const char *dev)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(devs[i], dev))
            return true;
    return false;
}

/* Adds each v1 hierarchy with controllers (a named one without, like
 * name=systemd, holds no limits) once, in mount order. */
static int add_v1_hiers(struct cell_cgroup *cg, const char *mountinfo, cell_err_t *err)
{
    _cleanup_free_ char *text = strdup(mountinfo);
    _cleanup_free_ char **devs = calloc(strlen(mountinfo) / 16 + 1, sizeof *devs);
    if (!text || !devs)
        return cell_error(err, ENOMEM, "read mountinfo");
    size_t n_devs = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct mount_line m;
        if (!split_mount_line(line, &m) || strcmp(m.fstype, "cgroup"))
            continue;
        const char *name = entry_under_mountpoint(m.mount_point);
        _cleanup_free_ char *options = cell_cgroup_v1_options(m.super_options);
        if (!options)
            return cell_error(err, ENOMEM, "read mountinfo");
        bool controllers = false;
        for (const char *p = options; *p; p += strcspn(p, ","), p += *p == ',')
            controllers |= strncmp(p, "name=", 5) != 0;
        if (!name || !controllers || seen_dev(devs, n_devs, m.dev))
            continue;
        devs[n_devs++] = m.dev;
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s%s", m.mount_point, cg->path) < 0 ||
            !cell_cgroup_add_hier(cg, name, "cgroup", options, dir))
            return cell_error(err, ENOMEM, "cgroup hierarchies");
    }
    if (cg->n_hiers == 0)
        return cell_error(err, ENOENT, "no cgroup v1 controller is mounted under %s",
                          cell_cgroup_mountpoint);
    return 0;
}

static const struct cell_cgroup_ops *ops_for(enum cell_cgroup_layout layout)
{
    return layout == CELL_CGROUP_V2 ? &cell_cgroup_v2_ops : &cell_cgroup_v1_ops;
}

int cell_cgroup_build(enum cell_cgroup_layout layout, const char *mountinfo,
                      const char *cgroups_path, const char *id, struct cell_cgroup **out,
                      cell_err_t *err)
{
    _cleanup_cgroup_ struct cell_cgroup *cg = calloc(1, sizeof *cg);
    if (!cg)
        return cell_error(err, ENOMEM, "cgroup");
    cg->layout = layout;
    cg->ops = ops_for(layout);
    int r = cell_cgroup_resolve_path(cgroups_path, id, &cg->path, err);
    if (r < 0)
        return r;
    if (layout == CELL_CGROUP_V2) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s%s", cell_cgroup_mountpoint, cg->path) < 0 ||
            !cell_cgroup_add_hier(cg, "", "cgroup2", NULL, dir))
            return cell_error(err, ENOMEM, "cgroup");
    } else if ((r = add_v1_hiers(cg, mountinfo, err)) < 0) {
        return r;
    }
    *out = TAKE_PTR(cg);
    return 0;
}

/* The systemd driver: systemd makes the cgroup (as the unit), the
 * layout's driver does the rest in it. */
static void use_systemd(struct cell_cgroup *cg, char *unit)
{
    cg->unit = unit;
    cg->fs = cg->ops;
    cg->ops = &cell_cgroup_systemd_ops;
}

int cell_cgroup_new(const char *cgroups_path, const char *id, bool systemd,
                    struct cell_cgroup **out, cell_err_t *err)
{
    enum cell_cgroup_layout layout;
    int r = cell_cgroup_detect_layout(&layout, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *mountinfo = NULL, *sd_path = NULL, *unit = NULL;
    if (layout != CELL_CGROUP_V2) {
        r = cell_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, NULL);
        if (r < 0)
            return cell_error(err, -r, "read /proc/self/mountinfo");
    }
    if (systemd && (r = cell_cgroup_systemd_path(cgroups_path, id, &sd_path, &unit, err)) < 0)
        return r;
    if ((r = cell_cgroup_build(layout, mountinfo, systemd ? sd_path : cgroups_path, id, out, err)) <
        0)
        return r;
    if (systemd)
        use_systemd(*out, TAKE_PTR(unit));
    return 0;
}

/* --- state --- */

json_t *cell_cgroup_to_json(const struct cell_cgroup *cg)
{
    json_t *hiers = json_array();
    for (size_t i = 0; i < cg->n_hiers; i++) {
        const struct cell_cgroup_hier *h = &cg->hiers[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "name", h->name, "fstype", h->fstype,
                              "host_dir", h->host_dir, "keep", (json_int_t)h->keep);
        if (o && h->options)
            json_object_set_new(o, "options", json_string(h->options));
        json_array_append_new(hiers, o);
    }
    json_t *o = json_pack("{s:s, s:s, s:o}", "layout", cell_cgroup_layout_name(cg->layout), "path",
                          cg->path, "hiers", hiers);
    if (o && cg->unit)
        json_object_set_new(o, "systemd_unit", json_string(cg->unit));
    return o;
}

static int hier_from_json(struct cell_cgroup *cg, json_t *o, cell_err_t *err)
{
    const char *name = NULL, *fstype = NULL, *host_dir = NULL, *options = NULL;
    json_int_t keep = 0;
    if (json_unpack(o, "{s:s, s:s, s:s, s?s, s?I}", "name", &name, "fstype", &fstype, "host_dir",
                    &host_dir, "options", &options, "keep", &keep) < 0 ||
        keep < 0)
        return cell_error(err, EINVAL, "cgroup state: bad hierarchy entry");
    struct cell_cgroup_hier *h = cell_cgroup_add_hier(cg, name, fstype, options, host_dir);
    if (!h)
        return cell_error(err, ENOMEM, "cgroup state");
    h->keep = (unsigned)keep;
    return 0;
}

int cell_cgroup_from_json(json_t *obj, struct cell_cgroup **out, cell_err_t *err)
{
    const char *layout = NULL, *path = NULL, *unit = NULL;
    json_t *hiers = NULL;
    if (json_unpack(obj, "{s:s, s:s, s:o, s?s}", "layout", &layout, "path", &path, "hiers", &hiers,
                    "systemd_unit", &unit) < 0 ||
        !json_is_array(hiers))
        return cell_error(err, EINVAL, "cgroup state: expected layout, path and hiers");
    _cleanup_cgroup_ struct cell_cgroup *cg = calloc(1, sizeof *cg);
    if (!cg || !(cg->path = strdup(path)))
        return cell_error(err, ENOMEM, "cgroup state");
    if (layout_from_name(layout, &cg->layout) < 0)
        return cell_error(err, EINVAL, "cgroup state: unknown layout \"%s\"", layout);
    cg->ops = ops_for(cg->layout);
    if (unit) {
        char *copy = strdup(unit);
        if (!copy)
            return cell_error(err, ENOMEM, "cgroup state");
        use_systemd(cg, copy);
    }
    size_t i;
    json_t *o;
    json_array_foreach(hiers, i, o)
    {
        int r = hier_from_json(cg, o, err);
        if (r < 0)
            return r;
    }
    *out = TAKE_PTR(cg);
    return 0;
}

void cell_cgroup_free(struct cell_cgroup *cg)
{
    for (size_t i = 0; i < cg->n_hiers; i++) {
        free(cg->hiers[i].name);
        free(cg->hiers[i].fstype);
        free(cg->hiers[i].options);
        free(cg->hiers[i].host_dir);
    }
    free(cg->hiers);
    free(cg->path);
    free(cg->unit);
    free(cg->origin);
    free(cg);
}

/* --- dispatch --- */

int cell_cgroup_create(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err)
{
    return cg->ops->create(cg, res, err);
}

int cell_cgroup_after_clone(struct cell_cgroup *cg, cell_err_t *err)
{
    return cg->ops->after_clone ? cg->ops->after_clone(cg, err) : 0;
}

int cell_cgroup_open_join_fds(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                              cell_err_t *err)
{
    return cg->ops->open_join_fds(cg, fds, n, clone_fd, err);
}

int cell_cgroup_attach(struct cell_cgroup *cg, pid_t pid, cell_err_t *err)
{
    return cg->ops->attach(cg, pid, err);
}

int cell_cgroup_update(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err)
{
    return cg->ops->update(cg, res, err);
}

int cell_cgroup_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err)
{
    return cg->ops->pids(cg, pids, n, err);
}

int cell_cgroup_freeze(struct cell_cgroup *cg, bool frozen, cell_err_t *err)
{
    return cg->ops->freeze(cg, frozen, err);
}

int cell_cgroup_frozen(struct cell_cgroup *cg, bool *frozen, cell_err_t *err)
{
    return cg->ops->frozen(cg, frozen, err);
}

int cell_cgroup_oom_kills(struct cell_cgroup *cg, int64_t *count, cell_err_t *err)
{
    return cg->ops->oom_kills(cg, count, err);
}

int cell_cgroup_oom_killed(struct cell_cgroup *cg, bool *killed, cell_err_t *err)
{
    int64_t count = 0;
    int r = cg->ops->oom_kills(cg, &count, err);
    *killed = count > 0;
    return r;
}

json_t *cell_cgroup_stats(struct cell_cgroup *cg, cell_err_t *err)
{
    return cg->ops->stats(cg, err);
}

/* sd_booted(3): systemd made /run/systemd/system when it booted the host. */
int cell_cgroup_check_driver(bool systemd, cell_err_t *err)
{
    if (!systemd)
        return 0;
    if (access("/run/systemd/system", F_OK) < 0)
        return cell_error(err, 0,
                          "--systemd-cgroup: systemd is not PID 1 on this host (no "
                          "/run/systemd/system); leave the flag out to use cgroupfs");
    return 0;
}

int cell_cgroup_destroy(struct cell_cgroup *cg, cell_err_t *err)
{
    return cg->ops->destroy(cg, err);
}

/* cgroup.kill (v2, Linux 5.14) kills the whole subtree at once, forks
 * included. */
static int kill_with_file(struct cell_cgroup *cg, cell_err_t *err)
{
    int r = cg_try_write(cg->hiers[0].host_dir, "cgroup.kill", "1");
    if (r == -ENOENT)
        return 1;
    if (r < 0)
        return cell_error(err, -r, "write 1 to %s/cgroup.kill", cg->hiers[0].host_dir);
    return 0;
}

static int signal_pids(struct cell_cgroup *cg, int sig, cell_err_t *err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    int r = cg->ops->pids(cg, &pids, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            return cell_error(err, errno, "kill %d (cgroup %s)", (int)pids[i], cg->path);
    return 0;
}

int cell_cgroup_kill_all(struct cell_cgroup *cg, int sig, cell_err_t *err)
{
    if (cg->layout == CELL_CGROUP_V2 && sig == SIGKILL && cg->n_hiers > 0) {
        int r = kill_with_file(cg, err);
        if (r <= 0)
            return r;
    }
    /* For SIGKILL, freeze first so that nothing forks between reading the
     * pids and signalling them; the thaw lets the killed processes die.
     * Other signals leave the freezer alone: a paused container stays so. */
    bool frozen = sig == SIGKILL && cg->ops->freeze(cg, true, NULL) == 0;
    int r = signal_pids(cg, sig, err);
    if (frozen) {
        int t = cg->ops->freeze(cg, false, r < 0 ? NULL : err);
        if (r == 0)
            r = t;
    }
    return r;
}

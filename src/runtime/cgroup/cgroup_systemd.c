/* The systemd cgroup driver (--systemd-cgroup): systemd makes the cgroup,
 * as a transient scope (or slice) unit, so that it knows the cgroup is taken
 * and never moves or removes what is in it behind our back; the v1/v2 code
 * then does the rest (limits, freezer, stats, pids, kill, rmdir) in the
 * directories systemd made.
 *
 * A scope cannot start empty: systemd moves the pids it is given into it.
 * The pid given is the runtime's own, before clone, so that the container's
 * init is born in the scope (and on v2 can still be cloned straight into it
 * with CLONE_INTO_CGROUP); after clone the runtime moves itself back to
 * where it was (cell_cgroup_after_clone). The alternative, the init's pid
 * after clone with the init waiting for systemd, would need the init to
 * wait on a second handshake and lose CLONE_INTO_CGROUP. */
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/cgroup_internal.h"
#include "runtime/cgroup/dbus.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SYSTEMD_DEST  "org.freedesktop.systemd1"
#define SYSTEMD_PATH  "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
#define NO_SUCH_UNIT  "org.freedesktop.systemd1.NoSuchUnit"
#define UNIT_EXISTS   "org.freedesktop.systemd1.UnitExists"

/* How long systemd may take to put us into a new scope, and to forget a
 * stopped one (generous: an emulated CPU in the tests is ~20x slower). */
#define START_WAIT_MS 20000
/* One attempt at a manager call, and how many (see manager_call). */
#define CALL_TIMEOUT_MS 3000
#define CALL_ATTEMPTS   5
#define STOP_WAIT_MS    10000

/* --- cgroupsPath "slice:prefix:name" --- */

static bool slice_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n <= 6 || strcmp(s + n - 6, ".slice") || strchr(s, '/') || s[0] == '-')
        return false;
    /* "a--b.slice" and "a-.slice" name no parent */
    return !strstr(s, "--") && s[n - 7] != '-';
}

/* "a-b.slice" lives in "a.slice": "/a.slice/a-b.slice" (systemd.slice(5)).
 * "-.slice" is the root: "". */
static int expand_slice(const char *slice, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!strcmp(slice, "-.slice"))
        return 0;
    if (!slice_name_valid(slice))
        return -EINVAL;
    size_t stem = strlen(slice) - 6;
    for (size_t i = 0; i <= stem; i++) {
        if (i < stem && slice[i] != '-')
            continue;
        size_t len = strlen(buf);
        if ((size_t)snprintf(buf + len, size - len, "/%.*s.slice", (int)i, slice) >= size - len)
            return -ENAMETOOLONG;
    }
    return 0;
}

static bool unit_part_valid(const char *s)
{
    return !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* The unit: "prefix-name.scope" (or "name.scope" with no prefix), or the
 * name itself when it is a slice, as runc does. */
static bool ends_with_slice(const char *s)
{
    size_t n = strlen(s);
    return n > 6 && !strcmp(s + n - 6, ".slice");
}

static int unit_name(const char *prefix, const char *name, char **unit)
{
    if (!*name || !unit_part_valid(name) || !unit_part_valid(prefix))
        return -EINVAL;
    if (ends_with_slice(name)) {
        if (!slice_name_valid(name))
            return -EINVAL;
        *unit = strdup(name);
        return *unit ? 0 : -ENOMEM;
    }
    return asprintf(unit, "%s%s%s.scope", prefix, *prefix ? "-" : "", name) < 0 ? -ENOMEM : 0;
}

int cell_cgroup_systemd_path(const char *cgroups_path, const char *id, char **path, char **unit,
                             cell_err_t *err)
{
    _cleanup_free_ char *dflt = NULL;
    if (!cgroups_path || !*cgroups_path) {
        if (asprintf(&dflt, "system.slice:cell:%s", id ? id : "") < 0)
            return cell_error(err, ENOMEM, "cgroup path");
        cgroups_path = dflt;
    }
    const char *c1 = strchr(cgroups_path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':'))
        return cell_error(err, 0,
                          "linux.cgroupsPath \"%s\": expected \"slice:prefix:name\" with "
                          "--systemd-cgroup",
                          cgroups_path);
    _cleanup_free_ char *slice = strndup(cgroups_path, (size_t)(c1 - cgroups_path));
    _cleanup_free_ char *prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
    if (!slice || !prefix)
        return cell_error(err, ENOMEM, "cgroup path");
    char parent[2048];
    int r = expand_slice(*slice ? slice : "system.slice", parent, sizeof parent);
    if (r == 0)
        r = unit_name(prefix, c2 + 1, unit);
    if (r < 0)
        return cell_error(err, r == -ENOMEM ? ENOMEM : 0,
                          "linux.cgroupsPath \"%s\": not a valid systemd slice and unit name",
                          cgroups_path);
    /* A slice given as the name is the whole path ("a-b.slice" in "a.slice"). */
    if (ends_with_slice(*unit))
        r = expand_slice(*unit, parent, sizeof parent) < 0 ? -1 : asprintf(path, "%s", parent);
    else
        r = asprintf(path, "%s/%s", parent, *unit);
    if (r < 0) {
        free(TAKE_PTR(*unit));
        return cell_error(err, ENOMEM, "cgroup path");
    }
    return 0;
}

/* --- StartTransientUnit --- */

static bool is_scope(const struct cell_cgroup *cg)
{
    size_t n = strlen(cg->unit);
    return n > 6 && !strcmp(cg->unit + n - 6, ".scope");
}

static void prop_begin(struct cell_dbus_buf *b, const char *name, const char *sig)
{
    cell_dbus_pad(b, 8);
    cell_dbus_put_string(b, name);
    cell_dbus_put_signature(b, sig);
}

static void prop_string(struct cell_dbus_buf *b, const char *name, const char *value)
{
    prop_begin(b, name, "s");
    cell_dbus_put_string(b, value);
}

static void prop_u64(struct cell_dbus_buf *b, const char *name, uint64_t value)
{
    prop_begin(b, name, "t");
    cell_dbus_put_u64(b, value);
}

/* The limits systemd has properties for, so that systemd's own view agrees
 * with the files (it rewrites them from its unit settings on a reload);
 * everything else is written to the files by the v1/v2 code afterwards. */
static void put_limits(struct cell_dbus_buf *b, const struct cell_resources *res)
{
    if (!res)
        return;
    if (res->memory.limit > 0)
        prop_u64(b, "MemoryMax", (uint64_t)res->memory.limit);
    if (res->pids.limit > 0)
        prop_u64(b, "TasksMax", (uint64_t)res->pids.limit);
    if (res->cpu.shares > 0)
        prop_u64(b, "CPUWeight", cell_cgroup_shares_to_weight((uint64_t)res->cpu.shares));
    if (res->cpu.quota > 0 && res->cpu.period > 0)
        prop_u64(b, "CPUQuotaPerSecUSec",
                 (uint64_t)res->cpu.quota * 1000000 / (uint64_t)res->cpu.period);
}

static void start_body(struct cell_cgroup *cg, const struct cell_resources *res,
                       struct cell_dbus_buf *b)
{
    char desc[512];
    snprintf(desc, sizeof desc, "cell container %s", cg->unit);
    cell_dbus_put_string(b, cg->unit);
    cell_dbus_put_string(b, "replace");
    size_t props = cell_dbus_array_begin(b, 8);
    prop_string(b, "Description", desc);
    prop_begin(b, "Delegate", "b");
    cell_dbus_put_bool(b, true);
    if (is_scope(cg)) {
        _cleanup_free_ char *slice = strdup(cg->path);
        char *last = slice ? strrchr(slice, '/') : NULL;
        if (last)
            *last = '\0';
        last = slice ? strrchr(slice, '/') : NULL;
        prop_string(b, "Slice", last && last[1] ? last + 1 : "-.slice");
        prop_begin(b, "PIDs", "au");
        size_t pids = cell_dbus_array_begin(b, 4);
        cell_dbus_put_u32(b, (uint32_t)getpid());
        cell_dbus_array_end(b, pids, 4);
    }
    put_limits(b, res);
    cell_dbus_array_end(b, props, 8);
    size_t aux = cell_dbus_array_begin(b, 8);
    cell_dbus_array_end(b, aux, 8);
}

static int manager_call_once(const struct cell_dbus_call *call, const struct cell_dbus_buf *body,
                             char **error_name, cell_err_t *err)
{
    struct cell_dbus bus;
    int r = cell_dbus_connect(&bus, err);
    if (r < 0)
        return r;
    bus.timeout_ms = CALL_TIMEOUT_MS;
    struct cell_dbus_reply reply;
    r = cell_dbus_call(&bus, call, body, &reply, error_name, err);
    if (r == 0)
        cell_dbus_reply_free(&reply);
    cell_dbus_close(&bus);
    return r;
}

/* A call that still gets no answer (dbus.c nudges systemd while it waits)
 * is tried again on a new connection. The calls here are all safe to
 * repeat: a StartTransientUnit that did get through the first time says
 * UnitExists the second, which the caller treats as started. */
static int manager_call(const char *member, const char *sig, const struct cell_dbus_buf *body,
                        char **error_name, cell_err_t *err)
{
    const struct cell_dbus_call call = {SYSTEMD_DEST, SYSTEMD_PATH, MANAGER_IFACE, member, sig};
    int r = -ETIMEDOUT;
    for (int i = 0; i < CALL_ATTEMPTS && r == -ETIMEDOUT; i++) {
        if (i > 0) {
            cell_error_clear(err);
            if (error_name)
                free(TAKE_PTR(*error_name));
        }
        r = manager_call_once(&call, body, error_name, err);
    }
    return r;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when a line of /proc/self/cgroup ends in ":<path>". */
static bool in_cgroup(const char *path)
{
    _cleanup_free_ char *text = NULL;
    if (cell_read_file_at(AT_FDCWD, "/proc/self/cgroup", &text, NULL) < 0)
        return false;
    size_t n = strlen(path);
    for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : 0) {
        size_t len = strcspn(line, "\n");
        if (len > n && line[len - n - 1] == ':' && !strncmp(line + len - n, path, n))
            return true;
    }
    return false;
}

/* The start job ends with us in the scope: wait for that rather than for
 * its JobRemoved signal, which would need a subscription. */
static int wait_joined(struct cell_cgroup *cg, long timeout_ms, cell_err_t *err)
{
    for (long end = now_ms() + timeout_ms; now_ms() < end;) {
        if (in_cgroup(cg->path))
            return 0;
        sleep_ms(1);
    }
    return cell_error(err, ETIMEDOUT, "systemd unit %s: not started", cg->unit);
}

static int systemd_start(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err)
{
    if (access("/run/systemd/system", F_OK) < 0)
        return cell_error(err, 0,
                          "--systemd-cgroup: systemd is not PID 1 on this host (no "
                          "/run/systemd/system); leave the flag out to use cgroupfs");
    if (is_scope(cg)) {
        int r = cell_read_file_at(AT_FDCWD, "/proc/self/cgroup", &cg->origin, NULL);
        if (r < 0)
            return cell_error(err, -r, "read /proc/self/cgroup");
    }
    struct cell_dbus_buf body = {0};
    _cleanup_free_ char *name = NULL;
    start_body(cg, res, &body);
    int r = body.oom ? cell_error(err, ENOMEM, "StartTransientUnit")
                     : manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))", &body, &name, err);
    cell_dbus_buf_free(&body);
    /* UnitExists after a retry: the first attempt made it, with us in it */
    if (r < 0 && is_scope(cg) && name && !strcmp(name, UNIT_EXISTS) &&
        wait_joined(cg, CALL_TIMEOUT_MS, NULL) == 0) {
        cell_error_clear(err);
        return 0;
    }
    if (r < 0)
        return cell_error_prepend(err, "systemd unit %s", cg->unit);
    return is_scope(cg) ? wait_joined(cg, START_WAIT_MS, err) : 0;
}

/* --- leaving the scope --- */

/* Where the hierarchy of a /proc/self/cgroup line ("4:memory:/x",
 * "1:name=systemd:/x", "0::/x") is mounted. */
static int hier_dir(struct cell_cgroup *cg, const char *controllers, size_t len, char *buf,
                    size_t size)
{
    const char *m = cell_cgroup_mountpoint;
    if (len == 0)
        return snprintf(buf, size, "%s%s", m, cg->layout == CELL_CGROUP_V2 ? "" : "/unified");
    if (len > 5 && !strncmp(controllers, "name=", 5))
        return snprintf(buf, size, "%s/%.*s", m, (int)len - 5, controllers + 5);
    return snprintf(buf, size, "%s/%.*s", m, (int)len, controllers);
}

static int move_back(struct cell_cgroup *cg, const char *line, size_t len, cell_err_t *err)
{
    const char *c = memchr(line, ':', len);
    const char *p = c ? memchr(c + 1, ':', len - (size_t)(c + 1 - line)) : NULL;
    if (!p)
        return 0;
    char dir[4096], pid[16];
    int n = hier_dir(cg, c + 1, (size_t)(p - c - 1), dir, sizeof dir);
    size_t plen = len - (size_t)(p + 1 - line);
    if (n < 0 || (size_t)n + plen >= sizeof dir)
        return cell_error(err, ENAMETOOLONG, "cgroup of the runtime");
    memcpy(dir + n, p + 1, plen);
    dir[n + plen] = '\0';
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    int r = cg_try_write(dir, "cgroup.procs", pid);
    /* a hierarchy mounted elsewhere (or not at all) was never left */
    return r < 0 && r != -ENOENT ? cg_write_error(dir, "cgroup.procs", pid, NULL, r, err) : 0;
}

static int systemd_leave(struct cell_cgroup *cg, cell_err_t *err)
{
    _cleanup_free_ char *origin = TAKE_PTR(cg->origin);
    for (char *line = origin; line && *line;) {
        size_t len = strcspn(line, "\n");
        int r = move_back(cg, line, len, err);
        if (r < 0)
            return r;
        line += len + (line[len] == '\n');
    }
    return 0;
}

/* --- stop --- */

static int unit_call(const char *member, const char *unit, bool with_mode, char **error_name,
                     cell_err_t *err)
{
    struct cell_dbus_buf body = {0};
    cell_dbus_put_string(&body, unit);
    if (with_mode)
        cell_dbus_put_string(&body, "replace");
    int r = body.oom ? cell_error(err, ENOMEM, "%s", member)
                     : manager_call(member, with_mode ? "ss" : "s", &body, error_name, err);
    cell_dbus_buf_free(&body);
    return r;
}

/* Whether systemd still has the unit loaded (stopping, or failed until
 * reset); 0 when it is gone. */
static int unit_loaded(const char *unit, cell_err_t *err)
{
    _cleanup_free_ char *name = NULL;
    unit_call("ResetFailedUnit", unit, false, NULL, NULL);
    int r = unit_call("GetUnit", unit, false, &name, err);
    if (r < 0 && name && !strcmp(name, NO_SUCH_UNIT)) {
        cell_error_clear(err);
        return 0;
    }
    return r < 0 ? r : 1;
}

static int systemd_stop(struct cell_cgroup *cg, cell_err_t *err)
{
    /* A failed create may still have the runtime in the scope: stopping it
     * would signal the runtime itself. */
    if (cg->origin && systemd_leave(cg, err) < 0)
        return cell_error_prepend(err, "systemd unit %s", cg->unit);
    _cleanup_free_ char *name = NULL;
    int r = unit_call("StopUnit", cg->unit, true, &name, err);
    if (r < 0 && !(name && !strcmp(name, NO_SUCH_UNIT)))
        return cell_error_prepend(err, "systemd unit %s", cg->unit);
    cell_error_clear(err);
    /* The stop is a job: wait until systemd has let the unit go, so that
     * what delete leaves is nothing, and a new container can reuse the name. */
    for (long end = now_ms() + STOP_WAIT_MS; now_ms() < end;) {
        if ((r = unit_loaded(cg->unit, err)) <= 0)
            return r < 0 ? cell_error_prepend(err, "systemd unit %s", cg->unit) : 0;
        sleep_ms(5);
    }
    return cell_error(err, ETIMEDOUT, "systemd unit %s: still loaded after stop", cg->unit);
}

/* --- the driver: systemd's unit around the layout's driver --- */

static int sd_create(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err)
{
    /* systemd makes the directories first; the layout's create then finds
     * them there and writes the limits */
    int r = systemd_start(cg, res, err);
    if (r == 0 && (r = cg->fs->create(cg, res, err)) < 0)
        systemd_stop(cg, NULL);
    return r;
}

/* systemd first: it removes the scope's directories as it stops it; the
 * layout's destroy then takes what is left (v1 hierarchies systemd does not
 * manage). */
static int sd_destroy(struct cell_cgroup *cg, cell_err_t *err)
{
    int r = systemd_stop(cg, err);
    return r < 0 ? r : cg->fs->destroy(cg, err);
}

static int sd_after_clone(struct cell_cgroup *cg, cell_err_t *err)
{
    return cg->origin ? systemd_leave(cg, err) : 0;
}

static int sd_open_join_fds(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                            cell_err_t *err)
{
    return cg->fs->open_join_fds(cg, fds, n, clone_fd, err);
}

static int sd_attach(struct cell_cgroup *cg, pid_t pid, cell_err_t *err)
{
    return cg->fs->attach(cg, pid, err);
}

static int sd_update(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err)
{
    return cg->fs->update(cg, res, err);
}

static int sd_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err)
{
    return cg->fs->pids(cg, pids, n, err);
}

static int sd_freeze(struct cell_cgroup *cg, bool frozen, cell_err_t *err)
{
    return cg->fs->freeze(cg, frozen, err);
}

static int sd_frozen(struct cell_cgroup *cg, bool *frozen, cell_err_t *err)
{
    return cg->fs->frozen(cg, frozen, err);
}

static int sd_oom_kills(struct cell_cgroup *cg, int64_t *count, cell_err_t *err)
{
    return cg->fs->oom_kills(cg, count, err);
}

static json_t *sd_stats(struct cell_cgroup *cg, cell_err_t *err)
{
    return cg->fs->stats(cg, err);
}

const struct cell_cgroup_ops cell_cgroup_systemd_ops = {
    .name = "systemd",
    .create = sd_create,
    .open_join_fds = sd_open_join_fds,
    .attach = sd_attach,
    .update = sd_update,
    .pids = sd_pids,
    .freeze = sd_freeze,
    .frozen = sd_frozen,
    .oom_kills = sd_oom_kills,
    .stats = sd_stats,
    .destroy = sd_destroy,
    .after_clone = sd_after_clone,
};

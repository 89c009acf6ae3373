/* Operations on a live container through its cgroup: update, pause,
 * resume, ps, stats and events. They run in a short runtime process on the
 * host and find the cgroup in the container's state. */
#include "base/cleanup.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/runtime.h"
#include "runtime/spec/spec.h"
#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A container's record and its cgroup, for one operation. */
struct live {
    int rootfd, dirfd;
    struct cell_state st;
    struct cell_cgroup *cg;
    enum cell_status status;
};

static void live_clear(struct live *l)
{
    if (l->cg)
        cell_cgroup_free(l->cg);
    cell_state_clear(&l->st);
    if (l->dirfd >= 0)
        close(l->dirfd);
    if (l->rootfd >= 0)
        close(l->rootfd);
}

/* With lock, operations that change the cgroup are serialised with delete. */
static int live_open(const char *root, const char *id, bool lock, struct live *l, cell_err_t *err)
{
    *l = (struct live){.rootfd = -1, .dirfd = -1};
    int r = cell_container_load(root, id, lock, &l->rootfd, &l->dirfd, &l->st, err);
    if (r < 0)
        return r;
    l->status = cell_state_status(l->dirfd, &l->st);
    if ((r = cell_container_cgroup(&l->st, &l->cg, err)) < 0)
        return r;
    if (!l->cg)
        return cell_error(err, 0, "container \"%s\" has no cgroup", id);
    return 0;
}

/* Refuses a stopped container (and one still being created). */
static int live_require_alive(const struct live *l, cell_err_t *err)
{
    if (l->status == CELL_STATUS_CREATED || l->status == CELL_STATUS_RUNNING ||
        l->status == CELL_STATUS_PAUSED)
        return 0;
    return cell_error(err, 0, "container \"%s\" is %s", l->st.id, cell_status_name(l->status));
}

int cell_runtime_update(const char *root, const char *id, json_t *resources, cell_err_t *err)
{
    struct live l;
    struct cell_resources res;
    int r = cell_spec_parse_resources(resources, "resources", &res, err);
    if (r < 0)
        return r;
    /* runc's update leaves device rules alone; a rule list here would
     * replace the container's whole list, defaults included. */
    res.n_devices = 0;
    r = live_open(root, id, true, &l, err);
    if (r == 0)
        r = live_require_alive(&l, err);
    if (r == 0)
        r = cell_cgroup_update(l.cg, &res, err);
    if (r < 0)
        cell_error_prepend(err, "update container \"%s\"", id);
    cell_resources_clear(&res);
    live_clear(&l);
    return r;
}

static int set_frozen(const char *root, const char *id, bool frozen, cell_err_t *err)
{
    struct live l;
    int r = live_open(root, id, true, &l, err);
    if (r == 0 && frozen && l.status == CELL_STATUS_PAUSED)
        r = cell_error(err, 0, "container \"%s\" is already paused", id);
    else if (r == 0 && frozen)
        r = live_require_alive(&l, err);
    else if (r == 0 && l.status != CELL_STATUS_PAUSED)
        r = cell_error(err, 0, "container \"%s\" is %s, not paused", id,
                       cell_status_name(l.status));
    if (r == 0 && (r = cell_cgroup_freeze(l.cg, frozen, err)) < 0)
        cell_error_prepend(err, "%s container \"%s\"", frozen ? "pause" : "resume", id);
    live_clear(&l);
    return r;
}

int cell_runtime_pause(const char *root, const char *id, cell_err_t *err)
{
    return set_frozen(root, id, true, err);
}

int cell_runtime_resume(const char *root, const char *id, cell_err_t *err)
{
    return set_frozen(root, id, false, err);
}

/* Whatever the status, as runc: a stopped container that shared another's
 * pid namespace may still have processes, and its cgroup lists them. */
int cell_runtime_ps(const char *root, const char *id, pid_t **pids, size_t *n, cell_err_t *err)
{
    _cleanup_close_ int rootfd = -1, dirfd = -1;
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    struct cell_state st;
    *pids = NULL;
    *n = 0;
    int r = cell_container_load(root, id, false, &rootfd, &dirfd, &st, err);
    if (r == 0)
        r = cell_container_cgroup(&st, &cg, err);
    if (r == 0 && cg)
        r = cell_cgroup_pids(cg, pids, n, err);
    cell_state_clear(&st);
    return r;
}

static json_t *stats_event(struct live *l, cell_err_t *err)
{
    json_t *data = cell_cgroup_stats(l->cg, err);
    if (!data)
        return NULL;
    return json_pack("{s:s, s:s, s:o}", "type", "stats", "id", l->st.id, "data", data);
}

json_t *cell_runtime_stats(const char *root, const char *id, cell_err_t *err)
{
    struct live l;
    json_t *o = NULL;
    if (live_open(root, id, false, &l, err) == 0 && live_require_alive(&l, err) == 0)
        o = stats_event(&l, err);
    live_clear(&l);
    return o;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Emits an oom event for each kill counted since *seen. */
static int report_ooms(struct live *l, int64_t *seen, cell_event_fn fn, void *data)
{
    int64_t count = 0;
    if (cell_cgroup_oom_kills(l->cg, &count, NULL) < 0 || count <= *seen)
        return 0;
    *seen = count;
    json_t *ev = json_pack("{s:s, s:s}", "type", "oom", "id", l->st.id);
    int r = fn(ev, data);
    json_decref(ev);
    return r;
}

/* The OOM counter is polled every 100 ms (or every interval, when that is
 * shorter): cheap, one small file, and it works the same on v1 and v2. */
static int event_loop(struct live *l, unsigned interval_ms, cell_event_fn fn, void *data,
                      cell_err_t *err)
{
    int64_t seen = 0, next_stats = now_ms();
    cell_cgroup_oom_kills(l->cg, &seen, NULL);
    unsigned tick = interval_ms < 100 ? interval_ms : 100;
    for (;;) {
        /* Status first: once it says stopped, the count read next has every
         * kill that came before the end. */
        bool stopped = cell_state_status(l->dirfd, &l->st) == CELL_STATUS_STOPPED;
        int r = report_ooms(l, &seen, fn, data);
        if (r != 0 || stopped)
            return r < 0 ? r : 0;
        if (now_ms() >= next_stats) {
            json_t *ev = stats_event(l, err);
            if (!ev)
                return -1;
            r = fn(ev, data);
            json_decref(ev);
            if (r != 0)
                return r < 0 ? r : 0;
            next_stats += interval_ms;
        }
        poll(NULL, 0, (int)(tick ? tick : 1));
    }
}

int cell_runtime_events(const char *root, const char *id, unsigned interval_ms, cell_event_fn fn,
                        void *data, cell_err_t *err)
{
    struct live l;
    int r = live_open(root, id, false, &l, err);
    if (r == 0)
        r = live_require_alive(&l, err);
    if (r == 0)
        r = event_loop(&l, interval_ms ? interval_ms : 1, fn, data, err);
    live_clear(&l);
    return r;
}

/* Why it died, read while the cgroup is there: "oomKilled". */
static void state_add_oom(const struct cell_state *st, json_t *state)
{
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    bool killed = false;
    if (!st->cgroup || cell_container_cgroup(st, &cg, NULL) < 0 || !cg)
        return;
    if (cell_cgroup_oom_killed(cg, &killed, NULL) == 0)
        json_object_set_new(state, "oomKilled", json_boolean(killed));
}

json_t *cell_runtime_state(const char *root, const char *id, cell_err_t *err)
{
    _cleanup_close_ int rootfd = -1, dirfd = -1;
    struct cell_state st;
    if (cell_container_load(root, id, false, &rootfd, &dirfd, &st, err) < 0)
        return NULL;
    json_t *o = cell_state_to_json(&st, cell_state_status(dirfd, &st));
    state_add_oom(&st, o);
    cell_state_clear(&st);
    return o;
}

json_t *cell_runtime_list(const char *root, cell_err_t *err)
{
    json_t *list = json_array();
    _cleanup_closedir_ DIR *d = opendir(cell_container_root(root));
    if (!d) {
        if (errno == ENOENT)
            return list;
        json_decref(list);
        cell_error(err, errno, "state root %s", cell_container_root(root));
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !cell_id_valid(de->d_name))
            continue;
        json_t *o = cell_runtime_state(root, de->d_name, NULL);
        if (o)
            json_array_append_new(list, o);
    }
    return list;
}

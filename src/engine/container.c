/* The life of a named container: create, start (through its monitor),
 * stop, kill, wait, remove; and keeping records true when a monitor died. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/pid.h"
#include "engine/attach.h"
#include "engine/monitor.h"
#include "image/image.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- refresh ------------------------------------------------------------------ */

bool cell_engine_refresh(struct cell_engine *e, struct cell_ctr *c)
{
    if (!cell_state_live(cell_state_status_of(c->rec)) || cell_state_monitor_alive(c->rec))
        return false;
    /* The monitor is gone: nothing holds the container's stdio or will
     * record its end, so end it now, as a killed conmon's container ends. */
    cell_runtime_kill(e->runtime_root, c->id, SIGKILL, true, NULL);
    cell_runtime_delete(e->runtime_root, c->id, true, NULL);
    cell_engine_event_exit(e, c->id, 137, false);
    cell_state_set_exited(c->rec, 137, false, "the container's monitor died");
    cell_ctr_save(c, NULL);
    return true;
}

int cell_ctr_open_current(struct cell_engine *e, const char *id, struct cell_ctr *out,
                          cell_err_t *err)
{
    if (cell_ctr_peek(e, id, out, err) < 0)
        return -1;
    if (!cell_state_live(cell_state_status_of(out->rec)) || cell_state_monitor_alive(out->rec))
        return 0;
    /* Its monitor looks dead: refresh under the lock, which reads the
     * record again (another command may have brought it up to date). */
    cell_ctr_close(out);
    if (cell_ctr_open(e, id, true, out, err) < 0)
        return -1;
    cell_engine_refresh(e, out);
    return 0;
}

/* ---- start -------------------------------------------------------------------- */

int cell_engine_start_exit_code(const char *error)
{
    if (strstr(error, "executable file not found") || strstr(error, "no such file or directory"))
        return 127;
    if (strstr(error, "permission denied") || strstr(error, "is a directory"))
        return 126;
    return 128;
}

int cell_engine_start(struct cell_engine *e, const char *name_or_id, int *attach_fd,
                      cell_err_t *err)
{
    struct cell_ctr c;
    if (attach_fd)
        *attach_fd = -1;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    const char *status = cell_state_status_of(c.rec);
    if (cell_state_live(status)) {
        cell_ctr_close(&c);
        return 0;
    }
    if (!strcmp(status, "dead") || json_is_true(json_object_get(c.rec, "Removing"))) {
        cell_ctr_close(&c);
        return cell_error(err, 0, "container %s is marked for removal and cannot be started",
                          name_or_id);
    }
    json_object_del(c.rec, "StoppedByUser");
    int r = cell_ctr_save(&c, err);
    bool tried = r == 0;
    struct cell_monitor_handle h = {.pid = -1, .report_fd = -1, .go_fd = -1};
    if (r == 0)
        r = cell_monitor_spawn(e, &c, &h, err);
    if (r == 0 && attach_fd) {
        *attach_fd = cell_attach_connect(c.dirfd, err);
        r = *attach_fd < 0 ? -1 : 0;
    }
    if (r == 0)
        r = cell_monitor_go(&h, NULL, err);
    if (r < 0 && attach_fd && *attach_fd >= 0) {
        close(*attach_fd);
        *attach_fd = -1;
    }
    cell_monitor_handle_close(&h);
    /* A monitor that failed wrote nothing and the lock is still ours: the
     * record tells why, as Docker's inspect and `ps -a` do. */
    if (r < 0 && tried) {
        const char *why = cell_error_text(err);
        cell_state_set_start_failed(c.rec, cell_engine_start_exit_code(why), why);
        cell_ctr_save(&c, NULL);
    }
    cell_ctr_close(&c);
    return r;
}

/* ---- signals ------------------------------------------------------------------ */

static int open_running(struct cell_engine *e, const char *name_or_id, struct cell_ctr *c,
                        cell_err_t *err)
{
    if (cell_ctr_open_name(e, name_or_id, true, c, err) < 0)
        return -1;
    cell_engine_refresh(e, c);
    if (!cell_state_live(cell_state_status_of(c->rec))) {
        cell_error(err, 0, "Container %s is not running", name_or_id);
        cell_ctr_close(c);
        return -1;
    }
    return 0;
}

int cell_engine_kill(struct cell_engine *e, const char *name_or_id, int sig, cell_err_t *err)
{
    struct cell_ctr c;
    if (open_running(e, name_or_id, &c, err) < 0)
        return -1;
    cell_engine_event_signal(e, c.id, c.rec, sig);
    int r = cell_runtime_kill(e->runtime_root, c.id, sig, false, err);
    if (r == 0)
        cell_engine_thaw_for_signal(e, &c, sig);
    cell_ctr_close(&c);
    return r;
}

static int stop_signal_of(const json_t *rec)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(rec, "Config"), "StopSignal"));
    int sig = s ? cell_signal_from_string(s) : -1;
    return sig > 0 ? sig : SIGTERM;
}

/* Until the record says the container is no longer live or deadline_ms
 * passes; true when it ended. */
static bool wait_not_live(struct cell_engine *e, const char *id, long long deadline_ms)
{
    for (;;) {
        struct cell_ctr c;
        if (cell_ctr_open(e, id, true, &c, NULL) < 0)
            return true;
        cell_engine_refresh(e, &c);
        const char *s = cell_state_status_of(c.rec);
        bool live = cell_state_live(s) && strcmp(s, "restarting") != 0;
        cell_ctr_close(&c);
        if (!live)
            return true;
        if (deadline_ms >= 0 && mono_ms() >= deadline_ms)
            return false;
        sleep_ms(20);
    }
}

int cell_engine_stop(struct cell_engine *e, const char *name_or_id, int timeout, cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    /* Not restarted after this, even by "always" (Docker's manual stop). */
    json_object_set_new(c.rec, "StoppedByUser", json_true());
    if (cell_ctr_save(&c, err) < 0) {
        cell_ctr_close(&c);
        return -1;
    }
    if (!cell_state_live(cell_state_status_of(c.rec))) {
        cell_ctr_close(&c);
        return 0;
    }
    if (timeout < 0) {
        json_t *t = json_object_get(json_object_get(c.rec, "Config"), "StopTimeout");
        timeout = json_is_integer(t) ? (int)json_integer_value(t) : 10;
    }
    char id[CELL_ENGINE_ID_SIZE];
    snprintf(id, sizeof id, "%s", c.id);
    int sig = stop_signal_of(c.rec);
    cell_engine_event_signal(e, id, c.rec, sig);
    cell_runtime_kill(e->runtime_root, id, sig, false, NULL);
    cell_engine_thaw_for_signal(e, &c, sig);
    cell_ctr_close(&c);
    if (!wait_not_live(e, id, mono_ms() + timeout * 1000LL)) {
        cell_engine_event_signal(e, id, NULL, SIGKILL);
        cell_runtime_kill(e->runtime_root, id, SIGKILL, true, NULL);
        wait_not_live(e, id, -1);
    }
    cell_engine_event(e, id, "stop", NULL, NULL);
    return 0;
}

int cell_engine_wait(struct cell_engine *e, const char *name_or_id, int *exit_code, cell_err_t *err)
{
    char id[CELL_ENGINE_ID_SIZE];
    if (cell_ctr_find(e, name_or_id, id, err) < 0)
        return -1;
    wait_not_live(e, id, -1);
    struct cell_ctr c;
    if (cell_ctr_open(e, id, false, &c, err) < 0)
        return -1;
    *exit_code =
        (int)json_integer_value(json_object_get(json_object_get(c.rec, "State"), "ExitCode"));
    cell_ctr_close(&c);
    return 0;
}

/* ---- remove ------------------------------------------------------------------- */

static void kill_monitor(const json_t *rec)
{
    json_t *m = json_object_get(rec, "Monitor");
    pid_t pid = (pid_t)json_integer_value(json_object_get(m, "Pid"));
    unsigned long long start =
        (unsigned long long)json_integer_value(json_object_get(m, "StartTime"));
    if (pid > 0 && pid != getpid() && cell_proc_alive(pid, start))
        kill(pid, SIGKILL);
}

/* Everything a container has, in the order that never strands a part:
 * processes, the runtime's state and cgroup, the root filesystem, the
 * name, the record last (it is what lets rm find the rest). */
static int remove_parts(struct cell_engine *e, struct cell_ctr *c, cell_err_t *err)
{
    kill_monitor(c->rec);
    cell_runtime_kill(e->runtime_root, c->id, SIGKILL, true, NULL);
    _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
    if (cell_runtime_delete(e->runtime_root, c->id, true, &e2) < 0 &&
        !strstr(cell_error_text(&e2), "does not exist"))
        return cell_error(err, 0, "remove container %s: %s", c->id, cell_error_text(&e2));
    struct cell_image_store *s;
    if (cell_engine_store(e, &s, err) < 0 || cell_image_snapshot_remove(s, c->id, err) < 0)
        return -1;
    const char *name = json_string_value(json_object_get(c->rec, "Name"));
    cell_name_release(e, name, c->id);
    cell_engine_event_destroy(e, c);
    int r = cell_rm_rf_at(e->containersfd, c->id);
    if (r < 0)
        return cell_error(err, -r, "remove container %s", c->id);
    return 0;
}

int cell_engine_remove(struct cell_engine *e, const char *name_or_id, bool force, cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    const char *status = cell_state_status_of(c.rec);
    if (cell_state_live(status) && !force) {
        int r = cell_error(err, 0,
                           "You cannot remove a %s container %s. Stop the container before "
                           "attempting removal or force remove",
                           status, c.id);
        cell_ctr_close(&c);
        return r;
    }
    json_object_set_new(c.rec, "Removing", json_true());
    cell_ctr_save(&c, NULL);
    int r = remove_parts(e, &c, err);
    cell_ctr_close(&c);
    return r;
}

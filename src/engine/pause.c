/* `pause` and `unpause`: the container's cgroup frozen and thawed through
 * the runtime, the record's State.Status "paused" in between (it is still
 * Running, as in Docker). */
#include "engine/engine.h"

#include "engine/monitor.h"
#include "runtime/runtime.h"

#include <signal.h>
#include <string.h>

static int open_for(struct cell_engine *e, const char *name_or_id, struct cell_ctr *c,
                    cell_err_t *err)
{
    if (cell_ctr_open_name(e, name_or_id, true, c, err) < 0)
        return -1;
    cell_engine_refresh(e, c);
    return 0;
}

int cell_engine_pause(struct cell_engine *e, const char *name_or_id, cell_err_t *err)
{
    struct cell_ctr c;
    if (open_for(e, name_or_id, &c, err) < 0)
        return -1;
    const char *s = cell_state_status_of(c.rec);
    int r = 0;
    if (!strcmp(s, "paused"))
        r = cell_error(err, 0, "Container %s is already paused", c.id);
    else if (!strcmp(s, "restarting"))
        r = cell_error(err, 0, "Container %s is restarting, wait until the container is running",
                       c.id);
    else if (strcmp(s, "running") != 0)
        r = cell_error(err, 0, "Container %s is not running", c.id);
    if (r == 0 && cell_runtime_pause(e->runtime_root, c.id, err) < 0)
        r = cell_error_prepend(err, "Cannot pause container %s: ", c.id);
    if (r == 0) {
        cell_state_set_status(c.rec, "paused");
        r = cell_ctr_save(&c, err);
        cell_engine_event(e, c.id, "pause", c.rec, NULL);
    }
    cell_ctr_close(&c);
    return r;
}

/* Thaws c (locked) and records it running again. */
static int thaw(struct cell_engine *e, struct cell_ctr *c, cell_err_t *err)
{
    if (cell_runtime_resume(e->runtime_root, c->id, err) < 0)
        return cell_error_prepend(err, "Cannot unpause container %s: ", c->id);
    cell_state_set_status(c->rec, "running");
    int r = cell_ctr_save(c, err);
    cell_engine_event(e, c->id, "unpause", c->rec, NULL);
    return r;
}

int cell_engine_unpause(struct cell_engine *e, const char *name_or_id, cell_err_t *err)
{
    struct cell_ctr c;
    if (open_for(e, name_or_id, &c, err) < 0)
        return -1;
    int r = strcmp(cell_state_status_of(c.rec), "paused") != 0
                ? cell_error(err, 0, "Container %s is not paused", c.id)
                : thaw(e, &c, err);
    cell_ctr_close(&c);
    return r;
}

void cell_engine_thaw_for_signal(struct cell_engine *e, struct cell_ctr *c, int sig)
{
    /* A frozen process takes no signal until it thaws: Docker thaws a
     * paused container after sending it the signal that ends it (its stop
     * signal, or SIGKILL), and leaves it frozen for any other. */
    const char *ss =
        json_string_value(json_object_get(json_object_get(c->rec, "Config"), "StopSignal"));
    int stop = ss ? cell_signal_from_string(ss) : -1;
    if (stop <= 0)
        stop = SIGTERM;
    if (!strcmp(cell_state_status_of(c->rec), "paused") && (sig == SIGKILL || sig == stop))
        thaw(e, c, NULL);
}

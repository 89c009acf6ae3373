/* restart, rename, update, attach, container prune. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "engine/attach.h"
#include "engine/spec.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cell_engine_restart(struct cell_engine *e, const char *name_or_id, int timeout, cell_err_t *err)
{
    char id[CELL_ENGINE_ID_SIZE];
    if (cell_ctr_find(e, name_or_id, id, err) < 0 || cell_engine_stop(e, id, timeout, err) < 0)
        return -1;
    return cell_engine_start(e, id, NULL, err);
}

int cell_engine_rename(struct cell_engine *e, const char *name_or_id, const char *new_name,
                       cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    _cleanup_free_ char *old = strdup(json_string_value(json_object_get(c.rec, "Name")) ?: "");
    int r = 0;
    if (old && !strcmp(old, new_name))
        r = cell_error(err, 0, "Renaming a container with the same name as its current name");
    if (r == 0)
        r = cell_name_claim(e, new_name, c.id, err);
    if (r == 0) {
        json_object_set_new(c.rec, "Name", json_string(new_name));
        if ((r = cell_ctr_save(&c, err)) < 0)
            cell_name_release(e, new_name, c.id);
        else
            cell_name_release(e, old, c.id);
    }
    cell_ctr_close(&c);
    return r;
}

static bool live(const char *status)
{
    return !strcmp(status, "running") || !strcmp(status, "paused");
}

int cell_engine_update(struct cell_engine *e, const char *name_or_id, const struct cell_run_opts *o,
                       cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    json_t *hc = json_object_get(c.rec, "HostConfig");
    json_t *copy = json_deep_copy(hc), *resources = NULL;
    int r = cell_spec_update(o, copy, &resources, err);
    if (r == 0 && live(cell_state_status_of(c.rec)) && json_object_size(resources))
        r = cell_runtime_update(e->runtime_root, c.id, resources, err);
    if (r == 0) {
        json_object_set(c.rec, "HostConfig", copy);
        r = cell_ctr_save(&c, err);
    }
    json_decref(copy);
    json_decref(resources);
    cell_ctr_close(&c);
    return r;
}

int cell_engine_attach(struct cell_engine *e, const char *name_or_id, int *fd, bool *tty,
                       bool *open_stdin, char id[CELL_ENGINE_ID_SIZE], cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    int r = 0;
    if (!live(cell_state_status_of(c.rec)))
        r = cell_error(err, 0, "You cannot attach to a stopped container, start it first");
    else if (!strcmp(cell_state_status_of(c.rec), "paused"))
        r = cell_error(err, 0, "You cannot attach to a paused container, unpause it first");
    json_t *cfg = json_object_get(c.rec, "Config");
    *tty = json_is_true(json_object_get(cfg, "Tty"));
    *open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
    snprintf(id, CELL_ENGINE_ID_SIZE, "%s", c.id);
    if (r == 0)
        r = *fd = cell_attach_connect(c.dirfd, err);
    cell_ctr_close(&c);
    return r < 0 ? -1 : 0;
}

int cell_engine_prune(struct cell_engine *e, char ***removed, cell_err_t *err)
{
    _cleanup_strv_ char **ids = NULL;
    *removed = calloc(1, sizeof(char *));
    if (!*removed || cell_ctr_list(e, &ids, err) < 0)
        return cell_error(err, ENOMEM, "prune");
    for (char **p = ids; *p; p++) {
        struct cell_ctr c;
        if (cell_ctr_open(e, *p, true, &c, NULL) < 0)
            continue;
        cell_engine_refresh(e, &c);
        const char *s = cell_state_status_of(c.rec);
        bool gone = !live(s) && strcmp(s, "restarting") != 0;
        cell_ctr_close(&c);
        _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
        if (gone && cell_engine_remove(e, *p, false, &e2) == 0)
            cell_strv_push(removed, *p);
    }
    return 0;
}

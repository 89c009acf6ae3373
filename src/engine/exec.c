/* `exec`: through the runtime library's exec, in this process. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "engine/defaults.h"
#include "engine/flags.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int running_container(struct cell_engine *e, const char *name, struct cell_ctr *c,
                             cell_err_t *err)
{
    if (cell_ctr_open_name(e, name, true, c, err) < 0)
        return -1;
    cell_engine_refresh(e, c);
    const char *s = cell_state_status_of(c->rec);
    int r = 0;
    if (!strcmp(s, "paused"))
        r = cell_error(err, 0, "Container %s is paused, unpause the container before exec", c->id);
    else if (strcmp(s, "running") != 0)
        r = cell_error(err, 0, "Container %s is not running", c->id);
    if (r < 0)
        cell_ctr_close(c);
    return r;
}

/* -u as the container's /etc/passwd and /etc/group say: "uid:gid" and the
 * supplementary gids for the runtime. */
static int resolve_user(const json_t *rec, const char *user, char **ids, char ***gids,
                        cell_err_t *err)
{
    const char *rootfs = json_string_value(
        json_object_get(json_object_get(json_object_get(rec, "GraphDriver"), "Data"), "MergedDir"));
    _cleanup_close_ int rootfd = rootfs ? open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rootfd < 0)
        return cell_error(err, errno, "open the container's root filesystem");
    json_t *u = NULL;
    _cleanup_free_ char *home = NULL;
    if (cell_flags_resolve_user(rootfd, user, NULL, &u, &home, err) < 0)
        return -1;
    int r = asprintf(ids, "%lld:%lld", (long long)json_integer_value(json_object_get(u, "uid")),
                     (long long)json_integer_value(json_object_get(u, "gid")));
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(u, "additionalGids"), i, g)
    {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(g));
        cell_strv_push(gids, buf);
    }
    json_decref(u);
    return r < 0 ? cell_error(err, ENOMEM, "user") : 0;
}

static int exec_env(const struct cell_exec_request *r, char ***env, cell_err_t *err)
{
    for (char **p = r->env_file; p && *p; p++)
        if (cell_flags_env_file(*p, env, err) < 0)
            return -1;
    for (char **p = r->env; p && *p; p++)
        if (cell_flags_env(*p, env, err) < 0)
            return -1;
    return 0;
}

/* Detached: a waiter of its own (setsid, a subreaper) starts the process
 * and reaps it; the caller hears only whether it started. */
static int exec_detached(struct cell_exec_opts *o, cell_err_t *err)
{
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) < 0)
        return cell_error(err, errno, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return cell_error(err, errno, "fork");
    if (pid == 0) {
        close(rep[0]);
        setsid();
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3; i++)
            dup2(null, i);
        _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
        o->detach = true;
        int code;
        const char *msg = cell_runtime_exec(o, &code, &e) < 0 ? cell_error_text(&e) : "";
        cell_write_all(rep[1], msg, strlen(msg));
        close(rep[1]);
        while (wait(NULL) > 0 || errno == EINTR)
            ;
        _exit(0);
    }
    close(rep[1]);
    _cleanup_free_ char *msg = NULL;
    cell_read_all(rep[0], &msg, NULL);
    close(rep[0]);
    if (msg && *msg)
        return cell_error(err, 0, "%s", msg);
    return 0;
}

int cell_engine_exec(struct cell_engine *e, const char *name_or_id,
                     const struct cell_exec_request *r, int *exit_code, cell_err_t *err)
{
    struct cell_ctr c;
    if (!r->cmd || !*r->cmd)
        return cell_error(err, 0, "exec: no command given");
    if (running_container(e, name_or_id, &c, err) < 0)
        return -1;
    _cleanup_strv_ char **env = NULL, **gids = NULL, **caps = NULL;
    _cleanup_free_ char *ids = NULL;
    const json_t *cfg = json_object_get(c.rec, "Config");
    const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
    _cleanup_free_ char *workdir = strdup(r->workdir ? r->workdir : wd ? wd : "");
    int rc = exec_env(r, &env, err);
    if (rc == 0 && r->user)
        rc = resolve_user(c.rec, r->user, &ids, &gids, err);
    if (rc == 0 && r->privileged)
        rc = cell_defaults_apply_caps(NULL, NULL, true, &caps, err);
    char id[CELL_ENGINE_ID_SIZE];
    snprintf(id, sizeof id, "%s", c.id);
    cell_ctr_close(&c); /* not held while the process runs */
    if (rc < 0)
        return -1;
    struct cell_exec_opts o = {
        .root = e->runtime_root,
        .id = id,
        .args = r->cmd,
        .cwd = workdir && *workdir ? workdir : NULL,
        .env = env,
        .user = ids,
        .additional_gids = gids,
        .caps = caps,
        .tty = r->tty,
    };
    if (r->detach)
        return exec_detached(&o, err);
    if (!r->interactive) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            close(null);
        }
    }
    return cell_runtime_exec(&o, exit_code, err);
}

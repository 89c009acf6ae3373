/* A container's record under the state root: <root>/<id>/state.json,
 * written atomically, and exec.fifo while the init waits at the gate. */
#pragma once

#include "base/error.h"
#include "base/pid.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct cell_state {
    char *id;
    pid_t pid;
    unsigned long long starttime; /* /proc/PID/stat field 22: guards against pid reuse */
    char *bundle;
    char *rootfs;
    char *created; /* RFC 3339 */
    uid_t owner;
    json_t *annotations; /* object or NULL */
    json_t *cgroup;      /* cell_cgroup_to_json */
    json_t *hooks;       /* cell_hooks_to_json, or NULL */
    /* The init does not own its pid namespace (it joined another's, or
     * has none): its death leaves the container's other processes
     * running, and delete kills them. */
    bool shared_pidns;
    /* create --no-new-keyring: exec'd processes keep the caller's session
     * keyring too. */
    bool no_new_keyring;
};

enum cell_status { CELL_STATUS_CREATING, CELL_STATUS_CREATED, CELL_STATUS_RUNNING,
                   CELL_STATUS_STOPPED, CELL_STATUS_PAUSED };

const char *cell_status_name(enum cell_status s);

/* Opens (creating with mkdir -p) the state root. */
int cell_state_root_open(const char *root, bool create, cell_err_t *err);
/* Opens <root>/<id>; with lock, takes its lock (flock, released on close).
 * Readers need no lock: state.json is only ever replaced by rename. */
int cell_state_dir_open(int rootfd, const char *id, bool lock, cell_err_t *err);

int cell_state_write(int dirfd, const struct cell_state *st, cell_err_t *err);

/* Before the cgroup is made: records where it will be, so that a runtime
 * killed before state.json exists still leaves what delete needs. An xattr
 * of the state directory: no inode to allocate on the start path (on ext4
 * with containers coming and going, a new inode costs ~0.3 ms). Falls back
 * to a state.json where the filesystem has no trusted xattrs. */
int cell_state_mark_creating(int dirfd, const struct cell_state *st, cell_err_t *err);
int cell_state_read(int dirfd, const char *id, struct cell_state *st, cell_err_t *err);
void cell_state_clear(struct cell_state *st);

/* Stopped when the pid is gone, reused, or a zombie (PID 1 here may never
 * reap it); created while exec.fifo exists; paused while its cgroup is
 * frozen; else running. */
enum cell_status cell_state_status(int dirfd, const struct cell_state *st);

/* The state object of runtime.md plus runc's rootfs, created, owner. */
json_t *cell_state_to_json(const struct cell_state *st, enum cell_status status);

/* Removes <root>/<id> and everything in it. */
int cell_state_remove(int rootfd, const char *id, cell_err_t *err);

/* The OCI runtime's public interface: what src/cli (cell-runtime) and
 * src/engine (cell) call. A container is named by (root, id); its state lives
 * in <root>/<id>/. Nothing here prints or exits. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define CELL_RUNTIME_DEFAULT_ROOT "/run/cell-runtime"
#define CELL_OCI_VERSION          "1.2.0"

struct cell_create_opts {
    const char *root;           /* state root; NULL = CELL_RUNTIME_DEFAULT_ROOT */
    const char *id;
    const char *bundle;         /* NULL = current directory */
    const char *pid_file;       /* write the init's host pid here (created atomically) */
    const char *console_socket; /* AF_UNIX socket that receives the pty master */
    int console_fd;             /* or a connected AF_UNIX socket of the caller's (dup'ed; the
                                   caller keeps it); 0 = none (the struct is zeroed) */
    bool no_pivot;              /* chroot(2) instead of pivot_root(2) */
    bool no_new_keyring;
    int preserve_fds;           /* pass fds 3 .. 3+N-1 into the container */
    int listen_fds;             /* socket activation: LISTEN_FDS fds come first (3 ..), then the
                                   preserved ones; the process gets LISTEN_FDS/LISTEN_PID */
    bool detach;                /* run -d: return once the process has started */
    bool keep;                  /* run --keep: do not delete the container after it exits */
    bool systemd_cgroup;
};

/* create: the container's init is set up and waits at the create/start gate. */
int cell_runtime_create(const struct cell_create_opts *o, cell_err_t *err);
/* start: opens the gate; the user's process runs. */
int cell_runtime_start(const char *root, const char *id, cell_err_t *err);
/* run: create + start. Without detach, waits for the process and stores its
 * wait status as an exit code (128+signal when killed) in *exit_code, then
 * deletes the container unless keep. */
int cell_runtime_run(const struct cell_create_opts *o, int *exit_code, cell_err_t *err);

/* The state object of runtime.md "State" (ociVersion, id, status, pid, bundle,
 * annotations) plus runc's rootfs, created and owner. NULL on error. */
json_t *cell_runtime_state(const char *root, const char *id, cell_err_t *err);
/* An array of state objects, one per container under root (empty if none). */
json_t *cell_runtime_list(const char *root, cell_err_t *err);

int cell_runtime_kill(const char *root, const char *id, int sig, bool all, cell_err_t *err);
/* Refuses a running container unless force, which kills it first; a
 * created one is killed and deleted without force, as runc does (nothing of
 * the user's has run yet). Removes cgroups and state. */
int cell_runtime_delete(const char *root, const char *id, bool force, cell_err_t *err);
/* Note for delete and run: when they succeed, err may still hold a warning
 * (the OOM killer fired) that the caller should show. Warnings that do not
 * end an operation (a failed poststop hook, an unknown capability) go to
 * cell_warn (base/warn.h) as they happen. */

/* exec (exec.c): a new process in a created or running container. */
struct cell_exec_opts {
    const char *root;
    const char *id;
    const char *process_file;   /* process.json (config.md "process"); flags below then ignored */
    char **args;                /* the command; NULL-terminated */
    const char *cwd;
    char **env;                 /* NAME=value, replacing NAME */
    const char *user;           /* "uid[:gid]" */
    char **additional_gids;     /* decimal gids: the process's supplementary groups */
    char **caps;                /* added to bounding, effective, permitted */
    bool tty;
    bool no_new_privs;
    const char *apparmor, *process_label;
    const char *console_socket; /* receives the pty master (needed with tty and detach) */
    int console_fd;             /* or a connected socket of the caller's, as in create; 0 = none */
    const char *pid_file;
    const char *cgroup;         /* a sub-cgroup of the container's to run in */
    int preserve_fds;
    int listen_fds;             /* socket activation: LISTEN_FDS fds before the preserved ones */
    bool detach;
    pid_t *pid;                 /* with detach: gets the process's host pid (the caller's child,
                                   which the caller reaps) */
    bool ignore_paused;
};
/* Joins the container's cgroup, namespaces, seccomp and runs the process;
 * without detach waits and stores its exit code (128+signal when killed). */
int cell_runtime_exec(const struct cell_exec_opts *o, int *exit_code, cell_err_t *err);

/* Operations on a live container's cgroup (ops.c). update applies a
 * linux.resources object (only the fields it sets; device rules are left as
 * they are, as runc does). pause freezes every process, resume thaws them;
 * state says "paused" in between. */
int cell_runtime_update(const char *root, const char *id, json_t *resources, cell_err_t *err);
int cell_runtime_pause(const char *root, const char *id, cell_err_t *err);
int cell_runtime_resume(const char *root, const char *id, cell_err_t *err);
/* The host pids of every process in the container's cgroup (*pids freed by
 * the caller). */
int cell_runtime_ps(const char *root, const char *id, pid_t **pids, size_t *n, cell_err_t *err);
/* runc's stats event: {"type":"stats","id":ID,"data":{cpu, memory, pids,
 * blkio, hugetlb}}. NULL on error. */
json_t *cell_runtime_stats(const char *root, const char *id, cell_err_t *err);
/* Receives each event; a non-zero return ends cell_runtime_events. */
typedef int (*cell_event_fn)(json_t *event, void *data);
/* runc's events: a stats event every interval_ms and {"type":"oom","id":ID}
 * whenever the OOM killer fires, until the container stops (then 0). */
int cell_runtime_events(const char *root, const char *id, unsigned interval_ms, cell_event_fn fn,
                        void *data, cell_err_t *err);

/* `spec`: runc's default config.json (rootless variant when asked). */
json_t *cell_runtime_default_spec(bool rootless);
/* `features`: features.md structure. */
json_t *cell_runtime_features(void);

/* "KILL", "SIGKILL", "kill", "9" -> 9; -1 when unknown. */
int cell_signal_from_string(const char *s);
const char *cell_signal_name(int sig); /* "SIGKILL"; NULL when unknown */

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 bytes. */
bool cell_id_valid(const char *id);

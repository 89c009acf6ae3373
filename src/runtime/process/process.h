/* The container process made ready for execve, the init's and an exec'd
 * one alike: limits, identity, executable, and the steps of capabilities
 * (caps.c), LSM labels (lsm.c) and scheduling (sched.c). This is the header
 * of runtime/process/ that the rest of the runtime includes. */
#pragma once

#include "base/error.h"
#include "runtime/process/caps.h"
#include "runtime/process/lsm.h"
#include "runtime/process/sched.h"
#include "runtime/spec/spec.h"

#include <stddef.h>

struct cell_seccomp;

/* How a container's process is made ready for execve, for the init and for
 * an exec'd process alike; what differs between the two is named here. */
struct cell_process_setup {
    const struct cell_spec *spec;       /* spec->process is the process to run */
    const struct cell_seccomp *seccomp; /* the compiled filter, or NULL */
    int sync_fd;                        /* the runtime's end: a seccomp notify fd goes there */
    int pty_peer;                       /* the terminal to make ours, or -1 */
    const char *keyring;                /* the session keyring to join ("_ses.<id>"), or NULL */
    int listen_fds;                     /* LISTEN_FDS passed from fd 3 on */
    int preserve_fds;                   /* further fds passed after those */
    int keep[3];                        /* the runtime's own fds (close-on-exec) that stay */
    size_t n_keep;
};

/* In the container's namespaces, root and cgroup, as root of the
 * container: everything up to the execve of the process (cwd, session and
 * terminal, LSM, scheduler, rlimits, keyring, personality, umask, the
 * executable and env, stray fds, bounding set, seccomp, user switch, no
 * new privileges). *exe and *env are what execve then takes. */
int cell_process_setup(const struct cell_process_setup *s, char **exe, char ***env,
                       cell_err_t *err);

/* env with LISTEN_FDS=n and LISTEN_PID=<this process> added when n > 0
 * (sd_listen_fds(3)); env itself when n is 0 or on ENOMEM. */
char **cell_listen_env(char **env, int n);

int cell_process_set_rlimits(const struct cell_process *p, cell_err_t *err);

/* Groups, gid, uid, then capabilities, keeping the ones the config asks
 * for across the switch. */
int cell_process_switch_user(const struct cell_process *p, cell_err_t *err);

/* Finds args[0] in the container (after pivot_root) through PATH from the
 * process env, the way execvp would, so that a missing executable is
 * reported by create rather than discovered after start. */
int cell_process_find_executable(const struct cell_process *p, char **out, cell_err_t *err);

/* process.env, plus HOME from the container's /etc/passwd when the config
 * does not set it (runc does the same; "/" when the user has no entry). */
char **cell_process_env_with_home(const struct cell_process *p);

int cell_process_set_oom_score_adj(pid_t pid, int64_t adj, cell_err_t *err);

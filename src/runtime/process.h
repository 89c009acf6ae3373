/* The container process's own attributes: limits, identity, executable. */
#pragma once

#include "base/error.h"
#include "runtime/spec.h"

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

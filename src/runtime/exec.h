/* What exec.c shares with the container's init (init.c). */
#pragma once

/* Socket activation (sd_listen_fds(3)): the fds systemd passed the runtime
 * reach the process as 3 .. 3+n-1, and env gains LISTEN_FDS=n and
 * LISTEN_PID=<the caller's pid>, for a caller about to execve (its pid as
 * the container sees it, so sd_listen_fds accepts them). With n == 0, env
 * itself. */
char **cell_listen_env(char **env, int n);

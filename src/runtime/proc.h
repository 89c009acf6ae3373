/* The runtime process's dealings with the processes it starts: reaping,
 * the exit code a shell would show, signals passed on, the pid file. Shared
 * by run (container.c) and exec (exec.c). */
#pragma once

#include "base/error.h"

#include <sys/types.h>

/* Waits for pid, ignoring its status (EINTR retried); pid <= 0 is a no-op. */
void cell_proc_reap(pid_t pid);

/* Waits for pid, reaping any other child that ends first (the runtime may
 * be a subreaper), and returns its exit status, or 128+signal when killed. */
int cell_proc_wait_exit_code(pid_t pid);

/* From now on the signals a terminal or a supervisor sends (INT, TERM, HUP,
 * QUIT, USR1, USR2, WINCH) go on to pid, as runc does; 0 stops. */
void cell_proc_forward_signals(pid_t pid);

/* Writes pid to path atomically (NULL path: nothing). */
int cell_proc_write_pid_file(const char *path, pid_t pid, cell_err_t *err);

/* process.terminal: a pty from the container's own devpts. Its master goes
 * to the caller over --console-socket (SCM_RIGHTS), or, for a foreground
 * run, to the runtime, which relays it to its own terminal. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <stdbool.h>
#include <sys/types.h>

/* Parent, before clone: a connection to the caller's console socket. */
int cell_terminal_connect(const char *socket_path, cell_err_t *err);

/* Opens a pty from the container's own <root>/dev/ptmx (the init before
 * pivot_root, an exec'd process in the container's mount namespace), sets
 * its size and owner, binds the peer on /dev/console when dev_console (the
 * init's), sends the master over console_fd and returns the peer (the
 * container's side). */
int cell_terminal_open(int rootfd, const struct cell_process *p, int console_fd, bool dev_console,
                       cell_err_t *err);

/* Init, after setsid: the peer becomes the controlling terminal and 0, 1, 2. */
int cell_terminal_attach(int peer, cell_err_t *err);

/* Sends a pty master over a unix socket (SCM_RIGHTS, one byte of data),
 * as --console-socket receivers expect; 0 or -errno. */
int cell_terminal_send_master(int sock, int master);

/* Runtime: receives the master fd sent by cell_terminal_open. */
int cell_terminal_recv_master(int sock, cell_err_t *err);

/* Runtime, foreground run: relays between its stdio and the master until
 * pid exits; the caller's terminal is in raw mode meanwhile, and window
 * size changes are passed on. Returns pid's exit code. */
int cell_terminal_relay(int master, pid_t pid);

/* NOTIFY_SOCKET (sd_notify(3)) for a container, as runc does it: when the
 * runtime runs with NOTIFY_SOCKET set, the container's process gets
 * NOTIFY_SOCKET=/run/notify/notify.sock, a bind mount of <state>/notify;
 * start (or run) binds that socket before the process starts and passes
 * READY=1, with MAINPID=<the init's host pid>, on to the runtime's own
 * NOTIFY_SOCKET. Without NOTIFY_SOCKET every call returns at once. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <sys/types.h>

/* create, before clone: <state>/notify, its mount and the process's env. */
int cell_notify_prepare(struct cell_spec *spec, int state_dirfd, cell_err_t *err);

/* start/run, before the gate opens: *sock is the bound socket, or -1 when
 * the container was created without NOTIFY_SOCKET or the caller has none. */
int cell_notify_bind(int state_dirfd, int *sock, cell_err_t *err);

/* Waits for READY=1 on sock (or for the init to exit) and forwards it. */
int cell_notify_relay(int sock, pid_t init, cell_err_t *err);
/* The same in a child process, for a caller that goes on to wait. */
int cell_notify_relay_background(int sock, pid_t init, cell_err_t *err);

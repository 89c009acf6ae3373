/* The engine's own parts that the commands share but a caller never needs:
 * the monitor (monitor.c) and the record's State helpers (state.c). */
#pragma once

#include "engine/engine.h"

#include <stdbool.h>
#include <sys/types.h>

/* What a monitor tells the `cell` process that forked it, one line each on
 * the report pipe: "C" (created: the attach socket listens), then after the
 * caller's go byte "S <pid>" (started) — or "E <message>" at any point. */
struct cell_monitor_handle {
    pid_t pid;
    int report_fd; /* read end */
    int go_fd;     /* write end: one byte starts the container; closing it
                      without one tears the creation down */
};

/* Forks the monitor of c (locked by the caller; the monitor shares that
 * lock until the container runs) and waits for "C". */
int cell_monitor_spawn(struct cell_engine *e, struct cell_ctr *c, struct cell_monitor_handle *h,
                       cell_err_t *err);
/* Sends the go byte and waits for "S"; *pid gets the init's host pid. */
int cell_monitor_go(struct cell_monitor_handle *h, pid_t *pid, cell_err_t *err);
void cell_monitor_handle_close(struct cell_monitor_handle *h);

/* State transitions written into rec (Docker's State object). */
void cell_state_set_running(json_t *rec, pid_t pid, pid_t monitor);
void cell_state_set_exited(json_t *rec, int exit_code, bool oom_killed, const char *error);
void cell_state_set_status(json_t *rec, const char *status);
/* A start that failed: the exit code and error say why; the status stays. */
void cell_state_set_start_failed(json_t *rec, int exit_code, const char *error);

/* Docker's health checks (health.c): Config.Healthcheck built from the
 * image and `run`'s flags, and the checks a container's monitor runs on
 * its schedule, each in a child process of its own (the checker), which
 * runs the command in the container, waits for it within the timeout and
 * writes the result into the record's State.Health. */
#pragma once

#include "engine/engine.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Config.Healthcheck into cfg: --health-cmd, --health-interval,
 * --health-timeout, --health-start-period, --health-retries and
 * --no-healthcheck, checked as Docker's CLI and daemon check them, merged
 * over the image's (icfg) field by field as Docker merges them. Nothing is
 * set when neither gives one. */
int cell_health_config(const struct cell_run_opts *o, const json_t *icfg, json_t *cfg,
                       cell_err_t *err);

/* The monitor's side: a timerfd in its epoll loop and at most one checker. */
struct cell_health {
    int timerfd;   /* -1 until a container with a check first starts */
    pid_t checker; /* the running check's process; 0 when none */
    bool on;       /* this run of the container has a check */
    bool starting; /* State.Health.Status was "starting" after the last check */
    int64_t interval, timeout, start_period, start_interval; /* ns, defaults applied */
    int64_t started;                                         /* CLOCK_MONOTONIC ns */
};
#define CELL_HEALTH_INIT                                                                           \
    {                                                                                              \
        .timerfd = -1                                                                              \
    }

/* A start of the container, rec being written as running: State.Health
 * back to "starting" with no failing streak (its Log kept), as Docker's
 * start does, when the container has a check. */
void cell_health_reset(json_t *rec);
/* Schedules the first check of rec's run. 1 when h->timerfd was made now
 * (the caller adds it to its epoll set), 0 when there is nothing new to
 * watch, -1 when the timer could not be made. */
int cell_health_start(struct cell_health *h, const json_t *rec);
/* h->timerfd fired: a check starts, or one that overran even the time
 * allowed to start it is killed. */
void cell_health_tick(struct cell_health *h, struct cell_engine *e, const char *id);
/* A child was reaped; true when it was the checker (the next check is
 * scheduled). */
bool cell_health_reaped(struct cell_health *h, pid_t pid, int status);
/* The run ended: no more checks; a running checker is killed and reaped. */
void cell_health_stop(struct cell_health *h);

/* What /proc says of a process: enough to tell a live process from a dead
 * one whose pid was reused (the start time, field 22 of /proc/PID/stat). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The process's start time in clock ticks since boot, 0 when it does not
 * exist; *zombie (may be NULL) set when it is a zombie (Z or X): PID 1 on
 * some hosts never reaps, so a dead process may linger as one. */
unsigned long long cell_proc_starttime(pid_t pid, bool *zombie);

/* True when pid exists with that start time and is not a zombie. */
bool cell_proc_alive(pid_t pid, unsigned long long starttime);

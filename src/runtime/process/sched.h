/* How the container's process is scheduled: process.scheduler,
 * process.ioPriority, process.execCPUAffinity (config.md) and
 * linux.personality (config-linux.md). */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <sched.h>
#include <stdbool.h>

/* Init (and exec), while still privileged: a real-time policy or class
 * needs CAP_SYS_NICE / CAP_SYS_ADMIN, which the user switch may drop. */
int cell_sched_apply(const struct cell_process *p, cell_err_t *err);

/* Init and exec, before the filter (which may refuse it): personality(2). */
int cell_sched_set_personality(const struct cell_spec *spec, cell_err_t *err);

/* exec only (the spec exempts the init): the affinity for the joining
 * process before it enters the cgroup (final = false) and after (true).
 * Nothing to do when the member is absent. */
int cell_sched_exec_affinity(const struct cell_process *p, bool final, cell_err_t *err);

/* "0-3,7" -> a CPU set; -EINVAL on anything else. */
int cell_sched_parse_cpu_list(const char *list, cpu_set_t *set);

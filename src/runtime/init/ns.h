/* Namespaces: which ones the clone makes, which ones are joined, and in
 * which process each step happens. */
#pragma once

#include "runtime/container.h"

/* Parent, before clone: opens the namespaces to join and decides the flags
 * and whether an intermediate process is needed. */
int cell_ns_plan(struct cell_container *c, cell_err_t *err);

/* Parent, before clone: pid and time namespaces apply to children only
 * (pid_for_children, time_for_children), so the runtime process itself
 * joins them, or makes the time namespace and writes its offsets — which
 * the kernel accepts only before any process lives in it. */
int cell_ns_prepare_parent(struct cell_container *c, cell_err_t *err);

/* Parent: writes linux.uidMappings/gidMappings for pid's user namespace. */
int cell_ns_write_mappings(pid_t pid, const struct cell_spec *spec, cell_err_t *err);

/* Child: setns into every joined namespace except pid and time. The user
 * namespace goes first, so that the others are entered with its rights. */
int cell_ns_join(struct cell_container *c, cell_err_t *err);

void cell_ns_close(struct cell_container *c);

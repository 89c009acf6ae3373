/* What the lifecycle (container.c) takes from the operations on a live
 * container's cgroup (ops.c). */
#pragma once

#include "runtime/state.h"

#include <jansson.h>

/* Adds "oomKilled": true|false to a state object when the container's
 * cgroup still exists: whether the memory limit's OOM killer fired in it. */
void cell_ops_state_add_oom(const struct cell_state *st, json_t *state);

/* config.md "POSIX-platform Hooks": the six kinds, each run with the
 * container's state on stdin. Where each kind runs, and in which process:
 *   prestart, createRuntime: runtime process (create), after the init set up
 *     its namespaces and mounts, before pivot_root (the init waits);
 *   createContainer: the init, in the container's namespaces, before pivot_root;
 *   startContainer: the init, after start, before the user's process, after
 *     pivot_root (path resolved in the container);
 *   poststart: runtime process (start/run), after the user's process started;
 *   poststop: runtime process (delete/run), after the container is deleted;
 *     a failure there is only a warning, and the remaining hooks run. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <jansson.h>

/* Runs every hook of one kind, in order, each with state_json on stdin,
 * its args and env, killed after its timeout. The first failing hook stops
 * the rest: "hooks.prestart[1] /usr/bin/x: exited with status 3". Except
 * poststop: each failure is a cell_warn and the rest still run (0). */
int cell_hooks_run(struct cell_hook *const hooks, size_t n, enum cell_hook_kind kind,
                   const char *state_json, cell_err_t *err);

/* In the init: the state for createContainer and startContainer with the
 * init's pid as its own pid namespace shows it (1 in a new one), as runc
 * gives it: after pivot_root the container's /proc knows no other. Falls
 * back to a copy of state_json; NULL only on ENOMEM. */
char *cell_hooks_state_as_seen_inside(const char *state_json);

/* The hooks that start, delete and run need after create, kept in the
 * container's state (NULL when the config has none). */
json_t *cell_hooks_to_json(const struct cell_spec *spec);
/* Loads hooks of one kind back from that JSON; *n = 0 when none. */
int cell_hooks_from_json(json_t *hooks, enum cell_hook_kind kind, struct cell_hook **out,
                         size_t *n, cell_err_t *err);
void cell_hooks_free(struct cell_hook *hooks, size_t n);

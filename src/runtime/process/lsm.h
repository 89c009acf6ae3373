/* Linux security modules: process.apparmorProfile, process.selinuxLabel
 * and linux.mountLabel. Applied when the host runs that LSM; a process
 * label asked for on a host without it is refused rather than run
 * unconfined, while linux.mountLabel there is ignored (no labels on any
 * file to keep a container from). */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <stdbool.h>

bool cell_lsm_apparmor_enabled(void);
bool cell_lsm_selinux_enabled(void);

/* Any process: refuses process labels the host cannot apply, naming the field. */
int cell_lsm_check(const struct cell_spec *spec, cell_err_t *err);

/* Init or exec, with the container's /proc mounted: arms the labels the
 * kernel switches to at the next execve (AppArmor "exec <profile>", the
 * SELinux exec context). */
int cell_lsm_set_exec_labels(const struct cell_process *p, cell_err_t *err);

/* For mount code: the "context" option value a new filesystem of the
 * container should carry (linux.mountLabel), or NULL. */
const char *cell_lsm_mount_context(const struct cell_spec *spec);

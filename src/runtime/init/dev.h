/* /dev inside the container: the default devices of config-linux.md
 * ("Default Devices"), the /dev/fd and std* links, and linux.devices. */
#pragma once

#include "runtime/container.h"

/* The device cgroup rules to write: the config's, then (when it has any)
 * the default devices allowed, as runc does, so a "deny all" config still
 * gets a working /dev. linux.devices entries are made as nodes but allowed
 * only if the config's rules allow them (runc behaves the same). Caller
 * frees *out. */
int cell_dev_cgroup_rules(const struct cell_spec *spec, struct cell_device_rule **out, size_t *n);

int cell_dev_setup(struct cell_container *c, int rootfd, cell_err_t *err);

/* /dev inside the container: the default devices of config-linux.md
 * ("Default Devices"), the /dev/fd and std* links, and linux.devices. */
#pragma once

#include "runtime/container.h"

int cell_dev_setup(struct cell_container *c, int rootfd, cell_err_t *err);

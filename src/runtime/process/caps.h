/* Capabilities, applied in two halves around the user switch. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

/* Before setuid: drop from the bounding set what the config does not list
 * (needs CAP_SETPCAP, which is gone after the switch). */
int cell_caps_drop_bounding(const struct cell_caps *caps, cell_err_t *err);

/* After setuid (with PR_SET_KEEPCAPS): effective, permitted, inheritable,
 * then ambient, which the kernel accepts only when permitted and
 * inheritable hold the capability. */
int cell_caps_apply(const struct cell_caps *caps, cell_err_t *err);

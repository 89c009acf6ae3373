/* The loopback interface of a new network namespace. */
#pragma once

#include "base/error.h"

/* Init, inside a network namespace it made itself (not a joined one, not
 * the host's), while it still holds CAP_NET_ADMIN there: the kernel makes
 * `lo` down, and 127.0.0.1 and ::1 only exist once it is up. runc and crun
 * bring it up too. */
int cell_loopback_up(cell_err_t *err);

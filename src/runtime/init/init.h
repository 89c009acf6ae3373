/* The container's init (init.c: clone to execve) and its steps: namespaces
 * (ns.c), mounts and the root (mount.c), /dev (dev.c), loopback
 * (loopback.c). This is the header of runtime/init/ that the rest of the
 * runtime includes; it brings the parts the parent side calls too (the
 * namespace plan and id maps, bind-mount sources, device cgroup rules). */
#pragma once

#include "runtime/init/dev.h"
#include "runtime/init/mount.h"
#include "runtime/init/ns.h"

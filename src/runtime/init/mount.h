/* The container's root filesystem: runs in the init, in its new mount
 * namespace, before pivot_root. Every destination is resolved inside the
 * root with openat2(RESOLVE_IN_ROOT) and mounted on the resulting fd. */
#pragma once

#include "runtime/container.h"

/* Runtime side, before clone: a detached tree (open_tree) of every bind
 * mount's source, opened with the runtime's credentials; the init inherits
 * them (without a user namespace; see mount.c). cell_mounts_close_binds
 * closes what is left. */
int cell_mounts_open_binds(struct cell_container *c, cell_err_t *err);
void cell_mounts_close_binds(struct cell_container *c);
/* Runtime side, when the init asks (SYNC_MOUNT_SOURCES; with a user
 * namespace): the bind sources opened in the init's mount namespace. */
int cell_mounts_send_sources(struct cell_container *c, pid_t init, int sock, cell_err_t *err);

/* True when the container has a mount namespace of its own (new or
 * joined); without one, every mount lands in the caller's namespace. */
bool cell_mounts_own_namespace(const struct cell_container *c);

/* In a mount namespace of the container's own, makes the host's mounts
 * slave (or private) there so nothing propagates back. Then bind-mounts the
 * rootfs onto itself (pivot_root needs a mount point; without a mount
 * namespace it is what root.readonly applies to, as nothing outside the
 * rootfs may change). Returns an O_PATH fd of the new root. */
int cell_rootfs_prepare(struct cell_container *c, cell_err_t *err);

/* Every entry of config.json "mounts", in order. */
int cell_mounts_apply(struct cell_container *c, int rootfd, cell_err_t *err);

/* linux.maskedPaths and linux.readonlyPaths. */
int cell_mounts_mask_paths(struct cell_container *c, int rootfd, cell_err_t *err);

/* root.readonly, then pivot_root (or chroot with --no-pivot, or without a
 * mount namespace of the container's own), then rootfsPropagation on the
 * new "/". */
int cell_rootfs_enter(struct cell_container *c, int rootfd, cell_err_t *err);

/* Mount attributes (MOUNT_ATTR_*) for the MS_* flags of an option list. */
unsigned cell_mount_attrs_from_flags(unsigned long flags);

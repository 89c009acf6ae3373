/* Paths inside a container's root. Every path from a config is resolved
 * against an fd of the root with openat2(RESOLVE_IN_ROOT), so that ".." and
 * symlinks (absolute or relative) can never lead outside it; mounts are then
 * made on the resulting fd, never on a joined string. */
#pragma once

#include "base/error.h"

#include <sys/types.h>

/* Opens rel (absolute or relative, taken as relative to the root) inside the
 * root given by rootfd. flags are open(2) flags; O_CLOEXEC is always added. */
int cell_open_in_root(int rootfd, const char *rel, int flags, cell_err_t *err);

/* Like cell_open_in_root but with raw -errno result and no error object. */
int cell_openat_in_root(int rootfd, const char *rel, int flags);

/* Makes every missing directory of rel inside the root and returns an O_PATH
 * fd of the last one. */
int cell_mkdir_in_root(int rootfd, const char *rel, mode_t mode, cell_err_t *err);

/* Makes the parents of rel as directories and rel itself as an empty regular
 * file when missing (a bind mount of a file needs a file to land on); returns
 * an O_PATH fd of it. */
int cell_mkfile_in_root(int rootfd, const char *rel, mode_t mode, cell_err_t *err);

/* Splits "a/b/c" into a freshly allocated parent ("a/b", or "." ) and a
 * pointer to the last component within path. Trailing slashes are ignored. */
int cell_path_split(const char *path, char **parent, const char **leaf);

/* True when path is absolute and normalised enough to be a mount destination. */
int cell_path_is_absolute(const char *path);

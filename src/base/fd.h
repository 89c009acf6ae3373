/* File and fd helpers. Leaf helpers return -errno; callers that know the
 * path build the error object. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* write(2) until all of buf is written or an error other than EINTR. */
int cell_write_all(int fd, const void *buf, size_t len);

/* The same on a socket (send with MSG_NOSIGNAL: a peer gone is -EPIPE, not
 * SIGPIPE) when socket, else write(2). */
int cell_send_all(int fd, const void *buf, size_t len, bool socket);

/* Reads exactly len bytes; -EPIPE at an end of file before that. */
int cell_read_exact(int fd, void *buf, size_t len);

/* Reads the whole of fd into a NUL-terminated heap buffer. */
int cell_read_all(int fd, char **out, size_t *len);

/* Reads a (small) file relative to dirfd. */
int cell_read_file_at(int dirfd, const char *path, char **out, size_t *len);

/* Opens path relative to dirfd O_WRONLY|O_TRUNC and writes the string. */
int cell_write_file_at(int dirfd, const char *path, const char *data, size_t len);

/* Writes to a temporary file beside path and renames it into place, so a
 * reader sees the old content or the new, never a torn one. */
int cell_write_file_atomic_at(int dirfd, const char *path, const char *data, size_t len,
                              mode_t mode);

/* Closes every fd >= from except those listed in keep (sorted or not). */
int cell_close_fds_from(int from, const int *keep, size_t nkeep);

int cell_set_cloexec(int fd, int on);

/* Removes a directory tree relative to dirfd, not following symlinks and not
 * crossing into other mounts. Missing is success. */
int cell_rm_rf_at(int dirfd, const char *path);

/* Connects a SOCK_STREAM socket (O_CLOEXEC) to the unix socket at path;
 * the fd, or -errno (-ENAMETOOLONG for a path sun_path cannot hold). */
int cell_unix_connect(const char *path);

/* Sends all len bytes of data, with fd attached (SCM_RIGHTS) to the first
 * sendmsg when fd >= 0; EINTR is retried. 0 or -errno. */
int cell_send_with_fd(int sock, const void *data, size_t len, int fd);

/* One recvmsg of at most len bytes; *fd receives an fd that came with it
 * (O_CLOEXEC), else -1. The byte count (0 at EOF), or -errno. */
ssize_t cell_recv_with_fd(int sock, void *data, size_t len, int *fd);

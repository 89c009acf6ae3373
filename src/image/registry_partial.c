/* Partial blobs between pulls (see registry.h). The store's writer keeps
 * its bytes in an unnamed file that dies with the process; this named copy
 * is what survives a Ctrl-C. It costs one more write of each blob, into
 * the page cache, and is removed as soon as the blob is in the store. */
#include "image/registry.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define INGEST_DIR "ingest"

/* "ingest/<hex>" for "sha256:<hex>". */
static void partial_name(const char *digest, char out[80])
{
    const char *hex = strchr(digest, ':');
    snprintf(out, 80, INGEST_DIR "/%s", hex ? hex + 1 : digest);
}

void registry_partial_open(struct cell_image_store *s, const char *digest, int64_t size,
                           struct registry_partial *p)
{
    char name[80];
    struct stat st;
    int dirfd = cell_image_store_dirfd(s);
    p->fd = -1;
    p->size = 0;
    partial_name(digest, name);
    if (mkdirat(dirfd, INGEST_DIR, 0700) < 0 && errno != EEXIST)
        return;
    _cleanup_close_ int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* Another pull of the same blob owns it: this one goes without. */
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0)
        return;
    if (st.st_size > size && ftruncate(fd, 0) < 0)
        return;
    p->size = st.st_size > size ? 0 : st.st_size;
    p->fd = TAKE_FD(fd);
}

int registry_partial_replay(struct registry_partial *p,
                            int (*feed)(void *ctx, const void *buf, size_t len), void *ctx)
{
    char buf[1 << 16];
    int64_t off = 0;
    while (p->fd >= 0 && off < p->size) {
        size_t want = (size_t)(p->size - off) < sizeof(buf) ? (size_t)(p->size - off) : sizeof(buf);
        ssize_t n = pread(p->fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* shorter than it said: keep what was read */
            p->size = off;
            return ftruncate(p->fd, off) < 0 ? -1 : 0;
        }
        int r = feed(ctx, buf, (size_t)n);
        if (r < 0)
            return r;
        off += n;
    }
    return 0;
}

void registry_partial_append(struct cell_image_store *s, const char *digest,
                             struct registry_partial *p, const void *buf, size_t len)
{
    if (p->fd < 0)
        return;
    const char *b = buf;
    while (len > 0) {
        ssize_t n = pwrite(p->fd, b, len, p->size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            registry_partial_remove(s, digest, p);
            return;
        }
        b += n;
        len -= (size_t)n;
        p->size += n;
    }
}

void registry_partial_truncate(struct registry_partial *p)
{
    if (p->fd >= 0 && ftruncate(p->fd, 0) == 0)
        p->size = 0;
}

void registry_partial_remove(struct cell_image_store *s, const char *digest,
                             struct registry_partial *p)
{
    char name[80];
    if (p->fd < 0)
        return;
    partial_name(digest, name);
    /* Unlinked while still locked, so no other pull can take it half-removed. */
    unlinkat(cell_image_store_dirfd(s), name, 0);
    registry_partial_close(p);
}

void registry_partial_close(struct registry_partial *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->size = 0;
}

/* Blobs: content named by its sha256. A blob is written to an unnamed
 * O_TMPFILE file (a named one in tmp/ where the filesystem cannot) and only
 * linked under its digest once the digest is verified, so no reader ever
 * sees a partial or unverified blob, whatever kills the writer. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cell_image_blob_writer {
    struct cell_image_store *store;
    int fd;
    char tmpname[64]; /* set when O_TMPFILE was not available */
    char expected[CELL_IMAGE_DIGEST_SIZE];
    int64_t expected_size;
    int64_t written;
    struct image_sha256 hash;
};

static int open_tmp(struct cell_image_blob_writer *w, cell_err_t *err)
{
    w->fd = openat(w->store->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (w->fd >= 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return cell_error(err, errno, "create blob in %s/tmp", w->store->root);
    image_tmp_name(w->tmpname, "blob");
    w->fd = openat(w->store->tmpfd, w->tmpname, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return cell_error(err, errno, "create %s/tmp/%s", w->store->root, w->tmpname);
    return 0;
}

int cell_image_blob_writer_open(struct cell_image_store *s, const char *expected_digest,
                                int64_t expected_size, struct cell_image_blob_writer **out,
                                cell_err_t *err)
{
    if (expected_digest && !cell_image_digest_valid(expected_digest))
        return cell_error(err, 0, "invalid digest \"%s\"", expected_digest);
    if (image_store_hold(s, err) < 0)
        return -1;
    struct cell_image_blob_writer *w = calloc(1, sizeof *w);
    if (!w)
        return cell_error(err, ENOMEM, "blob writer");
    *w = (struct cell_image_blob_writer){.store = s, .fd = -1, .expected_size = expected_size};
    if (expected_digest)
        snprintf(w->expected, sizeof w->expected, "%s", expected_digest);
    if (image_sha256_init(&w->hash, err) < 0 || open_tmp(w, err) < 0) {
        cell_image_blob_writer_abort(w);
        return -1;
    }
    *out = w;
    return 0;
}

int cell_image_blob_writer_write(struct cell_image_blob_writer *w, const void *buf, size_t len,
                                 cell_err_t *err)
{
    if (w->expected_size >= 0 && w->written + (int64_t)len > w->expected_size)
        return cell_error(err, 0, "blob %s: more than the %lld bytes expected",
                          w->expected[0] ? w->expected : "", (long long)w->expected_size);
    int r = cell_write_all(w->fd, buf, len);
    if (r < 0)
        return cell_error(err, -r, "write blob in %s/tmp", w->store->root);
    image_sha256_update(&w->hash, buf, len);
    w->written += (int64_t)len;
    return 0;
}

/* Names the verified file blobs/sha256/<hex>. A blob already there is the
 * same content, so EEXIST is success. */
static int link_blob(struct cell_image_blob_writer *w, const char *digest, cell_err_t *err)
{
    const char *hex = image_digest_hex(digest);
    if (w->tmpname[0]) {
        if (renameat(w->store->tmpfd, w->tmpname, w->store->blobsfd, hex) < 0)
            return cell_error(err, errno, "rename blob to %s/blobs/sha256/%s", w->store->root, hex);
        w->tmpname[0] = '\0';
        return 0;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
    if (linkat(AT_FDCWD, proc, w->store->blobsfd, hex, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
        return cell_error(err, errno, "link blob %s/blobs/sha256/%s", w->store->root, hex);
    return 0;
}

int cell_image_blob_writer_commit(struct cell_image_blob_writer *w,
                                  char digest_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err)
{
    char digest[CELL_IMAGE_DIGEST_SIZE];
    int r = 0;
    image_sha256_final(&w->hash, digest);
    if (w->expected[0] && strcmp(digest, w->expected) != 0)
        r = cell_error(err, 0, "blob digest mismatch: expected %s, got %s", w->expected, digest);
    else if (w->expected_size >= 0 && w->written != w->expected_size)
        r = cell_error(err, 0, "blob %s: size %lld, expected %lld", digest, (long long)w->written,
                       (long long)w->expected_size);
    else if (fchmod(w->fd, 0644) < 0)
        r = cell_error(err, errno, "chmod blob %s", digest);
    else
        r = link_blob(w, digest, err);
    if (r == 0 && digest_out)
        memcpy(digest_out, digest, CELL_IMAGE_DIGEST_SIZE);
    cell_image_blob_writer_abort(w);
    return r;
}

void cell_image_blob_writer_abort(struct cell_image_blob_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmpname[0])
        unlinkat(w->store->tmpfd, w->tmpname, 0);
    image_sha256_free(&w->hash);
    free(w);
}

int cell_image_blob_put(struct cell_image_store *s, const void *data, size_t len,
                        const char *expected_digest, char digest_out[CELL_IMAGE_DIGEST_SIZE],
                        cell_err_t *err)
{
    struct cell_image_blob_writer *w = NULL;
    if (cell_image_blob_writer_open(s, expected_digest, -1, &w, err) < 0)
        return -1;
    if (cell_image_blob_writer_write(w, data, len, err) < 0) {
        cell_image_blob_writer_abort(w);
        return -1;
    }
    return cell_image_blob_writer_commit(w, digest_out, err);
}

int cell_image_blob_exists(struct cell_image_store *s, const char *digest)
{
    if (!cell_image_digest_valid(digest))
        return -EINVAL;
    return faccessat(s->blobsfd, image_digest_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int cell_image_blob_open(struct cell_image_store *s, const char *digest, cell_err_t *err)
{
    if (!cell_image_digest_valid(digest))
        return cell_error(err, 0, "invalid digest \"%s\"", digest);
    int fd = openat(s->blobsfd, image_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return cell_error(err, errno, "blob %s in %s", digest, s->root);
    return fd;
}

int cell_image_blob_read(struct cell_image_store *s, const char *digest, char **data, size_t *len,
                         cell_err_t *err)
{
    _cleanup_close_ int fd = cell_image_blob_open(s, digest, err);
    if (fd < 0)
        return -1;
    int r = cell_read_all(fd, data, len);
    if (r < 0)
        return cell_error(err, -r, "read blob %s", digest);
    return 0;
}

int64_t cell_image_blob_size(struct cell_image_store *s, const char *digest, cell_err_t *err)
{
    struct stat st;
    if (!cell_image_digest_valid(digest))
        return cell_error(err, 0, "invalid digest \"%s\"", digest);
    if (fstatat(s->blobsfd, image_digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return cell_error(err, errno, "blob %s in %s", digest, s->root);
    return (int64_t)st.st_size;
}

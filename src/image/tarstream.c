/* A layer's tar stream in one pass: a raw libarchive reader undoes the
 * compression (gzip, zstd, …, or none), every uncompressed byte is hashed
 * (that hash is the layer's diff ID) and offered to a tee, and a second
 * reader parses the same bytes as tar. */
#include "image/store_internal.h"

#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct image_tar_stream {
    struct archive *raw;
    struct archive *tar;
    struct image_sha256 hash;
    image_tee_fn tee;
    void *tee_data;
    cell_err_t tee_err;
    bool tee_failed;
    bool eof;
};

/* The next block of uncompressed bytes: 0 at the end, -1 on an error that
 * the tar reader then reports (with the tee's message kept aside). */
static la_ssize_t next_block(struct image_tar_stream *t, const void **buf)
{
    if (t->eof || t->tee_failed)
        return t->eof ? 0 : -1;
    size_t size = 0;
    la_int64_t offset;
    int r = archive_read_data_block(t->raw, buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
        t->eof = true;
        return 0;
    }
    if (r < ARCHIVE_WARN)
        return -1;
    image_sha256_update(&t->hash, *buf, size);
    if (t->tee && t->tee(t->tee_data, *buf, size, &t->tee_err) < 0) {
        t->tee_failed = true;
        return -1;
    }
    return (la_ssize_t)size;
}

static la_ssize_t tar_read_cb(struct archive *a, void *data, const void **buf)
{
    struct image_tar_stream *t = data;
    la_ssize_t n = next_block(t, buf);
    if (n < 0)
        archive_set_error(a, EIO, "%s",
                          t->tee_failed ? "write failed" : archive_error_string(t->raw));
    return n;
}

static int open_raw(struct image_tar_stream *t, int fd, cell_err_t *err)
{
    struct archive_entry *e;
    t->raw = archive_read_new();
    if (!t->raw)
        return cell_error(err, ENOMEM, "archive reader");
    archive_read_support_filter_all(t->raw);
    archive_read_support_format_raw(t->raw);
    if (archive_read_open_fd(t->raw, fd, 128 * 1024) != ARCHIVE_OK)
        return cell_error(err, 0, "read layer: %s", archive_error_string(t->raw));
    int r = archive_read_next_header(t->raw, &e);
    if (r == ARCHIVE_EOF)
        t->eof = true; /* an empty stream: the tar reader says what is wrong */
    else if (r < ARCHIVE_WARN)
        return cell_error(err, 0, "read layer: %s", archive_error_string(t->raw));
    return 0;
}

int image_tar_stream_open(int fd, image_tee_fn tee, void *tee_data, struct image_tar_stream **out,
                          cell_err_t *err)
{
    struct image_tar_stream *t = calloc(1, sizeof *t);
    if (!t)
        return cell_error(err, ENOMEM, "tar stream");
    t->tee = tee;
    t->tee_data = tee_data;
    int r = image_sha256_init(&t->hash, err);
    if (r == 0)
        r = open_raw(t, fd, err);
    if (r == 0 && !(t->tar = archive_read_new()))
        r = cell_error(err, ENOMEM, "archive reader");
    if (r == 0) {
        archive_read_support_format_tar(t->tar);
        if (archive_read_open(t->tar, t, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
            r = image_tar_stream_error(t, t->tar, "read layer", err);
    }
    if (r < 0) {
        image_tar_stream_free(t);
        return r;
    }
    *out = t;
    return 0;
}

struct archive *image_tar_stream_archive(struct image_tar_stream *t)
{
    return t->tar;
}

int image_tar_stream_error(struct image_tar_stream *t, struct archive *a, const char *what,
                           cell_err_t *err)
{
    if (t->tee_failed && t->tee_err.msg)
        return cell_error(err, t->tee_err.errnum, "%s: %s", what, t->tee_err.msg);
    const char *msg = archive_error_string(a);
    return cell_error(err, 0, "%s: %s", what, msg ? msg : "corrupt archive");
}

int image_tar_stream_finish(struct image_tar_stream *t, char diff_id[CELL_IMAGE_DIGEST_SIZE],
                            cell_err_t *err)
{
    const void *buf;
    la_ssize_t n;
    while ((n = next_block(t, &buf)) > 0)
        ;
    if (n < 0) {
        if (t->tee_failed)
            return cell_error(err, t->tee_err.errnum, "%s", t->tee_err.msg ?: "write failed");
        return cell_error(err, 0, "read layer: %s", archive_error_string(t->raw));
    }
    image_sha256_final(&t->hash, diff_id);
    return 0;
}

void image_tar_stream_free(struct image_tar_stream *t)
{
    if (!t)
        return;
    if (t->tar)
        archive_read_free(t->tar);
    if (t->raw)
        archive_read_free(t->raw);
    image_sha256_free(&t->hash);
    cell_error_clear(&t->tee_err);
    free(t);
}

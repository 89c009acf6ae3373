/* What the image layer's files share and nobody above them sees. */
#pragma once

#include "image/image.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sys/types.h>

enum store_lock { STORE_UNLOCKED, STORE_SHARED, STORE_EXCLUSIVE };

struct cell_image_store {
    char *root;
    int dirfd;    /* the root, O_DIRECTORY */
    int blobsfd;  /* blobs/sha256 */
    int layersfd; /* layers */
    int snapsfd;  /* snapshots */
    int tmpfd;    /* tmp */
    int lockfd;   /* lock */
    enum store_lock lock;
};

/* Takes the store lock shared unless this process holds it already: every
 * writer of content calls it, so a concurrent gc cannot free what it has
 * written before its record names it. */
int image_store_hold(struct cell_image_store *s, cell_err_t *err);

/* The hex part of a valid digest ("sha256:<hex>" -> "<hex>"). */
static inline const char *image_digest_hex(const char *digest)
{
    return digest + 7;
}

/* sha256 over a stream. */
struct image_sha256 {
    EVP_MD_CTX *ctx;
};
int image_sha256_init(struct image_sha256 *h, cell_err_t *err);
void image_sha256_update(struct image_sha256 *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" and frees the context. */
void image_sha256_final(struct image_sha256 *h, char out[CELL_IMAGE_DIGEST_SIZE]);
void image_sha256_free(struct image_sha256 *h);

/* A unique name for a temporary entry in tmp/. */
void image_tmp_name(char buf[64], const char *what);

/* A layer tar stream: the compressed input is decompressed by one libarchive
 * reader (raw format) whose output is hashed (the diff ID), offered to tee,
 * and parsed as tar by a second reader. */
struct archive;
typedef int (*image_tee_fn)(void *data, const void *buf, size_t len, cell_err_t *err);
struct image_tar_stream;
int image_tar_stream_open(int fd, image_tee_fn tee, void *tee_data, struct image_tar_stream **out,
                          cell_err_t *err);
/* The tar reader (use archive_read_next_header / archive_read_data* on it). */
struct archive *image_tar_stream_archive(struct image_tar_stream *t);
/* Reads what the tar reader left (end padding) so the hash covers all of
 * the stream, then writes the diff ID. Fails when the tee failed. */
int image_tar_stream_finish(struct image_tar_stream *t, char diff_id[CELL_IMAGE_DIGEST_SIZE],
                            cell_err_t *err);
void image_tar_stream_free(struct image_tar_stream *t);
/* The error of the tar reader or the tee behind it, as one line. */
int image_tar_stream_error(struct image_tar_stream *t, struct archive *a, const char *what,
                           cell_err_t *err);

/* Records of images, as read from images.json. */
int image_records_load(struct cell_image_store *s, json_t **out, cell_err_t *err);

/* Builds and stores the config and OCI manifest of an image whose layers
 * (uncompressed tars, digest == diff ID) are in the store; returns the
 * manifest digest. */
int image_manifest_store(struct cell_image_store *s, const char *config, size_t config_len,
                         char *const *layer_digests, size_t nlayers,
                         char manifest_digest[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err);

/* Puts a record for name, or a nameless ("dangling") record when name is
 * NULL, under the name of its digest. */
int image_record_put_or_dangling(struct cell_image_store *s, const char *name, const char *digest,
                                 const char *media_type, cell_err_t *err);

/* A snapshot's image file (digest, manifest, id, layers). */
int image_snapshot_read(struct cell_image_store *s, const char *name, json_t **out,
                        cell_err_t *err);

/* GOARCH of this build: "amd64", "arm64", … */
const char *image_host_arch(void);

/* A tar stream (any compression) read from fd stored as one uncompressed
 * layer blob, every entry parsed on the way; diff_id is its digest. */
int image_layer_store(struct cell_image_store *s, int fd, char diff_id[CELL_IMAGE_DIGEST_SIZE],
                      cell_err_t *err);

/* "2026-01-02T03:04:05Z" for now. */
void image_time_now(char buf[32]);

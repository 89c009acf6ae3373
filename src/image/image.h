/* The image layer: references, the content store, image records, layer
 * unpacking and overlay snapshots, archives (docker-archive, OCI layout and
 * archive, plain rootfs tarballs). It knows nothing of containers: a
 * snapshot is a root filesystem some caller asked for by name.
 *
 * On disk, under the store root (`cell --root`, CELL_ROOT, /var/lib/cell):
 *   blobs/sha256/<hex>            content, named by its digest, verified on write
 *   images.json                   records: full name -> index or manifest digest
 *   layers/<chain-hex>/           a layer unpacked once, in overlayfs form
 *                                 (whiteouts as 0:0 char devices, opaque dirs
 *                                 with trusted.overlay.opaque=y)
 *   snapshots/<name>/{image,upper,work,merged}
 *   tmp/                          blobs and layers being written
 *   lock, images.lock             flock(2) files
 *
 * Every file and directory appears by rename(2) or linkat(2) of a complete
 * one, so a process killed at any point leaves no half blob, half layer or
 * torn records file visible; leftovers in tmp/ are removed on the next
 * cell_image_store_open.
 *
 * Locking: a command that adds content (pull, load, import) holds the store
 * lock shared from its first blob to its record; removing content that no
 * record needs (cell_image_store_gc) takes it exclusive, so it never frees a
 * blob that a concurrent pull has written but not yet named. The records
 * file has its own exclusive lock around each read-modify-write. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CELL_IMAGE_DEFAULT_ROOT   "/var/lib/cell"
#define CELL_IMAGE_DEFAULT_DOMAIN "docker.io"
#define CELL_IMAGE_DEFAULT_TAG    "latest"

/* "sha256:" + 64 lowercase hex digits, and the terminating NUL. */
#define CELL_IMAGE_DIGEST_LEN  (7 + 64)
#define CELL_IMAGE_DIGEST_SIZE (CELL_IMAGE_DIGEST_LEN + 1)

#define CELL_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define CELL_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define CELL_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define CELL_MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define CELL_MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define CELL_MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define CELL_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define CELL_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CELL_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define CELL_MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* ---- references ---------------------------------------------------------- */

/* A reference as Docker reads it: "busybox", "library/busybox:1.36",
 * "127.0.0.1:5000/x/y@sha256:…", normalised: the first component is a
 * domain when it holds '.' or ':' or is "localhost", else the domain is
 * docker.io, where a one-component path gets "library/". Without tag and
 * digest the tag is "latest". */
struct cell_image_ref {
    char *domain; /* "docker.io", "127.0.0.1:5000" */
    char *path;   /* "library/busybox", "x/y" */
    char *tag;    /* "latest", "1.36"; NULL when only a digest was given */
    char *digest; /* "sha256:<hex>" or NULL */
    char *name;   /* domain/path[:tag][@digest], the record name */
};

/* Parses s; on a malformed reference fails with one line saying what is
 * wrong ("invalid reference \"Busy\": repository name must be lowercase"). */
int cell_image_ref_parse(const char *s, struct cell_image_ref *ref, cell_err_t *err);
void cell_image_ref_clear(struct cell_image_ref *ref);
/* "domain/path", freshly allocated; NULL on ENOMEM. */
char *cell_image_ref_repository(const struct cell_image_ref *ref);
/* The short form Docker prints: "busybox:latest", "x/y:1" for docker.io
 * (without "library/"), the full name for other domains. Allocated. */
char *cell_image_ref_familiar(const char *full_name);

/* ---- digests --------------------------------------------------------------- */

/* True when s is "sha256:" followed by exactly 64 lowercase hex digits. */
bool cell_image_digest_valid(const char *s);
/* The sha256 digest of data, written as "sha256:<hex>" into out. */
int cell_image_digest_of(const void *data, size_t len, char out[CELL_IMAGE_DIGEST_SIZE],
                         cell_err_t *err);

/* ---- the store ----------------------------------------------------------- */

struct cell_image_store;

/* Opens (creating when missing) the store at root; NULL means
 * CELL_IMAGE_DEFAULT_ROOT, a relative root is taken from the current
 * directory. Removes what a killed writer left in tmp/ when no other
 * process holds the store. */
int cell_image_store_open(const char *root, struct cell_image_store **out, cell_err_t *err);
void cell_image_store_close(struct cell_image_store *s);
const char *cell_image_store_root(const struct cell_image_store *s);
/* An O_PATH|O_DIRECTORY fd of the store root, owned by the store. */
int cell_image_store_dirfd(const struct cell_image_store *s);

/* Takes the store lock (see the top of this file), blocking. Re-locking
 * converts; unlocking an unlocked store is a no-op. */
int cell_image_store_lock(struct cell_image_store *s, bool exclusive, cell_err_t *err);
void cell_image_store_unlock(struct cell_image_store *s);

/* ---- blobs ---------------------------------------------------------------- */

/* A blob being written: bytes go to an unnamed file in tmp/ while their
 * sha256 is computed; commit checks the digest (and size, when given)
 * against what was expected and only then names the file
 * blobs/sha256/<hex>. A blob that is already present is not rewritten. */
struct cell_image_blob_writer;

/* expected_digest may be NULL (computed, e.g. for a tarball being imported);
 * expected_size is -1 when unknown. A write past expected_size fails at
 * once, so a lying registry cannot fill the disk. */
int cell_image_blob_writer_open(struct cell_image_store *s, const char *expected_digest,
                                int64_t expected_size, struct cell_image_blob_writer **out,
                                cell_err_t *err);
int cell_image_blob_writer_write(struct cell_image_blob_writer *w, const void *buf, size_t len,
                                 cell_err_t *err);
/* Verifies and names the blob, then frees w (also on failure). digest_out
 * (may be NULL) receives the blob's digest. A mismatch fails with
 * "blob digest mismatch: expected sha256:…, got sha256:…" and leaves
 * nothing behind. */
int cell_image_blob_writer_commit(struct cell_image_blob_writer *w,
                                  char digest_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err);
/* Drops what was written and frees w. NULL is a no-op. */
void cell_image_blob_writer_abort(struct cell_image_blob_writer *w);

/* One call for a blob held in memory (manifests, configs, indexes). */
int cell_image_blob_put(struct cell_image_store *s, const void *data, size_t len,
                        const char *expected_digest, char digest_out[CELL_IMAGE_DIGEST_SIZE],
                        cell_err_t *err);
/* 1 when present, 0 when not, negative on a malformed digest. */
int cell_image_blob_exists(struct cell_image_store *s, const char *digest);
/* Opens a blob read-only; a missing blob fails with errnum ENOENT. */
int cell_image_blob_open(struct cell_image_store *s, const char *digest, cell_err_t *err);
/* Reads a whole blob into a NUL-terminated heap buffer. */
int cell_image_blob_read(struct cell_image_store *s, const char *digest, char **data, size_t *len,
                         cell_err_t *err);
/* Size in bytes, or negative. */
int64_t cell_image_blob_size(struct cell_image_store *s, const char *digest, cell_err_t *err);

/* ---- manifests, indexes, configs ------------------------------------------ */

struct cell_image_descriptor {
    char *media_type;
    char *digest;
    int64_t size;
};

struct cell_image_manifest {
    char *media_type; /* of the manifest itself */
    struct cell_image_descriptor config;
    size_t nlayers;
    struct cell_image_descriptor *layers;
};

/* Parses an image manifest (OCI or Docker schema 2); fails on an index, a
 * schema 1 manifest, or a descriptor without a valid digest. */
int cell_image_manifest_parse(const char *json, size_t len, struct cell_image_manifest *out,
                              cell_err_t *err);
void cell_image_manifest_clear(struct cell_image_manifest *m);

/* The media type a manifest-like document says it is (its mediaType, or
 * from its shape when absent); NULL when it is not one. Static string. */
const char *cell_image_media_type_detect(const char *json, size_t len);
/* True for OCI index and Docker manifest list media types. */
bool cell_image_media_type_is_index(const char *media_type);

/* From an index or manifest list, the manifest for this machine
 * (linux/<GOARCH of this build>, variant preferred as Go's platforms do);
 * fails with "no manifest for linux/amd64 in index". */
int cell_image_index_select(const char *json, size_t len, struct cell_image_descriptor *out,
                            cell_err_t *err);
void cell_image_descriptor_clear(struct cell_image_descriptor *d);

/* An image as the store holds it, resolved down to one platform manifest. */
struct cell_image {
    char *digest;          /* what the record points at: index or manifest */
    char *manifest_digest; /* the platform manifest */
    struct cell_image_manifest manifest;
    char *id;         /* the config digest: the image ID Docker and podman show */
    json_t *config;   /* the parsed config blob */
    char **diff_ids;  /* rootfs.diff_ids, one per layer */
    char **chain_ids; /* "sha256:<hex>", one per layer */
    int64_t size;     /* sum of layer blob sizes */
};

/* Resolves digest (an index or a manifest in the store) to an image; every
 * blob but the layers must be present (layers are checked when unpacked). */
int cell_image_resolve(struct cell_image_store *s, const char *digest, struct cell_image *out,
                       cell_err_t *err);
/* Finds an image by name ("busybox", full name, name@digest) or by ID
 * (full "sha256:…", or a unique hex prefix of at least 4 digits, as
 * Docker's short IDs). record_name (may be NULL) receives the record's name,
 * or NULL when found by ID with no single name. Fails with
 * "no such image: x". */
int cell_image_lookup(struct cell_image_store *s, const char *name_or_id, struct cell_image *out,
                      char **record_name, cell_err_t *err);
void cell_image_clear(struct cell_image *img);

/* Computes chain IDs from diff IDs (OCI image spec: ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))). out has n slots,
 * each filled with an allocated string. */
int cell_image_chain_ids(char *const *diff_ids, size_t n, char **out, cell_err_t *err);

/* ---- records ---------------------------------------------------------------- */

struct cell_image_record {
    char *name;       /* full reference name: "docker.io/library/busybox:latest" */
    char *digest;     /* index or manifest digest */
    char *media_type; /* of that blob */
    int64_t created;  /* unix seconds when the record was written */
};

/* Adds or replaces the record of name (a full name from cell_image_ref). */
int cell_image_record_put(struct cell_image_store *s, const char *name, const char *digest,
                          const char *media_type, cell_err_t *err);
/* Fails with "no such image: <name>" when there is no such record. Messages
 * that say all there is carry errnum 0 (no strerror appended). */
int cell_image_record_get(struct cell_image_store *s, const char *name,
                          struct cell_image_record *out, cell_err_t *err);
/* Removes a record; fails when absent. */
int cell_image_record_remove(struct cell_image_store *s, const char *name, cell_err_t *err);
/* All records, sorted by name. */
int cell_image_record_list(struct cell_image_store *s, struct cell_image_record **out, size_t *n,
                           cell_err_t *err);
void cell_image_record_clear(struct cell_image_record *r);
void cell_image_records_free(struct cell_image_record *r, size_t n);

/* ---- layers and snapshots --------------------------------------------------- */

/* Unpacks each layer of img not yet unpacked into layers/<chain-hex>/,
 * verifying its diff ID (sha256 of the uncompressed tar). Tar, gzip and
 * zstd; whiteouts become overlayfs whiteouts and opaque directories;
 * ownership, modes, xattrs, hard links and device nodes are kept; no entry
 * can write outside its layer directory (no "..", absolute paths and
 * symlinked parents resolve inside it). Takes the store lock shared. */
int cell_image_unpack(struct cell_image_store *s, const struct cell_image *img, cell_err_t *err);

/* Unpacks one layer tar stream (any compression libarchive reads) read
 * from tar_fd into the directory dirfd, in overlay form; diff_id_out (may
 * be NULL) receives the sha256 of the uncompressed stream. lower holds the
 * unpacked layers below it, nearest first (n_lower may be 0): a directory
 * the tar leaves implicit (an entry a/b without a) takes its mode and owner
 * from there, as overlayfs would otherwise hide the lower one behind a
 * default. The building block of cell_image_unpack, exposed for tests. */
int cell_image_layer_extract(int tar_fd, int dirfd, const int *lower, size_t n_lower,
                             char diff_id_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err);

/* Makes snapshots/<name>/ with a fresh upper and work dir and mounts an
 * overlay of img's layers (unpacking them first) on its merged dir; the
 * merged path is returned in *merged (allocated; may be NULL). name is a
 * caller's id ([A-Za-z0-9][A-Za-z0-9_.-]*). Fails with EEXIST when the
 * snapshot exists. An image with no layers gets an empty lower dir. */
int cell_image_snapshot_create(struct cell_image_store *s, const char *name,
                               const struct cell_image *img, char **merged, cell_err_t *err);
/* A snapshot for a container in a user namespace, as podman makes one
 * with idmapped layers: the image's layers are seen through an idmapped
 * mount carrying userns_fd's maps (overlayfs takes idmapped layers since
 * Linux 5.19; it cannot itself be idmapped), and the upper dir belongs to
 * root_uid:root_gid, the host ids of the container's root. So root inside
 * owns the whole tree, and what it writes lands in the upper dir under
 * those host ids. The snapshot's directory is 0710 to root_gid and the
 * store root and snapshots/ get search permission for others (0711, as
 * Docker's userns-remap makes its root), so that the container's root can
 * reach merged/. Fails with one line when the kernel cannot idmap the
 * layers or mount an overlay over them, or when a directory above the
 * store root is not searchable by root_uid:root_gid. */
struct cell_image_snapshot_idmap {
    int userns_fd;
    uid_t root_uid;
    gid_t root_gid;
};
int cell_image_snapshot_create_idmapped(struct cell_image_store *s, const char *name,
                                        const struct cell_image *img,
                                        const struct cell_image_snapshot_idmap *map, char **merged,
                                        cell_err_t *err);
/* Unmounts and removes a snapshot; a missing one is success. */
int cell_image_snapshot_remove(struct cell_image_store *s, const char *name, cell_err_t *err);
/* The snapshots' names (NULL-terminated vector). */
int cell_image_snapshot_list(struct cell_image_store *s, char ***names, cell_err_t *err);
/* The manifest digest a snapshot was made from (allocated). */
int cell_image_snapshot_image(struct cell_image_store *s, const char *name, char **manifest_digest,
                              cell_err_t *err);

/* ---- removal and garbage collection ---------------------------------------- */

/* `rmi`: removes the record name_or_id names; given an ID, every record of
 * that image. Refuses ("image is in use by snapshot x") while a
 * snapshot uses the image unless force. Then frees what no record needs.
 * removed (may be NULL) receives the removed names. */
int cell_image_remove(struct cell_image_store *s, const char *name_or_id, bool force,
                      char ***removed, cell_err_t *err);
/* Removes blobs and unpacked layers that no record or snapshot needs.
 * Takes the store lock exclusive. freed (may be NULL) gets the bytes freed. */
int cell_image_store_gc(struct cell_image_store *s, int64_t *freed, cell_err_t *err);

/* ---- archives ------------------------------------------------------------- */

enum cell_image_archive_format {
    CELL_IMAGE_ARCHIVE_DOCKER, /* `docker save`: manifest.json, <id>.json, layer tars */
    CELL_IMAGE_ARCHIVE_OCI,    /* OCI image layout in a tar: oci-layout, index.json, blobs/ */
};

/* `load`: reads a docker-archive or OCI archive (tar, optionally gzip or
 * zstd compressed) or an OCI image layout directory at path, stores its
 * blobs and records its names; images without a name are still stored
 * (found by ID). loaded (may be NULL) receives the names, or "sha256:<id>"
 * for nameless images. */
int cell_image_load(struct cell_image_store *s, const char *path, char ***loaded, cell_err_t *err);

/* The same from an archive read from fd (a pipe will do); what names the
 * stream in errors ("standard input"). fd stays open. */
int cell_image_load_fd(struct cell_image_store *s, int fd, const char *what, char ***loaded,
                       cell_err_t *err);

/* `save`: writes the images (names or IDs) to path as one archive (a
 * temporary file renamed into place); with docker format, layers as
 * uncompressed tars as `docker save` writes. */
int cell_image_save(struct cell_image_store *s, const char *path, char *const *images,
                    enum cell_image_archive_format format, cell_err_t *err);

/* The same archive written to fd (standard output, a pipe); what names it
 * in errors. fd stays open. */
int cell_image_save_fd(struct cell_image_store *s, int fd, const char *what, char *const *images,
                       enum cell_image_archive_format format, cell_err_t *err);

/* `import`: a plain root filesystem tarball (any compression) read from fd
 * becomes a one-layer image named name (may be NULL: found by ID only).
 * tarball names the source in the image's history and in errors. id_out
 * (may be NULL) receives the image ID. fd stays open. */
int cell_image_import(struct cell_image_store *s, int fd, const char *tarball, const char *name,
                      char **id_out, cell_err_t *err);

/* `save`: images to one archive, written to a temporary file beside the
 * target and renamed, so a failed or killed save leaves no partial file.
 *   docker: manifest.json, <config-hex>.json, <diff-id-hex>/layer.tar
 *           (uncompressed, as `docker save` writes them)
 *   oci:    oci-layout, index.json (ref.name = the full name), blobs/sha256 */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct save {
    struct cell_image_store *store;
    struct archive *a;
    json_t *written; /* member names already in the archive */
    json_t *list;    /* manifest.json, or index.json's manifests */
    const char *path;
};

static int entry_header(struct save *sv, const char *name, mode_t type, int64_t size,
                        cell_err_t *err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return cell_error(err, ENOMEM, "archive entry");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    archive_entry_set_mtime(e, time(NULL), 0);
    int r = archive_write_header(sv->a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return cell_error(err, 0, "write %s: %s", sv->path, archive_error_string(sv->a));
    json_object_set_new(sv->written, name, json_true());
    return 0;
}

static int write_mem(struct save *sv, const char *name, const void *data, size_t len,
                     cell_err_t *err)
{
    if (json_object_get(sv->written, name))
        return 0;
    if (entry_header(sv, name, AE_IFREG, (int64_t)len, err) < 0)
        return -1;
    if (archive_write_data(sv->a, data, len) != (la_ssize_t)len)
        return cell_error(err, 0, "write %s: %s", sv->path, archive_error_string(sv->a));
    return 0;
}

/* Copies size bytes of fd (from its current offset) as member name. */
static int write_fd(struct save *sv, const char *name, int fd, int64_t size, cell_err_t *err)
{
    if (json_object_get(sv->written, name))
        return 0;
    if (entry_header(sv, name, AE_IFREG, size, err) < 0)
        return -1;
    char buf[128 * 1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (archive_write_data(sv->a, buf, (size_t)n) != n)
            return cell_error(err, 0, "write %s: %s", sv->path, archive_error_string(sv->a));
    return n < 0 ? cell_error(err, errno, "read %s", name) : 0;
}

static int write_blob(struct save *sv, const char *name, const char *digest, cell_err_t *err)
{
    _cleanup_close_ int fd = cell_image_blob_open(sv->store, digest, err);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return fd < 0 ? -1 : cell_error(err, errno, "stat blob %s", digest);
    return write_fd(sv, name, fd, st.st_size, err);
}

static int decompress_tee(void *data, const void *buf, size_t len, cell_err_t *err)
{
    int fd = *(int *)data;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno != EINTR)
            return cell_error(err, errno, "write uncompressed layer");
        done += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* docker-archive layers are plain tars: a compressed blob is uncompressed
 * into an unnamed file first (the tar header needs its size). */
static int write_layer_tar(struct save *sv, const char *name, const struct cell_image *img,
                           size_t i, cell_err_t *err)
{
    const char *blob = img->manifest.layers[i].digest;
    if (json_object_get(sv->written, name))
        return 0;
    if (strcmp(blob, img->diff_ids[i]) == 0)
        return write_blob(sv, name, blob, err);
    _cleanup_close_ int in = cell_image_blob_open(sv->store, blob, err);
    _cleanup_close_ int tmp = openat(sv->store->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (in < 0 || tmp < 0)
        return in < 0 ? -1 : cell_error(err, errno, "temporary file in %s/tmp", sv->store->root);
    struct image_tar_stream *t = NULL;
    char diff_id[CELL_IMAGE_DIGEST_SIZE];
    int r = image_tar_stream_open(in, decompress_tee, &tmp, &t, err);
    if (r == 0)
        r = image_tar_stream_finish(t, diff_id, err);
    image_tar_stream_free(t);
    off_t size = r == 0 ? lseek(tmp, 0, SEEK_CUR) : -1;
    if (r == 0 && (size < 0 || lseek(tmp, 0, SEEK_SET) < 0))
        r = cell_error(err, errno, "temporary file");
    return r < 0 ? cell_error_prepend(err, "layer %s", blob) : write_fd(sv, name, tmp, size, err);
}

static int save_docker_image(struct save *sv, const struct cell_image *img, const char *name,
                             cell_err_t *err)
{
    char path[PATH_MAX];
    json_t *layers = json_array();
    snprintf(path, sizeof path, "%s.json", image_digest_hex(img->id));
    int r = write_blob(sv, path, img->id, err);
    json_t *entry = json_pack("{sss[]so}", "Config", path, "RepoTags", "Layers", layers);
    for (size_t i = 0; r == 0 && i < img->manifest.nlayers; i++) {
        snprintf(path, sizeof path, "%s/layer.tar", image_digest_hex(img->diff_ids[i]));
        r = write_layer_tar(sv, path, img, i, err);
        json_array_append_new(layers, json_string(path));
    }
    _cleanup_free_ char *familiar = name ? cell_image_ref_familiar(name) : NULL;
    if (familiar && !strchr(familiar, '@'))
        json_array_append_new(json_object_get(entry, "RepoTags"), json_string(familiar));
    json_array_append_new(sv->list, entry);
    return r;
}

static int save_oci_image(struct save *sv, const struct cell_image *img, const char *name,
                          cell_err_t *err)
{
    char path[PATH_MAX];
    const char *blobs[2] = {img->manifest_digest, img->id};
    int r = 0;
    for (size_t i = 0; r == 0 && i < 2; i++) {
        snprintf(path, sizeof path, "blobs/sha256/%s", image_digest_hex(blobs[i]));
        r = write_blob(sv, path, blobs[i], err);
    }
    for (size_t i = 0; r == 0 && i < img->manifest.nlayers; i++) {
        snprintf(path, sizeof path, "blobs/sha256/%s",
                 image_digest_hex(img->manifest.layers[i].digest));
        r = write_blob(sv, path, img->manifest.layers[i].digest, err);
    }
    int64_t size = cell_image_blob_size(sv->store, img->manifest_digest, err);
    json_t *d = json_pack("{sssssI}", "mediaType", img->manifest.media_type, "digest",
                          img->manifest_digest, "size", (json_int_t)size);
    if (name && d)
        json_object_set_new(d, "annotations",
                            json_pack("{ss}", "org.opencontainers.image.ref.name", name));
    json_array_append_new(sv->list, d);
    return r < 0 || size < 0 ? -1 : 0;
}

static int write_index(struct save *sv, bool docker, cell_err_t *err)
{
    json_t *doc = docker ? json_incref(sv->list)
                         : json_pack("{sisO}", "schemaVersion", 2, "manifests", sv->list);
    _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return cell_error(err, ENOMEM, "save");
    if (docker)
        return write_mem(sv, "manifest.json", text, strlen(text), err);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (write_mem(sv, "oci-layout", layout, strlen(layout), err) < 0)
        return -1;
    return write_mem(sv, "index.json", text, strlen(text), err);
}

static int save_all(struct save *sv, char *const *images, bool docker, cell_err_t *err)
{
    if (!docker && (entry_header(sv, "blobs", AE_IFDIR, 0, err) < 0 ||
                    entry_header(sv, "blobs/sha256", AE_IFDIR, 0, err) < 0))
        return -1;
    for (char *const *p = images; *p; p++) {
        struct cell_image img;
        _cleanup_free_ char *name = NULL;
        if (cell_image_lookup(sv->store, *p, &img, &name, err) < 0)
            return -1;
        /* A name given is saved as that name; an ID saves the image bare. */
        const char *as = name && strcmp(name, img.digest) != 0 ? name : NULL;
        int r = docker ? save_docker_image(sv, &img, as, err) : save_oci_image(sv, &img, as, err);
        cell_image_clear(&img);
        if (r < 0)
            return cell_error_prepend(err, "%s", *p);
    }
    return write_index(sv, docker, err);
}

static int open_writer(struct save *sv, int fd, cell_err_t *err)
{
    sv->a = archive_write_new();
    sv->written = json_object();
    sv->list = json_array();
    if (!sv->a || !sv->written || !sv->list)
        return cell_error(err, ENOMEM, "archive writer");
    if (archive_write_set_format_pax_restricted(sv->a) != ARCHIVE_OK ||
        archive_write_open_fd(sv->a, fd) != ARCHIVE_OK)
        return cell_error(err, 0, "write %s: %s", sv->path, archive_error_string(sv->a));
    return 0;
}

/* One archive of the images on fd; what names it in errors. */
static int save_to(struct cell_image_store *s, int fd, const char *what, char *const *images,
                   enum cell_image_archive_format format, cell_err_t *err)
{
    if (!images || !images[0])
        return cell_error(err, 0, "save: no image given");
    struct save sv = {.store = s, .path = what};
    int r = open_writer(&sv, fd, err);
    if (r == 0)
        r = save_all(&sv, images, format == CELL_IMAGE_ARCHIVE_DOCKER, err);
    if (r == 0 && archive_write_close(sv.a) != ARCHIVE_OK)
        r = cell_error(err, 0, "write %s: %s", what, archive_error_string(sv.a));
    if (sv.a)
        archive_write_free(sv.a);
    json_decref(sv.written);
    json_decref(sv.list);
    return r;
}

int cell_image_save_fd(struct cell_image_store *s, int fd, const char *what, char *const *images,
                       enum cell_image_archive_format format, cell_err_t *err)
{
    return save_to(s, fd, what, images, format, err);
}

/* To a temporary file renamed into place: a failed save leaves no half
 * archive under the name. */
int cell_image_save(struct cell_image_store *s, const char *path, char *const *images,
                    enum cell_image_archive_format format, cell_err_t *err)
{
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-%d", path, getpid()) < 0) {
        tmp = NULL;
        return cell_error(err, ENOMEM, "save");
    }
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cell_error(err, errno, "create %s", path);
    int r = save_to(s, fd, path, images, format, err);
    if (r == 0 && rename(tmp, path) < 0)
        r = cell_error(err, errno, "rename %s to %s", tmp, path);
    if (r < 0)
        unlink(tmp);
    return r;
}

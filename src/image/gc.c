/* Removal of images and of the content no image needs. What is kept is
 * what a record or a snapshot reaches: the record's digest, the platform
 * manifest, the config, the layer blobs and the unpacked layers. Everything
 * else in blobs/ and layers/ goes, under the exclusive store lock so that
 * no concurrent writer's unnamed content is taken. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int keep(json_t *set, const char *digest)
{
    if (!cell_image_digest_valid(digest))
        return 0;
    return json_object_set_new(set, image_digest_hex(digest), json_true()) < 0 ? -ENOMEM : 0;
}

/* A manifest and what it names: config, layer blobs, unpacked layers. */
static int keep_manifest(struct cell_image_store *s, const char *digest, json_t *blobs,
                         json_t *layers)
{
    struct cell_image img;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    /* A manifest whose blobs are not all there keeps what is. */
    if (cell_image_resolve(s, digest, &img, &e) < 0)
        return 0;
    int r = keep(blobs, img.manifest_digest);
    r = r < 0 ? r : keep(blobs, img.id);
    for (size_t i = 0; r == 0 && i < img.manifest.nlayers; i++) {
        r = keep(blobs, img.manifest.layers[i].digest);
        r = r < 0 ? r : keep(layers, img.chain_ids[i]);
    }
    cell_image_clear(&img);
    return r;
}

/* A record's digest: a manifest, or an index and every manifest of it that
 * is in the store (another platform than this machine's included). */
static int keep_image(struct cell_image_store *s, const char *digest, json_t *blobs, json_t *layers)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    int r = keep(blobs, digest);
    if (r < 0 || cell_image_blob_read(s, digest, &data, &len, &e) < 0)
        return r;
    if (!cell_image_media_type_is_index(cell_image_media_type_detect(data, len)))
        return keep_manifest(s, digest, blobs, layers);
    json_t *j = json_loadb(data, len, 0, NULL);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "manifests"), i, m)
    {
        const char *d = json_string_value(json_object_get(m, "digest"));
        if (r == 0 && cell_image_blob_exists(s, d ?: "") == 1)
            r = keep(blobs, d) < 0 ? -ENOMEM : keep_manifest(s, d, blobs, layers);
    }
    json_decref(j);
    return r;
}

static int keep_snapshot(struct cell_image_store *s, const char *name, json_t *blobs,
                         json_t *layers)
{
    json_t *j = NULL;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    if (image_snapshot_read(s, name, &j, &e) < 0)
        return 0; /* half made: holds no layers yet */
    int r = keep_image(s, json_string_value(json_object_get(j, "digest")) ?: "", blobs, layers);
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(j, "layers"), i, l) if (r == 0) r =
        keep(layers, json_string_value(l) ?: "");
    json_decref(j);
    return r;
}

static int collect(struct cell_image_store *s, json_t *blobs, json_t *layers, cell_err_t *err)
{
    struct cell_image_record *recs = NULL;
    size_t n = 0;
    int r = 0;
    if (cell_image_record_list(s, &recs, &n, err) < 0)
        return -1;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = keep_image(s, recs[i].digest, blobs, layers);
    cell_image_records_free(recs, n);
    _cleanup_strv_ char **snaps = NULL;
    if (r == 0 && cell_image_snapshot_list(s, &snaps, err) < 0)
        return -1;
    for (char **p = snaps; r == 0 && p && *p; p++)
        r = keep_snapshot(s, *p, blobs, layers);
    return r < 0 ? cell_error(err, -r, "collect image content") : 0;
}

/* Removes the entries of dirfd not in set; adds the bytes of files to freed. */
static int sweep(int dirfd, json_t *set, int64_t *freed, const char *what, cell_err_t *err)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return cell_error(err, errno, "list %s", what);
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || json_object_get(set, e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            *freed += st.st_size;
        int r = cell_rm_rf_at(dirfd, e->d_name);
        if (r < 0)
            return cell_error(err, -r, "remove %s/%s", what, e->d_name);
    }
    return 0;
}

int cell_image_store_gc(struct cell_image_store *s, int64_t *freed, cell_err_t *err)
{
    int64_t bytes = 0;
    enum store_lock before = s->lock;
    if (cell_image_store_lock(s, true, err) < 0)
        return -1;
    json_t *blobs = json_object(), *layers = json_object();
    int r = blobs && layers ? collect(s, blobs, layers, err) : cell_error(err, ENOMEM, "gc");
    if (r == 0)
        r = sweep(s->layersfd, layers, &bytes, "layers", err);
    if (r == 0)
        r = sweep(s->blobsfd, blobs, &bytes, "blobs", err);
    json_decref(blobs);
    json_decref(layers);
    if (before == STORE_SHARED)
        cell_image_store_lock(s, false, NULL);
    else
        cell_image_store_unlock(s);
    if (freed)
        *freed = bytes;
    return r;
}

/* The names to remove for name_or_id: its record, or given an ID every
 * record of the image (refused without force when there are several, as
 * Docker does). */
static int names_to_remove(struct cell_image_store *s, const char *name_or_id,
                           const struct cell_image *img, const char *record_name, bool force,
                           char ***out, cell_err_t *err)
{
    _cleanup_strv_ char **v = calloc(1, sizeof(char *));
    struct cell_image_record *recs = NULL;
    size_t n = 0;
    if (!v || cell_image_record_list(s, &recs, &n, err) < 0)
        return v ? -1 : cell_error(err, ENOMEM, "rmi");
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct cell_image other;
        _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
        bool by_name = record_name && strcmp(recs[i].name, record_name) == 0;
        if (record_name && !by_name)
            continue;
        if (!by_name && cell_image_resolve(s, recs[i].digest, &other, &e) < 0)
            continue;
        bool same = by_name || strcmp(other.id, img->id) == 0;
        if (!by_name)
            cell_image_clear(&other);
        if (same && cell_strv_push(&v, recs[i].name) < 0)
            r = cell_error(err, ENOMEM, "rmi");
    }
    cell_image_records_free(recs, n);
    if (r == 0 && cell_strv_len(v) > 1 && !force)
        r = cell_error(err, 0,
                       "image %s is referenced by %zu names (remove them by name, or force)",
                       name_or_id, cell_strv_len(v));
    if (r == 0)
        *out = TAKE_PTR(v);
    return r;
}

/* Whether a record other than those in going still names the image. */
static bool still_named(struct cell_image_store *s, const struct cell_image *img, char **going)
{
    struct cell_image_record *recs = NULL;
    size_t n = 0;
    bool named = false;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    if (cell_image_record_list(s, &recs, &n, &e) < 0)
        return false;
    for (size_t i = 0; !named && i < n; i++) {
        bool leaving = false;
        for (char **p = going; *p && !leaving; p++)
            leaving = strcmp(*p, recs[i].name) == 0;
        struct cell_image other;
        if (leaving || cell_image_resolve(s, recs[i].digest, &other, &e) < 0)
            continue;
        named = strcmp(other.id, img->id) == 0;
        cell_image_clear(&other);
    }
    cell_image_records_free(recs, n);
    return named;
}

static int check_unused(struct cell_image_store *s, const struct cell_image *img, cell_err_t *err)
{
    _cleanup_strv_ char **snaps = NULL;
    if (cell_image_snapshot_list(s, &snaps, err) < 0)
        return -1;
    for (char **p = snaps; *p; p++) {
        json_t *j = NULL;
        _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
        if (image_snapshot_read(s, *p, &j, &e) < 0)
            continue;
        const char *id = json_string_value(json_object_get(j, "id"));
        bool used = id && strcmp(id, img->id) == 0;
        json_decref(j);
        if (used)
            return cell_error(err, 0, "image is in use by snapshot %s", *p);
    }
    return 0;
}

int cell_image_remove(struct cell_image_store *s, const char *name_or_id, bool force,
                      char ***removed, cell_err_t *err)
{
    struct cell_image img;
    _cleanup_free_ char *record_name = NULL;
    _cleanup_strv_ char **names = NULL;
    if (cell_image_lookup(s, name_or_id, &img, &record_name, err) < 0)
        return -1;
    int r = names_to_remove(s, name_or_id, &img, record_name, force, &names, err);
    if (r == 0 && !force && !still_named(s, &img, names))
        r = check_unused(s, &img, err);
    for (char **p = names; r == 0 && *p; p++)
        r = cell_image_record_remove(s, *p, err);
    cell_image_clear(&img);
    if (r == 0)
        r = cell_image_store_gc(s, NULL, err);
    if (r == 0 && removed)
        *removed = TAKE_PTR(names);
    return r;
}

/* An image: a record's digest resolved through an index (when it is one)
 * to the platform manifest, its config and its layers' chain IDs. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cell_image_clear(struct cell_image *img)
{
    free(img->digest);
    free(img->manifest_digest);
    cell_image_manifest_clear(&img->manifest);
    free(img->id);
    json_decref(img->config);
    cell_strv_free(img->diff_ids);
    cell_strv_free(img->chain_ids);
    *img = (struct cell_image){0};
}

/* The manifest of an index for this machine; when the store has none for
 * it (an image pulled for another platform), the one manifest it has. */
static char *pick_manifest(struct cell_image_store *s, const char *data, size_t len,
                           cell_err_t *err)
{
    struct cell_image_descriptor d;
    _cleanup_err_ cell_err_t select_err = CELL_ERR_INIT;
    if (cell_image_index_select(data, len, &d, &select_err) == 0 &&
        cell_image_blob_exists(s, d.digest) == 1) {
        char *digest = TAKE_PTR(d.digest);
        cell_image_descriptor_clear(&d);
        return digest;
    }
    cell_image_descriptor_clear(&d);
    json_t *j = json_loadb(data, len, 0, NULL);
    const char *found = NULL;
    size_t i, n = 0;
    json_t *m;
    json_array_foreach(json_object_get(j, "manifests"), i, m)
    {
        const char *digest = json_string_value(json_object_get(m, "digest"));
        if (cell_image_blob_exists(s, digest ?: "") == 1 && n++ == 0)
            found = digest;
    }
    char *digest = n == 1 ? strdup(found) : NULL;
    json_decref(j);
    if (!digest)
        cell_error(err, 0, "%s",
                   select_err.msg ? select_err.msg : "no manifest of it in the store");
    return digest;
}

/* The manifest a digest stands for: itself, or the entry of this platform
 * when it is an index. */
static int manifest_of(struct cell_image_store *s, const char *digest, struct cell_image *img,
                       cell_err_t *err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (cell_image_blob_read(s, digest, &data, &len, err) < 0)
        return -1;
    if (cell_image_media_type_is_index(cell_image_media_type_detect(data, len))) {
        if (!(img->manifest_digest = pick_manifest(s, data, len, err)))
            return cell_error_prepend(err, "index %s", digest);
        free(TAKE_PTR(data));
        if (cell_image_blob_read(s, img->manifest_digest, &data, &len, err) < 0)
            return -1;
    } else if (!(img->manifest_digest = strdup(digest))) {
        return cell_error(err, ENOMEM, "image");
    }
    if (cell_image_manifest_parse(data, len, &img->manifest, err) < 0)
        return cell_error_prepend(err, "%s", img->manifest_digest);
    return 0;
}

static int diff_ids_of(struct cell_image *img, cell_err_t *err)
{
    json_t *ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
    if (!json_is_array(ids) || json_array_size(ids) != img->manifest.nlayers)
        return cell_error(err, 0, "config %s: rootfs.diff_ids does not match the %zu layers",
                          img->id, img->manifest.nlayers);
    img->diff_ids = calloc(img->manifest.nlayers + 1, sizeof(char *));
    img->chain_ids = calloc(img->manifest.nlayers + 1, sizeof(char *));
    if (!img->diff_ids || !img->chain_ids)
        return cell_error(err, ENOMEM, "image");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        const char *d = json_string_value(v);
        if (!cell_image_digest_valid(d))
            return cell_error(err, 0, "config %s: invalid diff ID", img->id);
        if (!(img->diff_ids[i] = strdup(d)))
            return cell_error(err, ENOMEM, "image");
    }
    return cell_image_chain_ids(img->diff_ids, img->manifest.nlayers, img->chain_ids, err);
}

static int resolve(struct cell_image_store *s, const char *digest, struct cell_image *img,
                   cell_err_t *err)
{
    if (!(img->digest = strdup(digest)))
        return cell_error(err, ENOMEM, "image");
    if (manifest_of(s, digest, img, err) < 0)
        return -1;
    if (!(img->id = strdup(img->manifest.config.digest)))
        return cell_error(err, ENOMEM, "image");
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (cell_image_blob_read(s, img->id, &data, &len, err) < 0)
        return -1;
    json_error_t jerr;
    img->config = json_loadb(data, len, 0, &jerr);
    if (!json_is_object(img->config))
        return cell_error(err, 0, "config %s: invalid JSON", img->id);
    for (size_t i = 0; i < img->manifest.nlayers; i++)
        img->size += img->manifest.layers[i].size > 0 ? img->manifest.layers[i].size : 0;
    return diff_ids_of(img, err);
}

int cell_image_resolve(struct cell_image_store *s, const char *digest, struct cell_image *out,
                       cell_err_t *err)
{
    *out = (struct cell_image){0};
    int r = resolve(s, digest, out, err);
    if (r < 0)
        cell_image_clear(out);
    return r;
}

static bool is_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* An ID, full or a prefix of at least 4 hex digits; NULL when s is not one. */
static const char *id_prefix(const char *s)
{
    const char *hex = strncmp(s, "sha256:", 7) == 0 ? s + 7 : s;
    size_t n = strlen(hex);
    return n >= 4 && n <= 64 && is_hex(hex) ? hex : NULL;
}

/* Finds the single image whose ID (or record digest) starts with hex. */
static int lookup_id(struct cell_image_store *s, const char *hex, const char *what,
                     struct cell_image *out, char **record_name, cell_err_t *err)
{
    struct cell_image_record *recs = NULL;
    size_t n = 0, found = 0;
    if (cell_image_record_list(s, &recs, &n, err) < 0)
        return -1;
    int r = cell_error(err, 0, "no such image: %s", what);
    for (size_t i = 0; i < n; i++) {
        struct cell_image img;
        _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
        if (cell_image_resolve(s, recs[i].digest, &img, &e2) < 0)
            continue;
        bool match = strncmp(img.id + 7, hex, strlen(hex)) == 0 ||
                     strncmp(recs[i].digest + 7, hex, strlen(hex)) == 0;
        if (match && found && strcmp(out->id, img.id) != 0) {
            cell_image_clear(&img);
            cell_image_clear(out);
            r = cell_error(err, 0, "image ID prefix %s is ambiguous", what);
            break;
        }
        if (match && !found++) {
            *out = img;
            r = 0;
            if (record_name)
                *record_name = strdup(recs[i].name);
        } else {
            if (match && record_name) /* several names: found by ID, not by one name */
                free(TAKE_PTR(*record_name));
            cell_image_clear(&img);
        }
    }
    cell_image_records_free(recs, n);
    return r;
}

/* name@digest: the digest itself, when some record of that repository has it. */
static int lookup_by_digest(struct cell_image_store *s, const struct cell_image_ref *ref,
                            struct cell_image *out, cell_err_t *err)
{
    if (cell_image_blob_exists(s, ref->digest) != 1)
        return cell_error(err, 0, "no such image: %s", ref->name);
    return cell_image_resolve(s, ref->digest, out, err);
}

int cell_image_lookup(struct cell_image_store *s, const char *name_or_id, struct cell_image *out,
                      char **record_name, cell_err_t *err)
{
    *out = (struct cell_image){0};
    if (record_name)
        *record_name = NULL;
    const char *hex = id_prefix(name_or_id);
    struct cell_image_ref ref;
    _cleanup_err_ cell_err_t refe = CELL_ERR_INIT;
    if (cell_image_ref_parse(name_or_id, &ref, &refe) < 0) {
        if (hex)
            return lookup_id(s, hex, name_or_id, out, record_name, err);
        return cell_error(err, refe.errnum, "%s", refe.msg);
    }
    struct cell_image_record rec;
    _cleanup_err_ cell_err_t rece = CELL_ERR_INIT;
    int r;
    if (cell_image_record_get(s, ref.name, &rec, &rece) == 0) {
        r = cell_image_resolve(s, rec.digest, out, err);
        if (r == 0 && record_name)
            *record_name = strdup(rec.name);
        cell_image_record_clear(&rec);
    } else if (ref.digest) {
        r = lookup_by_digest(s, &ref, out, err);
    } else if (hex) {
        r = lookup_id(s, hex, name_or_id, out, record_name, err);
    } else {
        r = cell_error(err, 0, "no such image: %s", name_or_id);
    }
    cell_image_ref_clear(&ref);
    return r;
}

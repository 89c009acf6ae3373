/* Image records: images.json maps each full name to the digest of its index
 * or manifest. Each change is a read-modify-write under images.lock,
 * written to a temporary file and renamed, so readers need no lock. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define RECORDS_FILE "images.json"

int image_records_load(struct cell_image_store *s, json_t **out, cell_err_t *err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = cell_read_file_at(s->dirfd, RECORDS_FILE, &data, &len);
    if (r == -ENOENT) {
        *out = json_object();
        return *out ? 0 : cell_error(err, ENOMEM, "records");
    }
    if (r < 0)
        return cell_error(err, -r, "read %s/" RECORDS_FILE, s->root);
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    json_t *images = j ? json_object_get(j, "images") : NULL;
    if (!json_is_object(images)) {
        json_decref(j);
        return cell_error(err, 0, "%s/" RECORDS_FILE ": not an image records file", s->root);
    }
    *out = json_incref(images);
    json_decref(j);
    return 0;
}

static int records_save(struct cell_image_store *s, json_t *images, cell_err_t *err)
{
    json_t *doc = json_pack("{sO}", "images", images);
    _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
    json_decref(doc);
    if (!text)
        return cell_error(err, ENOMEM, "records");
    int r = cell_write_file_atomic_at(s->dirfd, RECORDS_FILE, text, strlen(text), 0600);
    if (r < 0)
        return cell_error(err, -r, "write %s/" RECORDS_FILE, s->root);
    return 0;
}

static int records_lock(struct cell_image_store *s, cell_err_t *err)
{
    int fd = openat(s->dirfd, "images.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cell_error(err, errno, "open %s/images.lock", s->root);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            close(fd);
            return cell_error(err, errno, "lock %s/images.lock", s->root);
        }
    return fd;
}

/* Whether another name than skip points at digest. */
static bool digest_named(json_t *images, const char *digest, const char *skip)
{
    const char *name;
    json_t *rec;
    json_object_foreach(images, name,
                        rec) if (strcmp(name, skip) != 0 &&
                                 strcmp(json_string_value(json_object_get(rec, "digest")) ?: "",
                                        digest) == 0) return true;
    return false;
}

static json_t *record_new(const char *digest, const char *media_type)
{
    return json_pack("{sssssI}", "digest", digest, "mediaType", media_type ? media_type : "",
                     "created", (json_int_t)time(NULL));
}

/* The change of one name, as Docker makes it: the image the name pointed
 * at stays as a nameless ("dangling") record when no other name has it, and
 * a dangling record of the new digest goes away once it has a name. */
static int put_locked(json_t *images, const char *name, const char *digest, const char *media_type)
{
    json_t *old = json_object_get(images, name);
    const char *old_digest = old ? json_string_value(json_object_get(old, "digest")) : NULL;
    if (old_digest && strcmp(old_digest, digest) != 0 && strcmp(name, old_digest) != 0 &&
        !digest_named(images, old_digest, name)) {
        json_t *dangling =
            record_new(old_digest, json_string_value(json_object_get(old, "mediaType")));
        if (!dangling || json_object_set_new(images, old_digest, dangling) < 0)
            return -ENOMEM;
    }
    if (strcmp(name, digest) != 0)
        json_object_del(images, digest);
    json_t *rec = record_new(digest, media_type);
    if (!rec || json_object_set_new(images, name, rec) < 0)
        return -ENOMEM;
    return 0;
}

int image_record_put_or_dangling(struct cell_image_store *s, const char *name, const char *digest,
                                 const char *media_type, cell_err_t *err)
{
    if (!cell_image_digest_valid(digest))
        return cell_error(err, 0, "invalid digest \"%s\"", digest);
    _cleanup_close_ int lockfd = records_lock(s, err);
    if (lockfd < 0)
        return -1;
    json_t *images = NULL;
    if (image_records_load(s, &images, err) < 0)
        return -1;
    int r = 0;
    if (!name && digest_named(images, digest, digest))
        r = 0; /* it has a name already: nothing to keep it by */
    else if (put_locked(images, name ? name : digest, digest, media_type) < 0)
        r = cell_error(err, ENOMEM, "records");
    else
        r = records_save(s, images, err);
    json_decref(images);
    return r;
}

int cell_image_record_put(struct cell_image_store *s, const char *name, const char *digest,
                          const char *media_type, cell_err_t *err)
{
    return image_record_put_or_dangling(s, name, digest, media_type, err);
}

static int record_fill(const char *name, json_t *rec, struct cell_image_record *out,
                       cell_err_t *err)
{
    const char *digest = json_string_value(json_object_get(rec, "digest"));
    const char *mt = json_string_value(json_object_get(rec, "mediaType"));
    *out = (struct cell_image_record){
        .name = strdup(name),
        .digest = strdup(digest ? digest : ""),
        .media_type = strdup(mt ? mt : ""),
        .created = json_integer_value(json_object_get(rec, "created")),
    };
    if (!out->name || !out->digest || !out->media_type) {
        cell_image_record_clear(out);
        return cell_error(err, ENOMEM, "record");
    }
    return 0;
}

int cell_image_record_get(struct cell_image_store *s, const char *name,
                          struct cell_image_record *out, cell_err_t *err)
{
    json_t *images = NULL;
    if (image_records_load(s, &images, err) < 0)
        return -1;
    json_t *rec = json_object_get(images, name);
    int r = rec ? record_fill(name, rec, out, err) : cell_error(err, 0, "no such image: %s", name);
    json_decref(images);
    return r;
}

int cell_image_record_remove(struct cell_image_store *s, const char *name, cell_err_t *err)
{
    _cleanup_close_ int lockfd = records_lock(s, err);
    if (lockfd < 0)
        return -1;
    json_t *images = NULL;
    if (image_records_load(s, &images, err) < 0)
        return -1;
    int r = json_object_del(images, name) == 0 ? records_save(s, images, err)
                                               : cell_error(err, 0, "no such image: %s", name);
    json_decref(images);
    return r;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cell_image_record *)a)->name,
                  ((const struct cell_image_record *)b)->name);
}

int cell_image_record_list(struct cell_image_store *s, struct cell_image_record **out, size_t *n,
                           cell_err_t *err)
{
    json_t *images = NULL;
    if (image_records_load(s, &images, err) < 0)
        return -1;
    size_t count = json_object_size(images), i = 0;
    struct cell_image_record *recs = calloc(count + 1, sizeof *recs);
    const char *name;
    json_t *rec;
    int r = recs ? 0 : cell_error(err, ENOMEM, "records");
    json_object_foreach(images, name, rec)
    {
        if (r < 0 || (r = record_fill(name, rec, &recs[i], err)) < 0)
            break;
        i++;
    }
    json_decref(images);
    if (r < 0) {
        cell_image_records_free(recs, i);
        return -1;
    }
    qsort(recs, i, sizeof *recs, name_cmp);
    *out = recs;
    *n = i;
    return 0;
}

void cell_image_record_clear(struct cell_image_record *r)
{
    free(r->name);
    free(r->digest);
    free(r->media_type);
    *r = (struct cell_image_record){0};
}

void cell_image_records_free(struct cell_image_record *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        cell_image_record_clear(&r[i]);
    free(r);
}

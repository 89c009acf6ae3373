/* `load`: docker-archive (`docker save`: manifest.json, <id>.json, layer
 * tars) and OCI image layouts, as a directory or a tar (compressed or not).
 * A tar is read in one pass: files under blobs/sha256/ go straight into the
 * store, verified against their names; other big files (docker-archive
 * layers) go in under the digest computed on the way; small ones (the JSON
 * that says what it all is) stay in memory until the end. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_FILE      (1024 * 1024)
#define REF_NAME        "org.opencontainers.image.ref.name"
#define CONTAINERD_NAME "io.containerd.image.name"

struct member {
    char *name;
    char *digest; /* stored as this blob */
    char *data;   /* or held in memory */
    size_t len;
    char *link; /* or a symlink / hard link to another member */
};

struct load {
    struct cell_image_store *store;
    struct member *m;
    size_t n;
    char **loaded;
};

static void load_free(struct load *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->m[i].name);
        free(l->m[i].digest);
        free(l->m[i].data);
        free(l->m[i].link);
    }
    free(l->m);
    cell_strv_free(l->loaded);
}

static struct member *member_add(struct load *l, const char *name)
{
    struct member *m = reallocarray(l->m, l->n + 1, sizeof *m);
    if (!m)
        return NULL;
    l->m = m;
    m = &l->m[l->n];
    *m = (struct member){.name = strdup(name)};
    if (!m->name)
        return NULL;
    l->n++;
    return m;
}

static void clean(const char *in, char *out, size_t size)
{
    while (in[0] == '.' && in[1] == '/')
        in += 2;
    while (in[0] == '/')
        in++;
    snprintf(out, size, "%s", in);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
}

/* Joins a symlink target to the directory of the link: "a/b" + "../c" = "c". */
static void resolve_link(const char *from, const char *target, char *out, size_t size)
{
    char buf[PATH_MAX];
    if (target[0] == '/') {
        clean(target, out, size);
        return;
    }
    const char *slash = strrchr(from, '/');
    snprintf(buf, sizeof buf, "%.*s%s%s", slash ? (int)(slash - from) : 0, from, slash ? "/" : "",
             target);
    char *parts[256];
    size_t np = 0;
    for (char *save, *p = strtok_r(buf, "/", &save); p && np < 256; p = strtok_r(NULL, "/", &save))
        if (strcmp(p, "..") == 0)
            np = np ? np - 1 : 0;
        else if (strcmp(p, ".") != 0)
            parts[np++] = p;
    out[0] = '\0';
    for (size_t i = 0; i < np; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "/" : "", parts[i]);
}

static struct member *member_find(struct load *l, const char *name, int depth)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->m[i].name, name) != 0)
            continue;
        if (l->m[i].link && depth < 16)
            return member_find(l, l->m[i].link, depth + 1);
        return l->m[i].link ? NULL : &l->m[i];
    }
    return NULL;
}

/* The expected digest of "blobs/sha256/<hex>", or NULL. */
static bool blob_name(const char *name, char out[CELL_IMAGE_DIGEST_SIZE])
{
    if (strncmp(name, "blobs/sha256/", 13) != 0)
        return false;
    if (strlen(name + 13) != 64)
        return false;
    memcpy(out, "sha256:", 7);
    memcpy(out + 7, name + 13, 65);
    return cell_image_digest_valid(out);
}

static int read_to_blob(struct load *l, struct archive *a, const char *expected, struct member *m,
                        cell_err_t *err)
{
    struct cell_image_blob_writer *w = NULL;
    if (cell_image_blob_writer_open(l->store, expected, -1, &w, err) < 0)
        return -1;
    const void *buf;
    size_t len;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
        if (cell_image_blob_writer_write(w, buf, len, err) < 0) {
            cell_image_blob_writer_abort(w);
            return -1;
        }
    if (r != ARCHIVE_EOF) {
        cell_image_blob_writer_abort(w);
        return cell_error(err, 0, "read %s: %s", m->name, archive_error_string(a));
    }
    char digest[CELL_IMAGE_DIGEST_SIZE];
    if (cell_image_blob_writer_commit(w, digest, err) < 0)
        return cell_error_prepend(err, "%s", m->name);
    return (m->digest = strdup(digest)) ? 0 : cell_error(err, ENOMEM, "load");
}

static int read_to_memory(struct archive *a, struct archive_entry *e, struct member *m,
                          cell_err_t *err)
{
    size_t size = (size_t)archive_entry_size(e);
    if (!(m->data = malloc(size + 1)))
        return cell_error(err, ENOMEM, "load");
    la_ssize_t n = archive_read_data(a, m->data, size);
    if (n < 0 || (size_t)n != size)
        return cell_error(err, 0, "read %s: %s", m->name, archive_error_string(a));
    m->data[size] = '\0';
    m->len = size;
    return 0;
}

static int read_member(struct load *l, struct archive *a, struct archive_entry *e, cell_err_t *err)
{
    char name[PATH_MAX], target[PATH_MAX], expected[CELL_IMAGE_DIGEST_SIZE];
    clean(archive_entry_pathname(e) ?: "", name, sizeof name);
    mode_t type = archive_entry_filetype(e);
    const char *link = archive_entry_hardlink(e);
    if (!link && type == AE_IFLNK)
        link = archive_entry_symlink(e);
    if (!link && type != AE_IFREG)
        return 0;
    struct member *m = member_add(l, name);
    if (!m)
        return cell_error(err, ENOMEM, "load");
    if (link) {
        if (type == AE_IFLNK)
            resolve_link(name, link, target, sizeof target);
        else
            clean(link, target, sizeof target);
        return (m->link = strdup(target)) ? 0 : cell_error(err, ENOMEM, "load");
    }
    if (blob_name(name, expected))
        return read_to_blob(l, a, expected, m, err);
    if (archive_entry_size(e) > SMALL_FILE)
        return read_to_blob(l, a, NULL, m, err);
    return read_to_memory(a, e, m, err);
}

static int read_tar(struct load *l, int fd, const char *what, cell_err_t *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return cell_error(err, ENOMEM, "archive reader");
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int r = 0, ar;
    struct archive_entry *e;
    if (archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
        r = cell_error(err, 0, "open %s: %s", what, archive_error_string(a));
    while (r == 0 && (ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (ar < ARCHIVE_WARN)
            r = cell_error(err, 0, "read %s: %s", what, archive_error_string(a));
        else
            r = read_member(l, a, e, err);
    }
    archive_read_free(a);
    return r;
}

/* An OCI layout directory: its blobs are copied (and verified) first, so
 * that what follows is the same as for an archive. */
static int read_dir_blobs(struct load *l, int dfd, cell_err_t *err)
{
    int bfd = openat(dfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    _cleanup_closedir_ DIR *d = bfd >= 0 ? fdopendir(bfd) : NULL;
    if (!d && bfd >= 0) {
        close(bfd);
        return cell_error(err, errno, "blobs/sha256");
    }
    if (!d)
        return 0; /* no blobs: what the index names is reported missing */
    for (struct dirent *e; (e = readdir(d));) {
        char expected[CELL_IMAGE_DIGEST_SIZE];
        if (strlen(e->d_name) != 64)
            continue;
        memcpy(expected, "sha256:", 7);
        memcpy(expected + 7, e->d_name, 65);
        if (!cell_image_digest_valid(expected))
            continue;
        _cleanup_close_ int fd = openat(bfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *name = NULL;
        if (fd < 0 || asprintf(&name, "blobs/sha256/%s", e->d_name) < 0)
            return cell_error(err, errno, "open blobs/sha256/%s", e->d_name);
        struct member *m = member_add(l, name);
        struct cell_image_blob_writer *w = NULL;
        if (!m || cell_image_blob_writer_open(l->store, expected, -1, &w, err) < 0)
            return m ? -1 : cell_error(err, ENOMEM, "load");
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (cell_image_blob_writer_write(w, buf, (size_t)n, err) < 0)
                break;
        if (n != 0) {
            cell_image_blob_writer_abort(w);
            return n < 0 ? cell_error(err, errno, "read %s", name) : -1;
        }
        if (cell_image_blob_writer_commit(w, NULL, err) < 0)
            return cell_error_prepend(err, "%s", name);
        m->digest = strdup(expected);
    }
    return 0;
}

static int read_dir(struct load *l, const char *path, cell_err_t *err)
{
    _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cell_error(err, errno, "open %s", path);
    static const char *const small[] = {"index.json", "oci-layout", "manifest.json"};
    for (size_t i = 0; i < ARRAY_SIZE(small); i++) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (cell_read_file_at(dfd, small[i], &data, &len) < 0)
            continue;
        struct member *m = member_add(l, small[i]);
        if (!m)
            return cell_error(err, ENOMEM, "load");
        m->data = TAKE_PTR(data);
        m->len = len;
    }
    return read_dir_blobs(l, dfd, err);
}

/* A member's content as a blob: stored already, or put now from memory. */
static int member_blob(struct load *l, const char *name, char digest[CELL_IMAGE_DIGEST_SIZE],
                       cell_err_t *err)
{
    struct member *m = member_find(l, name, 0);
    if (!m)
        return cell_error(err, 0, "archive has no file %s", name);
    if (m->digest) {
        snprintf(digest, CELL_IMAGE_DIGEST_SIZE, "%s", m->digest);
        return 0;
    }
    return cell_image_blob_put(l->store, m->data, m->len, NULL, digest, err);
}

static int name_image(struct load *l, const char *name, const char *digest, const char *mt,
                      cell_err_t *err)
{
    struct cell_image_ref ref = {0};
    if (name && cell_image_ref_parse(name, &ref, err) < 0)
        return -1;
    int r = image_record_put_or_dangling(l->store, name ? ref.name : NULL, digest, mt, err);
    if (r == 0 && cell_strv_push(&l->loaded, name ? ref.name : digest) < 0)
        r = cell_error(err, ENOMEM, "load");
    cell_image_ref_clear(&ref);
    return r;
}

/* Every blob the image needs is in the store: the archive was complete. */
static int check_complete(struct load *l, const char *digest, cell_err_t *err)
{
    struct cell_image img;
    if (cell_image_resolve(l->store, digest, &img, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; r == 0 && i < img.manifest.nlayers; i++)
        if (cell_image_blob_exists(l->store, img.manifest.layers[i].digest) != 1)
            r = cell_error(err, 0, "archive lacks layer %s", img.manifest.layers[i].digest);
    cell_image_clear(&img);
    return r;
}

static int load_docker_image(struct load *l, json_t *entry, cell_err_t *err)
{
    const char *config = json_string_value(json_object_get(entry, "Config"));
    json_t *layers = json_object_get(entry, "Layers");
    if (!config || !json_is_array(layers))
        return cell_error(err, 0, "manifest.json: entry without Config or Layers");
    struct member *cm = member_find(l, config, 0);
    if (!cm)
        return cell_error(err, 0, "archive has no config %s", config);
    if (!cm->data && cell_image_blob_read(l->store, cm->digest, &cm->data, &cm->len, err) < 0)
        return -1;
    size_t n = json_array_size(layers), i;
    char(*digests)[CELL_IMAGE_DIGEST_SIZE] = calloc(n + 1, sizeof *digests);
    _cleanup_free_ char **ptrs = calloc(n + 1, sizeof(char *));
    json_t *v;
    int r = digests && ptrs ? 0 : cell_error(err, ENOMEM, "load");
    json_array_foreach(layers, i, v)
    {
        if (r == 0)
            r = member_blob(l, json_string_value(v) ?: "", digests[i], err);
        ptrs[i] = digests[i];
    }
    char manifest[CELL_IMAGE_DIGEST_SIZE];
    if (r == 0)
        r = image_manifest_store(l->store, cm->data, cm->len, ptrs, n, manifest, err);
    free(digests);
    if (r == 0)
        r = check_complete(l, manifest, err);
    json_t *tags = json_object_get(entry, "RepoTags");
    if (r == 0 && json_array_size(tags) == 0)
        r = name_image(l, NULL, manifest, CELL_MT_OCI_MANIFEST, err);
    json_array_foreach(tags, i, v) if (r == 0) r =
        name_image(l, json_string_value(v), manifest, CELL_MT_OCI_MANIFEST, err);
    return r;
}

/* The name an OCI index entry gives its image: containerd's annotation, or
 * ref.name when it is a whole reference (a bare tag names no repository). */
static const char *oci_entry_name(json_t *entry)
{
    json_t *ann = json_object_get(entry, "annotations");
    const char *name = json_string_value(json_object_get(ann, CONTAINERD_NAME));
    if (name)
        return name;
    name = json_string_value(json_object_get(ann, REF_NAME));
    return name && strpbrk(name, "/:") ? name : NULL;
}

static int load_oci_image(struct load *l, json_t *entry, cell_err_t *err)
{
    struct cell_image_descriptor d = {0};
    json_t *one = json_pack("{s[O]}", "manifests", entry);
    _cleanup_free_ char *text = one ? json_dumps(one, 0) : NULL;
    json_decref(one);
    if (!text)
        return cell_error(err, ENOMEM, "load");
    /* Only to check the descriptor: parsing is the same as for an index. */
    if (cell_image_index_select(text, strlen(text), &d, err) < 0)
        return cell_error_prepend(err, "index.json");
    int r = cell_image_blob_exists(l->store, d.digest) == 1
                ? check_complete(l, d.digest, err)
                : cell_error(err, 0, "archive lacks blob %s", d.digest);
    if (r == 0)
        r = name_image(l, oci_entry_name(entry), d.digest, d.media_type, err);
    cell_image_descriptor_clear(&d);
    return r;
}

static int interpret(struct load *l, cell_err_t *err)
{
    struct member *m = member_find(l, "manifest.json", 0);
    bool docker = m && m->data;
    if (!docker && !((m = member_find(l, "index.json", 0)) && m->data))
        return cell_error(err, 0,
                          "neither a docker-archive (manifest.json) nor an OCI "
                          "layout (index.json)");
    json_error_t jerr;
    json_t *j = json_loadb(m->data, m->len, 0, &jerr);
    json_t *list = docker ? j : json_object_get(j, "manifests");
    if (!json_is_array(list)) {
        json_decref(j);
        return cell_error(err, 0, "%s: not a list of images", m->name);
    }
    size_t i;
    json_t *entry;
    int r = 0;
    json_array_foreach(list, i, entry) if (r == 0) r =
        docker ? load_docker_image(l, entry, err) : load_oci_image(l, entry, err);
    json_decref(j);
    return r;
}

/* After the blobs are in: the names and records, handed out on success. */
static int load_finish(struct load *l, char ***loaded, cell_err_t *err)
{
    int r = interpret(l, err);
    if (r == 0 && loaded)
        *loaded = TAKE_PTR(l->loaded);
    load_free(l);
    return r;
}

int cell_image_load_fd(struct cell_image_store *s, int fd, const char *what, char ***loaded,
                       cell_err_t *err)
{
    struct load l = {.store = s};
    int r = read_tar(&l, fd, what, err);
    if (r < 0) {
        load_free(&l);
        return cell_error_prepend(err, "load %s", what);
    }
    return load_finish(&l, loaded, err) < 0 ? cell_error_prepend(err, "load %s", what) : 0;
}

int cell_image_load(struct cell_image_store *s, const char *path, char ***loaded, cell_err_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return cell_error(err, errno, "load %s", path);
    if (!S_ISDIR(st.st_mode)) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cell_error(err, errno, "load %s", path);
        return cell_image_load_fd(s, fd, path, loaded, err);
    }
    struct load l = {.store = s};
    int r = read_dir(&l, path, err);
    if (r < 0) {
        load_free(&l);
        return cell_error_prepend(err, "load %s", path);
    }
    return load_finish(&l, loaded, err) < 0 ? cell_error_prepend(err, "load %s", path) : 0;
}

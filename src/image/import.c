/* `import`: a plain root filesystem tarball becomes a one-layer image, as
 * Docker's import makes it: the layer is the uncompressed tar, the config
 * says linux/<this arch> and nothing else. */
#include "image/store_internal.h"

#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void image_time_now(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int tee_blob(void *data, const void *buf, size_t len, cell_err_t *err)
{
    return cell_image_blob_writer_write(data, buf, len, err);
}

/* Reads every entry so that a file that is not a tar fails here, not when
 * the layer is first unpacked. */
static int parse_all(struct image_tar_stream *t, cell_err_t *err)
{
    struct archive *a = image_tar_stream_archive(t);
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (r < ARCHIVE_WARN || archive_read_data_skip(a) < ARCHIVE_WARN)
            return image_tar_stream_error(t, a, "read tar", err);
    }
    return 0;
}

int image_layer_store(struct cell_image_store *s, int fd, char diff_id[CELL_IMAGE_DIGEST_SIZE],
                      cell_err_t *err)
{
    struct cell_image_blob_writer *w = NULL;
    struct image_tar_stream *t = NULL;
    if (cell_image_blob_writer_open(s, NULL, -1, &w, err) < 0)
        return -1;
    int r = image_tar_stream_open(fd, tee_blob, w, &t, err);
    if (r == 0)
        r = parse_all(t, err);
    if (r == 0)
        r = image_tar_stream_finish(t, diff_id, err);
    image_tar_stream_free(t);
    if (r < 0) {
        cell_image_blob_writer_abort(w);
        return -1;
    }
    return cell_image_blob_writer_commit(w, diff_id, err);
}

static char *import_config(const char *diff_id, const char *source)
{
    char now[32];
    image_time_now(now);
    const char *base = strrchr(source, '/');
    json_t *j = json_pack("{sssssss{}s{sss[s]}s[{ssssss}]}", "architecture", image_host_arch(),
                          "os", "linux", "created", now, "config", "rootfs", "type", "layers",
                          "diff_ids", diff_id, "history", "created", now, "created_by",
                          "cell import", "comment", base ? base + 1 : source);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

int cell_image_import(struct cell_image_store *s, int fd, const char *tarball, const char *name,
                      char **id_out, cell_err_t *err)
{
    struct cell_image_ref ref = {0};
    if (name && cell_image_ref_parse(name, &ref, err) < 0)
        return -1;
    char diff_id[CELL_IMAGE_DIGEST_SIZE], manifest[CELL_IMAGE_DIGEST_SIZE];
    _cleanup_free_ char *config = NULL;
    int r = 0;
    if (image_layer_store(s, fd, diff_id, err) < 0)
        r = cell_error_prepend(err, "import %s", tarball);
    if (r == 0 && !(config = import_config(diff_id, tarball)))
        r = cell_error(err, ENOMEM, "config");
    char *layers[] = {diff_id};
    if (r == 0)
        r = image_manifest_store(s, config, strlen(config), layers, 1, manifest, err);
    if (r == 0)
        r = image_record_put_or_dangling(s, name ? ref.name : NULL, manifest, CELL_MT_OCI_MANIFEST,
                                         err);
    if (r == 0 && id_out) {
        char id[CELL_IMAGE_DIGEST_SIZE];
        cell_image_digest_of(config, strlen(config), id, NULL);
        *id_out = strdup(id);
    }
    cell_image_ref_clear(&ref);
    return r;
}

/* Manifests, indexes and the descriptors in them (OCI image spec and
 * Docker's schema 2, which has the same shape under other media types). */
#include "image/store_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#define HOST_ARCH    "amd64"
#define HOST_VARIANT NULL
#elif defined(__aarch64__)
#define HOST_ARCH    "arm64"
#define HOST_VARIANT "v8"
#elif defined(__arm__)
#define HOST_ARCH    "arm"
#define HOST_VARIANT "v7"
#elif defined(__i386__)
#define HOST_ARCH    "386"
#define HOST_VARIANT NULL
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH    "ppc64le"
#define HOST_VARIANT NULL
#elif defined(__s390x__)
#define HOST_ARCH    "s390x"
#define HOST_VARIANT NULL
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH    "riscv64"
#define HOST_VARIANT NULL
#else
#error "unknown architecture"
#endif

void cell_image_descriptor_clear(struct cell_image_descriptor *d)
{
    free(d->media_type);
    free(d->digest);
    *d = (struct cell_image_descriptor){0};
}

static int descriptor_parse(json_t *j, const char *what, struct cell_image_descriptor *d,
                            cell_err_t *err)
{
    const char *digest = json_string_value(json_object_get(j, "digest"));
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    json_t *size = json_object_get(j, "size");
    if (!cell_image_digest_valid(digest))
        return cell_error(err, 0, "%s: missing or unsupported digest \"%s\"", what,
                          digest ? digest : "");
    if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
        return cell_error(err, 0, "%s %s: invalid size", what, digest);
    d->digest = strdup(digest);
    d->media_type = strdup(mt ? mt : "");
    d->size = size ? json_integer_value(size) : -1;
    if (!d->digest || !d->media_type)
        return cell_error(err, ENOMEM, "descriptor");
    return 0;
}

bool cell_image_media_type_is_index(const char *mt)
{
    return mt && (strcmp(mt, CELL_MT_OCI_INDEX) == 0 || strcmp(mt, CELL_MT_DOCKER_LIST) == 0);
}

static const char *detect(json_t *j)
{
    static const char *const known[] = {CELL_MT_OCI_INDEX, CELL_MT_OCI_MANIFEST,
                                        CELL_MT_DOCKER_LIST, CELL_MT_DOCKER_MANIFEST};
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    if (mt) {
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            if (strcmp(mt, known[i]) == 0)
                return known[i];
        return NULL;
    }
    /* OCI makes mediaType optional: tell them apart by their members. */
    if (json_is_array(json_object_get(j, "manifests")))
        return CELL_MT_OCI_INDEX;
    if (json_is_object(json_object_get(j, "config")) && json_is_array(json_object_get(j, "layers")))
        return CELL_MT_OCI_MANIFEST;
    return NULL;
}

const char *cell_image_media_type_detect(const char *json, size_t len)
{
    json_t *j = json_loadb(json, len, 0, NULL);
    const char *mt = j ? detect(j) : NULL;
    json_decref(j);
    return mt;
}

static int manifest_fill(json_t *j, struct cell_image_manifest *m, cell_err_t *err)
{
    const char *mt = detect(j);
    if (!mt || cell_image_media_type_is_index(mt))
        return cell_error(err, 0, "not an image manifest (%s)", mt ? mt : "unknown type");
    if (!(m->media_type = strdup(mt)))
        return cell_error(err, ENOMEM, "manifest");
    if (descriptor_parse(json_object_get(j, "config"), "manifest config", &m->config, err) < 0)
        return -1;
    json_t *layers = json_object_get(j, "layers");
    if (!json_is_array(layers))
        return cell_error(err, 0, "manifest: layers is not an array");
    m->layers = calloc(json_array_size(layers) + 1, sizeof *m->layers);
    if (!m->layers)
        return cell_error(err, ENOMEM, "manifest");
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        if (descriptor_parse(l, "manifest layer", &m->layers[i], err) < 0)
            return -1;
        m->nlayers = i + 1;
    }
    return 0;
}

int cell_image_manifest_parse(const char *json, size_t len, struct cell_image_manifest *out,
                              cell_err_t *err)
{
    json_error_t jerr;
    *out = (struct cell_image_manifest){0};
    json_t *j = json_loadb(json, len, 0, &jerr);
    if (!j)
        return cell_error(err, 0, "manifest: invalid JSON: %s", jerr.text);
    int r = manifest_fill(j, out, err);
    json_decref(j);
    if (r < 0)
        cell_image_manifest_clear(out);
    return r;
}

void cell_image_manifest_clear(struct cell_image_manifest *m)
{
    free(m->media_type);
    cell_image_descriptor_clear(&m->config);
    for (size_t i = 0; m->layers && i < m->nlayers; i++)
        cell_image_descriptor_clear(&m->layers[i]);
    free(m->layers);
    *m = (struct cell_image_manifest){0};
}

/* How well an index entry's platform fits this machine: 0 not at all, 1 no
 * platform given, 2 os and architecture, 3 also the variant. */
static int platform_score(json_t *entry)
{
    json_t *p = json_object_get(entry, "platform");
    if (!p)
        return 1;
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    const char *variant = json_string_value(json_object_get(p, "variant"));
    if (!os || !arch || strcmp(os, "linux") != 0 || strcmp(arch, HOST_ARCH) != 0)
        return 0;
    const char *host_variant = HOST_VARIANT;
    if (!variant || !host_variant)
        return 2;
    return strcmp(variant, host_variant) == 0 ? 3 : 0;
}

int cell_image_index_select(const char *json, size_t len, struct cell_image_descriptor *out,
                            cell_err_t *err)
{
    *out = (struct cell_image_descriptor){0};
    json_t *j = json_loadb(json, len, 0, NULL);
    json_t *manifests = j ? json_object_get(j, "manifests") : NULL;
    if (!json_is_array(manifests)) {
        json_decref(j);
        return cell_error(err, 0, "index: no manifests array");
    }
    json_t *best = NULL, *m;
    int best_score = 0;
    size_t i;
    json_array_foreach(manifests, i, m)
    {
        int score = platform_score(m);
        if (score > best_score) {
            best = m;
            best_score = score;
        }
    }
    int r = best ? descriptor_parse(best, "index entry", out, err)
                 : cell_error(err, 0, "no manifest for linux/%s in index", HOST_ARCH);
    json_decref(j);
    if (r < 0)
        cell_image_descriptor_clear(out);
    return r;
}

static json_t *manifest_json(const char *config_digest, size_t config_len,
                             struct cell_image_store *s, char *const *layers, size_t n,
                             cell_err_t *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        int64_t size = cell_image_blob_size(s, layers[i], err);
        if (size < 0) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, json_pack("{sssssI}", "mediaType", CELL_MT_OCI_LAYER, "digest",
                                             layers[i], "size", (json_int_t)size));
    }
    json_t *m = json_pack("{sisss{sssssI}so}", "schemaVersion", 2, "mediaType",
                          CELL_MT_OCI_MANIFEST, "config", "mediaType", CELL_MT_OCI_CONFIG, "digest",
                          config_digest, "size", (json_int_t)config_len, "layers", arr);
    if (!m)
        cell_error(err, ENOMEM, "manifest");
    return m;
}

int image_manifest_store(struct cell_image_store *s, const char *config, size_t config_len,
                         char *const *layer_digests, size_t nlayers,
                         char manifest_digest[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err)
{
    char config_digest[CELL_IMAGE_DIGEST_SIZE];
    if (cell_image_blob_put(s, config, config_len, NULL, config_digest, err) < 0)
        return -1;
    json_t *m = manifest_json(config_digest, config_len, s, layer_digests, nlayers, err);
    if (!m)
        return -1;
    _cleanup_free_ char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!text)
        return cell_error(err, ENOMEM, "manifest");
    return cell_image_blob_put(s, text, strlen(text), NULL, manifest_digest, err);
}

const char *image_host_arch(void)
{
    return HOST_ARCH;
}

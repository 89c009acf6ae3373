/* `pull`: reference -> manifest (through an index for the platform) ->
 * config and layers -> record -> unpacked layers. The order is what makes a
 * killed or failed pull harmless: the record, the only thing that names the
 * image, is written after every blob it needs is in the store and verified. */
#include "image/pull.h"

#include "base/cleanup.h"
#include "image/registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char accept_manifests[] = CELL_MT_OCI_INDEX
    ", " CELL_MT_DOCKER_LIST ", " CELL_MT_OCI_MANIFEST ", " CELL_MT_DOCKER_MANIFEST;

const char *cell_image_platform_default(void)
{
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64";
#elif defined(__i386__)
    return "linux/386";
#elif defined(__arm__)
    return "linux/arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "linux/ppc64le";
#elif defined(__s390x__)
    return "linux/s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "linux/riscv64";
#else
    return "linux/unknown";
#endif
}

struct platform {
    char os[32], arch[32], variant[32];
};

/* "os/arch[/variant]" */
static int platform_parse(const char *s, struct platform *p, cell_err_t *err)
{
    memset(p, 0, sizeof(*p));
    const char *a = strchr(s, '/');
    const char *v = a ? strchr(a + 1, '/') : NULL;
    size_t os_len = a ? (size_t)(a - s) : 0;
    size_t arch_len = a ? (v ? (size_t)(v - a - 1) : strlen(a + 1)) : 0;
    if (!a || os_len == 0 || arch_len == 0 || os_len >= sizeof(p->os) ||
        arch_len >= sizeof(p->arch) || (v && (strlen(v + 1) >= sizeof(p->variant) || !v[1])) ||
        (v && strchr(v + 1, '/')))
        return cell_error(err, 0, "invalid platform \"%s\" (os/arch[/variant])", s);
    memcpy(p->os, s, os_len);
    memcpy(p->arch, a + 1, arch_len);
    if (v)
        strcpy(p->variant, v + 1);
    return 0;
}

static bool platform_matches(json_t *entry, const struct platform *want)
{
    json_t *pl = json_object_get(entry, "platform");
    const char *os = json_string_value(json_object_get(pl, "os"));
    const char *arch = json_string_value(json_object_get(pl, "architecture"));
    const char *variant = json_string_value(json_object_get(pl, "variant"));
    if (!os || !arch || strcmp(os, want->os) != 0 || strcmp(arch, want->arch) != 0)
        return false;
    if (!*want->variant || (variant && strcmp(variant, want->variant) == 0))
        return true;
    /* v8 is what arm64 means when an index names no variant (as Go's platforms). */
    return !variant && strcmp(want->arch, "arm64") == 0 && strcmp(want->variant, "v8") == 0;
}

static int descriptor_from(json_t *entry, struct cell_image_descriptor *out, cell_err_t *err)
{
    const char *mt = json_string_value(json_object_get(entry, "mediaType"));
    const char *digest = json_string_value(json_object_get(entry, "digest"));
    json_t *size = json_object_get(entry, "size");
    if (!digest || !cell_image_digest_valid(digest) || !json_is_integer(size))
        return cell_error(err, 0, "index entry without a valid digest and size");
    out->media_type = strdup(mt ? mt : CELL_MT_OCI_MANIFEST);
    out->digest = strdup(digest);
    out->size = json_integer_value(size);
    if (!out->media_type || !out->digest)
        return cell_error(err, ENOMEM, "index entry");
    return 0;
}

/* The first manifest of the index for the platform. */
static int platform_select(const char *json, size_t len, const char *platform,
                           struct cell_image_descriptor *out, cell_err_t *err)
{
    struct platform want;
    if (platform_parse(platform, &want, err) < 0)
        return -1;
    json_error_t jerr;
    json_t *j = json_loadb(json, len, 0, &jerr);
    json_t *manifests = json_object_get(j, "manifests");
    if (!json_is_array(manifests)) {
        json_decref(j);
        return cell_error(err, 0, "index: no \"manifests\" array");
    }
    size_t i;
    json_t *entry;
    int ret = 1;
    json_array_foreach(manifests, i, entry)
    {
        if (platform_matches(entry, &want)) {
            ret = descriptor_from(entry, out, err);
            break;
        }
    }
    json_decref(j);
    if (ret > 0)
        return cell_error(err, 0, "no manifest for %s in the index", platform);
    return ret;
}

/* The media type the response says, else what the document looks like. */
static const char *manifest_type(const struct registry_response *resp)
{
    static const char *const known[] = {CELL_MT_OCI_INDEX, CELL_MT_DOCKER_LIST,
                                        CELL_MT_OCI_MANIFEST, CELL_MT_DOCKER_MANIFEST};
    if (resp->content_type) {
        size_t n = strcspn(resp->content_type, "; ");
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            if (strlen(known[i]) == n && strncmp(resp->content_type, known[i], n) == 0)
                return known[i];
    }
    return cell_image_media_type_detect(resp->body, resp->len);
}

/* GETs a manifest or index by tag or digest and checks it against the
 * digest it was asked by (or the one the registry says it has). */
static int fetch_manifest(struct registry *r, const char *reference, const char *image,
                          struct registry_response *resp, char digest[CELL_IMAGE_DIGEST_SIZE],
                          cell_err_t *err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/manifests/%s", r->repo, reference) < 0)
        return cell_error(err, ENOMEM, "manifest of %s", image);
    if (registry_get(r, path, accept_manifests, resp, err) < 0)
        return cell_error_prepend(err, "image %s", image);
    if (resp->status == 404)
        return cell_error(err, 0, "image %s: not found (manifest unknown to %s)", image, r->host);
    if (resp->status != 200) {
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "image %s: manifest", image) < 0)
            return cell_error(err, ENOMEM, "manifest of %s", image);
        return registry_status_error(r, what, resp, err);
    }
    if (cell_image_digest_of(resp->body, resp->len, digest, err) < 0)
        return -1;
    const char *want = cell_image_digest_valid(reference) ? reference : NULL;
    if (!want && resp->digest && cell_image_digest_valid(resp->digest))
        want = resp->digest;
    if (want && strcmp(want, digest) != 0)
        return cell_error(err, 0, "manifest %s from %s: digest mismatch (got %s)", want, r->host,
                          digest);
    return 0;
}

struct pulled {
    char top_digest[CELL_IMAGE_DIGEST_SIZE]; /* what the registry gave for the ref */
    const char *top_type;
    char manifest_digest[CELL_IMAGE_DIGEST_SIZE]; /* the platform's manifest */
    struct registry_response index, manifest;
    struct cell_image_manifest m;
};

static void pulled_clear(struct pulled *p)
{
    registry_response_clear(&p->index);
    registry_response_clear(&p->manifest);
    cell_image_manifest_clear(&p->m);
}

/* The manifest for the platform, through the index when there is one. */
static int resolve_manifest(struct registry *r, const struct cell_image_ref *ref,
                            const char *platform, struct pulled *p, cell_err_t *err)
{
    const char *reference = ref->digest ? ref->digest : ref->tag;
    if (fetch_manifest(r, reference, ref->name, &p->manifest, p->top_digest, err) < 0)
        return -1;
    p->top_type = manifest_type(&p->manifest);
    if (!p->top_type)
        return cell_error(err, 0, "image %s: unsupported manifest type \"%s\"", ref->name,
                          p->manifest.content_type ? p->manifest.content_type : "?");
    memcpy(p->manifest_digest, p->top_digest, CELL_IMAGE_DIGEST_SIZE);
    if (cell_image_media_type_is_index(p->top_type)) {
        struct cell_image_descriptor d = {0};
        p->index = p->manifest;
        memset(&p->manifest, 0, sizeof(p->manifest));
        int ret = platform_select(p->index.body, p->index.len, platform, &d, err);
        if (ret == 0)
            ret = fetch_manifest(r, d.digest, ref->name, &p->manifest, p->manifest_digest, err);
        cell_image_descriptor_clear(&d);
        if (ret < 0)
            return cell_error_prepend(err, "image %s", ref->name);
    }
    if (cell_image_manifest_parse(p->manifest.body, p->manifest.len, &p->m, err) < 0)
        return cell_error_prepend(err, "image %s: manifest %s", ref->name, p->manifest_digest);
    return 0;
}

/* Config and layers, each digest once. */
static int fetch_blobs(struct registry *r, struct cell_image_store *s, const struct pulled *p,
                       const struct cell_image_pull_opts *o, cell_err_t *err)
{
    _cleanup_free_ struct registry_blob_req *reqs = calloc(p->m.nlayers + 1, sizeof(*reqs));
    if (!reqs)
        return cell_error(err, ENOMEM, "pull");
    size_t n = 0;
    reqs[n++] = (struct registry_blob_req){.desc = &p->m.config, .is_layer = false};
    for (size_t i = 0; i < p->m.nlayers; i++) {
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(reqs[k].desc->digest, p->m.layers[i].digest) == 0;
        if (!dup)
            reqs[n++] = (struct registry_blob_req){.desc = &p->m.layers[i], .is_layer = true};
    }
    return registry_blobs_fetch(r, s, reqs, n, o, err);
}

static void report_image(const struct cell_image_pull_opts *o, enum cell_image_pull_phase ph)
{
    if (!o->progress)
        return;
    struct cell_image_pull_progress p = {.phase = ph};
    o->progress(o->progress_ctx, &p);
}

/* Layers are unpacked right away, as `docker pull` does, so the first run
 * does not pay for it. */
static int unpack(struct cell_image_store *s, const char *digest,
                  const struct cell_image_pull_opts *o, cell_err_t *err)
{
    struct cell_image img = {0};
    report_image(o, CELL_PULL_EXTRACTING);
    int ret = cell_image_resolve(s, digest, &img, err);
    if (ret == 0)
        ret = cell_image_unpack(s, &img, err);
    cell_image_clear(&img);
    if (ret == 0)
        report_image(o, CELL_PULL_DONE);
    return ret;
}

/* Stores what the registry sent and names it. An index is recorded when
 * this machine's platform was pulled; for another platform the record
 * points at that platform's manifest, so the store resolves the image that
 * was pulled and not this machine's (which is not there). */
static int store_and_record(struct cell_image_store *s, const struct cell_image_ref *ref,
                            const struct pulled *p, bool native, const char **recorded,
                            cell_err_t *err)
{
    if (p->index.body &&
        cell_image_blob_put(s, p->index.body, p->index.len, p->top_digest, NULL, err) < 0)
        return -1;
    if (cell_image_blob_put(s, p->manifest.body, p->manifest.len, p->manifest_digest, NULL, err) <
        0)
        return -1;
    bool top = native || !p->index.body;
    *recorded = top ? p->top_digest : p->manifest_digest;
    return cell_image_record_put(s, ref->name, *recorded, top ? p->top_type : p->m.media_type, err);
}

static int pull_ref(struct cell_image_store *s, const struct cell_image_ref *ref,
                    const struct cell_image_pull_opts *o, char *digest_out, cell_err_t *err)
{
    struct registry_conf conf = {.tls_verify = o->tls_verify, .auth_file = o->auth_file};
    const char *platform = o->platform ? o->platform : cell_image_platform_default();
    _cleanup_registry_ struct registry *r = NULL;
    struct pulled p = {0};
    const char *recorded = NULL;
    int ret = registry_open(&r, ref->domain, ref->path, &conf, err);
    if (ret == 0)
        ret = resolve_manifest(r, ref, platform, &p, err);
    if (ret == 0)
        ret = fetch_blobs(r, s, &p, o, err);
    if (ret == 0)
        ret = store_and_record(s, ref, &p, strcmp(platform, cell_image_platform_default()) == 0,
                               &recorded, err);
    if (ret == 0 && digest_out)
        memcpy(digest_out, recorded, CELL_IMAGE_DIGEST_SIZE);
    if (ret == 0 && !o->no_unpack)
        ret = unpack(s, recorded, o, err);
    pulled_clear(&p);
    return ret;
}

int cell_image_pull(struct cell_image_store *s, const char *name,
                    const struct cell_image_pull_opts *opts,
                    char digest_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err)
{
    struct cell_image_ref ref = {0};
    if (cell_image_ref_parse(name, &ref, err) < 0)
        return -1;
    /* Shared: a gc (exclusive) must not free blobs between write and record. */
    int ret = cell_image_store_lock(s, false, err);
    if (ret == 0) {
        ret = pull_ref(s, &ref, opts, digest_out, err);
        cell_image_store_unlock(s);
    }
    cell_image_ref_clear(&ref);
    return ret;
}

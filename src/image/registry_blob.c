/* Blobs from a registry, several at once over libcurl's multi interface.
 * Each transfer hashes what it writes; a transfer that breaks off resumes
 * where it stopped with a Range request, and starts over when the server
 * ignores the range (a 200 instead of a 206). Nothing that fails its digest
 * is named in the store: the writer is aborted. */
#include "image/registry.h"
#include "image/http.h"

#include "base/cleanup.h"
#include "image/image.h"
#include "image/pull.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS     6
#define DEFAULT_PARALLEL 3

struct fetch;

struct xfer {
    struct fetch *f;
    const struct registry_blob_req *req;
    CURL *h;
    struct curl_slist *headers;
    struct cell_image_blob_writer *w;
    struct registry_partial part; /* the bytes so far, kept for a later pull */
    EVP_MD_CTX *md;
    int64_t got;
    int attempts;
    bool reauthed;
    bool checked; /* the status of the current response has been looked at */
    bool discard; /* the current response is not the blob: drop its body */
    bool failed;  /* the write callback failed; err says why */
    cell_err_t err;
};

struct fetch {
    struct registry *r;
    struct cell_image_store *s;
    const struct cell_image_pull_opts *o;
    CURLM *multi;
    struct xfer *x;
    size_t n, next, running;
};

static void report(struct xfer *x, enum cell_image_pull_phase phase)
{
    const struct cell_image_pull_opts *o = x->f->o;
    if (!o->progress)
        return;
    struct cell_image_pull_progress p = {
        .digest = x->req->desc->digest,
        .is_layer = x->req->is_layer,
        .phase = phase,
        .done = x->got,
        .total = x->req->desc->size,
    };
    o->progress(o->progress_ctx, &p);
}

/* Bytes of the blob, from wherever they come: hashed and written. */
static int xfer_take(struct xfer *x, const void *buf, size_t len, cell_err_t *err)
{
    if (cell_image_blob_writer_write(x->w, buf, len, err) < 0)
        return -1;
    EVP_DigestUpdate(x->md, buf, len);
    x->got += (int64_t)len;
    return 0;
}

static int replay_feed(void *ctx, const void *buf, size_t len)
{
    struct xfer *x = ctx;
    return xfer_take(x, buf, len, &x->err);
}

/* A fresh writer and hash; what an earlier pull left of the blob is taken
 * first, unless from_zero (the server is sending all of it again). */
static int xfer_open_writer(struct xfer *x, bool from_zero, cell_err_t *err)
{
    const struct cell_image_descriptor *d = x->req->desc;
    cell_image_blob_writer_abort(x->w);
    x->w = NULL;
    x->got = 0;
    if (!x->md && !(x->md = EVP_MD_CTX_new())) /* errno as in digest.c */
        return cell_error(err, errno, "blob %s", d->digest);
    if (EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
        return cell_error(err, 0, "blob %s: sha256 init failed", d->digest);
    if (cell_image_blob_writer_open(x->f->s, d->digest, d->size, &x->w, err) < 0)
        return -1;
    if (x->part.fd < 0 && !from_zero)
        registry_partial_open(x->f->s, d->digest, d->size, &x->part);
    if (from_zero)
        registry_partial_truncate(&x->part);
    if (registry_partial_replay(&x->part, replay_feed, x) < 0) {
        cell_error(err, x->err.errnum, "%s", x->err.msg ? x->err.msg : "partial blob");
        return -1;
    }
    return 0;
}

/* First bytes of a response: is it the blob, from where we asked? */
static int xfer_check_response(struct xfer *x)
{
    long status = 0;
    x->checked = true;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 206)
        return 0;
    if (status != 200) {
        x->discard = true;
        return 0;
    }
    if (x->got > 0) /* the range was ignored: all of it comes again */
        return xfer_open_writer(x, true, &x->err);
    return 0;
}

static size_t xfer_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    const struct cell_image_descriptor *d = x->req->desc;
    size_t n = size * nmemb;
    if (!x->checked && xfer_check_response(x) < 0)
        goto fail;
    if (x->discard)
        return n;
    if (x->got + (int64_t)n > d->size) {
        cell_error(&x->err, 0, "blob %s from %s: more than its %lld bytes", d->digest,
                   x->f->r->host, (long long)d->size);
        registry_partial_remove(x->f->s, d->digest, &x->part);
        goto fail;
    }
    if (xfer_take(x, ptr, n, &x->err) < 0)
        goto fail;
    registry_partial_append(x->f->s, d->digest, &x->part, ptr, n);
    report(x, CELL_PULL_DOWNLOADING);
    return n;
fail:
    x->failed = true;
    return 0;
}

static int xfer_start(struct xfer *x, cell_err_t *err)
{
    struct fetch *f = x->f;
    _cleanup_free_ char *path = NULL, *url = NULL;
    char range[64];
    if (asprintf(&path, "%s/blobs/%s", f->r->repo, x->req->desc->digest) < 0 ||
        !(url = registry_url(f->r, path)))
        return cell_error(err, ENOMEM, "blob %s", x->req->desc->digest);
    if (!x->h && !(x->h = curl_easy_init()))
        return cell_error(err, ENOMEM, "blob %s", x->req->desc->digest);
    curl_easy_reset(x->h);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    if (registry_easy_setup(f->r, x->h, &x->headers) < 0)
        return cell_error(err, ENOMEM, "blob %s", x->req->desc->digest);
    if (x->got > 0) {
        snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)x->got);
        x->headers = curl_slist_append(x->headers, range);
    }
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, xfer_write);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    x->checked = x->discard = false;
    x->attempts++;
    if (curl_multi_add_handle(f->multi, x->h) != CURLM_OK)
        return cell_error(err, 0, "blob %s: cannot start transfer", x->req->desc->digest);
    f->running++;
    return 0;
}

/* A complete blob: its digest decides whether it is named in the store. */
static int xfer_finish(struct xfer *x, cell_err_t *err)
{
    const struct cell_image_descriptor *d = x->req->desc;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char got[CELL_IMAGE_DIGEST_SIZE] = "sha256:";
    EVP_DigestFinal_ex(x->md, md, &mdlen);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(got + 7 + 2 * i, 3, "%02x", md[i]);
    /* Right or wrong, these bytes are never wanted again. */
    registry_partial_remove(x->f->s, d->digest, &x->part);
    if (strcmp(got, d->digest) != 0) {
        cell_image_blob_writer_abort(TAKE_PTR(x->w));
        return cell_error(err, 0, "blob %s from %s: digest mismatch (got %s)", d->digest,
                          x->f->r->host, got);
    }
    if (cell_image_blob_writer_commit(TAKE_PTR(x->w), NULL, err) < 0)
        return cell_error_prepend(err, "blob %s from %s", d->digest, x->f->r->host);
    report(x, CELL_PULL_COMPLETE);
    return 0;
}

static bool retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: /* a clean close before the end */
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* A 401 in the middle of a pull: the token expired. One new one per blob. */
static int xfer_reauth(struct xfer *x, cell_err_t *err)
{
    struct curl_header *hdr = NULL;
    x->reauthed = true;
    if (curl_easy_header(x->h, "WWW-Authenticate", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
        return cell_error(err, 0, "blob %s from %s: unauthorized", x->req->desc->digest,
                          x->f->r->host);
    _cleanup_free_ char *challenge = strdup(hdr->value);
    if (!challenge)
        return cell_error(err, ENOMEM, "blob %s", x->req->desc->digest);
    return registry_auth_answer(x->f->r, challenge, err);
}

static int xfer_done(struct xfer *x, CURLcode rc, cell_err_t *err)
{
    const struct cell_image_descriptor *d = x->req->desc;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (x->failed) {
        cell_error(err, x->err.errnum, "%s", x->err.msg ? x->err.msg : "blob write failed");
        return -1;
    }
    if (rc == CURLE_OK && status == 401 && !x->reauthed) {
        if (xfer_reauth(x, err) < 0)
            return -1;
        return xfer_start(x, err);
    }
    if (rc == CURLE_OK && status != 200 && status != 206) {
        struct registry_response resp = {.status = status};
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "blob %s", d->digest) < 0)
            return cell_error(err, ENOMEM, "blob %s", d->digest);
        return registry_status_error(x->f->r, what, &resp, err);
    }
    if (x->got == d->size)
        return xfer_finish(x, err);
    if (retryable(rc) && x->attempts < MAX_ATTEMPTS) {
        report(x, CELL_PULL_RETRYING);
        return xfer_start(x, err);
    }
    if (rc != CURLE_OK)
        return cell_error(err, 0, "blob %s from %s: %s (after %d attempts)", d->digest,
                          x->f->r->host, curl_easy_strerror(rc), x->attempts);
    return cell_error(err, 0, "blob %s from %s: %lld of %lld bytes", d->digest, x->f->r->host,
                      (long long)x->got, (long long)d->size);
}

/* Starts the next queued blobs, up to the parallel limit; blobs already in
 * the store are only reported. */
static int start_more(struct fetch *f, cell_err_t *err)
{
    int parallel = f->o->parallel > 0 ? f->o->parallel : DEFAULT_PARALLEL;
    while (f->running < (size_t)parallel && f->next < f->n) {
        struct xfer *x = &f->x[f->next++];
        if (cell_image_blob_exists(f->s, x->req->desc->digest) > 0) {
            x->got = x->req->desc->size;
            report(x, CELL_PULL_EXISTS);
            continue;
        }
        if (xfer_open_writer(x, false, err) < 0)
            return -1;
        /* A killed pull may have had all of it, short of naming it. */
        if (x->got == x->req->desc->size ? xfer_finish(x, err) < 0 : xfer_start(x, err) < 0)
            return -1;
    }
    return 0;
}

static int drain_done(struct fetch *f, cell_err_t *err)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(f->multi, &queued))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(f->multi, x->h);
        f->running--;
        if (xfer_done(x, rc, err) < 0)
            return -1;
    }
    return 0;
}

static int fetch_run(struct fetch *f, cell_err_t *err)
{
    for (size_t i = 0; i < f->n; i++)
        report(&f->x[i], CELL_PULL_WAITING);
    if (start_more(f, err) < 0)
        return -1;
    while (f->running > 0) {
        int still = 0;
        CURLMcode mc = curl_multi_perform(f->multi, &still);
        if (mc == CURLM_OK && still > 0)
            mc = curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            return cell_error(err, 0, "registry %s: %s", f->r->host, curl_multi_strerror(mc));
        if (drain_done(f, err) < 0 || start_more(f, err) < 0)
            return -1;
    }
    return 0;
}

static void fetch_clear(struct fetch *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct xfer *x = &f->x[i];
        if (x->h) {
            curl_multi_remove_handle(f->multi, x->h);
            curl_easy_cleanup(x->h);
        }
        curl_slist_free_all(x->headers);
        cell_image_blob_writer_abort(x->w);
        registry_partial_close(&x->part);
        EVP_MD_CTX_free(x->md);
        cell_error_clear(&x->err);
    }
    free(f->x);
    if (f->multi)
        curl_multi_cleanup(f->multi);
}

int registry_blobs_fetch(struct registry *r, struct cell_image_store *s,
                         const struct registry_blob_req *reqs, size_t n,
                         const struct cell_image_pull_opts *opts, cell_err_t *err)
{
    struct fetch f = {.r = r, .s = s, .o = opts, .n = n};
    f.x = calloc(n ? n : 1, sizeof(*f.x));
    f.multi = curl_multi_init();
    if (!f.x || !f.multi) {
        fetch_clear(&f);
        return cell_error(err, ENOMEM, "registry %s", r->host);
    }
    for (size_t i = 0; i < n; i++) {
        f.x[i].f = &f;
        f.x[i].req = &reqs[i];
        f.x[i].part.fd = -1;
    }
    int ret = fetch_run(&f, err);
    fetch_clear(&f);
    return ret;
}

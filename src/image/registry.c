/* The registry's HTTP side: one libcurl easy handle per registry for API
 * requests (manifests, the /v2/ probe), scheme discovery and the 401 loop.
 * Blob downloads run in parallel in registry_blob.c over handles set up the
 * same way (registry_easy_setup, http.c). */
#include "image/registry.h"
#include "image/http.h"

#include "base/cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The distribution spec lets clients refuse manifests over 4 MiB. */
#define MANIFEST_MAX (4u << 20)

/* Docker Hub's API lives on another name than the one in references. */
static const char *api_host_of(const char *host)
{
    return strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host;
}

/* A registry's own CA, as Docker and podman keep them: <dir>/<host>/ca.crt
 * under $CELL_CERTS_DIR, /etc/containers/certs.d or /etc/docker/certs.d.
 * It is trusted in addition to the system's CAs, not instead of them (a
 * blob redirected to a public host still verifies). */
static char *ca_file_of(const char *host)
{
    const char *dirs[] = {getenv("CELL_CERTS_DIR"), "/etc/containers/certs.d",
                          "/etc/docker/certs.d"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        char *path = NULL;
        if (!dirs[i] || !*dirs[i] || asprintf(&path, "%s/%s/ca.crt", dirs[i], host) < 0)
            continue;
        if (access(path, R_OK) == 0)
            return path;
        free(path);
    }
    return NULL;
}

int registry_open(struct registry **out, const char *host, const char *repo,
                  const struct registry_conf *conf, cell_err_t *err)
{
    struct registry *r = calloc(1, sizeof(*r));
    if (!r)
        return cell_error(err, ENOMEM, "registry %s", host);
    r->host = strdup(host);
    r->api_host = strdup(api_host_of(host));
    r->repo = strdup(repo);
    r->tls_verify = conf->tls_verify;
    r->ca_file = ca_file_of(host);
    r->easy = curl_easy_init();
    if (!r->host || !r->api_host || !r->repo || !r->easy) {
        registry_close(r);
        return cell_error(err, ENOMEM, "registry %s", host);
    }
    if (!conf->no_stored_auth && registry_auth_lookup(conf->auth_file, host, &r->basic, err) < 0) {
        registry_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void registry_close(struct registry *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->host);
    free(r->api_host);
    free(r->repo);
    free(r->ca_file);
    free(r->basic);
    free(r->auth_header);
    free(r);
}

void registry_response_clear(struct registry_response *resp)
{
    free(resp->body);
    free(resp->content_type);
    free(resp->digest);
    memset(resp, 0, sizeof(*resp));
}

char *registry_url(const struct registry *r, const char *path)
{
    char *url = NULL;
    if (asprintf(&url, "%s://%s/v2/%s", r->scheme ? r->scheme : "https", r->api_host, path) < 0)
        return NULL;
    return url;
}

static char *header_dup(CURL *h, const char *name)
{
    struct curl_header *hdr = NULL;
    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
        return NULL;
    return strdup(hdr->value);
}

/* One GET on r->easy with the current scheme and Authorization. */
static CURLcode get_once(struct registry *r, const char *path, const char *accept,
                         struct registry_response *resp, char **challenge)
{
    _cleanup_free_ char *url = registry_url(r, path);
    _cleanup_free_ char *accept_hdr = NULL;
    struct curl_slist *headers = NULL;
    struct http_body body = {.max = MANIFEST_MAX};
    CURL *h = r->easy;

    if (!url || (accept && asprintf(&accept_hdr, "Accept: %s", accept) < 0))
        return CURLE_OUT_OF_MEMORY;
    curl_easy_reset(h);
    if (registry_easy_setup(r, h, &headers) < 0)
        return CURLE_OUT_OF_MEMORY;
    if (accept_hdr)
        headers = curl_slist_append(headers, accept_hdr);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc == CURLE_WRITE_ERROR && body.too_big)
        rc = CURLE_FILESIZE_EXCEEDED;
    if (rc != CURLE_OK) {
        free(body.data);
        return rc;
    }
    registry_response_clear(resp);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body = body.data ? body.data : strdup("");
    resp->len = body.len;
    resp->content_type = header_dup(h, "Content-Type");
    resp->digest = header_dup(h, "Docker-Content-Digest");
    *challenge = resp->status == 401 ? header_dup(h, "WWW-Authenticate") : NULL;
    return CURLE_OK;
}

static int transport_error(const struct registry *r, CURLcode rc, cell_err_t *err)
{
    if (rc == CURLE_FILESIZE_EXCEEDED)
        return cell_error(err, 0, "registry %s: response over %u bytes", r->host, MANIFEST_MAX);
    if (rc == CURLE_OUT_OF_MEMORY)
        return cell_error(err, ENOMEM, "registry %s", r->host);
    /* The usual cause of a TLS failure on a local registry is that it has none. */
    if (r->tls_verify && (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION))
        return cell_error(err, 0,
                          "registry %s: %s (--tls-verify=false for a registry "
                          "without TLS or with a certificate not trusted here)",
                          r->host, curl_easy_strerror(rc));
    return cell_error(err, 0, "registry %s: %s", r->host, curl_easy_strerror(rc));
}

/* With TLS verification on, only https. With it off, https is tried first
 * (without checking the certificate) and plain http when that fails, as
 * Docker does for an insecure registry. */
static CURLcode get_probing(struct registry *r, const char *path, const char *accept,
                            struct registry_response *resp, char **challenge)
{
    if (r->scheme)
        return get_once(r, path, accept, resp, challenge);
    r->scheme = "https";
    CURLcode rc = get_once(r, path, accept, resp, challenge);
    if (rc == CURLE_OK || r->tls_verify || rc == CURLE_OUT_OF_MEMORY)
        return rc;
    r->scheme = "http";
    rc = get_once(r, path, accept, resp, challenge);
    if (rc != CURLE_OK)
        r->scheme = NULL;
    return rc;
}

int registry_get(struct registry *r, const char *path, const char *accept,
                 struct registry_response *resp, cell_err_t *err)
{
    _cleanup_free_ char *challenge = NULL;
    CURLcode rc = get_probing(r, path, accept, resp, &challenge);
    if (rc != CURLE_OK)
        return transport_error(r, rc, err);
    if (resp->status != 401 || !challenge)
        return 0;
    if (registry_auth_answer(r, challenge, err) < 0)
        return -1;
    _cleanup_free_ char *again = NULL;
    rc = get_once(r, path, accept, resp, &again);
    if (rc != CURLE_OK)
        return transport_error(r, rc, err);
    return 0;
}

/* The first message of the distribution spec's error body
 * {"errors":[{"code":"...","message":"..."}]}, or NULL. */
static char *registry_message(const struct registry_response *resp)
{
    json_t *j = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
    const char *msg = json_string_value(json_object_get(e0, "message"));
    const char *code = json_string_value(json_object_get(e0, "code"));
    char *out = NULL;
    if (msg && code && asprintf(&out, "%s (%s)", msg, code) < 0)
        out = NULL;
    json_decref(j);
    return out;
}

int registry_status_error(const struct registry *r, const char *what,
                          const struct registry_response *resp, cell_err_t *err)
{
    _cleanup_free_ char *msg = registry_message(resp);
    const char *kind = resp->status == 401   ? "unauthorized"
                       : resp->status == 403 ? "access denied"
                       : resp->status == 404 ? "not found"
                                             : "failed";
    if (msg)
        return cell_error(err, 0, "%s from %s: %s: HTTP %ld: %s", what, r->host, kind, resp->status,
                          msg);
    return cell_error(err, 0, "%s from %s: %s: HTTP %ld", what, r->host, kind, resp->status);
}

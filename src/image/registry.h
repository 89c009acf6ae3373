/* The registry client: the OCI distribution API (the read side) over
 * libcurl. One struct registry talks to one repository on one host; it
 * finds the scheme (https, or plain http when TLS verification is off and
 * the host does not speak TLS), answers 401 challenges (bearer tokens from
 * the realm, basic auth from the credentials file), and follows redirects
 * without carrying Authorization to another host (libcurl's default).
 * Internal to src/image; the public entry points are in image.h. */
#pragma once

#include "base/error.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct registry_conf {
    bool tls_verify;       /* false: accept any certificate, fall back to http */
    const char *auth_file; /* credentials file; NULL: the default one */
    bool no_stored_auth;   /* do not look in any credentials file (login) */
};

struct registry {
    char *host;         /* as in the reference: "docker.io", "127.0.0.1:5000" */
    char *api_host;     /* where the API lives: "registry-1.docker.io" for docker.io */
    char *repo;         /* "library/busybox" */
    const char *scheme; /* "https" or "http"; NULL until the first request */
    bool tls_verify;
    char *ca_file;     /* <certs.d>/<host>/ca.crt when there is one, or NULL */
    char *basic;       /* "user:password" from the credentials file, or NULL */
    char *auth_header; /* "Authorization: Bearer ..." or "... Basic ...", or NULL */
    CURL *easy;        /* reused for API requests, so the connection stays open */
};

struct registry_response {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *content_type;
    char *digest; /* Docker-Content-Digest, or NULL */
};

int registry_open(struct registry **out, const char *host, const char *repo,
                  const struct registry_conf *conf, cell_err_t *err);
void registry_close(struct registry *r);

static inline void registry_closep(struct registry **r)
{
    if (*r)
        registry_close(*r);
}
#define _cleanup_registry_ __attribute__((cleanup(registry_closep)))

void registry_response_clear(struct registry_response *resp);

/* GET https://<api_host>/v2/<path> (path already holds the repository part,
 * e.g. "library/busybox/manifests/latest"; "" is the API root). accept is
 * the Accept header value or NULL. Answers one 401 with authentication and
 * repeats the request. Any status is returned in resp; only transport
 * failures fail. */
int registry_get(struct registry *r, const char *path, const char *accept,
                 struct registry_response *resp, cell_err_t *err);

/* The URL of path under the registry's /v2/ (after the scheme is known). */
char *registry_url(const struct registry *r, const char *path);

/* The error line for a non-success status: "unauthorized", "not found",
 * with the registry's own error message when it sent a JSON one. */
int registry_status_error(const struct registry *r, const char *what,
                          const struct registry_response *resp, cell_err_t *err);

/* auth.c: answers the challenge in a 401 response (its WWW-Authenticate
 * header) by setting r->auth_header: basic credentials, or a bearer token
 * fetched from the realm for "repository:<repo>:pull". */
int registry_auth_answer(struct registry *r, const char *challenge, cell_err_t *err);

/* auth_file.c: "user:password" stored for host in the credentials file
 * (cell's, then Docker's ~/.docker/config.json), or NULL in *out when there
 * is none. */
int registry_auth_lookup(const char *auth_file, const char *host, char **out, cell_err_t *err);
/* Stores "user:password" for key (cell_image_auth_key) in auth_file (NULL:
 * the default), replacing what was there for the registry. */
int registry_auth_store(const char *auth_file, const char *key, const char *creds, cell_err_t *err);

/* registry_blob.c: downloads the blobs not yet in the store, at most
 * opts->parallel at once, each streamed through the store's blob writer
 * while its sha256 is computed; a transfer that breaks is resumed with a
 * Range request (a few times), a 401 on the way is answered once more.
 * A blob whose bytes do not hash to its digest fails the whole fetch with
 * "blob sha256:… from <host>: digest mismatch (got sha256:…)" and is not
 * stored. */
struct cell_image_store;
struct cell_image_descriptor;
struct cell_image_pull_opts;

struct registry_blob_req {
    const struct cell_image_descriptor *desc;
    bool is_layer;
};

int registry_blobs_fetch(struct registry *r, struct cell_image_store *s,
                         const struct registry_blob_req *reqs, size_t n,
                         const struct cell_image_pull_opts *opts, cell_err_t *err);

/* registry_partial.c: the bytes of a blob downloaded so far, kept in
 * <store>/ingest/<hex> beside the store's own writer, so that a pull that
 * was killed (or failed) continues the blob next time with a Range request
 * instead of starting it over. Best effort: a partial file that cannot be
 * made or written is simply not used; one is never shared by two pulls
 * (flock). */
struct registry_partial {
    int fd;       /* -1: none */
    int64_t size; /* bytes in it */
};

/* Opens (creating) the partial file of digest, locked; a partial file
 * larger than size is emptied. p->fd is -1 when there is none to use. */
void registry_partial_open(struct cell_image_store *s, const char *digest, int64_t size,
                           struct registry_partial *p);
/* Calls feed with its content, in order, from the start; a negative return
 * of feed stops. Returns what feed returned last (0 when empty). */
int registry_partial_replay(struct registry_partial *p,
                            int (*feed)(void *ctx, const void *buf, size_t len), void *ctx);
/* Appends; on a write error the partial file is dropped. */
void registry_partial_append(struct cell_image_store *s, const char *digest,
                             struct registry_partial *p, const void *buf, size_t len);
/* Empties it (the server sends the blob from its start again). */
void registry_partial_truncate(struct registry_partial *p);
/* Removes it: the blob is complete, or its bytes are wrong. */
void registry_partial_remove(struct cell_image_store *s, const char *digest,
                             struct registry_partial *p);
void registry_partial_close(struct registry_partial *p);

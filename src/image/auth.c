/* Answering a registry's 401: its WWW-Authenticate challenge names either
 * Basic (send the stored credentials) or Bearer with a realm, a service and
 * a scope (ask the realm for a token, with the stored credentials if there
 * are any, anonymously otherwise; then send the token). */
#include "image/registry.h"
#include "image/http.h"

#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* A token answer is a small JSON object. */
#define TOKEN_MAX (1u << 20)

struct challenge {
    char *scheme; /* "bearer" or "basic", lowercased */
    char *realm;
    char *service;
    char *scope;
};

static void challenge_clear(struct challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
}

/* A token or a quoted-string (RFC 9110), with backslash escapes undone. */
static char *parse_value(const char **pp)
{
    const char *p = *pp;
    size_t cap = strlen(p) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            out[n++] = *p;
        }
        if (*p == '"')
            p++;
    } else {
        while (*p && *p != ',' && !isspace((unsigned char)*p))
            out[n++] = *p++;
    }
    out[n] = '\0';
    *pp = p;
    return out;
}

static void set_param(struct challenge *c, const char *key, size_t klen, char *value)
{
    char **slot = NULL;
    if (klen == 5 && strncasecmp(key, "realm", 5) == 0)
        slot = &c->realm;
    else if (klen == 7 && strncasecmp(key, "service", 7) == 0)
        slot = &c->service;
    else if (klen == 5 && strncasecmp(key, "scope", 5) == 0)
        slot = &c->scope;
    if (!slot) {
        free(value);
        return;
    }
    free(*slot);
    *slot = value;
}

/* `Bearer realm="https://auth/token",service="reg",scope="repository:x:pull"` */
static int challenge_parse(const char *hdr, struct challenge *c)
{
    const char *p = hdr;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strcspn(p, " \t");
    c->scheme = strndup(p, n);
    if (!c->scheme)
        return -ENOMEM;
    for (char *s = c->scheme; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    p += n;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *key = p;
        size_t klen = strcspn(p, "= \t,");
        p += klen;
        if (*p != '=')
            continue;
        p++;
        char *value = parse_value(&p);
        if (!value)
            return -ENOMEM;
        set_param(c, key, klen, value);
    }
    return 0;
}

/* realm?service=S&scope=X, each value escaped. */
static char *token_url(CURL *h, const struct challenge *c, const char *scope)
{
    _cleanup_free_ char *q_service = NULL, *q_scope = NULL;
    char *url = NULL;
    if (c->service)
        q_service = curl_easy_escape(h, c->service, 0);
    if (scope)
        q_scope = curl_easy_escape(h, scope, 0);
    const char *sep = strchr(c->realm, '?') ? "&" : "?";
    if (asprintf(&url, "%s%s%s%s%s%s", c->realm, (q_service || q_scope) ? sep : "",
                 q_service ? "service=" : "", q_service ? q_service : "",
                 q_scope ? (q_service ? "&scope=" : "scope=") : "", q_scope ? q_scope : "") < 0)
        return NULL;
    return url;
}

/* The token in the realm's answer: "token", or OAuth2's "access_token". */
static char *token_from_json(const struct http_body *b)
{
    json_t *j = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    if (!t || !*t)
        t = json_string_value(json_object_get(j, "access_token"));
    char *out = t && *t ? strdup(t) : NULL;
    json_decref(j);
    return out;
}

static int token_fetch(struct registry *r, const struct challenge *c, const char *scope,
                       char **token, cell_err_t *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return cell_error(err, ENOMEM, "token from %s", c->realm);
    struct curl_slist *headers = NULL;
    struct http_body body = {.max = TOKEN_MAX};
    _cleanup_free_ char *url = token_url(h, c, scope);
    /* Only the realm's own answer counts: never send an old Authorization. */
    char *saved = TAKE_PTR(r->auth_header);
    registry_easy_setup(r, h, &headers);
    r->auth_header = saved;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    if (r->basic) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, r->basic);
    }
    CURLcode rc = url ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    _cleanup_free_ char *data = body.data;
    if (rc != CURLE_OK)
        return cell_error(err, 0, "token from %s: %s", c->realm, curl_easy_strerror(rc));
    if (status == 401 || status == 403)
        return cell_error(err, 0, "token from %s: unauthorized (HTTP %ld)", c->realm, status);
    if (status != 200)
        return cell_error(err, 0, "token from %s: HTTP %ld", c->realm, status);
    *token = token_from_json(&body);
    if (!*token)
        return cell_error(err, 0, "token from %s: no token in the answer", c->realm);
    return 0;
}

static int set_basic(struct registry *r, cell_err_t *err)
{
    if (!r->basic)
        return cell_error(err, 0,
                          "registry %s: unauthorized: authentication required "
                          "(no credentials: cell login %s)",
                          r->host, r->host);
    size_t n = strlen(r->basic);
    _cleanup_free_ char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64)
        return cell_error(err, ENOMEM, "registry %s", r->host);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)r->basic, (int)n);
    free(r->auth_header);
    r->auth_header = NULL;
    if (asprintf(&r->auth_header, "Authorization: Basic %s", b64) < 0)
        return cell_error(err, ENOMEM, "registry %s", r->host);
    return 0;
}

int registry_auth_answer(struct registry *r, const char *hdr, cell_err_t *err)
{
    struct challenge c = {0};
    if (challenge_parse(hdr, &c) < 0) {
        challenge_clear(&c);
        return cell_error(err, ENOMEM, "registry %s", r->host);
    }
    int ret;
    if (strcmp(c.scheme, "basic") == 0) {
        ret = set_basic(r, err);
    } else if (strcmp(c.scheme, "bearer") == 0 && c.realm) {
        _cleanup_free_ char *token = NULL, *own_scope = NULL;
        /* The API root's challenge has no scope; a pull needs the repository's. */
        if (!c.scope && *r->repo && asprintf(&own_scope, "repository:%s:pull", r->repo) < 0)
            own_scope = NULL;
        ret = token_fetch(r, &c, c.scope ? c.scope : own_scope, &token, err);
        free(r->auth_header);
        r->auth_header = NULL;
        if (ret == 0 && asprintf(&r->auth_header, "Authorization: Bearer %s", token) < 0)
            ret = cell_error(err, ENOMEM, "registry %s", r->host);
    } else {
        ret = cell_error(err, 0, "registry %s: unsupported authentication \"%s\"", r->host, hdr);
    }
    challenge_clear(&c);
    return ret;
}

#include "image/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_AGENT "cell/0.1"

size_t http_body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > b->max) {
        b->too_big = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    char *p = realloc(b->data, b->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, ptr, n);
    b->len += n;
    p[b->len] = '\0';
    b->data = p;
    return n;
}

/* The registry's own CA is trusted beside the system's (curl's default
 * CAPATH stays). A host without a system bundle (no ca-certificates)
 * leaves curl's compiled-in defaults pointing nowhere, and curl then
 * refuses every TLS connection, even one the registry's CA verifies: drop
 * a default that does not exist. */
static void set_trusted_cas(CURL *h, const char *ca_file)
{
    char *def_file = NULL, *def_dir = NULL;
    curl_easy_getinfo(h, CURLINFO_CAINFO, &def_file);
    curl_easy_getinfo(h, CURLINFO_CAPATH, &def_dir);
    if (def_dir && access(def_dir, R_OK | X_OK) < 0)
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    if (ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    else if (def_file && access(def_file, R_OK) < 0)
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
}

int registry_easy_setup(const struct registry *r, CURL *h, struct curl_slist **headers)
{
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for 60 s) fails instead of hanging. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
    set_trusted_cas(h, r->ca_file);
    if (r->auth_header) {
        struct curl_slist *l = curl_slist_append(*headers, r->auth_header);
        if (!l)
            return -ENOMEM;
        *headers = l;
    }
    return 0;
}

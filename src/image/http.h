/* HTTP plumbing the registry client and the token fetch share: how every
 * curl handle is set up for a registry, and a size-bounded body buffer.
 * It calls nothing of registry.c or auth.c, so neither depends on the
 * other through it. */
#pragma once

#include "image/registry.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* A response body in memory, NUL-terminated, refused past max bytes. */
struct http_body {
    char *data;
    size_t len;
    size_t max;
    bool too_big;
};

/* CURLOPT_WRITEFUNCTION for a struct http_body (CURLOPT_WRITEDATA); past
 * body->max it sets too_big and makes curl fail with CURLE_WRITE_ERROR. */
size_t http_body_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* Sets the options every request of r shares on h: TLS verification,
 * redirects, user agent, timeouts. headers is appended with the
 * Authorization header when r has one; the caller frees the list.
 * -ENOMEM when it cannot. */
int registry_easy_setup(const struct registry *r, CURL *h, struct curl_slist **headers);

/* Registry credentials: `cell login` / `cell logout`, and the file they
 * keep, in the format of Docker's config.json:
 *   {"auths": {"127.0.0.1:5000": {"auth": "<base64 of user:password>"}}}
 * cell's own file is --authfile, else $CELL_AUTH_FILE, else
 * ${XDG_CONFIG_HOME:-$HOME/.config}/cell/auth.json. Lookups fall back to
 * Docker's ${DOCKER_CONFIG:-$HOME/.docker}/config.json, so credentials from
 * `docker login` work too (credential helpers are not run). */
#pragma once

#include "base/error.h"

#include <stdbool.h>

/* The credentials file to use when none is given (allocated). */
char *cell_image_auth_file_default(void);

/* The key a registry is stored under: "docker.io" for Docker Hub in any of
 * its spellings ("index.docker.io", "https://index.docker.io/v1/"), else
 * the host[:port] without scheme or path. Allocated; NULL on ENOMEM. */
char *cell_image_auth_key(const char *registry);

/* Checks user/password against the registry (its /v2/ endpoint, answering
 * its challenge: basic, or a bearer token from its realm) and only then
 * stores them for the registry in auth_file (NULL: the default). An
 * unknown user or wrong password fails with "login to <host>: unauthorized". */
int cell_image_login(const char *auth_file, const char *registry, const char *user,
                     const char *password, bool tls_verify, cell_err_t *err);

/* Removes the stored credentials of registry; ENOENT "not logged in to x"
 * when there are none. */
int cell_image_logout(const char *auth_file, const char *registry, cell_err_t *err);

/* `cell login`: credentials are stored only once the registry accepted
 * them (the file itself is auth_file.c's). */
#include "image/auth.h"

#include "base/cleanup.h"
#include "image/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Asks the registry's API root with the credentials: 200 means they hold. */
static int login_check(const char *host, const char *creds, bool tls_verify, cell_err_t *err)
{
    struct registry_conf conf = {.tls_verify = tls_verify, .no_stored_auth = true};
    _cleanup_registry_ struct registry *r = NULL;
    if (registry_open(&r, host, "", &conf, err) < 0)
        return -1;
    free(r->basic);
    r->basic = strdup(creds);
    if (!r->basic)
        return cell_error(err, ENOMEM, "login to %s", host);
    struct registry_response resp = {0};
    int ret = registry_get(r, "", NULL, &resp, err);
    if (ret == 0 && resp.status != 200)
        ret = resp.status == 401 || resp.status == 403
                  ? cell_error(err, 0, "unauthorized (HTTP %ld)", resp.status)
                  : cell_error(err, 0, "HTTP %ld from /v2/", resp.status);
    registry_response_clear(&resp);
    if (ret < 0)
        return cell_error_prepend(err, "login to %s", host);
    return 0;
}

int cell_image_login(const char *auth_file, const char *registry, const char *user,
                     const char *password, bool tls_verify, cell_err_t *err)
{
    _cleanup_free_ char *key = cell_image_auth_key(registry);
    _cleanup_free_ char *creds = NULL;
    if (!key || asprintf(&creds, "%s:%s", user, password) < 0)
        return cell_error(err, ENOMEM, "login to %s", registry);
    if (strchr(user, ':') || !*user)
        return cell_error(err, 0, "login to %s: invalid user name \"%s\"", key, user);
    if (login_check(key, creds, tls_verify, err) < 0)
        return -1;
    return registry_auth_store(auth_file, key, creds, err);
}

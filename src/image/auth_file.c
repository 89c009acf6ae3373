/* The credentials file (Docker's config.json format): lookups, what
 * `login` stores once the registry accepted it (login.c), and `logout`. */
#include "image/auth.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "image/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *cell_image_auth_file_default(void)
{
    const char *env = getenv("CELL_AUTH_FILE");
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *out = NULL;
    if (xdg && *xdg) {
        if (asprintf(&out, "%s/cell/auth.json", xdg) < 0)
            return NULL;
    } else if (asprintf(&out, "%s/.config/cell/auth.json", home && *home ? home : "/root") < 0) {
        return NULL;
    }
    return out;
}

static char *docker_config_path(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    const char *home = getenv("HOME");
    char *out = NULL;
    if (dir && *dir) {
        if (asprintf(&out, "%s/config.json", dir) < 0)
            return NULL;
    } else if (asprintf(&out, "%s/.docker/config.json", home && *home ? home : "/root") < 0) {
        return NULL;
    }
    return out;
}

char *cell_image_auth_key(const char *registry)
{
    const char *p = registry;
    if (strncmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "http://", 7) == 0)
        p += 7;
    size_t n = strcspn(p, "/");
    if ((n == 15 && strncmp(p, "index.docker.io", n) == 0) ||
        (n == 20 && strncmp(p, "registry-1.docker.io", n) == 0))
        return strdup("docker.io");
    return strndup(p, n);
}

/* The parsed file, or an empty object when it does not exist. */
static int auth_load(const char *path, json_t **out, cell_err_t *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *out = json_object();
        return *out ? 0 : cell_error(err, ENOMEM, "credentials %s", path);
    }
    if (fd < 0)
        return cell_error(err, errno, "open credentials %s", path);
    json_error_t jerr;
    json_t *j = json_loadfd(fd, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return cell_error(err, 0, "credentials %s: not a JSON object (line %d: %s)", path,
                          jerr.line, jerr.text);
    }
    *out = j;
    return 0;
}

/* The "auths" entry whose key names host (any of Docker's spellings). */
static json_t *auths_find(json_t *auths, const char *host, const char **key_out)
{
    const char *key;
    json_t *v;
    json_object_foreach(auths, key, v)
    {
        _cleanup_free_ char *k = cell_image_auth_key(key);
        if (k && strcmp(k, host) == 0) {
            if (key_out)
                *key_out = key;
            return v;
        }
    }
    return NULL;
}

/* "user:password" from an entry's "auth" (base64), or its username/password. */
static char *entry_credentials(json_t *entry)
{
    const char *b64 = json_string_value(json_object_get(entry, "auth"));
    if (b64 && *b64) {
        size_t n = strlen(b64);
        unsigned char *raw = calloc(1, n + 1);
        int len = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) : -1;
        if (len < 0) {
            free(raw);
            return NULL;
        }
        /* EVP_DecodeBlock counts the padding as zero bytes; the string ends there. */
        return (char *)raw;
    }
    const char *u = json_string_value(json_object_get(entry, "username"));
    const char *p = json_string_value(json_object_get(entry, "password"));
    char *out = NULL;
    if (u && p && asprintf(&out, "%s:%s", u, p) < 0)
        return NULL;
    return out;
}

static int lookup_in(const char *path, const char *host, char **out, cell_err_t *err)
{
    json_t *j = NULL;
    if (auth_load(path, &j, err) < 0)
        return -1;
    json_t *entry = auths_find(json_object_get(j, "auths"), host, NULL);
    *out = entry ? entry_credentials(entry) : NULL;
    json_decref(j);
    if (*out && !strchr(*out, ':')) {
        free(*out);
        *out = NULL;
        return cell_error(err, 0, "credentials %s: entry for %s is not user:password", path, host);
    }
    return 0;
}

int registry_auth_lookup(const char *auth_file, const char *host, char **out, cell_err_t *err)
{
    _cleanup_free_ char *own = auth_file ? strdup(auth_file) : cell_image_auth_file_default();
    _cleanup_free_ char *key = cell_image_auth_key(host);
    if (!own || !key)
        return cell_error(err, ENOMEM, "credentials for %s", host);
    *out = NULL;
    if (lookup_in(own, key, out, err) < 0)
        return -1;
    if (*out || auth_file)
        return 0;
    _cleanup_free_ char *docker = docker_config_path();
    if (!docker || access(docker, F_OK) < 0)
        return 0;
    return lookup_in(docker, key, out, err);
}

/* Writes j to path atomically, 0600, making its directory (0700) if needed. */
static int auth_store(const char *path, json_t *j, cell_err_t *err)
{
    _cleanup_free_ char *data = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
    _cleanup_free_ char *dir = strdup(path);
    if (!data || !dir)
        return cell_error(err, ENOMEM, "credentials %s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        /* Only the last level: a missing $HOME is the caller's problem. */
        char *parent = strrchr(dir, '/');
        if (parent && parent != dir) {
            *parent = '\0';
            (void)mkdir(dir, 0700);
            *parent = '/';
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return cell_error(err, errno, "mkdir %s", dir);
    }
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "%s\n", data) < 0)
        return cell_error(err, ENOMEM, "credentials %s", path);
    int r = cell_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600);
    if (r < 0)
        return cell_error(err, -r, "write credentials %s", path);
    return 0;
}

static int set_entry(json_t *j, const char *key, const char *creds, cell_err_t *err)
{
    json_t *auths = json_object_get(j, "auths");
    if (!json_is_object(auths)) {
        auths = json_object();
        if (!auths || json_object_set_new(j, "auths", auths) < 0)
            return cell_error(err, ENOMEM, "credentials");
    }
    const char *old = NULL;
    if (auths_find(auths, key, &old))
        json_object_del(auths, old);
    size_t n = strlen(creds);
    _cleanup_free_ char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!b64)
        return cell_error(err, ENOMEM, "credentials");
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)creds, (int)n);
    if (json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64)) < 0)
        return cell_error(err, ENOMEM, "credentials");
    return 0;
}

int registry_auth_store(const char *auth_file, const char *key, const char *creds, cell_err_t *err)
{
    _cleanup_free_ char *path = auth_file ? strdup(auth_file) : cell_image_auth_file_default();
    if (!path)
        return cell_error(err, ENOMEM, "credentials for %s", key);
    json_t *j = NULL;
    if (auth_load(path, &j, err) < 0)
        return -1;
    int ret = set_entry(j, key, creds, err);
    if (ret == 0)
        ret = auth_store(path, j, err);
    json_decref(j);
    return ret;
}

int cell_image_logout(const char *auth_file, const char *registry, cell_err_t *err)
{
    _cleanup_free_ char *path = auth_file ? strdup(auth_file) : cell_image_auth_file_default();
    _cleanup_free_ char *key = cell_image_auth_key(registry);
    if (!path || !key)
        return cell_error(err, ENOMEM, "logout from %s", registry);
    json_t *j = NULL;
    if (auth_load(path, &j, err) < 0)
        return -1;
    const char *old = NULL;
    json_t *auths = json_object_get(j, "auths");
    int ret = 0;
    if (!auths_find(auths, key, &old))
        ret = cell_error(err, 0, "not logged in to %s", key);
    else if (json_object_del(auths, old) == 0)
        ret = auth_store(path, j, err);
    json_decref(j);
    return ret;
}

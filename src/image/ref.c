/* Image references as Docker reads them (distribution/reference's grammar):
 *   [domain[:port]/]path-component[/path-component...][:tag][@digest]
 * normalised to a full name with docker.io and "library/" as defaults. */
#include "image/image.h"

#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_TOTAL 255

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (!is_lower_alnum(s[i]))
            return false;
        while (i < len && is_lower_alnum(s[i]))
            i++;
        if (i == len)
            return true;
        size_t sep = i;
        while (i < len && (s[i] == '-'))
            i++;
        if (i == sep) {
            if (s[i] == '.' || s[i] == '_')
                i++;
            if (i < len && s[i] == '_' && s[i - 1] == '_')
                i++;
        }
        if (i == sep || i == len)
            return false;
    }
    return len > 0;
}

/* host components [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by '.',
 * or a bracketed IPv6 address; then an optional :port. */
static bool domain_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':')
                return false;
        if (i == len)
            return false;
        i++;
    } else {
        while (i < len && s[i] != ':') {
            size_t start = i;
            while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < len && s[i] == '.' && i + 1 < len && s[i + 1] != ':')
                i++;
            else if (i < len && s[i] != ':')
                return false;
        }
    }
    if (i < len) {
        if (s[i] != ':' || i + 1 == len)
            return false;
        for (i++; i < len; i++)
            if (!isdigit((unsigned char)s[i]))
                return false;
    }
    return true;
}

static bool tag_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 128 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static int bad(cell_err_t *err, const char *s, const char *why)
{
    return cell_error(err, 0, "invalid reference \"%s\": %s", s, why);
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
            return false;
    return true;
}

/* Splits "rest" (no digest) into name and tag at the last ':' after the
 * last '/'. */
static int split_tag(char *rest, char **tag)
{
    char *slash = strrchr(rest, '/');
    char *colon = strrchr(slash ? slash : rest, ':');
    *tag = NULL;
    if (colon) {
        *colon = '\0';
        *tag = colon + 1;
    }
    return 0;
}

/* Whether the first component of name names a registry, as Docker decides. */
static bool first_is_domain(const char *name, size_t len)
{
    if (len == 9 && strncmp(name, "localhost", 9) == 0)
        return true;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.' || name[i] == ':' || isupper((unsigned char)name[i]))
            return true;
    return false;
}

static int check_path(const char *s, const char *path, cell_err_t *err)
{
    for (const char *p = path; *p; p++)
        if (isupper((unsigned char)*p))
            return bad(err, s, "repository name must be lowercase");
    const char *c = path;
    while (true) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (!path_component_valid(c, n))
            return bad(err, s, "invalid repository name");
        if (!slash)
            return 0;
        c = slash + 1;
    }
}

static int set_name(struct cell_image_ref *ref, cell_err_t *err)
{
    int n =
        asprintf(&ref->name, "%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                 ref->tag ? ref->tag : "", ref->digest ? "@" : "", ref->digest ? ref->digest : "");
    if (n < 0) {
        ref->name = NULL;
        return cell_error(err, ENOMEM, "reference");
    }
    return 0;
}

static int split_domain(const char *s, char *name, struct cell_image_ref *ref, cell_err_t *err)
{
    char *slash = strchr(name, '/');
    const char *path = name;
    if (slash && first_is_domain(name, (size_t)(slash - name))) {
        if (!domain_valid(name, (size_t)(slash - name)))
            return bad(err, s, "invalid registry domain");
        ref->domain = strndup(name, (size_t)(slash - name));
        path = slash + 1;
    } else {
        ref->domain = strdup(CELL_IMAGE_DEFAULT_DOMAIN);
    }
    if (!ref->domain)
        return cell_error(err, ENOMEM, "reference");
    if (strcmp(ref->domain, "index.docker.io") == 0) {
        free(ref->domain);
        ref->domain = strdup(CELL_IMAGE_DEFAULT_DOMAIN);
    }
    bool library = ref->domain && strcmp(ref->domain, "docker.io") == 0 && !strchr(path, '/');
    if (asprintf(&ref->path, "%s%s", library ? "library/" : "", path) < 0) {
        ref->path = NULL;
        return cell_error(err, ENOMEM, "reference");
    }
    return 0;
}

static int parse(const char *s, struct cell_image_ref *ref, cell_err_t *err)
{
    if (!s[0])
        return bad(err, s, "empty");
    if (strlen(s) > 4096)
        return bad(err, s, "too long");
    _cleanup_free_ char *copy = strdup(s);
    if (!copy)
        return cell_error(err, ENOMEM, "reference");
    char *at = strchr(copy, '@');
    if (at) {
        *at = '\0';
        if (!cell_image_digest_valid(at + 1))
            return bad(err, s, "digest must be sha256:<64 lowercase hex digits>");
        ref->digest = strdup(at + 1);
    }
    char *tag;
    split_tag(copy, &tag);
    if (tag && !tag_valid(tag))
        return bad(err, s, "invalid tag");
    if (!copy[0])
        return bad(err, s, "missing repository name");
    if (is_hex64(copy))
        return bad(err, s, "a 64-digit hexadecimal string is an image ID, not a name");
    if (split_domain(s, copy, ref, err) < 0)
        return -1;
    if (check_path(s, ref->path, err) < 0)
        return -1;
    if (strlen(ref->domain) + 1 + strlen(ref->path) > NAME_MAX_TOTAL)
        return bad(err, s, "repository name longer than 255 characters");
    if (tag || !ref->digest)
        ref->tag = strdup(tag ? tag : CELL_IMAGE_DEFAULT_TAG);
    return set_name(ref, err);
}

int cell_image_ref_parse(const char *s, struct cell_image_ref *ref, cell_err_t *err)
{
    *ref = (struct cell_image_ref){0};
    int r = parse(s, ref, err);
    if (r < 0)
        cell_image_ref_clear(ref);
    return r;
}

void cell_image_ref_clear(struct cell_image_ref *ref)
{
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    free(ref->name);
    *ref = (struct cell_image_ref){0};
}

char *cell_image_ref_repository(const struct cell_image_ref *ref)
{
    char *s;
    if (asprintf(&s, "%s/%s", ref->domain, ref->path) < 0)
        return NULL;
    return s;
}

char *cell_image_ref_familiar(const char *full_name)
{
    const char *s = full_name;
    if (strncmp(s, "docker.io/", 10) == 0) {
        s += 10;
        if (strncmp(s, "library/", 8) == 0 && !strchr(s + 8, '/'))
            s += 8;
    }
    return strdup(s);
}

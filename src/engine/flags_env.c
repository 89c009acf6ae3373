/* -e, --env-file and --security-opt: values that carry text the container
 * gets as it is (environment) or files the flag names (env files, seccomp
 * profiles). */
#include "engine/flags.h"
#include "engine/flags_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- -e / --env --------------------------------------------------------- */

/* NAME alone takes this process's value; Docker leaves it out when unset. */
static int env_push(char ***env, const char *name, const char *line)
{
    if (strchr(line, '='))
        return cell_strv_push(env, line);
    const char *v = getenv(name);
    if (!v)
        return 0;
    _cleanup_free_ char *kv = NULL;
    if (asprintf(&kv, "%s=%s", name, v) < 0)
        return -ENOMEM;
    return cell_strv_push(env, kv);
}

int cell_flags_env(const char *s, char ***env, cell_err_t *err)
{
    size_t klen = strcspn(s, "=");
    if (klen == 0)
        return flag_error(err, 0, "env", s, "invalid environment variable: %s", s);
    _cleanup_free_ char *name = strndup(s, klen);
    if (!name || env_push(env, name, s) < 0)
        return cell_error(err, ENOMEM, "--env");
    return 0;
}

/* ---- --env-file ----------------------------------------------------------- */

/* Go's utf8.Valid. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3) { /* overlong, surrogates */
            unsigned cp = ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
        }
        if (len == 4) {
            unsigned cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3fu) << 12);
            if (cp < 0x10000 || cp > 0x10ffff)
                return false;
        }
        i += len;
    }
    return true;
}

/* The bytes as Go prints a []byte with %v: "[104 105 255]". */
static char *byte_list(const unsigned char *s, size_t n)
{
    char *out = malloc(n * 4 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '[';
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, i ? " %u" : "%u", s[i]);
    *o++ = ']';
    *o = '\0';
    return out;
}

static int env_file_error(cell_err_t *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int env_file_error(cell_err_t *err, const char *path, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cell_error(err, ENOMEM, "--env-file");
    return flag_error(err, 0, "env-file", path, "invalid env file (%s): %s", path, msg);
}

/* One line, without its newline; lineno counts from 1. */
static int env_file_line(const char *path, char *line, size_t len, unsigned lineno, char ***env,
                         cell_err_t *err)
{
    if (len && line[len - 1] == '\r') /* bufio.ScanLines drops it */
        line[--len] = '\0';
    if (!utf8_valid((unsigned char *)line, len)) {
        _cleanup_free_ char *bytes = byte_list((unsigned char *)line, len);
        return env_file_error(err, path, "invalid utf8 bytes at line %u: %s", lineno,
                              bytes ? bytes : "");
    }
    if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3;
    while (isspace((unsigned char)*line)) /* unicode.IsSpace, for the ASCII that matters */
        line++;
    if (!*line || *line == '#')
        return 0;
    size_t klen = strcspn(line, "=");
    if (klen == 0)
        return env_file_error(err, path, "no variable name on line '%s'", line);
    _cleanup_free_ char *name = strndup(line, klen);
    if (!name)
        return cell_error(err, ENOMEM, "--env-file");
    if (strpbrk(name, " \t"))
        return env_file_error(err, path, "variable '%s' contains whitespaces", name);
    if (env_push(env, name, line) < 0)
        return cell_error(err, ENOMEM, "--env-file");
    return 0;
}

int cell_flags_env_file(const char *path, char ***env, cell_err_t *err)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return flag_error(err, errno, "env-file", path, "open %s", path);
    /* Lines go into a copy: on error the caller's vector stays as it was. */
    _cleanup_strv_ char **out = NULL;
    for (size_t i = 0; env && *env && (*env)[i]; i++)
        if (cell_strv_push(&out, (*env)[i]) < 0)
            return cell_error(err, ENOMEM, "--env-file");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    for (unsigned lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (env_file_line(path, line, (size_t)n, lineno, &out, err) < 0)
            return -1;
    }
    if (ferror(f))
        return flag_error(err, EIO, "env-file", path, "read %s", path);
    cell_strv_free(*env);
    *env = TAKE_PTR(out);
    return 0;
}

/* ---- --security-opt ----------------------------------------------------- */

void cell_security_opts_clear(struct cell_security_opts *o)
{
    json_decref(o->seccomp_profile);
    free(o->seccomp_path);
    free(o->apparmor);
    free(o->label_user);
    free(o->label_role);
    free(o->label_type);
    free(o->label_level);
    *o = (struct cell_security_opts)CELL_SECURITY_OPTS_INIT;
}

static int replace(char **field, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int seccomp_opt(const char *s, const char *v, struct cell_security_opts *o, cell_err_t *err)
{
    if (strcmp(v, "unconfined") == 0 || strcmp(v, "builtin") == 0) {
        json_decref(o->seccomp_profile);
        o->seccomp_profile = NULL;
        o->seccomp = *v == 'u' ? CELL_SECCOMP_UNCONFINED : CELL_SECCOMP_DEFAULT;
        return 0;
    }
    _cleanup_fclose_ FILE *f = fopen(v, "re");
    if (!f)
        return flag_error(err, errno, "security-opt", s,
                          "opening seccomp profile (%s) failed: open %s", v, v);
    json_error_t je;
    json_t *profile = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    if (!profile)
        return flag_error(err, 0, "security-opt", s,
                          "compacting json for seccomp profile (%s) failed: line %d column %d: %s",
                          v, je.line, je.column, je.text);
    if (replace(&o->seccomp_path, v) < 0) {
        json_decref(profile);
        return cell_error(err, ENOMEM, "--security-opt");
    }
    json_decref(o->seccomp_profile);
    o->seccomp_profile = profile;
    o->seccomp = CELL_SECCOMP_PROFILE;
    return 0;
}

/* label=user:U etc.; go-selinux's accepted keys. */
static int label_opt(const char *s, const char *v, struct cell_security_opts *o, cell_err_t *err)
{
    if (strcmp(v, "disable") == 0) {
        o->label_disable = true;
        return 0;
    }
    static const char *const keys[] = {"user", "role", "type", "level"};
    char **fields[] = {&o->label_user, &o->label_role, &o->label_type, &o->label_level};
    const char *colon = strchr(v, ':');
    for (size_t i = 0; colon && colon[1] && i < ARRAY_SIZE(keys); i++)
        if (strlen(keys[i]) == (size_t)(colon - v) && strncmp(v, keys[i], (size_t)(colon - v)) == 0)
            return replace(fields[i], colon + 1) < 0 ? cell_error(err, ENOMEM, "--security-opt")
                                                     : 0;
    _cleanup_free_ char *q = go_quote(v);
    return flag_error(err, 0, "security-opt", s,
                      "bad label option %s, valid options 'disable' or 'user, role, level, type' "
                      "followed by ':' and a value",
                      q ? q : v);
}

int cell_flags_security_opt(const char *s, struct cell_security_opts *o, cell_err_t *err)
{
    _cleanup_free_ char *q = go_quote(s);
    if (!q)
        return cell_error(err, ENOMEM, "--security-opt");
    /* Docker's client: KEY=VALUE, else KEY:VALUE; only no-new-privileges
     * stands alone. */
    size_t klen = strcspn(s, "=");
    if (!s[klen] && strcmp(s, "no-new-privileges") != 0)
        klen = strcspn(s, ":");
    _cleanup_free_ char *k = strndup(s, klen);
    if (!k)
        return cell_error(err, ENOMEM, "--security-opt");
    const char *v = s[klen] ? s + klen + 1 : NULL;
    if (strcmp(k, "no-new-privileges") == 0) {
        bool b = true;
        if (v && !parse_go_bool(v, &b))
            return cell_error(err, 0, "invalid --security-opt 2: %s", q);
        o->no_new_privileges = b;
        return 0;
    }
    if (!v || !*v)
        return cell_error(err, 0, "invalid --security-opt: %s", q);
    if (strcmp(k, "seccomp") == 0)
        return seccomp_opt(s, v, o, err);
    if (strcmp(k, "label") == 0)
        return label_opt(s, v, o, err);
    if (strcmp(k, "apparmor") == 0)
        return replace(&o->apparmor, v) < 0 ? cell_error(err, ENOMEM, "--security-opt") : 0;
    if (strcmp(k, "systempaths") == 0 && strcmp(v, "unconfined") == 0) {
        o->systempaths_unconfined = true;
        return 0;
    }
    return cell_error(err, 0, "invalid --security-opt 2: %s", q);
}

/* -v, --mount and --tmpfs: mounts for the spec's "mounts" array, checked as
 * Docker's client and then its daemon check them. */
#include "engine/flags.h"
#include "engine/flags_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- paths ------------------------------------------------------------ */

/* Go's path.Clean: the shortest lexical equivalent ("/a//b/../c/." -> "/a/c"). */
static char *path_clean(const char *p)
{
    bool rooted = *p == '/';
    char *out = malloc(strlen(p) + 2);
    if (!out)
        return NULL;
    size_t o = 0, floor = 0; /* floor: where ".." may no longer back up */
    if (rooted)
        out[o++] = '/', floor = 1;
    for (const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* empty or "." element */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o > floor) {
                while (o > floor && out[o - 1] != '/')
                    o--;
                if (o > floor)
                    o--; /* the separator */
                else if (!rooted)
                    o = floor;
            } else if (!rooted) {
                if (o)
                    out[o++] = '/';
                memcpy(out + o, "..", 2);
                o += 2;
                floor = o;
            }
        } else {
            if (o > (rooted ? 1u : 0u))
                out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s += n + (s[n] == '/');
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

/* ./x and x made absolute against the working directory, then cleaned. */
static char *path_absolute(const char *p)
{
    if (*p == '/')
        return path_clean(p);
    char cwd[PATH_MAX];
    _cleanup_free_ char *joined = NULL;
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&joined, "%s/%s", cwd, p) < 0)
        return NULL;
    return path_clean(joined);
}

/* The daemon's checks of a mount destination; NULL when it is fine, else
 * Docker's reason (static or in buf). */
static const char *target_problem(const char *target, char *buf, size_t n)
{
    _cleanup_free_ char *clean = path_clean(target);
    if (clean && strcmp(clean, "/") == 0)
        return "invalid specification: destination can't be '/'";
    if (*target != '/') {
        snprintf(buf, n, "invalid mount path: '%s' mount path must be absolute", target);
        return buf;
    }
    return NULL;
}

static bool is_propagation(const char *s)
{
    static const char *const modes[] = {"private", "rprivate", "shared",
                                        "rshared", "slave",    "rslave"};
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
        if (strcmp(s, modes[i]) == 0)
            return true;
    return false;
}

/* {"destination","type":"bind","source","options":[bind|rbind, ro?, propagation]}. */
static json_t *bind_mount(const char *source, const char *target, bool recursive, const char *ro,
                          const char *propagation)
{
    _cleanup_free_ char *src = path_clean(source), *dst = path_clean(target);
    if (!src || !dst)
        return NULL;
    json_t *opts = json_pack("[s]", recursive ? "rbind" : "bind");
    if (opts && ro)
        json_array_append_new(opts, json_string(ro));
    if (opts)
        json_array_append_new(opts, json_string(propagation ? propagation : "rprivate"));
    return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", "bind", "source", src,
                     "options", opts);
}

/* Docker creates a missing -v source as a directory (and its parents). */
static int make_source_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(copy, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* ---- -v ------------------------------------------------------------------ */

/* Docker's linuxValidMountMode: at most one of each kind, nothing else. */
static bool volume_mode_valid(const char *mode, bool *ro, bool *nocopy, const char **propagation)
{
    static const char *const kinds[][6] = {
        {"rw", "ro"},
        {"z", "Z"},
        {"private", "rprivate", "shared", "rshared", "slave", "rslave"},
        {"nocopy"},
        {"consistent", "cached", "delegated"}};
    int seen[ARRAY_SIZE(kinds)] = {0};
    for (const char *o = mode; *o;) {
        size_t n = strcspn(o, ",");
        bool found = false;
        for (size_t k = 0; k < ARRAY_SIZE(kinds) && !found; k++)
            for (size_t i = 0; i < 6 && kinds[k][i] && !found; i++)
                if (strlen(kinds[k][i]) == n && strncmp(o, kinds[k][i], n) == 0) {
                    found = true;
                    if (seen[k]++)
                        return false;
                    if (k == 0)
                        *ro = i == 1;
                    if (k == 2)
                        *propagation = kinds[k][i];
                    if (k == 3)
                        *nocopy = true;
                }
        if (!found)
            return false;
        o += n + (o[n] == ',');
        if (o[-1] == ',' && !*o)
            return false; /* "ro," ends in an empty option */
    }
    return true;
}

static int volume_error(const char *s, int errnum, cell_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int volume_error(const char *s, int errnum, cell_err_t *err, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cell_error(err, ENOMEM, "--volume");
    return flag_error(err, errnum, "volume", s, "%s", msg);
}

/* The client's split (Docker's volumespec): no empty section, at most 3. */
static int volume_split(const char *s, char ***parts, cell_err_t *err)
{
    if (!*s)
        return volume_error(s, 0, err, "invalid empty volume spec");
    for (const char *p = s;; p++) {
        size_t n = strcspn(p, ":");
        _cleanup_free_ char *part = strndup(p, n);
        if (!part || cell_strv_push(parts, part) < 0)
            return cell_error(err, ENOMEM, "--volume");
        if (n == 0)
            return volume_error(s, 0, err, "invalid spec: %s: empty section between colons", s);
        p += n;
        if (!*p)
            break;
    }
    if (cell_strv_len(*parts) > 3)
        return volume_error(s, 0, err, "invalid spec: %s: too many colons", s);
    return 0;
}

int cell_flags_volume(const char *s, json_t **mount, cell_err_t *err)
{
    _cleanup_strv_ char **parts = NULL;
    if (volume_split(s, &parts, err) < 0)
        return -1;
    size_t n = cell_strv_len(parts);
    bool ro = false, nocopy = false;
    const char *propagation = NULL;
    if (n == 1)
        return volume_error(s, ENOTSUP, err, "anonymous volume %s (volumes are not in cell yet)",
                            s);
    if (n == 2 && volume_mode_valid(parts[1], &ro, &nocopy, &propagation))
        return volume_error(s, 0, err, "invalid volume specification: '%s'", s);
    if (n == 3 && !volume_mode_valid(parts[2], &ro, &nocopy, &propagation))
        return volume_error(s, 0, err, "invalid mode: %s", parts[2]);
    /* Docker's client makes ".", "./x" and ".x" absolute; any other source
     * that is not a path names a volume. */
    if (parts[0][0] != '/' && parts[0][0] != '.')
        return volume_error(s, ENOTSUP, err, "named volume %s (volumes are not in cell yet)",
                            parts[0]);
    _cleanup_free_ char *source = path_absolute(parts[0]);
    if (!source)
        return cell_error(err, errno ? errno : ENOMEM, "--volume %s", s);
    char buf[PATH_MAX + 64];
    const char *why = target_problem(parts[1], buf, sizeof(buf));
    if (!why && nocopy)
        why = "field VolumeOptions must not be specified";
    if (why)
        return volume_error(s, 0, err,
                            "invalid volume specification: '%s': invalid mount config for type "
                            "\"bind\": %s",
                            s, why);
    int r = make_source_dir(source);
    if (r < 0)
        return volume_error(s, -r, err, "mkdir %s", source);
    json_t *m = bind_mount(source, parts[1], true, ro ? "ro" : NULL, propagation);
    if (!m)
        return cell_error(err, ENOMEM, "--volume");
    *mount = m;
    return 0;
}

/* ---- --tmpfs and tmpfs mounts ------------------------------------------ */

/* Docker's MergeTmpfsOptions: options of one kind (the same mount flag, any
 * propagation, the same data key) keep only their last occurrence, in the
 * order of those last occurrences. Flag kinds are named by their pair. */
static const char *const tmpfs_flag_kinds[][3] = {{"ro", "rw"},
                                                  {"suid", "nosuid"},
                                                  {"dev", "nodev"},
                                                  {"exec", "noexec"},
                                                  {"sync", "async"},
                                                  {"dirsync"},
                                                  {"remount"},
                                                  {"mand", "nomand"},
                                                  {"atime", "noatime"},
                                                  {"diratime", "nodiratime"},
                                                  {"relatime", "norelatime"},
                                                  {"strictatime", "nostrictatime"},
                                                  {"bind", "rbind", "private"},
                                                  {"rprivate", "shared", "rshared"},
                                                  {"slave", "rslave"},
                                                  {"unbindable", "runbindable"}};
/* The four rows from "bind" on are one kind: propagation. */
#define TMPFS_PROPAGATION_ROW 12

static int tmpfs_kind(const char *opt, size_t n)
{
    for (size_t k = 0; k < ARRAY_SIZE(tmpfs_flag_kinds); k++)
        for (size_t i = 0; i < 3 && tmpfs_flag_kinds[k][i]; i++)
            if (strlen(tmpfs_flag_kinds[k][i]) == n && strncmp(opt, tmpfs_flag_kinds[k][i], n) == 0)
                return k >= TMPFS_PROPAGATION_ROW ? TMPFS_PROPAGATION_ROW : (int)k;
    return -1;
}

static bool same_kind(const char *a, const char *b)
{
    size_t an = strcspn(a, "="), bn = strcspn(b, "=");
    int ka = a[an] ? -1 : tmpfs_kind(a, an), kb = b[bn] ? -1 : tmpfs_kind(b, bn);
    if (ka >= 0 || kb >= 0)
        return ka == kb;
    return an == bn && strncmp(a, b, an) == 0;
}

static bool tmpfs_data_key_valid(const char *opt)
{
    static const char *const keys[] = {"",    "size",      "mode",      "uid",
                                       "gid", "nr_inodes", "nr_blocks", "mpol"};
    size_t n = strcspn(opt, "=");
    if (!opt[n])
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (strlen(keys[i]) == n && strncmp(opt, keys[i], n) == 0)
            return true;
    return false;
}

/* Go's %q of strings.SplitN(opt, "=", 2): ["foo"] or ["x" "1"]. */
static char *go_split_quote(const char *opt)
{
    size_t n = strcspn(opt, "=");
    _cleanup_free_ char *key = strndup(opt, n);
    _cleanup_free_ char *qk = key ? go_quote(key) : NULL;
    _cleanup_free_ char *qv = opt[n] ? go_quote(opt + n + 1) : NULL;
    char *out = NULL;
    if (!qk || (opt[n] && !qv) || asprintf(&out, "[%s%s%s]", qk, qv ? " " : "", qv ? qv : "") < 0)
        return NULL;
    return out;
}

/* Merges the defaults and the user's options (a comma-separated list, or
 * NULL) into a JSON array; *bad gets the first option Docker refuses. */
static json_t *tmpfs_options(const char *user, char **bad)
{
    _cleanup_strv_ char **all = NULL;
    static const char *const defaults[] = {"noexec", "nosuid", "nodev", "rprivate"};
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
        if (cell_strv_push(&all, defaults[i]) < 0)
            return NULL;
    for (const char *p = user; p;) {
        size_t n = strcspn(p, ",");
        _cleanup_free_ char *o = strndup(p, n);
        if (!o || cell_strv_push(&all, o) < 0)
            return NULL;
        p = p[n] ? p + n + 1 : NULL;
    }
    size_t count = cell_strv_len(all);
    json_t *out = json_array();
    for (size_t i = 0; out && i < count; i++) {
        const char *o = all[i];
        if (strcmp(o, "defaults") == 0)
            continue;
        size_t n = strcspn(o, "=");
        if (o[n] == '\0' ? tmpfs_kind(o, n) < 0 : !tmpfs_data_key_valid(o)) {
            *bad = go_split_quote(o);
            json_decref(out);
            return NULL;
        }
        bool later = false;
        for (size_t j = i + 1; j < count && !later; j++)
            later = strcmp(all[j], "defaults") != 0 && same_kind(o, all[j]);
        if (!later)
            json_array_append_new(out, json_string(o));
    }
    return out;
}

static json_t *tmpfs_mount(const char *target, const char *options, char **bad)
{
    _cleanup_free_ char *dst = path_clean(target);
    json_t *opts = dst ? tmpfs_options(options, bad) : NULL;
    if (!opts)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", "tmpfs", "source", "tmpfs",
                     "options", opts);
}

int cell_flags_tmpfs(const char *s, json_t **mount, cell_err_t *err)
{
    size_t n = strcspn(s, ":");
    _cleanup_free_ char *target = strndup(s, n);
    if (!target)
        return cell_error(err, ENOMEM, "--tmpfs");
    char buf[PATH_MAX + 64];
    const char *why = target_problem(target, buf, sizeof(buf));
    if (why)
        return flag_error(err, 0, "tmpfs", s, "%s", why);
    _cleanup_free_ char *bad = NULL;
    json_t *m = tmpfs_mount(target, s[n] && s[n + 1] ? s + n + 1 : NULL, &bad);
    if (!m && bad)
        return flag_error(err, 0, "tmpfs", s, "Invalid tmpfs option %s", bad);
    if (!m)
        return cell_error(err, ENOMEM, "--tmpfs");
    *mount = m;
    return 0;
}

/* ---- --mount -------------------------------------------------------------- */

struct mount_spec {
    char *type, *source, *target, *propagation;
    bool readonly, nonrecursive, ro_nonrecursive, ro_force_recursive;
    bool bind_opts, volume_opts, image_opts, tmpfs_opts;
    int64_t tmpfs_size;
    uint64_t tmpfs_mode;
};

static void mount_spec_clear(struct mount_spec *m)
{
    free(m->type);
    free(m->source);
    free(m->target);
    free(m->propagation);
}

/* Go's encoding/csv over one record: fields split at ',', a field that
 * starts with '"' is quoted ("" for a quote inside). */
static int csv_fields(const char *s, char ***fields, char **why)
{
    for (const char *p = s;;) {
        _cleanup_free_ char *f = malloc(strlen(p) + 1);
        size_t o = 0;
        if (!f)
            return -ENOMEM;
        if (*p == '"') {
            for (p++;; p++) {
                if (!*p || (*p == '"' && p[1] != '"' && p[1] != ',' && p[1])) {
                    return asprintf(why,
                                    "parse error on line 1, column %zu: extraneous or "
                                    "missing \" in quoted-field",
                                    (size_t)(p - s) + 1) < 0
                               ? -ENOMEM
                               : -EINVAL;
                }
                if (*p == '"' && p[1] == '"')
                    f[o++] = *p++;
                else if (*p == '"')
                    break;
                else
                    f[o++] = *p;
            }
            p++;
        } else {
            for (; *p && *p != ','; p++) {
                if (*p == '"')
                    return asprintf(why,
                                    "parse error on line 1, column %zu: bare \" in "
                                    "non-quoted-field",
                                    (size_t)(p - s) + 1) < 0
                               ? -ENOMEM
                               : -EINVAL;
                f[o++] = *p;
            }
        }
        f[o] = '\0';
        if (cell_strv_push(fields, f) < 0)
            return -ENOMEM;
        if (!*p)
            return 0;
        p++; /* the comma */
    }
}

static int mount_error(const char *s, int errnum, cell_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int mount_error(const char *s, int errnum, cell_err_t *err, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cell_error(err, ENOMEM, "--mount");
    return flag_error(err, errnum, "mount", s, "%s", msg);
}

static int set_string(char **field, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int mount_bool(const char *s, const char *key, const char *v, bool *out, cell_err_t *err)
{
    if (!parse_go_bool(v, out))
        return mount_error(s, 0, err, "invalid value for %s: %s", key, v);
    return 0;
}

/* A field with no '=': the options that stand alone. */
static int mount_flag_field(const char *s, const char *field, const char *key, struct mount_spec *m,
                            cell_err_t *err)
{
    if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0)
        m->readonly = true;
    else if (strcmp(key, "volume-nocopy") == 0)
        m->volume_opts = true;
    else if (strcmp(key, "bind-nonrecursive") == 0)
        m->bind_opts = m->nonrecursive = true;
    else
        return mount_error(s, 0, err, "invalid field '%s' must be a key=value pair", field);
    return 0;
}

static int mount_bind_recursive(const char *s, const char *v, struct mount_spec *m, cell_err_t *err)
{
    m->bind_opts = true;
    if (strcmp(v, "disabled") == 0)
        m->nonrecursive = true;
    else if (strcmp(v, "writable") == 0)
        m->ro_nonrecursive = true;
    else if (strcmp(v, "readonly") == 0)
        m->ro_force_recursive = true;
    else if (strcmp(v, "enabled") != 0)
        return mount_error(s, 0, err,
                           "invalid value for bind-recursive: %s (must be \"enabled\", "
                           "\"disabled\", \"writable\", or \"readonly\")",
                           v);
    return 0;
}

static int mount_tmpfs_field(const char *s, const char *key, const char *v, struct mount_spec *m,
                             cell_err_t *err)
{
    m->tmpfs_opts = true;
    if (strcmp(key, "tmpfs-size") == 0) {
        _cleanup_free_ char *why = NULL;
        if (ram_in_bytes(v, &m->tmpfs_size, &why) < 0)
            return mount_error(s, 0, err, "invalid value for %s: %s", key, v);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long mode = *v && *v != '-' && *v != '+' ? strtoull(v, &end, 8) : 0;
    if (!end || *end || errno || mode > UINT32_MAX)
        return mount_error(s, 0, err, "invalid value for %s: %s", key, v);
    m->tmpfs_mode = mode;
    return 0;
}

/* A KEY=VALUE field; key is already in lower case. */
static int mount_kv_field(const char *s, const char *field, const char *key, const char *v,
                          struct mount_spec *m, cell_err_t *err)
{
    int r = 0;
    if (strcmp(key, "type") == 0) {
        r = set_string(&m->type, v);
        for (char *p = m->type; r == 0 && *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
        bool rel = strcmp(v, ".") == 0 || strncmp(v, "./", 2) == 0;
        _cleanup_free_ char *abs = rel ? path_absolute(v) : NULL;
        r = set_string(&m->source, abs ? abs : v);
    } else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
               strcmp(key, "destination") == 0) {
        r = set_string(&m->target, v);
    } else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
        return mount_bool(s, key, v, &m->readonly, err);
    } else if (strcmp(key, "consistency") == 0) {
        /* macOS only; Docker takes it and Linux ignores it */
    } else if (strcmp(key, "bind-propagation") == 0) {
        m->bind_opts = true;
        r = set_string(&m->propagation, v);
        for (char *p = m->propagation; r == 0 && *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else if (strcmp(key, "bind-nonrecursive") == 0) {
        m->bind_opts = true;
        return mount_bool(s, key, v, &m->nonrecursive, err);
    } else if (strcmp(key, "bind-recursive") == 0) {
        return mount_bind_recursive(s, v, m, err);
    } else if (strcmp(key, "volume-nocopy") == 0) {
        bool b;
        m->volume_opts = true;
        if (!parse_go_bool(v, &b))
            return mount_error(s, 0, err, "invalid value for volume-nocopy: %s", v);
    } else if (strncmp(key, "volume-", 7) == 0 &&
               (strcmp(key + 7, "subpath") == 0 || strcmp(key + 7, "label") == 0 ||
                strcmp(key + 7, "driver") == 0 || strcmp(key + 7, "opt") == 0)) {
        m->volume_opts = true;
    } else if (strcmp(key, "image-subpath") == 0) {
        m->image_opts = true;
    } else if (strcmp(key, "tmpfs-size") == 0 || strcmp(key, "tmpfs-mode") == 0) {
        return mount_tmpfs_field(s, key, v, m, err);
    } else {
        return mount_error(s, 0, err, "unexpected key '%s' in '%s'", key, field);
    }
    return r < 0 ? cell_error(err, ENOMEM, "--mount") : 0;
}

static int mount_fields(const char *s, struct mount_spec *m, cell_err_t *err)
{
    _cleanup_strv_ char **fields = NULL;
    _cleanup_free_ char *why = NULL;
    int r = csv_fields(s, &fields, &why);
    if (r < 0)
        return r == -ENOMEM ? cell_error(err, ENOMEM, "--mount")
                            : mount_error(s, 0, err, "%s", why);
    for (size_t i = 0; fields[i]; i++) {
        const char *f = fields[i];
        size_t n = strcspn(f, "=");
        _cleanup_free_ char *key = strndup(f, n);
        if (!key)
            return cell_error(err, ENOMEM, "--mount");
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        r = f[n] ? mount_kv_field(s, f, key, f + n + 1, m, err)
                 : mount_flag_field(s, f, key, m, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The client's checks once every field is read. */
static int mount_check(const char *s, struct mount_spec *m, cell_err_t *err)
{
    static const struct {
        size_t offset;
        const char *prefix, *type;
    } mixes[] = {{offsetof(struct mount_spec, volume_opts), "volume", "volume"},
                 {offsetof(struct mount_spec, image_opts), "image", "image"},
                 {offsetof(struct mount_spec, bind_opts), "bind", "bind"},
                 {offsetof(struct mount_spec, tmpfs_opts), "tmpfs", "tmpfs"}};
    if (!*m->type)
        return mount_error(s, 0, err, "type is required");
    if (!m->target || !*m->target)
        return mount_error(s, 0, err, "target is required");
    for (size_t i = 0; i < ARRAY_SIZE(mixes); i++)
        if (*(bool *)((char *)m + mixes[i].offset) && strcmp(m->type, mixes[i].type) != 0)
            return mount_error(s, 0, err, "cannot mix '%s-*' options with mount type '%s'",
                               mixes[i].prefix, m->type);
    if ((m->ro_nonrecursive || m->ro_force_recursive) && !m->readonly)
        return mount_error(s, 0, err,
                           "option 'bind-recursive=%s' requires 'readonly' to be specified in "
                           "conjunction",
                           m->ro_nonrecursive ? "writable" : "readonly");
    if (m->ro_force_recursive && (!m->propagation || strcmp(m->propagation, "rprivate") != 0))
        return mount_error(s, 0, err,
                           "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' "
                           "to be specified in conjunction");
    return 0;
}

/* The daemon's checks of a bind, then the mount. */
static int mount_bind(const char *s, struct mount_spec *m, json_t **mount, cell_err_t *err)
{
    char buf[PATH_MAX + 64];
    const char *why = target_problem(m->target, buf, sizeof(buf));
    if (!why && (!m->source || !*m->source))
        why = "field Source must not be empty";
    if (!why && m->propagation && !is_propagation(m->propagation))
        why = (snprintf(buf, sizeof(buf), "invalid propagation mode: %s", m->propagation), buf);
    if (!why && *m->source != '/')
        why = (snprintf(buf, sizeof(buf), "invalid mount path: '%s' mount path must be absolute",
                        m->source),
               buf);
    struct stat st;
    if (!why && stat(m->source, &st) < 0)
        why = (snprintf(buf, sizeof(buf), "bind source path does not exist: %s", m->source), buf);
    if (why)
        return mount_error(s, 0, err, "invalid mount config for type \"bind\": %s", why);
    /* bind-recursive=readonly asks for a recursively read-only mount (rro). */
    const char *ro = m->readonly ? (m->ro_force_recursive ? "rro" : "ro") : NULL;
    json_t *j = bind_mount(m->source, m->target, !m->nonrecursive, ro, m->propagation);
    if (!j)
        return cell_error(err, ENOMEM, "--mount");
    *mount = j;
    return 0;
}

/* Docker's ConvertTmpfsOptions, then --tmpfs's defaults around it. */
static int mount_tmpfs(const char *s, struct mount_spec *m, json_t **mount, cell_err_t *err)
{
    char buf[PATH_MAX + 64];
    const char *why = target_problem(m->target, buf, sizeof(buf));
    if (!why && m->source && *m->source)
        why = "field Source must not be specified";
    if (why)
        return mount_error(s, 0, err, "invalid mount config for type \"tmpfs\": %s", why);
    char opts[96] = "";
    size_t o = 0;
    if (m->readonly)
        o += (size_t)snprintf(opts + o, sizeof(opts) - o, "ro,");
    if (m->tmpfs_mode)
        o += (size_t)snprintf(opts + o, sizeof(opts) - o, "mode=%llo,",
                              (unsigned long long)m->tmpfs_mode);
    if (m->tmpfs_size) {
        static const struct {
            char suffix;
            int shift;
        } units[] = {{'g', 30}, {'m', 20}, {'k', 10}};
        int64_t size = m->tmpfs_size;
        char suffix = 0;
        for (size_t i = 0; i < ARRAY_SIZE(units) && !suffix; i++)
            if (size % ((int64_t)1 << units[i].shift) == 0) {
                size >>= units[i].shift;
                suffix = units[i].suffix;
            }
        o += (size_t)snprintf(opts + o, sizeof(opts) - o, suffix ? "size=%lld%c," : "size=%lld,",
                              (long long)size, suffix);
    }
    if (o)
        opts[o - 1] = '\0';
    _cleanup_free_ char *bad = NULL;
    json_t *j = tmpfs_mount(m->target, o ? opts : NULL, &bad);
    if (!j)
        return cell_error(err, ENOMEM, "--mount");
    *mount = j;
    return 0;
}

int cell_flags_mount(const char *s, json_t **mount, cell_err_t *err)
{
    __attribute__((cleanup(mount_spec_clear))) struct mount_spec m = {0};
    if (set_string(&m.type, "volume") < 0) /* Docker's default type */
        return cell_error(err, ENOMEM, "--mount");
    if (mount_fields(s, &m, err) < 0 || mount_check(s, &m, err) < 0)
        return -1;
    if (strcmp(m.type, "bind") == 0)
        return mount_bind(s, &m, mount, err);
    if (strcmp(m.type, "tmpfs") == 0)
        return mount_tmpfs(s, &m, mount, err);
    if (strcmp(m.type, "volume") == 0 || strcmp(m.type, "image") == 0)
        return mount_error(s, ENOTSUP, err, "mount type %s (not in cell yet)", m.type);
    return mount_error(s, 0, err, "invalid mount config for type \"%s\": mount type unknown",
                       m.type);
}

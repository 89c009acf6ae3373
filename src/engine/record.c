/* The engine's root and its container records: containers/<id>/record.json,
 * written whole by rename, guarded by a flock on the container's directory. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "image/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_FILE "record.json"

static int open_subdir(int rootfd, const char *root, const char *name, cell_err_t *err)
{
    if (mkdirat(rootfd, name, 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "create %s/%s", root, name);
    int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cell_error(err, errno, "open %s/%s", root, name);
    return fd;
}

static char *absolute_root(const char *root)
{
    if (!root)
        root = getenv("CELL_ROOT");
    if (!root || !*root)
        root = CELL_IMAGE_DEFAULT_ROOT;
    if (root[0] == '/')
        return strdup(root);
    char cwd[PATH_MAX];
    char *out = NULL;
    if (getcwd(cwd, sizeof cwd) && asprintf(&out, "%s/%s", cwd, root) < 0)
        out = NULL;
    return out;
}

int cell_engine_open(const char *root, struct cell_engine **out, cell_err_t *err)
{
    struct cell_engine *e = calloc(1, sizeof *e);
    if (!e)
        return cell_error(err, ENOMEM, "engine");
    e->rootfd = e->containersfd = e->namesfd = -1;
    e->root = absolute_root(root);
    if (!e->root || asprintf(&e->runtime_root, "%s/runtime", e->root) < 0) {
        e->runtime_root = NULL;
        cell_engine_close(e);
        return cell_error(err, ENOMEM, "engine root");
    }
    if (mkdir(e->root, 0700) < 0 && errno != EEXIST) {
        cell_error(err, errno, "create %s", e->root);
        cell_engine_close(e);
        return -1;
    }
    e->rootfd = open(e->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e->rootfd < 0) {
        cell_error(err, errno, "open %s", e->root);
        cell_engine_close(e);
        return -1;
    }
    if ((e->containersfd = open_subdir(e->rootfd, e->root, "containers", err)) < 0 ||
        (e->namesfd = open_subdir(e->rootfd, e->root, "names", err)) < 0) {
        cell_engine_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

void cell_engine_close(struct cell_engine *e)
{
    if (!e)
        return;
    if (e->store)
        cell_image_store_close(e->store);
    cell_closep(&e->rootfd);
    cell_closep(&e->containersfd);
    cell_closep(&e->namesfd);
    free(e->root);
    free(e->runtime_root);
    free(e);
}

int cell_engine_store(struct cell_engine *e, struct cell_image_store **out, cell_err_t *err)
{
    if (!e->store && cell_image_store_open(e->root, &e->store, err) < 0)
        return -1;
    *out = e->store;
    return 0;
}

/* ---- records -------------------------------------------------------------- */

static int read_record(int dirfd, const char *path, json_t **out);

int cell_ctr_open(struct cell_engine *e, const char *id, bool lock, struct cell_ctr *out,
                  cell_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->dirfd = -1;
    if (!cell_engine_id_valid(id))
        return cell_error(err, 0, "No such container: %s", id);
    snprintf(out->id, sizeof out->id, "%s", id);
    out->dirfd = openat(e->containersfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->dirfd < 0)
        return cell_error(err, errno == ENOENT ? 0 : errno, "No such container: %s", id);
    if (lock) {
        while (flock(out->dirfd, LOCK_EX) < 0)
            if (errno != EINTR) {
                cell_error(err, errno, "lock container %s", id);
                cell_ctr_close(out);
                return -1;
            }
        out->locked = true;
    }
    int r = read_record(out->dirfd, RECORD_FILE, &out->rec);
    if (r < 0) {
        /* A run killed before its first record write: the directory is all
         * there is, and rm -f must still be able to clear it. */
        out->rec = json_pack("{s:s, s:{s:s}}", "Id", id, "State", "Status", "dead");
        if (r != -ENOENT && r != -EINVAL) {
            cell_error(err, -r, "read record of container %s", id);
            cell_ctr_close(out);
            return -1;
        }
    }
    return 0;
}

/* open, one read, close: a record is a few KiB, and `ps` reads one per
 * container. The rest with cell_read_all when it is larger. */
static int read_record(int dirfd, const char *path, json_t **out)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char buf[16384];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    json_error_t jerr;
    if ((size_t)n < sizeof buf) {
        *out = json_loadb(buf, (size_t)n, JSON_ALLOW_NUL, &jerr);
        return *out ? 0 : -EINVAL;
    }
    _cleanup_free_ char *rest = NULL;
    size_t len = 0;
    int r = cell_read_all(fd, &rest, &len);
    if (r < 0)
        return r;
    _cleanup_free_ char *all = malloc((size_t)n + len + 1);
    if (!all)
        return -ENOMEM;
    memcpy(all, buf, (size_t)n);
    memcpy(all + n, rest, len);
    *out = json_loadb(all, (size_t)n + len, JSON_ALLOW_NUL, &jerr);
    return *out ? 0 : -EINVAL;
}

int cell_ctr_peek(struct cell_engine *e, const char *id, struct cell_ctr *out, cell_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->dirfd = -1;
    if (!cell_engine_id_valid(id))
        return cell_error(err, 0, "No such container: %s", id);
    snprintf(out->id, sizeof out->id, "%s", id);
    char path[CELL_ENGINE_ID_SIZE + sizeof "/" RECORD_FILE];
    snprintf(path, sizeof path, "%s/" RECORD_FILE, id);
    int r = read_record(e->containersfd, path, &out->rec);
    if (r == -ENOENT || r == -EINVAL) {
        struct stat st;
        if (fstatat(e->containersfd, id, &st, 0) < 0)
            return cell_error(err, 0, "No such container: %s", id);
        out->rec = json_pack("{s:s, s:{s:s}}", "Id", id, "State", "Status", "dead");
        return 0;
    }
    return r < 0 ? cell_error(err, -r, "read record of container %s", id) : 0;
}

int cell_ctr_save(struct cell_ctr *c, cell_err_t *err)
{
    _cleanup_free_ char *text = json_dumps(c->rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return cell_error(err, ENOMEM, "record of container %s", c->id);
    int r = cell_write_file_atomic_at(c->dirfd, RECORD_FILE, text, strlen(text), 0600);
    if (r < 0)
        return cell_error(err, -r, "write record of container %s", c->id);
    return 0;
}

void cell_ctr_close(struct cell_ctr *c)
{
    cell_closep(&c->dirfd); /* drops the flock */
    c->dirfd = -1;
    c->locked = false;
    json_decref(c->rec);
    c->rec = NULL;
}

int cell_ctr_list(struct cell_engine *e, char ***ids, cell_err_t *err)
{
    int fd = dup(e->containersfd);
    if (fd < 0)
        return cell_error(err, errno, "list containers");
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return cell_error(err, errno, "list containers");
    }
    rewinddir(d);
    size_t n = 0, cap = 16;
    _cleanup_strv_ char **v = calloc(cap + 1, sizeof *v);
    if (!v)
        return cell_error(err, ENOMEM, "list containers");
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!cell_engine_id_valid(de->d_name))
            continue;
        if (n == cap) {
            char **nv = realloc(v, (2 * cap + 1) * sizeof *v);
            if (!nv)
                return cell_error(err, ENOMEM, "list containers");
            v = nv;
            cap *= 2;
        }
        if (!(v[n++] = strdup(de->d_name)))
            return cell_error(err, ENOMEM, "list containers");
        v[n] = NULL;
    }
    v[n] = NULL;
    *ids = TAKE_PTR(v);
    return 0;
}

/* ---- names ---------------------------------------------------------------- */

static int name_lookup(struct cell_engine *e, const char *name, char id[CELL_ENGINE_ID_SIZE])
{
    ssize_t n = readlinkat(e->namesfd, name, id, CELL_ENGINE_ID_SIZE);
    if (n != CELL_ENGINE_ID_LEN)
        return -ENOENT;
    id[n] = 0;
    return cell_engine_id_valid(id) ? 0 : -ENOENT;
}

static bool container_exists(struct cell_engine *e, const char *id)
{
    struct stat st;
    return fstatat(e->containersfd, id, &st, 0) == 0;
}

int cell_name_claim(struct cell_engine *e, const char *name, const char *id, cell_err_t *err)
{
    if (!cell_engine_name_valid(name))
        return cell_error(err, 0,
                          "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                          name);
    for (int tries = 0; tries < 8; tries++) {
        if (symlinkat(id, e->namesfd, name) == 0)
            return 0;
        if (errno != EEXIST)
            return cell_error(err, errno, "claim name \"%s\"", name);
        char owner[CELL_ENGINE_ID_SIZE];
        if (name_lookup(e, name, owner) == 0 && container_exists(e, owner))
            return cell_error(err, 0,
                              "Conflict. The container name \"/%s\" is already in use by "
                              "container \"%s\". You have to remove (or rename) that container "
                              "to be able to reuse that name.",
                              name, owner);
        /* Stale: its container is gone. Replace it by rename, which is
         * atomic, from a link of our own. */
        char tmp[CELL_ENGINE_ID_SIZE + 8];
        snprintf(tmp, sizeof tmp, ".%s", id);
        unlinkat(e->namesfd, tmp, 0);
        if (symlinkat(id, e->namesfd, tmp) < 0)
            return cell_error(err, errno, "claim name \"%s\"", name);
        char again[CELL_ENGINE_ID_SIZE];
        if (name_lookup(e, name, again) == 0 && strcmp(again, owner) != 0) {
            unlinkat(e->namesfd, tmp, 0);
            continue; /* someone else took it meanwhile: look again */
        }
        if (renameat(e->namesfd, tmp, e->namesfd, name) == 0)
            return 0;
        unlinkat(e->namesfd, tmp, 0);
    }
    return cell_error(err, EBUSY, "claim name \"%s\"", name);
}

int cell_name_release(struct cell_engine *e, const char *name, const char *id)
{
    char owner[CELL_ENGINE_ID_SIZE];
    if (!name || name_lookup(e, name, owner) < 0 || strcmp(owner, id) != 0)
        return 0;
    return unlinkat(e->namesfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/* ---- finding a container ----------------------------------------------------- */

static int find_by_prefix(struct cell_engine *e, const char *prefix, char id[CELL_ENGINE_ID_SIZE],
                          cell_err_t *err)
{
    _cleanup_strv_ char **ids = NULL;
    if (cell_ctr_list(e, &ids, err) < 0)
        return -1;
    size_t len = strlen(prefix), hits = 0;
    for (char **p = ids; *p; p++)
        if (strncmp(*p, prefix, len) == 0) {
            if (hits++ == 0)
                snprintf(id, CELL_ENGINE_ID_SIZE, "%s", *p);
        }
    if (hits == 1)
        return 0;
    if (hits > 1)
        return cell_error(err, 0, "multiple IDs found with provided prefix: %s", prefix);
    return cell_error(err, 0, "No such container: %s", prefix);
}

int cell_ctr_find(struct cell_engine *e, const char *name_or_id, char id[CELL_ENGINE_ID_SIZE],
                  cell_err_t *err)
{
    const char *s = name_or_id;
    if (!s || !*s)
        return cell_error(err, 0, "No such container: %s", s ? s : "");
    if (cell_engine_id_valid(s) && container_exists(e, s)) {
        snprintf(id, CELL_ENGINE_ID_SIZE, "%s", s);
        return 0;
    }
    /* Docker prints names with a leading slash and accepts them so. */
    const char *name = s[0] == '/' ? s + 1 : s;
    if (cell_engine_name_valid(name) && name_lookup(e, name, id) == 0 && container_exists(e, id))
        return 0;
    if (strspn(s, "0123456789abcdef") == strlen(s))
        return find_by_prefix(e, s, id, err);
    return cell_error(err, 0, "No such container: %s", s);
}

int cell_ctr_open_name(struct cell_engine *e, const char *name_or_id, bool lock,
                       struct cell_ctr *out, cell_err_t *err)
{
    char id[CELL_ENGINE_ID_SIZE];
    memset(out, 0, sizeof *out);
    out->dirfd = -1;
    if (cell_ctr_find(e, name_or_id, id, err) < 0)
        return -1;
    return cell_ctr_open(e, id, lock, out, err);
}

/* ---- times ------------------------------------------------------------------ */

void cell_engine_time_format(const struct timespec *ts, char buf[40])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 40 - n, ".%09ldZ", ts->tv_nsec);
}

char *cell_engine_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char buf[40];
    cell_engine_time_format(&ts, buf);
    return strdup(buf);
}

/* The content store's directories and its lock. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int open_subdir(int dirfd, const char *root, const char *name, int *out, cell_err_t *err)
{
    if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "mkdir %s/%s", root, name);
    *out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*out < 0)
        return cell_error(err, errno, "open %s/%s", root, name);
    return 0;
}

static int make_root(const char *root, cell_err_t *err)
{
    /* Parents of the root as mkdir -p; the root itself private to root. */
    _cleanup_free_ char *p = strdup(root);
    if (!p)
        return cell_error(err, ENOMEM, "store root");
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return cell_error(err, errno, "mkdir %s", p);
        *c = '/';
    }
    if (mkdir(root, 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "mkdir %s", root);
    return 0;
}

/* A records file a killed writer left half written ("images.json.tmp.PID",
 * never renamed), removed while nobody holds the records lock. */
static void clean_records_tmp(struct cell_image_store *s)
{
    _cleanup_close_ int lockfd =
        openat(s->dirfd, "images.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0)
        return;
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strncmp(e->d_name, "images.json.tmp.", 16) == 0)
            unlinkat(s->dirfd, e->d_name, 0);
}

/* What a killed writer left in tmp/ is removed only when nobody holds the
 * store lock: writers hold it shared while their entries are in tmp/. */
static void clean_tmp(struct cell_image_store *s)
{
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0)
        return;
    _cleanup_closedir_ DIR *d = NULL;
    int fd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && (d = fdopendir(fd)) == NULL)
        close(fd);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            cell_rm_rf_at(s->tmpfd, e->d_name);
    flock(s->lockfd, LOCK_UN);
    clean_records_tmp(s);
}

static int open_dirs(struct cell_image_store *s, cell_err_t *err)
{
    s->dirfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
        return cell_error(err, errno, "open %s", s->root);
    if (mkdirat(s->dirfd, "blobs", 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "mkdir %s/blobs", s->root);
    if (open_subdir(s->dirfd, s->root, "blobs/sha256", &s->blobsfd, err) < 0 ||
        open_subdir(s->dirfd, s->root, "layers", &s->layersfd, err) < 0 ||
        open_subdir(s->dirfd, s->root, "snapshots", &s->snapsfd, err) < 0 ||
        open_subdir(s->dirfd, s->root, "tmp", &s->tmpfd, err) < 0)
        return -1;
    s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lockfd < 0)
        return cell_error(err, errno, "open %s/lock", s->root);
    return 0;
}

int cell_image_store_open(const char *root, struct cell_image_store **out, cell_err_t *err)
{
    if (!root)
        root = CELL_IMAGE_DEFAULT_ROOT;
    _cleanup_free_ char *cwd = root[0] == '/' ? NULL : get_current_dir_name();
    if (root[0] != '/' && !cwd)
        return cell_error(err, errno, "store root %s: current directory", root);
    struct cell_image_store *s = calloc(1, sizeof *s);
    if (s && cwd && asprintf(&s->root, "%s/%s", cwd, root) < 0)
        s->root = NULL;
    else if (s && !cwd)
        s->root = strdup(root);
    if (!s || !s->root) {
        free(s);
        return cell_error(err, ENOMEM, "store");
    }
    s->dirfd = s->blobsfd = s->layersfd = s->snapsfd = s->tmpfd = s->lockfd = -1;
    if (make_root(s->root, err) < 0 || open_dirs(s, err) < 0) {
        cell_image_store_close(s);
        return cell_error_prepend(err, "image store");
    }
    clean_tmp(s);
    *out = s;
    return 0;
}

void cell_image_store_close(struct cell_image_store *s)
{
    if (!s)
        return;
    int fds[] = {s->dirfd, s->blobsfd, s->layersfd, s->snapsfd, s->tmpfd, s->lockfd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(s->root);
    free(s);
}

const char *cell_image_store_root(const struct cell_image_store *s)
{
    return s->root;
}

int cell_image_store_dirfd(const struct cell_image_store *s)
{
    return s->dirfd;
}

int cell_image_store_lock(struct cell_image_store *s, bool exclusive, cell_err_t *err)
{
    enum store_lock want = exclusive ? STORE_EXCLUSIVE : STORE_SHARED;
    if (s->lock == want)
        return 0;
    while (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR)
            return cell_error(err, errno, "lock %s/lock", s->root);
    s->lock = want;
    return 0;
}

void cell_image_store_unlock(struct cell_image_store *s)
{
    if (s->lock != STORE_UNLOCKED)
        flock(s->lockfd, LOCK_UN);
    s->lock = STORE_UNLOCKED;
}

int image_store_hold(struct cell_image_store *s, cell_err_t *err)
{
    if (s->lock != STORE_UNLOCKED)
        return 0;
    return cell_image_store_lock(s, false, err);
}

void image_tmp_name(char buf[64], const char *what)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, 64, "%s-%d-%u-%ld", what, getpid(), counter++, (long)ts.tv_nsec);
}

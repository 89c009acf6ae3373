#include "base/path.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

static bool have_openat2 = true;

/* Userspace fallback for kernels without openat2 (before 5.6): walks one
 * component at a time with O_NOFOLLOW, expanding symlinks itself and
 * clamping ".." at the root, which is what RESOLVE_IN_ROOT does. */
static int walk_in_root(int rootfd, const char *rel, int flags)
{
    char buf[PATH_MAX * 2];
    if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    int links = 0;
    _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_CLOEXEC);
    if (cur < 0)
        return -errno;
    char *p = buf;
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        char *slash = strchr(p, '/');
        bool last = !slash;
        if (slash)
            *slash = '\0';
        char *next = last ? p + strlen(p) : slash + 1;
        if (!strcmp(p, ".")) {
            p = next;
            continue;
        }
        if (!strcmp(p, "..")) {
            struct stat a, b;
            if (fstat(cur, &a) < 0 || fstat(rootfd, &b) < 0)
                return -errno;
            if (!(a.st_dev == b.st_dev && a.st_ino == b.st_ino)) {
                int up = openat(cur, "..", O_PATH | O_CLOEXEC);
                if (up < 0)
                    return -errno;
                close(cur);
                cur = up;
            }
            p = next;
            continue;
        }
        struct stat st;
        if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT && last && (flags & O_CREAT)) {
                int fd = openat(cur, p, (flags | O_CLOEXEC | O_NOFOLLOW), 0644);
                return fd < 0 ? -errno : fd;
            }
            return -errno;
        }
        if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
            if (++links > MAX_SYMLINKS)
                return -ELOOP;
            char target[PATH_MAX];
            ssize_t n = readlinkat(cur, p, target, sizeof target - 1);
            if (n < 0)
                return -errno;
            target[n] = '\0';
            char rest[PATH_MAX * 2];
            /* No slash after a last component: it may name a file. */
            int len = last ? snprintf(rest, sizeof rest, "%s", target)
                           : snprintf(rest, sizeof rest, "%s/%s", target, next);
            if (len >= (int)sizeof rest)
                return -ENAMETOOLONG;
            if (target[0] == '/') {
                int r = openat(rootfd, ".", O_PATH | O_CLOEXEC);
                if (r < 0)
                    return -errno;
                close(cur);
                cur = r;
            }
            strcpy(buf, rest);
            p = buf;
            continue;
        }
        int nfd = openat(cur, p, last ? (flags | O_NOFOLLOW | O_CLOEXEC) : O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (nfd < 0)
            return -errno;
        close(cur);
        cur = nfd;
        if (last)
            return TAKE_FD(cur);
        p = next;
    }
    /* The path named the root itself (or "."): reopen it with the flags. */
    int fd = openat(cur, ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cell_openat_in_root(int rootfd, const char *rel, int flags)
{
    if (have_openat2) {
        struct open_how how = {
            .flags = (unsigned long long)(flags | O_CLOEXEC),
            .mode = (flags & O_CREAT) ? 0644 : 0,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        const char *p = rel;
        while (*p == '/')
            p++;
        /* EAGAIN: a rename or mount anywhere on the system raced with a ".."
         * and the kernel could not prove it stayed inside; it asks for a
         * retry (openat2(2)). */
        long fd;
        int tries = 0;
        do
            fd = syscall(SYS_openat2, rootfd, *p ? p : ".", &how, sizeof how);
        while (fd < 0 && errno == EAGAIN && ++tries < 128);
        if (fd >= 0)
            return (int)fd;
        if (errno != ENOSYS)
            return -errno;
        have_openat2 = false;
    }
    return walk_in_root(rootfd, rel, flags);
}

int cell_open_in_root(int rootfd, const char *rel, int flags, cell_err_t *err)
{
    int fd = cell_openat_in_root(rootfd, rel, flags);
    if (fd < 0)
        return cell_error(err, -fd, "open %s in container root", rel);
    return fd;
}

int cell_path_split(const char *path, char **parent, const char **leaf)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    _cleanup_free_ char *copy = strndup(path, len);
    if (!copy)
        return -ENOMEM;
    char *slash = strrchr(copy, '/');
    *leaf = path + (slash ? (size_t)(slash - copy) + 1 : 0);
    if (!slash) {
        *parent = strdup(".");
    } else if (slash == copy) {
        *parent = strdup("/");
    } else {
        *slash = '\0';
        *parent = TAKE_PTR(copy);
    }
    return *parent ? 0 : -ENOMEM;
}

int cell_path_is_absolute(const char *path)
{
    return path && path[0] == '/';
}

static int make_in_root(int rootfd, const char *rel, bool as_dir, mode_t mode, int depth);

/* name in dfd (the in-root directory parent) is a symlink whose target is
 * missing, as an image's /etc/resolv.conf -> ../run/... often is: make the
 * target instead, resolved inside the root like the link itself. */
static int make_link_target(int rootfd, int dfd, const char *name, const char *parent, bool as_dir,
                            mode_t mode, int depth)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
    if (n < 0)
        return errno == EINVAL ? -ENOENT : -errno; /* not a symlink */
    target[n] = '\0';
    _cleanup_free_ char *next = NULL;
    if (asprintf(&next, "%s/%s", target[0] == '/' ? "" : parent, target) < 0)
        return -ENOMEM;
    return make_in_root(rootfd, next, as_dir, mode, depth + 1);
}

/* Ensures rel exists inside the root, making directories on the way, and
 * the last component as a directory or a file as asked. */
static int make_in_root(int rootfd, const char *rel, bool as_dir, mode_t mode, int depth)
{
    int fd = cell_openat_in_root(rootfd, rel, O_PATH);
    if (fd >= 0 || fd != -ENOENT || depth > 256)
        return fd;
    _cleanup_free_ char *parent = NULL;
    const char *leaf = NULL;
    int r = cell_path_split(rel, &parent, &leaf);
    if (r < 0)
        return r;
    _cleanup_close_ int pfd = make_in_root(rootfd, parent, true, 0755, depth + 1);
    if (pfd < 0)
        return pfd;
    _cleanup_free_ char *name = strndup(leaf, strcspn(leaf, "/"));
    if (!name)
        return -ENOMEM;
    /* The parent fd was resolved inside the root and name is a single
     * component, so creating it cannot escape; a symlink planted there makes
     * this fail with EEXIST and the re-open below resolves it in the root. */
    _cleanup_close_ int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    if (as_dir)
        r = mkdirat(dfd, name, mode);
    else {
        int f = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
        r = f < 0 ? -1 : close(f);
    }
    if (r < 0 && errno != EEXIST)
        return -errno;
    fd = cell_openat_in_root(rootfd, rel, O_PATH);
    if (fd != -ENOENT)
        return fd;
    return make_link_target(rootfd, dfd, name, parent, as_dir, mode, depth);
}

int cell_mkdir_in_root(int rootfd, const char *rel, mode_t mode, cell_err_t *err)
{
    int fd = make_in_root(rootfd, rel, true, mode, 0);
    if (fd < 0)
        return cell_error(err, -fd, "mkdir %s in container root", rel);
    return fd;
}

int cell_mkfile_in_root(int rootfd, const char *rel, mode_t mode, cell_err_t *err)
{
    int fd = make_in_root(rootfd, rel, false, mode, 0);
    if (fd < 0)
        return cell_error(err, -fd, "create %s in container root", rel);
    return fd;
}

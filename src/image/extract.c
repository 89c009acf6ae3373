/* Extraction of one layer into a directory, in the form overlayfs reads:
 * ".wh.NAME" becomes a 0:0 character device NAME, ".wh..wh..opq" the xattr
 * trusted.overlay.opaque=y on its directory.
 *
 * No entry may write outside the layer directory: names are cleaned
 * ("/a" is "a", a ".." component refuses the layer), parents are resolved
 * with cell_mkdir_in_root (openat2 RESOLVE_IN_ROOT, so a symlinked parent
 * points back inside the directory), and the entry itself is made with
 * *at() calls relative to that parent fd, never following a symlink in its
 * last component. This runs as root and keeps owners, modes, xattrs, hard
 * links and device nodes. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/path.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

/* Cleans an entry name in place: leading '/' and "./" dropped, "//" and
 * "/./" collapsed, trailing '/' dropped. "" is the layer root. Fails on a
 * ".." component. */
static int clean_name(const char *in, char *out, size_t size)
{
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EPERM;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o + n + 2 > size)
                return -ENAMETOOLONG;
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = end;
    }
    out[o] = '\0';
    return 0;
}

/* The layers below the one being unpacked, nearest first. */
struct lowers {
    const int *fds;
    size_t n;
};

/* Mode and owner of path in the nearest lower layer that has it as a
 * directory; 0755 root when none has (or a whiteout hides it). */
static void implicit_dir_attrs(const struct lowers *lw, const char *path, struct stat *out)
{
    *out = (struct stat){.st_mode = S_IFDIR | 0755};
    for (size_t i = 0; i < lw->n; i++) {
        _cleanup_close_ int fd = cell_openat_in_root(lw->fds[i], path, O_PATH | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            *out = st;
        return; /* a file or a whiteout here hides what lies further down */
    }
}

/* Owner, then mode (past the umask, and after chown, which may clear
 * set-id bits), through a real fd: O_PATH takes neither. */
static int set_dir_attrs(int pathfd, const struct stat *st)
{
    _cleanup_close_ int d = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 || fchown(d, st->st_uid, st->st_gid) < 0 || fchmod(d, st->st_mode & 07777) < 0)
        return -1;
    return 0;
}

/* Makes the missing directories of name (a path inside the layer), each
 * with the attributes the lower layers give it. */
static int make_implicit_dirs(int dirfd, char *name, const struct lowers *lw, cell_err_t *err)
{
    for (char *p = name;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int fd = cell_openat_in_root(dirfd, name, O_PATH);
        if (fd >= 0) {
            close(fd);
        } else if (fd == -ENOENT) {
            struct stat st;
            implicit_dir_attrs(lw, name, &st);
            _cleanup_close_ int made = cell_mkdir_in_root(dirfd, name, st.st_mode & 07777, err);
            if (made < 0) {
                *p = saved;
                return -1;
            }
            if (set_dir_attrs(made, &st) < 0) {
                *p = saved;
                return cell_error(err, errno, "set owner of %s", name);
            }
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

/* The parent directory of name inside the layer (made when missing) and its
 * last component. */
static int open_parent(int dirfd, char *name, const struct lowers *lw, const char **leaf,
                       cell_err_t *err)
{
    char *slash = strrchr(name, '/');
    if (!slash) {
        *leaf = name;
        int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? cell_error(err, errno, "open layer directory") : fd;
    }
    *slash = '\0';
    *leaf = slash + 1;
    int fd = make_implicit_dirs(dirfd, name, lw, err);
    if (fd == 0)
        fd = cell_open_in_root(dirfd, name, O_PATH | O_DIRECTORY, err);
    *slash = '/';
    return fd;
}

/* Makes room for a new entry: whatever has its name goes, except a
 * directory that a directory entry updates. */
static int clear_leaf(int pfd, const char *leaf, bool keep_dir)
{
    struct stat st;
    if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir)
            return 1;
        return cell_rm_rf_at(pfd, leaf);
    }
    return unlinkat(pfd, leaf, 0) < 0 ? -errno : 0;
}

static void proc_path(char *buf, size_t size, int pfd, const char *leaf)
{
    int n = snprintf(buf, size, "/proc/self/fd/%d", pfd);
    if (leaf && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "/%.*s", (int)(size - (size_t)n - 2), leaf);
}

static int whiteout(int pfd, const char *leaf, const char *name, cell_err_t *err)
{
    if (strcmp(leaf, WHITEOUT_OPAQUE) == 0) {
        char path[64];
        proc_path(path, sizeof path, pfd, NULL);
        if (setxattr(path, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return cell_error(err, errno, "mark %s opaque", name);
        return 0;
    }
    const char *target = leaf + strlen(WHITEOUT_PREFIX);
    if (strncmp(target, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0 || !target[0])
        return 0; /* aufs's own metadata (.wh..wh.plnk, …): not part of the tree */
    int r = clear_leaf(pfd, target, false);
    if (r < 0 || mknodat(pfd, target, S_IFCHR | 0000, makedev(0, 0)) < 0)
        return cell_error(err, r < 0 ? -r : errno, "whiteout %s", name);
    return 0;
}

static int write_data(struct archive *a, int fd, int64_t size, const char *name, cell_err_t *err)
{
    const void *buf;
    size_t len;
    la_int64_t off, end = 0;
    int r;
    while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
        end = off + (la_int64_t)len;
        for (size_t done = 0; done < len;) {
            ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return cell_error(err, errno, "write %s", name);
            done += (size_t)n;
        }
    }
    if (r != ARCHIVE_EOF)
        return cell_error(err, 0, "read %s: %s", name, archive_error_string(a));
    if (end != size && ftruncate(fd, size) < 0) /* a sparse file may end in a hole */
        return cell_error(err, errno, "truncate %s", name);
    return 0;
}

static int make_file(struct archive *a, struct archive_entry *e, int pfd, const char *leaf,
                     const char *name, cell_err_t *err)
{
    _cleanup_close_ int fd =
        openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return cell_error(err, errno, "create %s", name);
    return write_data(a, fd, archive_entry_size(e), name, err);
}

static int make_hardlink(int dirfd, const struct lowers *lw, struct archive_entry *e, int pfd,
                         const char *leaf,
                         const char *name, cell_err_t *err)
{
    char target[PATH_MAX];
    const char *tleaf;
    if (clean_name(archive_entry_hardlink(e), target, sizeof target) < 0 || !target[0])
        return cell_error(err, 0, "hard link %s: target outside the layer", name);
    _cleanup_close_ int tfd = open_parent(dirfd, target, lw, &tleaf, err);
    if (tfd < 0)
        return -1;
    if (linkat(tfd, tleaf, pfd, leaf, 0) < 0)
        return cell_error(err, errno, "hard link %s to %s", name, target);
    return 1; /* a link shares its target's metadata: nothing more to set */
}

/* Creates the entry; 1 when its metadata is not to be applied. */
static int make_entry(struct archive *a, int dirfd, const struct lowers *lw, struct archive_entry *e,
                      int pfd,
                      const char *leaf, const char *name, cell_err_t *err)
{
    mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e))
        return make_hardlink(dirfd, lw, e, pfd, leaf, name, err);
    switch (type) {
    case AE_IFREG:
        return make_file(a, e, pfd, leaf, name, err);
    case AE_IFDIR:
        if (mkdirat(pfd, leaf, 0700) < 0 && errno != EEXIST)
            return cell_error(err, errno, "mkdir %s", name);
        return 0;
    case AE_IFLNK:
        if (symlinkat(archive_entry_symlink(e) ?: "", pfd, leaf) < 0)
            return cell_error(err, errno, "symlink %s", name);
        return 0;
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        if (mknodat(pfd, leaf, type | 0600, archive_entry_rdev(e)) < 0)
            return cell_error(err, errno, "mknod %s", name);
        return 0;
    default:
        return cell_error(err, 0, "%s: unsupported entry type 0%o", name, type);
    }
}

static int set_xattrs(struct archive_entry *e, int pfd, const char *leaf, const char *name,
                      cell_err_t *err)
{
    const char *key;
    const void *value;
    size_t size;
    char path[PATH_MAX];
    proc_path(path, sizeof path, pfd, leaf);
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
        /* overlayfs reads trusted.overlay.* of lower layers as its own
         * metadata (redirects, metacopy): a layer may not forge them. */
        if (strncmp(key, "trusted.overlay.", 16) == 0)
            continue;
        if (lsetxattr(path, key, value, size, 0) < 0 && errno != ENOTSUP)
            return cell_error(err, errno, "set xattr %s on %s", key, name);
    }
    return 0;
}

/* Owner first: chown clears set-user-ID bits that the mode then restores. */
static int set_metadata(struct archive_entry *e, int pfd, const char *leaf, const char *name,
                        cell_err_t *err)
{
    bool link = archive_entry_filetype(e) == AE_IFLNK;
    if (fchownat(pfd, leaf, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return cell_error(err, errno, "chown %s", name);
    if (!link && fchmodat(pfd, leaf, archive_entry_perm(e) & 07777, 0) < 0)
        return cell_error(err, errno, "chmod %s", name);
    if (set_xattrs(e, pfd, leaf, name, err) < 0)
        return -1;
    struct timespec ts[2] = {
        {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
        {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
    };
    if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return cell_error(err, errno, "set times of %s", name);
    return 0;
}

/* Creating entries in a directory changes its mtime: directories get
 * theirs once everything is in place. */
static int remember_dir_time(json_t *dirs, const char *name, struct archive_entry *e)
{
    json_t *t = json_pack("[II]", (json_int_t)archive_entry_mtime(e),
                          (json_int_t)archive_entry_mtime_nsec(e));
    return t && json_object_set_new(dirs, name, t) == 0 ? 0 : -ENOMEM;
}

static int set_dir_times(int dirfd, json_t *dirs, cell_err_t *err)
{
    const char *name;
    json_t *t;
    json_object_foreach(dirs, name, t)
    {
        int64_t sec = json_integer_value(json_array_get(t, 0));
        long nsec = (long)json_integer_value(json_array_get(t, 1));
        struct timespec ts[2] = {{.tv_sec = sec, .tv_nsec = nsec},
                                 {.tv_sec = sec, .tv_nsec = nsec}};
        _cleanup_close_ int fd =
            cell_openat_in_root(dirfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY);
        if (fd < 0)
            continue; /* replaced by a later entry: its own time is set */
        if (utimensat(fd, "", ts, AT_EMPTY_PATH) < 0)
            return cell_error(err, errno, "set times of %s", name);
    }
    return 0;
}

static int extract_entry(struct archive *a, int dirfd, const struct lowers *lw,
                         struct archive_entry *e, json_t *dirs,
                         cell_err_t *err)
{
    char name[PATH_MAX];
    const char *leaf;
    const char *raw = archive_entry_pathname(e);
    if (!raw || clean_name(raw, name, sizeof name) < 0)
        return cell_error(err, 0, "layer entry \"%s\" points outside the layer", raw ? raw : "");
    if (!name[0])
        return 0; /* the layer's root: the directory we were given */
    _cleanup_close_ int pfd = open_parent(dirfd, name, lw, &leaf, err);
    if (pfd < 0)
        return cell_error_prepend(err, "layer entry %s", name);
    if (strncmp(leaf, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
        return whiteout(pfd, leaf, name, err);
    bool is_dir = archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e);
    int r = clear_leaf(pfd, leaf, is_dir);
    if (r < 0)
        return cell_error(err, -r, "replace %s", name);
    r = make_entry(a, dirfd, lw, e, pfd, leaf, name, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (is_dir && remember_dir_time(dirs, name, e) < 0)
        return cell_error(err, ENOMEM, "layer");
    return set_metadata(e, pfd, leaf, name, err);
}

int cell_image_layer_extract(int tar_fd, int dirfd, const int *lower, size_t n_lower,
                             char diff_id_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err)
{
    const struct lowers lw = {lower, n_lower};
    struct image_tar_stream *t = NULL;
    if (image_tar_stream_open(tar_fd, NULL, NULL, &t, err) < 0)
        return -1;
    struct archive *a = image_tar_stream_archive(t);
    struct archive_entry *e;
    json_t *dirs = json_object();
    int r = dirs ? 0 : cell_error(err, ENOMEM, "layer"), ar;
    while (r == 0 && (ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (ar < ARCHIVE_WARN)
            r = image_tar_stream_error(t, a, "read layer", err);
        else
            r = extract_entry(a, dirfd, &lw, e, dirs, err);
    }
    if (r == 0)
        r = set_dir_times(dirfd, dirs, err);
    json_decref(dirs);
    char diff_id[CELL_IMAGE_DIGEST_SIZE];
    if (r == 0)
        r = image_tar_stream_finish(t, diff_id, err);
    if (r == 0 && diff_id_out)
        memcpy(diff_id_out, diff_id, CELL_IMAGE_DIGEST_SIZE);
    image_tar_stream_free(t);
    return r;
}

/* Snapshots: a writable root filesystem over an image, an overlay mount of
 * its unpacked layers with an upper and work dir of its own:
 *   snapshots/<name>/image    which image (JSON: digest, manifest, id, layers)
 *   snapshots/<name>/upper, work, merged
 * The image file is written before anything is mounted, so a snapshot a
 * killed process left half made is still listed and still removable. */
#include "image/store_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAPSHOT_FILE "image"

static bool name_valid(const char *name)
{
    if (!name[0] || strlen(name) > 128 || name[0] == '.' || name[0] == '-' || name[0] == '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

static int write_image_file(int dfd, const struct cell_image *img, cell_err_t *err)
{
    json_t *layers = json_array();
    for (size_t i = 0; layers && i < img->manifest.nlayers; i++)
        json_array_append_new(layers, json_string(img->chain_ids[i]));
    json_t *j = json_pack("{sssssssO}", "digest", img->digest, "manifest", img->manifest_digest,
                          "id", img->id, "layers", layers);
    json_decref(layers);
    _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return cell_error(err, ENOMEM, "snapshot");
    int r = cell_write_file_atomic_at(dfd, SNAPSHOT_FILE, text, strlen(text), 0600);
    return r < 0 ? cell_error(err, -r, "write snapshot image file") : 0;
}

static int make_dirs(int dfd, cell_err_t *err)
{
    static const char *const dirs[] = {"upper", "work", "merged", "empty"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (mkdirat(dfd, dirs[i], 0755) < 0 && errno != EEXIST)
            return cell_error(err, errno, "mkdir %s", dirs[i]);
    return 0;
}

/* The lower dirs, top layer first (overlay's order); the snapshot's empty
 * dir for an image without layers. */
static int lower_path(const char *dir, const char *layers_dir, const struct cell_image *img,
                      size_t k, char *path, size_t len)
{
    size_t n = img->manifest.nlayers;
    if (n == 0)
        return snprintf(path, len, "%s/empty", dir);
    return snprintf(path, len, "%s/%s", layers_dir, image_digest_hex(img->chain_ids[n - 1 - k]));
}

static size_t lower_count(const struct cell_image *img)
{
    return img->manifest.nlayers ? img->manifest.nlayers : 1;
}

/* The new mount API takes the lower layers one by one ("lowerdir+", Linux
 * 6.8), so no option string limits how many an image may have. Returns
 * -EINVAL before anything is configured when the kernel does not know
 * lowerdir+, so that the caller can take the classic path. */
static int mount_new_api(const char *dir, const char *layers_dir, const struct cell_image *img,
                         cell_err_t *err)
{
    _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return cell_error(err, errno, "fsopen overlay");
    char path[PATH_MAX];
    for (size_t k = 0; k < lower_count(img); k++) {
        lower_path(dir, layers_dir, img, k, path, sizeof path);
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", path, 0) < 0)
            return k == 0 && errno == EINVAL ? -EINVAL
                                             : cell_error(err, errno, "overlay lower dir %s", path);
    }
    snprintf(path, sizeof path, "%s/upper", dir);
    int r = fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", path, 0);
    snprintf(path, sizeof path, "%s/work", dir);
    if (r == 0)
        r = fsconfig(fs, FSCONFIG_SET_STRING, "workdir", path, 0);
    if (r == 0)
        r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    /* Before 6.5 overlay takes fsconfig strings blindly (the legacy
     * context) and refuses lowerdir+ only here: the classic path then. */
    if (r < 0 && errno == EINVAL)
        return -EINVAL;
    if (r < 0)
        return cell_error(err, errno, "overlay for %s", dir);
    _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
    snprintf(path, sizeof path, "%s/merged", dir);
    if (mnt < 0 || move_mount(mnt, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return cell_error(err, errno, "mount overlay on %s", path);
    return 0;
}

/* Kernels before 6.8: one "lowerdir=a:b:c" option, which mount(2) limits
 * to a page (4096 bytes) and fsconfig to 256 bytes. Each lower dir gets a
 * short link in the snapshot (l/0 is the top layer), and the mount runs
 * in a child whose working directory is the snapshot, so every path in
 * the option is relative and a few bytes long: about 600 layers fit,
 * more than overlay's own limit of 500. */
static int write_lower_links(int dfd, const char *dir, const char *layers_dir,
                             const struct cell_image *img, cell_err_t *err)
{
    if (mkdirat(dfd, "l", 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "mkdir %s/l", dir);
    char target[PATH_MAX], link[32];
    for (size_t k = 0; k < lower_count(img); k++) {
        lower_path(dir, layers_dir, img, k, target, sizeof target);
        snprintf(link, sizeof link, "l/%zu", k);
        if (symlinkat(target, dfd, link) < 0 && errno != EEXIST)
            return cell_error(err, errno, "link %s/%s", dir, link);
    }
    return 0;
}

static char *classic_options(const struct cell_image *img)
{
    size_t n = lower_count(img), len = sizeof "lowerdir=,upperdir=upper,workdir=work" + n * 8;
    char *opts = malloc(len);
    if (!opts)
        return NULL;
    size_t off = (size_t)snprintf(opts, len, "lowerdir=");
    for (size_t k = 0; k < n; k++)
        off += (size_t)snprintf(opts + off, len - off, "%sl/%zu", k ? ":" : "", k);
    snprintf(opts + off, len - off, ",upperdir=upper,workdir=work");
    return opts;
}

static int mount_classic(const char *dir, const char *layers_dir, const struct cell_image *img,
                         cell_err_t *err)
{
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cell_error(err, errno, "open %s", dir);
    if (write_lower_links(dfd, dir, layers_dir, img, err) < 0)
        return -1;
    _cleanup_free_ char *opts = classic_options(img);
    if (!opts)
        return cell_error(err, ENOMEM, "overlay for %s", dir);
    if (strlen(opts) >= 4096)
        return cell_error(err, E2BIG, "overlay for %s: %zu layers", dir, lower_count(img));
    /* A child changes directory, not this process (a library may not). */
    pid_t pid = fork();
    if (pid < 0)
        return cell_error(err, errno, "fork");
    if (pid == 0)
        _exit(fchdir(dfd) < 0 || mount("overlay", "merged", "overlay", 0, opts) < 0 ? errno : 0);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int e = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
    return e ? cell_error(err, e, "mount overlay on %s/merged", dir) : 0;
}

/* layers: where the layers are seen (NULL: the store's layers/). */
static int mount_overlay(struct cell_image_store *s, const char *name, const struct cell_image *img,
                         const char *layers, char **merged, cell_err_t *err)
{
    _cleanup_free_ char *dir = NULL, *store_layers = NULL;
    if (asprintf(&dir, "%s/snapshots/%s", s->root, name) < 0 ||
        asprintf(&store_layers, "%s/layers", s->root) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    if (!layers)
        layers = store_layers;
    int r = mount_new_api(dir, layers, img, err);
    if (r == -EINVAL)
        r = mount_classic(dir, layers, img, err);
    if (r < 0)
        return -1;
    if (merged && asprintf(merged, "%s/merged", dir) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    return 0;
}

/* ---- idmapped snapshots ------------------------------------------------------ */

/* Where the idmapped view of layers/ is attached while the overlay is
 * made; overlayfs keeps private clones of its layers' mounts, so it is
 * detached right after. */
#define IDMAP_DIR "idmapped-layers"

static int kernel_refuses(cell_err_t *err)
{
    return cell_error(err, 0,
                      "this kernel cannot idmap the overlay root filesystem (needs Linux 5.19)");
}

/* Others may search the store root and snapshots/ (0711, as Docker's root
 * with userns-remap): the container's root is not the host's root. */
static int open_for_mapped_root(struct cell_image_store *s, cell_err_t *err)
{
    int fds[] = {s->dirfd, s->snapsfd};
    const char *names[] = {"", "/snapshots"};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        struct stat st;
        if (fstat(fds[i], &st) < 0 ||
            (!(st.st_mode & S_IXOTH) && fchmod(fds[i], (st.st_mode & 07777) | S_IXOTH) < 0))
            return cell_error(err, errno, "chmod o+x %s%s", s->root, names[i]);
    }
    return 0;
}

static bool searchable_by(const struct stat *st, uid_t uid, gid_t gid)
{
    return (st->st_mode & S_IXOTH) || (st->st_uid == uid && (st->st_mode & S_IXUSR)) ||
           (st->st_gid == gid && (st->st_mode & S_IXGRP));
}

/* The directories above the store root are the host's: a clear line now
 * (before anything is changed) rather than "Permission denied" from the
 * container's init at start. */
static int check_reachable(const char *root, uid_t uid, gid_t gid, cell_err_t *err)
{
    _cleanup_free_ char *p = strdup(root);
    if (!p)
        return cell_error(err, ENOMEM, "snapshot");
    for (char *c = p;; c++) {
        if (*c != '/' && *c)
            continue;
        char saved = *c;
        if (!saved)
            return 0; /* the root itself is made searchable */
        *c = 0;
        struct stat st;
        if (stat(*p ? p : "/", &st) < 0)
            return cell_error(err, errno, "stat %s", *p ? p : "/");
        if (!searchable_by(&st, uid, gid))
            return cell_error(err, 0,
                              "%s (mode %04o) is not searchable by the container's root (host "
                              "uid %u): the root filesystem under it cannot be reached",
                              *p ? p : "/", (unsigned)(st.st_mode & 07777), (unsigned)uid);
        *c = saved;
    }
}

/* The snapshot's directory is the container root's to search (0710 to its
 * group, as Docker's per-remap root), and the upper dir, whose attributes
 * are the root directory's, is its own. */
static int own_dirs(int dfd, const struct cell_image_snapshot_idmap *map, cell_err_t *err)
{
    if (fchown(dfd, 0, map->root_gid) < 0 || fchmod(dfd, 0710) < 0)
        return cell_error(err, errno, "chown snapshot directory");
    if (fchownat(dfd, "upper", map->root_uid, map->root_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return cell_error(err, errno, "chown upper");
    return 0;
}

/* layers/ cloned (not recursive: nothing mounted under it), idmapped with
 * the container's maps and attached at <snapshot>/IDMAP_DIR. */
static int attach_idmapped_layers(struct cell_image_store *s, int dfd, int userns_fd, bool *refused,
                                  cell_err_t *err)
{
    if (mkdirat(dfd, IDMAP_DIR, 0700) < 0 && errno != EEXIST)
        return cell_error(err, errno, "mkdir %s", IDMAP_DIR);
    _cleanup_close_ int t =
        open_tree(s->layersfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (t < 0)
        return cell_error(err, errno, "clone %s/layers", s->root);
    struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)userns_fd};
    if (mount_setattr(t, "", AT_EMPTY_PATH, &a, sizeof a) < 0) {
        /* ENOSYS before 5.12; EINVAL from a filesystem that takes no
         * idmapped mounts (tmpfs before 6.3). */
        *refused = errno == EINVAL || errno == ENOSYS;
        if (errno == EINVAL)
            return cell_error(err, 0,
                              "this kernel cannot idmap the overlay root filesystem: the "
                              "filesystem of %s takes no idmapped mounts (tmpfs: Linux 6.3)",
                              s->root);
        return *refused ? kernel_refuses(err) : cell_error(err, errno, "idmap %s/layers", s->root);
    }
    if (move_mount(t, "", dfd, IDMAP_DIR, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return cell_error(err, errno, "attach idmapped layers");
    return 0;
}

/* Every mount on dir (a killed create may have left one). */
static int detach_all(const char *dir, cell_err_t *err)
{
    while (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
        ;
    if (errno != EINVAL && errno != ENOENT)
        return cell_error(err, errno, "unmount %s", dir);
    return 0;
}

/* *refused: the kernel cannot do it (err holds the one line to show). */
static int mount_idmapped(struct cell_image_store *s, const char *name, int dfd,
                          const struct cell_image *img, const struct cell_image_snapshot_idmap *map,
                          char **merged, bool *refused, cell_err_t *err)
{
    _cleanup_free_ char *layers = NULL;
    if (asprintf(&layers, "%s/snapshots/%s/%s", s->root, name, IDMAP_DIR) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    int r = attach_idmapped_layers(s, dfd, map->userns_fd, refused, err);
    if (r == 0) {
        r = mount_overlay(s, name, img, layers, merged, err);
        /* Before 5.19 overlayfs refuses idmapped layers with EINVAL. */
        if (r < 0 && err && err->errnum == EINVAL) {
            cell_error_clear(err);
            *refused = true;
            r = kernel_refuses(err);
        }
    }
    if (detach_all(layers, r < 0 ? NULL : err) < 0 && r == 0)
        r = -1;
    return r;
}

static int create(struct cell_image_store *s, const char *name, const struct cell_image *img,
                  const struct cell_image_snapshot_idmap *map, char **merged, cell_err_t *err)
{
    if (cell_image_unpack(s, img, err) < 0)
        return -1;
    if (map && (check_reachable(s->root, map->root_uid, map->root_gid, err) < 0 ||
                open_for_mapped_root(s, err) < 0))
        return -1;
    if (mkdirat(s->snapsfd, name, 0700) < 0)
        return cell_error(err, errno, errno == EEXIST ? "snapshot %s exists" : "mkdir snapshot %s",
                          name);
    _cleanup_close_ int dfd = openat(s->snapsfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cell_error(err, errno, "open snapshot %s", name);
    bool refused = false;
    int r = write_image_file(dfd, img, err) < 0 || make_dirs(dfd, err) < 0 ? -1 : 0;
    if (r == 0 && map)
        r = own_dirs(dfd, map, err) < 0
                ? -1
                : mount_idmapped(s, name, dfd, img, map, merged, &refused, err);
    else if (r == 0)
        r = mount_overlay(s, name, img, NULL, merged, err);
    if (r < 0) {
        cell_image_snapshot_remove(s, name, NULL);
        return refused ? -1 : cell_error_prepend(err, "snapshot %s", name);
    }
    return 0;
}

int cell_image_snapshot_create(struct cell_image_store *s, const char *name,
                               const struct cell_image *img, char **merged, cell_err_t *err)
{
    if (merged)
        *merged = NULL;
    if (!name_valid(name))
        return cell_error(err, 0, "invalid snapshot name \"%s\"", name);
    return create(s, name, img, NULL, merged, err);
}

int cell_image_snapshot_create_idmapped(struct cell_image_store *s, const char *name,
                                        const struct cell_image *img,
                                        const struct cell_image_snapshot_idmap *map, char **merged,
                                        cell_err_t *err)
{
    if (merged)
        *merged = NULL;
    if (!name_valid(name))
        return cell_error(err, 0, "invalid snapshot name \"%s\"", name);
    return create(s, name, img, map, merged, err);
}

int cell_image_snapshot_remove(struct cell_image_store *s, const char *name, cell_err_t *err)
{
    if (!name_valid(name))
        return cell_error(err, 0, "invalid snapshot name \"%s\"", name);
    _cleanup_free_ char *merged = NULL, *idmapped = NULL;
    if (asprintf(&merged, "%s/snapshots/%s/merged", s->root, name) < 0 ||
        asprintf(&idmapped, "%s/snapshots/%s/%s", s->root, name, IDMAP_DIR) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    /* Detached: a process still working in it does not keep the rest from
     * going; the overlay goes when its last user does. The idmapped view of
     * the layers a killed create left attached goes first: it is the same
     * filesystem as the snapshot, so the removal below would descend into
     * it and delete the image's layers. */
    if (detach_all(idmapped, err) < 0)
        return -1;
    if (umount2(merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return cell_error(err, errno, "unmount %s", merged);
    int r = cell_rm_rf_at(s->snapsfd, name);
    if (r < 0)
        return cell_error(err, -r, "remove %s/snapshots/%s", s->root, name);
    return 0;
}

int cell_image_snapshot_list(struct cell_image_store *s, char ***names, cell_err_t *err)
{
    *names = NULL;
    int fd = openat(s->snapsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return cell_error(err, errno, "list %s/snapshots", s->root);
    }
    _cleanup_strv_ char **v = calloc(1, sizeof(char *));
    if (!v)
        return cell_error(err, ENOMEM, "snapshots");
    for (struct dirent *e; (e = readdir(d));)
        if (name_valid(e->d_name) && cell_strv_push(&v, e->d_name) < 0)
            return cell_error(err, ENOMEM, "snapshots");
    *names = TAKE_PTR(v);
    return 0;
}

int image_snapshot_read(struct cell_image_store *s, const char *name, json_t **out, cell_err_t *err)
{
    _cleanup_close_ int dfd = openat(s->snapsfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = dfd < 0 ? -errno : cell_read_file_at(dfd, SNAPSHOT_FILE, &data, &len);
    if (r < 0)
        return cell_error(err, -r, "snapshot %s", name);
    *out = json_loadb(data, len, 0, NULL);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return cell_error(err, 0, "snapshot %s: corrupt image file", name);
    }
    return 0;
}

int cell_image_snapshot_image(struct cell_image_store *s, const char *name, char **manifest_digest,
                              cell_err_t *err)
{
    json_t *j = NULL;
    if (image_snapshot_read(s, name, &j, err) < 0)
        return -1;
    const char *m = json_string_value(json_object_get(j, "manifest"));
    *manifest_digest = m ? strdup(m) : NULL;
    json_decref(j);
    return *manifest_digest ? 0 : cell_error(err, 0, "snapshot %s: no manifest", name);
}

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

static int mount_overlay(struct cell_image_store *s, const char *name, const struct cell_image *img,
                         char **merged, cell_err_t *err)
{
    _cleanup_free_ char *dir = NULL, *layers = NULL;
    if (asprintf(&dir, "%s/snapshots/%s", s->root, name) < 0 ||
        asprintf(&layers, "%s/layers", s->root) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    int r = mount_new_api(dir, layers, img, err);
    if (r == -EINVAL)
        r = mount_classic(dir, layers, img, err);
    if (r < 0)
        return -1;
    if (merged && asprintf(merged, "%s/merged", dir) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    return 0;
}

static int create(struct cell_image_store *s, const char *name, const struct cell_image *img,
                  char **merged, cell_err_t *err)
{
    if (cell_image_unpack(s, img, err) < 0)
        return -1;
    if (mkdirat(s->snapsfd, name, 0700) < 0)
        return cell_error(err, errno, errno == EEXIST ? "snapshot %s exists" : "mkdir snapshot %s",
                          name);
    _cleanup_close_ int dfd = openat(s->snapsfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cell_error(err, errno, "open snapshot %s", name);
    if (write_image_file(dfd, img, err) < 0 || make_dirs(dfd, err) < 0 ||
        mount_overlay(s, name, img, merged, err) < 0) {
        cell_image_snapshot_remove(s, name, NULL);
        return cell_error_prepend(err, "snapshot %s", name);
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
    return create(s, name, img, merged, err);
}

int cell_image_snapshot_remove(struct cell_image_store *s, const char *name, cell_err_t *err)
{
    if (!name_valid(name))
        return cell_error(err, 0, "invalid snapshot name \"%s\"", name);
    _cleanup_free_ char *merged = NULL;
    if (asprintf(&merged, "%s/snapshots/%s/merged", s->root, name) < 0)
        return cell_error(err, ENOMEM, "snapshot");
    /* Detached: a process still working in it does not keep the rest from
     * going; the overlay goes when its last user does. */
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

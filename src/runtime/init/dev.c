#include "runtime/init/dev.h"
#include "base/cleanup.h"
#include "base/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct cell_device default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static const struct {
    const char *target, *name;
} default_links[] = {
    {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    /* crun makes it whatever the kernel has (runc only when /proc/kcore
     * exists); podman users see the same /dev as with crun, its default. */
    {"/proc/kcore", "core"},
};

static const struct cell_device_rule default_rules[] = {
    {true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},   {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"},  {true, 'c', 1, 7, "rwm"},   {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"},  {true, 'c', 5, 0, "rwm"},   {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"},  {true, 'c', 136, -1, "rwm"}, {true, 'c', 10, 200, "rwm"},
};

int cell_dev_cgroup_rules(const struct cell_spec *spec, struct cell_device_rule **out, size_t *n)
{
    const struct cell_resources *res = &spec->linux.resources;
    size_t total = res->n_devices;
    if (total)
        total += ARRAY_SIZE(default_rules);
    *n = total;
    *out = NULL;
    if (total == 0)
        return 0;
    struct cell_device_rule *rules = calloc(total, sizeof *rules);
    if (!rules)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < res->n_devices; i++)
        rules[k++] = res->devices[i];
    for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
        rules[k++] = default_rules[i];
    *out = rules;
    return 0;
}

static mode_t type_bits(char type)
{
    switch (type) {
    case 'b':
        return S_IFBLK;
    case 'p':
        return S_IFIFO;
    default:
        return S_IFCHR;
    }
}

/* In a user namespace mknod is not allowed: bind the host's node instead. */
static int bind_host_node(int dirfd, const char *name, const struct cell_device *d, cell_err_t *err)
{
    int f = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0 && errno != EEXIST)
        return cell_error(err, errno, "create %s", d->path);
    if (f >= 0)
        close(f);
    _cleanup_close_ int src = open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (src < 0)
        return cell_error(err, errno, "bind host device %s", d->path);
    if (move_mount(src, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return cell_error(err, errno, "bind host device %s", d->path);
    return 0;
}

static int make_node(struct cell_container *c, int rootfd, const struct cell_device *d,
                     cell_err_t *err)
{
    _cleanup_free_ char *parent = NULL;
    const char *leaf = NULL;
    if (cell_path_split(d->path, &parent, &leaf) < 0)
        return cell_error(err, ENOMEM, "device %s", d->path);
    _cleanup_close_ int pfd = cell_mkdir_in_root(rootfd, parent, 0755, err);
    if (pfd < 0)
        return pfd;
    _cleanup_close_ int dirfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cell_error(err, errno, "open %s", parent);
    if (c->userns || c->ns_fds[CELL_NS_USER] >= 0)
        return bind_host_node(dirfd, leaf, d, err);
    mode_t mode = (d->file_mode == CELL_UNSET ? 0666 : (mode_t)d->file_mode) & 07777;
    unlinkat(dirfd, leaf, 0);
    if (mknodat(dirfd, leaf, type_bits(d->type) | mode, makedev(d->major, d->minor)) < 0)
        return cell_error(err, errno, "mknod %s", d->path);
    /* mknod is subject to the umask; set the mode the config asked for. */
    if (fchmodat(dirfd, leaf, mode, 0) < 0)
        return cell_error(err, errno, "chmod %s", d->path);
    uid_t uid = d->uid == CELL_UNSET ? 0 : (uid_t)d->uid;
    gid_t gid = d->gid == CELL_UNSET ? 0 : (gid_t)d->gid;
    if ((uid || gid) && fchownat(dirfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return cell_error(err, errno, "chown %s", d->path);
    return 0;
}

static bool dev_is_bind_mounted(const struct cell_spec *spec)
{
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (!strcmp(spec->mounts[i].destination, "/dev") && spec->mounts[i].bind)
            return true;
    return false;
}

static int make_links(int rootfd, cell_err_t *err)
{
    _cleanup_close_ int dev = cell_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, err);
    if (dev < 0)
        return dev;
    for (size_t i = 0; i < ARRAY_SIZE(default_links); i++) {
        if (symlinkat(default_links[i].target, dev, default_links[i].name) < 0 && errno != EEXIST)
            return cell_error(err, errno, "symlink /dev/%s", default_links[i].name);
    }
    return 0;
}

int cell_dev_setup(struct cell_container *c, int rootfd, cell_err_t *err)
{
    int r;
    /* A /dev bind-mounted from elsewhere is taken as it is. */
    if (!dev_is_bind_mounted(c->spec)) {
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
            if ((r = make_node(c, rootfd, &default_devices[i], err)) < 0)
                return r;
        if ((r = make_links(rootfd, err)) < 0)
            return r;
    }
    for (size_t i = 0; i < c->spec->linux.n_devices; i++)
        if ((r = make_node(c, rootfd, &c->spec->linux.devices[i], err)) < 0)
            return cell_error_prepend(err, "linux.devices[%zu]", i);
    return 0;
}

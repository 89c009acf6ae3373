#include "runtime/init/mount.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/path.h"
#include "runtime/init/dev.h"
#include "runtime/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

unsigned cell_mount_attrs_from_flags(unsigned long flags)
{
    static const struct {
        unsigned long ms;
        unsigned attr;
    } map[] = {
        {MS_RDONLY, MOUNT_ATTR_RDONLY},
        {MS_NOSUID, MOUNT_ATTR_NOSUID},
        {MS_NODEV, MOUNT_ATTR_NODEV},
        {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
        {MS_NOATIME, MOUNT_ATTR_NOATIME},
        {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
        {MS_RELATIME, MOUNT_ATTR_RELATIME},
        {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
        {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
    };
    unsigned attrs = 0;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (flags & map[i].ms)
            attrs |= map[i].attr;
    return attrs;
}

/* The kernel explains a failed fsconfig in the fs context's log. */
static const char *fs_context_log(int fsfd, char *buf, size_t len)
{
    ssize_t n = read(fsfd, buf, len - 1);
    if (n <= 2)
        return NULL;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return buf + 2; /* skip "e " */
}

static int fs_error(int fsfd, int errnum, const struct cell_mount *m, cell_err_t *err)
{
    char log[256];
    const char *why = fs_context_log(fsfd, log, sizeof log);
    if (why)
        return cell_error(err, errnum, "mount %s on %s (%s)", m->type, m->destination, why);
    return cell_error(err, errnum, "mount %s on %s", m->type, m->destination);
}

static int fsconfig_option(int fsfd, char *opt)
{
    char *eq = strchr(opt, '=');
    if (!eq)
        return fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
    *eq = '\0';
    int r = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
    *eq = '=';
    return r;
}

/* Superblock flags are not mount attributes: they go to the fs context. */
static int fsconfig_sb_flags(int fsfd, unsigned long flags)
{
    static const struct {
        unsigned long ms;
        const char *name;
    } map[] = {{MS_SYNCHRONOUS, "sync"},
               {MS_DIRSYNC, "dirsync"},
               {MS_LAZYTIME, "lazytime"},
               {MS_MANDLOCK, "mand"},
               {MS_SILENT, "silent"}};
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if ((flags & map[i].ms) && fsconfig(fsfd, FSCONFIG_SET_FLAG, map[i].name, NULL, 0) < 0)
            return -1;
    return 0;
}

/* fsopen + options + fsmount: a detached mount of a new filesystem. */
static int make_fs_mount(const struct cell_mount *m, const char *type, const char *data,
                         unsigned long flags, cell_err_t *err)
{
    _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return cell_error(err, errno, "mount %s on %s: fsopen", type, m->destination);
    if (m->source && *m->source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
        return fs_error(fsfd, errno, m, err);
    if (data && *data) {
        _cleanup_free_ char *copy = strdup(data);
        if (!copy)
            return cell_error(err, ENOMEM, "mount %s", m->destination);
        char *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
            if (fsconfig_option(fsfd, o) < 0)
                return fs_error(fsfd, errno, m, err);
    }
    if (fsconfig_sb_flags(fsfd, flags) < 0 ||
        fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return fs_error(fsfd, errno, m, err);
    int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, cell_mount_attrs_from_flags(flags));
    if (mfd < 0)
        return fs_error(fsfd, errno, m, err);
    return mfd;
}

static int set_attrs(int mfd, unsigned set, unsigned clr, unsigned long prop, bool recursive)
{
    if (!set && !clr && !prop)
        return 0;
    struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = prop};
    /* Choosing an atime mode means clearing the others first. */
    if (set & MOUNT_ATTR__ATIME)
        attr.attr_clr |= MOUNT_ATTR__ATIME;
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return mount_setattr(mfd, "", flags, &attr, sizeof attr);
}

/* open_tree(OPEN_TREE_CLONE) of path at dirfd ("" for dirfd itself): a
 * detached copy of the source tree, with the mount's options set. */
static int clone_source(int dirfd, const char *path, const struct cell_mount *m, cell_err_t *err)
{
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0) |
                     (*path ? 0 : AT_EMPTY_PATH);
    _cleanup_close_ int mfd = open_tree(dirfd, path, flags);
    if (mfd < 0)
        return cell_error(err, errno, "bind mount %s on %s", m->source, m->destination);
    unsigned set = cell_mount_attrs_from_flags(m->flags);
    unsigned clr = cell_mount_attrs_from_flags(m->clear_flags);
    if (set_attrs(mfd, set, clr, 0, false) < 0 ||
        set_attrs(mfd, (unsigned)m->attr_set, (unsigned)m->attr_clr, 0, true) < 0)
        return cell_error(err, errno, "set options of bind mount %s on %s", m->source,
                          m->destination);
    return TAKE_FD(mfd);
}

/* A tree cloned here, in the runtime's namespace, from a shared mount (the
 * host's /, /tmp... where systemd is PID 1) is a peer of it: whatever the
 * container then mounts under the bind would appear on the host (a masked
 * path inside a bind did). Unless shared propagation was asked (of the
 * mount, or of the root), it becomes what the init makes of its own copy
 * of the host's mounts: a slave (receives, never sends), or private. */
static int isolate_clone(int mfd, const struct cell_container *c, const struct cell_mount *m)
{
    unsigned long root = c->spec->linux.rootfs_propagation;
    if ((m->propagation & MS_SHARED) || (root & MS_SHARED))
        return 0;
    return set_attrs(mfd, 0, 0, (root & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE, true);
}

static int make_bind_mount(struct cell_container *c, const struct cell_mount *m, cell_err_t *err)
{
    _cleanup_close_ int bundlefd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int mfd = clone_source(bundlefd, m->source, m, err);
    if (mfd < 0)
        return mfd;
    if (isolate_clone(mfd, c, m) < 0)
        return cell_error(err, errno, "bind mount %s on %s: make it a slave", m->source,
                          m->destination);
    return TAKE_FD(mfd);
}

static bool tree_is_dir(int mfd)
{
    struct stat st;
    return fstat(mfd, &st) < 0 || S_ISDIR(st.st_mode);
}

/* A mount namespace owned by another user namespace than the runtime's
 * gets its copy of the host's mounts with their flags locked (ro, nosuid,
 * nodev, noexec, atime: the container's root cannot clear them). A tree
 * the runtime cloned from its own mounts would carry no lock: the source
 * is then opened inside the init's namespace instead, by the runtime, and
 * cloned there by the init (cell_mounts_send_sources). */
static bool open_sources_inside(const struct cell_container *c)
{
    return c->userns || c->ns_fds[CELL_NS_USER] >= 0;
}

/* Bind sources are opened by the runtime, with its host credentials, as
 * runc and crun do: a source under a directory that the container's
 * mapped root cannot enter (the 0700 state root that holds the
 * NOTIFY_SOCKET directory, say) still binds. Without a user namespace the
 * detached trees are cloned here, before clone, and inherited: no round
 * trip, and a tree cloned from the host's mount is a peer of it when that
 * is shared, whatever the init makes of its own copy of the host's mounts,
 * so an rshared bind propagates both ways. move_mount takes a tree of an
 * anonymous mount namespace into any namespace the caller may mount in. */
int cell_mounts_open_binds(struct cell_container *c, cell_err_t *err)
{
    size_t n = c->spec->n_mounts;
    if (n == 0)
        return 0;
    c->bind_fds = malloc(n * sizeof *c->bind_fds);
    if (!c->bind_fds)
        return cell_error(err, ENOMEM, "mounts");
    for (size_t i = 0; i < n; i++)
        c->bind_fds[i] = -1;
    for (size_t i = 0; i < n; i++) {
        const struct cell_mount *m = &c->spec->mounts[i];
        if (!m->bind)
            continue;
        if (!m->source)
            return cell_error(err, EINVAL, "mount on %s: bind mount without source",
                              m->destination);
        if (open_sources_inside(c))
            continue;
        c->bind_fds[i] = make_bind_mount(c, m, err);
        if (c->bind_fds[i] < 0)
            return c->bind_fds[i];
    }
    return 0;
}

/* Runtime side: each bind source opened O_PATH in the init's mount
 * namespace, through /proc/PID/root, and sent in mount order. A source it
 * cannot open that way (a rootless runtime may not reach a non-dumpable
 * init's root) goes without an fd: the init then opens it itself. */
int cell_mounts_send_sources(struct cell_container *c, pid_t init, int sock, cell_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/root", init);
    _cleanup_close_ int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < c->spec->n_mounts; i++) {
        const struct cell_mount *m = &c->spec->mounts[i];
        if (!m->bind)
            continue;
        int fd = -1;
        if (rootfd >= 0 &&
            snprintf(path, sizeof path, "%s%s%s", m->source[0] == '/' ? "" : c->bundle,
                     m->source[0] == '/' ? "" : "/", m->source) < (int)sizeof path)
            fd = cell_openat_in_root(rootfd, path, O_PATH);
        int r = cell_sync_send_value_fd(sock, SYNC_MOUNT_SOURCE, (int)i, fd);
        if (fd >= 0)
            close(fd);
        if (r < 0)
            return cell_error(err, -r, "send bind mount source %s", m->source);
    }
    return 0;
}

/* Init side of cell_mounts_send_sources. */
static int receive_sources(struct cell_container *c, cell_err_t *err)
{
    bool any = false;
    for (size_t i = 0; i < c->spec->n_mounts; i++)
        any |= c->spec->mounts[i].bind;
    if (!open_sources_inside(c) || !any)
        return 0;
    cell_sync_send(c->sync_fd, SYNC_MOUNT_SOURCES, 0, NULL);
    for (size_t i = 0; i < c->spec->n_mounts; i++) {
        const struct cell_mount *m = &c->spec->mounts[i];
        if (!m->bind)
            continue;
        struct cell_sync_msg msg;
        int r = cell_sync_expect(c->sync_fd, SYNC_MOUNT_SOURCE, &msg, err);
        if (r < 0)
            return r;
        _cleanup_close_ int src = msg.rights_fd;
        if (msg.value != (int)i)
            return cell_error(err, EPROTO, "bind mount %s: source out of order", m->source);
        c->bind_fds[i] = src >= 0 ? clone_source(src, "", m, err) : make_bind_mount(c, m, err);
        if (c->bind_fds[i] < 0)
            return c->bind_fds[i];
    }
    return 0;
}

void cell_mounts_close_binds(struct cell_container *c)
{
    for (size_t i = 0; c->bind_fds && i < c->spec->n_mounts; i++)
        if (c->bind_fds[i] >= 0)
            close(c->bind_fds[i]);
    free(c->bind_fds);
    c->bind_fds = NULL;
}

static int attach(int mfd, int rootfd, const struct cell_mount *m, bool dir, cell_err_t *err)
{
    _cleanup_close_ int target = dir ? cell_mkdir_in_root(rootfd, m->destination, 0755, err)
                                     : cell_mkfile_in_root(rootfd, m->destination, 0644, err);
    if (target < 0)
        return target;
    if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return cell_error(err, errno, "mount %s on %s", m->source ? m->source : m->type,
                          m->destination);
    if (m->propagation &&
        set_attrs(mfd, 0, 0, m->propagation & ~(unsigned long)MS_REC, m->propagation_recursive) < 0)
        return cell_error(err, errno, "set propagation of %s", m->destination);
    return 0;
}

static bool cgroupns_is_new(const struct cell_container *c)
{
    const struct cell_namespace *ns = &c->spec->linux.ns[CELL_NS_CGROUP];
    return ns->present && !ns->path;
}

/* v1 mounts need CAP_SYS_ADMIN in the initial user namespace; a user
 * namespaced container gets bind mounts of its cgroup directories. */
static bool can_mount_cgroupfs(const struct cell_container *c)
{
    return cgroupns_is_new(c) && !c->userns && c->ns_fds[CELL_NS_USER] < 0;
}

static int bind_hier(struct cell_container *c, const struct cell_mount *m,
                     const struct cell_cgroup_hier *h, cell_err_t *err)
{
    struct cell_mount bind = *m;
    bind.source = h->host_dir;
    bind.recursive = false;
    return make_bind_mount(c, &bind, err);
}

static int hier_mount(struct cell_container *c, const struct cell_mount *m,
                      const struct cell_cgroup_hier *h, cell_err_t *err)
{
    if (!can_mount_cgroupfs(c))
        return bind_hier(c, m, h, err);
    struct cell_mount fs = *m;
    fs.source = NULL;
    fs.type = h->fstype;
    int mfd = make_fs_mount(&fs, h->fstype, h->options, m->flags, err);
    /* Some kernels refuse a v1 hierarchy inside a cgroup namespace (6.1
     * says EINVAL for rdma and perf_event on a hybrid host): the
     * container's own directory, bound, is the same view. */
    if (mfd == -EINVAL) {
        cell_error_clear(err);
        return bind_hier(c, m, h, err);
    }
    return mfd;
}

static int link_comounted(int dirfd, const char *name)
{
    if (!strchr(name, ','))
        return 0;
    _cleanup_free_ char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (symlinkat(name, dirfd, p) < 0 && errno != EEXIST)
            return -errno;
    return 0;
}

/* The v1 view: a tmpfs with one mount per hierarchy the container is in. */
static int mount_cgroup_v1_view(struct cell_container *c, int rootfd, const struct cell_mount *m,
                                cell_err_t *err)
{
    struct cell_mount tmpfs = *m;
    tmpfs.type = "tmpfs";
    tmpfs.source = "tmpfs";
    _cleanup_close_ int tfd =
        make_fs_mount(&tmpfs, "tmpfs", "mode=755", m->flags & ~(unsigned long)MS_RDONLY, err);
    if (tfd < 0)
        return tfd;
    /* Attached first: kernels before 6.15 refuse move_mount into a tree
     * that is not in a mount namespace yet (6.1 says EINVAL). */
    int r = attach(tfd, rootfd, m, true, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < c->cg->n_hiers; i++) {
        const struct cell_cgroup_hier *h = &c->cg->hiers[i];
        if (mkdirat(tfd, h->name, 0755) < 0 && errno != EEXIST)
            return cell_error(err, errno, "mkdir %s/%s", m->destination, h->name);
        if (link_comounted(tfd, h->name) < 0)
            return cell_error(err, errno, "link %s/%s", m->destination, h->name);
        _cleanup_close_ int hfd = hier_mount(c, m, h, err);
        if (hfd < 0)
            return hfd;
        if (move_mount(hfd, "", tfd, h->name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return cell_error(err, errno, "mount cgroup %s on %s/%s", h->options ? h->options : "",
                              m->destination, h->name);
    }
    if ((m->flags & MS_RDONLY) && set_attrs(tfd, MOUNT_ATTR_RDONLY, 0, 0, false) < 0)
        return cell_error(err, errno, "make %s read-only", m->destination);
    return 0;
}

static int mount_cgroup(struct cell_container *c, int rootfd, const struct cell_mount *m,
                        cell_err_t *err)
{
    if (c->cg->layout != CELL_CGROUP_V2 || c->cg->n_hiers != 1)
        return mount_cgroup_v1_view(c, rootfd, m, err);
    _cleanup_close_ int mfd = hier_mount(c, m, &c->cg->hiers[0], err);
    if (mfd < 0)
        return mfd;
    return attach(mfd, rootfd, m, true, err);
}

static int mount_one(struct cell_container *c, int rootfd, size_t i, cell_err_t *err)
{
    const struct cell_mount *m = &c->spec->mounts[i];
    if (m->bind) {
        /* Opened by the runtime (cell_mounts_open_binds). */
        _cleanup_close_ int mfd = c->bind_fds ? TAKE_FD(c->bind_fds[i]) : -1;
        if (mfd < 0)
            return cell_error(err, EBADF, "bind mount %s on %s: not opened", m->source,
                              m->destination);
        return attach(mfd, rootfd, m, tree_is_dir(mfd), err);
    }
    if (!m->type)
        return cell_error(err, EINVAL, "mount on %s: no type", m->destination);
    if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"))
        return mount_cgroup(c, rootfd, m, err);
    _cleanup_close_ int mfd = make_fs_mount(m, m->type, m->data, m->flags, err);
    if (mfd < 0)
        return mfd;
    if (m->attr_set && set_attrs(mfd, (unsigned)m->attr_set, (unsigned)m->attr_clr, 0, true) < 0)
        return cell_error(err, errno, "set options of %s", m->destination);
    return attach(mfd, rootfd, m, true, err);
}

int cell_mounts_apply(struct cell_container *c, int rootfd, cell_err_t *err)
{
    int r = receive_sources(c, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < c->spec->n_mounts; i++) {
        r = mount_one(c, rootfd, i, err);
        if (r < 0)
            return r;
    }
    return 0;
}

bool cell_mounts_own_namespace(const struct cell_container *c)
{
    return c->spec->linux.ns[CELL_NS_MNT].present;
}

int cell_rootfs_prepare(struct cell_container *c, cell_err_t *err)
{
    /* Nothing mounted from here on may reach the host's mount table. A
     * private root stays private; everything else starts as slave and gets
     * the asked propagation after pivot_root, which refuses shared mounts.
     * Without a mount namespace of its own this would be the caller's
     * table: it is left as it is. */
    unsigned long prop = c->spec->linux.rootfs_propagation;
    unsigned long start = (prop & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE;
    if (cell_mounts_own_namespace(c) && mount(NULL, "/", NULL, MS_REC | start, NULL) < 0)
        return cell_error(err, errno, "make / %s", start == MS_PRIVATE ? "rprivate" : "rslave");
    if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return cell_error(err, errno, "bind mount rootfs %s", c->rootfs);
    int fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cell_error(err, errno, "open rootfs %s", c->rootfs);
    return fd;
}

static int mask_one(int rootfd, const char *path, cell_err_t *err)
{
    _cleanup_close_ int target = cell_openat_in_root(rootfd, path, O_PATH);
    if (target == -ENOENT)
        return 0;
    if (target < 0)
        return cell_error(err, -target, "linux.maskedPaths: open %s", path);
    struct stat st;
    if (fstat(target, &st) < 0)
        return cell_error(err, errno, "linux.maskedPaths: stat %s", path);
    _cleanup_close_ int mfd = -1;
    if (S_ISDIR(st.st_mode)) {
        struct cell_mount m = {.destination = (char *)path, .type = "tmpfs", .source = "tmpfs"};
        mfd = make_fs_mount(&m, "tmpfs", NULL, MS_RDONLY, err);
        if (mfd < 0)
            return mfd;
    } else {
        /* The container's own /dev/null, made by dev.c. */
        _cleanup_close_ int null = cell_openat_in_root(rootfd, "/dev/null", O_PATH);
        if (null < 0)
            return cell_error(err, -null, "linux.maskedPaths: %s: open /dev/null", path);
        mfd = open_tree(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (mfd < 0)
            return cell_error(err, errno, "linux.maskedPaths: clone /dev/null for %s", path);
    }
    if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return cell_error(err, errno, "linux.maskedPaths: mask %s", path);
    return 0;
}

static int readonly_one(int rootfd, const char *path, cell_err_t *err)
{
    _cleanup_close_ int target = cell_openat_in_root(rootfd, path, O_PATH);
    if (target == -ENOENT)
        return 0;
    if (target < 0)
        return cell_error(err, -target, "linux.readonlyPaths: open %s", path);
    _cleanup_close_ int mfd =
        open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (mfd < 0)
        return cell_error(err, errno, "linux.readonlyPaths: bind %s", path);
    if (set_attrs(mfd, MOUNT_ATTR_RDONLY, 0, 0, true) < 0)
        return cell_error(err, errno, "linux.readonlyPaths: make %s read-only", path);
    if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return cell_error(err, errno, "linux.readonlyPaths: mount %s", path);
    return 0;
}

int cell_mounts_mask_paths(struct cell_container *c, int rootfd, cell_err_t *err)
{
    for (char **p = c->spec->linux.masked_paths; p && *p; p++) {
        int r = mask_one(rootfd, *p, err);
        if (r < 0)
            return r;
    }
    for (char **p = c->spec->linux.readonly_paths; p && *p; p++) {
        int r = readonly_one(rootfd, *p, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int enter_pivot(int rootfd, cell_err_t *err)
{
    /* pivot_root(".", ".") stacks the old root on top of the new one; the
     * detach below then drops it, without needing a put_old directory. */
    if (fchdir(rootfd) < 0)
        return cell_error(err, errno, "chdir to rootfs");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return cell_error(err, errno, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        return cell_error(err, errno, "detach old root");
    return 0;
}

/* move_mount onto "/" only with a mount namespace of the container's own:
 * in the caller's it would cover the caller's root. */
static int enter_chroot(struct cell_container *c, int rootfd, bool move, cell_err_t *err)
{
    if (fchdir(rootfd) < 0)
        return cell_error(err, errno, "chdir to rootfs");
    if (move && mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return cell_error(err, errno, "move rootfs to /");
    if (chroot(".") < 0)
        return cell_error(err, errno, "chroot");
    return 0;
}

int cell_rootfs_enter(struct cell_container *c, int rootfd, cell_err_t *err)
{
    /* rootfd is the rootfs's bind onto itself (cell_rootfs_prepare): only
     * that mount turns read-only. */
    if (c->spec->root_readonly && set_attrs(rootfd, MOUNT_ATTR_RDONLY, 0, 0, false) < 0)
        return cell_error(err, errno, "make root read-only");
    /* pivot_root in the caller's mount namespace would swap the root of
     * every process in it: without a namespace of its own the container
     * gets a chroot, as runc does. */
    bool own = cell_mounts_own_namespace(c);
    int r = !own                ? enter_chroot(c, rootfd, false, err)
            : c->opts->no_pivot ? enter_chroot(c, rootfd, true, err)
                                : enter_pivot(rootfd, err);
    if (r < 0)
        return r;
    if (chdir("/") < 0)
        return cell_error(err, errno, "chdir /");
    /* In its own namespace a private root was made so before pivot_root;
     * in the caller's, "/" is now the rootfs's own bind and nothing else. */
    unsigned long prop = c->spec->linux.rootfs_propagation;
    if (prop && (!own || !(prop & MS_PRIVATE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
        return cell_error(err, errno, "linux.rootfsPropagation");
    return 0;
}

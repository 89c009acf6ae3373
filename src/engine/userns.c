/* A container's user namespace: root inside, an unprivileged range of ids
 * on the host. Two things make that work beyond the maps in config.json:
 * a range of its own for --userns auto, and a root filesystem the mapped
 * root owns, the image's layers seen through an idmapped mount (the
 * image's files stay owned by host root on disk, shared by every
 * container). */
#include "engine/userns.h"

#include "base/cleanup.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

/* --userns auto's ranges: 65536 ids (a whole 16-bit id space inside), the
 * first from 0x100000, above the ranges /etc/subuid hands to users by
 * default (100000 + 65536 per user). */
#define AUTO_BASE  0x100000ULL
#define AUTO_SIZE  65536ULL
#define AUTO_SLOTS 4096

#define HC(rec) json_object_get(rec, "HostConfig")

static bool is_auto(const json_t *rec)
{
    const char *mode = json_string_value(json_object_get(HC(rec), "UsernsMode"));
    return mode && !strcmp(mode, "auto");
}

/* Whether [lo, lo + n) meets a host range of maps. */
static bool overlaps(const json_t *maps, unsigned long long lo, unsigned long long n)
{
    size_t i;
    json_t *m;
    json_array_foreach(maps, i, m)
    {
        unsigned long long h = (unsigned long long)json_integer_value(json_object_get(m, "hostID"));
        unsigned long long sz = (unsigned long long)json_integer_value(json_object_get(m, "size"));
        if (lo < h + sz && h < lo + n)
            return true;
    }
    return false;
}

/* Every recorded container's uid and gid maps, in one array. */
static json_t *maps_in_use(struct cell_engine *e, cell_err_t *err)
{
    _cleanup_strv_ char **ids = NULL;
    if (cell_ctr_list(e, &ids, err) < 0)
        return NULL;
    json_t *all = json_array();
    for (char **p = ids; all && *p; p++) {
        struct cell_ctr c;
        if (cell_ctr_open(e, *p, false, &c, NULL) < 0)
            continue; /* removed meanwhile */
        json_array_extend(all, json_object_get(HC(c.rec), "UidMaps"));
        json_array_extend(all, json_object_get(HC(c.rec), "GidMaps"));
        cell_ctr_close(&c);
    }
    if (!all)
        cell_error(err, ENOMEM, "--userns auto");
    return all;
}

static int lock_ranges(struct cell_engine *e, cell_err_t *err)
{
    _cleanup_close_ int fd =
        openat(e->rootfd, "userns.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cell_error(err, errno, "open %s/userns.lock", e->root);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return cell_error(err, errno, "lock %s/userns.lock", e->root);
    return TAKE_FD(fd);
}

int cell_engine_userns_assign(struct cell_engine *e, json_t *rec, int *lockfd, cell_err_t *err)
{
    *lockfd = -1;
    if (!is_auto(rec))
        return 0;
    _cleanup_close_ int fd = lock_ranges(e, err);
    if (fd < 0)
        return -1;
    json_t *used = maps_in_use(e, err);
    if (!used)
        return -1;
    unsigned long long base = 0;
    for (int slot = 0; slot < AUTO_SLOTS && !base; slot++)
        if (!overlaps(used, AUTO_BASE + slot * AUTO_SIZE, AUTO_SIZE))
            base = AUTO_BASE + slot * AUTO_SIZE;
    json_decref(used);
    if (!base)
        return cell_error(err, 0, "--userns auto: no free range of %llu ids is left", AUTO_SIZE);
    json_t *m = json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID", (json_int_t)base, "size",
                          (json_int_t)AUTO_SIZE);
    json_object_set_new(HC(rec), "UidMaps", m);
    json_object_set_new(HC(rec), "GidMaps", json_deep_copy(m));
    *lockfd = TAKE_FD(fd);
    return 0;
}

/* ---- the idmapped root filesystem ------------------------------------------------ */

/* "inside outside count" lines, as /proc/PID/uid_map takes them. */
static char *map_text(const json_t *maps)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < json_array_size(maps); i++) {
        const json_t *m = json_array_get(maps, i);
        fprintf(f, "%lld %lld %lld\n",
                (long long)json_integer_value(json_object_get(m, "containerID")),
                (long long)json_integer_value(json_object_get(m, "hostID")),
                (long long)json_integer_value(json_object_get(m, "size")));
    }
    fclose(f);
    return text;
}

/* The host id of the container's id 0 (-1 when unmapped). */
static long long host_root(const json_t *maps)
{
    for (size_t i = 0; i < json_array_size(maps); i++) {
        const json_t *m = json_array_get(maps, i);
        if (json_integer_value(json_object_get(m, "containerID")) == 0)
            return (long long)json_integer_value(json_object_get(m, "hostID"));
    }
    return -1;
}

bool cell_engine_userns_root(const json_t *rec, uid_t *uid, gid_t *gid)
{
    long long u = host_root(json_object_get(HC(rec), "UidMaps")),
              g = host_root(json_object_get(HC(rec), "GidMaps"));
    if (u < 0 || g < 0)
        return false;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return true;
}

static int write_map(pid_t pid, const char *file, const char *text, cell_err_t *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text))
        return 0;
    /* The map as the user gave it, one line: "0 200000 10, 5 200005 10". */
    int e = errno;
    _cleanup_free_ char *shown = strndup(text, strlen(text) - 1);
    for (char *c = shown; c && *c; c++)
        if (*c == '\n')
            *c = ',';
    return cell_error(err, e, "the kernel refuses the %s \"%s\"", file, shown ? shown : "");
}

/* A child in a new user namespace of its own, which stays until *hold is
 * closed. */
static pid_t spawn_holder(int *hold, cell_err_t *err)
{
    int ready[2], h[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return cell_error(err, errno, "pipe");
    if (pipe2(h, O_CLOEXEC) < 0) {
        close(ready[0]), close(ready[1]);
        return cell_error(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(h[1]);
        int e = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
        char b;
        if (write(ready[1], &e, sizeof e) == sizeof e && !e)
            while (read(h[0], &b, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
    }
    int e = errno;
    close(ready[1]);
    close(h[0]);
    *hold = h[1];
    if (pid > 0 && read(ready[0], &e, sizeof e) != sizeof e)
        e = EIO;
    close(ready[0]);
    if (pid > 0 && e == 0)
        return pid;
    cell_closep(hold);
    *hold = -1;
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return cell_error(err, e, pid > 0 ? "unshare a user namespace" : "fork");
}

/* A user namespace carrying the maps, for mount_setattr(MOUNT_ATTR_IDMAP):
 * a child unshares it and waits while this process (root in the initial
 * namespace, so no setgroups restriction applies) writes its maps and
 * opens it; the open fd keeps it alive after the child exits. */
static int userns_with_maps(const char *uid_map, const char *gid_map, cell_err_t *err)
{
    int hold = -1;
    pid_t pid = spawn_holder(&hold, err);
    if (pid < 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    int fd = -1;
    if (write_map(pid, "uid_map", uid_map, err) == 0 &&
        write_map(pid, "gid_map", gid_map, err) == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        cell_error(err, errno, "open %s", path);
    close(hold); /* the child's read returns: it exits */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return fd;
}

int cell_engine_userns_snapshot(struct cell_image_store *s, const json_t *rec,
                                const struct cell_image *img, char **merged, cell_err_t *err)
{
    const char *id = json_string_value(json_object_get(rec, "Id"));
    const json_t *uids = json_object_get(HC(rec), "UidMaps"),
                 *gids = json_object_get(HC(rec), "GidMaps");
    if (!json_array_size(uids))
        return cell_image_snapshot_create(s, id, img, merged, err);
    const char *flag = is_auto(rec) ? "--userns" : "--uidmap";
    /* An unmapped container root: the upper dir stays the host root's. */
    struct cell_image_snapshot_idmap map = {.root_uid = 0, .root_gid = 0};
    cell_engine_userns_root(rec, &map.root_uid, &map.root_gid);
    _cleanup_free_ char *um = map_text(uids), *gm = map_text(gids);
    if (!um || !gm)
        return cell_error(err, ENOMEM, "%s", flag);
    _cleanup_close_ int nsfd = userns_with_maps(um, gm, err);
    if (nsfd < 0)
        return cell_error_prepend(err, "%s", flag);
    map.userns_fd = nsfd;
    if (cell_image_snapshot_create_idmapped(s, id, img, &map, merged, err) < 0)
        return cell_error_prepend(err, "%s", flag);
    return 0;
}

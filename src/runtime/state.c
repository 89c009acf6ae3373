#include "runtime/state.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define STATE_FILE "state.json"

const char *cell_status_name(enum cell_status s)
{
    static const char *names[] = {"creating", "created", "running", "stopped", "paused"};
    return names[s];
}

static int mkdir_p(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -errno;
    _cleanup_free_ char *parent = strdup(path);
    if (!parent)
        return -ENOMEM;
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return -ENOENT;
    *slash = '\0';
    int r = mkdir_p(parent, 0755);
    if (r < 0)
        return r;
    return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -errno;
}

int cell_state_root_open(const char *root, bool create, cell_err_t *err)
{
    if (create) {
        int r = mkdir_p(root, 0700);
        if (r < 0)
            return cell_error(err, -r, "state root %s", root);
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cell_error(err, errno, "state root %s", root);
    return fd;
}

int cell_state_dir_open(int rootfd, const char *id, bool lock, cell_err_t *err)
{
    _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return cell_error(err, 0, "container \"%s\" does not exist", id);
        return cell_error(err, errno, "container \"%s\"", id);
    }
    if (lock && flock(fd, LOCK_EX) < 0)
        return cell_error(err, errno, "lock container \"%s\"", id);
    return TAKE_FD(fd);
}

json_t *cell_state_to_json(const struct cell_state *st, enum cell_status status)
{
    json_t *o = json_object();
    json_object_set_new(o, "ociVersion", json_string(CELL_OCI_VERSION));
    json_object_set_new(o, "id", json_string(st->id));
    json_object_set_new(o, "status", json_string(cell_status_name(status)));
    /* runtime.md: pid is REQUIRED when created or running; hooks that run
     * while creating get it too. */
    if (status != CELL_STATUS_STOPPED && st->pid > 0)
        json_object_set_new(o, "pid", json_integer(st->pid));
    else
        json_object_set_new(o, "pid", json_integer(0));
    json_object_set_new(o, "bundle", json_string(st->bundle ? st->bundle : ""));
    json_object_set_new(o, "rootfs", json_string(st->rootfs ? st->rootfs : ""));
    json_object_set_new(o, "created", json_string(st->created ? st->created : ""));
    json_object_set_new(o, "owner", json_string(st->owner == 0 ? "root" : ""));
    if (st->annotations && json_object_size(st->annotations))
        json_object_set(o, "annotations", st->annotations);
    return o;
}

int cell_state_write(int dirfd, const struct cell_state *st, cell_err_t *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(st->id));
    json_object_set_new(o, "pid", json_integer(st->pid));
    json_object_set_new(o, "starttime", json_integer((json_int_t)st->starttime));
    json_object_set_new(o, "bundle", json_string(st->bundle));
    json_object_set_new(o, "rootfs", json_string(st->rootfs));
    json_object_set_new(o, "created", json_string(st->created));
    json_object_set_new(o, "owner", json_integer(st->owner));
    if (st->annotations)
        json_object_set(o, "annotations", st->annotations);
    if (st->cgroup)
        json_object_set(o, "cgroup", st->cgroup);
    if (st->hooks)
        json_object_set(o, "hooks", st->hooks);
    if (st->shared_pidns)
        json_object_set_new(o, "sharedPidns", json_true());
    if (st->no_new_keyring)
        json_object_set_new(o, "noNewKeyring", json_true());
    _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return cell_error(err, ENOMEM, "encode state");
    int r = cell_write_file_atomic_at(dirfd, STATE_FILE, text, strlen(text), 0600);
    if (r < 0)
        return cell_error(err, -r, "write state of \"%s\"", st->id);
    return 0;
}

#define CGROUP_XATTR "trusted.cell.cgroup"

int cell_state_mark_creating(int dirfd, const struct cell_state *st, cell_err_t *err)
{
    _cleanup_free_ char *text = st->cgroup ? json_dumps(st->cgroup, JSON_COMPACT) : NULL;
    if (text && fsetxattr(dirfd, CGROUP_XATTR, text, strlen(text), 0) == 0)
        return 0;
    return cell_state_write(dirfd, st, err);
}

/* The cgroup recorded by cell_state_mark_creating, when state.json is not
 * there yet. */
static json_t *read_creating_cgroup(int dirfd)
{
    char buf[8192];
    ssize_t n = fgetxattr(dirfd, CGROUP_XATTR, buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return json_loads(buf, 0, NULL);
}

static char *dup_field(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strdup(s) : NULL;
}

int cell_state_read(int dirfd, const char *id, struct cell_state *st, cell_err_t *err)
{
    memset(st, 0, sizeof *st);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = cell_read_file_at(dirfd, STATE_FILE, &text, &len);
    if (r == -ENOENT) {
        /* A create that is still running, or was killed before it wrote. */
        st->id = strdup(id);
        st->cgroup = read_creating_cgroup(dirfd);
        return 0;
    }
    if (r < 0)
        return cell_error(err, -r, "read state of \"%s\"", id);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return cell_error(err, 0, "state of \"%s\" is corrupt", id);
    }
    st->id = strdup(id);
    st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    st->starttime = (unsigned long long)json_integer_value(json_object_get(o, "starttime"));
    st->bundle = dup_field(o, "bundle");
    st->rootfs = dup_field(o, "rootfs");
    st->created = dup_field(o, "created");
    st->owner = (uid_t)json_integer_value(json_object_get(o, "owner"));
    st->annotations = json_incref(json_object_get(o, "annotations"));
    st->cgroup = json_incref(json_object_get(o, "cgroup"));
    st->hooks = json_incref(json_object_get(o, "hooks"));
    st->shared_pidns = json_is_true(json_object_get(o, "sharedPidns"));
    st->no_new_keyring = json_is_true(json_object_get(o, "noNewKeyring"));
    json_decref(o);
    return 0;
}

void cell_state_clear(struct cell_state *st)
{
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    json_decref(st->annotations);
    json_decref(st->cgroup);
    json_decref(st->hooks);
    memset(st, 0, sizeof *st);
}

/* runc reports a frozen container as "paused" (`pause`, `resume`). */
static bool cgroup_frozen(const struct cell_state *st)
{
    struct cell_cgroup *cg = NULL;
    bool frozen = false;
    if (st->cgroup && cell_cgroup_from_json(st->cgroup, &cg, NULL) == 0) {
        cell_cgroup_frozen(cg, &frozen, NULL);
        cell_cgroup_free(cg);
    }
    return frozen;
}

enum cell_status cell_state_status(int dirfd, const struct cell_state *st)
{
    if (st->pid <= 0)
        return CELL_STATUS_CREATING;
    bool zombie = false;
    unsigned long long start = cell_proc_starttime(st->pid, &zombie);
    if (start == 0 || start != st->starttime || zombie)
        return CELL_STATUS_STOPPED;
    struct stat sb;
    if (fstatat(dirfd, "exec.fifo", &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return CELL_STATUS_CREATED;
    return cgroup_frozen(st) ? CELL_STATUS_PAUSED : CELL_STATUS_RUNNING;
}

int cell_state_remove(int rootfd, const char *id, cell_err_t *err)
{
    int r = cell_rm_rf_at(rootfd, id);
    if (r < 0)
        return cell_error(err, -r, "remove state of \"%s\"", id);
    return 0;
}

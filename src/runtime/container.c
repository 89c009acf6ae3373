/* Lifecycle (runtime.md "Operations"): create, start, run, state, kill,
 * delete, list. These run in the runtime process on the host; the
 * container's side is init.c. */
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/warn.h"
#include "runtime/container.h"
#include "runtime/init/init.h"
#include "runtime/hooks.h"
#include "runtime/notify.h"
#include "runtime/proc.h"
#include "runtime/process/process.h"
#include "runtime/runtime.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool cell_id_valid(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0 || len > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = id[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  (i > 0 && (ch == '_' || ch == '.' || ch == '+' || ch == '-'));
        if (!ok)
            return false;
    }
    return true;
}

const char *cell_container_root(const char *root)
{
    return root ? root : CELL_RUNTIME_DEFAULT_ROOT;
}

static char *now_rfc3339(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return strdup(buf);
}

/* Everything create made, released in reverse by container_undo. */
struct creation {
    struct cell_container c;
    int rootfd, dirfd, parent_sync;
    int console_parent; /* foreground run with a terminal: receives the pty master */
    pid_t child; /* the cloned process (the intermediate on the two-stage path) */
    pid_t init;  /* the container's init */
    bool dir_made, cgroup_made;
    bool relay_terminal; /* foreground run: the runtime relays the pty */
};

static void creation_init(struct creation *k, const struct cell_create_opts *o)
{
    memset(k, 0, sizeof *k);
    k->c.opts = o;
    k->c.id = o->id;
    k->c.sync_fd = k->c.gate_fd = k->c.cg_clone_fd = k->c.console_fd = k->c.pty_peer = -1;
    for (int t = 0; t < CELL_NS_COUNT; t++)
        k->c.ns_fds[t] = -1;
    k->rootfd = k->dirfd = k->parent_sync = k->console_parent = -1;
}

/* What was opened for the child to inherit; the parent closes its copies
 * after clone. */
static void close_child_fds(struct cell_container *c)
{
    cell_mounts_close_binds(c);
    for (size_t i = 0; i < c->n_cg_join_fds; i++)
        close(c->cg_join_fds[i]);
    free(c->cg_join_fds);
    c->cg_join_fds = NULL;
    c->n_cg_join_fds = 0;
    if (c->cg_clone_fd >= 0)
        close(c->cg_clone_fd);
    c->cg_clone_fd = -1;
}

/* Called on every failure after the state dir was made: nothing is left. */
static void creation_undo(struct creation *k)
{
    if (k->init > 0)
        kill(k->init, SIGKILL);
    if (k->child > 0 && k->child != k->init)
        kill(k->child, SIGKILL);
    cell_proc_reap(k->child);
    if (k->init != k->child)
        cell_proc_reap(k->init);
    if (k->cgroup_made)
        cell_cgroup_destroy(k->c.cg, NULL);
    if (k->dir_made)
        cell_state_remove(k->rootfd, k->c.id, NULL);
}

static void creation_free(struct creation *k)
{
    struct cell_container *c = &k->c;
    close_child_fds(c);
    cell_ns_close(c);
    if (c->sync_fd >= 0)
        close(c->sync_fd);
    if (c->gate_fd >= 0)
        close(c->gate_fd);
    if (k->parent_sync >= 0)
        close(k->parent_sync);
    if (k->console_parent >= 0)
        close(k->console_parent);
    if (c->console_fd >= 0)
        close(c->console_fd);
    if (k->dirfd >= 0)
        close(k->dirfd);
    if (k->rootfd >= 0)
        close(k->rootfd);
    if (c->cg)
        cell_cgroup_free(c->cg);
    cell_seccomp_free(c->seccomp);
    if (c->spec)
        cell_spec_free(c->spec);
    free(c->bundle);
    free(c->rootfs);
}

static int resolve_paths(struct creation *k, cell_err_t *err)
{
    struct cell_container *c = &k->c;
    const char *bundle = c->opts->bundle ? c->opts->bundle : ".";
    c->bundle = realpath(bundle, NULL);
    if (!c->bundle)
        return cell_error(err, errno, "bundle %s", bundle);
    int r = cell_spec_load(c->bundle, &c->spec, err);
    if (r < 0)
        return r;
    for (char **w = c->spec->warnings; w && *w; w++)
        cell_warn("config.json: %s", *w);
    char path[PATH_MAX];
    const char *root = c->spec->root_path;
    if (snprintf(path, sizeof path, "%s/%s", c->bundle, root) >= (int)sizeof path)
        return cell_error(err, ENAMETOOLONG, "rootfs %s", root);
    c->rootfs = realpath(root[0] == '/' ? root : path, NULL);
    struct stat st;
    if (!c->rootfs || stat(c->rootfs, &st) < 0)
        return cell_error(err, errno, "rootfs %s", root[0] == '/' ? root : path);
    if (!S_ISDIR(st.st_mode))
        return cell_error(err, ENOTDIR, "rootfs %s", c->rootfs);
    return 0;
}

/* The namespace a sysctl belongs to, or -1 when it is host-wide. */
static int sysctl_namespace(const char *key)
{
    static const char *ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                     "kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                     "kernel.shmmni", "kernel.shm_rmid_forced"};
    if (!strncmp(key, "net.", 4))
        return CELL_NS_NET;
    if (!strncmp(key, "fs.mqueue.", 10))
        return CELL_NS_IPC;
    for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
        if (!strcmp(key, ipc_keys[i]))
            return CELL_NS_IPC;
    if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
        return CELL_NS_UTS;
    return -1;
}

/* A sysctl is written from inside the container; one that is not in a
 * namespace of the container's own would change the host. kernel.hostname
 * is the uts namespace's, but the hostname field says what it is to be
 * (runc refuses it too); kernel.domainname has no such field. */
static int check_sysctls(const struct cell_spec *spec, cell_err_t *err)
{
    for (size_t i = 0; i < spec->linux.n_sysctl; i++) {
        const char *key = spec->linux.sysctl[i].key;
        if (!strcmp(key, "kernel.hostname"))
            return cell_error(err, 0,
                              "config.json: linux.sysctl: \"%s\" conflicts with the hostname "
                              "field (set hostname instead)",
                              key);
        int ns = sysctl_namespace(key);
        if (ns < 0)
            return cell_error(err, 0, "config.json: linux.sysctl: \"%s\" is not namespaced", key);
        if (!spec->linux.ns[ns].present)
            return cell_error(err, 0,
                              "config.json: linux.sysctl: \"%s\" needs the container's own %s "
                              "namespace",
                              key, cell_ns_name(ns));
    }
    return 0;
}

/* Checks that need no kernel object, so a bad config makes nothing. */
static int validate_spec(const struct cell_spec *spec, cell_err_t *err)
{
    if (!spec->has_process)
        return cell_error(err, 0, "config.json: process: required to create a container");
    /* A uts namespace joined by path is the container's own too (the
     * name is set there, as runc does); only the host's is refused. */
    if ((spec->hostname || spec->domainname) && !spec->linux.ns[CELL_NS_UTS].present)
        return cell_error(err, 0, "config.json: %s: needs a uts namespace in linux.namespaces",
                          spec->hostname ? "hostname" : "domainname");
    int r = check_sysctls(spec, err);
    if (r < 0)
        return r;
    /* As runc: a mask or a read-only bind in the caller's own mount
     * namespace would hide /proc and /sys paths from the caller too. */
    bool restricts = (spec->linux.masked_paths && *spec->linux.masked_paths) ||
                     (spec->linux.readonly_paths && *spec->linux.readonly_paths);
    if (restricts && !spec->linux.ns[CELL_NS_MNT].present)
        return cell_error(err, 0,
                          "config.json: linux.maskedPaths, linux.readonlyPaths: need a mount "
                          "namespace of the container's own");
    const struct cell_namespace *user = &spec->linux.ns[CELL_NS_USER];
    if (user->present && !user->path && spec->linux.n_uid_mappings == 0)
        return cell_error(err, 0, "config.json: linux.uidMappings: required with a new user namespace");
    return 0;
}

static int make_state_dir(struct creation *k, cell_err_t *err)
{
    const char *id = k->c.id;
    if (mkdirat(k->rootfd, id, 0711) < 0) {
        if (errno == EEXIST)
            return cell_error(err, 0, "container \"%s\" already exists", id);
        return cell_error(err, errno, "make state of \"%s\"", id);
    }
    k->dir_made = true;
    k->dirfd = cell_state_dir_open(k->rootfd, id, true, err);
    return k->dirfd < 0 ? k->dirfd : 0;
}

static int mark_creating(struct creation *k, cell_err_t *err)
{
    struct cell_state st = {.id = (char *)k->c.id, .cgroup = cell_cgroup_to_json(k->c.cg)};
    int r = cell_state_mark_creating(k->dirfd, &st, err);
    json_decref(st.cgroup);
    return r;
}

static int make_cgroup(struct creation *k, cell_err_t *err)
{
    struct cell_container *c = &k->c;
    int r = cell_cgroup_new(c->spec->linux.cgroups_path, c->id, c->opts->systemd_cgroup,
                            &c->cg, err);
    if (r < 0)
        return r;
    /* Recorded before it exists: a runtime killed from here on leaves a
     * state that `delete --force` can clean up from. */
    if ((r = mark_creating(k, err)) < 0)
        return r;
    struct cell_resources res = c->spec->linux.resources;
    _cleanup_free_ struct cell_device_rule *rules = NULL;
    if (cell_dev_cgroup_rules(c->spec, &rules, &res.n_devices) < 0)
        return cell_error(err, ENOMEM, "device rules");
    res.devices = rules;
    r = cell_cgroup_create(c->cg, &res, err);
    if (r < 0)
        return r;
    k->cgroup_made = true;
    return cell_cgroup_open_join_fds(c->cg, &c->cg_join_fds, &c->n_cg_join_fds, &c->cg_clone_fd,
                                     err);
}

static int make_channels(struct creation *k, bool gate_fifo, cell_err_t *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_error(err, errno, "socketpair");
    k->parent_sync = sv[0];
    k->c.sync_fd = sv[1];
    if (!gate_fifo)
        return 0;
    /* The init holds the fifo open read-write, so its read blocks until
     * `start` writes, and `start` gets ENXIO once the init is gone. */
    if (mkfifoat(k->dirfd, "exec.fifo", 0600) < 0)
        return cell_error(err, errno, "make exec.fifo");
    k->c.gate_fd = openat(k->dirfd, "exec.fifo", O_RDWR | O_CLOEXEC);
    if (k->c.gate_fd < 0)
        return cell_error(err, errno, "open exec.fifo");
    return 0;
}

/* The pty master goes to --console-socket; a foreground run without one
 * keeps it and relays it to its own terminal, as runc does. */
static int make_console_channel(struct creation *k, cell_err_t *err)
{
    const struct cell_create_opts *o = k->c.opts;
    if (!k->c.spec->process.terminal)
        return 0;
    if (o->console_socket) {
        k->c.console_fd = cell_terminal_connect(o->console_socket, err);
        return k->c.console_fd < 0 ? k->c.console_fd : 0;
    }
    if (o->console_fd > 0) {
        k->c.console_fd = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
        return k->c.console_fd < 0 ? cell_error(err, errno, "console socket") : 0;
    }
    if (!k->relay_terminal)
        return cell_error(err, 0, "process.terminal: --console-socket is required");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_error(err, errno, "socketpair");
    k->console_parent = sv[0];
    k->c.console_fd = sv[1];
    return 0;
}

static pid_t clone_init(struct cell_container *c)
{
    unsigned long flags = c->clone_flags;
    struct clone_args args = {.exit_signal = SIGCHLD};
    if (c->cg_clone_fd >= 0) {
        /* Born in its cgroup: the cgroup namespace can come with the clone. */
        flags |= CLONE_INTO_CGROUP;
        if (!c->two_stage) {
            flags |= c->unshare_flags & CLONE_NEWCGROUP;
            c->unshare_flags &= ~(unsigned long)CLONE_NEWCGROUP;
        }
        args.cgroup = (uint64_t)c->cg_clone_fd;
    }
    args.flags = flags;
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS && c->cg_clone_fd < 0)
        pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    return pid;
}

/* The config's annotations as the state shows them (state.md). */
static json_t *annotations_json(const struct cell_spec *spec)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < spec->n_annotations; i++)
        json_object_set_new(o, spec->annotations[i].key, json_string(spec->annotations[i].value));
    return o;
}

static int record_state(struct creation *k, cell_err_t *err)
{
    struct cell_container *c = &k->c;
    _cleanup_free_ char *created = now_rfc3339();
    json_t *annotations = annotations_json(c->spec);
    struct cell_state st = {
        .id = (char *)c->id,
        .pid = k->init,
        .starttime = cell_proc_starttime(k->init, NULL),
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .created = created,
        .owner = geteuid(),
        .annotations = annotations,
        .cgroup = cell_cgroup_to_json(c->cg),
        .hooks = cell_hooks_to_json(c->spec),
        .shared_pidns =
            !c->spec->linux.ns[CELL_NS_PID].present || c->spec->linux.ns[CELL_NS_PID].path != NULL,
        .no_new_keyring = c->opts->no_new_keyring,
    };
    int r = cell_state_write(k->dirfd, &st, err);
    json_decref(st.annotations);
    json_decref(st.cgroup);
    json_decref(st.hooks);
    return r;
}

/* The state object that hooks get on stdin (config.md "Hooks"). */
static char *creation_state_text(struct creation *k, enum cell_status status)
{
    struct cell_container *c = &k->c;
    struct cell_state st = {.id = (char *)c->id, .pid = k->init, .bundle = c->bundle,
                            .rootfs = c->rootfs};
    st.annotations = annotations_json(c->spec);
    json_t *o = cell_state_to_json(&st, status);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    json_decref(st.annotations);
    return text;
}

static int run_spec_hooks(struct creation *k, enum cell_hook_kind kind, enum cell_status status,
                          cell_err_t *err)
{
    const struct cell_spec *spec = k->c.spec;
    if (spec->n_hooks[kind] == 0)
        return 0;
    _cleanup_free_ char *state = creation_state_text(k, status);
    return cell_hooks_run(spec->hooks[kind], spec->n_hooks[kind], kind, state, err);
}

/* The init paused before pivot_root: prestart and createRuntime run now,
 * in the runtime's namespaces; the init gets the state for its own hooks.
 * All four see "created": these hooks are steps 3-5 and 7 of runtime.md's
 * lifecycle, after step 2 made the environment, and its State section's
 * "created" is "after step 2", before the user's program runs (crun says
 * so too; runc 1.1 says "creating" to all but startContainer). The two
 * that run in the container get the pid as it sees it (init.c), as in runc. */
static int answer_hooks(struct creation *k, cell_err_t *err)
{
    int r;
    if ((r = run_spec_hooks(k, CELL_HOOK_PRESTART, CELL_STATUS_CREATED, err)) < 0 ||
        (r = run_spec_hooks(k, CELL_HOOK_CREATE_RUNTIME, CELL_STATUS_CREATED, err)) < 0)
        return r;
    _cleanup_free_ char *state = creation_state_text(k, CELL_STATUS_CREATED);
    if (state && strlen(state) >= CELL_SYNC_TEXT_MAX)
        return cell_error(err, E2BIG, "hooks: container state too large");
    return cell_sync_send(k->parent_sync, SYNC_HOOKS_DONE, 0, state);
}

static int answer_seccomp_fd(struct creation *k, int fd, cell_err_t *err)
{
    _cleanup_close_ int nfd = fd;
    _cleanup_free_ char *state = creation_state_text(k, CELL_STATUS_CREATING);
    return cell_seccomp_send_to_listener(k->c.spec, nfd, state, err);
}

/* The parent's half of setup: answer the init until it waits at the gate. */
static int follow_setup(struct creation *k, cell_err_t *err)
{
    struct cell_container *c = &k->c;
    int r;
    if (!c->two_stage) {
        k->init = k->child;
        if ((r = record_state(k, err)) < 0)
            return r;
        if (c->userns) {
            if ((r = cell_ns_write_mappings(k->child, c->spec, err)) < 0)
                return r;
            cell_sync_send(k->parent_sync, SYNC_USERNS_MAPPED, 0, NULL);
        }
    }
    for (;;) {
        struct cell_sync_msg msg;
        r = cell_sync_expect(k->parent_sync, SYNC_CREATED, &msg, err);
        if (r == 0 || msg.type == SYNC_ERROR || r != -EPROTO)
            return r;
        if (msg.type == SYNC_USERNS_READY) {
            if ((r = cell_ns_write_mappings(msg.value, c->spec, err)) < 0)
                return r;
            cell_sync_send(k->parent_sync, SYNC_USERNS_MAPPED, 0, NULL);
        } else if (msg.type == SYNC_HOOKS) {
            if ((r = answer_hooks(k, err)) < 0)
                return r;
        } else if (msg.type == SYNC_MOUNT_SOURCES) {
            if ((r = cell_mounts_send_sources(c, k->init, k->parent_sync, err)) < 0)
                return r;
        } else if (msg.type == SYNC_SECCOMP_FD) {
            if ((r = answer_seccomp_fd(k, msg.rights_fd, err)) < 0)
                return r;
        } else if (msg.type == SYNC_INIT_PID) {
            k->init = msg.value;
            cell_proc_reap(k->child);
            k->child = k->init;
            if ((r = record_state(k, err)) < 0)
                return r;
        } else {
            return r;
        }
        cell_error_clear(err);
    }
}

static int create_container(struct creation *k, bool gate_fifo, cell_err_t *err)
{
    struct cell_container *c = &k->c;
    int r;
    if (!cell_id_valid(c->id))
        return cell_error(err, 0, "invalid container id \"%s\"", c->id ? c->id : "");
    if ((r = cell_cgroup_check_driver(c->opts->systemd_cgroup, err)) < 0)
        return r;
    if ((r = resolve_paths(k, err)) < 0 || (r = validate_spec(c->spec, err)) < 0 ||
        (r = cell_seccomp_prepare_at(c->spec, cell_container_root(c->opts->root), &c->seccomp,
                                     err)) < 0)
        return r;
    k->rootfd = cell_state_root_open(cell_container_root(c->opts->root), true, err);
    if (k->rootfd < 0)
        return k->rootfd;
    if ((r = make_state_dir(k, err)) < 0 || (r = cell_notify_prepare(c->spec, k->dirfd, err)) < 0 ||
        (r = make_cgroup(k, err)) < 0 ||
        (r = cell_ns_plan(c, err)) < 0 || (r = make_channels(k, gate_fifo, err)) < 0 ||
        (r = make_console_channel(k, err)) < 0)
        return r;
    if (c->two_stage)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if ((r = cell_mounts_open_binds(c, err)) < 0 || (r = cell_ns_prepare_parent(c, err)) < 0)
        return r;
    k->child = clone_init(c);
    if (k->child < 0)
        return cell_error(err, errno, "clone container init");
    if (k->child == 0) {
        close(k->parent_sync);
        cell_init_main(c);
    }
    close_child_fds(c);
    cell_ns_close(c);
    close(c->sync_fd);
    c->sync_fd = -1;
    if ((r = cell_cgroup_after_clone(c->cg, err)) < 0)
        return r;
    if (c->console_fd >= 0)
        close(c->console_fd);
    c->console_fd = -1;
    if ((r = cell_process_set_oom_score_adj(k->child, c->spec->process.oom_score_adj, err)) < 0 ||
        (r = follow_setup(k, err)) < 0)
        return r;
    return cell_proc_write_pid_file(c->opts->pid_file, k->init, err);
}

int cell_runtime_create(const struct cell_create_opts *o, cell_err_t *err)
{
    struct creation k;
    creation_init(&k, o);
    int r = create_container(&k, true, err);
    if (r < 0)
        creation_undo(&k);
    creation_free(&k);
    return r;
}

/* Hooks kept in a container's state, for start and delete. */
static int run_state_hooks(const struct cell_state *st, enum cell_hook_kind kind,
                           enum cell_status status, cell_err_t *err)
{
    if (!st->hooks)
        return 0;
    struct cell_hook *hooks = NULL;
    size_t n = 0;
    int r = cell_hooks_from_json(st->hooks, kind, &hooks, &n, err);
    if (r < 0 || n == 0)
        return r;
    json_t *o = cell_state_to_json(st, status);
    _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = cell_hooks_run(hooks, n, kind, text, err);
    cell_hooks_free(hooks, n);
    return r;
}

static int open_gate(int dirfd, const char *id, bool wait_exec, cell_err_t *err)
{
    _cleanup_close_ int fd = openat(dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENXIO)
            return cell_error(err, 0, "container \"%s\" is not running", id);
        return cell_error(err, errno, "container \"%s\": open exec.fifo", id);
    }
    if (write(fd, "0", 1) != 1)
        return cell_error(err, errno, "container \"%s\": start", id);
    unlinkat(dirfd, "exec.fifo", 0);
    /* poststart hooks run after the user's process is executed (config.md):
     * the init's end of the fifo closes at its execve, or its death, and a
     * writer then sees POLLERR. */
    struct pollfd pfd = {.fd = fd, .events = 0};
    while (wait_exec && poll(&pfd, 1, -1) < 0 && errno == EINTR)
        ;
    return 0;
}

int cell_runtime_start(const char *root, const char *id, cell_err_t *err)
{
    _cleanup_close_ int rootfd = -1, dirfd = -1;
    struct cell_state st;
    int r = cell_container_load(root, id, true, &rootfd, &dirfd, &st, err);
    if (r < 0)
        return r;
    enum cell_status status = cell_state_status(dirfd, &st);
    if (status != CELL_STATUS_CREATED)
        r = cell_error(err, 0, "container \"%s\" is %s, not created", id,
                       cell_status_name(status));
    _cleanup_close_ int notify = -1;
    if (r == 0)
        r = cell_notify_bind(dirfd, &notify, err);
    if (r == 0)
        r = open_gate(dirfd, id, st.hooks != NULL, err);
    /* runtime.md, step 9: a failing poststart hook MUST "generate an error,
     * stop the container, and continue the lifecycle at step 12" (delete,
     * then poststop). Specs before 1.1 said to log a warning and carry on
     * instead; runc 1.1, which runs poststart at create, kills the
     * container and fails too. */
    if (r == 0 && (r = run_state_hooks(&st, CELL_HOOK_POSTSTART, CELL_STATUS_RUNNING, err)) < 0 &&
        cell_proc_starttime(st.pid, NULL) == st.starttime)
        kill(st.pid, SIGKILL);
    if (r == 0 && notify >= 0) { /* READY=1 may take long: not under the lock */
        close(TAKE_FD(dirfd));
        r = cell_notify_relay(notify, st.pid, err);
    }
    cell_state_clear(&st);
    return r;
}

/* After SYNC_START, the socket closes on a successful execve (CLOEXEC);
 * an error message means the exec failed. */
static int release_and_confirm(struct creation *k, cell_err_t *err)
{
    cell_sync_send(k->parent_sync, SYNC_START, 0, NULL);
    struct cell_sync_msg msg;
    int r = cell_sync_recv(k->parent_sync, &msg);
    if (r == -EPIPE)
        return 0;
    if (r == 0 && msg.type == SYNC_ERROR)
        return cell_error(err, 0, "%s", msg.text);
    return cell_error(err, r < 0 ? -r : EPROTO, "start container");
}

/* Read before the cgroup goes: a warning for the caller to show. */
static void report_oom(struct creation *k, cell_err_t *err)
{
    bool killed = false;
    if (k->c.cg && cell_cgroup_oom_killed(k->c.cg, &killed, NULL) == 0 && killed)
        cell_error(err, 0, "container \"%s\": the OOM killer fired (memory limit)", k->c.id);
}

int cell_runtime_run(const struct cell_create_opts *o, int *exit_code, cell_err_t *err)
{
    struct creation k;
    creation_init(&k, o);
    k.relay_terminal = !o->detach;
    int r = create_container(&k, false, err);
    _cleanup_close_ int master = -1, notify = -1;
    if (r == 0 && k.console_parent >= 0)
        r = master = cell_terminal_recv_master(k.console_parent, err);
    if (r >= 0)
        r = cell_notify_bind(k.dirfd, &notify, err);
    if (r >= 0)
        r = release_and_confirm(&k, err);
    bool started = r >= 0;
    if (r >= 0)
        r = run_spec_hooks(&k, CELL_HOOK_POSTSTART, CELL_STATUS_RUNNING, err);
    if (r < 0) {
        creation_undo(&k);
        /* A failed poststart continues at step 12 (see start): the
         * container is gone now, and poststop runs as after any delete. */
        if (started)
            run_spec_hooks(&k, CELL_HOOK_POSTSTOP, CELL_STATUS_STOPPED, NULL);
        creation_free(&k);
        return r;
    }
    *exit_code = 0;
    /* Created: release the lock so that state, kill and delete work while
     * a foreground run waits. */
    close(k.dirfd);
    k.dirfd = -1;
    if (notify >= 0 && (o->detach ? cell_notify_relay(notify, k.init, err)
                                  : cell_notify_relay_background(notify, k.init, err)) < 0) {
        creation_free(&k);
        return -1;
    }
    if (!o->detach) {
        cell_proc_forward_signals(k.init);
        *exit_code = master >= 0 ? cell_terminal_relay(master, k.init) : cell_proc_wait_exit_code(k.init);
        cell_proc_forward_signals(0);
        report_oom(&k, err);
        if (!o->keep) {
            k.init = k.child = 0;
            creation_undo(&k);
            /* Never fails: a failing poststop hook is a warning. */
            run_spec_hooks(&k, CELL_HOOK_POSTSTOP, CELL_STATUS_STOPPED, NULL);
        }
    }
    creation_free(&k);
    return 0;
}

/* Opens and reads a container's record; with lock, it is held while dirfd
 * is open. */
int cell_container_load(const char *root, const char *id, bool lock, int *rootfd, int *dirfd,
                          struct cell_state *st, cell_err_t *err)
{
    if (!cell_id_valid(id))
        return cell_error(err, 0, "invalid container id \"%s\"", id ? id : "");
    *rootfd = cell_state_root_open(cell_container_root(root), false, err);
    if (*rootfd < 0)
        return cell_error(err, 0, "container \"%s\" does not exist", id);
    *dirfd = cell_state_dir_open(*rootfd, id, lock, err);
    if (*dirfd < 0)
        return *dirfd;
    return cell_state_read(*dirfd, id, st, err);
}

int cell_container_cgroup(const struct cell_state *st, struct cell_cgroup **cg, cell_err_t *err)
{
    *cg = NULL;
    if (!st->cgroup)
        return 0;
    return cell_cgroup_from_json(st->cgroup, cg, err);
}

/* runc's words, which clients match: containerd's shim takes "container
 * not running" to mean the process is already gone, and any other text
 * for an unknown error. */
#define NOT_RUNNING "container not running"

static bool status_alive(enum cell_status status)
{
    return status == CELL_STATUS_CREATED || status == CELL_STATUS_RUNNING ||
           status == CELL_STATUS_PAUSED;
}

static int signal_init(const struct cell_state *st, int sig, cell_err_t *err)
{
    /* A pidfd pins the process: after the start-time check, the signal
     * cannot reach a recycled pid. */
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    if (pidfd < 0 && errno != ESRCH)
        return cell_error(err, errno, "pidfd_open %d (container \"%s\")", (int)st->pid, st->id);
    if (pidfd < 0 || cell_proc_starttime(st->pid, NULL) != st->starttime)
        return cell_error(err, 0, "container \"%s\": " NOT_RUNNING, st->id);
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return cell_error(err, errno, "signal container \"%s\"", st->id);
    return 0;
}

/* kill --all signals what is in the cgroup, whatever the status: a
 * container that joined another's pid namespace keeps its other processes
 * when its init dies, and this is how a client ends them. As runc, nothing
 * left to signal (the cgroup empty or gone) is success. */
static int kill_all(const struct cell_state *st, enum cell_status status, int sig, cell_err_t *err)
{
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    int r = cell_container_cgroup(st, &cg, err);
    if (r < 0)
        return r;
    if (cg)
        return cell_cgroup_kill_all(cg, sig, err);
    return status_alive(status) ? signal_init(st, sig, err) : 0;
}

/* On v1 a frozen task dies of SIGKILL only once thawed; runc thaws a
 * paused container after killing its init. */
static void thaw(const struct cell_state *st)
{
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    if (cell_container_cgroup(st, &cg, NULL) == 0 && cg)
        cell_cgroup_freeze(cg, false, NULL);
}

int cell_runtime_kill(const char *root, const char *id, int sig, bool all, cell_err_t *err)
{
    _cleanup_close_ int rootfd = -1, dirfd = -1;
    struct cell_state st;
    int r = cell_container_load(root, id, false, &rootfd, &dirfd, &st, err);
    if (r < 0)
        return r;
    enum cell_status status = cell_state_status(dirfd, &st);
    if (all)
        r = kill_all(&st, status, sig, err);
    else if (!status_alive(status))
        r = cell_error(err, 0, "container \"%s\": " NOT_RUNNING, id);
    else if ((r = signal_init(&st, sig, err)) == 0 && sig == SIGKILL &&
             status == CELL_STATUS_PAUSED)
        thaw(&st);
    cell_state_clear(&st);
    return r;
}

/* Waits until the init is gone or a zombie (our PID 1 may never reap it).
 * A create killed before it recorded the init's pid left none to wait for
 * (the status would stay "creating" to the end): the cgroup's rmdir waits
 * for whatever the kill reached. */
static void wait_stopped(int dirfd, const struct cell_state *st)
{
    for (int i = 0; st->pid > 0 && i < 2000; i++) {
        if (cell_state_status(dirfd, st) == CELL_STATUS_STOPPED)
            return;
        waitpid(st->pid, NULL, WNOHANG);
        poll(NULL, 0, 1);
    }
}

static int kill_everything(int dirfd, struct cell_state *st, struct cell_cgroup *cg)
{
    if (cg)
        cell_cgroup_kill_all(cg, SIGKILL, NULL);
    if (st->pid > 0 && cell_proc_starttime(st->pid, NULL) == st->starttime)
        signal_init(st, SIGKILL, NULL);
    wait_stopped(dirfd, st);
    return 0;
}

/* True only when the container's state directory is certainly absent. */
static bool container_absent(const char *root, const char *id)
{
    _cleanup_close_ int rootfd = -1;
    if (!cell_id_valid(id))
        return false;
    rootfd = open(cell_container_root(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return errno == ENOENT;
    return faccessat(rootfd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

int cell_runtime_delete(const char *root, const char *id, bool force, cell_err_t *err)
{
    _cleanup_close_ int rootfd = -1, dirfd = -1;
    struct cell_state st;
    /* As runc and crun: delete --force of a container that is not there
     * succeeds. podman calls it to clean up after a failed create, and
     * shows any error as if it were the cause. */
    if (force && container_absent(root, id))
        return 0;
    int r = cell_container_load(root, id, true, &rootfd, &dirfd, &st, err);
    if (r < 0)
        return r;
    enum cell_status status = cell_state_status(dirfd, &st);
    /* runc deletes a created container without --force: nothing of the
     * user's has run yet. */
    if ((status == CELL_STATUS_RUNNING || status == CELL_STATUS_PAUSED) && !force) {
        cell_state_clear(&st);
        return cell_error(err, 0, "container \"%s\" is %s: stop it or use --force", id,
                          cell_status_name(status));
    }
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    r = cell_container_cgroup(&st, &cg, err);
    if (r == 0 && status != CELL_STATUS_STOPPED)
        kill_everything(dirfd, &st, cg);
    /* A dead init that did not own its pid namespace took nothing else
     * with it; what remains would hold the cgroup (runc kills it too). */
    else if (r == 0 && cg && st.shared_pidns)
        cell_cgroup_kill_all(cg, SIGKILL, NULL);
    if (r == 0 && cg)
        r = cell_cgroup_destroy(cg, err);
    if (r == 0)
        r = cell_state_remove(rootfd, id, err);
    /* runtime.md: a poststop failure is logged as a warning and does not
     * fail delete (cell_hooks_run); a state whose hooks do not read back
     * stays in err as a warning for the caller to show. */
    if (r == 0)
        run_state_hooks(&st, CELL_HOOK_POSTSTOP, CELL_STATUS_STOPPED, err);
    cell_state_clear(&st);
    return r;
}

/* The container's init, from clone to execve. This file is the order of the
 * steps; each step lives in a topic file. It runs in the child, which
 * starts with the runtime's host credentials and, when a user namespace was
 * cloned, all capabilities inside that namespace only. */
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/path.h"
#include "runtime/container.h"
#include "runtime/init/dev.h"
#include "runtime/init/mount.h"
#include "runtime/init/ns.h"
#include "runtime/hooks.h"
#include "runtime/init/loopback.h"
#include "runtime/process/process.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


/* First thing, while still the host's root: the v1 cgroup permission check
 * passes for the host root moving itself, whatever namespace follows. */
static int join_cgroup(struct cell_container *c, cell_err_t *err)
{
    for (size_t i = 0; i < c->n_cg_join_fds; i++) {
        if (write(c->cg_join_fds[i], "0", 1) != 1)
            return cell_error(err, errno, "join cgroup %s (%s)", c->cg->path,
                              i < c->cg->n_hiers ? c->cg->hiers[i].name : "?");
        close(c->cg_join_fds[i]);
    }
    c->n_cg_join_fds = 0;
    return 0;
}

/* With a new user namespace, the parent writes the maps; then become the
 * namespace's root so that files owned by the mapped root are ours. */
static int become_userns_root(struct cell_container *c, cell_err_t *err)
{
    struct cell_sync_msg msg;
    int r = cell_sync_expect(c->sync_fd, SYNC_USERNS_MAPPED, &msg, err);
    if (r < 0)
        return r;
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return cell_error(err, errno, "become root in the user namespace (is 0 mapped?)");
    return 0;
}

/* Two-stage path (see ns.c): join, unshare, and fork the init into the new
 * pid namespace. Returns in the init; the intermediate exits here. */
static int run_intermediate(struct cell_container *c, cell_err_t *err)
{
    int r = cell_ns_join(c, err);
    if (r < 0)
        return r;
    if (c->userns) {
        if (unshare(CLONE_NEWUSER) < 0)
            return cell_error(err, errno, "make user namespace");
        cell_sync_send(c->sync_fd, SYNC_USERNS_READY, getpid(), NULL);
        if ((r = become_userns_root(c, err)) < 0)
            return r;
    }
    unsigned long rest = c->unshare_flags & ~(unsigned long)(CLONE_NEWUSER | CLONE_NEWPID);
    if (rest && unshare((int)rest) < 0)
        return cell_error(err, errno, "make namespaces");
    if (!(c->unshare_flags & CLONE_NEWPID))
        return 0;
    if (unshare(CLONE_NEWPID) < 0)
        return cell_error(err, errno, "make pid namespace");
    pid_t pid = fork();
    if (pid < 0)
        return cell_error(err, errno, "fork container init");
    if (pid == 0)
        return 0;
    cell_sync_send(c->sync_fd, SYNC_INIT_PID, pid, NULL);
    _exit(0);
}

/* Right after the namespaces are made: inside the new network namespace,
 * still with every capability (CAP_NET_ADMIN over a namespace that a new
 * user namespace owns, too), before the user switch and the capability
 * drop; and before the prestart/createRuntime hooks, which may expect a
 * working 127.0.0.1 (runc brings lo up at the same point). A joined
 * namespace, or the host's, is left as it is. */
static int setup_network(struct cell_container *c, cell_err_t *err)
{
    const struct cell_namespace *net = &c->spec->linux.ns[CELL_NS_NET];
    if (!net->present || net->path)
        return 0;
    return cell_loopback_up(err);
}

static int enter_namespaces(struct cell_container *c, cell_err_t *err)
{
    if (c->two_stage)
        return run_intermediate(c, err);
    int r = c->userns ? become_userns_root(c, err) : 0;
    if (r == 0)
        r = cell_ns_join(c, err);
    if (r == 0 && c->unshare_flags && unshare((int)c->unshare_flags) < 0)
        r = cell_error(err, errno, "make cgroup namespace");
    return r;
}

/* Through the host's /proc, before pivot_root: net.*, kernel.shm* and
 * kernel.hostname resolve against the writer's own namespaces. */
static int apply_sysctls(const struct cell_spec *spec, cell_err_t *err)
{
    for (size_t i = 0; i < spec->linux.n_sysctl; i++) {
        const struct cell_key_value *kv = &spec->linux.sysctl[i];
        char path[PATH_MAX] = "/proc/sys/";
        size_t off = strlen(path);
        for (const char *k = kv->key; *k && off < sizeof path - 1; k++)
            path[off++] = *k == '.' ? '/' : *k;
        path[off] = '\0';
        if (strstr(kv->key, "..") || strchr(kv->key, '/'))
            return cell_error(err, EINVAL, "linux.sysctl: invalid key \"%s\"", kv->key);
        int r = cell_write_file_at(AT_FDCWD, path, kv->value, strlen(kv->value));
        if (r < 0)
            return cell_error(err, -r, "linux.sysctl: set %s=%s", kv->key, kv->value);
    }
    return 0;
}

static int set_names(const struct cell_spec *spec, cell_err_t *err)
{
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return cell_error(err, errno, "set hostname \"%s\"", spec->hostname);
    if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return cell_error(err, errno, "set domainname \"%s\"", spec->domainname);
    return 0;
}

static int open_terminal(struct cell_container *c, int rootfd, cell_err_t *err)
{
    if (c->console_fd < 0)
        return 0;
    c->pty_peer = cell_terminal_open(rootfd, &c->spec->process, c->console_fd, true, err);
    close(c->console_fd);
    c->console_fd = -1;
    return c->pty_peer < 0 ? c->pty_peer : 0;
}

static bool has_hooks(const struct cell_spec *spec)
{
    for (int k = 0; k < CELL_HOOK_COUNT; k++)
        if (k != CELL_HOOK_POSTSTART && k != CELL_HOOK_POSTSTOP && spec->n_hooks[k])
            return true;
    return false;
}

/* Before pivot_root: the runtime runs prestart and createRuntime while we
 * wait, then we run createContainer here, in the container's namespaces. */
static int run_create_hooks(struct cell_container *c, cell_err_t *err)
{
    if (!has_hooks(c->spec))
        return 0;
    struct cell_sync_msg msg;
    cell_sync_send(c->sync_fd, SYNC_HOOKS, 0, NULL);
    int r = cell_sync_expect(c->sync_fd, SYNC_HOOKS_DONE, &msg, err);
    if (r < 0)
        return r;
    c->hook_state = cell_hooks_state_as_seen_inside(msg.text);
    const struct cell_spec *s = c->spec;
    return cell_hooks_run(s->hooks[CELL_HOOK_CREATE_CONTAINER], s->n_hooks[CELL_HOOK_CREATE_CONTAINER],
                          CELL_HOOK_CREATE_CONTAINER, c->hook_state, err);
}

static int run_start_hooks(struct cell_container *c, cell_err_t *err)
{
    const struct cell_spec *s = c->spec;
    return cell_hooks_run(s->hooks[CELL_HOOK_START_CONTAINER], s->n_hooks[CELL_HOOK_START_CONTAINER],
                          CELL_HOOK_START_CONTAINER, c->hook_state, err);
}

static int setup_rootfs(struct cell_container *c, cell_err_t *err)
{
    _cleanup_close_ int rootfd = cell_rootfs_prepare(c, err);
    if (rootfd < 0)
        return rootfd;
    int r;
    if ((r = cell_mounts_apply(c, rootfd, err)) < 0 || (r = cell_dev_setup(c, rootfd, err)) < 0 ||
        (r = apply_sysctls(c->spec, err)) < 0 || (r = open_terminal(c, rootfd, err)) < 0)
        return r;
    /* cwd is made if missing, as runc does, while the root is writable. */
    if (c->spec->process.cwd) {
        _cleanup_close_ int cwd = cell_mkdir_in_root(rootfd, c->spec->process.cwd, 0755, err);
        if (cwd < 0)
            return cell_error_prepend(err, "process.cwd");
    }
    if ((r = cell_mounts_mask_paths(c, rootfd, err)) < 0 || (r = run_create_hooks(c, err)) < 0)
        return r;
    return cell_rootfs_enter(c, rootfd, err);
}

/* The process's own setup, as for an exec'd one (process.c); what the init
 * has of its own: the pty opened with the root, the gate fd. */
static int setup_process(struct cell_container *c, char **exe, char ***env, cell_err_t *err)
{
    char keyring[64];
    snprintf(keyring, sizeof keyring, "_ses.%.50s", c->id);
    struct cell_process_setup s = {
        .spec = c->spec,
        .seccomp = c->seccomp,
        .sync_fd = c->sync_fd,
        .pty_peer = c->pty_peer,
        .keyring = c->opts->no_new_keyring ? NULL : keyring,
        .listen_fds = c->opts->listen_fds,
        .preserve_fds = c->opts->preserve_fds,
        .keep = {c->sync_fd, c->gate_fd},
        .n_keep = 2,
    };
    return cell_process_setup(&s, exe, env, err);
}

static int wait_at_gate(struct cell_container *c, cell_err_t *err)
{
    cell_sync_send(c->sync_fd, SYNC_CREATED, getpid(), NULL);
    if (c->gate_fd < 0) {
        struct cell_sync_msg msg;
        return cell_sync_expect(c->sync_fd, SYNC_START, &msg, err);
    }
    char b;
    for (;;) {
        ssize_t n = read(c->gate_fd, &b, 1);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return cell_error(err, n < 0 ? errno : EPIPE, "wait for start");
    }
}

void cell_init_main(struct cell_container *c)
{
    cell_err_t err = CELL_ERR_INIT;
    _cleanup_free_ char *exe = NULL;
    char **env = NULL;
    /* Until execve this process runs the runtime's own binary. Non-dumpable,
     * its /proc/PID/exe, mem and fds cannot be opened by a process that
     * joins the container meanwhile (CVE-2019-5736 class); execve of the
     * user's program makes it dumpable again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        cell_sync_die(c->sync_fd, &err);
    if (join_cgroup(c, &err) < 0 || enter_namespaces(c, &err) < 0 || setup_network(c, &err) < 0 ||
        setup_rootfs(c, &err) < 0 || set_names(c->spec, &err) < 0 ||
        setup_process(c, &exe, &env, &err) < 0 || wait_at_gate(c, &err) < 0 ||
        run_start_hooks(c, &err) < 0)
        cell_sync_die(c->sync_fd, &err);
    execve(exe, c->spec->process.args, env);
    cell_error(&err, errno, "exec %s", exe);
    /* run still listens and reports it; after create/start nobody does, so
     * the container's stderr is the only place left to say it. */
    if (c->gate_fd >= 0)
        dprintf(2, "cell-runtime: %s\n", cell_error_text(&err));
    cell_sync_die(c->sync_fd, &err);
}

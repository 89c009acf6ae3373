/* The container's init, from clone to execve. This file is the order of the
 * steps; each step lives in a topic file. It runs in the child, which
 * starts with the runtime's host credentials and, when a user namespace was
 * cloned, all capabilities inside that namespace only. */
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/path.h"
#include "runtime/container.h"
#include "runtime/caps.h"
#include "runtime/dev.h"
#include "runtime/exec.h"
#include "runtime/mount.h"
#include "runtime/ns.h"
#include "runtime/hooks.h"
#include "runtime/loopback.h"
#include "runtime/lsm.h"
#include "runtime/process.h"
#include "runtime/sched.h"
#include "runtime/seccomp.h"
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

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

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
    c->pty_peer = cell_terminal_open(rootfd, &c->spec->process, c->console_fd, err);
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

/* Loads the filter: early (noNewPrivileges false) or last (true), never
 * both. Without no_new_privs the kernel wants CAP_SYS_ADMIN for it, which
 * the user switch may drop: then it runs just before the switch, as runc
 * does. A notify fd goes to the runtime, which hands it to the listener. */
static int install_seccomp(struct cell_container *c, bool early, cell_err_t *err)
{
    if (!c->seccomp || early == c->spec->process.no_new_privileges)
        return 0;
    int nfd = -1;
    int r = cell_seccomp_install(c->seccomp, &nfd, err);
    if (r < 0 || nfd < 0)
        return r;
    r = cell_sync_send_fd(c->sync_fd, SYNC_SECCOMP_FD, nfd);
    close(nfd);
    return r < 0 ? cell_error(err, -r, "send seccomp notify fd") : 0;
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

static int join_session_keyring(struct cell_container *c, cell_err_t *err)
{
    if (c->opts->no_new_keyring)
        return 0;
    char name[64];
    snprintf(name, sizeof name, "_ses.%.50s", c->id);
    /* A kernel without keyrings or a user namespace's quota is not fatal:
     * there is then no host keyring to hide either. */
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS &&
        errno != EDQUOT && errno != EACCES)
        return cell_error(err, errno, "join session keyring");
    return 0;
}

/* Leaves 0-2, the preserved fds and our own two open; everything else the
 * caller had open is closed, so no host fd leaks in (CVE-2024-21626 class). */
static int close_stray_fds(struct cell_container *c, cell_err_t *err)
{
    int first = 3 + c->opts->listen_fds + c->opts->preserve_fds;
    for (int fd = 3; fd < first; fd++)
        cell_set_cloexec(fd, 0);
    int keep[] = {c->sync_fd, c->gate_fd};
    int r = cell_close_fds_from(first, keep, ARRAY_SIZE(keep));
    if (r < 0)
        return cell_error(err, -r, "close inherited fds");
    return 0;
}

/* Everything but the user switch runs before the filter: the container's
 * profile may refuse any syscall the runtime needs (an old profile names no
 * close_range; personality is allowed for a few personas only; ...). After
 * the filter these syscalls run, and no others (checked with strace -f):
 *   filter early (noNewPrivileges false): setgroups, setresgid, setresuid,
 *     capset, prctl (PR_SET_KEEPCAPS, PR_CAP_AMBIENT_*);
 *   filter last (noNewPrivileges true): nothing here;
 *   then: sendmsg of the notify fd when the profile has a listener; at the
 *     gate getpid, sendto, then read (create/start) or recvmsg (run); the
 *     startContainer hooks if any (clone, execve, wait4: they run under
 *     the filter, as in runc); execve. On an error: sendto, exit_group.
 * The executable is looked up and $HOME read as the runtime's root: runc
 * searches PATH as the user, which differs only for a PATH directory that
 * root may search and the user may not (execve then fails with EACCES
 * rather than trying the next one). */
static int setup_process(struct cell_container *c, char **exe, char ***env, cell_err_t *err)
{
    const struct cell_process *p = &c->spec->process;
    int r;
    if (p->cwd && chdir(p->cwd) < 0)
        return cell_error(err, errno, "process.cwd: chdir %s", p->cwd);
    /* A cwd reached through an inherited fd or a symlink swapped since the
     * root was checked lies outside the root, and getcwd says ENOENT
     * ("unreachable"): refuse to start there (CVE-2024-21626 class). */
    char here[PATH_MAX];
    if (!getcwd(here, sizeof here) && errno == ENOENT)
        return cell_error(err, 0, "process.cwd %s: outside the container's root", p->cwd);
    if (setsid() < 0)
        return cell_error(err, errno, "setsid");
    if (c->pty_peer >= 0 && (r = cell_terminal_attach(c->pty_peer, err)) < 0)
        return r;
    /* Still privileged: a real-time policy or I/O class needs capabilities
     * the user switch may drop. The LSM labels only take effect at execve. */
    if ((r = cell_lsm_check(c->spec, err)) < 0 || (r = cell_sched_apply(p, err)) < 0 ||
        (r = cell_lsm_set_exec_labels(p, err)) < 0)
        return r;
    if ((r = cell_process_set_rlimits(p, err)) < 0 || (r = join_session_keyring(c, err)) < 0 ||
        (r = cell_sched_set_personality(c->spec, err)) < 0)
        return r;
    umask(p->umask == CELL_UNSET ? 022 : (mode_t)p->umask);
    if ((r = cell_process_find_executable(p, exe, err)) < 0)
        return r;
    *env = cell_listen_env(cell_process_env_with_home(p), c->opts->listen_fds);
    /* The bounding set can shrink before the filter: the filter needs
     * CAP_SYS_ADMIN in the effective set, which this leaves alone. */
    if ((r = close_stray_fds(c, err)) < 0 || (r = cell_caps_drop_bounding(&p->caps, err)) < 0 ||
        (r = install_seccomp(c, true, err)) < 0 || (r = cell_process_switch_user(p, err)) < 0)
        return r;
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cell_error(err, errno, "process.noNewPrivileges");
    return install_seccomp(c, false, err);
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

#include "runtime/process/process.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "runtime/process/caps.h"
#include "runtime/process/lsm.h"
#include "runtime/process/sched.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int cell_process_set_rlimits(const struct cell_process *p, cell_err_t *err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct cell_rlimit *l = &p->rlimits[i];
        struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};
        if (setrlimit(l->resource, &rl) < 0)
            return cell_error(err, errno, "process.rlimits[%zu]: set soft %llu hard %llu", i,
                              (unsigned long long)l->soft, (unsigned long long)l->hard);
    }
    return 0;
}

int cell_process_switch_user(const struct cell_process *p, cell_err_t *err)
{
    /* A user namespace with setgroups denied refuses even an empty list;
     * that is only an error when groups were asked for. With
     * keep_original_groups the groups the runtime was started with stay
     * (podman's --group-add keep-groups: a rootless user's groups reach
     * the devices and files they open). */
    if (!p->keep_original_groups && setgroups(p->n_additional_gids, p->additional_gids) < 0 &&
        !(errno == EPERM && p->n_additional_gids == 0))
        return cell_error(err, errno, "process.user.additionalGids: setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return cell_error(err, errno, "process.user.gid: setgid %u", p->gid);
    /* Keep the permitted set across setuid; cell_caps_apply then sets the
     * sets the config asks for. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return cell_error(err, errno, "keep capabilities");
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return cell_error(err, errno, "process.user.uid: setuid %u", p->uid);
    int r = cell_caps_apply(&p->caps, err);
    if (r < 0)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return cell_error(err, errno, "reset keep capabilities");
    return 0;
}

/* 0, or why execve would refuse it: -ENOENT, -EACCES, ... */
static int check_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
}

/* Docker's CLI takes the exit status of a `docker run` whose command cannot
 * start from the runtime's words, case included: 127 for "no such file or
 * directory", 126 for "permission denied" (runc's, which are Go's errno
 * texts); strerror's capitals would make it 125. */
static int cannot_exec(const char *name, int e, cell_err_t *err)
{
    if (e == ENOENT)
        return cell_error(err, 0, "exec %s: no such file or directory", name);
    if (e == EACCES)
        return cell_error(err, 0, "exec %s: permission denied", name);
    return cell_error(err, e, "exec %s", name);
}

int cell_process_find_executable(const struct cell_process *p, char **out, cell_err_t *err)
{
    const char *name = p->args[0];
    if (strchr(name, '/')) {
        int r = check_executable(name);
        if (r < 0)
            return cannot_exec(name, -r, err);
        *out = strdup(name);
        return *out ? 0 : cell_error(err, ENOMEM, "exec");
    }
    const char *path = cell_strv_env_get(p->env, "PATH");
    _cleanup_free_ char *copy = strdup(path ? path : DEFAULT_PATH);
    if (!copy)
        return cell_error(err, ENOMEM, "exec");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", name) >= (int)sizeof full)
            continue;
        if (check_executable(full) == 0) {
            *out = strdup(full);
            return *out ? 0 : cell_error(err, ENOMEM, "exec");
        }
    }
    return cell_error(err, 0, "exec \"%s\": executable file not found in $PATH", name);
}

/* The home directory of uid in /etc/passwd, read directly: no NSS module
 * of the host may run against the container's files. */
static char *passwd_home(uid_t uid)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *fields[7] = {0};
        char *save = NULL, *p = line;
        int n = 0;
        for (char *tok; n < 7 && (tok = strsep(&p, ":")); n++)
            fields[n] = tok;
        (void)save;
        if (n >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == uid && *fields[2] &&
            fields[5][0] == '/')
            return strdup(fields[5]);
    }
    return NULL;
}

char **cell_process_env_with_home(const struct cell_process *p)
{
    if (cell_strv_env_get(p->env, "HOME"))
        return p->env;
    size_t n = cell_strv_len(p->env);
    char **env = calloc(n + 2, sizeof(char *));
    if (!env)
        return p->env;
    memcpy(env, p->env, n * sizeof(char *));
    _cleanup_free_ char *home = passwd_home(p->uid);
    if (asprintf(&env[n], "HOME=%s", home ? home : "/") < 0)
        env[n] = NULL;
    return env;
}

int cell_process_set_oom_score_adj(pid_t pid, int64_t adj, cell_err_t *err)
{
    if (adj == CELL_UNSET)
        return 0;
    char path[64], val[32];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", pid);
    int n = snprintf(val, sizeof val, "%lld", (long long)adj);
    int r = cell_write_file_at(AT_FDCWD, path, val, (size_t)n);
    if (r < 0)
        return cell_error(err, -r, "process.oomScoreAdj: write %s", val);
    return 0;
}

char **cell_listen_env(char **env, int n)
{
    if (n <= 0)
        return env;
    size_t len = cell_strv_len(env);
    char **out = calloc(len + 3, sizeof(char *));
    if (!out)
        return env;
    memcpy(out, env, len * sizeof(char *));
    if (asprintf(&out[len], "LISTEN_FDS=%d", n) < 0 ||
        asprintf(&out[len + 1], "LISTEN_PID=%d", getpid()) < 0)
        return env;
    return out;
}

/* Leaves 0-2, the listen and preserved fds and the runtime's own open;
 * everything else the caller had open is closed, so no host fd reaches the
 * process (CVE-2024-21626 class). First, before the cwd is entered: no fd
 * of the host's can be a way out through it. */
static int close_stray_fds(const struct cell_process_setup *s, cell_err_t *err)
{
    int first = 3 + s->listen_fds + s->preserve_fds;
    for (int fd = 3; fd < first; fd++)
        cell_set_cloexec(fd, 0);
    int keep[ARRAY_SIZE(s->keep) + 1];
    memcpy(keep, s->keep, s->n_keep * sizeof(int));
    keep[s->n_keep] = s->pty_peer;
    int r = cell_close_fds_from(first, keep, s->n_keep + 1);
    return r < 0 ? cell_error(err, -r, "close inherited fds") : 0;
}

/* A cwd that leads out of the container's root (a symlink swapped since
 * the root was checked, a host fd's /proc/self/fd link) is not below the
 * root: getcwd(2) then fails with ENOENT or says "(unreachable)/...".
 * Refuse to start there (CVE-2024-21626 class). */
static int enter_cwd(const char *cwd, cell_err_t *err)
{
    char here[PATH_MAX];
    if (chdir(cwd) < 0)
        return cell_error(err, errno, "process.cwd: chdir %s", cwd);
    if (!getcwd(here, sizeof here) || here[0] != '/')
        return cell_error(err, errno == ERANGE ? ERANGE : 0,
                          "process.cwd %s: outside the container's root", cwd);
    return 0;
}

/* A session of the process's own, with or without a terminal: left in the
 * caller's session, an exec'd process would keep the caller's controlling
 * terminal, open it as /dev/tty and push input into the host's shell with
 * TIOCSTI. runc's exec'd processes are session leaders too. */
static int enter_session(const struct cell_process_setup *s, cell_err_t *err)
{
    if (setsid() < 0)
        return cell_error(err, errno, "setsid");
    return s->pty_peer >= 0 ? cell_terminal_attach(s->pty_peer, err) : 0;
}

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif
#ifndef KEYCTL_SETPERM
#define KEYCTL_SETPERM 5
#endif
/* keyctl(2) permissions: the possessor's byte, then the owner user's. */
#define KEY_POS_ALL    0x3f000000u
#define KEY_USR_VIEW   0x00010000u
#define KEY_USR_READ   0x00020000u
#define KEY_USR_SEARCH 0x00080000u
#define KEY_USR_LINK   0x00100000u

/* A session keyring of the container's own, so that the caller's keys stay
 * out of reach. The kernel joins a keyring by name only when its owner may
 * search it, which a new session keyring does not allow: without search,
 * every exec'd process would get a keyring of its own under the same name
 * rather than the container's (runc's allow it too). A kernel without
 * keyrings or a user namespace's quota is not fatal: there is then no host
 * keyring to hide either. */
static int join_session_keyring(const char *name, cell_err_t *err)
{
    if (!name)
        return 0;
    long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
    if (id < 0)
        return errno == ENOSYS || errno == EDQUOT || errno == EACCES
                   ? 0
                   : cell_error(err, errno, "join session keyring");
    unsigned perm = KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH | KEY_USR_LINK;
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm) < 0)
        return cell_error(err, errno, "session keyring %s: set permissions", name);
    return 0;
}

/* Without noNewPrivileges the kernel wants CAP_SYS_ADMIN for the filter,
 * which the user switch may drop: it goes in early, just before the switch
 * (as runc does), and the filter must allow the few calls of the switch.
 * With it, last. A notify fd goes to the runtime, which hands it to the
 * listener. */
static int install_seccomp(const struct cell_process_setup *s, bool early, cell_err_t *err)
{
    if (!s->seccomp || early == s->spec->process.no_new_privileges)
        return 0;
    int nfd = -1;
    int r = cell_seccomp_install(s->seccomp, &nfd, err);
    if (r < 0 || nfd < 0)
        return r;
    r = cell_sync_send_fd(s->sync_fd, SYNC_SECCOMP_FD, nfd);
    close(nfd);
    return r < 0 ? cell_error(err, -r, "send seccomp notify fd") : 0;
}

/* Everything but the user switch runs before the filter: the container's
 * profile may refuse any syscall the runtime needs (an old profile names no
 * close_range; personality is allowed for a few personas only; ...). After
 * the filter these syscalls run, and no others (checked with strace -f):
 *   filter early (noNewPrivileges false): setgroups, setresgid, setresuid,
 *     capset, prctl (PR_SET_KEEPCAPS, PR_CAP_AMBIENT_*);
 *   filter last (noNewPrivileges true): nothing here;
 *   then, in the caller: sendmsg of the notify fd when the profile has a
 *     listener; the init's gate (getpid, sendto, then read or recvmsg) and
 *     startContainer hooks (clone, execve, wait4: under the filter, as in
 *     runc); execve. On an error: sendto, exit_group.
 * The executable is looked up and $HOME read as the container's root: runc
 * searches PATH as the user, which differs only for a PATH directory that
 * root may search and the user may not (execve then fails with EACCES
 * rather than trying the next one). */
int cell_process_setup(const struct cell_process_setup *s, char **exe, char ***env, cell_err_t *err)
{
    const struct cell_process *p = &s->spec->process;
    int r;
    if ((r = close_stray_fds(s, err)) < 0 || (p->cwd && (r = enter_cwd(p->cwd, err)) < 0) ||
        (r = enter_session(s, err)) < 0)
        return r;
    /* Still privileged: a real-time policy or I/O class needs capabilities
     * the user switch may drop. The LSM labels only take effect at execve. */
    if ((r = cell_lsm_check(s->spec, err)) < 0 || (r = cell_sched_apply(p, err)) < 0 ||
        (r = cell_lsm_set_exec_labels(p, err)) < 0 || (r = cell_process_set_rlimits(p, err)) < 0 ||
        (r = join_session_keyring(s->keyring, err)) < 0 ||
        (r = cell_sched_set_personality(s->spec, err)) < 0)
        return r;
    umask(p->umask == CELL_UNSET ? 022 : (mode_t)p->umask);
    if ((r = cell_process_find_executable(p, exe, err)) < 0)
        return r;
    *env = cell_listen_env(cell_process_env_with_home(p), s->listen_fds);
    /* The bounding set can shrink before the filter: the filter needs
     * CAP_SYS_ADMIN in the effective set, which this leaves alone. */
    if ((r = cell_caps_drop_bounding(&p->caps, err)) < 0 ||
        (r = install_seccomp(s, true, err)) < 0 || (r = cell_process_switch_user(p, err)) < 0)
        return r;
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cell_error(err, errno, "process.noNewPrivileges");
    return install_seccomp(s, false, err);
}

/* exec: a new process in a running container. Three processes take part:
 *   the runtime (host namespaces throughout): reads the state, builds the
 *     process, connects the console socket, waits, writes the pid file;
 *   the joiner, forked from it: makes itself non-dumpable, joins the
 *     container's cgroup and then every namespace of its init (through a
 *     pidfd), and forks the process with CLONE_PARENT, so that the runtime
 *     is its parent and can wait for it; then exits;
 *   the process: in the new pid namespace (setns of a pid namespace applies
 *     to children only); sets itself up as process.* says and execs.
 * Nothing of the runtime's binary is ever exec'd inside the container, and
 * the only runtime process that enters it cannot be opened through /proc
 * (CVE-2019-5736 class). */
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "base/warn.h"
#include "runtime/container.h"
#include "runtime/proc.h"
#include "runtime/process/process.h"
#include "runtime/runtime.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* What the runtime prepares for one exec. */
struct exec_ctx {
    const struct cell_exec_opts *o;
    struct cell_state st;
    bool st_loaded;
    struct cell_spec *spec;
    struct cell_cgroup *cg;
    struct cell_seccomp *seccomp;
    int rootfd, dirfd, pidfd;
    int sync_parent, sync_child;
    int console_fd;     /* the process sends the pty master here, or -1 */
    int console_parent; /* foreground with a terminal: the runtime's end */
    pid_t joiner, pid;
};

static void ctx_init(struct exec_ctx *x, const struct cell_exec_opts *o)
{
    memset(x, 0, sizeof *x);
    x->o = o;
    x->rootfd = x->dirfd = x->pidfd = x->sync_parent = x->sync_child = -1;
    x->console_fd = x->console_parent = -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void ctx_free(struct exec_ctx *x)
{
    int *fds[] = {&x->rootfd,     &x->dirfd,      &x->pidfd,         &x->sync_parent,
                  &x->sync_child, &x->console_fd, &x->console_parent};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        close_fd(fds[i]);
    if (x->st_loaded)
        cell_state_clear(&x->st);
    if (x->spec)
        cell_spec_free(x->spec);
    if (x->cg)
        cell_cgroup_free(x->cg);
    cell_seccomp_free(x->seccomp);
}

/* --- the process to run --- */

/* --process FILE replaces config.json's process; the document is parsed
 * again so that the file gets every check a config's process gets. */
static int load_process_file(struct exec_ctx *x, cell_err_t *err)
{
    const char *path = x->o->process_file;
    json_error_t jerr;
    json_t *proc = json_load_file(path, 0, &jerr);
    if (!proc)
        return cell_error(err, 0, "--process %s: %s (line %d)", path, jerr.text, jerr.line);
    json_t *doc = json_deep_copy(x->spec->json);
    json_object_set_new(doc, "process", proc);
    _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return cell_error(err, ENOMEM, "--process %s", path);
    struct cell_spec *spec = NULL;
    int r = cell_spec_parse(text, strlen(text), &spec, err);
    if (r < 0)
        return cell_error_prepend(err, "--process %s", path);
    /* config.json's own warnings were logged by create. */
    for (char **w = spec->warnings; w && *w; w++)
        cell_warn("--process %s: %s", path, *w);
    cell_spec_free(x->spec);
    x->spec = spec;
    return 0;
}

/* --env NAME=value replaces NAME when the process already has it. */
static int merge_env(struct cell_process *p, char *const *env, cell_err_t *err)
{
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || eq == env[i])
            return cell_error(err, 0, "--env \"%s\": expected NAME=value", env[i]);
        size_t klen = (size_t)(eq - env[i]) + 1;
        char **slot = NULL;
        for (char **e = p->env; e && *e && !slot; e++)
            if (!strncmp(*e, env[i], klen))
                slot = e;
        char *copy = slot ? strdup(env[i]) : NULL;
        if (slot && copy) {
            free(*slot);
            *slot = copy;
        } else if (slot || cell_strv_push(&p->env, env[i]) < 0) {
            return cell_error(err, ENOMEM, "--env");
        }
    }
    return 0;
}

/* --user uid[:gid], numeric as runc takes it; the groups of the config go. */
static int parse_user(struct cell_process *p, const char *user, cell_err_t *err)
{
    char *end = NULL;
    errno = 0;
    unsigned long uid = strtoul(user, &end, 10), gid = 0;
    if (!errno && end != user && *end == ':') {
        const char *g = end + 1;
        gid = strtoul(g, &end, 10);
        if (end == g)
            end = (char *)"x";
    }
    if (errno || end == user || *end || uid >= UINT32_MAX || gid >= UINT32_MAX)
        return cell_error(err, 0, "--user \"%s\": expected uid[:gid]", user);
    p->uid = (uid_t)uid;
    p->gid = (gid_t)gid;
    p->n_additional_gids = 0;
    return 0;
}

/* --cap adds to the bounding, effective and permitted sets; to ambient only
 * when the process has inheritable capabilities (ambient needs them), as
 * runc does. */
static void add_caps(struct cell_process *p, char *const *caps)
{
    for (size_t i = 0; caps && caps[i]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", strncasecmp(caps[i], "CAP_", 4) ? "CAP_" : "", caps[i]);
        int cap = cell_cap_from_name(name);
        if (cap < 0) { /* as in config.json: a warning, not a failure (config.md) */
            cell_warn("exec --cap \"%s\": unknown capability, ignored", caps[i]);
            continue;
        }
        uint64_t bit = 1ULL << cap;
        p->caps.present = true;
        p->caps.bounding |= bit;
        p->caps.effective |= bit;
        p->caps.permitted |= bit;
        if (p->caps.inheritable)
            p->caps.ambient |= bit;
    }
}

/* --additional-gids replaces the config's supplementary groups. */
static int set_groups(struct cell_process *p, char *const *gids, cell_err_t *err)
{
    size_t n = cell_strv_len(gids);
    gid_t *list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return cell_error(err, ENOMEM, "--additional-gids");
    for (size_t i = 0; i < n; i++) {
        char *end = NULL;
        errno = 0;
        unsigned long g = strtoul(gids[i], &end, 10);
        if (errno || end == gids[i] || *end || g >= UINT32_MAX) {
            free(list);
            return cell_error(err, 0, "--additional-gids \"%s\": expected a number", gids[i]);
        }
        list[i] = (gid_t)g;
    }
    free(p->additional_gids);
    p->additional_gids = list;
    p->n_additional_gids = n;
    return 0;
}

static int replace_args(struct cell_process *p, char *const *args, cell_err_t *err)
{
    char **v = NULL;
    for (size_t i = 0; args[i]; i++)
        if (cell_strv_push(&v, args[i]) < 0) {
            cell_strv_free(v);
            return cell_error(err, ENOMEM, "exec args");
        }
    cell_strv_free(p->args);
    p->args = v;
    return 0;
}

static int set_string(char **dst, const char *src, cell_err_t *err)
{
    char *copy = strdup(src);
    if (!copy)
        return cell_error(err, ENOMEM, "exec");
    free(*dst);
    *dst = copy;
    return 0;
}

/* Without --process: config.json's process with the command line's
 * arguments and flags (runc ignores the flags when --process is given). */
static int apply_flags(struct exec_ctx *x, cell_err_t *err)
{
    const struct cell_exec_opts *o = x->o;
    struct cell_process *p = &x->spec->process;
    int r = 0;
    if (!o->args || !o->args[0])
        return cell_error(err, 0, "exec: a command or --process is required");
    if ((r = replace_args(p, o->args, err)) < 0 || (r = merge_env(p, o->env, err)) < 0)
        return r;
    add_caps(p, o->caps);
    if (o->cwd && o->cwd[0] != '/')
        return cell_error(err, 0, "--cwd \"%s\": must be absolute", o->cwd);
    if ((o->cwd && (r = set_string(&p->cwd, o->cwd, err)) < 0) ||
        (o->user && (r = parse_user(p, o->user, err)) < 0) ||
        (o->additional_gids && (r = set_groups(p, o->additional_gids, err)) < 0) ||
        (o->apparmor && (r = set_string(&p->apparmor_profile, o->apparmor, err)) < 0) ||
        (o->process_label && (r = set_string(&p->selinux_label, o->process_label, err)) < 0))
        return r;
    p->terminal = o->tty;
    if (o->no_new_privs)
        p->no_new_privileges = true;
    return 0;
}

static int build_process(struct exec_ctx *x, cell_err_t *err)
{
    int r = cell_spec_load(x->st.bundle, &x->spec, err);
    if (r < 0)
        return r;
    if (x->o->process_file) {
        if (x->o->args && x->o->args[0])
            return cell_error(err, 0, "exec: --process and a command cannot both be given");
        r = load_process_file(x, err);
    } else {
        r = apply_flags(x, err);
    }
    if (r < 0)
        return r;
    if (!x->spec->has_process)
        return cell_error(err, 0, "exec: config.json has no process to start from");
    /* The container's state root holds the compiled-filter cache that
     * create filled: an exec need not compile the profile again. */
    const char *root = x->o->root ? x->o->root : CELL_RUNTIME_DEFAULT_ROOT;
    return cell_seccomp_prepare_at(x->spec, root, &x->seccomp, err);
}

/* --- the container --- */

static int load_container(struct exec_ctx *x, cell_err_t *err)
{
    const char *id = x->o->id;
    int r = cell_container_load(x->o->root, id, false, &x->rootfd, &x->dirfd, &x->st, err);
    if (r < 0)
        return r;
    x->st_loaded = true;
    enum cell_status status = cell_state_status(x->dirfd, &x->st);
    /* A paused container's cgroup is frozen: the new process would freeze
     * at once and exec would hang until resume, hence runc's refusal. */
    if (status == CELL_STATUS_PAUSED && !x->o->ignore_paused)
        return cell_error(err, 0, "cannot exec in a paused container \"%s\" (use --ignore-paused)",
                          id);
    if (status == CELL_STATUS_STOPPED || status == CELL_STATUS_CREATING)
        return cell_error(err, 0, "cannot exec in a stopped container \"%s\"", id);
    /* A pidfd pins the init: after the start-time check, a recycled pid
     * cannot be joined by mistake. */
    x->pidfd = (int)syscall(SYS_pidfd_open, x->st.pid, 0);
    if (x->pidfd < 0 || cell_proc_starttime(x->st.pid, NULL) != x->st.starttime)
        return cell_error(err, 0, "cannot exec in a stopped container \"%s\"", id);
    return cell_container_cgroup(&x->st, &x->cg, err);
}

/* The namespaces of pid that differ from ours: those are the ones to join
 * (setns to one's own user namespace fails). */
static unsigned long namespaces_to_join(pid_t pid)
{
    static const enum cell_ns_type types[] = {CELL_NS_USER,   CELL_NS_MNT, CELL_NS_PID,
                                              CELL_NS_NET,    CELL_NS_IPC, CELL_NS_UTS,
                                              CELL_NS_CGROUP, CELL_NS_TIME};
    unsigned long flags = 0;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        char theirs[64], ours[64];
        const char *name = cell_ns_proc_name(types[i]);
        snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", pid, name);
        snprintf(ours, sizeof ours, "/proc/self/ns/%s", name);
        struct stat a, b;
        if (stat(theirs, &a) == 0 && stat(ours, &b) == 0 &&
            (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
            flags |= (unsigned long)cell_ns_clone_flag(types[i]);
    }
    return flags;
}

/* --- the joiner and the process (children; they report over sync) --- */

static bool has_token(const char *list, const char *tok, size_t len)
{
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, tok, len) && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

/* --cgroup as runc takes it: "path" (every hierarchy) or
 * "ctrl[,ctrl]:path" (the hierarchies of those controllers; ":path" is all
 * of them). The sub-cgroup of the given hierarchy, or NULL. */
static const char *sub_cgroup_for(const char *spec, const char *hier)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec)
        return colon ? colon + 1 : spec;
    for (const char *t = spec; t < colon;) {
        size_t len = strcspn(t, ",:");
        if (has_token(hier, t, len))
            return colon + 1;
        t += len + 1;
    }
    return NULL;
}

/* A controller no hierarchy of the container has would leave the process
 * in the container's own cgroup instead of the one asked for: refused, as
 * runc refuses it. On v2 that is every controller: its one hierarchy is
 * named by the path alone. */
static int check_sub_cgroup_controllers(const char *spec, const struct cell_cgroup *cg,
                                        cell_err_t *err)
{
    const char *colon = strchr(spec, ':');
    for (const char *t = spec; cg && colon && t < colon;) {
        size_t len = strcspn(t, ",:");
        bool found = false;
        for (size_t i = 0; i < cg->n_hiers && !found; i++)
            found = has_token(cg->hiers[i].name, t, len);
        if (!found)
            return cell_error(err, 0,
                              "--cgroup \"%s\": the container has no cgroup hierarchy of "
                              "controller \"%.*s\"%s",
                              spec, (int)len, t,
                              cg->layout == CELL_CGROUP_V2 ? " (cgroup v2: give the path alone)"
                                                           : "");
        t += len + 1;
    }
    return 0;
}

static int check_sub_cgroup(const char *spec, const struct cell_cgroup *cg, cell_err_t *err)
{
    const char *path = sub_cgroup_for(spec, "");
    path = path ? path : strchr(spec, ':') + 1;
    for (const char *p = path; p && *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
        if (!strncmp(p, "..", 2) && (p[2] == '/' || p[2] == '\0'))
            return cell_error(err, 0, "--cgroup \"%s\": must stay inside the container's cgroup",
                              spec);
    return check_sub_cgroup_controllers(spec, cg, err);
}

/* Still the host's root, before any namespace: the v1 permission check
 * passes, as for the container's init. Writing "0" moves the calling
 * thread, and the process forked next starts there. */
static int join_cgroup(const struct exec_ctx *x, cell_err_t *err)
{
    for (size_t i = 0; x->cg && i < x->cg->n_hiers; i++) {
        const struct cell_cgroup_hier *h = &x->cg->hiers[i];
        const char *sub = sub_cgroup_for(x->o->cgroup, h->name);
        bool v2 = !strcmp(h->fstype, "cgroup2");
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s%s/%s", h->host_dir, sub ? "/" : "", sub ? sub : "",
                     v2 ? "cgroup.procs" : "tasks") >= (int)sizeof path)
            return cell_error(err, ENAMETOOLONG, "join cgroup %s", h->host_dir);
        int r = cell_write_file_at(AT_FDCWD, path, "0", 1);
        if (r < 0)
            return cell_error(err, -r, "join cgroup: write %s", path);
    }
    return 0;
}

static int join_namespaces_by_path(pid_t pid, unsigned long flags, cell_err_t *err)
{
    static const enum cell_ns_type order[] = {CELL_NS_USER,   CELL_NS_IPC, CELL_NS_UTS,
                                              CELL_NS_NET,    CELL_NS_PID, CELL_NS_TIME,
                                              CELL_NS_CGROUP, CELL_NS_MNT};
    int fds[ARRAY_SIZE(order)];
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, cell_ns_proc_name(order[i]));
        fds[i] = (flags & (unsigned long)cell_ns_clone_flag(order[i]))
                     ? open(path, O_RDONLY | O_CLOEXEC)
                     : -1;
    }
    int r = 0;
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        if (fds[i] >= 0 && r == 0 && setns(fds[i], cell_ns_clone_flag(order[i])) < 0)
            r = cell_error(err, errno, "join the container's %s namespace", cell_ns_name(order[i]));
        if (fds[i] >= 0)
            close(fds[i]);
    }
    return r;
}

/* All at once through the pidfd (Linux 5.8+): the kernel enters them in
 * the right order, user first, as one step. */
static int join_namespaces(const struct exec_ctx *x, cell_err_t *err)
{
    unsigned long flags = namespaces_to_join(x->st.pid);
    if (!flags)
        return 0;
    if (setns(x->pidfd, (int)flags) == 0)
        return 0;
    if (errno != EINVAL)
        return cell_error(err, errno, "join the namespaces of container \"%s\"", x->o->id);
    return join_namespaces_by_path(x->st.pid, flags, err);
}

/* A pty of the container's own devpts (its /dev/ptmx, reached from inside
 * its mount namespace); the master leaves, the peer is returned. */
static int open_terminal(const struct exec_ctx *x, const struct cell_process *p, cell_err_t *err)
{
    _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return cell_error(err, errno, "process.terminal: open the container's root");
    return cell_terminal_open(root, p, x->console_fd, false, err);
}

/* The joiner's first step, so that no fd of the caller's reaches the
 * container: 0-2, the listen and preserved fds, and our own channels (all
 * close-on-exec) stay. */
static int close_stray_fds(const struct exec_ctx *x, cell_err_t *err)
{
    int first = 3 + x->o->listen_fds + x->o->preserve_fds;
    for (int fd = 3; fd < first; fd++)
        cell_set_cloexec(fd, 0);
    int keep[] = {x->sync_child, x->console_fd, x->pidfd};
    int r = cell_close_fds_from(first, keep, ARRAY_SIZE(keep));
    return r < 0 ? cell_error(err, -r, "close inherited fds") : 0;
}

/* The process's own setup, as for the init (process.c); what an exec'd
 * process has of its own: a terminal only when asked, opened here in the
 * container's mount namespace; the joiner closed the caller's fds before
 * it joined anything. */
static int setup_process(const struct exec_ctx *x, char **exe, char ***env, cell_err_t *err)
{
    const struct cell_process *p = &x->spec->process;
    int peer = -1;
    if (x->console_fd >= 0 && (peer = open_terminal(x, p, err)) < 0)
        return peer;
    char keyring[64];
    snprintf(keyring, sizeof keyring, "_ses.%.50s", x->o->id);
    struct cell_process_setup s = {
        .spec = x->spec,
        .seccomp = x->seccomp,
        .sync_fd = x->sync_child,
        .pty_peer = peer,
        .keyring = x->st.no_new_keyring ? NULL : keyring,
        .listen_fds = x->o->listen_fds,
        .preserve_fds = x->o->preserve_fds,
        .keep = {x->sync_child},
        .n_keep = 1,
    };
    return cell_process_setup(&s, exe, env, err);
}

__attribute__((noreturn)) static void process_main(struct exec_ctx *x)
{
    cell_err_t err = CELL_ERR_INIT;
    _cleanup_free_ char *exe = NULL;
    char **env = NULL;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the relay's mask is ours, not the process's */
    if (setup_process(x, &exe, &env, &err) < 0)
        cell_sync_die(x->sync_child, &err);
    execve(exe, x->spec->process.args, env);
    cell_error(&err, errno, "exec %s", exe);
    cell_sync_die(x->sync_child, &err);
}

/* process.execCPUAffinity: "initial" for the joiner before it enters the
 * container's cgroup (whose cpuset may be narrower), "final" after. */
static int exec_affinity(const struct exec_ctx *x, bool final, cell_err_t *err)
{
    return cell_sched_exec_affinity(&x->spec->process, final, err);
}

__attribute__((noreturn)) static void joiner_main(struct exec_ctx *x)
{
    cell_err_t err = CELL_ERR_INIT;
    /* Before anything of the container can see us: a non-dumpable process's
     * /proc/PID/exe and /proc/PID/mem are closed to the container's root. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        cell_error(&err, errno, "make the runtime non-dumpable");
    else if (close_stray_fds(x, &err) == 0 && exec_affinity(x, false, &err) == 0 &&
             join_cgroup(x, &err) == 0 && exec_affinity(x, true, &err) == 0 &&
             join_namespaces(x, &err) == 0) {
        close(x->pidfd);
        x->pidfd = -1;
        /* CLONE_PARENT: the runtime, not us, is the parent, so it waits. */
        pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0);
        if (pid == 0)
            process_main(x);
        if (pid > 0) {
            cell_sync_send(x->sync_child, SYNC_INIT_PID, pid, NULL);
            _exit(0);
        }
        cell_error(&err, errno, "fork the process in the container");
    }
    cell_sync_die(x->sync_child, &err);
}

/* --- the runtime's side --- */

/* A relayed terminal starts at the caller's size, so that the process never
 * sees a 0x0 window before the relay copies the size over. */
static void take_caller_size(struct cell_process *p)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        p->console_height = ws.ws_row;
        p->console_width = ws.ws_col;
    }
}

static int make_channels(struct exec_ctx *x, cell_err_t *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_error(err, errno, "socketpair");
    x->sync_parent = sv[0];
    x->sync_child = sv[1];
    if (!x->spec->process.terminal)
        return 0;
    if (x->o->console_socket) {
        x->console_fd = cell_terminal_connect(x->o->console_socket, err);
        return x->console_fd < 0 ? x->console_fd : 0;
    }
    if (x->o->console_fd > 0) {
        x->console_fd = fcntl(x->o->console_fd, F_DUPFD_CLOEXEC, 3);
        return x->console_fd < 0 ? cell_error(err, errno, "console socket") : 0;
    }
    if (x->o->detach)
        return cell_error(err, 0, "exec: --console-socket is required with a terminal and -d");
    take_caller_size(&x->spec->process);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_error(err, errno, "socketpair");
    x->console_parent = sv[0];
    x->console_fd = sv[1];
    return 0;
}

/* The joiner's report, then the process's: its sync socket closes at
 * execve (close-on-exec); a message means it failed. */
static int follow_start(struct exec_ctx *x, int *master, cell_err_t *err)
{
    struct cell_sync_msg msg;
    int r = cell_sync_expect(x->sync_parent, SYNC_INIT_PID, &msg, err);
    cell_proc_reap(x->joiner);
    x->joiner = 0;
    if (r < 0)
        return r;
    x->pid = msg.value;
    if (x->console_parent >= 0 && (*master = cell_terminal_recv_master(x->console_parent, err)) < 0)
        *master = -1; /* the process failed first: its own error says why */
    for (;;) {
        r = cell_sync_recv(x->sync_parent, &msg);
        if (r == -EPIPE)
            return *master < 0 && x->console_parent >= 0 ? -1 : 0;
        if (r < 0)
            return cell_error(err, -r, "exec: wait for the process");
        if (msg.type == SYNC_ERROR)
            return cell_error(err, 0, "%s", msg.text);
        if (msg.type == SYNC_SECCOMP_FD) {
            json_t *o = cell_state_to_json(&x->st, CELL_STATUS_RUNNING);
            _cleanup_free_ char *state = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            r = cell_seccomp_send_to_listener(x->spec, msg.rights_fd, state, err);
            close(msg.rights_fd);
            if (r < 0)
                return r;
        }
    }
}

static int start_process(struct exec_ctx *x, int *master, cell_err_t *err)
{
    /* The relay learns of the exit from a signalfd: SIGCHLD must be held
     * from before the process exists, or an early exit goes unseen. */
    if (x->console_parent >= 0) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
    }
    x->joiner = fork();
    if (x->joiner < 0)
        return cell_error(err, errno, "fork");
    if (x->joiner == 0) {
        close(x->sync_parent);
        joiner_main(x);
    }
    close_fd(&x->sync_child);
    close_fd(&x->console_fd);
    int r = follow_start(x, master, err);
    if (r < 0 && x->pid > 0) {
        kill(x->pid, SIGKILL);
        cell_proc_reap(x->pid);
        x->pid = 0;
    }
    return r;
}

static int check_process(const struct exec_ctx *x, cell_err_t *err)
{
    int r = cell_lsm_check(x->spec, err);
    if (r < 0 || (x->o->cgroup && (r = check_sub_cgroup(x->o->cgroup, x->cg, err)) < 0))
        return r;
    if (x->o->preserve_fds < 0)
        return cell_error(err, 0, "exec: --preserve-fds must not be negative");
    return 0;
}

static int exec_in(struct exec_ctx *x, int *exit_code, cell_err_t *err)
{
    int r;
    if ((r = load_container(x, err)) < 0 || (r = build_process(x, err)) < 0 ||
        (r = check_process(x, err)) < 0 || (r = make_channels(x, err)) < 0)
        return r;
    /* Readers take no lock; nothing else needs these in the children. */
    close_fd(&x->dirfd);
    close_fd(&x->rootfd);
    _cleanup_close_ int master = -1;
    if ((r = start_process(x, &master, err)) < 0)
        return r;
    if ((r = cell_proc_write_pid_file(x->o->pid_file, x->pid, err)) < 0) {
        kill(x->pid, SIGKILL);
        cell_proc_reap(x->pid);
        return r;
    }
    *exit_code = 0;
    if (x->o->detach) {
        if (x->o->pid)
            *x->o->pid = x->pid;
        return 0;
    }
    cell_proc_forward_signals(x->pid);
    *exit_code = master >= 0 ? cell_terminal_relay(master, x->pid) : cell_proc_wait_exit_code(x->pid);
    cell_proc_forward_signals(0);
    return 0;
}

int cell_runtime_exec(const struct cell_exec_opts *o, int *exit_code, cell_err_t *err)
{
    struct exec_ctx x;
    ctx_init(&x, o);
    int r = exec_in(&x, exit_code, err);
    ctx_free(&x);
    return r;
}

/* config.md "POSIX-platform Hooks": running one kind of hooks, and keeping
 * the kinds that run after create in the container's state. Where each kind
 * runs is the caller's business (see hooks.h). */
#include "runtime/hooks.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "base/warn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* What a failing hook printed, kept for its error message. */
#define HOOK_OUTPUT_MAX 512

struct hook_run {
    pid_t pid;
    int pidfd, out_fd;
    char out[HOOK_OUTPUT_MAX];
    size_t out_len;
};

/* The hook's child: state on stdin (a socket, so that the runtime's write
 * can never raise SIGPIPE), stdout and stderr to the runtime. runc gives a
 * hook without env the runtime's environment; so does cell. */
__attribute__((noreturn)) static void hook_child(const struct cell_hook *h, int in_fd, int out_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(126);
    char *argv_default[] = {h->path, NULL};
    execve(h->path, h->args && h->args[0] ? h->args : argv_default, h->env ? h->env : environ);
    dprintf(2, "exec %s: %s", h->path, strerror(errno));
    _exit(127);
}

static int hook_start(const struct cell_hook *h, const char *state, struct hook_run *run,
                      cell_err_t *err)
{
    int in[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
        return cell_error(err, errno, "hook %s: socketpair", h->path);
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]), close(in[1]);
        return cell_error(err, errno, "hook %s: pipe", h->path);
    }
    run->pid = fork();
    if (run->pid == 0)
        hook_child(h, in[1], out[1]);
    int fork_errno = errno;
    close(in[1]);
    close(out[1]);
    run->out_fd = out[0];
    if (run->pid < 0) {
        close(in[0]);
        return cell_error(err, fork_errno, "hook %s: fork", h->path);
    }
    run->pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
    /* A hook that does not read its stdin is no error: runc ignores it too. */
    if (state)
        send(in[0], state, strlen(state), MSG_NOSIGNAL);
    close(in[0]);
    return 0;
}

static void read_output(struct hook_run *run)
{
    char buf[4096];
    ssize_t n = read(run->out_fd, buf, sizeof buf);
    if (n <= 0) {
        close(run->out_fd);
        run->out_fd = -1;
        return;
    }
    size_t room = sizeof run->out - 1 - run->out_len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(run->out + run->out_len, buf, take);
    run->out_len += take;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for the hook's exit (or its timeout), collecting its output. A
 * hook that leaves a daemon holding its stdout is not waited for beyond
 * its own exit. Returns the wait status, or -ETIMEDOUT. */
static int hook_wait(struct hook_run *run, int64_t timeout_s)
{
    long long deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000LL : -1;
    for (;;) {
        int status;
        if (waitpid(run->pid, &status, WNOHANG) == run->pid)
            return status;
        int wait_ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
        if (deadline >= 0 && wait_ms <= 0) {
            kill(run->pid, SIGKILL);
            while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -ETIMEDOUT;
        }
        struct pollfd fds[2] = {{run->pidfd, POLLIN, 0}, {run->out_fd, POLLIN, 0}};
        /* Without a pidfd (old kernel), poll in short steps. */
        if (run->pidfd < 0 && (wait_ms < 0 || wait_ms > 10))
            wait_ms = 10;
        if (poll(fds, 2, wait_ms) > 0 && (fds[1].revents & (POLLIN | POLLHUP)))
            read_output(run);
    }
}

static void trim_output(struct hook_run *run)
{
    while (run->out_len > 0 &&
           (run->out[run->out_len - 1] == '\n' || run->out[run->out_len - 1] == ' '))
        run->out_len--;
    run->out[run->out_len] = '\0';
    for (char *p = run->out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

static int run_one(const struct cell_hook *h, const char *where, const char *state, cell_err_t *err)
{
    struct hook_run run = {.pid = -1, .pidfd = -1, .out_fd = -1};
    int r = hook_start(h, state, &run, err);
    if (r < 0) {
        if (run.out_fd >= 0)
            close(run.out_fd);
        return cell_error_prepend(err, "%s", where);
    }
    int status = hook_wait(&run, h->timeout == CELL_UNSET ? 0 : h->timeout);
    if (run.out_fd >= 0) {
        fcntl(run.out_fd, F_SETFL, O_NONBLOCK);
        while (run.out_fd >= 0 && run.out_len < sizeof run.out - 1)
            read_output(&run);
    }
    if (run.out_fd >= 0)
        close(run.out_fd);
    if (run.pidfd >= 0)
        close(run.pidfd);
    trim_output(&run);
    const char *sep = run.out_len ? ": " : "";
    if (status == -ETIMEDOUT)
        return cell_error(err, 0, "%s %s: timed out after %lld s%s%s", where, h->path,
                          (long long)h->timeout, sep, run.out);
    if (WIFSIGNALED(status))
        return cell_error(err, 0, "%s %s: killed by signal %d%s%s", where, h->path,
                          WTERMSIG(status), sep, run.out);
    if (WEXITSTATUS(status) != 0)
        return cell_error(err, 0, "%s %s: exited with status %d%s%s", where, h->path,
                          WEXITSTATUS(status), sep, run.out);
    return 0;
}

/* runtime.md, step 13: a failing poststop hook is logged as a warning,
 * "but the remaining hooks and lifecycle continue as if the hook had
 * succeeded". runc 1.1 logs it at level error and skips the rest; crun
 * runs the rest and says nothing. */
static void run_one_warn(const struct cell_hook *h, const char *where, const char *state)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (run_one(h, where, state, &err) < 0)
        cell_warn("%s", cell_error_text(&err));
}

int cell_hooks_run(struct cell_hook *const hooks, size_t n, enum cell_hook_kind kind,
                   const char *state_json, cell_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof where, "hooks.%s[%zu]", cell_hook_name(kind), i);
        if (kind == CELL_HOOK_POSTSTOP) {
            run_one_warn(&hooks[i], where, state_json);
            continue;
        }
        /* Every other kind: an error that stops the rest (steps 3-5, 7 and
         * 9; the caller stops the container). */
        int r = run_one(&hooks[i], where, state_json, err);
        if (r < 0)
            return r;
    }
    return 0;
}

char *cell_hooks_state_as_seen_inside(const char *state_json)
{
    json_t *o = json_loads(state_json, 0, NULL);
    if (json_is_object(o))
        json_object_set_new(o, "pid", json_integer(getpid()));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text ? text : strdup(state_json);
}

/* --- in the container's state --- */

static json_t *strv_to_json(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *hook_to_json(const struct cell_hook *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(h->path));
    if (h->args)
        json_object_set_new(o, "args", strv_to_json(h->args));
    if (h->env)
        json_object_set_new(o, "env", strv_to_json(h->env));
    if (h->timeout != CELL_UNSET)
        json_object_set_new(o, "timeout", json_integer(h->timeout));
    return o;
}

/* Only the kinds that run after create: the init keeps its own copy of the
 * config for createContainer and startContainer. */
json_t *cell_hooks_to_json(const struct cell_spec *spec)
{
    static const enum cell_hook_kind later[] = {CELL_HOOK_POSTSTART, CELL_HOOK_POSTSTOP};
    json_t *o = NULL;
    for (size_t k = 0; k < sizeof later / sizeof later[0]; k++) {
        enum cell_hook_kind kind = later[k];
        if (spec->n_hooks[kind] == 0)
            continue;
        json_t *a = json_array();
        for (size_t i = 0; i < spec->n_hooks[kind]; i++)
            json_array_append_new(a, hook_to_json(&spec->hooks[kind][i]));
        if (!o)
            o = json_object();
        json_object_set_new(o, cell_hook_name(kind), a);
    }
    return o;
}

static int strv_from_json(json_t *a, char ***out)
{
    *out = NULL;
    if (!a)
        return 0;
    if (!json_is_array(a))
        return -EINVAL;
    *out = calloc(1, sizeof(char *));
    if (!*out)
        return -ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return -EINVAL;
        if (cell_strv_push(out, json_string_value(v)) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int hook_from_json(json_t *o, struct cell_hook *h)
{
    json_t *path = json_object_get(o, "path");
    json_t *timeout = json_object_get(o, "timeout");
    h->timeout = json_is_integer(timeout) ? json_integer_value(timeout) : CELL_UNSET;
    if (!json_is_string(path) || !(h->path = strdup(json_string_value(path))))
        return -EINVAL;
    int r = strv_from_json(json_object_get(o, "args"), &h->args);
    if (r == 0)
        r = strv_from_json(json_object_get(o, "env"), &h->env);
    return r;
}

int cell_hooks_from_json(json_t *hooks, enum cell_hook_kind kind, struct cell_hook **out, size_t *n,
                         cell_err_t *err)
{
    *out = NULL;
    *n = 0;
    json_t *a = json_object_get(hooks, cell_hook_name(kind));
    if (!json_is_array(a) || json_array_size(a) == 0)
        return 0;
    struct cell_hook *list = calloc(json_array_size(a), sizeof *list);
    if (!list)
        return cell_error(err, ENOMEM, "state: hooks.%s", cell_hook_name(kind));
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        int r = hook_from_json(v, &list[i]);
        if (r < 0) {
            cell_hooks_free(list, i + 1);
            return cell_error(err, -r, "state: hooks.%s[%zu]", cell_hook_name(kind), i);
        }
    }
    *out = list;
    *n = json_array_size(a);
    return 0;
}

void cell_hooks_free(struct cell_hook *hooks, size_t n)
{
    for (size_t i = 0; hooks && i < n; i++) {
        free(hooks[i].path);
        cell_strv_free(hooks[i].args);
        cell_strv_free(hooks[i].env);
    }
    free(hooks);
}

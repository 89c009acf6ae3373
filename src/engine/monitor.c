/* The monitor: one small process per started container, forked from the
 * `cell` command that starts it (no helper binary to exec). It creates the
 * container through the runtime library with the container's stdio on
 * pipes (or a pty) of its own, writes what comes out to the json-file log
 * and to attached clients, waits for the init, records how it ended (exit
 * code, OOM kill, times), restarts it per the policy, removes it for
 * --rm, and exits. It is a subreaper, so processes the init leaves behind
 * are reaped here and not by a PID 1 that may never reap. */
#include "engine/monitor.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/pid.h"
#include "engine/attach.h"
#include "engine/health.h"
#include "engine/log.h"
#include "engine/spec.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 32
#define LOG_NAME    "container.log"

struct monitor {
    struct cell_engine *e;
    char id[CELL_ENGINE_ID_SIZE];
    char *bundle;
    int dirfd;     /* the container's directory (a new open file, not the locked one) */
    int report_fd; /* to the `cell` that forked us; -1 once it has its answer */
    int go_fd;
    int listen_fd;
    int clients[MAX_CLIENTS];
    size_t nclients;
    int epfd, sigfd;
    int out_r, err_r; /* the container's stdout and stderr, or the pty master in out_r */
    int in_w;         /* its stdin (-1 without -i); the pty master with a tty */
    int master;
    pid_t init;
    int exit_code;
    bool init_done;
    bool tty, open_stdin;
    struct cell_log_opts log_opts;
    struct cell_log_writer *log;
    struct cell_health health;
};

static void report(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct monitor *m, const char *fmt, ...)
{
    if (m->report_fd < 0)
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    /* One line: a message with a newline in it would end the report early. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n')
            line[i] = ' ';
    line[n++] = '\n';
    cell_write_all(m->report_fd, line, (size_t)n);
}

static void report_error(struct monitor *m, cell_err_t *err)
{
    report(m, "E %s", cell_error_text(err));
}

/* ---- the record ------------------------------------------------------------- */

typedef void (*record_fn)(json_t *rec, void *data);

/* A read-modify-write of the record under its lock. */
static int update_record(struct monitor *m, record_fn fn, void *data, json_t **copy)
{
    struct cell_ctr c;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_ctr_open(m->e, m->id, true, &c, &err) < 0)
        return -1;
    fn(c.rec, data);
    int r = cell_ctr_save(&c, &err);
    if (copy)
        *copy = json_incref(c.rec);
    cell_ctr_close(&c);
    return r;
}

/* ---- stdio ------------------------------------------------------------------- */

static int epoll_add(struct monitor *m, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void close_stdio(struct monitor *m)
{
    int *fds[] = {&m->out_r, &m->err_r, &m->in_w};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0 && *fds[i] != m->master) {
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, *fds[i], NULL);
            close(*fds[i]);
        }
        *fds[i] = -1;
    }
    if (m->master >= 0) {
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->master, NULL);
        close(m->master);
        m->master = -1;
    }
}

/* The fds the init gets as 0, 1, 2 (pipes), kept in child[]; ours stay in m. */
static int make_pipes(struct monitor *m, int child[3], cell_err_t *err)
{
    int out[2], errp[2], in[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) < 0)
        return cell_error(err, errno, "pipe");
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(out[0]), close(out[1]);
        return cell_error(err, errno, "pipe");
    }
    if (m->open_stdin && pipe2(in, O_CLOEXEC) < 0) {
        close(out[0]), close(out[1]), close(errp[0]), close(errp[1]);
        return cell_error(err, errno, "pipe");
    }
    m->out_r = out[0];
    m->err_r = errp[0];
    m->in_w = in[1];
    child[0] = in[0] >= 0 ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
    child[1] = out[1];
    child[2] = errp[1];
    return 0;
}

/* Runs the runtime's create with fds as the caller's 0, 1, 2, which the init
 * inherits, then puts /dev/null back. */
static int create_with_stdio(struct monitor *m, const int child[3], int console, cell_err_t *err)
{
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0 && dup2(child[i], i) < 0)
            return cell_error(err, errno, "stdio");
    struct cell_create_opts o = {
        .root = m->e->runtime_root,
        .id = m->id,
        .bundle = m->bundle,
        .console_fd = console,
    };
    /* The init inherits the signal mask and ignored signals across execve:
     * it must not get the monitor's (SIGTERM blocked, SIGPIPE ignored). */
    sigset_t none, blocked;
    sigemptyset(&none);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, &blocked);
    int r = cell_runtime_create(&o, err);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 0; i < 3 && null >= 0; i++)
        dup2(null, i);
    if (null > 2)
        close(null);
    return r;
}

static int init_pid(struct monitor *m, cell_err_t *err)
{
    json_t *st = cell_runtime_state(m->e->runtime_root, m->id, err);
    if (!st)
        return -1;
    m->init = (pid_t)json_integer_value(json_object_get(st, "pid"));
    json_decref(st);
    return m->init > 0 ? 0 : cell_error(err, 0, "container %s: no init process", m->id);
}

/* config.json anew: a container:X namespace is X's current init, the user
 * as the image's /etc/passwd says now. */
static int write_spec(struct monitor *m, cell_err_t *err)
{
    struct cell_ctr c;
    if (cell_ctr_open(m->e, m->id, false, &c, err) < 0)
        return -1;
    int r = cell_spec_write(m->e, c.rec, m->dirfd, err);
    cell_ctr_close(&c);
    return r;
}

/* One incarnation of the container, up to the create/start gate. */
static int create_container(struct monitor *m, cell_err_t *err)
{
    int child[3] = {-1, -1, -1};
    int sv[2] = {-1, -1};
    int r;
    if (write_spec(m, err) < 0)
        return -1;
    if (m->tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            return cell_error(err, errno, "socketpair");
        child[0] = child[1] = child[2] = open("/dev/null", O_RDWR | O_CLOEXEC);
        r = create_with_stdio(m, child, sv[1], err);
        close(child[0]);
        close(sv[1]);
        if (r == 0) {
            char b;
            ssize_t n = cell_recv_with_fd(sv[0], &b, 1, &m->master);
            if (n <= 0 || m->master < 0)
                r = cell_error(err, n < 0 ? (int)-n : EPROTO, "receive the container's pty");
        }
        close(sv[0]);
        if (r == 0) {
            m->out_r = m->master;
            m->in_w = m->open_stdin ? m->master : -1;
        }
    } else {
        if (make_pipes(m, child, err) < 0)
            return -1;
        r = create_with_stdio(m, child, 0, err);
        for (int i = 0; i < 3; i++)
            if (child[i] >= 0)
                close(child[i]);
    }
    if (r == 0)
        r = init_pid(m, err);
    if (r == 0 && ((m->out_r >= 0 && epoll_add(m, m->out_r) < 0) ||
                   (m->err_r >= 0 && epoll_add(m, m->err_r) < 0)))
        r = cell_error(err, errno, "epoll");
    if (r < 0) {
        close_stdio(m);
        cell_runtime_delete(m->e->runtime_root, m->id, true, NULL);
    }
    m->init_done = false;
    return r;
}

/* ---- clients ------------------------------------------------------------------ */

static void drop_client(struct monitor *m, size_t i)
{
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->clients[i], NULL);
    close(m->clients[i]);
    m->clients[i] = m->clients[--m->nclients];
}

static void broadcast(struct monitor *m, enum cell_frame_type type, const void *data, uint32_t len)
{
    for (size_t i = 0; i < m->nclients;)
        if (cell_frame_send(m->clients[i], type, data, len) < 0)
            drop_client(m, i);
        else
            i++;
}

static void accept_clients(struct monitor *m)
{
    int fd;
    while ((fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        if (m->nclients == MAX_CLIENTS || epoll_add(m, fd) < 0) {
            close(fd);
            continue;
        }
        m->clients[m->nclients++] = fd;
    }
}

static void resize(struct monitor *m, const char *data, uint32_t len)
{
    if (m->master < 0 || len < 4)
        return;
    const unsigned char *b = (const unsigned char *)data;
    struct winsize ws = {.ws_row = (unsigned short)(b[0] << 8 | b[1]),
                         .ws_col = (unsigned short)(b[2] << 8 | b[3])};
    ioctl(m->master, TIOCSWINSZ, &ws);
}

static void close_stdin(struct monitor *m)
{
    if (m->in_w >= 0 && m->in_w != m->master)
        close(m->in_w);
    m->in_w = -1;
}

static void client_frame(struct monitor *m, size_t i)
{
    int type;
    _cleanup_free_ char *data = NULL;
    uint32_t len;
    if (cell_frame_recv(m->clients[i], &type, &data, &len) < 0) {
        drop_client(m, i);
        return;
    }
    if (type == CELL_FRAME_STDIN && m->in_w >= 0)
        cell_write_all(m->in_w, data, len);
    else if (type == CELL_FRAME_STDIN_EOF)
        close_stdin(m);
    else if (type == CELL_FRAME_RESIZE)
        resize(m, data, len);
    else if (type == CELL_FRAME_SIGNAL && len == 4 && m->init > 0 && !m->init_done)
        kill(m->init, (int)cell_frame_u32(data));
}

/* ---- output ------------------------------------------------------------------- */

/* One read from the container's stdout or stderr: to the log and to each
 * client. False at end of file. */
static bool pump(struct monitor *m, int fd)
{
    char buf[32768];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0) {
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
        if (fd == m->out_r) {
            if (fd != m->master)
                close(fd);
            m->out_r = -1;
        } else {
            close(fd);
            m->err_r = -1;
        }
        return false;
    }
    enum cell_log_stream s = fd == m->err_r ? CELL_LOG_STDERR : CELL_LOG_STDOUT;
    if (m->log)
        cell_log_writer_write(m->log, s, buf, (size_t)n, NULL);
    broadcast(m, s == CELL_LOG_STDERR ? CELL_FRAME_STDERR : CELL_FRAME_STDOUT, buf, (uint32_t)n);
    return true;
}

/* Reaps every child; notes the init's end. */
static void reap(struct monitor *m)
{
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) {
            if (m->init > 0 && !m->init_done)
                kill(m->init, (int)si.ssi_signo);
        }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == m->init) {
            m->init_done = true;
            m->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        } else
            cell_health_reaped(&m->health, pid, status);
}

static void dispatch(struct monitor *m, int fd)
{
    if (fd == m->sigfd)
        reap(m);
    else if (fd == m->listen_fd)
        accept_clients(m);
    else if (fd == m->out_r || fd == m->err_r)
        pump(m, fd);
    else if (fd == m->health.timerfd)
        cell_health_tick(&m->health, m->e, m->id);
    else
        for (size_t i = 0; i < m->nclients; i++)
            if (m->clients[i] == fd) {
                client_frame(m, i);
                break;
            }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Until the init has ended and its output is drained (processes it left
 * may hold the pipes: at most two seconds more for those). */
static void serve_until_exit(struct monitor *m)
{
    long long deadline = -1;
    for (;;) {
        bool open_out = m->out_r >= 0 || m->err_r >= 0;
        if (m->init_done && (!open_out || (deadline >= 0 && now_ms() >= deadline)))
            return;
        if (m->init_done && deadline < 0)
            deadline = now_ms() + 2000;
        struct epoll_event ev[16];
        int timeout = m->init_done ? 100 : -1;
        int n = epoll_wait(m->epfd, ev, 16, timeout);
        for (int i = 0; i < n; i++)
            dispatch(m, ev[i].data.fd);
        /* A pty's master reads EIO once the init is gone and no one else
         * has the terminal open. */
    }
}

/* ---- the end of an incarnation ---------------------------------------------------- */

struct ending {
    int exit_code;
    bool oom;
};

static void record_exit(json_t *rec, void *data)
{
    struct ending *x = data;
    cell_state_set_exited(rec, x->exit_code, x->oom, NULL);
    json_object_set_new(rec, "Monitor",
                        json_pack("{s:i, s:I}", "Pid", (int)getpid(), "StartTime",
                                  (json_int_t)cell_proc_starttime(getpid(), NULL)));
}

static bool read_oom(struct monitor *m)
{
    json_t *st = cell_runtime_state(m->e->runtime_root, m->id, NULL);
    bool oom = json_is_true(json_object_get(st, "oomKilled"));
    json_decref(st);
    return oom;
}

static void broadcast_exit(struct monitor *m, int code)
{
    unsigned char b[4] = {(unsigned char)(code >> 24), (unsigned char)(code >> 16),
                          (unsigned char)(code >> 8), (unsigned char)code};
    broadcast(m, CELL_FRAME_EXIT, b, 4);
}

static void finish_incarnation(struct monitor *m, json_t **rec)
{
    if (m->log)
        cell_log_writer_flush(m->log, NULL);
    close_stdio(m);
    cell_health_stop(&m->health);
    struct ending x = {m->exit_code, read_oom(m)};
    cell_runtime_delete(m->e->runtime_root, m->id, true, NULL);
    cell_engine_event_exit(m->e, m->id, x.exit_code, x.oom);
    update_record(m, record_exit, &x, rec);
}

/* Docker's policies: no, always, unless-stopped, on-failure[:N]. A
 * container stopped by `cell stop` or being removed is never restarted. */
static bool should_restart(const json_t *rec, int exit_code)
{
    if (json_is_true(json_object_get(rec, "StoppedByUser")) ||
        json_is_true(json_object_get(rec, "Removing")))
        return false;
    json_t *p = json_object_get(json_object_get(rec, "HostConfig"), "RestartPolicy");
    const char *name = json_string_value(json_object_get(p, "Name"));
    if (!name || !*name || !strcmp(name, "no"))
        return false;
    if (!strcmp(name, "always") || !strcmp(name, "unless-stopped"))
        return true;
    if (strcmp(name, "on-failure") != 0 || exit_code == 0)
        return false;
    json_int_t max = json_integer_value(json_object_get(p, "MaximumRetryCount"));
    return max <= 0 || json_integer_value(json_object_get(rec, "RestartCount")) < max;
}

static void mark_restarting(json_t *rec, void *data)
{
    (void)data;
    cell_state_set_status(rec, "restarting");
    json_object_set_new(rec, "RestartCount",
                        json_integer(json_integer_value(json_object_get(rec, "RestartCount")) + 1));
}

/* The health checks of a run that has begun (rec says running). */
static void start_health(struct monitor *m, json_t *rec)
{
    cell_health_reset(rec);
    if (cell_health_start(&m->health, rec) == 1)
        epoll_add(m, m->health.timerfd);
}

static void mark_running(json_t *rec, void *data)
{
    struct monitor *m = data;
    cell_state_set_running(rec, m->init, getpid());
    start_health(m, rec);
    cell_engine_event(m->e, m->id, "start", rec, NULL);
}

/* Sleeps delay_ms while still serving clients (they may attach or go). */
static void pause_ms(struct monitor *m, long long delay_ms)
{
    long long until = now_ms() + delay_ms;
    for (long long left; (left = until - now_ms()) > 0;) {
        struct epoll_event ev[8];
        int n = epoll_wait(m->epfd, ev, 8, (int)left);
        for (int i = 0; i < n; i++)
            dispatch(m, ev[i].data.fd);
    }
}

static int restart(struct monitor *m, json_t *rec)
{
    /* Docker's back-off: 100 ms, doubling per restart, at most a minute;
     * it starts over once a run has lasted ten seconds. */
    json_int_t count = json_integer_value(json_object_get(rec, "RestartCount"));
    long long delay = 100;
    for (json_int_t i = 0; i < count && delay < 60000; i++)
        delay *= 2;
    if (delay > 60000)
        delay = 60000;
    update_record(m, mark_restarting, NULL, NULL);
    pause_ms(m, delay);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (create_container(m, &err) < 0 || cell_runtime_start(m->e->runtime_root, m->id, &err) < 0) {
        struct ending x = {128, false};
        update_record(m, record_exit, &x, NULL);
        return -1;
    }
    return update_record(m, mark_running, m, NULL);
}

/* ---- the monitor process ------------------------------------------------------------ */

static int setup_process(struct monitor *m, cell_err_t *err)
{
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    prctl(PR_SET_NAME, "cell-monitor");
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->sigfd < 0 || m->epfd < 0 || epoll_add(m, m->sigfd) < 0)
        return cell_error(err, errno, "monitor");
    m->listen_fd = cell_attach_listen(m->dirfd, err);
    if (m->listen_fd < 0 || epoll_add(m, m->listen_fd) < 0)
        return -1;
    return 0;
}

static int read_config(struct monitor *m, const json_t *rec, cell_err_t *err)
{
    json_t *cfg = json_object_get(rec, "Config");
    m->tty = json_is_true(json_object_get(cfg, "Tty"));
    m->open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
    json_t *lc =
        json_object_get(json_object_get(json_object_get(rec, "HostConfig"), "LogConfig"), "Config");
    _cleanup_strv_ char **opts = calloc(json_object_size(lc) + 1, sizeof(char *));
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(lc, k, v) if (asprintf(&opts[n], "%s=%s", k, json_string_value(v)) >= 0)
        n++;
    if (cell_log_opts_parse(opts, n, &m->log_opts, err) < 0)
        return -1;
    return cell_log_writer_open(m->dirfd, LOG_NAME, &m->log_opts, &m->log, err);
}

/* Waits for the go byte: 1 to start, 0 when the caller went away first. */
static int wait_go(struct monitor *m)
{
    char b;
    ssize_t n;
    do
        n = read(m->go_fd, &b, 1);
    while (n < 0 && errno == EINTR);
    close(m->go_fd);
    m->go_fd = -1;
    return n == 1;
}

static void remove_container(struct monitor *m)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    cell_engine_remove(m->e, m->id, true, &err);
}

static int first_start(struct monitor *m, int lockfd, cell_err_t *err)
{
    if (create_container(m, err) < 0)
        return -1;
    report(m, "C");
    if (!wait_go(m)) {
        cell_runtime_delete(m->e->runtime_root, m->id, true, NULL);
        close_stdio(m);
        return cell_error(err, 0, "start of %s abandoned", m->id);
    }
    if (cell_runtime_start(m->e->runtime_root, m->id, err) < 0) {
        cell_runtime_delete(m->e->runtime_root, m->id, true, NULL);
        close_stdio(m);
        return -1;
    }
    /* Still under the lock the caller took (lockfd is the same open file). */
    struct cell_ctr c = {.dirfd = lockfd, .locked = true};
    snprintf(c.id, sizeof c.id, "%s", m->id);
    _cleanup_free_ char *text = NULL;
    json_error_t jerr;
    if (cell_read_file_at(lockfd, "record.json", &text, NULL) < 0 ||
        !(c.rec = json_loads(text, JSON_ALLOW_NUL, &jerr)))
        return cell_error(err, EIO, "read record of %s", m->id);
    cell_state_set_running(c.rec, m->init, getpid());
    start_health(m, c.rec);
    int r = cell_ctr_save(&c, err);
    cell_engine_event(m->e, m->id, "start", c.rec, NULL);
    json_decref(c.rec);
    return r;
}

static int monitor_run(struct monitor *m, int lockfd)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *rec0 = NULL;
    {
        _cleanup_free_ char *text = NULL;
        json_error_t jerr;
        if (cell_read_file_at(lockfd, "record.json", &text, NULL) == 0)
            rec0 = json_loads(text, JSON_ALLOW_NUL, &jerr);
    }
    int r = rec0 ? 0 : cell_error(&err, EIO, "read record of %s", m->id);
    if (r == 0)
        r = read_config(m, rec0, &err);
    json_decref(rec0);
    if (r == 0)
        r = setup_process(m, &err);
    if (r == 0)
        r = first_start(m, lockfd, &err);
    if (r < 0) {
        report_error(m, &err);
        return 1;
    }
    report(m, "S %d", (int)m->init);
    close(m->report_fd);
    m->report_fd = -1;
    close(lockfd); /* the caller closes its copy too: the lock is free */
    for (;;) {
        /* What `cell` allocated before the fork (image store, parsed
         * records and spec) is free now: give it back before the monitor
         * sits for the container's whole life (~400 kB of heap each). */
        malloc_trim(0);
        serve_until_exit(m);
        json_t *rec = NULL;
        finish_incarnation(m, &rec);
        bool again = rec && should_restart(rec, m->exit_code);
        bool autoremove =
            json_is_true(json_object_get(json_object_get(rec, "HostConfig"), "AutoRemove"));
        if (!again) {
            json_decref(rec);
            /* Removed before the exit is told: `run --rm` returns to a
             * shell in which the container is gone. */
            if (autoremove)
                remove_container(m);
            broadcast_exit(m, m->exit_code);
            return 0;
        }
        broadcast_exit(m, m->exit_code);
        int rr = restart(m, rec);
        json_decref(rec);
        if (rr < 0)
            return 1;
    }
}

static void monitor_main(struct cell_engine *e, struct cell_ctr *c, int report_fd, int go_fd)
{
    struct monitor m = {
        .e = e,
        .report_fd = report_fd,
        .go_fd = go_fd,
        .listen_fd = -1,
        .epfd = -1,
        .sigfd = -1,
        .out_r = -1,
        .err_r = -1,
        .in_w = -1,
        .master = -1,
        .health = CELL_HEALTH_INIT,
    };
    snprintf(m.id, sizeof m.id, "%s", c->id);
    m.dirfd = openat(e->containersfd, c->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m.dirfd < 0 || asprintf(&m.bundle, "%s/containers/%s", e->root, c->id) < 0) {
        report(&m, "E open container %s: %s", c->id, strerror(errno));
        _exit(1);
    }
    int code = monitor_run(&m, c->dirfd);
    if (m.log)
        cell_log_writer_close(m.log);
    _exit(code);
}

/* ---- the caller's side ----------------------------------------------------------------- */

static int read_report(int fd, char *line, size_t size)
{
    size_t n = 0;
    while (n < size - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    return (int)n;
}

static int expect(struct cell_monitor_handle *h, char want, char *line, size_t size,
                  cell_err_t *err)
{
    if (read_report(h->report_fd, line, size) <= 0)
        return cell_error(err, 0, "the container's monitor ended without a word");
    if (line[0] == 'E')
        return cell_error(err, 0, "%s", line + 2);
    if (line[0] != want)
        return cell_error(err, EPROTO, "monitor said \"%s\"", line);
    return 0;
}

int cell_monitor_spawn(struct cell_engine *e, struct cell_ctr *c, struct cell_monitor_handle *h,
                       cell_err_t *err)
{
    int rep[2], go[2];
    h->pid = -1;
    h->report_fd = h->go_fd = -1;
    if (pipe2(rep, O_CLOEXEC) < 0)
        return cell_error(err, errno, "pipe");
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(rep[0]), close(rep[1]);
        return cell_error(err, errno, "pipe");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
        return cell_error(err, errno, "fork the monitor");
    }
    if (pid == 0) {
        close(rep[0]);
        close(go[1]);
        monitor_main(e, c, rep[1], go[0]);
    }
    close(rep[1]);
    close(go[0]);
    h->pid = pid;
    h->report_fd = rep[0];
    h->go_fd = go[1];
    char line[4096];
    return expect(h, 'C', line, sizeof line, err);
}

int cell_monitor_go(struct cell_monitor_handle *h, pid_t *pid, cell_err_t *err)
{
    if (cell_write_all(h->go_fd, "g", 1) < 0)
        return cell_error(err, errno, "start the container");
    close(h->go_fd);
    h->go_fd = -1;
    char line[4096];
    if (expect(h, 'S', line, sizeof line, err) < 0)
        return -1;
    if (pid)
        *pid = (pid_t)atoi(line + 2);
    return 0;
}

void cell_monitor_handle_close(struct cell_monitor_handle *h)
{
    cell_closep(&h->report_fd);
    cell_closep(&h->go_fd);
    h->report_fd = h->go_fd = -1;
}

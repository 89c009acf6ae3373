/* The client's side of the attach socket: `cell run` in the foreground,
 * `start -a`, `attach`. */
#include "engine/attach.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define MAX_KEYS 16

/* "ctrl-p,ctrl-q", "a,ctrl-@,ctrl-[": Docker's detach key spec. */
static int parse_keys(const char *spec, unsigned char *keys, size_t *n, cell_err_t *err)
{
    *n = 0;
    if (!spec)
        spec = "ctrl-p,ctrl-q";
    _cleanup_free_ char *copy = strdup(spec);
    if (!copy)
        return cell_error(err, ENOMEM, "detach keys");
    char *save = NULL;
    for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_KEYS)
            return cell_error(err, 0, "Invalid detach keys (%s) provided", spec);
        if (strlen(k) == 1)
            keys[(*n)++] = (unsigned char)k[0];
        else if (!strncmp(k, "ctrl-", 5) && strlen(k) == 6) {
            int c = k[5];
            if (c >= 'a' && c <= 'z')
                keys[(*n)++] = (unsigned char)(c - 'a' + 1);
            else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                keys[(*n)++] = (unsigned char)(c == '@' ? 0 : c - 'A' + 1);
            else
                return cell_error(err, 0, "Invalid detach keys (%s) provided", spec);
        } else
            return cell_error(err, 0, "Invalid detach keys (%s) provided", spec);
    }
    return 0;
}

static void send_size(int fd, int tty_fd)
{
    struct winsize ws;
    if (tty_fd < 0)
        tty_fd = STDOUT_FILENO;
    if (ioctl(tty_fd, TIOCGWINSZ, &ws) < 0)
        return;
    unsigned char b[4] = {(unsigned char)(ws.ws_row >> 8), (unsigned char)ws.ws_row,
                          (unsigned char)(ws.ws_col >> 8), (unsigned char)ws.ws_col};
    cell_frame_send(fd, CELL_FRAME_RESIZE, b, 4);
}

struct relay {
    int fd;
    const struct cell_attach_relay *o;
    unsigned char keys[MAX_KEYS];
    size_t nkeys, matched;
    int sigfd;
    sigset_t old;
};

/* Stdin to the container, watching for the detach keys (the bytes of a
 * partly typed sequence are held back, as Docker does); 1 on detach, -1 at
 * end of input. */
static int forward_stdin(struct relay *r)
{
    unsigned char buf[4096], out[4096 + MAX_KEYS];
    ssize_t n = read(r->o->in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        cell_frame_send(r->fd, CELL_FRAME_STDIN_EOF, NULL, 0);
        return -1;
    }
    size_t len = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (r->nkeys && buf[i] == r->keys[r->matched]) {
            if (++r->matched == r->nkeys)
                return 1;
            continue;
        }
        memcpy(out + len, r->keys, r->matched); /* not the sequence after all */
        len += r->matched;
        r->matched = 0;
        if (r->nkeys && buf[i] == r->keys[0]) {
            r->matched = 1;
            continue;
        }
        out[len++] = buf[i];
    }
    if (len)
        cell_frame_send(r->fd, CELL_FRAME_STDIN, out, (uint32_t)len);
    return 0;
}

/* One frame from the monitor: 1 when it was the exit. */
static int from_monitor(struct relay *r, int *exit_code, cell_err_t *err)
{
    int type;
    _cleanup_free_ char *data = NULL;
    uint32_t len;
    int rc = cell_frame_recv(r->fd, &type, &data, &len);
    if (rc == -EPIPE)
        return 2; /* the monitor is gone without a word */
    if (rc < 0)
        return cell_error(err, -rc, "read from the container's monitor");
    if (type == CELL_FRAME_STDOUT && r->o->out_fd >= 0)
        cell_write_all(r->o->out_fd, data, len);
    else if (type == CELL_FRAME_STDERR && r->o->err_fd >= 0)
        cell_write_all(r->o->err_fd, data, len);
    else if (type == CELL_FRAME_EXIT && len == 4) {
        *exit_code = (int)cell_frame_u32(data);
        return 1;
    }
    return 0;
}

static void on_signals(struct relay *r)
{
    struct signalfd_siginfo si;
    while (read(r->sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH)
            send_size(r->fd, r->o->out_fd);
        else if (r->o->proxy_signals)
            cell_frame_send_u32(r->fd, CELL_FRAME_SIGNAL, si.ssi_signo);
    }
}

static int setup_signals(struct relay *r)
{
    sigset_t set;
    sigemptyset(&set);
    if (r->o->tty)
        sigaddset(&set, SIGWINCH);
    if (r->o->proxy_signals) {
        int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
            sigaddset(&set, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &set, &r->old);
    r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return r->sigfd < 0 ? -errno : 0;
}

int cell_attach_relay(int fd, const struct cell_attach_relay *o, int *exit_code, cell_err_t *err)
{
    struct relay r = {.fd = fd, .o = o, .sigfd = -1};
    if (parse_keys(o->in_fd >= 0 && o->tty ? o->detach_keys : "", r.keys, &r.nkeys, err) < 0)
        return -1;
    if (setup_signals(&r) < 0)
        return cell_error(err, errno, "signalfd");
    if (o->tty)
        send_size(fd, o->out_fd);
    *exit_code = -1;
    int result = 0;
    bool in_open = o->in_fd >= 0;
    for (;;) {
        struct pollfd p[3] = {{.fd = fd, .events = POLLIN},
                              {.fd = r.sigfd, .events = POLLIN},
                              {.fd = in_open ? o->in_fd : -1, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            result = cell_error(err, errno, "poll");
            break;
        }
        if (p[1].revents)
            on_signals(&r);
        if (p[2].revents) {
            int s = forward_stdin(&r);
            if (s == 1) {
                result = 1;
                break;
            }
            if (s < 0)
                in_open = false;
        }
        if (p[0].revents) {
            int s = from_monitor(&r, exit_code, err);
            if (s != 0) {
                result = s < 0 ? -1 : 0;
                break;
            }
        }
    }
    close(r.sigfd);
    sigprocmask(SIG_SETMASK, &r.old, NULL);
    return result;
}

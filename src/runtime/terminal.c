#include "runtime/terminal.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/path.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int cell_terminal_connect(const char *socket_path, cell_err_t *err)
{
    int fd = cell_unix_connect(socket_path);
    return fd < 0 ? cell_error(err, -fd, "console socket %s", socket_path) : fd;
}

int cell_terminal_send_master(int sock, int fd)
{
    char byte = 0;
    return cell_send_with_fd(sock, &byte, 1, fd);
}

int cell_terminal_recv_master(int sock, cell_err_t *err)
{
    char byte;
    int fd = -1;
    ssize_t n = cell_recv_with_fd(sock, &byte, 1, &fd);
    if (fd < 0)
        return cell_error(err, n < 0 ? (int)-n : EPROTO, "receive the terminal from the container");
    return fd;
}

static int bind_console(int rootfd, int ptn, cell_err_t *err)
{
    char pts[64];
    snprintf(pts, sizeof pts, "/dev/pts/%d", ptn);
    _cleanup_close_ int src = cell_open_in_root(rootfd, pts, O_PATH, err);
    if (src < 0)
        return src;
    _cleanup_close_ int dst = cell_mkfile_in_root(rootfd, "/dev/console", 0600, err);
    if (dst < 0)
        return dst;
    _cleanup_close_ int mfd = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (mfd < 0 ||
        move_mount(mfd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return cell_error(err, errno, "bind %s on /dev/console", pts);
    return 0;
}

int cell_terminal_open(int rootfd, const struct cell_process *p, int console_fd, bool dev_console,
                       cell_err_t *err)
{
    _cleanup_close_ int master = cell_open_in_root(rootfd, "/dev/ptmx", O_RDWR | O_NOCTTY, err);
    if (master < 0)
        return cell_error_prepend(err, "process.terminal");
    int unlock = 0, ptn = -1;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
        return cell_error(err, errno, "process.terminal: unlock pty");
    /* TIOCGPTPEER opens the peer through the master, not through a path a
     * container could have swapped. */
    _cleanup_close_ int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (peer < 0)
        return cell_error(err, errno, "process.terminal: open pty peer");
    struct winsize ws = {.ws_row = (unsigned short)p->console_height,
                         .ws_col = (unsigned short)p->console_width};
    if ((ws.ws_row || ws.ws_col) && ioctl(peer, TIOCSWINSZ, &ws) < 0)
        return cell_error(err, errno, "process.consoleSize");
    if (fchown(peer, p->uid, (gid_t)-1) < 0)
        return cell_error(err, errno, "process.terminal: chown pty");
    int r = dev_console ? bind_console(rootfd, ptn, err) : 0;
    if (r < 0)
        return r;
    r = cell_terminal_send_master(console_fd, master);
    if (r < 0)
        return cell_error(err, -r, "process.terminal: send pty to console socket");
    return TAKE_FD(peer);
}

int cell_terminal_attach(int peer, cell_err_t *err)
{
    if (ioctl(peer, TIOCSCTTY, 0) < 0)
        return cell_error(err, errno, "process.terminal: set controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(peer, fd) < 0)
            return cell_error(err, errno, "process.terminal: dup2");
    if (peer > 2)
        close(peer);
    return 0;
}

static void copy_winsize(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) == 0)
        ioctl(to, TIOCSWINSZ, &ws);
}

/* One read and a full write; false at end of input. */
static bool pump(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    return n > 0 && cell_write_all(to, buf, (size_t)n) == 0;
}

static int exit_code_of(int status)
{
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

struct relay {
    int master, sfd;
    pid_t pid;
    bool in_open;  /* our stdin still has input to pass on */
    bool out_open; /* the container's side of the pty is still open */
    bool exited;
    int status;
};

/* Once the container's side has closed there is nothing left to relay:
 * wait for the process rather than poll a hung-up pty in a loop. */
static void relay_on_signal(struct relay *r, bool tty)
{
    struct signalfd_siginfo si;
    if (read(r->sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGWINCH && tty)
        copy_winsize(0, r->master);
    if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
        r->exited = true;
}

static void relay_round(struct relay *r, bool tty)
{
    struct pollfd fds[3] = {{r->out_open ? r->master : -1, POLLIN, 0},
                            {r->sfd, POLLIN, 0},
                            {r->in_open ? 0 : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR)
        r->out_open = false;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(r->master, 1))
        r->out_open = false; /* EIO: the container side closed */
    if (fds[2].revents & (POLLIN | POLLHUP))
        r->in_open = pump(0, r->master);
    if (fds[1].revents & POLLIN)
        relay_on_signal(r, tty);
    if (!r->out_open && !r->exited) {
        while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
            ;
        r->exited = true;
    }
}

int cell_terminal_relay(int master, pid_t pid)
{
    bool tty = isatty(0);
    struct termios saved, raw;
    if (tty && tcgetattr(0, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
        copy_winsize(0, master);
    } else {
        tty = false;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGWINCH);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    struct relay r = {.master = master, .sfd = signalfd(-1, &mask, SFD_CLOEXEC), .pid = pid,
                      .in_open = true, .out_open = true};
    while (!r.exited)
        relay_round(&r, tty);
    /* What the process wrote just before it ended. */
    struct pollfd last = {master, POLLIN, 0};
    while (r.out_open && poll(&last, 1, 0) > 0 && pump(master, 1))
        ;
    if (r.sfd >= 0)
        close(r.sfd);
    if (tty)
        tcsetattr(0, TCSANOW, &saved);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    return exit_code_of(r.status);
}

/* NOTIFY_SOCKET proxying (see notify.h). The runtime's process reads the
 * variable itself: start and run have no other way to learn the caller's
 * socket, and runc's callers (systemd units) set it in the environment. */
#include "runtime/notify.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_DIR  "/run/notify"
#define NOTIFY_SOCK "notify.sock"

static const char *host_socket(void)
{
    const char *s = getenv("NOTIFY_SOCKET");
    return s && *s ? s : NULL;
}

/* NOTIFY_SOCKET=... replaces one the config may carry. */
static int set_env(struct cell_process *p)
{
    const char *entry = "NOTIFY_SOCKET=" NOTIFY_DIR "/" NOTIFY_SOCK;
    for (char **e = p->env; e && *e; e++)
        if (!strncmp(*e, "NOTIFY_SOCKET=", 14)) {
            char *copy = strdup(entry);
            if (!copy)
                return -ENOMEM;
            free(*e);
            *e = copy;
            return 0;
        }
    return cell_strv_push(&p->env, entry);
}

static int add_mount(struct cell_spec *spec, const char *source)
{
    struct cell_mount *more = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof *more);
    if (!more)
        return -ENOMEM;
    spec->mounts = more;
    struct cell_mount *m = &more[spec->n_mounts];
    memset(m, 0, sizeof *m);
    spec->n_mounts++;
    m->destination = strdup(NOTIFY_DIR);
    m->source = strdup(source);
    m->bind = true;
    /* Read-only: a socket can still be sent to, nothing can be made. */
    m->flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
    const char *opts[] = {"bind", "nosuid", "nodev", "noexec", "ro"};
    int r = 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0] && r == 0; i++)
        r = cell_strv_push(&m->options, opts[i]);
    return (r < 0 || !m->destination || !m->source) ? -ENOMEM : 0;
}

int cell_notify_prepare(struct cell_spec *spec, int state_dirfd, cell_err_t *err)
{
    if (!host_socket())
        return 0;
    char link[64], dir[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", state_dirfd);
    ssize_t n = readlink(link, dir, sizeof dir - sizeof "/notify");
    if (n < 0)
        return cell_error(err, errno, "NOTIFY_SOCKET: state directory");
    strcpy(dir + n, "/notify");
    if (mkdirat(state_dirfd, "notify", 0755) < 0 && errno != EEXIST)
        return cell_error(err, errno, "NOTIFY_SOCKET: make %s", dir);
    int r = add_mount(spec, dir);
    if (r == 0)
        r = set_env(&spec->process);
    return r < 0 ? cell_error(err, -r, "NOTIFY_SOCKET") : 0;
}

int cell_notify_bind(int state_dirfd, int *sock, cell_err_t *err)
{
    *sock = -1;
    struct stat st;
    if (!host_socket() || fstatat(state_dirfd, "notify", &st, 0) < 0)
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/notify/" NOTIFY_SOCK,
             state_dirfd);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(addr.sun_path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return cell_error(err, errno, "NOTIFY_SOCKET: bind the container's socket");
    /* Any user the container's process runs as may send to it. */
    if (chmod(addr.sun_path, 0777) < 0)
        return cell_error(err, errno, "NOTIFY_SOCKET: chmod the container's socket");
    *sock = TAKE_FD(fd);
    return 0;
}

/* An '@' names an abstract socket, as with sd_notify. */
static int send_host(const char *text, cell_err_t *err)
{
    const char *path = host_socket();
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path)
        return cell_error(err, ENAMETOOLONG, "NOTIFY_SOCKET %s", path);
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen) < 0)
        return cell_error(err, errno, "NOTIFY_SOCKET %s", path);
    return 0;
}

static bool says_ready(const char *msg)
{
    for (const char *line = msg; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, "READY=1", 7) && (line[7] == '\n' || line[7] == '\0'))
            return true;
    return false;
}

int cell_notify_relay(int sock, pid_t init, cell_err_t *err)
{
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
    for (;;) {
        struct pollfd fds[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
        if (poll(fds, 2, pidfd < 0 ? 100 : -1) < 0 && errno != EINTR)
            return cell_error(err, errno, "NOTIFY_SOCKET: wait for the container");
        if (fds[0].revents & POLLIN) {
            char msg[4096];
            ssize_t n = recv(sock, msg, sizeof msg - 1, MSG_DONTWAIT);
            msg[n > 0 ? n : 0] = '\0';
            if (n > 0 && says_ready(msg)) {
                char text[64];
                snprintf(text, sizeof text, "MAINPID=%d\nREADY=1\n", init);
                return send_host(text, err);
            }
        }
        /* The container stopped without READY=1: nothing to pass on. */
        if ((fds[1].revents & POLLIN) || (pidfd < 0 && kill(init, 0) < 0))
            return 0;
    }
}

/* A foreground run waits for its process meanwhile: a child relays. */
int cell_notify_relay_background(int sock, pid_t init, cell_err_t *err)
{
    pid_t pid = fork();
    if (pid < 0)
        return cell_error(err, errno, "NOTIFY_SOCKET: fork");
    if (pid == 0)
        _exit(cell_notify_relay(sock, init, NULL) < 0 ? 1 : 0);
    return 0;
}

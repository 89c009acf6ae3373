/* linux.seccomp.listenerPath: the runtime process hands the init's notify
 * fd to a seccomp agent, with the container process state (config-linux.md
 * "The Container Process State"): one connection, one JSON document, the fd
 * in SCM_RIGHTS of the first sendmsg. */
#include "runtime/seccomp_internal.h"

#include "base/cleanup.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *process_state(const json_t *sc, const char *state_json)
{
    json_t *state = json_loads(state_json ? state_json : "{}", 0, NULL);
    json_t *pid = json_object_get(state, "pid");
    json_t *md = json_object_get(sc, "listenerMetadata");
    json_t *o = json_pack("{s:s, s:[s], s:I}", "ociVersion", CELL_OCI_VERSION, "fds", "seccompFd",
                          "pid", (json_int_t)(json_is_integer(pid) ? json_integer_value(pid) : 0));
    if (o && md)
        json_object_set(o, "metadata", md);
    if (o && state)
        json_object_set(o, "state", state);
    json_decref(state);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

static int connect_unix(const char *path, cell_err_t *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return cell_error(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", path);
    strcpy(addr.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cell_error(err, errno, "linux.seccomp.listenerPath: socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return cell_error(err, errno, "linux.seccomp.listenerPath: connect %s", path);
    return TAKE_FD(fd);
}

/* The fd rides on the first sendmsg; the rest of a long state follows. */
static int send_with_fd(int sock, const char *text, int fd)
{
    size_t len = strlen(text), off = 0;
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {.iov_base = (void *)text, .iov_len = len};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    while (off < len) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -errno;
        off += (size_t)n;
        iov.iov_base = (char *)text + off;
        iov.iov_len = len - off;
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
    }
    return 0;
}

int cell_seccomp_send_to_listener(const struct cell_spec *spec, int notify_fd,
                                  const char *state_json, cell_err_t *err)
{
    const json_t *sc = spec->linux.seccomp;
    const char *path = json_string_value(json_object_get(sc, "listenerPath"));
    if (!path)
        return cell_error(err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
    _cleanup_free_ char *text = process_state(sc, state_json);
    if (!text)
        return cell_error(err, ENOMEM, "linux.seccomp.listenerPath: container process state");
    _cleanup_close_ int sock = connect_unix(path, err);
    if (sock < 0)
        return sock;
    int r = send_with_fd(sock, text, notify_fd);
    if (r < 0)
        return cell_error(err, -r, "linux.seccomp.listenerPath: send to %s", path);
    return 0;
}

#include "runtime/sync.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cell_sync_send(int fd, int type, int value, const char *text)
{
    struct cell_sync_msg msg = {.type = type, .value = value};
    size_t len = offsetof(struct cell_sync_msg, text);
    if (text) {
        size_t tl = strnlen(text, CELL_SYNC_TEXT_MAX - 1);
        memcpy(msg.text, text, tl);
        len += tl + 1;
    }
    for (;;) {
        ssize_t n = send(fd, &msg, len, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

int cell_sync_recv(int fd, struct cell_sync_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    ssize_t n = cell_recv_with_fd(fd, msg, offsetof(struct cell_sync_msg, rights_fd),
                                  &msg->rights_fd);
    if (n < 0)
        return (int)n;
    if (n == 0)
        return -EPIPE;
    return (size_t)n >= offsetof(struct cell_sync_msg, text) ? 0 : -EBADMSG;
}

int cell_sync_expect(int fd, int type, struct cell_sync_msg *msg, cell_err_t *err)
{
    int r = cell_sync_recv(fd, msg);
    if (r == -EPIPE)
        return cell_error(err, 0, "container init exited during setup");
    if (r < 0)
        return cell_error(err, -r, "read from container init");
    if (msg->type == SYNC_ERROR) {
        msg->text[CELL_SYNC_TEXT_MAX - 1] = '\0';
        /* The text already carries the errno description. */
        return cell_error(err, 0, "%s", msg->text);
    }
    if (msg->type != type)
        return cell_error(err, EPROTO, "unexpected message %d from container init", msg->type);
    return 0;
}

int cell_sync_send_fd(int sock, int type, int fd)
{
    return cell_sync_send_value_fd(sock, type, 0, fd);
}

int cell_sync_send_value_fd(int sock, int type, int value, int fd)
{
    if (fd < 0)
        return cell_sync_send(sock, type, value, NULL);
    struct cell_sync_msg msg = {.type = type, .value = value};
    return cell_send_with_fd(sock, &msg, offsetof(struct cell_sync_msg, text), fd);
}

void cell_sync_die(int fd, cell_err_t *err)
{
    cell_sync_send(fd, SYNC_ERROR, err->errnum, cell_error_text(err));
    _exit(1);
}

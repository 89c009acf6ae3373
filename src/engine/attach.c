/* The attach socket's frames (attach.h). */
#include "engine/attach.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cell_frame_send(int fd, enum cell_frame_type type, const void *data, uint32_t len)
{
    char frame[8 + 4096];
    unsigned char hdr[8] = {(unsigned char)type,
                            0,
                            0,
                            0,
                            (unsigned char)(len >> 24),
                            (unsigned char)(len >> 16),
                            (unsigned char)(len >> 8),
                            (unsigned char)len};
    /* One send for small frames, so a frame is never interleaved with
     * another writer's on a shared socket. */
    if (len <= sizeof frame - 8) {
        memcpy(frame, hdr, 8);
        if (len)
            memcpy(frame + 8, data, len);
        return cell_send_all(fd, frame, 8 + len, true);
    }
    int r = cell_send_all(fd, hdr, 8, true);
    return r < 0 ? r : cell_send_all(fd, data, len, true);
}

int cell_frame_recv(int fd, int *type, char **data, uint32_t *len)
{
    unsigned char hdr[8];
    int r = cell_read_exact(fd, hdr, 8);
    if (r < 0)
        return r;
    uint32_t n = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
    if (n > CELL_FRAME_MAX)
        return -EPROTO;
    char *buf = malloc(n + 1);
    if (!buf)
        return -ENOMEM;
    if ((r = cell_read_exact(fd, buf, n)) < 0) {
        free(buf);
        return r == -EPIPE ? -EPROTO : r;
    }
    buf[n] = 0;
    *type = hdr[0];
    *data = buf;
    *len = n;
    return 0;
}

int cell_frame_send_u32(int fd, enum cell_frame_type type, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return cell_frame_send(fd, type, b, 4);
}

uint32_t cell_frame_u32(const char *data)
{
    const unsigned char *b = (const unsigned char *)data;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void cell_attach_path(int dirfd, char buf[64])
{
    snprintf(buf, 64, "/proc/self/fd/%d/attach.sock", dirfd);
}

int cell_attach_listen(int dirfd, cell_err_t *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cell_attach_path(dirfd, sa.sun_path);
    unlinkat(dirfd, "attach.sock", 0);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cell_error(err, errno, "attach socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
        return cell_error(err, errno, "attach socket");
    return TAKE_FD(fd);
}

int cell_attach_connect(int dirfd, cell_err_t *err)
{
    char path[64];
    cell_attach_path(dirfd, path);
    int fd = cell_unix_connect(path);
    if (fd < 0)
        return cell_error(err, -fd, "connect to the container's monitor");
    return fd;
}

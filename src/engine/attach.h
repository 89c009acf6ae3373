/* The attach socket of a container's monitor (containers/<id>/attach.sock):
 * how `cell run` in the foreground, `cell start -a` and `cell attach` reach
 * the container's stdio. Frames as Docker's multiplexed streams: 8 bytes
 * of header (type, three zero bytes, big-endian length), then the payload.
 * Types 0-2 are Docker's (stdin, stdout, stderr); the others are ours. */
#pragma once

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cell_frame_type {
    CELL_FRAME_STDIN = 0,
    CELL_FRAME_STDOUT = 1,
    CELL_FRAME_STDERR = 2,
    CELL_FRAME_EXIT = 3,      /* monitor -> client: the exit code, 4 bytes big-endian */
    CELL_FRAME_RESIZE = 4,    /* client -> monitor: rows, cols, 2 bytes each big-endian */
    CELL_FRAME_SIGNAL = 5,    /* client -> monitor: a signal for the init, 4 bytes */
    CELL_FRAME_STDIN_EOF = 6, /* client -> monitor: close the container's stdin */
};

#define CELL_FRAME_MAX (1u << 20)

/* Sends one frame whole (MSG_NOSIGNAL). 0 or -errno. */
int cell_frame_send(int fd, enum cell_frame_type type, const void *data, uint32_t len);
/* Reads one frame; *data is allocated (NUL-terminated), *len its size. 0, or
 * -EPIPE at a clean end of stream, or -errno. */
int cell_frame_recv(int fd, int *type, char **data, uint32_t *len);
int cell_frame_send_u32(int fd, enum cell_frame_type type, uint32_t v);
uint32_t cell_frame_u32(const char *data);

/* "/proc/self/fd/<dirfd>/attach.sock": sun_path is 108 bytes, a state root
 * in a deep temporary directory is not. */
void cell_attach_path(int dirfd, char buf[64]);
/* Binds and listens at the container's attach socket (replacing a stale one). */
int cell_attach_listen(int dirfd, cell_err_t *err);
/* Connects to it. */
int cell_attach_connect(int dirfd, cell_err_t *err);

/* The client's side: relays between a monitor's attach connection and the
 * caller's stdio until the container ends (or the detach keys come). */
struct cell_attach_relay {
    int in_fd;               /* what goes to the container's stdin; -1: nothing */
    int out_fd, err_fd;      /* where its stdout and stderr go */
    bool tty;                /* the container has a terminal: send the size of
                                out_fd's terminal now and on SIGWINCH */
    bool proxy_signals;      /* INT, TERM, HUP, QUIT, USR1, USR2 go to the init */
    const char *detach_keys; /* Docker's "ctrl-p,ctrl-q" (NULL: that); "" none */
};

/* 0 with *exit_code the container's, 1 when detached (the container runs
 * on), or -1 with err set (an unknown detach key spec, a broken stream). */
int cell_attach_relay(int fd, const struct cell_attach_relay *o, int *exit_code, cell_err_t *err);

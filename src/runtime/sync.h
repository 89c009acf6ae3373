/* Parent <-> container init messages over a SOCK_SEQPACKET socketpair.
 * Errors inside the init travel back as text, so the user sees
 * "mount proc on /proc: Operation not permitted" from the command they ran. */
#pragma once

#include "base/error.h"

#include <sys/types.h>

enum cell_sync_type {
    SYNC_USERNS_READY = 1, /* child -> parent: unshared a user ns; value = pid to map */
    SYNC_USERNS_MAPPED,    /* parent -> child: uid_map/gid_map written */
    SYNC_INIT_PID,         /* intermediate -> parent: value = host pid of the init */
    SYNC_CREATED,          /* init -> parent: set up, waiting at the gate */
    SYNC_START,            /* parent -> init (run only): go */
    SYNC_ERROR,            /* child -> parent: value = errno, text = message */
    SYNC_HOOKS,            /* init -> parent: namespaces and mounts ready, before pivot_root */
    SYNC_HOOKS_DONE,       /* parent -> init: prestart/createRuntime ran; text = state JSON */
    SYNC_SECCOMP_FD,       /* init -> parent: the seccomp notify fd rides along (SCM_RIGHTS) */
    SYNC_MOUNT_SOURCES,    /* init -> parent: open the bind sources in my mount namespace */
    SYNC_MOUNT_SOURCE,     /* parent -> init: value = mount index; an O_PATH fd, or none */
};

#define CELL_SYNC_TEXT_MAX 4096

struct cell_sync_msg {
    int type;
    int value;
    char text[CELL_SYNC_TEXT_MAX];
    int rights_fd; /* not on the wire: an fd that came with the message, or -1 */
};

int cell_sync_send(int fd, int type, int value, const char *text);
/* Receives one message; -EPIPE when the peer closed without a word. */
int cell_sync_recv(int fd, struct cell_sync_msg *msg);
/* Waits for a message of the given type; a SYNC_ERROR or a close turns into
 * an error object. */
int cell_sync_expect(int fd, int type, struct cell_sync_msg *msg, cell_err_t *err);

/* A message with an fd attached (SCM_RIGHTS); it arrives in rights_fd. */
int cell_sync_send_fd(int sock, int type, int fd);
/* The same with a value; fd < 0 sends the message alone. */
int cell_sync_send_value_fd(int sock, int type, int value, int fd);

/* Child side: report err to the parent and _exit. */
__attribute__((noreturn)) void cell_sync_die(int fd, cell_err_t *err);

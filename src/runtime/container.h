/* The plan of one container, built by the runtime process before clone and
 * read by the container's init after it (the child has a copy). */
#pragma once

#include "runtime/cgroup/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/spec/spec.h"
#include "runtime/state.h"

#include <stdbool.h>
#include <sys/types.h>

struct cell_container {
    const struct cell_create_opts *opts;
    const char *id;
    char *bundle; /* absolute */
    char *rootfs; /* absolute, symlinks resolved */
    struct cell_spec *spec;
    struct cell_cgroup *cg;
    int *cg_join_fds; /* v1: "tasks" fds the init writes "0" to */
    size_t n_cg_join_fds;
    int cg_clone_fd; /* v2: cgroup dir for CLONE_INTO_CGROUP, or -1 */
    int *bind_fds; /* per spec mount: its source's detached tree (mount.c), or -1 */
    int ns_fds[CELL_NS_COUNT]; /* opened namespaces to join, or -1 */
    unsigned long clone_flags; /* namespaces the clone itself makes */
    unsigned long unshare_flags; /* namespaces the init unshares after joining */
    bool two_stage;      /* joins need an intermediate process (see ns.c) */
    bool userns;         /* a new user namespace is made */
    int sync_fd;         /* the child's end */
    int gate_fd;         /* create: exec.fifo opened O_RDWR; run: -1 (gate is sync_fd) */
    int console_fd;      /* process.terminal: where the pty master is sent, or -1 */
    int pty_peer;        /* init: the container's side of the pty, or -1 */
    struct cell_seccomp *seccomp; /* compiled before clone, or NULL */
    char *hook_state;    /* init: state JSON for createContainer/startContainer hooks */
};

/* A container's record under root (state.c), for the operations on an
 * existing container: with lock, it is held while *dirfd stays open. */
int cell_container_load(const char *root, const char *id, bool lock, int *rootfd, int *dirfd,
                        struct cell_state *st, cell_err_t *err);
/* The state root: root, or the runtime's default when NULL. */
const char *cell_container_root(const char *root);
/* Its cgroup, rebuilt from the state (NULL when it has none). */
int cell_container_cgroup(const struct cell_state *st, struct cell_cgroup **cg, cell_err_t *err);

/* init.c: the container's init; runs in the child after clone, never returns. */
__attribute__((noreturn)) void cell_init_main(struct cell_container *c);

/* The plan of one container, built by the runtime process before clone and
 * read by the container's init after it (the child has a copy). */
#pragma once

#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

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

/* init.c: the container's init; runs in the child after clone, never returns. */
__attribute__((noreturn)) void cell_init_main(struct cell_container *c);

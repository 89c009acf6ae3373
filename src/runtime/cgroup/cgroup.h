/* Cgroups: one interface, a driver per layout (v1, hybrid = v1 controllers +
 * cgroup2 at /sys/fs/cgroup/unified, pure v2), and the systemd driver
 * (--systemd-cgroup), which has systemd make the cgroup and then works
 * through the layout's driver. The runtime core only calls the functions
 * below; the drivers fill struct cell_cgroup_ops. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cell_cgroup_layout {
    CELL_CGROUP_V1,     /* only v1 hierarchies */
    CELL_CGROUP_HYBRID, /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
    CELL_CGROUP_V2,     /* cgroup2 at /sys/fs/cgroup */
};

/* One hierarchy the container is in, as the container's /sys/fs/cgroup view
 * needs it. */
struct cell_cgroup_hier {
    char *name;     /* entry under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd",
                       "unified"; "" for pure v2 (mounted at /sys/fs/cgroup itself) */
    char *fstype;   /* "cgroup" or "cgroup2" */
    char *options;  /* mount data for a v1 hierarchy: "memory", "name=systemd"; NULL for v2 */
    char *host_dir; /* the container's cgroup directory on the host */
    unsigned keep;  /* leading components of the path that destroy leaves alone (they
                       existed before create); the rest are removed once empty */
};

struct cell_cgroup {
    enum cell_cgroup_layout layout;
    char *path; /* the container's cgroup path, absolute within each hierarchy: "/cell/ID" */
    struct cell_cgroup_hier *hiers;
    size_t n_hiers;
    const struct cell_cgroup_ops *ops;
    const struct cell_cgroup_ops *fs; /* the systemd driver's v1 or v2 driver; else NULL */
    char *unit;   /* --systemd-cgroup: the scope or slice systemd made it as; else NULL */
    char *origin; /* /proc/self/cgroup before the runtime joined its scope (not saved) */
};

struct cell_cgroup_ops {
    const char *name; /* "v1", "v2" or "systemd" */
    /* mkdir the cgroup in every hierarchy (parents included) and write the
     * limits; on failure remove whatever this call made. */
    int (*create)(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err);
    /* Opens what a process needs to put itself in the cgroup: on v1 an
     * O_WRONLY fd of "tasks" per hierarchy (the child writes "0" to each;
     * moving only the calling thread skips the threadgroup rwsem and with it
     * the RCU grace period that a parent's cgroup.procs write waits for after
     * idle); on v2 an O_PATH|O_DIRECTORY fd of the cgroup for
     * clone3(CLONE_INTO_CGROUP) in *clone_fd (else -1). A hybrid cgroup that
     * also has a part in the unified hierarchy gets both: tasks fds for the
     * v1 hierarchies (in hiers[] order; the unified part comes last) and
     * clone_fd for the unified part. The caller closes them and frees *fds. */
    int (*open_join_fds)(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                         cell_err_t *err);
    /* Moves pid (and its threads) into the cgroup in every hierarchy. */
    int (*attach)(struct cell_cgroup *cg, pid_t pid, cell_err_t *err);
    int (*update)(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err);
    /* Lists the pids in the cgroup (from cgroup.procs of one hierarchy). */
    int (*pids)(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err);
    int (*freeze)(struct cell_cgroup *cg, bool frozen, cell_err_t *err);
    /* Whether the cgroup is frozen (or freezing) now. */
    int (*frozen)(struct cell_cgroup *cg, bool *frozen, cell_err_t *err);
    /* How many times the memory limit's OOM killer fired in this cgroup
     * (v1 without the oom_kill counter: 1 while under_oom). */
    int (*oom_kills)(struct cell_cgroup *cg, int64_t *count, cell_err_t *err);
    /* Usage counters as runc's `events --stats` shows them: an object with
     * cpu, memory, pids, blkio and hugetlb; NULL on error. */
    json_t *(*stats)(struct cell_cgroup *cg, cell_err_t *err);
    /* rmdir in every hierarchy, children first; missing is success. */
    int (*destroy)(struct cell_cgroup *cg, cell_err_t *err);
    /* In the parent right after the init is cloned (NULL: nothing to do). */
    int (*after_clone)(struct cell_cgroup *cg, cell_err_t *err);
};

int cell_cgroup_detect_layout(enum cell_cgroup_layout *out, cell_err_t *err);
const char *cell_cgroup_layout_name(enum cell_cgroup_layout layout); /* "v1", "hybrid", "v2" */

/* Resolves the container's cgroup from linux.cgroupsPath for the host's
 * layout. Makes nothing yet. cgroupfs: NULL is "/cell/<id>", a relative
 * path goes under "/cell". systemd: "slice:prefix:name" (NULL:
 * "system.slice:cell:<id>") names the unit systemd will make. */
int cell_cgroup_new(const char *cgroups_path, const char *id, bool systemd,
                    struct cell_cgroup **out, cell_err_t *err);

/* Saves / restores what delete, kill and ps need, in the container's state. */
json_t *cell_cgroup_to_json(const struct cell_cgroup *cg);
int cell_cgroup_from_json(json_t *obj, struct cell_cgroup **out, cell_err_t *err);

/* Thin dispatchers over cg->ops, so callers never touch the table. */
int cell_cgroup_create(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err);
int cell_cgroup_open_join_fds(struct cell_cgroup *cg, int **fds, size_t *n, int *clone_fd,
                              cell_err_t *err);
int cell_cgroup_attach(struct cell_cgroup *cg, pid_t pid, cell_err_t *err);
int cell_cgroup_update(struct cell_cgroup *cg, const struct cell_resources *res, cell_err_t *err);
int cell_cgroup_pids(struct cell_cgroup *cg, pid_t **pids, size_t *n, cell_err_t *err);
int cell_cgroup_freeze(struct cell_cgroup *cg, bool frozen, cell_err_t *err);
int cell_cgroup_frozen(struct cell_cgroup *cg, bool *frozen, cell_err_t *err);
int cell_cgroup_oom_killed(struct cell_cgroup *cg, bool *killed, cell_err_t *err);
int cell_cgroup_oom_kills(struct cell_cgroup *cg, int64_t *count, cell_err_t *err);
json_t *cell_cgroup_stats(struct cell_cgroup *cg, cell_err_t *err);
int cell_cgroup_destroy(struct cell_cgroup *cg, cell_err_t *err);
/* Checks the --systemd-cgroup choice before anything is made: the systemd
 * driver needs systemd as PID 1. */
int cell_cgroup_check_driver(bool systemd, cell_err_t *err);
/* Called in the parent right after the init is cloned: the systemd driver
 * moves the runtime out of the scope it joined to create it; a no-op for
 * cgroupfs. */
int cell_cgroup_after_clone(struct cell_cgroup *cg, cell_err_t *err);

/* Sends sig to every process in the cgroup. */
int cell_cgroup_kill_all(struct cell_cgroup *cg, int sig, cell_err_t *err);

void cell_cgroup_free(struct cell_cgroup *cg);
static inline void cell_cgroup_freep(struct cell_cgroup **p)
{
    if (*p)
        cell_cgroup_free(*p);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cell_cgroup_freep)))

extern const struct cell_cgroup_ops cell_cgroup_v1_ops;
extern const struct cell_cgroup_ops cell_cgroup_v2_ops;
extern const struct cell_cgroup_ops cell_cgroup_systemd_ops;

/* Where the hierarchies are mounted; tests point it at a temporary tree. */
extern const char *cell_cgroup_mountpoint; /* default "/sys/fs/cgroup" */

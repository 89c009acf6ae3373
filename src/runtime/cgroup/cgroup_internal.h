/* What the cgroup files share with each other and with their unit tests;
 * the rest of the runtime uses cgroup.h only. */
#pragma once

#include "runtime/cgroup/cgroup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where containers go when cgroupsPath is empty or relative. */
#define CELL_PARENT "/cell"

/* --- cgroup.c: building a struct cell_cgroup --- */

/* "/cell/<id>", an absolute path as is (normalised), a relative one under
 * "/cell/". Refuses ".", ".." and the root itself. */
int cell_cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, cell_err_t *err);

/* Builds the cgroup for a known layout. mountinfo is the text of
 * /proc/self/mountinfo (only read for v1 and hybrid): the v1 hierarchies are
 * the cgroup mounts directly under cell_cgroup_mountpoint. */
int cell_cgroup_build(enum cell_cgroup_layout layout, const char *mountinfo,
                      const char *cgroups_path, const char *id, struct cell_cgroup **out,
                      cell_err_t *err);

/* The mount data of a v1 hierarchy as its super options show it, without
 * the generic ones: "rw,cpu,cpuacct" -> "cpu,cpuacct". */
char *cell_cgroup_v1_options(const char *super_options);

/* --- cgroup_hier.c: a cgroup's hierarchies, for cgroup.c and the drivers --- */

/* What destroy may remove of the parents: our own "/cell" when empty, else
 * only what create made (kept: components that existed before). */
unsigned cg_keep(const struct cell_cgroup *cg, unsigned kept);

/* Appends a hierarchy (strings copied); returns it or NULL on ENOMEM. */
struct cell_cgroup_hier *cell_cgroup_add_hier(struct cell_cgroup *cg, const char *name,
                                              const char *fstype, const char *options,
                                              const char *host_dir);

/* Where the hierarchy of h is mounted: host_dir without cg->path. */
char *cell_cgroup_hier_root(const struct cell_cgroup *cg, const struct cell_cgroup_hier *h);

/* True when a hierarchy's options list controller ("cpu" in "cpu,cpuacct"). */
bool cell_cgroup_hier_has(const struct cell_cgroup_hier *h, const char *controller);

/* --- cgroup_systemd.c --- */

/* cgroupsPath "slice:prefix:name" (NULL: "system.slice:cell:<id>") -> the
 * unit ("prefix-name.scope", or name when it ends in ".slice") and its
 * cgroup path ("/system.slice/prefix-name.scope"). */
int cell_cgroup_systemd_path(const char *cgroups_path, const char *id, char **path, char **unit,
                             cell_err_t *err);

/* --- cgroup_fs.c: files and directories --- */

/* Set by unit tests to see every successful write, in order; NULL otherwise. */
extern void (*cell_cgroup_write_hook)(const char *path, const char *value);

/* Writes value into dir/file. field names the configuration field the value
 * comes from ("linux.resources.memory.limit"), or NULL for the runtime's own
 * writes. A missing file is reported as the field not being supported. */
int cg_write(const char *dir, const char *file, const char *value, const char *field,
             cell_err_t *err);
/* The same without an error object: 0 or -errno (for fallbacks). */
int cg_try_write(const char *dir, const char *file, const char *value);
/* The error cg_write would have made of r (-errno from cg_try_write). */
int cg_write_error(const char *dir, const char *file, const char *value, const char *field, int r,
                   cell_err_t *err);

/* hugepageLimits: each limit into hugetlb.<size>.<limit_file>, and into
 * hugetlb.<size>.<rsvd_file> where the kernel has reservations (the spec
 * prefers them: they fail at mmap time rather than with SIGBUS). v1 and v2
 * differ only in the file names. */
int cg_write_hugetlb(const char *dir, const struct cell_resources *r, const char *limit_file,
                     const char *rsvd_file, cell_err_t *err);

/* One value for one file. */
struct cg_knob {
    const char *file, *value, *field; /* value NULL: nothing to write */
};
/* Writes knobs that constrain each other (memory and memory+swap limits;
 * cfs period, quota and burst) into dir: in order, then once more those
 * the kernel refused with EINVAL because of another's old value. Raising
 * and lowering both work without reading the current values. */
int cg_write_group(const char *dir, const struct cg_knob *knobs, size_t n, cell_err_t *err);

/* Writes value to the first of two files that exists (a v1 file and its
 * BFQ twin, say). */
int cg_write_either(const char *dir, const char *file, const char *alt, const char *value,
                    const char *field, cell_err_t *err);

/* Writes a decimal integer unless v is CELL_UNSET. */
int cg_write_i64(const char *dir, const char *file, int64_t v, const char *field, cell_err_t *err);

/* The number of components of a cgroup path ("/cell/x" has 2). */
size_t cg_path_depth(const char *path);
/* Reads dir/file with trailing whitespace removed; -errno on failure. */
int cg_read(const char *dir, const char *file, char **out);
/* The number after "key " in a flat-keyed file ("oom_kill 3"); 0 if absent. */
int64_t cg_keyed_value(const char *text, const char *key);

/* mkdir of root+path and of its missing parents. *kept is the number of
 * leading components of path that existed before (never ours to remove),
 * *made whether the leaf itself was made here. made_parent, if not NULL, runs
 * on each parent directory made here before its child is made. A concurrent
 * removal of a parent between two mkdirs is retried. */
typedef int (*cg_parent_hook)(const char *dir, void *data, cell_err_t *err);
int cg_mkdir_path(const char *root, const char *path, unsigned *kept, bool *made,
                  cg_parent_hook made_parent, void *data, cell_err_t *err);

/* Removes root+path (its child cgroups first), waiting up to about a second
 * while it is busy with exiting processes, then the empty parents below
 * component keep (ignoring those still in use). Missing is success. */
int cg_remove_path(const char *root, const char *path, unsigned keep, cell_err_t *err);

/* Appends the pids of dir/cgroup.procs and of its child cgroups. */
int cg_read_pids(const char *dir, pid_t **pids, size_t *n, cell_err_t *err);

/* --- cgroup_resources.c: values and checks shared by both drivers --- */

#define CG_FIELD(f) "linux.resources." f

/* cpu.shares (2..262144) -> cpu.weight (1..10000). */
uint64_t cell_cgroup_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000) -> io.weight (1..10000). */
uint64_t cell_cgroup_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from the spec's memory+swap limit and the memory limit:
 * "max" for -1, else swap - limit. The strings are what the file takes. */
int cell_cgroup_swap_v2(int64_t swap, int64_t limit, char *buf, size_t len, cell_err_t *err);

/* "max" for a negative value (unlimited), else the decimal number. */
void cg_limit_str(int64_t v, char *buf, size_t len);

/* True when the swap field asks for something (0 is runc's "not set"). */
bool cg_swap_set(const struct cell_resources *r);

/* Checks what does not depend on the host: swap >= limit, quota >= burst,
 * hugetlb page sizes, unified keys. */
int cell_cgroup_check_resources(const struct cell_resources *r, cell_err_t *err);

/* One device rule as devices.allow / devices.deny take it: "c 1:3 rwm",
 * "a" for everything. */
void cg_device_rule_str(const struct cell_device_rule *d, char *buf, size_t len);

/* Validates a hugetlb page size ("2MB", "64KB", "1GB"). */
bool cg_page_size_valid(const char *s);

/* Validates a `unified` key: a file name in the cgroup directory. */
bool cg_unified_key_valid(const char *key);

/* True when r sets anything that belongs to controller ("memory", "cpu",
 * "cpuset", "pids", "io", "hugetlb", "rdma", or the prefix of a unified key). */
bool cg_res_uses(const struct cell_resources *r, const char *controller);

/* --- cgroup_v2.c: what the v1 driver also uses for the unified
 * hierarchy in the hybrid layout --- */

/* A set of v2 controller names. */
#define CG_MAX_CONTROLLERS 32
struct cg_controllers {
    size_t n;
    char names[CG_MAX_CONTROLLERS][32];
};
void cg_controllers_parse(struct cg_controllers *s, const char *text); /* "cpu io memory" */
bool cg_controllers_has(const struct cg_controllers *s, const char *name);
void cg_controllers_add(struct cg_controllers *s, const char *name);

/* The v2 controllers that r needs (typed fields and unified keys). */
void cg_res_controllers(const struct cell_resources *r, struct cg_controllers *out);

/* Enables controllers in cgroup.subtree_control of every ancestor of path
 * under root: every available one when all (what a container expects to
 * see), else only want. Fails when a controller of want is not available.
 * kept is from cg_mkdir_path: the ancestors below it are new, so empty. */
int cell_cgroup_v2_enable(const char *root, const char *path, unsigned kept,
                          const struct cg_controllers *want, bool all, cell_err_t *err);
int cell_cgroup_v2_write_hugetlb(const char *dir, const struct cell_resources *r, cell_err_t *err);
int cell_cgroup_v2_write_unified(const char *dir, const struct cell_resources *r, cell_err_t *err);

/* --- cgroup_bpf.c: v2 device rules --- */

/* Loads a BPF_CGROUP_DEVICE program that applies rules (in order, last match
 * wins, default deny) and attaches it to the cgroup dir, replacing the one
 * cell attached before. */
int cell_cgroup_bpf_devices(const char *dir, const struct cell_device_rule *rules, size_t n,
                            cell_err_t *err);

/* The program as BPF instructions (8 bytes each), for unit tests. */
struct bpf_insn;
int cell_cgroup_bpf_program(const struct cell_device_rule *rules, size_t n, struct bpf_insn **out,
                            size_t *n_insns);

/* --- cgroup_stats.c: usage counters for `events` --- */

json_t *cg_v1_stats(struct cell_cgroup *cg, cell_err_t *err);
json_t *cg_v2_stats(struct cell_cgroup *cg, cell_err_t *err);
/* "hugepages-2048kB" (a /sys/kernel/mm/hugepages entry) -> "2MB". */
void cg_hugepage_name(const char *entry, char *buf, size_t len);

/* config.json as C structs. Parsed once, with jansson, by cell_spec_parse;
 * every later step reads these structs, never the JSON. Unknown fields are
 * ignored (runtime spec, config.md: "Runtimes MUST ignore unknown
 * properties"); a known field of the wrong type is an error naming its JSON
 * path. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Marks an optional integer field that config.json did not set. */
#define CELL_UNSET INT64_MIN

enum cell_ns_type {
    CELL_NS_PID,
    CELL_NS_NET,
    CELL_NS_MNT,
    CELL_NS_IPC,
    CELL_NS_UTS,
    CELL_NS_USER,
    CELL_NS_CGROUP,
    CELL_NS_TIME,
    CELL_NS_COUNT
};

struct cell_namespace {
    bool present; /* listed in linux.namespaces */
    char *path;   /* join this one instead of making a new one; NULL = new */
};

struct cell_id_mapping {
    uint32_t container_id, host_id, size;
};

struct cell_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

/* Capability sets as bit masks of CAP_* numbers. */
struct cell_caps {
    bool present; /* process.capabilities was given */
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct cell_process {
    bool terminal;
    unsigned console_height, console_width;
    uid_t uid;
    gid_t gid;
    int64_t umask; /* CELL_UNSET when absent */
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *username; /* process.user.username (Windows-only in spec; kept) */
    char **args;    /* NULL-terminated, at least one element */
    char **env;     /* NULL-terminated, may be empty */
    char *cwd;      /* absolute */
    struct cell_caps caps;
    struct cell_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    char *apparmor_profile;
    char *selinux_label;
    int64_t oom_score_adj; /* CELL_UNSET when absent */
    json_t *scheduler;       /* kept raw for later use; borrowed from the root json */
    json_t *io_priority;     /* raw */
    json_t *exec_cpu_affinity; /* raw */
    /* annotation run.oci.keep_original_groups (podman's --group-add
     * keep-groups), any value but "0": no setgroups, the caller's
     * supplementary groups stay and additionalGids are not applied (crun). */
    bool keep_original_groups;
};

/* One entry of "mounts", with its options already split into what mount(2)
 * and mount_setattr(2) take. */
struct cell_mount {
    char *destination; /* absolute path inside the container */
    char *type;        /* NULL for a bind mount without type */
    char *source;
    char **options;    /* raw, NULL-terminated */
    bool bind;         /* "bind" or "rbind" (or type "bind") */
    bool recursive;    /* "rbind" */
    unsigned long flags;         /* MS_* set by the options (MS_RDONLY, MS_NOSUID, ...) */
    unsigned long clear_flags;   /* MS_* cleared by "rw", "suid", ... */
    unsigned long propagation;   /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 if none */
    bool propagation_recursive;  /* "rshared", "rslave", ... */
    uint64_t attr_set, attr_clr; /* MOUNT_ATTR_* for recursive options ("rro", "rnosuid") */
    char *data;        /* filesystem-specific options joined with ',' ("size=64k,mode=755"), or NULL */
    bool tmpcopyup;
    bool idmap;        /* "idmap"/"ridmap" */
    struct cell_id_mapping *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    bool idmap_recursive; /* "ridmap": idmap every mount of the bind tree */
};

struct cell_device {
    char *path;
    char type; /* 'c', 'b', 'u' or 'p' */
    int64_t major, minor;
    int64_t file_mode; /* CELL_UNSET when absent */
    int64_t uid, gid;  /* CELL_UNSET when absent */
};

struct cell_device_rule {
    bool allow;
    char type; /* 'a', 'c' or 'b' */
    int64_t major, minor; /* -1 = wildcard */
    char access[4];       /* subset of "rwm" */
};

struct cell_weight_device {
    int64_t major, minor;
    int64_t weight, leaf_weight; /* CELL_UNSET when absent */
};

struct cell_throttle_device {
    int64_t major, minor;
    uint64_t rate;
};

struct cell_hugepage_limit {
    char *page_size; /* "2MB" */
    uint64_t limit;
};

struct cell_key_value {
    char *key, *value;
};

/* linux.resources. Every integer is CELL_UNSET when absent. */
struct cell_resources {
    struct cell_device_rule *devices;
    size_t n_devices;
    struct {
        int64_t limit, reservation, swap, kernel, kernel_tcp, swappiness;
        int disable_oom_killer;  /* -1 absent, else 0/1 */
        int use_hierarchy;       /* -1 absent */
        int check_before_update; /* -1 absent */
    } memory;
    struct {
        int64_t shares, quota, burst, period, realtime_runtime, realtime_period, idle;
        char *cpus, *mems;
    } cpu;
    struct {
        int64_t limit;
    } pids;
    struct {
        int64_t weight, leaf_weight;
        struct cell_weight_device *weight_device;
        size_t n_weight_device;
        struct cell_throttle_device *throttle_read_bps, *throttle_write_bps,
            *throttle_read_iops, *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
            n_throttle_write_iops;
    } block_io;
    struct cell_hugepage_limit *hugepage_limits;
    size_t n_hugepage_limits;
    struct {
        int64_t class_id;
        struct cell_key_value *priorities; /* value holds the decimal priority */
        size_t n_priorities;
    } network;
    struct cell_key_value *rdma; /* key = device, value = "hca_handle=N hca_object=M" */
    size_t n_rdma;
    struct cell_key_value *unified;
    size_t n_unified;
};

struct cell_hook {
    char *path;
    char **args; /* NULL-terminated, may be NULL */
    char **env;
    int64_t timeout; /* seconds, CELL_UNSET when absent */
};

enum cell_hook_kind {
    CELL_HOOK_PRESTART,
    CELL_HOOK_CREATE_RUNTIME,
    CELL_HOOK_CREATE_CONTAINER,
    CELL_HOOK_START_CONTAINER,
    CELL_HOOK_POSTSTART,
    CELL_HOOK_POSTSTOP,
    CELL_HOOK_COUNT
};

struct cell_linux {
    struct cell_namespace ns[CELL_NS_COUNT];
    struct cell_id_mapping *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct {
        bool has_monotonic, has_boottime;
        int64_t monotonic_secs, monotonic_nanosecs, boottime_secs, boottime_nanosecs;
    } time_offsets;
    struct cell_device *devices;
    size_t n_devices;
    char *cgroups_path;
    bool has_resources;
    struct cell_resources resources;
    unsigned long rootfs_propagation; /* MS_* with MS_REC as given, 0 when absent */
    char **masked_paths;
    char **readonly_paths;
    char *mount_label;
    struct cell_key_value *sysctl;
    size_t n_sysctl;
    json_t *seccomp;     /* raw; compiled by the seccomp module */
    json_t *personality; /* raw */
    json_t *intel_rdt;   /* raw */
};

struct cell_spec {
    json_t *json; /* the whole document; raw fields above borrow from it */
    char *oci_version;
    char *root_path; /* as written; may be relative to the bundle */
    bool root_readonly;
    char *hostname;
    char *domainname;
    bool has_process;
    struct cell_process process;
    struct cell_mount *mounts;
    size_t n_mounts;
    struct cell_hook *hooks[CELL_HOOK_COUNT];
    size_t n_hooks[CELL_HOOK_COUNT];
    struct cell_key_value *annotations;
    size_t n_annotations;
    bool has_linux;
    struct cell_linux linux;
    /* What the document asks for that cannot be had and, as the spec says,
     * is only to be logged ("process.capabilities.bounding[2]: unknown
     * capability \"CAP_X\", ignored"): the caller passes them to
     * cell_warn. NULL-terminated, may be NULL. */
    char **warnings;
};

/* Parses a config.json document. On failure err says which JSON path is
 * wrong and what was expected, e.g.
 * "process.args: expected a non-empty array of strings". */
int cell_spec_parse(const char *text, size_t len, struct cell_spec **out, cell_err_t *err);

/* Reads and parses <bundle>/config.json ("config.json: <what>" in errors). */
int cell_spec_load(const char *bundle, struct cell_spec **out, cell_err_t *err);

/* Parses a linux.resources object (also used by `update --resources`). */
int cell_spec_parse_resources(json_t *obj, const char *where, struct cell_resources *out,
                              cell_err_t *err);
void cell_resources_clear(struct cell_resources *r);

void cell_spec_free(struct cell_spec *spec);

/* Reads a uint64 from a raw field (seccomp argument values, ...). jansson
 * cannot hold integers above INT64_MAX, so the parser keeps those in a tagged
 * form that only this function understands. 0, or -EINVAL / -ERANGE. */
int cell_spec_json_u64(const json_t *v, uint64_t *out);

static inline void cell_spec_freep(struct cell_spec **p)
{
    if (*p)
        cell_spec_free(*p);
}
#define _cleanup_spec_ __attribute__((cleanup(cell_spec_freep)))

/* Name tables shared by the parser and the rest of the runtime. */
const char *cell_ns_name(enum cell_ns_type t);      /* "pid", "network", ... (spec names) */
int cell_ns_clone_flag(enum cell_ns_type t);        /* CLONE_NEWPID, ... */
const char *cell_ns_proc_name(enum cell_ns_type t); /* "pid", "net", "mnt", ... (/proc/PID/ns) */
int cell_cap_from_name(const char *name);           /* "CAP_SYS_ADMIN" -> 21, -1 if unknown */
const char *cell_cap_name(int cap);
int cell_cap_last(void); /* highest capability number known to cell */
int cell_rlimit_from_name(const char *name);        /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -1 */
const char *cell_hook_name(enum cell_hook_kind k);  /* "prestart", ... */

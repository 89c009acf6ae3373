/* The values of `cell run` flags, read as Docker reads them, turned into OCI
 * runtime spec fragments (config.md, config-linux.md) for the engine to put
 * into config.json.
 *
 * Errors are one line that names the flag and the value, in Docker's words:
 *   invalid argument "12q" for "-m, --memory" flag: invalid suffix: 'q'
 * (pflag's frame around the message of Docker's own parser), or Docker's own
 * line where it already names both ("invalid --security-opt: ..."). Parse
 * errors carry errnum 0, so cell_error_text adds no strerror; a host call
 * that fails (stat, open, mkdir) carries its errno, whose text
 * cell_error_text appends ("...: open /x: No such file or directory"), and
 * what cell cannot do yet (volumes) carries ENOTSUP.
 *
 * A flag name is given as the user knows it: "--memory", "memory" or
 * "-m, --memory" all print as "-m, --memory" (Docker's short flags are
 * known here).
 *
 * Every function leaves its outputs untouched on error; what it returns is
 * the caller's (json_decref, free, cell_strv_free). Nothing here prints. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* --ulimit NAME=SOFT[:HARD]: {"type":"RLIMIT_NOFILE","soft":1024,"hard":2048}.
 * The names go-units accepts (core cpu data fsize locks memlock msgqueue nice
 * nofile nproc rss rtprio rttime sigpending stack); HARD defaults to SOFT; -1
 * or "infinity" is unlimited (RLIM_INFINITY, see cell_flags_json_u64). */
int cell_flags_ulimit(const char *s, json_t **rlimit, cell_err_t *err);

/* --device HOST[:CONTAINER][:PERMS] for one device node: stats HOST (its
 * symlinks followed, as Docker does) -> a linux.devices entry {"path",
 * "type","major","minor","fileMode","uid","gid"} and a linux.resources.devices
 * rule {"allow":true,"type","major","minor","access"}. CONTAINER defaults to
 * HOST, PERMS (a set of r, w, m) to "rwm". A directory is refused here: use
 * cell_flags_devices. */
int cell_flags_device(const char *s, json_t **device, json_t **rule, cell_err_t *err);
/* The same, appending to two arrays; a directory (--device /dev/dri) brings
 * every device node below it, as Docker does, with CONTAINER as its prefix. */
int cell_flags_devices(const char *s, json_t *devices, json_t *rules, cell_err_t *err);

/* -v HOST:CONTAINER[:OPTS] (bind form) -> {"destination","type":"bind",
 * "source","options":["rbind","ro","rprivate"]}: "rbind", then "ro" when
 * read-only, then the propagation (rprivate unless OPTS names one), as
 * Docker's daemon writes it. OPTS is a comma-separated set of at most one of
 * each: rw|ro, z|Z (accepted; cell does no SELinux relabelling),
 * [r]shared|[r]slave|[r]private, consistent|cached|delegated (ignored on
 * Linux, as in Docker). "nocopy" is for volumes: Docker refuses it on a
 * bind and so does this. HOST starting with "." is made absolute against the
 * working directory (Docker's client does it); a missing HOST is created as
 * a directory (0755), as Docker's daemon does for -v.
 * A named or anonymous volume (HOST not a path, or no HOST) fails with
 * errnum ENOTSUP: volumes come later. */
int cell_flags_volume(const char *s, json_t **mount, cell_err_t *err);

/* --mount type=bind|tmpfs,source|src=,target|dst|destination=,readonly|ro[=BOOL],
 * bind-propagation=,bind-recursive=enabled|disabled|writable|readonly,
 * bind-nonrecursive[=BOOL],tmpfs-size=,tmpfs-mode=,consistency= (CSV, as
 * Docker). A bind's source must exist (Docker does not create it for
 * --mount). tmpfs gets --tmpfs's default options. type=volume (the default
 * when no type is given) and type=image fail with errnum ENOTSUP. */
int cell_flags_mount(const char *s, json_t **mount, cell_err_t *err);

/* --tmpfs PATH[:OPTIONS] -> {"destination","type":"tmpfs","source":"tmpfs",
 * "options":[...]}: Docker's noexec,nosuid,nodev,rprivate, then OPTIONS,
 * merged as Docker merges them (a later option replaces an earlier one of
 * the same kind: "exec" replaces "noexec", "size=1m" an earlier "size="). */
int cell_flags_tmpfs(const char *s, json_t **mount, cell_err_t *err);

/* --cpus: a decimal ("0.5", "1.25", "2e-1") or a fraction ("1/2") of CPUs, in
 * nanoCPUs (500000000). 0 is allowed (no limit), a negative value or more
 * CPUs than this process may run on is not (Docker's daemon checks that). */
int cell_flags_cpus(const char *s, int64_t *nano_cpus, cell_err_t *err);

/* A byte size as Docker's RAMInBytes reads it: a decimal number, an optional
 * space, and an optional suffix b, k, m, g, t, p (powers of 1024, any case),
 * optionally followed by "b" or "ib" ("512m", "1.5G", "10 KiB"). flag picks
 * the rules: --memory-swap also takes -1 (unlimited); --memory and
 * --memory-reservation refuse 1 to 6MiB-1 as Docker's daemon does (0 means
 * unset). Other flags (--shm-size, tmpfs sizes) take any size. */
int cell_flags_size(const char *flag, const char *s, int64_t *bytes, cell_err_t *err);

/* --device-read-bps|--device-write-bps /dev/sda:1mb (a size as above), or with
 * iops --device-read-iops|--device-write-iops /dev/sda:1000 -> {"major",
 * "minor","rate"}, the numbers of the block device at that path. */
int cell_flags_throttle(const char *flag, const char *s, bool iops, json_t **entry,
                        cell_err_t *err);

/* --blkio-weight-device /dev/sda:200 -> {"major","minor","weight"}; the weight
 * is 10 to 1000, or 0. */
int cell_flags_weight_device(const char *s, json_t **entry, cell_err_t *err);

/* --restart no | always | unless-stopped | on-failure[:N] -> the name (newly
 * allocated) and N (0 when not given: no limit). "" is "no". */
int cell_flags_restart(const char *s, char **name, int *max_retries, cell_err_t *err);

/* --sysctl KEY=VALUE, for the namespaced sysctls Docker allows:
 * kernel.msgmax, kernel.msgmnb, kernel.msgmni, kernel.sem, kernel.shmall,
 * kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, fs.mqueue.* and
 * net.*; net.* only when the container has its own network namespace
 * (host_network false). */
int cell_flags_sysctl(const char *s, bool host_network, char **key, char **value, cell_err_t *err);

/* --env-file PATH, appended to *env: one NAME=VALUE per line, taken as it is
 * (no quote removal, no expansion; the value keeps trailing blanks); lines
 * that are empty or start with '#' (after leading blanks) are skipped, a UTF-8
 * BOM is dropped; a NAME alone takes the value this process has for it and is
 * left out when it has none. The file must be UTF-8; a NAME with blanks in
 * it is an error. */
int cell_flags_env_file(const char *path, char ***env, cell_err_t *err);

/* -e NAME=VALUE, or NAME alone (this process's value; left out when unset, as
 * Docker does), appended to *env. */
int cell_flags_env(const char *s, char ***env, cell_err_t *err);

/* --add-host NAME:IP or NAME=IP; IP is IPv4, IPv6 (also in [brackets]) or
 * "host-gateway" (the engine substitutes the address). */
int cell_flags_add_host(const char *s, char **name, char **ip, cell_err_t *err);

/* --stop-signal SIGTERM | TERM | term | 15 | RTMIN+3. */
int cell_flags_signal(const char *s, int *sig, cell_err_t *err);

enum cell_seccomp_mode {
    CELL_SECCOMP_DEFAULT = 0, /* not given, or seccomp=builtin */
    CELL_SECCOMP_UNCONFINED,
    CELL_SECCOMP_PROFILE, /* seccomp=FILE: the file's JSON, in Docker's profile format */
};

/* --security-opt values, gathered over every use of the flag. Fields that
 * were not given keep their zero value. */
struct cell_security_opts {
    enum cell_seccomp_mode seccomp;
    json_t *seccomp_profile; /* CELL_SECCOMP_PROFILE: the parsed file */
    char *seccomp_path;      /* and its path, for messages */
    int no_new_privileges;   /* -1 not given, 0 false, 1 true; init with CELL_SECURITY_OPTS_INIT */
    char *apparmor;          /* apparmor=PROFILE; "unconfined" as given */
    bool label_disable;      /* label=disable */
    char *label_user, *label_role, *label_type, *label_level; /* label=user:X, ... */
    bool systempaths_unconfined; /* systempaths=unconfined: no masked or read-only paths */
};
#define CELL_SECURITY_OPTS_INIT                                                                    \
    {                                                                                              \
        .no_new_privileges = -1                                                                    \
    }
void cell_security_opts_clear(struct cell_security_opts *o);

/* One --security-opt value: seccomp=FILE|unconfined|builtin,
 * no-new-privileges[=BOOL], label=disable|user:U|role:R|type:T|level:L,
 * apparmor=PROFILE|unconfined, systempaths=unconfined (":" is also taken as
 * the separator, as Docker still does). A seccomp FILE is read and must be
 * JSON; a later value replaces an earlier one of the same key. */
int cell_flags_security_opt(const char *s, struct cell_security_opts *o, cell_err_t *err);

/* The user a container runs as, resolved in the image's rootfs as Docker
 * does (runc's user lookup): user is "", "name", "uid", "name:group",
 * "uid:gid", "name:gid" or "uid:group" ("" is root). Names are looked up in
 * <rootfs>/etc/passwd and <rootfs>/etc/group, opened inside rootfd
 * (RESOLVE_IN_ROOT: a symlinked /etc cannot lead to the host's); a missing
 * file is as if empty; numeric ids need no entry. The gid is the user's
 * passwd gid unless a group is given. additionalGids, as Docker writes them:
 * the gid itself, then (only when no group is given) every group of
 * /etc/group that lists the user's name, then the --group-add values (names
 * or gids; group_add may be NULL). *home is the passwd home directory, "/"
 * when there is none.
 *   {"uid":1000,"gid":1000,"additionalGids":[1000,27,100]}
 * Errors are Docker's: "unable to find user bob: no matching entries in
 * passwd file". */
int cell_flags_resolve_user(int rootfd, const char *user, char *const *group_add,
                            json_t **process_user, char **home, cell_err_t *err);

/* An unsigned 64-bit JSON integer. Values above INT64_MAX (RLIM_INFINITY)
 * cannot be jansson integers; they come back in the runtime's tagged form
 * (a string of NUL + decimal digits) that cell_spec_json_u64 reads. */
json_t *cell_flags_json_u64(uint64_t v);

/* json_dumps(v, flags) with every tagged integer written as the number it
 * is ("hard":18446744073709551615), as config.json must have it. */
char *cell_flags_json_dumps(const json_t *v, size_t flags);

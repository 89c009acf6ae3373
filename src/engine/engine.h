/* The engine: named containers made from images, with Docker's habits and
 * no daemon (DESIGN.md). It is where the image layer, the runtime library
 * and the network layer meet; src/cli/cell calls it.
 *
 * On disk, under the engine root (`cell --root`, CELL_ROOT, /var/lib/cell),
 * beside the image store:
 *   containers/<64-hex id>/   one container: record.json, config.json (the
 *                             generated OCI bundle config), the json-file log
 *   runtime/                  the runtime library's state root
 *
 * Nothing here prints or exits. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define CELL_ENGINE_ID_LEN       64
#define CELL_ENGINE_ID_SIZE      (CELL_ENGINE_ID_LEN + 1)
#define CELL_ENGINE_SHORT_ID_LEN 12

/* ---- ids and names (id.c) ------------------------------------------------- */

/* A fresh container id: 64 lowercase hex digits from getrandom(2). */
int cell_engine_new_id(char out[CELL_ENGINE_ID_SIZE], cell_err_t *err);
/* True for 64 lowercase hex digits. */
bool cell_engine_id_valid(const char *id);
/* Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes. */
bool cell_engine_name_valid(const char *name);

/* ---- the engine and its container records (record.c) ---------------------- */

struct cell_image_store;

struct cell_engine {
    char *root;                     /* absolute */
    int rootfd;                     /* O_PATH of root */
    int containersfd;               /* root/containers */
    int namesfd;                    /* root/names: one symlink per name, to the id */
    char *runtime_root;             /* root/runtime: the runtime library's state root */
    struct cell_image_store *store; /* opened on first use */
};

/* Opens (creating when missing) the engine's directories under root (NULL:
 * CELL_ROOT's default, /var/lib/cell). */
int cell_engine_open(const char *root, struct cell_engine **out, cell_err_t *err);
void cell_engine_close(struct cell_engine *e);
/* The image store under the same root, opened once. */
int cell_engine_store(struct cell_engine *e, struct cell_image_store **out, cell_err_t *err);

/* A container's record, read from containers/<id>/record.json. The record
 * is Docker's inspect object in all but the derived fields: Id, Name
 * (without Docker's leading slash), Created, Path, Args, Image, ImageName,
 * Config, HostConfig, State, RestartCount, plus Monitor {Pid, StartTime}. */
struct cell_ctr {
    char id[CELL_ENGINE_ID_SIZE];
    int dirfd; /* containers/<id>, O_RDONLY|O_DIRECTORY; flock(2)ed when locked */
    bool locked;
    json_t *rec;
};

/* Finds a container by name, full id or unique id prefix; fails with
 * Docker's "No such container: x". */
int cell_ctr_find(struct cell_engine *e, const char *name_or_id, char id[CELL_ENGINE_ID_SIZE],
                  cell_err_t *err);
/* Opens and reads one container; with lock, holds its lock (exclusive)
 * until cell_ctr_close. */
int cell_ctr_open(struct cell_engine *e, const char *id, bool lock, struct cell_ctr *out,
                  cell_err_t *err);
/* Reads a record without its directory or lock (dirfd -1), for listing:
 * a record is replaced by rename, so a reader sees a whole one. */
int cell_ctr_peek(struct cell_engine *e, const char *id, struct cell_ctr *out, cell_err_t *err);
/* find + open. */
int cell_ctr_open_name(struct cell_engine *e, const char *name_or_id, bool lock,
                       struct cell_ctr *out, cell_err_t *err);
/* Writes the record atomically (temporary file, rename). */
int cell_ctr_save(struct cell_ctr *c, cell_err_t *err);
void cell_ctr_close(struct cell_ctr *c);
/* The record's State.Status ("dead" when there is none). */
const char *cell_state_status_of(const json_t *rec);
/* A status with a monitor behind it: running, paused or restarting. */
bool cell_state_live(const char *status);
/* Whether the record's monitor is alive (pid and start time as recorded). */
bool cell_state_monitor_alive(const json_t *rec);
/* Every container id (NULL-terminated, allocated), in no order. */
int cell_ctr_list(struct cell_engine *e, char ***ids, cell_err_t *err);

/* Names: a name is claimed by one symlinkat(2), which either makes it or
 * fails with EEXIST, so of two racing claims exactly one wins; a link whose
 * container is gone (a run killed before it made its directory) is taken
 * over. Fails with Docker's "Conflict. The container name "/x" is already
 * in use by container "<id>". ..." line. */
int cell_name_claim(struct cell_engine *e, const char *name, const char *id, cell_err_t *err);
/* Releases name if it is id's; a missing name is success. */
int cell_name_release(struct cell_engine *e, const char *name, const char *id);
/* A free name of Docker's adjective_surname kind. */
int cell_name_generate(struct cell_engine *e, char **out, cell_err_t *err);

/* "2026-12-03T17:28:26.123456789Z" for a CLOCK_REALTIME time; buf of 40. */
void cell_engine_time_format(const struct timespec *ts, char buf[40]);
/* The same for now, allocated. */
char *cell_engine_now(void);

/* ---- containers (container.c, spec.c) -------------------------------------- */

/* What `cell create` and `cell run` take, as typed: values are parsed and
 * checked by the engine (one line naming the flag on a bad one). NULL or
 * empty: not given. */
struct cell_run_opts {
    const char *image;
    char **cmd; /* the words after the image */
    const char *name;
    bool detach, interactive, tty, rm, init, privileged, read_only, oom_kill_disable;
    bool no_healthcheck, publish_all;
    const char *workdir, *entrypoint, *user, *hostname, *domainname;
    const char *memory, *memory_reservation, *memory_swap, *memory_swappiness, *kernel_memory;
    const char *cpus, *cpu_shares, *cpu_period, *cpu_quota, *cpuset_cpus, *cpuset_mems;
    const char *pids_limit, *blkio_weight, *oom_score_adj, *shm_size;
    const char *stop_signal, *stop_timeout, *restart;
    const char *pid, *ipc, *uts, *cgroupns, *userns, *network;
    const char *platform, *pull, *detach_keys, *sig_proxy, *cgroup_parent;
    const char *health_cmd, *health_interval, *health_timeout, *health_retries,
        *health_start_period;
    char **env, **env_file, **label, **group_add, **cap_add, **cap_drop, **security_opt;
    char **sysctl, **ulimit, **device, **volume, **mount, **tmpfs, **log_opt, **add_host;
    char **dns, **dns_search, **dns_option, **publish, **expose, **attach;
    char **device_read_bps, **device_write_bps, **device_read_iops, **device_write_iops;
    char **blkio_weight_device, **uidmap, **gidmap;
};

/* `create`: the record, the root filesystem (an overlay snapshot of the
 * image, pulled first per --pull) and the OCI config, nothing running.
 * id_out receives the new id. Anything half-made is removed on failure. */
int cell_engine_create(struct cell_engine *e, const struct cell_run_opts *o,
                       char id_out[CELL_ENGINE_ID_SIZE], cell_err_t *err);

/* `start`: forks the container's monitor, which creates and starts it.
 * With attach_fd, *attach_fd receives a connection to the monitor's attach
 * socket made before the container starts, so no output is lost. A
 * running container is left alone (success). */
int cell_engine_start(struct cell_engine *e, const char *name_or_id, int *attach_fd,
                      cell_err_t *err);

/* Docker's exit code of a container whose start failed, read from the
 * error's words as Docker reads runc's: 127 when the command is not found
 * ("executable file not found", "no such file or directory"), 126 when it
 * cannot be invoked ("permission denied", "is a directory"), 128 for any
 * other failure. A failed start records it as State.ExitCode, with the
 * error as State.Error, and leaves State.Status as it was. */
int cell_engine_start_exit_code(const char *error);

/* `stop`: the stop signal (the container's, else SIGTERM), then SIGKILL
 * after timeout seconds (< 0: the container's StopTimeout, else 10);
 * returns once the monitor has recorded the end. */
int cell_engine_stop(struct cell_engine *e, const char *name_or_id, int timeout, cell_err_t *err);
/* `kill`: a signal to the container's init (Docker: "Container x is not
 * running" when it is not). */
int cell_engine_kill(struct cell_engine *e, const char *name_or_id, int sig, cell_err_t *err);
/* `rm`: a running container only with force (killed first). Removes the
 * monitor, the runtime's container, the snapshot, the name and the record,
 * whatever state a killed command left them in. */
int cell_engine_remove(struct cell_engine *e, const char *name_or_id, bool force, cell_err_t *err);
/* `wait`: blocks until the container is not running; its exit code. */
int cell_engine_wait(struct cell_engine *e, const char *name_or_id, int *exit_code,
                     cell_err_t *err);

/* Brings a record up to date with the processes: a container recorded as
 * running whose monitor is gone is killed and recorded as exited (the
 * truth a dead monitor can no longer write). c must be locked. True when
 * the record changed (and was saved). */
bool cell_engine_refresh(struct cell_engine *e, struct cell_ctr *c);
/* Reads a container (as cell_ctr_peek: no dirfd) with its record up to
 * date, without taking its lock unless the record needs refreshing: records are
 * written by rename, so a reader always sees a whole one, and a live
 * monitor (pid and start time as recorded) keeps its record true. What
 * `ps` uses, so that listing does not wait on, nor hold up, every
 * container's lock. */
int cell_ctr_open_current(struct cell_engine *e, const char *id, struct cell_ctr *out,
                          cell_err_t *err);

/* ---- what the commands show (inspect.c) ------------------------------------ */

/* Docker's inspect object of a container (its record brought up to date). */
json_t *cell_engine_inspect(struct cell_engine *e, const struct cell_ctr *c);
/* One row of `ps` with Docker's template fields, in its order: Command
 * (quoted; whole with no_trunc), CreatedAt, ID (short unless no_trunc),
 * Image, Labels, LocalVolumes, Mounts, Names, Networks, Ports, RunningFor,
 * Size, State, Status. */
json_t *cell_engine_ps_row(struct cell_engine *e, const struct cell_ctr *c, bool no_trunc);
/* go-units' HumanDuration: "Less than a second", "3 seconds", "About a
 * minute", "2 hours", ... buf of 48. */
void cell_engine_human_duration(int64_t seconds, char buf[48]);
/* The record's RFC3339 time as unix nanoseconds; 0 when unset or bad. */
int64_t cell_engine_time_parse(const char *s);

/* ---- exec (exec.c) ----------------------------------------------------------- */

struct cell_exec_request {
    char **cmd;
    char **env, **env_file;
    const char *user, *workdir;
    bool tty, interactive, detach, privileged;
};

/* `exec`: a new process in a running container, with the container's
 * environment, user and working directory unless the request says
 * otherwise (-u names are resolved in the container's /etc/passwd). In
 * the foreground the process has this process's stdio (stdin only with
 * interactive; a pty relayed to this terminal with tty) and *exit_code is
 * its exit code; detached, a small waiter process of its own reaps it. */
int cell_engine_exec(struct cell_engine *e, const char *name_or_id,
                     const struct cell_exec_request *r, int *exit_code, cell_err_t *err);

/* ---- more of a container's life (manage.c) ---------------------------------- */

/* `restart`: stop (as cell_engine_stop) then start. */
int cell_engine_restart(struct cell_engine *e, const char *name_or_id, int timeout,
                        cell_err_t *err);
/* `rename`: the new name is claimed first, so a name in use is refused and
 * the old one kept. */
int cell_engine_rename(struct cell_engine *e, const char *name_or_id, const char *new_name,
                       cell_err_t *err);
/* `update`: new limits (and restart policy) in the record, and on the live
 * cgroup when the container runs. */
int cell_engine_update(struct cell_engine *e, const char *name_or_id, const struct cell_run_opts *o,
                       cell_err_t *err);
/* `attach`: a connection to a running container's monitor; *tty and
 * *open_stdin say how it was made. */
int cell_engine_attach(struct cell_engine *e, const char *name_or_id, int *fd, bool *tty,
                       bool *open_stdin, char id[CELL_ENGINE_ID_SIZE], cell_err_t *err);
/* `container prune`: removes every container that is not running; the
 * removed ids (NULL-terminated, allocated) in *removed. */
int cell_engine_prune(struct cell_engine *e, char ***removed, cell_err_t *err);
/* ---- a running container's cage (explain.c, explain_cgroup.c) --------------- */

/* `explain`: what confines the container's init, as the kernel shows it:
 * Namespaces {<pid|net|ipc|uts|mnt|cgroup|user|time>: {Private, Inode,
 * HostInode}} against HostNamespaces ("/proc/1", else "/proc/self");
 * Cgroup {Path, Layout, Memory, CPU, Pids}; Capabilities {Effective,
 * Permitted, Bounding, Inheritable, Ambient: ["CAP_X", ...], Known};
 * Seccomp {Mode, ModeName, Filters, Profile}; NoNewPrivs; User {Uid, Gid,
 * HostUid, HostGid, HostGroups, UidMap, GidMap}; RootFs {Type, Source,
 * ReadOnly, LowerDirs, UpperDir, WorkDir, MergedDir}; MaskedPaths;
 * ReadonlyPaths; Nsenter (the command line that joins it). A value the
 * kernel does not offer is null. Fails with "Container x is not running"
 * unless it runs (or is paused). */
json_t *cell_engine_explain(struct cell_engine *e, const struct cell_ctr *c, cell_err_t *err);

/* ---- pause, top, stats (pause.c, top.c, stats.c) ---------------------------- */

/* `pause` / `unpause`: freezes or thaws every process of a running
 * container; State.Status "paused" in between. Docker's errors: "Container
 * <id> is not running", "... is already paused", "... is not paused". */
int cell_engine_pause(struct cell_engine *e, const char *name_or_id, cell_err_t *err);
int cell_engine_unpause(struct cell_engine *e, const char *name_or_id, cell_err_t *err);
/* After a signal was sent to c's init (c locked): a paused container is
 * thawed when sig is one that ends it (its stop signal or SIGKILL), so
 * that it can. */
void cell_engine_thaw_for_signal(struct cell_engine *e, struct cell_ctr *c, int sig);

/* `top`: runs the host's ps with ps_args (NULL or empty: -ef) and keeps the
 * container's rows: {"Titles":[...], "Processes":[[...], ...]}. */
int cell_engine_top(struct cell_engine *e, const char *name_or_id, char **ps_args, json_t **out,
                    cell_err_t *err);

/* One reading of a container's counters (all zero, running false, when it
 * is not running). Sizes in bytes. */
struct cell_stats_sample {
    bool running;
    int64_t when_ns; /* CLOCK_MONOTONIC */
    int64_t cpu_ns;  /* the cgroup's CPU time */
    int64_t mem_usage, mem_limit;
    int64_t net_rx, net_tx, blk_read, blk_write;
    int64_t pids;
};
int cell_engine_stats_sample(struct cell_engine *e, const char *id, struct cell_stats_sample *s,
                             cell_err_t *err);
/* CPU % between two readings (100 = one CPU busy); 0 without prev. */
double cell_engine_stats_cpu_percent(const struct cell_stats_sample *prev,
                                     const struct cell_stats_sample *cur);
double cell_engine_stats_mem_percent(const struct cell_stats_sample *s);

/* ---- events (events.c) ---------------------------------------------------------- */

/* Appends one of Docker's container events to <root>/events.log: action
 * ("create", "start", ...) of container id, whose record is rec (NULL: read
 * it), with extra_attrs (NULL or an object of strings, taken over) added to
 * the Actor's Attributes. Never fails the caller's operation. */
void cell_engine_event(struct cell_engine *e, const char *id, const char *action, const json_t *rec,
                       json_t *extra_attrs);
/* "kill" with its signal attribute. */
void cell_engine_event_signal(struct cell_engine *e, const char *id, const json_t *rec, int sig);
/* The end of a run: "oom" (when the OOM killer ended it), then "die" with
 * exitCode and execDuration. Call before the record says exited, so that a
 * `stop` waiting on the record logs its "stop" after the "die". */
void cell_engine_event_exit(struct cell_engine *e, const char *id, int exit_code, bool oom);
/* "destroy" of a container being removed (c locked, its record still
 * there), after "kill" and "die" when it was running. */
void cell_engine_event_destroy(struct cell_engine *e, const struct cell_ctr *c);

/* Docker's event filters: container=, event=, image=, label=, type=, scope=. */
int cell_engine_event_filters_check(char **filters, cell_err_t *err);
bool cell_engine_event_match(const json_t *ev, char **filters);

struct cell_events_read_opts {
    int64_t since_ns; /* 0: only events from now on */
    int64_t until_ns; /* 0: no end */
    bool follow;      /* wait for new events (until until_ns, if set) */
    char **filters;
    /* Each event in order; non-zero stops the reading. */
    int (*fn)(const json_t *ev, void *data);
    void *data;
};
int cell_engine_events_read(struct cell_engine *e, const struct cell_events_read_opts *o,
                            cell_err_t *err);

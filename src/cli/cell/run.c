/* cell run / create / start: Docker's flags into struct cell_run_opts, the
 * engine does the rest; a foreground run relays the container's stdio. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "engine/attach.h"
#include "engine/engine.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#define S(name, sh, field, help)                                                                   \
    {                                                                                              \
        name, sh, CLI_OPT_STRING, offsetof(struct cell_run_opts, field), help                      \
    }
#define B(name, sh, field, help)                                                                   \
    {                                                                                              \
        name, sh, CLI_OPT_BOOL, offsetof(struct cell_run_opts, field), help                        \
    }
#define V(name, sh, field, help)                                                                   \
    {                                                                                              \
        name, sh, CLI_OPT_STRV, offsetof(struct cell_run_opts, field), help                        \
    }

const struct cli_option cell_run_options[] = {
    B("detach", 'd', detach, "run in the background and print the container ID"),
    B("interactive", 'i', interactive, "keep STDIN open"),
    B("tty", 't', tty, "allocate a pseudo-TTY"),
    B("rm", 0, rm, "remove the container when it exits"),
    S("name", 0, name, "name the container"),
    V("env", 'e', env, "set an environment variable (NAME=value, or NAME: the caller's)"),
    V("env-file", 0, env_file, "read environment variables from a file"),
    S("workdir", 'w', workdir, "working directory inside the container"),
    S("entrypoint", 0, entrypoint, "override the image's ENTRYPOINT"),
    S("user", 'u', user, "user[:group] (names or ids)"),
    V("group-add", 0, group_add, "additional groups to join"),
    S("hostname", 'h', hostname, "container host name"),
    S("domainname", 0, domainname, "container NIS domain name"),
    S("memory", 'm', memory, "memory limit (512m, 1g)"),
    S("memory-reservation", 0, memory_reservation, "memory soft limit"),
    S("memory-swap", 0, memory_swap, "memory plus swap limit; -1: unlimited swap"),
    S("memory-swappiness", 0, memory_swappiness, "swappiness (0 to 100)"),
    B("oom-kill-disable", 0, oom_kill_disable, "disable the OOM killer"),
    S("oom-score-adj", 0, oom_score_adj, "OOM score adjustment (-1000 to 1000)"),
    S("cpus", 0, cpus, "number of CPUs (0.5)"),
    S("cpu-shares", 'c', cpu_shares, "CPU shares (relative weight)"),
    S("cpu-period", 0, cpu_period, "CFS period (microseconds)"),
    S("cpu-quota", 0, cpu_quota, "CFS quota (microseconds)"),
    S("cpuset-cpus", 0, cpuset_cpus, "CPUs to run on (0-3, 0,1)"),
    S("cpuset-mems", 0, cpuset_mems, "memory nodes to use"),
    S("pids-limit", 0, pids_limit, "process limit (-1: unlimited)"),
    S("blkio-weight", 0, blkio_weight, "block IO weight (10 to 1000)"),
    V("blkio-weight-device", 0, blkio_weight_device, "block IO weight of a device"),
    V("device-read-bps", 0, device_read_bps, "read rate limit of a device (/dev/sda:1mb)"),
    V("device-write-bps", 0, device_write_bps, "write rate limit of a device"),
    V("device-read-iops", 0, device_read_iops, "read IO/s limit of a device"),
    V("device-write-iops", 0, device_write_iops, "write IO/s limit of a device"),
    V("device", 0, device, "add a host device (/dev/sda[:/dev/xvda[:rwm]])"),
    V("ulimit", 0, ulimit, "ulimit (nofile=1024:2048)"),
    S("shm-size", 0, shm_size, "size of /dev/shm (64m)"),
    V("tmpfs", 0, tmpfs, "mount a tmpfs (/run[:options])"),
    V("volume", 'v', volume, "bind mount (/host:/container[:ro])"),
    V("mount", 0, mount, "mount (type=bind|tmpfs,source=,target=,...)"),
    B("read-only", 0, read_only, "mount the root filesystem read-only"),
    V("cap-add", 0, cap_add, "add Linux capabilities"),
    V("cap-drop", 0, cap_drop, "drop Linux capabilities"),
    B("privileged", 0, privileged, "give extended privileges"),
    V("security-opt", 0, security_opt, "security options (seccomp=, no-new-privileges, ...)"),
    V("sysctl", 0, sysctl, "namespaced kernel parameters"),
    B("init", 0, init, "run an init (tini) as PID 1 that reaps and forwards signals"),
    S("stop-signal", 0, stop_signal, "signal to stop the container"),
    S("stop-timeout", 0, stop_timeout, "seconds to wait before killing on stop"),
    S("restart", 0, restart, "restart policy (no, always, unless-stopped, on-failure[:N])"),
    S("pid", 0, pid, "PID namespace (host, container:NAME)"),
    S("ipc", 0, ipc, "IPC namespace (host, private, shareable, container:NAME)"),
    S("uts", 0, uts, "UTS namespace (host)"),
    S("cgroupns", 0, cgroupns, "cgroup namespace (host, private)"),
    S("userns", 0, userns, "user namespace (host, auto)"),
    V("uidmap", 0, uidmap, "uid map (container:host:size)"),
    V("gidmap", 0, gidmap, "gid map (container:host:size)"),
    S("network", 0, network, "network (none, host)"),
    S("net", 0, network, "network (none, host)"),
    V("label", 'l', label, "set metadata (key=value)"),
    V("log-opt", 0, log_opt, "log options (max-size=10m, max-file=3)"),
    S("health-cmd", 0, health_cmd, "command to check health"),
    S("health-interval", 0, health_interval, "time between checks"),
    S("health-timeout", 0, health_timeout, "longest a check may run"),
    S("health-retries", 0, health_retries, "failures in a row that make it unhealthy"),
    S("health-start-period", 0, health_start_period, "grace time before failures count"),
    B("no-healthcheck", 0, no_healthcheck, "disable the image's HEALTHCHECK"),
    S("platform", 0, platform, "platform of the image (linux/amd64)"),
    S("pull", 0, pull, "pull the image (always, missing, never)"),
    S("detach-keys", 0, detach_keys, "keys that detach (ctrl-p,ctrl-q)"),
    S("sig-proxy", 0, sig_proxy, "proxy received signals to the process (true)"),
    V("attach", 'a', attach, "attach to STDIN, STDOUT or STDERR"),
    S("cgroup-parent", 0, cgroup_parent, "parent cgroup"),
    V("add-host", 0, add_host, "add a host-to-IP line to /etc/hosts"),
    V("dns", 0, dns, "DNS server"),
    V("dns-search", 0, dns_search, "DNS search domain"),
    V("dns-option", 0, dns_option, "DNS option"),
    V("publish", 'p', publish, "publish a port"),
    B("publish-all", 'P', publish_all, "publish every exposed port"),
    V("expose", 0, expose, "expose a port"),
    {0},
};

/* The terminal in raw mode while a -t container is attached; restored on
 * every way out. */
struct raw_tty {
    bool on;
    struct termios saved;
};

static void raw_enter(struct raw_tty *t)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
        return;
    struct termios raw = t->saved;
    cfmakeraw(&raw);
    raw.c_oflag = t->saved.c_oflag; /* output as it was: \n still moves to column 0 */
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
        t->on = true;
}

static void raw_leave(struct raw_tty *t)
{
    if (t->on)
        tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
    t->on = false;
}

static bool sig_proxy(const char *s)
{
    return !s || strcmp(s, "false") != 0;
}

/* Attached to a started container until it ends: its exit code, or the
 * recorded one when the monitor ended without telling. */
int cell_cli_attached(struct cell_engine *e, const char *id, int fd, bool interactive, bool tty,
                      const char *detach_keys, bool proxy, cell_err_t *err)
{
    return cell_cli_attached_streams(e, id, fd, interactive, tty, detach_keys, proxy,
                                     CELL_STREAM_STDOUT | CELL_STREAM_STDERR, err);
}

int cell_cli_attached_streams(struct cell_engine *e, const char *id, int fd, bool interactive,
                              bool tty, const char *detach_keys, bool proxy, unsigned streams,
                              cell_err_t *err)
{
    struct cell_attach_relay o = {
        .in_fd = interactive ? STDIN_FILENO : -1,
        .out_fd = streams & CELL_STREAM_STDOUT ? STDOUT_FILENO : -1,
        .err_fd = streams & CELL_STREAM_STDERR ? STDERR_FILENO : -1,
        .tty = tty,
        .proxy_signals = proxy && !tty,
        .detach_keys = detach_keys,
    };
    struct raw_tty raw = {0};
    if (tty && interactive)
        raw_enter(&raw);
    int code = -1;
    int r = cell_attach_relay(fd, &o, &code, err);
    raw_leave(&raw);
    if (r < 0)
        return -1;
    if (r == 1)
        return 0; /* detached: the container runs on */
    if (code < 0 && cell_engine_wait(e, id, &code, err) < 0)
        return -1;
    return code;
}

/* -a STDIN|STDOUT|STDERR (any case, repeated): the streams attached;
 * without -a, stdout and stderr, and stdin with -i. */
static int attach_streams(const struct cell_run_opts *o, unsigned *streams, cell_err_t *err)
{
    *streams = CELL_STREAM_STDOUT | CELL_STREAM_STDERR | (o->interactive ? CELL_STREAM_STDIN : 0);
    if (!o->attach || !*o->attach)
        return 0;
    *streams = 0;
    for (char **p = o->attach; *p; p++) {
        if (!strcasecmp(*p, "stdin"))
            *streams |= CELL_STREAM_STDIN;
        else if (!strcasecmp(*p, "stdout"))
            *streams |= CELL_STREAM_STDOUT;
        else if (!strcasecmp(*p, "stderr"))
            *streams |= CELL_STREAM_STDERR;
        else
            return cell_error(err, 0,
                              "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams "
                              "are STDIN, STDOUT and STDERR",
                              *p);
    }
    if (o->detach)
        return cell_error(err, 0, "conflicting options: cannot specify both --attach and --detach");
    return 0;
}

static int parse_run(const struct cli_ctx *ctx, struct cell_run_opts *o, int argc, char **argv,
                     struct cli_args *args, cell_err_t *err)
{
    if (cli_parse_args(ctx, o, argc, argv, args, err) < 0)
        return -1;
    if (args->help)
        return 0;
    if (cli_nargs(ctx, args, 1, -1, err) < 0)
        return -1;
    o->image = args->argv[0];
    o->cmd = args->argv + 1;
    if (o->detach && o->rm && o->restart && strcmp(o->restart, "no") != 0)
        return cell_error(err, 0, "conflicting options: cannot specify both --restart and --rm");
    unsigned streams;
    return attach_streams(o, &streams, err);
}

/* Docker's CLI exits 127 or 126 when the container's command cannot be
 * found or invoked (the engine's reading of the error), 125 otherwise. */
static void start_failed(const struct cli_ctx *ctx, cell_err_t *err)
{
    int code = cell_engine_start_exit_code(cell_error_text(err));
    if ((code == 126 || code == 127) && ctx->failure_status)
        *ctx->failure_status = code;
}

int cell_cmd_run(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_run_opts o = {0};
    struct cli_args args;
    int r = parse_run(ctx, &o, argc, argv, &args, err);
    struct cell_engine *e = NULL;
    char id[CELL_ENGINE_ID_SIZE];
    if (r == 0 && !args.help && (r = cell_cli_engine_open(ctx, &e, err)) == 0 &&
        (r = cell_engine_create(e, &o, id, err)) == 0) {
        _cleanup_close_ int fd = -1;
        r = cell_engine_start(e, id, o.detach ? NULL : &fd, err);
        if (r < 0)
            start_failed(ctx, err);
        else if (o.detach)
            printf("%s\n", id);
        else {
            unsigned streams = 0;
            attach_streams(&o, &streams, err);
            r = cell_cli_attached_streams(e, id, fd, streams & CELL_STREAM_STDIN, o.tty,
                                          o.detach_keys, sig_proxy(o.sig_proxy), streams, err);
        }
        if (r < 0) {
            /* A container that never started goes, as Docker's --rm does. */
            _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
            if (o.rm)
                cell_engine_remove(e, id, true, &e2);
        }
    }
    cell_engine_close(e);
    cli_options_free(cell_run_options, &o);
    return r;
}

int cell_cmd_create(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_run_opts o = {0};
    struct cli_args args;
    int r = parse_run(ctx, &o, argc, argv, &args, err);
    struct cell_engine *e = NULL;
    char id[CELL_ENGINE_ID_SIZE];
    if (r == 0 && !args.help && (r = cell_cli_engine_open(ctx, &e, err)) == 0 &&
        (r = cell_engine_create(e, &o, id, err)) == 0)
        printf("%s\n", id);
    cell_engine_close(e);
    cli_options_free(cell_run_options, &o);
    return r;
}

struct start_opts {
    bool attach, interactive;
    const char *detach_keys;
};

const struct cli_option cell_start_options[] = {
    {"attach", 'a', CLI_OPT_BOOL, offsetof(struct start_opts, attach), "attach STDOUT/STDERR"},
    {"interactive", 'i', CLI_OPT_BOOL, offsetof(struct start_opts, interactive), "attach STDIN"},
    {"detach-keys", 0, CLI_OPT_STRING, offsetof(struct start_opts, detach_keys),
     "keys that detach"},
    {0},
};

int cell_cmd_start(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct start_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int r = 0;
    if (o.attach || o.interactive) {
        _cleanup_close_ int fd = -1;
        struct cell_ctr c;
        if ((r = cell_engine_start(e, args.argv[0], &fd, err)) == 0 &&
            (r = cell_ctr_open_name(e, args.argv[0], false, &c, err)) == 0) {
            bool tty = json_is_true(json_object_get(json_object_get(c.rec, "Config"), "Tty"));
            char id[CELL_ENGINE_ID_SIZE];
            snprintf(id, sizeof id, "%s", c.id);
            cell_ctr_close(&c);
            r = fd < 0 ? 0
                       : cell_cli_attached(e, id, fd, o.interactive, tty, o.detach_keys, true, err);
        }
    } else {
        for (int i = 0; i < args.argc && r == 0; i++)
            if ((r = cell_engine_start(e, args.argv[i], NULL, err)) == 0)
                printf("%s\n", args.argv[i]);
    }
    cell_engine_close(e);
    return r;
}

/* cell restart, rename, update, attach, port, container prune. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "engine/engine.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct restart_opts {
    const char *time;
};

const struct cli_option cell_restart_options[] = {
    {"time", 't', CLI_OPT_STRING, offsetof(struct restart_opts, time),
     "seconds to wait before killing"},
    {"timeout", 0, CLI_OPT_STRING, offsetof(struct restart_opts, time),
     "seconds to wait before killing"},
    {0},
};

int cell_cmd_restart(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct restart_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    int timeout = o.time ? atoi(o.time) : -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int r = 0;
    for (int i = 0; i < args.argc && r == 0; i++)
        if ((r = cell_engine_restart(e, args.argv[i], timeout, err)) == 0)
            printf("%s\n", args.argv[i]);
    cell_engine_close(e);
    return r;
}

int cell_cmd_rename(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 2, 2, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int r = cell_engine_rename(e, args.argv[0], args.argv[1], err);
    cell_engine_close(e);
    return r;
}

#define U(name, sh, field, help)                                                                   \
    {                                                                                              \
        name, sh, CLI_OPT_STRING, offsetof(struct cell_run_opts, field), help                      \
    }
const struct cli_option cell_update_options[] = {
    U("memory", 'm', memory, "memory limit"),
    U("memory-reservation", 0, memory_reservation, "memory soft limit"),
    U("memory-swap", 0, memory_swap, "memory plus swap limit; -1: unlimited"),
    U("cpus", 0, cpus, "number of CPUs"),
    U("cpu-shares", 'c', cpu_shares, "CPU shares"),
    U("cpu-period", 0, cpu_period, "CFS period"),
    U("cpu-quota", 0, cpu_quota, "CFS quota"),
    U("cpuset-cpus", 0, cpuset_cpus, "CPUs to run on"),
    U("cpuset-mems", 0, cpuset_mems, "memory nodes to use"),
    U("pids-limit", 0, pids_limit, "process limit"),
    U("blkio-weight", 0, blkio_weight, "block IO weight"),
    U("restart", 0, restart, "restart policy"),
    {0},
};

int cell_cmd_update(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_run_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int r = 0;
    for (int i = 0; i < args.argc && r == 0; i++)
        if ((r = cell_engine_update(e, args.argv[i], &o, err)) == 0)
            printf("%s\n", args.argv[i]);
    cell_engine_close(e);
    return r;
}

struct attach_opts {
    bool no_stdin;
    const char *detach_keys, *sig_proxy;
};

const struct cli_option cell_attach_options[] = {
    {"no-stdin", 0, CLI_OPT_BOOL, offsetof(struct attach_opts, no_stdin), "do not attach STDIN"},
    {"detach-keys", 0, CLI_OPT_STRING, offsetof(struct attach_opts, detach_keys),
     "keys that detach"},
    {"sig-proxy", 0, CLI_OPT_STRING, offsetof(struct attach_opts, sig_proxy),
     "proxy signals to the process (true)"},
    {0},
};

int cell_cmd_attach(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct attach_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, 1, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int fd = -1;
    bool tty = false, open_stdin = false;
    char id[CELL_ENGINE_ID_SIZE];
    int r = cell_engine_attach(e, args.argv[0], &fd, &tty, &open_stdin, id, err);
    if (r == 0) {
        bool proxy = !o.sig_proxy || strcmp(o.sig_proxy, "false") != 0;
        r = cell_cli_attached(e, id, fd, open_stdin && !o.no_stdin, tty, o.detach_keys, proxy, err);
        close(fd);
    }
    cell_engine_close(e);
    return r;
}

/* Ports come with networks; until a container publishes one there is
 * nothing to list, and a port asked for is Docker's error. */
int cell_cmd_port(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, 2, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    char id[CELL_ENGINE_ID_SIZE];
    int r = cell_ctr_find(e, args.argv[0], id, err);
    if (r == 0 && args.argc == 2)
        r = cell_error(err, 0, "No public port '%s%s' published for %s", args.argv[1],
                       strchr(args.argv[1], '/') ? "" : "/tcp", args.argv[0]);
    cell_engine_close(e);
    return r;
}

struct prune_opts {
    bool force;
    char **filter;
};

const struct cli_option cell_prune_options[] = {
    {"force", 'f', CLI_OPT_BOOL, offsetof(struct prune_opts, force), "do not prompt"},
    {"filter", 0, CLI_OPT_STRV, offsetof(struct prune_opts, filter), "(accepted)"},
    {0},
};

int cell_cmd_container_prune(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct prune_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help) {
        cli_options_free(cell_prune_options, &o);
        return args.help ? 0 : -1;
    }
    cli_options_free(cell_prune_options, &o);
    if (cli_nargs(ctx, &args, 0, 0, err) < 0)
        return -1;
    if (!o.force && isatty(STDIN_FILENO)) {
        fprintf(stderr, "WARNING! This will remove all stopped containers.\n"
                        "Are you sure you want to continue? [y/N] ");
        char answer[8] = "";
        if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
            return 0;
    }
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    _cleanup_strv_ char **removed = NULL;
    int r = cell_engine_prune(e, &removed, err);
    if (r == 0 && removed && *removed) {
        printf("Deleted Containers:\n");
        for (char **p = removed; *p; p++)
            printf("%s\n", *p);
        printf("\n");
    }
    if (r == 0)
        printf("Total reclaimed space: 0B\n");
    cell_engine_close(e);
    return r;
}

/* exec: run a new process in a container. As with runc, the options come
 * before the container id; everything after the id is the command, so that
 * `exec ID ls -l` passes -l to ls. */
#include "cli/runtime/runtime_cli.h"

#include "runtime/runtime.h"

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

struct exec_opts {
    const char *process;
    const char *console_socket;
    const char *pid_file;
    const char *cwd;
    const char *user;
    const char *apparmor;
    const char *process_label;
    const char *cgroup;
    char **env;
    char **caps;
    char **gids;
    bool tty;
    bool detach;
    bool no_new_privs;
    bool ignore_paused;
    int preserve_fds;
};

const struct cli_option cli_exec_options[] = {
    {"process", 'p', CLI_OPT_STRING, offsetof(struct exec_opts, process),
     "process.json to run (config.md \"process\"); the flags below are then ignored"},
    {"console-socket", 0, CLI_OPT_STRING, offsetof(struct exec_opts, console_socket),
     "AF_UNIX socket that receives the pseudoterminal's master fd"},
    {"pid-file", 0, CLI_OPT_STRING, offsetof(struct exec_opts, pid_file),
     "write the new process's pid to this file"},
    {"tty", 't', CLI_OPT_BOOL, offsetof(struct exec_opts, tty), "allocate a pseudoterminal"},
    {"detach", 'd', CLI_OPT_BOOL, offsetof(struct exec_opts, detach),
     "return once the process has started"},
    {"cwd", 0, CLI_OPT_STRING, offsetof(struct exec_opts, cwd), "working directory (absolute)"},
    {"env", 'e', CLI_OPT_STRV, offsetof(struct exec_opts, env), "set NAME=value (repeatable)"},
    {"user", 'u', CLI_OPT_STRING, offsetof(struct exec_opts, user), "run as uid[:gid]"},
    {"additional-gids", 'g', CLI_OPT_STRV, offsetof(struct exec_opts, gids),
     "a supplementary group id (repeatable)"},
    {"cap", 'c', CLI_OPT_STRV, offsetof(struct exec_opts, caps), "add a capability (repeatable)"},
    {"no-new-privs", 0, CLI_OPT_BOOL, offsetof(struct exec_opts, no_new_privs),
     "set no_new_privs for the process"},
    {"apparmor", 0, CLI_OPT_STRING, offsetof(struct exec_opts, apparmor),
     "AppArmor profile of the process"},
    {"process-label", 0, CLI_OPT_STRING, offsetof(struct exec_opts, process_label),
     "SELinux label of the process"},
    {"preserve-fds", 0, CLI_OPT_INT, offsetof(struct exec_opts, preserve_fds),
     "pass N more fds (3 .. 3+N-1) to the process"},
    {"cgroup", 0, CLI_OPT_STRING, offsetof(struct exec_opts, cgroup),
     "run in this sub-cgroup of the container's cgroup"},
    {"ignore-paused", 0, CLI_OPT_BOOL, offsetof(struct exec_opts, ignore_paused),
     "exec even when the container is paused"},
    {0},
};

int cli_listen_fds(void)
{
    const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
    if (!pid || !n || strtol(pid, NULL, 10) != getpid())
        return 0;
    long v = strtol(n, NULL, 10);
    return v > 0 && v < 4096 ? (int)v : 0;
}

static int run_exec(const struct cli_ctx *ctx, struct exec_opts *o, int argc, char **argv,
                    cell_err_t *err)
{
    if (argc < 1)
        return cell_error(err, 0, "exec: container id required");
    if (o->preserve_fds < 0)
        return cell_error(err, 0, "exec: --preserve-fds must not be negative");
    struct cell_exec_opts eo = {
        .root = cli_root(ctx),
        .id = argv[0],
        .process_file = o->process,
        .args = argv + 1, /* argv[argc] is NULL, as main's argv is */
        .cwd = o->cwd,
        .env = o->env,
        .user = o->user,
        .additional_gids = o->gids,
        .caps = o->caps,
        .tty = o->tty,
        .no_new_privs = o->no_new_privs,
        .apparmor = o->apparmor,
        .process_label = o->process_label,
        .console_socket = o->console_socket,
        .pid_file = o->pid_file,
        .cgroup = o->cgroup,
        .preserve_fds = o->preserve_fds,
        .listen_fds = cli_listen_fds(),
        .detach = o->detach,
        .ignore_paused = o->ignore_paused,
    };
    int exit_code = 0;
    if (cell_runtime_exec(&eo, &exit_code, err) < 0)
        return -1;
    return o->detach ? 0 : exit_code;
}

int cli_cmd_exec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct exec_opts o = {0};
    struct cli_args args;
    int r = cli_parse_args(ctx, &o, argc, argv, &args, err);
    if (r == 0 && !args.help) {
        argv[args.argc] = NULL; /* the parser moved the positionals to the front */
        r = run_exec(ctx, &o, args.argc, argv, err);
    }
    cli_options_free(ctx->cmd->options, &o);
    return r;
}

/* The lifecycle commands: create, run, start, delete. */
#include "cli/runtime/runtime_cli.h"

#include "runtime/runtime.h"

#include <stddef.h>

struct create_opts {
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    bool no_pivot;
    bool no_new_keyring;
    bool detach;
    bool keep;
    bool no_subreaper;
    int preserve_fds;
};

/* create's options, which run shares. */
// clang-format off
#define CREATE_OPTIONS \
    {"bundle", 'b', CLI_OPT_STRING, offsetof(struct create_opts, bundle), \
     "bundle directory (default: the current directory)"}, \
    {"pid-file", 0, CLI_OPT_STRING, offsetof(struct create_opts, pid_file), \
     "write the container process's pid to this file"}, \
    {"console-socket", 0, CLI_OPT_STRING, offsetof(struct create_opts, console_socket), \
     "AF_UNIX socket that receives the pseudoterminal's master fd"}, \
    {"no-pivot", 0, CLI_OPT_BOOL, offsetof(struct create_opts, no_pivot), \
     "chroot instead of pivot_root (for a rootfs on a ramdisk)"}, \
    {"no-new-keyring", 0, CLI_OPT_BOOL, offsetof(struct create_opts, no_new_keyring), \
     "keep the caller's session keyring"}, \
    {"preserve-fds", 0, CLI_OPT_INT, offsetof(struct create_opts, preserve_fds), \
     "pass N more fds (3 .. 3+N-1) to the container"}
// clang-format on

const struct cli_option cli_create_options[] = {CREATE_OPTIONS, {0}};

const struct cli_option cli_run_options[] = {
    CREATE_OPTIONS,
    {"detach", 'd', CLI_OPT_BOOL, offsetof(struct create_opts, detach),
     "return once the process has started"},
    {"keep", 0, CLI_OPT_BOOL, offsetof(struct create_opts, keep),
     "do not delete the container after it exits"},
    {"no-subreaper", 0, CLI_OPT_BOOL, offsetof(struct create_opts, no_subreaper),
     "accepted for runc compatibility; no effect"},
    {0},
};

struct delete_opts {
    bool force;
};

const struct cli_option cli_delete_options[] = {
    {"force", 'f', CLI_OPT_BOOL, offsetof(struct delete_opts, force),
     "kill the container first if it is still running"},
    {0},
};

/* Parses the create/run command line into the library's options. */
static int parse_create(const struct cli_ctx *ctx, int argc, char **argv,
                        struct cell_create_opts *out, struct cli_args *args, cell_err_t *err)
{
    struct create_opts o = {0};
    if (cli_parse_args(ctx, &o, argc, argv, args, err) < 0)
        return -1;
    if (args->help)
        return 0;
    const char *id = cli_container_id(ctx, args, 0, err);
    if (!id)
        return -1;
    if (o.preserve_fds < 0)
        return cell_error(err, 0, "%s: --preserve-fds must not be negative", ctx->cmd->name);
    *out = (struct cell_create_opts){
        .root = cli_root(ctx),
        .id = id,
        .bundle = o.bundle,
        .pid_file = o.pid_file,
        .console_socket = o.console_socket,
        .no_pivot = o.no_pivot,
        .no_new_keyring = o.no_new_keyring,
        .preserve_fds = o.preserve_fds,
        .listen_fds = cli_listen_fds(),
        .detach = o.detach,
        .keep = o.keep,
        .systemd_cgroup = runtime_global(ctx)->systemd_cgroup,
    };
    return 0;
}

int cli_cmd_create(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_create_opts o;
    struct cli_args args;
    if (parse_create(ctx, argc, argv, &o, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    return cell_runtime_create(&o, err) < 0 ? -1 : 0;
}

/* The exit status is the container process's, so that `cell-runtime run`
 * can stand in for the process in a script. */
int cli_cmd_run(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_create_opts o;
    struct cli_args args;
    if (parse_create(ctx, argc, argv, &o, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    int exit_code = 0;
    if (cell_runtime_run(&o, &exit_code, err) < 0)
        return -1;
    return o.detach ? 0 : exit_code;
}

int cli_cmd_start(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, NULL, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    return cell_runtime_start(cli_root(ctx), id, err) < 0 ? -1 : 0;
}

int cli_cmd_delete(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct delete_opts o = {0};
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, &o, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    return cell_runtime_delete(cli_root(ctx), id, o.force, err) < 0 ? -1 : 0;
}

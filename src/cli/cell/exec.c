/* cell exec [-d] [-i] [-t] [-u USER] [-e K=V] [-w DIR] [--privileged] CONTAINER CMD... */
#include "cli/cell/cell_cli.h"

#include "engine/engine.h"

#include <stddef.h>
#include <stdio.h>

struct exec_opts {
    bool detach, interactive, tty, privileged;
    const char *user, *workdir, *detach_keys;
    char **env, **env_file;
};

const struct cli_option cell_exec_options[] = {
    {"detach", 'd', CLI_OPT_BOOL, offsetof(struct exec_opts, detach), "run in the background"},
    {"interactive", 'i', CLI_OPT_BOOL, offsetof(struct exec_opts, interactive), "keep STDIN open"},
    {"tty", 't', CLI_OPT_BOOL, offsetof(struct exec_opts, tty), "allocate a pseudo-TTY"},
    {"user", 'u', CLI_OPT_STRING, offsetof(struct exec_opts, user), "user[:group] (names or ids)"},
    {"workdir", 'w', CLI_OPT_STRING, offsetof(struct exec_opts, workdir), "working directory"},
    {"env", 'e', CLI_OPT_STRV, offsetof(struct exec_opts, env), "set an environment variable"},
    {"env-file", 0, CLI_OPT_STRV, offsetof(struct exec_opts, env_file),
     "read variables from a file"},
    {"privileged", 0, CLI_OPT_BOOL, offsetof(struct exec_opts, privileged), "every capability"},
    {"detach-keys", 0, CLI_OPT_STRING, offsetof(struct exec_opts, detach_keys), "(accepted)"},
    {0},
};

int cell_cmd_exec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct exec_opts o = {0};
    struct cli_args args;
    int r = cli_parse_args(ctx, &o, argc, argv, &args, err);
    if (r == 0 && !args.help)
        r = cli_nargs(ctx, &args, 2, -1, err);
    struct cell_engine *e = NULL;
    if (r == 0 && !args.help && (r = cell_cli_engine_open(ctx, &e, err)) == 0) {
        struct cell_exec_request req = {
            .cmd = args.argv + 1,
            .env = o.env,
            .env_file = o.env_file,
            .user = o.user,
            .workdir = o.workdir,
            .tty = o.tty,
            .interactive = o.interactive,
            .detach = o.detach,
            .privileged = o.privileged,
        };
        int code = 0;
        r = cell_engine_exec(e, args.argv[0], &req, &code, err);
        if (r == 0)
            r = code;
    }
    cell_engine_close(e);
    cli_options_free(cell_exec_options, &o);
    return r;
}

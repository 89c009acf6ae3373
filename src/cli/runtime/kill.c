/* kill: send a signal to the container's init, or to all its processes. */
#include "cli/runtime/runtime_cli.h"

#include "runtime/runtime.h"

#include <signal.h>
#include <stddef.h>

struct kill_opts {
    bool all;
};

const struct cli_option cli_kill_options[] = {
    {"all", 'a', CLI_OPT_BOOL, offsetof(struct kill_opts, all),
     "send the signal to every process in the container"},
    {0},
};

int cli_cmd_kill(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct kill_opts o = {0};
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, &o, argc, argv, 1, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    int sig = SIGTERM;
    if (args.argc > 1 && (sig = cell_signal_from_string(args.argv[1])) < 0)
        return cell_error(err, 0, "unknown signal \"%s\"", args.argv[1]);
    return cell_runtime_kill(cli_root(ctx), id, sig, o.all, err) < 0 ? -1 : 0;
}

/* What cell-runtime's handlers share: the container id argument and the
 * state root. */
#include "cli/runtime/runtime_cli.h"

#include "runtime/runtime.h"

int cli_parse_with_id(const struct cli_ctx *ctx, void *opts, int argc, char **argv, int max_extra,
                      struct cli_args *args, const char **id, cell_err_t *err)
{
    if (cli_parse_args(ctx, opts, argc, argv, args, err) < 0)
        return -1;
    if (args->help)
        return 1;
    *id = cli_container_id(ctx, args, max_extra, err);
    return *id ? 0 : -1;
}

const char *cli_container_id(const struct cli_ctx *ctx, const struct cli_args *args, int max_extra,
                             cell_err_t *err)
{
    if (args->argc < 1) {
        cell_error(err, 0, "%s: container id required", ctx->cmd->name);
        return NULL;
    }
    if (cli_nargs(ctx, args, 0, 1 + max_extra, err) < 0)
        return NULL;
    if (!cell_id_valid(args->argv[0])) {
        cell_error(err, 0, "invalid container id \"%s\"", args->argv[0]);
        return NULL;
    }
    return args->argv[0];
}

const char *cli_root(const struct cli_ctx *ctx)
{
    const struct runtime_global *g = ctx->global;
    return g->root ? g->root : CELL_RUNTIME_DEFAULT_ROOT;
}

/* pause and resume: freeze and thaw every process of a container through
 * its cgroup's freezer. */
#include "cli/runtime/runtime_cli.h"

#include "runtime/runtime.h"

static int freeze_command(const struct cli_ctx *ctx, int argc, char **argv, bool frozen,
                          cell_err_t *err)
{
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, NULL, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    int r = frozen ? cell_runtime_pause(cli_root(ctx), id, err)
                   : cell_runtime_resume(cli_root(ctx), id, err);
    return r < 0 ? -1 : 0;
}

int cli_cmd_pause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    return freeze_command(ctx, argc, argv, true, err);
}

int cli_cmd_resume(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    return freeze_command(ctx, argc, argv, false, err);
}

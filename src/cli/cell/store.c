/* What cell's handlers share: the store root, opening the store, sizes
 * as Docker prints them. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "engine/engine.h"
#include "image/image.h"

#include <stdio.h>
#include <stdlib.h>

const char *cell_cli_root(const struct cli_ctx *ctx)
{
    const struct cell_cli_global *g = ctx->global;
    if (g->root)
        return g->root;
    const char *env = getenv("CELL_ROOT");
    return env && env[0] ? env : CELL_IMAGE_DEFAULT_ROOT;
}

int cell_cli_store_open(const struct cli_ctx *ctx, struct cell_image_store **out, cell_err_t *err)
{
    return cell_image_store_open(cell_cli_root(ctx), out, err);
}

int cell_cli_engine_open(const struct cli_ctx *ctx, struct cell_engine **out, cell_err_t *err)
{
    return cell_engine_open(cell_cli_root(ctx), out, err);
}

void cell_cli_human_size(int64_t bytes, char buf[16])
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(buf, 16, "%lldB", (long long)bytes);
    else
        snprintf(buf, 16, "%.3g%s", v, units[u]);
}

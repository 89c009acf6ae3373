/* What every cell command handler needs around the option parser: usage,
 * argument counts, the store root. */
#include "cli/cell_commands.h"

#include "base/cleanup.h"
#include "image/image.h"

#include <stdlib.h>
#include <string.h>

void cell_cli_print_options(FILE *out, const char *heading, const struct cli_option *options)
{
    char label[96];
    int width = 0;
    for (const struct cli_option *o = options; o->name; o++) {
        int n = o->short_name ? snprintf(label, sizeof label, "-%c, --%s", o->short_name, o->name)
                              : snprintf(label, sizeof label, "    --%s", o->name);
        width = n > width ? n : width;
    }
    fprintf(out, "\n%s:\n", heading);
    for (const struct cli_option *o = options; o->name; o++) {
        if (o->short_name)
            snprintf(label, sizeof label, "-%c, --%s", o->short_name, o->name);
        else
            snprintf(label, sizeof label, "    --%s", o->name);
        fprintf(out, "  %-*s  %s\n", width, label, o->help ? o->help : "");
    }
}

void cell_cli_print_usage(FILE *out, const struct cell_cli_command *cmd)
{
    bool has_options = cmd->options && cmd->options[0].name;
    fprintf(out, "Usage: %s %s%s%s%s\n\n%s\n", CELL_PROG, cmd->name,
            has_options ? " [OPTIONS]" : "", cmd->args[0] ? " " : "", cmd->args, cmd->summary);
    if (has_options)
        cell_cli_print_options(out, "Options", cmd->options);
}

int cell_cli_parse(const struct cell_cli_ctx *ctx, void *opts, int argc, char **argv,
                   struct cell_cli_args *args, cell_err_t *err)
{
    struct cli_parser p = {.options = ctx->cmd->options, .target = opts};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return cell_error_prepend(err, "%s", ctx->cmd->name);
    *args = (struct cell_cli_args){.argc = n, .argv = argv, .help = p.help};
    if (p.help)
        cell_cli_print_usage(stdout, ctx->cmd);
    return 0;
}

int cell_cli_nargs(const struct cell_cli_ctx *ctx, const struct cell_cli_args *args, int min,
                   int max, cell_err_t *err)
{
    if (args->argc < min)
        return cell_error(err, 0, "%s: requires at least %d argument%s (usage: %s %s %s)",
                          ctx->cmd->name, min, min == 1 ? "" : "s", CELL_PROG, ctx->cmd->name,
                          ctx->cmd->args);
    if (max >= 0 && args->argc > max)
        return cell_error(err, 0, "%s: unexpected argument \"%s\"", ctx->cmd->name,
                          args->argv[max]);
    return 0;
}

const char *cell_cli_root(const struct cell_cli_ctx *ctx)
{
    if (ctx->global->root)
        return ctx->global->root;
    const char *env = getenv("CELL_ROOT");
    return env && env[0] ? env : CELL_IMAGE_DEFAULT_ROOT;
}

int cell_cli_store_open(const struct cell_cli_ctx *ctx, struct cell_image_store **out,
                        cell_err_t *err)
{
    return cell_image_store_open(cell_cli_root(ctx), out, err);
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

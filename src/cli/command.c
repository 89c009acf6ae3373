/* What every command handler needs around the option parser: its usage
 * text, and the checks on its positional arguments. */
#include "cli/commands.h"

#include "runtime/runtime.h"

#include <stdio.h>
#include <string.h>

static void option_label(const struct cli_option *o, char *buf, size_t size)
{
    const char *value = o->kind == CLI_OPT_BOOL ? "" : " value";
    if (o->short_name)
        snprintf(buf, size, "--%s, -%c%s", o->name, o->short_name, value);
    else
        snprintf(buf, size, "--%s%s", o->name, value);
}

void cli_print_options(FILE *out, const char *heading, const struct cli_option *options)
{
    char label[96];
    int width = 0;
    for (const struct cli_option *o = options; o->name; o++) {
        option_label(o, label, sizeof(label));
        if ((int)strlen(label) > width)
            width = (int)strlen(label);
    }
    fprintf(out, "\n%s:\n", heading);
    for (const struct cli_option *o = options; o->name; o++) {
        option_label(o, label, sizeof(label));
        fprintf(out, "  %-*s  %s\n", width, label, o->help ? o->help : "");
    }
}

void cli_print_usage(FILE *out, const struct cli_command *cmd)
{
    bool has_options = cmd->options && cmd->options[0].name;
    fprintf(out, "Usage: %s %s%s%s%s\n\n%s\n", CLI_PROG, cmd->name, has_options ? " [options]" : "",
            cmd->args[0] ? " " : "", cmd->args, cmd->summary);
    if (has_options)
        cli_print_options(out, "Options", cmd->options);
}

int cli_command_parse(const struct cli_ctx *ctx, void *opts, int argc, char **argv,
                      struct cli_args *args, cell_err_t *err)
{
    struct cli_parser p = {.options = ctx->cmd->options, .target = opts};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return cell_error_prepend(err, "%s", ctx->cmd->name);
    *args = (struct cli_args){.argc = n, .argv = argv, .help = p.help};
    if (p.help)
        cli_print_usage(stdout, ctx->cmd);
    return 0;
}

int cli_no_more_args(const struct cli_ctx *ctx, const struct cli_args *args, int n, cell_err_t *err)
{
    if (args->argc > n)
        return cell_error(err, 0, "%s: unexpected argument \"%s\"", ctx->cmd->name, args->argv[n]);
    return 0;
}

int cli_parse_with_id(const struct cli_ctx *ctx, void *opts, int argc, char **argv, int max_extra,
                      struct cli_args *args, const char **id, cell_err_t *err)
{
    if (cli_command_parse(ctx, opts, argc, argv, args, err) < 0)
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
    if (cli_no_more_args(ctx, args, 1 + max_extra, err) < 0)
        return NULL;
    if (!cell_id_valid(args->argv[0])) {
        cell_error(err, 0, "invalid container id \"%s\"", args->argv[0]);
        return NULL;
    }
    return args->argv[0];
}

const char *cli_root(const struct cli_ctx *ctx)
{
    return ctx->global->root ? ctx->global->root : CELL_RUNTIME_DEFAULT_ROOT;
}

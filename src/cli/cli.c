/* cli_main and what every command handler needs around the option parser:
 * usage texts, argument counts, the one error line. */
#include "cli/cli.h"

#include "base/cleanup.h"
#include "base/warn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "-d, --detach" or "    --name value": the short names line up. */
static int option_label(const struct cli_option *o, char *buf, size_t size)
{
    const char *value = o->kind == CLI_OPT_BOOL ? "" : " value";
    if (o->short_name)
        return snprintf(buf, size, "-%c, --%s%s", o->short_name, o->name, value);
    return snprintf(buf, size, "    --%s%s", o->name, value);
}

void cli_print_options(FILE *out, const char *heading, const struct cli_option *options)
{
    char label[96];
    int width = 0;
    for (const struct cli_option *o = options; o->name; o++) {
        int n = option_label(o, label, sizeof(label));
        width = n > width ? n : width;
    }
    fprintf(out, "\n%s:\n", heading);
    for (const struct cli_option *o = options; o->name; o++) {
        option_label(o, label, sizeof(label));
        fprintf(out, "  %-*s  %s\n", width, label, o->help ? o->help : "");
    }
}

void cli_print_usage(FILE *out, const struct cli_program *prog, const struct cli_command *cmd)
{
    bool has_options = cmd->options && cmd->options[0].name;
    fprintf(out, "Usage: %s %s%s%s%s\n\n%s\n", prog->name, cmd->name,
            has_options ? " [OPTIONS]" : "", cmd->args[0] ? " " : "", cmd->args, cmd->summary);
    if (has_options)
        cli_print_options(out, "Options", cmd->options);
}

int cli_parse_args(const struct cli_ctx *ctx, void *opts, int argc, char **argv,
                   struct cli_args *args, cell_err_t *err)
{
    struct cli_parser p = {
        .options = ctx->cmd->options,
        .target = opts,
        .syntax = ctx->prog->syntax,
        .stop_at_positional = ctx->cmd->flags & CLI_CMD_STOP_AT_POSITIONAL,
    };
    /* Handlers test args->help after a failure too ("< 0 || args.help"). */
    *args = (struct cli_args){.argv = argv};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return cell_error_prepend(err, "%s", ctx->cmd->name);
    /* The positionals are at the front now; end them so that a vector of
     * them (`run IMAGE CMD...`) can be used as it is. */
    argv[n] = NULL;
    *args = (struct cli_args){.argc = n, .argv = argv, .help = p.help};
    if (p.help)
        cli_print_usage(stdout, ctx->prog, ctx->cmd);
    return 0;
}

int cli_nargs(const struct cli_ctx *ctx, const struct cli_args *args, int min, int max,
              cell_err_t *err)
{
    const struct cli_command *cmd = ctx->cmd;
    if (args->argc < min)
        return cell_error(err, 0, "%s: requires at least %d argument%s (usage: %s %s %s)",
                          cmd->name, min, min == 1 ? "" : "s", ctx->prog->name, cmd->name,
                          cmd->args);
    if (max >= 0 && args->argc > max)
        return cell_error(err, 0, "%s: unexpected argument \"%s\"", cmd->name, args->argv[max]);
    return 0;
}

/* `help` is every program's command; it is not in their tables. */
static int help_command(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

static const struct cli_command help_cmd = {"help", help_command, NULL, "[COMMAND]",
                                            "Show the usage of the program or of a command."};

static const struct cli_command *find_command(const struct cli_program *prog, const char *name)
{
    if (strcmp(name, help_cmd.name) == 0)
        return &help_cmd;
    for (size_t i = 0; i < prog->n_commands; i++)
        if (strcmp(prog->commands[i].name, name) == 0)
            return &prog->commands[i];
    return NULL;
}

static void print_main_usage(FILE *out, const struct cli_program *prog)
{
    fprintf(out, "Usage: %s [global options] <command> [options] [arguments]\n\n%s\n\nCommands:\n",
            prog->name, prog->about);
    for (size_t i = 0; i < prog->n_commands; i++)
        fprintf(out, "  %-10s%s\n", prog->commands[i].name, prog->commands[i].summary);
    fprintf(out, "  %-10sShow the usage of %s or of a command.\n", help_cmd.name, prog->name);
    if (prog->global_options && prog->global_options[0].name)
        cli_print_options(out, "Global options", prog->global_options);
    fprintf(out, "\nRun '%s help <command>' for a command's options.\n", prog->name);
}

static int help_command(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args = {0};
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0)
        return -1;
    if (args.help || args.argc == 0) {
        print_main_usage(stdout, ctx->prog);
        return 0;
    }
    if (cli_nargs(ctx, &args, 0, 1, err) < 0)
        return -1;
    const struct cli_command *cmd = find_command(ctx->prog, args.argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\"", args.argv[0]);
    cli_print_usage(stdout, ctx->prog, cmd);
    return 0;
}

/* Whether the global bool "version" is set. */
static bool version_asked(const struct cli_program *prog, const void *global)
{
    for (const struct cli_option *o = prog->global_options; o && o->name; o++)
        if (o->kind == CLI_OPT_BOOL && strcmp(o->name, "version") == 0)
            return *(const bool *)((const char *)global + o->offset);
    return false;
}

/* The global options end at the command name; what follows is the command's. */
static int run_command_line(const struct cli_program *prog, void *global, struct cli_log *log,
                            int argc, char **argv, int *failure, cell_err_t *err)
{
    struct cli_parser p = {.options = prog->global_options,
                           .target = global,
                           .syntax = prog->syntax,
                           .stop_at_positional = true};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return -1;
    if (prog->setup && prog->setup(global, log, err) < 0)
        return -1;
    if (version_asked(prog, global)) {
        fputs(prog->version, stdout);
        return 0;
    }
    if (p.help) {
        print_main_usage(stdout, prog);
        return 0;
    }
    if (n == 0)
        return cell_error(err, 0, "no command given (see '%s --help')", prog->name);
    const struct cli_command *cmd = find_command(prog, argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\"", argv[0]);
    struct cli_ctx ctx = {.prog = prog, .cmd = cmd, .global = global, .failure_status = failure};
    if (cmd->failure_status)
        *failure = cmd->failure_status;
    return cmd->run(&ctx, n - 1, argv + 1, err);
}

/* Where the library's warnings go: the program's log, else stderr. */
struct warn_sink {
    const char *prog;
    const struct cli_log *log;
};

static void report_warning(const char *msg, void *data)
{
    const struct warn_sink *s = data;
    cli_report_warning(s->prog, s->log, msg);
}

int cli_main(const struct cli_program *prog, void *global, int argc, char **argv)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cli_log log = {.path = NULL, .format = CLI_LOG_TEXT};
    struct warn_sink sink = {.prog = prog->name, .log = &log};
    cell_warn_set_sink(report_warning, &sink);
    int failure = CLI_EXIT_FAILURE;
    int status = run_command_line(prog, global, &log, argc - 1, argv + 1, &failure, &err);
    if (status < 0) {
        cli_report_error(prog->name, &log, cell_error_text(&err));
        status = failure;
    } else if (err.msg) {
        /* Done, with a warning to pass on (the OOM killer fired). */
        cli_report_warning(prog->name, &log, cell_error_text(&err));
    }
    /* Output that never reached its reader is a failure, not a success. */
    if (fflush(stdout) == EOF || ferror(stdout)) {
        cell_error(&err, errno, "write standard output");
        cli_report_error(prog->name, &log, cell_error_text(&err));
        status = CLI_EXIT_FAILURE;
    }
    cell_warn_set_sink(NULL, NULL);
    return status;
}

/* cell-runtime: the OCI runtime's command line, runc's in shape, so that
 * podman, containerd and Docker can run it in runc's place.
 *
 *   cell-runtime [global options] <command> [options] [arguments]
 *
 * Every failure, usage errors included, is one line on stderr (and a record
 * in the --log file) and exit status 1, as with runc. `run` exits with the
 * container process's status. */
#include "cli/commands.h"

#include "base/cleanup.h"
#include "base/warn.h"
#include "cli/output.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef CELL_VERSION
#define CELL_VERSION "0.1.0"
#endif

static const struct cli_option global_options[] = {
    {"root", 0, CLI_OPT_STRING, offsetof(struct cli_global_opts, root),
     "directory of the containers' state (default: " CELL_RUNTIME_DEFAULT_ROOT ")"},
    {"log", 0, CLI_OPT_STRING, offsetof(struct cli_global_opts, log),
     "write errors and warnings to this file (errors go to stderr too)"},
    {"log-format", 0, CLI_OPT_STRING, offsetof(struct cli_global_opts, log_format),
     "format of the --log file: text (default) or json"},
    {"debug", 0, CLI_OPT_BOOL, offsetof(struct cli_global_opts, debug), "enable debug output"},
    {"systemd-cgroup", 0, CLI_OPT_BOOL, offsetof(struct cli_global_opts, systemd_cgroup),
     "manage cgroups through systemd (cgroupsPath \"slice:prefix:name\")"},
    {"rootless", 0, CLI_OPT_STRING, offsetof(struct cli_global_opts, rootless),
     "true, false or auto (default); accepted, no effect yet"},
    {"criu", 0, CLI_OPT_STRING, offsetof(struct cli_global_opts, criu),
     "accepted for runc compatibility; unused"},
    {"version", 'v', CLI_OPT_BOOL, offsetof(struct cli_global_opts, version), "print the version"},
    {0},
};

static int cmd_help(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

/* Commands that other work will fill in keep their place here, so that the
 * usage lists them and they fail with a clear line until then. */
static const struct cli_command commands[] = {
    {"create", cli_cmd_create, cli_create_options, "<container-id>",
     "Create a container from a bundle; its process waits for `start`."},
    {"start", cli_cmd_start, NULL, "<container-id>", "Start the process of a created container."},
    {"run", cli_cmd_run, cli_run_options, "<container-id>",
     "Create and start a container; without --detach, wait and exit with its status."},
    {"state", cli_cmd_state, NULL, "<container-id>", "Print the state of a container as JSON."},
    {"kill", cli_cmd_kill, cli_kill_options, "<container-id> [signal]",
     "Send a signal (default SIGTERM) to the container's init process."},
    {"delete", cli_cmd_delete, cli_delete_options, "<container-id>",
     "Delete a stopped container and everything it holds."},
    {"list", cli_cmd_list, cli_list_options, "", "List the containers under the state root."},
    {"spec", cli_cmd_spec, cli_spec_options, "", "Write a new config.json to edit."},
    {"features", cli_cmd_features, NULL, "", "Print the features this runtime recognises."},
    {"ps", cli_cmd_ps, cli_ps_options, "<container-id> [ps options]",
     "List the processes of a container."},
    {"exec", cli_cmd_exec, cli_exec_options, "<container-id> <command> [args...]",
     "Run a new process in a container."},
    {"update", cli_cmd_update, cli_update_options, "<container-id>", "Change a container's resources."},
    {"pause", cli_cmd_pause, NULL, "<container-id>", "Freeze a container's processes."},
    {"resume", cli_cmd_resume, NULL, "<container-id>", "Thaw a paused container."},
    {"events", cli_cmd_events, cli_events_options, "<container-id>",
     "Print a container's events and statistics."},
    {"help", cmd_help, NULL, "[command]", "Show the usage of cell-runtime or of a command."},
};

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_usage(FILE *out)
{
    fprintf(out,
            "Usage: %s [global options] <command> [options] [arguments]\n\n"
            "Runs OCI containers from bundles (a config.json and a root filesystem),\n"
            "with runc's command line.\n\nCommands:\n",
            CLI_PROG);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-10s%s\n", commands[i].name, commands[i].summary);
    cli_print_options(out, "Global options", global_options);
    fprintf(out, "\nRun '%s help <command>' for a command's options.\n", CLI_PROG);
}

static int cmd_help(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_command_parse(ctx, NULL, argc, argv, &args, err) < 0)
        return -1;
    if (args.help || args.argc == 0) {
        print_main_usage(stdout);
        return 0;
    }
    if (cli_no_more_args(ctx, &args, 1, err) < 0)
        return -1;
    const struct cli_command *cmd = find_command(args.argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\"", args.argv[0]);
    cli_print_usage(stdout, cmd);
    return 0;
}

/* The global options end at the command name; what follows is the command's. */
static int run_command_line(int argc, char **argv, struct cli_log *log, cell_err_t *err)
{
    struct cli_global_opts g = {0};
    struct cli_parser p = {.options = global_options, .target = &g, .stop_at_positional = true};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return -1;
    log->path = g.log; /* set first, so that the errors below reach the log too */
    if (g.log_format && cli_log_format_from_string(g.log_format, &log->format) < 0)
        return cell_error(err, 0, "invalid --log-format \"%s\" (text or json)", g.log_format);
    if (g.rootless && strcmp(g.rootless, "true") != 0 && strcmp(g.rootless, "false") != 0 &&
        strcmp(g.rootless, "auto") != 0)
        return cell_error(err, 0, "invalid --rootless \"%s\" (true, false or auto)", g.rootless);
    if (g.version) {
        printf("%s version %s\nspec: %s\n", CLI_PROG, CELL_VERSION, CELL_OCI_VERSION);
        return 0;
    }
    if (p.help) {
        print_main_usage(stdout);
        return 0;
    }
    if (n == 0)
        return cell_error(err, 0, "no command given (see '%s --help')", CLI_PROG);
    const struct cli_command *cmd = find_command(argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\"", argv[0]);
    struct cli_ctx ctx = {.global = &g, .cmd = cmd};
    return cmd->run(&ctx, n - 1, argv + 1, err);
}

static void report_warning(const char *msg, void *log)
{
    cli_report_warning(CLI_PROG, log, msg);
}

int main(int argc, char **argv)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cli_log log = {.path = NULL, .format = CLI_LOG_TEXT};
    cell_warn_set_sink(report_warning, &log);
    int status = run_command_line(argc - 1, argv + 1, &log, &err);
    if (status < 0) {
        cli_report_error(CLI_PROG, &log, cell_error_text(&err));
        status = CLI_EXIT_FAILURE;
    } else if (err.msg) {
        /* Done, with a warning to pass on (the OOM killer fired). */
        cli_report_warning(CLI_PROG, &log, cell_error_text(&err));
    }
    /* Output that never reached its reader is a failure, not a success. */
    if (fflush(stdout) == EOF || ferror(stdout)) {
        cell_error(&err, errno, "write standard output");
        cli_report_error(CLI_PROG, &log, cell_error_text(&err));
        status = CLI_EXIT_FAILURE;
    }
    return status;
}

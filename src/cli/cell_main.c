/* cell: the engine's command line (images now; named containers, networks
 * and volumes to follow), with Docker's habits and no daemon.
 *
 *   cell [global options] <command> [options] [arguments]
 *
 * Every failure is one line "cell: <message>" on stderr and exit status 1. */
#include "cli/cell_commands.h"

#include "base/cleanup.h"
#include "cli/output.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef CELL_VERSION
#define CELL_VERSION "0.1.0"
#endif

static const struct cli_option global_options[] = {
    {"root", 0, CLI_OPT_STRING, offsetof(struct cell_cli_global, root),
     "directory of images and state (default: $CELL_ROOT or /var/lib/cell)"},
    {"debug", 0, CLI_OPT_BOOL, offsetof(struct cell_cli_global, debug), "enable debug output"},
    {"version", 'v', CLI_OPT_BOOL, offsetof(struct cell_cli_global, version), "print the version"},
    {0},
};

static int cmd_help(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

static const struct cell_cli_command commands[] = {
    {"images", cell_cmd_images, cell_images_options, "[REPOSITORY[:TAG]]", "List images."},
    {"inspect", cell_cmd_inspect, cell_inspect_options, "IMAGE [IMAGE...]",
     "Print what the store knows of images, as JSON."},
    {"tag", cell_cmd_tag, NULL, "SOURCE TARGET", "Give an image another name."},
    {"rmi", cell_cmd_rmi, cell_rmi_options, "IMAGE [IMAGE...]",
     "Remove images; free what no image needs."},
    {"load", cell_cmd_load, cell_load_options, "",
     "Load images from a docker-archive or OCI archive (or layout directory)."},
    {"save", cell_cmd_save, cell_save_options, "IMAGE [IMAGE...]",
     "Write images to a docker-archive or OCI archive."},
    {"import", cell_cmd_import, NULL, "TARBALL [REPOSITORY[:TAG]]",
     "Make a one-layer image of a root filesystem tarball."},
    {"rootfs", cell_cmd_rootfs, NULL, "create NAME IMAGE | rm NAME | ls",
     "Make or remove an overlay root filesystem of an image."},
    {"pull", cell_cmd_pull, cell_pull_options, "NAME[:TAG|@DIGEST]",
     "Pull an image from a registry."},
    {"login", cell_cmd_login, cell_login_options, "[SERVER]", "Log in to a registry."},
    {"logout", cell_cmd_logout, cell_logout_options, "[SERVER]", "Log out from a registry."},
    {"help", cmd_help, NULL, "[COMMAND]", "Show the usage of cell or of a command."},
};

static const struct cell_cli_command *find_command(const char *name)
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
            "Runs Linux containers from images, without a daemon.\n\nCommands:\n",
            CELL_PROG);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-10s%s\n", commands[i].name, commands[i].summary);
    cell_cli_print_options(out, "Global options", global_options);
    fprintf(out, "\nRun '%s help <command>' for a command's options.\n", CELL_PROG);
}

static int cmd_help(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cell_cli_args args;
    if (cell_cli_parse(ctx, NULL, argc, argv, &args, err) < 0)
        return -1;
    if (args.help || args.argc == 0) {
        print_main_usage(stdout);
        return 0;
    }
    if (cell_cli_nargs(ctx, &args, 0, 1, err) < 0)
        return -1;
    const struct cell_cli_command *cmd = find_command(args.argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\"", args.argv[0]);
    cell_cli_print_usage(stdout, cmd);
    return 0;
}

/* The global options end at the command name; what follows is the command's. */
static int run_command_line(int argc, char **argv, cell_err_t *err)
{
    struct cell_cli_global g = {0};
    struct cli_parser p = {.options = global_options, .target = &g, .stop_at_positional = true};
    int n = cli_parse(&p, argc, argv, err);
    if (n < 0)
        return -1;
    if (g.version) {
        printf("%s version %s\n", CELL_PROG, CELL_VERSION);
        return 0;
    }
    if (p.help) {
        print_main_usage(stdout);
        return 0;
    }
    if (n == 0) {
        print_main_usage(stderr);
        return cell_error(err, 0, "no command given");
    }
    const struct cell_cli_command *cmd = find_command(argv[0]);
    if (!cmd)
        return cell_error(err, 0, "unknown command \"%s\" (see '%s --help')", argv[0], CELL_PROG);
    struct cell_cli_ctx ctx = {.global = &g, .cmd = cmd};
    return cmd->run(&ctx, n - 1, argv + 1, err);
}

int main(int argc, char **argv)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cli_log log = {.path = NULL, .format = CLI_LOG_TEXT};
    int status = run_command_line(argc - 1, argv + 1, &err);
    if (status < 0) {
        cli_report_error(CELL_PROG, &log, cell_error_text(&err));
        status = CELL_EXIT_FAILURE;
    }
    /* Output that never reached its reader is a failure, not a success. */
    if (fflush(stdout) == EOF || ferror(stdout)) {
        cell_error(&err, errno, "write standard output");
        cli_report_error(CELL_PROG, &log, cell_error_text(&err));
        status = CELL_EXIT_FAILURE;
    }
    return status;
}

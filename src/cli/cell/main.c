/* cell: the engine's command line (images now; named containers, networks
 * and volumes to follow), with Docker's habits and no daemon.
 *
 *   cell [global options] <command> [options] [arguments]
 *
 * Docker's flag syntax ("-it", "-p80:80", "--name=x"; options.h). Every
 * failure is one line "cell: <message>" on stderr and exit status 1. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "image/image.h"

#include <stddef.h>
#include <string.h>
#include <stdlib.h>

static const struct cli_option global_options[] = {
    {"root", 0, CLI_OPT_STRING, offsetof(struct cell_cli_global, root),
     "directory of images and state (default: $CELL_ROOT or /var/lib/cell)"},
    {"debug", 0, CLI_OPT_BOOL, offsetof(struct cell_cli_global, debug), "enable debug output"},
    {"version", 'v', CLI_OPT_BOOL, offsetof(struct cell_cli_global, version), "print the version"},
    {0},
};

static int cell_cmd_container(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

static const struct cli_command commands[] = {
    {"run", cell_cmd_run, cell_run_options, "IMAGE [COMMAND] [ARG...]",
     "Create and run a container from an image.", CLI_CMD_STOP_AT_POSITIONAL, 125},
    {"create", cell_cmd_create, cell_run_options, "IMAGE [COMMAND] [ARG...]",
     "Create a container without starting it.", CLI_CMD_STOP_AT_POSITIONAL, 125},
    {"start", cell_cmd_start, cell_start_options, "CONTAINER [CONTAINER...]",
     "Start created or stopped containers.", 0, 125},
    {"exec", cell_cmd_exec, cell_exec_options, "CONTAINER COMMAND [ARG...]",
     "Run a command in a running container.", CLI_CMD_STOP_AT_POSITIONAL, 126},
    {"ps", cell_cmd_ps, cell_ps_options, "", "List containers."},
    {"stop", cell_cmd_stop, cell_stop_options, "CONTAINER [CONTAINER...]",
     "Stop containers: the stop signal, then SIGKILL after a grace period."},
    {"kill", cell_cmd_kill, cell_kill_options, "CONTAINER [CONTAINER...]",
     "Send a signal (KILL) to containers."},
    {"rm", cell_cmd_rm, cell_rm_options, "CONTAINER [CONTAINER...]", "Remove containers."},
    {"wait", cell_cmd_wait, NULL, "CONTAINER [CONTAINER...]",
     "Wait for containers to stop; print their exit codes."},
    {"logs", cell_cmd_logs, cell_logs_options, "CONTAINER", "Print a container's log."},
    {"restart", cell_cmd_restart, cell_restart_options, "CONTAINER [CONTAINER...]",
     "Restart containers."},
    {"rename", cell_cmd_rename, NULL, "CONTAINER NEW_NAME", "Rename a container."},
    {"update", cell_cmd_update, cell_update_options, "CONTAINER [CONTAINER...]",
     "Change a container's limits or restart policy."},
    {"attach", cell_cmd_attach, cell_attach_options, "CONTAINER",
     "Attach to a running container's stdio."},
    {"port", cell_cmd_port, NULL, "CONTAINER [PRIVATE_PORT[/PROTO]]",
     "List a container's published ports."},
    {"container", cell_cmd_container, NULL, "COMMAND",
     "Manage containers (ls, prune, and every container command)."},
    {"inspect", cell_cmd_inspect, cell_inspect_options, "NAME|ID [NAME|ID...]",
     "Print what is known of containers or images, as JSON."},
    {"explain", cell_cmd_explain, cell_explain_options, "CONTAINER",
     "Show what confines a running container, and how to join it."},
    {"pause", cell_cmd_pause, NULL, "CONTAINER [CONTAINER...]",
     "Freeze every process of containers."},
    {"unpause", cell_cmd_unpause, NULL, "CONTAINER [CONTAINER...]",
     "Thaw the processes of paused containers."},
    {"top", cell_cmd_top, NULL, "CONTAINER [ps OPTIONS]", "Show a container's processes.",
     CLI_CMD_STOP_AT_POSITIONAL},
    {"stats", cell_cmd_stats, cell_stats_options, "[CONTAINER...]",
     "Show what containers use: CPU, memory, network, block I/O, pids."},
    {"events", cell_cmd_events, cell_events_options, "",
     "Show container events as they happen (and past ones with --since)."},
    {"images", cell_cmd_images, cell_images_options, "[REPOSITORY[:TAG]]", "List images."},
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
};

static const struct cli_command prune_command = {
    "prune", cell_cmd_container_prune, cell_prune_options, "", "Remove all stopped containers."};

/* `cell container ls|prune|<any container command>`, as Docker groups them. */
static int cell_cmd_container(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    if (argc < 1)
        return cell_error(err, 0, "container: requires a command (ls, prune, run, rm, ...)");
    const char *name = argv[0];
    if (!strcmp(name, "ls") || !strcmp(name, "list"))
        name = "ps";
    const struct cli_command *cmd = !strcmp(name, "prune") ? &prune_command : NULL;
    for (size_t i = 0; !cmd && i < ARRAY_SIZE(commands); i++)
        if (!strcmp(commands[i].name, name) && commands[i].run != cell_cmd_container)
            cmd = &commands[i];
    if (!cmd)
        return cell_error(err, 0, "container: unknown command \"%s\"", argv[0]);
    struct cli_ctx sub = {.prog = ctx->prog,
                          .cmd = cmd,
                          .global = ctx->global,
                          .failure_status = ctx->failure_status};
    if (cmd->failure_status && ctx->failure_status)
        *ctx->failure_status = cmd->failure_status;
    return cmd->run(&sub, argc - 1, argv + 1, err);
}

static const struct cli_program program = {
    .name = "cell",
    .about = "Runs Linux containers from images, without a daemon.",
    .global_options = global_options,
    .commands = commands,
    .n_commands = ARRAY_SIZE(commands),
    .syntax = CLI_SYNTAX_DOCKER,
    .version = "cell version " CELL_VERSION "\n",
};

int main(int argc, char **argv)
{
    struct cell_cli_global g = {0};
    return cli_main(&program, &g, argc, argv);
}

/* cell-runtime: the OCI runtime's command line, runc's in shape, so that
 * podman, containerd and Docker can run it in runc's place.
 *
 *   cell-runtime [global options] <command> [options] [arguments]
 *
 * Every failure, usage errors included, is one line on stderr (and a record
 * in the --log file) and exit status 1, as with runc. `run` exits with the
 * container process's status. */
#include "cli/runtime/runtime_cli.h"

#include "base/cleanup.h"
#include "runtime/runtime.h"

#include <stddef.h>
#include <string.h>

static const struct cli_option global_options[] = {
    {"root", 0, CLI_OPT_STRING, offsetof(struct runtime_global, root),
     "directory of the containers' state (default: " CELL_RUNTIME_DEFAULT_ROOT ")"},
    {"log", 0, CLI_OPT_STRING, offsetof(struct runtime_global, log),
     "write errors and warnings to this file (errors go to stderr too)"},
    {"log-format", 0, CLI_OPT_STRING, offsetof(struct runtime_global, log_format),
     "format of the --log file: text (default) or json"},
    {"debug", 0, CLI_OPT_BOOL, offsetof(struct runtime_global, debug), "enable debug output"},
    {"systemd-cgroup", 0, CLI_OPT_BOOL, offsetof(struct runtime_global, systemd_cgroup),
     "manage cgroups through systemd (cgroupsPath \"slice:prefix:name\")"},
    {"rootless", 0, CLI_OPT_STRING, offsetof(struct runtime_global, rootless),
     "true, false or auto (default); accepted, no effect yet"},
    {"criu", 0, CLI_OPT_STRING, offsetof(struct runtime_global, criu),
     "accepted for runc compatibility; unused"},
    {"version", 'v', CLI_OPT_BOOL, offsetof(struct runtime_global, version), "print the version"},
    {0},
};

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
     "Run a new process in a container.", CLI_CMD_STOP_AT_POSITIONAL},
    {"update", cli_cmd_update, cli_update_options, "<container-id>",
     "Change a container's resources."},
    {"pause", cli_cmd_pause, NULL, "<container-id>", "Freeze a container's processes."},
    {"resume", cli_cmd_resume, NULL, "<container-id>", "Thaw a paused container."},
    {"events", cli_cmd_events, cli_events_options, "<container-id>",
     "Print a container's events and statistics."},
};

static int setup(void *global, struct cli_log *log, cell_err_t *err)
{
    const struct runtime_global *g = global;
    log->path = g->log; /* set first, so that the errors below reach the log too */
    if (g->log_format && cli_log_format_from_string(g->log_format, &log->format) < 0)
        return cell_error(err, 0, "invalid --log-format \"%s\" (text or json)", g->log_format);
    if (g->rootless && strcmp(g->rootless, "true") != 0 && strcmp(g->rootless, "false") != 0 &&
        strcmp(g->rootless, "auto") != 0)
        return cell_error(err, 0, "invalid --rootless \"%s\" (true, false or auto)", g->rootless);
    return 0;
}

static const struct cli_program program = {
    .name = "cell-runtime",
    .about = "Runs OCI containers from bundles (a config.json and a root filesystem),\n"
             "with runc's command line.",
    .global_options = global_options,
    .commands = commands,
    .n_commands = ARRAY_SIZE(commands),
    .syntax = CLI_SYNTAX_GO,
    .version = "cell-runtime version " CELL_VERSION "\nspec: " CELL_OCI_VERSION "\n",
    .setup = setup,
};

int main(int argc, char **argv)
{
    struct runtime_global g = {0};
    return cli_main(&program, &g, argc, argv);
}

/* ps: the processes of a container, by host pid. As runc: --format json
 * prints the pids; the table is ps(1)'s output (options after the id,
 * default -ef) cut down to the lines of the container's processes. */
#include "cli/runtime/runtime_cli.h"

#include "base/cleanup.h"
#include "cli/output.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct ps_opts {
    const char *format;
};

const struct cli_option cli_ps_options[] = {
    {"format", 'f', CLI_OPT_STRING, offsetof(struct ps_opts, format), "table (default) or json"},
    {0},
};

/* Words up to and including the container id are ours; the rest go to
 * ps(1) even when they look like flags ("ps ID -o pid,comm"). */
static int own_words(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return i;
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-format") || !strcmp(argv[i], "-f"))
            i++;
        else if (argv[i][0] != '-')
            return i + 1;
    }
    return argc;
}

static int print_json(const pid_t *pids, size_t n, cell_err_t *err)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(pids[i]));
    int r = cli_print_json(stdout, a, 0, err);
    json_decref(a);
    return r;
}

/* Which column of ps's header is PID (0-based), or -1. */
static int pid_column(const char *header)
{
    _cleanup_free_ char *copy = strdup(header);
    char *save = NULL;
    int col = 0;
    for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), col++)
        if (!strcmp(w, "PID"))
            return col;
    return -1;
}

static bool line_has_pid(const char *line, int col, const pid_t *pids, size_t n)
{
    _cleanup_free_ char *copy = strdup(line);
    char *save = NULL, *w = strtok_r(copy, " \t\n", &save);
    for (int i = 0; w && i < col; i++)
        w = strtok_r(NULL, " \t\n", &save);
    long pid = w ? strtol(w, NULL, 10) : -1;
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

static int filter_ps(FILE *in, const pid_t *pids, size_t n, cell_err_t *err)
{
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    int col = -1;
    for (bool first = true; getline(&line, &cap, in) >= 0; first = false) {
        if (first && (col = pid_column(line)) < 0)
            return cell_error(err, 0, "ps: no PID column in ps's output");
        if (first || line_has_pid(line, col, pids, n))
            fputs(line, stdout);
    }
    return 0;
}

static int run_ps(char **ps_args, int n_args, const pid_t *pids, size_t n, cell_err_t *err)
{
    int fds[2];
    if (pipe(fds) < 0)
        return cell_error(err, errno, "ps: pipe");
    pid_t child = fork();
    if (child == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        char *argv[n_args + 3];
        argv[0] = "ps";
        argv[1] = n_args ? NULL : "-ef";
        for (int i = 0; i < n_args; i++)
            argv[1 + i] = ps_args[i];
        argv[n_args ? n_args + 1 : 2] = NULL;
        execvp("ps", argv);
        _exit(127);
    }
    close(fds[1]);
    if (child < 0) {
        close(fds[0]);
        return cell_error(err, errno, "ps: fork");
    }
    FILE *in = fdopen(fds[0], "r");
    int r = in ? filter_ps(in, pids, n, err) : cell_error(err, errno, "ps: fdopen");
    in ? fclose(in) : close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        r = cell_error(err, 0, "ps: ps(1) failed (exit status %d)", WEXITSTATUS(status));
    return r;
}

int cli_cmd_ps(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct ps_opts o = {.format = "table"};
    struct cli_args args;
    int own = own_words(argc, argv);
    int rest = own < argc && !strcmp(argv[own], "--") ? own + 1 : own;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, &o, own, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    if (strcmp(o.format, "table") && strcmp(o.format, "json"))
        return cell_error(err, 0, "ps: invalid format \"%s\" (table or json)", o.format);
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (cell_runtime_ps(cli_root(ctx), id, &pids, &n, err) < 0)
        return -1;
    if (!strcmp(o.format, "json")) {
        if (argc > rest)
            return cell_error(err, 0, "ps: ps options cannot be used with --format json");
        return print_json(pids, n, err) < 0 ? -1 : 0;
    }
    fflush(stdout);
    return run_ps(argv + rest, argc - rest, pids, n, err) < 0 ? -1 : 0;
}

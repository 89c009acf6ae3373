/* `top`: the container's processes as the host's ps(1) shows them, with
 * the options the user gave (-ef when none), rows kept when their PID is
 * one of the container cgroup's, as Docker does. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "runtime/runtime.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* All of fd, NUL-terminated. */
static char *slurp(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
        if (cap - len < 2048) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (buf)
        buf[len] = 0;
    return buf;
}

/* Runs ps with argv; its stdout in *out, the first line of its stderr in
 * err on failure. */
static int run_ps(char **argv, char **out, cell_err_t *err)
{
    int o[2], e2[2];
    if (pipe2(o, O_CLOEXEC) < 0)
        return cell_error(err, errno, "ps");
    if (pipe2(e2, O_CLOEXEC) < 0) {
        close(o[0]), close(o[1]);
        return cell_error(err, errno, "ps");
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(e2[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(o[1]);
    close(e2[1]);
    *out = pid > 0 ? slurp(o[0]) : NULL;
    _cleanup_free_ char *msg = pid > 0 ? slurp(e2[0]) : NULL;
    close(o[0]);
    close(e2[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (pid > 0 && *out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    free(*out);
    *out = NULL;
    if (msg && strchr(msg, '\n'))
        *strchr(msg, '\n') = 0;
    return cell_error(err, pid < 0 ? errno : 0, "ps: %s",
                      msg && *msg ? msg : "exit status non-zero");
}

struct column {
    size_t start, end; /* of the title in the header line */
    size_t from;       /* where the column's cells begin in every line */
};

/* A cell may be wider than its title (a CMD with spaces, a right-aligned
 * number): a column begins at the rightmost position before its title
 * that is blank in every line. */
static void find_columns(char **lines, size_t nlines, struct column *cols, size_t ncols)
{
    cols[0].from = 0;
    for (size_t i = 1; i < ncols; i++) {
        cols[i].from = cols[i].start;
        for (size_t pos = cols[i].start; pos-- > cols[i - 1].end;) {
            bool blank = true;
            for (size_t l = 1; l < nlines && blank; l++)
                blank = strlen(lines[l]) <= pos || isspace((unsigned char)lines[l][pos]);
            if (blank) {
                cols[i].from = pos;
                break;
            }
        }
    }
}

static json_t *cell_text(const char *line, size_t from, size_t to)
{
    size_t len = strlen(line);
    if (from > len)
        from = len;
    if (to > len)
        to = len;
    while (from < to && isspace((unsigned char)line[from]))
        from++;
    while (to > from && isspace((unsigned char)line[to - 1]))
        to--;
    return json_stringn(line + from, to - from);
}

static json_t *split_row(const char *line, const struct column *cols, size_t ncols)
{
    json_t *row = json_array();
    for (size_t i = 0; i < ncols; i++)
        json_array_append_new(
            row, cell_text(line, cols[i].from, i + 1 < ncols ? cols[i + 1].from : SIZE_MAX));
    return row;
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == p)
            return true;
    return false;
}

/* The words of ps's header line: their places in cols, their text in
 * titles; the index of "PID" (-1 when there is none). */
static long read_titles(const char *head, struct column *cols, size_t *ncols, json_t *titles)
{
    long pid_col = -1;
    for (size_t i = 0; head[i];) {
        if (isspace((unsigned char)head[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (head[i] && !isspace((unsigned char)head[i]))
            i++;
        cols[*ncols] = (struct column){.start = s, .end = i};
        json_array_append_new(titles, json_stringn(head + s, i - s));
        if (pid_col < 0 && i - s == 3 && !strncmp(head + s, "PID", 3))
            pid_col = (long)*ncols;
        (*ncols)++;
    }
    return pid_col;
}

/* The header's titles; the rows whose PID is the container's ("-", a
 * thread line of ps -m, goes with the process above it). */
static int parse_ps(char *text, const pid_t *pids, size_t npids, json_t *out, cell_err_t *err)
{
    size_t nlines = 0;
    _cleanup_free_ char **lines = calloc(strlen(text) + 2, sizeof(char *));
    if (!lines)
        return cell_error(err, ENOMEM, "ps");
    for (char *p = text, *nl; *p; p = nl + 1) {
        lines[nlines++] = p;
        if (!(nl = strchr(p, '\n')))
            break;
        *nl = 0;
    }
    _cleanup_free_ struct column *cols = calloc(strlen(nlines ? lines[0] : "") + 1, sizeof *cols);
    json_t *titles = json_array(), *procs = json_array();
    json_object_set_new(out, "Titles", titles);
    json_object_set_new(out, "Processes", procs);
    size_t ncols = 0;
    long pid_col = nlines && cols ? read_titles(lines[0], cols, &ncols, titles) : -1;
    if (pid_col < 0)
        return cell_error(err, 0, "Couldn't find PID field in ps output");
    find_columns(lines, nlines, cols, ncols);
    bool prev_ours = false;
    for (size_t l = 1; l < nlines; l++) {
        if (!*lines[l])
            continue;
        json_t *row = split_row(lines[l], cols, ncols);
        const char *p = json_string_value(json_array_get(row, (size_t)pid_col));
        char *end;
        long v = strtol(p, &end, 10);
        bool thread = !strcmp(p, "-");
        if (!thread && (!*p || *end)) {
            json_decref(row);
            return cell_error(err, 0, "Unexpected pid '%s'", p);
        }
        bool ours = thread ? prev_ours : has_pid(pids, npids, v);
        if (!thread)
            prev_ours = ours;
        if (ours)
            json_array_append_new(procs, row);
        else
            json_decref(row);
    }
    return 0;
}

/* ps without its header line cannot be read: Docker refuses these. */
static bool no_header(const char *arg)
{
    static const char *const opts[] = {"--no-header",   "--no-headers", "--no-heading",
                                       "--no-headings", "--noheader",   "--noheaders",
                                       "--noheading",   "--noheadings"};
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
        if (!strcmp(arg, opts[i]))
            return true;
    return false;
}

/* ps ARGS -qPID,PID...; some options (f) refuse -q: then ps ARGS alone. */
static int ps_output(char **args, const pid_t *pids, size_t n, char **out, cell_err_t *err)
{
    size_t nargs = 0;
    while (args && args[nargs])
        nargs++;
    _cleanup_free_ char **argv = calloc(nargs + 4, sizeof(char *));
    _cleanup_free_ char *q = calloc(1, 3 + n * 12);
    if (!argv || !q)
        return cell_error(err, ENOMEM, "ps");
    argv[0] = "ps";
    if (nargs == 0)
        argv[1] = "-ef";
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = args[i];
    size_t k = nargs ? nargs + 1 : 2;
    strcpy(q, "-q");
    for (size_t i = 0; i < n; i++)
        sprintf(q + strlen(q), "%s%d", i ? "," : "", (int)pids[i]);
    argv[k] = q;
    if (n && run_ps(argv, out, NULL) == 0)
        return 0;
    argv[k] = NULL;
    return run_ps(argv, out, err);
}

int cell_engine_top(struct cell_engine *e, const char *name_or_id, char **ps_args, json_t **out,
                    cell_err_t *err)
{
    for (char **a = ps_args; a && *a; a++)
        if (no_header(*a))
            return cell_error(err, 0, "option %s is not allowed", *a);
    struct cell_ctr c;
    if (cell_ctr_open_name(e, name_or_id, true, &c, err) < 0)
        return -1;
    cell_engine_refresh(e, &c);
    const char *s = cell_state_status_of(c.rec);
    int r = 0;
    if (!strcmp(s, "restarting"))
        r = cell_error(err, 0, "Container %s is restarting, wait until the container is running",
                       c.id);
    else if (strcmp(s, "running") != 0 && strcmp(s, "paused") != 0)
        r = cell_error(err, 0, "Container %s is not running", c.id);
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    _cleanup_free_ char *text = NULL;
    if (r == 0)
        r = cell_runtime_ps(e->runtime_root, c.id, &pids, &n, err);
    if (r == 0)
        r = ps_output(ps_args, pids, n, &text, err);
    *out = r == 0 ? json_object() : NULL;
    if (r == 0 && (r = parse_ps(text, pids, n, *out, err)) < 0) {
        json_decref(*out);
        *out = NULL;
    }
    if (r == 0)
        cell_engine_event(e, c.id, "top", c.rec, NULL);
    cell_ctr_close(&c);
    return r;
}

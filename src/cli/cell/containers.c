/* cell ps, stop, kill, rm, wait, logs, and inspect of containers. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "cli/output.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- ps ----------------------------------------------------------------------------- */

struct ps_opts {
    bool all, quiet, no_trunc, latest;
    const char *last, *format;
    char **filter;
};

const struct cli_option cell_ps_options[] = {
    {"all", 'a', CLI_OPT_BOOL, offsetof(struct ps_opts, all),
     "show every container (default: running)"},
    {"quiet", 'q', CLI_OPT_BOOL, offsetof(struct ps_opts, quiet), "print container IDs only"},
    {"no-trunc", 0, CLI_OPT_BOOL, offsetof(struct ps_opts, no_trunc), "do not truncate output"},
    {"latest", 'l', CLI_OPT_BOOL, offsetof(struct ps_opts, latest),
     "show the latest created container"},
    {"last", 'n', CLI_OPT_STRING, offsetof(struct ps_opts, last),
     "show the n last created containers"},
    {"format", 0, CLI_OPT_STRING, offsetof(struct ps_opts, format),
     "table, json, or a Go template"},
    {"filter", 'f', CLI_OPT_STRV, offsetof(struct ps_opts, filter),
     "filter (name=, id=, status=, label=, ancestor=, exited=)"},
    {0},
};

/* Docker's ps filters: every key must match (values of one key: any). */
static bool filter_one(const json_t *row, const json_t *rec, const char *key, const char *val)
{
    if (!strcmp(key, "name"))
        return strstr(json_string_value(json_object_get(row, "Names")), val) != NULL;
    if (!strcmp(key, "id"))
        return !strncmp(json_string_value(json_object_get(rec, "Id")), val, strlen(val));
    if (!strcmp(key, "status"))
        return !strcmp(json_string_value(json_object_get(row, "State")), val);
    if (!strcmp(key, "ancestor"))
        return !strcmp(json_string_value(json_object_get(row, "Image")), val) ||
               !strcmp(json_string_value(json_object_get(rec, "Image")), val);
    if (!strcmp(key, "exited")) {
        const json_t *st = json_object_get(rec, "State");
        return !strcmp(json_string_value(json_object_get(st, "Status")), "exited") &&
               json_integer_value(json_object_get(st, "ExitCode")) == atoi(val);
    }
    if (!strcmp(key, "label")) {
        json_t *labels = json_object_get(json_object_get(rec, "Config"), "Labels");
        const char *eq = strchr(val, '=');
        _cleanup_free_ char *k = strndup(val, eq ? (size_t)(eq - val) : strlen(val));
        json_t *v = json_object_get(labels, k);
        return v && (!eq || !strcmp(json_string_value(v), eq + 1));
    }
    return false;
}

static int check_filters(char **filters, cell_err_t *err)
{
    static const char *const keys[] = {"name", "id", "status", "ancestor", "exited", "label"};
    for (char **f = filters; f && *f; f++) {
        const char *eq = strchr(*f, '=');
        bool ok = false;
        for (size_t i = 0; eq && i < ARRAY_SIZE(keys); i++)
            ok |= strlen(keys[i]) == (size_t)(eq - *f) && !strncmp(*f, keys[i], eq - *f);
        if (!ok)
            return cell_error(err, 0, "invalid filter '%s'", *f);
    }
    return 0;
}

static bool filters_match(char **filters, const json_t *row, const json_t *rec)
{
    for (char **f = filters; f && *f; f++) {
        const char *eq = strchr(*f, '=');
        _cleanup_free_ char *key = strndup(*f, (size_t)(eq - *f));
        bool any = false, seen = false;
        for (char **g = filters; g && *g; g++) {
            if (strncmp(*g, key, strlen(key)) || (*g)[strlen(key)] != '=')
                continue;
            seen = true;
            any |= filter_one(row, rec, key, *g + strlen(key) + 1);
        }
        if (seen && !any)
            return false;
    }
    return true;
}

struct listed {
    int64_t created;
    json_t *row;
};

static int newest_first(const void *a, const void *b)
{
    int64_t x = ((const struct listed *)a)->created, y = ((const struct listed *)b)->created;
    return x < y ? 1 : x > y ? -1 : 0;
}

static json_t *ps_rows(struct cell_engine *e, const struct ps_opts *o, cell_err_t *err)
{
    _cleanup_strv_ char **ids = NULL;
    if (cell_ctr_list(e, &ids, err) < 0)
        return NULL;
    long last = o->latest ? 1 : o->last ? atol(o->last) : -1;
    size_t n = cell_strv_len(ids), k = 0;
    _cleanup_free_ struct listed *l = calloc(n ? n : 1, sizeof *l);
    if (!l) {
        cell_error(err, ENOMEM, "ps");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct cell_ctr c;
        if (cell_ctr_open_current(e, ids[i], &c, NULL) < 0)
            continue;
        bool show = o->all || last >= 0 || cell_state_live(cell_state_status_of(c.rec));
        json_t *row = show ? cell_engine_ps_row(e, &c, o->no_trunc) : NULL;
        if (row && filters_match(o->filter, row, c.rec)) {
            l[k].created =
                cell_engine_time_parse(json_string_value(json_object_get(c.rec, "Created")));
            l[k++].row = row;
        } else
            json_decref(row);
        cell_ctr_close(&c);
    }
    /* Newest first, as Docker lists. */
    qsort(l, k, sizeof *l, newest_first);
    json_t *rows = json_array();
    for (size_t i = 0; i < k; i++)
        if (last < 0 || (long)i < last)
            json_array_append_new(rows, l[i].row);
        else
            json_decref(l[i].row);
    return rows;
}

static const struct cli_header ps_headers[] = {
    {".ID", "CONTAINER ID"},
    {".Image", "IMAGE"},
    {".Command", "COMMAND"},
    {".RunningFor", "CREATED"},
    {".Status", "STATUS"},
    {".Ports", "PORTS"},
    {".Names", "NAMES"},
    {".CreatedAt", "CREATED AT"},
    {".State", "STATE"},
    {".Labels", "LABELS"},
    {".Mounts", "MOUNTS"},
    {".Networks", "NETWORKS"},
    {".Size", "SIZE"},
    {".LocalVolumes", "LOCAL VOLUMES"},
    {NULL, NULL},
};

#define PS_TABLE                                                                                   \
    "table "                                                                                       \
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

int cell_cmd_ps(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct ps_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help) {
        cli_options_free(cell_ps_options, &o);
        return args.help ? 0 : -1;
    }
    struct cell_engine *e = NULL;
    int r = cli_nargs(ctx, &args, 0, 0, err);
    if (r == 0)
        r = check_filters(o.filter, err);
    if (r == 0)
        r = cell_cli_engine_open(ctx, &e, err);
    json_t *rows = r == 0 ? ps_rows(e, &o, err) : NULL;
    if (r == 0 && !rows)
        r = -1;
    if (rows)
        r = cli_print_formatted(stdout, o.quiet ? "{{.ID}}" : o.format, rows, PS_TABLE, ps_headers,
                                err);
    json_decref(rows);
    cell_engine_close(e);
    cli_options_free(cell_ps_options, &o);
    return r;
}

/* ---- stop, kill, rm, wait ----------------------------------------------------------- */

struct stop_opts {
    const char *time;
};

const struct cli_option cell_stop_options[] = {
    {"time", 't', CLI_OPT_STRING, offsetof(struct stop_opts, time),
     "seconds to wait before killing"},
    {"timeout", 0, CLI_OPT_STRING, offsetof(struct stop_opts, time),
     "seconds to wait before killing"},
    {0},
};

/* Runs fn on each named container; every one is tried, the first error
 * is the one reported (Docker reports each; the exit status is 1). */
typedef int (*each_fn)(struct cell_engine *e, const char *name, void *data, cell_err_t *err);

static int for_each(const struct cli_ctx *ctx, int argc, char **argv, each_fn fn, void *data,
                    bool echo, cell_err_t *err)
{
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int result = 0;
    for (int i = 0; i < argc; i++) {
        _cleanup_err_ cell_err_t one = CELL_ERR_INIT;
        if (fn(e, argv[i], data, &one) < 0) {
            if (result == 0)
                cell_error(err, 0, "%s", cell_error_text(&one));
            else
                fprintf(stderr, "cell: %s\n", cell_error_text(&one));
            result = -1;
        } else if (echo)
            printf("%s\n", argv[i]);
    }
    cell_engine_close(e);
    return result;
}

static int stop_one(struct cell_engine *e, const char *name, void *data, cell_err_t *err)
{
    return cell_engine_stop(e, name, *(int *)data, err);
}

int cell_cmd_stop(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct stop_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    int timeout = -1;
    if (o.time) {
        char *end;
        long v = strtol(o.time, &end, 10);
        if (!*o.time || *end || v < -1)
            return cell_error(err, 0,
                              "invalid argument \"%s\" for \"-t, --time\" flag: "
                              "strconv.ParseInt: parsing \"%s\": invalid syntax",
                              o.time, o.time);
        timeout = (int)v;
    }
    return for_each(ctx, args.argc, args.argv, stop_one, &timeout, true, err);
}

struct kill_opts {
    const char *signal;
};

const struct cli_option cell_kill_options[] = {
    {"signal", 's', CLI_OPT_STRING, offsetof(struct kill_opts, signal), "signal to send (KILL)"},
    {0},
};

static int kill_one(struct cell_engine *e, const char *name, void *data, cell_err_t *err)
{
    return cell_engine_kill(e, name, *(int *)data, err);
}

int cell_cmd_kill(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct kill_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    int sig = o.signal ? cell_signal_from_string(o.signal) : SIGKILL;
    if (sig <= 0)
        return cell_error(err, 0, "invalid signal: %s", o.signal);
    return for_each(ctx, args.argc, args.argv, kill_one, &sig, true, err);
}

struct rm_opts {
    bool force, volumes, link;
};

const struct cli_option cell_rm_options[] = {
    {"force", 'f', CLI_OPT_BOOL, offsetof(struct rm_opts, force),
     "remove a running container (killed first)"},
    {"volumes", 'v', CLI_OPT_BOOL, offsetof(struct rm_opts, volumes), "remove anonymous volumes"},
    {"link", 'l', CLI_OPT_BOOL, offsetof(struct rm_opts, link), "(legacy links; accepted)"},
    {0},
};

static int rm_one(struct cell_engine *e, const char *name, void *data, cell_err_t *err)
{
    return cell_engine_remove(e, name, *(bool *)data, err);
}

int cell_cmd_rm(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct rm_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    return for_each(ctx, args.argc, args.argv, rm_one, &o.force, true, err);
}

static int wait_one(struct cell_engine *e, const char *name, void *data, cell_err_t *err)
{
    (void)data;
    int code;
    if (cell_engine_wait(e, name, &code, err) < 0)
        return -1;
    printf("%d\n", code);
    return 0;
}

int cell_cmd_wait(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    return for_each(ctx, args.argc, args.argv, wait_one, NULL, false, err);
}

/* ---- logs ------------------------------------------------------------------------------ */

struct logs_opts {
    bool follow, timestamps, details;
    const char *tail, *since, *until;
};

const struct cli_option cell_logs_options[] = {
    {"follow", 'f', CLI_OPT_BOOL, offsetof(struct logs_opts, follow), "follow the log"},
    {"timestamps", 't', CLI_OPT_BOOL, offsetof(struct logs_opts, timestamps), "show timestamps"},
    {"details", 0, CLI_OPT_BOOL, offsetof(struct logs_opts, details), "show extra details"},
    {"tail", 'n', CLI_OPT_STRING, offsetof(struct logs_opts, tail), "lines from the end (all)"},
    {"since", 0, CLI_OPT_STRING, offsetof(struct logs_opts, since),
     "since a time or duration (10m)"},
    {"until", 0, CLI_OPT_STRING, offsetof(struct logs_opts, until), "until a time or duration"},
    {0},
};

struct follow_ctx {
    struct cell_engine *e;
    const char *id;
};

static bool still_running(void *data)
{
    struct follow_ctx *f = data;
    struct cell_ctr c;
    if (cell_ctr_open(f->e, f->id, false, &c, NULL) < 0)
        return false;
    const char *s = cell_state_status_of(c.rec);
    bool live = cell_state_live(s) && cell_state_monitor_alive(c.rec);
    cell_ctr_close(&c);
    return live;
}

static int parse_tail(const char *s, long *out, cell_err_t *err)
{
    if (!s || !strcmp(s, "all")) {
        *out = -1;
        return 0;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end)
        return cell_error(err, 0, "invalid argument \"%s\" for \"-n, --tail\" flag", s);
    *out = v < 0 ? -1 : v;
    return 0;
}

int cell_cmd_logs(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct logs_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, 1, err) < 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    struct cell_log_read_opts ro = {.timestamps = o.timestamps, .follow = o.follow};
    if (parse_tail(o.tail, &ro.tail, err) < 0 ||
        (o.since && cell_log_time_parse(o.since, now_ns, &ro.since_ns, err) < 0) ||
        (o.until && cell_log_time_parse(o.until, now_ns, &ro.until_ns, err) < 0))
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    struct cell_ctr c;
    int r = cell_ctr_open_name(e, args.argv[0], false, &c, err);
    if (r == 0) {
        struct follow_ctx f = {e, c.id};
        ro.running = still_running;
        ro.data = &f;
        fflush(stdout);
        r = cell_log_read(c.dirfd, "container.log", &ro, STDOUT_FILENO, STDERR_FILENO, err);
        cell_ctr_close(&c);
    }
    cell_engine_close(e);
    return r;
}

/* ---- inspect --------------------------------------------------------------------------- */

struct inspect_opts {
    const char *format, *type;
    bool size;
};

const struct cli_option cell_inspect_options[] = {
    {"format", 'f', CLI_OPT_STRING, offsetof(struct inspect_opts, format),
     "a Go template ({{.State.Pid}}), or json"},
    {"type", 0, CLI_OPT_STRING, offsetof(struct inspect_opts, type), "container or image"},
    {"size", 's', CLI_OPT_BOOL, offsetof(struct inspect_opts, size), "(accepted)"},
    {0},
};

/* A container first, then an image, as Docker looks. */
static int inspect_one(struct cell_engine *e, const char *name, const char *type, json_t **out,
                       cell_err_t *err)
{
    if (!type || !strcmp(type, "container")) {
        struct cell_ctr c;
        _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
        if (cell_ctr_open_name(e, name, true, &c, &e2) == 0) {
            cell_engine_refresh(e, &c);
            *out = cell_engine_inspect(e, &c);
            cell_ctr_close(&c);
            return 0;
        }
        if (type)
            return cell_error(err, 0, "%s", cell_error_text(&e2));
    }
    struct cell_image_store *s;
    _cleanup_err_ cell_err_t e3 = CELL_ERR_INIT;
    if (cell_engine_store(e, &s, err) < 0)
        return -1;
    if (cell_cli_image_inspect(s, name, out, &e3) == 0)
        return 0;
    /* Neither: the image layer's words say more ("invalid reference",
     * "no such image: x") than Docker's "No such object". */
    return cell_error(err, 0, "%s", cell_error_text(&e3));
}

int cell_cmd_inspect(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct inspect_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    if (o.type && strcmp(o.type, "container") && strcmp(o.type, "image"))
        return cell_error(err, 0, "\"%s\" is not a valid value for --type", o.type);
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    json_t *list = json_array();
    int r = 0;
    for (int i = 0; i < args.argc; i++) {
        json_t *one = NULL;
        _cleanup_err_ cell_err_t e1 = CELL_ERR_INIT;
        if (inspect_one(e, args.argv[i], o.type, &one, &e1) < 0) {
            if (r == 0)
                cell_error(err, 0, "%s", cell_error_text(&e1));
            r = -1;
            continue;
        }
        json_array_append_new(list, one);
    }
    int pr = cli_print_object_formatted(stdout, o.format, list, r < 0 ? NULL : err);
    json_decref(list);
    cell_engine_close(e);
    return r < 0 ? r : pr;
}

/* cell pause, unpause, top and events: looking at (and freezing) what runs. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "engine/engine.h"
#include "engine/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pause, unpause ------------------------------------------------------------- */

typedef int (*one_fn)(struct cell_engine *e, const char *name, cell_err_t *err);

/* Each container in turn, its name echoed when done; every error is told
 * (the first as the command's), as Docker's client joins them. */
static int each(const struct cli_ctx *ctx, int argc, char **argv, one_fn fn, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    int result = 0;
    for (int i = 0; i < args.argc; i++) {
        _cleanup_err_ cell_err_t one = CELL_ERR_INIT;
        if (fn(e, args.argv[i], &one) == 0) {
            printf("%s\n", args.argv[i]);
            continue;
        }
        if (result == 0)
            cell_error(err, 0, "%s", cell_error_text(&one));
        else
            fprintf(stderr, "cell: %s\n", cell_error_text(&one));
        result = -1;
    }
    cell_engine_close(e);
    return result;
}

int cell_cmd_pause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    return each(ctx, argc, argv, cell_engine_pause, err);
}

int cell_cmd_unpause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    return each(ctx, argc, argv, cell_engine_unpause, err);
}

/* ---- top ---------------------------------------------------------------------------- */

int cell_cmd_top(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    json_t *list = NULL;
    int r = cell_engine_top(e, args.argv[0], args.argv + 1, &list, err);
    cell_engine_close(e);
    if (r < 0)
        return -1;
    json_t *titles = json_object_get(list, "Titles"), *row;
    size_t ncols = json_array_size(titles), i;
    struct cli_table t = {.ncols = ncols};
    json_t *rows = json_array();
    json_array_append(rows, titles);
    json_array_extend(rows, json_object_get(list, "Processes"));
    const char **cells = calloc(ncols + 1, sizeof *cells);
    json_array_foreach(rows, i, row)
    {
        for (size_t k = 0; cells && k < ncols; k++) {
            const char *s = json_string_value(json_array_get(row, k));
            cells[k] = s ? s : "";
        }
        if (cells)
            cli_table_add_row(&t, cells);
    }
    /* Docker's client: tabwriter, cells at least 20 wide, 3 apart. */
    cli_table_print(stdout, &t, 20, 3);
    cli_table_clear(&t);
    free(cells);
    json_decref(rows);
    json_decref(list);
    return 0;
}

/* ---- events ------------------------------------------------------------------------- */

struct events_opts {
    const char *since, *until, *format;
    char **filter;
};

const struct cli_option cell_events_options[] = {
    {"since", 0, CLI_OPT_STRING, offsetof(struct events_opts, since),
     "show events since a time or duration (10m)"},
    {"until", 0, CLI_OPT_STRING, offsetof(struct events_opts, until),
     "stream events until a time or duration"},
    {"filter", 'f', CLI_OPT_STRV, offsetof(struct events_opts, filter),
     "filter (container=, event=, image=, label=, type=, scope=)"},
    {"format", 0, CLI_OPT_STRING, offsetof(struct events_opts, format), "json, or a Go template"},
    {0},
};

/* Docker's text line: local time with nine fraction digits, type, action,
 * id, and the attributes sorted: "... container start <id> (image=bb, name=web)". */
static void print_text(const json_t *ev)
{
    int64_t ns = json_integer_value(json_object_get(ev, "timeNano"));
    time_t secs = (time_t)(ns / 1000000000LL);
    struct tm tm;
    localtime_r(&secs, &tm);
    char when[40], zone[40] = "Z";
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (tm.tm_gmtoff != 0) {
        long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
        snprintf(zone, sizeof zone, "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600,
                 off / 60 % 60);
    }
    const json_t *actor = json_object_get(ev, "Actor");
    printf("%s.%09lld%s %s %s %s", when, (long long)(ns % 1000000000LL), zone,
           json_string_value(json_object_get(ev, "Type")),
           json_string_value(json_object_get(ev, "Action")),
           json_string_value(json_object_get(actor, "ID")));
    const json_t *attrs = json_object_get(actor, "Attributes");
    const char *k;
    json_t *v;
    bool first = true;
    /* The log keeps them sorted. */
    json_object_foreach((json_t *)attrs, k, v)
    {
        printf("%s%s=%s", first ? " (" : ", ", k, json_string_value(v));
        first = false;
    }
    printf("%s\n", first ? "" : ")");
}

/* A template sees Go's field names of Docker's events.Message, not the
 * JSON keys: .Status, .ID, .From, .Type, .Action, .Actor.ID,
 * .Actor.Attributes.name, .Scope, .Time, .TimeNano. */
static json_t *go_view(const json_t *ev)
{
    static const char *const names[][2] = {
        {"status", "Status"}, {"id", "ID"},         {"from", "From"},
        {"Type", "Type"},     {"Action", "Action"}, {"Actor", "Actor"},
        {"scope", "Scope"},   {"time", "Time"},     {"timeNano", "TimeNano"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        json_t *v = json_object_get(ev, names[i][0]);
        json_object_set_new(o, names[i][1], v ? json_incref(v) : json_string(""));
    }
    return o;
}

/* Docker checks a template on an empty event before it reads any. */
/* A field the event has no place for is an error before anything is read,
 * as Docker's typed events make it; a missing Attributes key is not (a map
 * in Docker too), so rendering itself is not strict. */
static int check_template(const char *format, cell_err_t *err)
{
    if (!format || !strcmp(format, "json"))
        return 0;
    json_t *empty =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s, s:s, s:s, s:s}}, "
                  "s:s, s:i, s:i}",
                  "status", "", "id", "", "from", "", "Type", "", "Action", "", "Actor", "ID", "",
                  "Attributes", "name", "", "image", "", "exitCode", "", "signal", "",
                  "execDuration", "", "scope", "", "time", 0, "timeNano", 0);
    json_t *view = go_view(empty);
    char *s = cell_cli_template_render(format, view, true, err);
    json_decref(view);
    json_decref(empty);
    free(s);
    return s ? 0 : -1;
}

struct printer {
    const char *format;
    cell_err_t *err;
};

static int print_event(const json_t *ev, void *data)
{
    struct printer *p = data;
    if (!p->format)
        print_text(ev);
    else if (!strcmp(p->format, "json")) {
        _cleanup_free_ char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
    } else {
        json_t *view = go_view(ev);
        _cleanup_free_ char *s = cell_cli_template_render(p->format, view, false, p->err);
        json_decref(view);
        if (!s)
            return -1;
        printf("%s\n", s);
    }
    /* Each event as it comes: a reader on a pipe is waiting for it. */
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

static int parse_times(const struct events_opts *o, struct cell_events_read_opts *ro,
                       cell_err_t *err)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (o->since && cell_log_time_parse(o->since, now_ns, &ro->since_ns, err) < 0)
        return -1;
    if (o->until && cell_log_time_parse(o->until, now_ns, &ro->until_ns, err) < 0)
        return -1;
    /* A --since of 0 (or the epoch) still means "from the start". */
    if (o->since && ro->since_ns == 0)
        ro->since_ns = 1;
    return 0;
}

int cell_cmd_events(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct events_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help) {
        cli_options_free(cell_events_options, &o);
        return args.help ? 0 : -1;
    }
    struct printer p = {o.format, err};
    if (p.format && (!strcmp(p.format, "{{json .}}") || !strcmp(p.format, "{{ json . }}")))
        p.format = "json";
    struct cell_events_read_opts ro = {
        .follow = true, .filters = o.filter, .fn = print_event, .data = &p};
    struct cell_engine *e = NULL;
    int r = cli_nargs(ctx, &args, 0, 0, err);
    if (r == 0)
        r = parse_times(&o, &ro, err);
    if (r == 0)
        r = cell_engine_event_filters_check(o.filter, err);
    if (r == 0)
        r = check_template(p.format, err);
    if (r == 0)
        r = cell_cli_engine_open(ctx, &e, err);
    if (r == 0)
        r = cell_engine_events_read(e, &ro, err);
    if (r == 0 && err->msg)
        r = -1; /* a template that failed on an event */
    cell_engine_close(e);
    cli_options_free(cell_events_options, &o);
    return r;
}

/* cell stats: Docker's table of what containers use (CPU %, memory, network,
 * block I/O, pids). Each figure needs two readings a second apart; on a
 * terminal the table is redrawn every second until interrupted, otherwise
 * (or with --no-stream) it is printed once. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "engine/engine.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct stats_opts {
    bool all, no_stream, no_trunc;
    const char *format;
};

const struct cli_option cell_stats_options[] = {
    {"all", 'a', CLI_OPT_BOOL, offsetof(struct stats_opts, all),
     "show all containers (default shows just running)"},
    {"no-stream", 0, CLI_OPT_BOOL, offsetof(struct stats_opts, no_stream),
     "print one reading and exit"},
    {"no-trunc", 0, CLI_OPT_BOOL, offsetof(struct stats_opts, no_trunc), "do not truncate output"},
    {"format", 0, CLI_OPT_STRING, offsetof(struct stats_opts, format),
     "table, json, or a Go template"},
    {0},
};

#define DEFAULT_FORMAT                                                                             \
    "table "                                                                                       \
    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}"      \
    "\t{{.PIDs}}"

/* One container followed: as named on the command line (Docker's
 * "Container" field), its id and the last two readings. */
struct target {
    char *container;
    char id[CELL_ENGINE_ID_SIZE];
    struct cell_stats_sample prev, cur;
    bool have_prev;
};

/* go-units' CustomSize: "%.<prec>g" of the size in the largest unit below
 * it. */
static void units_size(double size, double base, const char *const *units, int prec, char *buf,
                       size_t len)
{
    int i = 0;
    while (size >= base && units[i + 1]) {
        size /= base;
        i++;
    }
    snprintf(buf, len, "%.*g%s", prec, size, units[i]);
}

/* go-units' BytesSize (binary, 4 digits): "1.5MiB". */
static void bytes_size(int64_t v, char *buf, size_t len)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", NULL};
    units_size((double)v, 1024.0, u, 4, buf, len);
}

/* go-units' HumanSizeWithPrecision(v, 3) (decimal): "1.23kB". */
static void human_size(int64_t v, char *buf, size_t len)
{
    static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", NULL};
    units_size((double)v, 1000.0, u, 3, buf, len);
}

static json_t *row_of(struct cell_engine *e, const struct target *t, bool no_trunc)
{
    const struct cell_stats_sample *s = &t->cur;
    char cpu[32], mem[32], a[16], b[16], pair[40], net[40], blk[40], pids[24], id[80];
    snprintf(cpu, sizeof cpu, "%.2f%%",
             cell_engine_stats_cpu_percent(t->have_prev ? &t->prev : NULL, s));
    snprintf(mem, sizeof mem, "%.2f%%", cell_engine_stats_mem_percent(s));
    bytes_size(s->mem_usage, a, sizeof a);
    bytes_size(s->mem_limit, b, sizeof b);
    snprintf(pair, sizeof pair, "%s / %s", a, b);
    human_size(s->net_rx, a, sizeof a);
    human_size(s->net_tx, b, sizeof b);
    snprintf(net, sizeof net, "%s / %s", a, b);
    human_size(s->blk_read, a, sizeof a);
    human_size(s->blk_write, b, sizeof b);
    snprintf(blk, sizeof blk, "%s / %s", a, b);
    snprintf(pids, sizeof pids, "%lld", (long long)s->pids);
    snprintf(id, sizeof id, "%.*s", no_trunc ? CELL_ENGINE_ID_LEN : CELL_ENGINE_SHORT_ID_LEN,
             t->id);
    struct cell_ctr c;
    _cleanup_free_ char *name = NULL;
    if (cell_ctr_open(e, t->id, false, &c, NULL) == 0) {
        const char *n = json_string_value(json_object_get(c.rec, "Name"));
        name = n && *n ? strdup(n) : NULL;
        cell_ctr_close(&c);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk, "CPUPerc",
                     cpu, "Container", t->container, "ID", id, "MemPerc", mem, "MemUsage", pair,
                     "Name", name ? name : "--", "NetIO", net, "PIDs", pids);
}

/* ---- which containers ---------------------------------------------------------- */

static void targets_free(struct target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].container);
    free(t);
}

/* Named ones, each as given; a name that finds nothing is an error. */
static int targets_named(struct cell_engine *e, char **names, int n, struct target **out,
                         size_t *nout, cell_err_t *err)
{
    struct target *t = calloc((size_t)n + 1, sizeof *t);
    if (!t)
        return cell_error(err, ENOMEM, "stats");
    for (int i = 0; i < n; i++) {
        t[i].container = strdup(names[i]);
        if (cell_ctr_find(e, names[i], t[i].id, err) < 0) {
            targets_free(t, (size_t)n);
            return -1;
        }
    }
    *out = t;
    *nout = (size_t)n;
    return 0;
}

static bool is_running(struct cell_engine *e, const char *id)
{
    struct cell_ctr c;
    if (cell_ctr_open(e, id, true, &c, NULL) < 0)
        return false;
    cell_engine_refresh(e, &c);
    const char *s = cell_state_status_of(c.rec);
    bool r = !strcmp(s, "running") || !strcmp(s, "paused");
    cell_ctr_close(&c);
    return r;
}

/* Every running container (every one with -a), by short id; the readings
 * of those already followed are kept. */
static int targets_all(struct cell_engine *e, bool all, struct target **t, size_t *n,
                       cell_err_t *err)
{
    _cleanup_strv_ char **ids = NULL;
    if (cell_ctr_list(e, &ids, err) < 0)
        return -1;
    struct target *nt = calloc(cell_strv_len(ids) + 1, sizeof *nt);
    if (!nt)
        return cell_error(err, ENOMEM, "stats");
    size_t k = 0;
    for (char **id = ids; *id; id++) {
        if (!all && !is_running(e, *id))
            continue;
        struct target *old = NULL;
        for (size_t i = 0; i < *n && !old; i++)
            if (!strcmp((*t)[i].id, *id))
                old = &(*t)[i];
        if (old) {
            nt[k] = *old;
            old->container = NULL;
        } else {
            snprintf(nt[k].id, sizeof nt[k].id, "%s", *id);
            nt[k].container = strndup(*id, CELL_ENGINE_SHORT_ID_LEN);
        }
        k++;
    }
    targets_free(*t, *n);
    *t = nt;
    *n = k;
    return 0;
}

static void sample_all(struct cell_engine *e, struct target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t[i].prev = t[i].cur;
        t[i].have_prev = t[i].cur.when_ns != 0;
        cell_engine_stats_sample(e, t[i].id, &t[i].cur, NULL);
    }
}

/* ---- output --------------------------------------------------------------------- */

static bool is_json(const char *f)
{
    return f && (!strcmp(f, "json") || !strcmp(f, "{{json .}}") || !strcmp(f, "{{ json . }}"));
}

static int print_table(const char *tmpl, json_t *rows, cell_err_t *err)
{
    json_t *heads =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER", "Name",
                  "NAME", "ID", "CONTAINER ID", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
                  "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
    _cleanup_free_ char *head = cell_cli_template_render(tmpl, heads, true, err);
    json_decref(heads);
    if (!head)
        return -1;
    size_t ncols = 1;
    for (const char *p = head; *p; p++)
        ncols += *p == '\t';
    struct cli_table t = {.ncols = ncols};
    json_t *texts = json_array();
    json_array_append_new(texts, json_string(head));
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char *line = cell_cli_template_render(tmpl, row, true, err);
        if (!line) {
            json_decref(texts);
            return -1;
        }
        json_array_append_new(texts, json_string(line));
        free(line);
    }
    json_t *text;
    json_array_foreach(texts, i, text)
    {
        _cleanup_free_ char *copy = strdup(json_string_value(text));
        const char **cells = calloc(ncols, sizeof *cells);
        char *p = copy;
        for (size_t k = 0; k < ncols && cells; k++) {
            char *tab = p ? strchr(p, '\t') : NULL;
            if (tab)
                *tab = 0;
            cells[k] = p ? p : "";
            p = tab ? tab + 1 : NULL;
        }
        if (cells)
            cli_table_add_row(&t, cells);
        free(cells);
    }
    json_decref(texts);
    cli_table_print(stdout, &t, 10, 3);
    cli_table_clear(&t);
    return 0;
}

static int print_rows(const char *format, json_t *rows, cell_err_t *err)
{
    size_t i;
    json_t *row;
    if (is_json(format)) {
        json_array_foreach(rows, i, row)
        {
            _cleanup_free_ char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%s\n", s ? s : "{}");
        }
        return 0;
    }
    if (!format || !strcmp(format, "table"))
        format = DEFAULT_FORMAT;
    if (!strncmp(format, "table ", 6))
        return print_table(format + 6, rows, err);
    json_array_foreach(rows, i, row)
    {
        _cleanup_free_ char *s = cell_cli_template_render(format, row, true, err);
        if (!s)
            return -1;
        printf("%s\n", s);
    }
    return 0;
}

static int show(struct cell_engine *e, const struct stats_opts *o, struct target *t, size_t n,
                bool clear, cell_err_t *err)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, row_of(e, &t[i], o->no_trunc));
    if (clear)
        fputs("\033[2J\033[H", stdout); /* Docker's redraw: clear, cursor home */
    int r = print_rows(o->format, rows, err);
    json_decref(rows);
    fflush(stdout);
    return r;
}

static void sleep_s(int s)
{
    struct timespec ts = {s, 0};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int stats_loop(struct cell_engine *e, const struct stats_opts *o, struct target *t, size_t n,
                      bool named, cell_err_t *err)
{
    bool stream = !o->no_stream && isatty(STDOUT_FILENO);
    sample_all(e, t, n);
    for (;;) {
        sleep_s(1);
        if (!named && targets_all(e, o->all, &t, &n, err) < 0)
            break;
        sample_all(e, t, n);
        if (show(e, o, t, n, stream, err) < 0 || !stream) {
            targets_free(t, n);
            return err->msg ? -1 : 0;
        }
    }
    targets_free(t, n);
    return -1;
}

int cell_cmd_stats(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct stats_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    /* A bad template fails before anything is read. */
    if (o.format && !is_json(o.format) && strcmp(o.format, "table") != 0) {
        const char *f = strncmp(o.format, "table ", 6) ? o.format : o.format + 6;
        json_t *empty = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", "",
                                  "CPUPerc", "", "Container", "", "ID", "", "MemPerc", "",
                                  "MemUsage", "", "Name", "", "NetIO", "", "PIDs", "");
        _cleanup_free_ char *probe = cell_cli_template_render(f, empty, true, err);
        json_decref(empty);
        if (!probe)
            return -1;
    }
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    struct target *t = NULL;
    size_t n = 0;
    int r = args.argc ? targets_named(e, args.argv, args.argc, &t, &n, err)
                      : targets_all(e, o.all, &t, &n, err);
    if (r == 0)
        r = stats_loop(e, &o, t, n, args.argc > 0, err);
    cell_engine_close(e);
    return r;
}

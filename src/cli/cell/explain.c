/* cell explain CONTAINER: a running container's cage, drawn in sections
 * of aligned lines (namespaces, cgroup, capabilities, seccomp, user,
 * filesystem, and how to join it), or as one JSON object with
 * --format json. The facts come from cell_engine_explain; this file only
 * draws them. Colors only on a terminal, and never with NO_COLOR set. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "engine/engine.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct explain_opts {
    const char *format;
};

const struct cli_option cell_explain_options[] = {
    {"format", 'f', CLI_OPT_STRING, offsetof(struct explain_opts, format),
     "text (default) or json"},
    {0},
};

#define KEY_WIDTH 13

struct draw {
    FILE *out;
    bool color;
    size_t width; /* of a line, for wrapping lists */
};

static const char *paint(const struct draw *d, const char *code)
{
    return d->color ? code : "";
}
#define BOLD   "\033[1m"
#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define DIM    "\033[2m"
#define RESET  "\033[0m"

static void title(const struct draw *d, const char *name, const char *note)
{
    fprintf(d->out, "\n%s%s%s", paint(d, BOLD), name, paint(d, RESET));
    if (note && *note)
        fprintf(d->out, "  %s%s%s", paint(d, DIM), note, paint(d, RESET));
    fputc('\n', d->out);
}

static void kv(const struct draw *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void kv(const struct draw *d, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(d->out, "  %-*s ", KEY_WIDTH, key);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
}

/* A list of strings after the key, wrapped under the value column; empty
 * says "none". */
static void kv_list(const struct draw *d, const char *key, const json_t *list, const char *suffix)
{
    size_t indent = 2 + KEY_WIDTH + 1, col = indent, i;
    const json_t *v;
    fprintf(d->out, "  %-*s", KEY_WIDTH, key);
    if (!json_array_size(list))
        fprintf(d->out, " none");
    json_array_foreach(list, i, v)
    {
        size_t n = strlen(json_string_value(v));
        if (i > 0 && col + 1 + n > d->width) {
            fprintf(d->out, "\n%*s", (int)indent - 1, "");
            col = indent - 1;
        }
        fprintf(d->out, " %s", json_string_value(v));
        col += 1 + n;
    }
    fprintf(d->out, "%s%s%s%s\n", suffix ? "  " : "", paint(d, DIM), suffix ? suffix : "",
            paint(d, RESET));
}

/* "64MiB", "508KiB": sizes as `docker stats` prints them. */
static void iec(json_int_t b, char buf[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024;
        u++;
    }
    snprintf(buf, 32, "%.4g%s", v, units[u]);
}

static json_t *at(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

/* ---- sections ------------------------------------------------------------------------ */

static void draw_namespaces(const struct draw *d, const json_t *x)
{
    char note[64];
    snprintf(note, sizeof note, "host's view: %s/ns",
             json_string_value(at(x, "HostNamespaces", NULL)));
    title(d, "Namespaces", note);
    static const char *const order[] = {"pid", "net",    "ipc",  "uts",
                                        "mnt", "cgroup", "user", "time"};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        const json_t *ns = at(x, "Namespaces", order[i]);
        const json_t *ino = json_object_get(ns, "Inode");
        bool private = json_is_true(json_object_get(ns, "Private"));
        if (!json_is_integer(ino)) {
            kv(d, order[i], "%s(not in this kernel)%s", paint(d, DIM), paint(d, RESET));
            continue;
        }
        char host[48] = "";
        if (private)
            snprintf(host, sizeof host, "  %shost %lld%s", paint(d, DIM),
                     (long long)json_integer_value(json_object_get(ns, "HostInode")),
                     paint(d, RESET));
        /* The inode column is padded only when the host's follows it. */
        kv(d, order[i], "%s%-8s%s %-*lld%s", paint(d, private ? GREEN : YELLOW),
           private ? "private" : "shared", paint(d, RESET), private ? 11 : 0,
           (long long)json_integer_value(ino), host);
    }
}

static void draw_memory(const struct draw *d, const json_t *m)
{
    char lim[48] = "no limit", cur[32] = "?", peak[48] = "";
    if (json_is_integer(json_object_get(m, "Limit"))) {
        iec(json_integer_value(json_object_get(m, "Limit")), lim);
        strcat(lim, " limit");
    }
    if (json_is_integer(json_object_get(m, "Current")))
        iec(json_integer_value(json_object_get(m, "Current")), cur);
    if (json_is_integer(json_object_get(m, "Peak"))) {
        char p[32];
        iec(json_integer_value(json_object_get(m, "Peak")), p);
        snprintf(peak, sizeof peak, ", %s peak", p);
    }
    kv(d, "memory", "%s, %s now%s", lim, cur, peak);
    const json_t *ooms = json_object_get(m, "OOMKills");
    if (json_is_integer(ooms))
        kv(d, "oom kills", "%lld", (long long)json_integer_value(ooms));
}

static void draw_cpu(const struct draw *d, const json_t *c)
{
    char limit[96] = "no limit", used[48] = "", thr[64] = "";
    const json_t *cpus = json_object_get(c, "CPUs");
    if (json_is_real(cpus))
        snprintf(limit, sizeof limit, "%g CPUs (quota %lld of %lld us)", json_real_value(cpus),
                 (long long)json_integer_value(json_object_get(c, "Quota")),
                 (long long)json_integer_value(json_object_get(c, "Period")));
    if (json_is_integer(json_object_get(c, "UsageNs")))
        snprintf(used, sizeof used, ", %.3fs used",
                 (double)json_integer_value(json_object_get(c, "UsageNs")) / 1e9);
    if (json_is_integer(json_object_get(c, "Throttled")) && json_is_real(cpus))
        snprintf(thr, sizeof thr, ", throttled in %lld of %lld periods",
                 (long long)json_integer_value(json_object_get(c, "Throttled")),
                 (long long)json_integer_value(json_object_get(c, "Periods")));
    kv(d, "cpu", "%s%s%s", limit, used, thr);
}

static void draw_pids(const struct draw *d, const json_t *p)
{
    char max[32] = "no limit", peak[32] = "";
    if (json_is_integer(json_object_get(p, "Max")))
        snprintf(max, sizeof max, "%lld max",
                 (long long)json_integer_value(json_object_get(p, "Max")));
    if (json_is_integer(json_object_get(p, "Peak")))
        snprintf(peak, sizeof peak, ", %lld peak",
                 (long long)json_integer_value(json_object_get(p, "Peak")));
    kv(d, "pids", "%s, %lld now%s", max,
       (long long)json_integer_value(json_object_get(p, "Current")), peak);
}

static void draw_cgroup(const struct draw *d, const json_t *x)
{
    const json_t *cg = json_object_get(x, "Cgroup");
    char note[48];
    snprintf(note, sizeof note, "cgroup %s", json_string_value(json_object_get(cg, "Layout")));
    title(d, "Cgroup", note);
    const char *path = json_string_value(json_object_get(cg, "Path"));
    kv(d, "path", "%s", path ? path : "?");
    if (json_is_object(json_object_get(cg, "Memory")))
        draw_memory(d, json_object_get(cg, "Memory"));
    if (json_is_object(json_object_get(cg, "CPU")))
        draw_cpu(d, json_object_get(cg, "CPU"));
    if (json_is_object(json_object_get(cg, "Pids")))
        draw_pids(d, json_object_get(cg, "Pids"));
}

static void draw_caps(const struct draw *d, const json_t *x)
{
    const json_t *caps = json_object_get(x, "Capabilities");
    json_int_t known = json_integer_value(json_object_get(caps, "Known"));
    const json_t *eff = json_object_get(caps, "Effective");
    char note[64];
    snprintf(note, sizeof note, "%zu of the kernel's %lld effective", json_array_size(eff),
             (long long)known);
    title(d, "Capabilities", note);
    static const char *const sets[][2] = {{"effective", "Effective"},
                                          {"permitted", "Permitted"},
                                          {"bounding", "Bounding"},
                                          {"inheritable", "Inheritable"},
                                          {"ambient", "Ambient"}};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        const json_t *set = json_object_get(caps, sets[i][1]);
        if (i > 0 && json_array_size(set) && json_equal((json_t *)set, (json_t *)eff)) {
            kv(d, sets[i][0], "same as effective");
            continue;
        }
        char count[32];
        snprintf(count, sizeof count, "(%zu)", json_array_size(set));
        kv_list(d, sets[i][0], set, json_array_size(set) ? count : NULL);
    }
}

static void draw_seccomp(const struct draw *d, const json_t *x)
{
    const json_t *sc = json_object_get(x, "Seccomp");
    title(d, "Seccomp", NULL);
    json_int_t mode = json_integer_value(json_object_get(sc, "Mode"));
    json_int_t filters = json_integer_value(json_object_get(sc, "Filters"));
    kv(d, "mode", "%s%s (%lld)%s, %lld filter%s attached", paint(d, mode ? GREEN : YELLOW),
       json_string_value(json_object_get(sc, "ModeName")), (long long)mode, paint(d, RESET),
       (long long)filters, filters == 1 ? "" : "s");
    const json_t *p = json_object_get(sc, "Profile");
    if (json_is_object(p))
        kv(d, "profile", "%s by default; %lld rules naming %lld syscalls",
           json_string_value(json_object_get(p, "DefaultAction")),
           (long long)json_integer_value(json_object_get(p, "Rules")),
           (long long)json_integer_value(json_object_get(p, "Syscalls")));
    else
        kv(d, "profile", "none (unconfined)");
    kv(d, "no_new_privs", "%s", json_is_true(json_object_get(x, "NoNewPrivs")) ? "yes" : "no");
}

static void id_line(const struct draw *d, const char *key, const json_t *in, const json_t *host)
{
    char inside[32] = "unmapped";
    if (json_is_integer(in))
        snprintf(inside, sizeof inside, "%lld", (long long)json_integer_value(in));
    kv(d, key, "%s  %s(host %lld)%s", inside, paint(d, DIM), (long long)json_integer_value(host),
       paint(d, RESET));
}

static void map_lines(const struct draw *d, const char *key, const json_t *map)
{
    size_t i;
    const json_t *m;
    json_array_foreach(map, i, m)
    {
        json_int_t in = json_integer_value(json_object_get(m, "ContainerID"));
        json_int_t out = json_integer_value(json_object_get(m, "HostID"));
        json_int_t n = json_integer_value(json_object_get(m, "Size"));
        kv(d, i ? "" : key, "%lld-%lld -> host %lld-%lld%s", (long long)in, (long long)(in + n - 1),
           (long long)out, (long long)(out + n - 1),
           in == 0 && out == 0 && n == 4294967295LL ? "  (the host's own ids)" : "");
    }
    if (!json_array_size(map))
        kv(d, key, "none");
}

static void draw_user(const struct draw *d, const json_t *x)
{
    const json_t *u = json_object_get(x, "User");
    title(d, "User", NULL);
    id_line(d, "uid", json_object_get(u, "Uid"), json_object_get(u, "HostUid"));
    id_line(d, "gid", json_object_get(u, "Gid"), json_object_get(u, "HostGid"));
    map_lines(d, "uid map", json_object_get(u, "UidMap"));
    map_lines(d, "gid map", json_object_get(u, "GidMap"));
}

static void draw_filesystem(const struct draw *d, const json_t *x)
{
    const json_t *r = json_object_get(x, "RootFs");
    title(d, "Filesystem", NULL);
    const char *type = json_string_value(json_object_get(r, "Type"));
    bool ro = json_is_true(json_object_get(r, "ReadOnly"));
    kv(d, "root", "%s, %s%s%s", type ? type : "?", paint(d, ro ? GREEN : YELLOW),
       ro ? "read-only" : "read-write", paint(d, RESET));
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(r, "LowerDirs"), i, l)
        kv(d, i ? "" : "lower", "%s", json_string_value(l));
    static const char *const dirs[][2] = {
        {"upper", "UpperDir"}, {"work", "WorkDir"}, {"merged", "MergedDir"}};
    for (size_t k = 0; k < ARRAY_SIZE(dirs); k++)
        if (json_is_string(json_object_get(r, dirs[k][1])))
            kv(d, dirs[k][0], "%s", json_string_value(json_object_get(r, dirs[k][1])));
    kv_list(d, "masked", json_object_get(x, "MaskedPaths"), NULL);
    kv_list(d, "read-only", json_object_get(x, "ReadonlyPaths"), NULL);
}

static void draw(const struct draw *d, const json_t *x)
{
    const char *id = json_string_value(json_object_get(x, "Id"));
    fprintf(d->out, "%sContainer %s%s  %.12s  init pid %lld\n", paint(d, BOLD),
            json_string_value(json_object_get(x, "Name")), paint(d, RESET), id,
            (long long)json_integer_value(json_object_get(x, "Pid")));
    draw_namespaces(d, x);
    draw_cgroup(d, x);
    draw_caps(d, x);
    draw_seccomp(d, x);
    draw_user(d, x);
    draw_filesystem(d, x);
    title(d, "Join",
          "its own namespaces, root and working directory; not its cgroup, "
          "capabilities or seccomp");
    fprintf(d->out, "  %s\n", json_string_value(json_object_get(x, "Nsenter")));
}

static size_t terminal_width(bool tty)
{
    struct winsize ws;
    if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 100;
}

int cell_cmd_explain(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct explain_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, 1, err) < 0)
        return -1;
    bool json = o.format && !strcmp(o.format, "json");
    if (o.format && !json && strcmp(o.format, "text"))
        return cell_error(err, 0, "explain: unknown --format \"%s\" (text or json)", o.format);
    struct cell_engine *e = NULL;
    if (cell_cli_engine_open(ctx, &e, err) < 0)
        return -1;
    struct cell_ctr c;
    json_t *x = NULL;
    if (cell_ctr_open_name(e, args.argv[0], true, &c, err) == 0) {
        cell_engine_refresh(e, &c);
        x = cell_engine_explain(e, &c, err);
        cell_ctr_close(&c);
    }
    cell_engine_close(e);
    if (!x)
        return -1;
    bool tty = isatty(STDOUT_FILENO);
    /* no-color.org: NO_COLOR set to anything but "" turns color off. */
    const char *no_color = getenv("NO_COLOR");
    struct draw d = {stdout, tty && !(no_color && *no_color), terminal_width(tty)};
    if (json)
        cli_print_json(stdout, x, 0, NULL);
    else
        draw(&d, x);
    json_decref(x);
    return 0;
}

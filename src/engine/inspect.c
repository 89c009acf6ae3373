/* What `inspect` and `ps` show of a container, in Docker's shapes. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "engine/monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cell_engine_time_parse(const char *s)
{
    struct tm tm = {0};
    const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest || tm.tm_year < 70)
        return 0;
    int64_t ns = (int64_t)timegm(&tm) * 1000000000LL;
    if (*rest == '.') {
        int64_t frac = 0, scale = 100000000;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
            frac += (*rest - '0') * scale;
        ns += frac;
    }
    return ns;
}

void cell_engine_human_duration(int64_t s, char buf[48])
{
    int64_t min = s / 60, h = s / 3600;
    if (s < 1)
        snprintf(buf, 48, "Less than a second");
    else if (s == 1)
        snprintf(buf, 48, "1 second");
    else if (s < 60)
        snprintf(buf, 48, "%lld seconds", (long long)s);
    else if (min == 1)
        snprintf(buf, 48, "About a minute");
    else if (min < 60)
        snprintf(buf, 48, "%lld minutes", (long long)min);
    else if (h < 2)
        snprintf(buf, 48, "About an hour");
    else if (h < 48)
        snprintf(buf, 48, "%lld hours", (long long)h);
    else if (h < 24 * 7 * 2)
        snprintf(buf, 48, "%lld days", (long long)(h / 24));
    else if (h < 24 * 30 * 2)
        snprintf(buf, 48, "%lld weeks", (long long)(h / 24 / 7));
    else if (h < 24 * 365 * 2)
        snprintf(buf, 48, "%lld months", (long long)(h / 24 / 30));
    else
        snprintf(buf, 48, "%lld years", (long long)(h / 24 / 365));
}

static int64_t seconds_since(const char *t)
{
    int64_t ns = cell_engine_time_parse(t);
    if (!ns)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec - ns / 1000000000LL;
}

/* "64MiB": a memory limit as ps -a tells an OOM kill. */
static void iec_size(int64_t b, char buf[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(buf, 32, "%.4g%s", v, units[u]);
}

/* Docker's words after "Up ...": " (Paused)", else the health of a
 * container that has checks. */
static const char *health_suffix(const char *status, const json_t *st)
{
    if (!strcmp(status, "paused"))
        return " (Paused)";
    const char *h = json_string_value(json_object_get(json_object_get(st, "Health"), "Status"));
    if (!h)
        return "";
    if (!strcmp(h, "starting"))
        return " (health: starting)";
    return !strcmp(h, "healthy") ? " (healthy)" : !strcmp(h, "unhealthy") ? " (unhealthy)" : "";
}

static void status_text(const json_t *rec, char *buf, size_t size)
{
    const json_t *st = json_object_get(rec, "State");
    const char *status = cell_state_status_of(rec);
    char ago[48];
    json_int_t code = json_integer_value(json_object_get(st, "ExitCode"));
    if (!strcmp(status, "running") || !strcmp(status, "paused")) {
        cell_engine_human_duration(
            seconds_since(json_string_value(json_object_get(st, "StartedAt"))), ago);
        snprintf(buf, size, "Up %s%s", ago, health_suffix(status, st));
    } else if (!strcmp(status, "restarting")) {
        cell_engine_human_duration(
            seconds_since(json_string_value(json_object_get(st, "FinishedAt"))), ago);
        snprintf(buf, size, "Restarting (%lld) %s ago", (long long)code, ago);
    } else if (!strcmp(status, "exited")) {
        cell_engine_human_duration(
            seconds_since(json_string_value(json_object_get(st, "FinishedAt"))), ago);
        int n = snprintf(buf, size, "Exited (%lld) %s ago", (long long)code, ago);
        json_int_t limit =
            json_integer_value(json_object_get(json_object_get(rec, "HostConfig"), "Memory"));
        if (json_is_true(json_object_get(st, "OOMKilled")) && n > 0 && (size_t)n < size) {
            char lim[32] = "its limit";
            if (limit > 0)
                iec_size(limit, lim);
            snprintf(buf + n, size - (size_t)n, " (OOM-killed at %s)", lim);
        }
    } else if (!strcmp(status, "created"))
        snprintf(buf, size, "Created");
    else if (json_is_true(json_object_get(rec, "Removing")))
        snprintf(buf, size, "Removal In Progress");
    else
        snprintf(buf, size, "Dead");
}

/* Docker's %q of a command line: quotes and backslashes escaped. */
static char *quoted(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '"';
    *p = 0;
    return out;
}

static char *command_text(const json_t *rec, bool no_trunc)
{
    size_t cap = 256, len = 0;
    char *s = calloc(1, cap);
    const char *path = json_string_value(json_object_get(rec, "Path"));
    json_t *words = json_array();
    json_array_append_new(words, json_string(path ? path : ""));
    json_array_extend(words, json_object_get(rec, "Args"));
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w)
    {
        const char *t = json_string_value(w);
        size_t tl = t ? strlen(t) : 0;
        while (s && len + tl + 2 > cap) {
            cap *= 2;
            s = realloc(s, cap);
        }
        if (!s)
            break;
        if (i)
            s[len++] = ' ';
        memcpy(s + len, t ? t : "", tl);
        len += tl;
        s[len] = 0;
    }
    json_decref(words);
    if (s && !no_trunc && strlen(s) > 20) {
        /* Docker's Ellipsis: 19 characters and "…". */
        strcpy(s + 19, "\xe2\x80\xa6");
    }
    char *q = s ? quoted(s) : NULL;
    free(s);
    return q;
}

json_t *cell_engine_ps_row(struct cell_engine *e, const struct cell_ctr *c, bool no_trunc)
{
    (void)e;
    const json_t *rec = c->rec;
    char status[160], ago[48], shortid[CELL_ENGINE_SHORT_ID_LEN + 1];
    status_text(rec, status, sizeof status);
    const char *created = json_string_value(json_object_get(rec, "Created"));
    cell_engine_human_duration(seconds_since(created), ago);
    char running_for[64];
    snprintf(running_for, sizeof running_for, "%s ago", ago);
    memcpy(shortid, c->id, CELL_ENGINE_SHORT_ID_LEN);
    shortid[CELL_ENGINE_SHORT_ID_LEN] = 0;
    _cleanup_free_ char *cmd = command_text(rec, no_trunc);
    const char *image = json_string_value(json_object_get(rec, "ImageName"));
    const char *name = json_string_value(json_object_get(rec, "Name"));
    json_t *labels = json_object_get(json_object_get(rec, "Config"), "Labels");
    char created_at[64] = "";
    int64_t cns = cell_engine_time_parse(created);
    if (cns) {
        time_t t = (time_t)(cns / 1000000000LL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(created_at, sizeof created_at, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
    }
    json_t *label_text = json_string("");
    if (json_is_object(labels) && json_object_size(labels)) {
        size_t cap = 1;
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v) cap += strlen(k) + strlen(json_string_value(v)) + 2;
        char *t = calloc(1, cap);
        json_object_foreach(labels, k, v)
        {
            if (t && *t)
                strcat(t, ",");
            if (t) {
                strcat(t, k);
                strcat(t, "=");
                strcat(t, json_string_value(v));
            }
        }
        json_decref(label_text);
        label_text = json_string(t ? t : "");
        free(t);
    }
    /* Docker's keys, in its (sorted) order. */
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "Command", cmd ? cmd : "\"\"", "CreatedAt", created_at, "ID",
                     no_trunc ? c->id : shortid, "Image", image ? image : "", "Labels", label_text,
                     "LocalVolumes", "0", "Mounts", "", "Names", name ? name : "", "Networks", "",
                     "Ports", "", "RunningFor", running_for, "Size", "0B", "State",
                     cell_state_status_of(rec), "Status", status);
}

json_t *cell_engine_inspect(struct cell_engine *e, const struct cell_ctr *c)
{
    const json_t *rec = c->rec;
    json_t *o = json_object();
    const char *name = json_string_value(json_object_get(rec, "Name"));
    char slashed[300];
    snprintf(slashed, sizeof slashed, "/%s", name ? name : "");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/containers/%s", e->root, c->id);
    char path[4200];
    json_object_set_new(o, "Id", json_string(c->id));
    json_object_set(o, "Created", json_object_get(rec, "Created"));
    json_object_set(o, "Path", json_object_get(rec, "Path"));
    json_object_set(o, "Args", json_object_get(rec, "Args"));
    json_t *state = json_deep_copy(json_object_get(rec, "State"));
    json_object_set_new(state, "OOMKilled",
                        json_boolean(json_is_true(json_object_get(state, "OOMKilled"))));
    json_object_set_new(o, "State", state ? state : json_object());
    json_object_set(o, "Image", json_object_get(rec, "Image"));
    snprintf(path, sizeof path, "%s/resolv.conf", dir);
    json_object_set_new(o, "ResolvConfPath", json_string(path));
    snprintf(path, sizeof path, "%s/hostname", dir);
    json_object_set_new(o, "HostnamePath", json_string(path));
    snprintf(path, sizeof path, "%s/hosts", dir);
    json_object_set_new(o, "HostsPath", json_string(path));
    snprintf(path, sizeof path, "%s/container.log", dir);
    json_object_set_new(o, "LogPath", json_string(path));
    json_object_set_new(o, "Name", json_string(slashed));
    json_object_set_new(o, "RestartCount",
                        json_integer(json_integer_value(json_object_get(rec, "RestartCount"))));
    json_object_set_new(o, "Driver", json_string("overlay"));
    json_object_set_new(o, "Platform", json_string("linux"));
    json_object_set_new(o, "MountLabel", json_string(""));
    json_object_set_new(o, "ProcessLabel", json_string(""));
    json_object_set_new(o, "AppArmorProfile", json_string(""));
    json_object_set_new(o, "ExecIDs", json_null());
    json_object_set(o, "HostConfig", json_object_get(rec, "HostConfig"));
    json_t *gd = json_object_get(rec, "GraphDriver");
    json_object_set_new(o, "GraphDriver",
                        gd ? json_incref(gd) : json_pack("{s:s}", "Name", "overlay"));
    json_t *mounts = json_object_get(rec, "Mounts");
    json_object_set_new(o, "Mounts", mounts ? json_incref(mounts) : json_array());
    json_object_set(o, "Config", json_object_get(rec, "Config"));
    json_t *ns = json_object_get(rec, "NetworkSettings");
    json_object_set_new(o, "NetworkSettings",
                        ns ? json_incref(ns) : json_pack("{s:{}}", "Networks"));
    return o;
}

/* Container events, as Docker's `events` shows them: one JSON object per
 * line appended to <root>/events.log by whichever process did the thing
 * (there is no daemon to hold them in memory), read back and followed by
 * `cell events`.
 *
 * A line is written with one write(2) on an O_APPEND descriptor, so lines
 * from concurrent commands never interleave. The log is bounded: past
 * EVENTS_MAX bytes it is renamed to events.log.1 (the one older file kept)
 * and a new one begins. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_LOG "events.log"
#define EVENTS_OLD "events.log.1"
#define EVENTS_MAX (1024 * 1024)

/* ---- writing ------------------------------------------------------------------- */

/* Docker's attributes: the container's labels, then image and name, then
 * the action's own (exitCode, signal, ...). Sorted by key, as Go prints a
 * map. */
static json_t *attributes(const json_t *rec, json_t *extra)
{
    json_t *all = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(rec, "Config"), "Labels"), k,
                        v) if (json_is_string(v)) json_object_set(all, k, v);
    const char *image = json_string_value(json_object_get(rec, "ImageName"));
    const char *name = json_string_value(json_object_get(rec, "Name"));
    json_object_set_new(all, "image", json_string(image ? image : ""));
    json_object_set_new(all, "name", json_string(name ? name : ""));
    json_object_update(all, extra);
    /* Insertion order is print order (JSON_PRESERVE_ORDER): insert sorted. */
    size_t n = json_object_size(all), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    json_object_foreach(all, k, v) if (keys) keys[i++] = k;
    for (size_t a = 1; keys && a < n; a++)
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *t = keys[b];
            keys[b] = keys[b - 1];
            keys[b - 1] = t;
        }
    json_t *sorted = json_object();
    for (i = 0; keys && i < n; i++)
        json_object_set(sorted, keys[i], json_object_get(all, keys[i]));
    free(keys);
    json_decref(all);
    return sorted;
}

static json_t *event_object(const char *id, const char *action, const json_t *rec, json_t *extra)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const char *image = json_string_value(json_object_get(rec, "ImageName"));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "status", action,
                     "id", id, "from", image ? image : "", "Type", "container", "Action", action,
                     "Actor", "ID", id, "Attributes", attributes(rec, extra), "scope", "local",
                     "time", (json_int_t)now.tv_sec, "timeNano",
                     (json_int_t)now.tv_sec * 1000000000LL + now.tv_nsec);
}

/* Renames a full log away, once: of racing writers the first to hold the
 * file's lock renames it, the others find the name on a new file. */
static void rotate(int rootfd, int fd)
{
    struct stat a, b;
    if (flock(fd, LOCK_EX) < 0)
        return;
    if (fstatat(rootfd, EVENTS_LOG, &b, 0) == 0 && fstat(fd, &a) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev && b.st_size >= EVENTS_MAX)
        renameat(rootfd, EVENTS_LOG, rootfd, EVENTS_OLD);
    flock(fd, LOCK_UN);
}

static int open_log(int rootfd)
{
    int fd = openat(rootfd, EVENTS_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= EVENTS_MAX) {
        rotate(rootfd, fd);
        close(fd);
        fd = openat(rootfd, EVENTS_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    return fd;
}

static void append_line(struct cell_engine *e, const json_t *ev)
{
    _cleanup_free_ char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n';
    _cleanup_close_ int fd = open_log(e->rootfd);
    /* One write: O_APPEND makes it land whole after every other line. */
    if (fd >= 0 && write(fd, text, len + 1) < 0)
        return;
}

void cell_engine_event(struct cell_engine *e, const char *id, const char *action, const json_t *rec,
                       json_t *extra_attrs)
{
    struct cell_ctr c = {.dirfd = -1};
    if (!rec && cell_ctr_open(e, id, false, &c, NULL) == 0)
        rec = c.rec;
    json_t *ev = event_object(id, action, rec, extra_attrs);
    if (ev)
        append_line(e, ev);
    json_decref(ev);
    json_decref(extra_attrs);
    if (c.dirfd >= 0)
        cell_ctr_close(&c);
}

void cell_engine_event_signal(struct cell_engine *e, const char *id, const json_t *rec, int sig)
{
    char s[16];
    snprintf(s, sizeof s, "%d", sig);
    cell_engine_event(e, id, "kill", rec, json_pack("{s:s}", "signal", s));
}

static void event_die(struct cell_engine *e, const char *id, const json_t *rec, int exit_code)
{
    const char *started =
        json_string_value(json_object_get(json_object_get(rec, "State"), "StartedAt"));
    int64_t t0 = cell_engine_time_parse(started);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long secs = t0 ? (long long)now.tv_sec - t0 / 1000000000LL : 0;
    char code[16], dur[24];
    snprintf(code, sizeof code, "%d", exit_code);
    snprintf(dur, sizeof dur, "%lld", secs < 0 ? 0 : secs);
    cell_engine_event(e, id, "die", rec,
                      json_pack("{s:s, s:s}", "execDuration", dur, "exitCode", code));
}

void cell_engine_event_exit(struct cell_engine *e, const char *id, int exit_code, bool oom)
{
    struct cell_ctr c;
    if (cell_ctr_open(e, id, false, &c, NULL) < 0)
        return;
    if (oom)
        cell_engine_event(e, id, "oom", c.rec, NULL);
    event_die(e, id, c.rec, exit_code);
    cell_ctr_close(&c);
}

void cell_engine_event_destroy(struct cell_engine *e, const struct cell_ctr *c)
{
    /* A create that failed half-way is undone with no event, as Docker
     * logs none: its record never got the root filesystem's GraphDriver. */
    if (!json_object_get(c->rec, "GraphDriver"))
        return;
    const char *s = cell_state_status_of(c->rec);
    if (!strcmp(s, "running") || !strcmp(s, "paused") || !strcmp(s, "restarting")) {
        /* rm -f kills what runs (the monitor goes too, so no one else tells
         * of the end): Docker's kill and die come before the destroy. */
        cell_engine_event_signal(e, c->id, c->rec, SIGKILL);
        event_die(e, c->id, c->rec, 137);
    }
    cell_engine_event(e, c->id, "destroy", c->rec, NULL);
}

/* ---- filters --------------------------------------------------------------------- */

static const char *const filter_keys[] = {"container", "event", "image", "label", "type", "scope"};

int cell_engine_event_filters_check(char **filters, cell_err_t *err)
{
    for (char **f = filters; f && *f; f++) {
        const char *eq = strchr(*f, '=');
        bool ok = false;
        for (size_t i = 0; eq && i < ARRAY_SIZE(filter_keys); i++)
            ok |= strlen(filter_keys[i]) == (size_t)(eq - *f) &&
                  !strncmp(*f, filter_keys[i], (size_t)(eq - *f));
        if (!ok)
            return cell_error(err, 0, "invalid filter '%s'", *f);
    }
    return 0;
}

static const char *attr(const json_t *ev, const char *key)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(ev, "Actor"), "Attributes"), key));
    return v ? v : "";
}

static bool filter_one(const json_t *ev, const char *key, const char *val)
{
    const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
    if (!strcmp(key, "container"))
        return (id && !strncmp(id, val, strlen(val))) || !strcmp(attr(ev, "name"), val);
    if (!strcmp(key, "event"))
        return !strcmp(json_string_value(json_object_get(ev, "Action")), val);
    if (!strcmp(key, "image"))
        return !strcmp(attr(ev, "image"), val);
    if (!strcmp(key, "type"))
        return !strcmp(json_string_value(json_object_get(ev, "Type")), val);
    if (!strcmp(key, "scope"))
        return !strcmp(json_string_value(json_object_get(ev, "scope")), val);
    /* label=KEY or label=KEY=VALUE */
    const char *eq = strchr(val, '=');
    _cleanup_free_ char *k = strndup(val, eq ? (size_t)(eq - val) : strlen(val));
    json_t *v = json_object_get(json_object_get(json_object_get(ev, "Actor"), "Attributes"), k);
    return v && (!eq || !strcmp(json_string_value(v), eq + 1));
}

bool cell_engine_event_match(const json_t *ev, char **filters)
{
    /* Docker's rule: values of one key match any; every key must match. */
    for (char **f = filters; f && *f; f++) {
        size_t klen = (size_t)(strchr(*f, '=') - *f);
        bool any = false;
        for (char **g = filters; g && *g; g++)
            if (!strncmp(*g, *f, klen + 1)) {
                _cleanup_free_ char *key = strndup(*g, klen);
                any |= filter_one(ev, key, *g + klen + 1);
            }
        if (!any)
            return false;
    }
    return true;
}

/* ---- reading ------------------------------------------------------------------------ */

struct reader {
    const struct cell_events_read_opts *o;
    char *buf; /* a line not yet ended */
    size_t len;
    bool done; /* past until, or the callback said stop */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void line(struct reader *r, const char *text)
{
    json_error_t jerr;
    json_t *ev = json_loads(text, 0, &jerr);
    int64_t t = json_integer_value(json_object_get(ev, "timeNano"));
    if (ev && r->o->until_ns && t > r->o->until_ns)
        r->done = true;
    else if (ev && t >= r->o->since_ns && cell_engine_event_match(ev, r->o->filters) &&
             r->o->fn(ev, r->o->data) != 0)
        r->done = true;
    json_decref(ev);
}

/* Everything fd has now; whole lines go to the callback. */
static void drain(struct reader *r, int fd)
{
    char chunk[16384];
    ssize_t n;
    while (!r->done && (n = read(fd, chunk, sizeof chunk)) > 0) {
        char *nb = realloc(r->buf, r->len + (size_t)n + 1);
        if (!nb)
            return;
        r->buf = nb;
        memcpy(r->buf + r->len, chunk, (size_t)n);
        r->len += (size_t)n;
        r->buf[r->len] = 0;
        char *start = r->buf, *nl;
        while (!r->done && (nl = strchr(start, '\n'))) {
            *nl = 0;
            line(r, start);
            start = nl + 1;
        }
        r->len -= (size_t)(start - r->buf);
        memmove(r->buf, start, r->len + 1);
    }
}

/* True when the log's name is now on another file (it was rotated). */
static bool rotated(int rootfd, int fd)
{
    struct stat a, b;
    if (fd < 0)
        return fstatat(rootfd, EVENTS_LOG, &b, 0) == 0;
    if (fstat(fd, &a) < 0 || fstatat(rootfd, EVENTS_LOG, &b, 0) < 0)
        return false;
    return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int wait_for_more(int ifd, int64_t until_ns)
{
    int timeout = -1;
    if (until_ns) {
        int64_t left = until_ns - now_ns();
        if (left <= 0)
            return 0;
        timeout = (int)(left / 1000000 + 1);
    }
    struct pollfd p = {.fd = ifd, .events = POLLIN};
    int n = poll(&p, 1, timeout);
    if (n > 0) {
        char evbuf[4096];
        while (read(ifd, evbuf, sizeof evbuf) > 0)
            ;
    }
    return n < 0 && errno != EINTR ? -1 : 0;
}

static void follow(struct cell_engine *e, struct reader *r, int fd, int ifd)
{
    while (!r->done) {
        if (fd >= 0)
            drain(r, fd);
        if (r->done || (r->o->until_ns && now_ns() >= r->o->until_ns))
            return;
        if (rotated(e->rootfd, fd)) {
            /* The rest of the old file first (a writer may have had it
             * open), then the new one from its start. */
            if (fd >= 0) {
                drain(r, fd);
                close(fd);
            }
            r->len = 0;
            fd = openat(e->rootfd, EVENTS_LOG, O_RDONLY | O_CLOEXEC);
            continue;
        }
        if (wait_for_more(ifd, r->o->until_ns) < 0)
            break;
    }
    if (fd >= 0)
        close(fd);
}

int cell_engine_events_read(struct cell_engine *e, const struct cell_events_read_opts *o,
                            cell_err_t *err)
{
    struct reader r = {.o = o};
    /* Watched before the first read, so nothing written in between is
     * missed. */
    _cleanup_close_ int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0 || inotify_add_watch(ifd, e->root, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
        return cell_error(err, errno, "watch %s", e->root);
    int fd = openat(e->rootfd, EVENTS_LOG, O_RDONLY | O_CLOEXEC);
    if (o->since_ns) {
        _cleanup_close_ int old = openat(e->rootfd, EVENTS_OLD, O_RDONLY | O_CLOEXEC);
        if (old >= 0)
            drain(&r, old);
        r.len = 0;
    } else if (fd >= 0)
        lseek(fd, 0, SEEK_END); /* Docker's events without --since: only new ones */
    bool ended = o->until_ns && o->until_ns <= now_ns();
    if (ended || !o->follow) {
        if (fd >= 0) {
            drain(&r, fd);
            close(fd);
        }
    } else
        follow(e, &r, fd, ifd);
    free(r.buf);
    return 0;
}

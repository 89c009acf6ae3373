/* Reading the json-file log as `docker logs` does: the rotated files and
 * the current one, oldest first; --tail counted over all of them; since and
 * until; -t; and --follow, woken by inotify and across rotation. */
#include "engine/log.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd.h"

#define READ_CHUNK     (64 * 1024)
#define OUTPUT_FLUSH   (64 * 1024)
#define FOLLOW_POLL_MS 200
/* A reader that meets a file with as many rotated files as this stops
 * looking: Docker's max-file is an int, but nobody keeps more. */
#define MAX_ROTATED 10000

/* ---- output --------------------------------------------------------------------- */

/* One buffer for both fds, flushed when the fd changes, so that stdout and
 * stderr entries keep their order when both go to one terminal. */
struct output {
    int fd;
    char *buf;
    size_t len, cap;
};

static int output_flush(struct output *o, cell_err_t *err)
{
    if (o->len == 0)
        return 0;
    int r = cell_write_all(o->fd, o->buf, o->len);
    o->len = 0;
    return r < 0 ? cell_error(err, -r, "write log output") : 0;
}

static int output_add(struct output *o, int fd, const char *s, size_t n, cell_err_t *err)
{
    int r;
    if ((fd != o->fd || o->len + n > OUTPUT_FLUSH) && (r = output_flush(o, err)) < 0)
        return r;
    o->fd = fd;
    if (o->cap - o->len < n) {
        size_t cap = o->cap ? o->cap : OUTPUT_FLUSH;
        while (cap - o->len < n)
            cap *= 2;
        char *p = realloc(o->buf, cap);
        if (!p)
            return cell_error(err, ENOMEM, "log output");
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

/* ---- entries ---------------------------------------------------------------------- */

struct reader {
    const struct cell_log_read_opts *o;
    int out_fd, err_fd;
    struct output out;
    bool done; /* an entry after until was seen */
};

static int bad_entry(const char *file, int64_t off, const char *why, cell_err_t *err)
{
    return cell_error(err, EINVAL, "log %s at byte %lld: not a json-file entry: %s", file,
                      (long long)off, why);
}

/* One line of a log file (without its newline). */
static int entry(struct reader *rd, const char *file, int64_t off, const char *line, size_t len,
                 cell_err_t *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return bad_entry(file, off, j ? "not an object" : jerr.text, err);
    }
    json_t *log = json_object_get(j, "log"), *stream = json_object_get(j, "stream"),
           *time = json_object_get(j, "time");
    int64_t t;
    int r = 0;
    if ((log && !json_is_string(log)) || !json_is_string(time) ||
        cell_log_rfc3339_parse(json_string_value(time), json_string_length(time), &t) < 0)
        r = bad_entry(file, off, "no valid \"log\" and \"time\"", err);
    else if (rd->o->since_ns && t < rd->o->since_ns)
        r = 0;
    else if (rd->o->until_ns && t > rd->o->until_ns)
        rd->done = true;
    else {
        bool is_err = json_is_string(stream) && strcmp(json_string_value(stream), "stderr") == 0;
        int fd = is_err ? rd->err_fd : rd->out_fd;
        if (rd->o->timestamps) {
            char ts[40];
            size_t n = cell_log_time_format(t, true, ts);
            ts[n++] = ' ';
            r = output_add(&rd->out, fd, ts, n, err);
        }
        if (r == 0 && log)
            r = output_add(&rd->out, fd, json_string_value(log), json_string_length(log), err);
    }
    json_decref(j);
    return r;
}

/* ---- lines of one file ---------------------------------------------------------------- */

struct lines {
    int fd;
    char *name;  /* for errors: name, name.1, ... */
    int64_t pos; /* file offset of buf[0] */
    char *buf;
    size_t len; /* bytes in buf */
    size_t off; /* bytes of buf consumed */
    size_t cap;
};

static void lines_free(struct lines *l)
{
    if (l->fd >= 0)
        close(l->fd);
    free(l->name);
    free(l->buf);
    *l = (struct lines){.fd = -1};
}

/* Reads more of the file into buf; 0 at EOF, else the count, or -errno. */
static ssize_t lines_fill(struct lines *l)
{
    if (l->off > 0) {
        memmove(l->buf, l->buf + l->off, l->len - l->off);
        l->len -= l->off;
        l->pos += (int64_t)l->off;
        l->off = 0;
    }
    if (l->cap - l->len < READ_CHUNK) {
        size_t cap = l->cap ? l->cap * 2 : 2 * READ_CHUNK;
        char *p = realloc(l->buf, cap);
        if (!p)
            return -ENOMEM;
        l->buf = p;
        l->cap = cap;
    }
    for (;;) {
        ssize_t n = pread(l->fd, l->buf + l->len, l->cap - l->len, l->pos + (int64_t)l->len);
        if (n >= 0) {
            l->len += (size_t)n;
            return n;
        }
        if (errno != EINTR)
            return -errno;
    }
}

/* Feeds every complete line from the current position to the reader;
 * a trailing part without newline stays for later (the writer's entry in
 * progress, when following). */
static int lines_drain(struct lines *l, struct reader *rd, cell_err_t *err)
{
    for (;;) {
        char *nl = memchr(l->buf + l->off, '\n', l->len - l->off);
        if (nl) {
            size_t start = l->off;
            l->off = (size_t)(nl - l->buf) + 1;
            int r = entry(rd, l->name, l->pos + (int64_t)start, l->buf + start,
                          (size_t)(nl - l->buf) - start, err);
            if (r < 0 || rd->done)
                return r;
            continue;
        }
        ssize_t n = lines_fill(l);
        if (n < 0)
            return cell_error(err, (int)-n, "read log %s", l->name);
        if (n == 0)
            return 0;
    }
}

/* ---- the files ----------------------------------------------------------------- */

struct logset {
    struct lines *f; /* oldest first; the current file last when there is one */
    size_t n;
    bool has_current;
};

static void logset_free(struct logset *s)
{
    for (size_t i = 0; i < s->n; i++)
        lines_free(&s->f[i]);
    free(s->f);
    *s = (struct logset){0};
}

static int open_log(int dirfd, const char *name, struct lines *l, cell_err_t *err)
{
    *l = (struct lines){.fd = -1};
    l->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (l->fd < 0)
        return errno == ENOENT ? 0 : cell_error(err, errno, "open log %s", name);
    if (!(l->name = strdup(name)))
        return cell_error(err, ENOMEM, "log reader");
    return 1;
}

static bool same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

static int logset_push(struct logset *s, struct lines *l, cell_err_t *err)
{
    struct lines *p = realloc(s->f, (s->n + 1) * sizeof *s->f);
    if (!p) {
        lines_free(l);
        return cell_error(err, ENOMEM, "log reader");
    }
    s->f = p;
    s->f[s->n++] = *l;
    return 0;
}

/* Opens name, then name.1, name.2, ... while they exist, and orders them
 * oldest first. 1 when done, 0 when a rotation moved the current file to
 * name.1 meanwhile (try again). */
static int logset_try_open(int dirfd, const char *name, struct logset *s, cell_err_t *err)
{
    struct lines cur;
    int r = open_log(dirfd, name, &cur, err);
    if (r < 0)
        return r;
    s->has_current = r > 0;
    bool moved = false;
    char path[PATH_MAX];
    for (int i = 1; i <= MAX_ROTATED && !moved; i++) {
        struct lines l;
        snprintf(path, sizeof path, "%s.%d", name, i);
        if ((r = open_log(dirfd, path, &l, err)) <= 0 || (r = logset_push(s, &l, err)) < 0)
            break;
        /* A rotation meanwhile shows as a file met twice: the current one
         * as name.1, or name.i again as name.(i+1). */
        moved = (s->has_current && same_file(cur.fd, l.fd)) ||
                (s->n > 1 && same_file(s->f[s->n - 2].fd, l.fd));
    }
    if (r < 0 || (s->has_current && logset_push(s, &cur, err) < 0)) {
        lines_free(&cur);
        return r < 0 ? r : -ENOMEM;
    }
    /* Found newest first (the current file last); make it oldest first. */
    size_t nrot = s->n - s->has_current;
    for (size_t i = 0; i < nrot / 2; i++) {
        struct lines t = s->f[i];
        s->f[i] = s->f[nrot - 1 - i];
        s->f[nrot - 1 - i] = t;
    }
    return moved ? 0 : 1;
}

static int logset_open(int dirfd, const char *name, struct logset *s, cell_err_t *err)
{
    for (int attempt = 0;; attempt++) {
        int r = logset_try_open(dirfd, name, s, err);
        if (r != 0 || attempt == 10)
            return r < 0 ? r : 0;
        logset_free(s);
    }
}

/* Where the last `need` lines of l begin, reading backwards from its end;
 * *got says how many lines it has up to that many. Bytes after the last
 * newline (an entry being written) are no line. */
static int tail_start(struct lines *l, long need, long *got, cell_err_t *err)
{
    struct stat st;
    if (fstat(l->fd, &st) < 0)
        return cell_error(err, errno, "stat log %s", l->name);
    char buf[READ_CHUNK];
    int64_t end = st.st_size;
    long newlines = 0;
    while (end > 0) {
        size_t n = end < READ_CHUNK ? (size_t)end : READ_CHUNK;
        ssize_t k = pread(l->fd, buf, n, end - (int64_t)n);
        if (k != (ssize_t)n)
            return cell_error(err, k < 0 ? errno : EIO, "read log %s", l->name);
        for (size_t i = n; i-- > 0;) {
            if (buf[i] != '\n')
                continue;
            /* The first newline from the end closes the last line; the
             * (need+1)th closes the line before the ones wanted. */
            if (++newlines == need + 1) {
                l->pos = end - (int64_t)n + (int64_t)i + 1;
                *got = need;
                return 0;
            }
        }
        end -= (int64_t)n;
    }
    l->pos = 0;
    *got = newlines;
    return 0;
}

/* Positions each file so that only the last o->tail lines are read. */
static int logset_tail(struct logset *s, long tail, cell_err_t *err)
{
    long need = tail;
    for (size_t i = s->n; i-- > 0;) {
        struct lines *l = &s->f[i];
        if (need == 0) {
            struct stat st;
            if (fstat(l->fd, &st) < 0)
                return cell_error(err, errno, "stat log %s", l->name);
            l->pos = st.st_size;
            continue;
        }
        long got = 0;
        int r = tail_start(l, need, &got, err);
        if (r < 0)
            return r;
        need -= got;
    }
    /* With tail 0 the current file starts after its last complete line,
     * so a follower does not take the end of an entry for a line. */
    if (tail == 0 && s->has_current) {
        long got;
        int r = tail_start(&s->f[s->n - 1], 0, &got, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- following ------------------------------------------------------------------- */

struct follower {
    int dirfd;
    const char *name;
    int inotify; /* -1: poll every FOLLOW_POLL_MS instead */
};

static bool still_running(const struct cell_log_read_opts *o)
{
    return !o->running || o->running(o->data);
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wakes on any change in the log's directory (a write, a rotation), or
 * after FOLLOW_POLL_MS. */
static void follow_wait(struct follower *f)
{
    struct pollfd p = {.fd = f->inotify, .events = POLLIN};
    if (f->inotify < 0) {
        poll(NULL, 0, FOLLOW_POLL_MS);
        return;
    }
    if (poll(&p, 1, FOLLOW_POLL_MS) > 0) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(f->inotify, buf, sizeof buf) > 0)
            ;
    }
}

static void follower_init(struct follower *f, int dirfd, const char *name)
{
    f->dirfd = dirfd;
    f->name = name;
    f->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f->inotify < 0)
        return;
    /* inotify takes a path; the directory's fd names it. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", dirfd);
    if (inotify_add_watch(f->inotify, path,
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                              IN_CLOSE_WRITE) < 0) {
        close(f->inotify);
        f->inotify = -1;
    }
}

/* Where the file being read went: 0 still the current file, n it is
 * name.n now, -1 gone or not found (then nothing more is read from the
 * files between). */
static int rotated_to(struct follower *f, struct lines *cur)
{
    char path[PATH_MAX];
    for (int i = 0; i <= MAX_ROTATED; i++) {
        if (i == 0)
            snprintf(path, sizeof path, "%s", f->name);
        else
            snprintf(path, sizeof path, "%s.%d", f->name, i);
        struct stat st, sc;
        if (fstatat(f->dirfd, path, &st, 0) < 0) {
            if (i == 0 && errno == ENOENT)
                continue; /* between a single file's removal and its new start */
            return -1;
        }
        if (fstat(cur->fd, &sc) == 0 && st.st_ino == sc.st_ino && st.st_dev == sc.st_dev)
            return i;
    }
    return -1;
}

/* Reads the files rotated past the follower, newest-but-one down to
 * name.1 (rotations it slept through), then opens the new current file. */
static int follow_rotation(struct follower *f, struct lines *cur, int where, struct reader *rd,
                           cell_err_t *err)
{
    char path[PATH_MAX];
    for (int i = where - 1; i >= 1 && !rd->done; i--) {
        snprintf(path, sizeof path, "%s.%d", f->name, i);
        struct lines l;
        int r = open_log(f->dirfd, path, &l, err);
        if (r > 0)
            r = lines_drain(&l, rd, err);
        lines_free(&l);
        if (r < 0)
            return r;
    }
    lines_free(cur);
    int r = open_log(f->dirfd, f->name, cur, err);
    return r < 0 ? r : 0;
}

/* Drains the current file and follows it through rotations; returns once
 * the new current file has been drained. */
static int follow_drain(struct follower *f, struct lines *cur, struct reader *rd, cell_err_t *err)
{
    for (;;) {
        int r = 0;
        if (cur->fd < 0)
            r = open_log(f->dirfd, f->name, cur, err);
        if (r < 0 || cur->fd < 0)
            return r;
        if ((r = lines_drain(cur, rd, err)) < 0 || rd->done)
            return r;
        int where = rotated_to(f, cur);
        if (where == 0)
            return 0;
        /* Lines written to it before the rotation are in by now. */
        if ((r = lines_drain(cur, rd, err)) < 0 || rd->done)
            return r;
        if ((r = follow_rotation(f, cur, where, rd, err)) < 0)
            return r;
    }
}

static int follow(struct follower *f, struct lines *cur, struct reader *rd, cell_err_t *err)
{
    const struct cell_log_read_opts *o = rd->o;
    for (;;) {
        /* Asked before draining: what was written before the container
         * stopped is read on the last round. */
        bool alive = still_running(o);
        int r = follow_drain(f, cur, rd, err);
        if (r < 0 || rd->done || !alive)
            return r;
        if (o->until_ns && realtime_ns() > o->until_ns)
            return 0;
        if ((r = output_flush(&rd->out, err)) < 0)
            return r;
        follow_wait(f);
    }
}

/* ---- the whole read ---------------------------------------------------------------- */

static int read_all(int dirfd, const char *name, struct reader *rd, cell_err_t *err)
{
    __attribute__((cleanup(logset_free))) struct logset s = {0};
    struct follower f = {.inotify = -1};
    int r = 0;
    /* Watch first: a write between reading and watching would be missed. */
    if (rd->o->follow)
        follower_init(&f, dirfd, name);
    if ((r = logset_open(dirfd, name, &s, err)) < 0)
        goto out;
    if (rd->o->tail >= 0 && (r = logset_tail(&s, rd->o->tail, err)) < 0)
        goto out;
    for (size_t i = 0; i < s.n && !rd->done; i++)
        if ((r = lines_drain(&s.f[i], rd, err)) < 0)
            goto out;
    if (!rd->o->follow || rd->done)
        goto out;
    if (rd->o->until_ns && realtime_ns() > rd->o->until_ns)
        goto out;
    struct lines none = {.fd = -1};
    r = follow(&f, s.has_current ? &s.f[s.n - 1] : &none, rd, err);
    lines_free(&none);
out:
    if (f.inotify >= 0)
        close(f.inotify);
    return r;
}

int cell_log_read(int dirfd, const char *name, const struct cell_log_read_opts *o, int out_fd,
                  int err_fd, cell_err_t *err)
{
    struct reader rd = {.o = o, .out_fd = out_fd, .err_fd = err_fd, .out = {.fd = out_fd}};
    int r = read_all(dirfd, name, &rd, err);
    int rf = output_flush(&rd.out, r < 0 ? NULL : err);
    free(rd.out.buf);
    return r < 0 ? r : rf;
}

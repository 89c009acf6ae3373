/* The json-file log: options, times, and the writer the monitor feeds with
 * the container's output. Byte for byte what Docker's json-file driver
 * writes: its escaping, its time format, its 16 KiB split, its rotation. */
#include "engine/log.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/units.h"

/* ---- options ---------------------------------------------------------------- */

/* go-units' FromHumanSize, which Docker's json-file driver uses for
 * max-size: SI multipliers, so "10m" is 10,000,000 bytes. */
static int human_size_parse(const char *s, int64_t *out)
{
    const char *p = s;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == s)
        return -EINVAL;
    if (*p == '.') {
        const char *frac = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == frac)
            return -EINVAL;
    }
    double v = strtod(s, NULL);
    if (*p == ' ')
        p++;
    static const char prefixes[] = "kmgtp";
    const char *u = *p ? strchr(prefixes, *p | 0x20) : NULL;
    if (u) {
        for (const char *q = prefixes; q <= u; q++)
            v *= 1000;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        return -EINVAL;
    if (v >= 0x1p63)
        return -ERANGE;
    *out = (int64_t)v;
    return 0;
}

static int opt_max_size(const char *opt, const char *val, struct cell_log_opts *o, cell_err_t *err)
{
    int64_t v;
    if (human_size_parse(val, &v) < 0)
        return cell_error(err, 0, "invalid --log-opt \"%s\": invalid size: '%s'", opt, val);
    if (v <= 0)
        return cell_error(err, 0, "invalid --log-opt \"%s\": max-size must be a positive number",
                          opt);
    o->max_size = v;
    return 0;
}

static int opt_max_file(const char *opt, const char *val, struct cell_log_opts *o, cell_err_t *err)
{
    const char *p = val + (*val == '+' || *val == '-');
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return cell_error(err, 0, "invalid --log-opt \"%s\": strconv.Atoi: parsing \"%s\": %s", opt,
                          val, "invalid syntax");
    errno = 0;
    long v = strtol(val, NULL, 10);
    if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
        return cell_error(err, 0, "invalid --log-opt \"%s\": strconv.Atoi: parsing \"%s\": %s", opt,
                          val, "value out of range");
    if (v < 1)
        return cell_error(err, 0, "invalid --log-opt \"%s\": max-file cannot be less than 1", opt);
    o->max_file = (int)v;
    return 0;
}

int cell_log_opts_parse(char *const *opts, size_t n, struct cell_log_opts *out, cell_err_t *err)
{
    /* Keys Docker's json-file driver knows and cell does not do (yet):
     * refused, so nobody believes they took effect. */
    static const char *const unsupported[] = {"compress", "labels",    "labels-regex",
                                              "env",      "env-regex", "tag"};
    struct cell_log_opts o = {.max_size = 0, .max_file = 1};
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(opts[i], '=');
        size_t klen = eq ? (size_t)(eq - opts[i]) : strlen(opts[i]);
        const char *val = eq ? eq + 1 : "";
        int r = 0;
        if (klen == 8 && strncmp(opts[i], "max-size", 8) == 0)
            r = opt_max_size(opts[i], val, &o, err);
        else if (klen == 8 && strncmp(opts[i], "max-file", 8) == 0)
            r = opt_max_file(opts[i], val, &o, err);
        else {
            for (size_t k = 0; k < ARRAY_SIZE(unsupported); k++)
                if (strlen(unsupported[k]) == klen && strncmp(opts[i], unsupported[k], klen) == 0)
                    return cell_error(err, 0,
                                      "log opt '%.*s' of the json-file log driver is not "
                                      "supported by cell",
                                      (int)klen, opts[i]);
            return cell_error(err, 0, "unknown log opt '%.*s' for json-file log driver", (int)klen,
                              opts[i]);
        }
        if (r < 0)
            return r;
    }
    /* Docker takes max-file without max-size: nothing rotates then. */
    *out = o;
    return 0;
}

/* ---- times -------------------------------------------------------------------- */

size_t cell_log_time_format(int64_t ns, bool fixed, char out[36])
{
    time_t sec = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    int n = snprintf(out, 36, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (fixed || frac) {
        int digits = 9;
        /* Go's RFC3339Nano drops the fraction's trailing zeros. */
        while (!fixed && frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        n += snprintf(out + n, 36 - (size_t)n, ".%0*ld", digits, frac);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

/* A time as Docker's timetypes reads it: a date, optionally T and hours,
 * minutes, seconds and a fraction (after seconds), optionally a zone. */
struct stamp {
    int year, mon, day, hour, min, sec;
    long nsec;
    bool zone;
    int offset; /* seconds east of UTC, when zone */
};

static bool digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || **p < '0' || **p > '9')
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

static bool sep(const char **p, const char *end, char c)
{
    if (*p < end && **p == c) {
        (*p)++;
        return true;
    }
    return false;
}

static bool stamp_fraction(const char **p, const char *end, long *nsec)
{
    int nd = 0;
    long v = 0;
    for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, nd++)
        if (nd < 9)
            v = v * 10 + (**p - '0');
    /* Go reads any number of digits and keeps nanoseconds. */
    if (nd == 0)
        return false;
    for (; nd < 9; nd++)
        v *= 10;
    *nsec = v;
    return true;
}

static bool stamp_zone(const char **p, const char *end, struct stamp *t)
{
    if (*p == end)
        return true;
    t->zone = true;
    if (sep(p, end, 'Z'))
        return true;
    int sign = **p == '-' ? -1 : 1, h, m;
    if (!sep(p, end, '+') && !sep(p, end, '-'))
        return false;
    if (!digits(p, end, 2, &h) || !sep(p, end, ':') || !digits(p, end, 2, &m) || h > 23 || m > 59)
        return false;
    t->offset = sign * (h * 3600 + m * 60);
    return true;
}

/* The shape; ranges are checked by stamp_check. */
static bool stamp_scan(const char *s, size_t len, struct stamp *t)
{
    const char *p = s, *end = s + len;
    *t = (struct stamp){0};
    if (!digits(&p, end, 4, &t->year) || !sep(&p, end, '-') || !digits(&p, end, 2, &t->mon) ||
        !sep(&p, end, '-') || !digits(&p, end, 2, &t->day))
        return false;
    if (sep(&p, end, 'T')) {
        /* Go's "15" takes one digit or two. */
        bool two = end - p >= 2 && p[1] >= '0' && p[1] <= '9';
        if (!digits(&p, end, two ? 2 : 1, &t->hour))
            return false;
        if (sep(&p, end, ':')) {
            if (!digits(&p, end, 2, &t->min))
                return false;
            if (sep(&p, end, ':')) {
                if (!digits(&p, end, 2, &t->sec))
                    return false;
                if (sep(&p, end, '.') && !stamp_fraction(&p, end, &t->nsec))
                    return false;
            }
        }
    }
    return stamp_zone(&p, end, t) && p == end;
}

/* The field out of range, in Go's words, or NULL. */
static const char *stamp_check(const struct stamp *t)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t->mon < 1 || t->mon > 12)
        return "month out of range";
    bool leap = (t->year % 4 == 0 && t->year % 100 != 0) || t->year % 400 == 0;
    if (t->day < 1 || t->day > mdays[t->mon - 1] + (t->mon == 2 && leap))
        return "day out of range";
    if (t->hour > 23)
        return "hour out of range";
    if (t->min > 59)
        return "minute out of range";
    if (t->sec > 59)
        return "second out of range";
    return NULL;
}

static int64_t stamp_ns(const struct stamp *t, int offset)
{
    struct tm tm = {.tm_year = t->year - 1900,
                    .tm_mon = t->mon - 1,
                    .tm_mday = t->day,
                    .tm_hour = t->hour,
                    .tm_min = t->min,
                    .tm_sec = t->sec};
    return ((int64_t)timegm(&tm) - offset) * 1000000000 + t->nsec;
}

int cell_log_rfc3339_parse(const char *s, size_t len, int64_t *out_ns)
{
    struct stamp t;
    /* An entry's time is always full: date, T, seconds, zone. */
    if (len < 20 || s[10] != 'T' || s[16] != ':' || !stamp_scan(s, len, &t) || !t.zone ||
        stamp_check(&t))
        return -EINVAL;
    *out_ns = stamp_ns(&t, t.offset);
    return 0;
}

/* Unix seconds with an optional fraction, as Docker's parseTimestamp reads
 * them: the fraction's digits scaled to nanoseconds. */
static int unix_parse(const char *s, int64_t *out_ns)
{
    const char *p = s + (*s == '+');
    size_t ni = strspn(p, "0123456789");
    if (ni == 0 || ni > 18 || (p[ni] && p[ni] != '.'))
        return -EINVAL;
    int64_t ns = strtoll(p, NULL, 10) * 1000000000;
    if (p[ni] == '.') {
        const char *f = p + ni + 1;
        size_t nf = strspn(f, "0123456789");
        if (nf == 0 || nf > 18 || f[nf])
            return -EINVAL;
        double v = (double)strtoll(f, NULL, 10);
        for (size_t i = nf; i < 9; i++)
            v *= 10;
        for (size_t i = 9; i < nf; i++)
            v /= 10;
        ns += (int64_t)v;
    }
    *out_ns = ns;
    return 0;
}

/* Go's time.ParseDuration takes a sign; cell_duration_parse does not. */
static int signed_duration_parse(const char *s, int64_t *ns)
{
    bool neg = *s == '-';
    int r = cell_duration_parse(s + (*s == '-' || *s == '+'), ns);
    if (r == 0 && neg)
        *ns = -*ns;
    return r;
}

/* Docker's client reads a time without a zone in local time, at the UTC
 * offset local time has now. */
static int local_offset(int64_t now_ns)
{
    time_t now = (time_t)(now_ns / 1000000000);
    struct tm tm;
    localtime_r(&now, &tm);
    return (int)tm.tm_gmtoff;
}

int cell_log_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, cell_err_t *err)
{
    int64_t d;
    if (strcmp(s, "0") != 0 && signed_duration_parse(s, &d) == 0) {
        /* Docker sends now - d as whole unix seconds. */
        int64_t t = now_ns - d;
        *out_ns = t - ((t % 1000000000) + 1000000000) % 1000000000;
        return 0;
    }
    struct stamp t;
    if (stamp_scan(s, strlen(s), &t)) {
        const char *range = stamp_check(&t);
        if (range)
            return cell_error(err, 0, "parsing time \"%s\": %s", s, range);
        *out_ns = stamp_ns(&t, t.zone ? t.offset : local_offset(now_ns));
        return 0;
    }
    /* Docker gives up on anything with a dash as a malformed time. */
    if (strchr(s, '-'))
        return cell_error(err, 0,
                          "parsing time \"%s\": not a time as 2006-01-02[T15[:04[:05[.999999999]]]]"
                          "[Z07:00]",
                          s);
    if (unix_parse(s, out_ns) < 0)
        return cell_error(err, 0, "failed to parse value as time or duration: \"%s\"", s);
    return 0;
}

/* ---- JSON, as Docker's jsonlog marshaller writes it --------------------------- */

/* Go's rules (see log.h). */
size_t cell_log_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t more;
    if (c >= 0xC2 && c <= 0xDF)
        more = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        more = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        more = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n <= more || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= more; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return more + 1;
}

/* Appends s as a JSON string to out, which has room for 6 bytes per input
 * byte plus 2: control characters as \u00XX (\n and \r as such), <, > and &
 * escaped for HTML as Go does, each byte of invalid UTF-8 as \ufffd, and
 * U+2028/U+2029 escaped. */
static size_t json_quote(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            if (c >= 0x20 && c != '\\' && c != '"' && c != '<' && c != '>' && c != '&')
                *o++ = (char)c;
            else if (c == '\\' || c == '"')
                *o++ = '\\', *o++ = (char)c;
            else if (c == '\n' || c == '\r')
                *o++ = '\\', *o++ = c == '\n' ? 'n' : 'r';
            else
                o += sprintf(o, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
            i++;
            continue;
        }
        size_t len = cell_log_utf8_seq(u + i, n - i);
        if (len == 0) {
            memcpy(o, "\\ufffd", 6), o += 6, i++;
        } else if (len == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] & 0xFE) == 0xA8) {
            o += sprintf(o, "\\u202%c", u[i + 2] == 0xA8 ? '8' : '9'), i += 3;
        } else {
            memcpy(o, u + i, len), o += len, i += len;
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

/* ---- the writer ------------------------------------------------------------------ */

struct pending {
    size_t len;
    char buf[CELL_LOG_SPLIT_SIZE + 1]; /* a full piece and its newline */
};

struct cell_log_writer {
    int dirfd;
    char *name;
    struct cell_log_opts opts;
    int fd;
    int64_t size; /* of the current file, entries in out included */
    struct pending pend[2];
    char *out; /* entries not yet written */
    size_t out_len, out_cap;
};

#define OUT_FLUSH_AT (64 * 1024)

static int open_current(struct cell_log_writer *w, int extra_flags, cell_err_t *err)
{
    int fd =
        openat(w->dirfd, w->name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0640);
    if (fd < 0)
        return cell_error(err, errno, "open log %s", w->name);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return cell_error(err, e, "stat log %s", w->name);
    }
    w->fd = fd;
    w->size = st.st_size;
    return 0;
}

static int out_write(struct cell_log_writer *w, cell_err_t *err)
{
    if (w->out_len == 0)
        return 0;
    int r = cell_write_all(w->fd, w->out, w->out_len);
    w->out_len = 0;
    if (r < 0)
        return cell_error(err, -r, "write log %s", w->name);
    return 0;
}

/* name.(i-1) -> name.i: ENOENT is fine, a file may not be there yet. */
static int rotate_one(struct cell_log_writer *w, int from, int to, cell_err_t *err)
{
    char src[PATH_MAX], dst[PATH_MAX];
    if (from == 0)
        snprintf(src, sizeof src, "%s", w->name);
    else
        snprintf(src, sizeof src, "%s.%d", w->name, from);
    snprintf(dst, sizeof dst, "%s.%d", w->name, to);
    if (renameat(w->dirfd, src, w->dirfd, dst) < 0 && errno != ENOENT)
        return cell_error(err, errno, "rotate log %s to %s", src, dst);
    return 0;
}

static int shift_files(struct cell_log_writer *w, cell_err_t *err)
{
    if (w->opts.max_file < 2) {
        if (unlinkat(w->dirfd, w->name, 0) < 0 && errno != ENOENT)
            return cell_error(err, errno, "rotate log %s", w->name);
        return 0;
    }
    char last[PATH_MAX];
    snprintf(last, sizeof last, "%s.%d", w->name, w->opts.max_file - 1);
    if (unlinkat(w->dirfd, last, 0) < 0 && errno != ENOENT)
        return cell_error(err, errno, "remove log %s", last);
    for (int i = w->opts.max_file - 1; i >= 1; i--) {
        int r = rotate_one(w, i - 1, i, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Docker's order: drop the oldest, shift the others up, move the current
 * to name.1 and start a new one; with one file, remove it and start anew.
 * A reader holding the old file keeps reading it to its end. When a rename
 * fails the current file is truncated all the same, as Docker does: the
 * log stays bounded and the writer usable; the error is returned. */
static int rotate(struct cell_log_writer *w, cell_err_t *err)
{
    int r = out_write(w, err);
    if (r < 0)
        return r;
    close(w->fd);
    w->fd = -1;
    r = shift_files(w, err);
    int ro = open_current(w, O_TRUNC, r < 0 ? NULL : err);
    return r < 0 ? r : ro;
}

static int now_ns(int64_t *ns)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return -errno;
    *ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return 0;
}

static int out_reserve(struct cell_log_writer *w, size_t need)
{
    if (w->out_cap - w->out_len >= need)
        return 0;
    size_t cap = w->out_cap ? w->out_cap : OUT_FLUSH_AT;
    while (cap - w->out_len < need)
        cap *= 2;
    char *p = realloc(w->out, cap);
    if (!p)
        return -ENOMEM;
    w->out = p;
    w->out_cap = cap;
    return 0;
}

static int append_entry(struct cell_log_writer *w, enum cell_log_stream s, cell_err_t *err)
{
    struct pending *p = &w->pend[s];
    int64_t t = 0;
    int r = now_ns(&t);
    if (r < 0)
        return cell_error(err, -r, "clock_gettime");
    if (out_reserve(w, p->len * 6 + 128) < 0)
        return cell_error(err, ENOMEM, "log entry");
    char *o = w->out + w->out_len, *start = o;
    o += sprintf(o, "{\"log\":");
    o += json_quote(o, p->buf, p->len);
    o += sprintf(o, ",\"stream\":\"%s\",\"time\":\"", s == CELL_LOG_STDERR ? "stderr" : "stdout");
    o += cell_log_time_format(t, false, o);
    o += sprintf(o, "\"}\n");
    w->out_len += (size_t)(o - start);
    w->size += o - start;
    return w->out_len >= OUT_FLUSH_AT ? out_write(w, err) : 0;
}

/* One entry for the bytes kept for stream s; they are consumed whatever
 * happens, so a failure never glues them to the next line. The entry is
 * still written when only the rotation before it failed. */
static int emit(struct cell_log_writer *w, enum cell_log_stream s, cell_err_t *err)
{
    int r = 0;
    /* Docker checks before an entry: a file may pass max-size by one. */
    if (w->fd >= 0 && w->opts.max_size > 0 && w->size >= w->opts.max_size)
        r = rotate(w, err);
    else if (w->fd < 0) /* a rotation could not start a new file: again */
        r = open_current(w, 0, err);
    if (w->fd >= 0) {
        int ra = append_entry(w, s, r < 0 ? NULL : err);
        r = r < 0 ? r : ra;
    }
    w->pend[s].len = 0;
    return r;
}

int cell_log_writer_open(int dirfd, const char *name, const struct cell_log_opts *o,
                         struct cell_log_writer **out, cell_err_t *err)
{
    struct cell_log_writer *w = calloc(1, sizeof *w);
    if (!w)
        return cell_error(err, ENOMEM, "log writer");
    w->fd = -1;
    w->opts = o ? *o : (struct cell_log_opts){0, 1};
    if (w->opts.max_file < 1)
        w->opts.max_file = 1;
    w->name = strdup(name);
    w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    int r = 0;
    if (!w->name)
        r = cell_error(err, ENOMEM, "log writer");
    else if (w->dirfd < 0)
        r = cell_error(err, errno, "dup log directory fd");
    else
        r = open_current(w, 0, err);
    if (r < 0) {
        cell_log_writer_close(w);
        return r;
    }
    *out = w;
    return 0;
}

int cell_log_writer_write(struct cell_log_writer *w, enum cell_log_stream s, const char *buf,
                          size_t len, cell_err_t *err)
{
    struct pending *p = &w->pend[s == CELL_LOG_STDERR];
    s = s == CELL_LOG_STDERR ? CELL_LOG_STDERR : CELL_LOG_STDOUT;
    int r = 0, r1;
    while (len > 0) {
        /* A line is whole when it and its newline fit in the split size;
         * else the first CELL_LOG_SPLIT_SIZE bytes are a piece (Docker's
         * copier, whose buffer is that big). */
        size_t room = CELL_LOG_SPLIT_SIZE - p->len;
        size_t scan = len < room ? len : room;
        const char *nl = memchr(buf, '\n', scan);
        size_t take = nl ? (size_t)(nl - buf) + 1 : scan;
        memcpy(p->buf + p->len, buf, take);
        p->len += take;
        buf += take;
        len -= take;
        /* On an error the rest is still logged; the first error is returned. */
        if ((nl || p->len == CELL_LOG_SPLIT_SIZE) && (r1 = emit(w, s, r < 0 ? NULL : err)) < 0 &&
            r == 0)
            r = r1;
    }
    r1 = out_write(w, r < 0 ? NULL : err);
    return r < 0 ? r : r1;
}

int cell_log_writer_flush(struct cell_log_writer *w, cell_err_t *err)
{
    int r = 0, r1;
    for (int s = CELL_LOG_STDOUT; s <= CELL_LOG_STDERR; s++)
        if (w->pend[s].len > 0 && (r1 = emit(w, (enum cell_log_stream)s, r < 0 ? NULL : err)) < 0 &&
            r == 0)
            r = r1;
    r1 = out_write(w, r < 0 ? NULL : err);
    return r < 0 ? r : r1;
}

void cell_log_writer_close(struct cell_log_writer *w)
{
    if (!w)
        return;
    if (w->dirfd >= 0)
        cell_log_writer_flush(w, NULL);
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->name);
    free(w->out);
    free(w);
}

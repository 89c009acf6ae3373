/* The json-file log: entries byte for byte as Docker writes them (escaping,
 * time, 16 KiB pieces), partial lines, rotation and its file names, the
 * reader's tail/since/until/-t, follow across rotation, options and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "engine/log.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG "container.log"

struct tdir {
    char path[64];
    int fd;
};

static int setup(void **state)
{
    struct tdir *t = calloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/cell-test-log-XXXXXX");
    if (!t || !mkdtemp(t->path))
        return -1;
    t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *state = t;
    return t->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct tdir *t = *state;
    close(t->fd);
    int r = cell_rm_rf_at(AT_FDCWD, t->path);
    free(t);
    return r;
}

static int dirfd_of(void **state)
{
    return ((struct tdir *)*state)->fd;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *file_text(int dirfd, const char *name)
{
    char *s = NULL;
    size_t len;
    if (cell_read_file_at(dirfd, name, &s, &len) < 0)
        return NULL;
    return s;
}

static bool exists(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, 0) == 0;
}

static off_t file_size(int dirfd, const char *name)
{
    struct stat st;
    assert_int_equal(fstatat(dirfd, name, &st, 0), 0);
    return st.st_size;
}

static struct cell_log_writer *writer(int dirfd, int64_t max_size, int max_file)
{
    struct cell_log_opts o = {max_size, max_file};
    struct cell_log_writer *w = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_log_writer_open(dirfd, LOG, &o, &w, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    return w;
}

static void put(struct cell_log_writer *w, enum cell_log_stream s, const char *buf, size_t len)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_log_writer_write(w, s, buf, len, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
}

static void puts_out(struct cell_log_writer *w, const char *s)
{
    put(w, CELL_LOG_STDOUT, s, strlen(s));
}

static void write_file(int dirfd, const char *name, const char *text)
{
    assert_int_equal(cell_write_file_atomic_at(dirfd, name, text, strlen(text), 0640), 0);
}

/* What cell_log_read wrote to stdout and stderr. */
struct output {
    char *out, *err;
    size_t out_len, err_len;
};

static void output_free(struct output *o)
{
    free(o->out);
    free(o->err);
}

static char *memfd_text(int fd, size_t *len)
{
    char *s = NULL;
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(cell_read_all(fd, &s, len), 0);
    close(fd);
    return s;
}

static int read_log(int dirfd, const struct cell_log_read_opts *o, struct output *res,
                    cell_err_t *err)
{
    int out = memfd_create("out", MFD_CLOEXEC), errfd = memfd_create("err", MFD_CLOEXEC);
    assert_true(out >= 0 && errfd >= 0);
    int r = cell_log_read(dirfd, LOG, o, out, errfd, err);
    res->out = memfd_text(out, &res->out_len);
    res->err = memfd_text(errfd, &res->err_len);
    return r;
}

static struct output read_ok(int dirfd, const struct cell_log_read_opts *o)
{
    struct output res;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (read_log(dirfd, o, &res, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    return res;
}

static const struct cell_log_read_opts ALL = {.tail = -1};

/* ---- the line format ------------------------------------------------------------ */

static void test_entry_format(void **state)
{
    int d = dirfd_of(state);
    int64_t before = now_ns();
    struct cell_log_writer *w = writer(d, 0, 1);
    puts_out(w, "hello\n");
    cell_log_writer_close(w);
    int64_t after = now_ns();
    _cleanup_free_ char *text = file_text(d, LOG);
    assert_non_null(text);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^\\{\"log\":\"hello\\\\n\",\"stream\":\"stdout\",\"time\":\""
                             "([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                             "(\\.[0-9]*[1-9])?Z)\"\\}\n$",
                             REG_EXTENDED),
                     0);
    regmatch_t m[2];
    int r = regexec(&re, text, 2, m, 0);
    regfree(&re);
    if (r != 0)
        fail_msg("entry: %s", text);
    int64_t t;
    assert_int_equal(
        cell_log_rfc3339_parse(text + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so), &t), 0);
    assert_true(t >= before && t <= after);
}

static void test_time_format(void **state)
{
    (void)state;
    char buf[36];
    int64_t t = 1796318906LL * 1000000000; /* 2026-12-03T17:28:26Z */
    cell_log_time_format(t + 123456789, false, buf);
    assert_string_equal(buf, "2026-12-03T17:28:26.123456789Z");
    cell_log_time_format(t + 500000000, false, buf);
    assert_string_equal(buf, "2026-12-03T17:28:26.5Z");
    cell_log_time_format(t, false, buf);
    assert_string_equal(buf, "2026-12-03T17:28:26Z");
    cell_log_time_format(t + 1000, true, buf);
    assert_string_equal(buf, "2026-12-03T17:28:26.000001000Z");
    cell_log_time_format(t, true, buf);
    assert_string_equal(buf, "2026-12-03T17:28:26.000000000Z");
    int64_t back;
    assert_int_equal(cell_log_rfc3339_parse("2026-12-03T18:28:26.5+01:00", 27, &back), 0);
    assert_int_equal(back, t + 500000000);
    assert_int_equal(cell_log_rfc3339_parse("2026-12-03T17:28:26", 19, &back), -EINVAL);
    assert_int_equal(cell_log_rfc3339_parse("2026-12-03T17:28:61Z", 20, &back), -EINVAL);
}

/* The "log" value of the single entry in the log. */
static char *only_log_value(int dirfd)
{
    char *text = file_text(dirfd, LOG);
    assert_non_null(text);
    const char *start = strstr(text, "{\"log\":\"");
    const char *end = strstr(text, "\",\"stream\":");
    assert_true(start == text && end && strchr(text, '\n') == text + strlen(text) - 1);
    start += 8;
    char *v = strndup(start, (size_t)(end - start));
    free(text);
    return v;
}

static void test_escaping(void **state)
{
    int d = dirfd_of(state);
    static const char in[] = "q\"b\\t\tc\x01\x1f<>&\x7f\b\f\r\n";
    struct cell_log_writer *w = writer(d, 0, 1);
    put(w, CELL_LOG_STDOUT, in, sizeof in - 1);
    cell_log_writer_close(w);
    _cleanup_free_ char *v = only_log_value(d);
    /* Go's encoding as Docker's jsonlog writes it: only \n and \r get a
     * short escape, HTML characters are escaped, DEL is not. */
    assert_string_equal(v, "q\\\"b\\\\t\\u0009c\\u0001\\u001f\\u003c\\u003e\\u0026\x7f"
                           "\\u0008\\u000c\\r\\n");
    struct output o = read_ok(d, &ALL);
    assert_int_equal(o.out_len, sizeof in - 1);
    assert_memory_equal(o.out, in, sizeof in - 1);
    output_free(&o);
}

static void test_nul_byte(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 1);
    put(w, CELL_LOG_STDOUT, "a\0b\n", 4);
    cell_log_writer_close(w);
    _cleanup_free_ char *v = only_log_value(d);
    assert_string_equal(v, "a\\u0000b\\n");
    struct output o = read_ok(d, &ALL);
    assert_int_equal(o.out_len, 4);
    assert_memory_equal(o.out, "a\0b\n", 4);
    output_free(&o);
}

static void test_invalid_utf8(void **state)
{
    int d = dirfd_of(state);
    /* Each byte Go's utf8.DecodeRune refuses is one U+FFFD: a lone FF, a
     * lead byte without its continuation, a truncated sequence, a
     * surrogate (ED A0 80), a code point past U+10FFFF (F4 90 80 80), an
     * overlong NUL (C0 80). Valid ones stay raw; U+2028 is escaped. */
    static const char in[] = "\xff\xc3(\xe2\x82\xe2\x82\xac\xed\xa0\x80\xf4\x90\x80\x80\xc0\x80"
                             "\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x98\x80\n";
    struct cell_log_writer *w = writer(d, 0, 1);
    put(w, CELL_LOG_STDOUT, in, sizeof in - 1);
    cell_log_writer_close(w);
    _cleanup_free_ char *v = only_log_value(d);
    assert_string_equal(v, "\\ufffd\\ufffd(\\ufffd\\ufffd\xe2\x82\xac"
                           "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
                           "\xc3\xa9\\u2028\\u2029\xf0\x9f\x98\x80\\n");
    /* What the reader prints is what the file says: U+FFFD for the bad. */
    struct output o = read_ok(d, &ALL);
    assert_string_equal(o.out, "\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                               "\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x98\x80\n");
    output_free(&o);
}

/* The "log" values of the entries of a file, in order. */
static size_t log_values(int dirfd, const char *name, char **vals, size_t max, char *streams)
{
    _cleanup_free_ char *text = file_text(dirfd, name);
    assert_non_null(text);
    size_t n = 0;
    for (char *line = text; *line; n++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(n < max);
        assert_true(strncmp(line, "{\"log\":\"", 8) == 0);
        char *end = strstr(line, "\",\"stream\":\"");
        assert_true(end && end < nl);
        vals[n] = strndup(line + 8, (size_t)(end - line - 8));
        if (streams)
            streams[n] = strncmp(end + 12, "stderr\"", 7) == 0 ? 'e' : 'o';
        line = nl + 1;
    }
    return n;
}

static void free_values(char **vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
}

static void test_long_line_split(void **state)
{
    int d = dirfd_of(state);
    size_t len = 40 * 1024;
    char *line = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        line[i] = (char)('a' + i % 26);
    line[len] = '\n';
    struct cell_log_writer *w = writer(d, 0, 1);
    /* Fed in odd sizes, as reads from a pipe come. */
    for (size_t off = 0; off < len + 1; off += 3001)
        put(w, CELL_LOG_STDOUT, line + off, len + 1 - off < 3001 ? len + 1 - off : 3001);
    cell_log_writer_close(w);
    char *vals[8];
    size_t n = log_values(d, LOG, vals, 8, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(vals[0]), 16384);
    assert_memory_equal(vals[0], line, 16384);
    assert_int_equal(strlen(vals[1]), 16384);
    assert_memory_equal(vals[1], line + 16384, 16384);
    assert_int_equal(strlen(vals[2]), 8192 + 2);
    assert_memory_equal(vals[2], line + 32768, 8192);
    assert_string_equal(vals[2] + 8192, "\\n");
    free_values(vals, n);
    /* `logs` gives the line back whole. */
    struct output o = read_ok(d, &ALL);
    assert_int_equal(o.out_len, len + 1);
    assert_memory_equal(o.out, line, len + 1);
    output_free(&o);
    free(line);
}

static void test_split_boundary(void **state)
{
    int d = dirfd_of(state);
    char buf[16385];
    memset(buf, 'x', sizeof buf);
    struct cell_log_writer *w = writer(d, 0, 1);
    /* 16383 bytes and the newline fit in Docker's 16 KiB buffer: whole. */
    buf[16383] = '\n';
    put(w, CELL_LOG_STDOUT, buf, 16384);
    /* 16384 bytes do not leave room for the newline: a piece, then "\n". */
    buf[16383] = 'x';
    buf[16384] = '\n';
    put(w, CELL_LOG_STDOUT, buf, 16385);
    cell_log_writer_close(w);
    char *vals[8];
    size_t n = log_values(d, LOG, vals, 8, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(vals[0]), 16383 + 2);
    assert_int_equal(strlen(vals[1]), 16384);
    assert_string_equal(vals[2], "\\n");
    free_values(vals, n);
}

static void test_partial_lines_and_streams(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 1);
    puts_out(w, "hel");
    put(w, CELL_LOG_STDERR, "warn", 4);
    puts_out(w, "lo\nwor");
    put(w, CELL_LOG_STDERR, "ing\n", 4);
    puts_out(w, "ld\n\nlast");
    put(w, CELL_LOG_STDERR, "err-tail", 8);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_log_writer_flush(w, &err), 0);
    cell_log_writer_close(w);
    char *vals[8], streams[8];
    size_t n = log_values(d, LOG, vals, 8, streams);
    assert_int_equal(n, 6);
    const char *want[] = {"hello\\n", "warning\\n", "world\\n", "\\n", "last", "err-tail"};
    const char want_s[] = "oeoooe";
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(vals[i], want[i]);
        assert_int_equal(streams[i], want_s[i]);
    }
    free_values(vals, n);
    struct output o = read_ok(d, &ALL);
    assert_string_equal(o.out, "hello\nworld\n\nlast");
    assert_string_equal(o.err, "warning\nerr-tail");
    output_free(&o);
}

static void test_close_flushes(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 1);
    puts_out(w, "no newline");
    cell_log_writer_close(w);
    struct output o = read_ok(d, &ALL);
    assert_string_equal(o.out, "no newline");
    output_free(&o);
}

static void test_append_to_existing(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 1);
    puts_out(w, "one\n");
    cell_log_writer_close(w);
    w = writer(d, 0, 1);
    puts_out(w, "two\n");
    cell_log_writer_close(w);
    struct output o = read_ok(d, &ALL);
    assert_string_equal(o.out, "one\ntwo\n");
    output_free(&o);
    struct stat st;
    assert_int_equal(fstatat(d, LOG, &st, 0), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
}

/* ---- rotation ---------------------------------------------------------------------- */

static void write_numbered(struct cell_log_writer *w, int from, int to)
{
    char line[64];
    for (int i = from; i < to; i++) {
        snprintf(line, sizeof line, "line %03d\n", i);
        puts_out(w, line);
    }
}

static void expect_numbered(const char *out, int from, int to)
{
    char want[8192] = "";
    size_t n = 0;
    for (int i = from; i < to; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "line %03d\n", i);
    assert_string_equal(out, want);
}

static void test_rotation(void **state)
{
    int d = dirfd_of(state);
    /* An entry here is 69 to 79 bytes (the time's fraction loses its
     * trailing zeros): three fill a 200-byte file, since the size is below
     * 200 before each of them; the fourth goes to a new one, as Docker
     * checks the size before writing. */
    struct cell_log_writer *w = writer(d, 200, 3);
    write_numbered(w, 0, 20);
    cell_log_writer_close(w);
    assert_true(exists(d, LOG));
    assert_true(exists(d, LOG ".1"));
    assert_true(exists(d, LOG ".2"));
    assert_false(exists(d, LOG ".3"));
    assert_false(exists(d, LOG ".0"));
    /* 20 entries of 3 per file: 18 rotated away in 6 files, 2 current. */
    char *vals[8];
    size_t n = log_values(d, LOG, vals, 8, NULL);
    assert_int_equal(n, 2);
    assert_string_equal(vals[0], "line 018\\n");
    free_values(vals, n);
    n = log_values(d, LOG ".1", vals, 8, NULL);
    assert_int_equal(n, 3);
    assert_string_equal(vals[0], "line 015\\n");
    free_values(vals, n);
    n = log_values(d, LOG ".2", vals, 8, NULL);
    assert_int_equal(n, 3);
    assert_string_equal(vals[0], "line 012\\n");
    free_values(vals, n);
    assert_true(file_size(d, LOG ".1") >= 200 && file_size(d, LOG ".1") < 300);
    assert_true(file_size(d, LOG ".2") >= 200 && file_size(d, LOG ".2") < 300);

    struct output o = read_ok(d, &ALL);
    expect_numbered(o.out, 12, 20);
    output_free(&o);
    /* tail counts over all files, from the newest back. */
    struct cell_log_read_opts t = {.tail = 5};
    o = read_ok(d, &t);
    expect_numbered(o.out, 15, 20);
    output_free(&o);
    t.tail = 1;
    o = read_ok(d, &t);
    expect_numbered(o.out, 19, 20);
    output_free(&o);
    t.tail = 6;
    o = read_ok(d, &t);
    expect_numbered(o.out, 14, 20);
    output_free(&o);
    t.tail = 100;
    o = read_ok(d, &t);
    expect_numbered(o.out, 12, 20);
    output_free(&o);
    t.tail = 0;
    o = read_ok(d, &t);
    assert_int_equal(o.out_len, 0);
    output_free(&o);
}

static void test_rotation_reopen_keeps_size(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 200, 2);
    write_numbered(w, 0, 3);
    cell_log_writer_close(w);
    /* A new writer (a restarted monitor) counts what the file holds. */
    w = writer(d, 200, 2);
    write_numbered(w, 3, 4);
    cell_log_writer_close(w);
    assert_true(exists(d, LOG ".1"));
    struct output o = read_ok(d, &ALL);
    expect_numbered(o.out, 0, 4);
    output_free(&o);
}

static void test_rotation_single_file(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 200, 1);
    write_numbered(w, 0, 10);
    cell_log_writer_close(w);
    assert_false(exists(d, LOG ".1"));
    struct output o = read_ok(d, &ALL);
    expect_numbered(o.out, 9, 10);
    output_free(&o);
}

static void test_rotation_failure_keeps_writing(void **state)
{
    int d = dirfd_of(state);
    /* The oldest file cannot be removed (a directory stands there). */
    assert_int_equal(mkdirat(d, LOG ".2", 0755), 0);
    struct cell_log_writer *w = writer(d, 200, 3);
    write_numbered(w, 0, 3);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_log_writer_write(w, CELL_LOG_STDOUT, "line 003\n", 9, &err) < 0);
    assert_string_equal(cell_error_text(&err), "remove log container.log.2: Is a directory");
    /* The log stays bounded and usable: started anew, as Docker does, with
     * the entry whose rotation failed and the ones after it. */
    write_numbered(w, 4, 5);
    cell_log_writer_close(w);
    struct output o = read_ok(d, &ALL);
    expect_numbered(o.out, 3, 5);
    output_free(&o);
    assert_false(exists(d, LOG ".1"));
    assert_int_equal(unlinkat(d, LOG ".2", AT_REMOVEDIR), 0);
}

static void test_no_rotation_without_max_size(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 5);
    write_numbered(w, 0, 50);
    cell_log_writer_close(w);
    assert_false(exists(d, LOG ".1"));
    struct output o = read_ok(d, &ALL);
    expect_numbered(o.out, 0, 50);
    output_free(&o);
}

/* ---- reading ----------------------------------------------------------------------- */

/* Entries at 2026-12-03T17:28:21Z + i seconds (i = 1..4). */
#define T0 (1796318901LL * 1000000000)

static void write_timed(int dirfd)
{
    write_file(dirfd, LOG,
               "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T17:28:22Z\"}\n"
               "{\"log\":\"two\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-03T17:28:23.1Z\"}\n"
               "{\"log\":\"three\\n\",\"stream\":\"stdout\","
               "\"time\":\"2026-12-03T18:28:24+01:00\"}\n"
               "{\"log\":\"four\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T17:28:25Z\"}\n");
}

static void test_since_until(void **state)
{
    int d = dirfd_of(state);
    write_timed(d);
    struct cell_log_read_opts o = {.tail = -1, .since_ns = T0 + 3000000000LL};
    struct output r = read_ok(d, &o);
    assert_string_equal(r.out, "three\nfour\n");
    assert_string_equal(r.err, "");
    output_free(&r);
    o.since_ns = T0 + 2000000000LL; /* two is at .1 past it: kept */
    r = read_ok(d, &o);
    assert_string_equal(r.out, "three\nfour\n");
    assert_string_equal(r.err, "two\n");
    output_free(&r);
    o = (struct cell_log_read_opts){.tail = -1, .until_ns = T0 + 3000000000LL};
    r = read_ok(d, &o);
    assert_string_equal(r.out, "one\nthree\n"); /* until is inclusive */
    output_free(&r);
    o.since_ns = T0 + 2500000000LL;
    r = read_ok(d, &o);
    assert_string_equal(r.out, "three\n");
    assert_string_equal(r.err, "");
    output_free(&r);
    /* As Docker: the tail is taken first, since filters what it gives. */
    o = (struct cell_log_read_opts){.tail = 2, .since_ns = T0 + 1000000000LL};
    r = read_ok(d, &o);
    assert_string_equal(r.out, "three\nfour\n");
    assert_string_equal(r.err, "");
    output_free(&r);
}

static void test_timestamps(void **state)
{
    int d = dirfd_of(state);
    write_timed(d);
    struct cell_log_read_opts o = {.tail = -1, .timestamps = true};
    struct output r = read_ok(d, &o);
    assert_string_equal(r.out, "2026-12-03T17:28:22.000000000Z one\n"
                               "2026-12-03T17:28:24.000000000Z three\n"
                               "2026-12-03T17:28:25.000000000Z four\n");
    assert_string_equal(r.err, "2026-12-03T17:28:23.100000000Z two\n");
    output_free(&r);
}

static void test_shared_fd_keeps_order(void **state)
{
    int d = dirfd_of(state);
    write_timed(d);
    int fd = memfd_create("both", MFD_CLOEXEC);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_log_read(d, LOG, &ALL, fd, fd, &err), 0);
    size_t len;
    _cleanup_free_ char *s = memfd_text(fd, &len);
    assert_string_equal(s, "one\ntwo\nthree\nfour\n");
}

static void test_missing_log(void **state)
{
    struct output r = read_ok(dirfd_of(state), &ALL);
    assert_int_equal(r.out_len + r.err_len, 0);
    output_free(&r);
}

static void test_incomplete_last_entry(void **state)
{
    int d = dirfd_of(state);
    /* The writer's entry in progress is not a line yet. */
    write_file(d, LOG,
               "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T17:28:22Z\"}\n"
               "{\"log\":\"tw");
    struct output r = read_ok(d, &ALL);
    assert_string_equal(r.out, "one\n");
    output_free(&r);
    struct cell_log_read_opts o = {.tail = 1};
    r = read_ok(d, &o);
    assert_string_equal(r.out, "one\n");
    output_free(&r);
}

static void test_corrupt_entry(void **state)
{
    int d = dirfd_of(state);
    write_file(d, LOG,
               "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T17:28:22Z\"}\n"
               "garbage\n"
               "{\"log\":\"two\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T17:28:23Z\"}\n");
    struct output r;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(read_log(d, &ALL, &r, &err) < 0);
    assert_string_equal(r.out, "one\n");
    const char *msg = cell_error_text(&err);
    if (!strstr(msg, "log container.log at byte 64: not a json-file entry"))
        fail_msg("%s", msg);
    output_free(&r);
}

/* ---- follow -------------------------------------------------------------------------- */

static pid_t child;

static bool child_running(void *data)
{
    (void)data;
    return waitpid(child, NULL, WNOHANG) == 0;
}

static void test_follow_across_rotation(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 200, 6);
    write_numbered(w, 0, 4);
    cell_log_writer_close(w);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* The monitor: a line every 8 ms, a rotation every third. */
        w = writer(d, 200, 6);
        for (int i = 4; i < 60; i++) {
            usleep(8000);
            write_numbered(w, i, i + 1);
        }
        cell_log_writer_close(w);
        _exit(0);
    }
    struct cell_log_read_opts o = {.tail = 2, .follow = true, .running = child_running};
    int64_t start = now_ns();
    struct output r = read_ok(d, &o);
    /* All lines written while following, none twice, though most of them
     * were rotated away long before the end. */
    expect_numbered(r.out, 2, 60);
    assert_true(exists(d, LOG ".5"));
    assert_false(exists(d, LOG ".6"));
    assert_true(now_ns() - start < 10 * 1000000000LL);
    output_free(&r);
}

static struct cell_log_writer *burst_writer;

/* The first call writes lines 4..9 at once: two rotations happen before the
 * follower drains again, so the file it holds is name.2 by then. */
static bool burst_then_stop(void *data)
{
    (void)data;
    if (!burst_writer)
        return false;
    write_numbered(burst_writer, 4, 10);
    cell_log_writer_close(burst_writer);
    burst_writer = NULL;
    return true;
}

static void test_follow_catches_up_missed_rotations(void **state)
{
    int d = dirfd_of(state);
    burst_writer = writer(d, 200, 5);
    write_numbered(burst_writer, 0, 4); /* name.1: 0-2, name: 3 */
    struct cell_log_read_opts o = {.tail = -1, .follow = true, .running = burst_then_stop};
    struct output r = read_ok(d, &o);
    assert_true(exists(d, LOG ".3"));
    expect_numbered(r.out, 0, 10);
    output_free(&r);
}

static int calls;

static bool stop_after_three(void *data)
{
    (void)data;
    return ++calls < 3;
}

static void test_follow_ends_when_stopped(void **state)
{
    int d = dirfd_of(state);
    struct cell_log_writer *w = writer(d, 0, 1);
    puts_out(w, "old\n");
    cell_log_writer_close(w);
    calls = 0;
    struct cell_log_read_opts o = {.tail = -1, .follow = true, .running = stop_after_three};
    int64_t start = now_ns();
    struct output r = read_ok(d, &o);
    int64_t took = now_ns() - start;
    assert_string_equal(r.out, "old\n");
    assert_int_equal(calls, 3);
    /* Two waits of ~200 ms: not a busy loop, not stuck. */
    assert_true(took >= 300 * 1000000LL && took < 3000 * 1000000LL);
    output_free(&r);
}

static void test_follow_waits_for_file(void **state)
{
    int d = dirfd_of(state);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        usleep(100000);
        struct cell_log_writer *cw = writer(d, 0, 1);
        puts_out(cw, "late\n");
        put(cw, CELL_LOG_STDERR, "late err\n", 9);
        cell_log_writer_close(cw);
        _exit(0);
    }
    struct cell_log_read_opts o = {.tail = 0, .follow = true, .running = child_running};
    struct output r = read_ok(d, &o);
    assert_string_equal(r.out, "late\n");
    assert_string_equal(r.err, "late err\n");
    output_free(&r);
}

static void test_follow_until(void **state)
{
    int d = dirfd_of(state);
    write_timed(d);
    /* An until in the past: what is there, then no following at all. */
    struct cell_log_read_opts o = {
        .tail = -1, .until_ns = T0 + 3500000000LL, .follow = true, .running = NULL};
    struct output r = read_ok(d, &o);
    assert_string_equal(r.out, "one\nthree\n");
    output_free(&r);
}

/* ---- options -------------------------------------------------------------------------- */

static void opts_ok(char *const *v, size_t n, int64_t size, int files)
{
    struct cell_log_opts o;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_log_opts_parse(v, n, &o, &err) < 0)
        fail_msg("%s", cell_error_text(&err));
    assert_int_equal(o.max_size, size);
    assert_int_equal(o.max_file, files);
}

static void opts_bad(const char *opt, const char *msg)
{
    char *v[] = {(char *)opt};
    struct cell_log_opts o = {-7, -7};
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_log_opts_parse(v, 1, &o, &err) < 0);
    assert_string_equal(cell_error_text(&err), msg);
    assert_int_equal(o.max_size, -7);
}

static void test_opts(void **state)
{
    (void)state;
    opts_ok(NULL, 0, 0, 1);
    char *a[] = {"max-size=10m", "max-file=3"};
    /* go-units' FromHumanSize, as Docker: decimal multiples. */
    opts_ok(a, 2, 10000000, 3);
    char *b[] = {"max-size=1k"};
    opts_ok(b, 1, 1000, 1);
    char *c[] = {"max-size=1.5g", "max-size=100"};
    opts_ok(c, 2, 100, 1); /* the last one wins, as in Docker's map */
    char *e[] = {"max-size=2KiB"};
    opts_ok(e, 1, 2000, 1);
    char *f[] = {"max-size=1.5g"};
    opts_ok(f, 1, 1500000000, 1);
    char *g[] = {"max-file=4"};
    opts_ok(g, 1, 0, 4); /* Docker takes it: nothing rotates */
}

static void test_opts_errors(void **state)
{
    (void)state;
    opts_bad("max-size=12q", "invalid --log-opt \"max-size=12q\": invalid size: '12q'");
    opts_bad("max-size=", "invalid --log-opt \"max-size=\": invalid size: ''");
    opts_bad("max-size=-1", "invalid --log-opt \"max-size=-1\": invalid size: '-1'");
    opts_bad("max-size=0", "invalid --log-opt \"max-size=0\": max-size must be a positive number");
    opts_bad("max-file=0", "invalid --log-opt \"max-file=0\": max-file cannot be less than 1");
    opts_bad("max-file=x",
             "invalid --log-opt \"max-file=x\": strconv.Atoi: parsing \"x\": invalid syntax");
    opts_bad("max-file=99999999999", "invalid --log-opt \"max-file=99999999999\": strconv.Atoi: "
                                     "parsing \"99999999999\": value out of range");
    opts_bad("foo=bar", "unknown log opt 'foo' for json-file log driver");
    opts_bad("max-sizes=1", "unknown log opt 'max-sizes' for json-file log driver");
    opts_bad("compress=true",
             "log opt 'compress' of the json-file log driver is not supported by cell");
}

/* ---- --since / --until values --------------------------------------------------------- */

static int64_t tp(const char *s, int64_t now)
{
    int64_t out;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_log_time_parse(s, now, &out, &err) < 0)
        fail_msg("%s: %s", s, cell_error_text(&err));
    return out;
}

static void tp_bad(const char *s, const char *msg)
{
    int64_t out;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_log_time_parse(s, T0, &out, &err) < 0);
    assert_string_equal(cell_error_text(&err), msg);
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t s = 1000000000LL;
    int64_t now = T0 + 250000000; /* 2026-12-03T17:28:21.25Z */
    setenv("TZ", "UTC", 1);
    tzset();
    /* Durations: now minus, in whole seconds as Docker sends them. */
    assert_int_equal(tp("10m", now), T0 - 600 * s);
    assert_int_equal(tp("1h30m", now), T0 - 5400 * s);
    assert_int_equal(tp("1.5s", now), T0 - 2 * s); /* 19.75 -> 19 */
    assert_int_equal(tp("-1h", now), T0 + 3600 * s);
    /* RFC3339 and its shorter forms. */
    assert_int_equal(tp("2026-12-03T17:28:21Z", now), T0);
    assert_int_equal(tp("2026-12-03T17:28:21.5Z", now), T0 + s / 2);
    assert_int_equal(tp("2026-12-03T18:28:21+01:00", now), T0);
    assert_int_equal(tp("2026-12-03T12:28:21-05:00", now), T0);
    assert_int_equal(tp("2026-12-03T17:28Z", now), T0 - 21 * s);
    assert_int_equal(tp("2026-12-03T17Z", now), T0 - (28 * 60 + 21) * s);
    assert_int_equal(tp("2026-12-03T7Z", now), T0 - (10 * 3600 + 28 * 60 + 21) * s);
    assert_int_equal(tp("2026-12-03T17:28:21.1234567891Z", now), T0 + 123456789);
    assert_int_equal(tp("2026-12-03Z", now), T0 - (17 * 3600 + 28 * 60 + 21) * s);
    /* Without a zone: local time (UTC here, then UTC+2). */
    assert_int_equal(tp("2026-12-03", now), T0 - (17 * 3600 + 28 * 60 + 21) * s);
    assert_int_equal(tp("2026-12-03T17:28:21.000000001", now), T0 + 1);
    setenv("TZ", "XYZ-2", 1);
    tzset();
    assert_int_equal(tp("2026-12-03T19:28:21", now), T0);
    assert_int_equal(tp("2026-12-03T19:28", now), T0 - 21 * s);
    assert_int_equal(tp("2026-12-03T17:28:21Z", now), T0);
    setenv("TZ", "UTC", 1);
    tzset();
    /* Unix seconds, the fraction scaled as Docker does. */
    assert_int_equal(tp("1700000000", now), 1700000000 * s);
    assert_int_equal(tp("1700000000.5", now), 1700000000 * s + s / 2);
    assert_int_equal(tp("1700000000.000000001", now), 1700000000 * s + 1);
    assert_int_equal(tp("0", now), 0);

    tp_bad("x", "failed to parse value as time or duration: \"x\"");
    tp_bad("1.+5", "failed to parse value as time or duration: \"1.+5\"");
    tp_bad("3d", "failed to parse value as time or duration: \"3d\"");
    tp_bad("2013-13-01", "parsing time \"2013-13-01\": month out of range");
    tp_bad("2026-02-29", "parsing time \"2026-02-29\": day out of range");
    tp_bad("2026-12-03T24:00", "parsing time \"2026-12-03T24:00\": hour out of range");
    tp_bad("2026-1-3", "parsing time \"2026-1-3\": not a time as "
                       "2006-01-02[T15[:04[:05[.999999999]]]][Z07:00]");
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    /* A reader writing to a closed pipe gets EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entry_format, setup, teardown),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_lines_and_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_to_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_reopen_keeps_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_single_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_failure_keeps_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_rotation_without_max_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since_until, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_fd_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_last_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_across_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_catches_up_missed_rotations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_ends_when_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_waits_for_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_until, setup, teardown),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_opts_errors),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A container's log in Docker's json-file format: one JSON object per line,
 *   {"log":"hello\n","stream":"stdout","time":"2026-12-03T17:28:26.123456789Z"}
 * written by the container's monitor (the writer) and read by `cell logs`
 * (the reader), so that files, options and output match what Docker's
 * json-file driver and `docker logs` produce. Nothing here prints or exits. */
#pragma once

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Docker's copier cuts a line that has no newline within 16 KiB into pieces
 * of this many bytes; each piece is one entry without the newline. */
#define CELL_LOG_SPLIT_SIZE (16 * 1024)

enum cell_log_stream { CELL_LOG_STDOUT, CELL_LOG_STDERR };

struct cell_log_opts {
    int64_t max_size; /* bytes; 0 = never rotate */
    int max_file;     /* files kept, the current one included; >= 1 */
};

/* Docker's json-file --log-opt list ("max-size=10m", "max-file=3"). max-size
 * takes go-units' FromHumanSize spelling, as Docker does: a decimal number
 * with an optional k, m, g, t or p (powers of 1000, any case), optionally
 * followed by "b" or "ib". Docker's other json-file keys (compress, labels,
 * labels-regex, env, env-regex, tag) are refused as not supported; any other
 * key is unknown. On error *out is untouched and err holds one line naming
 * the option. No option gives {0, 1}: one file that never rotates. */
int cell_log_opts_parse(char *const *opts, size_t n, struct cell_log_opts *out, cell_err_t *err);

/* The length of the valid UTF-8 sequence at s (n bytes left; Go's rules: no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0. Go's JSON writes
 * each byte that is not part of one as U+FFFD. */
size_t cell_log_utf8_seq(const unsigned char *s, size_t n);

/* ---- the writer (the monitor) --------------------------------------------- */

struct cell_log_writer;

/* Opens dirfd/name for appending (created 0640, O_CLOEXEC); the writer keeps
 * its own duplicate of dirfd. Rotation (before an entry, when the current
 * file has reached max_size) renames name -> name.1 -> ... ->
 * name.(max_file-1), dropping the oldest; with max_file 1 the file is
 * removed and started anew. o NULL = no rotation. */
int cell_log_writer_open(int dirfd, const char *name, const struct cell_log_opts *o,
                         struct cell_log_writer **out, cell_err_t *err);

/* Bytes read from the container's stdout or stderr (from a pty everything is
 * stdout). Each complete line becomes one entry, stamped with the time it is
 * written; the rest is kept per stream until its newline comes or it
 * reaches CELL_LOG_SPLIT_SIZE bytes, then written without a newline. */
int cell_log_writer_write(struct cell_log_writer *w, enum cell_log_stream s, const char *buf,
                          size_t len, cell_err_t *err);

/* Writes the kept partial lines (no newline), as Docker does at EOF. */
int cell_log_writer_flush(struct cell_log_writer *w, cell_err_t *err);

/* Flushes (errors ignored: call cell_log_writer_flush to see them), closes
 * and frees. NULL is allowed. */
void cell_log_writer_close(struct cell_log_writer *w);

/* ---- the reader (`cell logs`) --------------------------------------------- */

struct cell_log_read_opts {
    long tail;                  /* last N entries over all files, -1 = all, 0 = none */
    int64_t since_ns, until_ns; /* unix ns; 0 = unbounded. Kept: since <= time <= until */
    bool timestamps;            /* prefix each entry with "<RFC3339, 9 digits>Z " */
    bool follow;                /* keep reading new entries, across rotation */
    /* While following: called about every 200 ms and on each wake-up; once
     * it returns false what is written is read and the call returns. NULL =
     * always true (follow until until_ns passes, or forever). */
    bool (*running)(void *data);
    void *data;
};

/* Writes the entries of dirfd/name and its rotated files, oldest first, to
 * out_fd (stdout entries) and err_fd (stderr entries): the "log" text as it
 * was written, prefixed with its time when o->timestamps. As Docker does,
 * tail picks the last N entries first and since/until filter those; an
 * entry after until_ns ends the read. A missing log prints nothing and is
 * success (a follower waits for it to appear). An entry that is not valid
 * JSON ends the read with an error naming the file and byte offset, after
 * the entries before it were written. */
int cell_log_read(int dirfd, const char *name, const struct cell_log_read_opts *o, int out_fd,
                  int err_fd, cell_err_t *err);

/* ---- times ------------------------------------------------------------------ */

/* Docker's --since/--until values, as the docker client reads them, given
 * the time now: a duration before now ("10m", "1h30m", "-5m" is after now;
 * whole seconds, as Docker sends them), an RFC3339 time with or without
 * fraction and zone, down to a date alone ("2026-12-03", "2026-12-03T17",
 * "2026-12-03T17:28:26.5+01:00"; without a zone it is local time at now's
 * UTC offset), or unix seconds with an optional fraction ("1700000000.5").
 * "0" is 0 (unbounded). Errors read as Docker's: `failed to parse value as
 * time or duration: "x"`, `parsing time "2013-13-01": month out of range`. */
int cell_log_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, cell_err_t *err);

/* The "time" of an entry: RFC3339 with an optional fraction of 1-9 digits
 * and a zone (Z or +hh:mm). 0, or -EINVAL. */
int cell_log_rfc3339_parse(const char *s, size_t len, int64_t *out_ns);

/* Formats unix ns as the "time" of an entry (RFC3339, UTC, fraction without
 * trailing zeros, as Go's RFC3339Nano) or, fixed, as `logs -t` prints it
 * (always 9 digits). out needs 36 bytes; returns the length. */
size_t cell_log_time_format(int64_t ns, bool fixed, char out[36]);

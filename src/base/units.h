/* Sizes and durations as people type them on a command line: Docker's and
 * Go's spellings, so that `-m 512m`, `--shm-size 1g`, `--interval 500ms`
 * and `--since 1h30m` mean what they mean there. Pure parsing. */
#pragma once

#include <stdint.h>

/* A size in bytes: a decimal number (a fraction is allowed: "1.5g") with an
 * optional unit b, k, m, g, t or p (powers of 1024, any case), optionally
 * followed by "b" or "ib" ("512MiB", "10kb"); "-1" is -1 (unlimited, as
 * runc and Docker take it). -EINVAL for anything else or a negative size,
 * -ERANGE past INT64_MAX. */
int cell_size_parse(const char *s, int64_t *bytes);

/* A duration in nanoseconds, as Go's time.ParseDuration reads it: one or
 * more decimal numbers, each with a unit ns, us (or µs), ms, s, m or h
 * ("300ms", "1.5h", "2h45m"); "0" alone is 0. -EINVAL for anything else
 * (no sign: durations here are never negative), -ERANGE past INT64_MAX. */
int cell_duration_parse(const char *s, int64_t *ns);

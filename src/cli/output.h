/* What the command line prints: JSON documents, aligned tables, and the one
 * line that reports an error (also appended to the --log file in the format
 * that podman and containerd read from runc). */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints j followed by a newline: indented by indent spaces per level, or on
 * one line when indent is 0. Returns -1 with err set when writing fails. */
int cli_print_json(FILE *out, const json_t *j, int indent, cell_err_t *err);

/* A table printed like Go's text/tabwriter prints runc's `list`: each column
 * as wide as its widest cell plus padding, at least min_width; the last
 * column is not padded. Widths count characters, not bytes. */
struct cli_table {
    size_t ncols;
    char **cells; /* row-major copies, NULL-terminated */
};

/* Appends one row of t->ncols cells (copied). -1 on ENOMEM. */
int cli_table_add_row(struct cli_table *t, const char *const *cells);
void cli_table_print(FILE *out, const struct cli_table *t, size_t min_width, size_t padding);
void cli_table_clear(struct cli_table *t);

enum cli_log_format { CLI_LOG_TEXT, CLI_LOG_JSON };

struct cli_log {
    const char *path; /* --log FILE, or NULL */
    enum cli_log_format format;
};

/* "text" or "json" (--log-format); -1 for anything else. */
int cli_log_format_from_string(const char *s, enum cli_log_format *out);

/* Prints "<prog>: <msg>" as one line on stderr and, when log->path is set,
 * appends an error record to that file:
 *   text: time="2026-01-02T03:04:05Z" level=error msg="..."
 *   json: {"level":"error","msg":"...","time":"2026-01-02T03:04:05Z"}
 * containerd reports the msg of the last error record it finds there. */
void cli_report_error(const char *prog, const struct cli_log *log, const char *msg);

/* A warning goes where runc's go: to the --log file as a record at level
 * "warning" when there is one, else to stderr as "<prog>: warning: <msg>". */
void cli_report_warning(const char *prog, const struct cli_log *log, const char *msg);

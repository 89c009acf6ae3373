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

/* How a column's width is counted: in runes (Go's text/tabwriter, runc's
 * list) or in terminal cells (docker/cli's tabwriter: East Asian wide
 * characters and emoji count two, combining marks none). */
enum cli_text_width { CLI_WIDTH_RUNES, CLI_WIDTH_CELLS };

size_t cli_text_width(const char *s, size_t n, enum cli_text_width mode);

/* Writes text aligned as Go's tabwriter.NewWriter(out, min_width, 1, padding,
 * ' ', 0) and Flush write it: cells end at tabs, columns of contiguous lines
 * as wide as their widest cell plus padding. -1 on ENOMEM. */
int cli_tabwrite(FILE *out, const char *text, size_t len, size_t min_width, size_t padding,
                 enum cli_text_width mode);

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

/* A column header for a field of a --format template: {".ID", "CONTAINER ID"}.
 * Arrays of them end with {NULL, NULL}. */
struct cli_header {
    const char *field;
    const char *label;
};

/* Prints rows (an array of objects) as docker/cli's formatter does for
 * `--format`: NULL, "" or "table" use default_format; "json" prints each row
 * as one line of compact JSON; "table TEMPLATE" prints a header line (the
 * template executed over each field's label: from headers, else the field's
 * name in capitals split at its words, "RunningFor" -> "RUNNING FOR") and
 * the rows, aligned as docker's tabwriter (min width 10, padding 3); any
 * other TEMPLATE prints one rendered line per row. In a template the typed
 * sequences \t and \n stand for a tab and a newline. A missing field is an
 * error, as it is in Docker. Nothing is printed when a row fails; the error
 * reads "template parsing error: template: :1:2: executing ...". */
int cli_print_formatted(FILE *out, const char *format, json_t *rows, const char *default_format,
                        const struct cli_header *headers, cell_err_t *err);

/* Prints objs (an array of objects, or one object) as `docker inspect`
 * does: format NULL or "" as a JSON array indented by four spaces, "json" as
 * that array on one line, else the template rendered once per object, one
 * line each (no \t translation, no table). */
int cli_print_object_formatted(FILE *out, const char *format, json_t *objs, cell_err_t *err);

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

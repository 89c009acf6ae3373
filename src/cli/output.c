#include "cli/output.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int cli_print_json(FILE *out, const json_t *j, int indent, cell_err_t *err)
{
    size_t flags = JSON_ENCODE_ANY | (indent > 0 ? JSON_INDENT(indent) : JSON_COMPACT);
    if (json_dumpf(j, out, flags) < 0 || fputc('\n', out) == EOF || fflush(out) == EOF)
        return cell_error(err, errno, "write JSON to standard output");
    return 0;
}

int cli_table_add_row(struct cli_table *t, const char *const *cells)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (cell_strv_push(&t->cells, cells[i] ? cells[i] : "") < 0)
            return -1;
    return 0;
}

/* Characters in a UTF-8 string: every byte but the continuation bytes. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static size_t column_width(const struct cli_table *t, size_t col, size_t min_width, size_t padding)
{
    size_t width = 0, ncells = cell_strv_len(t->cells);
    for (size_t i = col; i < ncells; i += t->ncols) {
        size_t w = text_width(t->cells[i]);
        if (w > width)
            width = w;
    }
    width += padding;
    return width < min_width ? min_width : width;
}

void cli_table_print(FILE *out, const struct cli_table *t, size_t min_width, size_t padding)
{
    size_t ncells = cell_strv_len(t->cells);
    if (t->ncols == 0)
        return;
    size_t widths[t->ncols];
    for (size_t c = 0; c < t->ncols; c++)
        widths[c] = column_width(t, c, min_width, padding);
    for (size_t i = 0; i < ncells; i++) {
        size_t col = i % t->ncols;
        bool last = col == t->ncols - 1;
        /* Go's tabwriter leaves the text after the last tab unaligned. */
        if (last)
            fprintf(out, "%s\n", t->cells[i]);
        else
            fprintf(out, "%s%*s", t->cells[i], (int)(widths[col] - text_width(t->cells[i])), "");
    }
}

void cli_table_clear(struct cli_table *t)
{
    cell_strv_free(t->cells);
    t->cells = NULL;
}

int cli_log_format_from_string(const char *s, enum cli_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = CLI_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = CLI_LOG_JSON;
    else
        return -1;
    return 0;
}

/* RFC 3339 in UTC, the way runc's logrus stamps its records. */
static void format_now(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* msg as a quoted string in Go's %q style, which logrus's text format uses. */
static void append_quoted(FILE *f, const char *msg)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The whole record, built in memory so that it reaches the file in one
 * write(2) and records of concurrent runs do not interleave. */
static char *format_record(enum cli_log_format format, const char *level, const char *msg,
                           size_t *len)
{
    char now[32];
    format_now(now, sizeof(now));
    if (format == CLI_LOG_JSON) {
        json_t *rec = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
        char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
        json_decref(rec);
        char *line = NULL;
        if (text && asprintf(&line, "%s\n", text) >= 0)
            *len = strlen(line);
        free(text);
        return line;
    }
    char *line = NULL;
    FILE *f = open_memstream(&line, len);
    if (!f)
        return NULL;
    fprintf(f, "time=\"%s\" level=%s msg=", now, level);
    append_quoted(f, msg);
    fputc('\n', f);
    if (fclose(f) == EOF) {
        free(line);
        return NULL;
    }
    return line;
}

static bool same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* false when there is no --log file, or it is stderr itself. */
static bool append_to_log(const struct cli_log *log, const char *level, const char *msg)
{
    if (!log || !log->path)
        return false;
    _cleanup_close_ int fd =
        open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    /* --log /dev/stderr (runc's default) would print the line twice. */
    if (fd < 0 || same_file(fd, STDERR_FILENO))
        return false;
    size_t len = 0;
    _cleanup_free_ char *record = format_record(log->format, level, msg, &len);
    if (record)
        (void)cell_write_all(fd, record, len);
    return true;
}

/* One line, even when an inner error text carries a newline. */
static void print_line(const char *prog, const char *prefix, const char *msg)
{
    fprintf(stderr, "%s: %s", prog, prefix);
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

void cli_report_error(const char *prog, const struct cli_log *log, const char *msg)
{
    print_line(prog, "", msg);
    append_to_log(log, "error", msg);
}

void cli_report_warning(const char *prog, const struct cli_log *log, const char *msg)
{
    if (!append_to_log(log, "warning", msg))
        print_line(prog, "warning: ", msg);
}

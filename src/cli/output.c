#include "cli/output.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

/* ---- Go's text/tabwriter ------------------------------------------------------
 * Elastic tabstops: a cell is text ended by a tab; the cells in one column of
 * contiguous lines form a block as wide as its widest cell plus padding (at
 * least min_width); the text after a line's last tab belongs to no column and
 * is not padded. Blocks nest: a column's block ends where a line has no cell
 * in it, and the columns to its right are sized within that block only. */

struct tw_cell {
    const char *text;
    size_t len, width;
};

struct tw_line {
    struct tw_cell *cells;
    size_t ncells;
};

struct tabwriter {
    FILE *out;
    struct tw_line *lines;
    size_t nlines;
    size_t min_width, padding;
    size_t *widths; /* the widths of the columns of the block being written */
    size_t nwidths;
};

/* Unicode ranges drawn two columns wide (East Asian Wide and Fullwidth,
 * emoji), as go-runewidth measures them for Docker's tabwriter. */
static const uint32_t wide[][2] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x16fe4},
    {0x17000, 0x18cff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f260, 0x1f265},
    {0x1f300, 0x1f320}, {0x1f32d, 0x1f335}, {0x1f337, 0x1f37c}, {0x1f37e, 0x1f393},
    {0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3}, {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4},
    {0x1f3f8, 0x1f3fa}, {0x1f400, 0x1f43e}, {0x1f440, 0x1f440}, {0x1f442, 0x1f4fc},
    {0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567}, {0x1f57a, 0x1f57a},
    {0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f}, {0x1f680, 0x1f6c5},
    {0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7}, {0x1f6eb, 0x1f6ec},
    {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945},
    {0x1f947, 0x1f9ff}, {0x1fa70, 0x1faff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

/* Combining marks, joiners, variation selectors and emoji modifiers: they
 * draw nothing of their own. */
static const uint32_t zero_width[][2] = {
    {0x0300, 0x036f},   {0x0483, 0x0489},   {0x0591, 0x05bd}, {0x05bf, 0x05c7}, {0x0610, 0x061a},
    {0x064b, 0x065f},   {0x0670, 0x0670},   {0x06d6, 0x06ed}, {0x0e31, 0x0e31}, {0x0e34, 0x0e3a},
    {0x0e47, 0x0e4e},   {0x1ab0, 0x1aff},   {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x2028, 0x202e},
    {0x2060, 0x2064},   {0x20d0, 0x20ff},   {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff},
    {0x1f3fb, 0x1f3ff}, {0xe0000, 0xe0fff},
};

static bool in_ranges(uint32_t r, const uint32_t (*ranges)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r >= ranges[i][0] && r <= ranges[i][1])
            return true;
    return false;
}

/* One rune of UTF-8 at s; invalid bytes count as one rune each. */
static uint32_t next_rune(const unsigned char *s, size_t n, size_t *len)
{
    int need = s[0] < 0x80 ? 0 : s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc2 ? 1 : -1;
    *len = 1;
    if (need <= 0 || (size_t)need >= n)
        return need == 0 ? s[0] : 0xfffd;
    uint32_t r = s[0] & (0x3f >> need);
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0xfffd;
        r = r << 6 | (s[i] & 0x3f);
    }
    *len = (size_t)need + 1;
    return r;
}

size_t cli_text_width(const char *s, size_t n, enum cli_text_width mode)
{
    size_t width = 0;
    bool joined = false;
    for (size_t i = 0, len; i < n; i += len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && !joined) { /* printable ASCII: most of every table */
            width++;
            len = 1;
            continue;
        }
        uint32_t r = next_rune((const unsigned char *)s + i, n - i, &len);
        if (mode == CLI_WIDTH_RUNES) {
            width++;
            continue;
        }
        /* A rune after a zero-width joiner is drawn inside the one before. */
        bool after_joiner = joined;
        joined = r == 0x200d;
        if (after_joiner || r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xad ||
            in_ranges(r, zero_width, ARRAY_SIZE(zero_width)))
            continue;
        width += in_ranges(r, wide, ARRAY_SIZE(wide)) ? 2 : 1;
    }
    return width;
}

static void tw_write_lines(struct tabwriter *tw, size_t line0, size_t line1)
{
    for (size_t i = line0; i < line1; i++) {
        const struct tw_line *line = &tw->lines[i];
        for (size_t j = 0; j < line->ncells; j++) {
            const struct tw_cell *c = &line->cells[j];
            fwrite(c->text, 1, c->len, tw->out);
            if (j < tw->nwidths)
                for (size_t k = c->width; k < tw->widths[j]; k++)
                    fputc(' ', tw->out);
        }
        /* The text after the last newline is written as it is. */
        if (i + 1 < tw->nlines)
            fputc('\n', tw->out);
    }
}

/* Writes lines [line0, line1), sizing the columns from `column` rightwards. */
static void tw_format(struct tabwriter *tw, size_t line0, size_t line1)
{
    size_t column = tw->nwidths;
    for (size_t this = line0; this < line1; this ++) {
        if (column + 1 >= tw->lines[this].ncells)
            continue;
        /* A line with a cell in this column starts a block. */
        tw_write_lines(tw, line0, this);
        line0 = this;
        size_t width = tw->min_width;
        for (; this < line1 && column + 1 < tw->lines[this].ncells; this ++) {
            size_t w = tw->lines[this].cells[column].width + tw->padding;
            if (w > width)
                width = w;
        }
        tw->widths[tw->nwidths++] = width;
        tw_format(tw, line0, this);
        tw->nwidths--;
        line0 = this;
        if (this >= line1)
            break;
    }
    tw_write_lines(tw, line0, line1);
}

static int tw_add_cell(struct tw_line *line, const char *text, size_t len, enum cli_text_width mode)
{
    struct tw_cell *cells = realloc(line->cells, (line->ncells + 1) * sizeof *cells);
    if (!cells)
        return -1;
    line->cells = cells;
    line->cells[line->ncells++] = (struct tw_cell){text, len, cli_text_width(text, len, mode)};
    return 0;
}

/* Lines at '\n', cells at '\t' (and '\v'). Text that ends in a newline has
 * an empty last line, which writes nothing. */
static int tw_split(struct tabwriter *tw, const char *text, size_t len, enum cli_text_width mode)
{
    for (size_t i = 0;;) {
        struct tw_line *lines = realloc(tw->lines, (tw->nlines + 1) * sizeof *lines);
        if (!lines)
            return -1;
        tw->lines = lines;
        struct tw_line *line = &tw->lines[tw->nlines++];
        *line = (struct tw_line){0};
        if (i == len)
            return 0;
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        for (size_t start = i;;) {
            size_t stop = start;
            while (stop < end && text[stop] != '\t' && text[stop] != '\v')
                stop++;
            /* Unfinished text ending in a tab has no empty cell after it. */
            if (!(start == stop && stop == len && start > i) &&
                tw_add_cell(line, text + start, stop - start, mode) < 0)
                return -1;
            if (stop == end)
                break;
            start = stop + 1;
        }
        if (!nl)
            return 0;
        i = end + 1;
    }
}

int cli_tabwrite(FILE *out, const char *text, size_t len, size_t min_width, size_t padding,
                 enum cli_text_width mode)
{
    struct tabwriter tw = {.out = out, .min_width = min_width, .padding = padding};
    int r = tw_split(&tw, text, len, mode);
    size_t max_cells = 0;
    for (size_t i = 0; i < tw.nlines; i++)
        if (tw.lines[i].ncells > max_cells)
            max_cells = tw.lines[i].ncells;
    if (r == 0 && (tw.widths = calloc(max_cells + 1, sizeof *tw.widths)))
        tw_format(&tw, 0, tw.nlines);
    else
        r = -1;
    for (size_t i = 0; i < tw.nlines; i++)
        free(tw.lines[i].cells);
    free(tw.lines);
    free(tw.widths);
    return r;
}

void cli_table_print(FILE *out, const struct cli_table *t, size_t min_width, size_t padding)
{
    size_t ncells = cell_strv_len(t->cells);
    if (t->ncols == 0)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    for (size_t i = 0; i < ncells; i++)
        fprintf(f, "%s%c", t->cells[i], i % t->ncols == t->ncols - 1 ? '\n' : '\t');
    if (fclose(f) == 0)
        /* runc's tabwriter is Go's own, which counts runes. */
        cli_tabwrite(out, text, len, min_width, padding, CLI_WIDTH_RUNES);
    free(text);
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

/* ---- Docker's --format ----------------------------------------------------------- */

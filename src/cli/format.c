/* Docker's --format for cell's lists and inspect (output.h), over
 * base/template.c: in a file of its own so that cell-runtime, which has no
 * --format, does not link the template engine. */
#include "cli/output.h"

#include "base/cleanup.h"
#include "base/template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* {".State.Pid", "PID"}: sets {"State": {"Pid": "PID"}} in ctx. */
static int set_header_path(json_t *ctx, const char *path, const char *label)
{
    _cleanup_free_ char *copy = strdup(path[0] == '.' ? path + 1 : path);
    if (!copy)
        return -1;
    json_t *obj = ctx;
    char *save = NULL;
    char *name = strtok_r(copy, ".", &save);
    for (char *next; name && (next = strtok_r(NULL, ".", &save)); name = next) {
        json_t *sub = json_object_get(obj, name);
        if (!json_is_object(sub)) {
            sub = json_object();
            if (!sub || json_object_set_new(obj, name, sub) < 0)
                return -1;
        }
        obj = sub;
    }
    return name ? json_object_set_new(obj, name, json_string(label)) : 0;
}

/* What Docker executes a table's header template over: each field's label.
 * A field without one is named after itself by the header pass. */
static json_t *header_context(const struct cli_header *headers)
{
    json_t *ctx = json_object();
    for (const struct cli_header *h = headers; ctx && h && h->field; h++)
        if (set_header_path(ctx, h->field, h->label) < 0) {
            json_decref(ctx);
            return NULL;
        }
    return ctx;
}

/* Docker's preparation of a format: "table" and the spaces around it go, and
 * the two-character sequences \t and \n (as typed in single quotes) become a
 * tab and a newline. */
static char *prepare_format(const char *format, bool *table)
{
    *table = strncmp(format, "table", 5) == 0;
    if (*table)
        format += 5;
    while (*format == ' ')
        format++;
    size_t n = strlen(format);
    while (n > 0 && format[n - 1] == ' ')
        n--;
    char *out = malloc(n + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (format[i] == '\\' && i + 1 < n && (format[i + 1] == 't' || format[i + 1] == 'n')) {
            *p++ = format[++i] == 't' ? '\t' : '\n';
            continue;
        }
        *p++ = format[i];
    }
    *p = '\0';
    return out;
}

static void template_freep(struct cell_template **t)
{
    cell_template_free(*t);
}

#define _cleanup_template_ __attribute__((cleanup(template_freep)))

/* Parses a user's format; errors read as Docker's. */
static int parse_user_template(const char *text, struct cell_template **t, cell_err_t *err)
{
    if (cell_template_parse(text, t, err) < 0)
        return cell_error_prepend(err, "template parsing error");
    /* Docker's typed values refuse a field they lack; a JSON object's
     * missing key is the same mistake, so it fails the same way. */
    return cell_template_option(*t, "missingkey=error", err);
}

static int render_rows(const struct cell_template *t, json_t *rows, FILE *body, cell_err_t *err)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        _cleanup_free_ char *line = NULL;
        if (cell_template_render(t, row, &line, err) < 0)
            return cell_error_prepend(err, "template parsing error");
        fputs(line, body);
        fputc('\n', body);
    }
    return 0;
}

static int flush_output(FILE *out, cell_err_t *err)
{
    if (ferror(out) || fflush(out) == EOF)
        return cell_error(err, errno, "write to standard output");
    return 0;
}

int cli_print_formatted(FILE *out, const char *format, json_t *rows, const char *default_format,
                        const struct cli_header *headers, cell_err_t *err)
{
    if (!format || !*format || strcmp(format, "table") == 0)
        format = default_format;
    if (!format)
        return cell_error(err, EINVAL, "format output: no format");
    bool table = false;
    _cleanup_free_ char *text =
        strcmp(format, "json") == 0 ? strdup("{{json .}}") : prepare_format(format, &table);
    _cleanup_template_ struct cell_template *t = NULL;
    if (!text)
        return cell_error(err, ENOMEM, "format output");
    if (parse_user_template(text, &t, err) < 0)
        return -1;
    /* Everything is rendered before anything is printed: a row that fails
     * leaves no partial table behind. */
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return cell_error(err, errno, "format output");
    if (table) {
        json_t *ctx = header_context(headers);
        _cleanup_free_ char *header = NULL;
        _cleanup_err_ cell_err_t header_err = CELL_ERR_INIT;
        /* Docker prints its header even when the header template fails. */
        if (ctx && cell_template_render_header(t, ctx, &header, &header_err) == 0)
            fputs(header, f);
        fputc('\n', f);
        json_decref(ctx);
    }
    int r = render_rows(t, rows, f, err);
    if (fclose(f) == EOF && r == 0)
        r = cell_error(err, errno, "format output");
    if (r < 0)
        return r;
    if (table)
        /* docker/cli's tabwriter: NewWriter(out, 10, 1, 3, ' ', 0), which
         * measures the width of East Asian and emoji characters as two. */
        cli_tabwrite(out, body, len, 10, 3, CLI_WIDTH_CELLS);
    else
        fwrite(body, 1, len, out);
    return flush_output(out, err);
}

int cli_print_object_formatted(FILE *out, const char *format, json_t *objs, cell_err_t *err)
{
    json_t *list = json_is_array(objs) ? json_incref(objs) : json_pack("[O]", objs);
    if (!list)
        return cell_error(err, ENOMEM, "format output");
    if (!format || !*format || strcmp(format, "json") == 0) {
        /* Docker indents its inspect output by four spaces; both forms keep
         * encoding/json's escapes of <, > and &. */
        _cleanup_free_ char *s = cell_json_encode_go(list, true, format && *format ? 0 : 4);
        json_decref(list);
        if (!s)
            return cell_error(err, ENOMEM, "format output");
        fprintf(out, "%s\n", s);
        return flush_output(out, err);
    }
    _cleanup_template_ struct cell_template *t = NULL;
    if (parse_user_template(format, &t, err) < 0) {
        json_decref(list);
        return -1;
    }
    /* Like docker inspect: the objects that render are printed, the first
     * failure is the error, and no output at all is one empty line. */
    bool printed = false;
    int r = 0;
    size_t i;
    json_t *obj;
    json_array_foreach(list, i, obj)
    {
        _cleanup_free_ char *line = NULL;
        _cleanup_err_ cell_err_t one = CELL_ERR_INIT;
        if (cell_template_render(t, obj, &line, &one) < 0) {
            if (r == 0)
                r = cell_error(err, one.errnum, "template parsing error: %s",
                               cell_error_text(&one));
            continue;
        }
        fprintf(out, "%s\n", line);
        printed = true;
    }
    json_decref(list);
    if (!printed)
        fputc('\n', out);
    int w = flush_output(out, err);
    return r < 0 ? r : w;
}

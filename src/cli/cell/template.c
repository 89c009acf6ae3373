/* The part of Go's text/template that --format strings of stats and events
 * use: literal text, {{.Field}}, {{.A.B.C}}, {{json .}} and {{json .Field}},
 * with "\t" and "\n" written as two characters turned into the characters
 * (Docker's client does that for table formats). */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *buf;
    size_t len, cap;
};

static int put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *nb = realloc(o->buf, cap);
        if (!nb)
            return -1;
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
    return 0;
}

/* ".A.B" in obj; "." is obj itself. A name missing from obj is an error
 * (a struct field Go does not have); one missing deeper is a map key Go
 * prints as "<no value>". */
static const json_t *lookup(const json_t *obj, const char *path, size_t n, cell_err_t *err)
{
    if (n == 0 || path[0] != '.') {
        cell_error(err, 0, "Error parsing format: function \"%.*s\" not defined", (int)n, path);
        return NULL;
    }
    const json_t *v = obj;
    for (size_t i = 1; i < n;) {
        size_t j = i;
        while (j < n && path[j] != '.')
            j++;
        _cleanup_free_ char *key = strndup(path + i, j - i);
        const json_t *next = key ? json_object_get(v, key) : NULL;
        if (!next && key && v != obj) {
            static json_t *no_value;
            if (!no_value)
                no_value = json_string("<no value>");
            return no_value;
        }
        if (!next) {
            cell_error(err, 0, "Error parsing format: can't evaluate field %s", key ? key : "");
            return NULL;
        }
        v = next;
        i = j + 1;
    }
    return v;
}

/* One {{ action }}. */
static int action(struct out *o, const json_t *obj, const char *a, size_t n, cell_err_t *err)
{
    while (n && isspace((unsigned char)*a))
        a++, n--;
    while (n && isspace((unsigned char)a[n - 1]))
        n--;
    bool json = n >= 4 && !strncmp(a, "json", 4) && (n == 4 || isspace((unsigned char)a[4]));
    if (json) {
        a += 4, n -= 4;
        while (n && isspace((unsigned char)*a))
            a++, n--;
    }
    const json_t *v = lookup(obj, a, n, err);
    if (!v)
        return -1;
    _cleanup_free_ char *text = NULL;
    if (json || !(json_is_string(v) || json_is_number(v) || json_is_boolean(v)))
        text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    else if (json_is_string(v))
        text = strdup(json_string_value(v));
    else if (json_is_integer(v))
        (void)!asprintf(&text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        (void)!asprintf(&text, "%g", json_real_value(v));
    else
        text = strdup(json_is_true(v) ? "true" : "false");
    return text && put(o, text, strlen(text)) == 0 ? 0 : cell_error(err, ENOMEM, "format");
}

char *cell_cli_template_render(const char *tmpl, const json_t *obj, cell_err_t *err)
{
    struct out o = {0};
    if (put(&o, "", 0) < 0)
        return NULL;
    for (const char *p = tmpl; *p;) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        for (size_t i = 0; i < lit; i++) {
            char c = p[i];
            if (c == '\\' && i + 1 < lit && (p[i + 1] == 't' || p[i + 1] == 'n'))
                c = p[++i] == 't' ? '\t' : '\n';
            put(&o, &c, 1);
        }
        if (!open)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            free(o.buf);
            cell_error(err, 0, "Error parsing format: unclosed action");
            return NULL;
        }
        if (action(&o, obj, open + 2, (size_t)(close - open - 2), err) < 0) {
            free(o.buf);
            return NULL;
        }
        p = close + 2;
    }
    return o.buf;
}

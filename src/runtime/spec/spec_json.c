/* Typed, path-aware readers over jansson values for the config.json parser. */
#include "runtime/spec/spec_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void spec_ctx_init(struct spec_ctx *c, const char *where, cell_err_t *err)
{
    c->err = err;
    c->len = 0;
    c->path[0] = '\0';
    c->warnings = NULL;
    if (where && *where)
        spec_push_key(c, where);
}

/* Appends n bytes of s, truncating a path too long for the buffer (the
 * error still reads). Plain copies: this runs for every member read. */
static void spec_append(struct spec_ctx *c, const char *s, size_t n)
{
    size_t room = sizeof c->path - 1 - c->len;
    if (n > room)
        n = room;
    memcpy(c->path + c->len, s, n);
    c->len += n;
    c->path[c->len] = '\0';
}

size_t spec_push_key(struct spec_ctx *c, const char *key)
{
    size_t mark = c->len;
    if (c->len)
        spec_append(c, ".", 1);
    spec_append(c, key, strlen(key));
    return mark;
}

size_t spec_push_index(struct spec_ctx *c, size_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "[%zu]", i);
    size_t mark = c->len;
    spec_append(c, buf, (size_t)n);
    return mark;
}

void spec_pop(struct spec_ctx *c, size_t mark)
{
    c->len = mark < sizeof c->path ? mark : sizeof c->path - 1;
    c->path[c->len] = '\0';
}

int spec_fail(struct spec_ctx *c, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cell_error(c->err, ENOMEM, "%s", c->path);
    if (c->len == 0)
        return cell_error(c->err, 0, "%s", msg);
    return cell_error(c->err, 0, "%s: %s", c->path, msg);
}

int spec_fail_nomem(struct spec_ctx *c)
{
    return cell_error(c->err, ENOMEM, "%s", c->len ? c->path : "config");
}

int spec_warn(struct spec_ctx *c, const char *fmt, ...)
{
    if (!c->warnings)
        return 0;
    _cleanup_free_ char *msg = NULL, *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0 || asprintf(&line, "%s: %s", c->len ? c->path : "config", msg) < 0 ||
        cell_strv_push(c->warnings, line) < 0)
        return spec_fail_nomem(c);
    return 0;
}

json_t *spec_member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* --- integers above INT64_MAX ---
 *
 * jansson stores integers as long long and refuses to load a document with a
 * larger one, yet several uint64 fields meet such values in practice (an
 * rlimit of RLIM_INFINITY written as 18446744073709551615). When a load fails
 * for that reason the text is loaded again with each such literal turned into
 * a string that starts with a NUL byte, which no JSON text can produce
 * without JSON_ALLOW_NUL; cell_spec_json_u64 reads those back, and string
 * readers refuse embedded NULs. */

static size_t number_len(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && strchr("0123456789+-.eE", s[n]) && s[n] != '\0')
        n++;
    return n;
}

static bool is_big_u64(const char *s, size_t n)
{
    if (n < 19 || n > 20)
        return false;
    char buf[21];
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        buf[i] = s[i];
    }
    buf[n] = '\0';
    errno = 0;
    unsigned long long v = strtoull(buf, NULL, 10);
    return errno == 0 && v > (unsigned long long)INT64_MAX;
}

/* A tagged literal grows by 8 bytes and is at least 19 long, so the output
 * is never more than twice the input. */
static char *tag_big_integers(const char *text, size_t len, size_t *out_len)
{
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        char ch = text[i];
        if (!in_string && ((ch >= '0' && ch <= '9') || ch == '-')) {
            size_t n = number_len(text + i, len - i);
            bool big = is_big_u64(text + i, n);
            o += (size_t)sprintf(out + o, big ? "\"\\u0000%.*s\"" : "%.*s", (int)n, text + i);
            i += n;
            continue;
        }
        out[o++] = text[i++];
        if (in_string && ch == '\\' && i < len)
            out[o++] = text[i++];
        else if (ch == '"')
            in_string = !in_string;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int cell_spec_json_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return -ERANGE;
        *out = (uint64_t)x;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) < 2 || json_string_value(v)[0] != '\0')
        return -EINVAL;
    const char *digits = json_string_value(v) + 1;
    if (strlen(digits) + 1 != json_string_length(v))
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(digits, &end, 10);
    if (errno || *end || *digits < '0' || *digits > '9')
        return -EINVAL;
    *out = x;
    return 0;
}

/* The digits of a tagged big integer, or NULL. */
static const char *big_integer_digits(const json_t *v)
{
    uint64_t x;
    if (json_is_string(v) && cell_spec_json_u64(v, &x) == 0)
        return json_string_value(v) + 1;
    return NULL;
}

static int load_error(const json_error_t *je, cell_err_t *err)
{
    return cell_error(err, 0, "line %d column %d: %s", je->line, je->column, je->text);
}

int spec_load_json(const char *text, size_t len, json_t **out, cell_err_t *err)
{
    json_error_t je;
    *out = json_loadb(text, len, 0, &je);
    if (*out)
        return 0;
    if (json_error_code(&je) != json_error_numeric_overflow)
        return load_error(&je, err);
    size_t tagged_len = 0;
    _cleanup_free_ char *tagged = tag_big_integers(text, len, &tagged_len);
    if (!tagged)
        return cell_error(err, ENOMEM, "load JSON");
    *out = json_loadb(tagged, tagged_len, JSON_ALLOW_NUL, &je);
    return *out ? 0 : load_error(&je, err);
}

/* --- value readers --- */

int spec_value_string(struct spec_ctx *c, const json_t *v, char **out)
{
    if (!json_is_string(v) || big_integer_digits(v))
        return spec_fail(c, "expected a string");
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return spec_fail(c, "expected a string without NUL characters");
    char *copy = strdup(s);
    if (!copy)
        return spec_fail_nomem(c);
    free(*out);
    *out = copy;
    return 0;
}

int spec_value_abs_path(struct spec_ctx *c, const json_t *v, char **out)
{
    int r = spec_value_string(c, v, out);
    if (r < 0)
        return r;
    if ((*out)[0] != '/')
        return spec_fail(c, "must be an absolute path, got \"%s\"", *out);
    return 0;
}

int spec_value_int(struct spec_ctx *c, const json_t *v, int64_t min, int64_t max, int64_t *out)
{
    const char *big = big_integer_digits(v);
    if (big)
        return spec_fail(c, "expected an integer between %" PRId64 " and %" PRId64 ", got %s", min,
                         max, big);
    if (!json_is_integer(v))
        return spec_fail(c, "expected an integer");
    int64_t x = json_integer_value(v);
    if (x < min || x > max)
        return spec_fail(c, "expected an integer between %" PRId64 " and %" PRId64 ", got %" PRId64,
                         min, max, x);
    *out = x;
    return 0;
}

int spec_value_u64(struct spec_ctx *c, const json_t *v, uint64_t *out)
{
    if (cell_spec_json_u64(v, out) == 0)
        return 0;
    if (json_is_integer(v))
        return spec_fail(c,
                         "expected an integer between 0 and %" PRIu64 ", got %" JSON_INTEGER_FORMAT,
                         UINT64_MAX, json_integer_value(v));
    return spec_fail(c, "expected an integer");
}

/* --- member readers --- */

/* Finds key in obj and pushes it on the path. Returns 1 when present, 0 when
 * absent and optional, negative when absent and required. */
static int member_begin(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                        json_t **v, size_t *mark)
{
    *v = spec_member(obj, key);
    if (!*v && !required)
        return 0;
    *mark = spec_push_key(c, key);
    return *v ? 1 : spec_fail(c, "required");
}

static int member_end(struct spec_ctx *c, size_t mark, int r)
{
    if (r >= 0)
        spec_pop(c, mark);
    return r < 0 ? r : 0;
}

int spec_get_object(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                    json_t **out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    if (!json_is_object(v))
        return spec_fail(c, "expected an object");
    *out = v;
    return member_end(c, mark, 0);
}

int spec_get_array(struct spec_ctx *c, const json_t *obj, const char *key, json_t **out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, false, &v, &mark);
    if (r <= 0)
        return r;
    if (!json_is_array(v))
        return spec_fail(c, "expected an array");
    *out = v;
    return member_end(c, mark, 0);
}

int spec_get_string(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                    char **out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    return member_end(c, mark, spec_value_string(c, v, out));
}

int spec_get_abs_path(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                      char **out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    return member_end(c, mark, spec_value_abs_path(c, v, out));
}

int spec_get_bool(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    if (!json_is_boolean(v))
        return spec_fail(c, "expected a boolean");
    *out = json_is_true(v);
    return member_end(c, mark, 0);
}

int spec_get_int(struct spec_ctx *c, const json_t *obj, const char *key, bool required, int64_t min,
                 int64_t max, int64_t *out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    return member_end(c, mark, spec_value_int(c, v, min, max, out));
}

int spec_get_u64(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                 uint64_t *out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, required, &v, &mark);
    if (r <= 0)
        return r;
    return member_end(c, mark, spec_value_u64(c, v, out));
}

static int strv_from_array(struct spec_ctx *c, const json_t *arr, unsigned flags, char ***out)
{
    size_t n = json_array_size(arr);
    _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
    if (!v)
        return spec_fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        size_t mark = spec_push_index(c, i);
        json_t *e = json_array_get(arr, i);
        int r = (flags & SPEC_STRV_ABSOLUTE) ? spec_value_abs_path(c, e, &v[i])
                                             : spec_value_string(c, e, &v[i]);
        if (r < 0)
            return r;
        spec_pop(c, mark);
    }
    cell_strv_free(*out);
    *out = TAKE_PTR(v);
    return 0;
}

int spec_get_strv_optional(struct spec_ctx *c, const json_t *obj, const char *key, char ***out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, false, &v, &mark);
    if (r <= 0)
        return r;
    if (!json_is_array(v))
        return spec_fail(c, "expected an array of strings");
    return member_end(c, mark, strv_from_array(c, v, 0, out));
}

int spec_get_strv(struct spec_ctx *c, const json_t *obj, const char *key, unsigned flags,
                  char ***out)
{
    json_t *v;
    size_t mark;
    int r = member_begin(c, obj, key, false, &v, &mark);
    if (r < 0)
        return r;
    if (r == 0) {
        char **empty = calloc(1, sizeof(char *));
        if (!empty)
            return spec_fail_nomem(c);
        cell_strv_free(*out);
        *out = empty;
        return 0;
    }
    if (!json_is_array(v))
        return spec_fail(c, "expected an array of strings");
    return member_end(c, mark, strv_from_array(c, v, flags, out));
}

void spec_kv_free(struct cell_key_value *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

int spec_get_string_map(struct spec_ctx *c, const json_t *obj, const char *key,
                        struct cell_key_value **out, size_t *n)
{
    json_t *map = NULL;
    int r = spec_get_object(c, obj, key, false, &map);
    if (r < 0 || !map)
        return r;
    size_t mark = spec_push_key(c, key);
    r = spec_alloc_array(c, json_object_size(map), sizeof **out, (void **)out);
    if (r < 0)
        return r;
    *n = json_object_size(map);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        size_t vmark = spec_push_key(c, k);
        (*out)[i].key = strdup(k);
        if (!(*out)[i].key)
            return spec_fail_nomem(c);
        r = spec_value_string(c, v, &(*out)[i].value);
        if (r < 0)
            return r;
        spec_pop(c, vmark);
        i++;
    }
    spec_pop(c, mark);
    return 0;
}

int spec_alloc_array(struct spec_ctx *c, size_t n, size_t sz, void **out)
{
    *out = calloc(n ? n : 1, sz);
    return *out ? 0 : spec_fail_nomem(c);
}

int spec_get_object_array(struct spec_ctx *c, const json_t *obj, const char *key, size_t elem_size,
                          spec_elem_fn parse_elem, void **out, size_t *n)
{
    json_t *arr = NULL;
    int r = spec_get_array(c, obj, key, &arr);
    if (r < 0 || !arr)
        return r;
    r = spec_alloc_array(c, json_array_size(arr), elem_size, out);
    if (r < 0)
        return r;
    *n = json_array_size(arr);
    size_t mark = spec_push_key(c, key);
    for (size_t i = 0; i < *n; i++) {
        size_t imark = spec_push_index(c, i);
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e))
            return spec_fail(c, "expected an object");
        r = parse_elem(c, e, (char *)*out + i * elem_size);
        if (r < 0)
            return r;
        spec_pop(c, imark);
    }
    spec_pop(c, mark);
    return 0;
}

static int get_field(struct spec_ctx *c, const json_t *obj, char *base, const struct spec_field *f)
{
    void *dst = base + f->offset;
    switch (f->kind) {
    case SPEC_FIELD_INT64:
        return spec_get_int(c, obj, f->key, false, f->min, f->max, dst);
    case SPEC_FIELD_STRING:
        return spec_get_string(c, obj, f->key, false, dst);
    case SPEC_FIELD_TRISTATE: {
        bool b = false;
        json_t *v = spec_member(obj, f->key);
        int r = spec_get_bool(c, obj, f->key, false, &b);
        if (r >= 0 && v)
            *(int *)dst = b;
        return r;
    }
    }
    return spec_fail(c, "%s: unknown field kind", f->key);
}

int spec_get_fields(struct spec_ctx *c, const json_t *obj, void *base,
                    const struct spec_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int r = get_field(c, obj, base, &fields[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

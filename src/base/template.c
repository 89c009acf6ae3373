/* Go's text/template over jansson values (see template.h). Three parts: the
 * printing of values as Go's fmt and encoding/json print them, the lexer and
 * parser (Go's grammar and its error texts), and the executor with the
 * functions Go and Docker provide. */
#include "base/template.h"

#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing string ---------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

static void sb_pad(struct sbuf *b, char c, long n)
{
    for (; n > 0; n--)
        sb_putc(b, c);
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    sb_putn(b, s, (size_t)n);
    free(s);
}

/* The text, or NULL when an append ran out of memory. */
static char *sb_take(struct sbuf *b)
{
    if (b->oom) {
        free(b->p);
        *b = (struct sbuf){0};
        return NULL;
    }
    char *p = b->p ? b->p : strdup("");
    *b = (struct sbuf){0};
    return p;
}

static void sb_free(struct sbuf *b)
{
    free(b->p);
    *b = (struct sbuf){0};
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Decodes one rune at s (n bytes left); *len gets its size. Invalid bytes
 * decode as U+FFFD of length 1, as Go's utf8.DecodeRune does. */
static uint32_t utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int need = s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc2 ? 1 : -1;
    if (need < 0 || s[0] > 0xf4 || (size_t)need >= n)
        return 0xfffd;
    uint32_t r = s[0] & (0x3f >> need);
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0xfffd;
        r = r << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (r < min[need] || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
        return 0xfffd;
    *len = (size_t)need + 1;
    return r;
}

static void utf8_put(struct sbuf *b, uint32_t r)
{
    char c[4];
    if (r < 0x80) {
        sb_putc(b, (char)r);
    } else if (r < 0x800) {
        c[0] = (char)(0xc0 | r >> 6);
        c[1] = (char)(0x80 | (r & 0x3f));
        sb_putn(b, c, 2);
    } else if (r < 0x10000) {
        c[0] = (char)(0xe0 | r >> 12);
        c[1] = (char)(0x80 | (r >> 6 & 0x3f));
        c[2] = (char)(0x80 | (r & 0x3f));
        sb_putn(b, c, 3);
    } else {
        c[0] = (char)(0xf0 | r >> 18);
        c[1] = (char)(0x80 | (r >> 12 & 0x3f));
        c[2] = (char)(0x80 | (r >> 6 & 0x3f));
        c[3] = (char)(0x80 | (r & 0x3f));
        sb_putn(b, c, 4);
    }
}

static size_t rune_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0, len; i < n; i += len, count++)
        utf8_decode((const unsigned char *)s + i, n - i, &len);
    return count;
}

/* s[0:n] as Go's strconv.Quote writes it: printable runes as they are,
 * the usual backslash escapes, \x for bad bytes and control bytes. */
static void go_quote(struct sbuf *b, const char *s, size_t n)
{
    sb_putc(b, '"');
    for (size_t i = 0, len; i < n; i += len) {
        uint32_t r = utf8_decode((const unsigned char *)s + i, n - i, &len);
        const char *esc = NULL;
        switch (r) {
        case '\a':
            esc = "\\a";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '"':
            esc = "\\\"";
            break;
        }
        if (esc)
            sb_puts(b, esc);
        else if (r == 0xfffd && len == 1)
            sb_printf(b, "\\x%02x", (unsigned char)s[i]);
        else if (r < 0x20 || r == 0x7f)
            sb_printf(b, "\\x%02x", r);
        else if ((r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff)
            sb_printf(b, "\\u%04x", r);
        else
            sb_putn(b, s + i, len);
    }
    sb_putc(b, '"');
}

/* ---- numbers as Go prints them ------------------------------------------- */

/* The fewest significant digits that read back as v (v finite, > 0), and the
 * decimal exponent of the first one: v = d.ddd x 10^exp. */
static void shortest_digits(double v, char digits[24], int *exp)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    size_t nd = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    *exp = atoi(p + 1);
}

static void put_exp_form(struct sbuf *b, const char *d, int exp, bool json)
{
    sb_putc(b, d[0]);
    if (d[1]) {
        sb_putc(b, '.');
        sb_puts(b, d + 1);
    }
    /* Go writes at least two exponent digits; encoding/json then drops the
     * leading zero of a negative one (1e-07 -> 1e-7). */
    if (json && exp < 0 && exp > -10)
        sb_printf(b, "e-%d", -exp);
    else
        sb_printf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
}

static void put_fixed_form(struct sbuf *b, const char *d, int exp)
{
    int nd = (int)strlen(d);
    if (exp < 0) {
        sb_puts(b, "0.");
        sb_pad(b, '0', -exp - 1);
        sb_puts(b, d);
        return;
    }
    for (int i = 0; i <= exp; i++)
        sb_putc(b, i < nd ? d[i] : '0');
    if (nd > exp + 1) {
        sb_putc(b, '.');
        sb_puts(b, d + exp + 1);
    }
}

/* fmt's %v of a float64 (strconv 'g', shortest), or encoding/json's form. */
static void put_go_float(struct sbuf *b, double v, bool json)
{
    if (isnan(v)) {
        sb_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        sb_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (signbit(v))
        sb_putc(b, '-');
    v = fabs(v);
    if (v == 0) {
        sb_putc(b, '0');
        return;
    }
    char d[24];
    int exp;
    shortest_digits(v, d, &exp);
    bool exp_form = json ? (v < 1e-6 || v >= 1e21) : (exp < -4 || exp >= 6);
    if (exp_form)
        put_exp_form(b, d, exp, json);
    else
        put_fixed_form(b, d, exp);
}

/* ---- values as fmt's %v prints them --------------------------------------- */

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys in Go's map order for printing: sorted by bytes. */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
    *n = json_object_size(obj);
    const char **keys = calloc(*n + 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) keys[i++] = k;
    qsort(keys, *n, sizeof *keys, compare_keys);
    return keys;
}

static void put_value(struct sbuf *b, const json_t *v)
{
    if (!v) {
        sb_puts(b, "<no value>");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        sb_putn(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        put_go_float(b, json_real_value(v), false);
        break;
    case JSON_TRUE:
        sb_puts(b, "true");
        break;
    case JSON_FALSE:
        sb_puts(b, "false");
        break;
    case JSON_NULL:
        sb_puts(b, "<nil>");
        break;
    case JSON_ARRAY: {
        sb_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                sb_putc(b, ' ');
            put_value(b, json_array_get(v, i));
        }
        sb_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        if (!keys) {
            b->oom = true;
            return;
        }
        sb_puts(b, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_putc(b, ' ');
            sb_puts(b, keys[i]);
            sb_putc(b, ':');
            put_value(b, json_object_get(v, keys[i]));
        }
        sb_putc(b, ']');
        break;
    }
    }
}

char *cell_template_format_value(const json_t *v)
{
    struct sbuf b = {0};
    put_value(&b, v);
    return sb_take(&b);
}

/* ---- JSON as Go's encoding/json writes it ---------------------------------- */

static void put_json_string(struct sbuf *b, const char *s, size_t n, bool escape_html)
{
    static const char hex[] = "0123456789abcdef";
    sb_putc(b, '"');
    for (size_t i = 0, len; i < n; i += len) {
        uint32_t r = utf8_decode((const unsigned char *)s + i, n - i, &len);
        unsigned char c = (unsigned char)s[i];
        if (r == 0xfffd && len == 1 && c >= 0x80) {
            sb_puts(b, "\\ufffd");
        } else if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            sb_putc(b, '\\');
            sb_putc(b, c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f');
        } else if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
            sb_puts(b, "\\u00");
            sb_putc(b, hex[c >> 4]);
            sb_putc(b, hex[c & 0xf]);
        } else if (r == 0x2028 || r == 0x2029) {
            /* Go escapes these always: JavaScript reads them as newlines. */
            sb_printf(b, "\\u%04x", r);
        } else {
            sb_putn(b, s + i, len);
        }
    }
    sb_putc(b, '"');
}

static void put_newline_indent(struct sbuf *b, int indent, int depth)
{
    sb_putc(b, '\n');
    sb_pad(b, ' ', (long)indent * depth);
}

static void put_json(struct sbuf *b, const json_t *v, bool escape_html, int indent, int depth)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        put_json_string(b, json_string_value(v), json_string_length(v), escape_html);
        break;
    case JSON_INTEGER:
        sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        put_go_float(b, json_real_value(v), true);
        break;
    case JSON_TRUE:
        sb_puts(b, "true");
        break;
    case JSON_FALSE:
        sb_puts(b, "false");
        break;
    case JSON_NULL:
        sb_puts(b, "null");
        break;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        sb_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_putc(b, ',');
            if (indent)
                put_newline_indent(b, indent, depth + 1);
            put_json(b, json_array_get(v, i), escape_html, indent, depth + 1);
        }
        if (indent && n)
            put_newline_indent(b, indent, depth);
        sb_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        bool first = true;
        sb_putc(b, '{');
        json_object_foreach((json_t *)v, k, item)
        {
            if (!first)
                sb_putc(b, ',');
            first = false;
            if (indent)
                put_newline_indent(b, indent, depth + 1);
            put_json_string(b, k, strlen(k), escape_html);
            sb_puts(b, indent ? ": " : ":");
            put_json(b, item, escape_html, indent, depth + 1);
        }
        if (indent && !first)
            put_newline_indent(b, indent, depth);
        sb_putc(b, '}');
        break;
    }
    }
}

char *cell_json_encode_go(const json_t *v, bool escape_html, int indent)
{
    struct sbuf b = {0};
    if (v)
        put_json(&b, v, escape_html, indent, 0);
    else
        sb_puts(&b, "null");
    return sb_take(&b);
}

/* ---- the lexer --------------------------------------------------------------
 * The whole text becomes one array of tokens before parsing; an error becomes
 * the last token, so the parser reports it where it reaches it, as Go's does. */

enum tok_type {
    T_ERROR,
    T_EOF,
    T_TEXT,
    T_LDELIM,
    T_RDELIM,
    T_SPACE,
    T_FIELD,
    T_IDENT,
    T_VAR,
    T_DOT,
    T_STRING,
    T_RAWSTRING,
    T_CHARCONST,
    T_NUMBER,
    T_BOOL,
    T_NIL,
    T_PIPE,
    T_LPAREN,
    T_RPAREN,
    T_DECLARE,
    T_ASSIGN,
    T_CHAR,
    /* keywords */
    T_IF,
    T_ELSE,
    T_END,
    T_RANGE,
    T_WITH,
    T_BREAK,
    T_CONTINUE,
    T_DEFINE,
    T_TEMPLATE,
    T_BLOCK,
};

static const struct {
    const char *word;
    enum tok_type type;
} keywords[] = {
    {"if", T_IF},
    {"else", T_ELSE},
    {"end", T_END},
    {"range", T_RANGE},
    {"with", T_WITH},
    {"break", T_BREAK},
    {"continue", T_CONTINUE},
    {"define", T_DEFINE},
    {"template", T_TEMPLATE},
    {"block", T_BLOCK},
    {"nil", T_NIL},
};

struct tok {
    enum tok_type type;
    size_t pos, len; /* the token's bytes in the text */
    char *msg;       /* T_ERROR's message */
};

struct lexer {
    const char *in;
    size_t n, pos;
    struct tok *toks;
    size_t ntoks, cap;
    int paren;
    bool failed;
};

static bool emit(struct lexer *l, enum tok_type type, size_t start, size_t end)
{
    if (l->ntoks == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct tok *t = realloc(l->toks, cap * sizeof *t);
        if (!t)
            return false;
        l->toks = t;
        l->cap = cap;
    }
    l->toks[l->ntoks++] = (struct tok){type, start, end - start, NULL};
    return true;
}

__attribute__((format(printf, 3, 4))) static void lex_error(struct lexer *l, size_t start,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (emit(l, T_ERROR, start, start))
        l->toks[l->ntoks - 1].msg = msg;
    else
        free(msg);
    l->failed = true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Letters, digits and '_'; every byte of a multibyte rune counts as a letter. */
static bool is_alnum(char c)
{
    return c == '_' || isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

static bool at(const struct lexer *l, size_t pos, const char *s)
{
    size_t n = strlen(s);
    return pos + n <= l->n && memcmp(l->in + pos, s, n) == 0;
}

/* "}}" or " -}}" (any space before the '-') at pos; *trim says which. */
static bool at_right_delim(const struct lexer *l, size_t pos, bool *trim)
{
    *trim = false;
    if (at(l, pos, "}}"))
        return true;
    if (pos + 1 < l->n && is_space(l->in[pos]) && l->in[pos + 1] == '-' && at(l, pos + 2, "}}")) {
        *trim = true;
        return true;
    }
    return false;
}

static bool at_left_trim(const struct lexer *l, size_t pos)
{
    return pos + 1 < l->n && l->in[pos] == '-' && is_space(l->in[pos + 1]);
}

/* What may follow an identifier, a field or a variable. */
static bool at_terminator(const struct lexer *l, size_t pos)
{
    if (pos >= l->n)
        return true;
    char c = l->in[pos];
    return is_space(c) || strchr(".,|:)(}", c) != NULL;
}

/* Go's %#U of the rune at pos: U+002B '+'. */
static void describe_rune(const struct lexer *l, size_t pos, char out[32])
{
    if (pos >= l->n) {
        snprintf(out, 32, "U+FFFFFFFFFFFFFFFF");
        return;
    }
    size_t len;
    uint32_t r = utf8_decode((const unsigned char *)l->in + pos, l->n - pos, &len);
    if (r >= 0x20 && r != 0x7f)
        snprintf(out, 32, "U+%04X '%.*s'", r, (int)len, l->in + pos);
    else
        snprintf(out, 32, "U+%04X", r);
}

static void lex_quoted(struct lexer *l, size_t start, char quote, enum tok_type type,
                       const char *what)
{
    size_t p = start + 1;
    for (;;) {
        if (p >= l->n || (quote != '`' && l->in[p] == '\n')) {
            lex_error(l, start, "unterminated %s", what);
            return;
        }
        char c = l->in[p++];
        if (c == '\\' && quote != '`') {
            if (p >= l->n || l->in[p] == '\n') {
                lex_error(l, start, "unterminated %s", what);
                return;
            }
            p++;
        } else if (c == quote) {
            break;
        }
    }
    emit(l, type, start, p);
    l->pos = p;
}

static size_t scan_digits(const struct lexer *l, size_t p, const char *digits)
{
    while (p < l->n && strchr(digits, l->in[p]) && l->in[p])
        p++;
    return p;
}

/* Go's permissive number scan; the parser checks the syntax properly. */
static void lex_number(struct lexer *l, size_t start)
{
    size_t p = start;
    const char *digits = "0123456789_";
    if (p < l->n && (l->in[p] == '+' || l->in[p] == '-'))
        p++;
    if (at(l, p, "0x") || at(l, p, "0X")) {
        p += 2;
        digits = "0123456789abcdefABCDEF_";
    }
    p = scan_digits(l, p, digits);
    if (p < l->n && l->in[p] == '.')
        p = scan_digits(l, p + 1, digits);
    if (p < l->n && (l->in[p] == 'e' || l->in[p] == 'E' || l->in[p] == 'p' || l->in[p] == 'P')) {
        p++;
        if (p < l->n && (l->in[p] == '+' || l->in[p] == '-'))
            p++;
        p = scan_digits(l, p, "0123456789_");
    }
    if (p < l->n && l->in[p] == 'i')
        p++;
    if (p < l->n && is_alnum(l->in[p])) {
        lex_error(l, start, "bad number syntax: \"%.*s\"", (int)(p + 1 - start), l->in + start);
        return;
    }
    emit(l, T_NUMBER, start, p);
    l->pos = p;
}

/* A field (.Name), a variable ($name) or an identifier starting at start;
 * prefix is 1 for the '.' or '$'. */
static void lex_word(struct lexer *l, size_t start, size_t prefix, enum tok_type type)
{
    size_t p = start + prefix;
    while (p < l->n && is_alnum(l->in[p]))
        p++;
    if (!at_terminator(l, p)) {
        char r[32];
        describe_rune(l, p, r);
        lex_error(l, start, "bad character %s", r);
        return;
    }
    if (type == T_IDENT) {
        size_t len = p - start;
        for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
            if (strlen(keywords[i].word) == len &&
                memcmp(keywords[i].word, l->in + start, len) == 0)
                type = keywords[i].type;
        if ((len == 4 && memcmp(l->in + start, "true", 4) == 0) ||
            (len == 5 && memcmp(l->in + start, "false", 5) == 0))
            type = T_BOOL;
    }
    emit(l, type, start, p);
    l->pos = p;
}

/* A run of spaces; the space of a " -}}" belongs to the delimiter. */
static void lex_space(struct lexer *l)
{
    size_t start = l->pos, p = start;
    while (p < l->n && is_space(l->in[p]))
        p++;
    bool trim;
    if (at_right_delim(l, p - 1, &trim) && trim)
        p--;
    if (p > start)
        emit(l, T_SPACE, start, p);
    l->pos = p;
}

static void lex_inside_action_one(struct lexer *l)
{
    size_t s = l->pos;
    char c = l->in[s];
    if (is_space(c)) {
        lex_space(l);
        return;
    }
    switch (c) {
    case ':':
        if (s + 1 < l->n && l->in[s + 1] == '=') {
            emit(l, T_DECLARE, s, s + 2);
            l->pos = s + 2;
        } else {
            lex_error(l, s, "expected :=");
        }
        return;
    case '=':
    case '|':
    case '(':
    case ')':
        if (c == '(')
            l->paren++;
        if (c == ')' && --l->paren < 0) {
            lex_error(l, s, "unexpected right paren U+0029 ')'");
            return;
        }
        emit(l, c == '=' ? T_ASSIGN : c == '|' ? T_PIPE : c == '(' ? T_LPAREN : T_RPAREN, s, s + 1);
        l->pos = s + 1;
        return;
    case '"':
        lex_quoted(l, s, '"', T_STRING, "quoted string");
        return;
    case '`':
        lex_quoted(l, s, '`', T_RAWSTRING, "raw quoted string");
        return;
    case '\'':
        lex_quoted(l, s, '\'', T_CHARCONST, "character constant");
        return;
    case '$':
        if (at_terminator(l, s + 1)) {
            emit(l, T_VAR, s, s + 1);
            l->pos = s + 1;
        } else {
            lex_word(l, s, 1, T_VAR);
        }
        return;
    case '.':
        if (s + 1 >= l->n || !isdigit((unsigned char)l->in[s + 1])) {
            if (at_terminator(l, s + 1)) {
                emit(l, T_DOT, s, s + 1);
                l->pos = s + 1;
            } else {
                lex_word(l, s, 1, T_FIELD);
            }
            return;
        }
        lex_number(l, s);
        return;
    }
    if (c == '+' || c == '-' || isdigit((unsigned char)c)) {
        lex_number(l, s);
    } else if (is_alnum(c)) {
        lex_word(l, s, 0, T_IDENT);
    } else if (c > 0x20 && c < 0x7f) {
        emit(l, T_CHAR, s, s + 1);
        l->pos = s + 1;
    } else {
        char r[32];
        describe_rune(l, s, r);
        lex_error(l, s, "unrecognized character in action: %s", r);
    }
}

/* After "{{" (and its trim marker): tokens up to the matching "}}". */
static void lex_action(struct lexer *l)
{
    l->paren = 0;
    while (!l->failed) {
        bool trim;
        if (at_right_delim(l, l->pos, &trim)) {
            if (l->paren) {
                lex_error(l, l->pos, "unclosed left paren");
                return;
            }
            size_t d = l->pos + (trim ? 2 : 0);
            emit(l, T_RDELIM, d, d + 2);
            l->pos = d + 2;
            if (trim)
                while (l->pos < l->n && is_space(l->in[l->pos]))
                    l->pos++;
            return;
        }
        if (l->pos >= l->n) {
            lex_error(l, l->pos, "unclosed action");
            return;
        }
        lex_inside_action_one(l);
    }
}

/* A comment: it leaves no token. */
static void lex_comment(struct lexer *l, size_t start)
{
    const char *end = memmem(l->in + l->pos + 2, l->n - l->pos - 2, "*/", 2);
    if (!end) {
        lex_error(l, start, "unclosed comment");
        return;
    }
    l->pos = (size_t)(end - l->in) + 2;
    bool trim;
    if (!at_right_delim(l, l->pos, &trim)) {
        lex_error(l, start, "comment ends before closing delimiter");
        return;
    }
    l->pos += trim ? 4 : 2;
    if (trim)
        while (l->pos < l->n && is_space(l->in[l->pos]))
            l->pos++;
}

static void lex_all(struct lexer *l)
{
    while (!l->failed) {
        const char *d = memmem(l->in + l->pos, l->n - l->pos, "{{", 2);
        size_t x = d ? (size_t)(d - l->in) : l->n;
        size_t end = x;
        if (d && at_left_trim(l, x + 2))
            while (end > l->pos && is_space(l->in[end - 1]))
                end--;
        if (end > l->pos)
            emit(l, T_TEXT, l->pos, end);
        if (!d) {
            emit(l, T_EOF, l->n, l->n);
            return;
        }
        l->pos = x + 2;
        if (at_left_trim(l, l->pos))
            l->pos += 2;
        if (at(l, l->pos, "/*")) {
            lex_comment(l, x);
            continue;
        }
        emit(l, T_LDELIM, x, x + 2);
        lex_action(l);
    }
}

/* ---- the parse tree --------------------------------------------------------- */

enum node_type {
    N_LIST,
    N_TEXT,
    N_ACTION,
    N_IF,
    N_RANGE,
    N_WITH,
    N_BREAK,
    N_CONTINUE,
    N_END,  /* {{end}}: only while parsing */
    N_ELSE, /* {{else}}: only while parsing */
    N_PIPE,
    N_CMD,
    /* operands */
    N_FIELD,
    N_VAR,
    N_CHAIN,
    N_DOT,
    N_NIL,
    N_BOOL,
    N_NUMBER,
    N_STRING,
    N_IDENT,
};

struct node {
    enum node_type type;
    size_t pos, end;    /* where the node is in the text, for errors */
    struct node **kids; /* list: its nodes; pipe: commands; command: operands */
    size_t nkids;
    char **idents; /* field: A, B of .A.B; variable: $x, A; chain: its fields; pipe: declared
                      variables; identifier: the function's name */
    size_t nidents;
    struct node *pipe, *list, *else_list; /* if, range, with; chain: pipe is its term */
    bool flag;     /* pipe: an assignment (=), not a declaration; bool: its value */
    json_t *value; /* number and string literals */
    struct node *next_alloc;
};

struct cell_template {
    char *text;
    struct node *root;
    struct node *nodes; /* every node, to free them all at once */
    bool missingkey_error;
};

static void node_free(struct node *n)
{
    free(n->kids);
    for (size_t i = 0; i < n->nidents; i++)
        free(n->idents[i]);
    free(n->idents);
    json_decref(n->value);
    free(n);
}

void cell_template_free(struct cell_template *t)
{
    if (!t)
        return;
    for (struct node *n = t->nodes, *next; n; n = next) {
        next = n->next_alloc;
        node_free(n);
    }
    free(t->text);
    free(t);
}

/* ---- the parser --------------------------------------------------------------
 * Recursive descent over Go's grammar. A parse error unwinds to
 * cell_template_parse by longjmp, as Go's parser unwinds by panic: every node
 * is already on the template's list, so the unwinding leaks nothing. */

struct parser {
    struct cell_template *t;
    struct lexer lex;
    size_t i;    /* the next token */
    size_t last; /* the token read last, for the line of an error */
    char **vars;
    size_t nvars, capvars;
    int range_depth;
    char *error;
    jmp_buf fail;
};

static int line_of(const char *text, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

__attribute__((noreturn, format(printf, 2, 3))) static void fail(struct parser *p, const char *fmt,
                                                                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    size_t pos = p->last < p->lex.ntoks ? p->lex.toks[p->last].pos : 0;
    if (!msg || asprintf(&p->error, "template: :%d: %s", line_of(p->t->text, pos), msg) < 0)
        p->error = NULL;
    free(msg);
    longjmp(p->fail, 1);
}

static struct node *new_node(struct parser *p, enum node_type type, size_t pos)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        fail(p, "out of memory");
    n->type = type;
    n->pos = n->end = pos;
    n->next_alloc = p->t->nodes;
    p->t->nodes = n;
    return n;
}

static void add_kid(struct parser *p, struct node *n, struct node *kid)
{
    struct node **k = realloc(n->kids, (n->nkids + 1) * sizeof *k);
    if (!k)
        fail(p, "out of memory");
    n->kids = k;
    n->kids[n->nkids++] = kid;
    if (kid->end > n->end)
        n->end = kid->end;
}

static void add_ident(struct parser *p, struct node *n, const char *s, size_t len)
{
    char **v = realloc(n->idents, (n->nidents + 1) * sizeof *v);
    if (!v)
        fail(p, "out of memory");
    n->idents = v;
    if (!(n->idents[n->nidents] = strndup(s, len)))
        fail(p, "out of memory");
    n->nidents++;
}

static const struct tok *next_tok(struct parser *p)
{
    if (p->i >= p->lex.ntoks)
        fail(p, "out of memory");
    p->last = p->i;
    const struct tok *t = &p->lex.toks[p->i];
    if (t->type == T_ERROR)
        fail(p, "%s", t->msg ? t->msg : "out of memory");
    if (t->type != T_EOF)
        p->i++;
    return t;
}

static const struct tok *peek_tok(struct parser *p)
{
    size_t saved = p->i, last = p->last;
    const struct tok *t = next_tok(p);
    p->i = saved;
    p->last = last;
    return t;
}

static const struct tok *next_nonspace(struct parser *p)
{
    const struct tok *t;
    while ((t = next_tok(p))->type == T_SPACE)
        ;
    return t;
}

/* Skips spaces; the token after them stays next. */
static const struct tok *peek_nonspace(struct parser *p)
{
    while (peek_tok(p)->type == T_SPACE)
        next_tok(p);
    return peek_tok(p);
}

static void backup(struct parser *p)
{
    p->i--;
}

/* Go's item.String(): EOF, <keyword>, a quoted value cut at 10 bytes. On
 * the stack: the caller longjmps, which would skip a cleanup. */
static void tok_string(const struct parser *p, const struct tok *t, char out[64])
{
    const char *v = p->t->text + t->pos;
    if (t->type == T_EOF) {
        snprintf(out, 64, "EOF");
        return;
    }
    if (t->type >= T_IF || t->type == T_NIL || t->type == T_DOT) {
        snprintf(out, 64, "<%.*s>", (int)t->len, v);
        return;
    }
    struct sbuf b = {0};
    go_quote(&b, v, t->len > 10 ? 10 : t->len);
    snprintf(out, 64, "%s%s", b.p ? b.p : "", t->len > 10 ? "..." : "");
    sb_free(&b);
}

__attribute__((noreturn)) static void unexpected(struct parser *p, const struct tok *t,
                                                 const char *context)
{
    char s[64];
    tok_string(p, t, s);
    fail(p, "unexpected %s in %s", s, context);
}

static const struct tok *expect(struct parser *p, enum tok_type type, const char *context)
{
    const struct tok *t = next_nonspace(p);
    if (t->type != type)
        unexpected(p, t, context);
    return t;
}

static void push_var(struct parser *p, const char *name, size_t len)
{
    if (p->nvars == p->capvars) {
        size_t cap = p->capvars ? p->capvars * 2 : 8;
        char **v = realloc(p->vars, cap * sizeof *v);
        if (!v)
            fail(p, "out of memory");
        p->vars = v;
        p->capvars = cap;
    }
    if (!(p->vars[p->nvars] = strndup(name, len)))
        fail(p, "out of memory");
    p->nvars++;
}

static void pop_vars(struct parser *p, size_t mark)
{
    while (p->nvars > mark)
        free(p->vars[--p->nvars]);
}

/* The functions a template may call; Go checks the names at parse time. */
static bool function_exists(const char *name, size_t len);

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end);
static struct node *item_list(struct parser *p, struct node **terminator);

/* Go's strconv.Unquote for "...", `...` and '...'; false on bad syntax. */
static bool unquote(const char *s, size_t n, struct sbuf *out)
{
    char q = s[0];
    if (n < 2 || s[n - 1] != q)
        return false;
    if (q == '`') {
        for (size_t i = 1; i < n - 1; i++)
            if (s[i] != '\r') /* Go drops carriage returns from raw strings */
                sb_putc(out, s[i]);
        return true;
    }
    for (size_t i = 1; i < n - 1;) {
        char c = s[i++];
        if (c == q)
            return false;
        if (c != '\\') {
            sb_putc(out, c);
            continue;
        }
        if (i >= n - 1)
            return false;
        c = s[i++];
        const char *simple = strchr("abfnrtv\\", c);
        if (simple && c) {
            sb_putc(out, "\a\b\f\n\r\t\v\\"[simple - "abfnrtv\\"]);
        } else if (c == q) {
            sb_putc(out, c);
        } else if (c == 'x' || c == 'u' || c == 'U' || (c >= '0' && c <= '7')) {
            int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 3;
            if (c >= '0' && c <= '7')
                i--;
            if (i + (size_t)digits > n - 1)
                return false;
            char buf[9] = {0};
            memcpy(buf, s + i, (size_t)digits);
            char *e;
            unsigned long v = strtoul(buf, &e, c >= '0' && c <= '7' ? 8 : 16);
            if (*e || buf[0] == '+' || buf[0] == '-')
                return false;
            i += (size_t)digits;
            if (c == 'x' || (c >= '0' && c <= '7')) {
                if (v > 255)
                    return false;
                sb_putc(out, (char)v);
            } else {
                if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                    return false;
                utf8_put(out, (uint32_t)v);
            }
        } else {
            return false;
        }
    }
    return true;
}

static struct node *number(struct parser *p, const struct tok *t)
{
    struct node *n = new_node(p, N_NUMBER, t->pos);
    n->end = t->pos + t->len;
    char s[80]; /* on the stack: fail() longjmps past any cleanup */
    if (t->len >= sizeof s)
        fail(p, "illegal number syntax: \"%.*s\"", (int)t->len, p->t->text + t->pos);
    memcpy(s, p->t->text + t->pos, t->len);
    s[t->len] = '\0';
    if (t->type == T_CHARCONST) {
        struct sbuf b = {0};
        size_t len = 0;
        bool ok = unquote(s, t->len, &b) && b.len > 0;
        uint32_t r = ok ? utf8_decode((unsigned char *)b.p, b.len, &len) : 0;
        bool single = ok && len == b.len;
        sb_free(&b);
        if (!single)
            fail(p, "malformed character constant: %s", s);
        n->value = json_integer(r);
    } else if (strchr(s, 'i')) {
        fail(p, "complex numbers are not supported: %s", s);
    } else {
        char *e;
        errno = 0;
        long long v = strtoll(s, &e, 0);
        if (!*e && errno == 0 && !strchr(s, '_')) {
            n->value = json_integer(v);
        } else {
            errno = 0;
            double d = strtod(s, &e);
            if (*e || errno || strchr(s, '_') || !isfinite(d))
                fail(p, "illegal number syntax: \"%s\"", s);
            n->value = json_real(d);
        }
    }
    if (!n->value)
        fail(p, "out of memory");
    return n;
}

static struct node *term(struct parser *p)
{
    const struct tok *t = next_nonspace(p);
    const char *v = p->t->text + t->pos;
    struct node *n;
    switch (t->type) {
    case T_IDENT:
        if (!function_exists(v, t->len))
            fail(p, "function \"%.*s\" not defined", (int)t->len, v);
        n = new_node(p, N_IDENT, t->pos);
        add_ident(p, n, v, t->len);
        break;
    case T_DOT:
        n = new_node(p, N_DOT, t->pos);
        break;
    case T_NIL:
        n = new_node(p, N_NIL, t->pos);
        break;
    case T_VAR: {
        bool known = false;
        for (size_t i = 0; i < p->nvars && !known; i++)
            known = strlen(p->vars[i]) == t->len && memcmp(p->vars[i], v, t->len) == 0;
        if (!known)
            fail(p, "undefined variable \"%.*s\"", (int)t->len, v);
        n = new_node(p, N_VAR, t->pos);
        add_ident(p, n, v, t->len);
        break;
    }
    case T_FIELD:
        n = new_node(p, N_FIELD, t->pos);
        add_ident(p, n, v + 1, t->len - 1);
        break;
    case T_BOOL:
        n = new_node(p, N_BOOL, t->pos);
        n->flag = v[0] == 't';
        break;
    case T_NUMBER:
    case T_CHARCONST:
        return number(p, t);
    case T_LPAREN:
        n = pipeline(p, "parenthesized pipeline", T_RPAREN);
        n->pos = t->pos;
        n->end = p->lex.toks[p->last].pos + 1;
        return n;
    case T_STRING:
    case T_RAWSTRING: {
        struct sbuf b = {0};
        if (!unquote(v, t->len, &b)) {
            sb_free(&b);
            fail(p, "invalid syntax");
        }
        n = new_node(p, N_STRING, t->pos);
        n->value = json_stringn(b.p ? b.p : "", b.len);
        sb_free(&b);
        if (!n->value)
            fail(p, "out of memory");
        break;
    }
    default:
        backup(p);
        return NULL;
    }
    n->end = t->pos + t->len;
    return n;
}

/* A term and the fields that follow it without a space: .A.B, $x.A, (p).A. */
static struct node *operand(struct parser *p)
{
    struct node *n = term(p);
    if (!n || peek_tok(p)->type != T_FIELD)
        return n;
    switch (n->type) {
    case N_BOOL:
    case N_STRING:
    case N_NUMBER:
    case N_NIL:
    case N_DOT:
        fail(p, "unexpected . after term \"%.*s\"", (int)(n->end - n->pos), p->t->text + n->pos);
    case N_FIELD:
    case N_VAR:
        break;
    default: {
        struct node *chain = new_node(p, N_CHAIN, n->pos);
        chain->pipe = n;
        n = chain;
    }
    }
    while (peek_tok(p)->type == T_FIELD) {
        const struct tok *f = next_tok(p);
        add_ident(p, n, p->t->text + f->pos + 1, f->len - 1);
        n->end = f->pos + f->len;
    }
    return n;
}

static struct node *command(struct parser *p)
{
    struct node *cmd = new_node(p, N_CMD, peek_nonspace(p)->pos);
    for (;;) {
        peek_nonspace(p);
        struct node *o = operand(p);
        if (o)
            add_kid(p, cmd, o);
        const struct tok *t = next_tok(p);
        if (t->type == T_SPACE)
            continue;
        if (t->type == T_RDELIM || t->type == T_RPAREN)
            backup(p);
        else if (t->type != T_PIPE)
            unexpected(p, t, "operand");
        break;
    }
    if (cmd->nkids == 0)
        fail(p, "empty command");
    return cmd;
}

static void check_pipeline(struct parser *p, struct node *pipe, const char *context)
{
    if (pipe->nkids == 0)
        fail(p, "missing value for %s", context);
    for (size_t i = 1; i < pipe->nkids; i++) {
        switch (pipe->kids[i]->kids[0]->type) {
        case N_BOOL:
        case N_DOT:
        case N_NIL:
        case N_NUMBER:
        case N_STRING:
            fail(p, "non executable command in pipeline stage %zu", i + 1);
        default:
            break;
        }
    }
}

/* Declarations ($x := ..., $i, $e := ... in a range) or an assignment. */
static void declarations(struct parser *p, struct node *pipe, const char *context)
{
    for (;;) {
        if (peek_nonspace(p)->type != T_VAR)
            return;
        size_t at_var = p->i;
        const struct tok *v = next_tok(p);
        const struct tok *after = peek_nonspace(p);
        const char *name = p->t->text + v->pos;
        if (after->type == T_DECLARE || after->type == T_ASSIGN) {
            pipe->flag = after->type == T_ASSIGN;
            next_tok(p);
            add_ident(p, pipe, name, v->len);
            push_var(p, name, v->len);
            return;
        }
        if (after->type == T_CHAR && p->t->text[after->pos] == ',') {
            next_tok(p);
            add_ident(p, pipe, name, v->len);
            push_var(p, name, v->len);
            if (strcmp(context, "range") == 0 && pipe->nidents < 2) {
                enum tok_type nt = peek_nonspace(p)->type;
                if (nt == T_VAR || nt == T_RDELIM || nt == T_RPAREN)
                    continue;
                fail(p, "range can only initialize variables");
            }
            fail(p, "too many declarations in %s", context);
        }
        p->i = at_var; /* $x is an operand, not a declaration */
        return;
    }
}

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end)
{
    struct node *pipe = new_node(p, N_PIPE, peek_nonspace(p)->pos);
    declarations(p, pipe, context);
    for (;;) {
        const struct tok *t = next_nonspace(p);
        if (t->type == end) {
            check_pipeline(p, pipe, context);
            return pipe;
        }
        switch (t->type) {
        case T_BOOL:
        case T_CHARCONST:
        case T_DOT:
        case T_FIELD:
        case T_IDENT:
        case T_NUMBER:
        case T_NIL:
        case T_RAWSTRING:
        case T_STRING:
        case T_VAR:
        case T_LPAREN:
            backup(p);
            add_kid(p, pipe, command(p));
            break;
        default:
            unexpected(p, t, context);
        }
    }
}

static struct node *control(struct parser *p, enum node_type type, const char *context)
{
    size_t mark = p->nvars;
    struct node *n = new_node(p, type, p->lex.toks[p->last].pos);
    n->pipe = pipeline(p, context, T_RDELIM);
    struct node *term;
    if (type == N_RANGE)
        p->range_depth++;
    n->list = item_list(p, &term);
    if (type == N_RANGE)
        p->range_depth--;
    if (term->type == N_ELSE) {
        /* {{else if x}} and {{else with x}} nest the next control inside the
         * else branch; its {{end}} closes both. */
        enum tok_type next = peek_tok(p)->type;
        if ((type == N_IF && next == T_IF) || (type == N_WITH && next == T_WITH)) {
            next_tok(p);
            n->else_list = new_node(p, N_LIST, term->pos);
            add_kid(p, n->else_list, control(p, type, context));
        } else {
            n->else_list = item_list(p, &term);
            if (term->type != N_END)
                fail(p, "expected end; found {{else}}");
        }
    }
    pop_vars(p, mark);
    return n;
}

static struct node *loop_control(struct parser *p, enum node_type type, const char *word)
{
    const struct tok *t = next_nonspace(p);
    char context[16];
    snprintf(context, sizeof context, "{{%s}}", word);
    if (t->type != T_RDELIM)
        unexpected(p, t, context);
    if (p->range_depth == 0)
        fail(p, "{{%s}} outside {{range}}", word);
    return new_node(p, type, t->pos);
}

/* After "{{": a control word or a pipeline. */
static struct node *action(struct parser *p)
{
    const struct tok *t = next_nonspace(p);
    switch (t->type) {
    case T_IF:
        return control(p, N_IF, "if");
    case T_RANGE:
        return control(p, N_RANGE, "range");
    case T_WITH:
        return control(p, N_WITH, "with");
    case T_BREAK:
        return loop_control(p, N_BREAK, "break");
    case T_CONTINUE:
        return loop_control(p, N_CONTINUE, "continue");
    case T_ELSE: {
        enum tok_type next = peek_nonspace(p)->type;
        if (next != T_IF && next != T_WITH)
            expect(p, T_RDELIM, "else");
        return new_node(p, N_ELSE, t->pos);
    }
    case T_END:
        expect(p, T_RDELIM, "end");
        return new_node(p, N_END, t->pos);
    case T_DEFINE:
    case T_TEMPLATE:
    case T_BLOCK:
        fail(p, "{{%.*s}} is not supported", (int)t->len, p->t->text + t->pos);
    default:
        break;
    }
    backup(p);
    struct node *n = new_node(p, N_ACTION, peek_tok(p)->pos);
    n->pipe = pipeline(p, "command", T_RDELIM);
    return n;
}

static struct node *text_or_action(struct parser *p)
{
    const struct tok *t = next_nonspace(p);
    if (t->type == T_TEXT) {
        struct node *n = new_node(p, N_TEXT, t->pos);
        n->end = t->pos + t->len;
        return n;
    }
    if (t->type == T_LDELIM)
        return action(p);
    unexpected(p, t, "input");
}

/* Nodes up to {{end}} or {{else}}, which *terminator gets. */
static struct node *item_list(struct parser *p, struct node **terminator)
{
    struct node *list = new_node(p, N_LIST, peek_nonspace(p)->pos);
    while (peek_nonspace(p)->type != T_EOF) {
        struct node *n = text_or_action(p);
        if (n->type == N_END || n->type == N_ELSE) {
            *terminator = n;
            return list;
        }
        add_kid(p, list, n);
    }
    fail(p, "unexpected EOF");
}

static void parse_root(struct parser *p)
{
    p->t->root = new_node(p, N_LIST, 0);
    push_var(p, "$", 1);
    while (peek_tok(p)->type != T_EOF) {
        struct node *n = text_or_action(p);
        if (n->type == N_END)
            fail(p, "unexpected {{end}}");
        if (n->type == N_ELSE)
            fail(p, "unexpected {{else}}");
        add_kid(p, p->t->root, n);
    }
}

static void parser_free(struct parser *p)
{
    pop_vars(p, 0);
    free(p->vars);
    free(p->error);
    for (size_t i = 0; i < p->lex.ntoks; i++)
        free(p->lex.toks[i].msg);
    free(p->lex.toks);
    free(p);
}

int cell_template_parse(const char *text, struct cell_template **out, cell_err_t *err)
{
    *out = NULL;
    /* On the heap: the parser's state must survive the longjmp intact. */
    struct parser *p = calloc(1, sizeof *p);
    struct cell_template *t = calloc(1, sizeof *t);
    if (!p || !t || !(t->text = strdup(text))) {
        free(p);
        cell_template_free(t);
        return cell_error(err, ENOMEM, "parse template");
    }
    p->t = t;
    p->lex = (struct lexer){.in = t->text, .n = strlen(text)};
    lex_all(&p->lex);
    if (setjmp(p->fail) != 0) {
        int rc = p->error ? cell_error(err, 0, "%s", p->error)
                          : cell_error(err, ENOMEM, "parse template");
        cell_template_free(t);
        parser_free(p);
        return rc;
    }
    parse_root(p);
    parser_free(p);
    *out = t;
    return 0;
}

int cell_template_option(struct cell_template *t, const char *option, cell_err_t *err)
{
    if (strcmp(option, "missingkey=default") == 0 || strcmp(option, "missingkey=invalid") == 0)
        t->missingkey_error = false;
    else if (strcmp(option, "missingkey=error") == 0)
        t->missingkey_error = true;
    else
        return cell_error(err, 0, "template: unrecognized option: %s", option);
    return 0;
}

/* ---- execution ---------------------------------------------------------------
 * Values are json_t references; NULL is Go's invalid value (a missing key),
 * which prints <no value>. Each eval function returns a new reference. */

enum { FLOW_ERROR = -1, FLOW_OK = 0, FLOW_BREAK = 1, FLOW_CONTINUE = 2 };

struct var {
    const char *name;
    json_t *value;
};

struct exec {
    const struct cell_template *t;
    struct sbuf out;
    struct var *vars;
    size_t nvars, capvars;
    const struct node *at; /* the node being executed, for errors */
    bool header;
    int depth;
    cell_err_t *err;
};

/* Go's ExecError text: template: :LINE:COL: executing "" at <node>: msg. */
__attribute__((format(printf, 2, 3))) static int exec_error(struct exec *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return cell_error(x->err, ENOMEM, "execute template");
    if (!x->at)
        return cell_error(x->err, 0, "template: : %s", msg);
    const char *text = x->t->text;
    size_t pos = x->at->pos, line_start = pos;
    while (line_start > 0 && text[line_start - 1] != '\n')
        line_start--;
    return cell_error(x->err, 0, "template: :%d:%zu: executing \"\" at <%.*s>: %s",
                      line_of(text, pos), pos - line_start, (int)(x->at->end - x->at->pos),
                      text + x->at->pos, msg);
}

/* The Go type a decoded JSON value has, for error texts. */
static const char *go_type(const json_t *v)
{
    if (!v)
        return "<nil>";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_ARRAY:
        return "[]interface {}";
    case JSON_OBJECT:
        return "map[string]interface {}";
    case JSON_NULL:
        break;
    }
    return "interface {}";
}

static bool is_nil(const json_t *v)
{
    return !v || json_is_null(v);
}

/* Go's truth: not the zero value of its type; nil and empty are false. */
static bool truth(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return false;
    }
}

static int push_var_value(struct exec *x, const char *name, json_t *value)
{
    if (x->nvars == x->capvars) {
        size_t cap = x->capvars ? x->capvars * 2 : 8;
        struct var *v = realloc(x->vars, cap * sizeof *v);
        if (!v)
            return cell_error(x->err, ENOMEM, "execute template");
        x->vars = v;
        x->capvars = cap;
    }
    x->vars[x->nvars++] = (struct var){name, json_incref(value)};
    return 0;
}

static void pop_to(struct exec *x, size_t mark)
{
    while (x->nvars > mark)
        json_decref(x->vars[--x->nvars].value);
}

static struct var *find_var(struct exec *x, const char *name)
{
    for (size_t i = x->nvars; i-- > 0;)
        if (strcmp(x->vars[i].name, name) == 0)
            return &x->vars[i];
    return NULL;
}

static int set_var(struct exec *x, const char *name, json_t *value)
{
    struct var *v = find_var(x, name);
    if (!v)
        return exec_error(x, "undefined variable: %s", name);
    json_decref(v->value);
    v->value = json_incref(value);
    return 0;
}

static int eval_pipeline(struct exec *x, json_t *dot, const struct node *pipe, json_t **out);
static int eval_function(struct exec *x, json_t *dot, const struct node *ident,
                         const struct node *cmd, bool has_final, json_t *final, json_t **out);

/* recv.name: an object's member. */
/* Docker's column name for a field: "RunningFor" -> "RUNNING FOR",
 * "CPUPerc" -> "CPU PERC". */
static json_t *derived_label(const char *field)
{
    size_t n = strlen(field);
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        bool upper = isupper((unsigned char)field[i]);
        bool after_lower =
            i > 0 && (islower((unsigned char)field[i - 1]) || isdigit((unsigned char)field[i - 1]));
        bool ends_acronym = i > 0 && isupper((unsigned char)field[i - 1]) && i + 1 < n &&
                            islower((unsigned char)field[i + 1]);
        if (upper && (after_lower || ends_acronym))
            sb_putc(&b, ' ');
        sb_putc(&b, (char)toupper((unsigned char)field[i]));
    }
    json_t *label = b.oom ? NULL : json_stringn(b.p ? b.p : "", b.len);
    sb_free(&b);
    return label;
}

static int eval_field(struct exec *x, const char *name, bool has_args, json_t *recv, json_t **out)
{
    *out = NULL;
    /* A header names every column: a field the labels lack is named after
     * itself, however deep (.State.Pid -> PID). */
    if (x->header && !json_object_get(recv, name) && !has_args) {
        *out = derived_label(name);
        return *out ? 0 : cell_error(x->err, ENOMEM, "execute template");
    }
    if (!recv) {
        if (x->t->missingkey_error)
            return exec_error(x, "nil data; no entry for key \"%s\"", name);
        return 0;
    }
    if (json_is_null(recv))
        return exec_error(x, "nil pointer evaluating interface {}.%s", name);
    if (!json_is_object(recv))
        return exec_error(x, "can't evaluate field %s in type %s", name, go_type(recv));
    if (has_args)
        return exec_error(x, "%s is not a method but has arguments", name);
    json_t *v = json_object_get(recv, name);
    if (!v && x->t->missingkey_error)
        return exec_error(x, "map has no entry for key \"%s\"", name);
    *out = json_incref(v);
    return 0;
}

/* .A.B.C from recv; the last field gets the arguments, which are an error. */
static int eval_field_chain(struct exec *x, json_t *recv, char *const *idents, size_t n,
                            bool has_args, json_t **out)
{
    json_t *cur = json_incref(recv);
    for (size_t i = 0; i < n; i++) {
        json_t *next;
        int r = eval_field(x, idents[i], i == n - 1 && has_args, cur, &next);
        json_decref(cur);
        if (r < 0)
            return r;
        cur = next;
    }
    *out = cur;
    return 0;
}

static int not_a_function(struct exec *x, const struct node *cmd, bool has_final)
{
    const struct node *first = cmd->kids[0];
    if (cmd->nkids > 1 || has_final)
        return exec_error(x, "can't give argument to non-function %.*s",
                          (int)(first->end - first->pos), x->t->text + first->pos);
    return 0;
}

static int eval_variable(struct exec *x, const struct node *n, bool has_args, json_t **out)
{
    x->at = n;
    struct var *v = find_var(x, n->idents[0]);
    if (!v)
        return exec_error(x, "undefined variable: %s", n->idents[0]);
    if (n->nidents == 1) {
        *out = json_incref(v->value);
        return 0;
    }
    return eval_field_chain(x, v->value, n->idents + 1, n->nidents - 1, has_args, out);
}

static int eval_chain(struct exec *x, json_t *dot, const struct node *n, bool has_args,
                      json_t **out);

/* An operand that is an argument: its value, never called with arguments. */
static int eval_arg(struct exec *x, json_t *dot, const struct node *n, json_t **out)
{
    x->at = n;
    *out = NULL;
    switch (n->type) {
    case N_DOT:
        *out = json_incref(dot);
        return 0;
    case N_NIL:
        *out = json_null();
        return 0;
    case N_FIELD:
        return eval_field_chain(x, dot, n->idents, n->nidents, false, out);
    case N_VAR:
        return eval_variable(x, n, false, out);
    case N_PIPE:
        return eval_pipeline(x, dot, n, out);
    case N_IDENT:
        return eval_function(x, dot, n, NULL, false, NULL, out);
    case N_CHAIN:
        return eval_chain(x, dot, n, false, out);
    case N_BOOL:
        *out = json_boolean(n->flag);
        return 0;
    default:
        *out = json_incref(n->value);
        return 0;
    }
}

static int eval_chain(struct exec *x, json_t *dot, const struct node *n, bool has_args,
                      json_t **out)
{
    x->at = n;
    if (n->pipe->type == N_NIL)
        return exec_error(x, "indirection through explicit nil in %.*s", (int)(n->end - n->pos),
                          x->t->text + n->pos);
    json_t *recv;
    if (eval_arg(x, dot, n->pipe, &recv) < 0)
        return -1;
    x->at = n;
    int r = eval_field_chain(x, recv, n->idents, n->nidents, has_args, out);
    json_decref(recv);
    return r;
}

static int eval_command(struct exec *x, json_t *dot, const struct node *cmd, bool has_final,
                        json_t *final, json_t **out)
{
    const struct node *first = cmd->kids[0];
    bool has_args = cmd->nkids > 1 || has_final;
    *out = NULL;
    x->at = first;
    switch (first->type) {
    case N_FIELD:
        return eval_field_chain(x, dot, first->idents, first->nidents, has_args, out);
    case N_CHAIN:
        return eval_chain(x, dot, first, has_args, out);
    case N_IDENT:
        return eval_function(x, dot, first, cmd, has_final, final, out);
    case N_VAR:
        if (first->nidents == 1 && not_a_function(x, cmd, has_final) < 0)
            return -1;
        return eval_variable(x, first, has_args, out);
    case N_PIPE:
        if (not_a_function(x, cmd, has_final) < 0)
            return -1;
        return eval_pipeline(x, dot, first, out);
    case N_NIL:
        if (not_a_function(x, cmd, has_final) < 0)
            return -1;
        return exec_error(x, "nil is not a command");
    default:
        if (not_a_function(x, cmd, has_final) < 0)
            return -1;
        return eval_arg(x, dot, first, out);
    }
}

/* A pipeline's value; its declared variables are pushed (the caller pops). */
static int eval_pipeline(struct exec *x, json_t *dot, const struct node *pipe, json_t **out)
{
    x->at = pipe;
    json_t *value = NULL;
    *out = NULL;
    if (++x->depth > 10000)
        return exec_error(x, "max expression depth exceeded");
    for (size_t i = 0; i < pipe->nkids; i++) {
        json_t *v;
        int r = eval_command(x, dot, pipe->kids[i], i > 0, value, &v);
        json_decref(value);
        if (r < 0) {
            x->depth--;
            return r;
        }
        value = v;
    }
    x->depth--;
    for (size_t i = 0; i < pipe->nidents; i++) {
        int r = pipe->flag ? set_var(x, pipe->idents[i], value)
                           : push_var_value(x, pipe->idents[i], value);
        if (r < 0) {
            json_decref(value);
            return r;
        }
    }
    *out = value;
    return 0;
}

static int walk(struct exec *x, json_t *dot, const struct node *n);

static int walk_if_with(struct exec *x, json_t *dot, const struct node *n)
{
    size_t mark = x->nvars;
    json_t *v;
    int r = eval_pipeline(x, dot, n->pipe, &v);
    if (r == 0) {
        if (truth(v))
            r = walk(x, n->type == N_WITH ? v : dot, n->list);
        else if (n->else_list)
            r = walk(x, dot, n->else_list);
    }
    json_decref(v);
    pop_to(x, mark);
    return r;
}

/* One pass of a range body: $i, $e (or the one variable) set, then the list. */
static int range_once(struct exec *x, const struct node *n, size_t mark, json_t *index,
                      json_t *elem)
{
    const struct node *pipe = n->pipe;
    int r = 0;
    if (pipe->nidents == 1)
        r = set_var(x, pipe->idents[0], elem);
    else if (pipe->nidents == 2)
        r = set_var(x, pipe->idents[0], index) < 0 ? -1 : set_var(x, pipe->idents[1], elem);
    if (r == 0)
        r = walk(x, elem, n->list);
    pop_to(x, mark);
    return r == FLOW_CONTINUE ? FLOW_OK : r;
}

static int range_over(struct exec *x, const struct node *n, json_t *v, bool *ran)
{
    size_t mark = x->nvars;
    int r = 0;
    *ran = false;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && r == 0; i++) {
            json_t *index = json_integer((json_int_t)i);
            r = range_once(x, n, mark, index, json_array_get(v, i));
            json_decref(index);
            *ran = true;
        }
    } else if (json_is_object(v)) {
        size_t nkeys;
        _cleanup_free_ const char **keys = sorted_keys(v, &nkeys);
        if (!keys)
            return cell_error(x->err, ENOMEM, "execute template");
        for (size_t i = 0; i < nkeys && r == 0; i++) {
            json_t *key = json_string(keys[i]);
            r = range_once(x, n, mark, key, json_object_get(v, keys[i]));
            json_decref(key);
            *ran = true;
        }
    } else if (json_is_integer(v)) {
        /* Go 1.22: {{range 3}} counts 0, 1, 2. */
        if (n->pipe->nidents > 1)
            return exec_error(
                x, "can't use %" JSON_INTEGER_FORMAT " to iterate over more than one variable",
                json_integer_value(v));
        for (json_int_t i = 0; i < json_integer_value(v) && r == 0; i++) {
            json_t *iv = json_integer(i);
            r = range_once(x, n, mark, iv, iv);
            json_decref(iv);
            *ran = true;
        }
    } else if (!is_nil(v)) {
        _cleanup_free_ char *s = cell_template_format_value(v);
        return exec_error(x, "range can't iterate over %s", s ? s : "value");
    }
    return r == FLOW_BREAK ? FLOW_OK : r;
}

static int walk_range(struct exec *x, json_t *dot, const struct node *n)
{
    size_t mark = x->nvars;
    json_t *v;
    int r = eval_pipeline(x, dot, n->pipe, &v);
    bool ran = false;
    if (r == 0)
        r = range_over(x, n, v, &ran);
    if (r == 0 && !ran && n->else_list)
        r = walk(x, dot, n->else_list);
    json_decref(v);
    pop_to(x, mark);
    return r;
}

static int walk(struct exec *x, json_t *dot, const struct node *n)
{
    x->at = n;
    switch (n->type) {
    case N_LIST:
        for (size_t i = 0; i < n->nkids; i++) {
            int r = walk(x, dot, n->kids[i]);
            if (r != 0)
                return r;
        }
        return 0;
    case N_TEXT:
        sb_putn(&x->out, x->t->text + n->pos, n->end - n->pos);
        return 0;
    case N_ACTION: {
        /* Its variables live to the enclosing {{end}}; a declaration prints nothing. */
        json_t *v;
        if (eval_pipeline(x, dot, n->pipe, &v) < 0)
            return -1;
        if (n->pipe->nidents == 0)
            put_value(&x->out, v);
        json_decref(v);
        return 0;
    }
    case N_IF:
    case N_WITH:
        return walk_if_with(x, dot, n);
    case N_RANGE:
        return walk_range(x, dot, n);
    case N_BREAK:
        return FLOW_BREAK;
    case N_CONTINUE:
        return FLOW_CONTINUE;
    default:
        return exec_error(x, "unknown node");
    }
}

static int render(const struct cell_template *t, json_t *data, bool header, char **out,
                  cell_err_t *err)
{
    struct exec x = {.t = t, .header = header, .err = err};
    *out = NULL;
    int r = push_var_value(&x, "$", data);
    if (r == 0)
        r = walk(&x, data, t->root);
    pop_to(&x, 0);
    free(x.vars);
    if (r < 0) {
        sb_free(&x.out);
        return -1;
    }
    if (!(*out = sb_take(&x.out)))
        return cell_error(err, ENOMEM, "execute template");
    return 0;
}

int cell_template_render(const struct cell_template *t, json_t *data, char **out, cell_err_t *err)
{
    return render(t, data, false, out, err);
}

int cell_template_render_header(const struct cell_template *t, json_t *data, char **out,
                                cell_err_t *err)
{
    return render(t, data, true, out, err);
}

/* ---- printf: the verbs of Go's fmt that make sense for JSON values ------------ */

struct spec {
    bool minus, plus, sharp, zero, space;
    int width, prec; /* -1: not given */
    uint32_t verb;
};

static void pad_text(struct sbuf *b, const struct spec *sp, const char *s, size_t n, bool numeric)
{
    long fill = sp->width - (long)rune_count(s, n);
    if (fill <= 0) {
        sb_putn(b, s, n);
    } else if (sp->minus) {
        sb_putn(b, s, n);
        sb_pad(b, ' ', fill);
    } else if (sp->zero && numeric) {
        size_t sign = n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ');
        sb_putn(b, s, sign);
        sb_pad(b, '0', fill);
        sb_putn(b, s + sign, n - sign);
    } else {
        sb_pad(b, ' ', fill);
        sb_putn(b, s, n);
    }
}

static void bad_verb(struct sbuf *b, const struct spec *sp, const json_t *v)
{
    sb_puts(b, "%!");
    utf8_put(b, sp->verb);
    sb_putc(b, '(');
    if (is_nil(v)) {
        sb_puts(b, "<nil>");
    } else {
        sb_puts(b, go_type(v));
        sb_putc(b, '=');
        put_value(b, v);
    }
    sb_putc(b, ')');
}

static void fmt_integer(struct sbuf *b, const struct spec *sp, json_int_t v)
{
    struct sbuf t = {0};
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int base = 10;
    const char *digits = "0123456789abcdef";
    switch (sp->verb) {
    case 'c':
        utf8_put(&t, (uint32_t)v);
        goto done;
    case 'q':
        sb_putc(&t, '\'');
        utf8_put(&t, (uint32_t)v);
        sb_putc(&t, '\'');
        goto done;
    case 'U':
        sb_printf(&t, "U+%04llX", mag);
        goto done;
    case 'x':
        base = 16;
        break;
    case 'X':
        base = 16;
        digits = "0123456789ABCDEF";
        break;
    case 'o':
    case 'O':
        base = 8;
        break;
    case 'b':
        base = 2;
        break;
    }
    char num[72];
    int n = 0;
    do {
        num[n++] = digits[mag % (unsigned)base];
        mag /= (unsigned)base;
    } while (mag);
    while (n < sp->prec && n < 64)
        num[n++] = '0';
    if (v < 0)
        sb_putc(&t, '-');
    else if (sp->plus)
        sb_putc(&t, '+');
    else if (sp->space)
        sb_putc(&t, ' ');
    if (sp->verb == 'O' || (sp->sharp && sp->verb == 'o'))
        sb_puts(&t, "0o" + (sp->verb == 'o'));
    else if (sp->sharp && base == 16)
        sb_puts(&t, sp->verb == 'X' ? "0X" : "0x");
    while (n > 0)
        sb_putc(&t, num[--n]);
done:
    pad_text(b, sp, t.p ? t.p : "", t.len, sp->prec < 0);
    sb_free(&t);
}

static void fmt_float(struct sbuf *b, const struct spec *sp, double v)
{
    struct sbuf t = {0};
    char verb = (char)sp->verb;
    if (verb == 'v' || ((verb == 'g' || verb == 'G') && sp->prec < 0)) {
        if (sp->plus && !signbit(v))
            sb_putc(&t, '+');
        else if (sp->space && !signbit(v))
            sb_putc(&t, ' ');
        put_go_float(&t, v, false);
        if (verb == 'G')
            for (size_t i = 0; i < t.len; i++)
                t.p[i] = (char)toupper((unsigned char)t.p[i]);
    } else {
        char f[16];
        snprintf(f, sizeof f, "%%%s%s.*%c", sp->plus ? "+" : "", sp->space ? " " : "",
                 verb == 'F' ? 'f' : verb);
        sb_printf(&t, f, sp->prec < 0 ? 6 : sp->prec, v);
    }
    pad_text(b, sp, t.p ? t.p : "", t.len, true);
    sb_free(&t);
}

static void fmt_string(struct sbuf *b, const struct spec *sp, const char *s, size_t n)
{
    struct sbuf t = {0};
    if (sp->prec >= 0) {
        size_t i = 0, len;
        for (int r = 0; i < n && r < sp->prec; r++, i += len)
            utf8_decode((const unsigned char *)s + i, n - i, &len);
        n = i;
    }
    if (sp->verb == 'q')
        go_quote(&t, s, n);
    else if (sp->verb == 'x' || sp->verb == 'X')
        for (size_t i = 0; i < n; i++)
            sb_printf(&t, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
    else
        sb_putn(&t, s, n);
    pad_text(b, sp, t.p ? t.p : "", t.len, false);
    sb_free(&t);
}

static void fmt_one(struct sbuf *b, const struct spec *sp, const json_t *v)
{
    uint32_t verb = sp->verb;
    if (verb == 'T') {
        const char *t = is_nil(v) ? "<nil>" : go_type(v);
        pad_text(b, sp, t, strlen(t), false);
        return;
    }
    if (is_nil(v)) {
        if (verb == 'v')
            pad_text(b, sp, "<nil>", 5, false);
        else
            bad_verb(b, sp, v);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (strchr("vsqxX", (int)verb) && verb)
            fmt_string(b, sp, json_string_value(v), json_string_length(v));
        else
            bad_verb(b, sp, v);
        return;
    case JSON_INTEGER:
        if (strchr("vdbcoOqxXU", (int)verb) && verb) {
            struct spec s = *sp;
            if (s.verb == 'v')
                s.verb = 'd';
            fmt_integer(b, &s, json_integer_value(v));
        } else {
            bad_verb(b, sp, v);
        }
        return;
    case JSON_REAL:
        if (strchr("veEfFgG", (int)verb) && verb)
            fmt_float(b, sp, json_real_value(v));
        else
            bad_verb(b, sp, v);
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        if (verb == 'v' || verb == 't')
            pad_text(b, sp, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, false);
        else
            bad_verb(b, sp, v);
        return;
    case JSON_ARRAY:
        /* fmt applies the verb to each element. */
        sb_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                sb_putc(b, ' ');
            fmt_one(b, sp, json_array_get(v, i));
        }
        sb_putc(b, ']');
        return;
    case JSON_OBJECT: {
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        sb_puts(b, "map[");
        for (size_t i = 0; keys && i < n; i++) {
            if (i)
                sb_putc(b, ' ');
            json_t *k = json_string(keys[i]);
            fmt_one(b, sp, k);
            json_decref(k);
            sb_putc(b, ':');
            fmt_one(b, sp, json_object_get(v, keys[i]));
        }
        sb_putc(b, ']');
        return;
    }
    default:
        return;
    }
}

/* A width or precision at f[*i]: digits, or '*' taking an int argument.
 * false when there is none; *bad when '*' finds no int. */
static bool spec_number(const char *f, size_t *i, json_t **argv, size_t argc, size_t *arg, int *out,
                        bool *bad)
{
    if (f[*i] == '*') {
        (*i)++;
        bool ok = *arg < argc && json_is_integer(argv[*arg]);
        if (*arg < argc)
            (*arg)++;
        if (!ok) {
            *bad = true;
            return false;
        }
        *out = (int)json_integer_value(argv[*arg - 1]);
        return true;
    }
    if (!isdigit((unsigned char)f[*i]))
        return false;
    int n = 0;
    while (isdigit((unsigned char)f[*i]) && n < 1000000)
        n = n * 10 + (f[(*i)++] - '0');
    *out = n;
    return true;
}

static void go_sprintf(struct sbuf *b, const char *f, json_t **argv, size_t argc)
{
    size_t arg = 0, n = strlen(f);
    for (size_t i = 0; i < n;) {
        if (f[i] != '%') {
            sb_putc(b, f[i++]);
            continue;
        }
        i++;
        struct spec sp = {.width = -1, .prec = -1};
        for (;; i++) {
            if (f[i] == '-')
                sp.minus = true;
            else if (f[i] == '+')
                sp.plus = true;
            else if (f[i] == '#')
                sp.sharp = true;
            else if (f[i] == '0')
                sp.zero = true;
            else if (f[i] == ' ')
                sp.space = true;
            else
                break;
        }
        bool bad_width = false, bad_prec = false;
        if (spec_number(f, &i, argv, argc, &arg, &sp.width, &bad_width) && sp.width < 0) {
            sp.minus = true; /* a negative '*' width means '-' */
            sp.width = -sp.width;
        }
        if (f[i] == '.') {
            i++;
            if (!spec_number(f, &i, argv, argc, &arg, &sp.prec, &bad_prec) || sp.prec < 0)
                sp.prec = bad_prec ? -1 : 0;
        }
        if (bad_width)
            sb_puts(b, "%!(BADWIDTH)");
        if (bad_prec)
            sb_puts(b, "%!(BADPREC)");
        if (i >= n) {
            sb_puts(b, "%!(NOVERB)");
            break;
        }
        size_t len;
        sp.verb = utf8_decode((const unsigned char *)f + i, n - i, &len);
        i += len;
        if (sp.verb == '%') {
            sb_putc(b, '%');
        } else if (arg >= argc) {
            sb_puts(b, "%!");
            utf8_put(b, sp.verb);
            sb_puts(b, "(MISSING)");
        } else {
            fmt_one(b, &sp, argv[arg++]);
        }
    }
    if (arg < argc) {
        sb_puts(b, "%!(EXTRA ");
        for (size_t i = arg; i < argc; i++) {
            if (i > arg)
                sb_puts(b, ", ");
            if (is_nil(argv[i])) {
                sb_puts(b, "<nil>");
            } else {
                sb_puts(b, go_type(argv[i]));
                sb_putc(b, '=');
                put_value(b, argv[i]);
            }
        }
        sb_putc(b, ')');
    }
}

/* ---- the functions -------------------------------------------------------------
 * Each gets its evaluated arguments (NULL for a missing value) and returns a
 * new reference in *out, or -1 with *msg set: Go reports it as
 * "error calling NAME: MSG". */

typedef int (*func_t)(json_t **argv, size_t argc, json_t **out, char **msg);

__attribute__((format(printf, 2, 3))) static int func_error(char **msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(msg, fmt, ap) < 0)
        *msg = NULL;
    va_end(ap);
    return -1;
}

static int take_sbuf(struct sbuf *b, json_t **out, char **msg)
{
    if (b->oom) {
        sb_free(b);
        return func_error(msg, "out of memory");
    }
    *out = json_stringn(b->p ? b->p : "", b->len);
    sb_free(b);
    return *out ? 0 : func_error(msg, "out of memory");
}

static int fn_not(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc, (void)msg;
    *out = json_boolean(!truth(argv[0]));
    return 0;
}

static int fn_len(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    const json_t *v = argv[0];
    size_t n;
    if (is_nil(v))
        return func_error(msg, "len of nil pointer");
    if (json_is_string(v))
        n = json_string_length(v);
    else if (json_is_array(v))
        n = json_array_size(v);
    else if (json_is_object(v))
        n = json_object_size(v);
    else
        return func_error(msg, "len of type %s", go_type(v));
    *out = json_integer((json_int_t)n);
    return 0;
}

/* An index into something of length len (cap: the largest allowed). */
static int index_arg(const json_t *idx, size_t cap, size_t *out, char **msg)
{
    if (is_nil(idx))
        return func_error(msg, "cannot index slice/array with nil");
    if (!json_is_integer(idx))
        return func_error(msg, "cannot index slice/array with type %s", go_type(idx));
    json_int_t x = json_integer_value(idx);
    if (x < 0 || (unsigned long long)x > cap)
        return func_error(msg, "index out of range: %" JSON_INTEGER_FORMAT, x);
    *out = (size_t)x;
    return 0;
}

/* A missing key indexes to the zero value of the map's element type. A JSON
 * object does not say that type; the maps Docker's users index are labels and
 * options (map[string]string), so an object of strings gives "". */
static json_t *missing_member(const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) if (!json_is_string(v)) return NULL;
    return json_string("");
}

static int fn_index(json_t **argv, size_t argc, json_t **out, char **msg)
{
    json_t *item = json_incref(argv[0]);
    if (is_nil(item)) {
        json_decref(item);
        return func_error(msg, "index of untyped nil");
    }
    for (size_t i = 1; i < argc; i++) {
        json_t *idx = argv[i], *next = NULL;
        size_t x = 0;
        if (is_nil(item)) {
            json_decref(item);
            return func_error(msg, "index of nil pointer");
        }
        if (json_is_array(item) || json_is_string(item)) {
            size_t len = json_is_array(item) ? json_array_size(item) : json_string_length(item);
            if (index_arg(idx, len, &x, msg) < 0 ||
                (x == len && func_error(msg, "index out of range: %zu", x) < 0)) {
                json_decref(item);
                return -1;
            }
            next = json_is_array(item) ? json_incref(json_array_get(item, x))
                                       : json_integer((unsigned char)json_string_value(item)[x]);
        } else if (json_is_object(item)) {
            if (!json_is_string(idx)) {
                json_decref(item);
                if (!idx)
                    return func_error(msg, "value is nil; should be of type string");
                return func_error(msg, "value has type %s; should be string", go_type(idx));
            }
            next = json_incref(json_object_get(item, json_string_value(idx)));
            if (!next)
                next = missing_member(item);
        } else {
            const char *type = go_type(item);
            json_decref(item);
            return func_error(msg, "can't index item of type %s", type);
        }
        json_decref(item);
        item = next;
    }
    *out = item;
    return 0;
}

static int fn_slice(json_t **argv, size_t argc, json_t **out, char **msg)
{
    const json_t *item = argv[0];
    if (is_nil(item))
        return func_error(msg, "slice of untyped nil");
    if (argc > 4)
        return func_error(msg, "too many slice indexes: %zu", argc - 1);
    size_t len;
    if (json_is_string(item)) {
        if (argc == 4)
            return func_error(msg, "cannot 3-index slice a string");
        len = json_string_length(item);
    } else if (json_is_array(item)) {
        len = json_array_size(item);
    } else {
        return func_error(msg, "can't slice item of type %s", go_type(item));
    }
    size_t idx[3] = {0, len, len};
    for (size_t i = 1; i < argc; i++)
        if (index_arg(argv[i], len, &idx[i - 1], msg) < 0)
            return -1;
    if (idx[0] > idx[1])
        return func_error(msg, "invalid slice index: %zu > %zu", idx[0], idx[1]);
    if (argc == 4 && idx[1] > idx[2])
        return func_error(msg, "invalid slice index: %zu > %zu", idx[1], idx[2]);
    if (json_is_string(item)) {
        *out = json_stringn(json_string_value(item) + idx[0], idx[1] - idx[0]);
    } else {
        *out = json_array();
        for (size_t i = idx[0]; *out && i < idx[1]; i++)
            json_array_append(*out, json_array_get(item, i));
    }
    return *out ? 0 : func_error(msg, "out of memory");
}

/* fmt's %v of an argument: a missing value is nil there. */
static void put_arg(struct sbuf *b, const json_t *v)
{
    put_value(b, v ? v : json_null());
}

static int fn_print(json_t **argv, size_t argc, json_t **out, char **msg)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < argc; i++) {
        /* Sprint puts a space between operands when neither is a string. */
        if (i > 0 && !json_is_string(argv[i]) && !json_is_string(argv[i - 1]))
            sb_putc(&b, ' ');
        put_arg(&b, argv[i]);
    }
    return take_sbuf(&b, out, msg);
}

static int fn_println(json_t **argv, size_t argc, json_t **out, char **msg)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < argc; i++) {
        if (i > 0)
            sb_putc(&b, ' ');
        put_arg(&b, argv[i]);
    }
    sb_putc(&b, '\n');
    return take_sbuf(&b, out, msg);
}

static int fn_printf(json_t **argv, size_t argc, json_t **out, char **msg)
{
    struct sbuf b = {0};
    go_sprintf(&b, json_string_value(argv[0]), argv + 1, argc - 1);
    return take_sbuf(&b, out, msg);
}

enum kind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum kind basic_kind(const json_t *v)
{
    if (!v)
        return K_INVALID;
    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_FALSE:
        return K_BOOL;
    case JSON_INTEGER:
        return K_INT;
    case JSON_REAL:
        return K_FLOAT;
    case JSON_STRING:
        return K_STRING;
    default:
        return K_INVALID;
    }
}

static int compare_strings(const json_t *a, const json_t *b)
{
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int equal(const json_t *a, const json_t *b, bool *truth_out, char **msg)
{
    enum kind k1 = basic_kind(a), k2 = basic_kind(b);
    *truth_out = false;
    if (k1 != k2) {
        if (!is_nil(a) && !is_nil(b))
            return func_error(msg, "incompatible types for comparison: %s and %s", go_type(a),
                              go_type(b));
        return 0;
    }
    switch (k1) {
    case K_BOOL:
        *truth_out = json_is_true(a) == json_is_true(b);
        break;
    case K_INT:
        *truth_out = json_integer_value(a) == json_integer_value(b);
        break;
    case K_FLOAT:
        *truth_out = json_real_value(a) == json_real_value(b);
        break;
    case K_STRING:
        *truth_out = compare_strings(a, b) == 0;
        break;
    case K_INVALID:
        if (is_nil(a) || is_nil(b)) {
            *truth_out = is_nil(a) == is_nil(b);
        } else {
            _cleanup_free_ char *s = cell_template_format_value(b);
            return func_error(msg, "non-comparable type %s: %s", s ? s : "value", go_type(b));
        }
    }
    return 0;
}

static int fn_eq(json_t **argv, size_t argc, json_t **out, char **msg)
{
    if (argc < 2)
        return func_error(msg, "missing argument for comparison");
    bool t = false;
    for (size_t i = 1; i < argc && !t; i++)
        if (equal(argv[0], argv[i], &t, msg) < 0)
            return -1;
    *out = json_boolean(t);
    return 0;
}

static int fn_ne(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    bool t;
    if (equal(argv[0], argv[1], &t, msg) < 0)
        return -1;
    *out = json_boolean(!t);
    return 0;
}

static int less(const json_t *a, const json_t *b, bool *truth_out, char **msg)
{
    enum kind k1 = basic_kind(a), k2 = basic_kind(b);
    if (k1 == K_INVALID || k2 == K_INVALID)
        return func_error(msg, "invalid type for comparison");
    if (k1 != k2)
        return func_error(msg, "incompatible types for comparison: %s and %s", go_type(a),
                          go_type(b));
    switch (k1) {
    case K_INT:
        *truth_out = json_integer_value(a) < json_integer_value(b);
        break;
    case K_FLOAT:
        *truth_out = json_real_value(a) < json_real_value(b);
        break;
    case K_STRING:
        *truth_out = compare_strings(a, b) < 0;
        break;
    default:
        return func_error(msg, "invalid type for comparison");
    }
    return 0;
}

/* lt, le, gt, ge, as Go derives them all from < and ==. */
static int ordered(json_t **argv, bool want_less, bool or_equal, json_t **out, char **msg)
{
    bool lt = false, eq = false;
    if (less(argv[0], argv[1], &lt, msg) < 0)
        return -1;
    if (!lt && or_equal == want_less && equal(argv[0], argv[1], &eq, msg) < 0)
        return -1;
    bool le = lt || eq;
    *out = json_boolean(want_less ? (or_equal ? le : lt) : (or_equal ? !lt : !le));
    return 0;
}

static int fn_lt(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return ordered(argv, true, false, out, msg);
}

static int fn_le(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return ordered(argv, true, true, out, msg);
}

static int fn_gt(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return ordered(argv, false, false, out, msg);
}

static int fn_ge(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return ordered(argv, false, true, out, msg);
}

/* Docker's json: encoding/json without HTML escaping, no trailing newline. */
static int fn_json(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    _cleanup_free_ char *s = cell_json_encode_go(argv[0], false, 0);
    *out = s ? json_string(s) : NULL;
    return *out ? 0 : func_error(msg, "out of memory");
}

/* strings.Split: an empty separator splits after each UTF-8 sequence. */
static int fn_split(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    const char *s = json_string_value(argv[0]), *sep = json_string_value(argv[1]);
    size_t n = json_string_length(argv[0]), seplen = json_string_length(argv[1]);
    json_t *list = json_array();
    for (size_t i = 0; list && seplen == 0 && i < n;) {
        size_t len;
        utf8_decode((const unsigned char *)s + i, n - i, &len);
        json_array_append_new(list, json_stringn(s + i, len));
        i += len;
    }
    for (size_t start = 0; list && seplen > 0;) {
        const char *hit = memmem(s + start, n - start, sep, seplen);
        size_t end = hit ? (size_t)(hit - s) : n;
        json_array_append_new(list, json_stringn(s + start, end - start));
        if (!hit)
            break;
        start = end + seplen;
    }
    *out = list;
    return list ? 0 : func_error(msg, "out of memory");
}

static int fn_join(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    struct sbuf b = {0};
    for (size_t i = 0; i < json_array_size(argv[0]); i++) {
        if (i)
            sb_putn(&b, json_string_value(argv[1]), json_string_length(argv[1]));
        json_t *e = json_array_get(argv[0], i);
        sb_putn(&b, json_string_value(e), json_string_length(e));
    }
    return take_sbuf(&b, out, msg);
}

/* Case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic:
 * what Go's unicode tables do for the names people give containers. */
static uint32_t to_case(uint32_t r, bool upper)
{
    if (r < 0x80)
        return (uint32_t)(upper ? toupper((int)r) : tolower((int)r));
    if (upper) {
        if ((r >= 0xe0 && r <= 0xfe && r != 0xf7) || (r >= 0x3b1 && r <= 0x3c9 && r != 0x3c2) ||
            (r >= 0x430 && r <= 0x44f))
            return r - 0x20;
        if (r == 0x3c2)
            return 0x3a3;
        if (r >= 0x450 && r <= 0x45f)
            return r - 0x50;
    } else {
        if ((r >= 0xc0 && r <= 0xde && r != 0xd7) || (r >= 0x391 && r <= 0x3a9 && r != 0x3a2) ||
            (r >= 0x410 && r <= 0x42f))
            return r + 0x20;
        if (r >= 0x400 && r <= 0x40f)
            return r + 0x50;
    }
    /* Latin Extended-A pairs: upper case first, except in two runs. */
    bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17e);
    bool paired = (r >= 0x100 && r <= 0x12f) || (r >= 0x132 && r <= 0x137) || odd_upper ||
                  (r >= 0x14a && r <= 0x177);
    if (paired) {
        bool is_upper = (r % 2 == 1) == odd_upper;
        if (is_upper != upper)
            return upper ? r - 1 : r + 1;
    }
    return r;
}

static int map_case(json_t *arg, int mode, json_t **out, char **msg)
{
    const char *s = json_string_value(arg);
    size_t n = json_string_length(arg);
    struct sbuf b = {0};
    bool after_separator = true;
    for (size_t i = 0, len; i < n; i += len) {
        uint32_t r = utf8_decode((const unsigned char *)s + i, n - i, &len);
        if (r == 0xfffd && len == 1) {
            sb_putc(&b, s[i]);
            after_separator = false;
            continue;
        }
        if (mode == 'T') {
            /* strings.Title: ASCII letters, digits and '_' join a word, other
             * ASCII separates; non-ASCII letters join, spaces separate. */
            bool separator = r < 0x80 ? !(isalnum((int)r) || r == '_')
                                      : (r == 0xa0 || (r >= 0x2000 && r <= 0x200a) || r == 0x3000 ||
                                         r == 0x85 || r == 0x2028 || r == 0x2029);
            utf8_put(&b, after_separator ? to_case(r, true) : r);
            after_separator = separator;
        } else {
            utf8_put(&b, to_case(r, mode == 'U'));
        }
    }
    return take_sbuf(&b, out, msg);
}

static int fn_lower(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return map_case(argv[0], 'L', out, msg);
}

static int fn_upper(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return map_case(argv[0], 'U', out, msg);
}

static int fn_title(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    return map_case(argv[0], 'T', out, msg);
}

/* Docker's truncate: the first N bytes (bytes, as Go's s[:n]). */
static int fn_truncate(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    json_int_t n = json_integer_value(argv[1]);
    size_t len = json_string_length(argv[0]);
    if (n < 0 && (size_t)0 < len)
        return func_error(
            msg, "runtime error: slice bounds out of range [:%" JSON_INTEGER_FORMAT "]", n);
    if ((json_int_t)len < n || n < 0) {
        *out = json_incref(argv[0]);
        return 0;
    }
    *out = json_stringn(json_string_value(argv[0]), (size_t)n);
    return *out ? 0 : func_error(msg, "out of memory");
}

/* Docker's pad: spaces before and after a string that is not empty. */
static int fn_pad(json_t **argv, size_t argc, json_t **out, char **msg)
{
    (void)argc;
    json_int_t before = json_integer_value(argv[1]), after = json_integer_value(argv[2]);
    if (json_string_length(argv[0]) == 0) {
        *out = json_incref(argv[0]);
        return 0;
    }
    if (before < 0 || after < 0)
        return func_error(msg, "strings: negative Repeat count");
    struct sbuf b = {0};
    sb_pad(&b, ' ', (long)before);
    sb_putn(&b, json_string_value(argv[0]), json_string_length(argv[0]));
    sb_pad(&b, ' ', (long)after);
    return take_sbuf(&b, out, msg);
}

/* types: one letter per fixed parameter: '*' any value, 's' string, 'i' int,
 * 'L' []string. header_types: the parameters of Docker's header version,
 * which returns its first argument. */
static const struct function {
    const char *name;
    unsigned nfixed;
    bool variadic;
    const char *types;
    func_t fn;
    const char *header_types;
} functions[] = {
    {"and", 1, true, "*", NULL, NULL},          {"or", 1, true, "*", NULL, NULL},
    {"not", 1, false, "*", fn_not, NULL},       {"len", 1, false, "*", fn_len, NULL},
    {"index", 1, true, "*", fn_index, NULL},    {"slice", 1, true, "*", fn_slice, NULL},
    {"print", 0, true, "", fn_print, NULL},     {"printf", 1, true, "s", fn_printf, NULL},
    {"println", 0, true, "", fn_println, NULL}, {"eq", 1, true, "*", fn_eq, NULL},
    {"ne", 2, false, "**", fn_ne, NULL},        {"lt", 2, false, "**", fn_lt, NULL},
    {"le", 2, false, "**", fn_le, NULL},        {"gt", 2, false, "**", fn_gt, NULL},
    {"ge", 2, false, "**", fn_ge, NULL},        {"json", 1, false, "*", fn_json, "s"},
    {"split", 2, false, "ss", fn_split, "ss"},  {"join", 2, false, "Ls", fn_join, "ss"},
    {"title", 1, false, "s", fn_title, "s"},    {"lower", 1, false, "s", fn_lower, "s"},
    {"upper", 1, false, "s", fn_upper, "s"},    {"truncate", 2, false, "si", fn_truncate, "si"},
    {"pad", 3, false, "sii", fn_pad, NULL},
};

static const struct function *find_function(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(functions); i++)
        if (strlen(functions[i].name) == len && memcmp(functions[i].name, name, len) == 0)
            return &functions[i];
    return NULL;
}

static bool function_exists(const char *name, size_t len)
{
    return find_function(name, len) != NULL;
}

static bool is_string_list(const json_t *v)
{
    if (!json_is_array(v))
        return false;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return false;
    return true;
}

/* Go's validateType for a parameter; a nil list stands for an empty one. */
static int check_arg(struct exec *x, char type, json_t **v)
{
    static const struct {
        char letter;
        const char *name;
    } names[] = {{'s', "string"}, {'i', "int"}, {'L', "[]string"}};
    bool ok = type == '*' || (type == 's' && json_is_string(*v)) ||
              (type == 'i' && json_is_integer(*v)) ||
              (type == 'L' && (is_nil(*v) || is_string_list(*v)));
    if (ok) {
        if (type == 'L' && is_nil(*v)) {
            json_decref(*v);
            *v = json_array();
        }
        return 0;
    }
    const char *want = "";
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (names[i].letter == type)
            want = names[i].name;
    const struct node *n = x->at;
    if (n && (n->type == N_NUMBER || n->type == N_STRING || n->type == N_BOOL))
        /* Go converts a literal to the parameter's type, and says so. */
        return exec_error(x, "expected %s; found %.*s", type == 'i' ? "integer" : want,
                          (int)(n->end - n->pos), x->t->text + n->pos);
    if (!*v)
        return exec_error(x, "invalid value; expected %s", want);
    return exec_error(x, "wrong type for value; expected %s; got %s", want, go_type(*v));
}

/* and, or: evaluate their arguments only until the answer is known. */
static int eval_and_or(struct exec *x, json_t *dot, const struct node *cmd, bool is_or,
                       bool has_final, json_t *final, json_t **out)
{
    json_t *v = NULL;
    for (size_t i = 1; cmd && i < cmd->nkids; i++) {
        json_decref(v);
        if (eval_arg(x, dot, cmd->kids[i], &v) < 0)
            return -1;
        if (truth(v) == is_or) {
            *out = v;
            return 0;
        }
    }
    if (has_final) {
        json_decref(v);
        v = json_incref(final);
    }
    *out = v;
    return 0;
}

static void free_args(json_t **argv, size_t argc)
{
    for (size_t i = 0; i < argc; i++)
        json_decref(argv[i]);
    free(argv);
}

static int call_function(struct exec *x, const struct function *f, const struct node *where,
                         json_t **argv, size_t argc, json_t **out)
{
    if (x->header && f->header_types) {
        *out = json_incref(argv[0]);
        return 0;
    }
    _cleanup_free_ char *msg = NULL;
    if (f->fn(argv, argc, out, &msg) < 0) {
        x->at = where;
        return exec_error(x, "error calling %s: %s", f->name, msg ? msg : "out of memory");
    }
    return 0;
}

static int eval_function(struct exec *x, json_t *dot, const struct node *ident,
                         const struct node *cmd, bool has_final, json_t *final, json_t **out)
{
    x->at = ident;
    *out = NULL;
    const struct function *f = find_function(ident->idents[0], strlen(ident->idents[0]));
    size_t nargs = cmd ? cmd->nkids - 1 : 0, argc = nargs + has_final;
    if (f->variadic && argc < f->nfixed)
        return exec_error(x, "wrong number of args for %s: want at least %u got %zu", f->name,
                          f->nfixed, nargs);
    if (!f->variadic && argc != f->nfixed)
        return exec_error(x, "wrong number of args for %s: want %u got %zu", f->name, f->nfixed,
                          argc);
    if (!f->fn)
        return eval_and_or(x, dot, cmd, f->name[0] == 'o', has_final, final, out);
    const char *types = x->header && f->header_types ? f->header_types : f->types;
    json_t **argv = calloc(argc + 1, sizeof *argv);
    if (!argv)
        return cell_error(x->err, ENOMEM, "execute template");
    for (size_t i = 0; i < argc; i++) {
        const struct node *arg = i < nargs ? cmd->kids[i + 1] : cmd;
        if (i < nargs && eval_arg(x, dot, arg, &argv[i]) < 0) {
            free_args(argv, argc);
            return -1;
        }
        if (i == nargs)
            argv[i] = json_incref(final);
        x->at = arg;
        if (i < strlen(types) && check_arg(x, types[i], &argv[i]) < 0) {
            free_args(argv, argc);
            return -1;
        }
    }
    int r = call_function(x, f, cmd ? cmd : ident, argv, argc, out);
    free_args(argv, argc);
    return r;
}

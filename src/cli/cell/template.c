/* One --format template rendered over one object, for the commands that
 * print a line at a time (stats, events): base/template.c does the work;
 * the two-character "\t" and "\n" become tab and newline as Docker's
 * client makes them. strict: a missing field is an error, as for Docker's
 * typed rows (stats); else it prints Go's "<no value>" (events' maps). */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "base/template.h"

#include <stdlib.h>
#include <string.h>

static char *unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *p = out;
    for (; out && *s; s++) {
        if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
            *p++ = s[1] == 't' ? '\t' : '\n';
            s++;
        } else
            *p++ = *s;
    }
    if (p)
        *p = 0;
    return out;
}

char *cell_cli_template_render(const char *tmpl, const json_t *obj, bool strict, cell_err_t *err)
{
    _cleanup_free_ char *text = unescape(tmpl);
    struct cell_template *t = NULL;
    char *out = NULL;
    if (!text) {
        cell_error(err, 12, "template");
        return NULL;
    }
    if (cell_template_parse(text, &t, err) < 0 ||
        (strict && cell_template_option(t, "missingkey=error", err) < 0) ||
        cell_template_render(t, (json_t *)obj, &out, err) < 0) {
        cell_error_prepend(err, "Error parsing format");
        out = NULL;
    }
    cell_template_free(t);
    return out;
}

#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_value(int errnum)
{
    return errnum > 0 ? -errnum : -1;
}

int cell_verror(cell_err_t *err, int errnum, const char *fmt, va_list ap)
{
    if (!err)
        return error_value(errnum);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    free(err->msg);
    err->msg = msg;
    err->errnum = errnum;
    return error_value(errnum);
}

int cell_error(cell_err_t *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cell_verror(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

int cell_error_prepend(cell_err_t *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char *prefix = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&prefix, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        char *joined = NULL;
        if (asprintf(&joined, "%s: %s", prefix, err->msg ? err->msg : "failed") >= 0) {
            free(err->msg);
            err->msg = joined;
        }
        free(prefix);
    }
    return error_value(err->errnum);
}

const char *cell_error_text(cell_err_t *err)
{
    if (!err->msg)
        return err->errnum ? strerror(err->errnum) : "unknown error";
    if (err->errnum) {
        const char *suffix = strerror(err->errnum);
        size_t ml = strlen(err->msg), sl = strlen(suffix);
        /* Only append once, even if the text is asked for twice. */
        if (!(ml > sl + 2 && strcmp(err->msg + ml - sl, suffix) == 0)) {
            char *joined = NULL;
            if (asprintf(&joined, "%s: %s", err->msg, suffix) >= 0) {
                free(err->msg);
                err->msg = joined;
            }
        }
    }
    return err->msg;
}

void cell_error_clear(cell_err_t *err)
{
    if (!err)
        return;
    free(err->msg);
    err->msg = NULL;
    err->errnum = 0;
}

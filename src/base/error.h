/* One error object, filled at the failure site and given context on the way
 * up: "container c1: mount proc on /proc: Operation not permitted". */
#pragma once

#include <stdarg.h>

typedef struct cell_err {
    int errnum;  /* errno of the root cause, 0 when there is none */
    char *msg;   /* full message, outer context first; NULL when unset */
} cell_err_t;

/* Records errnum and a message in *err and returns a negative value
 * (-errnum, or -1 when errnum is 0) so that `return cell_error(...)` is the
 * whole failure branch. err may be NULL. */
int cell_error(cell_err_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cell_verror(cell_err_t *err, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefixes the message with the caller's context; returns the same negative
 * value so it can be returned directly. */
int cell_error_prepend(cell_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message, with ": <strerror>" appended when errnum is set. Owned by err. */
const char *cell_error_text(cell_err_t *err);

void cell_error_clear(cell_err_t *err);

static inline void cell_error_clearp(cell_err_t *err)
{
    cell_error_clear(err);
}

#define _cleanup_err_ __attribute__((cleanup(cell_error_clearp)))
#define CELL_ERR_INIT {0, NULL}

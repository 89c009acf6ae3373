#include "base/warn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static cell_warn_fn sink;
static void *sink_data;

void cell_warn_set_sink(cell_warn_fn fn, void *data)
{
    sink = fn;
    sink_data = data;
}

void cell_warn(const char *fmt, ...)
{
    if (!sink)
        return;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n >= 0)
        sink(msg, sink_data);
    free(msg);
}

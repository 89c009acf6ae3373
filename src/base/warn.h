/* Warnings: what the runtime spec says to "log as a warning" and carry on
 * from (an unknown capability, a failing poststop hook). The library never
 * prints; the program that links it installs a sink (cell-runtime's writes
 * to its log), and without one a warning is dropped. Called in the runtime's
 * own process only, never in a container's init, whose stderr is the
 * container's. */
#pragma once

typedef void (*cell_warn_fn)(const char *msg, void *data);

void cell_warn_set_sink(cell_warn_fn fn, void *data);

void cell_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

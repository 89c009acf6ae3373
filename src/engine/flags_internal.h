/* Helpers shared by the flags_*.c files; not part of the engine's interface. */
#pragma once

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records `invalid argument "<value>" for "<flag>" flag: <message>` (pflag's
 * frame; value quoted as Go's %q does) with errnum. */
int flag_error(cell_err_t *err, int errnum, const char *flag, const char *value, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));

/* s quoted as Go's %q prints it; newly allocated (NULL on ENOMEM). */
char *go_quote(const char *s);

/* Docker's RAMInBytes (go-units 0.5). 0, or -EINVAL with Docker's message
 * for it in *why (newly allocated). */
int ram_in_bytes(const char *s, int64_t *bytes, char **why);

/* Go's strconv.ParseBool. */
bool parse_go_bool(const char *s, bool *out);

/* A decimal integer as Go's strconv.ParseInt(s, 10, 64) / ParseUint read it:
 * 0, -EINVAL (syntax) or -ERANGE. */
int parse_go_int(const char *s, int64_t *out);
int parse_go_uint(const char *s, uint64_t *out);

/* Go's message for a failed strconv call: `strconv.ParseInt: parsing "x":
 * invalid syntax`; newly allocated. */
char *go_num_error(const char *func, const char *s, int r);

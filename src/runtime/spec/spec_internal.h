/* Shared by the config.json parser's files (spec*.c) and nothing else.
 *
 * A struct spec_ctx carries the JSON path of the value being read
 * ("linux.namespaces[2].type") so that every error can name it. Getters push
 * the key they read and pop it again; on failure they leave the error in
 * ctx->err as "<path>: <what was expected>" and return a negative value.
 *
 * JSON null counts as absent everywhere: Go encoders emit it for empty
 * slices and maps that lack omitempty. */
#pragma once

#include "runtime/spec/spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spec_ctx {
    cell_err_t *err;
    size_t len;
    char path[512];
    char ***warnings; /* the spec's warnings vector; NULL drops them */
};

void spec_ctx_init(struct spec_ctx *c, const char *where, cell_err_t *err);
/* Append ".key" or "[i]" to the path; each returns a mark for spec_pop. */
size_t spec_push_key(struct spec_ctx *c, const char *key);
size_t spec_push_index(struct spec_ctx *c, size_t i);
void spec_pop(struct spec_ctx *c, size_t mark);
/* Records "<path>: <message>" and returns -1. */
int spec_fail(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int spec_fail_nomem(struct spec_ctx *c);
/* Records the warning "<path>: <message>" (see cell_spec.warnings) and
 * returns 0, or fails on ENOMEM. */
int spec_warn(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The member, or NULL when it is missing or null. */
json_t *spec_member(const json_t *obj, const char *key);

/* Value readers: the path already names v. */
int spec_value_string(struct spec_ctx *c, const json_t *v, char **out);
int spec_value_abs_path(struct spec_ctx *c, const json_t *v, char **out);
int spec_value_int(struct spec_ctx *c, const json_t *v, int64_t min, int64_t max, int64_t *out);
int spec_value_u64(struct spec_ctx *c, const json_t *v, uint64_t *out);

/* Member readers. An absent optional member leaves *out untouched and
 * returns 0; an absent required one fails with "<path>.<key>: required". */
int spec_get_object(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                    json_t **out);
int spec_get_array(struct spec_ctx *c, const json_t *obj, const char *key, json_t **out);
int spec_get_string(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                    char **out);
int spec_get_abs_path(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                      char **out);
int spec_get_bool(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *out);
int spec_get_int(struct spec_ctx *c, const json_t *obj, const char *key, bool required, int64_t min,
                 int64_t max, int64_t *out);
int spec_get_u64(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
                 uint64_t *out);
enum {
    SPEC_STRV_ABSOLUTE = 1 << 0, /* every element must be an absolute path */
};

/* An array of strings as a NULL-terminated vector; absent gives an empty
 * vector, so consumers can always iterate. */
int spec_get_strv(struct spec_ctx *c, const json_t *obj, const char *key, unsigned flags,
                  char ***out);
/* Like spec_get_strv but absent stays NULL. */
int spec_get_strv_optional(struct spec_ctx *c, const json_t *obj, const char *key, char ***out);
/* An object whose values are all strings, as key/value pairs. */
int spec_get_string_map(struct spec_ctx *c, const json_t *obj, const char *key,
                        struct cell_key_value **out, size_t *n);

/* A table of scalar members read into a struct at base + offset, for the
 * sections that are mostly plain numbers (linux.resources.memory, ...). */
enum spec_field_kind {
    SPEC_FIELD_INT64,    /* int64_t, within [min, max] */
    SPEC_FIELD_TRISTATE, /* int: -1 absent, 0 false, 1 true */
    SPEC_FIELD_STRING,   /* char *, duplicated */
};

struct spec_field {
    const char *key;
    enum spec_field_kind kind;
    size_t offset;
    int64_t min, max;
};

int spec_get_fields(struct spec_ctx *c, const json_t *obj, void *base,
                    const struct spec_field *fields, size_t n);

/* Allocates a zeroed array of n elements of size sz for an array member, so
 * that a partly filled array is still safe to free. */
int spec_alloc_array(struct spec_ctx *c, size_t n, size_t sz, void **out);

/* An array of objects, each read by parse_elem into a zeroed element of a
 * newly allocated array (*n is set before the elements are read, so a
 * partly read array is freed whole). Absent leaves *out NULL. */
typedef int (*spec_elem_fn)(struct spec_ctx *c, const json_t *obj, void *elem);
int spec_get_object_array(struct spec_ctx *c, const json_t *obj, const char *key, size_t elem_size,
                          spec_elem_fn parse_elem, void **out, size_t *n);

/* Loads the document, rewriting integers above INT64_MAX (see spec_json.c). */
int spec_load_json(const char *text, size_t len, json_t **out, cell_err_t *err);

/* Sections, each in its own file. */
int spec_parse_id_mappings(struct spec_ctx *c, const json_t *obj, const char *key,
                           struct cell_id_mapping **out, size_t *n);
int spec_parse_mounts(struct spec_ctx *c, const json_t *root, struct cell_spec *spec);
void spec_mount_clear(struct cell_mount *m);
int spec_parse_linux(struct spec_ctx *c, const json_t *obj, struct cell_linux *lx);
void spec_linux_clear(struct cell_linux *lx);
int spec_parse_resources_in(struct spec_ctx *c, const json_t *obj, struct cell_resources *r);
void spec_kv_free(struct cell_key_value *kv, size_t n);

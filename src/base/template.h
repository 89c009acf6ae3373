/* Go's text/template, the subset Docker's users type after --format, over
 * jansson values: `{{.State.Pid}}`, `{{range $k, $v := .Labels}}`,
 * `{{json .}}`, `{{.Name | upper}}`, `{{if eq .Status "running"}}...{{end}}`.
 *
 * The language: text and {{actions}} with `{{- ` / ` -}}` trimming and
 * comments; field chains (.A.B, $x.A, (pipeline).A), `.`, `$`, variables
 * (:= and =), pipelines; if / else if / else, with / else with, range (arrays
 * and objects; objects in sorted key order) with break and continue.
 * Functions: Go's and, or, not, len, index, slice, print, printf, println,
 * eq, ne, lt, le, gt, ge; Docker's json, join, split, lower, upper, title,
 * truncate, pad. Not supported: define, template, block, call, html, js,
 * urlquery (a parse error says so).
 *
 * Values print as Go's fmt %v prints what encoding/json decodes: strings raw,
 * integers and floats as Go writes them, true/false, null as <nil>, arrays as
 * [a b c], objects as map[k1:v1 k2:v2] with sorted keys. A missing key prints
 * <no value> (Go's default for maps), or fails under missingkey=error.
 * Errors read as Go's: `template: :1: function "foo" not defined`,
 * `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cell_template;

/* Parses text into *out. -1 with err set to Go's one-line parse error. */
int cell_template_parse(const char *text, struct cell_template **out, cell_err_t *err);

/* Go's Template.Option: "missingkey=default" (or "invalid"), "missingkey=zero"
 * or "missingkey=error". -1 with err set for anything else. */
int cell_template_option(struct cell_template *t, const char *option, cell_err_t *err);

/* Executes t over data; *out is the malloc'd text. -1 with err set (and *out
 * NULL) when execution fails. data may be NULL (Go's nil data). */
int cell_template_render(const struct cell_template *t, json_t *data, char **out, cell_err_t *err);

/* As render, for a table's header row as Docker makes it: the same template
 * executed over {"Field": "LABEL", ...}, where json, split, join, title,
 * lower, upper and truncate return their first argument unchanged, and a
 * field data lacks is named after itself in capitals split at its words
 * (.RunningFor -> "RUNNING FOR", .State.Pid -> "PID"). */
int cell_template_render_header(const struct cell_template *t, json_t *data, char **out,
                                cell_err_t *err);

void cell_template_free(struct cell_template *t);

/* v as Go's encoding/json writes it: keys in the object's order, Go's string
 * escapes and number forms; escape_html writes <, >, & as \u003c, \u003e,
 * \u0026 (json.Marshal's default; Docker's json function turns it off);
 * indent > 0 indents by that many spaces per level (json.MarshalIndent).
 * The malloc'd text, or NULL on ENOMEM. */
char *cell_json_encode_go(const json_t *v, bool escape_html, int indent);

/* v as Go's fmt %v prints it (see above); NULL prints "<no value>". */
char *cell_template_format_value(const json_t *v);

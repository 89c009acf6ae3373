/* The engine: named containers made from images, with Docker's habits and
 * no daemon (DESIGN.md). It is where the image layer, the runtime library
 * and the network layer meet; src/cli/cell calls it.
 *
 * On disk, under the engine root (`cell --root`, CELL_ROOT, /var/lib/cell),
 * beside the image store:
 *   containers/<64-hex id>/   one container: record.json, config.json (the
 *                             generated OCI bundle config), the json-file log
 *   runtime/                  the runtime library's state root
 *
 * Nothing here prints or exits. */
#pragma once

#include "base/error.h"

#include <stdbool.h>

#define CELL_ENGINE_ID_LEN       64
#define CELL_ENGINE_ID_SIZE      (CELL_ENGINE_ID_LEN + 1)
#define CELL_ENGINE_SHORT_ID_LEN 12

/* ---- ids and names (id.c) ------------------------------------------------- */

/* A fresh container id: 64 lowercase hex digits from getrandom(2). */
int cell_engine_new_id(char out[CELL_ENGINE_ID_SIZE], cell_err_t *err);
/* True for 64 lowercase hex digits. */
bool cell_engine_id_valid(const char *id);
/* Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes. */
bool cell_engine_name_valid(const char *name);

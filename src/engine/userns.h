/* A container's user namespace (userns.c): the host id range of
 * --userns auto, and the root filesystem made for the mapped root. */
#pragma once

#include "engine/engine.h"

struct cell_image;
struct cell_image_store;

/* --userns auto: a free range of host ids for rec, written into its
 * HostConfig UidMaps and GidMaps. The records are the allocation table:
 * the ranges in use are those of the recorded containers, so rm frees a
 * range with the record. *lockfd (else -1) holds the allocation lock; the
 * caller closes it once rec is saved, so that a concurrent create sees it. */
int cell_engine_userns_assign(struct cell_engine *e, json_t *rec, int *lockfd, cell_err_t *err);

/* The host uid and gid of the container's root (id 0 inside); false
 * without maps or when id 0 is not mapped. */
bool cell_engine_userns_root(const json_t *rec, uid_t *uid, gid_t *gid);

/* The container's snapshot: an idmapped one when rec has id maps, else
 * the plain overlay. */
int cell_engine_userns_snapshot(struct cell_image_store *s, const json_t *rec,
                                const struct cell_image *img, char **merged, cell_err_t *err);

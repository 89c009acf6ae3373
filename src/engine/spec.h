/* Building a container's configuration (spec.c): the record's Config and
 * HostConfig from the image and the flags, then config.json from the
 * record, so a restart or `start` of a created container builds the same
 * thing from what was recorded. */
#pragma once

#include "engine/engine.h"

/* Fills rec's Config, HostConfig, Path and Args. */
int cell_spec_record(const struct cell_run_opts *o, const json_t *image_config, const char *id,
                     json_t *rec, cell_err_t *err);
/* The OCI config of rec, rooted at rootfs; dir is the container's directory
 * (its hostname, hosts and resolv.conf files). */
int cell_spec_build(const json_t *rec, const char *rootfs, const char *dir, json_t **out,
                    cell_err_t *err);

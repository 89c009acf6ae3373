/* Building a container's configuration (spec.c): the record's Config and
 * HostConfig from the image and the flags, then config.json from the
 * record, so a restart or `start` of a created container builds the same
 * thing from what was recorded. */
#pragma once

#include "engine/engine.h"

/* Fills rec's Config, HostConfig, Path and Args. */
int cell_spec_record(const struct cell_run_opts *o, const json_t *image_config, const char *id,
                     json_t *rec, cell_err_t *err);
/* spec_flags.c: the flags that are parts of config.json as they are
 * (-v, --mount, --tmpfs, --ulimit, --device, --sysctl, block IO, --add-host),
 * checked and kept in rec's "Spec". */
int cell_spec_flags(const struct cell_run_opts *o, json_t *rec, cell_err_t *err);
/* Merges rec's "Spec" into a config. */
void cell_spec_apply_flags(const json_t *rec, json_t *spec);

/* spec_ns.c: --pid/--ipc/--uts/--network/--cgroupns/--userns/--uidmap/--gidmap
 * checked into HostConfig; at start, the namespaces (container:X joined by
 * X's init's /proc/PID/ns) and the user resolved in the root filesystem. */
int cell_spec_namespaces(const struct cell_run_opts *o, json_t *hc, cell_err_t *err);
int cell_spec_apply_namespaces(struct cell_engine *e, const json_t *rec, json_t *spec,
                               cell_err_t *err);
int cell_spec_apply_user(const json_t *rec, const char *rootfs, json_t *spec, cell_err_t *err);

/* `update`: the limit flags given in o (and --restart) checked and merged
 * into hc; *resources is the linux.resources object of what changed. */
int cell_spec_update(const struct cell_run_opts *o, json_t *hc, json_t **resources,
                     cell_err_t *err);

/* The OCI config of rec, rooted at rootfs; dir is the container's directory
 * (its hostname, hosts and resolv.conf files). */
int cell_spec_build(struct cell_engine *e, const json_t *rec, const char *rootfs, const char *dir,
                    json_t **out, cell_err_t *err);
/* Writes dir's config.json for rec (at create, and again at every start:
 * container:X namespaces and the user are resolved anew). */
int cell_spec_write(struct cell_engine *e, const json_t *rec, int dirfd, cell_err_t *err);

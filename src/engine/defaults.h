/* The confinement a container gets by default, as Docker gives it: the
 * default capability set and the --cap-add / --cap-drop / --privileged
 * rules, the default seccomp profile (and the converter for Docker's
 * profile format that `--security-opt seccomp=FILE` reads), and the masked
 * and read-only paths. The engine calls these while it writes a
 * container's config.json; nothing here touches a container.
 *
 * Capabilities are "CAP_X" names, as config.json holds them. */
#pragma once

#include "base/error.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- capabilities (defaults.c) -------------------------------------------- */

/* Docker's default set (14 capabilities), NULL-terminated, allocated (free
 * with cell_strv_free); NULL when out of memory. */
char **cell_defaults_caps(void);

/* The capability set of a container from --cap-add / --cap-drop /
 * --privileged, by Docker's rules (add and drop may be NULL):
 *  - names in any case, with or without "CAP_"; "ALL" means every one;
 *  - both lists are checked first, even when privileged: a name the kernel
 *    headers do not know is `--cap-add: unknown capability: "CAP_FOO"`, one
 *    this host does not offer (newer than the kernel, or missing from our
 *    own set) is `--cap-add: capability not supported by your kernel or not
 *    available in the current environment: "CAP_X"`;
 *  - privileged: every capability this process has (add/drop ignored);
 *  - add ALL: every capability except the dropped ones;
 *  - drop ALL: exactly the added ones;
 *  - else: the default set minus the dropped ones, then the added ones.
 * *out is NULL-terminated, without repeats (free with cell_strv_free).
 * Docker puts the result in bounding, effective and permitted (none in
 * inheritable or ambient) and leaves noNewPrivileges off. */
int cell_defaults_apply_caps(char *const *add, char *const *drop, bool privileged, char ***out,
                             cell_err_t *err);

/* ---- masked and read-only paths (defaults.c) ------------------------------ */

/* linux.maskedPaths: Docker's list, plus /sys/devices/system/cpu/cpuN/
 * thermal_throttle for each possible CPU where it exists on this host. */
json_t *cell_defaults_masked_paths(void);
/* linux.readonlyPaths: /proc/bus, /proc/fs, /proc/irq, /proc/sys,
 * /proc/sysrq-trigger. */
json_t *cell_defaults_readonly_paths(void);

/* ---- seccomp (seccomp_profile.c, seccomp_docker.c) ------------------------ */

/* What a Docker profile's conditions are evaluated against. */
struct cell_defaults_host {
    const char *arch; /* Docker's name for this build: "amd64", "arm64", ... */
    unsigned kernel;  /* the 6 of 6.1.0-18-amd64 */
    unsigned major;   /* the 1 of 6.1.0-18-amd64 */
};

/* This build's arch and the running kernel (uname). */
int cell_defaults_host(struct cell_defaults_host *h, cell_err_t *err);

/* Docker's default profile in Docker's own format (archMap, includes,
 * excludes, ...), as moby's profiles/seccomp/default.json has it; NULL when
 * out of memory. */
json_t *cell_defaults_seccomp_profile(void);

/* Docker's default profile for a container with these capabilities, in OCI
 * form (linux.seccomp; a --privileged container gets none, Docker runs it
 * unconfined), its conditions resolved for this host: the same as
 * cell_defaults_seccomp_from_docker(cell_defaults_seccomp_profile(), caps).
 * NULL when out of memory or uname is unreadable. */
json_t *cell_defaults_seccomp(char *const *caps);

/* A profile in Docker's format turned into linux.seccomp for a container
 * with these capabilities, as Docker does it:
 *  - architectures are copied, or the archMap entry of this build's arch
 *    gives its arch and sub-arches (both given is an error);
 *  - a rule is left out when excludes.arches has this arch, excludes.caps
 *    has any capability the container has, or the kernel is at least
 *    excludes.minKernel; and unless this arch is in includes.arches, the
 *    container has every capability in includes.caps and the kernel is at
 *    least includes.minKernel;
 *  - "name" is the one-name form of "names"; "comment" is dropped.
 * A profile with neither defaultAction nor syscalls disables seccomp, as
 * Docker reads it: the result is then JSON null. Errors are one line that
 * begins with what (e.g. "seccomp profile /etc/x.json") and names the
 * field: "...: syscalls[3].includes.minKernel: expected \"<kernel>.<major>\"". */
json_t *cell_defaults_seccomp_from_docker(const json_t *profile, char *const *caps,
                                          const char *what, cell_err_t *err);
/* `--security-opt seccomp=FILE`: the file read and converted as above;
 * "seccomp profile FILE: ..." in errors, with the line of a JSON error. */
json_t *cell_defaults_seccomp_from_file(const char *path, char *const *caps, cell_err_t *err);
/* The same against a given host (tests; the engine uses the form above). */
json_t *cell_defaults_seccomp_convert(const json_t *profile, char *const *caps,
                                      const struct cell_defaults_host *host, const char *what,
                                      cell_err_t *err);

/* linux.seccomp through libseccomp. The filter is compiled in the runtime
 * process before clone (so the init only loads a ready BPF program) and
 * installed by the init as its last step before the create/start gate. */
#pragma once

#include "base/error.h"
#include "runtime/spec/spec.h"

struct cell_seccomp;

/* Parent, before clone. *out is NULL when the config has no linux.seccomp.
 * The _at form keeps compiled programs under cache_root (the state root)
 * in .seccomp-cache/<sha256>.bpf: compiling a Docker-sized profile costs
 * ~13 ms, loading the kept one a few microseconds. */
int cell_seccomp_prepare(const struct cell_spec *spec, struct cell_seccomp **out, cell_err_t *err);
int cell_seccomp_prepare_at(const struct cell_spec *spec, const char *cache_root,
                            struct cell_seccomp **out, cell_err_t *err);

/* Init, after the user switch and no_new_privs, before the gate. When the
 * filter uses SCMP_ACT_NOTIFY, *notify_fd receives the listener fd (else -1). */
int cell_seccomp_install(const struct cell_seccomp *s, int *notify_fd, cell_err_t *err);

/* Runtime process: sends the notify fd with the container state to
 * linux.seccomp.listenerPath (SCM_RIGHTS, as runtime.md describes). */
int cell_seccomp_send_to_listener(const struct cell_spec *spec, int notify_fd,
                                  const char *state_json, cell_err_t *err);

void cell_seccomp_free(struct cell_seccomp *s);

/* The "seccomp" member of the features document (features-linux.md). */
json_t *cell_seccomp_features(void);

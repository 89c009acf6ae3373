/* Shared by the seccomp files: name tables and the compiled program. */
#pragma once

#include "runtime/seccomp/seccomp.h"

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

enum seccomp_table { SECCOMP_ACTIONS, SECCOMP_OPERATORS, SECCOMP_ARCHS, SECCOMP_FLAGS };

/* 0 and *value set, or -1 when the name is not in the table. */
int seccomp_name_lookup(enum seccomp_table t, const char *name, uint32_t *value);

/* A filter ready for seccomp(SECCOMP_SET_MODE_FILTER). */
struct cell_seccomp {
    struct sock_filter *insns;
    unsigned short len;
    unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
    bool notify;        /* some rule uses SCMP_ACT_NOTIFY: ask for a listener fd */
};

/* Builds the BPF program for a linux.seccomp object (fills out). */
int seccomp_compile(const json_t *sc, struct cell_seccomp *out, cell_err_t *err);

/* The compiled-program cache under a state root (seccomp_cache.c). */
int seccomp_cache_key(const json_t *sc, char key[65]);
int seccomp_cache_load(const char *root, const char *key, struct cell_seccomp *out);
void seccomp_cache_store(const char *root, const char *key, const struct cell_seccomp *s);

/* NULL-terminated string vectors. */
#pragma once

#include <stddef.h>

size_t cell_strv_len(char *const *v);
void cell_strv_free(char **v);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int cell_strv_push(char ***v, const char *s);
/* The value of NAME in an environment vector ("NAME=value"), or NULL. */
const char *cell_strv_env_get(char *const *env, const char *name);

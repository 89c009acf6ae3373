#include "base/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t cell_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void cell_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

int cell_strv_push(char ***v, const char *s)
{
    size_t n = cell_strv_len(*v);
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    char **bigger = realloc(*v, (n + 2) * sizeof(char *));
    if (!bigger) {
        free(copy);
        return -ENOMEM;
    }
    bigger[n] = copy;
    bigger[n + 1] = NULL;
    *v = bigger;
    return 0;
}

const char *cell_strv_env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

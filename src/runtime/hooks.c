/* Being written: see hooks.h. Until then a config with hooks is refused, so
 * that no hook is silently skipped. */
#include "runtime/hooks.h"

#include <stdlib.h>

int cell_hooks_run(struct cell_hook *const hooks, size_t n, enum cell_hook_kind kind,
                   const char *state_json, cell_err_t *err)
{
    (void)hooks;
    (void)state_json;
    if (n == 0)
        return 0;
    return cell_error(err, 0, "hooks.%s: not supported yet", cell_hook_name(kind));
}

json_t *cell_hooks_to_json(const struct cell_spec *spec)
{
    (void)spec;
    return NULL;
}

int cell_hooks_from_json(json_t *hooks, enum cell_hook_kind kind, struct cell_hook **out,
                         size_t *n, cell_err_t *err)
{
    (void)hooks;
    (void)kind;
    (void)err;
    *out = NULL;
    *n = 0;
    return 0;
}

void cell_hooks_free(struct cell_hook *hooks, size_t n)
{
    (void)n;
    free(hooks);
}

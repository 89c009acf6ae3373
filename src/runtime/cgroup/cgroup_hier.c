/* A cgroup's hierarchies: what cgroup.c builds and the v1 and v2 drivers
 * read. Shared by the drivers, it calls none of them. */
#include "runtime/cgroup/cgroup_internal.h"

#include <stdlib.h>
#include <string.h>

unsigned cg_keep(const struct cell_cgroup *cg, unsigned kept)
{
    return strncmp(cg->path, CELL_PARENT "/", strlen(CELL_PARENT) + 1) == 0 ? 0 : kept;
}

struct cell_cgroup_hier *cell_cgroup_add_hier(struct cell_cgroup *cg, const char *name,
                                              const char *fstype, const char *options,
                                              const char *host_dir)
{
    struct cell_cgroup_hier *hiers = realloc(cg->hiers, (cg->n_hiers + 1) * sizeof *hiers);
    if (!hiers)
        return NULL;
    cg->hiers = hiers;
    struct cell_cgroup_hier *h = &hiers[cg->n_hiers];
    *h = (struct cell_cgroup_hier){
        .name = strdup(name),
        .fstype = strdup(fstype),
        .options = options ? strdup(options) : NULL,
        .host_dir = strdup(host_dir),
    };
    cg->n_hiers++;
    if (!h->name || !h->fstype || (options && !h->options) || !h->host_dir)
        return NULL; /* freed with cg */
    return h;
}

char *cell_cgroup_hier_root(const struct cell_cgroup *cg, const struct cell_cgroup_hier *h)
{
    size_t dl = strlen(h->host_dir), pl = strlen(cg->path);
    if (dl < pl || strcmp(h->host_dir + dl - pl, cg->path))
        return NULL;
    return strndup(h->host_dir, dl - pl);
}

bool cell_cgroup_hier_has(const struct cell_cgroup_hier *h, const char *controller)
{
    size_t n = strlen(controller);
    for (const char *p = h->options; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, controller, n))
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

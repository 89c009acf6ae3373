/* "mounts": each entry with its options split into what mount(2) and
 * mount_setattr(2) take (config.md, "Linux mount options"). */
#include "runtime/spec/spec_internal.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/mount.h>

enum opt_kind {
    OPT_FLAG,        /* a classic MS_* flag, set or cleared */
    OPT_PROPAGATION, /* MS_SHARED, ..., with an r-form for the whole tree */
    OPT_BIND,
    OPT_ATTR,  /* a recursive MOUNT_ATTR_* flag, set or cleared */
    OPT_ATIME, /* a recursive atime mode (MOUNT_ATTR__ATIME field) */
    OPT_TMPCOPYUP,
    OPT_IDMAP,
    OPT_NOOP,
};

struct mount_opt {
    const char *name;
    enum opt_kind kind;
    bool clear;     /* OPT_FLAG / OPT_ATTR: the option turns the flag off */
    bool recursive; /* OPT_PROPAGATION / OPT_BIND / OPT_IDMAP: the r-form */
    unsigned long flag;
};

/* The kernel keeps one atime mode per mount: relatime (0), noatime or
 * strictatime. "ratime" and "rnostrictatime" undo a stricter choice and fall
 * back to the default, relatime; "rnorelatime" asks for atime updates on
 * every access, i.e. strictatime. */
static const struct mount_opt mount_opts[] = {
    {"ro", OPT_FLAG, false, false, MS_RDONLY},
    {"rw", OPT_FLAG, true, false, MS_RDONLY},
    {"nosuid", OPT_FLAG, false, false, MS_NOSUID},
    {"suid", OPT_FLAG, true, false, MS_NOSUID},
    {"nodev", OPT_FLAG, false, false, MS_NODEV},
    {"dev", OPT_FLAG, true, false, MS_NODEV},
    {"noexec", OPT_FLAG, false, false, MS_NOEXEC},
    {"exec", OPT_FLAG, true, false, MS_NOEXEC},
    {"sync", OPT_FLAG, false, false, MS_SYNCHRONOUS},
    {"async", OPT_FLAG, true, false, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG, false, false, MS_DIRSYNC},
    {"remount", OPT_FLAG, false, false, MS_REMOUNT},
    {"mand", OPT_FLAG, false, false, MS_MANDLOCK},
    {"nomand", OPT_FLAG, true, false, MS_MANDLOCK},
    {"noatime", OPT_FLAG, false, false, MS_NOATIME},
    {"atime", OPT_FLAG, true, false, MS_NOATIME},
    {"nodiratime", OPT_FLAG, false, false, MS_NODIRATIME},
    {"diratime", OPT_FLAG, true, false, MS_NODIRATIME},
    {"relatime", OPT_FLAG, false, false, MS_RELATIME},
    {"norelatime", OPT_FLAG, true, false, MS_RELATIME},
    {"strictatime", OPT_FLAG, false, false, MS_STRICTATIME},
    {"nostrictatime", OPT_FLAG, true, false, MS_STRICTATIME},
    {"nosymfollow", OPT_FLAG, false, false, MS_NOSYMFOLLOW},
    {"symfollow", OPT_FLAG, true, false, MS_NOSYMFOLLOW},
    {"silent", OPT_FLAG, false, false, MS_SILENT},
    {"loud", OPT_FLAG, true, false, MS_SILENT},
    {"iversion", OPT_FLAG, false, false, MS_I_VERSION},
    {"noiversion", OPT_FLAG, true, false, MS_I_VERSION},
    {"lazytime", OPT_FLAG, false, false, MS_LAZYTIME},
    {"nolazytime", OPT_FLAG, true, false, MS_LAZYTIME},
    {"private", OPT_PROPAGATION, false, false, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, false, true, MS_PRIVATE},
    {"shared", OPT_PROPAGATION, false, false, MS_SHARED},
    {"rshared", OPT_PROPAGATION, false, true, MS_SHARED},
    {"slave", OPT_PROPAGATION, false, false, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, false, true, MS_SLAVE},
    {"unbindable", OPT_PROPAGATION, false, false, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, false, true, MS_UNBINDABLE},
    {"bind", OPT_BIND, false, false, 0},
    {"rbind", OPT_BIND, false, true, 0},
    {"rro", OPT_ATTR, false, false, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR, true, false, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR, false, false, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR, true, false, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR, false, false, MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR, true, false, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR, false, false, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR, true, false, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR, false, false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR, true, false, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", OPT_ATTR, false, false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR, true, false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", OPT_ATIME, false, false, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_ATIME, false, false, MOUNT_ATTR_RELATIME},
    {"rrelatime", OPT_ATIME, false, false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_ATIME, false, false, MOUNT_ATTR_STRICTATIME},
    {"rstrictatime", OPT_ATIME, false, false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_ATIME, false, false, MOUNT_ATTR_RELATIME},
    {"tmpcopyup", OPT_TMPCOPYUP, false, false, 0},
    {"idmap", OPT_IDMAP, false, false, 0},
    {"ridmap", OPT_IDMAP, false, true, 0},
    {"defaults", OPT_NOOP, false, false, 0},
};

static const struct mount_opt *find_mount_opt(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
        if (strcmp(mount_opts[i].name, name) == 0)
            return &mount_opts[i];
    return NULL;
}

/* A later option overrides an earlier one ("ro" then "rw" is read-write),
 * so setting a flag also withdraws it from the clear set and the reverse. */
static void set_or_clear(unsigned long *set, unsigned long *clr, unsigned long f, bool clear)
{
    *(clear ? clr : set) |= f;
    *(clear ? set : clr) &= ~f;
}

static void set_or_clear_attr(uint64_t *set, uint64_t *clr, uint64_t f, bool clear)
{
    *(clear ? clr : set) |= f;
    *(clear ? set : clr) &= ~f;
}

static void apply_mount_opt(struct cell_mount *m, const struct mount_opt *o)
{
    switch (o->kind) {
    case OPT_FLAG:
        set_or_clear(&m->flags, &m->clear_flags, o->flag, o->clear);
        break;
    case OPT_PROPAGATION:
        m->propagation = o->flag;
        m->propagation_recursive = o->recursive;
        break;
    case OPT_BIND:
        m->bind = true;
        m->recursive = o->recursive;
        break;
    case OPT_ATTR:
        set_or_clear_attr(&m->attr_set, &m->attr_clr, o->flag, o->clear);
        break;
    case OPT_ATIME:
        /* mount_setattr(2) changes the atime mode only when the whole
         * MOUNT_ATTR__ATIME field is in attr_clr. */
        m->attr_clr |= MOUNT_ATTR__ATIME;
        m->attr_set = (m->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->flag;
        break;
    case OPT_TMPCOPYUP:
        m->tmpcopyup = true;
        break;
    case OPT_IDMAP:
        m->idmap = true;
        m->idmap_recursive = o->recursive;
        break;
    case OPT_NOOP:
        break;
    }
}

/* Applies the known options and joins the rest, which belong to the
 * filesystem ("mode=755", "size=65536k"), into m->data. */
static int apply_mount_options(struct spec_ctx *c, struct cell_mount *m)
{
    size_t data_len = 0;
    for (char **o = m->options; *o; o++) {
        const struct mount_opt *known = find_mount_opt(*o);
        if (known)
            apply_mount_opt(m, known);
        else
            data_len += strlen(*o) + 1;
    }
    if (data_len == 0)
        return 0;
    m->data = malloc(data_len);
    if (!m->data)
        return spec_fail_nomem(c);
    char *p = m->data;
    for (char **o = m->options; *o; o++) {
        if (find_mount_opt(*o))
            continue;
        if (p != m->data)
            *p++ = ',';
        p = stpcpy(p, *o);
    }
    return 0;
}

static int parse_mount(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_mount *m = elem;
    int r = spec_get_abs_path(c, obj, "destination", true, &m->destination);
    if (r >= 0)
        r = spec_get_string(c, obj, "type", false, &m->type);
    if (r >= 0)
        r = spec_get_string(c, obj, "source", false, &m->source);
    if (r >= 0)
        r = spec_get_strv(c, obj, "options", 0, &m->options);
    if (r >= 0)
        r = spec_parse_id_mappings(c, obj, "uidMappings", &m->uid_mappings, &m->n_uid_mappings);
    if (r >= 0)
        r = spec_parse_id_mappings(c, obj, "gidMappings", &m->gid_mappings, &m->n_gid_mappings);
    if (r >= 0)
        r = apply_mount_options(c, m);
    if (m->type && strcmp(m->type, "bind") == 0)
        m->bind = true;
    return r;
}

int spec_parse_mounts(struct spec_ctx *c, const json_t *root, struct cell_spec *spec)
{
    return spec_get_object_array(c, root, "mounts", sizeof *spec->mounts, parse_mount,
                                 (void **)&spec->mounts, &spec->n_mounts);
}

void spec_mount_clear(struct cell_mount *m)
{
    free(m->destination);
    free(m->type);
    free(m->source);
    cell_strv_free(m->options);
    free(m->data);
    free(m->uid_mappings);
    free(m->gid_mappings);
    memset(m, 0, sizeof *m);
}

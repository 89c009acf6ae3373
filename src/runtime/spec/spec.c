/* config.json -> struct cell_spec: the document, its version, root, process,
 * hooks and annotations, and the entry points. Mounts, the linux section and
 * its resources have files of their own. */
#include "runtime/spec/spec_internal.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- ociVersion --- */

/* Any 1.x is accepted: the spec's minor versions only add fields, and
 * unknown fields are ignored anyway. */
static int parse_version(struct spec_ctx *c, const json_t *root, struct cell_spec *spec)
{
    int r = spec_get_string(c, root, "ociVersion", true, &spec->oci_version);
    if (r < 0)
        return r;
    const char *v = spec->oci_version;
    size_t major_len = strspn(v, "0123456789");
    if (major_len == 1 && v[0] == '1' && v[1] == '.')
        return 0;
    spec_push_key(c, "ociVersion");
    return spec_fail(c, "unsupported version \"%s\" (cell supports 1.x)", v);
}

/* --- root --- */

static int parse_root(struct spec_ctx *c, const json_t *doc, struct cell_spec *spec)
{
    json_t *root = NULL;
    int r = spec_get_object(c, doc, "root", true, &root);
    if (r < 0)
        return r;
    size_t mark = spec_push_key(c, "root");
    r = spec_get_string(c, root, "path", true, &spec->root_path);
    if (r >= 0)
        r = spec_get_bool(c, root, "readonly", false, &spec->root_readonly);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

/* --- process --- */

static int parse_args(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    json_t *args = spec_member(proc, "args");
    if (!json_is_array(args) || json_array_size(args) == 0) {
        spec_push_key(c, "args");
        return spec_fail(c, "expected a non-empty array of strings");
    }
    return spec_get_strv(c, proc, "args", 0, &p->args);
}

static int parse_additional_gids(struct spec_ctx *c, const json_t *user, struct cell_process *p)
{
    json_t *arr = NULL;
    int r = spec_get_array(c, user, "additionalGids", &arr);
    if (r < 0 || !arr)
        return r;
    r = spec_alloc_array(c, json_array_size(arr), sizeof(gid_t), (void **)&p->additional_gids);
    if (r < 0)
        return r;
    p->n_additional_gids = json_array_size(arr);
    size_t mark = spec_push_key(c, "additionalGids");
    for (size_t i = 0; i < p->n_additional_gids; i++) {
        int64_t gid = 0;
        size_t imark = spec_push_index(c, i);
        r = spec_value_int(c, json_array_get(arr, i), 0, UINT32_MAX, &gid);
        if (r < 0)
            return r;
        p->additional_gids[i] = (gid_t)gid;
        spec_pop(c, imark);
    }
    spec_pop(c, mark);
    return 0;
}

/* Without a user object the process runs as 0:0, as with runc. */
static int parse_user(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    json_t *user = NULL;
    int r = spec_get_object(c, proc, "user", false, &user);
    if (r < 0 || !user)
        return r;
    size_t mark = spec_push_key(c, "user");
    int64_t uid = 0, gid = 0;
    r = spec_get_int(c, user, "uid", true, 0, UINT32_MAX, &uid);
    if (r >= 0)
        r = spec_get_int(c, user, "gid", true, 0, UINT32_MAX, &gid);
    if (r >= 0)
        r = spec_get_int(c, user, "umask", false, 0, 0777, &p->umask);
    if (r >= 0)
        r = parse_additional_gids(c, user, p);
    if (r >= 0)
        r = spec_get_string(c, user, "username", false, &p->username);
    if (r < 0)
        return r;
    p->uid = (uid_t)uid;
    p->gid = (gid_t)gid;
    spec_pop(c, mark);
    return 0;
}

static int parse_console_size(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    json_t *size = NULL;
    int r = spec_get_object(c, proc, "consoleSize", false, &size);
    if (r < 0 || !size)
        return r;
    size_t mark = spec_push_key(c, "consoleSize");
    int64_t height = 0, width = 0;
    r = spec_get_int(c, size, "height", true, 0, UINT32_MAX, &height);
    if (r >= 0)
        r = spec_get_int(c, size, "width", true, 0, UINT32_MAX, &width);
    if (r < 0)
        return r;
    p->console_height = (unsigned)height;
    p->console_width = (unsigned)width;
    spec_pop(c, mark);
    return 0;
}

/* config.md: a capability that cannot be mapped to the kernel's "MUST be
 * logged as a warning", and the runtime "SHOULD NOT fail"; runc skips it
 * with a warning too. */
static int parse_cap_set(struct spec_ctx *c, const json_t *caps, const char *key, uint64_t *mask)
{
    _cleanup_strv_ char **names = NULL;
    int r = spec_get_strv(c, caps, key, 0, &names);
    if (r < 0)
        return r;
    for (size_t i = 0; names[i] && r >= 0; i++) {
        int cap = cell_cap_from_name(names[i]);
        if (cap >= 0) {
            *mask |= UINT64_C(1) << cap;
            continue;
        }
        size_t mark = spec_push_key(c, key);
        spec_push_index(c, i);
        r = spec_warn(c, "unknown capability \"%s\", ignored", names[i]);
        spec_pop(c, mark);
    }
    return r;
}

static int parse_capabilities(struct spec_ctx *c, const json_t *proc, struct cell_caps *caps)
{
    json_t *obj = NULL;
    int r = spec_get_object(c, proc, "capabilities", false, &obj);
    if (r < 0 || !obj)
        return r;
    caps->present = true;
    size_t mark = spec_push_key(c, "capabilities");
    static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted",
                                       "ambient"};
    uint64_t *masks[] = {&caps->bounding, &caps->effective, &caps->inheritable, &caps->permitted,
                         &caps->ambient};
    r = 0;
    for (size_t i = 0; i < ARRAY_SIZE(sets) && r >= 0; i++)
        r = parse_cap_set(c, obj, sets[i], masks[i]);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

static int parse_rlimit(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_rlimit *rl = elem;
    _cleanup_free_ char *type = NULL;
    int r = spec_get_string(c, obj, "type", true, &type);
    if (r < 0)
        return r;
    rl->resource = cell_rlimit_from_name(type);
    if (rl->resource < 0) {
        spec_push_key(c, "type");
        return spec_fail(c, "unknown rlimit \"%s\"", type);
    }
    r = spec_get_u64(c, obj, "soft", true, &rl->soft);
    if (r >= 0)
        r = spec_get_u64(c, obj, "hard", true, &rl->hard);
    if (r >= 0 && rl->soft > rl->hard) /* setrlimit(2) would fail with EINVAL */
        r = spec_fail(c, "soft limit %" PRIu64 " is above the hard limit %" PRIu64, rl->soft,
                      rl->hard);
    return r;
}

/* config.md: duplicated rlimit types MUST be an error. */
static int check_rlimits_unique(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    for (size_t i = 1; i < p->n_rlimits; i++) {
        for (size_t j = 0; j < i; j++) {
            if (p->rlimits[i].resource != p->rlimits[j].resource)
                continue;
            json_t *e = json_array_get(spec_member(proc, "rlimits"), i);
            spec_push_key(c, "rlimits");
            spec_push_index(c, i);
            spec_push_key(c, "type");
            return spec_fail(c, "duplicate rlimit \"%s\"",
                             json_string_value(json_object_get(e, "type")));
        }
    }
    return 0;
}

static int parse_rlimits(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    int r = spec_get_object_array(c, proc, "rlimits", sizeof *p->rlimits, parse_rlimit,
                                  (void **)&p->rlimits, &p->n_rlimits);
    return r < 0 ? r : check_rlimits_unique(c, proc, p);
}

static int parse_process_security(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    int r = parse_capabilities(c, proc, &p->caps);
    if (r >= 0)
        r = spec_get_bool(c, proc, "noNewPrivileges", false, &p->no_new_privileges);
    if (r >= 0)
        r = spec_get_string(c, proc, "apparmorProfile", false, &p->apparmor_profile);
    if (r >= 0)
        r = spec_get_string(c, proc, "selinuxLabel", false, &p->selinux_label);
    if (r >= 0) /* the range /proc/PID/oom_score_adj accepts */
        r = spec_get_int(c, proc, "oomScoreAdj", false, -1000, 1000, &p->oom_score_adj);
    return r;
}

/* scheduler, ioPriority and execCPUAffinity stay JSON, borrowed from the
 * document, for the code that applies them. */
static int parse_process_raw(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    int r = spec_get_object(c, proc, "scheduler", false, &p->scheduler);
    if (r >= 0)
        r = spec_get_object(c, proc, "ioPriority", false, &p->io_priority);
    if (r >= 0)
        r = spec_get_object(c, proc, "execCPUAffinity", false, &p->exec_cpu_affinity);
    return r;
}

static int parse_process_fields(struct spec_ctx *c, const json_t *proc, struct cell_process *p)
{
    int r = spec_get_bool(c, proc, "terminal", false, &p->terminal);
    if (r >= 0)
        r = parse_console_size(c, proc, p);
    if (r >= 0)
        r = parse_user(c, proc, p);
    if (r >= 0)
        r = parse_args(c, proc, p);
    if (r >= 0)
        r = spec_get_strv(c, proc, "env", 0, &p->env);
    if (r >= 0)
        r = spec_get_abs_path(c, proc, "cwd", true, &p->cwd);
    if (r >= 0)
        r = parse_rlimits(c, proc, p);
    if (r >= 0)
        r = parse_process_security(c, proc, p);
    if (r >= 0)
        r = parse_process_raw(c, proc, p);
    return r;
}

static int parse_process(struct spec_ctx *c, const json_t *doc, struct cell_spec *spec)
{
    json_t *proc = NULL;
    int r = spec_get_object(c, doc, "process", false, &proc);
    if (r < 0)
        return r;
    if (!proc) { /* allowed until start; env is still an empty vector */
        spec->process.env = calloc(1, sizeof(char *));
        return spec->process.env ? 0 : spec_fail_nomem(c);
    }
    spec->has_process = true;
    size_t mark = spec_push_key(c, "process");
    r = parse_process_fields(c, proc, &spec->process);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

static void process_clear(struct cell_process *p)
{
    free(p->additional_gids);
    free(p->username);
    cell_strv_free(p->args);
    cell_strv_free(p->env);
    free(p->cwd);
    free(p->rlimits);
    free(p->apparmor_profile);
    free(p->selinux_label);
}

/* --- hooks --- */

static int parse_hook(struct spec_ctx *c, const json_t *obj, void *elem)
{
    struct cell_hook *h = elem;
    h->timeout = CELL_UNSET;
    int r = spec_get_abs_path(c, obj, "path", true, &h->path);
    if (r >= 0)
        r = spec_get_strv_optional(c, obj, "args", &h->args);
    if (r >= 0)
        r = spec_get_strv_optional(c, obj, "env", &h->env);
    if (r >= 0)
        r = spec_get_int(c, obj, "timeout", false, INT64_MIN + 1, INT64_MAX, &h->timeout);
    if (r >= 0 && h->timeout != CELL_UNSET && h->timeout <= 0) {
        spec_push_key(c, "timeout");
        r = spec_fail(c, "must be greater than zero, got %" PRId64, h->timeout);
    }
    return r;
}

static int parse_hooks(struct spec_ctx *c, const json_t *doc, struct cell_spec *spec)
{
    json_t *hooks = NULL;
    int r = spec_get_object(c, doc, "hooks", false, &hooks);
    if (r < 0 || !hooks)
        return r;
    size_t mark = spec_push_key(c, "hooks");
    for (int k = 0; k < CELL_HOOK_COUNT; k++) {
        r = spec_get_object_array(c, hooks, cell_hook_name(k), sizeof *spec->hooks[k], parse_hook,
                                  (void **)&spec->hooks[k], &spec->n_hooks[k]);
        if (r < 0)
            return r;
    }
    spec_pop(c, mark);
    return 0;
}

static void hooks_clear(struct cell_spec *spec)
{
    for (int k = 0; k < CELL_HOOK_COUNT; k++) {
        for (size_t i = 0; spec->hooks[k] && i < spec->n_hooks[k]; i++) {
            free(spec->hooks[k][i].path);
            cell_strv_free(spec->hooks[k][i].args);
            cell_strv_free(spec->hooks[k][i].env);
        }
        free(spec->hooks[k]);
    }
}

/* --- linux --- */

/* Without a linux object every vector there is still an empty one, so
 * consumers can iterate without checking has_linux first. */
static int parse_linux(struct spec_ctx *c, const json_t *doc, struct cell_spec *spec)
{
    json_t *lx = NULL;
    int r = spec_get_object(c, doc, "linux", false, &lx);
    if (r < 0)
        return r;
    if (!lx) {
        json_t *empty = json_object();
        r = empty ? spec_parse_linux(c, empty, &spec->linux) : spec_fail_nomem(c);
        json_decref(empty);
        return r;
    }
    spec->has_linux = true;
    size_t mark = spec_push_key(c, "linux");
    r = spec_parse_linux(c, lx, &spec->linux);
    if (r >= 0)
        spec_pop(c, mark);
    return r;
}

/* --- the document --- */

/* crun's annotation, which podman sets for --group-add keep-groups: crun
 * keeps the groups for any value but "0", and so does cell. */
static bool keep_original_groups(const struct cell_spec *spec)
{
    for (size_t i = 0; i < spec->n_annotations; i++)
        if (!strcmp(spec->annotations[i].key, "run.oci.keep_original_groups"))
            return strcmp(spec->annotations[i].value, "0") != 0;
    return false;
}

static int parse_document(struct spec_ctx *c, const json_t *doc, struct cell_spec *spec)
{
    if (!json_is_object(doc))
        return spec_fail(c, "expected a JSON object at the top level");
    int r = parse_version(c, doc, spec);
    if (r >= 0)
        r = parse_root(c, doc, spec);
    if (r >= 0)
        r = parse_process(c, doc, spec);
    if (r >= 0)
        r = spec_get_string(c, doc, "hostname", false, &spec->hostname);
    if (r >= 0)
        r = spec_get_string(c, doc, "domainname", false, &spec->domainname);
    if (r >= 0)
        r = spec_parse_mounts(c, doc, spec);
    if (r >= 0)
        r = parse_hooks(c, doc, spec);
    if (r >= 0)
        r = spec_get_string_map(c, doc, "annotations", &spec->annotations, &spec->n_annotations);
    if (r >= 0)
        r = parse_linux(c, doc, spec);
    if (r >= 0)
        spec->process.keep_original_groups = keep_original_groups(spec);
    return r;
}

static struct cell_spec *spec_new(void)
{
    struct cell_spec *spec = calloc(1, sizeof *spec);
    if (!spec)
        return NULL;
    spec->process.umask = CELL_UNSET;
    spec->process.oom_score_adj = CELL_UNSET;
    cell_resources_clear(&spec->linux.resources);
    return spec;
}

int cell_spec_parse(const char *text, size_t len, struct cell_spec **out, cell_err_t *err)
{
    _cleanup_spec_ struct cell_spec *spec = spec_new();
    if (!spec)
        return cell_error(err, ENOMEM, "parse config");
    int r = spec_load_json(text, len, &spec->json, err);
    if (r < 0)
        return r;
    struct spec_ctx c;
    spec_ctx_init(&c, NULL, err);
    c.warnings = &spec->warnings;
    r = parse_document(&c, spec->json, spec);
    if (r < 0)
        return r;
    *out = TAKE_PTR(spec);
    return 0;
}

int cell_spec_load(const char *bundle, struct cell_spec **out, cell_err_t *err)
{
    _cleanup_free_ char *path = NULL;
    if (!bundle || strcmp(bundle, ".") == 0)
        path = strdup("config.json");
    else if (asprintf(&path, "%s/config.json", bundle) < 0)
        path = NULL;
    if (!path)
        return cell_error(err, ENOMEM, "config.json");
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = cell_read_file_at(AT_FDCWD, path, &text, &len);
    if (r < 0)
        return cell_error(err, -r, "%s", path);
    r = cell_spec_parse(text, len, out, err);
    if (r < 0)
        return cell_error_prepend(err, "%s", path);
    return 0;
}

void cell_spec_free(struct cell_spec *spec)
{
    if (!spec)
        return;
    free(spec->oci_version);
    free(spec->root_path);
    free(spec->hostname);
    free(spec->domainname);
    process_clear(&spec->process);
    for (size_t i = 0; spec->mounts && i < spec->n_mounts; i++)
        spec_mount_clear(&spec->mounts[i]);
    free(spec->mounts);
    hooks_clear(spec);
    spec_kv_free(spec->annotations, spec->n_annotations);
    spec_linux_clear(&spec->linux);
    cell_strv_free(spec->warnings);
    json_decref(spec->json);
    free(spec);
}

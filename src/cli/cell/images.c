/* cell images, inspect, tag, rmi: what the image store holds. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "cli/output.h"
#include "image/image.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct images_opts {
    const char *format;
    bool quiet;
    bool no_trunc;
};

const struct cli_option cell_images_options[] = {
    {"format", 0, CLI_OPT_STRING, offsetof(struct images_opts, format),
     "table, json (a line per image), or a Go template"},
    {"quiet", 'q', CLI_OPT_BOOL, offsetof(struct images_opts, quiet), "print image IDs only"},
    {"no-trunc", 0, CLI_OPT_BOOL, offsetof(struct images_opts, no_trunc), "print whole image IDs"},
    {0},
};

struct store_guard {
    struct cell_image_store *s;
};

static void store_guard_close(struct store_guard *g)
{
    cell_image_store_close(g->s);
}
#define _cleanup_store_ __attribute__((cleanup(store_guard_close)))

/* One image as `images` shows it: repository and tag split from the name. */
struct row {
    char repo[512];
    char tag[160];
};

static void split_name(const char *name, struct row *row)
{
    if (cell_image_digest_valid(name)) { /* a nameless record */
        snprintf(row->repo, sizeof row->repo, "<none>");
        snprintf(row->tag, sizeof row->tag, "<none>");
        return;
    }
    _cleanup_free_ char *familiar = cell_image_ref_familiar(name);
    char *at = familiar ? strchr(familiar, '@') : NULL;
    if (at)
        *at = '\0';
    char *slash = familiar ? strrchr(familiar, '/') : NULL;
    char *colon = familiar ? strrchr(slash ? slash : familiar, ':') : NULL;
    if (colon)
        *colon = '\0';
    snprintf(row->repo, sizeof row->repo, "%s", familiar ? familiar : name);
    snprintf(row->tag, sizeof row->tag, "%s", colon ? colon + 1 : "<none>");
}

static int64_t created_of(const struct cell_image *img)
{
    const char *c = json_string_value(json_object_get(img->config, "created"));
    struct tm tm = {0};
    if (!c || !strptime(c, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

static void since(int64_t t, char *buf, size_t size)
{
    int64_t d = (int64_t)time(NULL) - t;
    static const struct {
        int64_t secs;
        const char *unit;
    } units[] = {{365 * 86400, "year"}, {30 * 86400, "month"}, {7 * 86400, "week"},
                 {86400, "day"},        {3600, "hour"},        {60, "minute"}};
    if (t <= 0) {
        snprintf(buf, size, "N/A");
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (d >= units[i].secs) {
            int64_t n = d / units[i].secs;
            snprintf(buf, size, "%lld %s%s ago", (long long)n, units[i].unit, n > 1 ? "s" : "");
            return;
        }
    if (d < 1)
        snprintf(buf, size, "Less than a second ago");
    else
        snprintf(buf, size, "%lld second%s ago", (long long)d, d > 1 ? "s" : "");
}

static bool matches(const struct cli_args *args, const char *name)
{
    if (args->argc == 0)
        return true;
    struct cell_image_ref ref;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    if (cell_image_ref_parse(args->argv[0], &ref, &e) < 0)
        return false;
    _cleanup_free_ char *repo = cell_image_ref_repository(&ref);
    bool tagged = strchr(strrchr(args->argv[0], '/') ?: args->argv[0], ':') != NULL;
    bool m = tagged ? strcmp(name, ref.name) == 0
                    : repo && strncmp(name, repo, strlen(repo)) == 0 &&
                          (name[strlen(repo)] == ':' || name[strlen(repo)] == '@');
    cell_image_ref_clear(&ref);
    return m;
}

/* One row of `images` with Docker's template fields, in its (sorted) order;
 * Name (the record's full name) and the full Id are cell's own. */
static json_t *image_row(const struct images_opts *o, const struct cell_image_record *rec,
                         const struct cell_image *img)
{
    struct row row;
    char id[80], created[64], size[16], at[64] = "";
    split_name(rec->name, &row);
    snprintf(id, sizeof id, "%s", o->no_trunc ? img->id : img->id + 7);
    if (!o->no_trunc)
        id[12] = '\0';
    since(created_of(img), created, sizeof created);
    cell_cli_human_size(img->size, size);
    time_t t = (time_t)created_of(img);
    struct tm tm;
    if (t > 0 && localtime_r(&t, &tm))
        strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
    return json_pack("{ss ss ss ss ss ss ss ss ss ss ss ss ss}", "Containers", "N/A", "CreatedAt",
                     at, "CreatedSince", created, "Digest", rec->digest, "ID", id, "Id", img->id,
                     "Name", rec->name, "Repository", row.repo, "SharedSize", "N/A", "Size", size,
                     "Tag", row.tag, "UniqueSize", "N/A", "VirtualSize", size);
}

static int list_images(struct cell_image_store *s, const struct cli_args *args,
                       const struct images_opts *o, json_t *rows, cell_err_t *err)
{
    struct cell_image_record *recs = NULL;
    size_t n = 0;
    if (cell_image_record_list(s, &recs, &n, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct cell_image img;
        _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
        if (!matches(args, recs[i].name) || cell_image_resolve(s, recs[i].digest, &img, &e) < 0)
            continue;
        if (json_array_append_new(rows, image_row(o, &recs[i], &img)) < 0)
            r = cell_error(err, ENOMEM, "images");
        cell_image_clear(&img);
    }
    cell_image_records_free(recs, n);
    return r;
}

static const struct cli_header image_headers[] = {
    {".Repository", "REPOSITORY"}, {".Tag", "TAG"},
    {".ID", "IMAGE ID"},           {".CreatedSince", "CREATED"},
    {".CreatedAt", "CREATED AT"},  {".Size", "SIZE"},
    {".Digest", "DIGEST"},         {NULL, NULL},
};

int cell_cmd_images(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct images_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 0, 1, err) < 0)
        return -1;
    _cleanup_store_ struct store_guard g = {NULL};
    if (cell_cli_store_open(ctx, &g.s, err) < 0)
        return -1;
    json_t *rows = json_array();
    int r = list_images(g.s, &args, &o, rows, err);
    if (r == 0)
        r = cli_print_formatted(stdout, o.quiet ? "{{.ID}}" : o.format, rows,
                                "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t"
                                "{{.Size}}",
                                image_headers, err);
    json_decref(rows);
    return r < 0 ? -1 : 0;
}

static json_t *names_of(struct cell_image_store *s, const struct cell_image *img, bool digests)
{
    json_t *names = json_array();
    struct cell_image_record *recs = NULL;
    size_t n = 0;
    _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
    if (cell_image_record_list(s, &recs, &n, &e) < 0)
        return names;
    for (size_t i = 0; i < n; i++) {
        struct cell_image other;
        if (cell_image_digest_valid(recs[i].name) ||
            cell_image_resolve(s, recs[i].digest, &other, &e) < 0)
            continue;
        if (strcmp(other.id, img->id) == 0) {
            struct cell_image_ref ref;
            if (!digests) {
                json_array_append_new(names, json_string(recs[i].name));
            } else if (cell_image_ref_parse(recs[i].name, &ref, &e) == 0) {
                _cleanup_free_ char *repo = cell_image_ref_repository(&ref);
                json_array_append_new(names, json_sprintf("%s@%s", repo, recs[i].digest));
                cell_image_ref_clear(&ref);
            }
        }
        cell_image_clear(&other);
    }
    cell_image_records_free(recs, n);
    return names;
}

static json_t *layers_json(const struct cell_image *img)
{
    json_t *layers = json_array();
    for (size_t i = 0; i < img->manifest.nlayers; i++)
        json_array_append_new(layers,
                              json_pack("{sssssIssss}", "Digest", img->manifest.layers[i].digest,
                                        "MediaType", img->manifest.layers[i].media_type, "Size",
                                        (json_int_t)img->manifest.layers[i].size, "DiffID",
                                        img->diff_ids[i], "ChainID", img->chain_ids[i]));
    return layers;
}

static json_t *inspect_json(struct cell_image_store *s, const struct cell_image *img)
{
    json_t *c = img->config;
    json_t *diff_ids = json_array();
    for (size_t i = 0; i < img->manifest.nlayers; i++)
        json_array_append_new(diff_ids, json_string(img->diff_ids[i]));
    return json_pack("{sssosossssss*ss*ss*sOsIs{ssso}so}", "Id", img->id, "RepoTags",
                     names_of(s, img, false), "RepoDigests", names_of(s, img, true), "Digest",
                     img->digest, "ManifestDigest", img->manifest_digest, "Created",
                     json_string_value(json_object_get(c, "created")), "Architecture",
                     json_string_value(json_object_get(c, "architecture")), "Os",
                     json_string_value(json_object_get(c, "os")), "Config",
                     json_object_get(c, "config") ?: json_null(), "Size", (json_int_t)img->size,
                     "RootFS", "Type", "layers", "Layers", diff_ids, "Layers", layers_json(img));
}

int cell_cli_image_inspect(struct cell_image_store *s, const char *name, json_t **out,
                           cell_err_t *err)
{
    struct cell_image img;
    if (cell_image_lookup(s, name, &img, NULL, err) < 0)
        return -1;
    *out = inspect_json(s, &img);
    cell_image_clear(&img);
    return 0;
}

int cell_cmd_tag(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 2, 2, err) < 0)
        return -1;
    struct cell_image_ref target;
    if (cell_image_ref_parse(args.argv[1], &target, err) < 0)
        return -1;
    _cleanup_store_ struct store_guard g = {NULL};
    struct cell_image img = {0};
    int r = cell_cli_store_open(ctx, &g.s, err);
    if (r == 0)
        r = cell_image_lookup(g.s, args.argv[0], &img, NULL, err);
    if (r == 0 && target.digest)
        r = cell_error(err, 0, "tag: a target name cannot hold a digest");
    _cleanup_free_ char *blob = NULL;
    size_t len = 0;
    if (r == 0)
        r = cell_image_blob_read(g.s, img.digest, &blob, &len, err);
    if (r == 0)
        r = cell_image_record_put(g.s, target.name, img.digest,
                                  cell_image_media_type_detect(blob, len), err);
    cell_image_clear(&img);
    cell_image_ref_clear(&target);
    return r < 0 ? -1 : 0;
}

struct rmi_opts {
    bool force;
};

const struct cli_option cell_rmi_options[] = {
    {"force", 'f', CLI_OPT_BOOL, offsetof(struct rmi_opts, force),
     "remove even when in use or named more than once"},
    {0},
};

int cell_cmd_rmi(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct rmi_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    _cleanup_store_ struct store_guard g = {NULL};
    if (cell_cli_store_open(ctx, &g.s, err) < 0)
        return -1;
    for (int i = 0; i < args.argc; i++) {
        _cleanup_strv_ char **removed = NULL;
        if (cell_image_remove(g.s, args.argv[i], o.force, &removed, err) < 0)
            return -1;
        for (char **p = removed; p && *p; p++) {
            _cleanup_free_ char *f = cell_image_ref_familiar(*p);
            printf("Untagged: %s\n", f ? f : *p);
        }
    }
    return 0;
}

/* `create`: everything a container is before it runs. The flags are
 * checked and the record built in memory first, so a wrong flag leaves
 * nothing; then the directory and a first record (which is what rm -f
 * finds), the name, the root filesystem, the files, config.json. */
#include "engine/engine.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "engine/monitor.h"
#include "engine/flags.h"
#include "engine/spec.h"
#include "engine/userns.h"
#include "image/image.h"
#include "image/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --pull always|missing|never, Docker's default missing. */
static int find_image(struct cell_engine *e, const char *ref, const char *policy,
                      const char *platform, struct cell_image *img, cell_err_t *err)
{
    struct cell_image_store *s;
    if (cell_engine_store(e, &s, err) < 0)
        return -1;
    if (!policy)
        policy = "missing";
    if (strcmp(policy, "always") && strcmp(policy, "missing") && strcmp(policy, "never"))
        return cell_error(err, 0,
                          "invalid pull policy \"%s\" for \"--pull\" flag: must be always, "
                          "missing or never",
                          policy);
    if (strcmp(policy, "always") != 0) {
        _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
        if (cell_image_lookup(s, ref, img, NULL, &e2) == 0)
            return 0;
        if (!strcmp(policy, "never"))
            return cell_error(err, 0, "%s", cell_error_text(&e2));
    }
    struct cell_image_pull_opts po = {.tls_verify = true, .platform = platform};
    char digest[CELL_IMAGE_DIGEST_SIZE];
    if (cell_image_pull(s, ref, &po, digest, err) < 0)
        return cell_error_prepend(err,
                                  "Unable to find image '%s' locally, and pulling failed: ", ref);
    return cell_image_lookup(s, ref, img, NULL, err);
}

static json_t *new_record(const char *id, const char *name, const struct cell_image *img,
                          const char *image_name)
{
    _cleanup_free_ char *now = cell_engine_now();
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "Id", id, "Name", name, "Created",
                  now ? now : "", "Image", img->id, "ImageName", image_name, "RestartCount", 0);
    cell_state_set_status(rec, "created");
    json_t *st = json_object_get(rec, "State");
    json_object_set_new(st, "Pid", json_integer(0));
    json_object_set_new(st, "ExitCode", json_integer(0));
    json_object_set_new(st, "OOMKilled", json_false());
    json_object_set_new(st, "Error", json_string(""));
    json_object_set_new(st, "StartedAt", json_string("0001-01-01T00:00:00Z"));
    json_object_set_new(st, "FinishedAt", json_string("0001-01-01T00:00:00Z"));
    return rec;
}

static int write_file(int dirfd, const char *name, const char *text, cell_err_t *err)
{
    int r = cell_write_file_atomic_at(dirfd, name, text, strlen(text), 0644);
    return r < 0 ? cell_error(err, -r, "write %s", name) : 0;
}

/* The host's resolv.conf, or one made of --dns, --dns-search, --dns-option
 * (each replacing the host's lines of its kind, as Docker does). */
static char *resolv_conf(const json_t *hc)
{
    _cleanup_free_ char *host = NULL;
    size_t len;
    if (cell_read_file_at(AT_FDCWD, "/etc/resolv.conf", &host, &len) < 0)
        host = strdup("");
    const json_t *dns = json_object_get(hc, "Dns"), *search = json_object_get(hc, "DnsSearch"),
                 *opts = json_object_get(hc, "DnsOptions");
    if (!json_array_size(dns) && !json_array_size(search) && !json_array_size(opts))
        return TAKE_PTR(host);
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    if (!f)
        return NULL;
    const char *kinds[] = {"nameserver", "search", "options"};
    const json_t *given[] = {dns, search, opts};
    for (size_t k = 0; k < 3; k++) {
        size_t i;
        json_t *v;
        if (!json_array_size(given[k])) {
            /* the host's lines of this kind */
            for (char *line = host, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                size_t n = next ? (size_t)(next++ - line) : strlen(line);
                if (!strncmp(line, kinds[k], strlen(kinds[k])))
                    fprintf(f, "%.*s\n", (int)n, line);
            }
            continue;
        }
        if (k == 0) {
            json_array_foreach(given[k], i, v) fprintf(f, "nameserver %s\n", json_string_value(v));
        } else {
            fprintf(f, "%s", kinds[k]);
            json_array_foreach(given[k], i, v) fprintf(f, " %s", json_string_value(v));
            fprintf(f, "\n");
        }
    }
    fclose(f);
    return out;
}

/* /etc/hostname, /etc/hosts (with --add-host lines) and /etc/resolv.conf as
 * Docker writes them for a container without a user network. */
static int write_etc_files(int dirfd, const json_t *rec, cell_err_t *err)
{
    const char *host =
        json_string_value(json_object_get(json_object_get(rec, "Config"), "Hostname"));
    _cleanup_free_ char *hostname = NULL, *resolv = resolv_conf(json_object_get(rec, "HostConfig"));
    char *hosts = NULL;
    size_t hosts_len = 0;
    FILE *f = open_memstream(&hosts, &hosts_len);
    if (!f || !resolv || asprintf(&hostname, "%s\n", host) < 0) {
        if (f)
            fclose(f);
        free(hosts);
        return cell_error(err, ENOMEM, "etc files");
    }
    fprintf(f, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
               "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
               "ff02::2\tip6-allrouters\n");
    size_t i;
    json_t *pair;
    json_array_foreach(json_object_get(json_object_get(rec, "Spec"), "extraHosts"), i, pair)
        fprintf(f, "%s\t%s\n", json_string_value(json_array_get(pair, 0)),
                json_string_value(json_array_get(pair, 1)));
    fprintf(f, "127.0.1.1\t%s\n", host);
    fclose(f);
    int r = 0;
    if (write_file(dirfd, "hostname", hostname, err) < 0 ||
        write_file(dirfd, "hosts", hosts, err) < 0)
        r = -1;
    free(hosts);
    return r < 0 ? r : write_file(dirfd, "resolv.conf", resolv, err);
}

/* With a user namespace, the container's root owns them, as the image's
 * files it sees through the idmapped snapshot (Docker's userns-remap does
 * the same): root inside may rewrite its /etc/hosts. */
static int own_etc_files(int dirfd, const json_t *rec, cell_err_t *err)
{
    uid_t uid;
    gid_t gid;
    if (!cell_engine_userns_root(rec, &uid, &gid))
        return 0;
    static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if (fchownat(dirfd, files[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return cell_error(err, errno, "chown %s", files[i]);
    return 0;
}

/* The parts after the first record; on failure the caller removes it all. */
static int assemble(struct cell_engine *e, struct cell_ctr *c, const struct cell_image *img,
                    cell_err_t *err)
{
    struct cell_image_store *s;
    _cleanup_free_ char *merged = NULL;
    if (cell_engine_store(e, &s, err) < 0 ||
        cell_engine_userns_snapshot(s, c->rec, img, &merged, err) < 0)
        return -1;
    json_object_set_new(
        c->rec, "GraphDriver",
        json_pack("{s:s, s:{s:s}}", "Name", "overlay", "Data", "MergedDir", merged));
    if (write_etc_files(c->dirfd, c->rec, err) < 0 || own_etc_files(c->dirfd, c->rec, err) < 0 ||
        cell_spec_write(e, c->rec, c->dirfd, err) < 0)
        return -1;
    return cell_ctr_save(c, err);
}

static int make_dir(struct cell_engine *e, struct cell_ctr *c, json_t *rec, cell_err_t *err)
{
    if (mkdirat(e->containersfd, c->id, 0700) < 0)
        return cell_error(err, errno, "create container %s", c->id);
    c->dirfd = openat(e->containersfd, c->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0)
        return cell_error(err, errno, "open container %s", c->id);
    c->rec = json_incref(rec);
    return cell_ctr_save(c, err);
}

int cell_engine_create(struct cell_engine *e, const struct cell_run_opts *o,
                       char id_out[CELL_ENGINE_ID_SIZE], cell_err_t *err)
{
    if (o->name && !cell_engine_name_valid(o->name))
        return cell_error(err, 0,
                          "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                          o->name);
    struct cell_ctr c = {.dirfd = -1};
    if (cell_engine_new_id(c.id, err) < 0)
        return -1;
    struct cell_image img;
    if (find_image(e, o->image, o->pull, o->platform, &img, err) < 0)
        return -1;
    _cleanup_free_ char *name = o->name ? strdup(o->name) : NULL;
    if (!name && cell_name_generate(e, &name, err) < 0) {
        cell_image_clear(&img);
        return -1;
    }
    json_t *rec = new_record(c.id, name, &img, o->image);
    int r = cell_spec_record(o, img.config, c.id, rec, err);
    _cleanup_close_ int userns_lock = -1;
    if (r == 0)
        r = cell_engine_userns_assign(e, rec, &userns_lock, err);
    if (r == 0)
        r = make_dir(e, &c, rec, err);
    cell_closep(&userns_lock); /* the range is in the saved record (or nowhere) */
    userns_lock = -1;
    if (r == 0 && (r = cell_name_claim(e, name, c.id, err)) == 0)
        r = assemble(e, &c, &img, err);
    json_decref(rec);
    cell_image_clear(&img);
    bool made = c.dirfd >= 0;
    cell_ctr_close(&c);
    if (r < 0 && made) {
        _cleanup_err_ cell_err_t e2 = CELL_ERR_INIT;
        /* The name is released only if it is ours (a lost race keeps the
         * winner's). */
        cell_engine_remove(e, c.id, true, &e2);
    }
    if (r == 0)
        snprintf(id_out, CELL_ENGINE_ID_SIZE, "%s", c.id);
    if (r == 0)
        cell_engine_event(e, c.id, "create", NULL, NULL);
    return r;
}

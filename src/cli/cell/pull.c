/* cell pull [--platform os/arch[/variant]] [--tls-verify=false]
 *           [--authfile FILE] [-q] NAME[:TAG|@DIGEST]
 *
 * On a terminal, one line per blob redrawn in place ("3f2a1b9c0d4e:
 * Downloading 1.2MB/3.4MB"), on stderr; when stderr is not a terminal, no
 * progress at all. Then, on stdout, as Docker: the digest, the status and
 * the full name (only the name with -q). */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "image/image.h"
#include "image/pull.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct pull_opts {
    const char *platform;
    const char *authfile;
    bool tls_verify;
    bool quiet;
};

const struct cli_option cell_pull_options[] = {
    {"platform", 0, CLI_OPT_STRING, offsetof(struct pull_opts, platform),
     "the platform of a multi-platform image (default: this machine's, linux/amd64)"},
    {"tls-verify", 0, CLI_OPT_BOOL, offsetof(struct pull_opts, tls_verify),
     "check the registry's certificate (default true); false also allows plain http"},
    {"authfile", 0, CLI_OPT_STRING, offsetof(struct pull_opts, authfile),
     "credentials file (default: $CELL_AUTH_FILE or ~/.config/cell/auth.json)"},
    {"quiet", 'q', CLI_OPT_BOOL, offsetof(struct pull_opts, quiet),
     "print only the image name, no progress"},
    {0},
};

#define MAX_ROWS 128

struct row {
    char id[13]; /* 12 hex digits, as Docker shows them */
    enum cell_image_pull_phase phase;
    int64_t done, total;
};

/* The per-blob display: rows are drawn once, then redrawn in place. */
struct display {
    struct row rows[MAX_ROWS];
    size_t nrows, drawn;
    struct timespec last;
    bool downloaded; /* something was fetched: the image is new or changed */
    bool extracting;
    bool tty; /* draw; otherwise only keep count */
};

static struct row *row_of(struct display *d, const char *digest)
{
    const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
    for (size_t i = 0; i < d->nrows; i++)
        if (strncmp(d->rows[i].id, hex, 12) == 0)
            return &d->rows[i];
    if (d->nrows == MAX_ROWS)
        return NULL;
    struct row *r = &d->rows[d->nrows++];
    snprintf(r->id, sizeof(r->id), "%.12s", hex);
    return r;
}

static const char *phase_text(enum cell_image_pull_phase ph)
{
    switch (ph) {
    case CELL_PULL_WAITING:
        return "Waiting";
    case CELL_PULL_DOWNLOADING:
        return "Downloading";
    case CELL_PULL_RETRYING:
        return "Retrying";
    case CELL_PULL_COMPLETE:
        return "Download complete";
    case CELL_PULL_EXISTS:
        return "Already exists";
    case CELL_PULL_EXTRACTING:
        return "Extracting";
    case CELL_PULL_DONE:
        return "Pull complete";
    }
    return "";
}

static void draw_row(const struct row *r, bool extracting)
{
    char done[16], total[16];
    enum cell_image_pull_phase ph = r->phase;
    if (extracting && (ph == CELL_PULL_COMPLETE || ph == CELL_PULL_EXISTS))
        ph = CELL_PULL_EXTRACTING;
    fprintf(stderr, "\033[2K%s: %s", r->id, phase_text(ph));
    if (ph == CELL_PULL_DOWNLOADING || ph == CELL_PULL_RETRYING) {
        cell_cli_human_size(r->done, done);
        cell_cli_human_size(r->total, total);
        fprintf(stderr, " %s/%s", done, total);
    }
    fputc('\n', stderr);
}

static void redraw(struct display *d)
{
    if (d->drawn)
        fprintf(stderr, "\033[%zuA", d->drawn);
    for (size_t i = 0; i < d->nrows; i++)
        draw_row(&d->rows[i], d->extracting);
    d->drawn = d->nrows;
    fflush(stderr);
}

/* Redraws on a change of phase, and at most ten times a second otherwise. */
static void on_progress(void *ctx, const struct cell_image_pull_progress *p)
{
    struct display *d = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool changed = true;
    if (p->digest && !p->is_layer) {
        changed = false; /* the config blob gets no row, as in Docker */
    } else if (p->digest) {
        struct row *r = row_of(d, p->digest);
        if (!r)
            return;
        changed = r->phase != p->phase;
        r->phase = p->phase;
        r->done = p->done;
        r->total = p->total;
    } else if (p->phase == CELL_PULL_EXTRACTING) {
        d->extracting = true;
    } else {
        d->extracting = false;
        for (size_t i = 0; i < d->nrows; i++)
            d->rows[i].phase = CELL_PULL_DONE;
    }
    if (p->phase == CELL_PULL_COMPLETE)
        d->downloaded = true;
    if (!d->tty)
        return;
    long ms = (now.tv_sec - d->last.tv_sec) * 1000 + (now.tv_nsec - d->last.tv_nsec) / 1000000;
    if (!changed && ms < 100)
        return;
    d->last = now;
    redraw(d);
}

static int print_result(const char *name, const char *digest, const struct display *d, bool quiet)
{
    struct cell_image_ref ref = {0};
    _cleanup_err_ cell_err_t ignore = CELL_ERR_INIT;
    /* The full name as recorded: "busybox" is shown as docker.io/library/busybox:latest. */
    const char *full = cell_image_ref_parse(name, &ref, &ignore) == 0 ? ref.name : name;
    if (!quiet) {
        printf("Digest: %s\n", digest);
        printf("Status: %s for %s\n",
               d->downloaded ? "Downloaded newer image" : "Image is up to date", full);
    }
    printf("%s\n", full);
    cell_image_ref_clear(&ref);
    return 0;
}

static void store_closep(struct cell_image_store **s)
{
    if (*s)
        cell_image_store_close(*s);
}

int cell_cmd_pull(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct pull_opts o = {.tls_verify = true};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 1, 1, err) < 0)
        return -1;
    __attribute__((cleanup(store_closep))) struct cell_image_store *s = NULL;
    if (cell_cli_store_open(ctx, &s, err) < 0)
        return -1;
    _cleanup_free_ struct display *d = calloc(1, sizeof(*d));
    if (!d)
        return cell_error(err, ENOMEM, "pull");
    d->tty = !o.quiet && isatty(STDERR_FILENO);
    struct cell_image_pull_opts po = {
        .platform = o.platform,
        .tls_verify = o.tls_verify,
        .auth_file = o.authfile,
        .progress = on_progress,
        .progress_ctx = d,
    };
    char digest[CELL_IMAGE_DIGEST_SIZE];
    if (cell_image_pull(s, args.argv[0], &po, digest, err) < 0)
        return -1;
    return print_result(args.argv[0], digest, d, o.quiet);
}

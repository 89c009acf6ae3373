/* `cell pull`: an image from a registry into the content store, its layers
 * unpacked. The registry client under it is registry.h (internal). */
#pragma once

#include "base/error.h"
#include "image/image.h"

#include <stdbool.h>
#include <stdint.h>

enum cell_image_pull_phase {
    CELL_PULL_WAITING,     /* queued behind the parallel limit */
    CELL_PULL_DOWNLOADING, /* done/total bytes so far */
    CELL_PULL_RETRYING,    /* the connection broke; resuming at done */
    CELL_PULL_COMPLETE,    /* downloaded and verified */
    CELL_PULL_EXISTS,      /* already in the store */
    CELL_PULL_EXTRACTING,  /* all blobs are in; layers being unpacked */
    CELL_PULL_DONE,        /* unpacked */
};

struct cell_image_pull_progress {
    const char *digest; /* the blob; NULL for the EXTRACTING/DONE of the image */
    bool is_layer;      /* false for the config blob */
    enum cell_image_pull_phase phase;
    int64_t done, total;
};

/* Called from the pulling thread, often (every chunk): a display should
 * limit itself. */
typedef void (*cell_image_pull_progress_fn)(void *ctx, const struct cell_image_pull_progress *p);

struct cell_image_pull_opts {
    const char *platform;  /* "os/arch[/variant]"; NULL: this machine's (linux/amd64) */
    bool tls_verify;       /* false: any certificate, or plain http (that host only) */
    const char *auth_file; /* NULL: cell_image_auth_file_default() */
    int parallel;          /* blobs downloaded at once; 0: 3 */
    bool no_unpack;        /* leave the layers packed (unpacked on first use) */
    cell_image_pull_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* Pulls the image ref names (any reference Docker accepts) into the store:
 * the manifest (the platform's, from an index or manifest list), its config
 * and layers, each verified against its digest while it streams in; layers
 * downloaded in parallel, a broken download resumed with a Range request.
 * Then records the name (pointing at the index or manifest the registry
 * gave) and unpacks the layers. On failure nothing is recorded and no blob
 * that failed verification is stored. digest_out (may be NULL) receives the
 * digest the record points at. */
int cell_image_pull(struct cell_image_store *s, const char *ref,
                    const struct cell_image_pull_opts *opts,
                    char digest_out[CELL_IMAGE_DIGEST_SIZE], cell_err_t *err);

/* The platform string of this machine: "linux/amd64", "linux/arm64/v8"... */
const char *cell_image_platform_default(void);

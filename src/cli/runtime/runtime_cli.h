/* The commands of cell-runtime (cli.h says what a handler does) and the
 * helpers they share. */
#pragma once

#include "base/error.h"
#include "cli/cli.h"

#include <stdbool.h>

/* The options before the command name. */
struct runtime_global {
    const char *root;
    const char *log;
    const char *log_format;
    const char *rootless; /* "true", "false" or "auto"; no effect yet */
    const char *criu;     /* accepted for runc compatibility; unused */
    bool debug;
    bool systemd_cgroup;
    bool version;
};

static inline const struct runtime_global *runtime_global(const struct cli_ctx *ctx)
{
    return ctx->global;
}

/* A command naming one container: its options into opts, then the id (with
 * up to max_extra more words). 1 when --help was asked (usage printed,
 * nothing more to do), 0 with *id set, or -1. */
int cli_parse_with_id(const struct cli_ctx *ctx, void *opts, int argc, char **argv, int max_extra,
                      struct cli_args *args, const char **id, cell_err_t *err);

/* Checks that args holds a container id and at most max_extra more words;
 * returns the id, or NULL with err set ("kill: container id required",
 * "invalid container id \"a/b\""). */
const char *cli_container_id(const struct cli_ctx *ctx, const struct cli_args *args, int max_extra,
                             cell_err_t *err);

/* The state root: --root, or the runtime's default. */
const char *cli_root(const struct cli_ctx *ctx);

int cli_cmd_create(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_run(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_start(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_delete(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_kill(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_state(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_list(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_spec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_features(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
/* update.c, pause.c, ps.c, events.c */
int cli_cmd_update(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_pause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_resume(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_ps(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_events(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cli_cmd_exec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

/* systemd socket activation (sd_listen_fds(3)): how many fds from 3 on were
 * passed to this process (LISTEN_FDS, when LISTEN_PID is ours), else 0. */
int cli_listen_fds(void);

extern const struct cli_option cli_create_options[];
extern const struct cli_option cli_run_options[];
extern const struct cli_option cli_delete_options[];
extern const struct cli_option cli_kill_options[];
extern const struct cli_option cli_list_options[];
extern const struct cli_option cli_spec_options[];
extern const struct cli_option cli_update_options[];
extern const struct cli_option cli_ps_options[];
extern const struct cli_option cli_events_options[];
extern const struct cli_option cli_exec_options[];

/* The commands of cell, the engine's command line (cli.h says what a
 * handler does), and the helpers they share.
 *
 * A command group lives in its own file (images.c, archive.c, …)
 * and adds one line to the table in main.c and its declarations here. */
#pragma once

#include "base/error.h"
#include "cli/cli.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cell_image_store;

/* The options before the command name. */
struct cell_cli_global {
    const char *root; /* --root, else $CELL_ROOT, else /var/lib/cell */
    bool debug;
    bool version;
};

/* The store root: --root, $CELL_ROOT, or the default. */
const char *cell_cli_root(const struct cli_ctx *ctx);
/* Opens the image store at cell_cli_root. */
int cell_cli_store_open(const struct cli_ctx *ctx, struct cell_image_store **out, cell_err_t *err);
/* Opens the engine at cell_cli_root. */
struct cell_engine;
int cell_cli_engine_open(const struct cli_ctx *ctx, struct cell_engine **out, cell_err_t *err);
/* "12.3MB", "512B", as Docker prints sizes (SI units). buf of 16 bytes. */
void cell_cli_human_size(int64_t bytes, char buf[16]);

/* images.c */
int cell_cmd_images(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_tag(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_rmi(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_images_options[];
extern const struct cli_option cell_rmi_options[];

/* archive.c */
int cell_cmd_load(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_save(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_import(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_load_options[];
extern const struct cli_option cell_save_options[];

/* rootfs.c: root filesystems (overlay snapshots) of images, until the
 * engine's `run` makes them itself. */
int cell_cmd_rootfs(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

/* images.c: an image's inspect object (for inspect, which looks for a
 * container first). */
int cell_cli_image_inspect(struct cell_image_store *s, const char *name, json_t **out,
                           cell_err_t *err);

/* run.c: run, create, start, and the attached relay they share with attach. */
struct cell_engine;
int cell_cmd_run(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_create(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_start(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_run_options[];
extern const struct cli_option cell_start_options[];
int cell_cli_attached(struct cell_engine *e, const char *id, int fd, bool interactive, bool tty,
                      const char *detach_keys, bool proxy, cell_err_t *err);
/* The same with the streams `run -a` picked (CELL_STREAM_* bits). */
enum { CELL_STREAM_STDIN = 1, CELL_STREAM_STDOUT = 2, CELL_STREAM_STDERR = 4 };
int cell_cli_attached_streams(struct cell_engine *e, const char *id, int fd, bool interactive,
                              bool tty, const char *detach_keys, bool proxy, unsigned streams,
                              cell_err_t *err);

/* manage.c: restart, rename, update, attach, port, container prune. */
int cell_cmd_restart(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_rename(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_update(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_attach(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_port(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_container_prune(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_restart_options[];
extern const struct cli_option cell_update_options[];
extern const struct cli_option cell_attach_options[];
extern const struct cli_option cell_prune_options[];

/* exec.c */
int cell_cmd_exec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_exec_options[];

/* containers.c: ps, stop, kill, rm, wait, logs, inspect. */
int cell_cmd_ps(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_stop(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_kill(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_rm(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_wait(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_logs(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_inspect(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_ps_options[];
extern const struct cli_option cell_stop_options[];
extern const struct cli_option cell_kill_options[];
extern const struct cli_option cell_rm_options[];
extern const struct cli_option cell_logs_options[];
extern const struct cli_option cell_inspect_options[];

/* explain.c: a running container's cage (namespaces, cgroup, capabilities,
 * seccomp, ids, filesystem, the nsenter line), as text or JSON. */
int cell_cmd_explain(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_explain_options[];

/* observe.c, stats.c: pause, unpause, top, events, stats. */
int cell_cmd_pause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_unpause(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_top(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_events(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_stats(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_events_options[];
extern const struct cli_option cell_stats_options[];

/* template.c: the {{.Field}} / {{json .}} part of Go templates that
 * --format takes; "\t" and "\n" become tab and newline. Allocated; NULL
 * with err set ("Error parsing format: ...") on a bad one. */
char *cell_cli_template_render(const char *tmpl, const json_t *obj, bool strict, cell_err_t *err);

/* pull.c, login.c: the registry client. */
int cell_cmd_pull(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_login(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_logout(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_pull_options[];
extern const struct cli_option cell_login_options[];
extern const struct cli_option cell_logout_options[];

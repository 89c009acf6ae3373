/* The commands of cell, the engine's command line. As with cell-runtime
 * (commands.h), each handler parses its own options into a struct on its
 * stack (options.c), calls the library, prints, and returns the exit status
 * (>= 0) or a negative value with err set, which main reports as one line
 * "cell: <message>" and exit status 1.
 *
 * A command group lives in its own file (cell_images.c, cell_archive.c, …)
 * and adds one line to the table in cell_main.c and its declarations here. */
#pragma once

#include "base/error.h"
#include "cli/options.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CELL_PROG         "cell"
#define CELL_EXIT_FAILURE 1

struct cell_image_store;

/* The options before the command name. */
struct cell_cli_global {
    const char *root; /* --root, else $CELL_ROOT, else /var/lib/cell */
    bool debug;
    bool version;
};

struct cell_cli_command;

struct cell_cli_ctx {
    const struct cell_cli_global *global;
    const struct cell_cli_command *cmd;
};

typedef int (*cell_cli_handler_t)(const struct cell_cli_ctx *ctx, int argc, char **argv,
                                  cell_err_t *err);

struct cell_cli_command {
    const char *name;
    cell_cli_handler_t run;
    const struct cli_option *options; /* NULL when it takes none */
    const char *args;                 /* what follows the options: "IMAGE [IMAGE...]" */
    const char *summary;              /* one line */
};

struct cell_cli_args {
    int argc; /* positionals */
    char **argv;
    bool help; /* --help was given and the usage has been printed */
};

/* Parses ctx->cmd's options into opts and collects the positionals; on
 * --help prints the usage on stdout (the handler then returns 0). */
int cell_cli_parse(const struct cell_cli_ctx *ctx, void *opts, int argc, char **argv,
                   struct cell_cli_args *args, cell_err_t *err);
/* Fails with "<cmd>: requires at least N arguments" or "…at most N…". */
int cell_cli_nargs(const struct cell_cli_ctx *ctx, const struct cell_cli_args *args, int min,
                   int max, cell_err_t *err);
void cell_cli_print_usage(FILE *out, const struct cell_cli_command *cmd);
/* "<heading>:" and one aligned line per option. */
void cell_cli_print_options(FILE *out, const char *heading, const struct cli_option *options);
/* The store root: --root, $CELL_ROOT, or the default. */
const char *cell_cli_root(const struct cell_cli_ctx *ctx);
/* Opens the image store at cell_cli_root. */
int cell_cli_store_open(const struct cell_cli_ctx *ctx, struct cell_image_store **out,
                        cell_err_t *err);
/* "12.3MB", "512B", as Docker prints sizes (SI units). buf of 16 bytes. */
void cell_cli_human_size(int64_t bytes, char buf[16]);

/* cell_images.c */
int cell_cmd_images(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_inspect(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_tag(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_rmi(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_images_options[];
extern const struct cli_option cell_inspect_options[];
extern const struct cli_option cell_rmi_options[];

/* cell_archive.c */
int cell_cmd_load(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_save(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_import(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_load_options[];
extern const struct cli_option cell_save_options[];

/* cell_rootfs.c: root filesystems (overlay snapshots) of images, until the
 * engine's `run` makes them itself. */
int cell_cmd_rootfs(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

/* cell_pull.c, cell_login.c: the registry client. */
int cell_cmd_pull(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_login(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
int cell_cmd_logout(const struct cell_cli_ctx *ctx, int argc, char **argv, cell_err_t *err);
extern const struct cli_option cell_pull_options[];
extern const struct cli_option cell_login_options[];
extern const struct cli_option cell_logout_options[];

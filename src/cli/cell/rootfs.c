/* cell rootfs create NAME IMAGE | rm NAME... | ls: the overlay root
 * filesystems (snapshots) of images, by hand, until `run` makes them. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "image/image.h"

#include <errno.h>
#include <string.h>

static int rootfs_create(struct cell_image_store *s, int argc, char **argv, cell_err_t *err)
{
    if (argc != 2)
        return cell_error(err, 0, "rootfs create: usage: rootfs create NAME IMAGE");
    struct cell_image img;
    _cleanup_free_ char *merged = NULL;
    if (cell_image_lookup(s, argv[1], &img, NULL, err) < 0)
        return -1;
    int r = cell_image_snapshot_create(s, argv[0], &img, &merged, err);
    cell_image_clear(&img);
    if (r == 0)
        printf("%s\n", merged);
    return r;
}

static int rootfs_rm(struct cell_image_store *s, int argc, char **argv, cell_err_t *err)
{
    if (argc < 1)
        return cell_error(err, 0, "rootfs rm: usage: rootfs rm NAME [NAME...]");
    for (int i = 0; i < argc; i++)
        if (cell_image_snapshot_remove(s, argv[i], err) < 0)
            return -1;
    return 0;
}

static int rootfs_ls(struct cell_image_store *s, cell_err_t *err)
{
    _cleanup_strv_ char **names = NULL;
    if (cell_image_snapshot_list(s, &names, err) < 0)
        return -1;
    for (char **p = names; *p; p++) {
        _cleanup_free_ char *m = NULL;
        _cleanup_err_ cell_err_t e = CELL_ERR_INIT;
        cell_image_snapshot_image(s, *p, &m, &e);
        printf("%s\t%s\n", *p, m ? m : "-");
    }
    return 0;
}

int cell_cmd_rootfs(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    struct cell_image_store *s = NULL;
    if (cell_cli_store_open(ctx, &s, err) < 0)
        return -1;
    const char *sub = args.argv[0];
    int r;
    if (strcmp(sub, "create") == 0)
        r = rootfs_create(s, args.argc - 1, args.argv + 1, err);
    else if (strcmp(sub, "rm") == 0)
        r = rootfs_rm(s, args.argc - 1, args.argv + 1, err);
    else if (strcmp(sub, "ls") == 0)
        r = rootfs_ls(s, err);
    else
        r = cell_error(err, 0, "rootfs: unknown subcommand \"%s\" (create, rm, ls)", sub);
    cell_image_store_close(s);
    return r < 0 ? -1 : 0;
}

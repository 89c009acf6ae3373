/* cell load, save, import: images from and to files. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "base/strv.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

struct load_opts {
    const char *input;
    bool quiet;
};

const struct cli_option cell_load_options[] = {
    {"input", 'i', CLI_OPT_STRING, offsetof(struct load_opts, input),
     "read from this file or OCI layout directory (default: standard input)"},
    {"quiet", 'q', CLI_OPT_BOOL, offsetof(struct load_opts, quiet), "print nothing"},
    {0},
};

int cell_cmd_load(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct load_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 0, 0, err) < 0)
        return -1;
    /* As Docker: standard input unless it is a terminal. */
    if (!o.input && isatty(STDIN_FILENO))
        return cell_error(err, 0, "load: give --input FILE, or the archive on standard input");
    struct cell_image_store *s = NULL;
    _cleanup_strv_ char **loaded = NULL;
    if (cell_cli_store_open(ctx, &s, err) < 0)
        return -1;
    int r = o.input && strcmp(o.input, "-") != 0
                ? cell_image_load(s, o.input, &loaded, err)
                : cell_image_load_fd(s, STDIN_FILENO, "standard input", &loaded, err);
    cell_image_store_close(s);
    for (char **p = loaded; r == 0 && !o.quiet && *p; p++) {
        _cleanup_free_ char *f = cell_image_ref_familiar(*p);
        if (cell_image_digest_valid(*p))
            printf("Loaded image ID: %s\n", *p);
        else
            printf("Loaded image: %s\n", f ? f : *p);
    }
    return r < 0 ? -1 : 0;
}

struct save_opts {
    const char *output;
    const char *format;
};

const struct cli_option cell_save_options[] = {
    {"output", 'o', CLI_OPT_STRING, offsetof(struct save_opts, output),
     "write to this file (default: standard output)"},
    {"format", 0, CLI_OPT_STRING, offsetof(struct save_opts, format),
     "docker-archive (default) or oci-archive"},
    {0},
};

int cell_cmd_save(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct save_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, -1, err) < 0)
        return -1;
    if (!o.output && isatty(STDOUT_FILENO))
        return cell_error(err, 0, "save: give --output FILE, or redirect standard output");
    enum cell_image_archive_format fmt = CELL_IMAGE_ARCHIVE_DOCKER;
    if (o.format && strcmp(o.format, "oci-archive") == 0)
        fmt = CELL_IMAGE_ARCHIVE_OCI;
    else if (o.format && strcmp(o.format, "docker-archive") != 0)
        return cell_error(err, 0, "save: unknown --format \"%s\" (docker-archive or oci-archive)",
                          o.format);
    struct cell_image_store *s = NULL;
    if (cell_cli_store_open(ctx, &s, err) < 0)
        return -1;
    _cleanup_strv_ char **images = NULL;
    int r = 0;
    for (int i = 0; r == 0 && i < args.argc; i++)
        if (cell_strv_push(&images, args.argv[i]) < 0)
            r = cell_error(err, ENOMEM, "save");
    if (r == 0)
        r = o.output && strcmp(o.output, "-") != 0
                ? cell_image_save(s, o.output, images, fmt, err)
                : cell_image_save_fd(s, STDOUT_FILENO, "standard output", images, fmt, err);
    cell_image_store_close(s);
    return r < 0 ? -1 : 0;
}

int cell_cmd_import(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0 || args.help)
        return args.help ? 0 : -1;
    if (cli_nargs(ctx, &args, 1, 2, err) < 0)
        return -1;
    const char *tarball = args.argv[0], *name = args.argc > 1 ? args.argv[1] : NULL;
    /* As Docker: a bad name is reported before the file is looked at. */
    struct cell_image_ref ref = {0};
    if (name && cell_image_ref_parse(name, &ref, err) < 0)
        return -1;
    cell_image_ref_clear(&ref);
    bool in = strcmp(tarball, "-") == 0;
    _cleanup_close_ int fd = in ? -1 : open(tarball, O_RDONLY | O_CLOEXEC);
    if (!in && fd < 0)
        return cell_error(err, errno, "import: open %s", tarball);
    struct cell_image_store *s = NULL;
    _cleanup_free_ char *id = NULL;
    if (cell_cli_store_open(ctx, &s, err) < 0)
        return -1;
    int r = cell_image_import(s, in ? STDIN_FILENO : fd, tarball, name, &id, err);
    cell_image_store_close(s);
    if (r == 0)
        printf("%s\n", id);
    return r < 0 ? -1 : 0;
}

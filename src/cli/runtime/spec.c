/* spec and features: what the runtime writes and knows without a container. */
#include "cli/runtime/runtime_cli.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "cli/output.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

struct spec_opts {
    const char *bundle;
    bool rootless;
};

const struct cli_option cli_spec_options[] = {
    {"bundle", 'b', CLI_OPT_STRING, offsetof(struct spec_opts, bundle),
     "write config.json into this directory (default: the current directory)"},
    {"rootless", 0, CLI_OPT_BOOL, offsetof(struct spec_opts, rootless),
     "a spec for a container run by an unprivileged user"},
    {0},
};

/* Creates <dir>/config.json, refusing to replace one: it may hold a user's
 * edits. Mode 0666 less the umask, as runc creates it. */
static int write_config(const char *dir, const char *text, cell_err_t *err)
{
    _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cell_error(err, errno, "bundle %s", dir);
    _cleanup_close_ int fd =
        openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0 && errno == EEXIST)
        return cell_error(err, 0, "File config.json exists. Remove it first");
    if (fd < 0)
        return cell_error(err, errno, "create %s/config.json", dir);
    int r = cell_write_all(fd, text, strlen(text));
    if (r < 0) {
        unlinkat(dirfd, "config.json", 0); /* no half-written spec left behind */
        return cell_error(err, -r, "write %s/config.json", dir);
    }
    return 0;
}

int cli_cmd_spec(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct spec_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 0, 0, err) < 0)
        return -1;
    json_t *spec = cell_runtime_default_spec(o.rootless);
    _cleanup_free_ char *text = spec ? json_dumps(spec, JSON_INDENT(2)) : NULL;
    json_decref(spec);
    _cleanup_free_ char *line = NULL;
    if (!text || asprintf(&line, "%s\n", text) < 0)
        return cell_error(err, ENOMEM, "spec");
    return write_config(o.bundle ? o.bundle : ".", line, err) < 0 ? -1 : 0;
}

int cli_cmd_features(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    if (cli_parse_args(ctx, NULL, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 0, 0, err) < 0)
        return -1;
    json_t *features = cell_runtime_features();
    if (!features)
        return cell_error(err, ENOMEM, "features");
    int r = cli_print_json(stdout, features, 4, err); /* runc indents features by 4 */
    json_decref(features);
    return r < 0 ? -1 : 0;
}

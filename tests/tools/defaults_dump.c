/* Test helper: prints what the engine's defaults give a container, as
 * JSON, so that integration tests can put it into a bundle's config.json.
 *
 *   cell-defaults-dump seccomp [CAP...]          Docker's default profile in
 *                                                OCI form (the default caps
 *                                                when none are given)
 *   cell-defaults-dump convert FILE [CAP...]     a Docker-format profile file
 *   cell-defaults-dump caps [--privileged] [--cap-add X] [--cap-drop X]...
 *   cell-defaults-dump masked | readonly */
#include "base/cleanup.h"
#include "base/strv.h"
#include "engine/defaults.h"

#include <stdio.h>
#include <string.h>

static int print(json_t *j)
{
    if (!j)
        return 1;
    char *s = json_dumps(j, JSON_INDENT(1) | JSON_ENCODE_ANY);
    json_decref(j);
    if (!s)
        return 1;
    puts(s);
    free(s);
    return 0;
}

static char **caps_from(char **argv)
{
    if (!*argv)
        return cell_defaults_caps();
    char **v = calloc(1, sizeof *v);
    for (; v && *argv; argv++)
        if (cell_strv_push(&v, *argv) < 0)
            return NULL;
    return v;
}

static int cmd_convert(const char *file, char **argv)
{
    _cleanup_strv_ char **caps = caps_from(argv);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *out = cell_defaults_seccomp_from_file(file, caps, &err);
    if (!out) {
        fprintf(stderr, "%s\n", cell_error_text(&err));
        return 1;
    }
    return print(out);
}

static int cmd_caps(char **argv)
{
    _cleanup_strv_ char **add = calloc(1, sizeof(char *)), **drop = calloc(1, sizeof(char *));
    bool privileged = false;
    for (; *argv; argv++) {
        if (strcmp(*argv, "--privileged") == 0)
            privileged = true;
        else if (strcmp(*argv, "--cap-add") == 0 && argv[1])
            cell_strv_push(&add, *++argv);
        else if (strcmp(*argv, "--cap-drop") == 0 && argv[1])
            cell_strv_push(&drop, *++argv);
    }
    _cleanup_strv_ char **out = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_defaults_apply_caps(add, drop, privileged, &out, &err) < 0) {
        fprintf(stderr, "%s\n", cell_error_text(&err));
        return 1;
    }
    json_t *a = json_array();
    for (char **p = out; *p; p++)
        json_array_append_new(a, json_string(*p));
    return print(a);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "seccomp") == 0) {
        _cleanup_strv_ char **caps = caps_from(argv + 2);
        return print(cell_defaults_seccomp(caps));
    }
    if (argc >= 3 && strcmp(argv[1], "convert") == 0)
        return cmd_convert(argv[2], argv + 3);
    if (argc >= 2 && strcmp(argv[1], "caps") == 0)
        return cmd_caps(argv + 2);
    if (argc == 2 && strcmp(argv[1], "masked") == 0)
        return print(cell_defaults_masked_paths());
    if (argc == 2 && strcmp(argv[1], "readonly") == 0)
        return print(cell_defaults_readonly_paths());
    fprintf(stderr,
            "usage: %s seccomp [CAP...] | convert FILE [CAP...] | caps [...] | masked | "
            "readonly\n",
            argv[0]);
    return 2;
}

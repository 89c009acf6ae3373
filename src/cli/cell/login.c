/* cell login [-u USER] [-p PASSWORD | --password-stdin] [--tls-verify=false]
 *            [--authfile FILE] [SERVER]
 * cell logout [--authfile FILE] [SERVER]
 *
 * As Docker: SERVER defaults to docker.io; without -u or -p on a terminal
 * they are asked for (the password without echo); credentials are checked
 * against the registry before they are stored. */
#include "cli/cell/cell_cli.h"

#include "base/cleanup.h"
#include "image/auth.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct login_opts {
    const char *username;
    const char *password;
    const char *authfile;
    bool password_stdin;
    bool tls_verify;
};

const struct cli_option cell_login_options[] = {
    {"username", 'u', CLI_OPT_STRING, offsetof(struct login_opts, username), "user name"},
    {"password", 'p', CLI_OPT_STRING, offsetof(struct login_opts, password),
     "password (visible to other users in ps: prefer --password-stdin)"},
    {"password-stdin", 0, CLI_OPT_BOOL, offsetof(struct login_opts, password_stdin),
     "read the password from standard input"},
    {"tls-verify", 0, CLI_OPT_BOOL, offsetof(struct login_opts, tls_verify),
     "check the registry's certificate (default true); false also allows plain http"},
    {"authfile", 0, CLI_OPT_STRING, offsetof(struct login_opts, authfile),
     "credentials file (default: $CELL_AUTH_FILE or ~/.config/cell/auth.json)"},
    {0},
};

const struct cli_option cell_logout_options[] = {
    {"authfile", 0, CLI_OPT_STRING, offsetof(struct login_opts, authfile),
     "credentials file (default: $CELL_AUTH_FILE or ~/.config/cell/auth.json)"},
    {0},
};

/* One line from f without its newline; NULL at EOF. */
static char *read_line(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* Asks on the terminal; echo off for a password. */
static char *prompt(const char *what, bool secret)
{
    struct termios old, quiet;
    bool restore = false;
    fprintf(stderr, "%s: ", what);
    fflush(stderr);
    if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    char *line = read_line(stdin);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return line;
}

/* The user and password from the flags, standard input or the terminal. */
static int credentials(const struct login_opts *o, char **user, char **pass, cell_err_t *err)
{
    bool tty = isatty(STDIN_FILENO);
    if (o->password_stdin && o->password)
        return cell_error(err, 0, "login: --password and --password-stdin are exclusive");
    if (o->password_stdin && !o->username)
        return cell_error(err, 0, "login: --password-stdin needs --username");
    *user = o->username ? strdup(o->username) : tty ? prompt("Username", false) : NULL;
    if (!*user)
        return cell_error(err, 0, "login: user name required (--username)");
    if (o->password)
        *pass = strdup(o->password);
    else if (o->password_stdin || !tty)
        *pass = read_line(stdin);
    else
        *pass = prompt("Password", true);
    if (!*pass || !**pass)
        return cell_error(err, 0, "login: password required");
    return 0;
}

int cell_cmd_login(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct login_opts o = {.tls_verify = true};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 0, 1, err) < 0)
        return -1;
    const char *server = args.argc ? args.argv[0] : "docker.io";
    _cleanup_free_ char *user = NULL, *pass = NULL;
    if (credentials(&o, &user, &pass, err) < 0)
        return -1;
    int ret = cell_image_login(o.authfile, server, user, pass, o.tls_verify, err);
    explicit_bzero(pass, strlen(pass));
    if (ret < 0)
        return -1;
    printf("Login Succeeded\n");
    return 0;
}

int cell_cmd_logout(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct login_opts o = {0};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 0, 1, err) < 0)
        return -1;
    const char *server = args.argc ? args.argv[0] : "docker.io";
    if (cell_image_logout(o.authfile, server, err) < 0)
        return -1;
    _cleanup_free_ char *key = cell_image_auth_key(server);
    printf("Removing login credentials for %s\n", key ? key : server);
    return 0;
}

/* The one command-line framework of cell and cell-runtime.
 *
 *   PROG [global options] <command> [options] [arguments]
 *
 * A program is a table of commands (struct cli_command) and its global
 * options (struct cli_program); cli_main parses the global options, answers
 * --help, --version and `help [COMMAND]`, runs the command's handler and
 * reports a failure as one line "PROG: message" on stderr, exit status 1.
 *
 * Each handler parses its own options into a struct on its stack
 * (cli_parse_args), calls the library, prints, and returns the exit status
 * (>= 0), or a negative value with err set. A handler that succeeds with err
 * set has a warning to pass on: cli_main prints "PROG: warning: message".
 *
 * A new command is one file in src/cli/<program>/ and one line in that
 * program's table in its main.c. */
#pragma once

#include "base/error.h"
#include "cli/options.h"
#include "cli/output.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit status for every failure, usage errors included: runc exits 1 for
 * both, Docker's CLI too, and their callers only test non-zero. */
#define CLI_EXIT_FAILURE 1

#ifndef CELL_VERSION
#define CELL_VERSION "0.1.0"
#endif

struct cli_ctx;

typedef int (*cli_handler_t)(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err);

enum cli_command_flags {
    /* Everything from the first positional on belongs to the command, not
     * to us: `cell run -it IMAGE sh -c 'ls -l'`, `cell-runtime exec ID ls -l`. */
    CLI_CMD_STOP_AT_POSITIONAL = 1 << 0,
};

struct cli_command {
    const char *name;
    cli_handler_t run;
    const struct cli_option *options; /* NULL when it takes none */
    const char *args;                 /* what follows the options: "<container-id> [signal]" */
    const char *summary;              /* one line */
    unsigned flags;                   /* enum cli_command_flags */
    int failure_status;               /* exit status of a failure; 0: CLI_EXIT_FAILURE
                                         (Docker's run, create and start exit 125) */
};

struct cli_program {
    const char *name;  /* "cell", "cell-runtime": the prefix of every error line */
    const char *about; /* a paragraph under the usage line of `PROG --help` */
    /* Parsed into the struct that cli_main's caller passes as global. A
     * CLI_OPT_BOOL named "version" there makes --version print version. */
    const struct cli_option *global_options;
    const struct cli_command *commands;
    size_t n_commands;
    enum cli_syntax syntax;
    const char *version; /* printed as it is, for --version */
    /* Runs after the global options are parsed, before anything else:
     * checks them and points log at the --log file. May be NULL. */
    int (*setup)(void *global, struct cli_log *log, cell_err_t *err);
};

struct cli_ctx {
    const struct cli_program *prog;
    const struct cli_command *cmd;
    void *global; /* the program's global options */
    /* The exit status of the command's failure (its failure_status to
     * begin with): a handler may set another one, as Docker's run exits
     * 126 or 127 for a command that cannot start. */
    int *failure_status;
};

/* The parsed command line of one command. */
struct cli_args {
    int argc; /* positionals; argv[argc] is NULL */
    char **argv;
    bool help; /* --help was given and the usage has been printed */
};

/* Runs the program on main's argc and argv; returns main's exit status.
 * global is the program's zeroed (or defaulted) global options struct.
 * Errors go to stderr, and to the log file that prog->setup names. */
int cli_main(const struct cli_program *prog, void *global, int argc, char **argv);

/* Parses ctx->cmd's options into opts (a struct of the command's with its
 * defaults set) in the program's syntax, and collects the positionals in
 * *args (argv[args->argc] is not touched). On --help prints the command's
 * usage on stdout: the handler then returns 0. Errors read
 * "<command>: unknown flag: --foo". */
int cli_parse_args(const struct cli_ctx *ctx, void *opts, int argc, char **argv,
                   struct cli_args *args, cell_err_t *err);

/* Fails unless args holds from min to max positionals (max < 0: no limit):
 * "<command>: requires at least 1 argument (usage: PROG command ARGS)",
 * "<command>: unexpected argument \"x\"". */
int cli_nargs(const struct cli_ctx *ctx, const struct cli_args *args, int min, int max,
              cell_err_t *err);

/* "Usage: PROG command [OPTIONS] ARGS", the summary, and the options. */
void cli_print_usage(FILE *out, const struct cli_program *prog, const struct cli_command *cmd);
/* "<heading>:" and one aligned line per option, as Docker prints them:
 *   "  -d, --detach        help" and "      --name value    help". */
void cli_print_options(FILE *out, const char *heading, const struct cli_option *options);

/* One option parser for every command. Each command describes its options
 * in a table of {name, short, kind, offset into its own options struct};
 * the parser fills that struct, which the command keeps on its stack.
 *
 * Two syntaxes, one per program. CLI_SYNTAX_GO is what runc's users send
 * (runc parses with Go's flag package under urfave/cli), so podman,
 * containerd and scripts work unchanged with cell-runtime:
 *   --name value   --name=value   -name value   -name=value
 *   -x value       -x=value       --x value (a short name is a name too)
 *   --flag         --flag=true    --flag=false  (bools never take the next word)
 * Combined short flags ("-dq") are not accepted, as Go's flag package does
 * not accept them either.
 *
 * CLI_SYNTAX_DOCKER is what Docker's users type (Docker parses with
 * spf13/pflag), for cell:
 *   --name value   --name=value   (a long name needs two dashes: "-name" is
 *                                  the short flags n, a, m and e)
 *   -x value       -xvalue        -x=value   ("-p 80:80", "-p80:80", "-uroot")
 *   -dit           short bools combined; the last one may take a value: "-ite A=B"
 *   --flag         --flag=false   -d=false   (bools never take the next word)
 *
 * In both, a value is taken from the next word even when it starts with a
 * dash; a CLI_OPT_STRV option appends each use ("-e A -e B"), any other
 * kind keeps the last; "--" ends the options and a lone "-" is a positional
 * (standard input). Options may come after positionals ("kill ID KILL
 * --all"), unless the parser is told to stop at the first positional, as
 * the global options before the command name are, and as `cell run IMAGE
 * sh -c 'ls -l'` needs: the command's words are not ours. --help (and -h,
 * when no option has that short name) sets help. */
#pragma once

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* How the words are read (see above for Go's; Docker's is in options.c). */
enum cli_syntax {
    CLI_SYNTAX_GO,     /* runc's: Go's flag package, for cell-runtime */
    CLI_SYNTAX_DOCKER, /* Docker's: spf13/pflag, for cell */
};

enum cli_opt_kind {
    CLI_OPT_BOOL,   /* bool */
    CLI_OPT_STRING, /* const char *, pointing into argv; the last one given wins */
    CLI_OPT_INT,    /* int, decimal */
    CLI_OPT_STRV,   /* char **, NULL-terminated copies; each use appends one */
};

struct cli_option {
    const char *name; /* long name without dashes; a {0} entry ends the table */
    char short_name;  /* 0 when none */
    enum cli_opt_kind kind;
    size_t offset;    /* offsetof(struct <command>_opts, field) */
    const char *help; /* one line for the usage text */
};

struct cli_parser {
    const struct cli_option *options; /* may be NULL: no options */
    void *target;                     /* the struct the offsets point into */
    enum cli_syntax syntax;
    bool stop_at_positional; /* leave everything from the first positional on */
    bool help;               /* out: --help or -h was given */
};

/* Parses argv[0..argc) into p->target. The positional arguments are moved,
 * in their order, to the front of argv; returns their number. On a bad
 * option returns -1 with err saying which ("unknown flag: --foo", "flag
 * needs an argument: --bundle", "invalid value \"x\" for flag --preserve-fds").
 * String values point into argv; CLI_OPT_STRV vectors are allocated and are
 * released by cli_options_free. */
int cli_parse(struct cli_parser *p, int argc, char **argv, cell_err_t *err);

/* Frees the CLI_OPT_STRV arrays that cli_parse allocated in target. */
void cli_options_free(const struct cli_option *options, void *target);

#include "cli/options.h"

#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* One word of argv that starts with a dash, split into its parts. */
struct flag_word {
    const char *word;  /* as given, for messages */
    char name[64];     /* without dashes and without "=value" */
    const char *value; /* after '=', or NULL */
};

static int split_flag_word(const char *word, struct flag_word *f, cell_err_t *err)
{
    const char *name = word + (word[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    f->word = word;
    f->value = eq ? eq + 1 : NULL;
    /* "---x" and "-=x" are malformed in Go's flag package too. */
    if (len == 0 || len >= sizeof(f->name) || name[0] == '-' || name[0] == '=')
        return cell_error(err, 0, "bad flag syntax: %s", word);
    memcpy(f->name, name, len);
    f->name[len] = '\0';
    return 0;
}

static const struct cli_option *find_option(const struct cli_option *options, const char *name)
{
    for (const struct cli_option *o = options; o && o->name; o++) {
        if (strcmp(o->name, name) == 0)
            return o;
        if (o->short_name && name[0] == o->short_name && name[1] == '\0')
            return o;
    }
    return NULL;
}

/* The spellings Go's strconv.ParseBool accepts. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int store_value(const struct cli_option *o, void *target, const char *value)
{
    char *field = (char *)target + o->offset;
    switch (o->kind) {
    case CLI_OPT_BOOL:
        return parse_bool(value, (bool *)field);
    case CLI_OPT_STRING:
        *(const char **)field = value;
        return 0;
    case CLI_OPT_INT:
        return parse_int(value, (int *)field);
    case CLI_OPT_STRV:
        return cell_strv_push((char ***)field, value) < 0 ? -ENOMEM : 0;
    }
    return -1;
}

/* Stores value for option o, given as flag (for messages: "--bundle", "-e"). */
static int set_option(struct cli_parser *p, const struct cli_option *o, const char *flag,
                      const char *value, cell_err_t *err)
{
    int r = store_value(o, p->target, value);
    if (r == -ENOMEM)
        return cell_error(err, ENOMEM, "flag %s", flag);
    if (r < 0)
        return cell_error(err, 0, "invalid value \"%s\" for flag %s", value, flag);
    return 0;
}

/* Go's flag package: handles the flag in argv[*i], taking its value from
 * the next word when it needs one and has no "=value"; *i is left on the
 * last word used. */
static int take_go_flag(struct cli_parser *p, int argc, char **argv, int *i, cell_err_t *err)
{
    struct flag_word f;
    if (split_flag_word(argv[*i], &f, err) < 0)
        return -1;
    const struct cli_option *o = find_option(p->options, f.name);
    if (!o && (strcmp(f.name, "help") == 0 || strcmp(f.name, "h") == 0)) {
        p->help = true; /* every command takes it; the caller prints the usage */
        return 0;
    }
    if (!o)
        return cell_error(err, 0, "unknown flag: %.*s", (int)strcspn(f.word, "="), f.word);
    const char *value = f.value;
    if (!value && o->kind == CLI_OPT_BOOL)
        value = "true";
    if (!value && *i + 1 >= argc)
        return cell_error(err, 0, "flag needs an argument: %s", f.word);
    if (!value)
        value = argv[++*i]; /* taken even when it starts with '-', as Go does */
    char flag[sizeof(f.name) + 2];
    snprintf(flag, sizeof(flag), "%.*s", (int)strcspn(f.word, "="), f.word);
    return set_option(p, o, flag, value, err);
}

static const struct cli_option *find_long(const struct cli_option *options, const char *name)
{
    for (const struct cli_option *o = options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static const struct cli_option *find_short(const struct cli_option *options, char c)
{
    for (const struct cli_option *o = options; o && o->name; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

/* pflag: "--name", "--name=value" or "--name value". */
static int take_docker_long(struct cli_parser *p, int argc, char **argv, int *i, cell_err_t *err)
{
    struct flag_word f;
    if (split_flag_word(argv[*i], &f, err) < 0)
        return -1;
    const struct cli_option *o = find_long(p->options, f.name);
    if (!o && strcmp(f.name, "help") == 0) {
        p->help = true;
        return 0;
    }
    char flag[sizeof(f.name) + 2];
    snprintf(flag, sizeof(flag), "--%s", f.name);
    if (!o)
        return cell_error(err, 0, "unknown flag: %s", flag);
    const char *value = f.value;
    if (!value && o->kind == CLI_OPT_BOOL)
        value = "true";
    if (!value && *i + 1 >= argc)
        return cell_error(err, 0, "flag needs an argument: %s", flag);
    if (!value)
        value = argv[++*i];
    return set_option(p, o, flag, value, err);
}

/* pflag: "-x", "-xyz" (bools, the last may take a value), "-xVALUE",
 * "-x=VALUE", "-x VALUE". */
static int take_docker_shorts(struct cli_parser *p, int argc, char **argv, int *i, cell_err_t *err)
{
    for (const char *s = argv[*i] + 1; *s; s++) {
        const struct cli_option *o = find_short(p->options, *s);
        if (!o && *s == 'h') {
            p->help = true;
            continue;
        }
        if (!o)
            return cell_error(err, 0, "unknown shorthand flag: '%c' in -%s", *s, s);
        char flag[3] = {'-', *s, '\0'};
        const char *value = NULL;
        bool rest_is_value = true;
        if (s[1] == '=' && s[2] != '\0') {
            value = s + 2; /* "-e=A=B", "-d=false" */
        } else if (o->kind == CLI_OPT_BOOL) {
            value = "true";
            rest_is_value = false; /* "-dit": more flags follow */
        } else if (s[1] != '\0') {
            value = s + 1; /* "-p80:80", "-uroot" */
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            return cell_error(err, 0, "flag needs an argument: '%c' in -%s", *s, s);
        }
        if (set_option(p, o, flag, value, err) < 0)
            return -1;
        if (rest_is_value)
            return 0;
    }
    return 0;
}

static int take_flag(struct cli_parser *p, int argc, char **argv, int *i, cell_err_t *err)
{
    if (p->syntax == CLI_SYNTAX_GO)
        return take_go_flag(p, argc, argv, i, err);
    if (argv[*i][1] == '-')
        return take_docker_long(p, argc, argv, i, err);
    return take_docker_shorts(p, argc, argv, i, err);
}

static bool is_flag(const char *word)
{
    return word[0] == '-' && word[1] != '\0'; /* a lone "-" is an argument (stdin) */
}

int cli_parse(struct cli_parser *p, int argc, char **argv, cell_err_t *err)
{
    int npos = 0, i = 0;
    /* Positionals are compacted to the front as we go; npos <= i always, so
     * no word is overwritten before it is read. */
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (!is_flag(argv[i]) && p->stop_at_positional)
            break;
        if (!is_flag(argv[i]))
            argv[npos++] = argv[i];
        else if (take_flag(p, argc, argv, &i, err) < 0)
            return -1;
    }
    while (i < argc)
        argv[npos++] = argv[i++];
    return npos;
}

void cli_options_free(const struct cli_option *options, void *target)
{
    for (const struct cli_option *o = options; o && o->name; o++) {
        if (o->kind != CLI_OPT_STRV)
            continue;
        char ***field = (char ***)((char *)target + o->offset);
        cell_strv_free(*field);
        *field = NULL;
    }
}

/* state and list: what the runtime knows of its containers. */
#include "cli/runtime/runtime_cli.h"

#include "base/cleanup.h"
#include "cli/output.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

struct list_opts {
    const char *format;
    bool quiet;
};

const struct cli_option cli_list_options[] = {
    {"format", 'f', CLI_OPT_STRING, offsetof(struct list_opts, format), "table (default) or json"},
    {"quiet", 'q', CLI_OPT_BOOL, offsetof(struct list_opts, quiet), "print the ids only"},
    {0},
};

int cli_cmd_state(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, NULL, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    json_t *state = cell_runtime_state(cli_root(ctx), id, err);
    if (!state)
        return -1;
    int r = cli_print_json(stdout, state, 2, err);
    json_decref(state);
    return r < 0 ? -1 : 0;
}

static const char *field_text(const json_t *state, const char *key)
{
    const char *s = json_string_value(json_object_get(state, key));
    return s ? s : "";
}

static int add_state_row(struct cli_table *t, const json_t *state)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(state, "pid")));
    /* "created" is already RFC 3339 (with nanoseconds, as runc writes it). */
    const char *row[] = {field_text(state, "id"),      pid,
                         field_text(state, "status"),  field_text(state, "bundle"),
                         field_text(state, "created"), field_text(state, "owner")};
    return cli_table_add_row(t, row);
}

static int print_table(const json_t *states, cell_err_t *err)
{
    static const char *const header[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
    struct cli_table t = {.ncols = ARRAY_SIZE(header)};
    int r = cli_table_add_row(&t, header);
    for (size_t i = 0; r == 0 && i < json_array_size(states); i++)
        r = add_state_row(&t, json_array_get(states, i));
    if (r == 0)
        cli_table_print(stdout, &t, 12, 3); /* runc's tabwriter settings */
    cli_table_clear(&t);
    return r < 0 ? cell_error(err, ENOMEM, "list") : 0;
}

static void print_ids(const json_t *states)
{
    for (size_t i = 0; i < json_array_size(states); i++)
        puts(field_text(json_array_get(states, i), "id"));
}

static int print_states(const struct list_opts *o, const json_t *states, cell_err_t *err)
{
    if (o->quiet) {
        print_ids(states);
        return 0;
    }
    if (strcmp(o->format, "table") == 0)
        return print_table(states, err);
    /* runc prints a JSON null, not [], when there is no container. */
    if (json_array_size(states) == 0)
        return puts("null") == EOF ? cell_error(err, errno, "write standard output") : 0;
    return cli_print_json(stdout, states, 0, err);
}

int cli_cmd_list(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct list_opts o = {.format = "table"};
    struct cli_args args;
    if (cli_parse_args(ctx, &o, argc, argv, &args, err) < 0)
        return -1;
    if (args.help)
        return 0;
    if (cli_nargs(ctx, &args, 0, 0, err) < 0)
        return -1;
    if (strcmp(o.format, "table") != 0 && strcmp(o.format, "json") != 0)
        return cell_error(err, 0, "list: invalid format \"%s\" (table or json)", o.format);
    json_t *states = cell_runtime_list(cli_root(ctx), err);
    if (!states)
        return -1;
    int r = print_states(&o, states, err);
    json_decref(states);
    return r < 0 ? -1 : 0;
}

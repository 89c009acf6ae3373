/* events: a container's statistics and OOM notices as JSON lines, as
 * runc prints them. --stats prints one stats event and returns; otherwise
 * a stats event comes every --interval (default 5s) and an oom event when
 * the OOM killer fires, until the container stops. */
#include "cli/runtime/runtime_cli.h"

#include "cli/output.h"
#include "base/units.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct events_opts {
    bool stats;
    const char *interval;
};

const struct cli_option cli_events_options[] = {
    {"stats", 0, CLI_OPT_BOOL, offsetof(struct events_opts, stats),
     "print the container's statistics once and exit"},
    {"interval", 0, CLI_OPT_STRING, offsetof(struct events_opts, interval),
     "time between stats events: 5s (default), 500ms, 1m"},
    {0},
};

/* A Go duration of one unit: "5s", "250ms", "1.5s", "2m". */
/* A Go duration ("5s", "500ms", "1m") of at least 1 ms and at most a day. */
static int parse_interval(const char *s, unsigned *ms)
{
    int64_t ns;
    if (cell_duration_parse(s, &ns) < 0 || ns < 1000000 || ns > 86400000000000LL)
        return -1;
    *ms = (unsigned)(ns / 1000000);
    return 0;
}

static int print_event(json_t *event, void *data)
{
    cell_err_t *err = data;
    return cli_print_json(stdout, event, 0, err) < 0 ? -1 : 0;
}

int cli_cmd_events(const struct cli_ctx *ctx, int argc, char **argv, cell_err_t *err)
{
    struct events_opts o = {.interval = "5s"};
    struct cli_args args;
    const char *id = NULL;
    int parsed = cli_parse_with_id(ctx, &o, argc, argv, 0, &args, &id, err);
    if (parsed != 0)
        return parsed < 0 ? -1 : 0;
    unsigned ms;
    if (parse_interval(o.interval, &ms) < 0)
        return cell_error(err, 0, "events: invalid --interval \"%s\" (5s, 500ms, 1m)", o.interval);
    if (o.stats) {
        json_t *ev = cell_runtime_stats(cli_root(ctx), id, err);
        int r = ev ? cli_print_json(stdout, ev, 0, err) : -1;
        json_decref(ev);
        return r < 0 ? -1 : 0;
    }
    return cell_runtime_events(cli_root(ctx), id, ms, print_event, err, err) < 0 ? -1 : 0;
}

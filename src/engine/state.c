/* The State object of a container's record, in Docker's shape: Status is
 * one of created, running, paused, restarting, removing, exited, dead. */
#include "engine/monitor.h"

#include "base/cleanup.h"
#include "base/pid.h"

#include <string.h>

static json_t *state_of(json_t *rec)
{
    json_t *st = json_object_get(rec, "State");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(rec, "State", st);
    }
    return st;
}

void cell_state_set_status(json_t *rec, const char *status)
{
    json_t *st = state_of(rec);
    json_object_set_new(st, "Status", json_string(status));
    json_object_set_new(st, "Running",
                        json_boolean(!strcmp(status, "running") || !strcmp(status, "paused")));
    json_object_set_new(st, "Paused", json_boolean(!strcmp(status, "paused")));
    json_object_set_new(st, "Restarting", json_boolean(!strcmp(status, "restarting")));
    json_object_set_new(st, "Dead", json_boolean(!strcmp(status, "dead")));
}

void cell_state_set_running(json_t *rec, pid_t pid, pid_t monitor)
{
    json_t *st = state_of(rec);
    cell_state_set_status(rec, "running");
    json_object_set_new(st, "Pid", json_integer(pid));
    json_object_set_new(st, "ExitCode", json_integer(0));
    json_object_set_new(st, "OOMKilled", json_false());
    json_object_set_new(st, "Error", json_string(""));
    _cleanup_free_ char *now = cell_engine_now();
    json_object_set_new(st, "StartedAt", json_string(now ? now : ""));
    json_object_set_new(st, "FinishedAt", json_string("0001-01-01T00:00:00Z"));
    json_object_set_new(rec, "Monitor",
                        json_pack("{s:i, s:I}", "Pid", (int)monitor, "StartTime",
                                  (json_int_t)cell_proc_starttime(monitor, NULL)));
}

void cell_state_set_exited(json_t *rec, int exit_code, bool oom_killed, const char *error)
{
    json_t *st = state_of(rec);
    cell_state_set_status(rec, "exited");
    json_object_set_new(st, "Pid", json_integer(0));
    json_object_set_new(st, "ExitCode", json_integer(exit_code));
    json_object_set_new(st, "OOMKilled", json_boolean(oom_killed));
    json_object_set_new(st, "Error", json_string(error ? error : ""));
    _cleanup_free_ char *now = cell_engine_now();
    json_object_set_new(st, "FinishedAt", json_string(now ? now : ""));
    json_object_del(rec, "Monitor");
}

void cell_state_set_start_failed(json_t *rec, int exit_code, const char *error)
{
    json_t *st = state_of(rec);
    json_object_set_new(st, "ExitCode", json_integer(exit_code));
    json_object_set_new(st, "Error", json_string(error ? error : ""));
}

const char *cell_state_status_of(const json_t *rec)
{
    const char *s = json_string_value(json_object_get(json_object_get(rec, "State"), "Status"));
    return s ? s : "dead";
}

bool cell_state_monitor_alive(const json_t *rec)
{
    json_t *m = json_object_get(rec, "Monitor");
    pid_t pid = (pid_t)json_integer_value(json_object_get(m, "Pid"));
    unsigned long long start =
        (unsigned long long)json_integer_value(json_object_get(m, "StartTime"));
    return pid > 0 && cell_proc_alive(pid, start);
}

bool cell_state_live(const char *status)
{
    return !strcmp(status, "running") || !strcmp(status, "paused") || !strcmp(status, "restarting");
}

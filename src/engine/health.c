/* Docker's health checks. Config.Healthcheck {Test, Interval, Timeout,
 * StartPeriod, StartInterval, Retries} (durations in nanoseconds, zero
 * meaning "the default") is built at create; each start of the container
 * sets State.Health to "starting"; the monitor then runs a check every
 * Interval, counted from the end of the previous one, through a checker:
 * a forked child that runs the command in the container with the runtime
 * library's exec, kills it at Timeout, and records the result under the
 * record's lock. The checker, not the monitor, does the work, so the
 * monitor's loop never waits on a check and its memory never holds one. */
#include "engine/health.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/units.h"
#include "engine/log.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS         1000000LL
#define NS_PER_S          1000000000LL
#define DEFAULT_INTERVAL  (30 * NS_PER_S)
#define DEFAULT_TIMEOUT   (30 * NS_PER_S)
#define DEFAULT_START_INT (5 * NS_PER_S)
#define DEFAULT_RETRIES   3
/* Docker gives the exec itself this long to start, apart from Timeout. */
#define START_TIMEOUT (30 * NS_PER_S)
#define MAX_OUTPUT    4096
#define MAX_LOG       5

/* What a checker's exit status tells the monitor. */
enum { CHECKER_STARTING = 0, CHECKER_SETTLED = 1, CHECKER_NO_RESULT = 2 };

/* ---- Config.Healthcheck --------------------------------------------------------------- */

struct health_flags {
    int64_t interval, timeout, start_period;
    long long retries;
};

/* A Go duration as pflag reads one: a sign allowed, Go's error text. */
static int flag_duration(const char *flag, const char *s, int64_t *ns, cell_err_t *err)
{
    *ns = 0;
    if (!s)
        return 0;
    bool neg = *s == '-';
    if (cell_duration_parse(s + (*s == '-' || *s == '+'), ns) < 0)
        return cell_error(err, 0,
                          "invalid argument \"%s\" for \"%s\" flag: time: invalid duration \"%s\"",
                          s, flag, s);
    if (neg)
        *ns = -*ns;
    return 0;
}

static int flag_retries(const char *s, long long *out, cell_err_t *err)
{
    *out = 0;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return cell_error(err, 0,
                          "invalid argument \"%s\" for \"--health-retries\" flag: "
                          "strconv.ParseInt: parsing \"%s\": %s",
                          s, s, errno == ERANGE ? "value out of range" : "invalid syntax");
    return 0;
}

/* The CLI's checks, in its order. */
static int check_flags(const struct cell_run_opts *o, const struct health_flags *f, bool given,
                       cell_err_t *err)
{
    if (o->no_healthcheck && given)
        return cell_error(err, 0, "--no-healthcheck conflicts with --health-* options");
    if (f->interval < 0)
        return cell_error(err, 0, "--health-interval cannot be negative");
    if (f->timeout < 0)
        return cell_error(err, 0, "--health-timeout cannot be negative");
    if (f->retries < 0)
        return cell_error(err, 0, "--health-retries cannot be negative");
    if (f->start_period < 0)
        return cell_error(err, 0, "--health-start-period cannot be negative");
    /* The daemon's: a duration given is at least a millisecond. */
    const struct {
        int64_t v;
        const char *what;
    } floors[] = {
        {f->interval, "Interval"}, {f->timeout, "Timeout"}, {f->start_period, "StartPeriod"}};
    for (size_t i = 0; i < ARRAY_SIZE(floors); i++)
        if (floors[i].v != 0 && floors[i].v < NS_PER_MS)
            return cell_error(err, 0, "%s in Healthcheck cannot be less than 1ms", floors[i].what);
    return 0;
}

static void set_nonzero(json_t *hc, const char *key, json_int_t v)
{
    if (v != 0)
        json_object_set_new(hc, key, json_integer(v));
}

static const char *const HC_NUMBERS[] = {"Interval", "Timeout", "StartPeriod", "StartInterval",
                                         "Retries"};

/* The image's fields where the user's are empty or zero. */
static void merge_image(json_t *hc, const json_t *img)
{
    json_t *test = json_object_get(img, "Test");
    if (!json_array_size(json_object_get(hc, "Test")) && json_array_size(test))
        json_object_set_new(hc, "Test", json_deep_copy(test));
    for (size_t i = 0; i < ARRAY_SIZE(HC_NUMBERS); i++)
        if (!json_integer_value(json_object_get(hc, HC_NUMBERS[i])))
            set_nonzero(hc, HC_NUMBERS[i], json_integer_value(json_object_get(img, HC_NUMBERS[i])));
}

int cell_health_config(const struct cell_run_opts *o, const json_t *icfg, json_t *cfg,
                       cell_err_t *err)
{
    struct health_flags f;
    if (flag_duration("--health-interval", o->health_interval, &f.interval, err) < 0 ||
        flag_duration("--health-timeout", o->health_timeout, &f.timeout, err) < 0 ||
        flag_duration("--health-start-period", o->health_start_period, &f.start_period, err) < 0 ||
        flag_retries(o->health_retries, &f.retries, err) < 0)
        return -1;
    bool given =
        (o->health_cmd && *o->health_cmd) || f.interval || f.timeout || f.start_period || f.retries;
    if (check_flags(o, &f, given, err) < 0)
        return -1;
    json_t *img = json_object_get(icfg, "Healthcheck");
    if (!o->no_healthcheck && !given && !json_is_object(img))
        return 0;
    json_t *hc = json_object();
    json_object_set_new(cfg, "Healthcheck", hc);
    if (o->no_healthcheck)
        json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
    else if (o->health_cmd && *o->health_cmd)
        json_object_set_new(hc, "Test", json_pack("[s, s]", "CMD-SHELL", o->health_cmd));
    set_nonzero(hc, "Interval", f.interval);
    set_nonzero(hc, "Timeout", f.timeout);
    set_nonzero(hc, "StartPeriod", f.start_period);
    set_nonzero(hc, "Retries", f.retries);
    if (json_is_object(img))
        merge_image(hc, img);
    return 0;
}

/* ---- what a record says ------------------------------------------------------------------ */

static const json_t *healthcheck_of(const json_t *rec)
{
    return json_object_get(json_object_get(rec, "Config"), "Healthcheck");
}

/* Whether the record's Healthcheck is one that runs: CMD or CMD-SHELL. */
static bool has_check(const json_t *rec)
{
    const char *kind =
        json_string_value(json_array_get(json_object_get(healthcheck_of(rec), "Test"), 0));
    return kind && (!strcmp(kind, "CMD") || !strcmp(kind, "CMD-SHELL"));
}

static int64_t ns_or(const json_t *hc, const char *key, int64_t dflt)
{
    json_int_t v = json_integer_value(json_object_get(hc, key));
    return v > 0 ? (int64_t)v : dflt;
}

void cell_health_reset(json_t *rec)
{
    if (!has_check(rec))
        return;
    json_t *st = json_object_get(rec, "State");
    json_t *log = json_object_get(json_object_get(st, "Health"), "Log");
    json_object_set_new(st, "Health",
                        json_pack("{s:s, s:i, s:o}", "Status", "starting", "FailingStreak", 0,
                                  "Log", json_is_array(log) ? json_incref(log) : json_array()));
}

/* ---- the monitor's schedule ------------------------------------------------------------------ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void arm(struct cell_health *h, int64_t ns)
{
    if (ns < 1)
        ns = 1; /* zero would disarm */
    struct itimerspec its = {.it_value = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S}};
    timerfd_settime(h->timerfd, 0, &its, NULL);
}

/* Docker's wait before the next check: Interval, but within the start
 * period never past its end, and StartInterval while still "starting". */
static int64_t next_wait(const struct cell_health *h)
{
    int64_t elapsed = mono_ns() - h->started;
    if (elapsed >= h->start_period)
        return h->interval;
    int64_t left = h->start_period - elapsed;
    if (left < h->interval)
        return left;
    return h->starting ? h->start_interval : h->interval;
}

int cell_health_start(struct cell_health *h, const json_t *rec)
{
    h->on = has_check(rec);
    if (!h->on)
        return 0;
    const json_t *hc = healthcheck_of(rec);
    h->interval = ns_or(hc, "Interval", DEFAULT_INTERVAL);
    h->timeout = ns_or(hc, "Timeout", DEFAULT_TIMEOUT);
    h->start_period = ns_or(hc, "StartPeriod", 0);
    h->start_interval = ns_or(hc, "StartInterval", DEFAULT_START_INT);
    h->started = mono_ns();
    h->starting = true;
    int made = 0;
    if (h->timerfd < 0) {
        h->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (h->timerfd < 0)
            return -1;
        made = 1;
    }
    arm(h, next_wait(h));
    return made;
}

static pid_t fork_checker(struct cell_health *h, struct cell_engine *e, const char *id);

void cell_health_tick(struct cell_health *h, struct cell_engine *e, const char *id)
{
    uint64_t expirations;
    if (read(h->timerfd, &expirations, sizeof expirations) < 0 || !h->on)
        return;
    if (h->checker > 0) {
        /* Not even the exec's start came back: it is wedged. */
        kill(h->checker, SIGKILL);
        return;
    }
    h->checker = fork_checker(h, e, id);
    if (h->checker > 0)
        arm(h, START_TIMEOUT + h->timeout + NS_PER_S);
    else
        arm(h, h->interval);
}

bool cell_health_reaped(struct cell_health *h, pid_t pid, int status)
{
    if (pid <= 0 || pid != h->checker)
        return false;
    h->checker = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) != CHECKER_NO_RESULT)
        h->starting = WEXITSTATUS(status) == CHECKER_STARTING;
    if (h->on)
        arm(h, next_wait(h));
    return true;
}

void cell_health_stop(struct cell_health *h)
{
    h->on = false;
    if (h->timerfd >= 0) {
        struct itimerspec off = {0};
        timerfd_settime(h->timerfd, 0, &off, NULL);
    }
    if (h->checker > 0) {
        kill(h->checker, SIGKILL);
        while (waitpid(h->checker, NULL, 0) < 0 && errno == EINTR)
            ;
        h->checker = 0;
    }
}

/* ---- the checker: one check ------------------------------------------------------------------ */

struct probe {
    int exit_code;
    int64_t timeout;
    bool timed_out, truncated;
    size_t len;
    char out[MAX_OUTPUT];
    char start[40], end[40];
};

static void stamp(char buf[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cell_engine_time_format(&ts, buf);
}

/* Keeps the first MAX_OUTPUT bytes, as Docker's limitedBuffer does. */
static void take_output(struct probe *p, const char *buf, size_t n)
{
    size_t room = MAX_OUTPUT - p->len, keep = n < room ? n : room;
    memcpy(p->out + p->len, buf, keep);
    p->len += keep;
    if (keep < n)
        p->truncated = true;
}

/* What is in the pipe now, without waiting for its end: a process the
 * check left behind may hold it open. False at end of file. */
static bool drain(int fd, struct probe *p)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0)
            take_output(p, buf, (size_t)n);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return n < 0;
    }
}

static int exit_code_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Waits for the process (our child) until the deadline, reading its
 * output; past the deadline it is killed. */
static void wait_probe(pid_t pid, int out, int64_t deadline, struct probe *p)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd fds[2] = {{.fd = out, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        int64_t left = deadline - mono_ns();
        if (left <= 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            p->timed_out = true;
            break;
        }
        /* Without a pidfd (kernels before 5.3) the exit is looked for
         * every 20 ms. */
        int ms = (int)((left + NS_PER_MS - 1) / NS_PER_MS);
        if (pidfd < 0 && ms > 20)
            ms = 20;
        if (poll(fds, 2, ms) > 0 && (fds[0].revents & (POLLIN | POLLHUP)) && !drain(out, p))
            fds[0].fd = -1;
    }
    drain(out, p);
    p->exit_code = p->timed_out ? -1 : exit_code_of(status);
    if (pidfd >= 0)
        close(pidfd);
}

/* Test as a command line: CMD's words, or CMD-SHELL's through the shell. */
static char **probe_args(const json_t *rec)
{
    const json_t *test = json_object_get(healthcheck_of(rec), "Test");
    const json_t *shell = json_object_get(json_object_get(rec, "Config"), "Shell");
    bool via_shell = !strcmp(json_string_value(json_array_get(test, 0)), "CMD-SHELL");
    size_t n = json_array_size(test), ns = json_array_size(shell), i;
    char **argv = calloc(n + (via_shell ? (ns ? ns : 2) : 0) + 1, sizeof *argv);
    size_t k = 0;
    json_t *v;
    if (argv && via_shell && ns)
        json_array_foreach(shell, i, v) argv[k++] = (char *)json_string_value(v);
    else if (argv && via_shell) {
        argv[k++] = "/bin/sh";
        argv[k++] = "-c";
    }
    for (i = 1; argv && i < n; i++)
        argv[k++] = (char *)json_string_value(json_array_get(test, i));
    return argv; /* the strings are rec's */
}

/* Runs the check with its output on a pipe: the process is our child
 * (detached exec), so we wait for it and kill it ourselves. */
static void run_probe(struct cell_engine *e, const char *id, char **argv, struct probe *p)
{
    int pipefd[2];
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    stamp(p->start);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        cell_error(&err, errno, "pipe");
    } else {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[1]);
        fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        pid_t pid = 0;
        int code;
        struct cell_exec_opts o = {
            .root = e->runtime_root, .id = id, .args = argv, .detach = true, .pid = &pid};
        if (cell_runtime_exec(&o, &code, &err) == 0 && pid > 0) {
            /* Ours closed, the pipe ends with the process (and what it left). */
            int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            wait_probe(pid, pipefd[0], mono_ns() + p->timeout, p);
            stamp(p->end);
            return;
        }
    }
    /* Docker's result when the check could not run: -1 and why. */
    p->exit_code = -1;
    p->len = 0;
    take_output(p, cell_error_text(&err), strlen(cell_error_text(&err)));
    stamp(p->end);
}

/* Go's time.Duration.String: "200ms", "1.5s", "1m30s", "1h0m0s". */
static void go_duration(int64_t ns, char buf[48])
{
    char frac[24] = "";
    if (ns == 0) {
        snprintf(buf, 48, "0s");
        return;
    }
    int64_t unit = NS_PER_S;
    const char *name = "s";
    if (ns < NS_PER_S) {
        unit = ns < 1000 ? 1 : ns < NS_PER_MS ? 1000 : NS_PER_MS;
        name = ns < 1000 ? "ns" : ns < NS_PER_MS ? "\xc2\xb5s" : "ms";
    }
    int64_t whole = ns / unit, rest = ns % unit;
    int digits = unit == NS_PER_S ? 9 : unit == NS_PER_MS ? 6 : unit == 1000 ? 3 : 0;
    if (rest) {
        snprintf(frac, sizeof frac, ".%0*lld", digits, (long long)rest);
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
            frac[n - 1] = 0;
    }
    if (ns < 60 * NS_PER_S) {
        snprintf(buf, 48, "%lld%s%s", (long long)whole, frac, name);
        return;
    }
    long long h = whole / 3600, m = whole / 60 % 60, s = whole % 60;
    if (h)
        snprintf(buf, 48, "%lldh%lldm%lld%ss", h, m, s, frac);
    else
        snprintf(buf, 48, "%lldm%lld%ss", m, s, frac);
}

/* The output as Docker's JSON has it: "..." after a cut, each byte of
 * invalid UTF-8 as U+FFFD. */
static json_t *output_json(const struct probe *p)
{
    size_t cap = 3 * p->len + 128, k = 0;
    _cleanup_free_ char *s = malloc(cap);
    if (!s)
        return json_string("");
    if (p->timed_out) {
        char d[48];
        go_duration(p->timeout, d);
        k = (size_t)snprintf(s, cap, "Health check exceeded timeout (%s)%s", d, p->len ? ": " : "");
    }
    const unsigned char *u = (const unsigned char *)p->out;
    for (size_t i = 0; i < p->len;) {
        size_t n = u[i] < 0x80 ? 1 : cell_log_utf8_seq(u + i, p->len - i);
        if (n == 0) {
            memcpy(s + k, "\xef\xbf\xbd", 3), k += 3, i++;
            continue;
        }
        memcpy(s + k, u + i, n), k += n, i += n;
    }
    if (p->truncated)
        memcpy(s + k, "...", 3), k += 3;
    return json_stringn(s, k);
}

/* ---- the checker: the record -------------------------------------------------------------------
 */

/* Docker's handleProbeResult: the Log keeps the last five; a success makes
 * "healthy"; a failure counts (outside the start period, while still
 * "starting") towards Retries in a row, which make "unhealthy". */
static void apply_result(json_t *rec, json_t *health, const struct probe *p)
{
    json_t *log = json_object_get(health, "Log");
    if (!json_is_array(log)) {
        log = json_array();
        json_object_set_new(health, "Log", log);
    }
    json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:o}", "Start", p->start, "End", p->end,
                                         "ExitCode", p->exit_code, "Output", output_json(p)));
    while (json_array_size(log) > MAX_LOG)
        json_array_remove(log, 0);
    const json_t *hc = healthcheck_of(rec);
    json_int_t streak = json_integer_value(json_object_get(health, "FailingStreak"));
    const char *status = json_string_value(json_object_get(health, "Status"));
    if (p->exit_code == 0) {
        json_object_set_new(health, "FailingStreak", json_integer(0));
        json_object_set_new(health, "Status", json_string("healthy"));
        return;
    }
    if (status && !strcmp(status, "starting")) {
        const char *started =
            json_string_value(json_object_get(json_object_get(rec, "State"), "StartedAt"));
        int64_t since = cell_engine_time_parse(p->start) - cell_engine_time_parse(started);
        if (since < ns_or(hc, "StartPeriod", 0))
            return;
    }
    json_object_set_new(health, "FailingStreak", json_integer(++streak));
    if (streak >= ns_or(hc, "Retries", DEFAULT_RETRIES))
        json_object_set_new(health, "Status", json_string("unhealthy"));
}

/* Under the lock: the result, when the record still shows the run the
 * check was made in. The checker's exit status. */
static int record_result(struct cell_engine *e, const char *id, const char *started,
                         const struct probe *p)
{
    struct cell_ctr c;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_ctr_open(e, id, true, &c, &err) < 0)
        return CHECKER_NO_RESULT;
    json_t *st = json_object_get(c.rec, "State");
    json_t *health = json_object_get(st, "Health");
    const char *now_started = json_string_value(json_object_get(st, "StartedAt"));
    int r = CHECKER_NO_RESULT;
    if (json_is_object(health) && !strcmp(cell_state_status_of(c.rec), "running") && now_started &&
        !strcmp(now_started, started)) {
        _cleanup_free_ char *before =
            strdup(json_string_value(json_object_get(health, "Status")) ?: "");
        apply_result(c.rec, health, p);
        const char *after = json_string_value(json_object_get(health, "Status"));
        if (cell_ctr_save(&c, &err) == 0) {
            r = !strcmp(after, "starting") ? CHECKER_STARTING : CHECKER_SETTLED;
            if (before && strcmp(before, after) != 0) {
                char action[64];
                snprintf(action, sizeof action, "health_status: %s", after);
                cell_engine_event(e, id, action, c.rec, NULL);
            }
        }
    }
    cell_ctr_close(&c);
    return r;
}

/* The checker's own process: none of the monitor's descriptors (the
 * container's stdin above all: a copy here would hold back its EOF), its
 * signals as a new process has them. */
static void checker_setup(struct cell_engine *e, pid_t monitor)
{
    prctl(PR_SET_NAME, "cell-health");
    /* A check outliving its monitor would have no one to tell. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != monitor)
        _exit(CHECKER_NO_RESULT);
    int keep[] = {e->rootfd, e->containersfd, e->namesfd};
    cell_close_fds_from(3, keep, ARRAY_SIZE(keep));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
}

static bool runtime_running(struct cell_engine *e, const char *id)
{
    json_t *st = cell_runtime_state(e->runtime_root, id, NULL);
    const char *s = json_string_value(json_object_get(st, "status"));
    bool running = s && !strcmp(s, "running");
    json_decref(st);
    return running;
}

__attribute__((noreturn)) static void
checker_main(const struct cell_health *h, struct cell_engine *e, const char *id, pid_t monitor)
{
    checker_setup(e, monitor);
    struct cell_ctr c;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_ctr_open(e, id, false, &c, &err) < 0)
        _exit(CHECKER_NO_RESULT);
    /* Docker does not check a paused container. */
    const char *started =
        json_string_value(json_object_get(json_object_get(c.rec, "State"), "StartedAt"));
    _cleanup_free_ char *run = strdup(started ? started : "");
    _cleanup_free_ char **argv = probe_args(c.rec);
    if (strcmp(cell_state_status_of(c.rec), "running") != 0 || !has_check(c.rec) || !argv || !run)
        _exit(CHECKER_NO_RESULT);
    struct probe *p = calloc(1, sizeof *p);
    if (!p)
        _exit(CHECKER_NO_RESULT);
    p->timeout = h->timeout;
    run_probe(e, id, argv, p);
    if (p->exit_code == -1 && !p->timed_out && !runtime_running(e, id))
        _exit(CHECKER_NO_RESULT); /* the container ended under the check */
    _exit(record_result(e, id, run, p));
}

static pid_t fork_checker(struct cell_health *h, struct cell_engine *e, const char *id)
{
    pid_t monitor = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        checker_main(h, e, id, monitor);
    return pid;
}

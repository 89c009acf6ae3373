/* From an image's config and `run`'s flags to two things: the record's
 * Config and HostConfig (Docker's inspect shape) and the OCI config.json
 * the runtime library runs. Each flag is checked here, with one line
 * naming the flag and the value when it is wrong. */
#include "engine/spec.h"

#include "engine/defaults.h"
#include "engine/flags.h"
#include "engine/health.h"

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/strv.h"
#include "base/units.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int bad_flag(cell_err_t *err, const char *value, const char *flag, const char *why)
{
    return cell_error(err, 0, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, why);
}

/* ---- values ----------------------------------------------------------------------- */

static int parse_int(const char *flag, const char *s, long long min, long long max, long long *out,
                     cell_err_t *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return bad_flag(err, s, flag, "strconv.ParseInt: parsing: invalid syntax");
    if (v < min || v > max)
        return bad_flag(err, s, flag, "value out of range");
    *out = v;
    return 0;
}

static int parse_bytes(const char *flag, const char *s, int64_t *out, cell_err_t *err)
{
    return cell_flags_size(flag, s, out, err);
}

/* ---- the command ------------------------------------------------------------------ */

static json_t *strv_json(char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

/* Entrypoint and Cmd as Docker combines them: --entrypoint replaces the
 * image's and drops its Cmd; words after the image replace Cmd. */
static int command_of(const struct cell_run_opts *o, const json_t *icfg, json_t *cfg,
                      cell_err_t *err)
{
    json_t *ep = json_object_get(icfg, "Entrypoint");
    json_t *cmd = json_object_get(icfg, "Cmd");
    json_t *entry = NULL, *args = NULL;
    if (o->entrypoint)
        entry = *o->entrypoint ? json_pack("[s]", o->entrypoint) : json_array();
    else
        entry = json_is_array(ep) ? json_deep_copy(ep) : json_array();
    if (o->cmd && *o->cmd)
        args = strv_json(o->cmd);
    else if (!o->entrypoint && json_is_array(cmd))
        args = json_deep_copy(cmd);
    else
        args = json_array();
    json_object_set_new(cfg, "Entrypoint", json_array_size(entry) ? entry : json_null());
    if (!json_array_size(entry))
        json_decref(entry);
    json_object_set_new(cfg, "Cmd", args);
    if (!json_array_size(json_object_get(cfg, "Entrypoint")) && !json_array_size(args))
        return cell_error(err, 0, "no command specified");
    return 0;
}

static json_t *process_args(const json_t *cfg)
{
    json_t *a = json_array();
    json_t *ep = json_object_get(cfg, "Entrypoint");
    if (json_is_array(ep))
        json_array_extend(a, ep);
    json_array_extend(a, json_object_get(cfg, "Cmd"));
    return a;
}

/* ---- the environment ---------------------------------------------------------------- */

static void env_set(json_t *env, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == 0)) {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

/* --env-file files first, then -e, each over what came before (Docker). */
static int user_env(const struct cell_run_opts *o, json_t *env, cell_err_t *err)
{
    _cleanup_strv_ char **v = NULL;
    for (char **p = o->env_file; p && *p; p++)
        if (cell_flags_env_file(*p, &v, err) < 0)
            return -1;
    for (char **p = o->env; p && *p; p++)
        if (cell_flags_env(*p, &v, err) < 0)
            return -1;
    for (char **p = v; p && *p; p++)
        env_set(env, *p);
    return 0;
}

/* The record's Config.Env: the image's, then the flags'. */
static int config_env(const struct cell_run_opts *o, const json_t *icfg, json_t *cfg,
                      cell_err_t *err)
{
    json_t *env = json_array();
    json_object_set_new(cfg, "Env", env);
    json_t *ienv = json_object_get(icfg, "Env");
    size_t i;
    json_t *v;
    json_array_foreach(ienv, i, v) if (json_is_string(v)) env_set(env, json_string_value(v));
    return user_env(o, env, err);
}

/* What the process gets, as Docker builds it: PATH, HOSTNAME, TERM (with a
 * tty), then Config.Env over them. */
static json_t *process_env(const json_t *cfg)
{
    json_t *env = json_array();
    json_array_append_new(env, json_string(DEFAULT_PATH));
    _cleanup_free_ char *host = NULL;
    if (asprintf(&host, "HOSTNAME=%s", json_string_value(json_object_get(cfg, "Hostname"))) >= 0)
        json_array_append_new(env, json_string(host));
    if (json_is_true(json_object_get(cfg, "Tty")))
        json_array_append_new(env, json_string("TERM=xterm"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "Env"), i, v) env_set(env, json_string_value(v));
    return env;
}

/* ---- Config and HostConfig ------------------------------------------------------------ */

static int labels_of(const struct cell_run_opts *o, const json_t *icfg, json_t *cfg,
                     cell_err_t *err)
{
    json_t *labels = json_object();
    json_object_set_new(cfg, "Labels", labels);
    json_t *il = json_object_get(icfg, "Labels");
    if (json_is_object(il))
        json_object_update(labels, il);
    for (char **p = o->label; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        _cleanup_free_ char *key = strndup(*p, eq ? (size_t)(eq - *p) : strlen(*p));
        if (!key || !*key)
            return bad_flag(err, *p, "-l, --label", "invalid label");
        json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
    }
    return 0;
}

static int build_config(const struct cell_run_opts *o, const json_t *icfg, const char *id,
                        json_t *cfg, cell_err_t *err)
{
    char host[CELL_ENGINE_SHORT_ID_LEN + 1];
    snprintf(host, sizeof host, "%s", id);
    json_object_set_new(cfg, "Hostname", json_string(o->hostname ? o->hostname : host));
    json_object_set_new(cfg, "Domainname", json_string(o->domainname ? o->domainname : ""));
    const char *user = o->user ? o->user : json_string_value(json_object_get(icfg, "User"));
    json_object_set_new(cfg, "User", json_string(user ? user : ""));
    json_object_set_new(cfg, "Tty", json_boolean(o->tty));
    json_object_set_new(cfg, "OpenStdin", json_boolean(o->interactive));
    json_object_set_new(cfg, "StdinOnce", json_boolean(o->interactive && !o->detach));
    json_object_set_new(cfg, "AttachStdin", json_boolean(o->interactive && !o->detach));
    json_object_set_new(cfg, "AttachStdout", json_boolean(!o->detach));
    json_object_set_new(cfg, "AttachStderr", json_boolean(!o->detach));
    const char *wd =
        o->workdir ? o->workdir : json_string_value(json_object_get(icfg, "WorkingDir"));
    if (o->workdir && o->workdir[0] != '/')
        return cell_error(err, 0,
                          "the working directory '%s' is invalid, it needs to be an "
                          "absolute path",
                          o->workdir);
    json_object_set_new(cfg, "WorkingDir", json_string(wd ? wd : ""));
    json_object_set_new(cfg, "Image", json_string(o->image));
    const char *stop =
        o->stop_signal ? o->stop_signal : json_string_value(json_object_get(icfg, "StopSignal"));
    if (stop) {
        int sig;
        if (cell_flags_signal(stop, &sig, err) < 0)
            return -1;
        json_object_set_new(cfg, "StopSignal", json_string(stop));
    }
    if (o->stop_timeout) {
        long long t;
        if (parse_int("--stop-timeout", o->stop_timeout, -1, 1 << 30, &t, err) < 0)
            return -1;
        json_object_set_new(cfg, "StopTimeout", json_integer(t));
    }
    json_t *ports = json_object_get(icfg, "ExposedPorts");
    if (json_is_object(ports))
        json_object_set(cfg, "ExposedPorts", ports);
    json_t *vols = json_object_get(icfg, "Volumes");
    if (json_is_object(vols))
        json_object_set(cfg, "Volumes", vols);
    if (command_of(o, icfg, cfg, err) < 0 || config_env(o, icfg, cfg, err) < 0 ||
        cell_health_config(o, icfg, cfg, err) < 0)
        return -1;
    return labels_of(o, icfg, cfg, err);
}

/* --restart no|always|unless-stopped|on-failure[:N] */
static int restart_policy(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    _cleanup_free_ char *name = NULL;
    int max = 0;
    if (cell_flags_restart(o->restart ? o->restart : "no", &name, &max, err) < 0)
        return -1;
    if (o->rm && strcmp(name, "no") != 0)
        return cell_error(err, 0, "conflicting options: cannot specify both --restart and --rm");
    json_object_set_new(hc, "RestartPolicy",
                        json_pack("{s:s, s:i}", "Name", name, "MaximumRetryCount", max));
    return 0;
}

static int log_config(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    json_t *cfg = json_object();
    json_object_set_new(hc, "LogConfig",
                        json_pack("{s:s, s:o}", "Type", "json-file", "Config", cfg));
    for (char **p = o->log_opt; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || eq == *p)
            return cell_error(err, 0, "invalid log opt \"%s\": expected key=value", *p);
        _cleanup_free_ char *key = strndup(*p, (size_t)(eq - *p));
        json_object_set_new(cfg, key, json_string(eq + 1));
    }
    return 0;
}

/* The limits Docker keeps in HostConfig, checked as Docker checks them. */
static int limits(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    int64_t v = 0;
    if (o->memory) {
        if (parse_bytes("-m, --memory", o->memory, &v, err) < 0)
            return -1;
        json_object_set_new(hc, "Memory", json_integer(v));
    }
    if (o->memory_reservation) {
        if (parse_bytes("--memory-reservation", o->memory_reservation, &v, err) < 0)
            return -1;
        json_object_set_new(hc, "MemoryReservation", json_integer(v));
    }
    if (o->memory_swap) {
        if (!strcmp(o->memory_swap, "-1"))
            v = -1;
        else if (parse_bytes("--memory-swap", o->memory_swap, &v, err) < 0)
            return -1;
        json_object_set_new(hc, "MemorySwap", json_integer(v));
    }
    if (o->memory_swappiness) {
        long long s;
        if (parse_int("--memory-swappiness", o->memory_swappiness, -1, 100, &s, err) < 0)
            return -1;
        json_object_set_new(hc, "MemorySwappiness", json_integer(s));
    }
    if (o->cpus) {
        if (cell_flags_cpus(o->cpus, &v, err) < 0)
            return -1;
        json_object_set_new(hc, "NanoCpus", json_integer(v));
    }
    struct {
        const char *flag, *value, *field;
        long long min, max;
    } ints[] = {
        {"-c, --cpu-shares", o->cpu_shares, "CpuShares", 0, 262144},
        {"--cpu-period", o->cpu_period, "CpuPeriod", 0, 1000000},
        {"--cpu-quota", o->cpu_quota, "CpuQuota", -1, 1LL << 40},
        {"--pids-limit", o->pids_limit, "PidsLimit", -1, 1LL << 40},
        {"--blkio-weight", o->blkio_weight, "BlkioWeight", 0, 1000},
        {"--oom-score-adj", o->oom_score_adj, "OomScoreAdj", -1000, 1000},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
        long long n;
        if (!ints[i].value)
            continue;
        if (parse_int(ints[i].flag, ints[i].value, ints[i].min, ints[i].max, &n, err) < 0)
            return -1;
        json_object_set_new(hc, ints[i].field, json_integer(n));
    }
    if (o->cpus && (o->cpu_period || o->cpu_quota))
        return cell_error(err, 0,
                          "Conflicting options: Nano CPUs and CPU Period cannot both be "
                          "set");
    if (o->cpuset_cpus)
        json_object_set_new(hc, "CpusetCpus", json_string(o->cpuset_cpus));
    if (o->cpuset_mems)
        json_object_set_new(hc, "CpusetMems", json_string(o->cpuset_mems));
    json_object_set_new(hc, "OomKillDisable", json_boolean(o->oom_kill_disable));
    v = 64 * 1024 * 1024;
    if (o->shm_size && parse_bytes("--shm-size", o->shm_size, &v, err) < 0)
        return -1;
    json_object_set_new(hc, "ShmSize", json_integer(v));
    return 0;
}

/* --security-opt values are checked now (a seccomp file is read: it must be
 * there and be JSON) and applied when config.json is written. */
static int check_security_opts(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    json_t *list = json_array();
    json_object_set_new(hc, "SecurityOpt", list);
    struct cell_security_opts so = CELL_SECURITY_OPTS_INIT;
    int r = 0;
    for (char **p = o->security_opt; p && *p && r == 0; p++)
        if ((r = cell_flags_security_opt(*p, &so, err)) == 0)
            json_array_append_new(list, json_string(*p));
    cell_security_opts_clear(&so);
    if (r < 0)
        return -1;
    json_object_set_new(hc, "CapAdd", strv_json(o->cap_add));
    json_object_set_new(hc, "CapDrop", strv_json(o->cap_drop));
    char **caps = NULL;
    r = cell_defaults_apply_caps(o->cap_add, o->cap_drop, o->privileged, &caps, err);
    cell_strv_free(caps);
    return r;
}

static int build_host_config(const struct cell_run_opts *o, json_t *hc, cell_err_t *err)
{
    json_object_set_new(hc, "AutoRemove", json_boolean(o->rm));
    json_object_set_new(hc, "Privileged", json_boolean(o->privileged));
    json_object_set_new(hc, "ReadonlyRootfs", json_boolean(o->read_only));
    json_object_set_new(hc, "Init", json_boolean(o->init));
    json_object_set_new(hc, "NetworkMode", json_string(o->network ? o->network : "none"));
    json_object_set_new(hc, "CgroupParent", json_string(o->cgroup_parent ? o->cgroup_parent : ""));
    json_object_set_new(hc, "Dns", strv_json(o->dns));
    json_object_set_new(hc, "DnsSearch", strv_json(o->dns_search));
    json_object_set_new(hc, "DnsOptions", strv_json(o->dns_option));
    json_object_set_new(hc, "GroupAdd", strv_json(o->group_add));
    if (restart_policy(o, hc, err) < 0 || log_config(o, hc, err) < 0 ||
        check_security_opts(o, hc, err) < 0)
        return -1;
    return limits(o, hc, err);
}

int cell_spec_record(const struct cell_run_opts *o, const json_t *image_config, const char *id,
                     json_t *rec, cell_err_t *err)
{
    const json_t *icfg = json_object_get(image_config, "config");
    json_t *cfg = json_object(), *hc = json_object();
    json_object_set_new(rec, "Config", cfg);
    json_object_set_new(rec, "HostConfig", hc);
    if (build_config(o, icfg, id, cfg, err) < 0 || build_host_config(o, hc, err) < 0 ||
        cell_spec_namespaces(o, hc, err) < 0 || cell_spec_flags(o, rec, err) < 0)
        return -1;
    json_t *args = process_args(cfg);
    json_object_set_new(rec, "Path", json_incref(json_array_get(args, 0)));
    json_array_remove(args, 0);
    json_object_set_new(rec, "Args", args);
    return 0;
}

/* ---- config.json ------------------------------------------------------------------------- */

/* v1 memory.memsw.* or v2 memory.swap.max exist only where swap is
 * accounted; Docker sets no swap limit elsewhere (and warns). */
static bool swap_accounting(void)
{
    if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
        return true;
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
        return false;
    _cleanup_free_ char *self = NULL;
    size_t len;
    /* The root has no memory.* files: look at init's own cgroup's parent
     * level, where systemd or the caller enabled memory. */
    if (cell_read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, &len) < 0)
        return false;
    char *path = strstr(self, "0::");
    if (!path)
        return false;
    path += 3;
    path[strcspn(path, "\n")] = 0;
    char file[4096];
    snprintf(file, sizeof file, "/sys/fs/cgroup%s/memory.swap.max", path);
    return access(file, F_OK) == 0;
}

static void set_resources(const json_t *hc, json_t *linux)
{
    json_t *res = json_object_get(linux, "resources");
    json_t *mem = json_object(), *cpu = json_object(), *pids = json_object();
    json_int_t v;
    if ((v = json_integer_value(json_object_get(hc, "Memory"))) > 0)
        json_object_set_new(mem, "limit", json_integer(v));
    if ((v = json_integer_value(json_object_get(hc, "MemoryReservation"))) > 0)
        json_object_set_new(mem, "reservation", json_integer(v));
    json_t *swap = json_object_get(hc, "MemorySwap");
    json_int_t limit = json_integer_value(json_object_get(hc, "Memory"));
    if (json_is_integer(swap) && json_integer_value(swap) != 0)
        json_object_set_new(mem, "swap", json_integer(json_integer_value(swap)));
    else if (limit > 0 && swap_accounting())
        /* Docker's default: as much swap as memory (memory+swap = twice
         * the limit), where the kernel accounts swap. */
        json_object_set_new(mem, "swap", json_integer(2 * limit));
    json_t *swp = json_object_get(hc, "MemorySwappiness");
    if (json_is_integer(swp) && json_integer_value(swp) >= 0)
        json_object_set_new(mem, "swappiness", json_integer(json_integer_value(swp)));
    if (json_is_true(json_object_get(hc, "OomKillDisable")))
        json_object_set_new(mem, "disableOOMKiller", json_true());
    json_int_t nano = json_integer_value(json_object_get(hc, "NanoCpus"));
    if (nano > 0) {
        /* Docker's: a 100 ms period and the quota that share of it. */
        json_object_set_new(cpu, "period", json_integer(100000));
        json_object_set_new(cpu, "quota", json_integer(nano * 100000 / 1000000000));
    }
    if ((v = json_integer_value(json_object_get(hc, "CpuPeriod"))) > 0)
        json_object_set_new(cpu, "period", json_integer(v));
    if ((v = json_integer_value(json_object_get(hc, "CpuQuota"))) != 0)
        json_object_set_new(cpu, "quota", json_integer(v));
    if ((v = json_integer_value(json_object_get(hc, "CpuShares"))) > 0)
        json_object_set_new(cpu, "shares", json_integer(v));
    const char *s;
    if ((s = json_string_value(json_object_get(hc, "CpusetCpus"))))
        json_object_set_new(cpu, "cpus", json_string(s));
    if ((s = json_string_value(json_object_get(hc, "CpusetMems"))))
        json_object_set_new(cpu, "mems", json_string(s));
    if ((v = json_integer_value(json_object_get(hc, "PidsLimit"))) != 0)
        json_object_set_new(pids, "limit", json_integer(v));
    if ((v = json_integer_value(json_object_get(hc, "BlkioWeight"))) > 0)
        json_object_set_new(res, "blockIO", json_pack("{s:I}", "weight", (json_int_t)v));
    json_object_size(mem) ? json_object_set_new(res, "memory", mem) : json_decref(mem);
    json_object_size(cpu) ? json_object_set_new(res, "cpu", cpu) : json_decref(cpu);
    json_object_size(pids) ? json_object_set_new(res, "pids", pids) : json_decref(pids);
}

static json_t *bind_mount(const char *dst, const char *src, bool ro)
{
    return json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination", dst, "type", "bind", "source",
                     src, "options", "rbind", "rprivate", "nosuid", ro ? "ro" : "rw");
}

/* /etc/hostname, /etc/hosts, /etc/resolv.conf from the container's
 * directory, read-write as Docker binds them. */
static void add_etc_mounts(json_t *mounts, const char *dir)
{
    static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *src = NULL, *dst = NULL;
        if (asprintf(&src, "%s/%s", dir, files[i]) < 0 || asprintf(&dst, "/etc/%s", files[i]) < 0)
            continue;
        json_array_append_new(mounts, bind_mount(dst, src, false));
    }
}

static void set_shm_size(json_t *mounts, json_int_t size)
{
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "destination")), "/dev/shm") != 0)
            continue;
        char opt[64];
        snprintf(opt, sizeof opt, "size=%lldk", (long long)(size / 1024));
        json_object_set_new(
            m, "options", json_pack("[s,s,s,s,s]", "nosuid", "noexec", "nodev", "mode=1777", opt));
    }
}

static char **strv_of(const json_t *a)
{
    char **v = calloc(json_array_size(a) + 1, sizeof *v);
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) if (v) v[i] = strdup(json_string_value(x));
    return v;
}

static void set_caps(json_t *proc, char *const *caps)
{
    json_t *c = json_object();
    static const char *const sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        json_object_set_new(c, sets[i], strv_json(caps));
    json_object_set_new(proc, "capabilities", c);
}

/* Everything a privileged container may touch: every device (rules and
 * nodes come from the runtime's defaults plus an allow-all rule), sysfs and
 * cgroupfs writable, no masked or read-only paths, no seccomp. */
static void set_privileged(json_t *spec)
{
    json_t *linux = json_object_get(spec, "linux");
    json_object_set_new(json_object_get(linux, "resources"), "devices",
                        json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
    json_object_del(linux, "maskedPaths");
    json_object_del(linux, "readonlyPaths");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        const char *type = json_string_value(json_object_get(m, "type"));
        if (!strcmp(type, "sysfs") || !strcmp(type, "cgroup"))
            json_object_set_new(m, "options",
                                json_pack("[s,s,s,s]", "nosuid", "noexec", "nodev", "rw"));
    }
}

/* Capabilities, seccomp, no_new_privs, AppArmor, masked paths: Docker's
 * defaults changed by --cap-add/--cap-drop/--privileged/--security-opt. */
static int set_security(json_t *spec, const json_t *hc, cell_err_t *err)
{
    json_t *proc = json_object_get(spec, "process"), *linux = json_object_get(spec, "linux");
    bool privileged = json_is_true(json_object_get(hc, "Privileged"));
    _cleanup_strv_ char **add = strv_of(json_object_get(hc, "CapAdd"));
    _cleanup_strv_ char **drop = strv_of(json_object_get(hc, "CapDrop"));
    _cleanup_strv_ char **caps = NULL;
    if (cell_defaults_apply_caps(add, drop, privileged, &caps, err) < 0)
        return -1;
    set_caps(proc, caps);
    json_object_set_new(linux, "maskedPaths", cell_defaults_masked_paths());
    json_object_set_new(linux, "readonlyPaths", cell_defaults_readonly_paths());
    struct cell_security_opts so = CELL_SECURITY_OPTS_INIT;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(hc, "SecurityOpt"), i, x)
    {
        if (cell_flags_security_opt(json_string_value(x), &so, err) < 0) {
            cell_security_opts_clear(&so);
            return -1;
        }
    }
    if (so.no_new_privileges >= 0)
        json_object_set_new(proc, "noNewPrivileges", json_boolean(so.no_new_privileges));
    if (so.apparmor && strcmp(so.apparmor, "unconfined") != 0)
        json_object_set_new(proc, "apparmorProfile", json_string(so.apparmor));
    if (so.systempaths_unconfined) {
        json_object_del(linux, "maskedPaths");
        json_object_del(linux, "readonlyPaths");
    }
    json_t *filter = NULL;
    if (privileged || so.seccomp == CELL_SECCOMP_UNCONFINED)
        filter = NULL;
    else if (so.seccomp == CELL_SECCOMP_PROFILE)
        filter = cell_defaults_seccomp_from_docker(so.seccomp_profile, caps, so.seccomp_path, err);
    else
        filter = cell_defaults_seccomp(caps);
    bool failed = so.seccomp == CELL_SECCOMP_PROFILE && !filter;
    cell_security_opts_clear(&so);
    if (failed)
        return -1;
    if (filter && !json_is_null(filter))
        json_object_set_new(linux, "seccomp", filter);
    else
        json_decref(filter);
    if (privileged)
        set_privileged(spec);
    return 0;
}

/* --init: Debian's static tini bind-mounted as /sbin/docker-init and run as
 * PID 1 in front of the command, as Docker does with its docker-init. */
static int set_init(json_t *spec, cell_err_t *err)
{
    static const char *const paths[] = {"/usr/bin/tini-static", "/usr/libexec/docker/docker-init",
                                        "/usr/bin/docker-init"};
    const char *found = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(paths) && !found; i++)
        if (access(paths[i], X_OK) == 0)
            found = paths[i];
    if (!found)
        return cell_error(err, 0,
                          "--init: no static init found (/usr/bin/tini-static: apt-get "
                          "install tini)");
    json_array_append_new(json_object_get(spec, "mounts"),
                          json_pack("{s:s, s:s, s:s, s:[s,s]}", "destination", "/sbin/docker-init",
                                    "type", "bind", "source", found, "options", "bind", "ro"));
    json_t *args = json_object_get(json_object_get(spec, "process"), "args");
    json_array_insert_new(args, 0, json_string("--"));
    json_array_insert_new(args, 0, json_string("/sbin/docker-init"));
    return 0;
}

int cell_spec_build(struct cell_engine *e, const json_t *rec, const char *rootfs, const char *dir,
                    json_t **out, cell_err_t *err)
{
    json_t *spec = cell_runtime_default_spec(false);
    if (!spec)
        return cell_error(err, ENOMEM, "config.json");
    const json_t *cfg = json_object_get(rec, "Config"), *hc = json_object_get(rec, "HostConfig");
    json_t *proc = json_object_get(spec, "process");
    json_object_set_new(proc, "terminal", json_boolean(json_is_true(json_object_get(cfg, "Tty"))));
    json_object_set_new(proc, "args", process_args(cfg));
    json_object_set_new(proc, "env", process_env(cfg));
    const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
    json_object_set_new(proc, "cwd", json_string(wd && *wd ? wd : "/"));
    json_object_del(proc, "rlimits");
    json_object_set_new(proc, "noNewPrivileges", json_false());
    json_t *oom = json_object_get(hc, "OomScoreAdj");
    if (json_is_integer(oom))
        json_object_set(proc, "oomScoreAdj", oom);
    json_object_set_new(spec, "root",
                        json_pack("{s:s, s:b}", "path", rootfs, "readonly",
                                  json_is_true(json_object_get(hc, "ReadonlyRootfs"))));
    json_object_set(spec, "hostname", json_object_get(cfg, "Hostname"));
    const char *dom = json_string_value(json_object_get(cfg, "Domainname"));
    if (dom && *dom)
        json_object_set_new(spec, "domainname", json_string(dom));
    json_t *mounts = json_object_get(spec, "mounts");
    set_shm_size(mounts, json_integer_value(json_object_get(hc, "ShmSize")));
    add_etc_mounts(mounts, dir);
    json_t *linux = json_object_get(spec, "linux");
    set_resources(hc, linux);
    /* Docker's --cgroup-parent: the container's cgroup under it, else
     * under /cell. */
    const char *parent = json_string_value(json_object_get(hc, "CgroupParent"));
    _cleanup_free_ char *cg = NULL;
    if (asprintf(&cg, "%s%s/%s", parent && *parent && *parent != '/' ? "/" : "",
                 parent && *parent ? parent : "/cell",
                 json_string_value(json_object_get(rec, "Id"))) < 0) {
        json_decref(spec);
        return cell_error(err, ENOMEM, "config.json");
    }
    json_object_set_new(linux, "cgroupsPath", json_string(cg));
    cell_spec_apply_flags(rec, spec);
    if (set_security(spec, hc, err) < 0 || cell_spec_apply_namespaces(e, rec, spec, err) < 0 ||
        cell_spec_apply_user(rec, rootfs, spec, err) < 0 ||
        (json_is_true(json_object_get(hc, "Init")) && set_init(spec, err) < 0)) {
        json_decref(spec);
        return -1;
    }
    *out = spec;
    return 0;
}

int cell_spec_write(struct cell_engine *e, const json_t *rec, int dirfd, cell_err_t *err)
{
    const char *id = json_string_value(json_object_get(rec, "Id"));
    const char *rootfs = json_string_value(
        json_object_get(json_object_get(json_object_get(rec, "GraphDriver"), "Data"), "MergedDir"));
    _cleanup_free_ char *dir = NULL;
    if (!rootfs)
        return cell_error(err, 0, "container %s has no root filesystem", id);
    if (asprintf(&dir, "%s/containers/%s", e->root, id) < 0)
        return cell_error(err, ENOMEM, "config.json");
    json_t *spec = NULL;
    if (cell_spec_build(e, rec, rootfs, dir, &spec, err) < 0)
        return -1;
    _cleanup_free_ char *text = cell_flags_json_dumps(spec, JSON_INDENT(2));
    json_decref(spec);
    if (!text)
        return cell_error(err, ENOMEM, "config.json");
    int r = cell_write_file_atomic_at(dirfd, "config.json", text, strlen(text), 0644);
    return r < 0 ? cell_error(err, -r, "write config.json") : 0;
}

int cell_spec_update(const struct cell_run_opts *o, json_t *hc, json_t **resources, cell_err_t *err)
{
    /* Only what was given changes: limits() sets the fields of the flags
     * that are there, on a copy that is merged back when all are valid. */
    json_t *changed = json_object();
    json_t *shm = json_object_get(hc, "ShmSize");
    if (limits(o, changed, err) < 0 || (o->restart && restart_policy(o, changed, err) < 0)) {
        json_decref(changed);
        return -1;
    }
    if (!o->oom_kill_disable)
        json_object_del(changed, "OomKillDisable");
    json_object_set(changed, "ShmSize", shm);
    json_t *linux = json_pack("{s:{}}", "resources");
    set_resources(changed, linux);
    *resources = json_incref(json_object_get(linux, "resources"));
    json_decref(linux);
    json_object_update(hc, changed);
    json_decref(changed);
    return 0;
}

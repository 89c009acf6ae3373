/* Usage counters of a container's cgroup, in the shape of runc's `events
 * --stats` data (runc types/events.go): cpu, memory, pids, blkio, hugetlb.
 * Times are nanoseconds, sizes bytes. A limit of "max" is reported as
 * INT64_MAX for memory (JSON integers here are signed 64-bit) and as 0 for
 * pids, as runc does. A file the kernel lacks leaves its counters at 0. */
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages"

/* The number in dir/file; "max" -> max_value; 0 when absent. */
static int64_t read_num(const char *dir, const char *file, int64_t max_value)
{
    _cleanup_free_ char *text = NULL;
    if (!dir || cg_read(dir, file, &text) < 0)
        return 0;
    if (!strcmp(text, "max"))
        return max_value;
    unsigned long long v = strtoull(text, NULL, 10);
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* A flat-keyed file as an object of integers ("cache 123\nrss 4" ->
 * {"cache":123,"rss":4}). */
static json_t *read_keyed(const char *dir, const char *file)
{
    _cleanup_free_ char *text = NULL;
    json_t *o = json_object();
    if (!dir || cg_read(dir, file, &text) < 0)
        return o;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        json_object_set_new(o, line, json_integer(strtoll(sp + 1, NULL, 10)));
    }
    return o;
}

static int64_t key_of(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static json_t *memory_entry(int64_t limit, int64_t usage, int64_t max, int64_t failcnt)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "limit", (json_int_t)limit, "usage", (json_int_t)usage,
                     "max", (json_int_t)max, "failcnt", (json_int_t)failcnt);
}

static json_t *blkio_entry(unsigned major, unsigned minor, const char *op, int64_t value)
{
    return json_pack("{s:i, s:i, s:s, s:I}", "major", (int)major, "minor", (int)minor, "op", op,
                     "value", (json_int_t)value);
}

void cg_hugepage_name(const char *entry, char *buf, size_t len)
{
    unsigned long kb = strtoul(entry + strlen("hugepages-"), NULL, 10);
    if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
        snprintf(buf, len, "%luGB", kb / (1024 * 1024));
    else if (kb >= 1024 && kb % 1024 == 0)
        snprintf(buf, len, "%luMB", kb / 1024);
    else
        snprintf(buf, len, "%luKB", kb);
}

typedef json_t *(*hugetlb_fn)(const char *dir, const char *size);

/* One entry per page size the kernel has. */
static json_t *hugetlb_stats(const char *dir, hugetlb_fn one)
{
    json_t *o = json_object();
    _cleanup_closedir_ DIR *d = dir ? opendir(HUGEPAGES_DIR) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, "hugepages-", 10))
            continue;
        char size[32];
        cg_hugepage_name(de->d_name, size, sizeof size);
        json_object_set_new(o, size, one(dir, size));
    }
    return o;
}

static const char *dir_with(struct cell_cgroup *cg, const char *controller, bool unified)
{
    for (size_t i = 0; i < cg->n_hiers; i++) {
        const struct cell_cgroup_hier *h = &cg->hiers[i];
        bool is_v2 = !strcmp(h->fstype, "cgroup2");
        if (unified ? is_v2 : (!is_v2 && cell_cgroup_hier_has(h, controller)))
            return h->host_dir;
    }
    return NULL;
}

/* --- v1 --- */

/* cpuacct.stat counts USER_HZ ticks. */
static int64_t ticks_to_ns(int64_t ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    return ticks * (1000000000 / (hz > 0 ? hz : 100));
}

static json_t *percpu_v1(const char *dir)
{
    _cleanup_free_ char *text = NULL;
    json_t *a = json_array();
    if (!dir || cg_read(dir, "cpuacct.usage_percpu", &text) < 0)
        return a;
    char *end;
    for (const char *p = text;; p = end) {
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(a, json_integer(v));
    }
    return a;
}

static json_t *cpu_v1(struct cell_cgroup *cg)
{
    const char *acct = dir_with(cg, "cpuacct", false), *cpu = dir_with(cg, "cpu", false);
    json_t *stat = read_keyed(acct, "cpuacct.stat"), *thr = read_keyed(cpu, "cpu.stat");
    json_t *o = json_pack("{s:{s:I, s:o, s:I, s:I}, s:{s:I, s:I, s:I}}", "usage", "total",
                          (json_int_t)read_num(acct, "cpuacct.usage", 0), "percpu", percpu_v1(acct),
                          "kernel", (json_int_t)ticks_to_ns(key_of(stat, "system")), "user",
                          (json_int_t)ticks_to_ns(key_of(stat, "user")), "throttling", "periods",
                          (json_int_t)key_of(thr, "nr_periods"), "throttledPeriods",
                          (json_int_t)key_of(thr, "nr_throttled"), "throttledTime",
                          (json_int_t)key_of(thr, "throttled_time"));
    json_decref(stat);
    json_decref(thr);
    return o;
}

static json_t *memory_entry_v1(const char *dir, const char *prefix)
{
    char f[4][64];
    const char *names[] = {"limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt"};
    for (size_t i = 0; i < 4; i++)
        snprintf(f[i], sizeof f[i], "%s%s", prefix, names[i]);
    return memory_entry(read_num(dir, f[0], INT64_MAX), read_num(dir, f[1], 0),
                        read_num(dir, f[2], 0), read_num(dir, f[3], 0));
}

static json_t *memory_v1(struct cell_cgroup *cg)
{
    const char *dir = dir_with(cg, "memory", false);
    json_t *raw = read_keyed(dir, "memory.stat");
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "cache",
                     (json_int_t)key_of(raw, "total_cache"), "usage",
                     memory_entry_v1(dir, "memory."), "swap", memory_entry_v1(dir, "memory.memsw."),
                     "kernel", memory_entry_v1(dir, "memory.kmem."), "kernelTCP",
                     memory_entry_v1(dir, "memory.kmem.tcp."), "raw", raw);
}

static json_t *pids_stats(const char *dir)
{
    return json_pack("{s:I, s:I}", "current", (json_int_t)read_num(dir, "pids.current", 0), "limit",
                     (json_int_t)read_num(dir, "pids.max", 0));
}

/* "8:0 Read 4096" lines; the "Total" lines are left out, as runc does not
 * have them either. */
static json_t *blkio_list_v1(const char *dir, const char *file)
{
    _cleanup_free_ char *text = NULL;
    json_t *a = json_array();
    if (!dir || cg_read(dir, file, &text) < 0)
        return a;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned major, minor;
        char op[16];
        long long v;
        if (sscanf(line, "%u:%u %15s %lld", &major, &minor, op, &v) == 4)
            json_array_append_new(a, blkio_entry(major, minor, op, v));
    }
    return a;
}

static json_t *blkio_v1(struct cell_cgroup *cg)
{
    const char *dir = dir_with(cg, "blkio", false);
    return json_pack("{s:o, s:o}", "ioServiceBytesRecursive",
                     blkio_list_v1(dir, "blkio.throttle.io_service_bytes_recursive"),
                     "ioServicedRecursive",
                     blkio_list_v1(dir, "blkio.throttle.io_serviced_recursive"));
}

static json_t *hugetlb_one_v1(const char *dir, const char *size)
{
    char usage[64], max[64], fail[64];
    snprintf(usage, sizeof usage, "hugetlb.%s.usage_in_bytes", size);
    snprintf(max, sizeof max, "hugetlb.%s.max_usage_in_bytes", size);
    snprintf(fail, sizeof fail, "hugetlb.%s.failcnt", size);
    return json_pack("{s:I, s:I, s:I}", "usage", (json_int_t)read_num(dir, usage, 0), "max",
                     (json_int_t)read_num(dir, max, 0), "failcnt",
                     (json_int_t)read_num(dir, fail, 0));
}

json_t *cg_v1_stats(struct cell_cgroup *cg, cell_err_t *err)
{
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "cpu", cpu_v1(cg), "memory", memory_v1(cg),
                          "pids", pids_stats(dir_with(cg, "pids", false)), "blkio", blkio_v1(cg),
                          "hugetlb", hugetlb_stats(dir_with(cg, "hugetlb", false), hugetlb_one_v1));
    if (!o)
        cell_error(err, ENOMEM, "cgroup stats");
    return o;
}

/* --- v2 --- */

static json_t *cpu_v2(const char *dir)
{
    json_t *s = read_keyed(dir, "cpu.stat");
    json_t *o = json_pack("{s:{s:I, s:[], s:I, s:I}, s:{s:I, s:I, s:I}}", "usage", "total",
                          (json_int_t)key_of(s, "usage_usec") * 1000, "percpu", "kernel",
                          (json_int_t)key_of(s, "system_usec") * 1000, "user",
                          (json_int_t)key_of(s, "user_usec") * 1000, "throttling", "periods",
                          (json_int_t)key_of(s, "nr_periods"), "throttledPeriods",
                          (json_int_t)key_of(s, "nr_throttled"), "throttledTime",
                          (json_int_t)key_of(s, "throttled_usec") * 1000);
    json_decref(s);
    return o;
}

/* failcnt: how often usage hit the limit ("max" in memory.events). */
static json_t *memory_v2(const char *dir)
{
    json_t *raw = read_keyed(dir, "memory.stat"), *ev = read_keyed(dir, "memory.events");
    json_t *swev = read_keyed(dir, "memory.swap.events");
    json_t *o = json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o}", "cache", (json_int_t)key_of(raw, "file"), "usage",
        memory_entry(read_num(dir, "memory.max", INT64_MAX), read_num(dir, "memory.current", 0),
                     read_num(dir, "memory.peak", 0), key_of(ev, "max")),
        "swap",
        memory_entry(read_num(dir, "memory.swap.max", INT64_MAX),
                     read_num(dir, "memory.swap.current", 0), read_num(dir, "memory.swap.peak", 0),
                     key_of(swev, "max")),
        "kernel", memory_entry(0, key_of(raw, "kernel"), 0, 0), "kernelTCP",
        memory_entry(0, key_of(raw, "sock"), 0, 0), "raw", raw);
    json_decref(ev);
    json_decref(swev);
    return o;
}

static void io_line_v2(json_t *bytes, json_t *ios, char *line)
{
    unsigned major, minor;
    int n = 0;
    if (sscanf(line, "%u:%u %n", &major, &minor, &n) != 2 || n == 0)
        return;
    json_t *kv = json_object();
    char *save = NULL;
    for (char *tok = strtok_r(line + n, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            json_object_set_new(kv, tok, json_integer(strtoll(eq + 1, NULL, 10)));
        }
    }
    json_array_append_new(bytes, blkio_entry(major, minor, "Read", key_of(kv, "rbytes")));
    json_array_append_new(bytes, blkio_entry(major, minor, "Write", key_of(kv, "wbytes")));
    json_array_append_new(ios, blkio_entry(major, minor, "Read", key_of(kv, "rios")));
    json_array_append_new(ios, blkio_entry(major, minor, "Write", key_of(kv, "wios")));
    json_decref(kv);
}

static json_t *blkio_v2(const char *dir)
{
    _cleanup_free_ char *text = NULL;
    json_t *bytes = json_array(), *ios = json_array();
    char *save = NULL;
    if (dir && cg_read(dir, "io.stat", &text) == 0)
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            io_line_v2(bytes, ios, l);
    return json_pack("{s:o, s:o}", "ioServiceBytesRecursive", bytes, "ioServicedRecursive", ios);
}

static json_t *hugetlb_one_v2(const char *dir, const char *size)
{
    char cur[64], max[64], events[64];
    snprintf(cur, sizeof cur, "hugetlb.%s.current", size);
    snprintf(max, sizeof max, "hugetlb.%s.max", size);
    snprintf(events, sizeof events, "hugetlb.%s.events", size);
    json_t *ev = read_keyed(dir, events);
    json_t *o = json_pack("{s:I, s:I, s:I}", "usage", (json_int_t)read_num(dir, cur, 0), "max",
                          (json_int_t)read_num(dir, max, INT64_MAX), "failcnt",
                          (json_int_t)key_of(ev, "max"));
    json_decref(ev);
    return o;
}

json_t *cg_v2_stats(struct cell_cgroup *cg, cell_err_t *err)
{
    const char *dir = cg->n_hiers ? cg->hiers[0].host_dir : NULL;
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "cpu", cpu_v2(dir), "memory", memory_v2(dir),
                          "pids", pids_stats(dir), "blkio", blkio_v2(dir), "hugetlb",
                          hugetlb_stats(dir, hugetlb_one_v2));
    if (!o)
        cell_error(err, ENOMEM, "cgroup stats");
    return o;
}

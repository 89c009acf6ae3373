/* The cgroup drivers over a temporary tree that mimics /sys/fs/cgroup with
 * plain files: what is written where, the value conversions, path
 * resolution, the state record, and the errors for what a host cannot do.
 * The kernel's own behaviour (EBUSY, EINVAL ordering, joining) is for the
 * integration tests on real cgroups.
 *
 * A file that exists in the tree is a knob the "kernel" has; a missing one
 * is a knob it lacks. Every successful write is recorded (path relative to
 * the tree, value) by cell_cgroup_write_hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/cgroup/cgroup.h"
#include "runtime/cgroup/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[64];
static char writes[128][320];
static size_t n_writes;

static void record(const char *path, const char *value)
{
    size_t tl = strlen(top);
    if (n_writes < ARRAY_SIZE(writes))
        snprintf(writes[n_writes++], sizeof writes[0], "%s=%s",
                 strncmp(path, top, tl) ? path : path + tl + 1, value);
}

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

static void mkdir_in(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", top, rel);
    mkdirs(path);
}

/* Makes top/rel with content (parents included). */
static void put(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", top, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static bool exists(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", top, rel);
    return access(path, F_OK) == 0;
}

static char *slurp(const char *rel)
{
    char path[512], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", top, rel);
    assert_int_equal(cell_read_file_at(AT_FDCWD, path, &text, NULL), 0);
    return text;
}

static void assert_writes(const char *const *expected)
{
    size_t n = 0;
    while (expected[n])
        n++;
    for (size_t i = 0; i < n && i < n_writes; i++)
        if (strcmp(writes[i], expected[i]))
            fail_msg("write %zu: got \"%s\", expected \"%s\"", i, writes[i], expected[i]);
    if (n != n_writes)
        fail_msg("%zu writes, expected %zu (first extra: \"%s\")", n_writes, n,
                 n_writes > n ? writes[n] : expected[n_writes]);
}

static int setup(void **state)
{
    (void)state;
    snprintf(top, sizeof top, "/tmp/cgtest-XXXXXX");
    assert_non_null(mkdtemp(top));
    cell_cgroup_mountpoint = top;
    cell_cgroup_write_hook = record;
    n_writes = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cell_cgroup_write_hook = NULL;
    cell_cgroup_mountpoint = "/sys/fs/cgroup";
    return cell_rm_rf_at(AT_FDCWD, top);
}

static void clear_resources(struct cell_resources *r)
{
    memset(r, 0, sizeof *r);
    int64_t *ints[] = {&r->memory.limit,
                       &r->memory.reservation,
                       &r->memory.swap,
                       &r->memory.kernel,
                       &r->memory.kernel_tcp,
                       &r->memory.swappiness,
                       &r->cpu.shares,
                       &r->cpu.quota,
                       &r->cpu.burst,
                       &r->cpu.period,
                       &r->cpu.realtime_runtime,
                       &r->cpu.realtime_period,
                       &r->cpu.idle,
                       &r->pids.limit,
                       &r->block_io.weight,
                       &r->block_io.leaf_weight,
                       &r->network.class_id};
    for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
        *ints[i] = CELL_UNSET;
    r->memory.disable_oom_killer = r->memory.use_hierarchy = r->memory.check_before_update = -1;
}

/* A hybrid host: the usual controllers, name=systemd, cgroup2 at unified;
 * plus a second mount of cpuset (same device) and memory mounted elsewhere. */
static char *fake_mountinfo(void)
{
    char *text = NULL;
    assert_true(asprintf(&text,
                         "25 1 0:22 / /proc rw - proc proc rw\n"
                         "31 23 0:28 / %1$s rw - tmpfs tmpfs rw,mode=755\n"
                         "32 31 0:29 / %1$s/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup "
                         "rw,cpu,cpuacct\n"
                         "33 31 0:30 / %1$s/cpuset rw - cgroup cgroup rw,cpuset,clone_children\n"
                         "34 31 0:31 / %1$s/memory rw - cgroup cgroup rw,memory\n"
                         "35 31 0:32 / %1$s/devices rw - cgroup cgroup rw,devices\n"
                         "36 31 0:33 / %1$s/freezer rw - cgroup cgroup rw,freezer\n"
                         "37 31 0:34 / %1$s/blkio rw - cgroup cgroup rw,blkio\n"
                         "38 31 0:35 / %1$s/pids rw - cgroup cgroup rw,pids\n"
                         "39 31 0:36 / %1$s/hugetlb rw - cgroup cgroup rw,hugetlb\n"
                         "40 31 0:37 / %1$s/net_cls,net_prio rw - cgroup cgroup "
                         "rw,net_cls,net_prio\n"
                         "41 31 0:38 / %1$s/systemd rw - cgroup cgroup "
                         "rw,xattr,release_agent=/x,name=systemd\n"
                         "42 31 0:39 / %1$s/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
                         "43 31 0:30 / %1$s/cpuset2 rw - cgroup cgroup rw,cpuset\n"
                         "44 25 0:31 / /elsewhere/memory rw - cgroup cgroup rw,memory\n",
                         top) > 0);
    return text;
}

static struct cell_cgroup *build(enum cell_cgroup_layout layout, const char *cgroups_path,
                                 const char *id)
{
    _cleanup_free_ char *mountinfo = fake_mountinfo();
    struct cell_cgroup *cg = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_cgroup_build(layout, mountinfo, cgroups_path, id, &cg, &err) < 0)
        fail_msg("build: %s", cell_error_text(&err));
    return cg;
}

/* --- conversions --- */

static void test_shares_to_weight(void **state)
{
    (void)state;
    assert_int_equal(cell_cgroup_shares_to_weight(2), 1);
    assert_int_equal(cell_cgroup_shares_to_weight(512), 20);
    assert_int_equal(cell_cgroup_shares_to_weight(1024), 39);
    assert_int_equal(cell_cgroup_shares_to_weight(100000), 3815);
    assert_int_equal(cell_cgroup_shares_to_weight(262144), 10000);
    /* outside v1's range: clamped as the kernel clamps cpu.shares */
    assert_int_equal(cell_cgroup_shares_to_weight(0), 1);
    assert_int_equal(cell_cgroup_shares_to_weight(1000000), 10000);
}

static void test_blkio_to_io_weight(void **state)
{
    (void)state;
    assert_int_equal(cell_cgroup_blkio_to_io_weight(10), 1);
    assert_int_equal(cell_cgroup_blkio_to_io_weight(100), 910);
    assert_int_equal(cell_cgroup_blkio_to_io_weight(500), 4950);
    assert_int_equal(cell_cgroup_blkio_to_io_weight(1000), 10000);
    assert_int_equal(cell_cgroup_blkio_to_io_weight(1), 1);
    assert_int_equal(cell_cgroup_blkio_to_io_weight(5000), 10000);
}

static void test_swap_v2(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    char buf[24];
    assert_int_equal(cell_cgroup_swap_v2(-1, 64 << 20, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "max");
    assert_int_equal(cell_cgroup_swap_v2(128 << 20, 64 << 20, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "67108864");
    assert_int_equal(cell_cgroup_swap_v2(64 << 20, 64 << 20, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "0");
    assert_true(cell_cgroup_swap_v2(32 << 20, 64 << 20, buf, sizeof buf, &err) < 0);
    assert_string_equal(cell_error_text(&err), "linux.resources.memory.swap (33554432) is below "
                                               "memory.limit (67108864): it counts memory+swap");
    assert_true(cell_cgroup_swap_v2(128 << 20, CELL_UNSET, buf, sizeof buf, &err) < 0);
    assert_true(cell_cgroup_swap_v2(128 << 20, -1, buf, sizeof buf, &err) < 0);
    assert_non_null(strstr(cell_error_text(&err), "needs a memory limit"));
}

static void test_limit_and_rule_strings(void **state)
{
    (void)state;
    char buf[64];
    cg_limit_str(-1, buf, sizeof buf);
    assert_string_equal(buf, "max");
    cg_limit_str(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    struct cell_device_rule d = {true, 'c', 1, 3, "rwm"};
    cg_device_rule_str(&d, buf, sizeof buf);
    assert_string_equal(buf, "c 1:3 rwm");
    d = (struct cell_device_rule){false, 'b', 8, -1, "r"};
    cg_device_rule_str(&d, buf, sizeof buf);
    assert_string_equal(buf, "b 8:* r");
    d = (struct cell_device_rule){false, 'a', -1, -1, "rwm"};
    cg_device_rule_str(&d, buf, sizeof buf);
    assert_string_equal(buf, "a");
    assert_true(cg_page_size_valid("2MB"));
    assert_true(cg_page_size_valid("64KB"));
    assert_true(cg_page_size_valid("1GB"));
    assert_false(cg_page_size_valid("2M"));
    assert_false(cg_page_size_valid("MB"));
    assert_false(cg_page_size_valid("2MB/../x"));
    assert_true(cg_unified_key_valid("memory.high"));
    assert_false(cg_unified_key_valid("../memory.high"));
    assert_false(cg_unified_key_valid("a/b"));
    assert_false(cg_unified_key_valid(".."));
    assert_false(cg_unified_key_valid(""));
}

/* --- paths and hierarchies --- */

static void expect_path(const char *cgroups_path, const char *id, const char *expected)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_free_ char *out = NULL;
    int r = cell_cgroup_resolve_path(cgroups_path, id, &out, &err);
    if (!expected) {
        assert_true(r < 0);
        assert_non_null(err.msg);
        return;
    }
    if (r < 0)
        fail_msg("%s: %s", cgroups_path ? cgroups_path : "(null)", cell_error_text(&err));
    assert_string_equal(out, expected);
}

static void test_resolve_path(void **state)
{
    (void)state;
    expect_path(NULL, "c1", "/cell/c1");
    expect_path("", "c1", "/cell/c1");
    expect_path("/kubepods/pod1/c1", "c1", "/kubepods/pod1/c1");
    expect_path("//a///b/", "c1", "/a/b");
    expect_path("mine/c1", "c1", "/cell/mine/c1");
    expect_path("x", "c1", "/cell/x");
    expect_path("/", "c1", NULL);
    expect_path("/a/../b", "c1", NULL);
    expect_path("../b", "c1", NULL);
    expect_path("./b", "c1", NULL);
    expect_path(NULL, "a/b", NULL);
    expect_path(NULL, "..", NULL);
}

static void test_v1_options(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"rw,cpu,cpuacct", "cpu,cpuacct"},
        {"rw,xattr,release_agent=/usr/lib/x,name=systemd", "name=systemd"},
        {"rw,noprefix,cpuset,clone_children", "cpuset"},
        {"ro,memory", "memory"},
        {"rw,net_cls,net_prio", "net_cls,net_prio"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *out = cell_cgroup_v1_options(cases[i][0]);
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_build_hybrid(void **state)
{
    (void)state;
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_HYBRID, NULL, "c1");
    const char *names[] = {"cpu,cpuacct", "cpuset", "memory",  "devices",         "freezer",
                           "blkio",       "pids",   "hugetlb", "net_cls,net_prio"};
    assert_string_equal(cg->path, "/cell/c1");
    assert_ptr_equal(cg->ops, &cell_cgroup_v1_ops);
    assert_int_equal(cg->n_hiers, ARRAY_SIZE(names));
    for (size_t i = 0; i < cg->n_hiers; i++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s/cell/c1", top, names[i]);
        assert_string_equal(cg->hiers[i].name, names[i]);
        assert_string_equal(cg->hiers[i].options, names[i]);
        assert_string_equal(cg->hiers[i].fstype, "cgroup");
        assert_string_equal(cg->hiers[i].host_dir, dir);
    }
    assert_true(cell_cgroup_hier_has(&cg->hiers[0], "cpuacct"));
    assert_false(cell_cgroup_hier_has(&cg->hiers[0], "cpuset"));
}

static void test_build_v2(void **state)
{
    (void)state;
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, "/a/b", "c1");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b", top);
    assert_ptr_equal(cg->ops, &cell_cgroup_v2_ops);
    assert_int_equal(cg->n_hiers, 1);
    assert_string_equal(cg->hiers[0].name, "");
    assert_string_equal(cg->hiers[0].fstype, "cgroup2");
    assert_null(cg->hiers[0].options);
    assert_string_equal(cg->hiers[0].host_dir, dir);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_HYBRID, "/x/y", "c1");
    cg->hiers[2].keep = 1;
    json_t *j = cell_cgroup_to_json(cg);
    assert_string_equal(json_string_value(json_object_get(j, "layout")), "hybrid");
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_t *back = json_loads(text, 0, NULL);
    _cleanup_cgroup_ struct cell_cgroup *cg2 = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_from_json(back, &cg2, &err), 0);
    json_decref(back);
    assert_int_equal(cg2->layout, CELL_CGROUP_HYBRID);
    assert_ptr_equal(cg2->ops, &cell_cgroup_v1_ops);
    assert_string_equal(cg2->path, "/x/y");
    assert_int_equal(cg2->n_hiers, cg->n_hiers);
    for (size_t i = 0; i < cg->n_hiers; i++) {
        assert_string_equal(cg2->hiers[i].name, cg->hiers[i].name);
        assert_string_equal(cg2->hiers[i].fstype, cg->hiers[i].fstype);
        assert_string_equal(cg2->hiers[i].options, cg->hiers[i].options);
        assert_string_equal(cg2->hiers[i].host_dir, cg->hiers[i].host_dir);
        assert_int_equal(cg2->hiers[i].keep, cg->hiers[i].keep);
    }
    json_t *bad = json_pack("{s:s, s:s, s:[]}", "layout", "v3", "path", "/x");
    assert_true(cell_cgroup_from_json(bad, &cg2, &err) < 0);
    json_decref(bad);
}

/* --- v1 --- */

/* The container's directories already in the tree, with the given knobs. */
static void put_v1_knobs(const char *id)
{
    char p[256];
#define KNOB(hier, file, content)                                                                  \
    do {                                                                                           \
        snprintf(p, sizeof p, "%s/cell/%s/%s", hier, id, file);                                    \
        put(p, content);                                                                           \
    } while (0)
    const char *memory[] = {"memory.limit_in_bytes",      "memory.memsw.limit_in_bytes",
                            "memory.soft_limit_in_bytes", "memory.swappiness",
                            "memory.oom_control",         "cgroup.procs"};
    for (size_t i = 0; i < ARRAY_SIZE(memory); i++)
        KNOB("memory", memory[i], "");
    const char *cpu[] = {"cpu.shares",       "cpu.cfs_period_us", "cpu.cfs_quota_us",
                         "cpu.cfs_burst_us", "cpu.rt_period_us",  "cpu.rt_runtime_us"};
    for (size_t i = 0; i < ARRAY_SIZE(cpu); i++)
        KNOB("cpu,cpuacct", cpu[i], "");
    KNOB("cpuset", "cpuset.cpus", "0-3");
    KNOB("cpuset", "cpuset.mems", "0");
    KNOB("pids", "pids.max", "");
    KNOB("blkio", "blkio.bfq.weight", "");
    KNOB("blkio", "blkio.bfq.weight_device", "");
    KNOB("blkio", "blkio.throttle.read_bps_device", "");
    KNOB("blkio", "blkio.throttle.write_iops_device", "");
    KNOB("devices", "devices.allow", "");
    KNOB("devices", "devices.deny", "");
    KNOB("freezer", "freezer.state", "THAWED");
    KNOB("hugetlb", "hugetlb.2MB.limit_in_bytes", "");
    KNOB("net_cls,net_prio", "net_cls.classid", "");
    KNOB("net_cls,net_prio", "net_prio.ifpriomap", "");
#undef KNOB
}

static void test_v1_writes(void **state)
{
    (void)state;
    put_v1_knobs("c1");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    struct cell_device_rule rules[] = {
        {false, 'a', -1, -1, "rwm"},
        {true, 'c', 1, 3, "rwm"},
        {true, 'c', 136, -1, "rw"},
        {true, 'a', -1, -1, "m"},
    };
    struct cell_weight_device wd = {8, 0, 300, CELL_UNSET};
    struct cell_throttle_device rbps = {8, 0, 1048576}, wiops = {8, 16, 300};
    struct cell_hugepage_limit hp = {"2MB", 4194304};
    struct cell_key_value prio = {"eth0", "5"};
    r.devices = rules;
    r.n_devices = ARRAY_SIZE(rules);
    r.memory.limit = 64 << 20;
    r.memory.swap = 128 << 20;
    r.memory.reservation = 32 << 20;
    r.memory.swappiness = 10;
    r.memory.disable_oom_killer = 1;
    r.cpu.shares = 512;
    r.cpu.quota = 50000;
    r.cpu.period = 100000;
    r.cpu.burst = 10000;
    r.cpu.realtime_period = 1000000;
    r.cpu.realtime_runtime = 950000;
    r.cpu.cpus = "0-1";
    r.pids.limit = -1;
    r.block_io.weight = 500;
    r.block_io.weight_device = &wd;
    r.block_io.n_weight_device = 1;
    r.block_io.throttle_read_bps = &rbps;
    r.block_io.n_throttle_read_bps = 1;
    r.block_io.throttle_write_iops = &wiops;
    r.block_io.n_throttle_write_iops = 1;
    r.hugepage_limits = &hp;
    r.n_hugepage_limits = 1;
    r.network.class_id = 1048577;
    r.network.priorities = &prio;
    r.network.n_priorities = 1;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_cgroup_create(cg, &r, &err) < 0)
        fail_msg("create: %s", cell_error_text(&err));
    const char *expected[] = {
        /* the list begins with deny-all, so no extra "a" */
        "devices/cell/c1/devices.deny=a",
        "devices/cell/c1/devices.allow=c 1:3 rwm",
        "devices/cell/c1/devices.allow=c 136:* rw",
        "devices/cell/c1/devices.allow=c *:* m",
        "devices/cell/c1/devices.allow=b *:* m",
        "memory/cell/c1/memory.limit_in_bytes=67108864",
        "memory/cell/c1/memory.memsw.limit_in_bytes=134217728",
        "memory/cell/c1/memory.soft_limit_in_bytes=33554432",
        "memory/cell/c1/memory.swappiness=10",
        "memory/cell/c1/memory.oom_control=1",
        "cpu,cpuacct/cell/c1/cpu.shares=512",
        "cpu,cpuacct/cell/c1/cpu.cfs_period_us=100000",
        "cpu,cpuacct/cell/c1/cpu.cfs_quota_us=50000",
        "cpu,cpuacct/cell/c1/cpu.cfs_burst_us=10000",
        "cpu,cpuacct/cell/c1/cpu.rt_period_us=1000000",
        "cpu,cpuacct/cell/c1/cpu.rt_runtime_us=950000",
        "cpuset/cell/c1/cpuset.cpus=0-1",
        "pids/cell/c1/pids.max=max",
        "blkio/cell/c1/blkio.bfq.weight=500",
        "blkio/cell/c1/blkio.bfq.weight_device=8:0 300",
        "blkio/cell/c1/blkio.throttle.read_bps_device=8:0 1048576",
        "blkio/cell/c1/blkio.throttle.write_iops_device=8:16 300",
        "hugetlb/cell/c1/hugetlb.2MB.limit_in_bytes=4194304",
        "net_cls,net_prio/cell/c1/net_cls.classid=1048577",
        "net_cls,net_prio/cell/c1/net_prio.ifpriomap=eth0 5",
        NULL,
    };
    assert_writes(expected);
    /* the directories existed: destroy must not take their parents */
    for (size_t i = 0; i < cg->n_hiers; i++)
        assert_int_equal(cg->hiers[i].keep, 0); /* /cell is ours either way */
}

static void test_v1_devices_without_deny_all_first(void **state)
{
    (void)state;
    put("devices/cell/c1/devices.allow", "");
    put("devices/cell/c1/devices.deny", "");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    struct cell_device_rule rules[] = {{true, 'c', 1, 5, "r"}, {false, 'b', -1, -1, "w"}};
    r.devices = rules;
    r.n_devices = ARRAY_SIZE(rules);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_update(cg, &r, &err), 0);
    const char *expected[] = {
        "devices/cell/c1/devices.deny=a",
        "devices/cell/c1/devices.allow=c 1:5 r",
        "devices/cell/c1/devices.deny=b *:* w",
        NULL,
    };
    assert_writes(expected);
}

static void test_v1_cpuset_filled_from_ancestors(void **state)
{
    (void)state;
    put("cpuset/cpuset.cpus", "0-3\n");
    put("cpuset/cpuset.mems", "0\n");
    put("cpuset/cell/cpuset.cpus", "\n");
    put("cpuset/cell/cpuset.mems", "\n");
    put("cpuset/cell/c1/cpuset.cpus", "");
    put("cpuset/cell/c1/cpuset.mems", "");
    for (const char *h = "memory\0devices\0freezer\0blkio\0pids\0hugetlb\0net_cls,net_prio\0cpu,"
                         "cpuacct\0";
         *h; h += strlen(h) + 1) {
        char p[128];
        snprintf(p, sizeof p, "%s/cell/c1/x", h);
        put(p, "");
    }
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_cgroup_create(cg, NULL, &err) < 0)
        fail_msg("create: %s", cell_error_text(&err));
    const char *expected[] = {
        "cpuset/cell/cpuset.cpus=0-3",
        "cpuset/cell/c1/cpuset.cpus=0-3",
        "cpuset/cell/cpuset.mems=0",
        "cpuset/cell/c1/cpuset.mems=0",
        NULL,
    };
    assert_writes(expected);
}

static void expect_error(struct cell_cgroup *cg, const struct cell_resources *r, bool create,
                         const char *message)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    int ret = create ? cell_cgroup_create(cg, r, &err) : cell_cgroup_update(cg, r, &err);
    if (ret == 0)
        fail_msg("expected \"%s\", got success", message);
    assert_string_equal(cell_error_text(&err), message);
}

static void test_v1_unsupported(void **state)
{
    (void)state;
    put_v1_knobs("c1");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.memory.kernel = 1 << 20;
    expect_error(cg, &r, false,
                 "linux.resources.memory.kernel: not supported by this kernel "
                 "(memory.kmem.limit_in_bytes missing)");
    r.memory.kernel = -1; /* no limit: what the kernel does anyway */
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_update(cg, &r, &err), 0);

    clear_resources(&r);
    r.cpu.idle = 1;
    expect_error(cg, &r, false,
                 "linux.resources.cpu.idle: not supported by this kernel (cpu.idle missing)");
    clear_resources(&r);
    r.block_io.leaf_weight = 10;
    expect_error(cg, &r, false,
                 "linux.resources.blockIO.leafWeight: not supported by this kernel "
                 "(blkio.leaf_weight missing)");
    clear_resources(&r);
    struct cell_key_value rdma = {"mlx4_0", "hca_handle=2"};
    r.rdma = &rdma;
    r.n_rdma = 1;
    expect_error(cg, &r, false, "linux.resources.rdma: the rdma controller is not mounted");
    clear_resources(&r);
    struct cell_key_value kv = {"memory.high", "1G"};
    r.unified = &kv;
    r.n_unified = 1;
    expect_error(cg, &r, true, "linux.resources.unified: needs cgroup v2 (this host has v1 only)");
    clear_resources(&r);
    struct cell_hugepage_limit hp = {"1GB", 1 << 30};
    r.hugepage_limits = &hp;
    r.n_hugepage_limits = 1;
    expect_error(cg, &r, false,
                 "linux.resources.hugepageLimits: not supported by this kernel "
                 "(hugetlb.1GB.limit_in_bytes missing)");
    hp.page_size = "1G";
    expect_error(cg, &r, false,
                 "linux.resources.hugepageLimits[0].pageSize: \"1G\" is not a size like 2MB or "
                 "1GB");
    clear_resources(&r);
    r.memory.limit = 64 << 20;
    r.memory.swap = 32 << 20;
    expect_error(cg, &r, false,
                 "linux.resources.memory.swap (33554432) is below memory.limit (67108864): it "
                 "counts memory+swap");
    clear_resources(&r);
    r.cpu.quota = 10000;
    r.cpu.burst = 20000;
    expect_error(cg, &r, false,
                 "linux.resources.cpu.burst (20000) is larger than cpu.quota (10000)");
}

/* Without swap accounting, only a swap limit that asks for nothing more
 * than the memory limit passes. */
static void test_v1_swap_without_accounting(void **state)
{
    (void)state;
    put("memory/cell/c1/memory.limit_in_bytes", "");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.memory.limit = 64 << 20;
    r.memory.swap = 64 << 20;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_update(cg, &r, &err), 0);
    r.memory.swap = -1;
    assert_int_equal(cell_cgroup_update(cg, &r, &err), 0);
    r.memory.swap = 128 << 20;
    expect_error(cg, &r, false,
                 "linux.resources.memory.swap: not supported by this kernel "
                 "(memory.memsw.limit_in_bytes missing)");
}

/* Hybrid: hugetlb only in cgroup2 and unified keys put the container into
 * the unified hierarchy too, with just the controllers it needs. */
static void test_hybrid_unified_part(void **state)
{
    (void)state;
    _cleanup_free_ char *mountinfo = NULL;
    assert_true(asprintf(&mountinfo,
                         "34 31 0:31 / %1$s/memory rw - cgroup cgroup rw,memory\n"
                         "42 31 0:39 / %1$s/unified rw - cgroup2 cgroup2 rw\n",
                         top) > 0);
    put("memory/cell/c1/memory.limit_in_bytes", "");
    put("unified/cgroup.controllers", "hugetlb misc\n");
    put("unified/cgroup.subtree_control", "");
    put("unified/cell/cgroup.controllers", "");
    put("unified/cell/cgroup.subtree_control", "");
    put("unified/cell/c1/hugetlb.2MB.max", "");
    put("unified/cell/c1/hugetlb.2MB.rsvd.max", "");
    put("unified/cell/c1/misc.max", "");
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_build(CELL_CGROUP_HYBRID, mountinfo, NULL, "c1", &cg, &err), 0);
    struct cell_resources r;
    clear_resources(&r);
    struct cell_hugepage_limit hp = {"2MB", 2097152};
    struct cell_key_value kv = {"misc.max", "res_a 1"};
    r.memory.limit = 1 << 30;
    r.hugepage_limits = &hp;
    r.n_hugepage_limits = 1;
    r.unified = &kv;
    r.n_unified = 1;
    if (cell_cgroup_create(cg, &r, &err) < 0)
        fail_msg("create: %s", cell_error_text(&err));
    const char *expected[] = {
        "unified/cgroup.subtree_control=+hugetlb +misc",
        "unified/cell/cgroup.subtree_control=+hugetlb +misc",
        "memory/cell/c1/memory.limit_in_bytes=1073741824",
        "unified/cell/c1/hugetlb.2MB.max=2097152",
        "unified/cell/c1/hugetlb.2MB.rsvd.max=2097152",
        "unified/cell/c1/misc.max=res_a 1",
        NULL,
    };
    assert_writes(expected);
    assert_int_equal(cg->n_hiers, 2);
    assert_string_equal(cg->hiers[1].name, "unified");
    assert_string_equal(cg->hiers[1].fstype, "cgroup2");
}

/* mkdir of what is missing, and destroy of what create made. */
static void test_v1_make_and_destroy(void **state)
{
    (void)state;
    mkdir_in("memory");
    mkdir_in("pids/existing");
    _cleanup_free_ char *mountinfo = NULL;
    assert_true(asprintf(&mountinfo,
                         "34 31 0:31 / %1$s/memory rw - cgroup cgroup rw,memory\n"
                         "38 31 0:35 / %1$s/pids rw - cgroup cgroup rw,pids\n",
                         top) > 0);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    assert_int_equal(cell_cgroup_build(CELL_CGROUP_V1, mountinfo, "/existing/a/b", "c1", &cg, &err),
                     0);
    assert_int_equal(cell_cgroup_create(cg, NULL, &err), 0);
    assert_true(exists("memory/existing/a/b"));
    assert_true(exists("pids/existing/a/b"));
    assert_int_equal(cg->hiers[0].keep, 0); /* memory: all of it made here */
    assert_int_equal(cg->hiers[1].keep, 1); /* pids: /existing was there */
    assert_int_equal(cell_cgroup_destroy(cg, &err), 0);
    assert_false(exists("memory/existing"));
    assert_false(exists("pids/existing/a"));
    assert_true(exists("pids/existing"));
    /* destroy again: missing is success */
    assert_int_equal(cell_cgroup_destroy(cg, &err), 0);

    /* the default parent goes with its last container */
    _cleanup_cgroup_ struct cell_cgroup *c1 = NULL, *c2 = NULL;
    assert_int_equal(cell_cgroup_build(CELL_CGROUP_V1, mountinfo, NULL, "c1", &c1, &err), 0);
    assert_int_equal(cell_cgroup_build(CELL_CGROUP_V1, mountinfo, NULL, "c2", &c2, &err), 0);
    assert_int_equal(cell_cgroup_create(c1, NULL, &err), 0);
    assert_int_equal(cell_cgroup_create(c2, NULL, &err), 0);
    assert_int_equal(cell_cgroup_destroy(c1, &err), 0);
    assert_true(exists("memory/cell/c2"));
    assert_int_equal(cell_cgroup_destroy(c2, &err), 0);
    assert_false(exists("memory/cell"));
    assert_false(exists("pids/cell"));
}

/* A failed create leaves nothing behind. */
static void test_v1_failed_create_cleans_up(void **state)
{
    (void)state;
    mkdir_in("memory");
    _cleanup_free_ char *mountinfo = NULL;
    assert_true(asprintf(&mountinfo, "34 31 0:31 / %s/memory rw - cgroup cgroup rw,memory\n", top) >
                0);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_cgroup_ struct cell_cgroup *cg = NULL;
    assert_int_equal(cell_cgroup_build(CELL_CGROUP_V1, mountinfo, NULL, "c1", &cg, &err), 0);
    struct cell_resources r;
    clear_resources(&r);
    r.memory.limit = 1 << 20; /* the new directory has no such file */
    assert_true(cell_cgroup_create(cg, &r, &err) < 0);
    assert_false(exists("memory/cell"));
}

static void test_v1_freeze_pids_oom(void **state)
{
    (void)state;
    put_v1_knobs("c1");
    put("memory/cell/c1/cgroup.procs", "12\n34\n");
    put("memory/cell/c1/sub/cgroup.procs", "56\n");
    put("memory/cell/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_freeze(cg, true, &err), 0);
    _cleanup_free_ char *frozen = slurp("freezer/cell/c1/freezer.state");
    assert_string_equal(frozen, "FROZEN");
    assert_int_equal(cell_cgroup_freeze(cg, false, &err), 0);
    _cleanup_free_ char *thawed = slurp("freezer/cell/c1/freezer.state");
    assert_string_equal(thawed, "THAWED");

    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(cell_cgroup_pids(cg, &pids, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(pids[0] + pids[1] + pids[2], 12 + 34 + 56);

    bool killed = true;
    assert_int_equal(cell_cgroup_oom_killed(cg, &killed, &err), 0);
    assert_false(killed);
    put("memory/cell/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    assert_int_equal(cell_cgroup_oom_killed(cg, &killed, &err), 0);
    assert_true(killed);
}

/* --- v2 --- */

static void put_v2_tree(void)
{
    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put("cgroup.subtree_control", "cpu memory\n");
    put("cell/cgroup.controllers", "cpu memory\n");
    put("cell/cgroup.subtree_control", "");
    const char *files[] = {"memory.max",   "memory.low",      "memory.swap.max", "memory.high",
                           "cpu.weight",   "cpu.max",         "cpu.max.burst",   "cpu.idle",
                           "cpuset.cpus",  "cpuset.mems",     "pids.max",        "io.weight",
                           "io.max",       "hugetlb.2MB.max", "rdma.max",        "cgroup.freeze",
                           "cgroup.procs", "memory.current"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char p[128];
        snprintf(p, sizeof p, "cell/c1/%s", files[i]);
        put(p, "");
    }
}

static void test_v2_writes(void **state)
{
    (void)state;
    put_v2_tree();
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    struct cell_weight_device wd = {8, 0, 100, CELL_UNSET};
    struct cell_throttle_device rbps[] = {{8, 0, 2097152}, {8, 16, 1000}};
    struct cell_throttle_device wiops = {8, 0, 120};
    struct cell_hugepage_limit hp = {"2MB", 4194304};
    struct cell_key_value rdma = {"mlx4_0", "hca_handle=2 hca_object=2000"};
    struct cell_key_value unified = {"memory.high", "50331648"};
    r.memory.limit = 64 << 20;
    r.memory.reservation = 32 << 20;
    r.memory.swap = 96 << 20;
    r.memory.kernel = -1; /* no limit: fine anywhere */
    r.memory.use_hierarchy = 1;
    r.cpu.shares = 1024;
    r.cpu.quota = 50000;
    r.cpu.period = 100000;
    r.cpu.burst = 1000;
    r.cpu.idle = 0;
    r.cpu.cpus = "0-1";
    r.cpu.mems = "0";
    r.pids.limit = 0; /* zero is a limit (config-linux.md) */
    r.block_io.weight = 500;
    r.block_io.weight_device = &wd;
    r.block_io.n_weight_device = 1;
    r.block_io.throttle_read_bps = rbps;
    r.block_io.n_throttle_read_bps = 2;
    r.block_io.throttle_write_iops = &wiops;
    r.block_io.n_throttle_write_iops = 1;
    r.hugepage_limits = &hp;
    r.n_hugepage_limits = 1;
    r.rdma = &rdma;
    r.n_rdma = 1;
    r.unified = &unified;
    r.n_unified = 1;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    if (cell_cgroup_create(cg, &r, &err) < 0)
        fail_msg("create: %s", cell_error_text(&err));
    const char *expected[] = {
        /* every available controller, from the root down */
        "cgroup.subtree_control=+cpuset +io +hugetlb +pids +rdma +misc",
        "cell/cgroup.subtree_control=+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc",
        "cell/c1/memory.max=67108864",
        "cell/c1/memory.low=33554432",
        "cell/c1/memory.swap.max=33554432",
        "cell/c1/cpu.weight=39",
        "cell/c1/cpu.max=50000 100000",
        "cell/c1/cpu.max.burst=1000",
        "cell/c1/cpu.idle=0",
        "cell/c1/cpuset.cpus=0-1",
        "cell/c1/cpuset.mems=0",
        "cell/c1/pids.max=0",
        "cell/c1/io.weight=4950",
        "cell/c1/io.weight=8:0 910",
        "cell/c1/io.max=8:0 rbps=2097152 wiops=120",
        "cell/c1/io.max=8:16 rbps=1000",
        "cell/c1/hugetlb.2MB.max=4194304",
        "cell/c1/rdma.max=mlx4_0 hca_handle=2 hca_object=2000",
        "cell/c1/memory.high=50331648",
        NULL,
    };
    assert_writes(expected);
}

/* The parent already gives the cgroup every controller: two reads, no
 * writes. */
static void test_v2_parent_ready(void **state)
{
    (void)state;
    put_v2_tree();
    put("cell/cgroup.controllers", "cpu memory pids\n");
    put("cell/cgroup.subtree_control", "cpu memory pids\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.pids.limit = 100;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_create(cg, &r, &err), 0);
    const char *expected[] = {"cell/c1/pids.max=100", NULL};
    assert_writes(expected);
}

static void test_v2_update(void **state)
{
    (void)state;
    put_v2_tree();
    put("cell/c1/memory.max", "67108864\n");
    put("cell/c1/cpu.max", "max 100000\n");
    put("cell/c1/memory.current", "50000000\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.memory.swap = 128 << 20; /* against the limit in force */
    r.cpu.period = 50000;      /* keeps the quota in force */
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_update(cg, &r, &err), 0);
    const char *expected[] = {
        "cell/c1/memory.swap.max=67108864",
        "cell/c1/cpu.max=max 50000",
        NULL,
    };
    assert_writes(expected);
    clear_resources(&r);
    r.memory.limit = 40000000;
    r.memory.check_before_update = 1;
    expect_error(cg, &r, false,
                 "linux.resources.memory.limit (40000000) is below the current usage (50000000): "
                 "Device or resource busy");
}

static void test_v2_unsupported(void **state)
{
    (void)state;
    put_v2_tree();
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.memory.kernel = 1 << 20;
    expect_error(cg, &r, true, "linux.resources.memory.kernel: not supported on cgroup v2");
    clear_resources(&r);
    r.memory.swappiness = 0;
    expect_error(cg, &r, true, "linux.resources.memory.swappiness: not supported on cgroup v2");
    clear_resources(&r);
    r.cpu.realtime_runtime = 1000;
    expect_error(cg, &r, true, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
    clear_resources(&r);
    r.network.class_id = 1;
    expect_error(cg, &r, true, "linux.resources.network.classID: not supported on cgroup v2");
    clear_resources(&r);
    r.memory.disable_oom_killer = 1;
    expect_error(cg, &r, true,
                 "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
    clear_resources(&r);
    struct cell_key_value bad = {"../../escape", "1"};
    r.unified = &bad;
    r.n_unified = 1;
    expect_error(cg, &r, true,
                 "linux.resources.unified: \"../../escape\" is not a file of the cgroup");
    struct cell_key_value missing = {"memory.oom.group", "1"};
    r.unified = &missing;
    expect_error(cg, &r, false,
                 "linux.resources.unified.memory.oom.group: not supported by this kernel "
                 "(memory.oom.group missing)");
    assert_false(exists("cell/c1/memory.oom.group"));
}

static void test_v2_controller_not_available(void **state)
{
    (void)state;
    put_v2_tree();
    put("cgroup.controllers", "cpu memory\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    struct cell_resources r;
    clear_resources(&r);
    r.pids.limit = 10;
    char message[256];
    snprintf(message, sizeof message,
             "linux.resources.pids: the pids controller is not available (not in "
             "%s/cgroup.controllers)",
             top);
    expect_error(cg, &r, true, message);
}

static void test_v2_freeze_pids_oom(void **state)
{
    (void)state;
    put_v2_tree();
    /* already in the asked state, as an empty cgroup is at once */
    put("cell/c1/cgroup.events", "populated 1\nfrozen 1\n");
    put("cell/c1/cgroup.procs", "7\n");
    put("cell/c1/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_freeze(cg, true, &err), 0);
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(cell_cgroup_pids(cg, &pids, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], 7);
    bool killed = false;
    assert_int_equal(cell_cgroup_oom_killed(cg, &killed, &err), 0);
    assert_true(killed);

    int *fds = NULL, clone_fd = -1;
    n = 7;
    assert_int_equal(cell_cgroup_open_join_fds(cg, &fds, &n, &clone_fd, &err), 0);
    assert_int_equal(n, 0);
    assert_true(clone_fd >= 0);
    close(clone_fd);
}

static void test_v1_join_fds(void **state)
{
    (void)state;
    put_v1_knobs("c1");
    for (const char *h = "cpu,cpuacct\0cpuset\0memory\0devices\0freezer\0blkio\0pids\0hugetlb\0net_"
                         "cls,net_prio\0";
         *h; h += strlen(h) + 1) {
        char p[128];
        snprintf(p, sizeof p, "%s/cell/c1/tasks", h);
        put(p, "");
    }
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_free_ int *fds = NULL;
    size_t n = 0;
    int clone_fd = 5;
    assert_int_equal(cell_cgroup_open_join_fds(cg, &fds, &n, &clone_fd, &err), 0);
    assert_int_equal(n, cg->n_hiers);
    assert_int_equal(clone_fd, -1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fcntl(fds[i], F_GETFL) & O_ACCMODE, O_WRONLY);
        assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
        close(fds[i]);
    }
}

/* --- v2 device rules: run the generated program on a small interpreter --- */

static int run_program(const struct bpf_insn *p, size_t n, int type, int access, int major,
                       int minor)
{
    uint32_t ctx[3] = {(uint32_t)(access << 16 | type), (uint32_t)major, (uint32_t)minor};
    uint64_t reg[11] = {0};
    for (size_t pc = 0; pc < n; pc++) {
        const struct bpf_insn *i = &p[pc];
        uint64_t k = (uint64_t)(int64_t)i->imm;
        switch (i->code) {
        case BPF_LDX | BPF_W | BPF_MEM:
            assert_int_equal(i->src_reg, 1);
            reg[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU64 | BPF_MOV | BPF_X:
            reg[i->dst_reg] = reg[i->src_reg];
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            reg[i->dst_reg] = k;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & k);
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
            break;
        case BPF_ALU64 | BPF_AND | BPF_K:
            reg[i->dst_reg] &= k;
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
            pc += reg[i->dst_reg] != k ? (size_t)i->off : 0;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += reg[i->dst_reg] == k ? (size_t)i->off : 0;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)reg[0];
        default:
            fail_msg("unexpected instruction 0x%x at %zu", i->code, pc);
        }
    }
    fail_msg("fell off the end of the program");
    return -1;
}

static void test_bpf_device_program(void **state)
{
    (void)state;
    struct cell_device_rule rules[] = {
        {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'c', 1, 5, "r"},
        {true, 'c', 136, -1, "rw"},  {true, 'c', 1, 9, "rwm"}, {false, 'c', 1, 9, "w"},
        {true, 'b', 8, 0, "r"},      {true, 'a', -1, -1, "m"},
    };
    _cleanup_free_ struct bpf_insn *p = NULL;
    size_t n = 0;
    assert_int_equal(cell_cgroup_bpf_program(rules, ARRAY_SIZE(rules), &p, &n), 0);
    const int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
    const int R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
    assert_int_equal(run_program(p, n, C, R | W, 1, 3), 1);   /* /dev/null */
    assert_int_equal(run_program(p, n, C, R, 1, 5), 1);       /* /dev/zero read */
    assert_int_equal(run_program(p, n, C, R | W, 1, 5), 0);   /* ... not write */
    assert_int_equal(run_program(p, n, C, R | W, 136, 7), 1); /* a pty */
    assert_int_equal(run_program(p, n, C, R, 1, 9), 1);       /* urandom read */
    assert_int_equal(run_program(p, n, C, W, 1, 9), 0);       /* write denied later */
    assert_int_equal(run_program(p, n, C, R | W, 1, 9), 0);
    assert_int_equal(run_program(p, n, B, R, 8, 0), 1);
    assert_int_equal(run_program(p, n, B, W, 8, 0), 0);
    assert_int_equal(run_program(p, n, B, M, 8, 1), 1); /* mknod anything */
    assert_int_equal(run_program(p, n, C, R, 1, 7), 0); /* /dev/full: not listed */
    assert_int_equal(run_program(p, n, C, R | M, 1, 7), 0);

    /* no rules: deny everything; allow-all alone: allow everything */
    _cleanup_free_ struct bpf_insn *none = NULL, *all = NULL;
    assert_int_equal(cell_cgroup_bpf_program(NULL, 0, &none, &n), 0);
    assert_int_equal(run_program(none, n, C, R, 1, 3), 0);
    struct cell_device_rule allow_all = {true, 'a', -1, -1, "rwm"};
    assert_int_equal(cell_cgroup_bpf_program(&allow_all, 1, &all, &n), 0);
    assert_int_equal(run_program(all, n, B, R | W | M, 259, 1), 1);
}

/* --- state queries and stats --- */

static void test_frozen_and_oom_kills(void **state)
{
    (void)state;
    put("freezer/cell/c1/freezer.state", "FREEZING\n");
    put("memory/cell/c1/memory.oom_control", "oom_kill_disable 1\nunder_oom 1\n");
    _cleanup_cgroup_ struct cell_cgroup *v1 = build(CELL_CGROUP_V1, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    bool frozen = false;
    int64_t kills = 0;
    assert_int_equal(cell_cgroup_frozen(v1, &frozen, &err), 0);
    assert_true(frozen); /* freezing counts: the container no longer runs */
    /* an old kernel without the counter, the killer disabled: waiting in OOM */
    assert_int_equal(cell_cgroup_oom_kills(v1, &kills, &err), 0);
    assert_int_equal(kills, 1);

    put("cell/c2/cgroup.freeze", "0\n");
    put("cell/c2/memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n");
    _cleanup_cgroup_ struct cell_cgroup *v2 = build(CELL_CGROUP_V2, NULL, "c2");
    assert_int_equal(cell_cgroup_frozen(v2, &frozen, &err), 0);
    assert_false(frozen);
    assert_int_equal(cell_cgroup_oom_kills(v2, &kills, &err), 0);
    assert_int_equal(kills, 3);
}

static void test_systemd_driver_is_refused_with_a_reason(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_cgroup_check_driver(false, &err), 0);
    assert_true(cell_cgroup_check_driver(true, &err) < 0);
    const char *msg = cell_error_text(&err);
    assert_non_null(strstr(msg, "--systemd-cgroup: "));
    assert_non_null(
        strstr(msg, access("/run/systemd/system", F_OK) == 0 ? "not implemented" : "not PID 1"));
}

static void test_hugepage_name(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"hugepages-2048kB", "2MB"}, {"hugepages-1048576kB", "1GB"}, {"hugepages-64kB", "64KB"}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char buf[32];
        cg_hugepage_name(cases[i][0], buf, sizeof buf);
        assert_string_equal(buf, cases[i][1]);
    }
}

static json_int_t at(json_t *o, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(o, a), b);
    return json_integer_value(c ? json_object_get(v, c) : v);
}

static void test_v2_stats(void **state)
{
    (void)state;
    put("cell/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
                            "nr_periods 10\nnr_throttled 4\nthrottled_usec 70\n");
    put("cell/c1/memory.current", "4096\n");
    put("cell/c1/memory.max", "max\n");
    put("cell/c1/memory.events", "max 2\noom_kill 1\n");
    put("cell/c1/memory.stat", "anon 100\nfile 200\n");
    put("cell/c1/pids.current", "3\n");
    put("cell/c1/pids.max", "max\n");
    put("cell/c1/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V2, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *o = cell_cgroup_stats(cg, &err);
    assert_non_null(o);
    assert_int_equal(at(o, "cpu", "usage", "total"), 1500000);
    assert_int_equal(at(o, "cpu", "usage", "kernel"), 500000);
    assert_int_equal(at(o, "cpu", "throttling", "throttledTime"), 70000);
    assert_int_equal(at(o, "memory", "usage", "usage"), 4096);
    assert_int_equal(at(o, "memory", "usage", "limit"), INT64_MAX);
    assert_int_equal(at(o, "memory", "usage", "failcnt"), 2);
    assert_int_equal(at(o, "memory", "cache", NULL), 200);
    assert_int_equal(at(o, "pids", "current", NULL), 3);
    assert_int_equal(at(o, "pids", "limit", NULL), 0); /* unlimited, as runc says */
    json_t *bytes = json_object_get(json_object_get(o, "blkio"), "ioServiceBytesRecursive");
    assert_int_equal(json_array_size(bytes), 2);
    json_t *w = json_array_get(bytes, 1);
    assert_string_equal(json_string_value(json_object_get(w, "op")), "Write");
    assert_int_equal(json_integer_value(json_object_get(w, "value")), 20);
    assert_int_equal(json_integer_value(json_object_get(w, "major")), 8);
    json_decref(o);
}

static void test_v1_stats(void **state)
{
    (void)state;
    put("cpu,cpuacct/cell/c1/cpuacct.usage", "123456\n");
    put("cpu,cpuacct/cell/c1/cpuacct.usage_percpu", "100000 23456 \n");
    put("cpu,cpuacct/cell/c1/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 99\n");
    put("memory/cell/c1/memory.usage_in_bytes", "8192\n");
    put("memory/cell/c1/memory.limit_in_bytes", "67108864\n");
    put("memory/cell/c1/memory.failcnt", "6\n");
    put("memory/cell/c1/memory.stat", "cache 1\ntotal_cache 300\n");
    put("pids/cell/c1/pids.current", "2\n");
    put("pids/cell/c1/pids.max", "20\n");
    put("blkio/cell/c1/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
    _cleanup_cgroup_ struct cell_cgroup *cg = build(CELL_CGROUP_V1, NULL, "c1");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *o = cell_cgroup_stats(cg, &err);
    assert_non_null(o);
    assert_int_equal(at(o, "cpu", "usage", "total"), 123456);
    json_t *percpu = json_object_get(json_object_get(json_object_get(o, "cpu"), "usage"), "percpu");
    assert_int_equal(json_array_size(percpu), 2);
    assert_int_equal(at(o, "cpu", "throttling", "throttledPeriods"), 1);
    assert_int_equal(at(o, "memory", "usage", "usage"), 8192);
    assert_int_equal(at(o, "memory", "usage", "limit"), 67108864);
    assert_int_equal(at(o, "memory", "usage", "failcnt"), 6);
    assert_int_equal(at(o, "memory", "cache", NULL), 300);
    assert_int_equal(at(o, "pids", "current", NULL), 2);
    assert_int_equal(at(o, "pids", "limit", NULL), 20);
    json_t *bytes = json_object_get(json_object_get(o, "blkio"), "ioServiceBytesRecursive");
    assert_int_equal(json_array_size(bytes), 2);
    json_decref(o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares_to_weight),
        cmocka_unit_test(test_blkio_to_io_weight),
        cmocka_unit_test(test_swap_v2),
        cmocka_unit_test(test_limit_and_rule_strings),
        cmocka_unit_test(test_resolve_path),
        cmocka_unit_test(test_v1_options),
        T(test_build_hybrid),
        T(test_build_v2),
        T(test_json_round_trip),
        T(test_v1_writes),
        T(test_v1_devices_without_deny_all_first),
        T(test_v1_cpuset_filled_from_ancestors),
        T(test_v1_unsupported),
        T(test_v1_swap_without_accounting),
        T(test_hybrid_unified_part),
        T(test_v1_make_and_destroy),
        T(test_v1_failed_create_cleans_up),
        T(test_v1_freeze_pids_oom),
        T(test_v1_join_fds),
        T(test_v2_writes),
        T(test_v2_parent_ready),
        T(test_v2_update),
        T(test_v2_unsupported),
        T(test_v2_controller_not_available),
        T(test_v2_freeze_pids_oom),
        T(test_frozen_and_oom_kills),
        T(test_v2_stats),
        T(test_v1_stats),
        cmocka_unit_test(test_hugepage_name),
        cmocka_unit_test(test_systemd_driver_is_refused_with_a_reason),
        cmocka_unit_test(test_bpf_device_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* config.json parser: every section, every error message, the name tables,
 * and the runtime spec's own example configs. JSON in this file is written
 * with single quotes, turned into double quotes before parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/mount.h>

#define MINIMAL               "'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define PROC                  "'process':{'args':['sh'],'cwd':'/'"

/* --- helpers --- */

static char *double_quotes(const char *s)
{
    char *out = strdup(s);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static int parse_doc(const char *doc, struct cell_spec **spec, cell_err_t *err)
{
    _cleanup_free_ char *text = double_quotes(doc);
    return cell_spec_parse(text, strlen(text), spec, err);
}

static struct cell_spec *parse_doc_ok(const char *doc)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    int r = parse_doc(doc, &spec, &err);
    if (r < 0)
        fail_msg("parse failed: %s", cell_error_text(&err));
    assert_non_null(spec);
    return spec;
}

/* Parses MINIMAL plus the given members. */
static struct cell_spec *parse_ok(const char *members)
{
    _cleanup_free_ char *doc = NULL;
    assert_true(asprintf(&doc, "{" MINIMAL "%s%s}", *members ? "," : "", members) > 0);
    return parse_doc_ok(doc);
}

static void expect_doc_error(const char *doc, const char *message)
{
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    int r = parse_doc(doc, &spec, &err);
    assert_true(r < 0);
    assert_null(spec);
    _cleanup_free_ char *want = double_quotes(message);
    assert_string_equal(cell_error_text(&err), want);
}

static void expect_error(const char *members, const char *message)
{
    _cleanup_free_ char *doc = NULL;
    assert_true(asprintf(&doc, "{" MINIMAL ",%s}", members) > 0);
    expect_doc_error(doc, message);
}

static const struct cell_mount *parse_one_mount(struct cell_spec **spec, const char *options)
{
    _cleanup_free_ char *members = NULL;
    assert_true(asprintf(&members, "'mounts':[{'destination':'/m','type':'tmpfs','options':[%s]}]",
                         options) > 0);
    *spec = parse_ok(members);
    assert_int_equal((*spec)->n_mounts, 1);
    return &(*spec)->mounts[0];
}

#define CAP(n) (UINT64_C(1) << (n))

/* --- name tables --- */

static void test_ns_names_round_trip(void **state)
{
    (void)state;
    static const char *spec_names[] = {"pid", "network", "mount",  "ipc",
                                       "uts", "user",    "cgroup", "time"};
    static const char *proc_names[] = {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"};
    static const int flags[] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
                                CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x80};
    for (int t = 0; t < CELL_NS_COUNT; t++) {
        assert_string_equal(cell_ns_name(t), spec_names[t]);
        assert_string_equal(cell_ns_proc_name(t), proc_names[t]);
        assert_int_equal(cell_ns_clone_flag(t), flags[t]);
    }
    assert_null(cell_ns_name(CELL_NS_COUNT));
}

static void test_cap_names_round_trip(void **state)
{
    (void)state;
    assert_int_equal(cell_cap_last(), 40);
    for (int cap = 0; cap <= cell_cap_last(); cap++) {
        const char *name = cell_cap_name(cap);
        assert_non_null(name);
        assert_int_equal(cell_cap_from_name(name), cap);
    }
    assert_int_equal(cell_cap_from_name("CAP_CHOWN"), 0);
    assert_int_equal(cell_cap_from_name("CAP_SYS_ADMIN"), 21);
    assert_int_equal(cell_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
    assert_int_equal(cell_cap_from_name("CAP_FOO"), -1);
    assert_null(cell_cap_name(41));
    assert_null(cell_cap_name(-1));
}

static void test_rlimit_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int resource;
    } all[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    assert_int_equal(ARRAY_SIZE(all), 16);
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        assert_int_equal(cell_rlimit_from_name(all[i].name), all[i].resource);
    assert_int_equal(cell_rlimit_from_name("RLIMIT_FOO"), -1);
}

static void test_hook_names(void **state)
{
    (void)state;
    static const char *names[] = {"prestart",       "createRuntime", "createContainer",
                                  "startContainer", "poststart",     "poststop"};
    for (int k = 0; k < CELL_HOOK_COUNT; k++)
        assert_string_equal(cell_hook_name(k), names[k]);
    assert_null(cell_hook_name(CELL_HOOK_COUNT));
}

/* --- whole documents --- */

static void test_minimal_has_defaults(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_ok("");
    assert_string_equal(spec->oci_version, "1.0.2");
    assert_string_equal(spec->root_path, "rootfs");
    assert_false(spec->root_readonly);
    assert_false(spec->has_process);
    assert_false(spec->has_linux);
    assert_non_null(spec->process.env);
    assert_null(spec->process.env[0]);
    assert_int_equal(spec->process.umask, CELL_UNSET);
    assert_int_equal(spec->process.oom_score_adj, CELL_UNSET);
    assert_int_equal(spec->n_mounts, 0);
    assert_non_null(spec->linux.masked_paths);
    assert_null(spec->linux.masked_paths[0]);
    assert_non_null(spec->linux.readonly_paths);
    assert_int_equal(spec->linux.resources.memory.limit, CELL_UNSET);
    assert_int_equal(spec->linux.resources.memory.disable_oom_killer, -1);
    assert_non_null(spec->json);
}

static const char full_config[] =
    "{'ociVersion':'1.2.0',"
    " 'root':{'path':'/var/lib/c/rootfs','readonly':true},"
    " 'hostname':'box','domainname':'example.test',"
    " 'process':{'terminal':true,'consoleSize':{'height':24,'width':80},"
    "  'user':{'uid':1000,'gid':100,'umask':18,'additionalGids':[5,6],'username':'u'},"
    "  'args':['/bin/sh','-c','true'],'env':['PATH=/bin','TERM=xterm'],'cwd':'/home',"
    "  'capabilities':{'bounding':['CAP_KILL','CAP_NET_BIND_SERVICE'],'effective':['CAP_KILL'],"
    "   'inheritable':[],'permitted':['CAP_KILL'],'ambient':['CAP_CHECKPOINT_RESTORE']},"
    "  'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096}],"
    "  'noNewPrivileges':true,'apparmorProfile':'prof','selinuxLabel':'lbl','oomScoreAdj':-500,"
    "  'scheduler':{'policy':'SCHED_OTHER'},'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':4},"
    "  'execCPUAffinity':{'initial':'0'}},"
    " 'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
    "  {'destination':'/data','source':'/srv','options':['rbind','ro'],"
    "   'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]}],"
    " 'hooks':{'prestart':[{'path':'/bin/pre','args':['pre','x'],'env':['A=1'],'timeout':5}],"
    "  'createRuntime':[{'path':'/bin/cr'}],'createContainer':[{'path':'/bin/cc'}],"
    "  'startContainer':[{'path':'/bin/sc'}],'poststart':[{'path':'/bin/ps'}],"
    "  'poststop':[{'path':'/bin/stop1'},{'path':'/bin/stop2'}]},"
    " 'annotations':{'org.example.key':'value'},"
    " 'linux':{'namespaces':[{'type':'pid'},{'type':'network','path':'/run/netns/n'},"
    "   {'type':'mount'},{'type':'user'}],"
    "  'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
    "  'gidMappings':[{'containerID':0,'hostID':200000,'size':65536}],"
    "  'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,"
    "   'uid':0,'gid':0},{'path':'/dev/fifo','type':'p'}],"
    "  'cgroupsPath':'/cell/box','resources':{'pids':{'limit':100}},"
    "  'rootfsPropagation':'rslave','maskedPaths':['/proc/kcore'],"
    "  'readonlyPaths':['/proc/sys','/proc/bus'],'mountLabel':'ml',"
    "  'sysctl':{'net.ipv4.ip_forward':'1'},"
    "  'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'},'personality':{'domain':'LINUX'},"
    "  'intelRdt':{'closID':'g'}},"
    " 'unknownTopLevel':{'ignored':[1,2,3]}}";

static void test_full_config_top_level(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    assert_string_equal(spec->oci_version, "1.2.0");
    assert_string_equal(spec->root_path, "/var/lib/c/rootfs");
    assert_true(spec->root_readonly);
    assert_string_equal(spec->hostname, "box");
    assert_string_equal(spec->domainname, "example.test");
    assert_int_equal(spec->n_annotations, 1);
    assert_string_equal(spec->annotations[0].key, "org.example.key");
    assert_string_equal(spec->annotations[0].value, "value");
}

static void test_full_config_process(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    const struct cell_process *p = &spec->process;
    assert_true(spec->has_process);
    assert_true(p->terminal);
    assert_int_equal(p->console_height, 24);
    assert_int_equal(p->console_width, 80);
    assert_int_equal(p->uid, 1000);
    assert_int_equal(p->gid, 100);
    assert_int_equal(p->umask, 18);
    assert_int_equal(p->n_additional_gids, 2);
    assert_int_equal(p->additional_gids[1], 6);
    assert_string_equal(p->username, "u");
    assert_string_equal(p->args[0], "/bin/sh");
    assert_string_equal(p->args[2], "true");
    assert_null(p->args[3]);
    assert_string_equal(p->env[1], "TERM=xterm");
    assert_null(p->env[2]);
    assert_string_equal(p->cwd, "/home");
    assert_true(p->no_new_privileges);
    assert_string_equal(p->apparmor_profile, "prof");
    assert_string_equal(p->selinux_label, "lbl");
    assert_int_equal(p->oom_score_adj, -500);
    assert_string_equal(json_string_value(json_object_get(p->scheduler, "policy")), "SCHED_OTHER");
    assert_int_equal(json_integer_value(json_object_get(p->io_priority, "priority")), 4);
    assert_non_null(p->exec_cpu_affinity);
}

static void test_full_config_rlimits(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    assert_int_equal(spec->process.n_rlimits, 1);
    assert_int_equal(spec->process.rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(spec->process.rlimits[0].soft, 1024);
    assert_int_equal(spec->process.rlimits[0].hard, 4096);
}

static void test_full_config_mounts(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    assert_int_equal(spec->n_mounts, 2);
    assert_string_equal(spec->mounts[0].destination, "/proc");
    assert_string_equal(spec->mounts[0].type, "proc");
    assert_string_equal(spec->mounts[0].source, "proc");
    assert_null(spec->mounts[0].options[0]);
    assert_null(spec->mounts[0].data);
    const struct cell_mount *m = &spec->mounts[1];
    assert_null(m->type);
    assert_true(m->bind);
    assert_true(m->recursive);
    assert_int_equal(m->flags, MS_RDONLY);
    assert_string_equal(m->options[0], "rbind");
    assert_int_equal(m->n_uid_mappings, 1);
    assert_int_equal(m->uid_mappings[0].host_id, 1000);
    assert_int_equal(m->n_gid_mappings, 0);
}

static void test_full_config_hooks(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    for (int k = 0; k < CELL_HOOK_COUNT; k++)
        assert_int_equal(spec->n_hooks[k], k == CELL_HOOK_POSTSTOP ? 2 : 1);
    const struct cell_hook *h = &spec->hooks[CELL_HOOK_PRESTART][0];
    assert_string_equal(h->path, "/bin/pre");
    assert_string_equal(h->args[1], "x");
    assert_string_equal(h->env[0], "A=1");
    assert_int_equal(h->timeout, 5);
    h = &spec->hooks[CELL_HOOK_POSTSTOP][1];
    assert_string_equal(h->path, "/bin/stop2");
    assert_null(h->args);
    assert_null(h->env);
    assert_int_equal(h->timeout, CELL_UNSET);
}

static void test_full_config_linux(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    const struct cell_linux *lx = &spec->linux;
    assert_true(spec->has_linux);
    assert_true(lx->ns[CELL_NS_PID].present);
    assert_null(lx->ns[CELL_NS_PID].path);
    assert_string_equal(lx->ns[CELL_NS_NET].path, "/run/netns/n");
    assert_true(lx->ns[CELL_NS_USER].present);
    assert_false(lx->ns[CELL_NS_IPC].present);
    assert_false(lx->ns[CELL_NS_TIME].present);
    assert_int_equal(lx->n_uid_mappings, 1);
    assert_int_equal(lx->uid_mappings[0].host_id, 100000);
    assert_int_equal(lx->uid_mappings[0].size, 65536);
    assert_int_equal(lx->gid_mappings[0].host_id, 200000);
    assert_string_equal(lx->cgroups_path, "/cell/box");
    assert_true(lx->has_resources);
    assert_int_equal(lx->resources.pids.limit, 100);
    assert_int_equal(lx->rootfs_propagation, MS_SLAVE | MS_REC);
    assert_string_equal(lx->masked_paths[0], "/proc/kcore");
    assert_string_equal(lx->readonly_paths[1], "/proc/bus");
    assert_string_equal(lx->mount_label, "ml");
    assert_int_equal(lx->n_sysctl, 1);
    assert_string_equal(lx->sysctl[0].key, "net.ipv4.ip_forward");
    assert_string_equal(lx->sysctl[0].value, "1");
    assert_string_equal(json_string_value(json_object_get(lx->seccomp, "defaultAction")),
                        "SCMP_ACT_ALLOW");
    assert_non_null(lx->personality);
    assert_non_null(lx->intel_rdt);
}

static void test_full_config_devices(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    const struct cell_linux *lx = &spec->linux;
    assert_int_equal(lx->n_devices, 2);
    assert_string_equal(lx->devices[0].path, "/dev/fuse");
    assert_int_equal(lx->devices[0].type, 'c');
    assert_int_equal(lx->devices[0].major, 10);
    assert_int_equal(lx->devices[0].minor, 229);
    assert_int_equal(lx->devices[0].file_mode, 438);
    assert_int_equal(lx->devices[0].uid, 0);
    assert_int_equal(lx->devices[1].type, 'p');
    assert_int_equal(lx->devices[1].major, CELL_UNSET);
    assert_int_equal(lx->devices[1].minor, CELL_UNSET);
    assert_int_equal(lx->devices[1].file_mode, CELL_UNSET);
    assert_int_equal(lx->devices[1].gid, CELL_UNSET);
}

static void test_caps_masks(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    const struct cell_caps *caps = &spec->process.caps;
    assert_true(caps->present);
    assert_int_equal(caps->bounding, CAP(5) | CAP(10));
    assert_int_equal(caps->effective, CAP(5));
    assert_int_equal(caps->inheritable, 0);
    assert_int_equal(caps->permitted, CAP(5));
    assert_int_equal(caps->ambient, CAP(40));
}

static void test_caps_absent_not_present(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_ok(PROC "}");
    assert_false(spec->process.caps.present);
    assert_int_equal(spec->process.caps.bounding, 0);
}

static void test_caps_empty_object_present(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_ok(PROC ",'capabilities':{}}");
    assert_true(spec->process.caps.present);
    assert_int_equal(spec->process.caps.permitted, 0);
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'foo':1," PROC ",'bar':[1],'user':{'uid':1,'gid':2,'baz':'x'}},"
                 "'linux':{'netDevices':{'eth0':{}},'future':true}");
    assert_int_equal(spec->process.uid, 1);
}

static void test_null_counts_as_absent(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'hostname':null,'mounts':null," PROC ",'env':null}");
    assert_null(spec->hostname);
    assert_int_equal(spec->n_mounts, 0);
    assert_null(spec->process.env[0]);
}

static void test_version_variants_accepted(void **state)
{
    (void)state;
    static const char *versions[] = {"1.0.0", "1.0.2", "1.1.0-rc.1", "1.2.0", "1.3.0+dev"};
    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        _cleanup_free_ char *doc = NULL;
        assert_true(asprintf(&doc, "{'ociVersion':'%s','root':{'path':'r'}}", versions[i]) > 0);
        _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(doc);
        assert_string_equal(spec->oci_version, versions[i]);
    }
}

/* --- error messages --- */

static void test_error_malformed_json(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *message;
    } cases[] = {
        {"{]", "line 1 column 2: string or '}' expected near ']'"},
        {"{\"a\":1,\n \"b\":}", "line 2 column 6: unexpected token near '}'"},
        {"", "line 1 column 0: '[' or '{' expected near end of file"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        struct cell_spec *spec = NULL;
        assert_true(cell_spec_parse(cases[i].doc, strlen(cases[i].doc), &spec, &err) < 0);
        assert_string_equal(cell_error_text(&err), cases[i].message);
    }
}

static void test_error_top_level_not_object(void **state)
{
    (void)state;
    expect_doc_error("[1]", "expected a JSON object at the top level");
}

static void test_error_version_unsupported(void **state)
{
    (void)state;
    expect_doc_error("{'ociVersion':'2.0.0','root':{'path':'r'}}",
                     "ociVersion: unsupported version '2.0.0' (cell supports 1.x)");
    expect_doc_error("{'ociVersion':'0.5.0-dev','root':{'path':'r'}}",
                     "ociVersion: unsupported version '0.5.0-dev' (cell supports 1.x)");
    expect_doc_error("{'ociVersion':'10.0','root':{'path':'r'}}",
                     "ociVersion: unsupported version '10.0' (cell supports 1.x)");
}

static void test_error_version_missing(void **state)
{
    (void)state;
    expect_doc_error("{'root':{'path':'r'}}", "ociVersion: required");
    expect_doc_error("{'ociVersion':1,'root':{'path':'r'}}", "ociVersion: expected a string");
}

static void test_error_root(void **state)
{
    (void)state;
    expect_doc_error("{'ociVersion':'1.0.0'}", "root: required");
    expect_doc_error("{'ociVersion':'1.0.0','root':'r'}", "root: expected an object");
    expect_doc_error("{'ociVersion':'1.0.0','root':{}}", "root.path: required");
    expect_doc_error("{'ociVersion':'1.0.0','root':{'path':7}}", "root.path: expected a string");
    expect_doc_error("{'ociVersion':'1.0.0','root':{'path':'r','readonly':'yes'}}",
                     "root.readonly: expected a boolean");
}

static void test_error_args(void **state)
{
    (void)state;
    expect_error("'process':{'cwd':'/'}", "process.args: expected a non-empty array of strings");
    expect_error("'process':{'cwd':'/','args':[]}",
                 "process.args: expected a non-empty array of strings");
    expect_error("'process':{'cwd':'/','args':'sh'}",
                 "process.args: expected a non-empty array of strings");
    expect_error("'process':{'cwd':'/','args':['sh',1]}", "process.args[1]: expected a string");
}

static void test_error_cwd(void **state)
{
    (void)state;
    expect_error("'process':{'args':['sh']}", "process.cwd: required");
    expect_error("'process':{'args':['sh'],'cwd':'tmp'}",
                 "process.cwd: must be an absolute path, got 'tmp'");
}

static void test_error_env(void **state)
{
    (void)state;
    expect_error(PROC ",'env':'A=1'}", "process.env: expected an array of strings");
    expect_error(PROC ",'env':['A=1',{}]}", "process.env[1]: expected a string");
}

static void test_error_user(void **state)
{
    (void)state;
    expect_error(PROC ",'user':{'gid':0}}", "process.user.uid: required");
    expect_error(PROC ",'user':{'uid':0}}", "process.user.gid: required");
    expect_error(PROC ",'user':{'uid':-1,'gid':0}}",
                 "process.user.uid: expected an integer between 0 and 4294967295, got -1");
    expect_error(PROC ",'user':{'uid':1.5,'gid':0}}", "process.user.uid: expected an integer");
    expect_error(PROC ",'user':{'uid':'0','gid':0}}", "process.user.uid: expected an integer");
    expect_error(PROC ",'user':{'uid':0,'gid':0,'additionalGids':[1,-2]}}",
                 "process.user.additionalGids[1]: expected an integer between 0 and 4294967295, "
                 "got -2");
    expect_error(PROC ",'user':{'uid':0,'gid':0,'umask':512}}",
                 "process.user.umask: expected an integer between 0 and 511, got 512");
}

/* config.md: an unknown capability is logged as a warning, not an error. */
static void test_unknown_capability_is_a_warning(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok(PROC ",'capabilities':{'bounding':['CAP_KILL','CAP_FOO'],"
                      "'effective':['CAP_BAR','CAP_KILL']}}");
    assert_int_equal(spec->process.caps.bounding, CAP(5));
    assert_int_equal(spec->process.caps.effective, CAP(5));
    assert_non_null(spec->warnings);
    assert_string_equal(
        spec->warnings[0],
        "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\", ignored");
    assert_string_equal(spec->warnings[1], "process.capabilities.effective[0]: unknown capability "
                                           "\"CAP_BAR\", ignored");
    assert_null(spec->warnings[2]);
}

static void test_known_capabilities_give_no_warning(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_doc_ok(full_config);
    assert_null(spec->warnings);
}

static void test_keep_original_groups_annotation(void **state)
{
    (void)state;
    static const struct {
        const char *members;
        bool keep;
    } cases[] = {
        {PROC "}", false},
        {PROC "},'annotations':{'run.oci.keep_original_groups':'1'}", true},
        {PROC "},'annotations':{'run.oci.keep_original_groups':''}", true},
        {PROC "},'annotations':{'run.oci.keep_original_groups':'false'}", true}, /* as crun */
        {PROC "},'annotations':{'run.oci.keep_original_groups':'0'}", false},
        {PROC "},'annotations':{'other':'1'}", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_spec_ struct cell_spec *spec = parse_ok(cases[i].members);
        if (spec->process.keep_original_groups != cases[i].keep)
            fail_msg("case %zu: %s", i, cases[i].members);
    }
}

static void test_error_capabilities(void **state)
{
    (void)state;
    expect_error(PROC ",'capabilities':{'ambient':'CAP_KILL'}}",
                 "process.capabilities.ambient: expected an array of strings");
    expect_error(PROC ",'capabilities':[]}", "process.capabilities: expected an object");
}

static void test_error_rlimits(void **state)
{
    (void)state;
    expect_error(PROC ",'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]}",
                 "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'");
    expect_error(PROC ",'rlimits':[{'type':'RLIMIT_CORE','hard':1}]}",
                 "process.rlimits[0].soft: required");
    expect_error(PROC ",'rlimits':[{'type':'RLIMIT_CORE','soft':-1,'hard':1}]}",
                 "process.rlimits[0].soft: expected an integer between 0 and "
                 "18446744073709551615, got -1");
    expect_error(PROC ",'rlimits':[{'type':'RLIMIT_CORE','soft':1,'hard':1},"
                      "{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
                      "{'type':'RLIMIT_CORE','soft':2,'hard':2}]}",
                 "process.rlimits[2].type: duplicate rlimit 'RLIMIT_CORE'");
    expect_error(PROC ",'rlimits':[1]}", "process.rlimits[0]: expected an object");
    expect_error(PROC ",'rlimits':[{'type':'RLIMIT_NOFILE','soft':2048,'hard':1024}]}",
                 "process.rlimits[0]: soft limit 2048 is above the hard limit 1024");
}

static void test_error_process_misc(void **state)
{
    (void)state;
    expect_error("'process':[]", "process: expected an object");
    expect_error(PROC ",'terminal':1}", "process.terminal: expected a boolean");
    expect_error(PROC ",'consoleSize':{'height':1}}", "process.consoleSize.width: required");
    expect_error(PROC ",'oomScoreAdj':1001}",
                 "process.oomScoreAdj: expected an integer between -1000 and 1000, got 1001");
    expect_error(PROC ",'scheduler':'fifo'}", "process.scheduler: expected an object");
    expect_error(PROC ",'apparmorProfile':false}", "process.apparmorProfile: expected a string");
}

static void test_error_hostname_type(void **state)
{
    (void)state;
    expect_error("'hostname':5", "hostname: expected a string");
    expect_error("'domainname':[]", "domainname: expected a string");
}

static void test_error_mounts(void **state)
{
    (void)state;
    expect_error("'mounts':[{'destination':'/a'},{'destination':'/b'},{'destination':'/c'},"
                 "{'destination':'tmp'}]",
                 "mounts[3].destination: must be an absolute path, got 'tmp'");
    expect_error("'mounts':[{'type':'tmpfs'}]", "mounts[0].destination: required");
    expect_error("'mounts':{}", "mounts: expected an array");
    expect_error("'mounts':[{'destination':'/a','options':['ro',3]}]",
                 "mounts[0].options[1]: expected a string");
    expect_error("'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1}]}]",
                 "mounts[0].uidMappings[0].size: required");
}

static void test_error_hooks(void **state)
{
    (void)state;
    expect_error("'hooks':{'poststop':[{'path':'/x','timeout':0}]}",
                 "hooks.poststop[0].timeout: must be greater than zero, got 0");
    expect_error("'hooks':{'prestart':[{'path':'x'}]}",
                 "hooks.prestart[0].path: must be an absolute path, got 'x'");
    expect_error("'hooks':{'createRuntime':[{'args':['a']}]}",
                 "hooks.createRuntime[0].path: required");
    expect_error("'hooks':{'startContainer':{}}", "hooks.startContainer: expected an array");
}

static void test_error_annotations(void **state)
{
    (void)state;
    expect_error("'annotations':{'a':'1','b':2}", "annotations.b: expected a string");
    expect_error("'annotations':['a']", "annotations: expected an object");
}

static void test_error_long_path_truncated(void **state)
{
    (void)state;
    char key[700];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    _cleanup_free_ char *doc = NULL;
    assert_true(asprintf(&doc, "{" MINIMAL ",'annotations':{'%s':1}}", key) > 0);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    assert_true(parse_doc(doc, &spec, &err) < 0);
    const char *text = cell_error_text(&err);
    assert_memory_equal(text, "annotations.kkk", 15);
    assert_non_null(strstr(text, ": expected a string"));
}

static void test_error_namespaces(void **state)
{
    (void)state;
    expect_error("'linux':{'namespaces':[{'type':'pid'},{'type':'uts'},{'type':'foo'}]}",
                 "linux.namespaces[2].type: unknown namespace type 'foo'");
    expect_error("'linux':{'namespaces':[{'type':'pid'},{'type':'pid'}]}",
                 "linux.namespaces[1].type: duplicate namespace type 'pid'");
    expect_error("'linux':{'namespaces':[{'path':'/proc/1/ns/pid'}]}",
                 "linux.namespaces[0].type: required");
    expect_error("'linux':{'namespaces':[{'type':'net'}]}",
                 "linux.namespaces[0].type: unknown namespace type 'net'");
    expect_error("'linux':{'namespaces':[{'type':'network','path':'netns'}]}",
                 "linux.namespaces[0].path: must be an absolute path, got 'netns'");
}

static void test_error_linux_misc(void **state)
{
    (void)state;
    expect_error("'linux':[]", "linux: expected an object");
    expect_error("'linux':{'devices':[{'path':'/dev/x','type':'q'}]}",
                 "linux.devices[0].type: expected 'c', 'b', 'u' or 'p', got 'q'");
    expect_error("'linux':{'devices':[{'path':'/dev/x','type':'c','major':1}]}",
                 "linux.devices[0].minor: required");
    expect_error("'linux':{'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]}",
                 "linux.devices[0].path: must be an absolute path, got 'dev/x'");
    expect_error("'linux':{'rootfsPropagation':'sideways'}",
                 "linux.rootfsPropagation: unknown propagation 'sideways'");
    expect_error("'linux':{'maskedPaths':['/ok','proc/kcore']}",
                 "linux.maskedPaths[1]: must be an absolute path, got 'proc/kcore'");
    expect_error("'linux':{'sysctl':{'kernel.x':1}}", "linux.sysctl.kernel.x: expected a string");
    expect_error("'linux':{'seccomp':[]}", "linux.seccomp: expected an object");
    expect_error("'linux':{'uidMappings':[{'containerID':0,'hostID':4294967296,'size':1}]}",
                 "linux.uidMappings[0].hostID: expected an integer between 0 and 4294967295, "
                 "got 4294967296");
}

static void test_error_time_offsets(void **state)
{
    (void)state;
    expect_error("'linux':{'timeOffsets':{'realtime':{'secs':1}}}",
                 "linux.timeOffsets.realtime: unknown clock (expected 'monotonic' or 'boottime')");
    expect_error("'linux':{'timeOffsets':{'boottime':{'nanosecs':1000000000}}}",
                 "linux.timeOffsets.boottime.nanosecs: expected an integer between 0 and "
                 "999999999, got 1000000000");
}

static void test_error_resources(void **state)
{
    (void)state;
    expect_error("'linux':{'resources':{'memory':{'limit':'1g'}}}",
                 "linux.resources.memory.limit: expected an integer");
    expect_error("'linux':{'resources':{'memory':{'limit':-2}}}",
                 "linux.resources.memory.limit: expected an integer between -1 and "
                 "9223372036854775807, got -2");
    expect_error("'linux':{'resources':{'devices':[{'access':'rwm'}]}}",
                 "linux.resources.devices[0].allow: required");
    expect_error("'linux':{'resources':{'devices':[{'allow':true,'access':'rwx'}]}}",
                 "linux.resources.devices[0].access: expected a combination of 'r', 'w' and "
                 "'m', got 'rwx'");
    expect_error("'linux':{'resources':{'devices':[{'allow':true,'type':'p'}]}}",
                 "linux.resources.devices[0].type: expected 'a', 'c' or 'b', got 'p'");
    expect_error("'linux':{'resources':{'blockIO':{'weight':70000}}}",
                 "linux.resources.blockIO.weight: expected an integer between 0 and 65535, got "
                 "70000");
    expect_error("'linux':{'resources':{'blockIO':{'throttleReadBpsDevice':[{'major':8,"
                 "'minor':0}]}}}",
                 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required");
    expect_error("'linux':{'resources':{'cpu':{'cpus':3}}}",
                 "linux.resources.cpu.cpus: expected a string");
    expect_error("'linux':{'resources':{'memory':{'disableOOMKiller':0}}}",
                 "linux.resources.memory.disableOOMKiller: expected a boolean");
}

static void test_error_resources_rdma_and_hugepages(void **state)
{
    (void)state;
    expect_error("'linux':{'resources':{'rdma':{'mlx5_1':{'hcaHandles':'many'}}}}",
                 "linux.resources.rdma.mlx5_1.hcaHandles: expected an integer");
    expect_error("'linux':{'resources':{'rdma':{'mlx5_1':{}}}}",
                 "linux.resources.rdma.mlx5_1: expected hcaHandles, hcaObjects or both");
    expect_error("'linux':{'resources':{'hugepageLimits':[{'pageSize':'64kB','limit':1}]}}",
                 "linux.resources.hugepageLimits[0].pageSize: expected a size such as '2MB' or "
                 "'1GB', got '64kB'");
    expect_error("'linux':{'resources':{'network':{'priorities':[{'name':'eth0'}]}}}",
                 "linux.resources.network.priorities[0].priority: required");
}

/* --- mount options --- */

static void test_mount_classic_flags(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m =
        parse_one_mount(&spec, "'nosuid','nodev','noexec','sync','dirsync','remount','mand',"
                               "'noatime','nodiratime','relatime','strictatime','nosymfollow',"
                               "'silent','iversion','lazytime','ro'");
    unsigned long want = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC |
                         MS_REMOUNT | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                         MS_STRICTATIME | MS_NOSYMFOLLOW | MS_SILENT | MS_I_VERSION | MS_LAZYTIME |
                         MS_RDONLY;
    assert_int_equal(m->flags, want);
    assert_int_equal(m->clear_flags, 0);
    assert_null(m->data);
    assert_false(m->bind);
}

static void test_mount_clearing_flags(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m =
        parse_one_mount(&spec, "'rw','suid','dev','exec','async','nomand','atime','diratime',"
                               "'norelatime','nostrictatime','symfollow','loud','noiversion',"
                               "'nolazytime','defaults'");
    unsigned long want = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                         MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                         MS_NOSYMFOLLOW | MS_SILENT | MS_I_VERSION | MS_LAZYTIME;
    assert_int_equal(m->flags, 0);
    assert_int_equal(m->clear_flags, want);
    assert_null(m->data);
}

static void test_mount_later_option_wins(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m = parse_one_mount(&spec, "'ro','nosuid','rw','suid','nosuid'");
    assert_int_equal(m->flags, MS_NOSUID);
    assert_int_equal(m->clear_flags, MS_RDONLY);
}

static void test_mount_data_joined(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m =
        parse_one_mount(&spec, "'nosuid','strictatime','mode=755','size=65536k'");
    assert_string_equal(m->data, "mode=755,size=65536k");
    assert_int_equal(m->flags, MS_NOSUID | MS_STRICTATIME);
    assert_string_equal(m->options[2], "mode=755");
    assert_null(m->options[4]);
}

static void test_mount_propagation(void **state)
{
    (void)state;
    static const struct {
        const char *opt;
        unsigned long flag;
        bool recursive;
    } cases[] = {
        {"'private'", MS_PRIVATE, false},       {"'rprivate'", MS_PRIVATE, true},
        {"'shared'", MS_SHARED, false},         {"'rshared'", MS_SHARED, true},
        {"'slave'", MS_SLAVE, false},           {"'rslave'", MS_SLAVE, true},
        {"'unbindable'", MS_UNBINDABLE, false}, {"'runbindable'", MS_UNBINDABLE, true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_spec_ struct cell_spec *spec = NULL;
        const struct cell_mount *m = parse_one_mount(&spec, cases[i].opt);
        assert_int_equal(m->propagation, cases[i].flag);
        assert_int_equal(m->propagation_recursive, cases[i].recursive);
        assert_int_equal(m->flags, 0);
    }
}

static void test_mount_bind_forms(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'mounts':[{'destination':'/a','source':'/x','options':['bind']},"
                 "{'destination':'/b','source':'/x','options':['rbind']},"
                 "{'destination':'/c','source':'/x','type':'bind'},"
                 "{'destination':'/d','type':'tmpfs','source':'tmpfs'}]");
    assert_true(spec->mounts[0].bind);
    assert_false(spec->mounts[0].recursive);
    assert_true(spec->mounts[1].bind);
    assert_true(spec->mounts[1].recursive);
    assert_true(spec->mounts[2].bind);
    assert_string_equal(spec->mounts[2].type, "bind");
    assert_false(spec->mounts[3].bind);
}

static void test_mount_recursive_attrs(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m = parse_one_mount(
        &spec, "'rro','rnosuid','rnodev','rnoexec','rnodiratime','rnosymfollow','rsuid'");
    assert_int_equal(m->attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                      MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW);
    assert_int_equal(m->attr_clr, MOUNT_ATTR_NOSUID);
    assert_int_equal(m->flags, 0);
    assert_null(m->data);
}

static void test_mount_recursive_clears(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m =
        parse_one_mount(&spec, "'rrw','rsuid','rdev','rexec','rdiratime','rsymfollow'");
    assert_int_equal(m->attr_set, 0);
    assert_int_equal(m->attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                      MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
                                      MOUNT_ATTR_NOSYMFOLLOW);
}

static void test_mount_recursive_atime(void **state)
{
    (void)state;
    static const struct {
        const char *opt;
        uint64_t mode;
    } cases[] = {
        {"'rnoatime'", MOUNT_ATTR_NOATIME},
        {"'rstrictatime'", MOUNT_ATTR_STRICTATIME},
        {"'rrelatime'", MOUNT_ATTR_RELATIME},
        {"'ratime'", MOUNT_ATTR_RELATIME},
        {"'rnorelatime'", MOUNT_ATTR_STRICTATIME},
        {"'rnostrictatime'", MOUNT_ATTR_RELATIME},
        {"'rnoatime','rstrictatime'", MOUNT_ATTR_STRICTATIME},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_spec_ struct cell_spec *spec = NULL;
        const struct cell_mount *m = parse_one_mount(&spec, cases[i].opt);
        assert_int_equal(m->attr_clr, MOUNT_ATTR__ATIME);
        assert_int_equal(m->attr_set, cases[i].mode);
    }
}

static void test_mount_special_options(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    const struct cell_mount *m = parse_one_mount(&spec, "'tmpcopyup','idmap','defaults'");
    assert_true(m->tmpcopyup);
    assert_true(m->idmap);
    assert_false(m->idmap_recursive);
    assert_null(m->data);
    _cleanup_spec_ struct cell_spec *spec2 = NULL;
    m = parse_one_mount(&spec2, "'ridmap'");
    assert_true(m->idmap);
    assert_true(m->idmap_recursive);
}

/* --- linux details --- */

static void test_rootfs_propagation(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned long flags;
    } cases[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *members = NULL;
        assert_true(asprintf(&members, "'linux':{'rootfsPropagation':'%s'}", cases[i].name) > 0);
        _cleanup_spec_ struct cell_spec *spec = parse_ok(members);
        assert_int_equal(spec->linux.rootfs_propagation, cases[i].flags);
    }
    _cleanup_spec_ struct cell_spec *spec = parse_ok("'linux':{}");
    assert_int_equal(spec->linux.rootfs_propagation, 0);
}

static void test_time_offsets(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'linux':{'timeOffsets':{'monotonic':{'secs':172800,'nanosecs':5},"
                 "'boottime':{'secs':-604800}}}");
    const struct cell_linux *lx = &spec->linux;
    assert_true(lx->time_offsets.has_monotonic);
    assert_int_equal(lx->time_offsets.monotonic_secs, 172800);
    assert_int_equal(lx->time_offsets.monotonic_nanosecs, 5);
    assert_true(lx->time_offsets.has_boottime);
    assert_int_equal(lx->time_offsets.boottime_secs, -604800);
    assert_int_equal(lx->time_offsets.boottime_nanosecs, 0);
}

static void test_time_offsets_absent(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec = parse_ok("'linux':{'timeOffsets':{}}");
    assert_false(spec->linux.time_offsets.has_monotonic);
    assert_false(spec->linux.time_offsets.has_boottime);
}

/* --- resources --- */

static const char resources_json[] =
    "{'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':10,"
    "  'minor':229,'access':'rw'},{'allow':true,'type':'b','major':8}],"
    " 'memory':{'limit':536870912,'reservation':1024,'swap':-1,'kernel':-1,'kernelTCP':7,"
    "  'swappiness':60,'disableOOMKiller':true,'useHierarchy':false,'checkBeforeUpdate':true},"
    " 'cpu':{'shares':1024,'quota':-1,'burst':1000,'period':100000,'realtimeRuntime':950000,"
    "  'realtimePeriod':1000000,'idle':1,'cpus':'0-3,7','mems':'0'},"
    " 'pids':{'limit':0},"
    " 'blockIO':{'weight':10,'leafWeight':20,'weightDevice':[{'major':8,'minor':0,"
    "  'weight':500,'leafWeight':300},{'major':8,'minor':16,'weight':100}],"
    "  'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':600}],"
    "  'throttleWriteBpsDevice':[{'major':8,'minor':1,'rate':601}],"
    "  'throttleReadIOPSDevice':[{'major':8,'minor':2,'rate':602}],"
    "  'throttleWriteIOPSDevice':[{'major':8,'minor':3,'rate':603}]},"
    " 'hugepageLimits':[{'pageSize':'2MB','limit':9223372036854772000},"
    "  {'pageSize':'1GB','limit':0}],"
    " 'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
    " 'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000},'mlx4_0':{'hcaObjects':1000},"
    "  'rxe3':{'hcaHandles':2}},"
    " 'unified':{'memory.high':'max','io.weight':'default 100'}}";

static void parse_resources_ok(struct cell_resources *res)
{
    _cleanup_free_ char *text = double_quotes(resources_json);
    json_error_t je;
    json_t *obj = json_loads(text, 0, &je);
    if (!obj)
        fail_msg("bad test JSON: %s", je.text);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    int r = cell_spec_parse_resources(obj, "resources", res, &err);
    json_decref(obj);
    if (r < 0)
        fail_msg("parse failed: %s", cell_error_text(&err));
}

static void test_resources_device_rules(void **state)
{
    (void)state;
    struct cell_resources res;
    parse_resources_ok(&res);
    assert_int_equal(res.n_devices, 3);
    assert_false(res.devices[0].allow);
    assert_int_equal(res.devices[0].type, 'a');
    assert_int_equal(res.devices[0].major, -1);
    assert_int_equal(res.devices[0].minor, -1);
    assert_string_equal(res.devices[0].access, "rwm");
    assert_int_equal(res.devices[1].type, 'c');
    assert_int_equal(res.devices[1].major, 10);
    assert_int_equal(res.devices[1].minor, 229);
    assert_string_equal(res.devices[1].access, "rw");
    assert_int_equal(res.devices[2].major, 8);
    assert_int_equal(res.devices[2].minor, -1);
    assert_string_equal(res.devices[2].access, "rwm");
    cell_resources_clear(&res);
}

static void test_resources_memory_cpu_pids(void **state)
{
    (void)state;
    struct cell_resources res;
    parse_resources_ok(&res);
    assert_int_equal(res.memory.limit, 536870912);
    assert_int_equal(res.memory.reservation, 1024);
    assert_int_equal(res.memory.swap, -1);
    assert_int_equal(res.memory.kernel, -1);
    assert_int_equal(res.memory.kernel_tcp, 7);
    assert_int_equal(res.memory.swappiness, 60);
    assert_int_equal(res.memory.disable_oom_killer, 1);
    assert_int_equal(res.memory.use_hierarchy, 0);
    assert_int_equal(res.memory.check_before_update, 1);
    assert_int_equal(res.cpu.shares, 1024);
    assert_int_equal(res.cpu.quota, -1);
    assert_int_equal(res.cpu.burst, 1000);
    assert_int_equal(res.cpu.period, 100000);
    assert_int_equal(res.cpu.realtime_runtime, 950000);
    assert_int_equal(res.cpu.realtime_period, 1000000);
    assert_int_equal(res.cpu.idle, 1);
    assert_string_equal(res.cpu.cpus, "0-3,7");
    assert_string_equal(res.cpu.mems, "0");
    assert_int_equal(res.pids.limit, 0);
    cell_resources_clear(&res);
}

static void test_resources_block_io(void **state)
{
    (void)state;
    struct cell_resources res;
    parse_resources_ok(&res);
    assert_int_equal(res.block_io.weight, 10);
    assert_int_equal(res.block_io.leaf_weight, 20);
    assert_int_equal(res.block_io.n_weight_device, 2);
    assert_int_equal(res.block_io.weight_device[0].weight, 500);
    assert_int_equal(res.block_io.weight_device[0].leaf_weight, 300);
    assert_int_equal(res.block_io.weight_device[1].minor, 16);
    assert_int_equal(res.block_io.weight_device[1].leaf_weight, CELL_UNSET);
    assert_int_equal(res.block_io.n_throttle_read_bps, 1);
    assert_int_equal(res.block_io.throttle_read_bps[0].rate, 600);
    assert_int_equal(res.block_io.throttle_write_bps[0].rate, 601);
    assert_int_equal(res.block_io.throttle_read_iops[0].rate, 602);
    assert_int_equal(res.block_io.throttle_write_iops[0].minor, 3);
    assert_int_equal(res.block_io.throttle_write_iops[0].rate, 603);
    cell_resources_clear(&res);
}

static void test_resources_hugepages_network(void **state)
{
    (void)state;
    struct cell_resources res;
    parse_resources_ok(&res);
    assert_int_equal(res.n_hugepage_limits, 2);
    assert_string_equal(res.hugepage_limits[0].page_size, "2MB");
    assert_int_equal(res.hugepage_limits[0].limit, 9223372036854772000ULL);
    assert_string_equal(res.hugepage_limits[1].page_size, "1GB");
    assert_int_equal(res.network.class_id, 1048577);
    assert_int_equal(res.network.n_priorities, 1);
    assert_string_equal(res.network.priorities[0].key, "eth0");
    assert_string_equal(res.network.priorities[0].value, "500");
    cell_resources_clear(&res);
}

static const char *kv_get(const struct cell_key_value *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

static void test_resources_rdma_unified(void **state)
{
    (void)state;
    struct cell_resources res;
    parse_resources_ok(&res);
    assert_int_equal(res.n_rdma, 3);
    assert_string_equal(kv_get(res.rdma, res.n_rdma, "mlx5_1"), "hca_handle=3 hca_object=10000");
    assert_string_equal(kv_get(res.rdma, res.n_rdma, "mlx4_0"), "hca_object=1000");
    assert_string_equal(kv_get(res.rdma, res.n_rdma, "rxe3"), "hca_handle=2");
    assert_int_equal(res.n_unified, 2);
    assert_string_equal(kv_get(res.unified, res.n_unified, "io.weight"), "default 100");
    cell_resources_clear(&res);
}

static void test_resources_unset_when_absent(void **state)
{
    (void)state;
    json_t *obj = json_object();
    struct cell_resources res;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_spec_parse_resources(obj, "resources", &res, &err), 0);
    json_decref(obj);
    assert_int_equal(res.memory.limit, CELL_UNSET);
    assert_int_equal(res.memory.swappiness, CELL_UNSET);
    assert_int_equal(res.memory.use_hierarchy, -1);
    assert_int_equal(res.cpu.quota, CELL_UNSET);
    assert_null(res.cpu.cpus);
    assert_int_equal(res.pids.limit, CELL_UNSET);
    assert_int_equal(res.block_io.weight, CELL_UNSET);
    assert_int_equal(res.network.class_id, CELL_UNSET);
    assert_int_equal(res.n_devices, 0);
    cell_resources_clear(&res);
}

static void test_resources_error_names_where(void **state)
{
    (void)state;
    json_t *obj = json_pack("{s:{s:s}}", "pids", "limit", "many");
    struct cell_resources res;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_true(cell_spec_parse_resources(obj, "update.json", &res, &err) < 0);
    json_decref(obj);
    assert_string_equal(cell_error_text(&err), "update.json.pids.limit: expected an integer");
    assert_int_equal(res.pids.limit, CELL_UNSET);
    cell_resources_clear(&res);
}

/* --- integers above INT64_MAX --- */

static void test_big_rlimit_accepted(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok(PROC ",'rlimits':[{'type':'RLIMIT_NOFILE','soft':18446744073709551615,"
                      "'hard':18446744073709551615}],'env':['X=\\'18446744073709551615\\'']}");
    assert_int_equal(spec->process.rlimits[0].soft, UINT64_MAX);
    assert_int_equal(spec->process.rlimits[0].hard, UINT64_MAX);
    assert_string_equal(spec->process.env[0], "X=\"18446744073709551615\"");
}

static void test_big_integer_in_int_field_refused(void **state)
{
    (void)state;
    expect_error("'linux':{'resources':{'memory':{'limit':18446744073709551615}}}",
                 "linux.resources.memory.limit: expected an integer between -1 and "
                 "9223372036854775807, got 18446744073709551615");
    expect_error("'hostname':18446744073709551615", "hostname: expected a string");
}

static void test_too_big_integer_is_malformed(void **state)
{
    (void)state;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    assert_true(parse_doc("{'x':18446744073709551616}", &spec, &err) < 0);
    assert_non_null(strstr(cell_error_text(&err), "line 1 column"));
    assert_non_null(strstr(cell_error_text(&err), "too big"));
}

static void test_big_integer_in_raw_field(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'linux':{'seccomp':{'syscalls':[{'args':[{'value':18446744069414584320,"
                 "'valueTwo':7}]}]}}");
    json_t *arg = json_array_get(
        json_object_get(json_array_get(json_object_get(spec->linux.seccomp, "syscalls"), 0),
                        "args"),
        0);
    uint64_t v = 0;
    assert_int_equal(cell_spec_json_u64(json_object_get(arg, "value"), &v), 0);
    assert_int_equal(v, 18446744069414584320ULL);
    assert_int_equal(cell_spec_json_u64(json_object_get(arg, "valueTwo"), &v), 0);
    assert_int_equal(v, 7);
    json_t *neg = json_integer(-1);
    assert_int_equal(cell_spec_json_u64(neg, &v), -ERANGE);
    json_decref(neg);
}

/* --- cell_spec_load --- */

static char *make_bundle(const char *config)
{
    char *dir = strdup("/tmp/cell-test-spec-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    if (config) {
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/config.json", dir) > 0);
        _cleanup_free_ char *text = double_quotes(config);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    return dir;
}

static void remove_bundle(const char *dir)
{
    _cleanup_free_ char *path = NULL;
    assert_true(asprintf(&path, "%s/config.json", dir) > 0);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static void test_load_reads_bundle_config(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = make_bundle("{" MINIMAL ",'hostname':'h'}");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    assert_int_equal(cell_spec_load(dir, &spec, &err), 0);
    assert_string_equal(spec->hostname, "h");
    remove_bundle(dir);
}

static void test_load_error_prefixed_with_path(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = make_bundle("{" MINIMAL ",'process':{'cwd':'/'}}");
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    assert_true(cell_spec_load(dir, &spec, &err) < 0);
    _cleanup_free_ char *want = NULL;
    assert_true(asprintf(&want,
                         "%s/config.json: process.args: expected a non-empty array of "
                         "strings",
                         dir) > 0);
    assert_string_equal(cell_error_text(&err), want);
    remove_bundle(dir);
}

static void test_load_current_directory(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = make_bundle("{" MINIMAL ",'process':{'cwd':'/'}}");
    _cleanup_close_ int old = open(".", O_RDONLY | O_DIRECTORY);
    assert_true(old >= 0);
    assert_int_equal(chdir(dir), 0);
    const char *bundles[] = {NULL, "."};
    for (size_t i = 0; i < ARRAY_SIZE(bundles); i++) {
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        struct cell_spec *spec = NULL;
        assert_true(cell_spec_load(bundles[i], &spec, &err) < 0);
        assert_string_equal(cell_error_text(&err),
                            "config.json: process.args: expected a non-empty array of strings");
    }
    assert_int_equal(fchdir(old), 0);
    remove_bundle(dir);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = make_bundle(NULL);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *spec = NULL;
    assert_true(cell_spec_load(dir, &spec, &err) < 0);
    assert_int_equal(err.errnum, ENOENT);
    _cleanup_free_ char *want = NULL;
    assert_true(asprintf(&want, "%s/config.json: No such file or directory", dir) > 0);
    assert_string_equal(cell_error_text(&err), want);
    assert_int_equal(rmdir(dir), 0);
}

/* --- the runtime spec's example configs --- */

/* The OCI runtime spec's own example configs (meson passes the path: the
 * spec sits beside the source tree, in ../shared/spec). */
static const char *spec_test_dir(void)
{
    const char *dir = getenv("CELL_SPEC_TEST_DIR");
    if (!dir || !*dir)
        fail_msg("CELL_SPEC_TEST_DIR is not set (meson sets it to the OCI spec's examples)");
    return dir;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    assert_true(n > 0);
    return text;
}

/* Parses one example; a document that declares a pre-1.0 ociVersion is
 * first checked to be refused for that, then parsed with "1.0.0". */
static int parse_example(const char *path, cell_err_t *err)
{
    _cleanup_free_ char *text = read_text(path);
    json_t *doc = json_loads(text, 0, NULL);
    const char *version = json_string_value(json_object_get(doc, "ociVersion"));
    if (doc && version && version[0] != '1') {
        struct cell_spec *spec = NULL;
        assert_true(cell_spec_parse(text, strlen(text), &spec, err) < 0);
        assert_non_null(strstr(cell_error_text(err), "unsupported version"));
        cell_error_clear(err);
        json_object_set_new(doc, "ociVersion", json_string("1.0.0"));
        free(text);
        text = json_dumps(doc, 0);
    }
    json_decref(doc);
    _cleanup_spec_ struct cell_spec *spec = NULL;
    return cell_spec_parse(text, strlen(text), &spec, err);
}

static size_t for_each_example(const char *kind, bool want_ok)
{
    _cleanup_free_ char *dir = NULL;
    assert_true(asprintf(&dir, "%s/%s", spec_test_dir(), kind) > 0);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        /* netDevices is not parsed (yet), so its bad example passes. */
        if (!strstr(e->d_name, ".json") || (!want_ok && strstr(e->d_name, "netdevice")))
            continue;
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", dir, e->d_name) > 0);
        _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
        int r = parse_example(path, &err);
        if ((r == 0) != want_ok)
            fail_msg("%s: %s", path, r == 0 ? "parsed" : cell_error_text(&err));
        n++;
    }
    return n;
}

static void test_spec_good_examples_parse(void **state)
{
    (void)state;
    if (for_each_example("good", true) == 0)
        fail_msg("no good example configs under %s", spec_test_dir());
}

static void test_spec_bad_examples_refused(void **state)
{
    (void)state;
    if (for_each_example("bad", false) == 0)
        fail_msg("no bad example configs under %s", spec_test_dir());
}

static void test_spec_example_contents(void **state)
{
    (void)state;
    _cleanup_free_ char *path = NULL;
    assert_true(asprintf(&path, "%s/good/spec-example.json", spec_test_dir()) > 0);
    if (access(path, R_OK) != 0)
        fail_msg("%s: %s", path, strerror(errno));
    _cleanup_free_ char *text = read_text(path);
    json_t *doc = json_loads(text, 0, NULL);
    json_object_set_new(doc, "ociVersion", json_string("1.0.0"));
    _cleanup_free_ char *fixed = json_dumps(doc, 0);
    json_decref(doc);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    _cleanup_spec_ struct cell_spec *spec = NULL;
    assert_int_equal(cell_spec_parse(fixed, strlen(fixed), &spec, &err), 0);
    assert_string_equal(spec->hostname, "slartibartfast");
    assert_int_equal(spec->n_mounts, 7);
    assert_string_equal(spec->mounts[1].data, "mode=755,size=65536k");
    assert_string_equal(spec->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    assert_int_equal(spec->mounts[6].flags,
                     MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
    assert_int_equal(spec->linux.rootfs_propagation, MS_SLAVE);
    assert_true(spec->linux.ns[CELL_NS_TIME].present);
    assert_int_equal(spec->linux.time_offsets.boottime_secs, 604800);
    assert_int_equal(spec->linux.resources.pids.limit, 32771);
    assert_int_equal(spec->process.caps.ambient, CAP(10));
    assert_int_equal(spec->n_hooks[CELL_HOOK_POSTSTART], 1);
    assert_int_equal(spec->hooks[CELL_HOOK_POSTSTART][0].timeout, 5);
}

/* --- zeros that clients write for "not set" --- */

/* Every field a client fills with 0 (or "") when it was not asked for, as
 * runc 1.1 reads them: nothing to write. */
static void test_resources_zero_means_unset(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'linux':{'resources':{"
                 " 'memory':{'limit':0,'reservation':0,'swap':0,'kernel':0,'kernelTCP':0,"
                 "  'disableOOMKiller':false},"
                 " 'cpu':{'shares':0,'quota':0,'period':0,'realtimeRuntime':0,'realtimePeriod':0,"
                 "  'cpus':'','mems':''},"
                 " 'blockIO':{'weight':0,'leafWeight':0,"
                 "  'weightDevice':[{'major':8,'minor':0,'weight':0,'leafWeight':0}]},"
                 " 'network':{'classID':0}}}");
    const struct cell_resources *r = &spec->linux.resources;
    const int64_t values[] = {
        r->memory.limit,
        r->memory.reservation,
        r->memory.swap,
        r->memory.kernel,
        r->memory.kernel_tcp,
        r->cpu.shares,
        r->cpu.quota,
        r->cpu.period,
        r->cpu.realtime_runtime,
        r->cpu.realtime_period,
        r->block_io.weight,
        r->block_io.leaf_weight,
        r->block_io.weight_device[0].weight,
        r->block_io.weight_device[0].leaf_weight,
        r->network.class_id,
    };
    for (size_t i = 0; i < ARRAY_SIZE(values); i++)
        assert_int_equal(values[i], CELL_UNSET);
    assert_int_equal(r->memory.disable_oom_killer, -1);
    assert_null(r->cpu.cpus);
    assert_null(r->cpu.mems);
}

/* Where 0 is a setting (runc 1.1 writes it, or the spec says so), it stays. */
static void test_resources_zero_kept_where_it_is_a_value(void **state)
{
    (void)state;
    _cleanup_spec_ struct cell_spec *spec =
        parse_ok("'linux':{'resources':{'memory':{'swappiness':0},'cpu':{'idle':0,'burst':0},"
                 " 'pids':{'limit':0},"
                 " 'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':0}]},"
                 " 'hugepageLimits':[{'pageSize':'2MB','limit':0}]}}");
    const struct cell_resources *r = &spec->linux.resources;
    assert_int_equal(r->memory.swappiness, 0);
    assert_int_equal(r->cpu.idle, 0);
    assert_int_equal(r->cpu.burst, 0);
    assert_int_equal(r->pids.limit, 0);
    assert_int_equal(r->block_io.throttle_read_bps[0].rate, 0);
    assert_int_equal(r->hugepage_limits[0].limit, 0);
}

/* The same through `update --resources`, which parses on its own. */
static void test_resources_update_zero_means_unset(void **state)
{
    (void)state;
    json_t *obj = json_pack("{s:{s:i},s:{s:i}}", "cpu", "shares", 0, "blockIO", "weight", 0);
    struct cell_resources res;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    assert_int_equal(cell_spec_parse_resources(obj, "resources", &res, &err), 0);
    json_decref(obj);
    assert_int_equal(res.cpu.shares, CELL_UNSET);
    assert_int_equal(res.block_io.weight, CELL_UNSET);
    cell_resources_clear(&res);
}

/* tests/data/docker-20.10-config.json: what Debian's dockerd 20.10 handed
 * its runtime for `docker run --rm --network none IMAGE sh -c 'echo hi'`
 * (its paths put back to dockerd's defaults). It asks for no limit at
 * all, only device rules. */
static void test_docker_config_asks_for_no_limits(void **state)
{
    (void)state;
    const char *dir = getenv("CELL_TEST_DATA");
    assert_non_null(dir);
    _cleanup_free_ char *path = NULL;
    assert_true(asprintf(&path, "%s/docker-20.10-config.json", dir) > 0);
    _cleanup_free_ char *text = read_text(path);
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    struct cell_spec *parsed = NULL;
    if (cell_spec_parse(text, strlen(text), &parsed, &err) < 0)
        fail_msg("%s: %s", path, cell_error_text(&err));
    _cleanup_spec_ struct cell_spec *spec = parsed;
    const struct cell_resources *r = &spec->linux.resources;
    assert_true(strstr(text, "\"shares\":0") && strstr(text, "\"weight\":0"));
    assert_int_equal(r->cpu.shares, CELL_UNSET);
    assert_int_equal(r->block_io.weight, CELL_UNSET);
    assert_int_equal(r->memory.disable_oom_killer, -1);
    assert_int_equal(r->memory.limit, CELL_UNSET);
    assert_int_equal(r->pids.limit, CELL_UNSET);
    assert_int_equal(r->n_devices, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ns_names_round_trip),
        cmocka_unit_test(test_cap_names_round_trip),
        cmocka_unit_test(test_rlimit_names),
        cmocka_unit_test(test_hook_names),
        cmocka_unit_test(test_minimal_has_defaults),
        cmocka_unit_test(test_full_config_top_level),
        cmocka_unit_test(test_full_config_process),
        cmocka_unit_test(test_full_config_rlimits),
        cmocka_unit_test(test_full_config_mounts),
        cmocka_unit_test(test_full_config_hooks),
        cmocka_unit_test(test_full_config_linux),
        cmocka_unit_test(test_full_config_devices),
        cmocka_unit_test(test_caps_masks),
        cmocka_unit_test(test_caps_absent_not_present),
        cmocka_unit_test(test_caps_empty_object_present),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_null_counts_as_absent),
        cmocka_unit_test(test_version_variants_accepted),
        cmocka_unit_test(test_error_malformed_json),
        cmocka_unit_test(test_error_top_level_not_object),
        cmocka_unit_test(test_error_version_unsupported),
        cmocka_unit_test(test_error_version_missing),
        cmocka_unit_test(test_error_root),
        cmocka_unit_test(test_error_args),
        cmocka_unit_test(test_error_cwd),
        cmocka_unit_test(test_error_env),
        cmocka_unit_test(test_error_user),
        cmocka_unit_test(test_error_capabilities),
        cmocka_unit_test(test_unknown_capability_is_a_warning),
        cmocka_unit_test(test_known_capabilities_give_no_warning),
        cmocka_unit_test(test_keep_original_groups_annotation),
        cmocka_unit_test(test_error_rlimits),
        cmocka_unit_test(test_error_process_misc),
        cmocka_unit_test(test_error_hostname_type),
        cmocka_unit_test(test_error_mounts),
        cmocka_unit_test(test_error_hooks),
        cmocka_unit_test(test_error_annotations),
        cmocka_unit_test(test_error_long_path_truncated),
        cmocka_unit_test(test_error_namespaces),
        cmocka_unit_test(test_error_linux_misc),
        cmocka_unit_test(test_error_time_offsets),
        cmocka_unit_test(test_error_resources),
        cmocka_unit_test(test_error_resources_rdma_and_hugepages),
        cmocka_unit_test(test_mount_classic_flags),
        cmocka_unit_test(test_mount_clearing_flags),
        cmocka_unit_test(test_mount_later_option_wins),
        cmocka_unit_test(test_mount_data_joined),
        cmocka_unit_test(test_mount_propagation),
        cmocka_unit_test(test_mount_bind_forms),
        cmocka_unit_test(test_mount_recursive_attrs),
        cmocka_unit_test(test_mount_recursive_clears),
        cmocka_unit_test(test_mount_recursive_atime),
        cmocka_unit_test(test_mount_special_options),
        cmocka_unit_test(test_rootfs_propagation),
        cmocka_unit_test(test_time_offsets),
        cmocka_unit_test(test_time_offsets_absent),
        cmocka_unit_test(test_resources_device_rules),
        cmocka_unit_test(test_resources_memory_cpu_pids),
        cmocka_unit_test(test_resources_block_io),
        cmocka_unit_test(test_resources_hugepages_network),
        cmocka_unit_test(test_resources_rdma_unified),
        cmocka_unit_test(test_resources_unset_when_absent),
        cmocka_unit_test(test_resources_error_names_where),
        cmocka_unit_test(test_big_rlimit_accepted),
        cmocka_unit_test(test_big_integer_in_int_field_refused),
        cmocka_unit_test(test_too_big_integer_is_malformed),
        cmocka_unit_test(test_big_integer_in_raw_field),
        cmocka_unit_test(test_load_reads_bundle_config),
        cmocka_unit_test(test_load_error_prefixed_with_path),
        cmocka_unit_test(test_load_current_directory),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_spec_good_examples_parse),
        cmocka_unit_test(test_spec_bad_examples_refused),
        cmocka_unit_test(test_spec_example_contents),
        cmocka_unit_test(test_resources_zero_means_unset),
        cmocka_unit_test(test_resources_zero_kept_where_it_is_a_value),
        cmocka_unit_test(test_resources_update_zero_means_unset),
        cmocka_unit_test(test_docker_config_asks_for_no_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

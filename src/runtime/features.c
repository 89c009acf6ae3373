/* The Features structure of the runtime spec (features.md,
 * features-linux.md): what this build of the runtime recognises, fixed at
 * compile time and independent of the host, as the spec asks. */
#include "runtime/runtime.h"

#include "base/cleanup.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/spec/spec.h"

/* meson may pass the project version; the fallback keeps a hand build working. */
#ifndef CELL_VERSION
#define CELL_VERSION "0.1.0"
#endif

/* Every option the mount code recognises: the whole list of features.md.
 * Filesystem data options ("size=", "mode=") are not listed, as the spec
 * says they should not be. */
static const char *const mount_options[] = {
    "acl",          "async",       "atime",          "bind",
    "defaults",     "dev",         "diratime",       "dirsync",
    "exec",         "iversion",    "lazytime",       "loud",
    "mand",         "noacl",       "noatime",        "nodev",
    "nodiratime",   "noexec",      "noiversion",     "nolazytime",
    "nomand",       "norelatime",  "nostrictatime",  "nosuid",
    "nosymfollow",  "private",     "ratime",         "rbind",
    "rdev",         "rdiratime",   "relatime",       "remount",
    "rexec",        "rnoatime",    "rnodev",         "rnodiratime",
    "rnoexec",      "rnorelatime", "rnostrictatime", "rnosuid",
    "rnosymfollow", "ro",          "rprivate",       "rrelatime",
    "rro",          "rrw",         "rshared",        "rslave",
    "rstrictatime", "rsuid",       "rsymfollow",     "runbindable",
    "rw",           "shared",      "silent",         "slave",
    "strictatime",  "suid",        "symfollow",      "sync",
    "tmpcopyup",    "unbindable",
};

static json_t *string_array(const char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(items[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Builds an array of the names that name_of gives for 0..count-1, skipping
 * numbers without a name. */
static json_t *names_array(const char *(*name_of)(int), int count)
{
    json_t *a = json_array();
    for (int i = 0; a && i < count; i++) {
        const char *name = name_of(i);
        if (name && json_array_append_new(a, json_string(name)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static const char *hook_name(int i)
{
    return cell_hook_name((enum cell_hook_kind)i);
}

static const char *namespace_name(int i)
{
    return cell_ns_name((enum cell_ns_type)i);
}

static json_t *linux_features(void)
{
    return json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, s:{s:b},"
                     " s:{s:{s:b}}}",
                     "namespaces", names_array(namespace_name, CELL_NS_COUNT), "capabilities",
                     names_array(cell_cap_name, cell_cap_last() + 1), "cgroup", "v1", 1, "v2", 1,
                     "systemd", 1, "systemdUser", 0, "rdma", 1, "seccomp", cell_seccomp_features(),
                     "apparmor", "enabled", 1, "selinux", "enabled", 1, "intelRdt", "enabled", 0,
                     "mountExtensions", "idmap", "enabled", 0);
}

json_t *cell_runtime_features(void)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s}}", "ociVersionMin", "1.0.0",
                     "ociVersionMax", CELL_OCI_VERSION, "hooks",
                     names_array(hook_name, CELL_HOOK_COUNT), "mountOptions",
                     string_array(mount_options, ARRAY_SIZE(mount_options)), "linux",
                     linux_features(), "annotations", "io.github.cell.version", CELL_VERSION);
}

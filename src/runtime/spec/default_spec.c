/* The config.json that `spec` writes: runc's example spec (a shell in a
 * read-only rootfs with a small set of capabilities), with its rootless
 * variant. Both are meant to be edited by hand afterwards. */
#include "runtime/runtime.h"

#include "base/cleanup.h"

#include <string.h>
#include <unistd.h>

struct default_mount {
    const char *destination, *type, *source;
    const char *options[7]; /* NULL-terminated */
};

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", {NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
};

/* The kernel mounts a fresh sysfs only for the owner of the network
 * namespace, and a rootless container shares the host's; so it gets the
 * host's /sys as a read-only recursive bind, /sys/fs/cgroup included. */
static const struct default_mount rootless_sys = {
    "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *string_array(const char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n && items[i]; i++)
        if (json_array_append_new(a, json_string(items[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *default_caps(void)
{
    static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    return string_array(caps, ARRAY_SIZE(caps));
}

static json_t *default_process(void)
{
    return json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:o, s:o, s:o},"
                     " s:[{s:s, s:i, s:i}], s:b}",
                     "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "TERM=xterm", "cwd", "/", "capabilities", "bounding", default_caps(),
                     "effective", default_caps(), "permitted", default_caps(), "rlimits", "type",
                     "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

/* A uid/gid mapping is owned by whoever makes the user namespace, so a
 * rootless container can map only its own ids. */
static bool keep_option_when_rootless(const char *option)
{
    return strncmp(option, "gid=", 4) != 0 && strncmp(option, "uid=", 4) != 0;
}

static json_t *mount_options_json(const struct default_mount *m, bool rootless)
{
    json_t *options = json_array();
    for (size_t i = 0; options && m->options[i]; i++) {
        if (rootless && !keep_option_when_rootless(m->options[i]))
            continue;
        if (json_array_append_new(options, json_string(m->options[i])) < 0) {
            json_decref(options);
            return NULL;
        }
    }
    return options;
}

static json_t *mount_json(const struct default_mount *m, bool rootless)
{
    json_t *mount = json_pack("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type,
                              "source", m->source);
    if (!mount || !m->options[0]) /* runc leaves out an empty "options" */
        return mount;
    if (json_object_set_new(mount, "options", mount_options_json(m, rootless)) < 0) {
        json_decref(mount);
        return NULL;
    }
    return mount;
}

static json_t *default_mounts_json(bool rootless)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ARRAY_SIZE(default_mounts); i++) {
        const struct default_mount *m = &default_mounts[i];
        if (rootless && strcmp(m->destination, "/sys/fs/cgroup") == 0)
            continue;
        if (rootless && strcmp(m->destination, "/sys") == 0)
            m = &rootless_sys;
        if (json_array_append_new(a, mount_json(m, rootless)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *namespaces_json(bool rootless)
{
    /* Rootless: no network namespace (nothing could configure it without
     * privilege) and no cgroup namespace (the host cgroup tree is not ours);
     * a user namespace instead, which makes the others possible. */
    if (rootless)
        return json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type", "ipc",
                         "type", "uts", "type", "mount", "type", "user");
    return json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type", "network",
                     "type", "ipc", "type", "uts", "type", "mount", "type", "cgroup");
}

static json_t *id_mapping(unsigned host_id)
{
    return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host_id, "size",
                     1);
}

/* Rootless: the id mappings of the caller, who owns the user namespace; no
 * resources, since there is no device cgroup the caller may write to. */
static int add_rootless_ids(json_t *obj)
{
    if (json_object_set_new(obj, "uidMappings", id_mapping(geteuid())) < 0)
        return -1;
    return json_object_set_new(obj, "gidMappings", id_mapping(getegid()));
}

static int add_default_devices(json_t *obj)
{
    return json_object_set_new(
        obj, "resources", json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
}

/* Keys in the order runc writes them, so the two files diff cleanly. */
static json_t *default_linux(bool rootless)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    if ((rootless ? add_rootless_ids(obj) : add_default_devices(obj)) < 0 ||
        json_object_set_new(obj, "namespaces", namespaces_json(rootless)) < 0 ||
        json_object_set_new(obj, "maskedPaths",
                            string_array(masked_paths, ARRAY_SIZE(masked_paths))) < 0 ||
        json_object_set_new(obj, "readonlyPaths",
                            string_array(readonly_paths, ARRAY_SIZE(readonly_paths))) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *cell_runtime_default_spec(bool rootless)
{
    return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", CELL_OCI_VERSION,
                     "process", default_process(), "root", "path", "rootfs", "readonly", 1,
                     "hostname", "cell", "mounts", default_mounts_json(rootless), "linux",
                     default_linux(rootless));
}

/* Name tables: namespace kinds, capabilities, rlimits and hooks, as the
 * runtime spec and the kernel name them. Plain tables (no libcap), so that a
 * capability newer than the host's libcap still has a name. */
#include "runtime/spec/spec.h"

#include "base/cleanup.h"

#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct ns_names {
    const char *spec, *proc;
    int clone_flag;
};

static const struct ns_names ns_table[CELL_NS_COUNT] = {
    [CELL_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [CELL_NS_NET] = {"network", "net", CLONE_NEWNET},
    [CELL_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [CELL_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [CELL_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [CELL_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [CELL_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [CELL_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

static bool ns_valid(enum cell_ns_type t)
{
    return (unsigned)t < CELL_NS_COUNT;
}

const char *cell_ns_name(enum cell_ns_type t)
{
    return ns_valid(t) ? ns_table[t].spec : NULL;
}

int cell_ns_clone_flag(enum cell_ns_type t)
{
    return ns_valid(t) ? ns_table[t].clone_flag : 0;
}

const char *cell_ns_proc_name(enum cell_ns_type t)
{
    return ns_valid(t) ? ns_table[t].proc : NULL;
}

/* Indexed by capability number (linux/capability.h). */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
_Static_assert(ARRAY_SIZE(cap_names) == 41, "CAP_CHECKPOINT_RESTORE is 40");

int cell_cap_from_name(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(cap_names); i++)
        if (strcmp(cap_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *cell_cap_name(int cap)
{
    if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
        return NULL;
    return cap_names[cap];
}

int cell_cap_last(void)
{
    return (int)ARRAY_SIZE(cap_names) - 1;
}

struct rlimit_name {
    const char *name;
    int resource;
};

static const struct rlimit_name rlimit_names[] = {
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

int cell_rlimit_from_name(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(rlimit_names); i++)
        if (strcmp(rlimit_names[i].name, name) == 0)
            return rlimit_names[i].resource;
    return -1;
}

static const char *const hook_names[CELL_HOOK_COUNT] = {
    [CELL_HOOK_PRESTART] = "prestart",
    [CELL_HOOK_CREATE_RUNTIME] = "createRuntime",
    [CELL_HOOK_CREATE_CONTAINER] = "createContainer",
    [CELL_HOOK_START_CONTAINER] = "startContainer",
    [CELL_HOOK_POSTSTART] = "poststart",
    [CELL_HOOK_POSTSTOP] = "poststop",
};

const char *cell_hook_name(enum cell_hook_kind k)
{
    return (unsigned)k < CELL_HOOK_COUNT ? hook_names[k] : NULL;
}

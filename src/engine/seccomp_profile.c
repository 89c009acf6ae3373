/* Docker's default seccomp profile, as the facts of moby's
 * profiles/seccomp/default.json (moby/profiles, 2026): which syscalls are
 * allowed always, which only on some arches, with some capability or from
 * some kernel on, and with which argument checks. Everything not listed
 * fails with EPERM. The tables below are turned into a profile in Docker's
 * own format, which then goes through the same converter as a user's
 * `--security-opt seccomp=FILE`. */
#include "engine/defaults.h"

#include "base/cleanup.h"

#include <errno.h>
#include <stdint.h>

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Allowed for every container on every arch. socket(2) is not here: it is
 * allowed per address family below. */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
};

/* socket(2) is allowed for these address families (the domain, argument
 * 0). AF_UNIX (1) to AF_ROSE (11) are one "below 12" rule. Left out:
 * 12 AF_DECnet, 19 AF_ECONET, 20 AF_ATMSVC, 23 AF_IRDA, 25 AF_WANPIPE,
 * 34 AF_ISDN and 37 AF_CAIF, which kernels no longer implement; 38 AF_ALG,
 * the kernel crypto API, which containers do not need and which has had
 * exploitable bugs; 40 AF_VSOCK, which reaches VMs across network
 * namespaces on most kernels. (socketcall(2), where an ABI uses it, hides
 * the domain behind a pointer and stays allowed.) */
static const unsigned socket_families[] = {13, 14, 15, 16, 17, 18, 21, 22, 24, 26, 27, 28, 29,
                                           30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45};

/* personality(2) only for these personas: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (the query). */
static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* The namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|
 * NEWUSER|NEWPID|NEWNET. Without CAP_SYS_ADMIN clone must have none. */
#define CLONE_NS_FLAGS 0x7e020000ULL

struct arg {
    unsigned index;
    uint64_t value;
    const char *op;
};

struct cond {
    const char *const *caps, *const *arches;
    const char *min_kernel;
};

/* One conditional rule; the action is SCMP_ACT_ALLOW unless given. */
struct rule {
    const char *const *names;
    const char *action;
    int errno_ret;
    struct arg arg;
    bool has_arg;
    const char *comment;
    struct cond includes, excludes;
};

#define CAPS(...)   .caps = LIST(__VA_ARGS__)
#define ARCHES(...) .arches = LIST(__VA_ARGS__)

/* In Docker's order, after the plain list, the socket and the personality
 * rules. */
static const struct rule rules[] = {
    {.names = LIST("sync_file_range2", "swapcontext"), .includes = {ARCHES("ppc64le")}},
    {.names = LIST("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                   "cacheflush", "set_tls"),
     .includes = {ARCHES("arm", "arm64")}},
    {.names = LIST("arch_prctl"), .includes = {ARCHES("amd64", "x32")}},
    {.names = LIST("modify_ldt"), .includes = {ARCHES("amd64", "x32", "x86")}},
    {.names = LIST("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
     .includes = {ARCHES("s390", "s390x")}},
    {.names = LIST("riscv_flush_icache"), .includes = {ARCHES("riscv64")}},
    {.names = LIST("open_by_handle_at"), .includes = {CAPS("CAP_DAC_READ_SEARCH")}},
    {.names = LIST("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                   "fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules",
                   "lsm_set_self_attr", "mount", "mount_setattr", "move_mount", "open_tree",
                   "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
                   "setns", "syslog", "umount", "umount2", "unshare"),
     .includes = {CAPS("CAP_SYS_ADMIN")}},
    /* Without CAP_SYS_ADMIN: clone without namespace flags (argument 0,
     * argument 1 on s390, whose clone takes the stack first)... */
    {.names = LIST("clone"),
     .has_arg = true,
     .arg = {0, CLONE_NS_FLAGS, "SCMP_CMP_MASKED_EQ"},
     .excludes = {CAPS("CAP_SYS_ADMIN"), ARCHES("s390", "s390x")}},
    {.names = LIST("clone"),
     .has_arg = true,
     .arg = {1, CLONE_NS_FLAGS, "SCMP_CMP_MASKED_EQ"},
     .comment = "s390 parameter ordering for clone is different",
     .includes = {ARCHES("s390", "s390x")},
     .excludes = {CAPS("CAP_SYS_ADMIN")}},
    /* ...and clone3, whose flags are in memory a filter cannot read, fails
     * with ENOSYS, so that glibc falls back to clone. */
    {.names = LIST("clone3"),
     .action = "SCMP_ACT_ERRNO",
     .errno_ret = ENOSYS,
     .excludes = {CAPS("CAP_SYS_ADMIN")}},
    {.names = LIST("reboot"), .includes = {CAPS("CAP_SYS_BOOT")}},
    {.names = LIST("chroot"), .includes = {CAPS("CAP_SYS_CHROOT")}},
    {.names = LIST("delete_module", "init_module", "finit_module"),
     .includes = {CAPS("CAP_SYS_MODULE")}},
    {.names = LIST("acct"), .includes = {CAPS("CAP_SYS_PACCT")}},
    {.names = LIST("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                   "process_vm_writev", "ptrace"),
     .includes = {CAPS("CAP_SYS_PTRACE")}},
    {.names = LIST("iopl", "ioperm"), .includes = {CAPS("CAP_SYS_RAWIO")}},
    {.names = LIST("settimeofday", "stime", "clock_settime", "clock_settime64"),
     .includes = {CAPS("CAP_SYS_TIME")}},
    {.names = LIST("vhangup"), .includes = {CAPS("CAP_SYS_TTY_CONFIG")}},
    {.names = LIST("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
     .includes = {CAPS("CAP_SYS_NICE")}},
    {.names = LIST("syslog"), .includes = {CAPS("CAP_SYSLOG")}},
    {.names = LIST("bpf"), .includes = {CAPS("CAP_BPF")}},
    {.names = LIST("perf_event_open"), .includes = {CAPS("CAP_PERFMON")}},
};

/* Each arch Docker knows, with the sub-arches a filter for it covers. */
static const struct {
    const char *arch;
    const char *const *sub;
} arch_map[] = {
    {"SCMP_ARCH_X86_64", LIST("SCMP_ARCH_X86", "SCMP_ARCH_X32")},
    {"SCMP_ARCH_AARCH64", LIST("SCMP_ARCH_ARM")},
    {"SCMP_ARCH_MIPS64", LIST("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32")},
    {"SCMP_ARCH_MIPS64N32", LIST("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64")},
    {"SCMP_ARCH_MIPSEL64", LIST("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32")},
    {"SCMP_ARCH_MIPSEL64N32", LIST("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64")},
    {"SCMP_ARCH_S390X", LIST("SCMP_ARCH_S390")},
    {"SCMP_ARCH_RISCV64", NULL},
    {"SCMP_ARCH_LOONGARCH64", NULL},
};

/* ---- the tables as a profile in Docker's format ---------------------------- */

static json_t *strings(const char *const *v)
{
    json_t *a = json_array();
    for (; a && v && *v; v++)
        if (json_array_append_new(a, json_string(*v)) < 0)
            json_decref(TAKE_PTR(a));
    return a;
}

/* Appends o to a (stealing it); false when either is missing. */
static bool append(json_t *a, json_t *o)
{
    return a && o && json_array_append_new(a, o) == 0;
}

static bool set(json_t *o, const char *key, json_t *v)
{
    return o && v && json_object_set_new(o, key, v) == 0;
}

static json_t *cond_json(const struct cond *c)
{
    json_t *o = json_object();
    if ((c->caps && !set(o, "caps", strings(c->caps))) ||
        (c->arches && !set(o, "arches", strings(c->arches))) ||
        (c->min_kernel && !set(o, "minKernel", json_string(c->min_kernel))))
        json_decref(TAKE_PTR(o));
    return o;
}

static bool cond_empty(const struct cond *c)
{
    return !c->caps && !c->arches && !c->min_kernel;
}

static json_t *arg_json(const struct arg *a)
{
    return json_pack("[{s:i,s:I,s:s}]", "index", (int)a->index, "value", (json_int_t)a->value, "op",
                     a->op);
}

static json_t *rule_json(const struct rule *r)
{
    json_t *o = json_pack("{s:o,s:s}", "names", strings(r->names), "action",
                          r->action ? r->action : "SCMP_ACT_ALLOW");
    if ((r->errno_ret && !set(o, "errnoRet", json_integer(r->errno_ret))) ||
        (r->has_arg && !set(o, "args", arg_json(&r->arg))) ||
        (r->comment && !set(o, "comment", json_string(r->comment))) ||
        (!cond_empty(&r->includes) && !set(o, "includes", cond_json(&r->includes))) ||
        (!cond_empty(&r->excludes) && !set(o, "excludes", cond_json(&r->excludes))))
        json_decref(TAKE_PTR(o));
    return o;
}

static bool add_socket_rules(json_t *syscalls)
{
    struct rule r = {.names = LIST("socket"), .has_arg = true, .arg = {0, 12, "SCMP_CMP_LT"}};
    if (!append(syscalls, rule_json(&r)))
        return false;
    r.arg.op = "SCMP_CMP_EQ";
    for (size_t i = 0; i < ARRAY_SIZE(socket_families); i++) {
        r.arg.value = socket_families[i];
        if (!append(syscalls, rule_json(&r)))
            return false;
    }
    return true;
}

static bool add_personality_rules(json_t *syscalls)
{
    struct rule r = {.names = LIST("personality"), .has_arg = true, .arg = {0, 0, "SCMP_CMP_EQ"}};
    for (size_t i = 0; i < ARRAY_SIZE(personas); i++) {
        r.arg.value = personas[i];
        if (!append(syscalls, rule_json(&r)))
            return false;
    }
    return true;
}

static json_t *syscalls_json(void)
{
    json_t *syscalls = json_array();
    struct rule ptrace = {.names = LIST("process_vm_readv", "process_vm_writev", "ptrace"),
                          .includes = {.min_kernel = "4.8"}};
    bool ok = append(syscalls, json_pack("{s:o,s:s}", "names", strings(allowed), "action",
                                         "SCMP_ACT_ALLOW")) &&
              append(syscalls, rule_json(&ptrace)) && add_socket_rules(syscalls) &&
              add_personality_rules(syscalls);
    for (size_t i = 0; ok && i < ARRAY_SIZE(rules); i++)
        ok = append(syscalls, rule_json(&rules[i]));
    if (!ok)
        json_decref(TAKE_PTR(syscalls));
    return syscalls;
}

static json_t *arch_map_json(void)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ARRAY_SIZE(arch_map); i++) {
        json_t *sub = arch_map[i].sub ? strings(arch_map[i].sub) : json_null();
        if (!append(a, json_pack("{s:s,s:o}", "architecture", arch_map[i].arch, "subArchitectures",
                                 sub)))
            json_decref(TAKE_PTR(a));
    }
    return a;
}

json_t *cell_defaults_seccomp_profile(void)
{
    return json_pack("{s:s,s:i,s:o,s:o}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet",
                     EPERM, "archMap", arch_map_json(), "syscalls", syscalls_json());
}

json_t *cell_defaults_seccomp(char *const *caps)
{
    json_t *profile = cell_defaults_seccomp_profile();
    if (!profile)
        return NULL;
    _cleanup_err_ cell_err_t err = CELL_ERR_INIT;
    json_t *out =
        cell_defaults_seccomp_from_docker(profile, caps, "Docker's default seccomp profile", &err);
    json_decref(profile);
    return out;
}

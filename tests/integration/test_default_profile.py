"""The confinement `cell run` gives by default, as `docker run` does
(src/engine/defaults.h): Docker's capability set, Docker's default seccomp
profile resolved for those capabilities, and its masked and read-only paths.

The engine's own functions produce each piece (build/cell-defaults-dump
prints them); the tests put them into a bundle's config.json and look from
inside the container: a probe makes one syscall each and prints its errno.
Every refusal is checked against the same bundle without the filter, where
the call succeeds, so the filter is what refuses it. podman's default
profile, run through the same converter, shows where the two differ.
"""

import json
import os
import subprocess

import pytest

from helpers import REPO

DUMP = os.path.join(REPO, "build", "cell-defaults-dump")
PODMAN_PROFILE = "/usr/share/containers/seccomp.json"

# busybox cannot make these calls: a static probe makes each one named on
# its command line and prints "name=OK" or "name=E<NAME>".
PROBE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct clone_args_v0 { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
                       stack_size, tls; };

/* A child made by fn: 0 when it was made and exited 0, else the errno. */
static int child(long pid)
{
    int st;
    if (pid < 0)
        return errno;
    if (pid == 0)
        syscall(SYS_exit_group, 0);
    waitpid((pid_t)pid, &st, __WALL);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EIO;
}

static int sock(int family, int type, int proto)
{
    int fd = socket(family, type, proto);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

static int traceme(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 ? errno : 0);
    int st;
    waitpid(pid, &st, 0);
    return WEXITSTATUS(st);
}

static int try(const char *n)
{
    if (!strcmp(n, "getpid"))
        return syscall(SYS_getpid) < 0 ? errno : 0;
    if (!strcmp(n, "unshare_user")) {
        /* In a child: the probe itself stays where it is for the next call. */
        pid_t pid = fork();
        if (pid == 0)
            _exit(unshare(CLONE_NEWUSER) < 0 ? errno : 0);
        int st;
        waitpid(pid, &st, 0);
        return WEXITSTATUS(st);
    }
    if (!strcmp(n, "clone_newuser"))
        return child(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(n, "clone_plain"))
        return child(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (!strcmp(n, "clone3")) {
        struct clone_args_v0 a = {.exit_signal = SIGCHLD};
        return child(syscall(SYS_clone3, &a, sizeof a));
    }
    if (!strcmp(n, "keyctl"))
        return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0) < 0 ? errno : 0;
    if (!strcmp(n, "add_key"))
        return syscall(SYS_add_key, "user", "cell-probe", "x", 1, -2 /* PROCESS */) < 0 ? errno
                                                                                          : 0;
    if (!strcmp(n, "personality_bsd")) {
        if (personality(PER_BSD) < 0)
            return errno;
        personality(PER_LINUX);
        return 0;
    }
    if (!strcmp(n, "personality_query"))
        return personality(0xffffffff) < 0 ? errno : 0;
    if (!strcmp(n, "mount"))
        return mount("none", "/tmp", "tmpfs", 0, NULL) < 0 ? errno : 0;
    if (!strcmp(n, "ptrace"))
        return traceme();
    if (!strcmp(n, "io_uring_setup")) {
        char params[120] = {0};
        long fd = syscall(SYS_io_uring_setup, 1, params);
        return fd < 0 ? errno : (close((int)fd), 0);
    }
    if (!strcmp(n, "socket_unix"))
        return sock(AF_UNIX, SOCK_STREAM, 0);
    if (!strcmp(n, "socket_inet"))
        return sock(AF_INET, SOCK_DGRAM, 0);
    if (!strcmp(n, "socket_netlink"))
        return sock(AF_NETLINK, SOCK_RAW, 0);
    if (!strcmp(n, "socket_packet"))
        return sock(AF_PACKET, SOCK_DGRAM, 0);
    if (!strcmp(n, "socket_alg"))
        return sock(AF_ALG, SOCK_SEQPACKET, 0);
    if (!strcmp(n, "socket_vsock"))
        return sock(AF_VSOCK, SOCK_STREAM, 0);
    return EINVAL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int e = try(argv[i]);
        printf("%s=%s\n", argv[i], e ? strerrorname_np(e) : "OK");
    }
    return 0;
}
"""


@pytest.fixture(scope="session")
def probe_dir(session_dir):
    d = os.path.join(session_dir, "syscall-probe")
    os.mkdir(d, 0o755)
    src = os.path.join(d, "probe.c")
    with open(src, "w") as f:
        f.write(PROBE)
    subprocess.run(["cc", "-static", "-O", "-o", os.path.join(d, "probe"), src], check=True)
    return d


def dump(*args):
    if not os.access(DUMP, os.X_OK):
        pytest.fail(f"{DUMP} missing: build the tree (make)", pytrace=False)
    p = subprocess.run([DUMP, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def docker_like(b, caps, seccomp):
    """b confined as `docker run` confines: these capabilities (Docker sets
    no ambient or inheritable ones), no noNewPrivileges (Docker's default:
    the filter is loaded while the init still holds CAP_SYS_ADMIN), the
    given linux.seccomp, Docker's masked and read-only paths."""
    b.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    b.process["noNewPrivileges"] = False
    if seccomp is None:
        b.linux.pop("seccomp", None)
    else:
        b.linux["seccomp"] = seccomp
    b.linux["maskedPaths"] = dump("masked")
    b.linux["readonlyPaths"] = dump("readonly")
    return b


def probe(rt, b, probe_dir, *calls):
    """{call: "OK" | "EPERM" | ...} as the container sees it."""
    b.bind(probe_dir, "/probe", "ro")
    b.args("/probe/probe", *calls)
    p = rt.run(b)
    assert p.returncode == 0, p.stdout + p.stderr
    got = dict(line.split("=", 1) for line in p.stdout.split())
    assert set(got) == set(calls), p.stdout
    return got


REFUSED = ["unshare_user", "clone_newuser", "keyctl", "add_key", "personality_bsd"]
ALLOWED = ["getpid", "clone_plain", "personality_query", "ptrace", "socket_unix",
           "socket_inet", "socket_netlink", "socket_packet"]


def test_docker_caps_are_the_fourteen(rt, bundle):
    """CapEff a80425fb: what `docker run busybox grep Cap /proc/self/status`
    shows."""
    caps = dump("caps")
    assert len(caps) == 14
    b = docker_like(bundle(), caps, dump("seccomp"))
    b.sh("grep -E '^Cap(Eff|Bnd|Prm|Inh|Amb)' /proc/self/status")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    status = dict(line.split(":\t") for line in p.stdout.splitlines())
    assert status == {"CapInh": "0000000000000000", "CapPrm": "00000000a80425fb",
                      "CapEff": "00000000a80425fb", "CapBnd": "00000000a80425fb",
                      "CapAmb": "0000000000000000"}


def test_ordinary_commands_work_under_the_default_profile(rt, bundle):
    b = docker_like(bundle(), dump("caps"), dump("seccomp"))
    b.mount("/mnt/t", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"])
    b.sh("echo hi; ls / > /dev/null && echo ls; mkdir /mnt/t/d && echo x > /mnt/t/d/f && "
         "cat /mnt/t/d/f; sleep 0.01 && echo slept; (echo sub) | cat; "
         "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status")
    p = rt.run(b)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split("\n")[:-1] == ["hi", "ls", "x", "slept", "sub", "NoNewPrivs:\t0",
                                         "Seccomp:\t2"], p.stdout


def test_default_profile_refuses_what_the_kernel_would_allow(rt, bundle, probe_dir):
    """Unprivileged user namespaces, keyrings, other personalities: the
    kernel lets root without capabilities have them; Docker's profile does
    not (EPERM, its defaultErrnoRet), and clone3 fails with ENOSYS so that
    libc falls back to clone."""
    caps = dump("caps")
    calls = REFUSED + ["clone3"] + ALLOWED
    confined = probe(rt, docker_like(bundle(), caps, dump("seccomp")), probe_dir, *calls)
    free = probe(rt, docker_like(bundle(), caps, None), probe_dir, *calls)
    for c in REFUSED:
        assert (confined[c], free[c]) == ("EPERM", "OK"), c
    assert (confined["clone3"], free["clone3"]) == ("ENOSYS", "OK")
    for c in ALLOWED:
        assert (confined[c], free[c]) == ("OK", "OK"), c


def test_default_profile_refuses_some_socket_families(rt, bundle, probe_dir):
    """AF_ALG and AF_VSOCK, and io_uring, are refused by the filter; without
    it the kernel answers (whatever it has: a socket, or no such family)."""
    caps = dump("caps")
    calls = ["socket_alg", "socket_vsock", "io_uring_setup"]
    confined = probe(rt, docker_like(bundle(), caps, dump("seccomp")), probe_dir, *calls)
    free = probe(rt, docker_like(bundle(), caps, None), probe_dir, *calls)
    assert confined == {c: "EPERM" for c in calls}
    assert "EPERM" not in free.values(), free


def test_sys_admin_profile_allows_mount_and_namespaces(rt, bundle, probe_dir):
    """With CAP_SYS_ADMIN the profile Docker builds allows mount, unshare
    and clone3; built for the default set, the same container (still
    holding CAP_SYS_ADMIN) is refused them by the filter alone."""
    caps = dump("caps", "--cap-add", "sys_admin")
    assert caps[-1] == "CAP_SYS_ADMIN"
    calls = ["mount", "unshare_user", "clone_newuser", "clone3"]
    admin = probe(rt, docker_like(bundle(), caps, dump("seccomp", *caps)), probe_dir, *calls)
    assert admin == {c: "OK" for c in calls}
    narrow = probe(rt, docker_like(bundle(), caps, dump("seccomp")), probe_dir, *calls)
    assert narrow == {"mount": "EPERM", "unshare_user": "EPERM", "clone_newuser": "EPERM",
                      "clone3": "ENOSYS"}


def test_podman_profile_through_the_converter(rt, bundle, probe_dir):
    """podman's default profile (Docker's format) converts and runs; it
    differs from Docker's on keyctl, AF_ALG and user namespaces, which
    podman allows, and on
    the errno of what it refuses by default (ENOSYS, Docker's is EPERM)."""
    if not os.path.exists(PODMAN_PROFILE):
        pytest.fail(f"{PODMAN_PROFILE} missing (podman is in scripts/deps.sh)")
    caps = dump("caps")
    podman = dump("convert", PODMAN_PROFILE, *caps)
    calls = ["keyctl", "add_key", "socket_alg", "unshare_user", "clone_newuser", "getpid"]
    got = probe(rt, docker_like(bundle(), caps, podman), probe_dir, *calls)
    assert got["getpid"] == "OK"
    # podman allows keyctl; add_key gets its default errno, ENOSYS.
    assert (got["keyctl"], got["add_key"]) == ("OK", "ENOSYS")
    assert got["socket_alg"] != "EPERM"
    # podman allows user namespaces without CAP_SYS_ADMIN; Docker does not.
    assert (got["unshare_user"], got["clone_newuser"]) == ("OK", "OK")


# Reads only, and one write that is the container's own (ns_last_pid is
# per pid namespace): nothing of the host's is written when unmasked.
MASK_PROBE = ("wc -c < /proc/interrupts; wc -c < /proc/keys; wc -c < /proc/timer_list; "
              "ls /sys/firmware | wc -l; "
              "awk '$5 ~ /^\\/proc\\/(bus|fs|irq|sys)$/ && $6 ~ /^ro/ {print $5}' "
              "/proc/self/mountinfo | sort | tr '\\n' ' '; echo; "
              "echo 1 2>&1 > /proc/sys/kernel/ns_last_pid || true")


def test_masked_and_readonly_paths(rt, bundle):
    """What these hosts have of Docker's masked paths reads empty, and the
    read-only ones are read-only mounts; without the lists (the rest the
    same) neither."""
    b = docker_like(bundle(), dump("caps"), dump("seccomp")).sh(MASK_PROBE)
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:5] == ["0", "0", "0", "0", "/proc/bus /proc/fs /proc/irq /proc/sys "], p.stdout
    assert "Read-only file system" in lines[5], p.stdout
    b.linux["maskedPaths"] = b.linux["readonlyPaths"] = []
    lines = rt.run(b).stdout.splitlines()
    assert "0" not in lines[:4] and lines[4] == "", lines
    assert "Read-only" not in lines[5], lines

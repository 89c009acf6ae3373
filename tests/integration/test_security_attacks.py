"""Attacks from inside a container running as root with the default spec
(runc's): each must fail. Where the protection is a setting of the config,
a control switches it off and shows the same command then succeeds, so the
attack test could fail. Controls never touch the host: what they reach is
the container's own namespace or a probe the test made."""

import ctypes
import os
import secrets
import subprocess

import pytest

from helpers import add_caps, host_sysctl_unchanged


def run_out(rt, b, **kw):
    p = rt.run(b, **kw)
    return p.returncode, p.stdout + p.stderr


# -- /proc and /sys -----------------------------------------------------------


def test_sysrq_trigger_cannot_be_written(rt, bundle):
    """/proc/sysrq-trigger is read-only inside (a readonlyPaths entry)."""
    if not os.path.exists("/proc/sysrq-trigger"):
        pytest.skip("this kernel has no magic SysRq (/proc/sysrq-trigger is absent)")
    # "h" only prints help to the kernel log, should the write ever land
    b = bundle().sh("echo h > /proc/sysrq-trigger && echo WROTE; echo end")
    add_caps(b, "CAP_SYS_ADMIN")
    rc, out = run_out(rt, b)
    assert "WROTE" not in out and "Read-only file system" in out, out


def test_proc_sys_is_read_only(rt, bundle):
    with host_sysctl_unchanged("net.ipv4.ip_forward") as host:
        want = "1" if host == "0\n" else "0"
        b = bundle().sh(f"echo {want} > /proc/sys/net/ipv4/ip_forward && echo WROTE; "
                        "echo end")
        add_caps(b, "CAP_NET_ADMIN")
        rc, out = run_out(rt, b)
    assert "WROTE" not in out and "Read-only file system" in out, out


def test_control_proc_sys_without_readonly_paths_is_writable(rt, bundle):
    """Its own network namespace's ip_forward: harmless, and proves the
    read-only bind is what stopped the write above."""
    with host_sysctl_unchanged("net.ipv4.ip_forward") as host:
        want = "1" if host == "0\n" else "0"
        b = bundle().sh(f"echo {want} > /proc/sys/net/ipv4/ip_forward && "
                        "cat /proc/sys/net/ipv4/ip_forward")
        b.linux["readonlyPaths"] = []
        add_caps(b, "CAP_NET_ADMIN")
        rc, out = run_out(rt, b)
    assert out == want + "\n", out


def test_masked_proc_files_read_empty(rt, bundle):
    b = bundle().sh("for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do "
                    "[ -e $f ] && echo \"$f $(wc -c < $f)\"; done; ls /sys/firmware | wc -l")
    rc, out = run_out(rt, b)
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[-1] == "0", out  # /sys/firmware is an empty directory
    for line in lines[:-1]:
        assert line.endswith(" 0"), out


def test_control_sys_firmware_without_masked_paths_is_visible(rt, bundle):
    b = bundle().sh("ls /sys/firmware")
    b.linux["maskedPaths"] = []
    rc, out = run_out(rt, b)
    assert sorted(out.split()) == sorted(os.listdir("/sys/firmware")), out


def test_sysfs_is_read_only(rt, bundle):
    b = bundle().sh("echo 1 > /sys/kernel/mm/ksm/run && echo WROTE; echo end")
    rc, out = run_out(rt, b)
    assert "WROTE" not in out and "Read-only file system" in out, out


# -- privileged operations ----------------------------------------------------


def test_mount_is_refused(rt, bundle):
    b = bundle().sh("mount -t tmpfs t /mnt/t && echo MOUNTED; "
                    "mount -o remount,rw / && echo REMOUNTED; echo end")
    rc, out = run_out(rt, b)
    assert "MOUNTED" not in out and "REMOUNTED" not in out, out


def test_control_mount_with_cap_sys_admin(rt, bundle):
    """In the container's own mount namespace: nothing reaches the host."""
    b = bundle().sh("mount -t tmpfs t /mnt/t && echo MOUNTED")
    add_caps(b, "CAP_SYS_ADMIN")
    rc, out = run_out(rt, b)
    assert out == "MOUNTED\n", out


def test_module_load_is_refused(rt, bundle):
    """init_module from the container fails: EPERM without CAP_SYS_MODULE
    (ENOSYS on a kernel built without modules, as this test kernel is)."""
    b = bundle().sh("insmod /bin/busybox 2>&1; echo rc=$?")
    rc, out = run_out(rt, b)
    assert "rc=0" not in out, out
    assert "not permitted" in out or "does not support" in out, out


def host_block_device():
    """(major, minor) of a host block device the host itself can open (this
    sandbox refuses even its root to open its real disk): /dev/loop0."""
    if not os.path.exists("/dev/loop0"):
        pytest.skip("no /dev/loop0 on this host (the loop module is not loaded)")
    st = os.stat("/dev/loop0")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def test_mknod_of_a_host_disk_is_refused(rt, bundle):
    major, minor = host_block_device()
    b = bundle().sh(f"mknod /dev/hostdisk b {major} {minor} && echo MADE; echo end")
    rc, out = run_out(rt, b)
    assert "MADE" not in out, out


def test_a_host_disk_node_cannot_be_opened_even_with_cap_mknod(rt, bundle):
    """Docker grants CAP_MKNOD: the node can be made, the device cgroup
    still refuses to open it."""
    major, minor = host_block_device()
    b = bundle().sh(f"mknod /dev/hostdisk b {major} {minor} && echo MADE; "
                    "head -c 1 /dev/hostdisk > /dev/null && echo READ; echo end")
    add_caps(b, "CAP_MKNOD")
    rc, out = run_out(rt, b)
    assert "MADE" in out and "READ" not in out, out


def test_control_host_disk_readable_when_the_device_is_allowed(rt, bundle):
    major, minor = host_block_device()
    b = bundle().sh(f"mknod /dev/hostdisk b {major} {minor} && "
                    "head -c 1 /dev/hostdisk > /dev/null && echo READ")
    add_caps(b, "CAP_MKNOD")
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "r"})
    rc, out = run_out(rt, b)
    assert out == "READ\n", out


# -- other processes ----------------------------------------------------------


def test_host_processes_are_invisible(rt, bundle):
    me = os.getpid()
    b = bundle().sh(f"ls -d /proc/[0-9]* | wc -l; kill -0 {me} && echo SIGNALLED; echo end")
    rc, out = run_out(rt, b)
    lines = out.splitlines()
    assert int(lines[0]) <= 3, out  # sh, ls, wc
    assert "SIGNALLED" not in out, out


def test_host_process_memory_is_not_reachable_without_a_pid_namespace(rt, bundle):
    """Even sharing the host's pid namespace, without CAP_SYS_PTRACE the
    container cannot read a host process (ptrace access mode checks)."""
    me = os.getpid()
    b = bundle().sh(f"head -c 16 /proc/{me}/environ > /dev/null && echo READ; "
                    f"readlink /proc/{me}/exe && echo LINKED; echo end").without_namespace("pid")
    rc, out = run_out(rt, b)
    assert "READ" not in out and "LINKED" not in out, out


def test_control_host_process_readable_with_cap_sys_ptrace(rt, bundle):
    me = os.getpid()
    b = bundle().sh(f"head -c 16 /proc/{me}/environ > /dev/null && echo READ")
    b.without_namespace("pid")
    add_caps(b, "CAP_SYS_PTRACE")
    rc, out = run_out(rt, b)
    assert out == "READ\n", out


# -- keyrings -----------------------------------------------------------------

SYS_ADD_KEY, SYS_KEYCTL = 248, 250
KEYCTL_JOIN_SESSION_KEYRING = 1
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_SETPERM = 5
KEY_POS_ALL = 0x3f000000


def run_with_secret_key(rt, b, *flags):
    """Runs the runtime in a fresh session keyring holding a key only this
    test knows; returns (output, the key's description)."""
    desc = f"cell-test-secret-{secrets.token_hex(4)}"
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec():
        if libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
            os._exit(120)
        key = libc.syscall(SYS_ADD_KEY, b"user", desc.encode(), b"payload", 7,
                           KEY_SPEC_SESSION_KEYRING)
        # possessor only: seen in /proc/keys only through the keyring
        if key < 0 or libc.syscall(SYS_KEYCTL, KEYCTL_SETPERM, key, KEY_POS_ALL) < 0:
            os._exit(121)

    p = subprocess.run(rt.argv("run", "--bundle", b, *flags, b.cid), preexec_fn=preexec,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode not in (120, 121), "could not make the test's keyring"
    return p.stdout + p.stderr, desc


def keys_bundle(bundle):
    b = bundle().sh("cat /proc/keys")
    b.linux["maskedPaths"].remove("/proc/keys")
    return b


def test_host_session_keyring_is_not_reachable(rt, bundle):
    out, desc = run_with_secret_key(rt, keys_bundle(bundle))
    assert desc not in out, out


def test_control_no_new_keyring_shares_the_callers_keyring(rt, bundle):
    out, desc = run_with_secret_key(rt, keys_bundle(bundle), "--no-new-keyring")
    assert desc in out, out

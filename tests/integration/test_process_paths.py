"""One security test per step of the process setup (cell_process_setup in
src/runtime/process.c), each run through both paths that set a container
process up: the container's own process (run, or create + start) and an
exec'd one (`exec --process FILE`, or exec's flags). Each asserts what the
process observes from inside, and the host where it matters. The steps, in
the order they run: stray fds, cwd, session and terminal, LSM, scheduler,
rlimits, session keyring, personality, umask, executable, env, bounding
set, seccomp, user switch, no_new_privs.

The exec path's container runs the default process (helpers.run_through):
what the exec'd process sees differs from it, so a step the exec path
skipped would show the init's or the runtime's value instead."""

import contextlib
import fcntl
import os
import pty
import subprocess
import termios

import pytest

from helpers import (PROCESS_PATHS, ConsoleReceiver, default_process, exec_process_file,
                     exec_with_flags, kill_and_delete, read_file, read_until, run_through,
                     socket_activated)

PATHS = pytest.mark.parametrize("path", PROCESS_PATHS)


def paths(**marks):
    """PATHS, with marks for one path: paths(exec=pytest.mark.cell_only)."""
    return pytest.mark.parametrize("path", [pytest.param(p, marks=marks.get(p, ()))
                                            for p in PROCESS_PATHS])


# runc 1.1.5 implements runtime-spec 1.0.2, which had no personality,
# scheduler or ioPriority: it ignores them as unknown properties.
def runc_ignores(where, quote):
    return pytest.mark.peer_differs(
        "runc", reason=f"{where}: \"{quote}\"; runc 1.1.5 ignores the field")


def status_fields(text):
    """{"CapEff": "...", ...} from lines of /proc/PID/status."""
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())
            if v}


@pytest.fixture
def host_secret_dir(hostdir):
    d = hostdir("secret")
    with open(os.path.join(d, "host-secret"), "w") as f:
        f.write("x")
    return d


@contextlib.contextmanager
def opened_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


# -- stray fds ----------------------------------------------------------------

# The shell's own fd table (ls runs as its child and reads its parent's).
SHELL_FDS = "ls /proc/$$/fd; echo end"


def shell_fds(out):
    return out[:out.index("end\n")].split()


@PATHS
def test_a_caller_fd_not_passed_is_closed(rt, bundle, host_secret_dir, path):
    """A host dir open at fd 7 in the runtime's caller, not asked for: the
    process has 0-2 only (CVE-2024-21626 class)."""
    with opened_dir(host_secret_dir) as fd:
        b = bundle().sh(SHELL_FDS + "; ls /proc/self/fd/7/ 2>&1; true")
        p = run_through(rt, b, path, fds={7: fd})
    assert p.returncode == 0, p.stderr
    assert shell_fds(p.stdout) == ["0", "1", "2"], p.stdout
    assert "host-secret" not in p.stdout


@PATHS
def test_preserved_fds_pass_and_no_other(rt, bundle, test_dir, host_secret_dir, path):
    """--preserve-fds 1: fd 3 reaches the process, the caller's fd 7 does not."""
    passed = os.path.join(test_dir, "passed")
    with open(passed, "w") as f:
        f.write("through fd 3\n")
    file_fd = os.open(passed, os.O_RDONLY)
    try:
        with opened_dir(host_secret_dir) as fd:
            b = bundle().sh(SHELL_FDS + "; cat /proc/self/fd/3")
            p = run_through(rt, b, path, "--preserve-fds", "1", fds={3: file_fd, 7: fd})
    finally:
        os.close(file_fd)
    assert p.returncode == 0, p.stderr
    assert shell_fds(p.stdout) == ["0", "1", "2", "3"], p.stdout
    assert p.stdout.endswith("end\nthrough fd 3\n"), p.stdout


# -- cwd ----------------------------------------------------------------------

@PATHS
def test_cwd_is_entered(rt, bundle, path):
    b = bundle("pwd")
    b.process["cwd"] = "/home/user"
    p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "/home/user\n"), p.stderr


def cwd_through_fd_7(rt, bundle, rootfs, host_secret_dir, path, *flags):
    """A host dir open at fd 7 in the runtime's caller, and a cwd /work that
    is a symlink to /proc/self/fd/7: the process must not start, let alone
    in the host dir. The init's cwd is checked in the rootfs at create
    (openat2 follows no magic link there): a createContainer hook makes
    /work that symlink after the check, as a rootfs changing under the
    runtime could."""
    b = bundle().sh("echo STARTED; pwd; ls")
    work = os.path.join(b.own_rootfs(rootfs), "work")
    b.config["root"]["readonly"] = False
    b.process["cwd"] = "/work"
    if path == "init":
        os.mkdir(work)
        swap = f"rmdir {work} && ln -s /proc/self/fd/7 {work}"
        b.config["hooks"] = {"createContainer": [{"path": "/bin/sh",
                                                  "args": ["sh", "-c", swap]}]}
    else:
        os.symlink("/proc/self/fd/7", work)
    with opened_dir(host_secret_dir) as fd:
        p = run_through(rt, b, path, *flags, fds={7: fd})
    assert p.returncode != 0, p.stdout
    assert "STARTED" not in p.stdout
    assert "host-secret" not in p.stdout + p.stderr
    assert os.listdir(host_secret_dir) == ["host-secret"]
    if path == "init":
        assert os.path.islink(work), "the hook did not run"
        assert rt("state", b.cid).returncode != 0
    return p


@PATHS
def test_cwd_through_a_caller_fd_is_refused(rt, bundle, rootfs, host_secret_dir, path):
    """The fd is not passed: closed before the chdir, the link leads nowhere."""
    cwd_through_fd_7(rt, bundle, rootfs, host_secret_dir, path)


@PATHS
def test_cwd_through_a_passed_host_fd_is_refused(rt, bundle, rootfs, host_secret_dir, path):
    """--preserve-fds passes the host dir at fd 7 and the chdir lands in it:
    getcwd(2) then shows a cwd outside the root (CVE-2024-21626)."""
    cwd_through_fd_7(rt, bundle, rootfs, host_secret_dir, path, "--preserve-fds", "5")


# -- session and terminal -----------------------------------------------------

# pid, session, tty_nr of the shell itself
STAT_SESSION = "cut -d' ' -f1,6,7 /proc/$$/stat"


@PATHS
def test_no_controlling_terminal_of_the_callers(rt, bundle, path):
    """The runtime's caller has a controlling terminal; a process without
    process.terminal is a session of its own with none: /dev/tty does not
    open, and nothing it writes there reaches the caller's terminal (else it
    could TIOCSTI into the host's shell)."""
    master, slave = pty.openpty()

    def with_ctty():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    try:
        b = bundle().sh(STAT_SESSION + "; echo LEAKED > /dev/tty && echo TTY-OPEN; true")
        p = run_through(rt, b, path, preexec=with_ctty)
        os.set_blocking(master, False)
        try:
            seen = os.read(master, 4096)
        except BlockingIOError:
            seen = b""
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 0, p.stderr
    pid, sid, tty = p.stdout.split()[:3]
    assert sid == pid, f"not a session leader: {p.stdout}"
    assert tty == "0", p.stdout
    assert "TTY-OPEN" not in p.stdout and b"LEAKED" not in seen


def tty_device(tty_nr):
    n = int(tty_nr)
    return (n >> 8) & 0xfff, (n & 0xff) | ((n >> 12) & 0xfff00)


@PATHS
def test_terminal_is_the_controlling_one(rt, bundle, test_dir, path):
    """process.terminal: the pty's peer is the process's stdio and its
    controlling terminal, in a session of its own."""
    script = f"tty; {STAT_SESSION}; echo done; sleep 600"
    b = bundle()
    rx = ConsoleReceiver(os.path.join(test_dir, "console.sock"))
    try:
        if path == "init":
            b.sh(script).process["terminal"] = True
            rt.create(b, "--console-socket", rx.path)
            rt.start(b.cid)
        else:
            b.args("sleep", "600")
            rt.create_running(b)
            proc = default_process(("sh", "-c", script))
            proc["terminal"] = True
            p = exec_process_file(rt, b.cid, proc, "-d", "--console-socket", rx.path)
            assert p.returncode == 0, p.stderr
        out = read_until(rx.master(), "done").split("\n")
    finally:
        kill_and_delete(rt, b.cid)
        rx.close()
    assert out[0].startswith("/dev/pts/"), out
    pid, sid, tty = out[1].split()
    assert sid == pid, out
    assert tty_device(tty) == (136, int(out[0][len("/dev/pts/"):])), out


# -- LSM ----------------------------------------------------------------------

def host_has_lsm(field):
    if field == "selinuxLabel":
        return os.path.exists("/sys/fs/selinux/enforce")
    try:
        return read_file("/sys/module/apparmor/parameters/enabled").startswith("Y")
    except OSError:
        return False


LSM_LABELS = pytest.mark.parametrize("field,value,flag", [
    ("apparmorProfile", "cell-default", "--apparmor"),
    ("selinuxLabel", "system_u:system_r:container_t:s0", "--process-label")],
    ids=["apparmor", "selinux"])


def lsm_bundle(bundle, hostdir, field):
    if host_has_lsm(field):
        pytest.skip(f"the host has the LSM of {field} on: a label it has not loaded is "
                    "test_security_process.py's case")
    out = hostdir("out")
    b = bundle().sh("touch /out/started")
    b.bind(out, "/out")
    return b, os.path.join(out, "started")


@PATHS
@LSM_LABELS
def test_lsm_label_the_host_cannot_apply_is_refused(rt, bundle, hostdir, path, field, value,
                                                    flag):
    """This host has neither AppArmor nor SELinux: a label is refused and the
    process never runs; without it the same process runs (the control)."""
    b, started = lsm_bundle(bundle, hostdir, field)
    assert run_through(rt, b, path).returncode == 0
    assert os.path.exists(started)
    os.unlink(started)
    b.process[field] = value
    p = run_through(rt, b, path)
    assert p.returncode != 0
    assert not os.path.exists(started)
    assert rt("state", b.cid).returncode != 0


@LSM_LABELS
def test_exec_lsm_flag_the_host_cannot_apply_is_refused(rt, bundle, hostdir, field, value,
                                                        flag):
    b, started = lsm_bundle(bundle, hostdir, field)
    p = exec_with_flags(rt, b, flag, value)
    assert p.returncode != 0
    assert not os.path.exists(started)


# -- scheduler ----------------------------------------------------------------

@PATHS
@runc_ignores("config.md Process", "scheduler (object, OPTIONAL) is an object describing "
              "the scheduler properties for the process")
def test_scheduler_and_io_priority(rt, bundle, path):
    b = bundle().sh("cut -d' ' -f19,41 /proc/$$/stat; ionice -p $$")
    b.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    b.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "7 3", lines  # nice 7, SCHED_BATCH
    assert "best-effort" in lines[1] and "6" in lines[1], lines


# -- rlimits ------------------------------------------------------------------

# runc 1.1.5 sets an exec'd process's rlimits with prlimit(2) from outside
# while its Go runtime (1.19) raises the soft NOFILE limit to the hard one:
# runc issue #4195, fixed in 1.1.13 and 1.2.
RUNC_EXEC_NOFILE = pytest.mark.peer_differs(
    "runc", reason="config.md rlimits: \"soft (uint64, REQUIRED) - the value of the limit "
    "enforced for the corresponding resource\"; runc 1.1.5 exec gives a NOFILE soft limit "
    "equal to the hard one (runc #4195)")


@pytest.mark.parametrize("path,rlimit,resource", [
    ("init", "RLIMIT_CORE", "core file size"), ("exec", "RLIMIT_CORE", "core file size"),
    ("init", "RLIMIT_NOFILE", "open files"),
    pytest.param("exec", "RLIMIT_NOFILE", "open files", marks=RUNC_EXEC_NOFILE)])
def test_rlimits(rt, bundle, path, rlimit, resource):
    """Soft and hard as asked, within the host's hard limits (no process
    here holds CAP_SYS_RESOURCE, so none could raise one); neither the
    runtime's nor the config's (NOFILE 1024 there)."""
    b = bundle("grep", f"^Max {resource} ", "/proc/self/limits")
    b.process["rlimits"] = [{"type": rlimit, "soft": 321, "hard": 654}]
    p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-3:-1] == ["321", "654"], p.stdout


# -- session keyring ----------------------------------------------------------

# busybox has no keyctl: a static probe prints the session keyring's serial
# and description ("keyring;uid;gid;perm;name").
KEYRING_PROBE = r"""
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    char desc[256] = "";
    long id = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0);
    if (id < 0 || syscall(SYS_keyctl, 6 /* DESCRIBE */, id, desc, sizeof desc - 1) < 0) {
        perror("keyctl");
        return 1;
    }
    printf("%ld %s\n", id, desc);
    return 0;
}
"""


@pytest.fixture(scope="session")
def keyring_probe(session_dir):
    """A dir holding `keyring`, the static probe."""
    d = os.path.join(session_dir, "keyring-probe")
    os.mkdir(d, 0o755)
    src = os.path.join(d, "keyring.c")
    with open(src, "w") as f:
        f.write(KEYRING_PROBE)
    subprocess.run(["cc", "-static", "-O", "-o", os.path.join(d, "keyring"), src], check=True)
    return d


def keyring_of(text):
    """(serial, name) from the probe's output."""
    serial, desc = text.split(None, 1)
    return int(serial), desc.strip().split(";", 4)[4]


def callers_keyring(keyring_probe):
    """The session keyring of the test process (and so of the runtime it runs)."""
    return keyring_of(subprocess.run([os.path.join(keyring_probe, "keyring")], check=True,
                                     capture_output=True, text=True).stdout)


def keyring_bundle(bundle, hostdir, keyring_probe):
    out = hostdir("out")
    b = bundle()
    b.bind(keyring_probe, "/data", "ro")
    b.bind(out, "/out")
    return b, os.path.join(out, "init")


# The exec path's init writes its keyring to /out/init first; the exec'd
# process waits for it, so that the two can be compared.
INIT_KEYRING = ("sh", "-c", "/data/keyring > /out/init.tmp; mv /out/init.tmp /out/init; "
                "exec sleep 600")
AFTER_INIT = "until test -e /out/init; do sleep 0.05; done; exec /data/keyring"


@PATHS
def test_session_keyring_is_the_containers_own(rt, bundle, hostdir, keyring_probe, path):
    """A keyring "_ses.<id>" of the container's, not the caller's: no key of
    the host's session reaches the process. An exec'd process joins the
    container's (the one its init has), as runc does."""
    b, init_file = keyring_bundle(bundle, hostdir, keyring_probe)
    b.sh(AFTER_INIT if path == "exec" else "exec /data/keyring")
    p = run_through(rt, b, path, init_args=INIT_KEYRING)
    assert p.returncode == 0, p.stderr
    serial, name = keyring_of(p.stdout)
    assert name == f"_ses.{b.cid}"
    assert serial != callers_keyring(keyring_probe)[0]
    if path == "exec":
        assert keyring_of(read_file(init_file)) == (serial, name)


@PATHS
def test_no_new_keyring_keeps_the_callers(rt, bundle, hostdir, keyring_probe, path):
    """create --no-new-keyring: the process keeps the session keyring of its
    runtime's caller, the exec'd one too (the state remembers the flag)."""
    b, init_file = keyring_bundle(bundle, hostdir, keyring_probe)
    b.sh(AFTER_INIT if path == "exec" else "exec /data/keyring")
    p = run_through(rt, b, path, init_args=INIT_KEYRING, create_flags=("--no-new-keyring",))
    assert p.returncode == 0, p.stderr
    mine = callers_keyring(keyring_probe)
    assert keyring_of(p.stdout) == mine
    if path == "exec":
        assert keyring_of(read_file(init_file)) == mine


# -- personality --------------------------------------------------------------

@PATHS
@runc_ignores("config-linux.md Personality",
              "LINUX32 will set the uname system call to show a 32 bit CPU type")
def test_personality_linux32(rt, bundle, path):
    b = bundle("uname", "-m")
    b.linux["personality"] = {"domain": "LINUX32"}
    p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "i686\n"), p.stderr


# -- umask --------------------------------------------------------------------

@contextlib.contextmanager
def callers_umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@paths(exec=pytest.mark.peer_differs(
    "runc", reason="config.md user: \"umask (int, OPTIONAL) specifies the umask of the "
    "user\"; runc 1.1.5 applies it to the init only (exec since runc 1.2, PR #3661)"))
def test_umask_as_configured(rt, bundle, path):
    b = bundle("sh", "-c", "umask")
    b.process["user"]["umask"] = 0o027
    p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "0027\n"), p.stderr


# Not the caller's 077: 022, as runc and crun give the init (config.md's
# "If unspecified, the umask should not be changed from the calling
# process' umask" is followed by neither, runc #3533). runc 1.1.5 leaves an
# exec'd process the caller's umask; cell gives it the init's 022.
@paths(exec=pytest.mark.cell_only)
def test_umask_unset_is_022_not_the_callers(rt, bundle, path):
    b = bundle("sh", "-c", "umask")
    with callers_umask(0o077):
        p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "0022\n"), p.stderr


# -- executable ---------------------------------------------------------------

@PATHS
def test_executable_is_found_through_the_processs_path(rt, bundle, hostdir, path):
    """args[0] without a slash is looked up in the container, through the
    PATH of the process's own env (the exec'd one's differs from the
    config's)."""
    d = hostdir("bin")
    probe = os.path.join(d, "probe")
    with open(probe, "w") as f:
        f.write("#!/bin/sh\necho found $0\n")
    os.chmod(probe, 0o755)
    b = bundle("probe")
    b.bind(d, "/data", "ro")
    b.process["env"] = ["PATH=/nonexistent:/data:/bin"]
    p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "found /data/probe\n"), p.stderr


# -- env ----------------------------------------------------------------------

@PATHS
def test_home_comes_from_the_containers_passwd(rt, bundle, path):
    b = bundle("sh", "-c", 'echo "$HOME"')
    b.process["user"] = {"uid": 1000, "gid": 1000}
    p = run_through(rt, b, path)
    assert (p.returncode, p.stdout) == (0, "/home/user\n"), p.stderr


# runc passes LISTEN_FDS on create and run only.
@paths(exec=pytest.mark.cell_only)
def test_listen_fds_reach_the_process_with_its_pid(rt, bundle, test_dir, path):
    show = 'cat /proc/self/fd/3; echo "$LISTEN_FDS|$LISTEN_PID|$$"'
    b = bundle("sh", "-c", show)
    if path == "init":
        p = socket_activated(rt, test_dir, ["run", "--bundle", b, b.cid], ["x\n"], 1)
    else:
        b.args("sleep", "600")
        rt.create_running(b)
        try:
            p = socket_activated(rt, test_dir, ["exec", b.cid, "sh", "-c", show], ["x\n"], 1)
        finally:
            kill_and_delete(rt, b.cid)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "x", lines
    count, pid, own = lines[1].split("|")
    assert (count, pid) == ("1", own), lines


# -- capabilities -------------------------------------------------------------

CAP = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
       "CAP_SYS_CHROOT": 18}


def mask(*names):
    return sum(1 << CAP[n] for n in names)


@PATHS
def test_capability_sets_and_bounding_set(rt, bundle, path):
    """uid 1000 with all five sets given (none of them the config's
    default): the bounding set is dropped to what is asked, and execve
    leaves permitted = effective = ambient."""
    b = bundle("grep", "-E", "^Cap(Inh|Prm|Eff|Bnd|Amb):", "/proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                     "CAP_SYS_CHROOT"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"],
        "ambient": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]}
    p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    got = {k: int(v, 16) for k, v in status_fields(p.stdout).items()}
    amb = mask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW")
    assert got == {"CapBnd": mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                  "CAP_NET_RAW", "CAP_SYS_CHROOT"),
                   "CapInh": mask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"),
                   "CapPrm": amb, "CapEff": amb, "CapAmb": amb}, p.stdout


# -- seccomp ------------------------------------------------------------------

MKDIR_RULE = {"defaultAction": "SCMP_ACT_ALLOW",
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}


@PATHS
@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
def test_seccomp_filter_holds_for_a_user_without_capabilities(rt, bundle, path, nnp):
    """uid 1000 with no capability. Without noNewPrivileges the filter needs
    CAP_SYS_ADMIN, so it must go in before the user switch; with it, last.
    Either way one filter holds and refuses mkdir."""
    b = bundle().sh("mkdir /mnt/t/d 2>&1; echo rc=$?; "
                    "grep -E '^(Uid|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status")
    b.mount("/mnt/t", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {}
    b.process["noNewPrivileges"] = nnp
    b.linux["seccomp"] = MKDIR_RULE
    p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    assert "Operation not permitted" in p.stdout and "rc=1" in p.stdout, p.stdout
    st = status_fields(p.stdout)
    assert st["Uid"].split()[0] == "1000"
    assert (st["Seccomp"], st["Seccomp_filters"]) == ("2", "1"), p.stdout
    assert st["NoNewPrivs"] == ("1" if nnp else "0"), p.stdout


# -- user switch --------------------------------------------------------------

@contextlib.contextmanager
def callers_groups(groups):
    old = os.getgroups()
    os.setgroups(groups)
    try:
        yield
    finally:
        os.setgroups(old)


ID_FIELDS = ("grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status")


@pytest.mark.parametrize("path", PROCESS_PATHS + ("exec-flags",))
def test_user_groups_gid_uid(rt, bundle, path):
    """All four uids and gids are the user's, the groups exactly the ones
    asked for: none of the caller's (4242) stays."""
    b = bundle(*ID_FIELDS)
    with callers_groups([4242]):
        if path == "exec-flags":
            p = exec_with_flags(rt, b, "--user", "1000:1000", "--additional-gids", "5",
                                "--additional-gids", "65534")
        else:
            b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534]}
            p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    st = status_fields(p.stdout)
    assert st["Uid"].split() == ["1000"] * 4 and st["Gid"].split() == ["1000"] * 4, p.stdout
    assert sorted(st["Groups"].split(), key=int) == ["5", "65534"], p.stdout


@PATHS
@pytest.mark.peer_differs("runc", reason="run.oci.keep_original_groups is crun's annotation "
                          "(podman's --group-add keep-groups); runc 1.1.5 ignores it")
def test_keep_original_groups_skips_setgroups(rt, bundle, path):
    b = bundle(*ID_FIELDS)
    b.config["annotations"] = {"run.oci.keep_original_groups": "1"}
    b.process["user"] = {"uid": 1000, "gid": 1000}
    with callers_groups([5, 4242]):
        p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    st = status_fields(p.stdout)
    assert st["Uid"].split()[0] == "1000"
    assert sorted(st["Groups"].split(), key=int) == ["5", "4242"], p.stdout


# -- no_new_privs -------------------------------------------------------------

@pytest.mark.parametrize("path,nnp", [(p, n) for p in PROCESS_PATHS for n in (True, False)] +
                         [("exec-flags", True)])
def test_no_new_privs(rt, bundle, path, nnp):
    """As asked (exec-flags: --no-new-privs over a config without it). An
    exec'd process comes from the runtime, not from the container's init:
    it has the flag only when the setup sets it."""
    b = bundle("grep", "^NoNewPrivs:", "/proc/self/status")
    if path == "exec-flags":
        b.process["noNewPrivileges"] = False
        p = exec_with_flags(rt, b, "--no-new-privs")
    else:
        b.process["noNewPrivileges"] = nnp
        p = run_through(rt, b, path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[1] == ("1" if nnp else "0"), p.stdout

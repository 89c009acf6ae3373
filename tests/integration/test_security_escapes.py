"""The escapes that hit runc and crun, each tried from inside (or against)
the container and each required to fail.

- CVE-2019-5736 class: the host's runtime binary reached through
  /proc/PID/exe of a runtime process in the container, to read or overwrite.
- CVE-2024-21626 class: a host fd leaked into the container, or a cwd that
  resolves outside the rootfs through such an fd.
- CVE-2021-30465 class and crun's /dev symlink: symlinks in the rootfs (some
  swapped while the runtime works) that would redirect a mount, a masked or
  read-only path, or /dev setup onto the host.
"""

import fcntl
import hashlib
import os
import secrets
import select
import socket
import struct
import subprocess
import threading

import pytest

from helpers import runtime_path, wait_for


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_out(rt, b):
    p = rt.run(b)
    return p.returncode, p.stdout + p.stderr


# -- CVE-2019-5736: the runtime binary ---------------------------------------

EXE_ATTACK = ("for p in /proc/[0-9]*; do "
              "readlink $p/exe; "
              "head -c 4 $p/exe >/dev/null 2>&1 && echo READ $p; "
              "(echo x >> $p/exe) 2>/dev/null && echo WROTE $p; "
              "done; echo done")


def test_container_init_exe_is_the_users_binary(rt, bundle):
    b = bundle().sh("readlink /proc/1/exe")
    rc, out = run_out(rt, b)
    assert rc == 0 and out == "/bin/busybox\n", out


def runs_runtime_code(exe):
    """True for a /proc/PID/exe target that is not the container's program:
    the host binary (cell) or runc's read-only copy (it reads "/")."""
    return exe is not None and not exe.endswith("/busybox")


def exe_attack_on_a_created_init(rt, bundle):
    """Between create and start the init is still the runtime's code. A
    process exec'd into the created container scans /proc/*/exe: its output."""
    b = bundle("sh")
    rt.create(b)
    try:
        init = rt.state(b.cid)["pid"]
        assert runs_runtime_code(os.readlink(f"/proc/{init}/exe"))  # the target exists
        p = rt("exec", b.cid, "sh", "-c", EXE_ATTACK)
        assert p.returncode == 0, p.stderr
        assert "done" in p.stdout, p.stdout
        return p.stdout
    finally:
        rt.delete(b.cid, force=True)


def test_created_init_does_not_let_the_runtime_binary_be_overwritten(rt, bundle):
    binary = os.path.realpath(runtime_path())
    before = sha256(binary)
    out = exe_attack_on_a_created_init(rt, bundle)
    assert "WROTE" not in out, out
    assert sha256(binary) == before


# cell's own choice: the runtime's code in the container cannot even be read
# (its init is non-dumpable). runc 1.1.5 runs it from a read-only bind of
# its binary that the container may read but not write.
@pytest.mark.cell_only
def test_created_init_does_not_expose_the_runtime_binary(rt, bundle):
    binary = os.path.realpath(runtime_path())
    out = exe_attack_on_a_created_init(rt, bundle)
    assert "READ /proc/1" not in out, out
    assert "cell-runtime" not in out and binary not in out, out


NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101
NOTIF_FLAG_CONTINUE = 1


class ExecHolder(threading.Thread):
    """A seccomp agent for a filter that notifies on execve: every execve
    continues at once, except the first one made by a process still running
    the runtime's binary once armed -- the exec'd process, parked in the
    container until release is set."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.1)
        self.armed, self.held, self.release = (threading.Event(), threading.Event(),
                                               threading.Event())
        self.stop = threading.Event()
        self.held_pid = None
        self.errors = []

    def run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                _, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
            threading.Thread(target=self.serve, args=(fds[0],), daemon=True).start()

    def exe_of(self, pid):
        try:
            return os.path.realpath(f"/proc/{pid}/exe")
        except OSError:
            return None

    def serve(self, fd):
        try:
            while not self.stop.is_set():
                if not select.select([fd], [], [], 0.1)[0]:
                    continue
                buf = bytearray(80)
                try:
                    fcntl.ioctl(fd, NOTIF_RECV, buf, True)
                except OSError:
                    continue
                nid, pid = struct.unpack_from("=QI", buf)
                if (self.armed.is_set() and not self.held.is_set() and
                        runs_runtime_code(self.exe_of(pid))):
                    self.held_pid = pid
                    self.held.set()
                    self.release.wait(90)
                try:
                    fcntl.ioctl(fd, NOTIF_SEND, struct.pack("=QqiI", nid, 0, 0,
                                                            NOTIF_FLAG_CONTINUE))
                except OSError:
                    pass
        except Exception as e:
            self.errors.append(e)
        finally:
            os.close(fd)

    def finish(self):
        self.release.set()
        self.stop.set()
        self.join(10)
        self.sock.close()


def scan_while_an_exec_is_parked(rt, bundle, gate, test_dir):
    """While `exec` sets its process up inside the container, that process
    runs the runtime's code. Parked right there (a seccomp agent holds its
    execve), a container process scans /proc/*/exe: what it saw."""
    agent = ExecHolder(os.path.join(test_dir, "agent.sock"))
    agent.start()
    b = bundle()
    g = gate(b)
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": agent.sock.getsockname(),
                          "syscalls": [{"names": ["execve", "execveat"],
                                        "action": "SCMP_ACT_NOTIFY"}]}
    # cmp exits 1 only when it read both files and they differ: an exe that
    # is readable and is not busybox is the runtime binary
    b.sh("(while [ ! -e /gate/stop ]; do for p in /proc/[0-9]*; do "
         "l=$(readlink $p/exe) && echo \"$p $l\"; cmp -s $p/exe /bin/busybox; "
         "[ $? = 1 ] && echo \"FOREIGN $p\"; (echo >> $p/exe) 2>/dev/null && "
         "echo \"WROTE $p\"; done; echo pass; done > /gate/scan 2>&1 &) ; " + g.wait)
    result = {}
    try:
        init = rt.create_running(b)
        # start may return before the init's own execve: let that one pass
        wait_for(lambda: (agent.exe_of(init) or "").endswith("/busybox"), 10,
                 what="the init to exec its program")
        agent.armed.set()
        t = threading.Thread(target=lambda: result.update(p=rt("exec", b.cid, "true", timeout=150)))
        t.start()
        if not agent.held.wait(60):
            t.join(60)
            p = result.get("p")
            raise AssertionError("the exec'd process never reached execve: exec "
                                 f"{p and (p.returncode, p.stdout, p.stderr)}, "
                                 f"agent errors {agent.errors}")
        # it is parked in the container, still running the runtime's code
        assert runs_runtime_code(agent.exe_of(agent.held_pid))
        scan = os.path.join(g.dir, "scan")
        start = open(scan).read().count("pass")
        wait_for(lambda: open(scan).read().count("pass") >= start + 3, 60,
                 what="three scans of /proc while the exec'd process is parked")
        agent.release.set()
        t.join(60)
    finally:
        agent.finish()
        open(os.path.join(g.dir, "stop"), "w").close()
        g.release()
        rt.wait_status(b.cid, "stopped")
        rt.delete(b.cid)
    assert result["p"].returncode == 0, result["p"].stderr
    with open(os.path.join(g.dir, "scan")) as f:
        seen = f.read()
    assert "/bin/busybox" in seen  # the scanner did read other processes' exe
    return seen


def test_exec_process_does_not_let_the_runtime_binary_be_overwritten(rt, bundle, gate,
                                                                     test_dir):
    binary = os.path.realpath(runtime_path())
    before = sha256(binary)
    seen = scan_while_an_exec_is_parked(rt, bundle, gate, test_dir)
    assert "WROTE" not in seen, seen[:3000]
    assert sha256(binary) == before


# cell's own choice, as for the created init above: runc's parked exec
# process runs a read-only copy of runc that the container can read.
@pytest.mark.cell_only
def test_exec_process_does_not_expose_the_runtime_binary(rt, bundle, gate, test_dir):
    binary = os.path.realpath(runtime_path())
    seen = scan_while_an_exec_is_parked(rt, bundle, gate, test_dir)
    assert "FOREIGN" not in seen, seen[:3000]
    assert binary not in seen, seen[:3000]


# -- CVE-2024-21626: leaked fds and the cwd -----------------------------------


@pytest.fixture
def host_secret_dir(hostdir):
    d = hostdir("secret")
    with open(os.path.join(d, "host-secret"), "w") as f:
        f.write("x")
    return d


def test_no_host_fd_survives_into_the_container(rt, bundle, host_secret_dir):
    fd = os.open(host_secret_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        b = bundle().sh("ls /proc/self/fd; ls /proc/self/fd/7/ 2>&1; true")
        p = rt.run(b, fds={7: fd})
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    assert "host-secret" not in p.stdout
    # ls's own fds: 0, 1, 2 and the directory it reads
    assert sorted(p.stdout.split()[:4]) == ["0", "1", "2", "3"], p.stdout


def test_control_a_preserved_fd_is_visible(rt, bundle, host_secret_dir):
    """The same fd, asked for with --preserve-fds, does reach the container:
    the test above would see it."""
    fd = os.open(host_secret_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        b = bundle().sh("ls /proc/self/fd/7/")
        p = rt.run(b, "--preserve-fds", "5", fds={7: fd})
    finally:
        os.close(fd)
    assert "host-secret" in p.stdout, p.stdout + p.stderr


@pytest.mark.parametrize("cwd", ["/proc/self/fd/7", "/proc/1/fd/7", "/proc/self/cwd/../../.."])
def test_cwd_through_a_leaked_fd_never_lands_on_the_host(rt, bundle, host_secret_dir, cwd):
    fd = os.open(host_secret_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        b = bundle().sh("pwd; ls; ls ..")
        b.process["cwd"] = cwd
        b.config["root"]["readonly"] = False
        b.own_rootfs(b.config["root"]["path"])
        p = rt.run(b, fds={7: fd})
    finally:
        os.close(fd)
    assert "host-secret" not in p.stdout + p.stderr
    assert os.listdir(host_secret_dir) == ["host-secret"]


def test_exec_cwd_through_a_leaked_fd_never_lands_on_the_host(rt, bundle, gate,
                                                             host_secret_dir):
    """`exec --cwd /proc/self/fd/7` with a host dir open at fd 7 in the
    runtime: the exec'd process must not start in that dir, nor see fd 7.
    (exec must close stray fds before its chdir, or check getcwd() after it
    as the init does.)"""
    b = bundle()
    g = gate(b)
    b.sh(g.wait)
    rt.create_running(b)
    fd = os.open(host_secret_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        p = rt("exec", "--cwd", "/proc/self/fd/7", b.cid, "sh", "-c", "pwd; ls", fds={7: fd})
        q = rt("exec", b.cid, "sh", "-c", "ls /proc/self/fd/7/ 2>&1", fds={7: fd})
    finally:
        os.close(fd)
        g.release()
        rt.wait_status(b.cid, "stopped")
        rt.delete(b.cid)
    assert "host-secret" not in p.stdout + p.stderr
    assert "host-secret" not in q.stdout + q.stderr


# -- symlinks in the rootfs ---------------------------------------------------


def evil_rootfs(b, rootfs, name, target):
    own = b.own_rootfs(rootfs)
    path = os.path.join(own, name.lstrip("/"))
    if os.path.isdir(path) and not os.path.islink(path):
        os.rmdir(path)
    os.symlink(target, path)
    return own


@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_masked_path_symlink_to_the_host_is_not_followed_out(rt, bundle, rootfs, hostdir, kind):
    """A maskedPaths entry that is a symlink in the rootfs pointing at a host
    dir: the mask lands inside the rootfs (or nowhere), the host dir keeps
    its content and gets no mount."""
    victim = hostdir("victim")
    with open(os.path.join(victim, "keep"), "w") as f:
        f.write("host")
    b = bundle().sh("true")
    target = victim if kind == "absolute" else "../../../../../../.." + victim
    evil_rootfs(b, rootfs, "/mnt/c", target)
    b.linux["maskedPaths"].append("/mnt/c")
    b.linux["readonlyPaths"].append("/mnt/c/keep")
    rt.run(b)
    assert os.listdir(victim) == ["keep"]
    with open(os.path.join(victim, "keep")) as f:
        assert f.read() == "host"
    with open("/proc/self/mountinfo") as f:
        assert victim not in f.read()


# runc 1.1.5 mounts /dev inside the rootfs, then makes the /dev symlinks
# (fd, stdin, stdout, stderr, ...) by joining paths: through rootfs/dev,
# a symlink, they land in the host directory.
@pytest.mark.peer_differs(
    "runc", reason="runtime-linux.md Dev symbolic links: runtimes MUST create the symlinks "
    "/dev/fd, /dev/stdin, ... in the container (config.md: mount destinations are paths "
    "\"inside container\"); runc creates them in the host directory rootfs/dev points to")
@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_dev_symlink_to_the_host_is_not_followed_out(rt, bundle, rootfs, hostdir, kind):
    """crun's CVE: rootfs/dev a symlink to a host directory; the /dev tmpfs
    and the device nodes must not be made in the host directory."""
    victim = hostdir("victim")
    b = bundle().sh("ls /dev")
    target = victim if kind == "absolute" else "../../../../../../.." + victim
    evil_rootfs(b, rootfs, "/dev", target)
    rt.run(b)
    assert os.listdir(victim) == []
    with open("/proc/self/mountinfo") as f:
        assert victim not in f.read()


def test_dev_node_paths_through_symlinks_stay_inside(rt, bundle, rootfs, hostdir):
    """linux.devices with a path whose parent is a symlink out of the rootfs."""
    victim = hostdir("victim")
    b = bundle().sh("true")
    own = b.own_rootfs(rootfs)
    b.linux["devices"] = [{"path": "/dev/evil/null", "type": "c", "major": 1, "minor": 3}]
    # /dev is a tmpfs made by the runtime; the symlink is made in the
    # rootfs below it and would only matter if the runtime followed it
    os.symlink(victim, os.path.join(own, "devlink"))
    b.linux["devices"].append({"path": "/devlink/null", "type": "c", "major": 1, "minor": 3})
    rt.run(b)
    assert os.listdir(victim) == []


def test_symlink_swap_race_never_mounts_or_creates_on_the_host(rt, bundle, rootfs, gate):
    """CVE-2021-30465: a container that shares a directory with the rootfs
    of another swaps a mount destination between a directory and a symlink
    to / while the other is being created again and again. The host must
    never get the destination directory or a mount on it."""
    name = f"cell-race-{secrets.token_hex(4)}"
    host_path = "/" + name
    attacker = bundle()
    g = gate(attacker)
    victim = bundle("true")
    own = victim.own_rootfs(rootfs)
    attacker.bind(own, "/mnt/a")
    attacker.sh(f"while [ ! -e /gate/stop ]; do rm -rf /mnt/a/{name}; mkdir /mnt/a/{name}; "
                f"rm -rf /mnt/a/{name}; ln -s / /mnt/a/{name}; done")
    victim.mount(f"/{name}/sub", "tmpfs", "tmpfs", ["size=64k"])
    victim.config["root"]["readonly"] = False
    rt.create_running(attacker)
    try:
        for i in range(40):
            rt.run(victim, cid=rt.new_id())
    finally:
        open(os.path.join(g.dir, "stop"), "w").close()
        rt.wait_status(attacker.cid, "stopped")
        rt.delete(attacker.cid)
        escaped = os.path.lexists(host_path)
        if escaped:
            subprocess.run(["umount", "-l", host_path + "/sub"], capture_output=True)
            subprocess.run(["rm", "-rf", host_path])
    assert not escaped, f"{host_path} was made on the host"

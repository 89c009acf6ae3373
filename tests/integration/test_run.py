"""`run`: create + start + wait, in the foreground (runc's `run`), and the
flags that shape how the process is started: --detach, --pid-file,
--no-pivot, --preserve-fds."""

import os
import signal
import threading

from helpers import pid_alive, read_file, wait_for


def test_run_passes_container_stdout_and_stderr(rt, bundle):
    p = rt.run(bundle().sh("echo to-stdout; echo to-stderr >&2"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "to-stdout\n"
    assert "to-stderr\n" in p.stderr


def test_run_exit_status_is_the_process_exit_status(rt, bundle):
    p = rt.run(bundle().sh("exit 3"))
    assert p.returncode == 3, p.stderr


def test_run_exit_status_zero(rt, bundle):
    assert rt.run(bundle("true")).returncode == 0


def test_run_killed_by_sigkill_exits_137(rt, bundle):
    """A process killed by signal N is reported as 128+N, as a shell does."""
    b = bundle("sleep", "1000")
    result = {}

    def run():
        try:
            result["p"] = rt.run(b, timeout=20)
        except Exception as e:  # reported below, in the test's thread
            result["error"] = e

    t = threading.Thread(target=run)
    t.start()
    killed = False
    try:
        pid = wait_for(lambda: rt.status(b.cid) == "running" and rt.state(b.cid)["pid"],
                       what="the container to run")
        os.kill(pid, signal.SIGKILL)
        killed = True
    finally:
        if not killed:  # unblock the foreground run before failing
            rt("kill", b.cid, "KILL")
        t.join(30)
    assert "error" not in result, result.get("error")
    assert result["p"].returncode == 137, result["p"].stderr


def test_run_pid_1_is_the_entrypoint(rt, bundle):
    """With a pid namespace the user's program is PID 1 (config-linux.md
    "Namespaces": pid)."""
    p = rt.run(bundle().sh("echo $$"))
    assert (p.returncode, p.stdout) == (0, "1\n"), p.stderr


def test_run_proc_1_cmdline_is_the_process_args(rt, bundle):
    p = rt.run(bundle("cat", "/proc/1/cmdline"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "cat\0/proc/1/cmdline\0"


def test_run_args_are_passed_verbatim(rt, bundle):
    p = rt.run(bundle("echo", "a b", "", "*", "$HOME"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "a b  * $HOME\n"


def test_run_removes_the_container_after_exit(rt, bundle):
    b = bundle("true")
    assert rt.run(b).returncode == 0
    assert rt("state", b.cid).returncode != 0
    assert not os.path.exists(rt.state_dir(b.cid))


def test_run_detach_returns_while_the_container_runs(rt, bundle, gate):
    b = bundle()
    g = gate(b)
    b.sh(g.wait)
    rt.ok("run", "--detach", "--bundle", b, b.cid, timeout=10)
    st = rt.state(b.cid)
    assert st["status"] == "running"
    assert pid_alive(st["pid"])
    g.release()
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_run_pid_file_holds_the_host_pid(rt, bundle, test_dir):
    b = bundle("sleep", "1000")
    pid_file = os.path.join(test_dir, "ct.pid")
    rt.ok("run", "-d", "--pid-file", pid_file, "--bundle", b, b.cid)
    pid = int(read_file(pid_file).strip())
    assert pid == rt.state(b.cid)["pid"]
    assert read_file(f"/proc/{pid}/cmdline").split("\0")[:2] == ["sleep", "1000"]
    rt.delete(b.cid, force=True)


def test_create_pid_file_holds_the_host_pid(rt, bundle, test_dir):
    b = bundle("true")
    pid_file = os.path.join(test_dir, "sub", "ct.pid")
    os.mkdir(os.path.dirname(pid_file))
    rt.create(b, "--pid-file", pid_file)
    pid = int(read_file(pid_file).strip())
    assert pid == rt.state(b.cid)["pid"]
    assert pid_alive(pid)
    rt.delete(b.cid, force=True)


def test_run_no_pivot_still_runs_in_the_rootfs(rt, bundle):
    p = rt.run(bundle().sh("cat /etc/passwd | head -n1; echo ok"), "--no-pivot")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "root:x:0:0:root:/root:/bin/sh\nok\n"


def test_run_preserve_fds_passes_fd_3(rt, bundle, test_dir):
    path = os.path.join(test_dir, "fd3.txt")
    with open(path, "w") as f:
        f.write("through fd 3\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        p = rt.run(bundle().sh("cat <&3"), "--preserve-fds", "1", fds={3: fd})
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "through fd 3\n"


def test_run_without_preserve_fds_closes_fd_3(rt, bundle, test_dir):
    path = os.path.join(test_dir, "fd3.txt")
    with open(path, "w") as f:
        f.write("leak\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        p = rt.run(bundle().sh("ls /proc/self/fd"), fds={3: fd})
    finally:
        os.close(fd)
    assert p.returncode == 0, p.stderr
    # `ls` itself opens one fd (3) for the directory; nothing else is open
    assert sorted(int(x) for x in p.stdout.split()) == [0, 1, 2, 3]

"""Foreground `cell run -it` on a terminal: the container's pty sized as
ours, input relayed, the detach keys (ctrl-p ctrl-q) leave it running, and
our terminal's mode is restored."""
import os
import pty
import select
import signal
import termios
import time

import pytest

from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import wait_for

pytestmark = pytest.mark.cell_only


def spawn(engine, *args, rows=33, cols=101):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(engine.path, [engine.path, "--root", engine.root, *args])
    import fcntl
    import struct
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def read_until(fd, needle, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    assert needle in buf, buf
    return buf


def wait_exit(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("cell did not exit")


def test_run_it_relays_a_sized_terminal_and_exit_code(engine):
    pid, fd = spawn(engine, "run", "-it", "--name", "t", "bb", "sh")
    read_until(fd, b"# ")
    os.write(fd, b"stty size; tty; exit 7\r")
    out = read_until(fd, b"/dev/pts/0")
    assert b"33 101" in out
    assert wait_exit(pid) == 7
    os.close(fd)


def test_detach_keys_leave_it_running(engine):
    pid, fd = spawn(engine, "run", "-it", "--name", "d", "bb", "sh")
    read_until(fd, b"# ")
    os.write(fd, b"\x10\x11")  # ctrl-p ctrl-q
    assert wait_exit(pid) == 0
    os.close(fd)
    assert engine.status("d") == "running"
    # attach again and end it
    pid, fd = spawn(engine, "attach", "d")
    time.sleep(0.3)
    os.write(fd, b"exit 3\r")
    assert wait_exit(pid) == 3
    os.close(fd)
    wait_for(lambda: engine.status("d") == "exited", what="d exited")
    assert engine.inspect("d")["State"]["ExitCode"] == 3


def test_exec_it_gets_a_terminal(engine):
    engine.ok("run", "-d", "--name", "x", "bb", "sleep", "60")
    pid, fd = spawn(engine, "exec", "-it", "x", "sh", "-c", "tty; stty size", rows=20, cols=70)
    out = read_until(fd, b"20 70")
    assert b"/dev/pts/" in out
    assert wait_exit(pid) == 0
    os.close(fd)

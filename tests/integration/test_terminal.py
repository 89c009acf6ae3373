"""process.terminal: a pseudoterminal from the container's own devpts. Its
master goes to --console-socket over SCM_RIGHTS (what podman's conmon and
containerd's shim receive), or a foreground run/exec relays it. The tests
hold a small receiver of their own."""

import fcntl
import json
import os
import pty
import struct
import subprocess
import termios

import pytest

from helpers import ConsoleReceiver, kill_and_delete, read_until, wait_for


def terminal_bundle(bundle, script, rows=30, cols=100):
    b = bundle("sh", "-c", script)
    b.process["terminal"] = True
    b.process["consoleSize"] = {"height": rows, "width": cols}
    return b


def test_console_socket_receives_the_pty_master(rt, bundle, test_dir):
    b = terminal_bundle(bundle, "tty; stty size; test -t 0 && test -t 2 && echo all-tty; "
                                "echo done; sleep 600")
    rx = ConsoleReceiver(os.path.join(test_dir, "console.sock"))
    try:
        rt.create(b, "--console-socket", rx.path)
        master = rx.master()
        rt.start(b.cid)
        out = read_until(master, "done").split("\n")
        assert out[0].startswith("/dev/pts/")
        assert out[1] == "30 100"
        assert out[2] == "all-tty"
    finally:
        kill_and_delete(rt, b.cid)
        rx.close()


def test_input_written_to_the_master_reaches_the_process(rt, bundle, test_dir):
    b = terminal_bundle(bundle, "read line; echo got:$line; sleep 600")
    rx = ConsoleReceiver(os.path.join(test_dir, "console.sock"))
    try:
        rt.create(b, "--console-socket", rx.path)
        master = rx.master()
        rt.start(b.cid)
        os.write(master, b"hello\n")
        assert "got:hello" in read_until(master, "got:hello")
    finally:
        kill_and_delete(rt, b.cid)
        rx.close()


def test_terminal_without_console_socket_fails_create(rt, bundle):
    b = terminal_bundle(bundle, "true")
    p = rt("create", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert rt.status(b.cid) is None


# runc and crun relay only to a caller that has a controlling terminal.
@pytest.mark.cell_only
def test_foreground_run_relays_the_terminal(rt, bundle):
    """run without --console-socket keeps the master and copies it to its
    own stdout (no terminal here, so no raw mode)."""
    b = terminal_bundle(bundle, "tty; stty size; exit 3", rows=12, cols=34)
    p = rt.run(b)
    assert p.returncode == 3, p.stderr
    lines = p.stdout.replace("\r\n", "\n").split("\n")
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "12 34"


def test_exec_tty_with_console_socket(rt, bundle, test_dir):
    b = bundle("sleep", "600")
    rt.create_running(b)
    process = os.path.join(test_dir, "process.json")
    with open(process, "w") as f:
        json.dump({"terminal": True, "consoleSize": {"height": 25, "width": 70},
                   "args": ["sh", "-c", "tty; stty size; echo done; sleep 600"],
                   "env": ["PATH=/bin"], "cwd": "/"}, f)
    rx = ConsoleReceiver(os.path.join(test_dir, "exec.sock"))
    try:
        rt.ok("exec", "-d", "--console-socket", rx.path, "--process", process, b.cid)
        out = read_until(rx.master(), "done").split("\n")
        assert out[0].startswith("/dev/pts/")
        assert out[1] == "25 70"
    finally:
        kill_and_delete(rt, b.cid)
        rx.close()


@pytest.mark.cell_only
def test_exec_tty_in_the_foreground_is_relayed(rt, bundle):
    b = bundle("sleep", "600")
    rt.create_running(b)
    try:
        p = rt("exec", "-t", b.cid, "sh", "-c", "tty; exit 4")
        assert p.returncode == 4, p.stderr
        assert p.stdout.replace("\r\n", "\n").split("\n")[0].startswith("/dev/pts/")
    finally:
        kill_and_delete(rt, b.cid)


def test_exec_tty_detached_needs_a_console_socket(rt, bundle):
    b = bundle("sleep", "600")
    rt.create_running(b)
    try:
        p = rt("exec", "-t", "-d", b.cid, "true")
        assert p.returncode != 0
    finally:
        kill_and_delete(rt, b.cid)


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_foreground_exec_follows_the_callers_terminal(rt, bundle):
    """On a real terminal: the size is copied at start and again on each
    SIGWINCH (which the kernel sends when the size changes), and input
    reaches the process."""
    b = bundle("sleep", "600")
    rt.create_running(b)
    master, slave = pty.openpty()
    set_winsize(slave, 20, 60)
    script = "stty size; while read x; do echo \"$x\"; stty size; done"
    p = subprocess.Popen(rt.argv("exec", "-t", b.cid, "sh", "-c", script), stdin=slave,
                         stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    try:
        assert "20 60" in read_until(master, "20 60")
        set_winsize(slave, 40, 90)

        def resized():
            os.write(master, b"line\r")
            return "40 90" in read_until(master, "40 90", timeout=0.5)
        wait_for(resized, what="the new size inside")
        os.write(master, b"\x04")  # end of input: the loop ends, sh exits
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        os.close(slave)
        kill_and_delete(rt, b.cid)

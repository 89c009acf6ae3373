"""Socket activation and fd passing: the fds systemd hands the runtime
(LISTEN_FDS, when LISTEN_PID is the runtime's own pid) reach the container's
process as 3.., with LISTEN_FDS and a LISTEN_PID that sd_listen_fds(3)
accepts there; --preserve-fds ones follow them."""

import os
import subprocess

import pytest

from helpers import reap, wait_for


def activated(rt, test_dir, args, contents, listen_fds, own_pid=True):
    """Runs the runtime as systemd would: fds 3.. hold files with contents,
    LISTEN_FDS=listen_fds and LISTEN_PID its pid (or another one)."""
    fds = []
    for i, text in enumerate(contents):
        path = os.path.join(test_dir, f"fd{i}")
        with open(path, "w") as f:
            f.write(text)
        fds.append(os.open(path, os.O_RDONLY))
    pid = "$$" if own_pid else "1"
    argv = ["/bin/sh", "-c", f'LISTEN_PID={pid} LISTEN_FDS={listen_fds} exec "$@"', "sh"]

    def place():
        for i, fd in enumerate(fds):
            os.dup2(fd, 3 + i)
    try:
        return subprocess.run(argv + rt.argv(*args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30,
                              pass_fds=tuple(range(3, 3 + len(fds))) + tuple(fds),
                              preexec_fn=place)
    finally:
        for fd in fds:
            os.close(fd)


SHOW = ('for n in 3 4 5; do cat /proc/self/fd/$n 2>/dev/null || echo -; done; '
        'echo "$LISTEN_FDS|$LISTEN_PID|$$"')


def test_run_passes_listen_fds_and_env(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = activated(rt, test_dir, ["run", "--bundle", b, b.cid], ["a\n", "b\n"], 2)
    assert p.returncode == 0, p.stderr
    # pid 1 in its own pid namespace: LISTEN_PID names it as it sees itself
    assert p.stdout.splitlines() == ["a", "b", "-", "2|1|1"]


def test_listen_fds_for_another_pid_are_not_passed(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = activated(rt, test_dir, ["run", "--bundle", b, b.cid], ["a\n"], 1, own_pid=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["-", "-", "-", "||1"]


def test_preserved_fds_follow_the_listen_fds(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = activated(rt, test_dir, ["run", "--preserve-fds", "1", "--bundle", b, b.cid],
                  ["listen\n", "kept\n", "extra\n"], 1)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["listen", "kept", "-", "1|1|1"]


# runc passes them on create and run only.
@pytest.mark.cell_only
def test_exec_passes_listen_fds_with_its_own_pid(rt, bundle, test_dir):
    b = bundle("sleep", "600")
    rt.create_running(b)
    try:
        p = activated(rt, test_dir, ["exec", b.cid, "sh", "-c", SHOW], ["x\n"], 1)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[:3] == ["x", "-", "-"]
        count, pid, own = lines[3].split("|")
        assert count == "1" and pid == own and pid != "1"
    finally:
        rt("kill", b.cid, "KILL")
        wait_for(lambda: (reap(), rt.status(b.cid) == "stopped")[1], what="stop")
        rt.delete(b.cid, force=True)

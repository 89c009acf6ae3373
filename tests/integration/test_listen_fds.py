"""Socket activation and fd passing: the fds systemd hands the runtime
(LISTEN_FDS, when LISTEN_PID is the runtime's own pid) reach the container's
process as 3.., with LISTEN_FDS and a LISTEN_PID that sd_listen_fds(3)
accepts there; --preserve-fds ones follow them."""

import pytest

from helpers import kill_and_delete, socket_activated


SHOW = ('for n in 3 4 5; do cat /proc/self/fd/$n 2>/dev/null || echo -; done; '
        'echo "$LISTEN_FDS|$LISTEN_PID|$$"')


def test_run_passes_listen_fds_and_env(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = socket_activated(rt, test_dir, ["run", "--bundle", b, b.cid], ["a\n", "b\n"], 2)
    assert p.returncode == 0, p.stderr
    # pid 1 in its own pid namespace: LISTEN_PID names it as it sees itself
    assert p.stdout.splitlines() == ["a", "b", "-", "2|1|1"]


def test_listen_fds_for_another_pid_are_not_passed(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = socket_activated(rt, test_dir, ["run", "--bundle", b, b.cid], ["a\n"], 1, own_pid=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["-", "-", "-", "||1"]


def test_preserved_fds_follow_the_listen_fds(rt, bundle, test_dir):
    b = bundle("sh", "-c", SHOW)
    p = socket_activated(rt, test_dir, ["run", "--preserve-fds", "1", "--bundle", b, b.cid],
                  ["listen\n", "kept\n", "extra\n"], 1)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["listen", "kept", "-", "1|1|1"]


# runc passes them on create and run only.
@pytest.mark.cell_only
def test_exec_passes_listen_fds_with_its_own_pid(rt, bundle, test_dir):
    b = bundle("sleep", "600")
    rt.create_running(b)
    try:
        p = socket_activated(rt, test_dir, ["exec", b.cid, "sh", "-c", SHOW], ["x\n"], 1)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[:3] == ["x", "-", "-"]
        count, pid, own = lines[3].split("|")
        assert count == "1" and pid == own and pid != "1"
    finally:
        kill_and_delete(rt, b.cid)

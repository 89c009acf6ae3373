"""A container that joined another's PID namespace (a Kubernetes pod member,
`--pid container:X`) keeps its other processes when its init dies: the
kernel kills a namespace's processes only when the namespace's own init
dies. The runtime's contract with its clients (containerd's shim, CRI) for
such a stopped container, as runc 1.1 has it:

- `state` says stopped (a dead init is stopped, a zombie one too);
- `ps` lists what remains in its cgroup;
- `kill` without --all fails with "container not running", the wording
  containerd's shim matches to treat the process as already gone;
- `kill --all` signals every process left in its cgroup and exits 0, also
  when nothing is left;
- `delete`, with or without --force, kills what remains before it removes
  the cgroup.

The same tests pass against runc (CELL_RUNTIME=/usr/sbin/runc) on the v1
hybrid host. On pure v2 (tests/vm/run-v2.sh) runc 1.1 fails the delete
tests: it rmdirs the cgroup once, right after the SIGKILL, while the killed
processes are still leaving it, and leaves the cgroup behind (EBUSY, only
logged)."""

import json
import os
import signal

import pytest

from helpers import (find_cgroup_dirs, pid_alive, proc_state, read_file, reap, rmdir_tree,
                     wait_for)


def ps_json(rt, cid):
    # runc prints null for no processes, cell [].
    return json.loads(rt.ok("ps", "--format", "json", cid).stdout) or []


def cmdline(pid):
    try:
        return read_file(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
    except OSError:
        return None


def gone(pid):
    """Dead or a zombie, without reaping it."""
    return proc_state(pid) in (None, "Z", "X")


class Pod:
    """An infra container with its own PID namespace and a member that
    joined it; the member's init has been SIGKILLed from the host while a
    background process of the member lives on."""

    def __init__(self, rt, bundle):
        self.infra = bundle("sleep", "1000")
        infra_pid = rt.create_running(self.infra)
        self.member = bundle().sh("sleep 1001 & exec sleep 1000")
        self.member.namespaces("network", "ipc", "uts", "mount", "cgroup",
                               pid=f"/proc/{infra_pid}/ns/pid")
        self.init = rt.create_running(self.member)

        def leftover():
            others = [p for p in ps_json(rt, self.member.cid) if p != self.init]
            return others if len(others) == 1 and cmdline(others[0]) == "sleep 1001" else None
        self.leftover = wait_for(leftover, what="the member's background sleep")[0]
        os.kill(self.init, signal.SIGKILL)
        # Not reaped: the init stays a zombie of this (subreaper) process,
        # as it would under a parent that never reaps.
        wait_for(lambda: gone(self.init), what="the member's init to die")

    @property
    def cid(self):
        return self.member.cid


@pytest.fixture
def pod(rt, bundle):
    p = Pod(rt, bundle)
    yield p
    # The infra's init cannot finish dying while a zombie of its namespace
    # waits for its parent (this process) to reap it.
    reap(p.init)
    rt("delete", "--force", p.cid)
    rt("delete", "--force", p.infra.cid)


def test_a_member_whose_init_died_is_stopped_and_ps_lists_what_remains(rt, pod):
    assert proc_state(pod.init) == "Z"
    assert rt.status_once(pod.cid) == "stopped"
    assert ps_json(rt, pod.cid) == [pod.leftover]
    reap(pod.init)
    assert rt.status_once(pod.cid) == "stopped"
    assert ps_json(rt, pod.cid) == [pod.leftover]
    assert pid_alive(pod.leftover)


def test_kill_without_all_fails_with_runcs_wording_and_signals_nothing(rt, pod):
    p = rt("kill", pod.cid, "KILL")
    assert p.returncode != 0
    # containerd's shim treats "container not running" as "already gone".
    assert "container not running" in p.stderr
    assert pid_alive(pod.leftover)
    assert rt.status(pod.cid) == "stopped"


def test_kill_all_kills_what_remains_then_delete_leaves_nothing(rt, pod):
    rt.ok("kill", "--all", pod.cid, "KILL")
    wait_for(lambda: not pid_alive(pod.leftover), what="the leftover process to die")
    wait_for(lambda: ps_json(rt, pod.cid) == [], what="the cgroup to empty")
    # Nothing left to signal is not an error: the shim repeats the kill.
    rt.ok("kill", "--all", pod.cid, "KILL")
    rt.delete(pod.cid)
    assert find_cgroup_dirs(pod.cid) == []
    assert not os.path.exists(rt.state_dir(pod.cid))
    assert rt.status(pod.infra.cid) == "running"


def test_kill_all_with_another_signal_reaches_what_remains(rt, pod):
    rt.ok("kill", "--all", pod.cid, "TERM")
    wait_for(lambda: not pid_alive(pod.leftover), what="the leftover process to die")
    rt.delete(pod.cid)
    assert find_cgroup_dirs(pod.cid) == []


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_delete_kills_what_remains_and_removes_the_cgroup(rt, pod, force):
    rt.delete(pod.cid, force=force)
    wait_for(lambda: not pid_alive(pod.leftover), what="the leftover process to die")
    assert find_cgroup_dirs(pod.cid) == []
    assert not os.path.exists(rt.state_dir(pod.cid))
    assert rt.status(pod.infra.cid) == "running"


def test_delete_of_a_stopped_container_without_a_pid_namespace_kills_what_remains(rt, bundle):
    b = bundle().without_namespace("pid").sh("sleep 1001 & exec sleep 1000")
    init = rt.create_running(b)
    leftover = wait_for(lambda: [p for p in ps_json(rt, b.cid)
                                 if p != init and cmdline(p) == "sleep 1001"],
                        what="the background sleep")[0]
    os.kill(init, signal.SIGKILL)
    rt.wait_status(b.cid, "stopped")
    assert ps_json(rt, b.cid) == [leftover]
    rt.delete(b.cid)
    wait_for(lambda: not pid_alive(leftover), what="the leftover process to die")
    assert find_cgroup_dirs(b.cid) == []


def test_kill_all_of_a_stopped_container_with_nothing_left_succeeds(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    rt.ok("kill", "--all", b.cid, "KILL")
    assert ps_json(rt, b.cid) == []
    rt.delete(b.cid)


def test_a_stopped_container_whose_cgroup_is_gone_is_killed_listed_and_deleted(rt, bundle):
    """systemd removes a scope's cgroup once it is empty; the container is
    still there to kill --all, ps and delete."""
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    for d in find_cgroup_dirs(b.cid):
        rmdir_tree(d)
    assert find_cgroup_dirs(b.cid) == []
    rt.ok("kill", "--all", b.cid, "KILL")
    assert ps_json(rt, b.cid) == []
    rt.delete(b.cid)
    assert not os.path.exists(rt.state_dir(b.cid))


def test_kill_of_a_stopped_container_says_container_not_running(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    for sig in ("KILL", "TERM"):
        p = rt("kill", b.cid, sig)
        assert p.returncode != 0 and "container not running" in p.stderr
    rt.delete(b.cid)


def test_sigkill_to_a_paused_containers_init_thaws_it_so_it_dies(rt, bundle):
    """On v1 a frozen task does not die until thawed: runc thaws the cgroup
    after a SIGKILL to a paused container's init."""
    b = bundle().sh("sleep 1000 & exec sleep 1001")
    pid = rt.create_running(b)
    rt.ok("pause", b.cid)
    rt.kill(b.cid, "KILL")
    rt.wait_status(b.cid, "stopped")
    wait_for(lambda: ps_json(rt, b.cid) == [], what="the pid namespace to empty")
    assert not pid_alive(pid)
    rt.delete(b.cid)
    assert find_cgroup_dirs(b.cid) == []

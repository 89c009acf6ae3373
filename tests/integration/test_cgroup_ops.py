"""Operations on a live container through its cgroup, as runc has them:
pause/resume (freezer), ps, events (stats and OOM), kill --all, the OOM
killer's verdict in run/state, and cleanup after a SIGKILL or a runtime
killed in the middle of create. Layout-aware: the same tests run on the v1
hybrid host and on pure cgroup v2 (tests/vm/run-v2.sh)."""

import json
import os
import signal
import subprocess
import time

import pytest

from cgroup_helpers import frozen_text, host_path, host_value, thawed_text
from helpers import (Gate, find_cgroup_dirs, pid_alive, processes_mentioning, read_file, reap,
                     stays_false, wait_for)

MiB = 1 << 20
ALLOC_200M = ("dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1")


def ps_json(rt, cid):
    return json.loads(rt.ok("ps", "--format", "json", cid).stdout)


def counter(path):
    """The counter the container writes (renamed into place whole), or None
    before its first write."""
    try:
        return int(read_file(path))
    except (OSError, ValueError):
        return None


def test_pause_stops_a_counter_and_resume_restarts_it(rt, bundle, hostdir):
    out = hostdir("out")
    # Written aside and renamed: the freeze may land between the truncate
    # and the write of `echo > n`, leaving an empty file while paused.
    b = bundle().sh("i=0; while :; do i=$((i+1)); echo $i > /out/n.new; mv /out/n.new /out/n;"
                    " sleep 0.02; done")
    b.bind(out, "/out")
    rt.create_running(b)
    n = os.path.join(out, "n")
    wait_for(lambda: (counter(n) or 0) > 2, what="the counter to run")
    rt.ok("pause", b.cid)
    assert rt.status(b.cid) == "paused"
    listed = json.loads(rt.ok("list", "--format", "json").stdout)
    assert [(c["id"], c["status"]) for c in listed] == [(b.cid, "paused")]
    assert host_value(b, "freezer") == frozen_text()
    before = counter(n)
    time.sleep(0.5)
    assert counter(n) == before
    rt.ok("resume", b.cid)
    assert rt.status(b.cid) == "running"
    assert host_value(b, "freezer") == thawed_text()
    wait_for(lambda: (counter(n) or 0) > before + 2, what="the counter to run again")
    rt.delete(b.cid, force=True)


def test_pause_twice_and_resume_of_a_running_container_fail(rt, bundle):
    b = bundle("sleep", "1000")
    rt.create_running(b)
    assert rt("resume", b.cid).returncode != 0
    rt.ok("pause", b.cid)
    assert rt("pause", b.cid).returncode != 0
    rt.ok("resume", b.cid)
    rt.delete(b.cid, force=True)


def test_paused_container_is_not_deleted_without_force_and_is_with_it(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1000 & wait")
    pid = rt.create_running(b)
    rt.ok("pause", b.cid)
    p = rt("delete", b.cid)
    assert p.returncode != 0 and "paused" in p.stderr
    assert pid_alive(pid)
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []
    wait_for(lambda: not pid_alive(pid), what="the init to die")


def test_kill_all_reaches_every_process_of_a_paused_container(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1000 & wait")
    rt.create_running(b)
    wait_for(lambda: len(ps_json(rt, b.cid)) == 3, what="three processes")
    pids = ps_json(rt, b.cid)
    rt.ok("pause", b.cid)
    rt.kill(b.cid, "KILL", "--all")
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="every process to die")
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_ps_lists_the_containers_processes_by_host_pid(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1001 & wait")
    pid = rt.create_running(b)

    def cmdlines():
        return sorted(read_file(f"/proc/{p}/cmdline").replace("\0", " ").strip()
                      for p in ps_json(rt, b.cid))
    # Until both children have exec'd, one of them is still a copy of sh.
    wait_for(lambda: cmdlines()[1:] == ["sleep 1000", "sleep 1001"], what="the two sleeps")
    pids = ps_json(rt, b.cid)
    assert pid in pids and len(pids) == 3
    assert set(pids) == {int(p) for p in read_file(host_path(b, "procs")).split()}
    table = rt.ok("ps", b.cid).stdout.splitlines()
    assert "PID" in table[0].split()
    assert len(table) == 4
    sleeps = sorted(line.split()[-2:] for line in table[1:] if "sh -c" not in line)
    assert sleeps == [["sleep", "1000"], ["sleep", "1001"]]
    rt.delete(b.cid, force=True)


def test_events_stats_report_memory_pids_and_cpu(rt, bundle):
    b = bundle().sh("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 1000")
    b.linux["resources"]["memory"] = {"limit": 64 * MiB}
    b.linux["resources"]["pids"] = {"limit": 50}
    rt.create_running(b)
    ev = json.loads(rt.ok("events", "--stats", b.cid).stdout)
    assert ev["type"] == "stats" and ev["id"] == b.cid
    data = ev["data"]
    assert data["memory"]["usage"]["limit"] == 64 * MiB
    assert 0 < data["memory"]["usage"]["usage"] < 64 * MiB
    assert data["pids"] == {"current": 1, "limit": 50}
    assert data["cpu"]["usage"]["total"] > 0
    # runc leaves empty lists out (blkio reads {} before any I/O); cell
    # writes them: both give the groups
    assert isinstance(data["blkio"], dict) and isinstance(data["hugetlb"], dict)
    rt.delete(b.cid, force=True)


def test_foreground_run_exits_137_when_the_memory_limit_kills_the_process(rt, bundle):
    """64 MiB limit, a program that allocates 200 MiB: the OOM killer's
    SIGKILL becomes run's exit status."""
    b = bundle(*ALLOC_200M)
    b.linux["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    p = rt.run(b)
    assert p.returncode == 137, (p.returncode, p.stderr)


@pytest.mark.cell_only
def test_oom_kill_is_reported_by_run_and_state(rt, bundle):
    b = bundle(*ALLOC_200M)
    b.linux["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    p = rt.run(b, "--keep")
    assert p.returncode == 137, (p.returncode, p.stderr)
    assert "OOM killer" in p.stderr
    st = rt.state(b.cid)
    assert st["status"] == "stopped" and st["oomKilled"] is True
    rt.delete(b.cid)


@pytest.mark.cell_only
def test_state_of_a_container_without_oom_says_so(rt, bundle):
    b = bundle("true")
    p = rt.run(b, "--keep")
    assert p.returncode == 0 and "OOM" not in p.stderr
    assert rt.state(b.cid)["oomKilled"] is False
    rt.delete(b.cid)


def events_through_an_oom_kill(rt, b, g, test_dir):
    """`events --interval 200ms` from before an OOM kill until the container
    has gone: (the events, whether `events` ended by itself, its status)."""
    b.sh(f"{Gate.wait}; {' '.join(ALLOC_200M)}; {Gate.wait}")
    b.linux["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    rt.create_running(b)
    log = os.path.join(test_dir, "events.log")
    with open(log, "w") as f:
        events = subprocess.Popen(rt.argv("events", "--interval", "200ms", b.cid), stdout=f,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    lines = lambda: [json.loads(x) for x in read_file(log).splitlines() if x.strip()]
    try:
        wait_for(lambda: any(e["type"] == "stats" for e in lines()), what="a stats event")
        g.release()
        wait_for(lambda: any(e["type"] == "oom" for e in lines()), what="an oom event")
        g.release()
        rt.wait_status(b.cid, "stopped")
        try:
            rc, ended = events.wait(timeout=20), True
        except subprocess.TimeoutExpired:
            rc, ended = None, False
    finally:
        if events.poll() is None:
            events.kill()
            events.wait()
    rt.delete(b.cid)
    return lines(), ended, rc


def test_events_report_an_oom_kill(rt, bundle, gate, test_dir):
    b = bundle()
    found, _, _ = events_through_an_oom_kill(rt, b, gate(b), test_dir)
    oom = [e for e in found if e["type"] == "oom"]
    assert oom == [{"type": "oom", "id": b.cid}]
    stats = [e for e in found if e["type"] == "stats"]
    assert all(e["id"] == b.cid and "memory" in e["data"] for e in stats)


# runc's `events` outlives the container: it logs an error at every interval
# and never exits (runc 1.1.5); cell's ends, status 0, when the container
# has stopped. The OCI spec has no `events` command.
@pytest.mark.cell_only
def test_events_end_with_the_container(rt, bundle, gate, test_dir):
    b = bundle()
    _, ended, rc = events_through_an_oom_kill(rt, b, gate(b), test_dir)
    assert ended and rc == 0


@pytest.mark.cell_only
def test_systemd_cgroup_without_systemd_is_one_clear_error(rt, bundle):
    if os.path.exists("/run/systemd/system"):
        pytest.skip("systemd is PID 1 here (test_cgroup_systemd.py drives it)")
    b = bundle("true")
    b.linux["cgroupsPath"] = f"system.slice:cell:{b.cid}"
    p = rt("--systemd-cgroup", "create", "--bundle", b, b.cid)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "--systemd-cgroup" in lines[0] and "systemd" in lines[0]
    assert not os.path.exists(rt.state_dir(b.cid))
    assert find_cgroup_dirs(b.cid) == []


def test_cgroup_is_removed_after_the_init_was_sigkilled_from_the_host(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1000 & wait")
    b.linux["resources"]["memory"] = {"limit": 64 * MiB}
    pid = rt.create_running(b)
    assert os.path.isdir(os.path.dirname(host_path(b, "memory.limit")))
    os.kill(pid, signal.SIGKILL)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    assert find_cgroup_dirs(b.cid) == []


def timed_create(rt, b):
    t0 = time.monotonic()
    rt.create(b)
    return time.monotonic() - t0


# cell's own promise (DESIGN.md: every command can be killed at any point and
# `delete --force` still clears what was made). runc 1.1.5 killed before it
# wrote state.json leaves its cgroups behind; the OCI spec says nothing of a
# killed runtime.
@pytest.mark.cell_only
def test_delete_force_clears_a_create_whose_runtime_was_killed(rt, bundle):
    """SIGKILL the runtime at points spread over a create (its cgroup made
    or not, its init cloned or not): `delete --force` leaves no cgroup, no
    process and no state."""
    first = bundle("sleep", "1000")
    first.linux["resources"]["memory"] = {"limit": 64 * MiB}
    span = timed_create(rt, first)
    rt.delete(first.cid, force=True)
    for i in range(8):
        b = bundle("sleep", "1000")
        b.linux["resources"]["memory"] = {"limit": 64 * MiB}
        argv = rt.argv("create", "--bundle", b.save(), b.cid)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(span * i / 8)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if os.path.exists(rt.state_dir(b.cid)):
            rt.delete(b.cid, force=True)
        reap()
        assert find_cgroup_dirs(b.cid) == [], f"killed after {span * i / 8:.4f} s"
        assert stays_false(lambda: processes_mentioning(b.cid), 0.05)
        assert not os.path.exists(rt.state_dir(b.cid))

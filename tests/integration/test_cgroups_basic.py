"""Cgroups on whatever layout the host has (v1 hybrid here, pure v2 in
tests/vm/run-v2.sh): linux.cgroupsPath and a few resources, seen from the
host and from inside; removal on delete (config-linux.md "Control groups",
"Memory", "CPU", "PIDS")."""

import os
import signal

import pytest

from cgroup_helpers import (V2, cgroup_dir, cgroup_hierarchy_dirs, cgroups_of, checked_controllers,
                            host_path, host_value, inside_path, quota_text, shares_text)
from helpers import (CGROUP_PARENT, cgroup_hierarchies, find_cgroup_dirs, pid_alive, read_file,
                     wait_for)

MiB = 1 << 20


def test_container_process_is_in_the_configured_cgroup(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    paths = cgroups_of(pid)
    for ctrl in checked_controllers():
        assert paths[ctrl] == b.cgroups_path, ctrl
    for d in cgroup_hierarchy_dirs(b.cgroups_path):
        assert str(pid) in read_file(os.path.join(d, "cgroup.procs")).split(), d
    rt.delete(b.cid, force=True)


def test_memory_limit_is_written_and_visible_inside(rt, bundle, hostdir):
    b = bundle("sh", "-c", f"cat {inside_path('memory.limit')} > /out/limit")
    b.bind(hostdir("out"), "/out")
    out = b.config["mounts"][-1]["source"]
    b.linux["resources"]["memory"] = {"limit": 64 * MiB}
    rt.create(b)
    assert host_value(b, "memory.limit") == str(64 * MiB)
    rt.start(b.cid)
    rt.wait_status(b.cid, "stopped")
    assert read_file(os.path.join(out, "limit")) == f"{64 * MiB}\n"
    rt.delete(b.cid)


def test_memory_limit_kills_a_process_that_exceeds_it(rt, bundle):
    """No swap on these hosts: going over the limit is an OOM kill (137)."""
    b = bundle().sh("head -c 64m /dev/zero | tail > /dev/null")
    b.linux["resources"]["memory"] = {"limit": 16 * MiB, "swap": 16 * MiB}
    p = rt.run(b)
    assert p.returncode == 137 or "Killed" in p.stderr, (p.returncode, p.stderr)


def test_pids_limit_is_written(rt, bundle):
    b = bundle("true")
    b.linux["resources"]["pids"] = {"limit": 32}
    rt.create(b)
    assert host_value(b, "pids.max") == "32"
    rt.delete(b.cid, force=True)


def test_pids_limit_stops_forks(rt, bundle, hostdir):
    """pids.max 5: an inner shell forking 10 sleeps gets 3 of them (with the
    outer and inner shells that makes 5), its next fork fails and it gives
    up, and the container lives on. Counted from the host after the outer
    shell has reaped the inner one, so no count depends on how fast exiting
    tasks are uncharged: the shell and the 3 sleeps remain."""
    out = hostdir("out")
    b = bundle()
    b.bind(out, "/out")
    b.sh("sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done' 2>/dev/null;"
         " echo $? > /out/loop; exec sleep 1000")
    b.linux["resources"]["pids"] = {"limit": 5}
    pid = rt.create_running(b)
    wait_for(lambda: read_file(os.path.join(out, "loop")) if os.path.exists(
        os.path.join(out, "loop")) else "", what="the fork loop to end")
    assert read_file(os.path.join(out, "loop")) != "0\n"
    assert host_value(b, "pids.max") == "5"
    assert host_value(b, "pids.current") == "4"
    assert pid_alive(pid)
    rt.delete(b.cid, force=True)


def test_cpu_quota_period_and_shares_are_written(rt, bundle):
    b = bundle("true")
    b.linux["resources"]["cpu"] = {"quota": 50000, "period": 100000, "shares": 512}
    rt.create(b)
    # v1: cpu.cfs_quota_us and cpu.cfs_period_us; v2: both in cpu.max
    assert host_value(b, "cpu.quota") == quota_text(50000, 100000)
    if not V2:
        period = os.path.join(os.path.dirname(host_path(b, "cpu.quota")), "cpu.cfs_period_us")
        assert read_file(period).strip() == "100000"
    assert host_value(b, "cpu.shares") == shares_text(512)
    rt.delete(b.cid, force=True)


def test_cgroup_is_removed_after_delete(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    assert find_cgroup_dirs(b.cid)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    assert find_cgroup_dirs(b.cid) == []


def test_cgroup_is_removed_after_the_container_was_sigkilled(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1000 & wait")
    pid = rt.create_running(b)
    os.kill(pid, signal.SIGKILL)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    assert find_cgroup_dirs(b.cid) == []


def test_cgroup_is_removed_after_delete_force_of_a_running_container(rt, bundle):
    b = bundle().sh("sleep 1000 & sleep 1000 & wait")
    rt.create_running(b)
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []


def test_cgroup_is_removed_after_foreground_run(rt, bundle):
    b = bundle("true")
    assert rt.run(b).returncode == 0
    assert find_cgroup_dirs(b.cid) == []


def test_cgroup_of_a_created_container_is_removed_by_delete_force(rt, bundle):
    b = bundle("true")
    b.linux["resources"]["memory"] = {"limit": 64 * MiB}
    rt.create(b)
    assert os.path.isdir(cgroup_dir(b.cgroups_path))
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []


@pytest.mark.cell_only
def test_default_cgroup_path_is_cell_slash_id(rt, bundle):
    """Without linux.cgroupsPath cell uses /cell/<id> in every hierarchy."""
    b = bundle("sleep", "1000")
    del b.linux["cgroupsPath"]
    pid = rt.create_running(b)
    assert os.path.isdir(cgroup_dir(f"/cell/{b.cid}"))
    assert all(cgroups_of(pid)[c] == f"/cell/{b.cid}" for c in checked_controllers())
    rt.delete(b.cid, force=True)
    for h in cgroup_hierarchies():
        assert not os.path.exists(os.path.join(h, "cell", b.cid))


@pytest.mark.cell_only
def test_relative_cgroup_path_is_under_cell(rt, bundle):
    b = bundle("sleep", "1000")
    b.linux["cgroupsPath"] = f"{CGROUP_PARENT.lstrip('/')}/{b.cid}"
    rt.create(b)
    assert os.path.isdir(cgroup_dir(f"/cell{CGROUP_PARENT}/{b.cid}"))
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []
    for h in cgroup_hierarchies():
        try:
            os.rmdir(os.path.join(h, "cell", CGROUP_PARENT.lstrip("/")))
        except OSError:
            pass


def test_cgroups_of_two_containers_are_separate(rt, bundle):
    one, two = bundle("sleep", "1000"), bundle("sleep", "1000")
    one.linux["resources"]["memory"] = {"limit": 32 * MiB}
    two.linux["resources"]["memory"] = {"limit": 48 * MiB}
    rt.create(one)
    rt.create(two)
    assert host_value(one, "memory.limit") == str(32 * MiB)
    assert host_value(two, "memory.limit") == str(48 * MiB)
    rt.delete(one.cid, force=True)
    assert find_cgroup_dirs(one.cid) == []
    assert find_cgroup_dirs(two.cid)
    rt.delete(two.cid, force=True)
    wait_for(lambda: find_cgroup_dirs(two.cid) == [], timeout=2)

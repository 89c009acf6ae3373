"""linux.cgroupsPath on either layout: where the container's cgroup is made
(default, relative, nested), what its parents give it (cgroup.subtree_control
on v2), how the container sees it through its cgroup namespace, and what
delete removes (config-linux.md "Control groups", "Cgroup namespace")."""

import os

import pytest

from cgroup_helpers import V2
from helpers import CGROUP_PARENT, CGROUP_ROOT, cgroup_hierarchies, find_cgroup_dirs, read_file


def cgroup_of(pid):
    """/proc/PID/cgroup as {controller or "" for v2: path}."""
    out = {}
    for line in read_file(f"/proc/{pid}/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def dir_in(path, controller="memory"):
    """The directory of a cgroup path in the v2 tree or a v1 hierarchy."""
    base = CGROUP_ROOT if V2 else os.path.join(CGROUP_ROOT, controller)
    return os.path.join(base, path.lstrip("/"))


def test_container_is_in_its_cgroups_path_seen_from_the_host(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    where = cgroup_of(pid)
    for c in ([""] if V2 else ["memory", "pids", "cpu", "devices", "freezer"]):
        assert where[c] == b.cgroups_path, c
    assert str(pid) in read_file(os.path.join(dir_in(b.cgroups_path), "cgroup.procs")).split()
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []


def test_container_sees_its_cgroup_as_the_root(rt, bundle):
    """With a cgroup namespace the container's own cgroup is "/"."""
    b = bundle("cat", "/proc/self/cgroup")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    paths = {line.split(":", 2)[2] for line in p.stdout.splitlines()
             if V2 or ":memory:" in line or ":pids:" in line}
    assert paths == {"/"}


@pytest.mark.cell_only
def test_default_cgroup_path_is_cell_slash_id(rt, bundle):
    b = bundle("sleep", "1000")
    del b.linux["cgroupsPath"]
    pid = rt.create_running(b)
    assert cgroup_of(pid)["" if V2 else "memory"] == f"/cell/{b.cid}"
    assert os.path.isdir(dir_in(f"/cell/{b.cid}"))
    rt.delete(b.cid, force=True)
    for h in cgroup_hierarchies():
        assert not os.path.exists(os.path.join(h, "cell", b.cid))


@pytest.mark.cell_only
def test_nested_cgroups_path_makes_its_parents_and_delete_removes_them(rt, bundle):
    b = bundle("sleep", "1000")
    top = f"{CGROUP_PARENT}/nest-{b.cid}"
    b.linux["cgroupsPath"] = f"{top}/a/{b.cid}"
    b.linux["resources"]["memory"] = {"limit": 64 << 20}
    b.linux["resources"]["pids"] = {"limit": 64}
    pid = rt.create_running(b)
    assert cgroup_of(pid)["" if V2 else "memory"] == b.cgroups_path
    if V2:
        # Each new parent hands the controllers down to its child.
        for parent in (top, f"{top}/a"):
            enabled = read_file(os.path.join(dir_in(parent), "cgroup.subtree_control")).split()
            assert {"memory", "pids", "cpu"} <= set(enabled), parent
    assert read_file(os.path.join(dir_in(b.cgroups_path), "memory.max" if V2 else
                                  "memory.limit_in_bytes")).strip() == str(64 << 20)
    rt.delete(b.cid, force=True)
    assert not os.path.exists(dir_in(top))
    assert find_cgroup_dirs(b.cid) == []


@pytest.mark.cell_only
def test_relative_cgroups_path_is_under_cell(rt, bundle):
    b = bundle("sleep", "1000")
    rel = f"{CGROUP_PARENT.lstrip('/')}/{b.cid}"
    b.linux["cgroupsPath"] = rel
    pid = rt.create_running(b)
    assert cgroup_of(pid)["" if V2 else "memory"] == f"/cell/{rel}"
    rt.delete(b.cid, force=True)
    assert find_cgroup_dirs(b.cid) == []
    # The parents cell made below its own /cell go with the last container.
    assert not os.path.exists(dir_in(f"/cell{CGROUP_PARENT}"))

"""The systemd cgroup driver (--systemd-cgroup, cgroupsPath "slice:prefix:name").

Where systemd is PID 1 (`make check-systemd` runs this file in
tests/vm/run-v2.sh --systemd, a pure cgroup v2 guest with systemd as PID 1)
the container's cgroup is a transient scope that systemd made: systemctl
sees it, the container is in it, its limits are in it, and delete leaves
nothing of it. Where systemd is not PID 1 (these machines), the same
commands give one clear error and make nothing. Each test asserts what
holds where it runs.
"""

import os
import subprocess

import pytest

from cgroup_helpers import V2
from helpers import CGROUP_ROOT, pid_alive, read_file, reap, wait_for

# sd_booted(3): what the runtime checks too.
SYSTEMD = os.path.isdir("/run/systemd/system")
MEMORY = 64 << 20

pytestmark = pytest.mark.cell_only


def scope_of(cid):
    return f"cell-{cid}.scope"


def scope_dir(cid, controller="memory"):
    rel = f"system.slice/{scope_of(cid)}"
    return os.path.join(CGROUP_ROOT, rel) if V2 else os.path.join(CGROUP_ROOT, controller, rel)


def systemctl_show(unit, *props):
    p = subprocess.run(["systemctl", "show", unit] + [f"--property={x}" for x in props],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def units_mentioning(cid):
    p = subprocess.run(["systemctl", "list-units", "--all", "--no-legend", "--plain"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return [line for line in p.stdout.splitlines() if cid in line]


def systemd_bundle(bundle, *args, cgroups_path=None):
    """No cgroup namespace and no /sys/fs/cgroup mount: the container's
    /proc/self/cgroup then shows the host's path of its cgroup (and the
    guest's hybrid layout cannot mount every v1 hierarchy in a namespace)."""
    b = bundle(*args)
    b.linux["cgroupsPath"] = cgroups_path or f"system.slice:cell:{b.cid}"
    b.linux["resources"]["memory"] = {"limit": MEMORY}
    b.without_namespace("cgroup")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    return b


def assert_refused(p, rt, cid):
    """The one-line refusal where systemd is not PID 1, and nothing made."""
    lines = p.stderr.strip().splitlines()
    assert p.returncode != 0
    assert len(lines) == 1 and "--systemd-cgroup" in lines[0] and "PID 1" in lines[0], p.stderr
    assert rt("state", cid).returncode != 0
    assert not os.path.exists(rt.state_dir(cid))


def assert_scope_gone(cid):
    assert units_mentioning(cid) == []
    assert systemctl_show(scope_of(cid), "LoadState")["LoadState"] == "not-found"
    assert not os.path.exists(scope_dir(cid))


def test_systemd_scope_holds_the_container(rt, bundle, gate):
    b = systemd_bundle(bundle)
    g = gate(b)
    b.sh(g.wait)
    p = rt("--systemd-cgroup", "create", "--bundle", b, b.cid, timeout=60)
    if not SYSTEMD:
        assert_refused(p, rt, b.cid)
        return
    assert p.returncode == 0, p.stderr
    pid = rt.state(b.cid)["pid"]
    unit = systemctl_show(scope_of(b.cid), "ActiveState", "ControlGroup", "MemoryMax", "Slice")
    assert unit["ActiveState"] == "active"
    assert unit["ControlGroup"] == f"/system.slice/{scope_of(b.cid)}"
    assert unit["Slice"] == "system.slice"
    assert unit["MemoryMax"] == str(MEMORY)
    # the init is in the scope; the runtime that made it is not (it has exited)
    assert f":/system.slice/{scope_of(b.cid)}\n" in read_file(f"/proc/{pid}/cgroup")
    procs = read_file(os.path.join(scope_dir(b.cid), "cgroup.procs")).split()
    assert procs == [str(pid)]
    limit_file = "memory.max" if V2 else "memory.limit_in_bytes"
    assert read_file(os.path.join(scope_dir(b.cid), limit_file)).strip() == str(MEMORY)

    # ps and pause work from the recorded state, without the flag
    rt.start(b.cid)
    assert str(pid) in rt.ok("ps", "--format", "json", b.cid).stdout
    rt.ok("pause", b.cid)
    assert rt.state(b.cid)["status"] == "paused"
    rt.ok("resume", b.cid)
    g.release()
    rt.wait_status(b.cid, "stopped", timeout=30)
    rt.delete(b.cid)
    assert_scope_gone(b.cid)


def test_systemd_delete_force_of_a_running_container(rt, bundle):
    b = systemd_bundle(bundle, "sleep", "1000")
    p = rt("--systemd-cgroup", "create", "--bundle", b, b.cid, timeout=60)
    if not SYSTEMD:
        assert_refused(p, rt, b.cid)
        return
    assert p.returncode == 0, p.stderr
    pid = rt.state(b.cid)["pid"]
    rt.start(b.cid)
    # exec joins the scope from the state, without the flag
    e = rt.ok("exec", b.cid, "cat", "/proc/self/cgroup")
    assert f":/system.slice/{scope_of(b.cid)}\n" in e.stdout
    rt.delete(b.cid, force=True)
    wait_for(lambda: not pid_alive(pid), 10, what="the init to die")
    reap()
    assert_scope_gone(b.cid)


def test_systemd_run_moves_the_runtime_back(rt, bundle, gate):
    b = systemd_bundle(bundle)
    g = gate(b)
    b.sh(f"echo in; {g.wait}; true")
    if not SYSTEMD:
        assert_refused(rt("--systemd-cgroup", "run", "--bundle", b, b.cid), rt, b.cid)
        return
    before = read_file("/proc/self/cgroup")
    out = os.path.join(os.path.dirname(b.path), "run.out")
    with open(out, "w") as f:
        runner = subprocess.Popen(rt.argv("--systemd-cgroup", "run", "--bundle", b, b.cid),
                                  stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: read_file(out).startswith("in"), 60, what="the container to start")
        procs = read_file(os.path.join(scope_dir(b.cid), "cgroup.procs")).split()
        assert procs == [str(rt.state(b.cid)["pid"])]
        # the foreground runtime is back where it was started (our cgroup)
        assert read_file(f"/proc/{runner.pid}/cgroup") == before
        g.release()
        assert runner.wait(60) == 0, read_file(out)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert_scope_gone(b.cid)


@pytest.mark.parametrize("path", ["/cell-test/x", "system.slice:x", "a:b:c:d",
                                  "system:cell:x", "system.slice:cell:../x"])
def test_systemd_bad_cgroups_path_is_one_clear_error(rt, bundle, path):
    b = systemd_bundle(bundle, cgroups_path=path)
    p = rt("--systemd-cgroup", "create", "--bundle", b, b.cid, timeout=60)
    if not SYSTEMD:
        assert_refused(p, rt, b.cid)
        return
    lines = p.stderr.strip().splitlines()
    assert p.returncode != 0
    assert len(lines) == 1 and "linux.cgroupsPath" in lines[0] and path in lines[0], p.stderr
    assert not os.path.exists(rt.state_dir(b.cid))
    assert units_mentioning(b.cid) == []

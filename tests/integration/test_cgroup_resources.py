"""Resource limits seen from inside the container and from the host, on
whatever layout the host has: v1 hybrid here, pure cgroup v2 in
tests/vm/run-v2.sh (config-linux.md "Control groups": memory, pids, CPU,
device allowlist; runc's `update`)."""

import json
import os
import subprocess
import time

from cgroup_helpers import (V2, cpu_usage_ns, host_path, host_value, inside_path, keyed,
                            quota_text)
from helpers import Gate, read_file, wait_for

MiB = 1 << 20


def out_file(out, name, timeout=20):
    """The content of a file the container writes into /out, once written."""
    path = os.path.join(out, name)
    return wait_for(lambda: os.path.exists(path) and read_file(path).strip(), timeout,
                    what=f"/out/{name}")


def test_memory_limit_is_what_the_container_sees_as_its_own(rt, bundle, hostdir):
    """As `docker run --memory=256m alpine cat /sys/fs/cgroup/memory.max`: in
    its cgroup namespace the container reads its own limit at the top."""
    out = hostdir("out")
    b = bundle().sh(f"cat {inside_path('memory.limit')} > /out/limit")
    b.bind(out, "/out")
    b.linux["resources"]["memory"] = {"limit": 256 * MiB}
    rt.create(b)
    assert host_value(b, "memory.limit") == str(256 * MiB)
    rt.start(b.cid)
    assert out_file(out, "limit") == str(256 * MiB)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_pids_limit_of_20_stops_a_fork_loop_and_the_container_survives(rt, bundle, gate,
                                                                       hostdir):
    out = hostdir("out")
    b = bundle()
    b.bind(out, "/out")
    g = gate(b)
    b.sh("sh -c 'i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done' 2>/dev/null; "
         f"cat {inside_path('pids.current')} > /out/current; {Gate.wait}")
    b.linux["resources"]["pids"] = {"limit": 20}
    rt.create_running(b)
    current = int(out_file(out, "current"))
    assert 15 <= current <= 20
    assert host_value(b, "pids.max") == "20"
    assert keyed(read_file(host_path(b, "pids.events")), "max") > 0  # forks were refused
    assert rt.status(b.cid) == "running"
    pids = json.loads(rt.ok("ps", "--format", "json", b.cid).stdout)
    assert len(pids) <= 20
    assert sum(read_file(f"/proc/{p}/cmdline").startswith("sleep") for p in pids) < 100
    g.release()
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_cpu_quota_of_half_a_cpu_holds_a_busy_loop_near_50_percent(rt, bundle, hostdir):
    """quota 50000 us per 100000 us period (`--cpus 0.5`): over 3 s the busy
    loop gets about half of one CPU, not all of it."""
    out = hostdir("out")
    b = bundle().sh(f"cat {inside_path('cpu.quota')} > /out/quota; while :; do :; done")
    b.bind(out, "/out")
    b.linux["resources"]["cpu"] = {"quota": 50000, "period": 100000}
    rt.create_running(b)
    assert out_file(out, "quota") == quota_text(50000, 100000)
    time.sleep(0.3)
    used0, t0 = cpu_usage_ns(b), time.monotonic()
    time.sleep(3)
    used1, t1 = cpu_usage_ns(b), time.monotonic()
    share = (used1 - used0) / ((t1 - t0) * 1e9)
    # Unlimited it would be near 1.0. The lower bound only says that it ran:
    # on a busy host (other suites, a VM) the loop may get less than its quota.
    assert 0.05 <= share <= 0.6, share
    rt.delete(b.cid, force=True)


def test_cpu_shares_are_cpu_shares_on_v1_and_a_weight_on_v2(rt, bundle):
    """v2 has no cpu.shares: 2..262144 maps onto cpu.weight 1..10000, so
    runc's default 1024 is 39 and the minimum 2 is 1."""
    b = bundle("sleep", "1000")
    b.linux["resources"]["cpu"] = {"shares": 1024}
    rt.create(b)
    rel = b.cgroups_path.lstrip("/")
    path = f"/sys/fs/cgroup/{rel}/cpu.weight" if V2 else f"/sys/fs/cgroup/cpu/{rel}/cpu.shares"
    assert read_file(path).strip() == ("39" if V2 else "1024")
    rt.ok("update", "--cpu-share", "2", b.cid)
    assert read_file(path).strip() == ("1" if V2 else "2")
    rt.delete(b.cid, force=True)


def test_update_raises_the_memory_limit_of_a_running_container(rt, bundle, gate, hostdir):
    """At 32 MiB a 48 MiB allocation is OOM-killed; after `update --memory
    128m` the same allocation in the same container succeeds."""
    out = hostdir("out")
    b = bundle()
    b.bind(out, "/out")
    g = gate(b)
    limit = inside_path("memory.limit")
    alloc = "dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo $? > /out/dd"
    b.sh(f"cat {limit} > /out/before; {alloc}1; {Gate.wait}; "
         f"cat {limit} > /out/after; {alloc}2; {Gate.wait}")
    b.linux["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    rt.create_running(b)
    assert out_file(out, "dd1") == "137"
    assert out_file(out, "before") == str(32 * MiB)
    rt.ok("update", "--memory", "128m", "--memory-swap", "128m", b.cid)
    assert host_value(b, "memory.limit") == str(128 * MiB)
    g.release()
    assert out_file(out, "dd2") == "0"
    assert out_file(out, "after") == str(128 * MiB)
    g.release()
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_update_from_a_resources_file_ignores_the_flags(rt, bundle, test_dir):
    """runc-update(8): "if data is to be read from a file or the standard
    input, all other options are ignored"."""
    b = bundle("sleep", "1000")
    b.linux["resources"]["pids"] = {"limit": 10}
    b.linux["resources"]["cpu"] = {"quota": 20000, "period": 100000}
    b.linux["resources"]["memory"] = {"limit": 32 * MiB}
    rt.create_running(b)
    res = os.path.join(test_dir, "resources.json")
    with open(res, "w") as f:
        json.dump({"pids": {"limit": 50}, "cpu": {"quota": 10000}}, f)
    rt.ok("update", "--resources", res, "--cpu-quota", "30000", "--memory", "64m", b.cid)
    assert host_value(b, "pids.max") == "50"
    assert host_value(b, "cpu.quota") == quota_text(10000, 100000)
    assert host_value(b, "memory.limit") == str(32 * MiB)
    rt.delete(b.cid, force=True)


def test_update_with_nothing_to_change_succeeds_and_changes_nothing(rt, bundle, test_dir):
    """As runc: `update ID` without a flag, or with an empty document."""
    b = bundle("sleep", "1000")
    b.linux["resources"]["pids"] = {"limit": 10}
    rt.create_running(b)
    res = os.path.join(test_dir, "empty.json")
    with open(res, "w") as f:
        f.write("{}")
    rt.ok("update", b.cid)
    rt.ok("update", "--resources", res, b.cid)
    assert host_value(b, "pids.max") == "10"
    rt.delete(b.cid, force=True)


def test_update_from_flags(rt, bundle):
    b = bundle("sleep", "1000")
    b.linux["resources"]["cpu"] = {"quota": 20000, "period": 100000}
    rt.create_running(b)
    rt.ok("update", "--cpu-quota", "30000", "--pids-limit", "40", b.cid)
    assert host_value(b, "cpu.quota") == quota_text(30000, 100000)
    assert host_value(b, "pids.max") == "40"
    rt.delete(b.cid, force=True)


def test_update_reads_resources_from_standard_input(rt, bundle):
    """containerd's way: `update --resources -` with the JSON on stdin."""
    b = bundle("sleep", "1000")
    b.linux["resources"]["memory"] = {"limit": 32 * MiB}
    rt.create_running(b)
    p = subprocess.run(rt.argv("update", "--resources", "-", b.cid), capture_output=True,
                       text=True, timeout=30,
                       input=json.dumps({"memory": {"limit": 96 * MiB}, "pids": {"limit": 7}}))
    assert p.returncode == 0, p.stderr
    assert host_value(b, "memory.limit") == str(96 * MiB)
    assert host_value(b, "pids.max") == "7"
    rt.delete(b.cid, force=True)


def test_update_of_a_stopped_container_fails(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    p = rt("update", "--pids-limit", "5", b.cid)
    assert p.returncode != 0 and p.stderr.strip()
    rt.delete(b.cid)


def with_mknod(b):
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k].append("CAP_MKNOD")


# c 240:0 is in the "local/experimental" range: no driver claims it, so an
# open the device rules let through fails with ENXIO, one they deny with
# EPERM.
MKNOD_AND_OPEN = ("mknod /dev/probe c 240 0 && echo made; "
                  "head -c 1 /dev/probe 2>&1 >/dev/null | grep -o -e 'not permitted' "
                  "-e 'No such device'")


def test_device_rules_deny_open_of_a_device_made_inside(rt, bundle):
    """The default rules let the container make nodes (runc's "c *:* m")
    but not open one that is not allowed: v1 devices.deny, v2 a
    BPF_PROG_TYPE_CGROUP_DEVICE program."""
    b = bundle().sh(MKNOD_AND_OPEN)
    with_mknod(b)
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "made\nnot permitted\n"


def test_device_rule_allows_open_of_a_listed_device(rt, bundle):
    b = bundle().sh(MKNOD_AND_OPEN)
    with_mknod(b)
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 240, "minor": 0, "access": "rw"})
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "made\nNo such device\n"

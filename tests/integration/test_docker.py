"""Docker drives the runtime: Debian's dockerd 20.10, started for this module
with `--add-runtime cell=<cell-runtime>` in a sandbox of its own (data root,
exec root, socket, containerd, no network: see clients_fixture.py), a
busybox image loaded with `docker load`. Each scenario runs with
`docker run --runtime cell` and with dockerd's default, runc, side by side,
and what Docker shows must match: output, exit status, logs, limits read
back inside the container.

dockerd goes through containerd's runc shim, which calls the runtime's
create, start, state, exec, kill and delete with the config.json dockerd
wrote. tests/data/docker-20.10-config.json is one such config, captured
from this dockerd; the last test runs it with the runtime directly.
"""

import json
import os

from cgroup_helpers import V2, inside_path
from clients_fixture import IMAGE, docker, docker_env, each, same  # noqa: F401 (fixtures)
from helpers import CGROUP_PARENT, LOOPBACK_PROBE, LOOPBACK_UP, read_file, wait_for

RUNTIMES = ("cell", "runc")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")

# Reports the signals it gets: TERM ends it with status 3.
TRAPPER = ("trap 'echo got TERM; exit 3' TERM; echo started; "
           "while :; do sleep 1000 & p=$!; wait $p; kill $p 2>/dev/null; done")


def both(fn):
    return each(fn, RUNTIMES)


def name_for(request, rt):
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return f"{base}-{rt}"


def outcome(p):
    return p.returncode, p.stdout, p.stderr


def test_run_rm_prints_output(docker):
    """The bug report's first try: `docker run --rm --runtime cell --network
    none IMAGE sh -c 'echo hi'` failed at create (blockIO.weight 0)."""
    got = both(lambda rt: outcome(docker.run(rt, "--rm", IMAGE, "sh", "-c", "echo hi")))
    assert same(got, "run --rm") == (0, "hi\n", "")


def test_exit_status_comes_back(docker):
    got = both(lambda rt: outcome(docker.run(rt, "--rm", IMAGE, "sh", "-c",
                                             "echo out; echo err >&2; exit 3")))
    assert same(got, "exit status") == (3, "out\n", "err\n")


def test_missing_command_exit_status(docker):
    """Docker maps a failed exec at start to 127 (not found)."""
    got = both(lambda rt: docker.run(rt, "--rm", IMAGE, "/nonexistent").returncode)
    assert same(got, "run /nonexistent") == 127


def test_detached_logs_exec_stop(docker, request):
    """-d, then logs, exec (status and user), stop: the TERM reaches the
    container's init, whose exit status Docker records."""
    def run(rt):
        name = name_for(request, rt)
        docker.ok("run", "-d", "--runtime", rt, "--network", "none", "--name", name, IMAGE,
                  "sh", "-c", TRAPPER)
        try:
            wait_for(lambda: "started" in docker.docker("logs", name).stdout, 15,
                     what=f"'started' from {name}")
            running = docker.inspect(name, "{{.State.Status}} {{.HostConfig.Runtime}}")
            e1 = docker.docker("exec", name, "sh", "-c", "echo in exec; exit 4")
            e2 = docker.docker("exec", "-u", "1000:1000", "-w", "/tmp", name, "sh", "-c",
                               "id -u; pwd")
            stop = docker.docker("stop", "-t", "10", name)
            state = docker.inspect(name, "{{.State.Status}} {{.State.ExitCode}}")
            logs = docker.ok("logs", name).stdout
        finally:
            docker.docker("rm", "-f", name)
        return (running.replace(rt, "<rt>"), outcome(e1), outcome(e2), stop.returncode, state,
                logs)
    r = same(both(run), "-d/logs/exec/stop")
    assert r == ("running <rt>", (4, "in exec\n", ""), (0, "1000\n/tmp\n", ""), 0,
                 "exited 3", "started\ngot TERM\n")


def host_cgroup_file(docker, cid, controller, name):
    rel = f"{docker.cgroup_parent.lstrip('/')}/{cid}"
    if V2:
        return f"/sys/fs/cgroup/{rel}/{name}"
    return f"/sys/fs/cgroup/{controller}/{rel}/{name}"


def limits_seen(docker, request, rt, flags, what, host_file):
    """Runs a container with flags; returns what it reads inside from
    its own cgroup file of `what` and what the host reads in
    <cgroup parent>/<container id>."""
    name = name_for(request, rt)
    docker.ok("run", "-d", "--runtime", rt, "--network", "none", "--name", name, *flags,
              IMAGE, "sh", "-c", f"cat {inside_path(what)}; exec sleep 1000")
    try:
        wait_for(lambda: docker.docker("logs", name).stdout, 15, what=f"output of {name}")
        cid = docker.inspect(name, "{{.Id}}")
        host = read_file(host_cgroup_file(docker, cid, *host_file)).strip()
        inside = docker.ok("logs", name).stdout
    finally:
        docker.docker("rm", "-f", name)
    return inside, host


def test_memory_limit_read_back(docker, request):
    host_file = ("memory", "memory.max") if V2 else ("memory", "memory.limit_in_bytes")
    got = both(lambda rt: limits_seen(docker, request, rt, ("--memory", "64m"), "memory.limit",
                                      host_file))
    assert same(got, "--memory 64m") == (f"{64 << 20}\n", str(64 << 20))


def test_pids_limit_read_back_and_enforced(docker, request):
    got = both(lambda rt: limits_seen(docker, request, rt, ("--pids-limit", "20"), "pids.max",
                                      ("pids", "pids.max")))
    assert same(got, "--pids-limit 20") == ("20\n", "20")
    script = ("(for i in $(seq 30); do sleep 5 & done) 2>/dev/null || echo fork-failed; "
              f"test $(cat {inside_path('pids.current')}) -le 20 && echo within")
    got = both(lambda rt: outcome(docker.run(rt, "--rm", "--pids-limit", "20", IMAGE,
                                             "sh", "-c", script)))
    assert same(got, "pids enforced") == (0, "fork-failed\nwithin\n", "")


def host_value_of(docker, request, rt, host_file):
    """The file host_file of a container started with no limits, read on
    the host."""
    name = name_for(request, rt)
    docker.ok("run", "-d", "--runtime", rt, "--network", "none", "--name", name, IMAGE,
              "sleep", "1000")
    try:
        cid = docker.inspect(name, "{{.Id}}")
        return read_file(host_cgroup_file(docker, cid, *host_file)).strip()
    finally:
        docker.docker("rm", "-f", name)


def test_no_limits_asked_none_written(docker, request):
    """Docker asks for cpu.shares 0 and blockIO.weight 0 when the user gave
    none: the container's cgroup keeps the kernel's default CPU weight, as
    under runc, not the least CPU there is (cell wrote cpu.shares 0, which
    the kernel makes 2)."""
    host_file = ("cpu", "cpu.weight") if V2 else ("cpu", "cpu.shares")
    got = both(lambda rt: host_value_of(docker, request, rt, host_file))
    assert same(got, "cpu weight") == ("100" if V2 else "1024")


def test_user(docker):
    got = both(lambda rt: outcome(docker.run(rt, "--rm", "--user", "1000:1000", IMAGE, "id")))
    assert same(got, "--user") == (0, "uid=1000(user) gid=1000(user) groups=1000(user)\n", "")


def test_read_only_root(docker):
    script = "touch /x 2>&1; echo $?; touch /dev/shm/y && echo shm-writable"
    got = both(lambda rt: outcome(docker.run(rt, "--rm", "--read-only", IMAGE, "sh", "-c",
                                             script)))
    assert same(got, "--read-only") == (
        0, "touch: /x: Read-only file system\n1\nshm-writable\n", "")


def test_process_view(docker):
    """What the process sees of Docker's spec: capabilities, seccomp (Docker's
    default profile), the loopback interface, masked and read-only paths,
    the sysctls Docker sets, the hostname; the same under both runtimes."""
    script = ("grep -E '^(Cap(Prm|Eff|Bnd)|NoNewPrivs|Seccomp):' /proc/self/status; "
              "ip -o link | cut -d: -f2; grep -c '^proc /proc/sys proc ro,' /proc/mounts; "
              "wc -c < /proc/timer_list; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; "
              "hostname; cat /etc/hostname")
    got = both(lambda rt: outcome(docker.run(rt, "--rm", "--hostname", "box", IMAGE,
                                             "sh", "-c", script)))
    r = same(got, "the process's view")
    assert r[0] == 0, r
    # Docker's 14 default capabilities: 0xa80425fb.
    assert r[1].splitlines() == [
        "CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb",
        "NoNewPrivs:\t0", "Seccomp:\t2", " lo", "1", "0", "0", "box", "box"]


def test_loopback_is_up_under_the_default_seccomp_profile(docker):
    """--network none still gives the container a network namespace of its
    own, with Docker's default seccomp profile: lo is up and 127.0.0.1
    answers, as with runc."""
    got = both(lambda rt: docker.run(rt, "--rm", IMAGE, "sh", "-c",
                                     LOOPBACK_PROBE + "; grep Seccomp: /proc/self/status"))
    r = same({rt: (p.returncode, p.stdout.split()) for rt, p in got.items()}, "loopback")
    # Docker turns IPv6 off in such a container (net.ipv6.conf.all.
    # disable_ipv6=1): no ::1 on lo, under runc as under cell.
    ping, _, flags = LOOPBACK_UP
    assert r == (0, [ping, "0", flags, "Seccomp:", "2"])


# --------------------------------------------------------------------------
# Docker's own config.json, run by the runtime directly


def docker_config(rootfs, test_dir, cgroups_path):
    """tests/data/docker-20.10-config.json with what points into that
    dockerd replaced: the rootfs, the files it binds (resolv.conf,
    hostname, hosts), its prestart hook (its own binary, by pid), the
    cgroup. Everything else as dockerd wrote it."""
    with open(os.path.join(DATA, "docker-20.10-config.json")) as f:
        config = json.load(f)
    config["root"]["path"] = rootfs
    for m in config["mounts"]:
        if m["type"] == "bind":
            src = os.path.join(test_dir, os.path.basename(m["destination"]))
            with open(src, "w") as f:
                f.write("127.0.0.1 localhost\n" if src.endswith("hosts") else "box\n")
            m["source"] = src
    del config["hooks"]
    config["linux"]["cgroupsPath"] = cgroups_path
    return config


def test_dockers_config_runs(rt, rootfs, test_dir, bundle, cid):
    """The config dockerd 20.10 hands the runtime for `docker run --network
    none IMAGE sh -c 'echo hi'` (cpu.shares 0, blockIO.weight 0, Docker's
    devices and seccomp profile): created, its cgroup keeps the defaults,
    and it prints hi."""
    b = bundle()
    b.config = docker_config(rootfs, test_dir, f"{CGROUP_PARENT}/{cid}")
    rt.create(b)
    try:
        if V2:
            weight = read_file(f"/sys/fs/cgroup{CGROUP_PARENT}/{cid}/cpu.weight").strip()
            assert weight == "100"
        else:
            shares = read_file(f"/sys/fs/cgroup/cpu{CGROUP_PARENT}/{cid}/cpu.shares").strip()
            assert shares == "1024"
    finally:
        rt.delete(cid, force=True)
    p = rt.run(b)
    assert (p.returncode, p.stdout, p.stderr) == (0, "hi\n", "")


# Every linux.resources field a client may fill with 0 (or "") for "not
# set", as runc 1.1 reads them: nothing is written.
ZERO_RESOURCES = {
    "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0,
               "disableOOMKiller": False},
    "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0,
            "cpus": "", "mems": ""},
    "blockIO": {"weight": 0, "leafWeight": 0,
                "weightDevice": [{"major": 1, "minor": 3, "weight": 0, "leafWeight": 0}]},
    "network": {"classID": 0},
}

# The files those fields would write, as the host reads them.
CGROUP_FILES = (["cpu.weight", "cpu.max", "memory.max", "memory.low", "cpuset.cpus.effective"]
                if V2 else
                ["cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
                 "cpu/cpu.rt_runtime_us", "memory/memory.limit_in_bytes",
                 "memory/memory.soft_limit_in_bytes", "memory/memory.oom_control",
                 "cpuset/cpuset.cpus", "cpuset/cpuset.mems"])


def created_cgroup_values(rt, b, cid):
    """{file: value} of CGROUP_FILES in the cgroup of b, created."""
    rt.create(b)
    try:
        values = {}
        for f in CGROUP_FILES:
            controller, _, name = f.rpartition("/")
            parts = ["/sys/fs/cgroup", controller, CGROUP_PARENT.lstrip("/"), cid, name]
            values[f] = read_file(os.path.join(*[p for p in parts if p])).strip()
        return values
    finally:
        rt.delete(cid, force=True)


def test_zero_valued_resources_write_nothing(rt, bundle, cid):
    """A container whose resources are all zeros gets the same cgroup as
    one with no resources at all (cell wrote cpu.shares 0, which the kernel
    makes 2, and refused blkio.weight 0, net_cls classID 0 without net_cls,
    leafWeight 0 on v2, ...)."""
    b = bundle("true")
    plain = created_cgroup_values(rt, b, cid)
    b.linux["resources"] = dict(b.linux.get("resources", {}), **ZERO_RESOURCES)
    assert created_cgroup_values(rt, b, cid) == plain

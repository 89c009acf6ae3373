"""`cell explain CONTAINER`: a running container's cage as the kernel shows
it. Each fact `--format json` reports is checked against what the host
reads itself (/proc/PID/ns, /proc/PID/status, the cgroup files), and the
nsenter line it prints is run for real."""
import json
import os
import pty
import shlex
import subprocess

import pytest

from cgroup_helpers import V2, cgroups_of
from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import proc_status_field, read_file, wait_for

pytestmark = pytest.mark.cell_only

SECTIONS = ("Namespaces", "Cgroup", "Capabilities", "Seccomp", "User", "Filesystem", "Join")

# Docker's default capabilities and their numbers (linux/capability.h):
# together they are the mask a80425fb.
DOCKER_CAPS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4,
               "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
               "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18,
               "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SETFCAP": 31}


def explain(engine, name):
    out = engine.ok("explain", "--format", "json", name)
    assert len(out.splitlines()) == 1, "--format json is one object on one line"
    return json.loads(out)


def started(engine, *args):
    """`cell run -d [args] bb sleep 30`: its name and explain object."""
    name = "c"
    engine.ok("run", "-d", "--name", name, *args, "bb", "sleep", "30")
    return name, explain(engine, name)


def test_every_namespace_but_user_and_time_is_private_with_the_inode_the_host_sees(engine):
    name, x = started(engine)
    pid = engine.inspect(name)["State"]["Pid"]
    assert x["Pid"] == pid and x["Name"] == name
    host = x["HostNamespaces"]
    assert host in ("/proc/1", "/proc/self")
    assert sorted(x["Namespaces"]) == sorted(
        ["pid", "net", "ipc", "uts", "mnt", "cgroup", "user", "time"])
    for ns, info in x["Namespaces"].items():
        assert info["Inode"] == os.stat(f"/proc/{pid}/ns/{ns}").st_ino, ns
        assert info["HostInode"] == os.stat(f"{host}/ns/{ns}").st_ino, ns
        assert info["Private"] == (ns not in ("user", "time")), ns
        assert info["Private"] == (info["Inode"] != info["HostInode"]), ns


def test_memory_limit_is_shown_beside_current_use(engine):
    name, x = started(engine, "-m", "64m")
    mem = x["Cgroup"]["Memory"]
    assert mem["Limit"] == 67108864
    assert mem["Current"] > 0
    assert mem["Peak"] is None or mem["Peak"] >= mem["Current"]
    assert mem["OOMKills"] == 0
    limit_file = "memory.max" if V2 else "memory.limit_in_bytes"
    assert read_file(os.path.join(mem["Dir"], limit_file)).strip() == "67108864"
    pid = x["Pid"]
    assert x["Cgroup"]["Path"] == cgroups_of(pid)["" if V2 else "memory"]
    assert x["Cgroup"]["Layout"] in ("v1", "hybrid", "v2")


def test_no_memory_limit_is_null(engine):
    _, x = started(engine)
    assert x["Cgroup"]["Memory"]["Limit"] is None


def test_cpus_half_is_half_a_cpu(engine):
    _, x = started(engine, "--cpus", "0.5")
    cpu = x["Cgroup"]["CPU"]
    assert (cpu["CPUs"], cpu["Quota"], cpu["Period"]) == (0.5, 50000, 100000)
    assert cpu["UsageNs"] > 0


def test_pids_limit_and_current(engine):
    _, x = started(engine, "--pids-limit", "20")
    pids = x["Cgroup"]["Pids"]
    assert (pids["Max"], pids["Current"]) == (20, 1)


def test_capabilities_are_dockers_default_set_by_name(engine):
    _, x = started(engine)
    assert proc_status_field(x["Pid"], "CapEff")[0] == "00000000a80425fb"
    assert sum(1 << n for n in DOCKER_CAPS.values()) == 0xa80425fb
    caps = x["Capabilities"]
    for s in ("Effective", "Permitted", "Bounding"):
        assert sorted(caps[s]) == sorted(DOCKER_CAPS), s
    assert caps["Inheritable"] == [] and caps["Ambient"] == []
    assert caps["Known"] == int(read_file("/proc/sys/kernel/cap_last_cap")) + 1


def test_cap_drop_all_leaves_every_set_empty(engine):
    _, x = started(engine, "--cap-drop", "ALL")
    caps = x["Capabilities"]
    assert [caps[s] for s in ("Effective", "Permitted", "Bounding", "Inheritable", "Ambient")] \
        == [[]] * 5


def test_seccomp_filter_and_its_profile(engine):
    _, x = started(engine)
    sc = x["Seccomp"]
    assert (sc["Mode"], sc["ModeName"]) == (2, "filter")
    assert sc["Filters"] == int(proc_status_field(x["Pid"], "Seccomp_filters")[0]) >= 1
    assert sc["Profile"]["DefaultAction"] == "SCMP_ACT_ERRNO"
    assert sc["Profile"]["Rules"] > 0 and sc["Profile"]["Syscalls"] >= sc["Profile"]["Rules"]
    assert x["NoNewPrivs"] is False


def test_seccomp_unconfined_is_mode_0_and_no_profile(engine):
    _, x = started(engine, "--security-opt", "seccomp=unconfined")
    sc = x["Seccomp"]
    assert (sc["Mode"], sc["ModeName"], sc["Filters"], sc["Profile"]) == (0, "disabled", 0, None)


def test_no_new_privileges_is_shown(engine):
    _, x = started(engine, "--security-opt", "no-new-privileges")
    assert x["NoNewPrivs"] is True


def test_ids_and_maps_of_a_container_without_a_user_namespace(engine):
    _, x = started(engine)
    u = x["User"]
    assert (u["Uid"], u["Gid"], u["HostUid"], u["HostGid"]) == (0, 0, 0, 0)
    whole = [{"ContainerID": 0, "HostID": 0, "Size": 4294967295}]
    assert u["UidMap"] == whole and u["GidMap"] == whole


def test_root_filesystem_is_the_overlay_snapshot(engine):
    name, x = started(engine)
    root = x["RootFs"]
    cid = engine.inspect(name)["Id"]
    assert (root["Type"], root["ReadOnly"]) == ("overlay", False)
    assert root["UpperDir"] == os.path.join(engine.root, "snapshots", cid, "upper")
    assert root["MergedDir"] == engine.inspect(name)["GraphDriver"]["Data"]["MergedDir"]
    # Whole paths, on every kernel (before 6.8 the mount options are relative).
    layers = os.path.join(engine.root, "layers") + "/"
    assert root["LowerDirs"] and all(d.startswith(layers) and os.path.isdir(d)
                                     for d in root["LowerDirs"]), root["LowerDirs"]
    assert "/proc/kcore" in x["MaskedPaths"] and "/proc/sys" in x["ReadonlyPaths"]


def test_read_only_root_is_shown(engine):
    _, x = started(engine, "--read-only")
    assert x["RootFs"]["ReadOnly"] is True


def test_the_nsenter_line_joins_the_container(engine):
    name, x = started(engine, "--hostname", "caged", "-w", "/tmp")
    line = shlex.split(x["Nsenter"])
    assert line[:3] == ["nsenter", "-t", str(x["Pid"])]
    assert set(line) >= {"-m", "-u", "-i", "-n", "-p", "-C"} and "-U" not in line
    p = subprocess.run(line + ["--", "cat", "/etc/hostname"], capture_output=True, timeout=10)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"caged\n", b"")
    p = subprocess.run(line + ["--", "sh", "-c", "pwd; readlink /proc/self/ns/net; ps -o pid,args"],
                       capture_output=True, timeout=10)
    out = p.stdout.decode().splitlines()
    assert out[0] == "/tmp", p.stderr
    assert out[1] == f"net:[{x['Namespaces']['net']['Inode']}]"
    assert any(line.split()[:2] == ["1", "sleep"] for line in out[2:]), out


def test_text_output_has_every_section_and_no_color_off_a_terminal(engine):
    name, x = started(engine, "-m", "64m", "--cpus", "0.5")
    out = engine.ok("explain", name)
    titles = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert titles == ["Container", *SECTIONS]
    assert "\x1b[" not in out
    assert "64MiB limit" in out and "0.5 CPUs" in out and x["Nsenter"] in out
    assert "CAP_SETFCAP" in out and "SCMP_ACT_ERRNO" in out


def on_a_terminal(engine, *args, env=None):
    """stdout of `cell explain` run with a pty as its stdout."""
    master, slave = pty.openpty()
    p = subprocess.run([engine.path, "--root", engine.root, "explain", *args], stdout=slave,
                       stderr=subprocess.PIPE, timeout=30, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert p.returncode == 0, p.stderr
    return b"".join(chunks).decode()


def test_colors_on_a_terminal_unless_no_color(engine):
    name, _ = started(engine)
    assert "\x1b[1mNamespaces" in on_a_terminal(engine, name)
    env = dict(os.environ, NO_COLOR="1")
    plain = on_a_terminal(engine, name, env=env)
    assert "\x1b[" not in plain and "Namespaces" in plain


def test_a_container_that_is_not_running_is_one_line(engine):
    engine.ok("create", "--name", "idle", "bb", "true")
    p = engine.run("explain", "idle")
    assert (p.returncode, p.stdout, p.stderr) == (1, b"", b"cell: Container idle is not running\n")
    engine.ok("run", "--name", "done", "bb", "true")
    assert engine.fail("explain", "done") == "cell: Container done is not running"
    assert engine.fail("explain", "nothere") == "cell: No such container: nothere"
    assert "unknown --format" in engine.fail("explain", "--format", "yaml", "idle")


def test_a_user_namespace_shows_its_maps_and_nsenter_joins_it(engine):
    """--uidmap: a user namespace with that map."""
    engine.ok("create", "--name", "u", "--hostname", "mapped", "--uidmap", "0:100000:65536",
              "bb", "sleep", "30")
    engine.ok("start", "u")
    wait_for(lambda: engine.status("u") == "running", what="u running")
    x = explain(engine, "u")
    assert x["Namespaces"]["user"]["Private"] is True
    assert x["Namespaces"]["user"]["Inode"] == os.stat(f"/proc/{x['Pid']}/ns/user").st_ino
    u = x["User"]
    assert (u["Uid"], u["Gid"], u["HostUid"], u["HostGid"]) == (0, 0, 100000, 100000)
    assert u["UidMap"] == [{"ContainerID": 0, "HostID": 100000, "Size": 65536}]
    line = shlex.split(x["Nsenter"])
    assert "-U" in line
    p = subprocess.run(line + ["--", "sh", "-c", "cat /etc/hostname; cat /proc/self/uid_map"],
                       capture_output=True, timeout=10)
    out = p.stdout.decode().split()
    assert out == ["mapped", "0", "100000", "65536"], p.stderr

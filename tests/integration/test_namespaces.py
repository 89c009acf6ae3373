"""linux.namespaces, user namespace mappings and time offsets
(config-linux.md "Namespaces", "User namespace mappings", "Offset for Time
Namespace")."""

import os
import subprocess
import time

import pytest

from helpers import (DEFAULT_NAMESPACES, LOOPBACK_PROBE, LOOPBACK_UP, proc_status_field,
                     read_file, wait_for)

# config type -> /proc/self/ns entry
NS_FILE = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
           "cgroup": "cgroup", "user": "user", "time": "time"}

READ_NS = "for n in pid net ipc uts mnt cgroup user time; do echo $n $(readlink /proc/self/ns/$n); done"


def container_ns(rt, b):
    """{ns file name: 'net:[...]'} as the container's process sees it."""
    p = rt.run(b.sh(READ_NS))
    assert p.returncode == 0, p.stderr
    return dict(line.split(" ", 1) for line in p.stdout.splitlines())


def host_ns(name):
    return os.readlink(f"/proc/self/ns/{name}")


def test_requested_namespaces_differ_from_the_host(rt, bundle):
    seen = container_ns(rt, bundle())
    for t in DEFAULT_NAMESPACES:
        f = NS_FILE[t]
        assert seen[f] != host_ns(f), f"{t} namespace is the host's"
    # not requested: user (and time) stay the host's
    assert seen["user"] == host_ns("user")
    if os.path.exists("/proc/self/ns/time"):
        assert seen["time"] == host_ns("time")


@pytest.mark.parametrize("ns_type", ["pid", "network", "ipc", "uts", "cgroup"])
def test_a_namespace_not_requested_is_the_hosts(rt, bundle, ns_type):
    b = bundle().without_namespace(ns_type)
    seen = container_ns(rt, b)
    for t in DEFAULT_NAMESPACES:
        f = NS_FILE[t]
        if t == ns_type:
            assert seen[f] == host_ns(f), f"{t} namespace should be the host's"
        else:
            assert seen[f] != host_ns(f), f"{t} namespace should be new"


@pytest.fixture
def ns_holder():
    """ns_holder("--net") -> pid of `unshare --net sleep` holding a new
    namespace; killed afterwards."""
    procs = []

    def start(flag, ns_file):
        p = subprocess.Popen(["unshare", flag, "sleep", "1000"])
        procs.append(p)
        wait_for(lambda: os.readlink(f"/proc/{p.pid}/ns/{ns_file}") != host_ns(ns_file)
                 and read_file(f"/proc/{p.pid}/cmdline").startswith("sleep"),
                 what="unshare to enter its namespace")
        return p.pid

    yield start
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("ns_type,flag", [("network", "--net"), ("ipc", "--ipc"),
                                          ("uts", "--uts")])
def test_a_namespace_given_by_path_is_joined(rt, bundle, ns_holder, ns_type, flag):
    """config-linux.md Namespaces: with a path, the runtime places the
    container in that namespace."""
    f = NS_FILE[ns_type]
    holder = ns_holder(flag, f)
    b = bundle()
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != ns_type]
    b.linux["namespaces"].append({"type": ns_type, "path": f"/proc/{holder}/ns/{f}"})
    if ns_type == "uts":
        b.config.pop("hostname")
    seen = container_ns(rt, b)
    assert seen[f] == os.readlink(f"/proc/{holder}/ns/{f}")
    assert seen[f] != host_ns(f)


def test_hostname_is_set_in_a_joined_uts_namespace(rt, bundle, ns_holder):
    """A uts namespace joined by path is the container's own: the hostname
    is set there (runc does so), and the host's stays as it was."""
    host_name = os.uname().nodename
    holder = ns_holder("--uts", "uts")
    b = bundle("hostname")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "uts"]
    b.linux["namespaces"].append({"type": "uts", "path": f"/proc/{holder}/ns/uts"})
    b.config["hostname"] = "joined-box"
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "joined-box\n"
    held = subprocess.run(["nsenter", "-t", str(holder), "-u", "hostname"], check=True,
                          capture_output=True, text=True).stdout
    assert held == "joined-box\n"
    assert os.uname().nodename == host_name


def test_hostname_with_the_hosts_uts_namespace_is_refused(rt, bundle):
    """No uts entry: the container would rename the host; runc refuses it."""
    host_name = os.uname().nodename
    b = bundle("true").without_namespace("uts")
    b.config["hostname"] = "not-the-host"
    p = rt("create", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert rt("state", b.cid).returncode != 0
    assert os.uname().nodename == host_name


def test_joined_network_namespace_is_the_one_configured(rt, bundle, ns_holder):
    """An MTU set on loopback in the held namespace shows in the container."""
    holder = ns_holder("--net", "net")
    subprocess.run(["nsenter", "-t", str(holder), "-n", "ip", "link", "set", "lo", "mtu",
                    "1234"], check=True)
    b = bundle().sh("cat /sys/class/net/lo/mtu")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    b.linux["namespaces"].append({"type": "network", "path": f"/proc/{holder}/ns/net"})
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1234\n"


def test_new_network_namespace_has_only_loopback(rt, bundle):
    p = rt.run(bundle().sh("ls /sys/class/net"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["lo"]



# -- loopback: runc and crun bring `lo` up in a network namespace they make
# (not in a joined one); programs that talk to themselves over 127.0.0.1
# need it --

def host_lo_flags(pid):
    """`ip -o link show lo` in the network namespace of pid, from the host."""
    out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "link", "show",
                          "lo"], check=True, capture_output=True, text=True).stdout
    return out.split("<", 1)[1].split(">", 1)[0].split(",")


@pytest.mark.parametrize("userns", [False, True], ids=["plain", "userns"])
def test_loopback_is_up_in_a_new_network_namespace(rt, bundle, userns):
    b = userns_bundle(bundle) if userns else bundle()
    p = rt.run(b.sh(LOOPBACK_PROBE))
    assert p.returncode == 0, p.stderr
    # the server printed what the client sent; ::1 is on lo; IFF_UP is set
    assert p.stdout.split() == LOOPBACK_UP, p.stdout + p.stderr


def test_loopback_is_up_as_the_host_sees_it(rt, bundle, gate):
    b = bundle()
    g = gate(b)
    b.sh(g.wait)
    pid = rt.create_running(b)
    try:
        flags = host_lo_flags(pid)
        assert "UP" in flags and "LOWER_UP" in flags, flags
        assert "::1" in subprocess.run(
            ["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-6", "addr", "show", "lo"],
            check=True, capture_output=True, text=True).stdout
    finally:
        g.release()
        rt.wait_status(b.cid, "stopped")
        rt.delete(b.cid)


def test_joined_network_namespace_keeps_loopback_as_it_was(rt, bundle, ns_holder):
    """The namespace is someone else's: its lo stays down, inside and out."""
    holder = ns_holder("--net", "net")
    assert "UP" not in host_lo_flags(holder)
    b = bundle().sh("cat /sys/class/net/lo/flags")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    b.linux["namespaces"].append({"type": "network", "path": f"/proc/{holder}/ns/net"})
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "0x8\n"
    assert "UP" not in host_lo_flags(holder)


USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def userns_bundle(bundle):
    b = bundle()
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = USERNS_MAP
    b.linux["gidMappings"] = USERNS_MAP
    return b


def test_user_namespace_process_is_root_inside(rt, bundle):
    b = userns_bundle(bundle).sh("id -u; id -g; cat /proc/self/uid_map")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    uid, gid, uid_map = p.stdout.splitlines()
    assert (uid, gid) == ("0", "0")
    assert uid_map.split() == ["0", "100000", "65536"]


def test_user_namespace_process_is_uid_100000_on_the_host(rt, bundle, hostdir):
    """config-linux.md User namespace mappings: containerID 0 -> hostID
    100000; the host sees the mapped ids."""
    b = userns_bundle(bundle)
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh("id -u > /out/uid.tmp && mv /out/uid.tmp /out/uid; exec sleep 1000")
    pid = rt.create_running(b)
    # the shell makes the file before id writes to it
    wait_for(lambda: os.path.exists(os.path.join(out, "uid"))
             and read_file(os.path.join(out, "uid")))
    assert read_file(os.path.join(out, "uid")) == "0\n"
    assert proc_status_field(pid, "Uid") == ["100000"] * 4
    assert proc_status_field(pid, "Gid") == ["100000"] * 4
    assert os.stat(os.path.join(out, "uid")).st_uid == 100000
    assert os.readlink(f"/proc/{pid}/ns/user") != host_ns("user")
    rt.delete(b.cid, force=True)


def test_user_namespace_unmapped_host_files_show_as_nobody(rt, bundle, hostdir):
    """A host file owned by a uid outside the mapping appears as the
    overflow uid (65534) inside."""
    b = userns_bundle(bundle)
    src = hostdir("src")
    os.chown(src, 4242, 4242)
    b.bind(src, "/mnt/a", "rbind", "ro")
    p = rt.run(b.sh("stat -c '%u %g' /mnt/a /bin/busybox"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["65534 65534", "65534 65534"]


def time_ns_supported():
    return os.path.exists("/proc/self/ns/time")


# runc 1.1.5 (runtime-spec 1.0.2) knows no time namespace: "namespace
# {"time" ""} does not exist".
RUNC_NO_TIME_NS = pytest.mark.peer_differs(
    "runc", reason="config-linux.md Namespaces: \"The following namespace types SHOULD be "
    "supported: ... time\"; runc refuses the type")


@RUNC_NO_TIME_NS
def test_time_namespace_offsets_shift_boottime_and_monotonic(rt, bundle):
    """config-linux.md "Offset for Time Namespace": timeOffsets shift the
    clocks of the new time namespace; /proc/uptime reads CLOCK_BOOTTIME."""
    assert time_ns_supported(), "kernel lacks time namespaces (/proc/self/ns/time)"
    day = 86400
    b = bundle().sh("cat /proc/uptime; readlink /proc/self/ns/time")
    b.linux["namespaces"].append({"type": "time"})
    b.linux["timeOffsets"] = {"boottime": {"secs": 10 * day, "nanosecs": 0},
                              "monotonic": {"secs": 20 * day, "nanosecs": 0}}
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    p = rt.run(b)
    after = time.clock_gettime(time.CLOCK_BOOTTIME)
    assert p.returncode == 0, p.stderr
    uptime_line, ns = p.stdout.splitlines()
    inside = float(uptime_line.split()[0])
    assert before + 10 * day - 1 <= inside <= after + 10 * day + 1
    assert ns != host_ns("time")


@RUNC_NO_TIME_NS
def test_time_namespace_monotonic_offset(rt, bundle, hostdir):
    assert time_ns_supported(), "kernel lacks time namespaces (/proc/self/ns/time)"
    day = 86400
    b = bundle()
    b.linux["namespaces"].append({"type": "time"})
    b.linux["timeOffsets"] = {"monotonic": {"secs": 20 * day, "nanosecs": 0}}
    b.sh("cat /proc/self/timens_offsets")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    offsets = dict((line.split()[0], line.split()[1:]) for line in p.stdout.splitlines())
    assert offsets["monotonic"] == [str(20 * day), "0"]
    assert offsets["boottime"] == ["0", "0"]


def test_new_user_namespace_with_a_joined_network_namespace(rt, bundle, ns_holder, hostdir):
    """A host-owned namespace can only be joined before the new user
    namespace is entered, so the runtime joins first, then unshares the user
    namespace and forks the init into the new pid namespace (two stages).
    The container is root inside, uid 100000 outside, PID 1, in the joined
    network namespace and its own user namespace."""
    holder = ns_holder("--net", "net")
    b = userns_bundle(bundle)
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    b.linux["namespaces"].append({"type": "network", "path": f"/proc/{holder}/ns/net"})
    # sysfs belongs to the network namespace's owner, the host: not mountable here.
    b.config["mounts"] = [m for m in b.config["mounts"] if m["type"] not in ("sysfs", "cgroup")]
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh("echo $$ > /out/pid; id -u > /out/uid; readlink /proc/self/ns/net > /out/net;"
         " exec sleep 1000")
    pid = rt.create_running(b)
    wait_for(lambda: os.path.exists(os.path.join(out, "net")) and
             read_file(os.path.join(out, "net")))
    assert read_file(os.path.join(out, "pid")) == "1\n"
    assert read_file(os.path.join(out, "uid")) == "0\n"
    assert read_file(os.path.join(out, "net")).strip() == os.readlink(f"/proc/{holder}/ns/net")
    assert proc_status_field(pid, "Uid") == ["100000"] * 4
    assert os.readlink(f"/proc/{pid}/ns/user") != host_ns("user")
    assert os.readlink(f"/proc/{pid}/ns/net") == os.readlink(f"/proc/{holder}/ns/net")
    rt.delete(b.cid, force=True)

"""The host's cgroup layout, for tests that run unchanged on a v1 hybrid
host and on a pure cgroup v2 one (tests/vm/run-v2.sh): where a container's
cgroup files are on the host, and where the container sees its own."""

import os

from helpers import CGROUP_ROOT, read_file


def detect_layout():
    """"v2" when /sys/fs/cgroup is a cgroup2 mount, "hybrid" when cgroup2 is
    at /sys/fs/cgroup/unified beside v1 controllers, else "v1"."""
    types = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            types[fields[4]] = fields[fields.index("-") + 1]
    if types.get(CGROUP_ROOT) == "cgroup2":
        return "v2"
    return "hybrid" if types.get(CGROUP_ROOT + "/unified") == "cgroup2" else "v1"


LAYOUT = detect_layout()
V2 = LAYOUT == "v2"

# What each observation reads: (v1 controller, v1 file) and the v2 file.
FILES = {
    "memory.limit": (("memory", "memory.limit_in_bytes"), "memory.max"),
    "pids.max": (("pids", "pids.max"), "pids.max"),
    "pids.current": (("pids", "pids.current"), "pids.current"),
    "pids.events": (("pids", "pids.events"), "pids.events"),
    "cpu.quota": (("cpu", "cpu.cfs_quota_us"), "cpu.max"),
    "cpu.shares": (("cpu", "cpu.shares"), "cpu.weight"),
    "cpuset.cpus": (("cpuset", "cpuset.cpus"), "cpuset.cpus"),
    "procs": (("memory", "cgroup.procs"), "cgroup.procs"),
    "freezer": (("freezer", "freezer.state"), "cgroup.freeze"),
}


# The v1 controllers every container gets a directory in.
V1_CONTROLLERS = ("memory", "pids", "cpu", "devices", "freezer")


def cgroup_dir(cgroup_path, controller="memory"):
    """The host directory of a cgroup path: in the v2 tree, or in
    `controller`'s v1 hierarchy."""
    rel = cgroup_path.lstrip("/")
    return os.path.join(CGROUP_ROOT, rel) if V2 else os.path.join(CGROUP_ROOT, controller, rel)


def cgroup_file(cgroup_path, what):
    """The file of `what` in a cgroup (by its path) on the host."""
    (controller, v1_name), v2_name = FILES[what]
    return os.path.join(cgroup_dir(cgroup_path, controller), v2_name if V2 else v1_name)


def host_path(bundle, what):
    """The file of `what` in the container's cgroup on the host."""
    return cgroup_file(bundle.cgroups_path, what)


def inside_path(what):
    """The same file as the container sees it in its cgroup namespace."""
    (controller, v1_name), v2_name = FILES[what]
    return f"{CGROUP_ROOT}/{v2_name}" if V2 else f"{CGROUP_ROOT}/{controller}/{v1_name}"


def host_value(bundle, what):
    return read_file(host_path(bundle, what)).strip()


def cgroups_of(pid):
    """/proc/PID/cgroup as {controller: path}; v2's single line is under "",
    so `cgroups_of(pid)[key] for key in checked_controllers()` reads either."""
    out = {}
    for line in read_file(f"/proc/{pid}/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def checked_controllers():
    """The keys of cgroups_of() a container's cgroup shows up under."""
    return [""] if V2 else list(V1_CONTROLLERS)


def cgroup_hierarchy_dirs(cgroup_path):
    """The directories of a cgroup path in every hierarchy a container
    gets: the v2 tree's one, or one per v1 controller."""
    return [cgroup_dir(cgroup_path, c) for c in (["memory"] if V2 else V1_CONTROLLERS)]


def shares_text(shares):
    """What the file of "cpu.shares" holds for OCI cpu.shares: v2's
    cpu.weight maps 2..262144 onto 1..10000, as runc and crun do."""
    return str(1 + (shares - 2) * 9999 // 262142) if V2 else str(shares)


def cpu_usage_ns(bundle):
    """CPU time the container's cgroup has used, in nanoseconds."""
    rel = bundle.cgroups_path.lstrip("/")
    if V2:
        for line in read_file(os.path.join(CGROUP_ROOT, rel, "cpu.stat")).splitlines():
            key, value = line.split()
            if key == "usage_usec":
                return int(value) * 1000
        raise KeyError("usage_usec")
    return int(read_file(os.path.join(CGROUP_ROOT, "cpuacct", rel, "cpuacct.usage")))


def quota_text(quota, period):
    """What the quota file holds for a CFS quota and period."""
    return f"{quota} {period}" if V2 else str(quota)


def set_frozen(cgroup_path, frozen):
    """Freezes or thaws a cgroup from the host, behind the runtime's back."""
    with open(cgroup_file(cgroup_path, "freezer"), "w") as f:
        f.write(frozen_text() if frozen else thawed_text())


def is_frozen(cgroup_path):
    """Whether the kernel has finished freezing the cgroup: v1's
    freezer.state passes through FREEZING, v2's cgroup.freeze says what was
    asked and cgroup.events "frozen" what is done."""
    if V2:
        return keyed(read_file(os.path.join(cgroup_dir(cgroup_path), "cgroup.events")),
                     "frozen") == 1
    return read_file(cgroup_file(cgroup_path, "freezer")).strip() == "FROZEN"


def frozen_text():
    return "1" if V2 else "FROZEN"


def thawed_text():
    return "0" if V2 else "THAWED"


def keyed(text, key):
    """The value after `key ` in a flat-keyed cgroup file."""
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    raise KeyError(key)

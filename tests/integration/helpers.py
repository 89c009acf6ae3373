"""Helpers shared by the integration tests: the runtime wrapper, bundles and
their default config, host-side probes (processes, cgroups, mounts), the
leak check. Fixtures live in conftest.py; tests import what they need from
here (`from helpers import wait_for`)."""

import contextlib
import copy
import json
import os
import secrets
import select
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

RUNTIME_ENV = "CELL_RUNTIME"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_RUNTIME = os.path.join(REPO, "build", "cell-runtime")
CGROUP_ROOT = "/sys/fs/cgroup"
BUSYBOX = "/bin/busybox"

# One per pytest process, so parallel sessions never share a cgroup parent.
SESSION_TAG = secrets.token_hex(3)
CGROUP_PARENT = f"/cell-test-{SESSION_TAG}"


def runtime_path():
    return os.environ.get(RUNTIME_ENV, DEFAULT_RUNTIME)


def runtime_name():
    return os.path.basename(runtime_path())


def runtime_is_peer():
    """True when the suite runs against runc or crun rather than cell."""
    return runtime_name() in ("runc", "crun")


# --------------------------------------------------------------------------
# processes


def reap(pid=None):
    """Reap zombie children without blocking: `pid`, or every one if None.

    The test process is a child subreaper (conftest), so detached container
    inits whose runtime has exited are our children. Only call with pid=None
    when no subprocess of ours is running, or subprocess loses its status.
    """
    while True:
        try:
            got, _ = os.waitpid(pid if pid else -1, os.WNOHANG)
        except ChildProcessError:
            return
        if got == 0 or pid:
            return


def proc_state(pid):
    """The state letter of /proc/PID/stat, or None when the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2]


def pid_alive(pid):
    """Exists and is not a zombie (a zombie counts as stopped)."""
    reap(pid)
    return proc_state(pid) not in (None, "Z", "X")


def wait_for(pred, timeout=10.0, interval=0.005, what="condition"):
    """Poll pred() until truthy; return its value, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 2, 0.1)


def stays_false(pred, duration=0.3, interval=0.02):
    """True when pred() stays falsy for `duration` seconds."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if pred():
            return False
        time.sleep(interval)
    return not pred()


def proc_status_field(pid, name):
    """A field of /proc/PID/status, e.g. "Uid" -> ["100000", ...]."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == name:
                return value.split()
    raise KeyError(name)


def ns_id(pid, ns):
    """'net:[4026531840]' for /proc/PID/ns/<ns>."""
    return os.readlink(f"/proc/{pid}/ns/{ns}")


def read_file(path):
    with open(path) as f:
        return f.read()


@contextlib.contextmanager
def host_sysctl_unchanged(name):
    """Guards a host sysctl across a block that must not change it: yields
    its value; if it changed, restores it and fails. A buggy runtime that
    applies a container's sysctl in the host's namespace must not leave the
    host altered."""
    path = "/proc/sys/" + name.replace(".", "/")
    before = read_file(path)
    try:
        yield before
    finally:
        after = read_file(path)
        if after != before:
            with open(path, "w") as f:
                f.write(before)
            raise AssertionError(f"the host's {name} changed from {before.strip()} to "
                                 f"{after.strip()} (restored)")


def processes_mentioning(needle):
    """Live pids (other than ours) whose cmdline or cgroups mention needle."""
    me = os.getpid()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/cgroup") as f:
                cg = f.read()
        except OSError:
            continue
        if (needle in cmdline or needle in cg) and proc_state(pid) not in (None, "Z", "X"):
            out.append((pid, cmdline.strip()))
    return out


# --------------------------------------------------------------------------
# cgroups and mounts on the host


def cgroup_hierarchies():
    """Mount points of every hierarchy under /sys/fs/cgroup: v1 controllers,
    named ones (systemd), cgroup2 ('unified' on a hybrid host)."""
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mnt = fields[4]
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2") and (
                    mnt == CGROUP_ROOT or mnt.startswith(CGROUP_ROOT + "/")):
                out.add(mnt)
    return sorted(out)


def cgroup_v1_dir(controller, cgroups_path):
    """/sys/fs/cgroup/<controller>/<cgroupsPath> on this v1/hybrid host."""
    return os.path.join(CGROUP_ROOT, controller, cgroups_path.lstrip("/"))


def find_cgroup_dirs(cid, depth=3):
    """Directories named for cid in every hierarchy, down to `depth` levels."""
    found = []

    def matches(name):
        return name == cid or name.endswith(("-" + cid, ":" + cid, "-" + cid + ".scope"))

    def walk(path, level):
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            if matches(e.name):
                found.append(e.path)
            elif level < depth:
                walk(e.path, level + 1)

    for h in cgroup_hierarchies():
        walk(h, 1)
    return found


def rmdir_tree(path):
    """rmdir a cgroup directory and its children, deepest first."""
    for dirpath, _, _ in sorted(os.walk(path), key=lambda t: -t[0].count("/")):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def mounts_mentioning(needle):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if needle in line]


def char_device(path):
    """(major, minor) of a character device, or None."""
    st = os.stat(path)
    if not stat.S_ISCHR(st.st_mode):
        return None
    return os.major(st.st_rdev), os.minor(st.st_rdev)


# --------------------------------------------------------------------------
# the rootfs and the default config


# Mount points made in the shared rootfs up front: a runtime would otherwise
# mkdir missing destinations in it (shared by all tests) and cannot at all
# from inside a user namespace. Tests of destination creation use their own
# rootfs copy.
MOUNT_POINTS = ("out", "gate", "data", "mnt/a", "mnt/b", "mnt/c", "mnt/ro", "mnt/rw",
                "mnt/t", "mnt/proc", "mnt/sys", "mnt/mq", "mnt/pts", "mnt/cg", "run/notify")


def build_rootfs(path):
    """A busybox rootfs: the static binary, its applet links, users, groups."""
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
              "tmp", "root", "home/user", "run", "var") + MOUNT_POINTS:
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    for a in applets:
        link = os.path.join(path, "bin", a)
        if a != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)
    for name in ("hostname", "hosts", "resolv.conf"):  # file bind targets
        open(os.path.join(path, "etc", name), "w").close()
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n"
                "user:x:1000:1000:user:/home/user:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n")
    # World-readable all the way down: user-namespace tests run as uid 100000.
    for dirpath, _, _ in os.walk(path):
        os.chmod(dirpath, 0o755)
    os.chmod(os.path.join(path, "bin", "busybox"), 0o755)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    os.chown(os.path.join(path, "home", "user"), 1000, 1000)


DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
DEFAULT_NAMESPACES = ("pid", "network", "ipc", "uts", "mount", "cgroup")


def default_process(args=("sh",)):
    """runc's default process (`runc spec`), without a terminal."""
    return {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": list(args),
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"],
        "cwd": "/",
        "capabilities": {k: list(DEFAULT_CAPS) for k in
                         ("bounding", "effective", "permitted", "ambient")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    }


def default_config(rootfs, cgroups_path, args=("sh",)):
    """runc's default spec (`runc spec`), adapted for tests: no terminal, the
    shared rootfs by absolute path, a cgroup namespace, a cgroupsPath of the
    test's own (config.md, config-linux.md)."""
    return {
        "ociVersion": "1.0.2",
        "process": default_process(args),
        "root": {"path": rootfs, "readonly": True},
        "hostname": "cell",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in DEFAULT_NAMESPACES],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Bundle:
    """A bundle directory. config.json is written from self.config when the
    bundle is passed to the runtime wrapper (or on save())."""

    def __init__(self, path, config, cid):
        self.path = path
        self.config = config
        self.cid = cid
        self.raw = None  # text to write instead of the config (malformed JSON)

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    @property
    def cgroups_path(self):
        return self.linux["cgroupsPath"]

    def save(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            if self.raw is not None:
                f.write(self.raw)
            else:
                json.dump(self.config, f, indent=1)
        return self.path

    def __fspath__(self):
        return self.save()

    def __str__(self):
        return self.path

    def args(self, *args):
        self.process["args"] = list(args)
        return self

    def sh(self, script):
        """The process becomes `sh -c script`."""
        return self.args("sh", "-c", script)

    def mount(self, destination, type_, source=None, options=None):
        m = {"destination": destination, "type": type_, "source": source or type_}
        if options is not None:
            m["options"] = list(options)
        self.config["mounts"].append(m)
        return m

    def bind(self, source, destination, *options):
        """A bind mount; options default to rbind,rw."""
        opts = list(options) or ["rw"]
        if "bind" not in opts and "rbind" not in opts:
            opts.insert(0, "rbind")
        return self.mount(destination, "bind", source, opts)

    def namespaces(self, *types, **paths):
        """Replace linux.namespaces: plain types, then type=path joins."""
        self.linux["namespaces"] = ([{"type": t} for t in types] +
                                    [{"type": t, "path": p} for t, p in paths.items()])
        if "uts" not in types and "uts" not in paths:
            self.config.pop("hostname", None)
        return self

    def without_namespace(self, ns_type):
        keep = [t["type"] for t in self.linux["namespaces"] if t["type"] != ns_type]
        return self.namespaces(*keep)

    def own_rootfs(self, shared_rootfs):
        """A private, writable copy of the rootfs inside the bundle."""
        dst = os.path.join(self.path, "rootfs")
        shutil.copytree(shared_rootfs, dst, symlinks=True)
        self.config["root"]["path"] = dst
        return dst


# A server and a client on 127.0.0.1 inside one container (busybox nc and
# netstat), then the IPv6 loopback address the kernel adds once lo is up.
# The server's stdin stays open (busybox nc may quit at the end of its input
# before the client's line arrives) and it is killed once the line is in:
# with its stdin open it would wait for more.
LOOPBACK_PROBE = (
    "sleep 30 | nc -l -p 7777 127.0.0.1 > /dev/shm/got & s=$!; "
    "i=0; until netstat -ltn | grep -q '127.0.0.1:7777 '; do"
    " kill -0 $s 2>/dev/null || break; i=$((i+1)); [ $i -gt 500 ] && break; usleep 10000; done; "
    "echo ping | nc 127.0.0.1 7777 || echo client failed; "
    "i=0; until grep -q ping /dev/shm/got; do i=$((i+1)); [ $i -gt 500 ] && break; usleep 10000; "
    "done; cat /dev/shm/got; kill $s; "
    "grep -c ' lo$' /proc/net/if_inet6; cat /sys/class/net/lo/flags")


# What it prints when lo is up: the server got "ping", ::1 is on lo, and lo's
# flags are IFF_UP|IFF_LOOPBACK.
LOOPBACK_UP = ["ping", "1", "0x9"]


def add_caps(b, *caps):
    """Adds capabilities to the bounding, effective and permitted sets."""
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k] = b.process["capabilities"][k] + list(caps)


class Gate:
    """A FIFO in a host dir bind-mounted at /gate: the container's `wait`
    blocks until the test calls release(). Lets a test hold a container in
    `running` and then let it exit by itself."""

    def __init__(self, bundle, hostdir):
        self.dir = hostdir
        self.fifo = os.path.join(hostdir, "fifo")
        os.mkfifo(self.fifo, 0o666)
        os.chmod(self.fifo, 0o666)
        bundle.bind(hostdir, "/gate")

    wait = "read _ < /gate/fifo"

    def release(self, timeout=10):
        def try_open():
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == 6:  # ENXIO: no reader yet
                    return None
                raise
        fd = wait_for(lambda: try_open(), timeout, what="the container to open the gate")
        os.close(fd)


# --------------------------------------------------------------------------
# the runtime wrapper


class Runtime:
    """rt("create", "--bundle", b, cid) runs `<runtime> --root <root> create ...`
    and returns a CompletedProcess with text stdout/stderr.

    Output goes through temporary files, never pipes: a detached container
    inherits the runtime's stdio and would hold a pipe open forever.
    fds={3: fd} places fd at number 3 in the runtime process (--preserve-fds);
    preexec runs in the runtime's process before the exec, after that.
    """

    def __init__(self, binary, root, tmpdir, ids):
        self.binary = binary
        self.root = root
        self.tmpdir = tmpdir
        self.ids = ids
        self._n = 0
        self._lock = threading.Lock()

    def argv(self, *args, root=True):
        argv = [self.binary]
        if root:
            argv += ["--root", self.root]
        return argv + [os.fspath(a) if isinstance(a, Bundle) else str(a) for a in args]

    def __call__(self, *args, timeout=30, root=True, fds=None, cwd=None, preexec=None):
        argv = self.argv(*args, root=root)
        with self._lock:
            self._n += 1
            n = self._n
        out_path = os.path.join(self.tmpdir, f"out.{n}")
        err_path = os.path.join(self.tmpdir, f"err.{n}")
        pass_fds = tuple(fds or ())

        def prepare():
            for target, src in (fds or {}).items():
                os.dup2(src, target)
            if preexec:
                preexec()
        with open(out_path, "w+") as out, open(err_path, "w+") as err:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               timeout=timeout, pass_fds=pass_fds,
                               preexec_fn=prepare if fds or preexec else None, cwd=cwd)
        cp = subprocess.CompletedProcess(argv, p.returncode, read_file(out_path),
                                         read_file(err_path))
        os.unlink(out_path)
        os.unlink(err_path)
        return cp

    def new_id(self):
        return self.ids.new()

    # -- conveniences; those that are not `run` assert success --

    def ok(self, *args, **kw):
        p = self(*args, **kw)
        assert p.returncode == 0, (f"{' '.join(p.args)} exited {p.returncode}\n"
                                   f"stderr: {p.stderr}")
        return p

    def run(self, bundle, *flags, cid=None, **kw):
        """Foreground `run`: the container's stdout/stderr come back in the
        result and its exit status is the returncode."""
        return self("run", "--bundle", bundle, *flags, cid or bundle.cid, **kw)

    def create(self, bundle, *flags, cid=None, **kw):
        return self.ok("create", "--bundle", bundle, *flags, cid or bundle.cid, **kw)

    def start(self, cid):
        return self.ok("start", cid)

    def state(self, cid):
        return json.loads(self.ok("state", cid).stdout)

    def status(self, cid):
        """The state's status, None when `state` fails. Reaps a dead init
        first, so a runtime that checks the pid sees it gone."""
        p = self("state", cid)
        if p.returncode != 0:
            return None
        st = json.loads(p.stdout)
        if st.get("pid") and st["status"] == "running" and not pid_alive(st["pid"]):
            return self.status_once(cid)
        return st["status"]

    def status_once(self, cid):
        p = self("state", cid)
        return json.loads(p.stdout)["status"] if p.returncode == 0 else None

    def wait_status(self, cid, status, timeout=10):
        return wait_for(lambda: self.status(cid) == status, timeout,
                        what=f"container {cid} to be {status}")

    def kill(self, cid, sig="KILL", *flags):
        return self.ok("kill", *flags, cid, sig)

    def delete(self, cid, force=False):
        return self.ok("delete", *(["--force"] if force else []), cid)

    def create_running(self, bundle, **kw):
        """create + start; returns the container's host pid."""
        self.create(bundle, **kw)
        self.start(bundle.cid)
        return self.state(bundle.cid)["pid"]

    def state_dir(self, cid):
        return os.path.join(self.root, cid)


def kill_and_delete(rt, cid):
    """Kill everything, then delete. A killed exec'd process is our orphan
    (the test process is a subreaper) and the dying init of its pid
    namespace waits until that zombie is reaped, so reap while waiting."""
    if rt.status(cid) in ("created", "running", "paused"):
        rt("kill", "--all", cid, "KILL")
        wait_for(lambda: (reap(), rt.status(cid) == "stopped")[1], what=f"{cid} to stop")
    rt.delete(cid, force=True)


def exec_process_file(rt, cid, process, *flags, **kw):
    """`exec [flags] --process FILE <cid>`, FILE holding process (a
    config.md "process" object)."""
    path = os.path.join(rt.tmpdir, f"process-{secrets.token_hex(3)}.json")
    with open(path, "w") as f:
        json.dump(process, f)
    return rt("exec", *flags, "--process", path, cid, **kw)


# The two ways a container process is set up: the container's own (create
# + start, or run) and an exec'd one. Tests of the process setup run
# through both.
PROCESS_PATHS = ("init", "exec")


def run_through(rt, b, path, *flags, init_args=("sleep", "600"), create_flags=(), **kw):
    """Runs b.process to its end through one path and returns the
    CompletedProcess (its stdout, stderr and exit status, which run and a
    foreground exec relay):
      "init": `run [flags]` of the bundle, b.process the container's own;
      "exec": the container's own process is the default one running
        init_args, and b.process runs through `exec [flags] --process FILE`;
        the container is killed and deleted afterwards.
    The rest of the config (linux.*, annotations, mounts) holds for both.
    create_flags go to the run or create, flags and kw (fds=, preexec=) to
    the run or exec."""
    if path == "init":
        return rt.run(b, *create_flags, *flags, **kw)
    assert path == "exec", path
    wanted = b.process
    b.config["process"] = default_process(init_args)
    try:
        rt.create(b, *create_flags)
        rt.start(b.cid)
        try:
            return exec_process_file(rt, b.cid, copy.deepcopy(wanted), *flags, **kw)
        finally:
            kill_and_delete(rt, b.cid)
    finally:
        b.config["process"] = wanted


def exec_with_flags(rt, b, *flags, init_args=("sleep", "600"), **kw):
    """The container runs b.process with init_args; then `exec [flags] <cid>
    <b.process's args>` (exec's flags over the config's process) runs to
    its end. Returns its CompletedProcess; the container is killed and
    deleted afterwards."""
    args = b.process["args"]
    b.process["args"] = list(init_args)
    try:
        rt.create_running(b)
        try:
            return rt("exec", *flags, b.cid, *args, **kw)
        finally:
            kill_and_delete(rt, b.cid)
    finally:
        b.process["args"] = args


def socket_activated(rt, test_dir, args, contents, listen_fds, own_pid=True):
    """Runs the runtime as systemd would: fds 3.. hold files with contents,
    LISTEN_FDS=listen_fds and LISTEN_PID its pid (or another one)."""
    fds = []
    for i, text in enumerate(contents):
        path = os.path.join(test_dir, f"fd{i}")
        with open(path, "w") as f:
            f.write(text)
        fds.append(os.open(path, os.O_RDONLY))
    pid = "$$" if own_pid else "1"
    argv = ["/bin/sh", "-c", f'LISTEN_PID={pid} LISTEN_FDS={listen_fds} exec "$@"', "sh"]

    def place():
        for i, fd in enumerate(fds):
            os.dup2(fd, 3 + i)
    try:
        return subprocess.run(argv + rt.argv(*args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30,
                              pass_fds=tuple(range(3, 3 + len(fds))) + tuple(fds),
                              preexec_fn=place)
    finally:
        for fd in fds:
            os.close(fd)


# --------------------------------------------------------------------------
# terminals


class ConsoleReceiver:
    """Listens on an AF_UNIX socket (--console-socket) and keeps the fds it
    is sent."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.fds = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 4)
            self.fds.extend(fds)

    def master(self, timeout=10):
        self.thread.join(timeout)
        assert self.fds, "no fd arrived on the console socket"
        return self.fds[0]

    def close(self):
        self.sock.close()
        for fd in self.fds:
            os.close(fd)


def read_until(fd, marker, timeout=10):
    """Reads the pty master until marker shows up (or EIO: the peer closed)."""
    data = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in data and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").replace("\r\n", "\n")


class Ids:
    """The container ids one test uses, for the leak check. Ids carry the
    test's name so a leftover process or cgroup says where it came from."""

    def __init__(self, test_name):
        base = "".join(c if c.isalnum() else "-" for c in test_name.replace("test_", "", 1))
        self.base = base.strip("-")[:40].strip("-")
        self.used = []

    def new(self):
        cid = f"ct-{self.base}-{secrets.token_hex(3)}"
        self.used.append(cid)
        return cid


# --------------------------------------------------------------------------
# leak check


def leak_check(rt, ids, needles, test_passed):
    """Nothing a test's containers made may remain; returns the problems.

    State left for an id is reported only when the test passed (a failing
    test may stop half-way); either way it is force-deleted first. Processes,
    cgroup directories and mounts that remain after that are the runtime's
    leaks and always reported, and then removed.
    """
    problems = []
    for cid in ids.used:
        if os.path.lexists(rt.state_dir(cid)):
            if test_passed:
                problems.append(f"state directory left: {rt.state_dir(cid)}")
            try:
                rt("delete", "--force", cid, timeout=20)
            except subprocess.TimeoutExpired:
                problems.append(f"delete --force {cid} timed out")
    # Orphaned inits were reparented to us; no subprocess of ours runs now.
    reap()
    for cid in ids.used:
        procs = processes_mentioning(cid)
        if procs:
            problems.append(f"processes left for {cid}: {procs}")
            for pid, _ in procs:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while processes_mentioning(cid) and time.monotonic() < deadline:
                reap()
                time.sleep(0.02)
        reap()
        for d in find_cgroup_dirs(cid):
            problems.append(f"cgroup left: {d}")
            rmdir_tree(d)
    for needle in list(needles) + ids.used:
        for m in mounts_mentioning(needle):
            problems.append(f"mount left: {m}")
            subprocess.run(["umount", "-l", m], capture_output=True)
    return problems

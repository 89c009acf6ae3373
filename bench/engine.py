#!/usr/bin/python3
"""Time the engine as a person meets it, against podman (and Docker):

  1. `cell run --rm bb true` vs `podman run --rm bb true` (vs `docker run
     --rm bb true` when a dockerd of our own starts), interleaved, a new
     random order each round; wall clock of the command.
  2. `cell run -d bb sleep 1000` and then `cell rm -f ID`, each timed.
  3. The memory a detached container's monitor costs (VmRSS and Pss of
     cell's monitor, of podman's conmon, of Docker's containerd shim).
  4. `cell ps` and `cell ps -a` with N containers running `sleep`, and what
     those N cost in memory (sum of RSS of monitors and container inits;
     the kernel's MemAvailable before and after). All removed at the end.

    bench/engine.py [-n N] [-r ROUNDS] [--parts run,pair,rss,ps]
                    [--cell PATH] [--no-podman] [--no-docker]

As root (containers need it), Debian's /usr/bin/python3, nothing else.
The same busybox rootfs (tests/integration/helpers.py build_rootfs) is
imported into every engine from one tarball. podman and dockerd get
storage, run and tmp directories of their own in a temporary directory;
containers run with no network (cell's default is a new network namespace
with only lo: podman and docker get --network none to match).

Everything runs in a private mount namespace in which an empty file hides
/sys/fs/cgroup/unified/cgroup.controllers: podman's runtime, crun 1.8,
refuses a cgroup v1 hybrid host whose cgroup2 mount lists controllers (as in
bench.sh, every engine runs under the same view; the host's mounts are
untouched). This process is a child subreaper and reaps orphans while it
waits for a command: PID 1 here does not reap, and podman waits for its
daemonized conmon to be gone (a zombie stalls it).
"""

import argparse
import ctypes
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HYBRID = "/sys/fs/cgroup/unified/cgroup.controllers"
PR_SET_CHILD_SUBREAPER = 36
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DOCKER = "/usr/bin/docker"  # Debian's client; /usr/local/bin may hold another
DOCKERD = "/usr/sbin/dockerd"
# Where a dockerd (and a containerd of its own) writes by default on a host.
DOCKER_HOST_PATHS = ("/etc/docker/key.json", "/opt/containerd", "/var/lib/docker",
                     "/var/lib/containerd", "/run/docker.sock", "/run/docker.pid")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# the private mount namespace and the reaping wait


def enter_private_namespace():
    if os.environ.get("CELL_BENCH_PRIVATE"):
        return
    if not os.path.exists(HYBRID):
        os.environ["CELL_BENCH_PRIVATE"] = "1"
        return
    fd, empty = tempfile.mkstemp(prefix="cell-bench-empty.")
    os.close(fd)
    script = (f'mount --make-rprivate / && mount --bind {empty} {HYBRID} && rm -f {empty} && '
              f'CELL_BENCH_PRIVATE=1 exec /usr/bin/python3 "$@"')
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                          "sh", os.path.abspath(__file__)] + sys.argv[1:])


class Procs:
    """Commands started with posix_spawn and waited for with waitpid(-1),
    which also reaps the orphans this subreaper adopts (conmon, the shims,
    the monitors of removed containers)."""

    def __init__(self, workdir):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        self.workdir = workdir
        self.mine = set()
        self.status = {}
        self.n = 0
        self.env = {"PATH": PATH, "HOME": workdir, "TMPDIR": workdir, "LANG": "C"}

    def spawn(self, argv, out=None, env=None):
        """Starts argv (stdin /dev/null, stdout and stderr to out or to
        /dev/null); its pid."""
        out = out or os.devnull
        acts = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                (os.POSIX_SPAWN_DUP2, 1, 2)]
        pid = os.posix_spawnp(argv[0], [str(a) for a in argv], dict(self.env, **(env or {})),
                              file_actions=acts, setsigdef=(signal.SIGINT, signal.SIGTERM))
        self.mine.add(pid)
        return pid

    def wait(self, pid, timeout=None):
        """Exit code of pid (negative: the signal); None on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while pid not in self.status:
            flags = 0 if end is None else os.WNOHANG
            try:
                p, st = os.waitpid(-1, flags)
            except ChildProcessError:
                break
            if p == 0:
                if time.monotonic() > end:
                    return None
                time.sleep(0.005)
                continue
            if p in self.mine:
                self.status[p] = os.waitstatus_to_exitcode(st)
                self.mine.discard(p)
        return self.status.pop(pid, None)

    def reap(self):
        """Reaps whatever has exited (orphans and ours), without blocking."""
        while True:
            try:
                p, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if p == 0:
                return
            if p in self.mine:
                self.status[p] = os.waitstatus_to_exitcode(st)
                self.mine.discard(p)

    def run(self, argv, env=None, timeout=120):
        """(exit code, output, nanoseconds of wall clock)."""
        self.n += 1
        out = os.path.join(self.workdir, "out.%d" % self.n)
        t0 = time.perf_counter_ns()
        pid = self.spawn(argv, out, env)
        rc = self.wait(pid, timeout)
        t1 = time.perf_counter_ns()
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            self.wait(pid)
            rc = "timeout"
        with open(out, errors="replace") as f:
            text = f.read()
        os.unlink(out)
        return rc, text, t1 - t0

    def ok(self, argv, env=None, timeout=120):
        rc, text, _ = self.run(argv, env, timeout)
        if rc != 0:
            raise RuntimeError("%s: exit %s: %s" % (" ".join(map(str, argv)), rc, text.strip()))
        return text

    def stop(self, pid, timeout=20):
        if pid not in self.mine:
            return self.status.pop(pid, None)
        os.kill(pid, signal.SIGTERM)
        rc = self.wait(pid, timeout)
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            rc = self.wait(pid)
        return rc


# --------------------------------------------------------------------------
# /proc


def proc_status(pid, key):
    """A kB value of /proc/PID/status (VmRSS, ...), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_pss(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def processes_with(word, name=None):
    """Pids whose command line has word as one of its arguments (and whose
    program is called name, when given)."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            argv = proc_cmdline(int(d))
            if argv and word.encode() in argv and (
                    name is None or os.path.basename(argv[0]).decode(errors="replace") == name):
                found.append(int(d))
    return found


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------
# the engines


def build_tarball(tmp):
    """The busybox rootfs of the integration tests, as a tarball."""
    sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
    import helpers  # noqa: E402 (the tests' rootfs builder)
    import tarfile
    rootfs = os.path.join(tmp, "rootfs")
    helpers.build_rootfs(rootfs)
    path = os.path.join(tmp, "bb.tar")
    with tarfile.open(path, "w") as t:
        t.add(rootfs, arcname=".")
    shutil.rmtree(rootfs)
    return path


class Cell:
    name = "cell"

    def __init__(self, procs, path, tmp, tarball):
        self.procs = procs
        self.path = os.path.abspath(path)
        self.root = os.path.join(tmp, "cell")
        self.argv = [self.path, "--root", self.root]
        self.image = "bb"
        procs.ok(self.argv + ["import", tarball, "bb"])
        self.version = self.path

    def cmd(self, *args):
        return self.argv + list(args)

    def run_rm(self):
        return self.cmd("run", "--rm", self.image, "true")

    def record(self, cid):
        with open(os.path.join(self.root, "containers", cid, "record.json")) as f:
            return json.load(f)

    def ids(self):
        d = os.path.join(self.root, "containers")
        return sorted(n for n in os.listdir(d) if len(n) == 64) if os.path.isdir(d) else []

    def close(self):
        ids = self.ids()
        if ids:
            self.procs.run(self.cmd("rm", "-f", *ids), timeout=600)


class Podman:
    name = "podman"

    def __init__(self, procs, tmp, tarball, cgroup_parent):
        self.procs = procs
        self.dir = os.path.join(tmp, "podman")
        for d in ("root", "runroot", "tmp"):
            os.makedirs(os.path.join(self.dir, d))
        conf = os.path.join(self.dir, "containers.conf")
        # The bounding set here lacks CAP_SYS_RESOURCE: podman's default
        # rlimits (raised hard limits) cannot be applied, so lower ones.
        with open(conf, "w") as f:
            f.write('[containers]\nnetns = "none"\n'
                    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n'
                    'tmp_dir = "%s/tmp"\n' % self.dir)
        self.env = {"CONTAINERS_CONF": conf, "TMPDIR": os.path.join(self.dir, "tmp")}
        self.cgroup_parent = cgroup_parent + "/podman"
        self.image = "localhost/bb:latest"
        self.driver = None
        for driver in ("overlay", "vfs"):
            self.base = ["podman", "--root", self.dir + "/root", "--runroot", self.dir + "/runroot",
                         "--tmpdir", self.dir + "/tmp", "--storage-driver", driver,
                         "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
            rc, out, _ = procs.run(self.base + ["import", tarball, self.image], env=self.env)
            if rc == 0:
                self.driver = driver
                break
            log("podman with storage driver %s: %s" % (driver, out.strip().splitlines()[-1:]))
            self.reset()
        if not self.driver:
            raise RuntimeError("podman import failed with overlay and vfs")
        self.version = procs.ok(["podman", "--version"]).strip() + ", storage " + self.driver
        rc, out, _ = procs.run(self.base + ["info", "--format", "{{.Host.OCIRuntime.Name}} "
                                            "{{.Host.OCIRuntime.Version}}"], env=self.env)
        if rc == 0:
            self.version += ", runtime " + out.strip().splitlines()[0]

    def cmd(self, *args):
        return self.base + list(args)

    def run_args(self):
        return ["--network", "none", "--cgroup-parent", self.cgroup_parent]

    def run_rm(self):
        return self.cmd("run", "--rm", *self.run_args(), self.image, "true")

    def reset(self):
        unmount_under(self.dir)
        for d in ("root", "runroot"):
            shutil.rmtree(os.path.join(self.dir, d), ignore_errors=True)
            os.makedirs(os.path.join(self.dir, d))

    def close(self):
        self.procs.run(self.cmd("rm", "-af", "-t", "0"), env=self.env, timeout=120)
        self.procs.reap()
        unmount_under(self.dir)


class Docker:
    name = "docker"

    def __init__(self, procs, tmp, tarball, cgroup_parent, wait=20):
        self.procs = procs
        self.dir = os.path.join(tmp, "docker")
        self.made_run_docker = not os.path.exists("/run/docker")
        self.host_paths = [p for p in DOCKER_HOST_PATHS if not os.path.lexists(p)]
        self.containerd = self.dockerd = None
        for d in ("data", "exec", "home", "containerd/root", "containerd/state", "containerd/opt"):
            os.makedirs(os.path.join(self.dir, d))
        self.sock = os.path.join(self.dir, "docker.sock")
        self.base = [DOCKER, "-H", "unix://" + self.sock]
        self.env = {"HOME": self.dir + "/home", "DOCKER_CONFIG": self.dir + "/home/.docker"}
        self.cgroup_parent = cgroup_parent + "/docker"
        self.image = "bb:latest"
        self.version = ""
        try:
            self._start(wait)
            procs.ok(self.cmd("import", tarball, self.image), env=self.env)
        except Exception:
            self.close()
            raise

    def _start(self, wait):
        # A containerd of ours: the one dockerd would start by itself makes
        # /opt/containerd on the host.
        cdir = self.dir + "/containerd"
        caddr = cdir + "/containerd.sock"
        with open(cdir + "/config.toml", "w") as f:
            f.write('version = 2\nroot = "%s/root"\nstate = "%s/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n'
                    '[plugins."io.containerd.internal.v1.opt"]\n  path = "%s/opt"\n'
                    % (cdir, cdir, caddr, caddr, cdir))
        self.containerd = self.procs.spawn(["containerd", "--config", cdir + "/config.toml"],
                                           self.dir + "/containerd.log")
        with open(self.dir + "/daemon.json", "w") as f:
            json.dump({"deprecated-key-path": self.dir + "/key.json"}, f)
        d = self.dir
        # In a network namespace of its own, with no bridge and no
        # iptables: whatever it tries on the network stays there.
        self.dockerd = self.procs.spawn(
            ["unshare", "--net", DOCKERD, "--config-file", d + "/daemon.json",
             "--data-root", d + "/data", "--exec-root", d + "/exec", "--pidfile", d + "/docker.pid",
             "-H", "unix://" + self.sock, "--containerd", caddr,
             "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
             "--ip-masq=false", "--userland-proxy=false", "--storage-driver", "overlay2",
             "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", self.cgroup_parent],
            d + "/dockerd.log")
        end = time.monotonic() + wait
        while True:
            rc, out, _ = self.procs.run(self.cmd("version", "--format", "{{.Server.Version}}"),
                                        env=self.env, timeout=10)
            if rc == 0:
                self.version = "Docker " + out.strip() + " (runc), storage overlay2"
                return
            if time.monotonic() > end or self.dockerd not in self.procs.mine:
                with open(d + "/dockerd.log", errors="replace") as f:
                    tail = f.read().strip().splitlines()[-3:]
                raise RuntimeError("dockerd did not answer within %d s: %s" % (wait, " | ".join(tail)))
            time.sleep(0.2)

    def cmd(self, *args):
        return self.base + list(args)

    def run_args(self):
        return ["--network", "none"]

    def run_rm(self):
        return self.cmd("run", "--rm", *self.run_args(), self.image, "true")

    def close(self):
        if self.dockerd is not None and self.dockerd in self.procs.mine:
            rc, out, _ = self.procs.run(self.cmd("ps", "-aq"), env=self.env, timeout=30)
            if rc == 0 and out.split():
                self.procs.run(self.cmd("rm", "-f", *out.split()), env=self.env, timeout=120)
            self.procs.stop(self.dockerd)
        if self.containerd is not None:
            self.procs.stop(self.containerd)
        self.procs.reap()
        for pid in processes_with_prefix(self.dir):
            kill(pid)
        unmount_under(self.dir)
        for d in ("/run/containerd/s", "/run/containerd/runc/moby", "/run/containerd/runc",
                  "/run/containerd"):
            try:
                os.rmdir(d)
            except OSError:
                pass
        for path in self.host_paths:
            if os.path.lexists(path):
                log("dockerd made %s on the host: removed" % path)
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        if self.made_run_docker:
            for d in ("/run/docker/plugins", "/run/docker"):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


def apparmor_without_parser():
    """dockerd runs no container when AppArmor is on and it cannot load its
    profile."""
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            on = f.read().startswith("Y")
    except OSError:
        on = False
    return (on and os.path.exists("/sys/kernel/security/apparmor")
            and not shutil.which("apparmor_parser", path=PATH))


def processes_with_prefix(prefix):
    """Pids with an argument that starts with prefix."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            if any(a.startswith(prefix.encode()) for a in proc_cmdline(int(d))):
                found.append(int(d))
    return found


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def unmount_under(directory):
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    for m in sorted((m for m in mounts if m == directory or m.startswith(directory + "/")),
                    key=len, reverse=True):
        os.spawnvp(os.P_WAIT, "umount", ["umount", "-l", m])


def remove_cgroup_tree(parent):
    base = "/sys/fs/cgroup"
    for h in os.listdir(base):
        top = os.path.join(base, h, parent.lstrip("/"))
        if not os.path.isdir(top):
            continue
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# --------------------------------------------------------------------------
# the measures


def med(values):
    return statistics.median(values) if values else float("nan")


def p90(values):
    s = sorted(values)
    return s[max(0, -(-len(s) * 9 // 10) - 1)] if s else float("nan")


def part_run(procs, engines, rounds):
    """`run --rm IMAGE true` of each engine, interleaved."""
    rng = random.Random(1)
    times = {e.name: [] for e in engines}
    failed = {}
    for e in engines:  # untimed: warms caches, and shows that it works
        rc, out, _ = procs.run(e.run_rm(), env=getattr(e, "env", None))
        if rc != 0:
            failed[e.name] = "exit %s: %s" % (rc, out.strip()[-300:])
    log("run --rm: %d rounds of %s ..." % (rounds, ", ".join(e.name for e in engines)))
    for _ in range(rounds):
        for e in rng.sample(engines, len(engines)):
            if e.name in failed:
                continue
            rc, out, ns = procs.run(e.run_rm(), env=getattr(e, "env", None))
            if rc != 0:
                failed[e.name] = "exit %s: %s" % (rc, out.strip()[-300:])
                continue
            times[e.name].append(ns / 1e6)
    return times, failed


def part_pair(procs, cell, rounds):
    """`cell run -d bb sleep 1000`, then `cell rm -f ID`."""
    runs, rms = [], []
    log("run -d / rm -f: %d pairs ..." % rounds)
    for _ in range(rounds):
        rc, out, ns = procs.run(cell.cmd("run", "-d", cell.image, "sleep", "1000"))
        if rc != 0:
            raise RuntimeError("cell run -d: exit %s: %s" % (rc, out.strip()))
        runs.append(ns / 1e6)
        cid = out.strip().splitlines()[-1]
        time.sleep(0.05)
        rc, out, ns = procs.run(cell.cmd("rm", "-f", cid))
        if rc != 0:
            raise RuntimeError("cell rm -f: exit %s: %s" % (rc, out.strip()))
        rms.append(ns / 1e6)
        procs.reap()
    return runs, rms


def mem_of(pid):
    return {"pid": pid, "rss": proc_status(pid, "VmRSS"), "pss": proc_pss(pid)}


def part_rss(procs, cell, podman, docker):
    """Memory of what watches one detached container, per engine."""
    found = {}
    out = procs.ok(cell.cmd("run", "-d", cell.image, "sleep", "1000"))
    cid = out.strip().splitlines()[-1]
    time.sleep(0.3)
    rec = cell.record(cid)
    found["cell monitor"] = mem_of(rec["Monitor"]["Pid"])
    found["cell monitor"]["init"] = mem_of(rec["State"]["Pid"])
    procs.ok(cell.cmd("rm", "-f", cid))
    for eng, label, prog in ((podman, "podman conmon", "conmon"),
                             (docker, "docker containerd-shim", "containerd-shim-runc-v2")):
        if not eng:
            continue
        rc, out, _ = procs.run(eng.cmd("run", "-d", *eng.run_args(), eng.image, "sleep", "1000"),
                               env=eng.env)
        if rc != 0:
            found[label] = {"error": out.strip()[-200:]}
            continue
        cid = out.strip().splitlines()[-1]
        time.sleep(0.3)
        pids = processes_with(cid, prog)
        if not pids:  # conmon names the container with -c ID; the shim with -id ID
            pids = [p for p in processes_with_prefix(cid) if
                    os.path.basename(proc_cmdline(p)[0]).decode() == prog]
        found[label] = mem_of(pids[0]) if pids else {"error": "no %s process found for %s"
                                                               % (prog, cid[:12])}
        procs.run(eng.cmd("rm", "-f", *(["-t", "0"] if eng.name == "podman" else []), cid),
                  env=eng.env)
        procs.reap()
    return found


def check_limits(n):
    """Enough pids, fds, namespaces for n containers; complaints if not."""
    problems = []
    with open("/proc/sys/kernel/pid_max") as f:
        if int(f.read()) < 3 * n + 1000:
            problems.append("kernel.pid_max below %d" % (3 * n + 1000))
    for ns in ("mnt", "pid", "net", "ipc", "uts", "cgroup"):
        try:
            with open("/proc/sys/user/max_%s_namespaces" % ns) as f:
                if int(f.read()) < n + 100:
                    problems.append("user.max_%s_namespaces below %d" % (ns, n + 100))
        except OSError:
            pass
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return problems


def create_many(procs, cell, n, parallel):
    """n containers running sleep, at most parallel `cell run -d` at once;
    (ids, failures)."""
    ids, failures, running = [], [], {}
    made = 0
    outdir = os.path.join(procs.workdir, "many")
    os.makedirs(outdir, exist_ok=True)
    while made < n or running:
        while made < n and len(running) < parallel:
            out = os.path.join(outdir, "%d" % made)
            pid = procs.spawn(cell.cmd("run", "-d", cell.image, "sleep", "1000"), out)
            running[pid] = out
            made += 1
        try:
            p, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if p in running:
            out = running.pop(p)
            procs.mine.discard(p)
            with open(out) as f:
                text = f.read().strip()
            os.unlink(out)
            if os.waitstatus_to_exitcode(st) == 0:
                ids.append(text.splitlines()[-1])
            else:
                failures.append(text)
        elif p in procs.mine:
            procs.status[p] = os.waitstatus_to_exitcode(st)
            procs.mine.discard(p)
    return ids, failures


def remove_many(procs, cell, ids, parallel, chunk=20):
    running = set()
    chunks = [ids[i:i + chunk] for i in range(0, len(ids), chunk)]
    while chunks or running:
        while chunks and len(running) < parallel:
            running.add(procs.spawn(cell.cmd("rm", "-f", *chunks.pop())))
        try:
            p, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if p in running:
            running.discard(p)
            procs.mine.discard(p)
        elif p in procs.mine:
            procs.status[p] = os.waitstatus_to_exitcode(st)
            procs.mine.discard(p)


def part_ps(procs, cell, n, rounds, parallel):
    res = {"n": n}
    problems = check_limits(n)
    if problems:
        res["limits"] = problems
        log("limits: " + "; ".join(problems))
    procs.reap()
    time.sleep(1)
    res["avail_before"] = mem_available()
    log("creating %d containers (%d at a time) ..." % (n, parallel))
    t0 = time.monotonic()
    ids, failures = create_many(procs, cell, n, parallel)
    res["create_s"] = time.monotonic() - t0
    res["created"] = len(ids)
    res["failures"] = failures[:3]
    res["failed"] = len(failures)
    time.sleep(2)
    res["avail_after"] = mem_available()
    rss_mon = rss_init = pss_mon = 0
    counted = 0
    for cid in ids:
        try:
            rec = cell.record(cid)
        except OSError:
            continue
        mon, init = rec.get("Monitor", {}).get("Pid"), rec.get("State", {}).get("Pid")
        rss_mon += proc_status(mon, "VmRSS") or 0 if mon else 0
        pss_mon += proc_pss(mon) or 0 if mon else 0
        rss_init += proc_status(init, "VmRSS") or 0 if init else 0
        counted += 1
    res.update(rss_monitors=rss_mon, pss_monitors=pss_mon, rss_inits=rss_init, counted=counted)
    # The listing itself: lines shown, then the timing rounds interleaved.
    out = procs.ok(cell.cmd("ps", "-q"))
    res["ps_lines"] = len(out.split())
    times = {"ps": [], "ps -a": []}
    log("timing ps and ps -a, %d rounds each ..." % rounds)
    for _ in range(rounds):
        for what, args in (("ps", ["ps"]), ("ps -a", ["ps", "-a"])):
            rc, out, ns = procs.run(cell.cmd(*args))
            if rc != 0:
                raise RuntimeError("cell %s: %s" % (what, out.strip()))
            times[what].append(ns / 1e6)
    res["times"] = times
    log("removing %d containers ..." % len(ids))
    t0 = time.monotonic()
    remove_many(procs, cell, cell.ids(), parallel)
    res["remove_s"] = time.monotonic() - t0
    procs.reap()
    time.sleep(1)
    procs.reap()
    left = cell.ids()
    procs_left = processes_with_prefix(cell.root)
    res["left"] = {"records": len(left), "processes": len(procs_left),
                   "ps -aq": len(procs.ok(cell.cmd("ps", "-aq")).split())}
    return res


# --------------------------------------------------------------------------
# the report


def line(cmd):
    return " ".join(str(a) for a in cmd)


def report_run(engines, times, failed, rounds, skipped):
    print("1. run --rm IMAGE true (%d rounds, interleaved, a random order each round; wall clock)"
          % rounds)
    for e in engines:
        print("   %-7s %s" % (e.name, e.version))
        print("           $ %s" % line(e.run_rm()))
    for name, why in skipped.items():
        print("   %-7s skipped: %s" % (name, why))
    print()
    print("   %-8s %5s %10s %10s %10s" % ("engine", "n", "median ms", "p90 ms", "min ms"))
    for e in engines:
        t = times.get(e.name, [])
        if e.name in failed:
            print("   %-8s FAILED: %s" % (e.name, failed[e.name]))
        elif t:
            print("   %-8s %5d %10.1f %10.1f %10.1f" % (e.name, len(t), med(t), p90(t), min(t)))
    c = times.get("cell")
    for e in engines:
        if e.name != "cell" and c and times.get(e.name):
            print("   %s / cell: %.1fx" % (e.name, med(times[e.name]) / med(c)))
    print()


def report_pair(cell, runs, rms):
    print("2. detached run and forced removal (%d pairs; wall clock)" % len(runs))
    print("   $ %s" % line(cell.cmd("run", "-d", cell.image, "sleep", "1000")))
    print("   $ %s" % line(cell.cmd("rm", "-f", "ID")))
    print("   %-8s %10s %10s %10s" % ("", "median ms", "p90 ms", "min ms"))
    for what, t in (("run -d", runs), ("rm -f", rms)):
        print("   %-8s %10.1f %10.1f %10.1f" % (what, med(t), p90(t), min(t)))
    print()


def report_rss(found):
    print("3. what watches a detached container (`run -d IMAGE sleep 1000`), from /proc/PID")
    print("   %-24s %8s %10s %10s" % ("process", "pid", "VmRSS kB", "Pss kB"))
    for label, m in found.items():
        if "error" in m:
            print("   %-24s %s" % (label, m["error"]))
            continue
        print("   %-24s %8d %10s %10s" % (label, m["pid"], m["rss"], m["pss"]))
        if "init" in m:
            i = m["init"]
            print("   %-24s %8d %10s %10s" % ("  (its container's init)", i["pid"], i["rss"],
                                             i["pss"]))
    print()


def report_ps(cell, res):
    n = res["n"]
    print("4. %d containers running `sleep 1000`" % n)
    print("   made with `%s` (%d at a time): %d in %.1f s, %d failed%s"
          % (line(cell.cmd("run", "-d", cell.image, "sleep", "1000")), res["parallel"],
             res["created"], res["create_s"], res["failed"],
             (": " + " | ".join(res["failures"])) if res["failures"] else ""))
    if res.get("limits"):
        print("   limits: " + "; ".join(res["limits"]))
    t = res["times"]
    print("   `cell ps` lists %d lines" % res["ps_lines"])
    print("   %-10s %5s %10s %10s %10s" % ("", "n", "median ms", "p90 ms", "min ms"))
    for what in ("ps", "ps -a"):
        print("   %-10s %5d %10.1f %10.1f %10.1f" % ("cell " + what, len(t[what]), med(t[what]),
                                                    p90(t[what]), min(t[what])))
    c = max(res["counted"], 1)
    print("   memory: monitors' RSS %.1f MiB (%.0f kB each; Pss %.0f kB each), "
          "inits' RSS %.1f MiB (%.0f kB each)"
          % (res["rss_monitors"] / 1024, res["rss_monitors"] / c, res["pss_monitors"] / c,
             res["rss_inits"] / 1024, res["rss_inits"] / c))
    used = res["avail_before"] - res["avail_after"]
    print("   MemAvailable: %.0f MiB before, %.0f MiB after: %.1f MiB for %d (%.0f kB each, "
          "kernel objects and page cache included)"
          % (res["avail_before"] / 1024, res["avail_after"] / 1024, used / 1024, res["created"],
             used / max(res["created"], 1)))
    left = res["left"]
    print("   removed with `cell rm -f` (20 ids per command, %d at a time) in %.1f s; left: "
          "%d records, %d processes, %d in `cell ps -aq`"
          % (res["parallel"], res["remove_s"], left["records"], left["processes"], left["ps -aq"]))
    print()


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="containers for ps (default 1000)")
    ap.add_argument("-r", "--rounds", type=int, default=20,
                    help="timed rounds of run --rm, run -d/rm -f and ps (default 20)")
    ap.add_argument("--parts", default="run,pair,rss,ps")
    ap.add_argument("--parallel", type=int, default=4, help="cell commands at once when "
                    "making and removing the N containers (default 4)")
    ap.add_argument("--cell", default=os.environ.get("CELL_BIN",
                                                      os.path.join(REPO, "build", "cell")))
    ap.add_argument("--no-podman", action="store_true")
    ap.add_argument("--no-docker", action="store_true")
    ap.add_argument("--docker-wait", type=float, default=20)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: must be run as root (containers need it)")
    parts = set(args.parts.split(","))
    enter_private_namespace()

    tmp = tempfile.mkdtemp(prefix="cell-bench-engine.")
    tag = os.path.basename(tmp).split(".")[-1]
    cgroup_parent = "/cell-bench-" + tag
    procs = Procs(tmp)
    engines, skipped = [], {}
    cell = podman = docker = None
    try:
        tarball = build_tarball(tmp)
        cell = Cell(procs, args.cell, tmp, tarball)
        engines.append(cell)
        if parts & {"run", "rss"}:
            if args.no_podman:
                skipped["podman"] = "--no-podman"
            elif not shutil.which("podman", path=PATH):
                skipped["podman"] = "not installed"
            else:
                try:
                    podman = Podman(procs, tmp, tarball, cgroup_parent)
                    engines.append(podman)
                except RuntimeError as e:
                    skipped["podman"] = str(e)
            if args.no_docker:
                skipped["docker"] = "--no-docker"
            elif not os.access(DOCKERD, os.X_OK) or not os.access(DOCKER, os.X_OK):
                skipped["docker"] = "%s or %s not installed" % (DOCKERD, DOCKER)
            elif apparmor_without_parser():
                skipped["docker"] = "AppArmor is on but apparmor_parser is missing"
            else:
                try:
                    docker = Docker(procs, tmp, tarball, cgroup_parent, args.docker_wait)
                    engines.append(docker)
                except RuntimeError as e:
                    skipped["docker"] = str(e)
        for name, why in skipped.items():
            log("%s skipped: %s" % (name, why))

        results = {}
        if "run" in parts:
            results["run"] = part_run(procs, engines, args.rounds)
        if "pair" in parts:
            results["pair"] = part_pair(procs, cell, args.rounds)
        if "rss" in parts:
            results["rss"] = part_rss(procs, cell, podman, docker)
        if "ps" in parts:
            results["ps"] = part_ps(procs, cell, args.n, args.rounds, args.parallel)
            results["ps"]["parallel"] = args.parallel

        print()
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        print("cell engine benchmark: %s, %d cores, load average %s at the end"
              % (os.uname().release, os.cpu_count(), " ".join(load)))
        print()
        if "run" in results:
            report_run(engines, *results["run"], args.rounds, skipped)
        if "pair" in results:
            report_pair(cell, *results["pair"])
        if "rss" in results:
            report_rss(results["rss"])
        if "ps" in results:
            report_ps(cell, results["ps"])
    finally:
        for e in (docker, podman, cell):
            if e:
                try:
                    e.close()
                except Exception as ex:  # cleanup goes on
                    log("closing %s: %s" % (e.name, ex))
        procs.reap()
        remove_cgroup_tree(cgroup_parent)
        unmount_under(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

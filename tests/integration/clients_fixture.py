"""Real clients of the runtime: podman, containerd and Docker, each in a
sandbox of its own under the session's temporary directory.

Nothing of the host's is used or changed: podman gets its own
containers.conf and storage.conf (vfs storage, no network, cgroupfs, events
in a file) and its runtimes get a state root in the sandbox through
wrapper scripts; containerd runs on its own socket with its own root and state
directories and its own namespace; dockerd runs with its own data root,
exec root (where it starts its own containerd), socket and pid file, in a
network namespace of its own with no bridge and no iptables. Containers go
into cgroups under the session's test parent.

Three host facts shape this file:
- PID 1 never reaps orphans. conmon and containerd's shims daemonize, and
  both clients wait for them to be gone (podman polls conmon's pid with
  kill(pid, 0) for up to 20 s), so a zombie stalls them. Every client
  command therefore runs under a Reaper: a child process that is a child
  subreaper and reaps whatever is orphaned below it, all the time. There
  is one per thread, so the two runtimes' commands run side by side.
- crun 1.8 refuses a cgroup v1 hybrid host unless the cgroup2 mount lists no
  controllers: the peer crun runs through a wrapper that bind-mounts an
  empty file over /sys/fs/cgroup/unified/cgroup.controllers in a private
  mount namespace of its own (tests/integration/run-with-crun.sh does the
  same for the whole suite). The host's mounts are untouched.
- The bounding set lacks CAP_SYS_RESOURCE, so podman's default rlimits
  (raised hard limits) cannot be applied by any runtime; containers.conf
  sets nofile and nproc to 1024.

Fixtures are module-scoped (one podman or containerd per test module); the
test modules import them from here.
"""

import concurrent.futures
import hashlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import pytest

from helpers import (CGROUP_PARENT, SESSION_TAG, cgroup_hierarchies,
                     processes_mentioning, read_file, rmdir_tree, wait_for)

CRUN = "/usr/bin/crun"
IMAGE = "localhost/cell-busybox:latest"
HYBRID_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers"


# --------------------------------------------------------------------------
# the reaper: runs client commands as a subreaper that reaps their orphans


class Reaper:
    """The test side of client_reaper.py: run(argv) -> CompletedProcess."""

    def __init__(self, workdir, env):
        self.workdir = tempfile.mkdtemp(prefix="reaper-", dir=workdir)
        self.env = env
        self.n = 0
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "client_reaper.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            # What the clients leave in their working directory (conmon
            # writes a file "oom" there after an OOM kill) stays in the
            # test's own directory, not in the source tree.
            cwd=self.workdir)

    def _ask(self, req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def _files(self):
        self.n += 1
        return (os.path.join(self.workdir, f"out.{self.n}"),
                os.path.join(self.workdir, f"err.{self.n}"))

    def run(self, argv, timeout=60, input=None):
        out, err = self._files()
        req = {"run": [str(a) for a in argv], "env": self.env, "out": out, "err": err,
               "timeout": timeout}
        if input is not None:
            req["stdin"] = out + ".in"
            with open(req["stdin"], "w") as f:
                f.write(input)
        rc = self._ask(req)["rc"]
        cp = subprocess.CompletedProcess(argv, rc, read_file(out), read_file(err))
        for path in (out, err, req.get("stdin")):
            if path:
                os.unlink(path)
        if rc is None:
            raise subprocess.TimeoutExpired(argv, timeout, cp.stdout, cp.stderr)
        return cp

    def spawn(self, argv, log):
        """Starts argv in the background, its output appended to log."""
        return self._ask({"spawn": [str(a) for a in argv], "env": self.env,
                          "out": log, "err": log + ".err"})["pid"]

    def stop(self, pid, timeout=10):
        return self._ask({"stop": pid, "timeout": timeout})["rc"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self._ask({"quit": True})
            except (BrokenPipeError, ValueError, json.JSONDecodeError):
                pass
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()


class Reapers:
    """One Reaper per thread that asks (the test's thread and the workers
    of each()), so that the two runtimes' commands run side by side."""

    def __init__(self, workdir, env):
        self.workdir, self.env = workdir, env
        self.by_thread = {}
        self.lock = threading.Lock()

    def __call__(self):
        me = threading.get_ident()
        with self.lock:
            if me not in self.by_thread:
                self.by_thread[me] = Reaper(self.workdir, self.env)
            return self.by_thread[me]

    def close(self):
        for r in self.by_thread.values():
            r.close()


# Two workers for the whole session: their thread ids, and so their
# reapers, stay the same from test to test.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)


def each(fn, runtimes=("cell", "crun")):
    """{rt: fn(rt)} for the runtime under test and crun, run side by side.
    An exception in either is raised here."""
    futures = {rt: _POOL.submit(fn, rt) for rt in runtimes}
    return {rt: f.result() for rt, f in futures.items()}


def same(results, what):
    """Asserts that cell's result equals the peer's (crun, or runc for
    Docker) and returns it."""
    peer = next(rt for rt in results if rt != "cell")
    assert results["cell"] == results[peer], (
        f"{what}: cell-runtime and {peer} differ\n  cell: {results['cell']!r}\n"
        f"  {peer}: {results[peer]!r}")
    return results["cell"]


# --------------------------------------------------------------------------
# the busybox image


def rootfs_tar(rootfs, path):
    """The shared busybox rootfs as an uncompressed layer tarball."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    return path


def _blob(tar, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def _add_file(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def oci_archive(layer_tar, path, ref):
    """An OCI image layout tarball of one layer (image-spec image-layout.md),
    with the org.opencontainers.image.ref.name annotation for importers."""
    layer = open(layer_tar, "rb").read()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    with tarfile.open(path, "w") as tar:
        layer_desc = _blob(tar, layer, "application/vnd.oci.image.layer.v1.tar")
        config_desc = _blob(tar, json.dumps(config).encode(),
                            "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        manifest_desc = _blob(tar, json.dumps(manifest).encode(), manifest["mediaType"])
        manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
        index = {"schemaVersion": 2, "manifests": [manifest_desc]}
        _add_file(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_file(tar, "index.json", json.dumps(index).encode())
    return path


def docker_archive(layer_tar, path, ref):
    """The same image as `docker save` writes it (manifest.json, a config,
    <diff id>/layer.tar): what `docker load` of Docker 20.10 reads; it
    takes no OCI layout."""
    layer = open(layer_tar, "rb").read()
    diff_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": [f"{diff_id}/layer.tar"]}]
    with tarfile.open(path, "w") as tar:
        _add_file(tar, config_name, config)
        _add_file(tar, f"{diff_id}/layer.tar", layer)
        _add_file(tar, "manifest.json", json.dumps(manifest).encode())
    return path


# --------------------------------------------------------------------------
# crun on the hybrid host


def write_script(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)


def runtime_wrappers(directory, runtime, state_roots=True):
    """{"cell": path, "crun": path}: scripts in <directory>/bin that run the
    runtime under test and crun, with a state root in <directory> when
    state_roots (else "cell" is the runtime itself: the client passes
    --root).

    A wrapper, not the clients' own runtime flags: podman passes
    --runtime-flag to the runtime calls it makes itself but not to the
    cleanup that conmon runs when a container exits. crun's wrapper also
    hides the cgroup2 controllers from it (see the module's docstring); it
    is named crun so that clients treat it as crun.
    """
    bindir = os.path.join(directory, "bin")
    os.makedirs(bindir)
    empty = os.path.join(directory, "empty")
    open(empty, "w").close()
    cell, root = runtime, ""
    if state_roots:
        # A directory of its own: the runtime under test may itself be crun
        # (the suite run against the peers), and podman names a runtime by
        # its file name.
        cell = os.path.join(bindir, "under-test", os.path.basename(runtime))
        write_script(cell, f"exec {runtime} --root {directory}/state-cell \"$@\"\n")
        root = f"--root {directory}/state-crun "
    crun = os.path.join(bindir, "crun")
    # Only when the controllers are listed: run-with-crun.sh may have
    # hidden them already (and the file it bound is gone).
    write_script(crun, "exec unshare -m --propagation private sh -c '\n"
                 f"    grep -qs . {HYBRID_CONTROLLERS} && mount --bind {empty} {HYBRID_CONTROLLERS}\n"
                 f"    exec {CRUN} {root}\"$@\"' crun \"$@\"\n")
    return {"cell": cell, "crun": crun}


# --------------------------------------------------------------------------
# leftovers


def cgroup_subtree(parent):
    """Directories under `parent` (a cgroup path) in every hierarchy."""
    found = []
    for h in cgroup_hierarchies():
        top = os.path.join(h, parent.lstrip("/"))
        for dirpath, dirnames, _ in os.walk(top):
            found += [os.path.join(dirpath, d) for d in dirnames]
    return found


def remove_cgroup_parent(parent):
    for h in cgroup_hierarchies():
        rmdir_tree(os.path.join(h, parent.lstrip("/")))


def kill_processes(needle):
    """SIGKILLs live processes that mention needle; returns what it found."""
    procs = processes_mentioning(needle)
    for pid, _ in procs:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return procs


def state_entries(root):
    """Container directories in a runtime's state root (dot entries are the
    runtime's caches)."""
    if not os.path.isdir(root):
        return []
    return sorted(e for e in os.listdir(root) if not e.startswith("."))


def close_problems(procs, mounts, cgroup_parent):
    """Problems for what a sandbox's teardown had to kill and unmount, and
    the cgroups it had to remove; removes those."""
    problems = [f"process left: {pid} {cmd}" for pid, cmd in procs]
    problems += [f"mount left: {m}" for m in mounts]
    time.sleep(0.1 if procs else 0)  # killed processes leave their cgroups
    problems += [f"cgroup left: {d}" for d in cgroup_subtree(cgroup_parent)
                 if os.path.basename(d) != "conmon"]
    remove_cgroup_parent(cgroup_parent)
    return problems


def unmount_under(directory):
    """Lazily unmounts what is mounted under directory, deepest first."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    left = [m for m in mounts if m == directory or m.startswith(directory + "/")]
    for m in sorted(left, key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    return left


# --------------------------------------------------------------------------
# podman


class Podman:
    """A podman of its own: podman(rt, *args) runs `podman --runtime <rt>
    args`. rt is "cell" (the runtime under test) or "crun" (the peer), each
    through its wrapper (runtime_wrappers). Only paths that podman passes on
    to the cleanup command conmon runs (storage, tmp dir, runtime) are set
    in containers.conf; the rest defaults to paths under the storage root."""

    def __init__(self, directory, runtime, rootfs):
        self.dir = directory
        self.cgroup_parent = f"{CGROUP_PARENT}/podman"
        self.runtimes = runtime_wrappers(directory, runtime)
        conf = os.path.join(directory, "containers.conf")
        storage = os.path.join(directory, "storage.conf")
        for d in ("storage", "run", "tmp", "work"):
            os.makedirs(os.path.join(directory, d))
        with open(conf, "w") as f:
            f.write(f"""[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{directory}/tmp"
image_copy_tmp_dir = "{directory}/tmp"
""")
        with open(storage, "w") as f:
            f.write(f"""[storage]
driver = "vfs"
runroot = "{directory}/run"
graphroot = "{directory}/storage"
""")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": directory,
               "CONTAINERS_CONF": conf, "CONTAINERS_STORAGE_CONF": storage,
               "TMPDIR": os.path.join(directory, "tmp")}
        self.reapers = Reapers(os.path.join(directory, "work"), env)
        p = self.raw("import", rootfs_tar(rootfs, os.path.join(directory, "rootfs.tar")), IMAGE)
        assert p.returncode == 0, f"podman import failed: {p.stderr}"

    def raw(self, *args, timeout=60):
        return self.reapers().run(["podman", *args], timeout=timeout)

    def state_root(self, rt):
        return os.path.join(self.dir, f"state-{rt}")

    def containers_in(self, rt):
        """The runtime's containers: directories in its state root (not its
        caches, which start with a dot)."""
        return state_entries(self.state_root(rt))

    def __call__(self, rt, *args, timeout=60, input=None):
        argv = ["podman", "--runtime", self.runtimes[rt], *args]
        return self.reapers().run(argv, timeout=timeout, input=input)

    def ok(self, rt, *args, **kw):
        p = self(rt, *args, **kw)
        assert p.returncode == 0, (f"podman ({rt}) {' '.join(args)} exited {p.returncode}\n"
                                   f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def run(self, rt, *args, **kw):
        """`podman run` in the test cgroup parent; args are run's."""
        return self(rt, "run", "--cgroup-parent", self.cgroup_parent, *args, **kw)

    def inspect(self, rt, name, fmt):
        return self.ok(rt, "inspect", "--format", fmt, name).stdout.strip()

    def containers(self):
        return self.raw("ps", "-a", "--format", "{{.ID}} {{.Names}}").stdout.split("\n")

    def leftovers(self):
        """What the containers of a test left: podman records, runtime state,
        container cgroups. Removes what it finds."""
        problems = []
        names = [c for c in self.containers() if c.strip()]
        if names:
            problems.append(f"podman containers left: {names}")
            self.raw("rm", "-af", "-t", "0")
        for rt in self.runtimes:
            left = self.containers_in(rt)
            if left:
                problems.append(f"{rt} state left: {left}")
                for cid in left:
                    subprocess.run([self.runtimes[rt], "delete", "--force", cid],
                                   capture_output=True)
        for d in cgroup_subtree(self.cgroup_parent):
            if os.path.basename(d).startswith("libpod-"):
                problems.append(f"cgroup left: {d}")
                rmdir_tree(d)
        return problems

    def close(self):
        """Removes everything; returns what should have been gone already."""
        self.raw("rm", "-af", "-t", "0")
        self.reapers.close()
        return close_problems(kill_processes(self.dir), unmount_under(self.dir),
                              self.cgroup_parent)


def sandbox(name, session_dir, make, start=False):
    """Yields make(dir) (started, when start) for a client sandbox in a
    directory of its own (traversable: a runtime working inside a user
    namespace walks down to the container's root), then closes it, even
    after a failed start, and fails the module if the client left
    anything."""
    d = tempfile.mkdtemp(prefix=name + "-", dir=session_dir)
    os.chmod(d, 0o755)
    client = None
    problems = []
    try:
        client = make(d)
        if start:
            client.start()
        yield client
    finally:
        if client is not None:
            problems = client.close()
        shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail(f"{name} sandbox left:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def podman_env(runtime, session_dir, rootfs):
    yield from sandbox("podman", session_dir, lambda d: Podman(d, runtime, rootfs))


@pytest.fixture
def podman(podman_env, request):
    """The module's podman; after the test, fails it if its containers left
    anything behind."""
    yield podman_env
    problems = podman_env.leftovers()
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check:\n  " + "\n  ".join(problems), pytrace=False)


# --------------------------------------------------------------------------
# containerd


def containerd_config(directory, address):
    """A containerd config.toml with everything in directory (its root,
    state and opt directories) and address as its socket."""
    for d in ("root", "state", "work", "opt"):
        os.makedirs(os.path.join(directory, d))
    config = os.path.join(directory, "config.toml")
    with open(config, "w") as f:
        f.write(f"""version = 2
root = "{directory}/root"
state = "{directory}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{address}"
[ttrpc]
  address = "{address}.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "{directory}/opt"
""")
    return config


def remove_shared_run_dirs(namespace):
    """The shims make their sockets under /run/containerd/s whatever the
    config says, and a shim cleaning up after a failed start makes
    /run/containerd/runc/<namespace> (it does not know --runc-root then).
    Those directories are removed once empty, by whichever session ends
    last (suites may run side by side; rmdir leaves a directory that
    another containerd still uses)."""
    for d in ("/run/containerd/s", f"/run/containerd/runc/{namespace}",
              "/run/containerd/runc", "/run/containerd"):
        try:
            os.rmdir(d)
        except OSError:
            pass


class Containerd:
    """A containerd of its own, started on a socket in the sandbox;
    ctr(*args) runs `ctr --address <sock> --namespace <ns> args`, and
    run(rt, ...) runs `ctr run` with rt ("cell" or "crun") as the shim's
    runc binary."""

    def __init__(self, directory, runtime, rootfs):
        self.dir = directory
        self.namespace = f"cell-test-{SESSION_TAG}"
        self.cgroup_parent = f"{CGROUP_PARENT}/containerd"
        # The runtime itself: the shim passes --root (ctr run --runc-root).
        self.runtimes = runtime_wrappers(directory, runtime, state_roots=False)
        self.address = os.path.join(directory, "containerd.sock")
        os.makedirs(os.path.join(directory, "fifo"))
        config = containerd_config(directory, self.address)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": directory,
               "TMPDIR": os.path.join(directory, "work")}
        self.reapers = Reapers(os.path.join(directory, "work"), env)
        self.log = os.path.join(directory, "containerd.log")
        self.fifo_dir = os.path.join(directory, "fifo")
        # containerd's reaper (the test thread's) adopts the shims.
        self.pid = self.reapers().spawn(["containerd", "--config", config], self.log)
        wait_for(lambda: self.ctr_raw("version").returncode == 0, 20,
                 what="containerd to answer on its socket")
        tar = oci_archive(rootfs_tar(rootfs, os.path.join(directory, "layer.tar")),
                          os.path.join(directory, "image.tar"), IMAGE)
        p = self.ctr("images", "import", "--no-unpack", tar)
        assert p.returncode == 0, f"ctr images import failed: {p.stdout}{p.stderr}"

    def ctr_raw(self, *args, timeout=60):
        return self.reapers().run(["ctr", "--address", self.address, *args], timeout=timeout)

    def ctr(self, *args, timeout=60, input=None):
        return self.reapers().run(["ctr", "--address", self.address, "--namespace",
                                self.namespace, *args], timeout=timeout, input=input)

    def exec(self, cid, exec_id, *args, flags=()):
        """`ctr task exec` with its fifos in the sandbox."""
        return self.ctr("task", "exec", "--fifo-dir", self.fifo_dir, "--exec-id", exec_id,
                        *flags, cid, *args)

    def ok(self, *args, **kw):
        p = self.ctr(*args, **kw)
        assert p.returncode == 0, (f"ctr {' '.join(args)} exited {p.returncode}\n"
                                   f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def run(self, rt, cid, *args, flags=(), **kw):
        """`ctr run [flags] --runc-binary <rt> --cgroup <parent>/<cid> IMAGE
        cid args`."""
        return self.ctr("run", "--fifo-dir", self.fifo_dir, *flags,
                        "--runc-binary", self.runtimes[rt], "--runc-root", self.state_root(rt),
                        "--cgroup", f"{self.cgroup_parent}/{cid}", IMAGE, cid, *args, **kw)

    def run_tty(self, rt, cid, *args):
        """`ctr run --rm -t`: ctr wants a terminal of its own, so it runs
        under script(1), which gives it one."""
        argv = ["ctr", "--address", self.address, "--namespace", self.namespace, "run",
                "--fifo-dir", self.fifo_dir, "--rm", "-t", "--runc-binary", self.runtimes[rt],
                "--runc-root", self.state_root(rt), "--cgroup", f"{self.cgroup_parent}/{cid}",
                IMAGE, cid, *args]
        return self.reapers().run(["script", "-qec", shlex.join(argv), "/dev/null"], input="")

    def state_root(self, rt):
        """The runtime's --root, which the shim passes on (--runc-root)."""
        return os.path.join(self.dir, f"state-{rt}")

    def leftovers(self):
        problems = []
        tasks = [line.split()[0] for line in
                 self.ctr("tasks", "ls", "-q").stdout.split("\n") if line.strip()]
        containers = [line.split()[0] for line in
                      self.ctr("containers", "ls", "-q").stdout.split("\n") if line.strip()]
        if tasks or containers:
            problems.append(f"containerd tasks left: {tasks}, containers left: {containers}")
            for t in tasks:
                self.ctr("tasks", "kill", "-s", "SIGKILL", t)
                self.ctr("tasks", "delete", "-f", t)
            for c in containers:
                self.ctr("containers", "delete", c)
        for rt in self.runtimes:
            # The shim adds the namespace: --root <runc-root>/<namespace>.
            left = state_entries(os.path.join(self.state_root(rt), self.namespace))
            if left:
                problems.append(f"{rt} state left: {left}")
        for d in cgroup_subtree(self.cgroup_parent):
            problems.append(f"cgroup left: {d}")
        remove_cgroup_parent(self.cgroup_parent)
        return problems

    def close(self):
        """Stops containerd and removes everything; returns what should have
        been gone already."""
        self.leftovers()
        self.reapers().stop(self.pid)
        self.reapers.close()
        procs = kill_processes(self.dir) + kill_processes(f"-namespace {self.namespace} ")
        problems = close_problems(procs, unmount_under(self.dir), self.cgroup_parent)
        remove_shared_run_dirs(self.namespace)
        return problems


@pytest.fixture(scope="module")
def containerd_env(runtime, session_dir, rootfs):
    yield from sandbox("containerd", session_dir, lambda d: Containerd(d, runtime, rootfs))


@pytest.fixture
def containerd(containerd_env, request):
    yield containerd_env
    problems = containerd_env.leftovers()
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check:\n  " + "\n  ".join(problems), pytrace=False)




# --------------------------------------------------------------------------
# Docker

DOCKER = "/usr/bin/docker"  # Debian's docker.io client; not another one on PATH
DOCKERD = "/usr/sbin/dockerd"
DOCKER_NAMESPACE = "moby"  # dockerd's containerd namespace
# Where dockerd and a containerd of its own write on a host by default:
# the sandbox must keep them untouched.
DOCKER_HOST_PATHS = ("/etc/docker/key.json", "/opt/containerd", "/var/lib/docker",
                     "/var/lib/containerd", "/run/docker.sock", "/run/docker.pid")


class Docker:
    """A dockerd of its own (Debian's docker.io, 20.10) with the runtime
    under test registered as "cell" beside its default, runc.
    docker(*args) runs `docker -H unix://<sock> args`; run(rt, ...) runs
    `docker run --runtime <rt> --network none ...` with rt "cell" or "runc".

    What dockerd would otherwise do to the host, and what stops it:
    - networking: --bridge=none, no iptables, no ip forwarding or
      masquerading, and dockerd itself runs in a network namespace of its
      own (unshare --net), so whatever it tries stays there; containers
      run with --network none.
    - files: --data-root, --exec-root, --pidfile, the socket and the trust
      key (deprecated-key-path in its config file, else /etc/docker/key.json)
      are in the sandbox. The containerd it would start by itself makes
      /opt/containerd (its opt plugin's default, which dockerd's generated
      config does not set), so it gets a containerd of ours instead
      (--containerd), configured like the containerd tests'.
    - cgroups: --cgroup-parent puts every container under the session's
      test parent.
    dockerd still makes /run/docker/plugins (plugin discovery): removed at
    the end when it was not there before."""

    def __init__(self, directory, runtime, rootfs):
        self.dir = directory
        self.runtime = runtime
        self.cgroup_parent = f"{CGROUP_PARENT}/docker"
        self.sock = os.path.join(directory, "docker.sock")
        for d in ("data", "exec", "home", "work"):
            os.makedirs(os.path.join(directory, d))
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.path.join(directory, "home"),
               "DOCKER_CONFIG": os.path.join(directory, "home", ".docker"),
               "TMPDIR": os.path.join(directory, "work")}
        self.reapers = Reapers(os.path.join(directory, "work"), env)
        self.made_run_docker = not os.path.exists("/run/docker")
        self.host_paths = [p for p in DOCKER_HOST_PATHS if not os.path.lexists(p)]
        self.containerd_pid = self.pid = None
        self.rootfs = rootfs

    def start(self):
        """Starts containerd and dockerd and loads the image; close() undoes
        whatever part of it was done."""
        self._start_containerd()
        self._start_dockerd()
        tar = docker_archive(rootfs_tar(self.rootfs, os.path.join(self.dir, "layer.tar")),
                             os.path.join(self.dir, "image.tar"), IMAGE)
        p = self.docker("load", "-i", tar)
        assert p.returncode == 0, f"docker load failed: {p.stdout}{p.stderr}"

    def _start_containerd(self):
        cdir = os.path.join(self.dir, "containerd")
        os.makedirs(cdir)
        self.containerd_address = os.path.join(cdir, "containerd.sock")
        config = containerd_config(cdir, self.containerd_address)
        # The test thread's reaper adopts the shims.
        self.containerd_pid = self.reapers().spawn(["containerd", "--config", config],
                                                   os.path.join(self.dir, "containerd.log"))
        wait_for(lambda: os.path.exists(self.containerd_address), 20,
                 what="containerd's socket")

    def _start_dockerd(self):
        config = os.path.join(self.dir, "daemon.json")
        with open(config, "w") as f:
            json.dump({"deprecated-key-path": os.path.join(self.dir, "key.json")}, f)
        d = self.dir
        argv = ["unshare", "--net", DOCKERD, "--config-file", config,
                "--data-root", f"{d}/data", "--exec-root", f"{d}/exec",
                "--pidfile", f"{d}/docker.pid", "-H", f"unix://{self.sock}",
                "--containerd", self.containerd_address,
                "--bridge=none", "--iptables=false", "--ip6tables=false",
                "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false",
                "--storage-driver", "overlay2", "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", self.cgroup_parent,
                "--add-runtime", f"cell={self.runtime}"]
        self.log = os.path.join(d, "dockerd.log")
        self.pid = self.reapers().spawn(argv, self.log)
        try:
            wait_for(lambda: self.docker("version").returncode == 0, 30,
                     what="dockerd to answer on its socket")
        except AssertionError as e:
            raise AssertionError(f"{e}; the end of its log:\n{read_file(self.log)[-3000:]}")

    def docker(self, *args, timeout=60, input=None):
        return self.reapers().run([DOCKER, "-H", f"unix://{self.sock}", *args],
                                  timeout=timeout, input=input)

    def ok(self, *args, **kw):
        p = self.docker(*args, **kw)
        assert p.returncode == 0, (f"docker {' '.join(args)} exited {p.returncode}\n"
                                   f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def run(self, rt, *args, **kw):
        """`docker run --runtime <rt> --network none args`."""
        return self.docker("run", "--runtime", rt, "--network", "none", *args, **kw)

    def inspect(self, name, fmt):
        return self.ok("inspect", "--format", fmt, name).stdout.strip()

    def state_entries(self):
        """Containers in the runtimes' state roots: dockerd passes
        --root <exec root>/runtime-<name>/moby."""
        exec_root = os.path.join(self.dir, "exec")
        return [e for r in sorted(os.listdir(exec_root)) if r.startswith("runtime-")
                for e in state_entries(os.path.join(exec_root, r, DOCKER_NAMESPACE))]

    def leftovers(self):
        """What the containers of a test left: Docker's records, runtime
        state, container cgroups. Removes what it finds."""
        problems = []
        ids = self.docker("ps", "-aq").stdout.split()
        if ids:
            problems.append(f"docker containers left: {ids}")
            self.docker("rm", "-f", *ids)
        left = self.state_entries()
        if left:
            problems.append(f"runtime state left: {left}")
        for d in cgroup_subtree(self.cgroup_parent):
            problems.append(f"cgroup left: {d}")
        remove_cgroup_parent(self.cgroup_parent)
        return problems

    def close(self):
        """Stops dockerd and its containerd and removes everything; returns
        what should have been gone already."""
        problems = []
        if self.pid is not None:
            self.leftovers()
            rc = self.reapers().stop(self.pid, timeout=20)
            if rc != 0:
                problems.append(f"dockerd did not stop cleanly on SIGTERM ({rc}); the end of "
                                f"its log: {read_file(self.log)[-2000:]}")
        if self.containerd_pid is not None:
            self.reapers().stop(self.containerd_pid)
        self.reapers.close()
        problems += close_problems(kill_processes(self.dir), unmount_under(self.dir),
                                   self.cgroup_parent)
        remove_shared_run_dirs(DOCKER_NAMESPACE)
        for path in self.host_paths:
            if os.path.lexists(path):
                problems.append(f"dockerd made {path} on the host")
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
        return problems


def apparmor_without_parser():
    """AppArmor is active (as Docker asks: securityfs shows it) but
    apparmor_parser is missing: dockerd then refuses every container, as
    it cannot load its docker-default profile (Debian installs the
    apparmor package with the kernel's AppArmor; scripts/deps.sh does)."""
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            on = f.read().startswith("Y")
    except OSError:
        on = False
    return (on and os.path.exists("/sys/kernel/security/apparmor")
            and not shutil.which("apparmor_parser", path="/usr/sbin:/sbin:/usr/bin:/bin"))


@pytest.fixture(scope="module")
def docker_env(runtime, session_dir, rootfs):
    if apparmor_without_parser():
        pytest.skip("AppArmor is on but apparmor_parser is missing: dockerd runs no container")
    yield from sandbox("docker", session_dir, lambda d: Docker(d, os.path.abspath(runtime), rootfs),
                       start=True)


@pytest.fixture
def docker(docker_env, request):
    """The module's dockerd; after the test, fails it if its containers
    left anything behind."""
    yield docker_env
    problems = docker_env.leftovers()
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check:\n  " + "\n  ".join(problems), pytrace=False)

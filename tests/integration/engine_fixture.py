"""The `cell` engine under test: one engine root per test (`cell --root`
in the test's temporary directory) with the busybox image imported as
"bb", and a leak check afterwards: every container the test made is
removed with `cell rm -f`, then nothing may remain of any of them — no
record, name, snapshot mount, cgroup, monitor or container process.
"""
import json
import os
import subprocess
import tarfile

import pytest

from helpers import (find_cgroup_dirs, mounts_mentioning, processes_mentioning, reap,
                     rmdir_tree, wait_for)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cell_path():
    return os.environ.get("CELL_BIN") or os.path.join(REPO, "build", "cell")


class Engine:
    """`cell --root <root>` of one test."""

    def __init__(self, path, root):
        self.path, self.root = path, root

    def run(self, *args, input=None, timeout=60, env=None):
        return subprocess.run([self.path, "--root", self.root, *args], input=input,
                              capture_output=True, timeout=timeout, env=env)

    def ok(self, *args, input=None, timeout=60):
        p = self.run(*args, input=input, timeout=timeout)
        assert p.returncode == 0, f"cell {' '.join(args)}: exit {p.returncode}: {p.stderr.decode()}"
        return p.stdout.decode()

    def fail(self, *args, status=1):
        """A command that must fail with status; its one stderr line."""
        p = self.run(*args)
        err = p.stderr.decode()
        assert p.returncode == status, f"cell {' '.join(args)} exited {p.returncode}: {err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cell: "), err
        return lines[0]

    def inspect(self, name):
        return json.loads(self.ok("inspect", "--type", "container", name))[0]

    def ids(self):
        d = os.path.join(self.root, "containers")
        return sorted(n for n in os.listdir(d) if len(n) == 64) if os.path.isdir(d) else []

    def names(self):
        d = os.path.join(self.root, "names")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def status(self, name):
        return self.inspect(name)["State"]["Status"]

    def wait_status(self, name, status, timeout=10):
        wait_for(lambda: self.status(name) == status, timeout=timeout,
                 what=f"container {name} {status}")


@pytest.fixture(scope="session")
def bb_tarball(session_dir, rootfs):
    """The busybox rootfs as an image tarball (made once)."""
    path = os.path.join(session_dir, "bb.tar")
    if not os.path.exists(path):
        with tarfile.open(path, "w") as t:
            t.add(rootfs, arcname=".")
    return path


def engine_leaks(e, seen_ids):
    """What remains of the containers seen; each is removed after being noted."""
    problems = []
    for cid in seen_ids:
        if os.path.exists(os.path.join(e.root, "containers", cid)):
            problems.append(f"record left: {cid}")
    reap()
    for cid in seen_ids:
        for d in find_cgroup_dirs(cid):
            problems.append(f"cgroup left: {d}")
            rmdir_tree(d)
        procs = processes_mentioning(cid)
        if procs:
            problems.append(f"processes left for {cid}: {procs}")
    procs = processes_mentioning(e.root)
    if procs:
        problems.append(f"processes left: {procs}")
    for m in reversed(mounts_mentioning(e.root)):
        problems.append(f"mount left: {m}")
        subprocess.run(["umount", "-l", m], capture_output=True)
    if e.names():
        problems.append(f"names left: {e.names()}")
    return problems


@pytest.fixture
def engine(test_dir, bb_tarball, request):
    path = cell_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"cell binary not found: {path} (build it, or set CELL_BIN)", pytrace=False)
    e = Engine(path, os.path.join(test_dir, "cellroot"))
    e.ok("import", bb_tarball, "bb")
    yield e
    seen = e.ids()
    for cid in seen:
        e.run("rm", "-f", cid, timeout=30)
    problems = engine_leaks(e, seen)
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check: " + "; ".join(problems), pytrace=False)

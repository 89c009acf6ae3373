"""Fixtures for the OCI runtime integration suite.

The suite drives a runtime binary through runc's command-line contract
(`--root R create --bundle B ID`, `start`, `state`, `kill`, `delete`, `list`,
`run`). CELL_RUNTIME picks the binary (default: <repo>/build/cell-runtime);
CELL_RUNTIME=/usr/sbin/runc or /usr/bin/crun runs the same tests against the
peers. Tests marked `cell_only` check cell's own choices (exact error text,
default cgroup path) and are deselected when the runtime is runc or crun.
Tests marked `peer_differs("runc", reason=...)` check a spec point that the
named peer gets wrong or lacks (the reason quotes the spec); they are
deselected for that peer only, so they are reported as deselected, not passed.

Every test gets its own state root, container ids and cgroupsPath
("/cell-test-<session>/<id>"); after each test a leak check looks for state
directories, cgroup directories, processes and mounts left behind, removes
them, and fails the test if there were any.

Run with Debian's interpreter (pytest comes from python3-pytest):
    CELL_RUNTIME=/usr/sbin/runc /usr/bin/python3 -m pytest -q tests/integration
"""

import ctypes
import os
import shutil
import tempfile

import pytest

from helpers import (CGROUP_PARENT, Bundle, Gate, Ids, Runtime, build_rootfs,
                     cgroup_hierarchies, default_config, leak_check, runtime_is_peer,
                     runtime_name, runtime_path)

PR_SET_CHILD_SUBREAPER = 36


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cell_only: checks cell's own behaviour (error text, defaults); "
        "deselected when CELL_RUNTIME is runc or crun")
    config.addinivalue_line(
        "markers", "peer_differs(*peers, reason): a spec point the named peers (runc, crun) "
        "get wrong or lack; deselected when CELL_RUNTIME is one of them")
    # PID 1 on these machines never reaps orphans: a detached container whose
    # runtime has exited would stay a zombie forever. As a subreaper this
    # process inherits such orphans, and helpers.reap() collects them.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def pytest_report_header(config):
    return f"runtime: {runtime_path()}"


def deselected_for_peer(item, peer):
    if item.get_closest_marker("cell_only"):
        return True
    return any(peer in m.args for m in item.iter_markers("peer_differs"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for m in item.iter_markers("peer_differs"):
            if not m.args or not m.kwargs.get("reason"):
                raise pytest.UsageError(f"{item.nodeid}: peer_differs needs peers and a reason=")
    if not runtime_is_peer():
        return
    peer = runtime_name()
    keep, drop = [], []
    for item in items:
        (drop if deselected_for_peer(item, peer) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def runtime():
    """Path of the runtime under test."""
    path = runtime_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"runtime binary not found or not executable: {path} "
                    "(build it, or set CELL_RUNTIME)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def session_dir():
    d = tempfile.mkdtemp(prefix="cell-it-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)
    for h in cgroup_hierarchies():
        try:
            os.rmdir(os.path.join(h, CGROUP_PARENT.lstrip("/")))
        except OSError:
            pass


@pytest.fixture(scope="session")
def rootfs(session_dir):
    """The shared busybox rootfs (built once; bundles use it read-only)."""
    path = os.path.join(session_dir, "rootfs")
    build_rootfs(path)
    return path


@pytest.fixture
def test_dir(session_dir):
    d = tempfile.mkdtemp(prefix="t-", dir=session_dir)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def root(test_dir):
    """The runtime's --root for this test."""
    d = os.path.join(test_dir, "state")
    os.mkdir(d, 0o700)
    return d


@pytest.fixture
def ids(request):
    return Ids(request.node.name)


@pytest.fixture
def cid(ids):
    """A unique container id (the first bundle's)."""
    return ids.new()


@pytest.fixture
def rt(runtime, root, test_dir, ids, rootfs, request):
    """The runtime wrapper (helpers.Runtime); runs the leak check afterwards."""
    r = Runtime(runtime, root, test_dir, ids)
    yield r
    call = getattr(request.node, "rep_call", None)
    problems = leak_check(r, ids, [test_dir, rootfs], call is not None and call.passed)
    if problems:
        pytest.fail("leak check:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def bundle(test_dir, rootfs, ids, cid, rt):
    """bundle(*args) -> helpers.Bundle running args (default `sh`) with the
    default config in a fresh directory. The first bundle gets the `cid`
    fixture's id, later ones new ids; each its own cgroupsPath."""
    made = []

    def make(*args, cid=None):
        if cid is None:
            cid = made_cid if not made else ids.new()
        path = tempfile.mkdtemp(prefix="bundle-", dir=test_dir)
        os.chmod(path, 0o755)
        b = Bundle(path, default_config(rootfs, f"{CGROUP_PARENT}/{cid}", args or ("sh",)),
                   cid)
        made.append(b)
        return b

    made_cid = cid
    return make


@pytest.fixture
def hostdir(test_dir):
    """hostdir(name) -> a fresh world-writable host directory."""
    def make(name="host"):
        d = tempfile.mkdtemp(prefix=name + "-", dir=test_dir)
        os.chmod(d, 0o777)
        return d
    return make


@pytest.fixture
def gate(hostdir):
    """gate(bundle) -> helpers.Gate bound into the bundle at /gate."""
    return lambda b: Gate(b, hostdir("gate"))

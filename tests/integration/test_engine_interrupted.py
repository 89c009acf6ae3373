"""A `cell run` killed at any point, and a monitor killed while its
container runs, leave nothing that `cell rm -f` cannot clear (DESIGN.md:
every command can be killed at any point)."""
import json
import os
import signal
import subprocess
import time

import pytest

from engine_fixture import bb_tarball, engine, engine_leaks  # noqa: F401 (fixtures)
from helpers import mounts_mentioning, processes_mentioning, reap, wait_for

pytestmark = pytest.mark.cell_only


def test_rm_f_clears_a_run_killed_at_any_point(engine):
    # From before anything is made to after the container runs (~50 ms).
    for delay in (d / 1000 for d in range(0, 120, 6)):
        p = subprocess.Popen([engine.path, "--root", engine.root, "run", "-d", "--name", "k",
                              "bb", "sleep", "1000"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        seen = engine.ids()
        for cid in seen:
            r = engine.run("rm", "-f", cid)
            assert r.returncode == 0, (delay, r.stderr)
        assert engine.ids() == [] and engine.names() == [], delay
        reap()
        wait_for(lambda: not processes_mentioning(engine.root), timeout=5,
                 what=f"no process left (killed after {delay} s)")
        assert engine_leaks(engine, seen) == [], delay
        assert mounts_mentioning(engine.root) == [], delay


def test_a_killed_run_in_the_foreground_leaves_the_container_to_rm(engine):
    p = subprocess.Popen([engine.path, "--root", engine.root, "run", "--name", "fg", "bb",
                          "sleep", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: engine.run("inspect", "fg").returncode == 0
             and engine.status("fg") == "running", what="fg running")
    p.send_signal(signal.SIGKILL)
    p.wait()
    # The monitor holds the container: it runs on, as Docker's does when
    # its client goes away.
    assert engine.status("fg") == "running"
    engine.ok("rm", "-f", "fg")
    assert engine.ids() == []


def test_a_monitor_killed_at_exit_leaves_a_consistent_record(engine):
    for _ in range(3):
        cid = engine.ok("run", "-d", "bb", "sh", "-c", "sleep 0.2").strip()
        rec = engine.inspect(cid)
        with open(os.path.join(engine.root, "containers", cid, "record.json")) as f:
            mon = json.load(f)["Monitor"]["Pid"]
        time.sleep(0.2)
        try:
            os.kill(mon, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_for(lambda: engine.status(cid) in ("exited",), what="recorded as exited")
        assert rec["Id"] == cid
        engine.ok("rm", cid)
    assert engine.ids() == []

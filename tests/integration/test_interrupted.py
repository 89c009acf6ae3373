"""A runtime killed at any point of `create` leaves nothing that
`delete --force` cannot clear (DESIGN.md conventions: "every command can be
killed at any point and delete --force still clears what was made")."""

import os
import signal
import subprocess
import time

from helpers import find_cgroup_dirs, processes_mentioning, reap


def kill_create_after(rt, b, delay):
    p = subprocess.Popen(rt.argv("create", "--bundle", b, b.cid), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()


def test_delete_force_clears_a_create_killed_at_any_point(rt, bundle):
    # Delays from before the state dir exists to after the init is set up.
    for delay in (d / 2000 for d in range(0, 24)):
        b = bundle("sleep", "1000")
        kill_create_after(rt, b, delay)
        start = time.monotonic()
        d = rt("delete", "--force", b.cid)
        took = time.monotonic() - start
        # Killed before it made anything, there is nothing to delete.
        assert d.returncode == 0 or "does not exist" in d.stderr, (delay, d.stderr)
        # Nor anything to wait for: killed before it wrote the init's pid,
        # the state has no init (2 s is what waiting for one cost).
        assert took < 2.0, (delay, took)
        assert not os.path.lexists(rt.state_dir(b.cid)), delay
        assert find_cgroup_dirs(b.cid) == [], delay
        deadline = time.monotonic() + 5
        while processes_mentioning(b.cid) and time.monotonic() < deadline:
            reap()  # the killed runtime's init was reparented to us
            time.sleep(0.01)
        assert processes_mentioning(b.cid) == [], delay

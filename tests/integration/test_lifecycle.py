"""The create/start gate, kill and delete (runtime.md "Lifecycle",
"Operations": Create, Start, Kill, Delete)."""

import os
import signal

import pytest

from helpers import pid_alive, read_file, stays_false, wait_for


def marker_bundle(bundle, hostdir, then="exec sleep 1000"):
    """A container whose program writes /out/ran (a host dir) and then runs
    `then`. Returns (bundle, host path of the marker)."""
    b = bundle()
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh(f"echo ran > /out/ran; {then}")
    return b, os.path.join(out, "ran")


def test_create_leaves_container_created_with_live_pid(rt, bundle, hostdir):
    """runtime.md Lifecycle step 2: create makes the environment; state is
    "created" and the container process exists."""
    b, _ = marker_bundle(bundle, hostdir)
    rt.create(b)
    st = rt.state(b.cid)
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"])
    rt.delete(b.cid, force=True)


def test_create_does_not_run_the_user_program(rt, bundle, hostdir):
    """runtime.md Create: "process.args MUST NOT be applied until triggered
    by the start operation"."""
    b, marker = marker_bundle(bundle, hostdir)
    rt.create(b)
    assert stays_false(lambda: os.path.exists(marker), 0.3), "program ran before start"
    assert rt.status(b.cid) == "created"
    rt.start(b.cid)
    # The file exists before the shell's echo has written it: wait for the text.
    wait_for(lambda: os.path.exists(marker) and read_file(marker) == "ran\n",
             what="the program to run after start")
    assert rt.status(b.cid) == "running"
    rt.delete(b.cid, force=True)


def test_start_runs_the_program_in_the_created_process(rt, bundle, hostdir):
    """The pid reported after create is the one that runs the program."""
    b, marker = marker_bundle(bundle, hostdir)
    rt.create(b)
    pid = rt.state(b.cid)["pid"]
    rt.start(b.cid)
    wait_for(lambda: os.path.exists(marker))
    wait_for(lambda: read_file(f"/proc/{pid}/cmdline").startswith("sleep\0"),
             what="the created pid to exec the program")
    assert rt.state(b.cid)["pid"] == pid
    rt.delete(b.cid, force=True)


def test_status_goes_created_running_stopped(rt, bundle, gate):
    b = bundle()
    g = gate(b)
    b.sh(g.wait)
    rt.create(b)
    assert rt.status(b.cid) == "created"
    rt.start(b.cid)
    assert rt.status(b.cid) == "running"
    g.release()
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    assert rt("state", b.cid).returncode != 0


def test_start_twice_fails_and_leaves_container_running(rt, bundle, hostdir):
    """runtime.md Start: starting a container that is not created MUST have
    no effect and MUST generate an error."""
    b, marker = marker_bundle(bundle, hostdir, then="echo again >> /out/ran; exec sleep 1000")
    rt.create(b)
    rt.start(b.cid)
    pid = rt.state(b.cid)["pid"]
    wait_for(lambda: read_file(marker) if os.path.exists(marker) else None)
    p = rt("start", b.cid)
    assert p.returncode != 0
    assert p.stderr.strip()
    assert rt.status(b.cid) == "running"
    assert rt.state(b.cid)["pid"] == pid and pid_alive(pid)
    assert read_file(marker) == "ran\nagain\n"
    rt.delete(b.cid, force=True)


def test_start_a_stopped_container_fails(rt, bundle):
    b = bundle("true")
    rt.create(b)
    rt.start(b.cid)
    rt.wait_status(b.cid, "stopped")
    p = rt("start", b.cid)
    assert p.returncode != 0
    assert rt.status(b.cid) == "stopped"
    rt.delete(b.cid)


def test_start_unknown_container_fails(rt, cid):
    p = rt("start", cid)
    assert p.returncode != 0
    assert p.stderr.strip()


def test_delete_running_without_force_is_refused(rt, bundle):
    """runtime.md Delete: deleting a container that is not stopped MUST have
    no effect and MUST generate an error."""
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    p = rt("delete", b.cid)
    assert p.returncode != 0
    assert p.stderr.strip()
    assert pid_alive(pid)
    assert rt.status(b.cid) == "running"
    rt.delete(b.cid, force=True)


def test_delete_created_without_force_kills_and_removes_it(rt, bundle):
    """runtime.md Delete: a created container has run nothing of the user's,
    so delete without --force kills its init and removes it, as runc and crun
    do (containerd relies on it)."""
    b = bundle("sleep", "1000")
    rt.create(b)
    pid = rt.state(b.cid)["pid"]
    p = rt("delete", b.cid)
    assert p.returncode == 0, p.stderr
    wait_for(lambda: not pid_alive(pid), what="the created init to die")
    assert rt("state", b.cid).returncode != 0


def test_delete_force_kills_a_running_container_and_removes_it(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    rt.delete(b.cid, force=True)
    wait_for(lambda: not pid_alive(pid), what="the container process to die")
    assert rt("state", b.cid).returncode != 0
    assert not os.path.exists(rt.state_dir(b.cid))


def test_delete_force_removes_a_created_container(rt, bundle):
    b = bundle("sleep", "1000")
    rt.create(b)
    pid = rt.state(b.cid)["pid"]
    rt.delete(b.cid, force=True)
    wait_for(lambda: not pid_alive(pid), what="the container process to die")
    assert rt("state", b.cid).returncode != 0


def test_delete_stopped_container(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    assert rt("state", b.cid).returncode != 0
    assert not os.path.exists(rt.state_dir(b.cid))


def test_delete_unknown_container_fails(rt, cid):
    p = rt("delete", cid)
    assert p.returncode != 0
    assert p.stderr.strip()


def test_id_is_reusable_after_delete(rt, bundle):
    """runtime.md Delete: "Once a container is deleted its ID MAY be used by
    a subsequent container"."""
    b = bundle().sh("echo first")
    assert rt.run(b).stdout == "first\n"
    b.sh("echo second")
    assert rt.run(b).stdout == "second\n"


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_with_sigkill_by_name_or_number(rt, bundle, sig):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    rt.kill(b.cid, sig)
    rt.wait_status(b.cid, "stopped")
    assert not pid_alive(pid)
    rt.delete(b.cid)


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15", "USR1"])
def test_kill_delivers_the_named_signal(rt, bundle, hostdir, sig):
    """The signal reaches the process: its trap records which one."""
    b = bundle()
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh("trap 'echo TERM > /out/sig; exit 0' TERM; trap 'echo USR1 > /out/sig; exit 0' USR1;"
         " echo ready > /out/ready; while :; do sleep 1 & wait; done")
    rt.create_running(b)
    wait_for(lambda: os.path.exists(os.path.join(out, "ready")))
    rt.kill(b.cid, sig)
    rt.wait_status(b.cid, "stopped")
    want = "USR1" if sig == "USR1" else "TERM"
    assert read_file(os.path.join(out, "sig")) == want + "\n"
    rt.delete(b.cid)


def test_kill_default_signal_is_term(rt, bundle, hostdir):
    b = bundle()
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh("trap 'echo TERM > /out/sig; exit 0' TERM; echo ready > /out/ready;"
         " while :; do sleep 1 & wait; done")
    rt.create_running(b)
    wait_for(lambda: os.path.exists(os.path.join(out, "ready")))
    rt.ok("kill", b.cid)
    rt.wait_status(b.cid, "stopped")
    assert read_file(os.path.join(out, "sig")) == "TERM\n"
    rt.delete(b.cid)


def test_kill_a_created_container(rt, bundle, hostdir):
    """runtime.md Kill: a created container may be signalled; it stops
    without ever running the program."""
    b, marker = marker_bundle(bundle, hostdir)
    rt.create(b)
    rt.kill(b.cid, "KILL")
    rt.wait_status(b.cid, "stopped")
    assert not os.path.exists(marker)
    rt.delete(b.cid)


def test_kill_a_stopped_container_fails(rt, bundle):
    """runtime.md Kill: signalling a container that is neither created nor
    running MUST generate an error."""
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    p = rt("kill", b.cid, "KILL")
    assert p.returncode != 0
    assert rt.status(b.cid) == "stopped"
    rt.delete(b.cid)


def test_kill_unknown_signal_fails_and_container_lives(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    p = rt("kill", b.cid, "NOSUCHSIG")
    assert p.returncode != 0
    assert p.stderr.strip()
    assert pid_alive(pid)
    rt.delete(b.cid, force=True)


def test_kill_all_signals_every_process_of_the_container(rt, bundle, hostdir):
    """kill --all reaches processes other than the init: without a pid
    namespace, killing the init alone would leave its children running."""
    b = bundle().without_namespace("pid")
    out = hostdir("out")
    b.bind(out, "/out")
    b.sh("sleep 1000 & echo $! > /out/child1; sleep 1000 & echo $! > /out/child2; wait")
    pid = rt.create_running(b)
    child_files = [os.path.join(out, f) for f in ("child1", "child2")]
    wait_for(lambda: all(os.path.exists(f) and read_file(f).strip() for f in child_files))
    children = [int(read_file(f)) for f in child_files]
    assert all(pid_alive(c) for c in children)
    rt.ok("kill", "--all", b.cid, "KILL")
    wait_for(lambda: not any(pid_alive(p) for p in [pid] + children),
             what="every container process to die")
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)


def test_host_kill_of_the_init_makes_the_container_stopped(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    os.kill(pid, signal.SIGKILL)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)

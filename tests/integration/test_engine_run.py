"""`cell run` and the container commands as Docker's users type them: the
examples people learn containers from, each with the output they expect,
observed from inside the container and from the host."""
import json
import os
import signal
import subprocess
import time

import pytest

from cgroup_helpers import V2, cgroup_file, inside_path
from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import pid_alive, proc_state, read_file, wait_for

pytestmark = pytest.mark.cell_only


def test_run_prints_and_returns_the_exit_code(engine):
    p = engine.run("run", "--rm", "bb", "echo", "hello")
    assert (p.returncode, p.stdout, p.stderr) == (0, b"hello\n", b"")
    p = engine.run("run", "--rm", "bb", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, b"out\n", b"err\n")
    assert engine.ids() == [], "--rm left the container"


def test_container_run_fails_as_run_does(engine):
    """`cell container run` is `cell run`: 125 for its own failures (Docker's),
    127 for a command that is not there."""
    assert engine.fail("container", "run", "--nosuchflag", "bb", status=125) == \
        "cell: run: unknown flag: --nosuchflag"
    p = engine.run("container", "run", "--rm", "bb", "nosuchcommand")
    assert p.returncode == 127 and b"nosuchcommand" in p.stderr
    assert engine.ids() == []


def test_run_detached_then_ps_logs_stop_rm(engine):
    script = 'trap "echo bye; exit 0" TERM; echo up; echo warn >&2; while :; do sleep 0.1; done'
    cid = engine.ok("run", "-d", "--name", "web", "bb", "sh", "-c", script).strip()
    assert len(cid) == 64 and engine.ids() == [cid]
    ps = engine.ok("ps").splitlines()
    assert ps[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
                             "NAMES"]
    assert ps[1].startswith(cid[:12]) and ps[1].rstrip().endswith("web") and " Up " in ps[1]
    wait_for(lambda: b"warn" in engine.run("logs", "web").stderr, what="log written")
    p = engine.run("logs", "web")
    assert (p.stdout, p.stderr) == (b"up\n", b"warn\n")
    pid = engine.inspect("web")["State"]["Pid"]
    assert pid_alive(pid)
    assert engine.ok("stop", "web") == "web\n"
    st = engine.inspect("web")["State"]
    assert (st["Status"], st["Running"], st["ExitCode"], st["Pid"]) == ("exited", False, 0, 0)
    assert engine.run("logs", "web").stdout == b"up\nbye\n"
    assert engine.ok("ps", "-q") == ""
    assert engine.ok("ps", "-aq") == cid[:12] + "\n"
    assert "Exited (0)" in engine.ok("ps", "-a")
    assert engine.ok("rm", "web") == "web\n"
    assert engine.ids() == [] and engine.names() == []


def test_a_container_is_found_by_name_id_and_prefix(engine):
    cid = engine.ok("create", "--name", "box", "bb", "true").strip()
    for ref in ("box", "/box", cid, cid[:12], cid[:5]):
        assert engine.inspect(ref)["Id"] == cid
    assert engine.inspect("box")["Name"] == "/box"
    assert engine.status("box") == "created"
    assert engine.fail("inspect", "--type", "container", "nothere") == \
        "cell: No such container: nothere"


def test_a_name_in_use_is_refused_and_leaves_nothing(engine):
    first = engine.ok("create", "--name", "x", "bb", "true").strip()
    line = engine.fail("run", "--name", "x", "bb", "true", status=125)
    assert line == (f'cell: Conflict. The container name "/x" is already in use by container '
                    f'"{first}". You have to remove (or rename) that container to be able to '
                    f'reuse that name.')
    assert engine.ids() == [first]


@pytest.mark.parametrize("args, message", [
    (["-m", "12q"], 'invalid argument "12q" for "-m, --memory" flag'),
    (["--cpus", "-1"], 'invalid argument "-1" for "--cpus" flag'),
    (["--restart", "sometimes"], 'invalid argument "sometimes" for "--restart" flag'),
    (["--bogus"], "unknown flag: --bogus"),
    (["--stop-signal", "SIGNOPE"], "invalid signal: SIGNOPE"),
])
def test_a_bad_flag_is_one_line_and_leaves_nothing(engine, args, message):
    line = engine.fail("run", *args, "bb", "true", status=125)
    assert message in line, line
    assert engine.ids() == [] and engine.names() == []
    assert not os.listdir(os.path.join(engine.root, "snapshots")) \
        if os.path.isdir(os.path.join(engine.root, "snapshots")) else True


def test_an_image_that_does_not_exist_is_one_line(engine):
    line = engine.fail("run", "--pull", "never", "nosuchimage", "true", status=125)
    assert "nosuchimage" in line
    assert engine.ids() == []


def test_memory_limit_is_read_back_inside(engine):
    out = engine.ok("run", "--rm", "--memory=256m", "bb", "cat", inside_path("memory.limit"))
    assert out == "268435456\n"


def test_cpus_half_is_a_50000_of_100000_quota(engine):
    cid = engine.ok("run", "-d", "--cpus=0.5", "bb", "sleep", "30").strip()
    quota = read_file(cgroup_file(f"/cell/{cid}", "cpu.quota")).strip()
    assert quota == ("50000 100000" if V2 else "50000")


def test_ps_in_the_container_sees_itself_alone(engine):
    out = engine.ok("run", "--rm", "bb", "ps", "-ef")
    assert len(out.splitlines()) == 2, out


def test_every_namespace_but_user_is_the_containers_own(engine):
    cid = engine.ok("run", "-d", "bb", "sleep", "30").strip()
    pid = engine.inspect(cid)["State"]["Pid"]
    for ns in ("pid", "net", "ipc", "uts", "mnt", "cgroup"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
    assert os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user")


def test_oom_kill_is_137_and_oomkilled(engine):
    p = engine.run("run", "--name", "hog", "--memory=64m", "bb",
                   "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1")
    assert p.returncode == 137, p.stderr
    st = engine.inspect("hog")["State"]
    assert (st["ExitCode"], st["OOMKilled"]) == (137, True)
    assert "Exited (137)" in engine.ok("ps", "-a") and "(OOM-killed at 64MiB)" in engine.ok("ps", "-a")


def test_kill_is_137_without_oomkilled(engine):
    engine.ok("run", "-d", "--name", "k", "--memory=64m", "bb", "sleep", "30")
    assert engine.ok("kill", "k") == "k\n"
    engine.wait_status("k", "exited")
    st = engine.inspect("k")["State"]
    assert (st["ExitCode"], st["OOMKilled"]) == (137, False)


def test_wait_prints_the_exit_code(engine):
    engine.ok("run", "-d", "--name", "w", "bb", "sh", "-c", "sleep 0.3; exit 7")
    assert engine.ok("wait", "w") == "7\n"


def test_restart_on_failure_counts_its_restarts(engine):
    engine.ok("run", "-d", "--name", "r", "--restart", "on-failure:2", "bb", "sh", "-c", "exit 1")
    wait_for(lambda: engine.inspect("r")["RestartCount"] == 2
             and engine.status("r") == "exited", timeout=15, what="two restarts")
    assert engine.inspect("r")["State"]["ExitCode"] == 1


def test_a_killed_monitor_shows_exited_and_rm_clears_it(engine):
    cid = engine.ok("run", "-d", "--name", "m", "bb", "sleep", "60").strip()
    rec = json.load(open(os.path.join(engine.root, "containers", cid, "record.json")))
    os.kill(rec["Monitor"]["Pid"], signal.SIGKILL)
    wait_for(lambda: proc_state(rec["Monitor"]["Pid"]) in (None, "Z"), what="monitor dead")
    assert engine.status("m") == "exited"
    assert "Exited" in engine.ok("ps", "-a")
    engine.ok("rm", "-f", "m")
    assert engine.ids() == []


def test_ps_alone_sees_a_killed_monitor_and_records_the_exit(engine):
    """ps reads records without the lock, but one whose monitor is dead it
    brings up to date (under the lock) before it shows it."""
    cid = engine.ok("run", "-d", "--name", "m", "bb", "sleep", "60").strip()
    rec = json.load(open(os.path.join(engine.root, "containers", cid, "record.json")))
    os.kill(rec["Monitor"]["Pid"], signal.SIGKILL)
    wait_for(lambda: proc_state(rec["Monitor"]["Pid"]) in (None, "Z"), what="monitor dead")
    assert engine.ok("ps", "-q") == ""
    assert "Exited (137)" in engine.ok("ps", "-a")
    saved = json.load(open(os.path.join(engine.root, "containers", cid, "record.json")))
    assert saved["State"]["Status"] == "exited" and not pid_alive(rec["State"]["Pid"])


def test_ps_does_not_wait_for_a_container_held_by_another_command(engine):
    """A command that holds a container's lock for long (stop waits up to
    its timeout) does not hold up `ps`, which lists it as it is."""
    import fcntl
    cid = engine.ok("run", "-d", "--name", "held", "bb", "sleep", "60").strip()
    fd = os.open(os.path.join(engine.root, "containers", cid), os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        p = engine.run("ps", "--format", "{{.Names}} {{.State}}", timeout=5)
        assert (p.returncode, p.stdout) == (0, b"held running\n")
    finally:
        os.close(fd)


def test_twenty_runs_at_once_all_come_up_with_unique_names(engine):
    procs = [subprocess.Popen([engine.path, "--root", engine.root, "run", "-d", "bb", "sleep", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(20)]
    ids = [p.communicate(timeout=60)[0].decode().strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(ids) == engine.ids()
    rows = [json.loads(line) for line in engine.ok("ps", "--format", "json").splitlines()]
    assert len(rows) == 20 and len({r["Names"] for r in rows}) == 20
    assert all(r["State"] == "running" for r in rows)


def test_two_racing_runs_with_one_name_exactly_one_wins(engine):
    for _ in range(5):
        procs = [subprocess.Popen([engine.path, "--root", engine.root, "run", "-d", "--name",
                                   "same", "bb", "sleep", "30"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        out = [p.communicate(timeout=60) for p in procs]
        codes = sorted(p.returncode for p in procs)
        assert codes == [0, 125], out
        assert len(engine.ids()) == 1
        engine.ok("rm", "-f", "same")


def test_a_command_that_cannot_run_is_127_or_126(engine):
    p = engine.run("run", "--rm", "bb", "nosuch")
    assert p.returncode == 127 and b"nosuch" in p.stderr
    p = engine.run("run", "--rm", "bb", "/etc/passwd")
    assert p.returncode == 126 and b"permission denied" in p.stderr
    assert engine.ids() == []


def test_attach_flag_picks_the_streams(engine):
    p = engine.run("run", "--rm", "-a", "stdout", "bb", "sh", "-c", "echo out; echo err >&2")
    assert (p.returncode, p.stdout, p.stderr) == (0, b"out\n", b"")
    p = engine.run("run", "--rm", "-a", "STDERR", "bb", "sh", "-c", "echo out; echo err >&2")
    assert (p.stdout, p.stderr) == (b"", b"err\n")
    p = engine.run("run", "--rm", "-i", "bb", "cat", input=b"piped\n")
    assert p.stdout == b"piped\n"
    assert "valid streams are STDIN, STDOUT and STDERR" in \
        engine.fail("run", "-a", "bogus", "bb", "true", status=125)

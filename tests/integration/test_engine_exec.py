"""`cell exec` into running containers: environment, user, working
directory, stdin, exit codes, detached processes, and refusals."""
import os
import time

import pytest

from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import wait_for

pytestmark = pytest.mark.cell_only


@pytest.fixture
def box(engine):
    engine.ok("run", "-d", "--name", "box", "-e", "FOO=bar", "-w", "/tmp", "bb", "sleep", "60")
    return engine


def test_exec_has_the_containers_env_user_and_cwd(box):
    out = box.ok("exec", "box", "sh", "-c", 'echo $FOO $HOSTNAME; id -u; pwd')
    cid = box.inspect("box")["Id"]
    assert out == f"bar {cid[:12]}\n0\n/tmp\n"


def test_exec_flags_change_user_env_and_cwd(box):
    out = box.ok("exec", "-u", "nobody", "-w", "/", "-e", "X=1", "box", "sh", "-c",
                 "id; pwd; echo $X $FOO")
    assert out == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/\n1 bar\n"
    assert box.ok("exec", "-u", "1000:1000", "box", "id") == \
        "uid=1000(user) gid=1000(user) groups=1000(user)\n"


def test_exec_is_in_the_containers_namespaces(box):
    pid = box.inspect("box")["State"]["Pid"]
    out = box.ok("exec", "box", "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt")
    assert out.split() == [os.readlink(f"/proc/{pid}/ns/pid"), os.readlink(f"/proc/{pid}/ns/mnt")]


def test_exec_stdin_only_with_i(box):
    assert box.ok("exec", "-i", "box", "cat", input=b"hello\n") == "hello\n"
    assert box.ok("exec", "box", "cat", input=b"hello\n") == ""


def test_exec_returns_the_exit_code(box):
    assert box.run("exec", "box", "sh", "-c", "exit 5").returncode == 5


def test_exec_detached_runs_on(box):
    box.ok("exec", "-d", "box", "sh", "-c", "sleep 0.3; touch /tmp/done")
    wait_for(lambda: box.run("exec", "box", "test", "-e", "/tmp/done").returncode == 0,
             what="detached exec finished")


def test_exec_privileged_has_every_capability(box):
    eff = box.ok("exec", "--privileged", "box", "grep", "CapEff", "/proc/self/status").split()[1]
    mine = [line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")][0]
    assert eff == mine
    assert box.ok("exec", "box", "grep", "CapEff", "/proc/self/status").split()[1] == \
        "00000000a80425fb"


def test_exec_refusals_are_one_line(engine):
    engine.ok("create", "--name", "idle", "bb", "true")
    assert engine.fail("exec", "idle", "true", status=126).endswith("is not running")
    assert engine.fail("exec", "nosuch", "true", status=126) == "cell: No such container: nosuch"
    engine.ok("run", "-d", "--name", "up", "bb", "sleep", "30")
    line = engine.fail("exec", "up", "nosuchcmd", status=126)
    assert "nosuchcmd" in line

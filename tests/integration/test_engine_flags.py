"""`cell run`'s flags, each observed inside the container or on the host."""
import os

import pytest

from cgroup_helpers import V2, cgroup_file
from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import read_file

pytestmark = pytest.mark.cell_only


def test_user_flag_gives_uid_and_gid(engine):
    assert engine.ok("run", "--rm", "--user", "1000:1000", "bb", "id") == \
        "uid=1000(user) gid=1000(user) groups=1000(user)\n"
    assert engine.ok("run", "--rm", "-u", "nobody", "bb", "id", "-u") == "65534\n"
    assert "unable to find user bob" in engine.fail("run", "-u", "bob", "bb", "true", status=125)
    assert engine.ids() == []


def test_env_entrypoint_workdir_hostname(engine, test_dir):
    envf = os.path.join(test_dir, "env")
    with open(envf, "w") as f:
        f.write("# comment\nA=from-file\nB=b\n")
    out = engine.ok("run", "--rm", "--env-file", envf, "-e", "A=flag", "-w", "/etc",
                    "-h", "myhost", "--entrypoint", "sh", "bb", "-c",
                    "echo $A $B; pwd; hostname; cat /etc/hostname")
    assert out == "flag b\n/etc\nmyhost\nmyhost\n"


def test_pid_container_shares_the_process_list(engine):
    engine.ok("run", "-d", "--name", "x", "bb", "sleep", "60")
    out = engine.ok("run", "--rm", "--pid", "container:x", "bb", "ps", "-o", "args")
    assert "sleep 60" in out
    pid = engine.inspect("x")["State"]["Pid"]
    out = engine.ok("run", "--rm", "--pid", "container:x", "bb", "readlink", "/proc/self/ns/pid")
    assert out.strip() == os.readlink(f"/proc/{pid}/ns/pid")


def test_host_namespaces(engine):
    assert engine.ok("run", "--rm", "--uts", "host", "bb", "hostname").strip() == \
        os.uname().nodename
    out = engine.ok("run", "--rm", "--network", "host", "bb", "readlink", "/proc/self/ns/net")
    assert out.strip() == os.readlink("/proc/self/ns/net")


def test_volume_and_read_only(engine, test_dir):
    data = os.path.join(test_dir, "data")
    os.mkdir(data)
    with open(os.path.join(data, "f"), "w") as f:
        f.write("hi\n")
    assert engine.ok("run", "--rm", "-v", f"{data}:/data", "bb", "sh", "-c",
                     "cat /data/f; echo new > /data/g") == "hi\n"
    assert read_file(os.path.join(data, "g")) == "new\n"
    p = engine.run("run", "--rm", "-v", f"{data}:/data:ro", "bb", "touch", "/data/h")
    assert p.returncode != 0 and b"Read-only file system" in p.stderr
    p = engine.run("run", "--rm", "--read-only", "bb", "touch", "/x")
    assert p.returncode != 0 and b"Read-only file system" in p.stderr
    out = engine.ok("run", "--rm", "--read-only", "--tmpfs", "/run:size=1m", "bb", "sh", "-c",
                    "touch /run/ok && df -k /run | tail -1")
    assert out.split()[1] == "1024"


def test_ulimit_sysctl_shm_init(engine):
    assert engine.ok("run", "--rm", "--ulimit", "nofile=512:1024", "bb", "sh", "-c",
                     "ulimit -n; ulimit -Hn") == "512\n1024\n"
    assert engine.ok("run", "--rm", "--sysctl", "kernel.shmmax=1000000", "bb",
                     "cat", "/proc/sys/kernel/shmmax") == "1000000\n"
    out = engine.ok("run", "--rm", "--shm-size", "32m", "bb", "df", "-k", "/dev/shm")
    assert out.splitlines()[-1].split()[1] == "32768"
    out = engine.ok("run", "--rm", "--init", "bb", "ps", "-o", "pid,args")
    assert out.splitlines()[1].split()[1:3] == ["/sbin/docker-init", "--"]


def test_add_host_and_dns(engine):
    out = engine.ok("run", "--rm", "--add-host", "db:10.0.0.5", "--dns", "192.0.2.53",
                    "--dns-search", "example.org", "bb", "sh", "-c",
                    "grep db /etc/hosts; cat /etc/resolv.conf")
    assert out == "10.0.0.5\tdb\nnameserver 192.0.2.53\nsearch example.org\n"


def test_pids_limit_and_memory_swap(engine):
    cid = engine.ok("run", "-d", "--pids-limit", "20", "-m", "64m", "bb", "sleep", "30").strip()
    assert read_file(cgroup_file(f"/cell/{cid}", "pids.max")).strip() == "20"
    assert read_file(cgroup_file(f"/cell/{cid}", "memory.limit")).strip() == "67108864"


def test_privileged_and_capabilities(engine):
    assert engine.ok("run", "--rm", "--cap-drop", "ALL", "bb", "grep", "CapEff",
                     "/proc/self/status").split()[1] == "0000000000000000"
    out = engine.ok("run", "--rm", "--cap-add", "SYS_ADMIN", "bb", "grep", "CapEff",
                    "/proc/self/status").split()[1]
    assert int(out, 16) & (1 << 21)
    out = engine.ok("run", "--rm", "--privileged", "bb", "grep", "Seccomp:", "/proc/self/status")
    assert out.split()[1] == "0"
    p = engine.run("run", "--rm", "bb", "unshare", "-r", "true")
    assert p.returncode != 0, "the default seccomp profile lets unshare(CLONE_NEWUSER) through"
    assert engine.run("run", "--rm", "--security-opt", "seccomp=unconfined", "bb",
                      "unshare", "-r", "true").returncode == 0

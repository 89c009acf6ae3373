"""The container log as `cell logs` shows it, and what the foreground
`cell run` passes on: signals, and a CPU share observed from the host."""
import json
import os
import signal
import subprocess
import time

import pytest

from cgroup_helpers import V2, cgroup_dir
from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import read_file, wait_for

pytestmark = pytest.mark.cell_only


def test_logs_tail_timestamps_and_follow(engine):
    engine.ok("run", "-d", "--name", "l", "bb", "sh", "-c",
              "for i in 1 2 3 4 5; do echo line$i; done; sleep 1; echo late; sleep 30")
    wait_for(lambda: "line5" in engine.ok("logs", "l"), what="five lines")
    assert engine.ok("logs", "--tail", "2", "l") == "line4\nline5\n"
    stamped = engine.ok("logs", "-t", "--tail", "1", "l")
    stamp, text = stamped.split(" ", 1)
    assert text == "line5\n" and stamp.endswith("Z") and len(stamp) == 30
    f = subprocess.Popen([engine.path, "--root", engine.root, "logs", "-f", "--tail", "0", "l"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = f.stdout.readline()
        assert line == b"late\n"
    finally:
        f.kill()
        f.wait()


def test_logs_follow_ends_when_the_container_does(engine):
    engine.ok("run", "-d", "--name", "short", "bb", "sh", "-c", "echo a; sleep 0.5; echo b")
    p = engine.run("logs", "-f", "short", timeout=20)
    assert p.stdout == b"a\nb\n"


def test_log_opts_rotate_the_json_file(engine):
    cid = engine.ok("run", "-d", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", "bb",
                    "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done").strip()
    engine.ok("wait", cid)
    d = os.path.join(engine.root, "containers", cid)
    logs = sorted(f for f in os.listdir(d) if f.startswith("container.log"))
    assert logs == ["container.log", "container.log.1"], logs
    for name in logs:
        assert os.path.getsize(os.path.join(d, name)) <= 2000 + 200
        with open(os.path.join(d, name)) as fh:
            first = json.loads(fh.readline())
        assert set(first) == {"log", "stream", "time"} and first["stream"] == "stdout"
    out = engine.ok("logs", cid).splitlines()
    assert out[-1] == "line-299" and len(out) < 300
    bad = engine.fail("run", "--log-opt", "max-size=12q", "bb", "true", status=125)
    assert "max-size" in bad


def test_foreground_run_passes_signals_on(engine):
    p = subprocess.Popen([engine.path, "--root", engine.root, "run", "--name", "sig", "bb", "sh",
                          "-c", 'trap "echo got-term; exit 9" TERM; echo ready; '
                          'while :; do sleep 0.1; done'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=20)
    assert (p.returncode, out) == (9, b"got-term\n")


def test_cpus_tenth_holds_a_busy_loop_near_ten_percent(engine):
    cid = engine.ok("run", "-d", "--cpus", "0.1", "bb", "sh", "-c", "while :; do :; done").strip()
    if V2:
        path = os.path.join(cgroup_dir(f"/cell/{cid}"), "cpu.stat")
    else:  # cpuacct: its own hierarchy, or co-mounted with cpu
        path = next((os.path.join(cgroup_dir(f"/cell/{cid}", c), "cpuacct.usage")
                     for c in ("cpuacct", "cpu,cpuacct", "cpu")
                     if os.path.exists(os.path.join(cgroup_dir(f"/cell/{cid}", c), "cpuacct.usage"))),
                    None)

    def used_ns():
        text = read_file(path)
        if V2:
            return int(dict(line.split() for line in text.splitlines())["usage_usec"]) * 1000
        return int(text)

    assert path, "no cpuacct.usage for the container's cgroup"
    time.sleep(0.5)
    a, t0 = used_ns(), time.monotonic()
    time.sleep(2)
    b, t1 = used_ns(), time.monotonic()
    share = (b - a) / ((t1 - t0) * 1e9)
    assert 0.03 < share < 0.15, share


def test_device_and_pull_never(engine):
    out = engine.ok("run", "--rm", "--device", "/dev/null:/dev/mynull", "bb", "sh", "-c",
                    "echo x > /dev/mynull && ls -l /dev/mynull")
    assert out.startswith("c") and "1," in out and "3" in out
    assert "nosuch" in engine.fail("run", "--pull", "never", "nosuch", "true", status=125)

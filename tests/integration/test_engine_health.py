"""Health checks as Docker runs them: --health-cmd and its companions (or the
image's HEALTHCHECK), run in the container by its monitor on the interval,
with State.Health {Status, FailingStreak, Log} in inspect, the health in
`ps`'s STATUS and health_status events."""
import calendar
import hashlib
import io
import json
import os
import re
import tarfile
import time

import pytest

from engine_fixture import bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import proc_state, stays_false, wait_for

pytestmark = pytest.mark.cell_only

FAST = ["--health-interval", "200ms"]


def seconds(stamp):
    """A record's "2026-12-03T17:28:26.123456789Z" as unix seconds."""
    whole, frac = stamp.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + frac)


def commands(argv):
    """Live pids whose command line is argv."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().split(b"\0")[:-1]
        except OSError:
            continue
        if [w.decode(errors="replace") for w in words] == argv and \
                proc_state(int(pid)) not in (None, "Z", "X"):
            found.append(int(pid))
    return found


def health(engine, name):
    return engine.inspect(name)["State"].get("Health")


def ps_status(engine, name):
    return engine.ok("ps", "-a", "--filter", f"name={name}", "--format", "{{.Status}}").strip()


def wait_health(engine, name, status, timeout=10):
    return wait_for(lambda: (h := health(engine, name)) and h["Status"] == status and h,
                    timeout=timeout, what=f"{name} {status}")


def health_events(engine, name):
    until = f"{time.time() + 0.3:.6f}"
    out = engine.ok("events", "--since", "0", "--until", until, "--format", "json",
                    "--filter", f"container={name}")
    return [e["Action"] for e in map(json.loads, out.splitlines())
            if e["Action"].startswith("health_status")]


def test_starting_then_healthy_then_unhealthy(engine):
    engine.ok("run", "-d", "--name", "c", "--health-cmd", "test -e /tmp/ok", *FAST,
              "--health-retries", "3", "bb", "sleep", "300")
    assert engine.inspect("c")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 200_000_000, "Retries": 3}
    # The first check comes an interval after the start: until then, and
    # until three fail in a row, "starting".
    h = health(engine, "c")
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert ps_status(engine, "c").endswith("(health: starting)")
    assert ps_status(engine, "c").startswith("Up ")

    engine.ok("exec", "c", "touch", "/tmp/ok")
    h = wait_health(engine, "c", "healthy")
    assert (h["FailingStreak"], h["Log"][-1]["ExitCode"], h["Log"][-1]["Output"]) == (0, 0, "")
    assert ps_status(engine, "c").endswith("(healthy)")

    # Healthy stays healthy through failures until three come in a row.
    engine.ok("exec", "c", "rm", "/tmp/ok")
    h = wait_for(lambda: (h := health(engine, "c"))["FailingStreak"] >= 1 and h,
                 what="a failure")
    assert h["Status"] == "healthy" and h["Log"][-1]["ExitCode"] == 1
    h = wait_health(engine, "c", "unhealthy")
    assert h["FailingStreak"] == 3 and [e["ExitCode"] for e in h["Log"][-3:]] == [1, 1, 1]
    assert ps_status(engine, "c").endswith("(unhealthy)")
    wait_for(lambda: health(engine, "c")["FailingStreak"] >= 6, what="more failures")
    h = health(engine, "c")
    assert len(h["Log"]) == 5, "the log keeps the last five"
    for e in h["Log"]:
        assert set(e) == {"Start", "End", "ExitCode", "Output"}
        assert e["Start"] <= e["End"]
    assert health_events(engine, "c") == ["health_status: healthy", "health_status: unhealthy"]

    # A stopped container keeps its last health but ps shows no health.
    engine.ok("stop", "-t", "1", "c")
    assert health(engine, "c")["Status"] == "unhealthy"
    assert re.fullmatch(r"Exited \(\d+\) .* ago", ps_status(engine, "c"))


def test_failures_within_the_start_period_do_not_count(engine, bb_tarball, test_dir):
    image = image_with_healthcheck(engine, bb_tarball, test_dir, {
        "Test": ["CMD", "false"], "Interval": 200_000_000, "StartPeriod": 2_000_000_000,
        "StartInterval": 100_000_000, "Retries": 1})
    engine.ok("run", "-d", "--name", "c", image, "sleep", "300")
    # Checked every StartInterval while starting; failures logged, not counted.
    h = wait_for(lambda: len((h := health(engine, "c"))["Log"]) >= 3 and h, what="3 checks")
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert {e["ExitCode"] for e in h["Log"]} == {1}
    started = seconds(engine.inspect("c")["State"]["StartedAt"])
    h = wait_health(engine, "c", "unhealthy")
    assert h["FailingStreak"] == 1
    # The check that counted began after the start period, the one before within it.
    assert seconds(h["Log"][-1]["Start"]) - started >= 2.0
    assert seconds(h["Log"][-2]["Start"]) - started < 2.0
    assert ps_status(engine, "c").endswith("(unhealthy)")


def test_a_start_sets_starting_again_and_keeps_the_log(engine):
    engine.ok("run", "-d", "--name", "c", "--health-cmd", "true", *FAST, "bb", "sleep", "300")
    wait_health(engine, "c", "healthy")
    engine.ok("stop", "-t", "0", "c")
    n = len(health(engine, "c")["Log"])
    engine.ok("start", "c")
    h = health(engine, "c")
    assert (h["Status"], h["FailingStreak"], len(h["Log"])) == ("starting", 0, n)
    wait_health(engine, "c", "healthy")


def test_output_of_both_streams_cut_at_4096_bytes(engine):
    cmd = 'echo hi; echo err >&2; head -c 5000 /dev/zero | tr "\\0" a; exit 3'
    engine.ok("run", "-d", "--name", "c", "--health-cmd", cmd, *FAST, "bb", "sleep", "300")
    h = wait_for(lambda: (h := health(engine, "c"))["Log"] and h, what="a check")
    e = h["Log"][0]
    assert e["ExitCode"] == 3
    assert e["Output"] == "hi\nerr\n" + "a" * (4096 - 7) + "..."


def test_the_check_runs_as_the_containers_process_does(engine):
    engine.ok("run", "-d", "--name", "c", "-u", "1000", "-w", "/tmp", "-e", "FOO=bar",
              "--health-cmd", 'pwd; id -u; echo "$FOO"', *FAST, "bb", "sleep", "300")
    h = wait_health(engine, "c", "healthy")
    assert h["Log"][0]["Output"] == "/tmp\n1000\nbar\n"


def test_a_check_past_its_timeout_is_killed_and_fails(engine):
    engine.ok("run", "-d", "--name", "c", "--health-cmd", "echo started; exec sleep 31",
              "--health-timeout", "300ms", *FAST, "--health-retries", "1", "bb", "sleep", "300")
    h = wait_health(engine, "c", "unhealthy")
    e = h["Log"][0]
    assert e["ExitCode"] == -1
    assert e["Output"] == "Health check exceeded timeout (300ms): started\n"
    # Killed at the timeout, not left to run its 31 seconds: there is at most
    # the one of the check running now.
    assert engine.inspect("c")["State"]["Running"]
    assert stays_false(lambda: len(commands(["sleep", "31"])) > 1, duration=1.0)


def test_no_healthcheck_turns_off_the_images_check(engine, bb_tarball, test_dir):
    image = image_with_healthcheck(engine, bb_tarball, test_dir, {
        "Test": ["CMD", "true"], "Interval": 200_000_000, "Retries": 4})
    engine.ok("run", "-d", "--name", "img", image, "sleep", "300")
    assert engine.inspect("img")["Config"]["Healthcheck"] == {
        "Test": ["CMD", "true"], "Interval": 200_000_000, "Retries": 4}
    wait_health(engine, "img", "healthy")

    # The flags override the image's field by field.
    engine.ok("run", "-d", "--name", "mix", "--health-cmd", "exit 1", "--health-retries", "1",
              image, "sleep", "300")
    assert engine.inspect("mix")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "exit 1"], "Interval": 200_000_000, "Retries": 1}
    wait_health(engine, "mix", "unhealthy")

    engine.ok("run", "-d", "--name", "off", "--no-healthcheck", image, "sleep", "300")
    ins = engine.inspect("off")
    assert ins["Config"]["Healthcheck"]["Test"] == ["NONE"]
    assert stays_false(lambda: "Health" in engine.inspect("off")["State"], duration=0.8)
    assert ps_status(engine, "off").startswith("Up ") and "(" not in ps_status(engine, "off")


def test_no_check_without_one(engine):
    engine.ok("run", "-d", "--name", "c", *FAST, "bb", "sleep", "300")
    assert engine.inspect("c")["Config"]["Healthcheck"] == {"Interval": 200_000_000}
    assert stays_false(lambda: "Health" in engine.inspect("c")["State"], duration=0.6)
    engine.ok("run", "-d", "--name", "d", "bb", "sleep", "300")
    assert "Healthcheck" not in engine.inspect("d")["Config"]


@pytest.mark.parametrize("args, message", [
    (["--health-interval", "5x"],
     'invalid argument "5x" for "--health-interval" flag: time: invalid duration "5x"'),
    (["--health-retries", "two"],
     'invalid argument "two" for "--health-retries" flag: strconv.ParseInt: parsing "two": '
     'invalid syntax'),
    (["--health-interval", "-1s"], "--health-interval cannot be negative"),
    (["--health-timeout", "-1s"], "--health-timeout cannot be negative"),
    (["--health-retries", "-1"], "--health-retries cannot be negative"),
    (["--health-start-period", "-2m"], "--health-start-period cannot be negative"),
    (["--health-interval", "500us"], "Interval in Healthcheck cannot be less than 1ms"),
    (["--health-timeout", "10ns"], "Timeout in Healthcheck cannot be less than 1ms"),
    (["--health-start-period", "999us"], "StartPeriod in Healthcheck cannot be less than 1ms"),
    (["--no-healthcheck", "--health-cmd", "true"],
     "--no-healthcheck conflicts with --health-* options"),
])
def test_a_bad_health_flag_is_one_line_and_leaves_nothing(engine, args, message):
    line = engine.fail("run", "--name", "x", *args, "bb", "true", status=125)
    assert line == "cell: " + message
    assert engine.ids() == [] and engine.names() == []


def image_with_healthcheck(engine, bb_tarball, test_dir, hc):
    """bb again as a `docker save` archive whose config has this Healthcheck."""
    layer = open(bb_tarball, "rb").read()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"], "Healthcheck": hc},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    files = {"config.json": config, "layer/layer.tar": layer,
             "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": ["hc:latest"],
                                           "Layers": ["layer/layer.tar"]}]).encode()}
    path = f"{test_dir}/hc.tar"
    with tarfile.open(path, "w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    engine.ok("load", "-i", path)
    return "hc"

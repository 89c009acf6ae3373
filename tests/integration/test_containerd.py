"""containerd drives the runtime: a containerd started for this module on
its own socket and directories, a busybox image imported with `ctr images
import`, and `ctr run --runc-binary <cell-runtime>` through containerd's
runc shim (io.containerd.runc.v2), which calls the runtime's create, start,
state, kill, delete, exec, pause and resume, and reads the container's
cgroup itself for `ctr task metrics`. Each scenario runs with cell-runtime
and with crun, and what ctr shows must match. The sandbox is in
clients_fixture.py.
"""

import os
import signal
import subprocess
import time

from cgroup_helpers import V2, cgroup_file, frozen_text, thawed_text
from clients_fixture import (cgroup_subtree, containerd, containerd_env, each,  # noqa: F401
                             same, state_entries)
from helpers import (LOOPBACK_PROBE, LOOPBACK_UP, pid_alive, processes_mentioning, read_file,
                     stays_false, wait_for)

# What `ctr task metrics` calls the memory limit and two usage counters
# (containerd prints its v1 or its v2 metrics, by the host's layout).
METRIC = ({"limit": "memory.usage_limit", "cpu": "cpu.usage_usec", "memory": "memory.usage"}
          if V2 else
          {"limit": "memory.limit_in_bytes", "cpu": "cpuacct.usage",
           "memory": "memory.usage_in_bytes"})

# Reports the signals it gets: USR1 is logged, TERM ends it with status 3.
TRAPPER = ("trap 'echo got USR1' USR1; trap 'echo got TERM; exit 3' TERM; echo started; "
           "while :; do sleep 1000 & p=$!; wait $p; kill $p 2>/dev/null; done")


def cid_for(request, rt):
    """A container id from the test's name (containerd allows single
    separators between alphanumerics only)."""
    words = "".join(c if c.isalnum() else " " for c in request.node.name).split()
    return "-".join(words)[:40].strip("-") + f"-{rt}"


def tasks(ctrd):
    """{task id: status} from `ctr task ls`."""
    lines = ctrd.ok("task", "ls").stdout.splitlines()[1:]
    return {f[0]: f[2] for f in (line.split() for line in lines) if len(f) == 3}


def task_pid(ctrd, cid):
    """The task's init pid (host), from `ctr task ls`."""
    lines = ctrd.ok("task", "ls").stdout.splitlines()[1:]
    return {f[0]: int(f[1]) for f in (line.split() for line in lines) if len(f) == 3}[cid]


class Detached:
    """`ctr run -d` of TRAPPER with its output in a log file; removes the
    task and the container on exit."""

    def __init__(self, ctrd, rt, cid, flags=()):
        self.ctrd, self.cid = ctrd, cid
        self.log = os.path.join(ctrd.dir, f"{cid}.log")
        p = ctrd.run(rt, cid, "sh", "-c", TRAPPER,
                     flags=("-d", "--log-uri", f"file://{self.log}", *flags))
        assert p.returncode == 0, f"ctr run -d ({rt}): {p.stdout}{p.stderr}"

    def output(self):
        return read_file(self.log) if os.path.exists(self.log) else ""

    def wait_output(self, text):
        wait_for(lambda: text in self.output(), 10, what=f"{text!r} from {self.cid}")

    def __enter__(self):
        self.wait_output("started")
        return self

    def __exit__(self, *exc):
        if self.cid in tasks(self.ctrd):
            self.ctrd.ctr("task", "kill", "-s", "SIGKILL", self.cid)
            self.ctrd.ctr("task", "delete", "-f", self.cid)
        self.ctrd.ctr("container", "delete", self.cid)


def test_run_rm_prints_output_and_returns_the_exit_status(containerd, request):
    got = each(lambda rt: containerd.run(rt, cid_for(request, rt), "sh", "-c",
                                         "echo out; echo err >&2; exit 7", flags=("--rm",)))
    r = same({rt: (p.returncode, p.stdout, p.stderr) for rt, p in got.items()}, "ctr run --rm")
    assert r == (7, "out\n", "err\n")
    assert containerd.ok("containers", "ls", "-q").stdout == ""


def test_run_with_a_terminal(containerd, request):
    """ctr run -t: the shim hands the runtime a console socket and copies
    the terminal's output; the exit status comes back."""
    got = each(lambda rt: containerd.run_tty(rt, cid_for(request, rt), "sh", "-c",
                                             "tty; test -t 0 && test -t 2 && echo all-tty; exit 3"))
    r = same({rt: (p.returncode, p.stdout.replace("\r", "")) for rt, p in got.items()},
             "ctr run -t")
    assert r[0] == 3
    assert "/dev/pts/0\n" in r[1] and "all-tty\n" in r[1]


def test_run_process_view(containerd, request):
    """What the process sees of the spec ctr built: user, cwd, env,
    capabilities, seccomp, devices, rlimits, a read-only root; the same as
    under crun."""
    # /dev/core -> /proc/kcore: crun (and cell) make it always, runc only when
    # the host has /proc/kcore; left out so that the view holds under runc too
    script = ("id; pwd; echo $FOO; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; "
              "ls /dev | grep -vx core; ulimit -n; touch /x 2>/dev/null || echo read-only")
    got = each(lambda rt: containerd.run(rt, cid_for(request, rt), "sh", "-c", script,
                                         flags=("--rm", "--env", "FOO=bar", "--cwd", "/tmp",
                                                "--read-only", "--seccomp")))
    r = same({rt: (p.returncode, p.stdout) for rt, p in got.items()}, "the process's view")
    assert r[0] == 0, r[1]
    lines = r[1].splitlines()
    assert lines[:3] == ["uid=0(root) gid=0(root) groups=0(root)", "/tmp", "bar"]
    assert "NoNewPrivs:\t1" in lines and "Seccomp:\t2" in lines
    assert lines[-2:] == ["1024", "read-only"]


def test_task_exec_output_and_exit_status(containerd, request):
    def run(rt):
        with Detached(containerd, rt, cid_for(request, rt)) as c:
            steps = [containerd.exec(c.cid, "e1", "sh", "-c",
                                     "echo in exec; cat /proc/1/cmdline | head -c 2; exit 4"),
                     containerd.exec(c.cid, "e2", "sh", "-c", "id -u; pwd",
                                     flags=("--user", "1000", "--cwd", "/tmp")),
                     containerd.exec(c.cid, "e3", "/nonexistent")]
            return [(p.returncode, p.stdout) for p in steps[:2]] + [steps[2].returncode != 0]
    steps = same(each(run), "ctr task exec")
    assert steps == [(4, "in exec\nsh"), (0, "1000\n/tmp\n"), True]


def test_task_exec_with_the_default_seccomp_profile(containerd, request):
    """ctr run --seccomp: containerd's default profile; the exec'd process
    is under it too."""
    def run(rt):
        with Detached(containerd, rt, cid_for(request, rt), flags=("--seccomp",)) as c:
            p = containerd.exec(c.cid, "e1", "sh", "-c", "grep Seccomp: /proc/self/status; exit 2")
            return p.returncode, p.stdout
    assert same(each(run), "exec under seccomp") == (2, "Seccomp:\t2\n")


def test_task_kill_delivers_signals_and_the_exit_status(containerd, request):
    def run(rt):
        with Detached(containerd, rt, cid_for(request, rt)) as c:
            containerd.ok("task", "kill", "-s", "SIGUSR1", c.cid)
            c.wait_output("got USR1")
            containerd.ok("task", "kill", c.cid)  # SIGTERM
            wait_for(lambda: tasks(containerd).get(c.cid) == "STOPPED", 10,
                     what=f"{c.cid} to stop")
            d = containerd.ctr("task", "delete", c.cid)
            return c.output(), d.returncode, "exit code 3" in d.stderr
    assert same(each(run), "ctr task kill") == ("started\ngot USR1\ngot TERM\n", 0, True)


def test_task_pause_and_resume(containerd, request):
    def run(rt):
        cid = cid_for(request, rt)
        with Detached(containerd, rt, cid) as c:
            pid = int(containerd.ok("task", "ls").stdout.split(cid)[1].split()[0])
            freezer = cgroup_file(f"{containerd.cgroup_parent}/{cid}", "freezer")
            containerd.ok("task", "pause", cid)
            paused = tasks(containerd)[cid], read_file(freezer).strip()
            # A signal sent while frozen is handled after the thaw.
            containerd.ok("task", "kill", "-s", "SIGUSR1", cid)
            containerd.ok("task", "resume", cid)
            c.wait_output("got USR1")
            resumed = tasks(containerd)[cid], read_file(freezer).strip(), pid_alive(pid)
        return paused, resumed
    assert same(each(run), "pause/resume") == (("PAUSED", frozen_text()),
                                               ("RUNNING", thawed_text(), True))


def test_task_metrics_and_ps(containerd, request):
    """The shim reads the container's cgroup for metrics: the limit set (and
    in the cgroup seen from the host), the pids counted; `ctr task ps` lists
    the container's processes."""
    def run(rt):
        cid = cid_for(request, rt)
        with Detached(containerd, rt, cid, flags=("--memory-limit", str(64 << 20))) as c:
            wait_for(lambda: len(containerd.ok("task", "ps", cid).stdout.splitlines()) == 3, 5,
                     what="sh and its sleep")
            out = containerd.ok("task", "metrics", c.cid).stdout
            ps = containerd.ok("task", "ps", c.cid).stdout.splitlines()
            limit = read_file(cgroup_file(f"{containerd.cgroup_parent}/{cid}",
                                          "memory.limit")).strip()
        metrics = dict(line.split(None, 1) for line in out.split("\n\n")[1].splitlines()[1:])
        return ({k: metrics[k].strip() for k in (METRIC["limit"], "pids.current")},
                limit, sorted(metrics), ps[0].split(), len(ps))
    values, limit, names, ps_header, ps_lines = same(each(run), "metrics")
    assert values == {METRIC["limit"]: str(64 << 20), "pids.current": "2"}
    assert limit == str(64 << 20)
    assert METRIC["cpu"] in names and METRIC["memory"] in names
    assert ps_header == ["PID", "INFO"] and ps_lines == 3


def test_pod_member_whose_init_died_is_killed_and_removed(containerd, request):
    """Two tasks sharing one pid namespace, as a Kubernetes pod's: the
    member's init is killed from outside while a process of its own lives
    on. The shim then kills what is left (runtime `kill --all` of a stopped
    container), and `ctr task kill --all` and `ctr task rm` finish within
    seconds, not waiting on stdio the leftover still holds; nothing
    remains. Timeouts turn a hang into a failure."""
    def run(rt):
        cid = cid_for(request, rt)
        infra, member = f"{cid}-infra", f"{cid}-member"
        log = os.path.join(containerd.dir, f"{member}.log")
        try:
            p = containerd.run(rt, infra, "sleep", "1000", flags=("-d",), timeout=30)
            assert p.returncode == 0, f"ctr run {infra}: {p.stdout}{p.stderr}"
            ns = f"pid:/proc/{task_pid(containerd, infra)}/ns/pid"
            p = containerd.run(rt, member, "sh", "-c", "sleep 1001 & echo started; exec sleep 1000",
                               flags=("-d", "--with-ns", ns, "--log-uri", f"file://{log}"),
                               timeout=30)
            assert p.returncode == 0, f"ctr run {member}: {p.stdout}{p.stderr}"
            init = task_pid(containerd, member)
            wait_for(lambda: len(containerd.ok("task", "ps", member).stdout.splitlines()) == 3,
                     10, what=f"{member}'s init and its background sleep")
            leftover = [int(line.split()[0]) for line in
                        containerd.ok("task", "ps", member).stdout.splitlines()[1:]
                        if int(line.split()[0]) != init][0]
            os.kill(init, signal.SIGKILL)
            wait_for(lambda: tasks(containerd).get(member) == "STOPPED", 10,
                     what=f"{member} to stop")
            start = time.monotonic()
            kill = containerd.ctr("task", "kill", "--all", "-s", "SIGKILL", member, timeout=20)
            rm = containerd.ctr("task", "rm", member, timeout=20)
            took = time.monotonic() - start
            gone = not stays_false(lambda: not pid_alive(leftover), 5)
            left = (sorted(d for d in cgroup_subtree(containerd.cgroup_parent) if member in d),
                    [e for e in state_entries(os.path.join(containerd.state_root(rt),
                                                           containerd.namespace))
                     if e == member],
                    processes_mentioning(member), member in tasks(containerd))
            return (kill.returncode, kill.stderr, rm.returncode, took < 10, gone, left,
                    tasks(containerd).get(infra))
        except subprocess.TimeoutExpired as e:
            return f"timed out: {e.cmd}"
        finally:
            for t in (member, infra):
                if t in tasks(containerd):
                    containerd.ctr("task", "kill", "--all", "-s", "SIGKILL", t, timeout=20)
                    containerd.ctr("task", "rm", "-f", t, timeout=20)
                containerd.ctr("container", "rm", t, timeout=20)
    r = same(each(run), "a stopped pod member")
    assert r == (0, "", 0, True, True, ([], [], [], False), "RUNNING")


def test_loopback_is_up_under_the_default_seccomp_profile(containerd, request):
    """ctr run --seccomp: a network namespace of its own and containerd's
    default profile; lo is up and 127.0.0.1 answers, as with crun."""
    got = each(lambda rt: containerd.run(rt, cid_for(request, rt), "sh", "-c",
                                         LOOPBACK_PROBE + "; grep Seccomp: /proc/self/status",
                                         flags=("--rm", "--seccomp")))
    r = same({rt: (p.returncode, p.stdout.split()) for rt, p in got.items()}, "loopback")
    assert r == (0, LOOPBACK_UP + ["Seccomp:", "2"])

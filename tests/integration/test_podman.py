"""podman drives the runtime: `podman --runtime <cell-runtime> ...` against a
busybox image made here with `podman import`, each command compared with
the same command run with `--runtime crun`.

podman goes through conmon, which calls the runtime's create, start, state,
kill, delete, exec (with --console-socket for -t), pause, resume and update, and
reads what the runtime leaves in the bundle and the state; so each test is
what a podman user sees: the output, the exit status, `podman inspect`.
The sandbox (its own storage, configuration, state roots, no network) is
in clients_fixture.py.
"""

import os

import pytest

from cgroup_helpers import (cgroup_dir, cgroup_file, frozen_text, inside_path, shares_text,
                            thawed_text)
from clients_fixture import IMAGE, each, podman, podman_env, same  # noqa: F401 (fixtures)
from helpers import LOOPBACK_PROBE, LOOPBACK_UP, pid_alive, read_file, wait_for

# A process that reports the signals it gets: USR1 is logged, TERM ends it
# with status 3. `wait` is interrupted by a trapped signal, `sleep` is not.
TRAPPER = ("trap 'echo got USR1' USR1; trap 'echo got TERM; exit 3' TERM; echo started; "
           "while :; do sleep 1000 & p=$!; wait $p; kill $p 2>/dev/null; done")


def name_for(request, rt):
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return f"{base}-{rt}"


def container_cgroup(podman, cid):
    """The cgroup podman's cgroupfs manager asks for: libpod-ID under the
    parent, on either layout."""
    return f"{podman.cgroup_parent}/libpod-{cid}"


def test_run_prints_output_and_returns_the_exit_status(podman):
    got = each(lambda rt: podman.run(rt, "--rm", IMAGE, "sh", "-c",
                                     "echo out; echo err >&2; exit 7"))
    r = same({rt: (p.returncode, p.stdout, p.stderr) for rt, p in got.items()}, "run")
    assert r == (7, "out\n", "err\n")


def test_run_process_sees_what_crun_gives_it(podman):
    """User, directory, environment, capabilities, rlimits, hostname, the
    devices, seccomp, read-only paths: what podman asked for, as crun gives
    it."""
    # /dev/core -> /proc/kcore: crun (and cell) make it always, runc only when
    # the host has /proc/kcore; left out so that the view holds under runc too
    script = ("id; pwd; echo $FOO; hostname; ulimit -n; ulimit -u; "
              "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /dev | grep -vx core; "
              "cat /proc/self/cgroup | cut -d: -f2 | sort; "
              "grep -c '^proc /proc/sys proc ro,' /proc/mounts; wc -c < /proc/timer_list")
    got = each(lambda rt: podman.run(rt, "--rm", "--hostname", "box", "-u", "1000:1000",
                                     "-w", "/tmp", "-e", "FOO=bar", IMAGE, "sh", "-c", script))
    r = same({rt: (p.returncode, p.stdout) for rt, p in got.items()}, "the process's view")
    assert r[0] == 0, r[1]
    lines = r[1].splitlines()
    assert lines[0] == "uid=1000(user) gid=1000(user) groups=1000(user)"
    assert lines[1:6] == ["/tmp", "bar", "box", "1024", "1024"]
    assert "Seccomp:\t2" in lines
    assert lines[-2:] == ["1", "0"]  # /proc/sys read-only, /proc/timer_list masked


def test_run_missing_or_not_executable_command_exit_codes(podman):
    """podman maps a failing exec to 127 (not found) and 126 (cannot run)."""
    for cmd, code in (("/nonexistent", 127), ("/etc/passwd", 126)):
        got = each(lambda rt: podman.run(rt, "--rm", IMAGE, cmd).returncode)
        assert same(got, f"run {cmd}") == code


def test_run_with_a_terminal(podman):
    """-t without -i: the process's stdio is a terminal; podman copies the
    output and the exit status."""
    got = each(lambda rt: podman.run(rt, "--rm", "-t", IMAGE, "sh", "-c",
                                     "test -t 1 && echo out-is-tty; test -t 2 && echo err-too; "
                                     "test -t 0 && echo in-too; tty; exit 5"))
    r = same({rt: (p.returncode, p.stdout.replace("\r\n", "\n")) for rt, p in got.items()},
             "run -t")
    assert r == (5, "out-is-tty\nerr-too\nin-too\n/dev/pts/0\n")


def test_memory_and_pids_limits(podman):
    """--memory and --pids-limit: the values in the container's cgroup, seen
    from inside and enforced: a fork beyond the pid limit fails."""
    script = (f"cat {inside_path('memory.limit')} {inside_path('pids.max')}; "
              # A fork fails at the limit and ends the subshell (status 2).
              "(for i in $(seq 10); do sleep 5 & done) 2>/dev/null || echo fork-failed; "
              f"test $(cat {inside_path('pids.current')}) -le 5 && echo within")
    got = each(lambda rt: podman.run(rt, "--rm", "--memory", "32m", "--pids-limit", "5",
                                     IMAGE, "sh", "-c", script))
    r = same({rt: (p.returncode, p.stdout) for rt, p in got.items()}, "limits")
    assert r == (0, f"{32 << 20}\n5\nfork-failed\nwithin\n")


def test_memory_limit_kills_and_inspect_says_oom(podman, request):
    """A process over --memory is killed: exit status 137. (podman 4.3 with
    conmon on cgroup v1 reports OOMKilled false with crun too; it must only
    agree.)"""
    def run(rt):
        name = name_for(request, rt)
        p = podman.run(rt, "--name", name, "--memory", "16m", "--memory-swap", "16m", IMAGE,
                       "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
        state = podman.inspect(rt, name, "{{.State.ExitCode}} {{.State.OOMKilled}}")
        podman.ok(rt, "rm", name)
        return p.returncode, state
    r = same(each(run), "OOM")
    assert r[0] == 137 and r[1].startswith("137 ")


def wait_logged(podman, rt, name, text, count=1, timeout=10):
    """Waits until the container has written text (count times), reading
    conmon's log file rather than polling `podman logs`, which is slow on a
    busy machine; tests still assert on `podman logs`."""
    path = podman.inspect(rt, name, "{{.HostConfig.LogConfig.Path}}")
    wait_for(lambda: os.path.exists(path) and read_file(path).count(text) >= count, timeout,
             what=f"{text!r} from {name}")


def start_trapper(podman, rt, name, *flags):
    podman.ok(rt, "run", "-d", "--name", name, "--cgroup-parent", podman.cgroup_parent,
              *flags, IMAGE, "sh", "-c", TRAPPER)
    wait_logged(podman, rt, name, "started")
    return podman.inspect(rt, name, "{{.Id}}")


def test_detached_container_ps_inspect_top_logs(podman, request):
    def run(rt):
        name = name_for(request, rt)
        cid = start_trapper(podman, rt, name)
        try:
            ps = podman.ok(rt, "ps", "--filter", f"name={name}",
                           "--format", "{{.Names}} {{.Status}}").stdout
            status, pid = podman.inspect(rt, name, "{{.State.Status}} {{.State.Pid}}").split()
            # The pid podman reports is the container's init on the host,
            # in the cgroup podman asked for.
            assert pid_alive(int(pid))
            assert f"libpod-{cid}" in read_file(f"/proc/{pid}/cgroup")
            wait_for(lambda: "sleep" in podman(rt, "top", name, "pid", "args").stdout, 5,
                     what="the sleep in top")
            top = podman.ok(rt, "top", name, "user", "pid", "args").stdout
            logs = podman.ok(rt, "logs", name).stdout
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
        return ps.replace(name, "<name>").split()[:2], status, top.splitlines()[:2], logs
    ps, status, top, logs = same(each(run), "ps/inspect/top/logs")
    assert ps == ["<name>", "Up"]
    assert status == "running"
    assert top[0].split() == ["USER", "PID", "COMMAND"]
    assert top[1].split()[:4] == ["root", "1", "sh", "-c"]
    assert logs == "started\n"


def test_exec_output_exit_status_user_env_and_terminal(podman, request):
    def run(rt):
        name = name_for(request, rt)
        cid = start_trapper(podman, rt, name)
        try:
            steps = [podman(rt, "exec", name, "sh", "-c", "echo in $(hostname -s); exit 4"),
                     podman(rt, "exec", "-u", "1000", "-w", "/tmp", "-e", "FOO=bar", name,
                            "sh", "-c", "id -u; pwd; echo $FOO; cat /proc/1/cmdline | head -c 2"),
                     podman(rt, "exec", "-t", name, "sh", "-c", "test -t 0 && echo tty"),
                     podman(rt, "exec", "-i", name, "sh", "-c", "cat; echo read",
                            input="from stdin\n"),
                     podman(rt, "exec", name, "/nonexistent")]
            return [(p.returncode, p.stdout.replace(cid[:12], "<id>")) for p in steps]
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
    steps = same(each(run), "exec")
    assert steps[0] == (4, "in <id>\n")
    assert steps[1] == (0, "1000\n/tmp\nbar\nsh")
    assert (steps[2][0], steps[2][1].replace("\r", "")) == (0, "tty\n")
    assert steps[3] == (0, "from stdin\nread\n")
    assert steps[4][0] == 127


def test_pause_and_unpause(podman, request):
    def run(rt):
        name = name_for(request, rt)
        cid = start_trapper(podman, rt, name)
        freezer = cgroup_file(container_cgroup(podman, cid), "freezer")
        try:
            podman.ok(rt, "pause", name)
            paused = (podman.inspect(rt, name, "{{.State.Status}}"), read_file(freezer).strip(),
                      podman(rt, "ps", "-a", "--format", "{{.Status}}", "--filter",
                             f"name={name}").stdout.split()[0])
            # A signal to a paused container waits for the thaw.
            podman.ok(rt, "kill", "-s", "USR1", name)
            podman.ok(rt, "unpause", name)
            wait_logged(podman, rt, name, "got USR1")
            thawed = (podman.inspect(rt, name, "{{.State.Status}}"), read_file(freezer).strip(),
                      podman(rt, "exec", name, "echo", "alive").stdout)
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
        return paused, thawed
    paused, thawed = same(each(run), "pause/unpause")
    assert paused == ("paused", frozen_text(), "Paused")
    assert thawed == ("running", thawed_text(), "alive\n")


def test_kill_and_stop(podman, request):
    """kill delivers the signal to the container's process; stop sends
    SIGTERM, and the process's own exit status is what inspect reports."""
    def run(rt):
        name = name_for(request, rt)
        start_trapper(podman, rt, name)
        try:
            podman.ok(rt, "kill", "-s", "USR1", name)
            wait_logged(podman, rt, name, "got USR1")
            stop = podman(rt, "stop", "-t", "10", name)
            state = podman.inspect(rt, name, "{{.State.Status}} {{.State.ExitCode}}")
            logs = podman.ok(rt, "logs", name).stdout
            start = podman(rt, "start", name)
            wait_logged(podman, rt, name, "started", count=2)
            kill = podman(rt, "kill", name)
            podman.ok(rt, "wait", name)
            killed = podman.inspect(rt, name, "{{.State.Status}} {{.State.ExitCode}}")
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
        return ((stop.returncode, stop.stdout.replace(name, "<name>")), state, logs,
                start.returncode, (kill.returncode, kill.stdout.replace(name, "<name>")), killed)
    stop, state, logs, start, kill, killed = same(each(run), "kill/stop")
    assert stop == (0, "<name>\n")
    assert state == "exited 3"
    assert logs == "started\ngot USR1\ngot TERM\n"
    assert start == 0 and kill == (0, "<name>\n")
    assert killed == "exited 137"


def test_rm_force_of_a_running_container_leaves_nothing(podman, request):
    """rm -f: the runtime's delete --force; the container's processes,
    cgroup and state are gone (the fixture's leak check looks too)."""
    def run(rt):
        name = name_for(request, rt)
        cid = start_trapper(podman, rt, name)
        pid = int(podman.inspect(rt, name, "{{.State.Pid}}"))
        podman.ok(rt, "rm", "-f", "-t", "0", name)
        wait_for(lambda: not pid_alive(pid), 5, what="the container's init to die")
        return (os.path.exists(cgroup_dir(container_cgroup(podman, cid), "pids")),
                podman.containers_in(rt))
    assert same(each(run), "rm -f") == (False, [])


def test_update_changes_the_limits_of_a_running_container(podman, request):
    """podman update: the runtime's update; the new limits are in the
    container's cgroup, seen from the host."""
    def run(rt):
        name = name_for(request, rt)
        cid = start_trapper(podman, rt, name, "--memory", "64m", "--cpu-shares", "256")
        files = [cgroup_file(container_cgroup(podman, cid), w) for w in ("memory.limit",
                                                                         "cpu.shares")]
        try:
            before = [read_file(f).strip() for f in files]
            p = podman(rt, "update", "--memory", "128m", "--cpu-shares", "512", name)
            after = [read_file(f).strip() for f in files]
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
        return p.returncode, before, after
    rc, before, after = same(each(run), "update")
    assert rc == 0
    assert before == [str(64 << 20), shares_text(256)]
    assert after == [str(128 << 20), shares_text(512)]


def test_create_init_start_attach(podman, request):
    """podman create + init (the runtime's create) + start -a (its start):
    the container waits in `created` until started."""
    def run(rt):
        name = name_for(request, rt)
        try:
            podman.ok(rt, "create", "--cgroup-parent", podman.cgroup_parent, "--name", name,
                      IMAGE, "sh", "-c", "echo started; exit 6")
            podman.ok(rt, "init", name)
            status = podman.inspect(rt, name, "{{.State.Status}}")
            logs = podman.ok(rt, "logs", name).stdout
            p = podman(rt, "start", "-a", name)
            after = podman.inspect(rt, name, "{{.State.Status}} {{.State.ExitCode}}")
        finally:
            podman(rt, "rm", "-f", "-t", "0", name)
        return status, logs, p.returncode, p.stdout, after
    assert same(each(run), "create/init/start") == ("initialized", "", 6, "started\n", "exited 6")


# podman run options and a script showing their effect inside, a few per
# run; {vol} is a host directory holding a file "f".
OPTIONS = {
    "storage": (["-v", "{vol}:/data", "-v", "{vol}:/ro:ro", "--read-only",
                 "--tmpfs", "/scratch:size=1m,mode=700"],
                "cat /data/f; echo x > /data/g && cat /data/g; echo x > /ro/g; touch /x; "
                "touch /tmp/x && echo tmp-writable; stat -c %a /scratch; "
                "df -k /scratch | tail -1 | awk '{print $2}'"),
    "process": (["--cap-add", "SYS_ADMIN", "--cap-drop", "CHOWN", "--sysctl",
                 "net.ipv4.ip_forward=1", "--device", "/dev/fuse", "--shm-size", "1m",
                 "--ulimit", "nofile=512:512", "--ulimit", "nproc=512:512",
                 "--oom-score-adj", "100", "--cpus", "0.5", "--cpu-shares", "512",
                 "--cpuset-cpus", "0"],
                "grep Cap /proc/self/status; cat /proc/sys/net/ipv4/ip_forward; "
                "ls -l /dev/fuse | awk '{print $1, $5, $6}'; "
                "df -k /dev/shm | tail -1 | awk '{print $2}'; ulimit -n; ulimit -u; "
                "cat /proc/self/oom_score_adj; "
                f"cat {inside_path('cpu.quota')} {inside_path('cpu.shares')} "
                f"{inside_path('cpuset.cpus')}"),
    # /dev/core -> /proc/kcore: crun (and cell) make it always, runc only when
    # the host has /proc/kcore; left out so that the view holds under runc too
    "privileged": (["--privileged"],
                   "grep -E 'Cap|Seccomp:' /proc/self/status; ls /dev | grep -vx core | wc -l"),
    "cap-drop-all-uidmap": (["--cap-drop", "all", "--uidmap", "0:100000:65536", "--gidmap",
                             "0:100000:65536"],
                            "id; grep Cap /proc/self/status; cat /proc/self/uid_map; "
                            "touch /tmp/x && ls -n /tmp/x | awk '{print $3}'"),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_run_options_as_crun(podman, hostdir, option):
    """Common `podman run` options: the process sees their effect as under
    crun (output, errors and exit status; the scripts end in a command that
    succeeds, so podman must have run them)."""
    vol = hostdir("vol")
    with open(os.path.join(vol, "f"), "w") as f:
        f.write("from the host\n")
    flags, script = OPTIONS[option]
    flags = [a.format(vol=vol) for a in flags]
    def run(rt):
        return podman.run(rt, "--rm", *flags, IMAGE, "sh", "-c", script)
    if "--uidmap" in flags:
        # One after the other: with an id map podman makes a mapped copy of
        # the image's layer, and two parallel runs of one image raced on it
        # (EACCES on the rootfs bind, for either runtime, in 3 runs of 6;
        # each alone passed every time).
        got = {rt: run(rt) for rt in ("crun", "cell")}
    else:
        got = each(run)
    r = same({rt: (p.returncode, p.stdout, p.stderr) for rt, p in got.items()}, option)
    assert r[0] == 0 and r[1], f"{option}: {r}"


def test_loopback_is_up_under_the_default_seccomp_profile(podman):
    """The container that comes out of podman (a network namespace of its
    own, podman's default seccomp profile): lo is up and 127.0.0.1 answers,
    as with crun."""
    got = each(lambda rt: podman.run(rt, "--rm", IMAGE, "sh", "-c",
                                     LOOPBACK_PROBE + "; grep Seccomp: /proc/self/status"))
    r = same({rt: (p.returncode, p.stdout.split()) for rt, p in got.items()}, "loopback")
    assert r == (0, LOOPBACK_UP + ["Seccomp:", "2"])

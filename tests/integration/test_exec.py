"""exec: a new process in a running container (runc's `exec`). It joins
every namespace and the cgroup of the container's init, runs as the
process settings say (config.json's process with the flags, or --process),
and its exit status is exec's."""

import json
import os
import threading

import pytest

from cgroup_helpers import V2, cgroup_hierarchy_dirs, is_frozen, set_frozen
from helpers import (cgroup_hierarchies, pid_alive, read_file, reap, runtime_name,
                     stays_false, wait_for)
from helpers import kill_and_delete as cleanup

NAMESPACES = ("pid", "mnt", "net", "ipc", "uts", "cgroup")
USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def running(rt, bundle, *args):
    """A running container whose init sleeps; returns (bundle, init pid)."""
    b = bundle(*(args or ("sleep", "600")))
    return b, rt.create_running(b)


def exec_ok(rt, cid, *args, **kw):
    p = rt("exec", cid, *args, **kw)
    assert p.returncode == 0, f"exec exited {p.returncode}\nstderr: {p.stderr}"
    return p.stdout


def exec_detached(rt, cid, test_dir, *args):
    """exec -d with a pid file; returns the host pid of the new process."""
    pid_file = os.path.join(test_dir, f"exec-{len(os.listdir(test_dir))}.pid")
    rt.ok("exec", "-d", "--pid-file", pid_file, cid, *args)
    return int(read_file(pid_file).strip())


def test_exec_runs_in_every_namespace_of_the_init(rt, bundle, test_dir):
    b, init = running(rt, bundle)
    pid = exec_detached(rt, b.cid, test_dir, "sleep", "300")
    try:
        for ns in NAMESPACES:
            assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}"), ns
            assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
    finally:
        cleanup(rt, b.cid)
    assert not pid_alive(pid)


def test_exec_runs_in_the_cgroup_of_the_container(rt, bundle, test_dir):
    b, init = running(rt, bundle)
    pid = exec_detached(rt, b.cid, test_dir, "sleep", "300")
    try:
        assert read_file(f"/proc/{pid}/cgroup") == read_file(f"/proc/{init}/cgroup")
        for d in cgroup_hierarchy_dirs(b.cgroups_path):
            assert str(pid) in read_file(os.path.join(d, "cgroup.procs")).split(), d
    finally:
        cleanup(rt, b.cid)


def test_exec_sees_the_container_from_inside(rt, bundle):
    """PID 1 is the init, the hostname is the container's, / is its rootfs."""
    b, _ = running(rt, bundle)
    try:
        out = exec_ok(rt, b.cid, "sh", "-c",
                      "tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; "
                      "ls /proc | grep -c '^[0-9]'; test -x /bin/busybox && echo rootfs")
        lines = out.splitlines()
        assert lines[0].strip() == "sleep 600"
        assert lines[1] == "cell"
        # the init, the shell, and the ls/grep it runs: nothing of the host's
        assert int(lines[2]) <= 5
        assert lines[3] == "rootfs"
    finally:
        cleanup(rt, b.cid)


def test_exec_exit_status_is_the_process_exit_status(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        assert rt("exec", b.cid, "sh", "-c", "exit 7").returncode == 7
        assert rt("exec", b.cid, "true").returncode == 0
        assert rt("exec", b.cid, "sh", "-c", "kill -KILL $$").returncode == 137
    finally:
        cleanup(rt, b.cid)


def test_exec_passes_stdout_and_stderr(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", b.cid, "sh", "-c", "echo out; echo err >&2")
        assert (p.returncode, p.stdout) == (0, "out\n")
        assert "err\n" in p.stderr
    finally:
        cleanup(rt, b.cid)


def test_exec_arguments_after_the_id_belong_to_the_command(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        assert exec_ok(rt, b.cid, "echo", "-n", "--cwd", "x") == "--cwd x"
    finally:
        cleanup(rt, b.cid)


def test_exec_user_env_and_cwd_flags(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", "--user", "1000:1000", "--env", "FOO=bar baz", "--env", "TERM=dumb",
               "--cwd", "/home/user", b.cid, "sh", "-c", 'id -u; id -g; echo "$FOO|$TERM"; pwd')
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == ["1000", "1000", "bar baz|dumb", "/home/user"]
    finally:
        cleanup(rt, b.cid)


def test_exec_inherits_the_process_settings_of_the_config(rt, bundle):
    """Without flags: config.json's user, env and capabilities (and no more)."""
    b = bundle("sleep", "600")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["env"].append("FROM_CONFIG=yes")
    rt.create_running(b)
    try:
        out = exec_ok(rt, b.cid, "sh", "-c",
                      "id -u; echo $FROM_CONFIG; grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status")
        lines = out.splitlines()
        assert lines[:2] == ["1000", "yes"]
        fields = dict(line.split(":\t") for line in lines[2:])
        # CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE: the default set
        assert int(fields["CapBnd"], 16) == (1 << 5) | (1 << 10) | (1 << 29)
        assert fields["NoNewPrivs"].strip() == "1"
    finally:
        cleanup(rt, b.cid)


def test_exec_cap_adds_a_capability(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", "--cap", "CAP_SYS_ADMIN", b.cid, "grep", "CapEff", "/proc/self/status")
        assert p.returncode == 0, p.stderr
        eff = int(p.stdout.split()[1], 16)
        assert eff & (1 << 21)
        p = rt("exec", b.cid, "grep", "CapEff", "/proc/self/status")
        assert not int(p.stdout.split()[1], 16) & (1 << 21)
    finally:
        cleanup(rt, b.cid)


def test_exec_unknown_cap_is_skipped_with_a_warning(rt, bundle):
    """As in config.json (config.md): warned about, not a failure; the known
    --cap still applies. runc 1.1 does the same."""
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", "--cap", "CAP_BOGUS", "--cap", "CAP_SYS_ADMIN", b.cid,
               "grep", "CapEff", "/proc/self/status")
        assert p.returncode == 0, p.stderr
        assert int(p.stdout.split()[1], 16) & (1 << 21)
        assert "warning" in p.stderr and "CAP_BOGUS" in p.stderr, p.stderr
    finally:
        cleanup(rt, b.cid)


def test_exec_process_file_unknown_cap_is_a_warning(rt, bundle, test_dir):
    b, _ = running(rt, bundle)
    proc = dict(b.process, args=["grep", "CapBnd", "/proc/self/status"])
    proc["capabilities"] = {"bounding": ["CAP_BOGUS", "CAP_KILL"]}
    path = os.path.join(test_dir, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    try:
        p = rt("exec", "--process", path, b.cid)
        assert p.returncode == 0, p.stderr
        assert int(p.stdout.split()[1], 16) == 1 << 5
        assert "warning" in p.stderr and "CAP_BOGUS" in p.stderr, p.stderr
    finally:
        cleanup(rt, b.cid)


def test_exec_keep_original_groups_keeps_the_callers_groups(rt, bundle):
    """run.oci.keep_original_groups holds for exec'd processes too (crun's
    annotation; runc ignores it)."""
    if runtime_name() == "runc":
        pytest.skip("run.oci.keep_original_groups is crun's; runc ignores it")
    b = bundle("sleep", "600")
    b.config["annotations"] = {"run.oci.keep_original_groups": "1"}
    rt.create_running(b)
    old = os.getgroups()
    try:
        os.setgroups([5, 4242])
        p = rt("exec", "--user", "1000:1000", b.cid, "grep", "^Groups:", "/proc/self/status")
        assert p.returncode == 0, p.stderr
        assert sorted(p.stdout.split()[1:], key=int) == ["5", "4242"]
    finally:
        os.setgroups(old)
        cleanup(rt, b.cid)


def test_exec_process_file(rt, bundle, test_dir):
    """--process: a config.md "process" object replaces config.json's."""
    b, _ = running(rt, bundle)
    path = os.path.join(test_dir, "process.json")
    with open(path, "w") as f:
        json.dump({"terminal": False, "user": {"uid": 65534, "gid": 65534},
                   "args": ["sh", "-c", 'id -u; echo "$ONLY"; pwd; exit 3'],
                   "env": ["PATH=/bin", "ONLY=this"], "cwd": "/tmp"}, f)
    try:
        p = rt("exec", "--process", path, b.cid)
        assert p.returncode == 3, p.stderr
        assert p.stdout.splitlines() == ["65534", "this", "/tmp"]
    finally:
        cleanup(rt, b.cid)


def test_exec_detach_returns_while_the_process_runs(rt, bundle, test_dir, hostdir):
    b = bundle("sleep", "600")
    out = hostdir("out")
    b.bind(out, "/out")
    rt.create_running(b)
    try:
        pid = exec_detached(rt, b.cid, test_dir, "sh", "-c", "echo $$ > /out/pid; sleep 300")
        assert pid_alive(pid)
        # the pid file holds the host pid; inside, the process has its own
        pidfile = os.path.join(out, "pid")
        inner = wait_for(lambda: os.path.exists(pidfile) and read_file(pidfile).strip(),
                         what="the process to write its pid")
        assert int(inner) != pid
        assert read_file(f"/proc/{pid}/status").count(inner) >= 1
    finally:
        cleanup(rt, b.cid)
    assert not pid_alive(pid)


def test_exec_preserve_fds_passes_fd_3(rt, bundle, test_dir):
    b, _ = running(rt, bundle)
    path = os.path.join(test_dir, "passed")
    with open(path, "w") as f:
        f.write("through fd 3\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        p = rt("exec", "--preserve-fds", "1", b.cid, "cat", "/proc/self/fd/3", fds={3: fd})
        assert (p.returncode, p.stdout) == (0, "through fd 3\n"), p.stderr
        p = rt("exec", b.cid, "sh", "-c", "test -e /proc/self/fd/3 && echo open || echo closed",
               fds={3: fd})
        assert p.stdout == "closed\n"
    finally:
        os.close(fd)
        cleanup(rt, b.cid)


def test_exec_in_a_user_namespace(rt, bundle):
    b = bundle("sleep", "600")
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = USERNS_MAP
    b.linux["gidMappings"] = USERNS_MAP
    init = rt.create_running(b)
    try:
        out = exec_ok(rt, b.cid, "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user")
        lines = out.splitlines()
        assert lines[0] == "0"
        assert lines[1].split() == ["0", "100000", "65536"]
        assert lines[2] == os.readlink(f"/proc/{init}/ns/user")
    finally:
        cleanup(rt, b.cid)


def test_exec_in_a_stopped_container_fails(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    try:
        p = rt("exec", b.cid, "true")
        assert p.returncode != 0
        assert p.stderr.strip()
    finally:
        cleanup(rt, b.cid)


def test_exec_missing_executable_fails_with_a_message(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", b.cid, "/no/such/program")
        assert p.returncode != 0
        assert "/no/such/program" in p.stderr
    finally:
        cleanup(rt, b.cid)


def test_exec_in_a_paused_container_is_refused(rt, bundle, test_dir):
    """A frozen cgroup would freeze the new process at once: runc refuses
    unless --ignore-paused."""
    b, _ = running(rt, bundle)
    try:
        set_frozen(b.cgroups_path, True)
        wait_for(lambda: is_frozen(b.cgroups_path), what="freeze")
        p = rt("exec", b.cid, "true")
        assert p.returncode != 0
        assert "paused" in p.stderr
        # --ignore-paused goes ahead: the process freezes with the rest and
        # runs once the container is thawed
        done = []
        t = threading.Thread(target=lambda: done.append(
            rt("exec", "--ignore-paused", b.cid, "echo", "ran")))
        t.start()
        assert stays_false(lambda: done, 0.5)
        set_frozen(b.cgroups_path, False)
        t.join(20)
        assert done and (done[0].returncode, done[0].stdout) == (0, "ran\n"), done
    finally:
        set_frozen(b.cgroups_path, False)
        cleanup(rt, b.cid)


@pytest.mark.cell_only
def test_exec_runtime_never_shows_up_inside(rt, bundle):
    """No process in the container is the runtime (CVE-2019-5736 class):
    every /proc/N/exe it can see is busybox."""
    b, _ = running(rt, bundle)
    try:
        out = exec_ok(rt, b.cid, "sh", "-c",
                      "for p in /proc/[0-9]*; do readlink $p/exe; done | sort -u")
        assert out.split() == ["/bin/busybox"]
    finally:
        cleanup(rt, b.cid)


def cgroup_lines(pid):
    """{hierarchy controllers: path} from the host's view of /proc/PID/cgroup."""
    out = {}
    for line in read_file(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        out[ctrls] = path
    return out


def make_sub_cgroups(b, name):
    made = []
    for h in cgroup_hierarchies():
        d = os.path.join(h, b.cgroups_path.lstrip("/"))
        if os.path.isdir(d):
            os.mkdir(os.path.join(d, name))
            made.append(os.path.basename(h))
            # A v1 cpuset starts empty (v2's child has no cpuset files
            # until its parent enables the controller for it).
            for f in ("cpuset.cpus", "cpuset.mems"):
                if os.path.exists(os.path.join(d, name, f)):
                    with open(os.path.join(d, name, f), "w") as out:
                        out.write(read_file(os.path.join(d, f)))
    return made


def test_exec_cgroup_runs_in_a_sub_cgroup(rt, bundle, test_dir):
    b, init = running(rt, bundle)
    try:
        make_sub_cgroups(b, "sub")
        pid_file = os.path.join(test_dir, "sub.pid")
        rt.ok("exec", "-d", "--pid-file", pid_file, "--cgroup", "sub", b.cid, "sleep", "300")
        pid = int(read_file(pid_file))
        theirs, ours = cgroup_lines(init), cgroup_lines(pid)
        joined = [c for c in theirs if theirs[c].endswith(b.cgroups_path)]
        assert joined
        for c in joined:
            assert ours[c] == theirs[c] + "/sub", c
        pid_file = os.path.join(test_dir, "pids.pid")
        p = rt("exec", "-d", "--pid-file", pid_file, "--cgroup", "pids:sub", b.cid,
               "sleep", "300")
        if V2:
            # One hierarchy, no controller of its own: runc refuses a
            # controller there ("unknown controller pids").
            assert p.returncode != 0 and "pids" in p.stderr, p.stderr
            assert not os.path.exists(pid_file)
        else:
            # "controller:path" moves only that controller's hierarchy
            assert p.returncode == 0, p.stderr
            ours = cgroup_lines(int(read_file(pid_file)))
            for c in joined:
                assert ours[c] == theirs[c] + ("/sub" if c == "pids" else ""), c
    finally:
        cleanup(rt, b.cid)


@pytest.mark.parametrize("spec", ["nosuch:sub", "pids,nosuch:sub"])
def test_exec_cgroup_naming_a_controller_the_container_lacks_is_refused(rt, bundle, spec):
    """A sub-cgroup asked for in a hierarchy the container is not in cannot
    be honoured: runc refuses ("unknown controller nosuch"), and the
    process must not run in the container's own cgroup instead."""
    b, _ = running(rt, bundle)
    try:
        make_sub_cgroups(b, "sub")
        p = rt("exec", "--cgroup", spec, b.cid, "echo", "ran")
        assert p.returncode != 0 and "ran" not in p.stdout
        assert "nosuch" in p.stderr, p.stderr
    finally:
        cleanup(rt, b.cid)


def test_exec_cgroup_outside_the_container_is_refused(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", "--cgroup", "../..", b.cid, "true")
        assert p.returncode != 0
    finally:
        cleanup(rt, b.cid)


def test_exec_errors_reach_the_json_log(rt, bundle, test_dir):
    """--log FILE --log-format json: what podman and containerd read back
    from runc: one JSON object per line, the error at level "error"."""
    b, _ = running(rt, bundle)
    log = os.path.join(test_dir, "runtime.log")
    try:
        p = rt("--log", log, "--log-format", "json", "exec", b.cid, "/no/such/program", root=True)
        assert p.returncode != 0
        records = [json.loads(line) for line in read_file(log).splitlines()]
        errors = [r for r in records if r["level"] == "error"]
        assert errors and "/no/such/program" in errors[-1]["msg"]
        assert errors[-1]["time"]
    finally:
        cleanup(rt, b.cid)


def test_exec_additional_gids(rt, bundle):
    b, _ = running(rt, bundle)
    try:
        p = rt("exec", "--user", "1000:1000", "--additional-gids", "5", "--additional-gids",
               "65534", b.cid, "grep", "^Groups:", "/proc/self/status")
        assert p.returncode == 0, p.stderr
        assert sorted(p.stdout.split()[1:], key=int) == ["5", "65534"]
    finally:
        cleanup(rt, b.cid)

"""config.md "POSIX-platform Hooks": the six kinds, run at their points of
the lifecycle and in their namespaces, with the state on stdin, their args,
env and timeout. Every hook appends to one log file, so the order is what
the file says; the container's side reaches the file through a bind mount."""

import json
import os
import time

import pytest

from helpers import ns_id, read_file, reap, wait_for

HOST_KINDS = ("prestart", "createRuntime", "poststart", "poststop")


def hook(script, *args, env=None, timeout=None):
    h = {"path": "/bin/sh", "args": ["sh", "-c", script, "hook"] + list(args)}
    if env is not None:
        h["env"] = env
    if timeout is not None:
        h["timeout"] = timeout
    return h


def recording_hook(kind, log_path, state_dir):
    """Appends its kind and namespaces to the log, and saves its stdin."""
    return hook(f'echo "{kind} $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net)" '
                f'>> {log_path}; cat > {state_dir}/{kind}.json')


def with_all_hooks(bundle, hostdir):
    out = hostdir("out")
    b = bundle("sh", "-c", "echo process >> /out/log")
    b.bind(out, "/out")
    log = os.path.join(out, "log")
    hooks = {k: [recording_hook(k, log, out)] for k in HOST_KINDS}
    # createContainer runs before pivot_root: the host's paths still resolve
    hooks["createContainer"] = [recording_hook("createContainer", log, out)]
    # startContainer runs after it: the path and the files are the container's
    hooks["startContainer"] = [recording_hook("startContainer", "/out/log", "/out")]
    b.config["hooks"] = hooks
    return b, out


def log_lines(out):
    path = os.path.join(out, "log")
    return [line.split() for line in read_file(path).splitlines()] if os.path.exists(path) else []


def kinds(out):
    return [line[0] for line in log_lines(out)]


# runc 1.1 runs poststart during create, with status "created": these two
# check the spec's order and state, which it does not follow.
@pytest.mark.cell_only
def test_hooks_run_in_lifecycle_order(rt, bundle, hostdir):
    b, out = with_all_hooks(bundle, hostdir)
    rt.create(b)
    assert kinds(out) == ["prestart", "createRuntime", "createContainer"]
    rt.start(b.cid)
    wait_for(lambda: "process" in kinds(out), what="the process")
    rt.wait_status(b.cid, "stopped")
    assert kinds(out) == ["prestart", "createRuntime", "createContainer", "startContainer",
                          "process", "poststart"] or kinds(out) == [
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "process"]
    rt.delete(b.cid)
    assert kinds(out)[-1] == "poststop"
    assert len(kinds(out)) == 7


def test_hooks_run_in_their_namespaces(rt, bundle, hostdir):
    """prestart, createRuntime, poststart, poststop: the runtime's
    namespaces; createContainer and startContainer: the container's."""
    b, out = with_all_hooks(bundle, hostdir)
    b.args("sleep", "600")
    pid = rt.create_running(b)
    container = (ns_id(pid, "mnt"), ns_id(pid, "net"))
    host = (ns_id(os.getpid(), "mnt"), ns_id(os.getpid(), "net"))
    rt.kill(b.cid)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    seen = {line[0]: tuple(line[1:]) for line in log_lines(out)}
    assert set(seen) == set(HOST_KINDS) | {"createContainer", "startContainer"}
    for k in HOST_KINDS:
        assert seen[k] == host, k
    for k in ("createContainer", "startContainer"):
        assert seen[k][1] == container[1], k
    # startContainer runs after pivot_root, in the container's mount namespace
    assert seen["startContainer"][0] == container[0]


@pytest.mark.cell_only
def test_hooks_get_the_state_on_stdin(rt, bundle, hostdir):
    b, out = with_all_hooks(bundle, hostdir)
    b.args("sleep", "600")
    b.config["annotations"] = {"org.example.key": "value"}
    pid = rt.create_running(b)
    rt.kill(b.cid)
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    for k in HOST_KINDS + ("createContainer", "startContainer"):
        st = json.loads(read_file(os.path.join(out, k + ".json")))
        assert st["id"] == b.cid, k
        assert st["bundle"] == b.path, k
        assert st["annotations"] == {"org.example.key": "value"}, k
        assert st["ociVersion"], k
    for k in ("prestart", "createRuntime", "poststart"):
        st = json.loads(read_file(os.path.join(out, k + ".json")))
        assert st["pid"] == pid, k
    # in the container's pid namespace, the pid it knows the init by (runc too)
    for k in ("createContainer", "startContainer"):
        assert json.loads(read_file(os.path.join(out, k + ".json")))["pid"] == 1, k
    # runtime.md's lifecycle runs these after step 2, and its State says
    # "created" is "after step 2" (runc 1.1 says "creating" to the first
    # three; crun says "created", and "starting" to startContainer)
    for k in ("prestart", "createRuntime", "createContainer", "startContainer"):
        assert json.loads(read_file(os.path.join(out, k + ".json")))["status"] == "created", k
    assert json.loads(read_file(os.path.join(out, "poststart.json")))["status"] == "running"
    assert json.loads(read_file(os.path.join(out, "poststop.json")))["status"] == "stopped"


def test_hook_args_and_env(rt, bundle, hostdir):
    """args[0] is argv[0]; env is the hook's whole environment."""
    out = hostdir("out")
    b = bundle("true")
    script = f'cat /proc/$$/cmdline > {out}/argv; /usr/bin/env > {out}/env'
    b.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                       "args": ["my-name", "-c", script, "a b", "c"],
                                       "env": ["HOOK_VAR=v=1"]}]}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    argv = read_file(os.path.join(out, "argv")).split("\0")[:-1]
    assert argv == ["my-name", "-c", script, "a b", "c"]
    env = read_file(os.path.join(out, "env")).splitlines()
    assert "HOOK_VAR=v=1" in env
    assert not [e for e in env if e.startswith("PATH=")]  # nothing of the runtime's


def test_failing_prestart_hook_fails_create_and_leaves_nothing(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"prestart": [hook("echo broken >&2; exit 3")],
                         "poststart": [hook(f"touch {out}/poststart")]}
    p = rt("create", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert rt.status(b.cid) is None
    assert not os.path.exists(os.path.join(out, "poststart"))


def test_failing_create_container_hook_fails_create(rt, bundle):
    b = bundle("true")
    b.config["hooks"] = {"createContainer": [hook("exit 1")]}
    assert rt("create", "--bundle", b, b.cid).returncode != 0
    assert rt.status(b.cid) is None


def test_hooks_after_a_failing_one_do_not_run(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"createRuntime": [hook(f"echo 1 >> {out}/log"), hook("exit 2"),
                                           hook(f"echo 3 >> {out}/log")]}
    assert rt.run(b).returncode != 0
    assert read_file(os.path.join(out, "log")) == "1\n"


def test_hook_timeout_kills_it_and_fails_create(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"createRuntime": [hook(f"echo $$ > {out}/pid; exec sleep 30",
                                                timeout=1)]}
    t0 = time.monotonic()
    p = rt("create", "--bundle", b, b.cid)
    took = time.monotonic() - t0
    assert p.returncode != 0
    assert took < 10
    assert rt.status(b.cid) is None
    hook_pid = int(read_file(os.path.join(out, "pid")))
    reap()
    assert not os.path.exists(f"/proc/{hook_pid}") or \
        read_file(f"/proc/{hook_pid}/stat").split(")")[1].split()[0] in ("Z", "X")


def test_failing_poststop_hook_does_not_fail_delete(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"poststop": [hook(f"touch {out}/ran; exit 1")]}
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    p = rt("delete", b.cid)
    assert p.returncode == 0, p.stderr
    assert rt.status(b.cid) is None
    assert os.path.exists(os.path.join(out, "ran"))


# runtime.md step 13. runc 1.1 logs the failure at level "error" and skips
# the remaining hooks; crun runs them and logs nothing.
@pytest.mark.cell_only
def test_failing_poststop_hook_is_a_warning_and_the_rest_run(rt, bundle, hostdir, test_dir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"poststop": [hook(f"echo 1 >> {out}/log"), hook("echo broken; exit 2"),
                                      hook(f"echo 3 >> {out}/log")]}
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    log = os.path.join(test_dir, "runtime.log")
    p = rt("--log", log, "--log-format", "json", "delete", b.cid)
    assert p.returncode == 0, p.stderr
    assert rt.status(b.cid) is None
    assert read_file(os.path.join(out, "log")) == "1\n3\n"
    records = [json.loads(line) for line in read_file(log).splitlines()]
    assert [r["level"] for r in records] == ["warning"], records
    assert "hooks.poststop[1]" in records[0]["msg"] and "broken" in records[0]["msg"]


@pytest.mark.cell_only
def test_run_with_a_failing_poststop_hook_warns_and_runs_the_rest(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("true")
    b.config["hooks"] = {"poststop": [hook("exit 2"), hook(f"touch {out}/ran")]}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(out, "ran"))
    assert p.stderr.startswith("cell-runtime: warning: hooks.poststop[0]"), p.stderr


def test_run_runs_poststop_after_the_process_exits(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("sh", "-c", "echo process >> /out/log")
    b.bind(out, "/out")
    log = os.path.join(out, "log")
    b.config["hooks"] = {"poststart": [hook(f"echo poststart >> {log}")],
                         "poststop": [hook(f"echo poststop >> {log}")]}
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    lines = read_file(log).split()
    assert sorted(lines[:2]) == ["poststart", "process"]
    assert lines[2:] == ["poststop"]


@pytest.mark.cell_only  # runc runs poststart during create
def test_failing_poststart_hook_fails_start_and_stops_the_container(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle("sleep", "600")
    b.config["hooks"] = {"poststart": [hook("exit 5")],
                         "poststop": [hook(f"touch {out}/poststop")]}
    rt.create(b)
    p = rt("start", b.cid)
    assert p.returncode != 0
    wait_for(lambda: (reap(), rt.status(b.cid) == "stopped")[1], what="the container to stop")
    rt.delete(b.cid)
    assert os.path.exists(os.path.join(out, "poststop"))


def test_failing_poststart_hook_fails_run_and_poststop_still_runs(rt, bundle, hostdir):
    """runtime.md step 9: generate an error, stop the container and go on
    at step 12: destroy it, then the poststop hooks (runc does so too)."""
    out = hostdir("out")
    b = bundle("sleep", "600")
    b.config["hooks"] = {"poststart": [hook("exit 5")],
                         "poststop": [hook(f"touch {out}/poststop")]}
    p = rt.run(b)
    assert p.returncode != 0
    assert rt.status(b.cid) is None
    assert os.path.exists(os.path.join(out, "poststop"))

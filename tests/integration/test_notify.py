"""NOTIFY_SOCKET proxying (sd_notify(3)), as runc does it: with NOTIFY_SOCKET
set, the container's process finds a socket at the NOTIFY_SOCKET it is
given, and `start` (or `run -d`) returns once the process said READY=1,
which reaches the caller's socket with MAINPID set to the container's init.

busybox has no sd_notify client; its logger sends a datagram to /dev/log,
so the container points /dev/log at its NOTIFY_SOCKET and logs a message
whose second line is READY=1."""

import os
import socket
import subprocess
import time

import pytest

from helpers import read_file, reap, wait_for

SEND_READY = ('ln -s "$NOTIFY_SOCKET" /dev/log && '
              'logger "$(printf "starting\\nREADY=1")"')


# runc binds <state root>/<id>/notify/notify.sock by its full path, longer
# than sun_path under the test's state root, and fails; cell binds it
# through /proc/self/fd.
runc_binds_long_paths = pytest.mark.cell_only


@pytest.fixture
def host_socket(test_dir):
    path = os.path.join(test_dir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    yield s
    s.close()


def rt_env(rt, env, *args):
    """The runtime with extra environment; output through files (a detached
    container keeps the runtime's stdio open)."""
    out = os.path.join(rt.tmpdir, "notify-out")
    with open(out, "w+") as f:
        p = subprocess.run(rt.argv(*args), env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
                           stdout=f, stderr=f, timeout=30)
        f.seek(0)
        return p.returncode, f.read()


def stop(rt, cid):
    if rt.status(cid) in ("created", "running"):
        rt("kill", cid, "KILL")
        wait_for(lambda: (reap(), rt.status(cid) == "stopped")[1], what=f"{cid} to stop")
    rt.delete(cid, force=True)


@runc_binds_long_paths
def test_start_waits_for_ready_and_passes_it_on(rt, bundle, host_socket, hostdir):
    out = hostdir("out")
    b = bundle("sh", "-c", f'echo "$NOTIFY_SOCKET" > /out/env; sleep 0.5; {SEND_READY}; '
                           "sleep 600")
    b.bind(out, "/out")
    env = {"NOTIFY_SOCKET": host_socket.getsockname()}
    try:
        rc, text = rt_env(rt, env, "create", "--bundle", b, b.cid)
        assert rc == 0, text
        t0 = time.monotonic()
        rc, text = rt_env(rt, env, "start", b.cid)
        took = time.monotonic() - t0
        assert rc == 0, text
        assert took >= 0.4  # it waited for the process's READY=1
        msg = host_socket.recv(4096).decode()
        assert "READY=1" in msg.split("\n")
        assert f"MAINPID={rt.state(b.cid)['pid']}" in msg.split("\n")
        path = read_file(os.path.join(out, "env")).strip()
        assert path and path != host_socket.getsockname()
    finally:
        stop(rt, b.cid)


@runc_binds_long_paths
def test_run_detached_passes_ready_on(rt, bundle, host_socket):
    b = bundle("sh", "-c", f"{SEND_READY}; sleep 600")
    try:
        rc, text = rt_env(rt, {"NOTIFY_SOCKET": host_socket.getsockname()},
                          "run", "-d", "--bundle", b, b.cid)
        assert rc == 0, text
        assert "READY=1" in host_socket.recv(4096).decode().split("\n")
    finally:
        stop(rt, b.cid)


@runc_binds_long_paths
def test_start_returns_when_the_process_exits_without_ready(rt, bundle, host_socket):
    b = bundle("true")
    env = {"NOTIFY_SOCKET": host_socket.getsockname()}
    try:
        assert rt_env(rt, env, "create", "--bundle", b, b.cid)[0] == 0
        rc, text = rt_env(rt, env, "start", b.cid)
        assert rc == 0, text
        host_socket.settimeout(0.2)
        with pytest.raises(socket.timeout):
            host_socket.recv(4096)
    finally:
        stop(rt, b.cid)


@runc_binds_long_paths
def test_ready_passes_on_with_a_user_namespace(rt, bundle, host_socket):
    """The socket's directory lies under the 0700 state root, which the
    user namespace's root (host uid 100000) cannot enter: the runtime binds
    it with its own credentials."""
    b = bundle("sh", "-c", f"{SEND_READY}; sleep 600")
    b.linux["namespaces"].append({"type": "user"})
    userns_map = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["uidMappings"] = userns_map
    b.linux["gidMappings"] = userns_map
    try:
        rc, text = rt_env(rt, {"NOTIFY_SOCKET": host_socket.getsockname()},
                          "run", "-d", "--bundle", b, b.cid)
        assert rc == 0, text
        msg = host_socket.recv(4096).decode().split("\n")
        assert "READY=1" in msg
        assert f"MAINPID={rt.state(b.cid)['pid']}" in msg
    finally:
        stop(rt, b.cid)


def test_without_notify_socket_nothing_is_set_up(rt, bundle):
    b = bundle("sh", "-c", 'echo "[$NOTIFY_SOCKET]"; grep -c " /run/notify " /proc/self/mountinfo')
    rc, text = rt_env(rt, {"NOTIFY_SOCKET": ""}, "run", "--bundle", b, b.cid)
    assert text == "[]\n0\n"

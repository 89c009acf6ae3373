"""The reaper process of clients_fixture.py: runs client commands (podman,
ctr, containerd) as a child subreaper, so that what they daemonize (conmon,
containerd's shims) is reaped when it exits. PID 1 on these hosts never
reaps orphans, and both clients wait for such a process to be gone.

Requests come as JSON lines on stdin, answers go as JSON lines to stdout.
It imports nothing heavy: one starts per client thread.
"""

import ctypes
import json
import os
import select
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def serve():
    """The reaper process: reads one JSON request per line on stdin, answers
    one JSON line on stdout. Requests: {"run": argv, "env", "out", "err",
    "timeout"} runs a command to its end; {"spawn": argv, ...} starts one in
    the background; {"stop": pid, "timeout"} SIGTERMs a background command,
    then SIGKILLs it. Orphans are reaped all the time, also while idle: a
    conmon adopted here may exit while another reaper runs the podman
    command that waits for it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    server = _Server()
    for req in server.requests():
        if "stop" in req:
            answer = {"rc": server.stop(req["stop"], req.get("timeout", 10))}
        elif "spawn" in req:
            pid = launch(req["spawn"], req)
            server.background.add(pid)
            answer = {"pid": pid}
        else:
            answer = {"rc": server.run(launch(req["run"], req), req.get("timeout", 60))}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    for pid in server.background:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class _Server:
    def __init__(self):
        self.status = {}  # pid -> exit code of a command of ours
        self.background = set()

    def reap(self):
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.status[pid] = os.waitstatus_to_exitcode(st)

    def requests(self):
        """Yields the requests on stdin, reaping every 20 ms meanwhile."""
        fd, buf = sys.stdin.fileno(), b""
        while True:
            while b"\n" not in buf:
                ready, _, _ = select.select([fd], [], [], 0.02)
                self.reap()
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        return
                    buf += chunk
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            if req.get("quit"):
                return
            yield req

    def wait(self, pid, timeout):
        """pid's exit code, or None after timeout; reaps orphans meanwhile."""
        deadline = time.monotonic() + timeout
        interval = 0.001
        while pid not in self.status:
            self.reap()
            if pid in self.status:
                break
            if time.monotonic() > deadline:
                return None
            time.sleep(interval)
            interval = min(interval * 2, 0.01)
        return self.status.pop(pid)

    def run(self, pid, timeout):
        rc = self.wait(pid, timeout)
        if rc is None:  # timed out: kill the command's process group
            os.killpg(pid, signal.SIGKILL)
            self.wait(pid, 10)
        return rc

    def stop(self, pid, timeout):
        rc = None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
            rc = self.wait(pid, timeout)
            if rc is not None:
                break
        self.background.discard(pid)
        return rc


def launch(argv, req):
    """fork + exec argv in a process group of its own, stdio to files."""
    stdin = os.open(req.get("stdin") or os.devnull, os.O_RDONLY)
    out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            for fd, target in ((stdin, 0), (out, 1), (err, 2)):
                os.dup2(fd, target)
            os.closerange(3, 65536)
            os.execvpe(argv[0], argv, req["env"])
        finally:
            os._exit(127)
    for fd in (stdin, out, err):
        os.close(fd)
    return pid


if __name__ == "__main__":
    serve()

#!/usr/bin/python3
"""Time `RUNTIME exec ID true` against a running busybox container, for
cell-runtime and its peers, interleaved (one exec of each per round), in
two ways: back to back, and after ~100 ms of idle (as a user meets it).

    bench/exec.py [-n ROUNDS] [RUNTIME ...]     (default: build/cell-runtime crun runc)

As root. crun refuses a cgroup v1 hybrid host unless
/sys/fs/cgroup/unified/cgroup.controllers reads empty, so on such a host the
script re-runs itself in a private mount namespace with an empty file bound
over it (the host keeps its own)."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HYBRID = "/sys/fs/cgroup/unified/cgroup.controllers"


def private_namespace_for_crun():
    if os.environ.get("CELL_BENCH_PRIVATE") or not os.path.exists(HYBRID):
        return
    empty = tempfile.NamedTemporaryFile(delete=False)
    script = (f'mount --bind {empty.name} {HYBRID} && rm -f {empty.name} && '
              f'CELL_BENCH_PRIVATE=1 exec /usr/bin/python3 "$@"')
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                          "sh", os.path.abspath(__file__)] + sys.argv[1:])


def start(rt, work, name):
    bundle = os.path.join(work, name)
    subprocess.run(["sh", os.path.join(REPO, "scripts", "mkbundle.sh"), bundle, rt,
                    "/bin/sleep", "600"], check=True, stdout=subprocess.DEVNULL)
    root = os.path.join(work, name + "-state")
    subprocess.run([rt, "--root", root, "run", "-d", "--bundle", bundle, name], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [rt, "--root", root, "exec", name, "true"]


def stop(argv):
    rt, root, name = argv[0], argv[2], argv[4]
    subprocess.run([rt, "--root", root, "delete", "--force", name], stdout=subprocess.DEVNULL)


def once(argv):
    t = time.perf_counter()
    subprocess.run(argv, check=True)
    return (time.perf_counter() - t) * 1000


def report(name, ms):
    ms = sorted(ms)
    print(f"  {name:<28} median {statistics.median(ms):6.2f} ms   mean {statistics.mean(ms):6.2f}"
          f"   p90 {ms[int(len(ms) * 0.9)]:6.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("runtimes", nargs="*")
    args = ap.parse_args()
    runtimes = args.runtimes or [os.path.join(REPO, "build", "cell-runtime"), "crun", "runc"]
    runtimes = [shutil.which(r) or r for r in runtimes]
    if any(os.path.basename(r) == "crun" for r in runtimes):
        private_namespace_for_crun()
    work = tempfile.mkdtemp(prefix="cell-bench-exec-")
    execs = {}
    try:
        for i, rt in enumerate(runtimes):
            execs[rt] = start(rt, work, f"bench{i}")
        warm = {rt: [] for rt in runtimes}
        cold = {rt: [] for rt in runtimes}
        for _ in range(args.n):
            for rt in runtimes:
                warm[rt].append(once(execs[rt]))
        for _ in range(max(args.n // 5, 5)):
            for rt in runtimes:
                time.sleep(0.1)
                cold[rt].append(once(execs[rt]))
        print(f"exec of /bin/true, {args.n} rounds back to back:")
        for rt in runtimes:
            report(os.path.basename(rt), warm[rt])
        print(f"after 100 ms idle, {len(cold[runtimes[0]])} rounds:")
        for rt in runtimes:
            report(os.path.basename(rt), cold[rt])
    finally:
        for argv in execs.values():
            stop(argv)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

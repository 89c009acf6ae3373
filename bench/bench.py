"""Time `RUNTIME run` of /bin/true: the measuring half of bench/bench.sh.

Run it through bench.sh, which enters a private mount namespace and makes
the bundle. Each runtime gets its own state root and a unique container id
per run; runs are interleaved (cell-runtime, crun, runc, cell-runtime, ...)
so that drift on the machine touches all alike. Only the `run` command is
timed: wall clock around the subprocess, time.perf_counter_ns.

Modes: "warm" runs back to back; "cold" idles 0.1-0.2 s before each timed
run, as a user meets a runtime (the first cgroup v1 attach after idle waits
for an RCU grace period, see DESIGN.md).
"""

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

MODES = {"warm": "back-to-back", "cold": "cold (idle first)"}
WANT_NS = ["pid", "network", "ipc", "uts", "mount", "cgroup"]


class Runtime:
    def __init__(self, name, path, tmp, prefix):
        self.name = name
        self.path = path
        self.root = os.path.join(tmp, "state-" + name)
        self.prefix = prefix + name.split("-")[0]
        self.seq = 0
        self.version = ""
        self.failure = None  # why it is not timed, if it is not
        self.times = {mode: [] for mode in MODES}

    def next_id(self):
        self.seq += 1
        return "%s-%d" % (self.prefix, self.seq)

    def run(self, bundle):
        """One `run`; returns (nanoseconds, returncode, its output).

        /bin/true prints nothing, so whatever is captured is the runtime's
        own complaint, stdout and stderr merged in their order."""
        cid = self.next_id()
        cmd = [self.path, "--root", self.root, "run", "--bundle", bundle, cid]
        t0 = time.perf_counter_ns()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        t1 = time.perf_counter_ns()
        if p.returncode != 0:
            self.delete(cid)
        return t1 - t0, p.returncode, p.stdout.decode(errors="replace").strip()

    def delete(self, cid):
        subprocess.run([self.path, "--root", self.root, "delete", "--force", cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def cleanup(self):
        """Delete whatever a failed or interrupted run left in the state root."""
        if os.path.isdir(self.root):
            for cid in os.listdir(self.root):
                if cid.startswith(self.prefix):
                    self.delete(cid)
            shutil.rmtree(self.root, ignore_errors=True)


def probe(rt, bundle):
    """Find the runtime and check that it runs the bundle at all."""
    if "/" in rt.path:
        found = rt.path if os.access(rt.path, os.X_OK) else None
    else:
        found = shutil.which(rt.path)
    if not found:
        rt.failure = "skipped: %s not found" % rt.path
        return
    rt.path = os.path.abspath(found)
    try:
        out = subprocess.run([rt.path, "--version"], capture_output=True, timeout=10)
        rt.version = out.stdout.decode(errors="replace").split("\n")[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    # An untimed first run of a container that exits 42: a runtime passes
    # the container's exit status on, so this shows that the container ran
    # (a stub that exits 0 would otherwise be timed). It also warms caches.
    # The container exits 43 instead when its loopback is down: every
    # runtime must do the same work in the new network namespace.
    _, rc, err = rt.run(probe_bundle(bundle))
    if rc == 43:
        rt.failure = "FAILING: lo is down in the container's new network namespace"
    elif rc != 42:
        rt.failure = "FAILING: run of a container that exits 42 exited %d: %s" % (
            rc, err or "(no output)")


def probe_bundle(bundle):
    """A second bundle on the same rootfs whose process exits 42, or 43
    when lo is not up (IFF_UP, bit 0 of its flags)."""
    probe_dir = bundle + "-probe"
    if not os.path.isdir(probe_dir):
        with open(os.path.join(bundle, "config.json")) as f:
            spec = json.load(f)
        spec["root"]["path"] = os.path.join(bundle, spec["root"].get("path", "rootfs"))
        spec["process"]["args"] = ["/bin/sh", "-c", "read f < /sys/class/net/lo/flags && "
                                    "[ $((f & 1)) = 1 ] && exit 42; exit 43"]
        os.mkdir(probe_dir)
        with open(os.path.join(probe_dir, "config.json"), "w") as f:
            json.dump(spec, f, indent=4)
    return probe_dir


def prepare_bundle(bundle):
    """Same config for all: /bin/true, no terminal, the six namespaces."""
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    spec["process"]["args"] = ["/bin/true"]
    spec["process"]["terminal"] = False
    ns = spec.setdefault("linux", {}).setdefault("namespaces", [])
    have = {n.get("type") for n in ns}
    for t in WANT_NS:
        if t not in have:
            ns.append({"type": t})
    with open(path, "w") as f:
        json.dump(spec, f, indent=4)
    return [n["type"] for n in ns]


def measure(runtimes, bundle, n, modes, order):
    rng = random.Random(1)
    for mode in modes:
        print("bench: %s, %d rounds ..." % (MODES[mode], n), file=sys.stderr, flush=True)
        for _ in range(n):
            # A run leaves work behind in the kernel (network namespace
            # teardown, RCU callbacks) that slows the next one: measured
            # here, crun after runc takes ~20 ms back to back, crun after
            # crun ~11 ms. In a fixed order each runtime always follows the
            # same other one; a fresh order each round spreads that evenly.
            if order == "shuffle":
                runtimes = rng.sample(runtimes, len(runtimes))
            for rt in runtimes:
                if rt.failure:
                    continue
                if mode == "cold":
                    time.sleep(rng.uniform(0.1, 0.2))
                ns, rc, err = rt.run(bundle)
                if rc != 0:
                    rt.failure = "FAILING: run exited %d: %s" % (rc, err or "(no output)")
                    continue
                rt.times[mode].append(ns / 1e6)


def p90(values):
    s = sorted(values)
    return s[max(0, -(-len(s) * 9 // 10) - 1)]  # nearest rank


def report(runtimes, modes, n, spec_from, namespaces, order):
    print()
    print("run of /bin/true, busybox bundle, spec from %s, namespaces: %s"
          % (os.path.basename(spec_from), " ".join(namespaces)))
    print("%d timed runs per runtime and mode, interleaved (%s order each round); "
          "wall clock of `run`" % (n, "a random" if order == "shuffle" else "the same"))
    print()
    for rt in runtimes:
        what = rt.version or rt.path
        print("  %-13s %s%s" % (rt.name, what, "" if not rt.failure else "  " + rt.failure))
    print()
    print("  %-18s %-13s %5s %10s %10s %10s" % ("mode", "runtime", "n", "median ms", "p90 ms",
                                                "min ms"))
    medians = {}
    for mode in modes:
        for rt in runtimes:
            t = rt.times[mode]
            if rt.failure or not t:
                continue
            medians[(mode, rt.name)] = statistics.median(t)
            print("  %-18s %-13s %5d %10.2f %10.2f %10.2f"
                  % (MODES[mode], rt.name, len(t), statistics.median(t), p90(t), min(t)))
    print()
    print("ratios of medians:")
    pairs = [("cell-runtime", "crun"), ("cell-runtime", "runc"), ("crun", "runc")]
    for mode in modes:
        cells = []
        for a, b in pairs:
            if (mode, a) in medians and (mode, b) in medians:
                cells.append("%s/%s %.2f" % (a.split("-")[0], b, medians[(mode, a)] / medians[(mode, b)]))
            elif a == "cell-runtime":
                cells.append("%s/%s n/a" % (a.split("-")[0], b))
        print("  %-18s %s" % (MODES[mode], "   ".join(cells)))


def remove_cgroups(prefix, depth=4):
    """rmdir any cgroup a failed run left behind (named after our ids)."""
    base = "/sys/fs/cgroup"
    found = []
    for top, dirs, _ in os.walk(base):
        if top.count("/") - base.count("/") >= depth:
            dirs[:] = []
            continue
        for d in dirs:
            if d.startswith(prefix):
                found.append(os.path.join(top, d))
        dirs[:] = [d for d in dirs if not d.startswith(prefix)]
    for path in found:
        for sub, _, _ in os.walk(path, topdown=False):
            try:
                os.rmdir(sub)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--spec-from", default="runc")
    ap.add_argument("--runtime", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("-n", type=int, default=100, help="timed runs per runtime and mode")
    ap.add_argument("--mode", choices=["both", "warm", "cold"], default="both")
    ap.add_argument("--order", choices=["shuffle", "fixed"], default="shuffle",
                    help="each round in a new random order (default), or always "
                    "cell-runtime, crun, runc")
    opts = ap.parse_args()
    if opts.n < 1:
        ap.error("-n must be at least 1")
    modes = ["warm", "cold"] if opts.mode == "both" else [opts.mode]

    # SIGTERM/SIGHUP unwind like ^C, so the finally below cleans up.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(143))

    prefix = "cellbench%d-" % os.getpid()
    runtimes = []
    for spec in opts.runtime:
        name, _, path = spec.partition("=")
        runtimes.append(Runtime(name, path, opts.tmp, prefix))
    try:
        namespaces = prepare_bundle(opts.bundle)
        for rt in runtimes:
            probe(rt, opts.bundle)
        if all(rt.failure for rt in runtimes):
            for rt in runtimes:
                print("bench: %s: %s" % (rt.name, rt.failure), file=sys.stderr)
            return 1
        measure(runtimes, opts.bundle, opts.n, modes, opts.order)
        report(runtimes, modes, opts.n, opts.spec_from, namespaces, opts.order)
        return 0
    finally:
        for rt in runtimes:
            rt.cleanup()
        remove_cgroups(prefix)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)

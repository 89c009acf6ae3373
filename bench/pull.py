#!/usr/bin/python3
"""Pull + unpack of a multi-layer image from a local registry: `cell pull`
against `podman pull` and against `skopeo copy` + `umoci unpack`,
interleaved, each into a fresh empty store every round.

    /usr/bin/python3 bench/pull.py [-n ROUNDS] [--cell PATH] [--layers N]
                                   [--layer-mb MB] [--order shuffle|fixed]
                                   [--shape files|blobs|both]

Two images are built here, busybox plus N layers of MB each: "files", each
layer half one random file and half 4 KiB text files (about 2,000 per 16 MB
layer: unpacking dominates), and "blobs", each layer one random file (the
transfer dominates). They are pushed with skopeo to Debian's docker-registry
on 127.0.0.1 (plain http, storage in a temp dir). Each round
runs every tool once, in a new random order, so none always follows the same
other (page cache, CPU frequency). Timed: the one command (podman: `pull`
with its own --root/--runroot; skopeo+umoci: both commands); the removal of
its store is not. Medians, and each tool's ratio to cell's median.

Runs in a private mount namespace (podman's overlay storage mounts go away
with it); nothing on the host is changed.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from helpers import build_rootfs  # noqa: E402
from registry_fixture import Layout, Registry, layer  # noqa: E402


def build_image(workdir, nlayers, layer_mb, shape):
    """shape "files": each layer half one random file, half 4 KiB text files
    (unpacking dominates); "blobs": each layer one random file (the
    transfer dominates)."""
    rootfs = os.path.join(workdir, "rootfs")
    if not os.path.isdir(rootfs):
        build_rootfs(rootfs)
    rng = random.Random(42)
    layers = [layer([], base=rootfs)]
    for i in range(nlayers):
        size = layer_mb << 20
        if shape == "blobs":
            layers.append(layer([("dir", f"l{i}"), ("file", f"l{i}/random.bin",
                                                    rng.randbytes(size))]))
            continue
        entries = [("dir", f"l{i}"), ("file", f"l{i}/random.bin", rng.randbytes(size // 2)),
                   ("dir", f"l{i}/text")]
        for k in range(max(1, size // 2 // 4096)):
            line = f"layer {i} file {k} " * 8 + "\n"
            entries.append(("file", f"l{i}/text/f{k}.txt", line * (4096 // len(line))))
        layers.append(layer(entries))
    lay = Layout(os.path.join(workdir, "layout-" + shape))
    lay.tag("bench", lay.image(layers))
    return lay


def timed(argv, env=None):
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed ({p.returncode}):\n{p.stderr}")
    return dt


def run_cell(cell, name, tmp):
    root = tempfile.mkdtemp(prefix="cell-", dir=tmp)
    env = dict(os.environ, CELL_AUTH_FILE=os.path.join(root, "auth.json"))
    try:
        return timed([cell, "--root", root, "pull", "-q", "--tls-verify=false", name], env)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_podman(name, tmp):
    root = tempfile.mkdtemp(prefix="podman-", dir=tmp)
    base = ["podman", "--root", f"{root}/root", "--runroot", f"{root}/run", "--tmpdir", f"{root}/tmp",
            "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend",
            "none"]
    try:
        return timed(base + ["pull", "-q", "--tls-verify=false", name])
    finally:
        subprocess.run(base + ["rmi", "-a", "-f"], capture_output=True)
        subprocess.run(["umount", "-R", f"{root}/root/overlay"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def run_umoci(name, tmp):
    d = tempfile.mkdtemp(prefix="umoci-", dir=tmp)
    try:
        t = timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{name}",
                   f"oci:{d}/layout:x"])
        return t + timed(["umoci", "unpack", "--image", f"{d}/layout:x", f"{d}/bundle"])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def bench_shape(a, reg, tmp, shape):
    lay = build_image(tmp, a.layers, a.layer_mb, shape)
    name = reg.push(lay, "bench", f"bench/{shape}:1")
    total = sum(d["size"] for d in lay.last_layers)
    print(f"image {name} ({shape}): {len(lay.last_layers)} layers, "
          f"{total / 1e6:.1f} MB compressed")
    tools = {"cell": lambda: run_cell(a.cell, name, tmp),
             "podman": lambda: run_podman(name, tmp),
             "skopeo+umoci": lambda: run_umoci(name, tmp)}
    for f in tools.values():  # one untimed warm-up each (page cache, binaries)
        f()
    times = {k: [] for k in tools}
    for _ in range(a.n):
        order = list(tools)
        if a.order == "shuffle":
            random.shuffle(order)
        for k in order:
            times[k].append(tools[k]())
    base = statistics.median(times["cell"])
    print(f"{'tool':<14}{'median s':>10}{'min s':>9}{'max s':>9}{'ratio to cell':>15}")
    for k, v in times.items():
        med = statistics.median(v)
        print(f"{k:<14}{med:>10.3f}{min(v):>9.3f}{max(v):>9.3f}{med / base:>15.2f}")
    print(f"rounds: {a.n}, order: {a.order}\n", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=7, help="rounds (default 7)")
    ap.add_argument("--cell", default=os.environ.get("CELL", os.path.join(REPO, "build", "cell")))
    ap.add_argument("--layers", type=int, default=5, help="layers above busybox (default 5)")
    ap.add_argument("--layer-mb", type=int, default=16, help="MB per layer (default 16)")
    ap.add_argument("--order", choices=("shuffle", "fixed"), default="shuffle")
    ap.add_argument("--shape", choices=("files", "blobs", "both"), default="both",
                    help="files: many small files per layer; blobs: one big file per layer")
    a = ap.parse_args()
    if os.environ.get("CELL_BENCH_IN_NS") != "1":
        os.environ["CELL_BENCH_IN_NS"] = "1"
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable]
                  + sys.argv)

    tmp = tempfile.mkdtemp(prefix="cell-pull-bench-")
    reg = None
    try:
        # A private copy: a rebuild in the tree must not pull it away mid-run.
        a.cell = shutil.copy(a.cell, os.path.join(tmp, "cell"))
        reg = Registry(tmp).start()
        for shape in ("files", "blobs") if a.shape == "both" else (a.shape,):
            bench_shape(a, reg, tmp, shape)
    finally:
        if reg:
            reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

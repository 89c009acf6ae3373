"""`cell pull` against a real registry (Debian's docker-registry on
127.0.0.1, images built here and pushed with skopeo): the result compared
file by file with what skopeo + umoci unpack from the same registry."""

import os
import pty
import subprocess
import urllib.request

from registry_fixture import (cell, images, layer, registry, sha256,  # noqa: F401
                              tree_listing, umoci_rootfs)

MT_DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def whiteout_layers(rootfs, big):
    """Three layers: busybox and assorted entries; whiteouts of a file and
    an opaque directory; a whiteout of a hard link, new owners and modes.
    As in the layers `docker build` writes, a layer has an entry for each
    parent directory of what it changes."""
    l1 = layer([("dir", "etc/app", 0o750, 1000, 1000),
                ("file", "etc/app/conf", "v1", 0o640, 1000, 1000),
                ("file", "etc/gone", "bye"),
                ("dir", "opq"), ("file", "opq/old1", "1"), ("dir", "opq/sub"),
                ("file", "opq/sub/old2", "2"),
                ("symlink", "link-to-conf", "etc/app/conf"),
                ("file", "bin/tool", "#!/bin/sh\necho tool\n", 0o755),
                ("hardlink", "bin/tool2", "bin/tool"),
                ("hardlink", "bin/tool3", "bin/tool")], base=rootfs)
    l2 = layer([("dir", "etc"), ("whiteout", "etc/gone"), ("dir", "opq"), ("opaque", "opq"),
                ("file", "opq/new", "n"), ("dir", "etc/app", 0o750, 1000, 1000),
                ("file", "etc/app/conf", "v2", 0o600, 1000, 1000),
                ("fifo", "run-fifo"), ("file", "big", big)])
    l3 = layer([("dir", "bin"), ("whiteout", "bin/tool2"), ("dir", "etc"),
                ("dir", "etc/app", 0o750, 1000, 1000), ("dir", "etc/app/new", 0o700, 5, 6),
                ("file", "setuid", b"x", 0o4755), ("dir", "opq"),
                ("symlink", "opq/dangling", "/nowhere")])
    return [l1, l2, l3]


def push_whiteouts(images, dest, fmt=None):
    lay = images.layout()
    desc = lay.image(whiteout_layers(images.rootfs, os.urandom(3 << 20)))
    lay.tag("t", desc)
    return images.registry.push(lay, "t", dest, fmt=fmt), lay, desc


def assert_same_tree(got_root, want_root):
    got, want = tree_listing(got_root), tree_listing(want_root)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(got) & set(want) if got[k] != want[k])
    assert not (missing or extra or differ), (
        f"missing: {missing[:10]}\nextra: {extra[:10]}\n"
        f"differ: {[(k, got[k], want[k]) for k in differ[:10]]}")
    return got


def test_pull_multilayer_whiteouts_matches_umoci(cell, images, test_dir):
    name, lay, desc = push_whiteouts(images, "cell/whiteouts:1")
    p = cell("pull", "--tls-verify=false", name)
    lines = p.stdout.splitlines()
    assert lines[0] == f"Digest: {desc['digest']}"
    assert lines[1] == f"Status: Downloaded newer image for {name}"
    assert lines[-1] == name
    assert p.stderr == ""  # not a terminal: no progress
    for d in lay.last_layers + [lay.last_config]:
        assert cell.blob_exists(d["digest"])
    merged = cell.rootfs("w1", name)
    got = assert_same_tree(merged, umoci_rootfs(test_dir, images.registry, name))
    # What the whiteouts say, seen from the merged tree.
    assert "etc/gone" not in got and "bin/tool2" not in got
    assert "opq/old1" not in got and "opq/sub" not in got and "opq/new" in got
    assert got["etc/app/conf"][1:4] == (0o600, 1000, 1000)
    assert got["setuid"][1] == 0o4755
    assert os.stat(os.path.join(merged, "bin/tool")).st_ino == \
        os.stat(os.path.join(merged, "bin/tool3")).st_ino
    assert open(os.path.join(merged, "etc/app/conf")).read() == "v2"


def test_pull_docker_schema2_matches_umoci(cell, images, test_dir):
    name, _, _ = push_whiteouts(images, "cell/schema2:1", fmt="v2s2")
    req = urllib.request.Request(f"http://{images.registry.host}/v2/cell/schema2/manifests/1",
                                 headers={"Accept": MT_DOCKER_V2})
    with urllib.request.urlopen(req) as r:
        assert r.headers["Content-Type"] == MT_DOCKER_V2
        digest = sha256(r.read())
    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[0] == f"Digest: {digest}"
    assert_same_tree(cell.rootfs("s1", name), umoci_rootfs(test_dir, images.registry, name))


def push_multiarch(images, dest):
    lay = images.layout()
    base = layer([], base=images.rootfs)
    amd = lay.image([base, layer([("file", "arch", "amd64")])], arch="amd64")
    arm = lay.image([base, layer([("file", "arch", "arm64")])], arch="arm64", variant="v8")
    idx = lay.index([arm, amd])  # this machine's is not first
    lay.tag("multi", idx)
    return images.registry.push(lay, "multi", dest, all_images=True), idx


def test_pull_multiarch_index_selects_platform(cell, images):
    name, idx = push_multiarch(images, "cell/multi:1")
    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[0] == f"Digest: {idx['digest']}"
    merged = cell.rootfs("m1", name)
    assert open(os.path.join(merged, "arch")).read() == "amd64"
    cell("rootfs", "rm", "m1")

    other = name.replace("multi:1", "multi:1")  # same image, the other platform
    cell("pull", "--tls-verify=false", "--platform", "linux/arm64", other)
    merged = cell.rootfs("m2", other)
    assert open(os.path.join(merged, "arch")).read() == "arm64"


def test_pull_platform_absent_from_index(cell, images):
    name, _ = push_multiarch(images, "cell/multi:2")
    p = cell("pull", "--tls-verify=false", "--platform", "linux/s390x", name, check=False)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        f"cell: image {name}: no manifest for linux/s390x in the index"]
    assert name not in cell("images").stdout


def test_pull_tampered_blob_refused_nothing_stored(cell, images):
    lay = images.layout()
    desc = lay.image([layer([], base=images.rootfs),
                      layer([("file", "payload", os.urandom(256 << 10))])])
    lay.tag("t", desc)
    name = images.registry.push(lay, "t", "cell/tampered:1")
    bad = lay.last_layers[1]["digest"]
    path = images.registry.blob_path(bad)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    with open(path, "wb") as f:
        f.write(data)

    p = cell("pull", "--tls-verify=false", name, check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"cell: blob {bad} from {images.registry.host}: digest mismatch "
        f"(got {sha256(bytes(data))})"]
    assert not cell.blob_exists(bad)
    assert not cell.blob_exists(sha256(bytes(data)))
    assert "cell/tampered" not in cell("images").stdout
    # Nothing half-written of it either. (Other blobs cut short by the failure
    # may keep their bytes in ingest/ for the next pull: each is verified.)
    tmp = os.path.join(cell.root, "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []
    assert not os.path.exists(os.path.join(cell.root, "ingest", bad[7:]))


def test_pull_unknown_image(cell, images):
    name = f"{images.registry.host}/cell/nothing:1"
    p = cell("pull", "--tls-verify=false", name, check=False)
    assert p.returncode == 1
    line, = p.stderr.splitlines()
    assert line.startswith(f"cell: image {name}: not found")


def test_pull_plain_http_needs_tls_verify_false(cell, images):
    name, _, _ = images.push_simple("cell/tls:1")
    p = cell("pull", name, check=False)
    assert p.returncode == 1
    line, = p.stderr.splitlines()
    assert line.startswith(f"cell: image {name}: registry {images.registry.host}: ")
    assert "cell/tls" not in cell("images").stdout


def test_pull_again_is_up_to_date_and_by_digest(cell, images):
    name, _, desc = images.push_simple("cell/again:1")
    cell("pull", "--tls-verify=false", name)
    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[1] == f"Status: Image is up to date for {name}"
    by_digest = name.rsplit(":", 1)[0] + "@" + desc["digest"]
    p = cell("pull", "--tls-verify=false", by_digest)
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"
    assert p.stdout.splitlines()[-1] == by_digest


def test_pull_shows_progress_per_layer_on_a_terminal(cell, images):
    name, lay, _ = images.push_simple("cell/progress:1",
                                      extra=[("file", "x", os.urandom(1 << 20))])
    master, slave = pty.openpty()
    try:
        p = subprocess.run([cell.path, "--root", cell.root, "pull", "--tls-verify=false", name],
                           stdout=subprocess.PIPE, stderr=slave, text=True, timeout=60,
                           env=dict(os.environ, CELL_AUTH_FILE=cell.auth_file))
        os.close(slave)
        slave = -1
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert p.returncode == 0
    text = out.decode()
    for d in lay.last_layers:
        assert f"{d['digest'][7:19]}: Pull complete" in text
    # The config blob is not a layer: Docker does not show it either.
    assert lay.last_config["digest"][7:19] not in text

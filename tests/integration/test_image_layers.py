"""Layers: unpacked once, in overlayfs form (whiteouts, opaque directories),
with owners, modes, xattrs, hard links and device nodes kept, compressed
with gzip or zstd; no entry written outside its layer; and the overlay root
filesystem of an image (`cell rootfs`) showing the files of all layers.

The layers are tar files made here with Python's tarfile and wrapped in a
docker-archive or an OCI layout that `cell load` reads.
"""

import gzip
import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import tarfile

import pytest

from helpers import char_device, mounts_mentioning, wait_for
from test_image_store import cell  # noqa: F401,F811 (the fixture, shared)

pytestmark = pytest.mark.cell_only


def entry(name, data=None, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, link="",
          xattrs=None, dev=(0, 0)):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.linkname = kind, mode, uid, gid, link
    info.mtime = 1700000000
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = dev
    if xattrs:
        info.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    if data is not None:
        info.size = len(data)
    return info, data


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def docker_archive(path, layers, name, diff_ids=None):
    """A `docker save` archive of one image whose layers are these tars."""
    sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()  # noqa: E731
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers",
                   "diff_ids": diff_ids or [sha(layer) for layer in layers]},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    files = {config_name: config}
    names = []
    for i, layer in enumerate(layers):
        names.append(f"l{i}/layer.tar")
        files[names[-1]] = layer
    files["manifest.json"] = json.dumps(
        [{"Config": config_name, "RepoTags": [name], "Layers": names}]).encode()
    with tarfile.open(path, "w") as t:
        for n, data in files.items():
            info = tarfile.TarInfo(n)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


BASE = [
    entry("etc/", kind=tarfile.DIRTYPE, mode=0o755),
    entry("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    entry("a/", kind=tarfile.DIRTYPE, mode=0o755),
    entry("a/keep", b"keep"),
    entry("a/gone", b"gone"),
    entry("d/", kind=tarfile.DIRTYPE, mode=0o750, uid=1000, gid=1000),
    entry("d/old1", b"1"),
    entry("d/sub/", kind=tarfile.DIRTYPE),
    entry("d/sub/old2", b"2"),
    entry("top.txt", b"base"),
    entry("suid", b"#!/bin/sh\n", mode=0o4755, uid=1000, gid=1001),
    entry("hard", link="top.txt", kind=tarfile.LNKTYPE),
    entry("sym", link="/etc/passwd", kind=tarfile.SYMTYPE),
    entry("xattr", b"x", xattrs={"user.cell": "yes"}),
    entry("null", kind=tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
    entry("fifo", kind=tarfile.FIFOTYPE),
    entry("gonedir/", kind=tarfile.DIRTYPE),
    entry("gonedir/f", b"f"),
]

TOP = [
    entry("a/.wh.gone"),
    entry(".wh.gonedir"),
    entry("d/", kind=tarfile.DIRTYPE, mode=0o770, uid=1000, gid=1000),
    entry("d/.wh..wh..opq"),
    entry("d/new", b"new"),
    entry("top.txt", b"top"),
    entry("added", b"added", mode=0o600, uid=7, gid=8),
]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_overlay_rootfs_shows_all_layers(cell, test_dir):
    base, top = layer_tar(BASE), layer_tar(TOP)
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "img.tar"), [base, top],
                                         "layered:1"))
    info = cell.inspect("layered:1")
    merged = cell.ok("rootfs", "create", "s1", "layered:1").strip()
    try:
        assert sorted(os.listdir(merged)) == sorted(
            ["etc", "a", "d", "top.txt", "suid", "hard", "sym", "xattr", "null", "fifo",
             "added"])
        assert os.listdir(os.path.join(merged, "a")) == ["keep"]  # whiteout
        assert os.listdir(os.path.join(merged, "d")) == ["new"]  # opaque dir
        assert read(os.path.join(merged, "top.txt")) == b"top"
        assert read(os.path.join(merged, "hard")) == b"base"  # linked to base's top.txt
        st = os.stat(os.path.join(merged, "d"))  # the top layer's directory
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o770, 1000, 1000)
        st = os.stat(os.path.join(merged, "suid"))
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o4755, 1000, 1001)
        st = os.stat(os.path.join(merged, "added"))
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 7, 8)
        assert os.readlink(os.path.join(merged, "sym")) == "/etc/passwd"
        assert os.getxattr(os.path.join(merged, "xattr"), "user.cell") == b"yes"
        assert char_device(os.path.join(merged, "null")) == (1, 3)
        assert stat.S_ISFIFO(os.lstat(os.path.join(merged, "fifo")).st_mode)
        assert os.stat(os.path.join(merged, "etc", "passwd")).st_mtime == 1700000000
        # Writes land in the snapshot's upper dir, not in the shared layers.
        with open(os.path.join(merged, "a", "keep"), "w") as f:
            f.write("changed")
        os.unlink(os.path.join(merged, "top.txt"))
        upper = os.path.join(cell.root, "snapshots", "s1", "upper")
        assert read(os.path.join(upper, "a", "keep")) == b"changed"
        assert char_device(os.path.join(upper, "top.txt")) == (0, 0)
    finally:
        cell.ok("rootfs", "rm", "s1")
    assert not mounts_mentioning(test_dir)
    # The layers stay unpacked, once each, in overlay form.
    layers = os.path.join(cell.root, "layers")
    chains = [layer["ChainID"][7:] for layer in info["Layers"]]
    assert sorted(os.listdir(layers)) == sorted(chains)
    base_dir, top_dir = (os.path.join(layers, c) for c in chains)
    assert read(os.path.join(base_dir, "a", "gone")) == b"gone"
    assert char_device(os.path.join(top_dir, "a", "gone")) == (0, 0)
    assert char_device(os.path.join(top_dir, "gonedir")) == (0, 0)
    assert os.getxattr(os.path.join(top_dir, "d"), "trusted.overlay.opaque") == b"y"
    assert not os.path.exists(os.path.join(top_dir, "a", ".wh.gone"))
    # Directories keep their times although entries were made in them later.
    assert os.stat(os.path.join(base_dir, "a")).st_mtime == 1700000000
    assert os.stat(os.path.join(top_dir, "d")).st_mtime == 1700000000
    # A second snapshot reuses them (no unpack: their inodes do not change).
    ino = os.stat(os.path.join(base_dir, "a", "keep")).st_ino
    merged = cell.ok("rootfs", "create", "s2", "layered:1").strip()
    try:
        assert read(os.path.join(merged, "a", "keep")) == b"keep"
        assert os.stat(os.path.join(base_dir, "a", "keep")).st_ino == ino
        assert "snapshot s2 exists" in cell.fail("rootfs", "create", "s2", "layered:1")
    finally:
        cell.ok("rootfs", "rm", "s2")


def test_layer_cannot_write_outside(cell, test_dir):
    outside = os.path.join(test_dir, "outside")
    os.mkdir(outside)
    # Parents that are symlinks pointing out (absolute and by ..), absolute
    # names, a hard link to a host file: all resolve inside the layer.
    evil = layer_tar([
        entry("abs", link=outside, kind=tarfile.SYMTYPE),
        entry("abs/pwned", b"x"),
        entry("rel", link="../../../../../../../../" + outside.lstrip("/"),
              kind=tarfile.SYMTYPE),
        entry("rel/pwned2", b"x"),
        entry("/" + outside.lstrip("/") + "/pwned3", b"x"),
        entry("hostpasswd", link="/etc/passwd", kind=tarfile.LNKTYPE),
    ])
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "evil.tar"), [evil], "evil"))
    line = cell.fail("rootfs", "create", "e", "evil")
    # The hard link's target is looked up inside the layer, where there is none.
    assert "hard link hostpasswd to etc/passwd" in line
    assert os.listdir(outside) == []
    # Without the hard link, the rest unpacks, inside the layer.
    evil = layer_tar([
        entry("abs", link=outside, kind=tarfile.SYMTYPE),
        entry("abs/pwned", b"x"),
        entry("rel", link="../../../../../../../../" + outside.lstrip("/"),
              kind=tarfile.SYMTYPE),
        entry("rel/pwned2", b"x"),
        entry("/" + outside.lstrip("/") + "/pwned3", b"x"),
    ])
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "evil2.tar"), [evil], "evil2"))
    merged = cell.ok("rootfs", "create", "e2", "evil2").strip()
    try:
        assert os.listdir(outside) == []
        chain = cell.inspect("evil2")["Layers"][0]["ChainID"][7:]
        inside = os.path.join(cell.root, "layers", chain, outside.lstrip("/"))
        assert sorted(os.listdir(inside)) == ["pwned", "pwned2", "pwned3"]
        assert os.path.islink(os.path.join(merged, "abs"))
    finally:
        cell.ok("rootfs", "rm", "e2")
    # ".." in a name refuses the layer; nothing is left half unpacked.
    dotdot = layer_tar([entry("ok", b"1"), entry("../../escape", b"x"),
                        entry("a/../../../escape2", b"x")])
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "dd.tar"), [dotdot], "dd"))
    assert "points outside the layer" in cell.fail("rootfs", "create", "d", "dd")
    assert not os.path.exists(os.path.join(test_dir, "escape"))
    assert not os.path.exists(os.path.join(cell.root, "escape"))
    assert os.listdir(os.path.join(cell.root, "tmp")) == []
    assert not os.path.exists(os.path.join(cell.root, "snapshots", "d"))
    assert os.listdir(os.path.join(cell.root, "layers")) == [chain]


def test_wrong_diff_id_is_refused(cell, test_dir):
    layer = layer_tar([entry("f", b"1")])
    wrong = "sha256:" + "0" * 64
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "w.tar"), [layer], "w",
                                         diff_ids=[wrong]))
    line = cell.fail("rootfs", "create", "w", "w")
    assert f"diff ID mismatch: config says {wrong}" in line
    assert os.listdir(os.path.join(cell.root, "layers")) == []
    assert os.listdir(os.path.join(cell.root, "tmp")) == []


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_oci_layout_with_compressed_layers(cell, test_dir, compression):
    """An OCI layout directory whose layers are gzip or zstd compressed."""
    plain = [layer_tar([entry("one", b"1")]), layer_tar([entry("two", b"2"),
                                                         entry(".wh.one")])]
    if compression == "gzip":
        packed = [gzip.compress(p) for p in plain]
        mt = "application/vnd.oci.image.layer.v1.tar+gzip"
    else:
        packed = [subprocess.run(["zstd", "-q", "-c"], input=p, capture_output=True,
                                 check=True).stdout for p in plain]
        mt = "application/vnd.oci.image.layer.v1.tar+zstd"
    layout = os.path.join(test_dir, "layout")
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, h), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + h, "size": len(data)}

    config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers",
        "diff_ids": ["sha256:" + hashlib.sha256(p).hexdigest() for p in plain]}}).encode())
    manifest = put(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(put(p), mediaType=mt) for p in packed]}).encode())
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [dict(
            manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
            annotations={"org.opencontainers.image.ref.name": "localhost/comp:" +
                         compression})]}, f)
    assert cell.ok("load", "-i", layout) == f"Loaded image: localhost/comp:{compression}\n"
    assert cell.inspect("localhost/comp:" + compression)["Digest"] == manifest["digest"]
    merged = cell.ok("rootfs", "create", "c", "localhost/comp:" + compression).strip()
    try:
        assert os.listdir(merged) == ["two"]
        assert read(os.path.join(merged, "two")) == b"2"
    finally:
        cell.ok("rootfs", "rm", "c")
    # docker-archive layers are plain tars: save uncompresses them.
    archive = os.path.join(test_dir, "d.tar")
    cell.ok("save", "-o", archive, "localhost/comp:" + compression)
    with tarfile.open(archive) as t:
        names = t.getnames()
        for p in plain:
            h = hashlib.sha256(p).hexdigest()
            assert t.extractfile(f"{h}/layer.tar").read() == p
    assert "manifest.json" in names


def test_index_of_another_platform_is_kept(cell, test_dir):
    """An index whose one present manifest is for another platform (as a
    pull with --platform leaves): listed, inspected, and kept by the gc that
    another image's removal runs."""
    layout = os.path.join(test_dir, "layout")
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data, mt):
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, h), "wb") as f:
            f.write(data)
        return {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}

    layer = layer_tar([entry("arm", b"64")])
    config = put(json.dumps({"architecture": "arm64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
    ).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = put(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [put(layer, "application/vnd.oci.image.layer.v1.tar")]}).encode(),
        "application/vnd.oci.image.manifest.v1+json")
    index = put(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [dict(manifest, platform={"os": "linux", "architecture": "arm64"}),
                      {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + "1" * 64, "size": 1,
                       "platform": {"os": "linux", "architecture": "s390x"}}]}).encode(),
        "application/vnd.oci.image.index.v1+json")
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [dict(
            index, annotations={"org.opencontainers.image.ref.name": "localhost/arm:1"})]}, f)
    cell.ok("load", "-i", layout)
    info = cell.inspect("localhost/arm:1")
    assert (info["Digest"], info["ManifestDigest"]) == (index["digest"], manifest["digest"])
    assert info["Architecture"] == "arm64"
    assert json.loads(cell.ok("images", "--format", "json").splitlines()[0])["Id"] == \
        config["digest"]
    kept = cell.blobs()
    assert len(kept) == 4
    other = os.path.join(test_dir, "o.tar")
    with open(other, "wb") as f:
        f.write(layer_tar([entry("o", b"o")]))
    cell.ok("import", other, "other")
    cell.ok("rmi", "other")
    assert cell.blobs() == kept


def test_kill_mid_unpack_leaves_no_half_layer(cell, test_dir):
    """SIGKILL while a layer is being unpacked: layers/ never shows it, the
    next command clears what was left in tmp/, and the unpack then works."""
    many = [entry(f"d{d}/", kind=tarfile.DIRTYPE) for d in range(20)]
    many += [entry(f"d{d}/f{i}", b"0123456789") for d in range(20) for i in range(100)]
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "m.tar"), [layer_tar(many)],
                                         "many"))
    tmp = os.path.join(cell.root, "tmp")
    p = subprocess.Popen([cell.path, "--root", cell.root, "rootfs", "create", "m", "many"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def unpacking():
            try:
                return any(n.startswith("layer-") and os.listdir(os.path.join(tmp, n))
                           for n in os.listdir(tmp))
            except FileNotFoundError:  # renamed into layers/ meanwhile
                return False

        wait_for(unpacking, timeout=60, interval=0.001, what="the layer being unpacked")
        p.send_signal(signal.SIGSTOP)
        assert os.listdir(os.path.join(cell.root, "layers")) == [], "unpacked before the kill"
        p.kill()
    finally:
        p.kill()
        p.wait()
    assert os.listdir(os.path.join(cell.root, "layers")) == []
    assert os.listdir(os.path.join(cell.root, "snapshots")) == []
    cell.ok("images")  # any command: nobody holds the store, tmp/ is cleared
    assert os.listdir(tmp) == []
    merged = cell.ok("rootfs", "create", "m", "many").strip()
    try:
        assert len(os.listdir(os.path.join(merged, "d19"))) == 100
    finally:
        cell.ok("rootfs", "rm", "m")


def test_implicit_parent_keeps_the_lower_layers_mode_and_owner(cell, test_dir):
    """A layer with an entry srv/app/new but no entry for srv/app (docker
    build writes parents; other tools do not) must not hide the lower
    layer's srv/app behind a default 0755 root-owned directory: overlayfs
    shows the upper one."""
    base = layer_tar([entry("srv/", kind=tarfile.DIRTYPE, mode=0o711),
                      entry("srv/app/", kind=tarfile.DIRTYPE, mode=0o750, uid=1000, gid=1001),
                      entry("srv/app/old", b"old")])
    top = layer_tar([entry("srv/app/new", b"new"), entry("fresh/dir/f", b"f")])
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "img.tar"), [base, top],
                                         "implicit:1"))
    merged = cell.ok("rootfs", "create", "s2", "implicit:1").strip()
    try:
        assert sorted(os.listdir(os.path.join(merged, "srv", "app"))) == ["new", "old"]
        st = os.stat(os.path.join(merged, "srv", "app"))
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o750, 1000, 1001)
        st = os.stat(os.path.join(merged, "srv"))
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o711, 0)
        # Nothing below to copy from: the default.
        st = os.stat(os.path.join(merged, "fresh", "dir"))
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o755, 0)
    finally:
        cell.ok("rootfs", "rm", "s2")


def test_image_of_128_layers_mounts(cell, test_dir):
    """128 layers: past what one lowerdir= option of full paths holds
    (kernels before 6.8 have no lowerdir+). Each layer adds a file and
    overwrites /top; the top layer's /top wins, the first layer's file is
    there, and a file the 64th layer deleted is gone."""
    layers = []
    for i in range(128):
        entries = [entry(f"f{i}", f"{i}".encode()), entry("top", f"{i}".encode())]
        if i == 64:
            entries.append(entry(".wh.f10", b""))
        layers.append(layer_tar(entries))
    cell.ok("load", "-i", docker_archive(os.path.join(test_dir, "deep.tar"), layers, "deep:1"))
    merged = cell.ok("rootfs", "create", "deep", "deep:1").strip()
    try:
        assert read(os.path.join(merged, "top")) == b"127"
        assert read(os.path.join(merged, "f0")) == b"0"
        assert read(os.path.join(merged, "f127")) == b"127"
        assert not os.path.exists(os.path.join(merged, "f10"))
        assert len([n for n in os.listdir(merged) if n.startswith("f")]) == 127
        with open(os.path.join(merged, "new"), "w") as f:
            f.write("upper")
    finally:
        cell.ok("rootfs", "rm", "deep")
    assert not mounts_mentioning(test_dir)

"""The image store through the `cell` command line: import, images, inspect,
tag, rmi and what it frees, load/save round trips with podman, and what a
kill in the middle of a write leaves (nothing visible).

Every test has its own store (`cell --root` in its temporary dir) and, where
podman is used, its own podman storage (--root/--runroot, vfs driver), so
the host's images are never touched.
"""

import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile

import pytest

from helpers import mounts_mentioning, wait_for

pytestmark = pytest.mark.cell_only

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cell_path():
    return os.environ.get("CELL_BIN") or os.path.join(REPO, "build", "cell")


class Cell:
    """`cell --root <root>` of one test."""

    def __init__(self, path, root):
        self.path, self.root = path, root

    def run(self, *args, input=None, timeout=60):
        return subprocess.run([self.path, "--root", self.root, *args], input=input,
                              capture_output=True, timeout=timeout)

    def ok(self, *args, input=None):
        p = self.run(*args, input=input)
        assert p.returncode == 0, f"cell {' '.join(args)}: {p.stderr.decode()}"
        return p.stdout.decode()

    def fail(self, *args):
        """Runs a command that must fail; returns its one stderr line."""
        p = self.run(*args)
        err = p.stderr.decode()
        assert p.returncode == 1, f"cell {' '.join(args)} exited {p.returncode}: {err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cell: "), err
        return lines[0]

    def inspect(self, image):
        return json.loads(self.ok("inspect", image))[0]

    def blobs(self):
        d = os.path.join(self.root, "blobs", "sha256")
        return set(os.listdir(d)) if os.path.isdir(d) else set()

    def records(self):
        p = os.path.join(self.root, "images.json")
        if not os.path.exists(p):
            return {}
        with open(p) as f:
            return json.load(f)["images"]


def check_blobs_verified(cell):
    """Every blob in the store holds exactly the content its name says."""
    d = os.path.join(cell.root, "blobs", "sha256")
    for name in cell.blobs():
        with open(os.path.join(d, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name, name


@pytest.fixture
def cell(test_dir, request):
    path = cell_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"cell binary not found: {path} (build it, or set CELL_BIN)",
                    pytrace=False)
    c = Cell(path, os.path.join(test_dir, "cellroot"))
    yield c
    # Snapshots a failed test left mounted: unmount, then fail if it passed.
    left = mounts_mentioning(test_dir)
    for m in reversed(left):
        subprocess.run(["umount", "-l", m], capture_output=True)
    call = getattr(request.node, "rep_call", None)
    if left and call is not None and call.passed:
        pytest.fail(f"leak check: mounts left: {left}", pytrace=False)


class Podman:
    """podman with storage of its own in the test's dir (vfs: no mounts)."""

    def __init__(self, base):
        # --tmpdir too: libpod's default, /run/libpod, is shared by every
        # podman on the host (a parallel run removed it under this one).
        self.args = ["podman", "--root", os.path.join(base, "p-root"), "--runroot",
                     os.path.join(base, "p-run"), "--tmpdir", os.path.join(base, "p-tmp"),
                     "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "none"]

    def ok(self, *args):
        p = subprocess.run(self.args + list(args), capture_output=True, timeout=120)
        assert p.returncode == 0, f"podman {' '.join(args)}: {p.stderr.decode()}"
        return p.stdout.decode()

    def image_id(self, name):
        return "sha256:" + self.ok("image", "inspect", "--format", "{{.Id}}", name).strip()


@pytest.fixture
def podman(test_dir):
    p = Podman(test_dir)
    yield p
    subprocess.run(p.args + ["system", "reset", "--force"], capture_output=True, timeout=120)


def rootfs_tarball(rootfs, path, compression=""):
    """The shared busybox rootfs as a tarball (gz, or plain with "")."""
    with tarfile.open(path, "w:" + compression) as t:
        t.add(rootfs, arcname=".")
    return path


def small_tarball(path, files, compression=""):
    with tarfile.open(path, "w:" + compression) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return path


# --------------------------------------------------------------------------


def test_import_lists_and_inspects(cell, rootfs, test_dir):
    tb = rootfs_tarball(rootfs, os.path.join(test_dir, "rootfs.tar.gz"), "gz")
    image_id = cell.ok("import", tb, "bb:1").strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71

    out = cell.ok("images").splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert out[1].split()[:3] == ["bb", "1", image_id[7:19]]

    listed = [json.loads(line) for line in cell.ok("images", "--format", "json").splitlines()]
    assert [(i["Name"], i["Id"], i["Repository"], i["Tag"], i["ID"]) for i in listed] == \
        [("docker.io/library/bb:1", image_id, "bb", "1", image_id[7:19])]
    assert cell.ok("images", "--format", "{{.Repository}}:{{.Tag}}") == "bb:1\n"

    info = cell.inspect("bb:1")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["docker.io/library/bb:1"]
    assert info["Os"] == "linux" and info["Architecture"] == "amd64"
    # The layer is the uncompressed tar: its digest is its diff ID.
    with open(tb, "rb") as f:
        raw = gzip.decompress(f.read())
    assert info["RootFS"]["Layers"] == ["sha256:" + hashlib.sha256(raw).hexdigest()]
    assert info["Layers"][0]["Digest"] == info["RootFS"]["Layers"][0]
    # The image ID is the digest of the config blob it names.
    with open(os.path.join(cell.root, "blobs", "sha256", image_id[7:]), "rb") as f:
        config = json.load(f)
    assert config["rootfs"]["diff_ids"] == info["RootFS"]["Layers"]
    check_blobs_verified(cell)
    # By short ID, by full ID, by full name: the same image.
    for ref in (image_id[7:19], image_id, "docker.io/library/bb:1"):
        assert cell.inspect(ref)["Id"] == image_id


def test_bad_input_is_one_line(cell, test_dir):
    assert "invalid reference \"Bad\": repository name must be lowercase" in cell.fail(
        "inspect", "Bad")
    assert "no such image: nothere" in cell.fail("inspect", "nothere")
    assert "invalid tag" in cell.fail("import", "/nonexistent", "x:-y")
    assert "No such file or directory" in cell.fail("import",
                                                    os.path.join(test_dir, "missing.tar"))
    notatar = os.path.join(test_dir, "notatar")
    with open(notatar, "wb") as f:
        f.write(b"\x00hello, not a tar at all\n" * 100)
    assert "import" in cell.fail("import", notatar, "x")
    assert cell.records() == {}
    assert cell.blobs() == set()
    assert "neither a docker-archive" in cell.fail(
        "load", "-i", small_tarball(os.path.join(test_dir, "e.tar"), {"x": b"y"}))
    assert "unknown command" in cell.fail("frobnicate")


def test_flags_have_dockers_syntax(cell, test_dir):
    """cell reads its flags as Docker does: short flags combined ("-qi FILE"),
    a short flag's value attached ("-oFILE"), "--opt=value", and a long name
    needs two dashes ("-format" is -f -o -r ... and fails)."""
    cell.ok("import", small_tarball(os.path.join(test_dir, "a.tar"), {"a": b"A"}), "a")
    archive = os.path.join(test_dir, "a-save.tar")
    cell.ok("save", "-o" + archive, "a")
    assert os.path.getsize(archive) > 0
    cell.ok("rmi", "a")
    assert cell.ok("load", "-qi", archive) == ""
    assert cell.ok("images", "-q") == cell.ok("images", "--quiet=true")
    assert cell.ok("images", "-q").strip()
    assert "unknown shorthand flag: 'f' in -format" in cell.fail("images", "-format", "json")
    assert "unknown flag: --q" in cell.fail("images", "--q")
    usage = cell.ok("help", "load")
    assert "  -i, --input value" in usage and "  -q, --quiet" in usage


def test_tag_and_rmi_free_what_no_image_needs(cell, test_dir):
    a = small_tarball(os.path.join(test_dir, "a.tar"), {"a": b"A" * 1000})
    b = small_tarball(os.path.join(test_dir, "b.tar"), {"b": b"B" * 1000})
    id_a = cell.ok("import", a, "a").strip()
    id_b = cell.ok("import", b, "b").strip()
    blobs_b = set(cell.blobs())
    cell.ok("tag", "a", "a:two")
    assert cell.inspect("a:two")["Id"] == id_a
    assert sorted(cell.inspect(id_a)["RepoTags"]) == ["docker.io/library/a:latest",
                                                      "docker.io/library/a:two"]
    # Two names: removing by ID needs force, as in Docker.
    assert "referenced by 2 names" in cell.fail("rmi", id_a[7:19])
    assert cell.ok("rmi", "a:two") == "Untagged: a:two\n"
    assert cell.inspect("a")["Id"] == id_a  # still there, blobs too
    check_blobs_verified(cell)

    layer_b = cell.inspect("b")["Layers"][0]["Digest"][7:]
    cell.ok("rmi", "a")
    assert "no such image" in cell.fail("inspect", id_a)
    # What is left is exactly what b needs: its manifest, config and layer.
    b_info = cell.inspect("b")
    assert cell.blobs() == {b_info["Digest"][7:], id_b[7:], layer_b}
    assert blobs_b >= cell.blobs()
    cell.ok("rmi", "b")
    assert cell.blobs() == set() and cell.records() == {}


def test_rmi_refuses_image_in_use_by_rootfs(cell, rootfs, test_dir):
    tb = rootfs_tarball(rootfs, os.path.join(test_dir, "rootfs.tar"))
    cell.ok("import", tb, "bb")
    merged = cell.ok("rootfs", "create", "c1", "bb").strip()
    try:
        assert "image is in use by snapshot c1" in cell.fail("rmi", "bb")
        cell.ok("rmi", "-f", "bb")
        # Forced: the name goes, the running root filesystem keeps working.
        assert os.path.isfile(os.path.join(merged, "bin", "busybox"))
        assert cell.records() == {}
    finally:
        cell.ok("rootfs", "rm", "c1")
    assert not mounts_mentioning(test_dir)
    assert not os.path.exists(os.path.join(cell.root, "snapshots", "c1"))


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_save_then_cell_load_keeps_the_id(cell, podman, rootfs, test_dir, fmt):
    tb = rootfs_tarball(rootfs, os.path.join(test_dir, "rootfs.tar"))
    podman.ok("import", tb, "localhost/rt:1")
    pid = podman.image_id("localhost/rt:1")
    archive = os.path.join(test_dir, "p.tar")
    podman.ok("save", "--format", fmt, "-o", archive, "localhost/rt:1")
    assert cell.ok("load", "-i", archive) == "Loaded image: localhost/rt:1\n"
    info = cell.inspect("localhost/rt:1")
    assert info["Id"] == pid
    if fmt == "oci-archive":  # the manifest itself is kept, so its digest too
        with tarfile.open(archive) as t:
            index = json.load(t.extractfile("index.json"))
        assert info["Digest"] == index["manifests"][0]["digest"]
    check_blobs_verified(cell)
    # And the layers are what podman put in: same files in the rootfs.
    merged = cell.ok("rootfs", "create", "r", "localhost/rt:1").strip()
    try:
        assert sorted(os.listdir(merged)) == sorted(os.listdir(rootfs))
        assert os.path.islink(os.path.join(merged, "bin", "sh"))
    finally:
        cell.ok("rootfs", "rm", "r")


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_cell_save_then_podman_load_keeps_the_id(cell, podman, rootfs, test_dir, fmt):
    tb = rootfs_tarball(rootfs, os.path.join(test_dir, "rootfs.tar.gz"), "gz")
    cid = cell.ok("import", tb, "localhost/cs:2").strip()
    archive = os.path.join(test_dir, "c.tar")
    cell.ok("save", "--format", fmt, "-o", archive, "localhost/cs:2")
    assert not [n for n in os.listdir(test_dir) if ".tmp-" in n]
    out = podman.ok("load", "-i", archive)
    assert "localhost/cs:2" in out
    assert podman.image_id("localhost/cs:2") == cid


def test_cell_save_load_round_trip_keeps_digests(cell, test_dir):
    a = small_tarball(os.path.join(test_dir, "a.tar"), {"f": b"1"}, "gz")
    cell.ok("import", a, "x/one:1")
    cell.ok("tag", "x/one:1", "x/one:2")
    before = cell.inspect("x/one:1")
    for fmt in ("oci-archive", "docker-archive"):
        archive = os.path.join(test_dir, fmt + ".tar")
        cell.ok("save", "--format", fmt, "-o", archive, "x/one:1", "x/one:2")
        other = Cell(cell.path, os.path.join(test_dir, "other-" + fmt))
        out = other.ok("load", "-i", archive)
        assert out == "Loaded image: x/one:1\nLoaded image: x/one:2\n"
        after = other.inspect("x/one:2")
        assert after["Id"] == before["Id"]
        assert after["RootFS"] == before["RootFS"]
        if fmt == "oci-archive":  # blobs copied as they are
            assert after["Digest"] == before["Digest"]
    # Through a pipe: save to standard output, load from standard input.
    saved = cell.run("save", "x/one:1")
    assert saved.returncode == 0, saved.stderr.decode()
    piped = Cell(cell.path, os.path.join(test_dir, "piped"))
    assert piped.ok("load", input=saved.stdout) == "Loaded image: x/one:1\n"
    assert piped.inspect("x/one:1")["Id"] == before["Id"]


def test_load_refuses_a_tampered_blob(cell, test_dir):
    a = small_tarball(os.path.join(test_dir, "a.tar"), {"f": b"payload"})
    cell.ok("import", a, "t")
    archive = os.path.join(test_dir, "oci.tar")
    cell.ok("save", "--format", "oci-archive", "-o", archive, "t")
    layer = cell.inspect("t")["Layers"][0]["Digest"][7:]
    # Rewrite the archive with one byte of the layer blob changed.
    bad = os.path.join(test_dir, "bad.tar")
    with tarfile.open(archive) as src, tarfile.open(bad, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name.endswith(layer):
                data = data.replace(b"payload", b"paYload")
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    other = Cell(cell.path, os.path.join(test_dir, "other"))
    line = other.fail("load", "-i", bad)
    assert "blob digest mismatch: expected sha256:" + layer in line
    assert other.records() == {}
    assert layer not in other.blobs()
    check_blobs_verified(other)


def test_kill_mid_write_leaves_no_half_blob(cell, test_dir):
    """cell import from a pipe that stalls halfway; SIGKILL while the blob is
    open; nothing partial is visible and the store works afterwards."""
    cell.ok("images")  # make the store
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as t:
        info = tarfile.TarInfo("big")
        info.size = 8 << 20
        t.addfile(info, io.BytesIO(os.urandom(info.size)))
    data = data.getvalue()
    p = subprocess.Popen([cell.path, "--root", cell.root, "import", "-", "big"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(data[:len(data) // 2])
        p.stdin.flush()
        tmp = os.path.realpath(os.path.join(cell.root, "tmp"))

        def writing():  # an unnamed file of the store's tmp/ is open
            assert p.poll() is None, p.stderr.read().decode()
            for fd in os.listdir(f"/proc/{p.pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{p.pid}/fd/{fd}")
                    if target.startswith(tmp + "/") and os.path.getsize(
                            f"/proc/{p.pid}/fd/{fd}") > 0:
                        return True
                except OSError:  # closed meanwhile
                    continue
            return False

        wait_for(writing, what="cell import writing its blob")
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()
        p.stdout.close()
        p.stderr.close()
    assert cell.blobs() == set()
    assert cell.records() == {}
    assert cell.ok("images").splitlines()[1:] == []
    assert os.listdir(os.path.join(cell.root, "tmp")) == []
    # The same import, uninterrupted, completes.
    image_id = cell.ok("import", "-", "big", input=data).strip()
    assert cell.inspect("big")["Id"] == image_id
    check_blobs_verified(cell)


def test_concurrent_imports_keep_every_record(cell, test_dir):
    cell.ok("images")
    procs = []
    for i in range(6):
        tb = small_tarball(os.path.join(test_dir, f"{i}.tar"), {f"f{i}": b"x" * i})
        procs.append(subprocess.Popen([cell.path, "--root", cell.root, "import", tb, f"c{i}"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    assert sorted(cell.records()) == [f"docker.io/library/c{i}:latest" for i in range(6)]
    check_blobs_verified(cell)
    cell.ok("rmi", *[f"c{i}" for i in range(6)])
    assert cell.blobs() == set()


def test_gc_waits_for_a_writer_in_progress(cell, test_dir):
    """rmi's gc needs the store to itself: while an import is still writing
    (its blob not yet named by any record) the rmi waits, and frees nothing
    of the import's."""
    cell.ok("import", small_tarball(os.path.join(test_dir, "o.tar"), {"o": b"o"}), "old")
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as t:
        info = tarfile.TarInfo("f")
        info.size = 4 << 20
        t.addfile(info, io.BytesIO(b"z" * info.size))
    data = data.getvalue()
    imp = subprocess.Popen([cell.path, "--root", cell.root, "import", "-", "new"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rmi = None
    try:
        imp.stdin.write(data[:len(data) // 2])
        imp.stdin.flush()
        lock = os.path.realpath(os.path.join(cell.root, "lock"))
        wait_for(lambda: any(os.path.realpath(f"/proc/{imp.pid}/fd/{fd}") == lock
                             for fd in os.listdir(f"/proc/{imp.pid}/fd")),
                 what="the import holding the store")
        rmi = subprocess.Popen([cell.path, "--root", cell.root, "rmi", "old"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # The record goes at once; the gc after it waits for the import.
        wait_for(lambda: "docker.io/library/old:latest" not in cell.records(),
                 what="rmi removing the record")
        with pytest.raises(subprocess.TimeoutExpired):
            rmi.wait(0.5)
        new_id, err = imp.communicate(input=data[len(data) // 2:], timeout=60)
        assert imp.returncode == 0, err.decode()
        out, err = rmi.communicate(timeout=60)
        assert (rmi.returncode, out) == (0, b"Untagged: old:latest\n"), err.decode()
    finally:
        for p in (imp, rmi):
            if p and p.poll() is None:
                p.kill()
                p.communicate()
    info = cell.inspect("new")
    assert info["Id"] == new_id.decode().strip()
    assert cell.blobs() == {info["Digest"][7:], info["Id"][7:], info["Layers"][0]["Digest"][7:]}
    check_blobs_verified(cell)


def test_import_save_and_load_through_pipes(cell, test_dir):
    """`import -`, `save` to standard output and `load` from standard input,
    as `cat x.tar | cell import - name` and `cell save a | cell load` run."""
    tb = small_tarball(os.path.join(test_dir, "p.tar"), {"p": b"P" * 100})
    with open(tb, "rb") as f:
        image_id = cell.run("import", "-", "piped:1", input=f.read()).stdout.decode().strip()
    assert cell.inspect("piped:1")["Id"] == image_id
    saved = cell.run("save", "piped:1")
    assert saved.returncode == 0, saved.stderr.decode()
    other = Cell(cell.path, os.path.join(test_dir, "other-root"))
    p = other.run("load", input=saved.stdout)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode() == "Loaded image: piped:1\n"
    assert other.inspect("piped:1")["Id"] == image_id



def library_path(soname):
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True,
                               text=True).stdout.splitlines():
        if line.strip().startswith(soname + " ") and "x86-64" in line:
            return line.split("=>")[1].strip()
    pytest.fail(f"{soname} not in ldconfig -p", pytrace=False)


def without_library(cell, soname, *args):
    """cell with soname unreadable: /dev/null bound over it in a mount
    namespace of the test's own."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
         'mount --bind /dev/null "$0" && exec "$@"', library_path(soname),
         cell.path, "--root", cell.root, *args],
        capture_output=True, text=True, timeout=60)


def one_error_line(p, *words):
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("cell: ") and p.stderr.count("\n") == 1, p.stderr
    for w in words:
        assert w in p.stderr


# libarchive: what fails (and its error names the library); libcrypto: what
# fails (errno ELIBACC: "Can not access a needed shared library").
@pytest.mark.parametrize("soname,failing,words", [
    ("libarchive.so.13", ["import", "save"], ["libarchive.so.13"]),
    ("libcrypto.so.3", ["import", "load"], ["sha256", "shared library"]),
])
def test_libraries_are_loaded_only_by_commands_that_need_them(cell, test_dir, soname,
                                                              failing, words):
    """cell opens libarchive when it first reads or writes tar, and libcrypto
    when it first hashes: without them, commands that need neither run,
    and the ones that do fail with one line that says why, leaving nothing
    behind."""
    tb = small_tarball(os.path.join(test_dir, "a.tar"), {"a": b"A"})
    image_id = cell.ok("import", tb, "a:1").strip()
    saved = os.path.join(test_dir, "saved.tar")
    cell.ok("save", "-o", saved, "a:1")
    blobs = cell.blobs()

    p = without_library(cell, soname, "--version")
    assert p.returncode == 0 and p.stdout.startswith("cell version"), p.stderr
    p = without_library(cell, soname, "images", "--format", "{{.ID}}")
    assert p.returncode == 0 and p.stdout == image_id[7:19] + "\n", p.stderr
    p = without_library(cell, soname, "inspect", "--format", "{{.Id}}", "a:1")
    assert p.returncode == 0 and p.stdout == image_id + "\n", p.stderr

    if "import" in failing:
        one_error_line(without_library(cell, soname, "import", tb, "b:1"), *words)
    if "load" in failing:
        cell.ok("rmi", "a:1")
        left = cell.blobs()
        one_error_line(without_library(cell, soname, "load", "-i", saved), *words)
        assert cell.records() == {} and cell.blobs() == left
        cell.ok("load", "-i", saved)
    assert set(cell.records()) == {"docker.io/library/a:1"} and cell.blobs() == blobs
    if "save" in failing:
        out = os.path.join(test_dir, "out.tar")
        one_error_line(without_library(cell, soname, "save", "-o", out, "a:1"), *words)
        assert not os.path.exists(out)

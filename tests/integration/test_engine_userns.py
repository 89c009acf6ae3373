"""`cell run --userns auto` and `--uidmap`: root inside, an unprivileged range
of ids on the host, as podman does it. The root filesystem is an overlay over
an idmapped view of the image's layers, so root inside owns the image's
files, which stay owned by host root on disk and shared."""
import os
import subprocess
import threading

import pytest

from engine_fixture import Engine, bb_tarball, engine  # noqa: F401 (fixtures)
from helpers import mounts_mentioning, proc_status_field, wait_for

pytestmark = pytest.mark.cell_only

AUTO_BASE = 0x100000
SCRIPT = ("id; cat /proc/self/uid_map /proc/self/gid_map; stat -c '%u %g' / /etc/passwd; "
          "touch /etc/x /root/y /tmp/z && echo mine > /etc/hostname && cat /etc/hostname; "
          "stat -c '%u %g' /etc/x")


def maps_of(engine, name):
    hc = engine.inspect(name)["HostConfig"]
    return hc["UsernsMode"], hc["UidMaps"], hc["GidMaps"]


def snapshot(engine, cid):
    return os.path.join(engine.root, "snapshots", cid)


def host_ids(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid


def running(engine, name, *flags):
    """A detached container that runs SCRIPT, then sleeps; its output and pid."""
    cid = engine.ok("run", "-d", "--name", name, *flags, "bb", "sh", "-c",
                    SCRIPT + "; echo done; sleep 60").strip()
    wait_for(lambda: b"done" in engine.run("logs", name).stdout, what=f"{name} ran its script")
    return cid, engine.ok("logs", name), engine.inspect(name)["State"]["Pid"]


FLAGS = {
    "auto": lambda base: ["--userns", "auto"],
    "uidmap": lambda base: ["--uidmap", f"0:{base}:65536", "--gidmap", f"0:{base}:65536"],
}


def squeeze(out):
    return [" ".join(line.split()) for line in out.splitlines()]


def test_auto_is_root_inside_and_an_unprivileged_range_outside(engine):
    out = engine.ok("run", "--rm", "--userns", "auto", "bb", "sh", "-c", SCRIPT)
    assert squeeze(out) == ["uid=0(root) gid=0(root) groups=0(root)",
                            f"0 {AUTO_BASE} 65536", f"0 {AUTO_BASE} 65536",
                            "0 0", "0 0", "mine", "0 0"]
    assert engine.ids() == [] and mounts_mentioning(engine.root) == []


@pytest.mark.parametrize("mode", ["auto", "uidmap"])
def test_host_view_of_a_mapped_container(engine, mode):
    base = AUTO_BASE if mode == "auto" else 200000
    cid, out, pid = running(engine, mode, *FLAGS[mode](base))
    assert squeeze(out) == ["uid=0(root) gid=0(root) groups=0(root)",
                            f"0 {base} 65536", f"0 {base} 65536",
                            "0 0", "0 0", "mine", "0 0", "done"]
    # From the host: the init runs as the range's first id, not as root.
    assert proc_status_field(pid, "Uid") == [str(base)] * 4
    assert proc_status_field(pid, "Gid") == [str(base)] * 4
    # What it wrote lands in its upper dir under the host ids of its root: the
    # layers are read through the idmapped mount, the upper dir is plain (as
    # podman's is), so root's writes and copy-ups are stored as host uid base.
    upper = os.path.join(snapshot(engine, cid), "upper")
    for p in ("etc", "etc/x", "root/y", "tmp/z"):
        assert host_ids(os.path.join(upper, p)) == (base, base), p
    assert host_ids(upper) == (base, base)
    # The image's files on disk are untouched: host root's, shared.
    layers = os.path.join(engine.root, "layers")
    for layer in os.listdir(layers):
        assert host_ids(os.path.join(layers, layer, "etc", "passwd")) == (0, 0)
    # /etc/hostname is the engine's file, the container root's to rewrite.
    hostname = os.path.join(engine.root, "containers", cid, "hostname")
    assert host_ids(hostname) == (base, base)
    with open(hostname) as f:
        assert f.read() == "mine\n"
    # The way to the root filesystem: searchable by the container's root only
    # where it must be.
    assert os.stat(snapshot(engine, cid)).st_mode & 0o7777 == 0o710
    assert host_ids(snapshot(engine, cid)) == (0, base)
    for d in (engine.root, os.path.join(engine.root, "snapshots")):
        assert os.stat(d).st_mode & 0o001, d
    mode_, uids, gids = maps_of(engine, mode)
    assert mode_ == ("auto" if mode == "auto" else "")
    assert uids == gids == [{"containerID": 0, "hostID": base, "size": 65536}]
    # The idmapped view of the layers was only needed to make the overlay.
    assert [m for m in mounts_mentioning(engine.root) if "idmapped" in m] == []
    engine.ok("rm", "-f", mode)
    assert mounts_mentioning(engine.root) == []
    assert os.listdir(os.path.join(engine.root, "snapshots")) == []
    assert engine.ids() == []


def test_auto_containers_get_ranges_of_their_own(engine):
    """Four creates at once, then one after a removal reuses the freed range."""
    results = {}

    def create(name):
        results[name] = engine.run("create", "--name", name, "--userns", "auto", "bb", "true")

    threads = [threading.Thread(target=create, args=(f"c{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.returncode == 0 for p in results.values()), results
    bases = sorted(maps_of(engine, n)[1][0]["hostID"] for n in results)
    assert bases == [AUTO_BASE + i * 65536 for i in range(4)]
    second = maps_of(engine, "c1")[1][0]["hostID"]
    engine.ok("rm", "c1")
    engine.ok("create", "--name", "again", "--userns", "auto", "bb", "true")
    assert maps_of(engine, "again")[1][0]["hostID"] == second
    # Explicit maps are in use too: auto steps around them.
    engine.ok("create", "--name", "fixed", "--uidmap", f"0:{AUTO_BASE + 4 * 65536}:65536",
              "bb", "true")
    engine.ok("create", "--name", "next", "--userns", "auto", "bb", "true")
    assert maps_of(engine, "next")[1][0]["hostID"] == AUTO_BASE + 5 * 65536


def test_a_mapped_container_restarts_on_its_snapshot(engine):
    engine.ok("run", "-d", "--name", "r", "--userns", "auto", "bb", "sh", "-c",
              "echo $$ >> /root/starts; sleep 60")
    engine.wait_status("r", "running")
    engine.ok("restart", "-t", "0", "r")
    engine.wait_status("r", "running")
    wait_for(lambda: len(engine.ok("exec", "r", "cat", "/root/starts").split()) == 2,
             what="second start recorded")
    assert engine.ok("exec", "r", "id", "-u") == "0\n"
    pid = engine.inspect("r")["State"]["Pid"]
    assert proc_status_field(pid, "Uid")[0] == str(AUTO_BASE)


def test_bad_userns_input_is_one_line_and_leaves_nothing(engine, test_dir, bb_tarball):
    assert engine.fail("run", "--userns", "auto", "--uidmap", "0:200000:65536", "bb", "true",
                       status=125) == "cell: --userns auto cannot be used with --uidmap"
    assert engine.fail("run", "--uidmap", "0:200000:10", "--uidmap", "5:200005:10", "bb", "true",
                       status=125) == ("cell: --uidmap: the kernel refuses the uid_map "
                                       "\"0 200000 10,5 200005 10\": Invalid argument")
    assert engine.ids() == [] and os.listdir(os.path.join(engine.root, "snapshots")) == []
    # A root under a directory the container's root cannot search.
    private = os.path.join(test_dir, "private")
    os.mkdir(private, 0o700)
    e = Engine(engine.path, os.path.join(private, "root"))
    e.ok("import", bb_tarball, "bb")
    try:
        line = e.fail("run", "--rm", "--userns", "auto", "bb", "true", status=125)
        assert line == (f"cell: --userns: {private} (mode 0700) is not searchable by the "
                        f"container's root (host uid {AUTO_BASE}): the root filesystem under "
                        "it cannot be reached")
        assert e.ids() == [] and e.names() == []
        assert os.listdir(os.path.join(e.root, "snapshots")) == []
        assert mounts_mentioning(e.root) == []
        assert os.stat(e.root).st_mode & 0o777 == 0o700, "the root was opened all the same"
    finally:
        for cid in e.ids():
            e.run("rm", "-f", cid)


def kernel_at_least(major, minor):
    release = os.uname().release.split("-")[0].split(".")
    return (int(release[0]), int(release[1])) >= (major, minor)


def test_a_root_on_a_filesystem_without_idmapped_mounts(engine, test_dir, bb_tarball):
    """tmpfs takes idmapped mounts since Linux 6.3: before, the kernel refuses
    to idmap the layers of an engine root on tmpfs, which is one line and
    leaves nothing (Debian 12's 6.1); after, it works."""
    mnt = os.path.join(test_dir, "tmpfs")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", mnt], check=True)
    e = Engine(engine.path, os.path.join(mnt, "root"))
    try:
        e.ok("import", bb_tarball, "bb")
        p = e.run("run", "--rm", "--userns", "auto", "bb", "id", "-u")
        if kernel_at_least(6, 3):
            assert (p.returncode, p.stdout, p.stderr) == (0, b"0\n", b"")
        else:
            line = (f"cell: --userns: this kernel cannot idmap the overlay root filesystem: the "
                    f"filesystem of {e.root} takes no idmapped mounts (tmpfs: Linux 6.3)\n")
            assert (p.returncode, p.stdout, p.stderr.decode()) == (125, b"", line)
        assert e.ids() == [] and e.names() == []
        assert os.listdir(os.path.join(e.root, "snapshots")) == []
        assert mounts_mentioning(e.root) == []
    finally:
        for cid in e.ids():
            e.run("rm", "-f", cid)
        subprocess.run(["umount", "-l", mnt], check=True)

"""Mounts and the root filesystem (config.md "Root", "Mounts";
config-linux.md "Rootfs Mount Propagation", "Masked Paths", "Readonly
Paths")."""

import os
import subprocess

import pytest

from cgroup_helpers import inside_path
from helpers import add_caps, mounts_mentioning, read_file, wait_for


def run_ok(rt, b):
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    return p.stdout


def mountinfo(text):
    """{mount point: (mount options, optional fields, fstype, super options)}
    from /proc/self/mountinfo text (the last mount wins per point)."""
    out = {}
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        f = left.split()
        r = right.split()
        out[f[4]] = (set(f[5].split(",")), f[6:], r[0], set(r[2].split(",")))
    return out


def container_mountinfo(rt, b):
    return mountinfo(run_ok(rt, b.args("cat", "/proc/self/mountinfo")))


@pytest.fixture
def host_mount():
    """host_mount(argv...) runs `mount argv`; every mount made is lazily
    unmounted at the end (before the leak check)."""
    made = []

    def mount(*argv):
        subprocess.run(["mount", *argv], check=True)
        made.append(argv[-1])
    yield mount
    for target in reversed(made):
        subprocess.run(["umount", "-l", target], check=False)


# -- bind mounts ----------------------------------------------------------


def test_bind_dir_rw_is_shared_with_the_host(rt, bundle, hostdir):
    src = hostdir("src")
    with open(os.path.join(src, "from-host"), "w") as f:
        f.write("hello\n")
    b = bundle().sh("cat /mnt/a/from-host; echo from-ct > /mnt/a/from-ct")
    b.bind(src, "/mnt/a", "rbind", "rw")
    assert run_ok(rt, b) == "hello\n"
    assert read_file(os.path.join(src, "from-ct")) == "from-ct\n"


def test_bind_dir_ro_is_readable_not_writable(rt, bundle, hostdir):
    src = hostdir("src")
    with open(os.path.join(src, "f"), "w") as f:
        f.write("data\n")
    b = bundle().sh("cat /mnt/a/f; touch /mnt/a/new 2>/dev/null && echo wrote || echo denied")
    b.bind(src, "/mnt/a", "rbind", "ro")
    assert run_ok(rt, b) == "data\ndenied\n"
    assert os.listdir(src) == ["f"]


def test_bind_file_rw(rt, bundle, test_dir):
    src = os.path.join(test_dir, "hostname-file")
    with open(src, "w") as f:
        f.write("from-host\n")
    b = bundle().sh("cat /etc/hostname; echo changed > /etc/hostname")
    b.bind(src, "/etc/hostname", "bind", "rw")
    assert run_ok(rt, b) == "from-host\n"
    assert read_file(src) == "changed\n"


def test_bind_file_ro(rt, bundle, test_dir):
    src = os.path.join(test_dir, "hosts-file")
    with open(src, "w") as f:
        f.write("127.0.0.1 localhost\n")
    b = bundle().sh("cat /etc/hosts; (echo x >> /etc/hosts) 2>/dev/null && echo wrote || "
                    "echo denied")
    b.bind(src, "/etc/hosts", "bind", "ro")
    assert run_ok(rt, b) == "127.0.0.1 localhost\ndenied\n"
    assert read_file(src) == "127.0.0.1 localhost\n"


def test_rbind_brings_submounts_bind_does_not(rt, bundle, hostdir, host_mount):
    src = hostdir("src")
    sub = os.path.join(src, "sub")
    os.mkdir(sub)
    host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", sub)
    with open(os.path.join(sub, "in-submount"), "w") as f:
        f.write("x\n")
    b = bundle().sh("ls /mnt/a/sub; echo -; ls /mnt/b/sub")
    b.bind(src, "/mnt/a", "rbind", "ro")
    b.bind(src, "/mnt/b", "bind", "ro")
    assert run_ok(rt, b) == "in-submount\n-\n"


USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_bind_source_under_a_dir_the_user_namespace_cannot_enter(rt, bundle, hostdir):
    """Bind sources are opened with the runtime's host credentials (as runc
    and crun do), not by the init after it became the user namespace's
    root: host uid 100000 cannot enter a 0700 directory of host root, yet a
    directory and a file under it are bound."""
    top = hostdir("private")
    os.chmod(top, 0o700)
    src = os.path.join(top, "dir")
    os.mkdir(src)
    with open(os.path.join(src, "in-dir"), "w") as f:
        f.write("dir\n")
    with open(os.path.join(top, "file"), "w") as f:
        f.write("file\n")
    b = bundle().sh("cat /mnt/a/in-dir /etc/hostname; id -u")
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = USERNS_MAP
    b.linux["gidMappings"] = USERNS_MAP
    b.bind(src, "/mnt/a", "rbind", "ro")
    b.bind(os.path.join(top, "file"), "/etc/hostname", "bind", "ro")
    assert run_ok(rt, b) == "dir\nfile\n0\n"


def test_user_namespace_cannot_clear_the_flags_of_a_read_only_host_source(rt, bundle, hostdir,
                                                                         host_mount):
    """A host mount seen from a mount namespace of a user namespace has its
    flags locked: the container's root, even with CAP_SYS_ADMIN, cannot make
    a bind of a read-only, nosuid host mount writable or suid. Opening the
    source with the runtime's credentials must keep that."""
    src = hostdir("ro-src")
    host_mount("--bind", src, src)
    subprocess.run(["mount", "-o", "remount,bind,ro,nosuid", src], check=True)
    b = bundle().sh("for o in rw ro,suid; do"
                    " mount -o remount,bind,$o /mnt/a 2>/dev/null && echo $o || echo locked; done")
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = USERNS_MAP
    b.linux["gidMappings"] = USERNS_MAP
    b.process["capabilities"] = {k: ["CAP_SYS_ADMIN"] for k in
                                 ("bounding", "effective", "permitted")}
    b.bind(src, "/mnt/a", "rbind")
    assert run_ok(rt, b) == "locked\nlocked\n"


def test_bind_mount_of_a_missing_source_fails(rt, bundle, test_dir):
    b = bundle("true")
    b.bind(os.path.join(test_dir, "does-not-exist"), "/mnt/a", "rbind")
    p = rt.run(b)
    assert p.returncode != 0
    assert p.stderr.strip()


def test_missing_destination_is_created_in_the_rootfs(rt, bundle, hostdir, rootfs):
    b = bundle().sh("ls /new/deep/dir")
    own = b.own_rootfs(rootfs)
    src = hostdir("src")
    open(os.path.join(src, "f"), "w").close()
    b.bind(src, "/new/deep/dir", "rbind", "ro")
    assert run_ok(rt, b) == "f\n"
    assert os.path.isdir(os.path.join(own, "new", "deep", "dir"))


# -- other filesystem types -----------------------------------------------


def test_tmpfs_size_and_mode_options(rt, bundle, rootfs):
    b = bundle().sh("stat -c %a /fresh; "
                    "dd if=/dev/zero of=/fresh/small bs=1k count=512 2>/dev/null && echo fits; "
                    "dd if=/dev/zero of=/fresh/big bs=1k count=2048 2>/dev/null || echo full")
    b.own_rootfs(rootfs)
    b.mount("/fresh", "tmpfs", "tmpfs", ["size=1m", "mode=0710", "nosuid", "nodev"])
    assert run_ok(rt, b) == "710\nfits\nfull\n"


@pytest.mark.cell_only
def test_tmpfs_mode_option_wins_over_the_mount_points_mode(rt, bundle):
    """An explicit mode= is what the user asked for. runc instead copies the
    existing mount point's mode (755 here) onto the tmpfs."""
    b = bundle("stat", "-c", "%a", "/mnt/t")
    b.mount("/mnt/t", "tmpfs", "tmpfs", ["size=1m", "mode=0710"])
    assert run_ok(rt, b) == "710\n"


def test_tmpfs_options_show_in_mountinfo(rt, bundle):
    b = bundle()
    b.mount("/mnt/t", "tmpfs", "tmpfs", ["size=1m", "mode=0710", "nosuid", "nodev", "noexec"])
    opts, _, fstype, sopts = container_mountinfo(rt, b)["/mnt/t"]
    assert fstype == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= opts
    assert {"size=1024k", "mode=710"} <= sopts


@pytest.mark.parametrize("dest,fstype,opts", [
    ("/proc", "proc", set()),
    ("/dev", "tmpfs", {"nosuid"}),
    ("/dev/pts", "devpts", {"nosuid", "noexec"}),
    ("/dev/shm", "tmpfs", {"nosuid", "noexec", "nodev"}),
    ("/dev/mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
    ("/sys", "sysfs", {"ro", "nosuid", "noexec", "nodev"}),
])
def test_default_mounts_have_their_type_and_options(rt, bundle, dest, fstype, opts):
    mi = container_mountinfo(rt, bundle())
    assert dest in mi, f"{dest} is not a mount point"
    got_opts, _, got_type, _ = mi[dest]
    assert got_type == fstype
    assert opts <= got_opts


@pytest.mark.parametrize("dest,fstype,source,options", [
    ("/mnt/sys", "sysfs", "sysfs", ["ro", "nosuid", "nodev", "noexec"]),
    ("/mnt/mq", "mqueue", "mqueue", ["nosuid", "nodev", "noexec"]),
    ("/mnt/pts", "devpts", "devpts", ["newinstance", "ptmxmode=0666", "mode=0620"]),
    ("/mnt/t", "tmpfs", "tmpfs", ["size=64k"]),
])
def test_extra_mount_of_each_type(rt, bundle, dest, fstype, source, options):
    """Each option shows where the kernel keeps it: the mount's own flags,
    or the filesystem's (super) options."""
    b = bundle()
    b.mount(dest, fstype, source, options)
    mi = container_mountinfo(rt, b)
    assert dest in mi
    opts, _, got_type, sopts = mi[dest]
    assert got_type == fstype
    shown = {"ptmxmode=0666": "ptmxmode=666", "mode=0620": "mode=620", "size=64k": "size=64k"}
    for o in options:
        if o == "newinstance":  # always so in a mount namespace; not shown
            continue
        assert o in opts or shown.get(o, o) in sopts, (o, opts, sopts)


def test_proc_shows_the_container_pid_namespace(rt, bundle):
    p = run_ok(rt, bundle().sh("ls /proc | grep -E '^[0-9]+$' | sort -n | head -n1"))
    assert p == "1\n"


# The container's own loopback, in its own network namespace: a sysfs file
# that exists on every kernel and that CAP_NET_ADMIN could write.
LO_QLEN = "/sys/class/net/lo/tx_queue_len"


def test_sysfs_is_read_only(rt, bundle):
    b = bundle().sh(f"test -e {LO_QLEN} && echo present; "
                    f"{{ echo 999 > {LO_QLEN} && echo wrote; }} 2>&1; echo end")
    add_caps(b, "CAP_NET_ADMIN")
    out = run_ok(rt, b)
    assert "present" in out and "wrote" not in out and "Read-only file system" in out, out


def test_control_sysfs_mounted_rw_is_writable(rt, bundle):
    """The same write succeeds once sysfs is mounted without "ro": the
    read-only mount is what stopped it above."""
    b = bundle().sh(f"echo 999 > {LO_QLEN} && cat {LO_QLEN}")
    add_caps(b, "CAP_NET_ADMIN")
    for m in b.config["mounts"]:
        if m["destination"] == "/sys":
            m["options"] = [o for o in m["options"] if o != "ro"]
    assert run_ok(rt, b) == "999\n"


def test_cgroup_mount_is_read_only(rt, bundle):
    """mkdir in the container's own cgroup (the memory hierarchy on v1, the
    tree on v2), which exists: only the read-only mount refuses it."""
    own = os.path.dirname(inside_path("memory.limit"))
    b = bundle().sh(f"test -d {own} && echo there; "
                    f"mkdir {own}/x 2>/dev/null && echo made || echo denied")
    assert run_ok(rt, b) == "there\ndenied\n"


@pytest.mark.parametrize("cgroupns", [True, False], ids=["cgroupns", "no-cgroupns"])
def test_cgroup_mount_shows_the_containers_own_memory_limit(rt, bundle, cgroupns):
    """The container's /sys/fs/cgroup (its memory hierarchy on v1) is its
    own cgroup, with or without a cgroup namespace."""
    b = bundle("cat", inside_path("memory.limit"))
    if not cgroupns:
        b.without_namespace("cgroup")
    b.linux["resources"]["memory"] = {"limit": 64 << 20}
    assert run_ok(rt, b) == f"{64 << 20}\n"


# -- masked and read-only paths -------------------------------------------


def test_masked_paths_read_empty(rt, bundle):
    """config-linux.md Masked Paths: a masked file reads empty, a masked
    directory lists empty (these two exist and are non-empty on the host)."""
    assert os.path.getsize("/proc/timer_list") == 0 and read_file("/proc/timer_list")
    assert os.listdir("/sys/firmware")
    b = bundle().sh("wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l")
    assert run_ok(rt, b).split() == ["0", "0"]


def test_readonly_paths_cannot_be_written(rt, bundle):
    b = bundle().sh("echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo wrote || echo denied")
    b.process["capabilities"] = {k: ["CAP_SYS_ADMIN"] for k in
                                 ("bounding", "effective", "permitted")}
    assert run_ok(rt, b) == "denied\n"


def test_added_masked_path_hides_a_file(rt, bundle, hostdir):
    src = hostdir("src")
    with open(os.path.join(src, "secret"), "w") as f:
        f.write("s3cret\n")
    b = bundle().sh("cat /mnt/a/secret; echo .")
    b.bind(src, "/mnt/a", "rbind", "ro")
    b.linux["maskedPaths"].append("/mnt/a/secret")
    assert run_ok(rt, b) == ".\n"


def test_mounts_inside_a_bind_of_a_shared_host_mount_stay_inside(rt, bundle, hostdir):
    """A bind's source on a shared host mount (every mount is shared where
    systemd is PID 1): what the container mounts under the bind, here a
    masked path, must not appear on the host, as with runc, whose binds are
    slaves of the host's mounts unless shared propagation is asked."""
    src = hostdir("shared")
    with open(os.path.join(src, "secret"), "w") as f:
        f.write("s3cret\n")
    subprocess.run(["mount", "--bind", src, src], check=True)
    try:
        subprocess.run(["mount", "--make-shared", src], check=True)
        b = bundle().sh("cat /mnt/a/secret; echo .")
        b.bind(src, "/mnt/a", "rbind", "ro")
        b.linux["maskedPaths"].append("/mnt/a/secret")
        assert run_ok(rt, b) == ".\n"
        assert mounts_mentioning(os.path.join(src, "secret")) == []
    finally:
        for m in reversed(mounts_mentioning(src)):
            subprocess.run(["umount", "-l", m], capture_output=True)


# -- root ------------------------------------------------------------------


def test_readonly_root_refuses_writes(rt, bundle):
    """config.md Root: readonly true makes the root filesystem read-only."""
    b = bundle().sh("touch /newfile 2>/dev/null && echo wrote || echo denied; "
                    "touch /tmp/f 2>/dev/null && echo wrote || echo denied")
    assert run_ok(rt, b) == "denied\ndenied\n"


def test_writable_root_writes_land_in_the_rootfs(rt, bundle, rootfs):
    b = bundle().sh("echo hi > /newfile")
    own = b.own_rootfs(rootfs)
    b.config["root"]["readonly"] = False
    run_ok(rt, b)
    assert read_file(os.path.join(own, "newfile")) == "hi\n"
    assert not os.path.exists(os.path.join(rootfs, "newfile"))


def test_root_path_relative_to_the_bundle(rt, bundle, rootfs):
    b = bundle("cat", "/marker")
    own = b.own_rootfs(rootfs)
    with open(os.path.join(own, "marker"), "w") as f:
        f.write("own rootfs\n")
    b.config["root"]["path"] = "rootfs"
    assert run_ok(rt, b) == "own rootfs\n"


def test_host_paths_are_not_visible(rt, bundle, test_dir):
    """After pivot_root the host's tree is gone: the test dir does not exist
    inside and / is the rootfs."""
    b = bundle().sh(f"ls -d {test_dir} 2>/dev/null || echo absent; ls /")
    out = run_ok(rt, b).split()
    assert out[0] == "absent"
    assert "busybox" not in out and "bin" in out and "etc" in out


# -- symlinks in destinations ------------------------------------------------


def symlink_escape_bundle(bundle, rootfs, hostdir, link_kind):
    """A bundle whose rootfs has /evil -> a host dir (absolutely, or by
    enough ../ to climb out), and a tmpfs mounted at /evil/x."""
    victim = hostdir("victim")
    b = bundle()
    own = b.own_rootfs(rootfs)
    target = victim if link_kind == "absolute" else "../../../../../../../.." + victim
    os.symlink(target, os.path.join(own, "evil"))
    b.mount("/evil/x", "tmpfs", "tmpfs", ["size=64k"])
    b.sh("echo inside > /evil/x/file; stat -f -c %T /evil/x; cat /evil/x/file")
    return b, own, victim


@pytest.mark.parametrize("link_kind", ["absolute", "relative"])
def test_mount_destination_through_symlink_never_touches_the_host(rt, bundle, rootfs, hostdir,
                                                                  link_kind):
    """A destination that traverses a symlink pointing outside the rootfs is
    resolved inside the rootfs (config.md Mounts: destination is in the
    container). Whether the runtime then mounts or refuses, the host dir
    stays untouched and nothing is mounted on the host."""
    b, _, victim = symlink_escape_bundle(bundle, rootfs, hostdir, link_kind)
    rt.run(b)
    assert os.listdir(victim) == []
    assert mounts_mentioning(victim) == []


@pytest.mark.parametrize("link_kind", ["absolute", "relative"])
def test_mount_destination_through_symlink_lands_inside_the_rootfs(rt, bundle, rootfs, hostdir,
                                                                   link_kind):
    """Like runc: the symlink is followed as if the rootfs were /, the
    missing directories are made under the rootfs, and the mount is there."""
    b, own, victim = symlink_escape_bundle(bundle, rootfs, hostdir, link_kind)
    assert run_ok(rt, b) == "tmpfs\ninside\n"
    assert os.listdir(victim) == []
    assert os.path.isdir(os.path.join(own, victim.lstrip("/"), "x"))


# -- propagation -------------------------------------------------------------


@pytest.fixture
def shared_src(hostdir, host_mount):
    """A host dir that is a shared mount (the host root here is private)."""
    src = hostdir("shared")
    host_mount("--bind", src, src)
    subprocess.run(["mount", "--make-shared", src], check=True)
    return src


def propagation_case(rt, bundle, gate, hostdir, host_mount, src, bind_prop, root_prop=None):
    """Starts a container with src bound at /mnt/a, mounts a tmpfs at
    src/sub on the host after it runs, and returns whether the container
    sees it."""
    sub = os.path.join(src, "sub")
    os.mkdir(sub)
    b = bundle()
    g = gate(b)
    out = hostdir("out")
    b.bind(out, "/out")
    b.bind(src, "/mnt/a", "rbind", bind_prop)
    if root_prop:
        b.linux["rootfsPropagation"] = root_prop
    # mountinfo, not the file system type: the source may itself be a
    # tmpfs (a test dir under a tmpfs /tmp, as in tests/vm).
    b.sh(f"{g.wait}; cut -d' ' -f5 /proc/self/mountinfo > /out/mounts")
    rt.create_running(b)
    host_mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", sub)
    g.release()
    rt.wait_status(b.cid, "stopped")
    rt.delete(b.cid)
    return "/mnt/a/sub" in read_file(os.path.join(out, "mounts")).split()


def test_host_mount_propagates_into_rslave_bind_by_default(rt, bundle, gate, hostdir,
                                                           host_mount, shared_src):
    """Without rootfsPropagation the container's mounts are slaves (runc's
    default, rslave): a later host mount under a shared source shows up."""
    assert propagation_case(rt, bundle, gate, hostdir, host_mount, shared_src, "rslave")


def test_host_mount_does_not_propagate_into_rprivate_bind(rt, bundle, gate, hostdir,
                                                          host_mount, shared_src):
    assert not propagation_case(rt, bundle, gate, hostdir, host_mount, shared_src, "rprivate")


# runc 1.1.5 makes / unbindable first, then cannot bind the rootfs onto
# itself ("mount rootfs:rootfs, flags: 0x5000: invalid argument").
RUNC_UNBINDABLE = pytest.mark.peer_differs(
    "runc", reason="config-linux.md Rootfs Mount Propagation: rootfsPropagation "
    "\"value is either shared, slave, private or unbindable\"; runc refuses unbindable")


# runc 1.1.5 applies "shared" to the host's tree in the container's mount
# namespace, and its rootfs, bound from a parent it made private, stays
# private.
RUNC_SHARED_ROOT = pytest.mark.peer_differs(
    "runc", reason="config-linux.md Rootfs Mount Propagation: rootfsPropagation "
    "\"sets the rootfs's mount propagation\"; under runc / inside is private")


@pytest.mark.parametrize("prop", [pytest.param("shared", marks=RUNC_SHARED_ROOT), "slave",
                                  "private", pytest.param("unbindable", marks=RUNC_UNBINDABLE)])
def test_rootfs_propagation_values_are_accepted(rt, bundle, prop):
    """config-linux.md Rootfs Mount Propagation: one of shared, slave,
    private, unbindable; the container's / has it (a slave of this host's
    private root has no master, so it reads as private)."""
    b = bundle()
    b.linux["rootfsPropagation"] = prop
    tags = container_mountinfo(rt, b)["/"][1]
    kinds = {t.split(":")[0] for t in tags}
    want = {"shared": {"shared"}, "unbindable": {"unbindable"}}.get(prop, set())
    assert kinds - {"master"} == want, tags


def test_rootfs_propagation_slave_receives_host_mounts(rt, bundle, gate, hostdir, host_mount,
                                                      shared_src):
    assert propagation_case(rt, bundle, gate, hostdir, host_mount, shared_src, "rslave",
                            root_prop="slave")


def test_rshared_bind_is_a_shared_mount_inside(rt, bundle, hostdir):
    b = bundle()
    b.bind(hostdir("src"), "/mnt/a", "rbind", "rshared")
    b.bind(hostdir("src"), "/mnt/b", "rbind", "rprivate")
    mi = container_mountinfo(rt, b)
    assert any(t.startswith("shared:") for t in mi["/mnt/a"][1])
    assert not any(t.startswith(("shared:", "master:")) for t in mi["/mnt/b"][1])


def test_container_mounts_do_not_appear_on_the_host(rt, bundle, test_dir, rootfs):
    b = bundle("true")
    b.mount("/mnt/t", "tmpfs", "tmpfs", ["size=64k"])
    pid = rt.create_running(b.args("sleep", "1000"))
    wait_for(lambda: os.path.exists(f"/proc/{pid}/mountinfo"))
    with open("/proc/self/mountinfo") as f:
        host = f.read()
    assert rootfs not in host and test_dir not in host
    rt.delete(b.cid, force=True)


# -- no mount namespace --------------------------------------------------------
#
# Every run here happens inside a private mount namespace of the test's own
# (`unshare -m --propagation private`): a runtime that got it wrong would
# otherwise pivot this machine's root.

IN_PRIVATE_MNTNS = r'''
cd "$1"; shift
mount --make-rshared /
cat /proc/self/mountinfo > mi-before; ls -a / > root-before
"$@" > stdout 2> stderr < /dev/null; echo $? > rc
cat /proc/self/mountinfo > mi-after; ls -a / > root-after
'''


def run_in_private_mntns(rt, b, hostdir):
    """`run` of b in a fresh private mount namespace whose mounts were made
    shared (in peer groups of its own): what the caller had before and
    after, and what the container said."""
    out = hostdir("mntns")
    subprocess.run(["unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                    IN_PRIVATE_MNTNS, "sh", out, *rt.argv("run", "--bundle", b, b.cid)],
                   timeout=60)
    return {name: read_file(os.path.join(out, name)) for name in os.listdir(out)}


def mounts_outside(text, rootfs):
    """The mountinfo lines whose mount point is not in rootfs."""
    return [line for line in text.splitlines()
            if line.split()[4] != rootfs and not line.split()[4].startswith(rootfs + "/")]


def without_mount_namespace(bundle):
    b = bundle().without_namespace("mount")
    b.linux.pop("maskedPaths", None)
    b.linux.pop("readonlyPaths", None)
    return b


# runc 1.1.5 makes the caller's / rslave (its shared:N tag goes) without a
# mount namespace of the container's own.
@pytest.mark.peer_differs(
    "runc", reason="config-linux.md Namespaces: a namespace not listed is inherited from the "
    "runtime, whose mount table is not the container's to change; runc makes its / rslave")
def test_without_a_mount_namespace_the_callers_root_and_mounts_stay(rt, bundle, hostdir, rootfs):
    """No "mount" in linux.namespaces: the container shares the caller's
    mount namespace (config-linux.md), so there is no pivot_root (it would
    swap the caller's root) and no change to the caller's mounts outside the
    rootfs, their propagation included. The container still sees the
    rootfs as its root, with its own /proc."""
    b = without_mount_namespace(bundle).sh("ls /; echo pid=$$; grep -c . /proc/self/mountinfo")
    r = run_in_private_mntns(rt, b, hostdir)
    assert r["rc"] == "0\n", r["stderr"]
    lines = r["stdout"].splitlines()
    assert lines[:-2] == sorted(os.listdir(rootfs))
    assert lines[-2] == "pid=1"
    assert r["root-after"] == r["root-before"]
    assert mounts_outside(r["mi-after"], rootfs) == mounts_outside(r["mi-before"], rootfs)


@pytest.mark.peer_differs(
    "runc", reason="config.md Root: readonly \"If true then the root filesystem MUST be read-only "
    "inside the container\"; runc ignores it without a mount namespace")
def test_without_a_mount_namespace_root_readonly_holds(rt, bundle, hostdir, rootfs):
    """root.readonly applies to the rootfs's own bind: the container cannot
    write its root, and the caller's mount that holds the rootfs stays
    writable."""
    b = without_mount_namespace(bundle).sh("touch /ro-test 2>/dev/null && echo wrote || echo refused")
    own = b.own_rootfs(rootfs)
    r = run_in_private_mntns(rt, b, hostdir)
    assert r["rc"] == "0\n", r["stderr"]
    assert r["stdout"] == "refused\n"
    assert not os.path.exists(os.path.join(own, "ro-test"))
    assert mounts_outside(r["mi-after"], own) == mounts_outside(r["mi-before"], own)


def test_masked_paths_without_a_mount_namespace_are_refused(rt, bundle, hostdir):
    """As runc ("unable to restrict sys entries without a private MNT
    namespace"): masking /proc paths in the caller's namespace would mask
    them for the caller. One line, non-zero exit, nothing made."""
    b = bundle("true").without_namespace("mount")
    r = run_in_private_mntns(rt, b, hostdir)
    assert r["rc"] != "0\n"
    assert r["stdout"] == ""
    assert len(r["stderr"].strip().splitlines()) == 1
    assert r["mi-after"] == r["mi-before"]
    assert not os.path.exists(os.path.join(rt.root, b.cid))


@pytest.mark.cell_only
def test_masked_paths_without_a_mount_namespace_error_text(rt, bundle, hostdir):
    b = bundle("true").without_namespace("mount")
    r = run_in_private_mntns(rt, b, hostdir)
    assert r["stderr"] == ("cell-runtime: config.json: linux.maskedPaths, linux.readonlyPaths: "
                           "need a mount namespace of the container's own\n")

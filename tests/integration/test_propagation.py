"""Bind mount propagation, both ways (config.md "Mounts" options rshared,
rslave, rprivate; Kubernetes' mountPropagation Bidirectional,
HostToContainer, None). The bundle's rootfsPropagation is what Kubernetes
sets with them: rshared when a mount is Bidirectional, rslave otherwise.

PID 1 here is not systemd, so the host's mounts may be private: each test
makes its own shared mount point (a tmpfs, --make-shared) as the bind
source, mounts under it on the host and, through `exec` with
CAP_SYS_ADMIN, inside the container, and looks at both sides. Everything
is unmounted at the end, also on failure."""

import os
import subprocess

import pytest

from helpers import wait_for


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def mounts_inside(rt, cid):
    p = rt("exec", cid, "cat", "/proc/self/mountinfo")
    assert p.returncode == 0, p.stderr
    return {line.split()[4] for line in p.stdout.splitlines()}


@pytest.fixture
def shared_tmpfs(hostdir):
    """A host tmpfs in its own shared peer group, with the directories
    host/ and ct/ to mount on; lazily unmounted with all below it."""
    src = hostdir("shared")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", src], check=True)
    try:
        subprocess.run(["mount", "--make-shared", src], check=True)
        os.mkdir(os.path.join(src, "host"))
        os.mkdir(os.path.join(src, "ct"))
        yield src
    finally:
        subprocess.run(["umount", "-l", src], check=False)


class Case:
    """A running container with src bound at /mnt/a with the given
    propagation; it is deleted at the end."""

    def __init__(self, rt, bundle, src, bind_prop, root_prop):
        self.rt, self.src = rt, src
        b = bundle("sleep", "1000")
        b.bind(src, "/mnt/a", "rbind", bind_prop)
        b.linux["rootfsPropagation"] = root_prop
        b.process["capabilities"] = {k: ["CAP_SYS_ADMIN"] for k in
                                     ("bounding", "effective", "permitted")}
        self.cid = b.cid
        rt.create_running(b)

    def host_mount_seen_inside(self):
        target = os.path.join(self.src, "host")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", target], check=True)
        try:
            return "/mnt/a/host" in mounts_inside(self.rt, self.cid)
        finally:
            subprocess.run(["umount", target], check=True)

    def container_mount_seen_on_host(self):
        """Whether a mount made in the container shows on the host, and
        whether its unmount does too (None when the mount never showed)."""
        target = os.path.join(self.src, "ct")
        p = self.rt("exec", self.cid, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                    "/mnt/a/ct")
        assert p.returncode == 0, p.stderr
        seen = target in host_mounts()
        p = self.rt("exec", self.cid, "umount", "/mnt/a/ct")
        assert p.returncode == 0, p.stderr
        if not seen:
            return False, None
        return True, target not in host_mounts()

    def close(self):
        self.rt.delete(self.cid, force=True)


@pytest.fixture
def case(rt, bundle, shared_tmpfs):
    made = []

    def make(bind_prop, root_prop):
        c = Case(rt, bundle, shared_tmpfs, bind_prop, root_prop)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def test_rshared_bind_propagates_container_mounts_to_the_host(case):
    """Bidirectional: a mount made in the container under the bind shows
    on the host, and so does its unmount."""
    c = case("rshared", "rshared")
    assert c.container_mount_seen_on_host() == (True, True)


def test_rshared_bind_receives_host_mounts(case):
    c = case("rshared", "rshared")
    assert c.host_mount_seen_inside()


def test_rslave_bind_receives_host_mounts(case):
    """HostToContainer."""
    c = case("rslave", "rslave")
    assert c.host_mount_seen_inside()


def test_rslave_bind_keeps_container_mounts_from_the_host(case):
    c = case("rslave", "rslave")
    assert c.container_mount_seen_on_host() == (False, None)


def test_rprivate_bind_receives_no_host_mounts(case):
    c = case("rprivate", "rslave")
    assert not c.host_mount_seen_inside()


def test_rprivate_bind_keeps_container_mounts_from_the_host(case):
    c = case("rprivate", "rslave")
    assert c.container_mount_seen_on_host() == (False, None)


def test_rshared_root_keeps_the_containers_own_mounts_from_the_host(case, rootfs, test_dir):
    """rootfsPropagation rshared makes the container's / shared, but in a
    peer group of its own: its /proc, /dev and a mount made on / do not
    reach the host, nor does the rootfs's bind onto itself."""
    c = case("rshared", "rshared")
    p = c.rt("exec", c.cid, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/mnt/b")
    assert p.returncode == 0, p.stderr
    assert not any(m == rootfs or m.startswith(rootfs + "/") for m in host_mounts())

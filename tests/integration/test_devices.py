"""/dev in the container (config-linux.md "Default Devices", "Devices",
runtime-linux.md "Dev symbolic links")."""

import pytest


def run_ok(rt, b):
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    return p.stdout


DEFAULT_DEVICES = {  # path -> (major, minor)
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
    "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}


@pytest.mark.parametrize("path", sorted(DEFAULT_DEVICES))
def test_default_device_is_a_char_device_with_its_numbers(rt, bundle, path):
    # stat prints major/minor in hex
    out = run_ok(rt, bundle("stat", "-c", "%F %t %T %a", path)).split()
    major, minor = DEFAULT_DEVICES[path]
    assert out[:3] == ["character", "special", "file"]
    assert (int(out[3], 16), int(out[4], 16)) == (major, minor)
    assert out[5] == "666"


def test_default_devices_work(rt, bundle):
    b = bundle().sh("echo gone > /dev/null && echo null-ok; "
                    "head -c 4 /dev/zero | od -An -tx1; "
                    "head -c 16 /dev/urandom | wc -c; "
                    "echo x 2>/dev/null > /dev/full || echo full-refused")
    out = run_ok(rt, b).split("\n")
    assert out[0] == "null-ok"
    assert out[1].split() == ["00"] * 4
    assert out[2].strip() == "16"
    assert out[3] == "full-refused"


@pytest.mark.parametrize("link,target", [
    ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
])
def test_dev_symlinks(rt, bundle, link, target):
    assert run_ok(rt, bundle("readlink", link)) == target + "\n"


def test_dev_ptmx_leads_to_the_devpts_instance(rt, bundle):
    """runtime-linux.md: /dev/ptmx -> pts/ptmx (or the same device)."""
    b = bundle().sh("readlink /dev/ptmx || stat -c '%t:%T' /dev/ptmx; stat -c '%t:%T' /dev/pts/ptmx")
    first, second = run_ok(rt, b).split()
    assert first in ("pts/ptmx", "/dev/pts/ptmx", "5:2")
    assert second == "5:2"


def test_no_host_devices_leak_in(rt, bundle):
    out = run_ok(rt, bundle("ls", "/dev")).split()
    for host_only in ("vda", "sda", "mem", "kmsg", "loop0", "kvm"):
        assert host_only not in out


# c 240:0 is in the "local/experimental" range: no driver claims it here, so
# opening it fails with ENXIO when the device cgroup lets it through and with
# EPERM when the cgroup denies it. Harmless either way.
PROBE = "head -c 1 /dev/probe 2>&1 >/dev/null | grep -o -e 'not permitted' -e 'No such device'"


def test_device_cgroup_denies_a_device_not_allowed(rt, bundle):
    """config-linux.md "Device allowlist": the default rule denies every
    device that is not listed, so opening the node is not permitted."""
    b = bundle().sh(PROBE)
    b.linux["devices"] = [{"path": "/dev/probe", "type": "c", "major": 240, "minor": 0,
                           "fileMode": 0o666, "uid": 0, "gid": 0}]
    assert run_ok(rt, b) == "not permitted\n"


def test_device_cgroup_allows_a_listed_device(rt, bundle):
    b = bundle().sh(PROBE)
    b.linux["devices"] = [{"path": "/dev/probe", "type": "c", "major": 240, "minor": 0,
                           "fileMode": 0o666, "uid": 0, "gid": 0}]
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 240, "minor": 0, "access": "rw"})
    assert run_ok(rt, b) == "No such device\n"


def test_linux_devices_creates_the_node_with_mode_and_owner(rt, bundle):
    b = bundle("stat", "-c", "%F|%t:%T|%a|%u|%g", "/dev/mydev")
    b.linux["devices"] = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 7,
                           "fileMode": 0o640, "uid": 1000, "gid": 65534}]
    assert run_ok(rt, b) == "character special file|1:7|640|1000|65534\n"


def test_linux_devices_node_is_usable_when_allowed(rt, bundle):
    """With an allow rule in resources.devices, c 1:7 (a 'full' device)
    behaves like /dev/full."""
    b = bundle().sh("head -c 3 /dev/mydev | od -An -tx1; "
                    "echo x 2>/dev/null > /dev/mydev || echo write-full")
    b.linux["devices"] = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 7,
                           "fileMode": 0o666, "uid": 0, "gid": 0}]
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"})
    out = run_ok(rt, b).split("\n")
    assert out[0].split() == ["00"] * 3
    assert out[1] == "write-full"


def test_linux_devices_in_a_subdirectory(rt, bundle):
    b = bundle("stat", "-c", "%F %t:%T", "/dev/sub/dir/mydev")
    b.linux["devices"] = [{"path": "/dev/sub/dir/mydev", "type": "c", "major": 1, "minor": 7,
                           "fileMode": 0o600}]
    assert run_ok(rt, b) == "character special file 1:7\n"

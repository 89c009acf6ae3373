"""The process and its environment as the program sees them (config.md
"Process", "Hostname", "Domainname"; config-linux.md "Sysctl")."""

import contextlib
import os

import pytest

from helpers import host_sysctl_unchanged, runtime_name

# CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_AUDIT_WRITE 29: the default set
DEFAULT_CAP_MASK = (1 << 5) | (1 << 10) | (1 << 29)


def run_ok(rt, b):
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    return p.stdout


def status_fields(text):
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def test_hostname_is_set_in_the_uts_namespace(rt, bundle):
    with host_sysctl_unchanged("kernel.hostname"):
        b = bundle().sh("hostname; cat /proc/sys/kernel/hostname")
        b.config["hostname"] = "box-1"
        assert run_ok(rt, b) == "box-1\nbox-1\n"


# runc 1.1.5 (runtime-spec 1.0.2, before "domainname") ignores the field.
@pytest.mark.peer_differs(
    "runc", reason="config.md Domainname: \"domainname ... On Linux, for example, this will "
    "change the domainname in the container UTS namespace\"; runc leaves it (none)")
def test_domainname_is_set_in_the_uts_namespace(rt, bundle):
    with host_sysctl_unchanged("kernel.domainname"):
        b = bundle().sh("cat /proc/sys/kernel/domainname")
        b.config["domainname"] = "example.test"
        assert run_ok(rt, b) == "example.test\n"


def test_env_is_exactly_the_configured_environment(rt, bundle):
    """PID 1's environment: what process.env says (runtimes may add HOME)."""
    b = bundle("cat", "/proc/1/environ")
    env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY=", "MULTI=a=b=c", "HOME=/home/x"]
    b.process["env"] = env
    seen = run_ok(rt, b).rstrip("\0").split("\0")
    assert sorted(seen) == sorted(env)


def test_env_reaches_the_shell(rt, bundle):
    b = bundle().sh('echo "$FOO|$EMPTY|$MULTI"')
    b.process["env"] += ["FOO=bar baz", "EMPTY=", "MULTI=a=b=c"]
    assert run_ok(rt, b) == "bar baz||a=b=c\n"


def test_cwd_is_the_working_directory(rt, bundle):
    b = bundle().sh("pwd")
    b.process["cwd"] = "/home/user"
    assert run_ok(rt, b) == "/home/user\n"


def test_args0_is_looked_up_in_the_path_of_process_env(rt, bundle):
    b = bundle("busybox", "echo", "found")
    b.process["env"] = ["PATH=/nonexistent:/bin"]
    assert run_ok(rt, b) == "found\n"


def test_user_uid_gid_and_additional_gids(rt, bundle):
    """config.md "User": uid, gid, additionalGids become the process's ids
    and supplementary groups (nothing else)."""
    b = bundle().sh("id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534]}
    lines = run_ok(rt, b).splitlines()
    assert lines[:2] == ["1000", "1000"]
    f = status_fields("\n".join(lines[2:]))
    assert f["Uid"].split() == ["1000"] * 4
    assert f["Gid"].split() == ["1000"] * 4
    assert sorted(f["Groups"].split(), key=int) == ["5", "65534"]


def test_user_without_additional_gids_has_no_supplementary_groups(rt, bundle):
    b = bundle().sh("grep '^Groups:' /proc/self/status")
    b.process["user"] = {"uid": 65534, "gid": 65534}
    assert run_ok(rt, b).split() == ["Groups:"]


@contextlib.contextmanager
def runtime_groups(gids):
    """The runtime runs with these supplementary groups (it inherits ours)."""
    old = os.getgroups()
    os.setgroups(gids)
    try:
        yield
    finally:
        os.setgroups(old)


# crun's annotation (podman's --group-add keep-groups, distrobox); runc
# ignores it, so crun is the peer to compare with.
def skip_on_runc():
    if runtime_name() == "runc":
        pytest.skip("run.oci.keep_original_groups is crun's; runc ignores it")


def groups_seen(rt, b):
    with runtime_groups([5, 7, 4242]):
        return sorted(run_ok(rt, b).split()[1:], key=int)


def test_keep_original_groups_keeps_the_callers_groups(rt, bundle):
    """With the annotation, no setgroups: the container's process has the
    runtime's supplementary groups, not additionalGids."""
    skip_on_runc()
    b = bundle().sh("grep '^Groups:' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [33]}
    b.config["annotations"] = {"run.oci.keep_original_groups": "1"}
    assert groups_seen(rt, b) == ["5", "7", "4242"]


def test_keep_original_groups_zero_or_absent_sets_additional_gids(rt, bundle):
    b = bundle().sh("grep '^Groups:' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [33]}
    assert groups_seen(rt, b) == ["33"]
    b.config["annotations"] = {"run.oci.keep_original_groups": "0"}
    assert groups_seen(rt, b) == ["33"]


def test_user_nobody_cannot_write_a_root_owned_dir(rt, bundle, hostdir):
    out = hostdir("out")
    os.chmod(out, 0o755)
    b = bundle().sh("touch /out/x 2>/dev/null && echo wrote || echo denied")
    b.bind(out, "/out")
    b.process["user"] = {"uid": 65534, "gid": 65534}
    assert run_ok(rt, b) == "denied\n"
    assert os.listdir(out) == []


def test_umask_is_applied(rt, bundle, hostdir):
    out = hostdir("out")
    b = bundle().sh("umask; touch /out/f; mkdir /out/d")
    b.bind(out, "/out")
    b.process["user"]["umask"] = 0o077
    assert run_ok(rt, b) == "0077\n"
    assert os.stat(os.path.join(out, "f")).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(out, "d")).st_mode & 0o777 == 0o700


def test_rlimits_soft_and_hard(rt, bundle):
    """config.md "POSIX process": rlimits. Hard limits stay within the host's
    (no CAP_SYS_RESOURCE here), so only lowering is possible."""
    b = bundle().sh("ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc")
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048},
                            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    assert run_ok(rt, b).split() == ["1024", "2048", "0", "0"]


def test_rlimit_nofile_is_enforced(rt, bundle):
    """With nofile 64 descriptor 63 can be opened and 64 cannot."""
    b = bundle().sh("(exec 63</dev/null) && echo fd63 ok; "
                    "(exec 64</dev/null) 2>/dev/null || echo fd64 refused")
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64}]
    assert run_ok(rt, b) == "fd63 ok\nfd64 refused\n"


def test_oom_score_adj(rt, bundle):
    b = bundle("cat", "/proc/self/oom_score_adj")
    b.process["oomScoreAdj"] = 500
    assert run_ok(rt, b) == "500\n"


def test_no_new_privileges_true(rt, bundle):
    b = bundle().sh("grep '^NoNewPrivs:' /proc/self/status")
    b.process["noNewPrivileges"] = True
    assert run_ok(rt, b).split() == ["NoNewPrivs:", "1"]


def test_no_new_privileges_false(rt, bundle):
    b = bundle().sh("grep '^NoNewPrivs:' /proc/self/status")
    b.process["noNewPrivileges"] = False
    assert run_ok(rt, b).split() == ["NoNewPrivs:", "0"]


def test_capabilities_are_exactly_the_configured_sets(rt, bundle):
    """config.md "Linux process": capabilities. The default config lists no
    inheritable set, so no ambient capability can be raised (the kernel
    needs it permitted and inheritable)."""
    b = bundle().sh("grep '^Cap' /proc/self/status")
    f = status_fields(run_ok(rt, b))
    for key in ("CapBnd", "CapEff", "CapPrm"):
        assert int(f[key], 16) == DEFAULT_CAP_MASK, key
    assert int(f["CapInh"], 16) & ~DEFAULT_CAP_MASK == 0
    assert int(f["CapAmb"], 16) & ~DEFAULT_CAP_MASK == 0


def test_ambient_capability_survives_exec_for_a_non_root_user(rt, bundle):
    b = bundle().sh("grep -E '^Cap(Eff|Prm|Amb|Bnd):' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    one = ["CAP_NET_BIND_SERVICE"]
    b.process["capabilities"] = {k: list(one) for k in
                                 ("bounding", "effective", "permitted", "inheritable",
                                  "ambient")}
    f = status_fields(run_ok(rt, b))
    assert {k: int(v, 16) for k, v in f.items()} == {
        "CapPrm": 1 << 10, "CapEff": 1 << 10, "CapBnd": 1 << 10, "CapAmb": 1 << 10}


def test_capability_not_granted_is_denied(rt, bundle):
    """Without CAP_SYS_ADMIN the process cannot change its hostname."""
    b = bundle().sh("hostname other 2>/dev/null && echo changed || echo denied; hostname")
    assert run_ok(rt, b) == "denied\ncell\n"


def test_empty_capabilities_for_a_non_root_user(rt, bundle):
    b = bundle().sh("grep -E '^Cap(Bnd|Eff|Prm|Amb):' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {"bounding": [], "effective": [], "permitted": [],
                                 "ambient": []}
    f = status_fields(run_ok(rt, b))
    assert {int(v, 16) for v in f.values()} == {0}


def test_sysctl_in_a_new_network_namespace(rt, bundle):
    """config-linux.md "Sysctl": applied in the container's namespaces; the
    host's value does not change."""
    with host_sysctl_unchanged("net.ipv4.ip_forward") as host:
        want = "1" if host == "0\n" else "0"
        b = bundle("cat", "/proc/sys/net/ipv4/ip_forward")
        b.linux["sysctl"] = {"net.ipv4.ip_forward": want}
        assert run_ok(rt, b) == want + "\n"


def test_sysctl_in_a_new_ipc_namespace(rt, bundle):
    with host_sysctl_unchanged("kernel.shmmax"):
        b = bundle("cat", "/proc/sys/kernel/shmmax")
        b.linux["sysctl"] = {"kernel.shmmax": "123456789"}
        assert run_ok(rt, b) == "123456789\n"


def test_sysctl_of_a_namespace_the_container_shares_is_refused(rt, bundle):
    """A net.* sysctl without a network namespace would change the host's:
    the runtime must refuse it. (A harmless one, log_martians on lo, and
    restored if a runtime does write it.)"""
    with host_sysctl_unchanged("net.ipv4.conf.lo.log_martians") as host:
        b = bundle("true").without_namespace("network")
        b.linux["sysctl"] = {"net.ipv4.conf.lo.log_martians": "1" if host == "0\n" else "0"}
        p = rt.run(b)
        assert p.returncode != 0
        assert p.stderr.strip()


def test_sysctl_kernel_hostname_is_refused(rt, bundle):
    """kernel.hostname is the uts namespace's, but the hostname field says
    what it is: runc refuses the pair's conflict at create, and so does cell."""
    with host_sysctl_unchanged("kernel.hostname"):
        b = bundle("hostname")
        b.linux["sysctl"] = {"kernel.hostname": "from-sysctl"}
        p = rt("create", "--bundle", b, b.cid)
        assert p.returncode != 0, p.stdout
        assert rt("state", b.cid).returncode != 0


@pytest.mark.cell_only
def test_sysctl_kernel_hostname_error_names_the_key(rt, bundle):
    b = bundle("true")
    b.linux["sysctl"] = {"kernel.hostname": "from-sysctl"}
    p = rt("create", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert len(p.stderr.splitlines()) == 1, p.stderr
    assert "linux.sysctl" in p.stderr and "kernel.hostname" in p.stderr, p.stderr


def test_sysctl_kernel_domainname_is_set_in_the_uts_namespace(rt, bundle):
    """kernel.domainname has no field of its own: the sysctl is how to set it."""
    with host_sysctl_unchanged("kernel.domainname"):
        b = bundle("cat", "/proc/sys/kernel/domainname")
        b.linux["sysctl"] = {"kernel.domainname": "from-sysctl.test"}
        assert run_ok(rt, b) == "from-sysctl.test\n"

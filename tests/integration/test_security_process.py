"""The process's security settings as the process sees them: the five
capability sets across the user switch, noNewPrivileges, LSM labels,
personality, scheduler, I/O priority (config.md "Process",
config-linux.md "Personality")."""

import json
import os
import secrets
import shutil
import subprocess

import pytest

from helpers import proc_status_field, runtime_is_peer

CAP = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
       "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_AUDIT_WRITE": 29}


def mask(*names):
    return sum(1 << CAP[n] for n in names)


def caps_seen(rt, b):
    b.sh("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    return {k: int(v, 16) for k, v in (line.split(":") for line in p.stdout.splitlines())}


def set_caps(b, **sets):
    b.process["capabilities"] = {k: list(v) for k, v in sets.items()}


FIVE = dict(bounding=["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                      "CAP_SYS_CHROOT"],
            permitted=["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
            effective=["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            inheritable=["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"],
            ambient=["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"])


def test_five_sets_exactly_as_configured_for_a_user(rt, bundle):
    """uid 1000: execve recomputes the sets, so what the program holds is
    permitted = effective = ambient, bounding and inheritable as given."""
    b = bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000}
    set_caps(b, **FIVE)
    got = caps_seen(rt, b)
    amb = mask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW")
    assert got == {"CapBnd": mask(*FIVE["bounding"]), "CapInh": mask(*FIVE["inheritable"]),
                   "CapPrm": amb, "CapEff": amb, "CapAmb": amb}, got


def test_five_sets_exactly_as_configured_for_root(rt, bundle):
    """uid 0 keeps the permitted set (file capabilities of root) limited by
    the bounding set; ambient as configured."""
    b = bundle()
    set_caps(b, **FIVE)
    got = caps_seen(rt, b)
    assert got["CapBnd"] == mask(*FIVE["bounding"])
    assert got["CapInh"] == mask(*FIVE["inheritable"])
    assert got["CapAmb"] == mask("CAP_NET_BIND_SERVICE", "CAP_NET_RAW")
    # root's execve: permitted = bounding | ambient... within what was permitted
    assert got["CapPrm"] & ~mask(*FIVE["bounding"]) == 0


def test_dropped_capability_really_denies(rt, bundle):
    """CAP_CHOWN dropped: chown of a file fails; the control keeps it."""
    b = bundle().sh("touch /dev/shm/f && chown 1000 /dev/shm/f && echo CHOWNED; echo end")
    set_caps(b, **{k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")})
    p = rt.run(b)
    assert "CHOWNED" not in p.stdout, p.stdout
    c = bundle().sh("touch /dev/shm/f && chown 1000 /dev/shm/f && echo CHOWNED")
    set_caps(c, **{k: ["CAP_KILL", "CAP_CHOWN"] for k in ("bounding", "effective",
                                                          "permitted")})
    assert rt.run(c).stdout == "CHOWNED\n"


def test_spec_gives_runcs_default_capabilities(rt, test_dir):
    rt.ok("spec", "--bundle", test_dir)
    with open(os.path.join(test_dir, "config.json")) as f:
        spec = json.load(f)
    caps = spec["process"]["capabilities"]
    want = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    for k in ("bounding", "effective", "permitted"):
        assert sorted(caps[k]) == want, (k, caps[k])
    assert spec["process"]["noNewPrivileges"] is True


def test_no_new_privileges_blocks_file_capability_gain(rt, bundle):
    """uid 1000 with no capability runs a copy of busybox carrying the file
    capability cap_net_raw+ep: without noNewPrivileges the exec grants it
    (it is in the bounding set), with noNewPrivileges it does not."""
    def case(nnp):
        b = bundle()
        # The kernel ignores file capabilities on a nosuid mount, and a CI's
        # /tmp often is one: the copy lives on a suid tmpfs of the test's own.
        own = os.path.join(b.path, "rootfs")
        os.mkdir(own)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "suid,mode=755", "cell-suid", own],
                       check=True)
        try:
            shutil.copytree(b.config["root"]["path"], own, symlinks=True, dirs_exist_ok=True)
            b.config["root"]["path"] = own
            subprocess.run(["setcap", "cap_net_raw+ep", os.path.join(own, "bin", "busybox")],
                           check=True)
            b.process["user"] = {"uid": 1000, "gid": 1000}
            b.process["noNewPrivileges"] = nnp
            set_caps(b, bounding=["CAP_NET_RAW"], effective=[], permitted=[])
            b.args("/bin/busybox", "grep", "^CapEff:", "/proc/self/status")
            p = rt.run(b)
            return int(p.stdout.split()[1], 16)
        finally:
            subprocess.run(["umount", "-l", own], check=True)
    assert case(True) == 0
    assert case(False) == mask("CAP_NET_RAW")


# -- LSMs: this host has neither; Debian 12's kernel has AppArmor ------------

def host_has_apparmor():
    """AppArmor is active: its module parameter says Y (securityfs, where
    /sys/kernel/security/apparmor would say it too, is not mounted in
    every mount namespace)."""
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().startswith("Y")
    except OSError:
        return False


def host_has_selinux():
    return os.path.exists("/sys/fs/selinux/enforce")


LSM_FIELDS = pytest.mark.parametrize("field,where", [
    ("apparmorProfile", "process"), ("selinuxLabel", "process")])


def run_with_a_label_the_host_cannot_apply(rt, bundle, field, where):
    if field == "apparmorProfile" and host_has_apparmor():
        pytest.skip("AppArmor is enabled on this host (see the not-loaded profile test)")
    if field != "apparmorProfile" and host_has_selinux():
        pytest.skip("SELinux is enabled on this host")
    b = bundle("true")
    b.config[where][field] = "system_u:system_r:container_t:s0" if field != "apparmorProfile" \
        else "cell-default"
    p = rt("run", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert rt("state", b.cid).returncode != 0
    return p.stderr


@LSM_FIELDS
def test_lsm_label_without_the_lsm_is_refused(rt, bundle, field, where):
    run_with_a_label_the_host_cannot_apply(rt, bundle, field, where)


# The message is cell's: runc reports what failed underneath ("write
# /proc/self/attr/exec: invalid argument", "mount tmpfs ... context=...").
@pytest.mark.cell_only
@LSM_FIELDS
def test_lsm_label_refusal_names_the_field(rt, bundle, field, where):
    err = run_with_a_label_the_host_cannot_apply(rt, bundle, field, where)
    assert field in err and "not enabled" in err, err


def test_apparmor_profile_that_is_not_loaded_is_refused(rt, bundle):
    """With AppArmor on, a profile the host has not loaded cannot confine
    the process: the run fails (the kernel refuses the exec label) and no
    container is left, rather than the process running unconfined."""
    if not host_has_apparmor():
        pytest.skip("AppArmor is not enabled on this host (see the without-the-LSM test)")
    profile = f"cell-test-not-loaded-{secrets.token_hex(4)}"
    b = bundle("true")
    b.process["apparmorProfile"] = profile
    p = rt("run", "--bundle", b, b.cid)
    assert p.returncode != 0
    assert "apparmor" in p.stderr.lower(), p.stderr
    if not runtime_is_peer():
        assert "process.apparmorProfile" in p.stderr and profile in p.stderr, p.stderr
    assert rt("state", b.cid).returncode != 0


# runc 1.1 passes context="..." to every labelled mount, and a kernel
# without SELinux refuses the /dev tmpfs with EINVAL; crun leaves it out.
@pytest.mark.cell_only
def test_mount_label_without_selinux_is_ignored(rt, bundle):
    """linux.mountLabel only labels files; without SELinux there is nothing
    to label, and the container runs (as with crun)."""
    if host_has_selinux():
        pytest.skip("SELinux is enabled on this host")
    b = bundle("sh", "-c", "grep -c context= /proc/self/mountinfo; true")
    b.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "0\n"


def test_empty_lsm_labels_are_no_request(rt, bundle):
    b = bundle("true")
    b.process["apparmorProfile"] = ""
    b.process["selinuxLabel"] = ""
    assert rt.run(b).returncode == 0


# -- personality, scheduler, I/O priority --------------------------------------

# runc 1.1.5 implements runtime-spec 1.0.2, which had no personality,
# scheduler or ioPriority: it ignores them as unknown properties.
def runc_ignores(where, quote):
    return pytest.mark.peer_differs(
        "runc", reason=f"{where}: \"{quote}\"; runc 1.1.5 ignores the field")


@runc_ignores("config-linux.md Personality",
              "LINUX32 will set the uname system call to show a 32 bit CPU type")
def test_personality_linux32_shows_a_32_bit_machine(rt, bundle):
    b = bundle("uname", "-m")
    b.linux["personality"] = {"domain": "LINUX32"}
    assert rt.run(b).stdout == "i686\n"
    b.linux["personality"] = {"domain": "LINUX"}
    assert rt.run(b).stdout == "x86_64\n"


@pytest.mark.cell_only
def test_personality_unknown_domain_is_refused(rt, bundle):
    b = bundle("true")
    b.linux["personality"] = {"domain": "PER_SVR4"}
    p = rt.run(b)
    assert p.returncode != 0 and "linux.personality.domain" in p.stderr, p.stderr


def stat_fields(text):
    """nice (field 19) and policy (field 41) from /proc/PID/stat text."""
    rest = text[text.rindex(")") + 2:].split()
    return int(rest[16]), int(rest[38])


RUNC_NO_SCHEDULER = runc_ignores("config.md Process", "scheduler (object, OPTIONAL) is an "
                                  "object describing the scheduler properties for the process")


@RUNC_NO_SCHEDULER
def test_scheduler_policy_and_nice(rt, bundle):
    b = bundle("cat", "/proc/self/stat")
    b.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    nice, policy = stat_fields(rt.run(b).stdout)
    assert (nice, policy) == (7, 3)  # SCHED_BATCH
    b.process["scheduler"] = {"policy": "SCHED_IDLE"}
    assert stat_fields(rt.run(b).stdout)[1] == 5


@RUNC_NO_SCHEDULER
def test_scheduler_is_the_inits_from_the_host(rt, bundle, gate):
    b = bundle()
    g = gate(b)
    b.sh(g.wait)
    b.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 3}
    pid = rt.create_running(b)
    try:
        with open(f"/proc/{pid}/stat") as f:
            assert stat_fields(f.read()) == (3, 3)
    finally:
        g.release()
        rt.wait_status(b.cid, "stopped")
        rt.delete(b.cid)


@pytest.mark.cell_only
def test_scheduler_bad_policy_is_refused(rt, bundle):
    b = bundle("true")
    b.process["scheduler"] = {"policy": "SCHED_ISO"}
    p = rt.run(b)
    assert p.returncode != 0 and "process.scheduler.policy" in p.stderr, p.stderr


@runc_ignores("config.md Process", "ioPriority (object, OPTIONAL) configures the I/O priority "
              "settings for the container's processes")
def test_io_priority(rt, bundle):
    b = bundle("ionice", "-p", "1")
    b.process["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    assert "idle" in rt.run(b).stdout
    b.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    out = rt.run(b).stdout
    assert "best-effort" in out and "6" in out, out


@pytest.mark.cell_only
def test_io_priority_out_of_range_is_refused(rt, bundle):
    b = bundle("true")
    b.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 9}
    p = rt.run(b)
    assert p.returncode != 0 and "process.ioPriority.priority" in p.stderr, p.stderr


def test_features_say_apparmor_and_selinux_are_supported(rt):
    f = json.loads(rt.ok("features").stdout)["linux"]
    assert f["apparmor"]["enabled"] is True and f["selinux"]["enabled"] is True


# -- capabilities the kernel does not know -------------------------------------

def test_unknown_capability_is_skipped_with_a_warning(rt, bundle):
    """config.md: a capability that cannot be mapped MUST be logged as a
    warning and SHOULD NOT fail the container; the known ones still apply."""
    b = bundle()
    set_caps(b, bounding=["CAP_KILL", "CAP_BOGUS"], effective=["CAP_NOPE", "CAP_KILL"],
             permitted=["CAP_KILL"])
    b.sh("grep -E '^Cap(Eff|Bnd):' /proc/self/status")
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    seen = {k: int(v, 16) for k, v in (line.split(":") for line in p.stdout.splitlines())}
    assert seen == {"CapEff": mask("CAP_KILL"), "CapBnd": mask("CAP_KILL")}
    assert "warning" in p.stderr and "CAP_BOGUS" in p.stderr and "CAP_NOPE" in p.stderr, \
        p.stderr


def test_unknown_capability_warning_reaches_the_json_log(rt, bundle, test_dir):
    """--log FILE --log-format json: the warning is a record at level
    "warning" there, as runc writes it."""
    b = bundle("true")
    set_caps(b, bounding=["CAP_BOGUS"])
    log = os.path.join(test_dir, "runtime.log")
    p = rt("--log", log, "--log-format", "json", "run", "--bundle", b, b.cid)
    assert p.returncode == 0, p.stderr
    with open(log) as f:
        records = [json.loads(line) for line in f]
    warnings = [r for r in records if r["level"] == "warning"]
    assert warnings and "CAP_BOGUS" in warnings[0]["msg"], records
    assert not [r for r in records if r["level"] == "error"], records


@pytest.mark.cell_only
def test_unknown_capability_warning_says_where(rt, bundle):
    b = bundle("true")
    set_caps(b, bounding=["CAP_KILL", "CAP_BOGUS"])
    p = rt.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ('cell-runtime: warning: config.json: process.capabilities.bounding[1]: '
                        'unknown capability "CAP_BOGUS", ignored\n'), p.stderr

"""`cell` side by side with podman on the same images: the same stdout and
exit codes for run, exec, logs, ps and inspect.

Two images, the same bytes in both engines:
- the busybox image: the suite's busybox rootfs tarball, `cell import`ed
  and `podman import`ed;
- a Debian 12 image: a root filesystem made here (debian_rootfs) and packed
  once as a docker-archive by `podman import` + `podman save`; that one
  archive is loaded into both with `load -i`.

The Debian root is assembled from this host's installed Debian 12 packages
(the files `dpkg -L` lists, plus what their maintainer scripts would have
made), not by debootstrap: debootstrap --variant=minbase from the mirror
takes about 90 s here (60 s of it downloading 31 MB), which would be most
of this module's time and ties the test to the network, while the host has
the same packages installed: the dependency closure of the required and
essential packages is debootstrap's minbase set (88 packages) plus two that
this host marks required (sensible-utils, liblocale-gettext-perl). Docs,
man pages and translations are left out, as in Debian's slim images.
CELL_TEST_DEBIAN_ROOTFS=<dir> uses a root filesystem made elsewhere (a
debootstrap one) instead.

podman runs as installed here (its containers.conf's default capabilities)
with a store of its own (overlay: vfs copied the Debian root for each
container, 3 to 7 s apiece), cgroupfs, no events, no network, and runc:
crun 1.8 refuses this cgroup v1 hybrid host unless cgroup2 lists no
controllers, and runc needs no trick. Its commands run under the Reaper of
clients_fixture.py: conmon daemonizes, PID 1 here reaps nothing, and podman
waits for conmon to be gone. Neither has a network: cell's default is
none, and podman's containers.conf says netns none (its bridge would need
a network this host cannot give).

Normalised where the engines must differ, and only there: container ids
and the host names that default to them; of ps's times only "Up" is
compared. Where podman differs from Docker and cell follows Docker, the
test says so and asserts each side's output.
"""
import concurrent.futures
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile

import pytest

from clients_fixture import Reapers, cgroup_subtree, close_problems, kill_processes, unmount_under
from engine_fixture import Engine, bb_tarball, cell_path, engine_leaks  # noqa: F401
from helpers import CGROUP_PARENT, rmdir_tree, wait_for

pytestmark = pytest.mark.cell_only

# The same full names in both, so that ps shows the same IMAGE (Docker and
# cell show the name as typed, podman the image's full name).
BB = "localhost/bb:latest"
DEBIAN = "localhost/debian:12"
IMAGES = (BB, DEBIAN)
PODMAN_CGROUP_PARENT = f"{CGROUP_PARENT}/podman-cmp"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_CONTAINERS_CONF = "/usr/share/containers/containers.conf"

# moby's oci/caps default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD
# NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
# AUDIT_WRITE.
DOCKER_DEFAULT_CAPS = 0xa80425fb


# --------------------------------------------------------------------------
# a Debian 12 root filesystem from the host's installed packages

# Left out, as Debian's slim images leave them out (dpkg path-exclude).
SLIM_EXCLUDED = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/locale/", "/usr/share/info/")
MERGED_USR = ("bin", "sbin", "lib", "lib64")


def dpkg_query(*args):
    return subprocess.run(["dpkg-query", *args], capture_output=True, text=True,
                          check=True).stdout


def installed_dependencies():
    """{package: names of the installed packages it depends on} for every
    installed package (of an alternative "a | b", the first installed)."""
    rels = {}
    for line in dpkg_query("-W", "-f",
                           "${Package}\t${db:Status-Status}\t${Pre-Depends},${Depends}\n"
                           ).splitlines():
        name, status, rel = line.split("\t")
        if status == "installed":
            rels[name] = rel
    deps = {}
    for name, rel in rels.items():
        deps[name] = []
        for group in rel.split(","):
            alts = [re.split(r"[\s:(]", a.strip())[0] for a in group.split("|")]
            pick = next((a for a in alts if a in rels), None)
            if pick:
                deps[name].append(pick)
    return deps


def minbase_packages():
    """debootstrap's minbase selection as this host has it installed: the
    required and essential packages, apt, and everything they depend on."""
    deps = installed_dependencies()
    todo = ["apt"]
    for line in dpkg_query("-W", "-f", "${Package}\t${Priority}\t${Essential}\n").splitlines():
        name, priority, essential = line.split("\t")
        if priority == "required" or essential == "yes":
            todo.append(name)
    chosen = set()
    while todo:
        p = todo.pop()
        if p in deps and p not in chosen:
            chosen.add(p)
            todo += deps[p]
    return sorted(chosen)


def copy_from_host(path, root):
    """One path of a package's file list, copied with its mode and owner
    (dirs too: dpkg lists each); a path the host lacks is skipped (the
    host's own path-excludes)."""
    dst = root + path
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if os.path.lexists(dst):
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if stat.S_ISDIR(st.st_mode):
        os.mkdir(dst)
    elif stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(path), dst)
        return
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(path, dst)
    else:
        return
    os.chown(dst, st.st_uid, st.st_gid)
    os.chmod(dst, stat.S_IMODE(st.st_mode))


def write(root, path, data, mode=0o644, gid=0):
    with open(root + path, "w") as f:
        f.write(data)
    os.chown(root + path, 0, gid)
    os.chmod(root + path, mode)


def maintainer_scripts_work(root, packages):
    """What the packages' postinst scripts would have made: base-passwd's
    users and groups, libc-bin's nsswitch.conf and ld.so.cache,
    debianutils' shells, base-files' profile, dot files and directories,
    the alternatives links, and dpkg's status of the packages."""
    share = "/usr/share"
    shutil.copyfile(f"{share}/base-passwd/passwd.master", root + "/etc/passwd")
    shutil.copyfile(f"{share}/base-passwd/group.master", root + "/etc/group")
    with open(root + "/etc/passwd") as f:
        users = [line.split(":")[0] for line in f if line.strip()]
    with open(root + "/etc/group") as f:
        groups = [line.split(":")[0] for line in f if line.strip()]
    shadow_gid = next(int(line.split(":")[2]) for line in open(root + "/etc/group")
                      if line.startswith("shadow:"))
    write(root, "/etc/shadow", "".join(f"{u}:*:19500:0:99999:7:::\n" for u in users),
          0o640, shadow_gid)
    write(root, "/etc/gshadow", "".join(f"{g}:*::\n" for g in groups), 0o640, shadow_gid)
    shutil.copyfile(f"{share}/libc-bin/nsswitch.conf", root + "/etc/nsswitch.conf")
    shutil.copyfile(f"{share}/debianutils/shells", root + "/etc/shells")
    for src, dst in (("dot.profile", "/root/.profile"), ("dot.bashrc", "/root/.bashrc"),
                     ("profile", "/etc/profile"), ("motd", "/etc/motd")):
        shutil.copyfile(f"{share}/base-files/{src}", root + dst)
    for d in ("mnt", "srv", "opt", "etc/opt", "var/opt", "media", "usr/local/bin",
              "usr/local/sbin", "usr/local/lib", "usr/local/include", "usr/local/share/man",
              "usr/local/src", "usr/local/games", "usr/local/etc", "dev", "proc", "sys"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.makedirs(root + "/run/lock", exist_ok=True)
    os.chmod(root + "/run/lock", 0o1777)
    os.symlink("debian", root + "/etc/dpkg/origins/default")
    # update-alternatives: /etc/alternatives/X and the generic names
    # pointing at it, where the chosen program was copied.
    os.makedirs(root + "/etc/alternatives", exist_ok=True)
    for name in os.listdir("/etc/alternatives"):
        link = f"/etc/alternatives/{name}"
        if os.path.islink(link) and os.path.exists(root + os.readlink(link)):
            os.symlink(os.readlink(link), root + link)
    for d in ("/usr/bin", "/usr/sbin"):
        for name in os.listdir(d):
            p = f"{d}/{name}"
            if (os.path.islink(p) and os.readlink(p).startswith("/etc/alternatives/")
                    and os.path.lexists(root + os.readlink(p)) and not os.path.lexists(root + p)):
                os.symlink(os.readlink(p), root + p)
    status = dpkg_query("-s", *packages)
    os.makedirs(root + "/var/lib/dpkg", exist_ok=True)
    write(root, "/var/lib/dpkg/status", status)
    subprocess.run(["ldconfig", "-r", root], check=True)


def debian_rootfs(root):
    """A Debian 12 minbase root filesystem at root, from the host's
    packages (see the module's docstring)."""
    packages = minbase_packages()
    os.makedirs(root)
    for d in MERGED_USR:
        os.makedirs(os.path.join(root, "usr", d))
        os.symlink("usr/" + d, os.path.join(root, d))
    for path in dpkg_query("-L", *packages).splitlines():
        if path.startswith("/") and path != "/." and not path.startswith(SLIM_EXCLUDED):
            copy_from_host(path, root)
    maintainer_scripts_work(root, packages)
    return root


def tar_dir(src, path):
    """src as a layer tarball; "." first, so that / has the root's mode
    rather than each store's default for a directory the layer lacks."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        t.add(src, arcname=".", recursive=False)
        for name in sorted(os.listdir(src)):
            t.add(os.path.join(src, name), arcname=name)
    return path


# --------------------------------------------------------------------------
# the two engines


class Podman:
    """podman with a store, run root, tmp dir and containers.conf of its
    own in d; every command under a reaper."""

    def __init__(self, d):
        self.dir = d
        for sub in ("storage", "run", "tmp", "work"):
            os.makedirs(os.path.join(d, sub))
        conf, storage = os.path.join(d, "containers.conf"), os.path.join(d, "storage.conf")
        with open(conf, "w") as f:
            # CONTAINERS_CONF replaces the system file: its capability list
            # is carried over so that podman keeps the defaults it has here.
            f.write(f"""[containers]
netns = "none"
{system_default_capabilities()}
# The bounding set here lacks CAP_SYS_RESOURCE: podman's default raised
# hard limits could not be set.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
tmp_dir = "{d}/tmp"
image_copy_tmp_dir = "{d}/tmp"
""")
        with open(storage, "w") as f:
            f.write(f"""[storage]
driver = "overlay"
runroot = "{d}/run"
graphroot = "{d}/storage"
""")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": d, "CONTAINERS_CONF": conf,
               "CONTAINERS_STORAGE_CONF": storage, "TMPDIR": os.path.join(d, "tmp")}
        self.reapers = Reapers(os.path.join(d, "work"), env)

    def run(self, *args, timeout=60):
        return self.reapers().run(["podman", *args], timeout=timeout)

    def ok(self, *args, timeout=60):
        p = self.run(*args, timeout=timeout)
        assert p.returncode == 0, f"podman {' '.join(args)}: exit {p.returncode}: {p.stderr}"
        return p.stdout

    def close(self):
        self.run("rm", "-af", "-t", "0")
        self.reapers.close()
        return close_problems(kill_processes(self.dir), unmount_under(self.dir),
                              PODMAN_CGROUP_PARENT)


def system_default_capabilities():
    """The default_capabilities = [...] setting of the system's
    containers.conf, or nothing."""
    try:
        with open(SYSTEM_CONTAINERS_CONF) as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    m = re.search(r"^default_capabilities\s*=\s*\[[^\]]*\]", text, re.M)
    return m.group(0) if m else ""


def debian_archive(podman, test_dir):
    """The Debian image as a docker-archive written by `podman save`."""
    given = os.environ.get("CELL_TEST_DEBIAN_ROOTFS")
    rootfs = given or debian_rootfs(os.path.join(test_dir, "debian-rootfs"))
    layer = tar_dir(rootfs, os.path.join(test_dir, "debian-rootfs.tar"))
    if not given:
        shutil.rmtree(rootfs)
    # The official image's config: PATH and bash.
    podman.ok("import", "--change", f"ENV PATH={IMAGE_PATH}", "--change", 'CMD ["bash"]',
              layer, DEBIAN)
    archive = os.path.join(test_dir, "debian.tar")
    podman.ok("save", "--format", "docker-archive", "-o", archive, DEBIAN)
    podman.ok("rmi", DEBIAN)
    os.unlink(layer)
    return archive


class Result:
    """What one command did: exit status, stdout, stderr (text)."""

    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"


class CellSide:
    name = "cell"

    def __init__(self, engine):
        self.engine = engine

    def __call__(self, *args, timeout=60):
        p = self.engine.run(*args, timeout=timeout)
        return Result(p.returncode, p.stdout.decode(), p.stderr.decode())


class PodmanSide:
    """podman's side: the same words, with --cgroup-parent added to run and
    create so that the leak check finds what a container leaves."""
    name = "podman"

    def __init__(self, podman):
        self.podman = podman

    def __call__(self, *args, timeout=60):
        if args[0] in ("run", "create"):
            args = (args[0], "--cgroup-parent", PODMAN_CGROUP_PARENT, *args[1:])
        p = self.podman.run(*args, timeout=timeout)
        return Result(p.returncode, p.stdout, p.stderr)


class Pair:
    """cell and podman over the same images; both(...) runs the same
    command line in both, side by side."""

    def __init__(self, cell, podman):
        self.cell, self.podman = CellSide(cell), PodmanSide(podman)
        self.engine = cell

    def each(self, fn):
        """{"cell": fn(cell side), "podman": fn(podman side)}, side by side."""
        futures = {side.name: _POOL.submit(fn, side) for side in (self.cell, self.podman)}
        return {name: f.result() for name, f in futures.items()}

    def both(self, *args, timeout=60):
        return self.each(lambda side: side(*args, timeout=timeout))


# Two workers for the module, so that each side keeps its thread (and so
# its podman reaper) from test to test.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)

ID_RE = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b")


def norm(text):
    """Container ids, and host names that default to the short id, as
    <id>: the one thing two engines cannot share."""
    return ID_RE.sub("<id>", text)


def same(results, what, key=lambda r: (r.rc, norm(r.out))):
    """Asserts that cell's key equals podman's; returns it."""
    c, p = key(results["cell"]), key(results["podman"])
    assert c == p, f"{what}: cell and podman differ\n  cell:   {c!r}\n  podman: {p!r}"
    return c


@pytest.fixture(scope="module")
def engines(session_dir, bb_tarball):  # noqa: F811 (the fixture)
    for tool in ("podman", "runc", "dpkg-query"):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            pytest.skip(f"{tool} is not installed (scripts/deps.sh installs podman and runc)")
    path = cell_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"cell binary not found: {path} (build it, or set CELL_BIN)", pytrace=False)
    d = tempfile.mkdtemp(prefix="podcmp-", dir=session_dir)
    os.chmod(d, 0o755)
    podman = Podman(os.path.join(d, "podman"))
    try:
        cell = Engine(path, os.path.join(d, "cellroot"))
        cell.ok("import", bb_tarball, BB)
        podman.ok("import", bb_tarball, BB)
        archive = debian_archive(podman, d)
        assert cell.ok("load", "-i", archive) == f"Loaded image: {DEBIAN}\n"
        assert f"Loaded image: {DEBIAN}" in podman.ok("load", "-i", archive)
        yield Pair(cell, podman)
    finally:
        problems = podman.close()
        shutil.rmtree(d, ignore_errors=True)
        if problems:
            pytest.fail("podman left:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def pair(engines, request):
    """The module's engines; afterwards every container of the test is
    removed from both, and nothing may remain of any (processes, mounts,
    cgroups, names)."""
    yield engines
    cell, podman = engines.engine, engines.podman.podman
    seen = cell.ids()
    for cid in seen:
        cell.run("rm", "-f", cid, timeout=30)
    problems = engine_leaks(cell, seen)
    podman.run("rm", "-af", "-t", "0")
    for d in cgroup_subtree(PODMAN_CGROUP_PARENT):
        if os.path.basename(d).startswith("libpod-"):
            problems.append(f"podman cgroup left: {d}")
            rmdir_tree(d)
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check: " + "; ".join(problems), pytrace=False)


def user_of(image):
    """A user each image has: busybox's user (1000), Debian's www-data."""
    return "1000:1000" if image == BB else "www-data"


def caps(status):
    """{"CapInh": int, ...} of a /proc/<pid>/status text."""
    return {k: int(v, 16) for k, v in re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", status, re.M)}


def cap_set(names):
    """The bit set of capability names, numbered as <linux/capability.h>."""
    numbers = {"CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4,
               "KILL": 5, "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "NET_BIND_SERVICE": 10,
               "NET_RAW": 13, "SYS_CHROOT": 18, "MKNOD": 27, "AUDIT_WRITE": 29, "SETFCAP": 31}
    return sum(1 << numbers[n.upper().removeprefix("CAP_")] for n in names)


def podman_default_caps():
    """podman's default capabilities as its containers.conf sets them
    (compiled-in: Docker's set)."""
    m = re.search(r"\[([^\]]*)\]", system_default_capabilities())
    if not m:
        return DOCKER_DEFAULT_CAPS
    return cap_set(re.findall(r'"(\w+)"', m.group(1)))


# --------------------------------------------------------------------------
# run: one container says many things, each compared on its own


def sections(text):
    """{name: text} of a script's output cut at its "--- name" lines."""
    found, name = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("--- "):
            name = line[4:].strip()
            found[name] = ""
        elif name is not None:
            found[name] += line
    return found


def both_sections(pair, *args):
    """Runs args in both; {section: {"cell": text, "podman": text}} with
    ids normalised, after checking both exited alike."""
    r = pair.both(*args)
    assert r["cell"].rc == r["podman"].rc, r
    cut = {k: sections(norm(v.out)) for k, v in r.items()}
    assert list(cut["cell"]) == list(cut["podman"]), cut
    return r["cell"].rc, {s: {k: cut[k][s] for k in cut} for s in cut["cell"]}


def same_section(got, name):
    c, p = got[name]["cell"], got[name]["podman"]
    assert c == p, f"{name}: cell and podman differ\n  cell:   {c!r}\n  podman: {p!r}"
    return c


ROOT_SCRIPT = """echo --- echo; echo hello
echo --- hostname; hostname; echo "$HOSTNAME"
echo --- env; env | sort
echo --- id; id
echo --- groups; grep ^Groups /proc/self/status
echo --- caps; grep ^Cap /proc/self/status
echo --- ls; ls /
echo --- stat; stat -c '%a %U:%G %n' / /*
echo --- hostname-file; cat /etc/hostname
"""


@pytest.mark.parametrize("image", IMAGES)
def test_run_as_root_by_default(pair, image):
    rc, got = both_sections(pair, "run", "--rm", "-e", "V=set", image, "sh", "-c", ROOT_SCRIPT)
    assert rc == 0
    assert same_section(got, "echo") == "hello\n"
    # Docker's default host name: the short id.
    assert same_section(got, "hostname") == "<id>\n<id>\n"
    # podman adds TERM=xterm (Docker sets TERM only with -t) and
    # container=podman; the rest is the same: Docker's HOME, HOSTNAME,
    # PATH and the -e variable.
    # (PWD, and busybox's SHLVL, are the shell's own.)
    env = {k: [v for v in text.splitlines() if not v.startswith(("PWD=", "SHLVL="))]
           for k, text in got["env"].items()}
    assert env["cell"] == ["HOME=/root", "HOSTNAME=<id>", f"PATH={IMAGE_PATH}", "V=set"]
    assert sorted(env["podman"]) == sorted(env["cell"] + ["TERM=xterm", "container=podman"])
    ls = same_section(got, "ls").split()
    if image == DEBIAN:
        assert ls == ["bin", "boot", "dev", "etc", "home", "lib", "lib64", "media", "mnt", "opt",
                      "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var"]
    # Modes and owners of / and what is in it: the same but for / itself,
    # which podman's overlay store makes 555 (its vfs store and Docker's
    # overlay2 keep the image's 755).
    stat = {k: v.splitlines(keepends=True) for k, v in got["stat"].items()}
    assert stat["cell"][0] == "755 root:root /\n" and stat["podman"][0] == "555 root:root /\n"
    assert stat["cell"][1:] == stat["podman"][1:]
    assert "555 root:root /proc\n" in stat["cell"] and "1777 root:root /tmp\n" in stat["cell"]
    # Docker (moby's getUser) gives the user's primary gid as a
    # supplementary group too; podman gives root none. busybox's id shows
    # only getgroups(2); Debian's prints the primary group either way.
    assert got["groups"]["cell"] == "Groups:\t0 \n"
    assert got["groups"]["podman"] == "Groups:\t \n"
    if image == DEBIAN:
        assert same_section(got, "id") == "uid=0(root) gid=0(root) groups=0(root)\n"
    else:
        assert got["id"]["cell"] == "uid=0(root) gid=0(root) groups=0(root)\n"
        assert got["id"]["podman"] == "uid=0(root) gid=0(root)\n"
    # Docker's /etc/hostname ends with a newline; podman 4.3's does not.
    assert got["hostname-file"]["cell"] == "<id>\n"
    assert got["hostname-file"]["podman"] == "<id>"
    # Docker's default capabilities for cell. podman's are its
    # containers.conf's: Debian's lists 11 of Docker's 14, without NET_RAW,
    # MKNOD and AUDIT_WRITE (containers-common dropped them); with no
    # list, podman's built-in default is Docker's set.
    cell, podman = caps(got["caps"]["cell"]), caps(got["caps"]["podman"])
    assert cell == {"CapInh": 0, "CapPrm": DOCKER_DEFAULT_CAPS, "CapEff": DOCKER_DEFAULT_CAPS,
                    "CapBnd": DOCKER_DEFAULT_CAPS, "CapAmb": 0}
    want = podman_default_caps()
    assert podman == {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0}
    if want != DOCKER_DEFAULT_CAPS:
        assert DOCKER_DEFAULT_CAPS & ~want == cap_set(["NET_RAW", "MKNOD", "AUDIT_WRITE"])
    if image == DEBIAN:
        r = pair.both("run", "--rm", DEBIAN, "cat", "/etc/os-release")
        assert 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' in same(r, "os-release")[1]


FLAGS_SCRIPT = """echo --- echo; echo "V=$V"
echo --- pwd; pwd
echo --- hostname; hostname; cat /etc/hostname; echo
echo --- id; id
echo --- caps; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status
exit 3
"""


@pytest.mark.parametrize("image", IMAGES)
def test_run_with_env_workdir_hostname_user(pair, image):
    rc, got = both_sections(pair, "run", "--rm", "-e", "V=set", "-w", "/tmp", "-h", "box",
                            "-u", user_of(image), image, "sh", "-c", FLAGS_SCRIPT)
    assert rc == 3
    assert same_section(got, "echo") == "V=set\n"
    assert same_section(got, "pwd") == "/tmp\n"
    # (podman's /etc/hostname lacks the newline: the echo after it.)
    assert got["hostname"]["cell"] == "box\nbox\n\n" and got["hostname"]["podman"] == "box\nbox\n"
    assert same_section(got, "id") == (
        "uid=1000(user) gid=1000(user) groups=1000(user)\n" if image == BB else
        "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n")
    assert caps(same_section(got, "caps")) == {"CapInh": 0, "CapPrm": 0, "CapEff": 0,
                                                "CapAmb": 0}


def test_run_as_a_uid_debian_lacks(pair):
    """A uid without a passwd entry: cell, as Docker, leaves /etc/passwd as
    the image has it (`id` finds no name); podman adds an entry "1000" for
    it (its --passwd default), so `id` names it."""
    r = pair.both("run", "--rm", "-u", "1000:1000", DEBIAN, "id")
    assert (r["cell"].rc, r["cell"].out) == (0, "uid=1000 gid=1000 groups=1000\n")
    assert (r["podman"].rc, r["podman"].out) == (
        0, "uid=1000(1000) gid=1000(1000) groups=1000(1000)\n")


@pytest.mark.parametrize("image", IMAGES)
def test_run_a_command_that_cannot_start(pair, image):
    """Docker's documented 127 (not found) and 126 (cannot be invoked).
    Docker also records a failed start (State.ExitCode 127, State.Error);
    podman 4.3 keeps ExitCode 0 and no error. Both say "Created"."""
    r = pair.both("run", "--name", "nf", image, "nosuchcommand")
    assert same(r, "not found", key=lambda r: (r.rc, r.out)) == (127, "")
    assert "nosuchcommand" in r["cell"].err
    cell, podman = (json.loads(side("inspect", "nf").out)[0]["State"]
                    for side in (pair.cell, pair.podman))
    assert cell["Status"] == podman["Status"] == "created"
    assert cell["ExitCode"] == 127 and "nosuchcommand" in cell["Error"]
    assert (podman["ExitCode"], podman["Error"]) == (0, "")
    rows = pair.both("ps", "-a", "--format", "{{.Names}} {{.Status}}")
    assert same(rows, "ps -a") == (0, "nf Created\n")
    pair.both("rm", "nf")
    r = pair.both("run", "--rm", image, "/etc")
    assert same(r, "not executable", key=lambda r: (r.rc, r.out)) == (126, "")


def test_run_killed_is_137(pair):
    """`run` in the foreground returns 137 when its container is killed."""
    def run_and_kill(side):
        name = f"k-{side.name}"
        future = _POOL.submit(side, "run", "--name", name, BB, "sleep", "60")
        wait_for(lambda: side("inspect", "--format", "{{.State.Running}}", name).out == "true\n",
                 timeout=30, interval=0.2, what=f"{name} running")
        assert side("kill", name).rc == 0
        result = future.result(timeout=30)
        side("rm", name)
        return result
    # One side after the other: each one's `run` holds a worker.
    got = {side.name: run_and_kill(side) for side in (pair.cell, pair.podman)}
    assert same(got, "run") == (137, "")


def test_a_missing_workdir_is_made(pair):
    """Docker makes a -w directory the image lacks; podman 4.3 refuses
    (126, "workdir ... does not exist")."""
    r = pair.both("run", "--rm", "-w", "/new/dir", BB, "pwd")
    assert (r["cell"].rc, r["cell"].out) == (0, "/new/dir\n")
    assert r["podman"].rc == 126 and "does not exist" in r["podman"].err


@pytest.mark.parametrize("image", IMAGES)
def test_oom_kill(pair, image, record_property):
    """Killed by the OOM killer at -m 64m: 137 in both. cell records
    State.OOMKilled true, as Docker does; podman 4.3 (conmon on this cgroup
    v1 host) said false: kept as the test's podman_oomkilled property, not
    asserted."""
    r = pair.both("run", "--name", "hog", "-m", "64m", image,
                  "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1")
    assert same(r, "run", key=lambda r: (r.rc, r.out)) == (137, "")
    states = {k: json.loads(v.out)[0]["State"] for k, v in pair.both("inspect", "hog").items()}
    assert (states["cell"]["ExitCode"], states["cell"]["OOMKilled"]) == (137, True)
    assert states["podman"]["ExitCode"] == 137
    record_property("podman_oomkilled", states["podman"]["OOMKilled"])
    pair.both("rm", "hog")


# --------------------------------------------------------------------------
# a detached container: logs, ps, inspect, exec, kill


def table(text):
    """The rows of a ps table as {column: value}, cut where the header's
    words start (both engines pad columns with spaces)."""
    lines = text.splitlines()
    header = lines[0]
    names = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(n) for n in names]
    rows = []
    for line in lines[1:]:
        cut = starts[1:] + [len(line)]
        rows.append({n: line[a:b].strip() for n, a, b in zip(names, starts, cut)})
    return rows


BOX_SCRIPT = "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exec sleep 60"


def inspect_fields(side, name):
    c = json.loads(side("inspect", name).out)[0]
    return {"Running": c["State"]["Running"], "ExitCode": c["State"]["ExitCode"],
            "OOMKilled": c["State"]["OOMKilled"], "Cmd": c["Config"]["Cmd"],
            "V": "V=set" in c["Config"]["Env"], "WorkingDir": c["Config"]["WorkingDir"],
            "Memory": c["HostConfig"]["Memory"], "RestartCount": c["RestartCount"]}


@pytest.mark.parametrize("image", IMAGES)
def test_detached_container(pair, image):
    r = pair.both("run", "-d", "--name", "box", "-e", "V=set", "-w", "/tmp", "-m", "64m", image,
                  "sh", "-c", BOX_SCRIPT)
    assert same(r, "run -d") == (0, "<id>\n")
    ids = {k: v.out.strip() for k, v in r.items()}

    # logs: stdout and stderr apart, as written.
    def logged(side):
        wait_for(lambda: "err2" in side("logs", "box").err, timeout=20, interval=0.2,
                 what=f"{side.name}'s log")
        return side("logs", "box")
    logs = pair.each(logged)
    assert same(logs, "logs", key=lambda r: (r.rc, r.out, r.err)) == (0, "out1\nout2\n",
                                                                       "err1\nerr2\n")

    # ps: the same columns; the same IMAGE and NAMES; each its own id.
    rows = {}
    for name, res in pair.both("ps", "--no-trunc").items():
        assert res.rc == 0, res
        (rows[name],) = [row for row in table(res.out) if row["NAMES"] == "box"]
        assert rows[name]["CONTAINER ID"] == ids[name]
    cell, podman = rows["cell"], rows["podman"]
    assert list(cell) == list(podman) == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                          "PORTS", "NAMES"]
    assert cell["IMAGE"] == podman["IMAGE"] == image
    # Docker quotes the command; podman does not.
    assert cell["COMMAND"] == f'"sh -c {BOX_SCRIPT}"' and podman["COMMAND"] == f"sh -c {BOX_SCRIPT}"
    # "Up 2 seconds" (Docker's words) and "Up 2 seconds ago" (podman's).
    assert cell["STATUS"].startswith("Up ") and podman["STATUS"].startswith("Up ")
    assert cell["PORTS"] == podman["PORTS"] == ""

    # inspect
    fields = pair.each(lambda side: inspect_fields(side, "box"))
    assert same(fields, "inspect", key=lambda f: f) == {
        "Running": True, "ExitCode": 0, "OOMKilled": False, "Cmd": ["sh", "-c", BOX_SCRIPT],
        "V": True, "WorkingDir": "/tmp", "Memory": 64 << 20, "RestartCount": 0}
    # Docker's .Name has a leading slash; podman's has none.
    r = pair.both("inspect", "--format", "{{.Name}}", "box")
    assert (r["cell"].out, r["podman"].out) == ("/box\n", "box\n")
    # Docker's .Config.Env: the image's and the -e ones. podman's has what
    # it adds too (TERM, container, HOME, HOSTNAME).
    env = json.loads(pair.cell("inspect", "--format", "{{json .Config.Env}}", "box").out)
    assert env == ([f"PATH={IMAGE_PATH}"] if image == DEBIAN else []) + ["V=set"]

    # exec: the container's environment and working directory, or the
    # flags'; its exit code.
    r = pair.both("exec", "box", "sh", "-c", 'echo "V=$V"; pwd; id -u; exit 5')
    assert same(r, "exec") == (5, "V=set\n/tmp\n0\n")
    r = pair.both("exec", "-u", user_of(image), "-w", "/", "-e", "W=w", "box", "sh", "-c",
                  'echo "$W $V"; pwd; id -un; grep -E "^Cap(Prm|Eff)" /proc/self/status')
    assert same(r, "exec -u -w -e") == (
        0, f"w set\n/\n{'user' if image == BB else 'www-data'}\nCapPrm:\t{0:016x}\n"
        f"CapEff:\t{0:016x}\n")
    r = pair.both("exec", "box", "grep", "^CapEff", "/proc/self/status")
    assert r["cell"].out == f"CapEff:\t{DOCKER_DEFAULT_CAPS:016x}\n"
    assert r["podman"].out == f"CapEff:\t{podman_default_caps():016x}\n"
    # A command that is not there: Docker 20.10's exec exits 126 (it could
    # not start it), podman 127 (as for run).
    r = pair.both("exec", "box", "nosuchcommand")
    assert (r["cell"].rc, r["podman"].rc) == (126, 127)
    assert r["cell"].out == r["podman"].out == ""

    # kill: 137, as wait and inspect tell.
    assert same(pair.both("kill", "box"), "kill", key=lambda r: r.rc) == 0
    assert same(pair.both("wait", "box"), "wait") == (0, "137\n")
    fields = pair.each(lambda side: inspect_fields(side, "box"))
    assert same(fields, "inspect after kill",
                key=lambda f: (f["Running"], f["ExitCode"], f["OOMKilled"])) == (False, 137, False)
    rows = pair.both("ps", "-a", "--format", "{{.Names}} {{.Status}}")
    assert all(re.fullmatch(r"box Exited \(137\) .*\n", r.out) for r in rows.values()), rows
    assert same(pair.both("rm", "box"), "rm") == (0, "box\n")

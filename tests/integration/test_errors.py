"""Bad input: one clear line on stderr, a non-zero exit, nothing left behind
(runtime.md "Errors": an operation that fails MUST leave the environment as
if it were never attempted; "Create": an invalid config or id MUST NOT
create a container).

The generic checks run against every runtime. What cell's messages say is
checked in the cell_only tests: they name the config.json field by its JSON
path ("config.json: process.args: expected a non-empty array of strings");
only the path part is asserted, the wording is free.
"""

import os

import pytest

from helpers import find_cgroup_dirs


def one_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) == 1


def set_in(cfg, dotted, value):
    *parents, last = dotted.split(".")
    for p in parents:
        cfg = cfg[p]
    cfg[last] = value


def mutate_raw(text):
    def apply(b):
        b.raw = text
    return apply


def mutate_set(dotted, value):
    return lambda b: set_in(b.config, dotted, value)


def drop_root(b):
    del b.config["root"]


def bad_namespace(b):
    b.linux["namespaces"][0] = {"type": "foo"}


def relative_destination(b):
    b.config["mounts"].insert(0, {"destination": "tmp", "type": "tmpfs", "source": "tmpfs"})


def missing_rootfs(b):
    b.config["root"]["path"] = os.path.join(b.path, "no-such-rootfs")


def hostname_without_uts(b):
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "uts"]
    b.config["hostname"] = "box"


def bad_rlimit(b):
    b.process["rlimits"] = [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]


# (case id, mutation, what cell's message must contain)
CASES = [
    ("malformed-json", mutate_raw('{"ociVersion": "1.0.2", "process": {'), "config.json"),
    ("args-is-a-string", mutate_set("process.args", "sh"), "process.args"),
    ("args-empty", mutate_set("process.args", []), "process.args"),
    ("uid-is-a-string", mutate_set("process.user.uid", "0"), "process.user.uid"),
    ("missing-root", drop_root, "root"),
    ("bad-namespace-type", bad_namespace, "linux.namespaces[0].type"),
    ("missing-rootfs-dir", missing_rootfs, "no-such-rootfs"),
    ("args0-not-in-rootfs", mutate_set("process.args", ["/no/such/binary"]), "/no/such/binary"),
    ("hostname-without-uts-namespace", hostname_without_uts, "hostname"),
    ("unknown-rlimit", bad_rlimit, "process.rlimits[0].type"),
]

# Cases runc or crun accept, so their generic check is cell's alone: runc
# 1.1 takes a relative mount destination with a warning and any ociVersion;
# crun 1.8 refuses "2.0.0".
CELL_ONLY_CASES = [
    ("relative-mount-destination", relative_destination, "mounts[0].destination"),
    ("oci-version-2", mutate_set("ociVersion", "2.0.0"), "ociVersion"),
]


def create_bad(rt, bundle, mutation):
    b = bundle("true")
    mutation(b)
    return b, rt("create", "--bundle", b, b.cid)


def assert_failed_cleanly(rt, b, p):
    assert p.returncode > 0, f"exit {p.returncode}: {p.stderr}"
    assert one_line(p.stderr), f"expected one line on stderr, got:\n{p.stderr}"
    assert not os.path.exists(rt.state_dir(b.cid))
    assert rt("state", b.cid).returncode != 0
    assert find_cgroup_dirs(b.cid) == []
    assert b.cid not in rt.ok("list").stdout


@pytest.mark.parametrize("mutation", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_fails_cleanly(rt, bundle, mutation):
    b, p = create_bad(rt, bundle, mutation)
    assert_failed_cleanly(rt, b, p)


@pytest.mark.cell_only
@pytest.mark.parametrize("mutation", [c[1] for c in CELL_ONLY_CASES],
                         ids=[c[0] for c in CELL_ONLY_CASES])
def test_bad_config_fails_cleanly_cell(rt, bundle, mutation):
    b, p = create_bad(rt, bundle, mutation)
    assert_failed_cleanly(rt, b, p)


@pytest.mark.cell_only
@pytest.mark.parametrize("mutation,needle", [c[1:] for c in CASES + CELL_ONLY_CASES],
                         ids=[c[0] for c in CASES + CELL_ONLY_CASES])
def test_bad_config_error_names_the_field(rt, bundle, mutation, needle):
    _, p = create_bad(rt, bundle, mutation)
    assert p.returncode > 0
    assert needle in p.stderr, p.stderr
    assert one_line(p.stderr)


@pytest.mark.cell_only
def test_config_errors_are_prefixed_with_config_json(rt, bundle):
    _, p = create_bad(rt, bundle, mutate_set("process.args", "sh"))
    assert "config.json: process.args: " in p.stderr, p.stderr


@pytest.mark.cell_only
def test_unsupported_oci_version_says_which(rt, bundle):
    _, p = create_bad(rt, bundle, mutate_set("ociVersion", "2.0.0"))
    assert "ociVersion" in p.stderr and '"2.0.0"' in p.stderr


@pytest.mark.cell_only
def test_unknown_namespace_type_is_quoted(rt, bundle):
    _, p = create_bad(rt, bundle, bad_namespace)
    assert 'linux.namespaces[0].type' in p.stderr and '"foo"' in p.stderr


def test_run_with_a_missing_program_fails_cleanly(rt, bundle):
    b = bundle("/no/such/binary")
    p = rt.run(b)
    assert p.returncode != 0
    assert p.stderr.strip()
    assert not os.path.exists(rt.state_dir(b.cid))
    assert find_cgroup_dirs(b.cid) == []


def test_missing_config_json_fails_cleanly(rt, bundle):
    b = bundle("true")  # never saved: the directory has no config.json
    p = rt("create", "--bundle", b.path, b.cid)
    assert_failed_cleanly(rt, b, p)


def test_missing_bundle_dir_fails_cleanly(rt, bundle, test_dir):
    b = bundle("true")
    p = rt("create", "--bundle", os.path.join(test_dir, "no-such-bundle"), b.cid)
    assert_failed_cleanly(rt, b, p)


@pytest.mark.parametrize("bad_id", ["../x", "", "a/b", "..", "."])
def test_invalid_container_id_is_refused(rt, bundle, root, test_dir, bad_id):
    """runtime.md Create: an id that is not valid MUST generate an error and
    no container is created; nothing appears outside the state root."""
    b = bundle("true")
    before = sorted(os.listdir(test_dir))
    p = rt("create", "--bundle", b, bad_id)
    assert p.returncode > 0
    assert one_line(p.stderr), p.stderr
    assert os.listdir(root) == []
    assert sorted(os.listdir(test_dir)) == before


def test_duplicate_create_fails_and_leaves_the_first_alone(rt, bundle):
    """runtime.md Create: an id that is not unique MUST generate an error."""
    first = bundle("sleep", "1000")
    second = bundle("true", cid=first.cid)
    rt.create(first)
    pid = rt.state(first.cid)["pid"]
    p = rt("create", "--bundle", second, first.cid)
    assert p.returncode > 0
    assert one_line(p.stderr), p.stderr
    st = rt.state(first.cid)
    assert (st["status"], st["pid"]) == ("created", pid)
    assert os.path.realpath(st["bundle"]) == os.path.realpath(first.path)
    rt.delete(first.cid, force=True)


@pytest.mark.parametrize("command", ["start", "state", "kill", "delete"])
def test_command_without_an_id_fails(rt, command):
    """runtime.md Operations: each MUST generate an error without an id."""
    p = rt(command)
    assert p.returncode > 0
    assert p.stderr.strip()


def test_create_without_an_id_fails(rt, bundle):
    p = rt("create", "--bundle", bundle("true"))
    assert p.returncode > 0
    assert p.stderr.strip()
    assert os.listdir(rt.root) == []


@pytest.mark.parametrize("command", ["start", "state", "kill", "delete"])
def test_command_on_an_unknown_container_fails(rt, cid, command):
    p = rt(command, cid)
    assert p.returncode > 0
    assert one_line(p.stderr), p.stderr


def test_unknown_command_fails(rt):
    p = rt("frobnicate")
    assert p.returncode > 0
    assert "frobnicate" in p.stderr
    assert one_line(p.stderr), p.stderr


def test_unknown_flag_of_a_command_fails_without_creating(rt, bundle):
    b = bundle("true")
    p = rt("create", "--no-such-flag", "--bundle", b, b.cid)
    assert p.returncode > 0
    assert "no-such-flag" in p.stderr
    assert one_line(p.stderr), p.stderr
    assert not os.path.exists(rt.state_dir(b.cid))


def test_unknown_global_flag_fails(rt):
    p = rt("--no-such-flag", "list")
    assert p.returncode > 0
    assert "no-such-flag" in p.stderr
    assert one_line(p.stderr), p.stderr


@pytest.mark.cell_only
def test_usage_lists_options_as_cell_does(rt):
    """cell-runtime and cell print a command's options in one format."""
    p = rt("help", "create")
    assert p.returncode == 0, p.stderr
    assert "Usage: cell-runtime create [OPTIONS] <container-id>" in p.stdout
    assert "  -b, --bundle value  " in p.stdout
    assert "      --pid-file value  " in p.stdout


@pytest.mark.cell_only
def test_invalid_id_error_names_the_id(rt, bundle):
    p = rt("create", "--bundle", bundle("true"), "../x")
    assert "../x" in p.stderr, p.stderr

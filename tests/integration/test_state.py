"""`state` and `list` (runtime.md "State", "Query State";
schema/state-schema.json)."""

import json
import os

from helpers import read_file

STATUSES = {"creating", "created", "running", "stopped"}


def check_state_schema(st):
    """state-schema.json: required ociVersion, id, status, bundle; pid an
    integer when created or running; annotations a string map."""
    for key in ("ociVersion", "id", "status", "bundle"):
        assert key in st, f"state lacks {key}: {st}"
    assert isinstance(st["ociVersion"], str) and st["ociVersion"]
    assert isinstance(st["id"], str)
    assert st["status"] in STATUSES
    assert isinstance(st["bundle"], str) and os.path.isabs(st["bundle"])
    if st["status"] in ("created", "running"):
        assert isinstance(st["pid"], int) and not isinstance(st["pid"], bool)
        assert st["pid"] > 0
    if "annotations" in st and st["annotations"] is not None:
        assert all(isinstance(k, str) and isinstance(v, str)
                   for k, v in st["annotations"].items())


def test_state_of_a_created_container_matches_the_schema(rt, bundle):
    b = bundle("sleep", "1000")
    rt.create(b)
    st = rt.state(b.cid)
    check_state_schema(st)
    assert st["id"] == b.cid
    assert st["status"] == "created"
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    rt.delete(b.cid, force=True)


def test_state_of_a_running_container_matches_the_schema(rt, bundle):
    b = bundle("sleep", "1000")
    rt.create_running(b)
    st = rt.state(b.cid)
    check_state_schema(st)
    assert (st["id"], st["status"]) == (b.cid, "running")
    rt.delete(b.cid, force=True)


def test_state_of_a_stopped_container_matches_the_schema(rt, bundle):
    b = bundle("true")
    rt.create_running(b)
    rt.wait_status(b.cid, "stopped")
    st = rt.state(b.cid)
    check_state_schema(st)
    assert (st["id"], st["status"]) == (b.cid, "stopped")
    rt.delete(b.cid)


def test_state_pid_is_the_host_pid_of_the_container_process(rt, bundle):
    """runtime.md State: pid is the container process as seen by the
    runtime, i.e. a host pid in the container's namespaces."""
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    assert read_file(f"/proc/{pid}/cmdline") == "sleep\x001000\x00"
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    rt.delete(b.cid, force=True)


def test_state_bundle_is_absolute_when_given_relative(rt, bundle, test_dir):
    b = bundle("true")
    b.save()
    rel = os.path.relpath(b.path, test_dir)
    rt.ok("create", "--bundle", rel, b.cid, cwd=test_dir)
    st = rt.state(b.cid)
    assert os.path.isabs(st["bundle"])
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    rt.delete(b.cid, force=True)


def test_state_bundle_defaults_to_the_current_directory(rt, bundle):
    b = bundle("true")
    b.save()
    rt.ok("create", b.cid, cwd=b.path)
    assert os.path.realpath(rt.state(b.cid)["bundle"]) == os.path.realpath(b.path)
    rt.delete(b.cid, force=True)


def test_state_carries_the_annotations(rt, bundle):
    b = bundle("true")
    b.config["annotations"] = {"org.example.key": "value", "other": ""}
    rt.create(b)
    st = rt.state(b.cid)
    assert st.get("annotations") == {"org.example.key": "value", "other": ""}
    rt.delete(b.cid, force=True)


def test_state_of_an_unknown_container_fails(rt, cid):
    """runtime.md Query State: a container that does not exist MUST
    generate an error."""
    p = rt("state", cid)
    assert p.returncode != 0
    assert p.stdout == ""
    assert p.stderr.strip()


def test_state_after_delete_fails(rt, bundle):
    b = bundle("true")
    rt.create(b)
    rt.delete(b.cid, force=True)
    assert rt("state", b.cid).returncode != 0


def test_state_is_not_changed_by_editing_config_after_create(rt, bundle):
    """runtime.md Create: changes to config.json after create have no
    effect on the container."""
    b = bundle()
    b.sh("echo original")
    b.config["annotations"] = {"a": "1"}
    rt.create(b)
    b.config["annotations"] = {"a": "2"}
    b.sh("echo edited")
    b.save()
    assert rt.state(b.cid)["annotations"] == {"a": "1"}
    rt.delete(b.cid, force=True)


def test_list_json_shows_each_container_with_its_status(rt, bundle):
    created = bundle("sleep", "1000")
    running = bundle("sleep", "1000")
    stopped = bundle("true")
    rt.create(created)
    rt.create_running(running)
    rt.create_running(stopped)
    rt.wait_status(stopped.cid, "stopped")
    p = rt.ok("list", "--format", "json")
    entries = {e["id"]: e for e in json.loads(p.stdout)}
    assert set(entries) == {created.cid, running.cid, stopped.cid}
    assert entries[created.cid]["status"] == "created"
    assert entries[running.cid]["status"] == "running"
    assert entries[stopped.cid]["status"] == "stopped"
    assert entries[running.cid]["pid"] == rt.state(running.cid)["pid"]
    assert os.path.realpath(entries[running.cid]["bundle"]) == os.path.realpath(running.path)
    for b in (created, running, stopped):
        rt.delete(b.cid, force=True)


def test_list_table_shows_id_pid_and_status(rt, bundle):
    b = bundle("sleep", "1000")
    pid = rt.create_running(b)
    lines = rt.ok("list").stdout.splitlines()
    header = lines[0].split()
    assert header[:3] == ["ID", "PID", "STATUS"]
    rows = [line.split() for line in lines[1:] if line.strip()]
    assert [r[:3] for r in rows] == [[b.cid, str(pid), "running"]]
    rt.delete(b.cid, force=True)


def test_list_quiet_prints_only_ids(rt, bundle):
    one, two = bundle("sleep", "1000"), bundle("sleep", "1000")
    rt.create(one)
    rt.create(two)
    assert sorted(rt.ok("list", "-q").stdout.split()) == sorted([one.cid, two.cid])
    rt.delete(one.cid, force=True)
    rt.delete(two.cid, force=True)


def test_list_of_an_empty_root_is_empty(rt):
    assert json.loads(rt.ok("list", "--format", "json").stdout or "null") in ([], None)
    assert rt.ok("list").stdout.splitlines()[1:] == []


def test_list_after_delete_no_longer_shows_the_container(rt, bundle):
    b = bundle("true")
    rt.create(b)
    rt.delete(b.cid, force=True)
    assert b.cid not in rt.ok("list").stdout

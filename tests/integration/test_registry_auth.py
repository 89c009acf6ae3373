"""`cell login`, `cell logout` and authenticated pulls against real
registries: docker-registry with htpasswd (basic auth), and docker-registry
with token auth, whose realm is a small token server of the test's own
(it signs the JWTs that docker-registry verifies)."""

import base64
import json
import os
import stat
import tempfile

import pytest

from registry_fixture import (Registry, TokenServer, cell, images, registry,  # noqa: F401
                              run)

USER, PASSWORD = "celluser", "s3cret:with:colons"


@pytest.fixture(scope="module")
def basic_registry(session_dir):
    d = tempfile.mkdtemp(prefix="htpasswd-", dir=session_dir)
    htpasswd = os.path.join(d, "htpasswd")
    out = run(["htpasswd", "-Bbn", USER, PASSWORD]).stdout
    with open(htpasswd, "w") as f:
        f.write(out)
    r = Registry(session_dir, auth=("htpasswd", htpasswd)).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def token_registry(session_dir):
    d = tempfile.mkdtemp(prefix="token-", dir=session_dir)
    ts = TokenServer(d, {USER: PASSWORD}).start()
    r = Registry(session_dir, auth=("token", ts)).start()
    r.tokens = ts
    yield r
    r.stop()
    ts.stop()


def auths(cell):
    with open(cell.auth_file) as f:
        return json.load(f)["auths"]


def login(cell, host, password=PASSWORD, check=True):
    return cell("login", "--tls-verify=false", "-u", USER, "--password-stdin", host,
                input=password + "\n", check=check)


def test_basic_auth_login_pull_logout(cell, images, basic_registry):
    host = basic_registry.host
    name, _, desc = images.push_simple("cell/basic:1", registry=basic_registry,
                                       creds=f"{USER}:{PASSWORD}")
    p = cell("pull", "--tls-verify=false", name, check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"cell: image {name}: registry {host}: unauthorized: authentication required "
        f"(no credentials: cell login {host})"]

    p = login(cell, host, password="wrong", check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [f"cell: login to {host}: unauthorized (HTTP 401)"]
    assert not os.path.exists(cell.auth_file)

    p = login(cell, host)
    assert p.stdout == "Login Succeeded\n"
    assert stat.S_IMODE(os.stat(cell.auth_file).st_mode) == 0o600
    assert base64.b64decode(auths(cell)[host]["auth"]).decode() == f"{USER}:{PASSWORD}"

    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"

    p = cell("logout", host)
    assert p.stdout == f"Removing login credentials for {host}\n"
    assert host not in auths(cell)
    p = cell("pull", "--tls-verify=false", name, check=False)
    assert p.returncode == 1 and "unauthorized" in p.stderr
    p = cell("logout", host, check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [f"cell: not logged in to {host}"]


def test_pull_uses_docker_config_json(cell, images, basic_registry, test_dir):
    """Credentials that `docker login` wrote (its key spelled with a scheme)."""
    host = basic_registry.host
    name, _, _ = images.push_simple("cell/dockercfg:1", registry=basic_registry,
                                    creds=f"{USER}:{PASSWORD}")
    docker_dir = os.path.join(test_dir, "docker")
    os.mkdir(docker_dir)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    with open(os.path.join(docker_dir, "config.json"), "w") as f:
        json.dump({"auths": {f"http://{host}": {"auth": token}}}, f)
    cell("pull", "--tls-verify=false", name, env={"DOCKER_CONFIG": docker_dir})
    assert not os.path.exists(cell.auth_file)


def test_login_keeps_other_entries(cell, basic_registry):
    with open(cell.auth_file, "w") as f:
        json.dump({"auths": {"other.example:5000": {"auth": "eDp5"}}, "credsStore": "x"}, f)
    login(cell, basic_registry.host)
    with open(cell.auth_file) as f:
        doc = json.load(f)
    assert doc["credsStore"] == "x"
    assert doc["auths"]["other.example:5000"] == {"auth": "eDp5"}
    assert basic_registry.host in doc["auths"]


def test_login_prompts_on_a_terminal_only(cell, basic_registry):
    p = cell("login", "--tls-verify=false", basic_registry.host, input="", check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == ["cell: login: user name required (--username)"]


def test_token_auth_login_and_pull(cell, images, token_registry):
    host, ts = token_registry.host, token_registry.tokens
    name, _, desc = images.push_simple("cell/token:1", registry=token_registry,
                                       creds=f"{USER}:{PASSWORD}")
    p = cell("pull", "--tls-verify=false", name, check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"cell: image {name}: token from {ts.realm}: unauthorized (HTTP 401)"]

    p = login(cell, host, password="nope", check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"cell: login to {host}: token from {ts.realm}: unauthorized (HTTP 401)"]

    del ts.requests[:]
    login(cell, host)
    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"
    pulls = [r for r in ts.requests if r["scope"]]
    assert pulls and all(r == {"user": USER, "service": TokenServer.service,
                               "scope": ["repository:cell/token:pull"]} for r in pulls)

"""`cell pull` from a registry that speaks only https, with a certificate
from a CA of the test's own: refused while that CA is unknown, accepted
once it is in <certs.d>/<host>/ca.crt (verification on), also on a host
with no system CA bundle, and accepted without it under --tls-verify=false
(still https: the port has no http)."""

import os
import subprocess
import tempfile

import pytest

from registry_fixture import Registry, cell, images, make_tls, registry  # noqa: F401


@pytest.fixture(scope="module")
def tls_registry(session_dir):
    d = tempfile.mkdtemp(prefix="tls-", dir=session_dir)
    ca, crt, key = make_tls(d)
    r = Registry(session_dir, tls=(crt, key))
    r.certs_dir = os.path.join(d, "certs.d")
    os.makedirs(os.path.join(r.certs_dir, r.host))
    os.rename(ca, os.path.join(r.certs_dir, r.host, "ca.crt"))
    r.start()
    yield r
    r.stop()


def test_pull_over_https_verifies_with_the_registry_ca(cell, images, tls_registry):
    host = tls_registry.host
    name, _, desc = images.push_simple("cell/tls:1", registry=tls_registry)

    p = cell("pull", name, check=False)
    assert p.returncode == 1
    line, = p.stderr.splitlines()
    assert line.startswith(f"cell: image {name}: registry {host}: ")
    assert "--tls-verify=false" in line
    assert "cell/tls" not in cell("images").stdout

    p = cell("pull", name, env={"CELL_CERTS_DIR": tls_registry.certs_dir})
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"


def test_pull_over_https_with_tls_verify_false(cell, images, tls_registry):
    name, _, desc = images.push_simple("cell/tls:2", registry=tls_registry)
    p = cell("pull", "--tls-verify=false", name)
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"


def without_system_cas(cell, *args, env):
    """`cell ARGS` on a host without a system CA bundle (no ca-certificates,
    as a minimal Debian): /etc/ssl is an empty tmpfs in a private mount
    namespace of this command alone (or absent already, as there)."""
    e = dict(os.environ, CELL_AUTH_FILE=cell.auth_file, **env)
    script = 'if [ -d /etc/ssl ]; then mount -t tmpfs cell-no-cas /etc/ssl || exit 99; fi; exec "$@"'
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                           cell.path, "--root", cell.root, *args],
                          capture_output=True, text=True, timeout=120, env=e)


def test_registry_ca_is_enough_without_a_system_bundle(cell, images, tls_registry):
    name, _, desc = images.push_simple("cell/tls:3", registry=tls_registry)
    p = without_system_cas(cell, "pull", name, env={"CELL_CERTS_DIR": "/nonexistent"})
    assert p.returncode == 1
    assert "--tls-verify=false" in p.stderr, p.stderr

    p = without_system_cas(cell, "pull", name, env={"CELL_CERTS_DIR": tls_registry.certs_dir})
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == f"Digest: {desc['digest']}"

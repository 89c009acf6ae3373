"""How `cell pull` moves blobs, against a small registry of the test's own
that speaks the read side of the distribution API from an OCI layout and
misbehaves on purpose: a connection that breaks in the middle of a blob (the
pull resumes with a Range request), a server that ignores the range (the
pull starts that blob over), blobs redirected to another host (followed,
without the registry's Authorization), anonymous bearer tokens (401 -> the
realm -> token), slow blobs (fetched in parallel), a blob longer than its
descriptor says. docker-registry cannot be made to do these."""

import http.server
import json
import os
import re
import subprocess
import threading
import time

import pytest

from helpers import wait_for
from registry_fixture import Layout, cell, free_port, layer  # noqa: F401

TOKEN = "t0ken-for-cell"


class MockRegistry:
    def __init__(self, layout):
        self.layout = layout
        self.requests = []  # (server, method, path, headers)
        self.lock = threading.Lock()
        self.inflight = self.max_inflight = 0
        self.break_blobs = set()   # first GET of these sends half, then closes
        self.stall_blobs = set()   # first GET of these sends half, then waits for release
        self.release = threading.Event()
        self.ignore_range = False  # answer a Range request with the whole blob (200)
        self.redirect = False      # blobs: 307 to the storage server (another host name)
        self.bearer = False        # 401 + realm until a token is presented
        self.delay = 0.0           # seconds before each blob body
        self.extra = b""           # appended to every blob
        self.lie_manifests = False # manifests asked by digest come back changed
        self.broken = set()
        self.port, self.storage_port = free_port(), free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.servers = [http.server.ThreadingHTTPServer(("127.0.0.1", p), self._handler(n))
                        for n, p in (("registry", self.port), ("storage", self.storage_port))]

    def start(self):
        for s in self.servers:
            # shutdown() waits up to a poll interval (0.5 s by default)
            threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()

    def blob(self, digest):
        with open(os.path.join(self.layout.path, "blobs", "sha256", digest[7:]), "rb") as f:
            return f.read()

    def manifest(self, ref):
        if ref.startswith("sha256:"):
            data = self.blob(ref)
            return data, json.loads(data)["mediaType"]
        for d in self.layout.refs:
            if d["annotations"]["org.opencontainers.image.ref.name"] == ref:
                return self.blob(d["digest"]), d["mediaType"]
        return None, None

    def blob_requests(self, digest, server="registry"):
        return [r for r in self.requests if r[0] == server and f"/{digest}" in r[2]]

    def _handler(self, server_name):
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with mock.lock:
                    mock.requests.append((server_name, "GET", self.path, dict(self.headers)))
                if server_name == "storage":
                    return self.blob(self.path.rsplit("/", 1)[1].split("?")[0])
                if self.path.startswith("/token"):
                    return self.send(200, json.dumps({"token": TOKEN}).encode(),
                                     [("Content-Type", "application/json")])
                if mock.bearer and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    realm = f'Bearer realm="http://{mock.host}/token",service="mock"'
                    return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}',
                                     [("WWW-Authenticate", realm)])
                if self.path == "/v2/":
                    return self.send(200, b"{}")
                m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", self.path)
                if not m:
                    return self.send(404)
                if m.group(2) == "manifests":
                    data, mt = mock.manifest(m.group(3))
                    if data is not None and mock.lie_manifests:
                        data = data.replace(b'"schemaVersion": 2', b'"schemaVersion":2')
                    if data is None:
                        return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN",'
                                              b'"message":"manifest unknown"}]}')
                    return self.send(200, data, [("Content-Type", mt)])
                if mock.redirect:
                    loc = f"http://localhost:{mock.storage_port}/blob/{m.group(3)}?sig=1"
                    return self.send(307, b"", [("Location", loc)])
                return self.blob(m.group(3))

            def blob(self, digest):
                data = mock.blob(digest) + mock.extra
                with mock.lock:
                    mock.inflight += 1
                    mock.max_inflight = max(mock.max_inflight, mock.inflight)
                try:
                    time.sleep(mock.delay)
                    rng = self.headers.get("Range")
                    if digest in mock.break_blobs | mock.stall_blobs and digest not in mock.broken:
                        mock.broken.add(digest)
                        return self.send_broken(data, digest in mock.stall_blobs)
                    if rng and not mock.ignore_range:
                        start = int(re.match(r"bytes=(\d+)-$", rng).group(1))
                        return self.send(206, data[start:], [
                            ("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
                    return self.send(200, data)
                finally:
                    with mock.lock:
                        mock.inflight -= 1

            def send_broken(self, data, stall):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                if stall:
                    mock.release.wait(30)
                self.close_connection = True
                self.connection.shutdown(2)

        return Handler


@pytest.fixture(scope="module")
def mock_layers(rootfs):
    """The mock image's layer tars: the rootfs and three 512 KiB random
    blobs, made once for the module (tarring them costs seconds under TCG);
    each test still gets its own layout, server and store."""
    return [layer([], base=rootfs)] + [
        layer([("file", f"blob{i}", os.urandom(512 << 10))]) for i in range(3)]


@pytest.fixture
def mock(test_dir, mock_layers):
    lay = Layout(os.path.join(test_dir, "mock-layout"))
    desc = lay.image(mock_layers)
    lay.tag("1", desc)
    m = MockRegistry(lay).start()
    m.desc, m.layers, m.name = desc, lay.last_layers, f"{m.host}/mock/img:1"
    yield m
    m.release.set()
    m.stop()


def pull(cell, mock, check=True):
    return cell("pull", "--tls-verify=false", mock.name, check=check, timeout=60)


def test_pull_resumes_a_broken_blob_with_range(cell, mock):
    big = mock.layers[2]
    mock.break_blobs.add(big["digest"])
    p = pull(cell, mock)
    assert p.stdout.splitlines()[0] == f"Digest: {mock.desc['digest']}"
    reqs = mock.blob_requests(big["digest"])
    assert len(reqs) == 2
    assert "Range" not in reqs[0][3]
    assert reqs[1][3]["Range"] == f"bytes={big['size'] // 2}-"
    assert cell.blob_exists(big["digest"])
    merged = cell.rootfs("r1", mock.name)
    assert os.path.getsize(os.path.join(merged, "blob1")) == 512 << 10


def test_pull_starts_over_when_range_is_ignored(cell, mock):
    big = mock.layers[1]
    mock.break_blobs.add(big["digest"])
    mock.ignore_range = True
    pull(cell, mock)
    reqs = mock.blob_requests(big["digest"])
    assert len(reqs) == 2 and "Range" in reqs[1][3]
    assert cell.blob_exists(big["digest"])


def test_pull_follows_redirects_without_authorization_and_gets_anonymous_token(cell, mock):
    mock.redirect = mock.bearer = True
    pull(cell, mock)
    for d in mock.layers:
        reg = mock.blob_requests(d["digest"])
        sto = mock.blob_requests(d["digest"], server="storage")
        assert [r[3].get("Authorization") for r in reg] == [f"Bearer {TOKEN}"]
        assert len(sto) == 1 and "Authorization" not in sto[0][3]
        assert cell.blob_exists(d["digest"])
    tokens = [r for r in mock.requests if r[2].startswith("/token")]
    assert tokens and all("scope=repository%3Amock%2Fimg%3Apull" in r[2] for r in tokens)


def test_pull_fetches_blobs_in_parallel_three_at_most(cell, mock):
    """Each blob takes the server 0.5 s: the five (config and four layers)
    overlap, three at a time, Docker's default."""
    mock.delay = 0.5
    pull(cell, mock)
    assert mock.max_inflight == 3
    for d in mock.layers:
        assert cell.blob_exists(d["digest"])


def test_pull_refuses_a_blob_longer_than_its_descriptor(cell, mock):
    mock.extra = b"trailing garbage"
    p = pull(cell, mock, check=False)
    assert p.returncode == 1
    line, = p.stderr.splitlines()
    assert re.fullmatch(rf"cell: blob sha256:[0-9a-f]{{64}} from {mock.host}: "
                        r"more than its \d+ bytes", line), line
    assert "mock/img" not in cell("images").stdout


def test_pull_unknown_tag_on_mock(cell, mock):
    p = cell("pull", "--tls-verify=false", f"{mock.host}/mock/img:nope", check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        f"cell: image {mock.host}/mock/img:nope: not found (manifest unknown to {mock.host})"]


def test_pull_killed_midway_continues_where_it_stopped(cell, mock):
    """A pull killed in the middle of a blob keeps what it had (the store's
    ingest/<hex>); the next pull asks only for the rest."""
    big = mock.layers[2]
    mock.stall_blobs.add(big["digest"])
    partial = os.path.join(cell.root, "ingest", big["digest"][7:])
    proc = subprocess.Popen([cell.path, "--root", cell.root, "pull", "--tls-verify=false",
                             mock.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, CELL_AUTH_FILE=cell.auth_file))
    try:
        wait_for(lambda: os.path.exists(partial) and
                 os.path.getsize(partial) == big["size"] // 2, timeout=20,
                 what="half of the blob on disk")
    finally:
        proc.kill()
        proc.wait()
    mock.release.set()
    assert "mock/img" not in cell("images").stdout

    p = pull(cell, mock)
    assert p.stdout.splitlines()[0] == f"Digest: {mock.desc['digest']}"
    reqs = mock.blob_requests(big["digest"])
    assert len(reqs) == 2
    assert reqs[1][3]["Range"] == f"bytes={big['size'] // 2}-"
    assert cell.blob_exists(big["digest"])
    assert not os.path.exists(partial)


def test_pull_by_digest_refuses_a_manifest_that_does_not_match(cell, mock):
    mock.lie_manifests = True
    ref = f"{mock.host}/mock/img@{mock.desc['digest']}"
    p = cell("pull", "--tls-verify=false", ref, check=False)
    assert p.returncode == 1
    line, = p.stderr.splitlines()
    assert re.fullmatch(rf"cell: manifest {mock.desc['digest']} from {mock.host}: "
                        r"digest mismatch \(got sha256:[0-9a-f]{64}\)", line), line
    assert not cell.blob_exists(mock.desc["digest"])
    assert "mock/img" not in cell("images").stdout


def test_two_pulls_of_one_image_at_once(cell, mock):
    mock.delay = 0.3
    env = dict(os.environ, CELL_AUTH_FILE=cell.auth_file)
    argv = [cell.path, "--root", cell.root, "pull", "--tls-verify=false", mock.name]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for d in mock.layers:
        assert cell.blob_exists(d["digest"])
    assert os.listdir(os.path.join(cell.root, "ingest")) == []
    merged = cell.rootfs("two", mock.name)
    assert os.path.getsize(os.path.join(merged, "blob2")) == 512 << 10

"""A real registry for the image tests: Debian's docker-registry on
127.0.0.1 with its own storage directory, images built here (Python's
tarfile into an OCI image layout) and pushed with skopeo; a small token
server for the registry's token auth; `cell` and peer tools (skopeo, umoci)
as subprocesses. Nothing here needs the network.

Fixtures (import them into a test module with
`from registry_fixture import *`):
  cell        -> Cell, the `cell` binary with its own --root and auth file
  registry    -> a session registry without auth
  images      -> Images: build layouts and push them to `registry`
"""

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.request

import pytest

from helpers import REPO

CELL_ENV = "CELL"
DEFAULT_CELL = os.path.join(REPO, "build", "cell")
REGISTRY_BIN = "/usr/bin/docker-registry"

__all__ = ["cell", "registry", "images", "Cell", "Registry", "Layout", "TokenServer",
           "free_port", "tree_listing", "umoci_rootfs", "layer", "sha256", "make_tls"]


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{argv} exited {p.returncode}\nstdout: {p.stdout}\n"
                             f"stderr: {p.stderr}")
    return p


# --------------------------------------------------------------------------
# layers and OCI layouts


def layer(entries, base=None):
    """An uncompressed layer tar. base: a directory whose tree comes first
    (its contents at the layer root). entries, in order:
      ("dir", path[, mode, uid, gid])     ("file", path, data[, mode, uid, gid])
      ("symlink", path, target)           ("hardlink", path, target)
      ("whiteout", path)  -> dir/.wh.name ("opaque", dir) -> dir/.wh..wh..opq
      ("fifo", path)
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        if base:
            for name in sorted(os.listdir(base)):
                tf.add(os.path.join(base, name), arcname=name)
        for e in entries:
            tf.addfile(*_tar_entry(e))
    return buf.getvalue()


def _opt(e, i, default):
    return e[i] if len(e) > i else default


def _tar_entry(e):
    kind, path = e[0], e[1]
    ti = tarfile.TarInfo(path)
    ti.mtime = 1700000000
    data = None
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        ti.mode, ti.uid, ti.gid = _opt(e, 2, 0o755), _opt(e, 3, 0), _opt(e, 4, 0)
    elif kind == "file":
        data = e[2] if isinstance(e[2], bytes) else e[2].encode()
        ti.size = len(data)
        ti.mode, ti.uid, ti.gid = _opt(e, 3, 0o644), _opt(e, 4, 0), _opt(e, 5, 0)
    elif kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
        ti.mode = 0o777
    elif kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
    elif kind == "fifo":
        ti.type, ti.mode = tarfile.FIFOTYPE, 0o644
    elif kind == "whiteout":
        d, b = os.path.split(path)
        ti = tarfile.TarInfo(os.path.join(d, ".wh." + b))
        ti.mtime = 1700000000
        data = b""
    elif kind == "opaque":
        ti = tarfile.TarInfo(os.path.join(path, ".wh..wh..opq"))
        ti.mtime = 1700000000
        data = b""
    else:
        raise ValueError(kind)
    return ti, (io.BytesIO(data) if data is not None else None)


class Layout:
    """An OCI image layout directory written by hand."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.refs = []

    def blob(self, data, media_type):
        d = sha256(data)
        with open(os.path.join(self.path, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": d, "size": len(data)}

    def image(self, layers, arch="amd64", variant=None, compress=True, cmd=("sh",)):
        """layers: uncompressed tars. Returns the manifest descriptor (with
        "platform"), and records the layer descriptors in self.last_layers."""
        descs, diff_ids = [], []
        for tar in layers:
            diff_ids.append(sha256(tar))
            data = gzip.compress(tar, 6, mtime=0) if compress else tar
            mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
            descs.append(self.blob(data, mt))
        plat = {"architecture": arch, "os": "linux"}
        if variant:
            plat["variant"] = variant
        config = dict(plat, config={"Cmd": list(cmd), "Env": ["PATH=/bin"]},
                      rootfs={"type": "layers", "diff_ids": diff_ids},
                      created="2023-11-14T22:13:20Z")
        cdesc = self.blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": cdesc, "layers": descs}
        mdesc = self.blob(json.dumps(manifest).encode(), manifest["mediaType"])
        mdesc["platform"] = plat
        self.last_layers, self.last_config = descs, cdesc
        return mdesc

    def index(self, manifests):
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": manifests}
        return self.blob(json.dumps(idx).encode(), idx["mediaType"])

    def tag(self, name, desc):
        d = {k: v for k, v in desc.items() if k != "platform"}
        d["annotations"] = {"org.opencontainers.image.ref.name": name}
        self.refs.append(d)
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": self.refs}, f)


# --------------------------------------------------------------------------
# the registry


class Registry:
    """docker-registry serving from its own directory on 127.0.0.1.

    auth: None, ("htpasswd", path) or ("token", TokenServer); tls: None or
    (certificate path, key path): https only."""

    def __init__(self, workdir, auth=None, tls=None):
        self.dir = tempfile.mkdtemp(prefix="registry-", dir=workdir)
        self.storage = os.path.join(self.dir, "storage")
        os.mkdir(self.storage)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.auth = auth
        self.tls = tls
        self.proc = None
        self.log = os.path.join(self.dir, "registry.log")

    def _config(self):
        lines = ["version: 0.1", "log:", "  level: warn", "storage:", "  filesystem:",
                 f"    rootdirectory: {self.storage}", "  delete:", "    enabled: true",
                 "http:", f"  addr: {self.host}"]
        if self.tls:
            lines += ["  tls:", f"    certificate: {self.tls[0]}", f"    key: {self.tls[1]}"]
        if self.auth and self.auth[0] == "htpasswd":
            lines += ["auth:", "  htpasswd:", "    realm: cell-test",
                      f"    path: {self.auth[1]}"]
        elif self.auth and self.auth[0] == "token":
            ts = self.auth[1]
            lines += ["auth:", "  token:", f"    realm: {ts.realm}",
                      f"    service: {ts.service}", f"    issuer: {ts.issuer}",
                      f"    rootcertbundle: {ts.cert_path}"]
        return "\n".join(lines) + "\n"

    def start(self):
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(self._config())
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        scheme = "https" if self.tls else "http"
        ctx = ssl._create_unverified_context() if self.tls else None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"docker-registry exited: {open(self.log).read()}")
            try:
                urllib.request.urlopen(f"{scheme}://{self.host}/v2/", timeout=1, context=ctx)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for auth
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"docker-registry did not answer: {open(self.log).read()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def push(self, layout, tag, dest, fmt=None, all_images=False, creds=None):
        """skopeo copy oci:LAYOUT:TAG docker://HOST/DEST; returns DEST's full name."""
        argv = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if fmt:
            argv.append(f"--format={fmt}")
        if all_images:
            argv.append("--all")
        if creds:
            argv.append(f"--dest-creds={creds}")
        run(argv + [f"oci:{layout.path}:{tag}", f"docker://{self.host}/{dest}"], timeout=120)
        return f"{self.host}/{dest}"

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.storage, "docker", "registry", "v2", "blobs", "sha256",
                            hexd[:2], hexd, "data")


# --------------------------------------------------------------------------
# a token server for docker-registry's token auth


class TokenServer:
    """Answers the realm: checks basic credentials and signs a JWT (RS256,
    the certificate in the x5c header) that docker-registry verifies
    against rootcertbundle. Anonymous requests get 401."""

    service = "cell-test-registry"
    issuer = "cell-test-issuer"

    def __init__(self, workdir, users):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        import datetime

        self.users = users
        self.requests = []
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cell-test-token")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_path = os.path.join(workdir, "token-cert.pem")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        # shutdown() waits up to a poll interval (0.5 s by default)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def token(self, user, scopes):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(b):
            return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        access = []
        for s in scopes:
            kind, _, rest = s.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": self.issuer, "sub": user, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing + "." + b64(sig)

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                user = self._user()
                server.requests.append({"user": user, "service": q.get("service", [None])[0],
                                        "scope": q.get("scope", [])})
                if user is None:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                tok = server.token(user, q.get("scope", []))
                body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _user(self):
                h = self.headers.get("Authorization", "")
                if not h.startswith("Basic "):
                    return None
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
                return user if server.users.get(user) == pw else None

        return Handler


# --------------------------------------------------------------------------
# cell


class Cell:
    """The `cell` binary with its own store root and credentials file."""

    def __init__(self, path, root, auth_file):
        self.path, self.root, self.auth_file = path, root, auth_file

    def __call__(self, *args, check=True, input=None, timeout=120, env=None):
        e = dict(os.environ, CELL_AUTH_FILE=self.auth_file, **(env or {}))
        p = subprocess.run([self.path, "--root", self.root, *args], capture_output=True,
                           text=True, input=input, timeout=timeout, env=e)
        if check and p.returncode != 0:
            raise AssertionError(f"cell {' '.join(args)} exited {p.returncode}\n"
                                 f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def blob_exists(self, digest):
        return os.path.exists(os.path.join(self.root, "blobs", "sha256", digest[7:]))

    def rootfs(self, name, image):
        """`cell rootfs create`: the merged directory of an overlay of image."""
        return self("rootfs", "create", name, image).stdout.strip().splitlines()[-1]


def cell_path():
    return os.environ.get(CELL_ENV, DEFAULT_CELL)


@pytest.fixture
def cell(test_dir):
    path = cell_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"cell binary not found: {path} (build it, or set CELL)", pytrace=False)
    root = os.path.join(test_dir, "cell-root")
    os.mkdir(root, 0o700)
    c = Cell(path, root, os.path.join(test_dir, "auth.json"))
    yield c
    # Snapshots are overlay mounts: take them down before the temp dir goes.
    snaps = os.path.join(root, "snapshots")
    for name in os.listdir(snaps) if os.path.isdir(snaps) else []:
        c("rootfs", "rm", name, check=False)
    for line in open("/proc/self/mountinfo").read().splitlines():
        mp = line.split()[4]
        assert not mp.startswith(root + "/"), f"mount left behind: {mp}"


@pytest.fixture(scope="session")
def registry(session_dir):
    r = Registry(session_dir).start()
    yield r
    r.stop()


class Images:
    """Builds layouts in a test's directory and pushes them to a registry."""

    def __init__(self, test_dir, registry, rootfs):
        self.dir, self.registry, self.rootfs = test_dir, registry, rootfs
        self.n = 0

    def layout(self):
        self.n += 1
        return Layout(os.path.join(self.dir, f"layout-{self.n}"))

    def push_simple(self, dest, extra=(), fmt=None, registry=None, creds=None):
        lay = self.layout()
        desc = lay.image([layer([], base=self.rootfs), layer(list(extra))])
        lay.tag("t", desc)
        name = (registry or self.registry).push(lay, "t", dest, fmt=fmt, creds=creds)
        return name, lay, desc


@pytest.fixture
def images(test_dir, registry, rootfs):
    return Images(test_dir, registry, rootfs)


# --------------------------------------------------------------------------
# comparing trees


def tree_listing(root):
    """path -> (type, mode, uid, gid, size, content digest or link target)
    for everything under root, not following symlinks."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("f", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size, what)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", 0, st.st_uid, st.st_gid, 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, 0, None)
            else:
                out[rel] = ("o", stat.S_IFMT(st.st_mode), st.st_uid, st.st_gid, 0, st.st_rdev)
    return out


def umoci_rootfs(workdir, registry, name):
    """skopeo copies name out of the registry, umoci unpacks it: the rootfs."""
    d = tempfile.mkdtemp(prefix="umoci-", dir=workdir)
    run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{name}",
         f"oci:{d}/layout:x"], timeout=120)
    run(["umoci", "unpack", "--image", f"{d}/layout:x", f"{d}/bundle"], timeout=120)
    return os.path.join(d, "bundle", "rootfs")


def make_tls(workdir, ip="127.0.0.1"):
    """A CA and a server certificate for ip signed by it. Returns
    (ca_pem_path, cert_path, key_path)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, key, issuer, issuer_key, ca):
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("cell-test-ca", ca_key, "cell-test-ca", ca_key, True)
    srv = cert(ip, key, "cell-test-ca", ca_key, False)
    paths = [os.path.join(workdir, n) for n in ("ca.crt", "server.crt", "server.key")]
    for path, data in zip(paths, (ca.public_bytes(serialization.Encoding.PEM),
                                  srv.public_bytes(serialization.Encoding.PEM),
                                  key.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))):
        with open(path, "wb") as f:
            f.write(data)
    return paths

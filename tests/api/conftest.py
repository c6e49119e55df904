"""Black-box test harness: starts the real build/mesnode on a loopback port and talks HTTP.

Each test module gets its own demo node in a fresh data directory (module-scoped fixture
`node`), so tests that change state or trip the login throttle do not leak into others.
What several modules share lives here, never imported from another test module (whose
module-scoped state would then be shared too): the demo world's ids (fixture `w`), nodes
served from a configuration (`ServedNode`, `Served`), requests signed as a region's
(`minisign_seed`, `signed_headers`), the QR decoder.
"""
import base64
import datetime
import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# The node keeps the region's clock (region.timezone; every test node has the default), so
# "today" here must be the region's day too, whatever the machine's own zone.
REGION_TZ = "Europe/Moscow"
os.environ["TZ"] = REGION_TZ
time.tzset()

MESNODE = os.environ.get("MESNODE", os.path.join(os.path.dirname(__file__), "..", "..", "build", "mesnode"))
DEMO_PASSWORD = "demo"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Client:
    """An HTTP client for one caller: bearer token, or cookies (with the CSRF header)."""

    def __init__(self, base, token=None, cookies=False):
        self.base = base
        self.token = token
        self.csrf = None
        self.jar = http.cookiejar.CookieJar() if cookies else None
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)] if cookies else []
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        if self.csrf and method not in ("GET", "HEAD"):
            req.add_header("X-CSRF-Token", self.csrf)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Node:
    """A running mesnode demo on a free loopback port."""

    def __init__(self, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="mesnode-test-")
        self._start([MESNODE, "demo", "--port", "0", "--data", os.path.join(self.dir, "data"), *extra_args],
                    r"running: http://127\.0\.0\.1:(\d+)/")

    def _start(self, argv, port_pattern, env=None):
        """Runs `argv` (with `env` added to the environment), its output in the node's log, and
        waits until the log names the port (the first group of `port_pattern`)."""
        self.log = open(os.path.join(self.dir, "stdout.log"), "w+")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **env) if env else None)
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("mesnode exited: " + self.output())
            m = re.search(port_pattern, self.output())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("mesnode did not start: " + self.output())
        self.base = f"http://127.0.0.1:{self.port}"

    def output(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def client(self, **kw):
        return Client(self.base, **kw)

    def login(self, login, password=DEMO_PASSWORD, cookies=False):
        """Logs in and returns a Client carrying the credentials."""
        c = Client(self.base, cookies=cookies)
        r = c.post("/api/v1/auth/login", {"login": login, "password": password})
        assert r.status == 200, r
        data = r.json()
        if cookies:
            c.csrf = data["csrf_token"]
        else:
            c.token = data["token"]
        c.user = data["user"]
        return c

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.last_output = self.output()
        self.log.close()
        code = self.proc.returncode
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


@pytest.fixture(scope="module")
def node():
    n = Node()
    yield n
    code = n.stop()
    # A clean shutdown exits 0; sanitizer findings make it non-zero.
    assert code == 0, f"mesnode exited with {code}:\n{n.last_output[-6000:]}"


class ServedNode(Node):
    """`mesnode serve --config FILE` on the demo region (made by `mesnode gen --scale demo`, so
    the demo's logins work), for tests that need configuration keys the demo does not take.
    `http` holds extra lines of the http section (indented by two spaces), `extra` more
    sections; `env`, variables added to the environment of `serve` (not of `gen`)."""

    def __init__(self, http="", extra="", threads=16, port=0, env=None):
        self.dir = tempfile.mkdtemp(prefix="mesnode-test-")
        data = os.path.join(self.dir, "data")
        gen = subprocess.run([MESNODE, "gen", "--scale", "demo", "--data", data],
                             capture_output=True, text=True, timeout=120)
        if gen.returncode != 0:
            raise RuntimeError("mesnode gen failed: " + gen.stderr)
        self.config = os.path.join(self.dir, "node.yaml")
        with open(self.config, "w") as f:
            f.write(f'http:\n  listen: "127.0.0.1:{port}"\n  threads: {threads}\n{http}\n'
                    f'storage:\n  data_dir: "{data}"\n  synchronous: normal\n{extra}')
        self._start([MESNODE, "serve", "--config", self.config], r"on port (\d+)", env)


@pytest.fixture(scope="module")
def w(node):
    """Ids of the demo world: classes, subjects, the current period, lessons of 5А."""
    teacher = node.login("teacher")
    parent = node.login("parent")
    a = {(x["class"]["name"], x["subject"]["name"]): x for x in teacher.user["assignments"]}
    c5a = a[("5А", "Математика")]["class"]["id"]
    math = a[("5А", "Математика")]["subject"]["id"]
    years = teacher.get("/api/v1/academic-years").json()["items"]
    today = datetime.date.today().isoformat()
    periods = years[0]["periods"]
    current = next((p for p in periods if p["starts_on"] <= today <= p["ends_on"]), None)
    current = current or next(p for p in periods if p["starts_on"] <= today)
    subjects = {s["code"]: s["id"] for s in teacher.get("/api/v1/subjects").json()["items"]}
    grid = teacher.get(f"/api/v1/journal?class={c5a}&subject={math}&period={current['id']}").json()
    kids = {c["name"]: c for c in parent.user["children"]}
    return {"c5a": c5a, "math": math, "rus": subjects["rus"], "period": current, "periods": periods,
            "lessons": grid["lessons"], "students": grid["students"],
            "artem": kids["Иванов Артём Сергеевич"]["id"], "maria": kids["Иванова Мария Сергеевна"]["id"],
            "year_id": years[0]["id"], "subjects": subjects}


def run(*args, cwd=None, env=None):
    """Runs `mesnode ARGS...` to its end; the CompletedProcess, output as text. `env` adds to
    the environment."""
    return subprocess.run([MESNODE, *args], cwd=cwd, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **env} if env else None)


def free_port():
    """A loopback port free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`mesnode serve --config FILE` on a free port."""

    def __init__(self, d, name, config_text):
        self.port = free_port()
        self.config = d / f"{name}.yaml"
        self.config.write_text(config_text.replace("PORT", str(self.port)))
        self.log = open(d / f"{name}.log", "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MESNODE, "serve", "--config", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                if Client(base).get("/healthz").status == 200:
                    return base
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.config} did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            assert self.proc.wait(timeout=20) == 0
        self.log.close()


def login(base, user, password):
    """A Client logged in as `user` at the node at `base`, with its bearer token."""
    c = Client(base)
    r = c.post("/api/v1/auth/login", {"login": user, "password": password})
    assert r.status == 200, r
    c.token = r.json()["token"]
    return c


def minisign_seed(path):
    """The Ed25519 seed of an unencrypted minisign secret key file (node.key, `mesnode keygen`)."""
    raw = base64.b64decode(Path(path).read_text().splitlines()[1])
    assert raw[2:4] == b"\0\0", "an encrypted key"
    return raw[54 + 8:54 + 8 + 32]  # after the algorithms, salt and limits: key id, then the seed


def signed_headers(seed, code, method, uri, body=b"", when=None):
    """X-Mes-* headers of a request between nodes signed as docs/federation.md says."""
    when = int(time.time()) if when is None else when
    digest = hashlib.blake2b(body, digest_size=32).hexdigest()
    msg = f"mes-fed-1\n{method}\n{uri}\n{when}\n{digest}".encode()
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(msg)
    return {"X-Mes-Region": code, "X-Mes-Time": str(when), "X-Mes-Signature": base64.b64encode(sig).decode()}


def decode_qr(svg, tmp_path):
    """The text of an SVG QR code of the node, read by an independent decoder (zbarimg)."""
    side = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
    assert len(dark) > 100
    scale = 8
    rows = []
    for y in range(side * scale):
        rows.append(" ".join("1" if (x // scale, y // scale) in dark else "0" for x in range(side * scale)))
    pbm = tmp_path / "qr.pbm"
    pbm.write_text(f"P1\n{side * scale} {side * scale}\n" + "\n".join(rows) + "\n")
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(pbm)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()

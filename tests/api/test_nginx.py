"""The node behind Debian's nginx with the site `mesnode nginx-site` prints (the template
installer/nginx-site.conf filled from the node's configuration), as docs/deployment.md says to
run it: TLS with a certificate made here by openssl, nginx started from a temporary prefix on
loopback ports. Clients connect from different loopback addresses (127.0.0.2, 127.0.0.3, ...:
Linux lets a socket bind any of 127/8), so the node must tell them apart through nginx: the
audit log and the login throttle see each client, an upload as large as the node allows
passes, certificates' links carry the public URL, /metrics is the monitoring network's, and
200 connections trickling their headers do not keep a normal client waiting."""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import MESNODE, ServedNode, decode_qr, free_port

HOST = "mes.example.test"
MAX_UPLOAD = 12 << 20
REPO = os.path.join(os.path.dirname(__file__), "..", "..")


class Stack:
    """A node, and nginx in front of it with the printed site."""

    def __init__(self):
        self.https_port, self.http_port, node_port = free_port(), free_port(), free_port()
        self.public_url = f"https://{HOST}:{self.https_port}"
        self.node = ServedNode(threads=32, port=node_port, http=(
            f'  public_url: "{self.public_url}"\n'
            f'  trusted_proxies: ["127.0.0.1"]\n'
            f'  max_upload_bytes: {MAX_UPLOAD}'))
        self.prefix = tempfile.mkdtemp(prefix="mesnode-nginx-")
        self.nginx = None
        try:
            self._start_nginx()
        except BaseException:
            self.stop()
            raise

    def _start_nginx(self):
        p = self.prefix
        os.chmod(p, 0o755)  # nginx's workers (nobody, under root) write their temporary files here
        self.cert, self.key = os.path.join(p, "cert.pem"), os.path.join(p, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
                        "-keyout", self.key, "-out", self.cert], check=True, capture_output=True, timeout=60)
        r = subprocess.run([MESNODE, "nginx-site", "--config", self.node.config, "--cert", self.cert,
                            "--key", self.key, "--monitoring", "127.0.0.9/32", "--bind", "127.0.0.1",
                            "--http-port", str(self.http_port)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        self.site = r.stdout
        with open(os.path.join(p, "site.conf"), "w") as f:
            f.write(self.site)
        tmp = os.path.join(p, "tmp")
        os.mkdir(tmp)
        user = ""
        if os.geteuid() == 0:
            user = "user nobody nogroup;"
            os.chown(tmp, 65534, 65534)
        with open(os.path.join(p, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
master_process on;
worker_processes 2;
{user}
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{ worker_connections 2048; }}
http {{
    access_log {p}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {p}/site.conf;
}}
""")
        args = ["nginx", "-p", p, "-c", os.path.join(p, "nginx.conf"), "-e", os.path.join(p, "error.log")]
        t = subprocess.run(args + ["-t"], capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, t.stderr
        self.nginx = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.nginx.poll() is not None:
                raise RuntimeError("nginx exited: " + self.error_log())
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def conn(self, src, timeout=30):
        """An HTTPS connection to nginx from loopback address `src`, checking the certificate."""
        stack = self

        class Conn(http.client.HTTPSConnection):
            def connect(self):
                sock = socket.create_connection(("127.0.0.1", stack.https_port), self.timeout, (src, 0))
                self.sock = stack.context().wrap_socket(sock, server_hostname=HOST)

        return Conn(HOST, self.https_port, timeout=timeout)

    def request(self, src, method, path, body=None, headers=None, token=None, raw=None, conn=None):
        """One request from `src` (on `conn` when given); returns (status, headers, body)."""
        c = conn or self.conn(src)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            out = r.read()
            if (r.getheader("Content-Type") or "").startswith("application/json"):
                out = json.loads(out)
            return r.status, r, out
        finally:
            if conn is None:
                c.close()

    def login(self, src, login, password="demo"):
        status, _, body = self.request(src, "POST", "/api/v1/auth/login", {"login": login, "password": password})
        assert status == 200, body
        return body

    def stop(self):
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        code = self.node.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)
        return code


@pytest.fixture(scope="module")
def stack():
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: installer/deps.sh installs it")
    s = Stack()
    yield s
    code = s.stop()
    assert code == 0, s.node.last_output[-4000:]


def test_the_site_is_the_template_filled_in(stack):
    template = open(os.path.join(REPO, "installer", "nginx-site.conf")).read().splitlines()
    site = stack.site.splitlines()
    assert len(site) == len(template)
    for t, s in zip(template, site):
        if "{{" not in t:
            assert s == t
    assert "{{" not in stack.site
    # Filled from the node's configuration.
    assert f"server 127.0.0.1:{stack.node.port};" in site[[i for i, t in enumerate(template) if "{{upstream}}" in t][0]]
    assert f"    client_max_body_size {MAX_UPLOAD};" in site
    assert f"    server_name {HOST};" in site
    assert f"    listen 127.0.0.1:{stack.https_port} ssl http2;" in site
    assert "    keepalive 8;" in site and "    keepalive_timeout 1000ms;" in site
    assert "    limit_conn mesnode_conn 16;" in site
    assert "        allow 127.0.0.9/32;" in site


def test_redirect_to_https_and_hsts(stack):
    c = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10, source_address=("127.0.0.2", 0))
    c.request("GET", "/certificates/1?s=abc", headers={"Host": "evil.example"})
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status == 301
    assert r.getheader("Location") == f"{stack.public_url}/certificates/1?s=abc"  # never the Host sent
    status, resp, body = stack.request("127.0.0.2", "GET", "/healthz")
    assert status == 200
    assert resp.getheader("Strict-Transport-Security") == "max-age=31536000"
    status, resp, body = stack.request("127.0.0.2", "GET", "/api/v1/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"  # the node's own JSON
    assert resp.getheader("Strict-Transport-Security")


def audit(stack):
    admin = stack.login("127.0.0.5", "admin")
    status, _, body = stack.request("127.0.0.5", "GET", "/api/v1/audit?limit=200", token=admin["token"])
    assert status == 200
    return body["items"]


def test_the_audit_log_sees_each_client(stack):
    for src, login in (("127.0.0.2", "from-two"), ("127.0.0.3", "from-three")):
        status, _, _ = stack.request(src, "POST", "/api/v1/auth/login", {"login": login, "password": "x"})
        assert status == 401
    # A client that writes X-Forwarded-For itself is still seen at its own address.
    status, _, _ = stack.request("127.0.0.4", "POST", "/api/v1/auth/login", {"login": "spoofer", "password": "x"},
                                 headers={"X-Forwarded-For": "1.1.1.1, 127.0.0.1"})
    assert status == 401
    failed = {i["detail"]["login"]: i["address"] for i in audit(stack) if i["action"] == "login_failed"}
    assert failed["from-two"] == "127.0.0.2"
    assert failed["from-three"] == "127.0.0.3"
    assert failed["spoofer"] == "127.0.0.4"
    logins = [i for i in audit(stack) if i["action"] == "login"]
    assert logins and logins[0]["address"] == "127.0.0.5"  # the admin who read the log
    # The node's access log too.
    assert re.search(r' 127\.0\.0\.3 account=0 device=0 "POST /api/v1/auth/login" 401', stack.node.output())


def test_one_clients_flood_does_not_throttle_another(stack):
    # The address's budget (auth.address_free_failures, 50 by default) is spent by 50 failed
    # guesses over 40 logins (at most two each, below the per-client and per-login budgets):
    # exactly the 51st request is refused, with a right password too.
    budget = 50
    c = stack.conn("127.0.0.6")
    try:
        for i in range(budget):
            status, _, body = stack.request("127.0.0.6", "POST", "/api/v1/auth/login",
                                            {"login": f"guess{i % 40}", "password": "x"}, conn=c)
            assert status == 401, (i, body)
        status, resp, body = stack.request("127.0.0.6", "POST", "/api/v1/auth/login",
                                           {"login": "teacher", "password": "demo"}, conn=c)
    finally:
        c.close()
    assert status == 429, body
    assert body["error"]["code"] == "throttled"
    assert 0 < int(resp.getheader("Retry-After")) <= 30  # auth.delay_s default: the first delay
    # Another client, at the same moment, logs in.
    other = stack.login("127.0.0.7", "teacher")
    assert other["token"]
    # The node saw two clients, not nginx twice.
    items = audit(stack)
    flood = [i for i in items if i["action"] == "login_failed" and i["detail"]["login"].startswith("guess")]
    assert flood and {i["address"] for i in flood} == {"127.0.0.6"}
    assert any(i["action"] == "login" and i["address"] == "127.0.0.7" for i in items)


def test_a_chunk_extension_is_read_through_the_site(stack):
    """A chunked body with chunk extensions ("b;foo=bar", legal HTTP/1.1) is read: nginx decodes
    the chunks and hands the node the body with its length. (Straight to the node, CivetWeb
    1.15 cannot read extensions and the node answers 400: tests/api/test_hostile.py.)"""
    body = json.dumps({"login": "teacher", "password": "demo"}).encode()
    chunks = b"".join(b"%x;foo=bar\r\n" % len(part) + part + b"\r\n" for part in (body[:7], body[7:]))
    head = (f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", stack.https_port), 30, ("127.0.0.8", 0))
    with stack.context().wrap_socket(sock, server_hostname=HOST) as tls:
        tls.sendall(head + chunks + b"0;end=1\r\n\r\n")
        data = b""
        while True:
            part = tls.recv(65536)
            if not part:
                break
            data += part
    status_line, _, rest = data.partition(b"\r\n")
    assert b" 200 " in status_line, data[:400]
    answer = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert answer["user"]["login"] == "teacher" and answer["token"]


def test_a_10_mib_upload_passes_and_larger_is_json_413(stack):
    teacher = stack.login("127.0.0.8", "teacher")["token"]
    status, _, item = stack.request("127.0.0.8", "POST", "/api/v1/library/items",
                                    {"type": "media", "title": "Большой файл", "grade_min": 5, "grade_max": 5},
                                    token=teacher)
    assert status == 201, item
    body = os.urandom(10 << 20)
    status, _, f = stack.request("127.0.0.8", "POST", f"/api/v1/library/items/{item['id']}/files?name=big.bin",
                                 raw=body, headers={"Content-Type": "application/octet-stream"}, token=teacher)
    assert status == 201, f
    status, _, got = stack.request("127.0.0.8", "GET", f"/api/v1/library/items/{item['id']}", token=teacher)
    fid = got["files"][0]["id"]
    status, _, back = stack.request("127.0.0.8", "GET", f"/api/v1/library/files/{fid}", token=teacher)
    assert status == 200 and hashlib.sha256(back).digest() == hashlib.sha256(body).digest()
    # One byte over http.max_upload_bytes: refused by nginx from the headers, as JSON.
    s = stack.context().wrap_socket(socket.create_connection(("127.0.0.1", stack.https_port), 10, ("127.0.0.8", 0)),
                                    server_hostname=HOST)
    try:
        s.sendall((f"POST /api/v1/library/items/{item['id']}/files?name=huge.bin HTTP/1.1\r\nHost: {HOST}\r\n"
                   f"Authorization: Bearer {teacher}\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Length: {MAX_UPLOAD + 1}\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        s.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(payload)["error"]["code"] == "too_large"
    status, _, got = stack.request("127.0.0.8", "GET", f"/api/v1/library/items/{item['id']}", token=teacher)
    assert [x["name"] for x in got["files"]] == ["big.bin"]


def test_certificate_links_use_the_public_url(stack, tmp_path):
    parent = stack.login("127.0.0.2", "parent")
    artem = next(c["id"] for c in parent["user"]["children"] if c["name"].startswith("Иванов Артём"))
    status, _, cert = stack.request("127.0.0.2", "POST", f"/api/v1/students/{artem}/certificates",
                                    {"purpose": "в бассейн"}, token=parent["token"])
    assert status == 201, cert
    link = f"{stack.public_url}/certificates/{cert['id']}?s={cert['signature']}"
    status, _, svg = stack.request("127.0.0.3", "GET", f"/api/v1/certificates/{cert['id']}/qr?s={cert['signature']}")
    assert status == 200
    assert decode_qr(svg.decode(), tmp_path) == link
    assert cert["link"] == link
    status, _, v = stack.request("127.0.0.3", "GET", f"/api/v1/certificates/{cert['id']}?s={cert['signature']}")
    assert status == 200 and v["valid"] is True and v["link"] == link
    # The link opens through nginx: the page, over HTTPS at the public address.
    path = link[len(stack.public_url):]
    status, resp, page = stack.request("127.0.0.3", "GET", path)
    assert status == 200 and resp.getheader("Content-Type").startswith("text/html")


def test_metrics_only_for_the_monitoring_network(stack):
    status, _, body = stack.request("127.0.0.9", "GET", "/metrics")
    assert status == 200 and b"# TYPE" in body
    status, _, body = stack.request("127.0.0.2", "GET", "/metrics")
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_slow_headers_do_not_stop_other_clients(stack):
    token = stack.login("127.0.0.20", "student")["token"]
    slow, stop = [], threading.Event()
    ctx = stack.context()
    try:
        for i in range(200):
            src = f"127.0.1.{i % 50 + 1}"  # from 50 addresses, four connections each
            s = socket.create_connection(("127.0.0.1", stack.https_port), 10, (src, 0))
            s = ctx.wrap_socket(s, server_hostname=HOST)
            s.sendall(f"GET /api/v1/me HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: ".encode())
            slow.append(s)

        def trickle():  # one more header byte on every connection each second, for at most 8 s
            end = time.time() + 8
            while not stop.is_set() and time.time() < end:
                for s in slow:
                    try:
                        s.send(b"a")
                    except OSError:
                        pass
                stop.wait(1)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        worst = 0.0
        for _ in range(6):  # over about three seconds, with every slow connection open
            t0 = time.monotonic()
            status, _, body = stack.request("127.0.0.20", "GET", "/api/v1/me", token=token)
            worst = max(worst, time.monotonic() - t0)
            assert status == 200 and body["roles"] == ["student"]
            status, _, _ = stack.request("127.0.0.21", "GET", "/healthz")
            assert status == 200
            time.sleep(0.5)
        assert worst < 1.0, f"a normal client waited {worst:.2f} s"
        # The slow connections are still open (nginx waits for them, the node never sees them).
        alive = 0
        for s in slow[:20]:
            s.setblocking(False)
            try:
                s.recv(1)  # an answer or the end: nginx gave up on it
            except (ssl.SSLWantReadError, BlockingIOError):
                alive += 1  # nothing to read yet: still waiting for the rest of its headers
            except OSError:
                pass
        assert alive == 20
    finally:
        stop.set()
        for s in slow:
            s.close()


def render(tmp_path, http, *args):
    cfg = tmp_path / "node.yaml"
    cfg.write_text(f'http:\n  listen: "127.0.0.1:8080"\n{http}')
    return subprocess.run([MESNODE, "nginx-site", "--config", str(cfg), *args], capture_output=True, text=True,
                          timeout=30)


def test_the_printer_refuses_a_site_that_would_not_work(tmp_path):
    good = '  public_url: "https://mes.example.region"\n  trusted_proxies: ["127.0.0.0/8"]\n'
    r = render(tmp_path, good)
    assert r.returncode == 0, r.stderr
    assert "    listen 443 ssl http2;" in r.stdout and "    listen 80;" in r.stdout
    assert "return 301 https://mes.example.region$request_uri;" in r.stdout
    assert "    client_max_body_size 20971520;" in r.stdout  # http.max_upload_bytes' default
    assert "        allow 192.0.2.0/24;" in r.stdout  # the placeholder network: nobody
    for http, words in (
            ('  trusted_proxies: ["127.0.0.1"]\n', "http.public_url is not set"),
            ('  public_url: "http://mes.example.region"\n  trusted_proxies: ["127.0.0.1"]\n', "https://"),
            ('  public_url: "https://mes.example.region"\n', "http.trusted_proxies must hold 127.0.0.1"),
            ('  public_url: "https://mes.example.region"\n  trusted_proxies: ["10.0.0.0/8"]\n', "127.0.0.1"),
            (good + "  keep_alive_timeout_ms: 0\n", "keep_alive_timeout_ms")):
        r = render(tmp_path, http)
        assert r.returncode == 1 and words in r.stderr, (http, r.stderr)
        assert r.stdout == ""
    for args, words in ((["--cert", "relative.pem"], "--cert"), (["--key", "/a b.pem"], "--key"),
                        (["--cert", "/x.pem;include /etc/passwd"], "--cert"),
                        (["--monitoring", "everyone"], "--monitoring"), (["--bind", "localhost"], "--bind"),
                        (["--http-port", "443"], "--http-port")):
        r = render(tmp_path, good, *args)
        assert r.returncode == 1 and words in r.stderr, (args, r.stderr)
    assert render(tmp_path, good, "--http-port", "0").returncode == 2
    # A node on another machine: nginx's address is not known here, but some proxy must be.
    other = tmp_path / "other.yaml"
    other.write_text('http:\n  listen: "10.0.0.5:8080"\n  public_url: "https://mes.example.region"\n')
    r = subprocess.run([MESNODE, "nginx-site", "--config", str(other)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "the address of the nginx machine" in r.stderr
    other.write_text(other.read_text() + '  trusted_proxies: ["10.0.0.1"]\n')
    r = subprocess.run([MESNODE, "nginx-site", "--config", str(other)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "    server 10.0.0.5:8080;" in r.stdout
    r = subprocess.run([MESNODE, "nginx-site", "--config", str(tmp_path / "none.yaml")], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1 and "cannot open" in r.stderr


def test_the_documented_site_is_what_is_printed(tmp_path):
    doc = open(os.path.join(REPO, "docs", "deployment.md"), encoding="utf-8").read()

    def block(marker, lang):
        m = re.search(rf"<!-- {marker} -->\n```{lang}\n(.*?)```\n", doc, re.S)
        assert m, marker
        return m.group(1)

    cfg = tmp_path / "node.yaml"
    cfg.write_text(block("sample-config", "yaml"))
    r = subprocess.run([MESNODE, "nginx-site", "--config", str(cfg), "--monitoring", "10.20.0.0/24"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == block("sample-site", "nginx"), "docs/deployment.md shows another site than is printed"

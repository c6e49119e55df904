"""The node behind a reverse proxy, without the proxy: requests from loopback addresses bound
by the test stand for nginx (127.0.0.1, a trusted proxy) and for clients reaching the node
directly (127.0.0.2, not trusted). The client's address comes from X-Forwarded-For only through
a trusted proxy (its rightmost untrusted entry); the audit log, sessions and the access log
carry it. Absolute links are built on http.public_url, never on the request's Host header.
The same through a real nginx: test_nginx.py."""
import http.client
import json
import re

import pytest

from conftest import ServedNode, decode_qr

PUBLIC = "https://mes.example.test"


@pytest.fixture(scope="module")
def node():
    n = ServedNode(http=f'  trusted_proxies: ["127.0.0.1", "10.0.0.0/8"]\n  public_url: "{PUBLIC}/"')
    yield n
    assert n.stop() == 0, n.last_output[-4000:]


def call(node, src, method, path, body=None, headers=None):
    """One request from the loopback address `src`; returns (status, parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30, source_address=(src, 0))
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        ctype = r.getheader("Content-Type") or ""
        return r.status, json.loads(raw) if ctype.startswith("application/json") else raw
    finally:
        conn.close()


def failed_login(node, src, login, xff=None):
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    status, _ = call(node, src, "POST", "/api/v1/auth/login", {"login": login, "password": "wrong"}, headers)
    return status


def audit_addresses(node):
    """login -> address of every failed login in the audit log."""
    admin = node.login("admin")
    items = admin.get("/api/v1/audit?limit=200").json()["items"]
    return {i["detail"]["login"]: i["address"] for i in items if i["action"] == "login_failed"}


def test_client_address_through_trusted_proxies_only(node):
    # Through the proxy: the rightmost entry that is not a trusted proxy. What the client
    # wrote itself on the left (1.1.1.1) is ignored, and so is a trusted hop on the right.
    assert failed_login(node, "127.0.0.1", "via-proxy", "1.1.1.1, 198.51.100.7") == 401
    assert failed_login(node, "127.0.0.1", "via-two", "198.51.100.8, 10.1.2.3") == 401
    assert failed_login(node, "127.0.0.1", "via-v6", "2001:DB8:0::7") == 401
    # A peer that is not a trusted proxy: its header means nothing.
    assert failed_login(node, "127.0.0.2", "direct", "198.51.100.9") == 401
    # Garbage from the proxy, or no header at all: the proxy's own address.
    assert failed_login(node, "127.0.0.1", "garbage", "198.51.100.7, <script>") == 401
    assert failed_login(node, "127.0.0.1", "empty", "") == 401
    assert failed_login(node, "127.0.0.1", "none") == 401
    # Several header lines are one list; the last line is the rightmost.
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30, source_address=("127.0.0.1", 0))
    conn.putrequest("POST", "/api/v1/auth/login")
    body = json.dumps({"login": "two-lines", "password": "wrong"}).encode()
    for h, v in (("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                 ("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "198.51.100.10")):
        conn.putheader(h, v)
    conn.endheaders(body)
    assert conn.getresponse().status == 401
    conn.close()
    got = audit_addresses(node)
    assert got["via-proxy"] == "198.51.100.7"
    assert got["via-two"] == "198.51.100.8"
    assert got["via-v6"] == "2001:db8::7"  # canonical: one client, one spelling
    assert got["direct"] == "127.0.0.2"
    assert got["garbage"] == "127.0.0.1"
    assert got["empty"] == "127.0.0.1"
    assert got["none"] == "127.0.0.1"
    assert got["two-lines"] == "198.51.100.10"
    # The access log says the same.
    log = node.output()
    assert re.search(r" 198\.51\.100\.7 account=0 device=0 \"POST /api/v1/auth/login\" 401", log), log[-2000:]
    assert re.search(r" 127\.0\.0\.2 account=0 device=0 \"POST /api/v1/auth/login\" 401", log)


def test_sessions_record_the_client(node):
    status, body = call(node, "127.0.0.1", "POST", "/api/v1/auth/login", {"login": "teacher", "password": "demo"},
                        {"X-Forwarded-For": "203.0.113.44"})
    assert status == 200, body
    items = node.login("admin").get("/api/v1/audit?limit=50").json()["items"]
    login = next(i for i in items if i["action"] == "login" and i["address"] == "203.0.113.44")
    assert login


def test_links_use_the_public_url(node, tmp_path):
    status, me = call(node, "127.0.0.1", "POST", "/api/v1/auth/login", {"login": "parent", "password": "demo"})
    assert status == 200
    token = me["token"]
    artem = next(c["id"] for c in me["user"]["children"] if c["name"].startswith("Иванов Артём"))
    auth = {"Authorization": "Bearer " + token, "Host": "127.0.0.1:8080"}
    status, cert = call(node, "127.0.0.1", "POST", f"/api/v1/students/{artem}/certificates",
                        {"purpose": "в бассейн"}, auth)
    assert status == 201, cert
    link = f"{PUBLIC}/certificates/{cert['id']}?s={cert['signature']}"  # the trailing "/" dropped
    assert cert["link"] == link
    assert cert["url"] == f"/certificates/{cert['id']}?s={cert['signature']}"  # the page's own path
    for host in ("127.0.0.1:8080", "evil.example", None):
        headers = {"Host": host, "X-Forwarded-Proto": "http"} if host else {}
        status, svg = call(node, "127.0.0.1", "GET", f"/api/v1/certificates/{cert['id']}/qr?s={cert['signature']}",
                           headers=headers)
        assert status == 200
        assert decode_qr(svg.decode(), tmp_path) == link
        status, v = call(node, "127.0.0.2", "GET", f"/api/v1/certificates/{cert['id']}?s={cert['signature']}",
                         headers=headers)
        assert status == 200 and v["link"] == link

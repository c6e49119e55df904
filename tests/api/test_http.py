"""The HTTP contract of PRODUCT.md section 6: JSON errors with the right status for every
failure, bounded bodies, keep-alive with Content-Length, health and HEAD."""
import http.client
import json
import os
import re
import time


def error_code(r):
    body = r.json()
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return body["error"]["code"]


def test_unknown_route_is_json_404(node):
    r = node.client().get("/api/v1/no/such/thing")
    assert r.status == 404 and error_code(r) == "not_found"
    assert r.headers["Content-Type"].startswith("application/json")


def test_wrong_method_is_405_with_allow(node):
    r = node.client().request("PUT", "/api/v1/me", body={})
    assert r.status == 405 and error_code(r) == "method_not_allowed"
    assert "GET" in r.headers["Allow"]


def test_malformed_json_is_400(node):
    c = node.client()
    r = c.request("POST", "/api/v1/auth/login", raw=b'{"login": "admin", ')
    assert r.status == 400 and error_code(r) == "bad_json"
    r = c.request("POST", "/api/v1/auth/login", raw=b'["admin", "demo"]')
    assert r.status == 400 and error_code(r) == "bad_json"
    r = c.request("POST", "/api/v1/auth/login", raw=b'{"login": "a", "login": "b", "password": "x"}')
    assert r.status == 400


def test_unknown_field_is_400(node):
    r = node.login("admin").post("/api/v1/subjects", {"code": "x_1", "name": "Икс", "colour": "red"})
    assert r.status == 400 and error_code(r) == "bad_request"
    assert "colour" in r.json()["error"]["message"]


def test_unknown_field_in_login_body_is_400(node):
    r = node.client().post("/api/v1/auth/login", {"login": "admin", "password": "demo", "otp": "1"})
    assert r.status == 400 and error_code(r) == "bad_request"
    assert "Set-Cookie" not in r.headers  # not logged in


def test_wrong_method_lists_every_allowed_method(node):
    admin = node.login("admin")
    r = admin.request("DELETE", "/api/v1/institutions/1")
    assert r.status == 405 and error_code(r) == "method_not_allowed"
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "PATCH"}
    r = node.client().request("GET", "/api/v1/auth/login")
    assert r.status == 405 and r.headers["Allow"] == "POST"


def test_body_too_large_is_413(node):
    c = node.client()
    big = b'{"login": "' + b"a" * (1024 * 1024 + 16) + b'", "password": "x"}'
    r = c.request("POST", "/api/v1/auth/login", raw=big)
    assert r.status == 413 and error_code(r) == "too_large"
    # Exactly at the limit is still read (and then judged as JSON).
    exact = b'{"login": "' + b"a" * (1024 * 1024 - 32) + b'", "password": "x"}'
    exact += b" " * (1024 * 1024 - len(exact))
    assert len(exact) == 1024 * 1024
    r = c.request("POST", "/api/v1/auth/login", raw=exact)
    assert r.status == 400 and error_code(r) == "bad_request"  # login longer than 64
    # The node still answers afterwards.
    assert c.get("/healthz").status == 200


def test_protected_route_without_credentials_is_401(node):
    for path in ("/api/v1/me", "/api/v1/institutions", "/api/v1/audit"):
        r = node.client().get(path)
        assert r.status == 401 and error_code(r) == "unauthorized", path


def test_role_not_allowed_is_403(node):
    r = node.login("student").post("/api/v1/subjects", {"code": "x_2", "name": "Икс"})
    assert r.status == 403 and error_code(r) == "forbidden"


def test_healthz(node):
    r = node.client().get("/healthz")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["status"] == "ok"


def test_keep_alive_and_content_length(node):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    conn.request("GET", "/healthz")
    r1 = conn.getresponse()
    assert r1.getheader("Content-Length") is not None
    body1 = r1.read()
    sock = conn.sock
    conn.request("POST", "/api/v1/auth/login", body=json.dumps({"login": "x", "password": "y"}),
                 headers={"Content-Type": "application/json"})
    r2 = conn.getresponse()
    assert r2.status == 401 and r2.getheader("Content-Length") == str(len(r2.read()))
    conn.request("GET", "/api/v1/nowhere")
    r3 = conn.getresponse()
    r3.read()
    assert r3.status == 404
    assert conn.sock is sock, "the connection was not kept alive"
    assert json.loads(body1)["status"] == "ok"
    conn.close()


def test_idle_connections_announce_how_long_they_stay_open(node):
    """Keep-Alive: timeout=N tells a client when the node will close an idle connection, so the
    client closes it first rather than send a request into a closing socket. The promise holds:
    a connection idle for just under N seconds still answers."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    r.read()
    m = re.fullmatch(r"timeout=(\d+)", r.getheader("Keep-Alive") or "")
    assert m, r.getheader("Keep-Alive")
    idle = int(m.group(1))
    assert idle >= 1
    sock = conn.sock
    time.sleep(idle - 0.3)
    conn.request("GET", "/api/v1/nowhere")
    r = conn.getresponse()
    r.read()
    assert r.status == 404 and r.getheader("Keep-Alive") == f"timeout={idle}"
    assert conn.sock is sock, "the connection closed before the announced timeout"
    conn.close()


def test_every_answer_has_content_length(node):
    token = node.login("admin").token
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    cases = [
        ("GET", "/healthz", None, {}, 200),
        ("GET", "/metrics", None, {}, 200),
        ("GET", "/", None, {}, 200),
        ("GET", "/api/v1/me", None, auth, 200),
        ("POST", "/api/v1/subjects", json.dumps({"code": "cl_1", "name": "Длина"}).encode(), auth, 201),
        ("POST", "/api/v1/subjects", b'{"code": ', auth, 400),
        ("GET", "/api/v1/me", None, {}, 401),
        ("GET", "/api/v1/students/999999", None, auth, 404),
        ("GET", "/nowhere", None, {}, 404),
        ("PUT", "/api/v1/me", b"{}", auth, 405),
    ]
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    sock = None
    for method, path, body, headers, status in cases:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        assert r.status == status, (method, path, data)
        assert r.getheader("Transfer-Encoding") is None, path
        assert r.getheader("Content-Length") == str(len(data)), (method, path)
        # All of them on one kept-alive connection.
        assert sock is None or conn.sock is sock, (method, path)
        sock = conn.sock
    conn.close()


def test_head_on_get_routes(node):
    token = node.login("parent").token
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    conn.request("HEAD", "/healthz")
    r = conn.getresponse()
    assert r.status == 200
    assert int(r.getheader("Content-Length")) > 0
    assert r.read() == b""
    # An authenticated API route: the same status and length as GET, no body.
    auth = {"Authorization": "Bearer " + token}
    conn.request("GET", "/api/v1/me", headers=auth)
    g = conn.getresponse()
    body = g.read()
    conn.request("HEAD", "/api/v1/me", headers=auth)
    h = conn.getresponse()
    assert h.status == 200 and h.read() == b""
    assert h.getheader("Content-Length") == str(len(body))
    assert h.getheader("Content-Type").startswith("application/json")
    # Policy still applies to HEAD.
    conn.request("HEAD", "/api/v1/me")
    h = conn.getresponse()
    assert h.status == 401 and h.read() == b""
    conn.close()


def test_api_answers_are_not_cached(node):
    r = node.login("parent").get("/api/v1/me")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_web_assets_have_etags(node):
    c = node.client()
    r = c.get("/")
    assert r.status == 200 and b"/static/main.js" in r.body
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    js = c.get("/static/app.js")
    etag = js.headers["ETag"]
    assert js.status == 200 and js.headers["Content-Type"].startswith("text/javascript")
    again = c.get("/static/app.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert c.get("/static/nope.js").status == 404
    assert c.get("/static/../node/web/web.c").status == 404
    catalog = c.get("/i18n/ru.json").json()
    assert catalog["login.error.invalid"] == "Неверный логин или пароль"
    ui = c.get("/api/v1/ui").json()
    assert ui["default_language"] == "ru" and ui["signed_in"] is False


def test_ui_tells_whether_the_request_has_a_session(node):
    """/api/v1/ui says signed_in only for a live session's cookie: a visitor's shell then asks
    nothing more, and a logged-out cookie counts as none."""
    assert node.client().get("/api/v1/ui").json()["signed_in"] is False
    c = node.login("teacher", cookies=True)
    assert c.get("/api/v1/ui").json()["signed_in"] is True
    assert c.post("/api/v1/auth/logout", {}).status in (200, 204)
    assert c.get("/api/v1/ui").json()["signed_in"] is False


def test_every_page_of_the_shell_is_served(node):
    """Each page the web shell routes to (its `path:` patterns) loads the shell when opened
    directly, as after a reload or from a link in a notification."""
    static = os.path.join(os.path.dirname(__file__), "..", "..", "node", "web", "static")
    patterns = []
    for name in sorted(os.listdir(static)):
        if name.endswith(".js"):
            patterns += re.findall(r"path: /\^(.*?)\$/", open(os.path.join(static, name)).read())
    assert len(patterns) >= 15
    for p in patterns:
        url = p.replace("(login)?", "login").replace("(\\d+)", "7").replace("\\/", "/")
        r = node.client().get(url)
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html"), (p, url, r.status)

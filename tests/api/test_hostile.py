"""Hostile input on the request path (issue 13): JSON nested deep enough to overflow a worker's
stack, worker stacks sized from the configuration, bodies shorter than their Content-Length,
chunked bodies, NUL and invalid UTF-8 in the path, and the errors CivetWeb answers by itself,
which come in the JSON error shape. Raw sockets where an HTTP library would not send the bytes.
"""
import datetime
import json
import socket
import time

import pytest

from conftest import ServedNode


# ---- raw HTTP ---------------------------------------------------------------------------------

class Raw:
    """One parsed HTTP answer read from a socket."""

    def __init__(self, status, headers, body, closed):
        self.status, self.headers, self.body, self.closed = status, headers, body, closed

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Raw {self.status} {self.headers} {self.body[:200]!r}>"


def read_answer(sock, timeout=15, closing=False):
    """Reads one answer (headers, then Content-Length bytes) and, when `closing`, whether the
    server then closed (waiting up to 3 s for it: a kept-alive connection stays open for the
    node's idle limit, so only the answers meant to close are waited on)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before an answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers["content-length"][0])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    body, extra = rest[:length], rest[length:]
    closed = False
    try:
        sock.settimeout(3)
        closed = closing and extra == b"" and sock.recv(1) == b""
    except socket.timeout:
        pass
    return Raw(status, {k: v[0] for k, v in headers.items()}, body, closed)


def raw(port, data, half_close=False, timeout=15, closing=False):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        return read_answer(s, timeout, closing)


def request(method, path, body=b"", headers=(), token=None):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append("Authorization: Bearer " + token)
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def assert_json_error(r, status, code=None):
    assert r.status == status, r
    assert r.headers["content-type"].startswith("application/json"), r
    err = r.json()["error"]
    assert set(err) == {"code", "message"} and err["message"], r
    if code is not None:
        assert err["code"] == code, r
    return err


def alive(node):
    assert node.proc.poll() is None, "the node died:\n" + node.output()[-3000:]
    assert node.client().get("/healthz").status == 200


# ---- a node served from a configuration -------------------------------------------------------

def serve(http):
    """The demo region served by `mesnode serve` with these http keys (conftest.ServedNode)."""
    n = ServedNode(http="".join(f"  {k}: {v}\n" for k, v in http.items()))
    yield n
    code = n.stop()
    assert code == 0, f"mesnode exited with {code}:\n{n.last_output[-6000:]}"


@pytest.fixture(scope="module")
def served():
    """A 2 MiB worker stack, and JSON allowed 1,000 levels deep, to show that the stack holds
    what the depth allows."""
    yield from serve({"thread_stack_kib": 2048, "max_json_depth": 1000})


@pytest.fixture(scope="module")
def impatient():
    """A short request timeout: the stall test waits for it."""
    yield from serve({"request_timeout_ms": 1000})


# ---- helpers of the demo world ----------------------------------------------------------------

def mark_target(node):
    """(teacher token, lesson id, student id) for a mark the demo teacher may write."""
    teacher = node.login("teacher")
    a = {(x["class"]["name"], x["subject"]["name"]): x for x in teacher.user["assignments"]}
    c5a = a[("5А", "Математика")]["class"]["id"]
    math = a[("5А", "Математика")]["subject"]["id"]
    today = datetime.date.today().isoformat()
    periods = teacher.get("/api/v1/academic-years").json()["items"][0]["periods"]
    period = next((p for p in periods if p["starts_on"] <= today <= p["ends_on"]), None)
    period = period or next(p for p in periods if p["starts_on"] <= today)
    grid = teacher.get(f"/api/v1/journal?class={c5a}&subject={math}&period={period['id']}").json()
    lesson = next(l for l in grid["lessons"] if not l["cancelled"])
    student = grid["students"][0]["id"]
    return teacher, lesson["id"], student, f"/api/v1/journal?class={c5a}&subject={math}&period={period['id']}"


def marks_with_comment(teacher, grid_url, comment):
    text = teacher.get(grid_url).body.decode("utf-8")
    return text.count(comment)


# ---- deep JSON --------------------------------------------------------------------------------

def test_deep_json_is_400_and_the_node_lives(node):
    """The issue's 2,000-byte bodies killed the process (a segfault in jansson on a 100 KiB
    worker stack at about 925 levels); now they are 400 bad_json before jansson sees them."""
    for body in (b"[" * 1000, b'{"a":' * 1000, b"[" * 100000):
        r = raw(node.port, request("POST", "/api/v1/auth/login", body,
                                   [f"Content-Length: {len(body)}", "Connection: close"]))
        err = assert_json_error(r, 400, "bad_json")
        assert "deeper than 32" in err["message"]
        alive(node)
    # Logged in, any route that takes a body: the same.
    teacher = node.login("teacher")
    r = teacher.request("POST", "/api/v1/lessons/1/marks", raw=b"[" * 1000)
    assert r.status == 400 and r.json()["error"]["code"] == "bad_json"
    alive(node)


def test_depth_bound_is_exact(node):
    c = node.client()
    # 32 levels: parsed, then refused for what it says (login is not a string).
    ok = b'{"login":' + b"[" * 31 + b"]" * 31 + b',"password":"x"}'
    r = c.request("POST", "/api/v1/auth/login", raw=ok)
    assert r.status == 400 and r.json()["error"]["code"] == "bad_request", r
    deep = b'{"login":' + b"[" * 32 + b"]" * 32 + b',"password":"x"}'
    r = c.request("POST", "/api/v1/auth/login", raw=deep)
    assert r.status == 400 and r.json()["error"]["code"] == "bad_json", r
    # Brackets inside strings are text, not depth.
    r = c.request("POST", "/api/v1/auth/login",
                  raw=json.dumps({"login": "[" * 60, "password": "{" * 200}).encode())
    # 60 and 200 characters are within the lengths allowed: checked, and no such login.
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_credentials", r


# ---- worker stacks ----------------------------------------------------------------------------

def worker_stack(n):
    text = n.client().get("/metrics").body.decode()
    line = next(l for l in text.splitlines() if l.startswith("mes_http_worker_stack_bytes "))
    return int(line.split()[1])


def test_worker_stack_comes_from_the_configuration(node, served):
    """CivetWeb (Debian's 1.15) starts its threads with 100 KiB stacks; the node gives them
    http.thread_stack_kib: 1 MiB by default, 2 MiB as configured here."""
    assert worker_stack(node) == 1024 * 1024
    assert worker_stack(served) == 2048 * 1024


def test_stack_holds_the_depth_it_allows(served):
    """With max_json_depth 1000, jansson recurses 1,000 levels on a worker: the 100 KiB stack
    died at about 925; the configured one holds it, and the depth bound still refuses more."""
    c = served.client()
    ok = b'{"login":' + b"[" * 999 + b"]" * 999 + b',"password":"x"}'
    r = c.request("POST", "/api/v1/auth/login", raw=ok)
    assert r.status == 400 and r.json()["error"]["code"] == "bad_request", r
    r = c.request("POST", "/api/v1/auth/login", raw=b"[" * 1001)
    assert r.status == 400 and "deeper than 1000" in r.json()["error"]["message"], r
    alive(served)


# ---- truncated bodies -------------------------------------------------------------------------

def mark_body(student, comment):
    return json.dumps({"student_id": student, "value": "5", "control_form": "oral",
                       "comment": comment}).encode()


def test_body_cut_short_by_half_close_writes_nothing(node):
    teacher, lesson, student, grid = mark_target(node)
    body = mark_body(student, "hostile-half-close")
    req = request("POST", f"/api/v1/lessons/{lesson}/marks", body,
                  [f"Content-Length: {len(body) + 20}", "Content-Type: application/json"],
                  token=teacher.token)
    r = raw(node.port, req, half_close=True)
    err = assert_json_error(r, 400, "bad_request")
    assert "ended before Content-Length" in err["message"]
    assert r.headers.get("connection") == "close"
    assert marks_with_comment(teacher, grid, "hostile-half-close") == 0
    # The same body whole is written: the refusal was the truncation, not the body.
    r = teacher.post(f"/api/v1/lessons/{lesson}/marks", json.loads(mark_body(student, "hostile-whole")))
    assert r.status == 201, r
    assert marks_with_comment(teacher, grid, "hostile-whole") == 1


def test_body_cut_short_by_a_stall_writes_nothing(impatient):
    """The client sends part of its body and waits: after http.request_timeout_ms (1 s here)
    the node answers 400 and writes nothing (it used to parse the part and answer 201)."""
    teacher, lesson, student, grid = mark_target(impatient)
    body = mark_body(student, "hostile-stall")
    req = request("POST", f"/api/v1/lessons/{lesson}/marks", body,
                  [f"Content-Length: {len(body) + 20}", "Content-Type: application/json"],
                  token=teacher.token)
    t0 = time.time()
    with socket.create_connection(("127.0.0.1", impatient.port)) as s:
        s.sendall(req)
        r = read_answer(s, timeout=20)
    assert time.time() - t0 < 10
    assert_json_error(r, 400, "bad_request")
    assert marks_with_comment(teacher, grid, "hostile-stall") == 0
    alive(impatient)


# ---- chunked bodies ---------------------------------------------------------------------------

def chunked(body, sizes, ext=b""):
    out, i = b"", 0
    for n in sizes:
        part = body[i:i + n]
        i += n
        out += b"%x" % len(part) + ext + b"\r\n" + part + b"\r\n"
    assert i >= len(body)
    return out + b"0\r\n\r\n"


LOGIN = json.dumps({"login": "admin", "password": "demo"}).encode()


def test_chunked_bodies_within_and_beyond_the_limit(node):
    te = ["Transfer-Encoding: chunked", "Connection: close"]
    r = raw(node.port, request("POST", "/api/v1/auth/login", chunked(LOGIN, [5, 7, 100]), te))
    assert r.status == 200 and r.json()["user"]["login"] == "admin", r
    big = b'{"login": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    r = raw(node.port, request("POST", "/api/v1/auth/login", chunked(big, [65536] * 17), te))
    assert_json_error(r, 413, "too_large")
    assert r.headers.get("connection") == "close"


def test_chunk_extension_or_broken_chunks_are_400_never_an_empty_body(node):
    """CivetWeb 1.15 cannot read a chunk extension ("b;foo=bar", legal HTTP/1.1): its mg_read
    refuses the ';'. The node used to take what it read as an empty body; now a chunked body
    CivetWeb reports as broken is refused with 400, and the connection closes."""
    te = ["Transfer-Encoding: chunked"]
    cases = [chunked(LOGIN, [len(LOGIN)], b";foo=bar"),   # an extension
             b"zz\r\n" + LOGIN + b"\r\n0\r\n\r\n",          # not a size
             b"%x\r\n" % len(LOGIN) + LOGIN + b"XX0\r\n\r\n"]  # no CRLF after the data
    for body in cases:
        r = raw(node.port, request("POST", "/api/v1/auth/login", body, te), closing=True)
        err = assert_json_error(r, 400, "bad_request")
        assert "chunked" in err["message"], r
        assert r.closed, r
    # Cut short: the client closes before the last chunk.
    r = raw(node.port, request("POST", "/api/v1/auth/login", b"%x\r\n" % len(LOGIN) + LOGIN, te),
            half_close=True)
    assert_json_error(r, 400, "bad_request")
    alive(node)


# ---- paths ------------------------------------------------------------------------------------

def test_nul_in_the_path_is_400(node):
    """"/api/v1/students/8%00/diary" was routed as /api/v1/students/8, and
    "/static/app.js%00.png" served app.js: CivetWeb decoded the path and cut it at the NUL."""
    parent = node.login("parent")
    kid = parent.user["children"][0]["id"]
    for path in (f"/api/v1/students/{kid}%00/diary", "/static/app.js%00.png", "/healthz%00",
                 "/api/v1/me%0A", "/static/app.js%"):
        r = raw(node.port, request("GET", path, token=parent.token))
        assert_json_error(r, 400, "bad_path")
    # What is percent-encoded and valid is decoded and routed.
    r = raw(node.port, request("GET", "/%73tatic/app%2Ejs"))
    assert r.status == 200 and r.headers["content-type"].startswith("text/javascript"), r
    r = raw(node.port, request("GET", "/api/v1/%6De", token=parent.token))
    assert r.status == 200 and r.json()["login"] == "parent", r


def test_invalid_utf8_in_the_path_is_400(node):
    for path in (b"/static/app.js%C0%AF",       # overlong '/': was a 404 with an empty body
                 b"/api/v1/%E0%80%AF",          # overlong in three bytes
                 b"/api/v1/%ED%A0%80",          # a surrogate
                 b"/api/v1/%F4%90%80%80",       # above U+10FFFF
                 b"/api/v1/%D1",                # cut short
                 b"/api/v1/%D1/"):              # interrupted
        r = raw(node.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_json_error(r, 400, "bad_path")
    # CivetWeb itself refuses raw bytes above 0x7F in the request line, valid UTF-8 or not.
    for path in (b"/api/v1/\xff", b"/api/v1/\xd1", b"/api/v1/\xd1\x88"):
        r = raw(node.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_json_error(r, 400, "bad_request")
    # Valid UTF-8, percent-encoded, is a path like any other.
    r = raw(node.port, request("GET", "/api/v1/%D1%88%D0%BA"))
    assert_json_error(r, 404, "not_found")
    assert "/api/v1/шк" in r.json()["error"]["message"]
    alive(node)


# ---- what CivetWeb answers by itself ----------------------------------------------------------

LOGIN_LINE = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
CIVETWEB_ANSWERS = [
    # (what, request, status, code): each answered by CivetWeb before any handler, except the
    # two that CivetWeb lets through and the node refuses (2abc, both framings).
    ("length-not-a-number", LOGIN_LINE + b"Content-Length: abc\r\n\r\n", 411, "length_required"),
    ("length-negative", LOGIN_LINE + b"Content-Length: -5\r\n\r\n", 411, "length_required"),
    ("length-with-garbage", LOGIN_LINE + b"Content-Length: 2abc\r\n\r\n{}", 400, "bad_request"),
    ("length-and-chunked", LOGIN_LINE + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"2\r\n{}\r\n0\r\n\r\n", 400, "bad_request"),
    ("unknown-coding", LOGIN_LINE + b"Transfer-Encoding: gzip\r\n\r\n", 400, "bad_request"),
    ("not-http", b"garbage\r\n\r\n", 400, "bad_request"),
    ("unknown-method", b"FROBNICATE /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("trace", b"TRACE /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("http2", b"GET /api/v1/me HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version"),
    ("huge-header", b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n",
     400, "bad_request"),
    ("relative-target", b"GET api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
]


@pytest.mark.parametrize("what,data,status,code", CIVETWEB_ANSWERS,
                         ids=[c[0] for c in CIVETWEB_ANSWERS])
def test_civetweb_errors_are_json(node, what, data, status, code):
    r = raw(node.port, data, closing=True)
    assert_json_error(r, status, code)
    assert r.headers.get("connection") == "close" and r.closed, r
    assert r.headers.get("cache-control") == "no-store"
    alive(node)

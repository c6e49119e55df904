"""The login throttle against an attacker who knows a login (docs/security.md, "Login
throttling"): the attacker's guesses meet growing delays (429 with a growing Retry-After), while
the owner's browser, holding the device cookie of an earlier login, gets in at once, judged by
its own failures only. Forged and foreign cookies earn nothing; a cookie that fails too often
loses its trust. A node of its own (`serve` over a generated demo region) with delays of seconds
rather than minutes; every client here is 127.0.0.1, the attacker's address and the owner's."""
import re
import time

import pytest

from conftest import Client, ServedNode

DELAY_S, MAX_DELAY_S = 2, 8
AUTH = f"""auth:
  client_free_failures: 3
  login_free_failures: 100
  address_free_failures: 1000
  device_free_failures: 2
  device_lockout_failures: 3
  delay_s: {DELAY_S}
  max_delay_s: {MAX_DELAY_S}
  failure_window_s: 3600
"""


@pytest.fixture(scope="module")
def base():
    n = ServedNode(http='  access_log: "off"\n', extra=AUTH)
    yield n.base
    code = n.stop()
    assert code == 0, n.last_output[-4000:]


def login(client, name, password="demo"):
    return client.post("/api/v1/auth/login", {"login": name, "password": password})


def browser(base, name):
    """A browser (cookie jar) that has logged in as `name` once: it holds the device cookie."""
    b = Client(base, cookies=True)
    r = login(b, name)
    assert r.status == 200, r
    assert [c for c in b.jar if c.name == "mes_device"], "no device cookie"
    return b


def device_cookie(b):
    return next(c.value for c in b.jar if c.name == "mes_device")


def throttled(r):
    assert r.status == 429, r
    assert r.json()["error"]["code"] == "throttled"
    wait = int(r.headers["Retry-After"])
    assert 0 < wait <= MAX_DELAY_S
    return wait


def test_login_sets_a_device_cookie(base):
    c = Client(base)
    r = login(c, "parent")
    assert r.status == 200
    cookies = r.headers.get_all("Set-Cookie")
    device = [v for v in cookies if v.startswith("mes_device=")]
    assert len(device) == 1, cookies
    attrs = [a.strip() for a in device[0].split(";")]
    assert re.fullmatch(r"mes_device=[A-Za-z0-9_-]{76}", attrs[0]), attrs[0]
    assert {"HttpOnly", "SameSite=Strict", "Path=/api/v1/auth/login",
            f"Max-Age={180 * 86400}"} <= set(attrs)
    assert "Secure" not in attrs  # auth.cookie_secure is false here
    # A new one at every login; the session cookie is set as before.
    again = login(c, "parent").headers.get_all("Set-Cookie")
    assert [v for v in again if v.startswith("mes_device=")][0].split(";")[0] != attrs[0]
    assert any(v.startswith("mes_session=") for v in again)
    # A failed login sets none.
    assert "Set-Cookie" not in login(c, "parent", "wrong").headers
    # Logging out ends the session and leaves the device cookie, which only the login sees.
    b = Client(base, cookies=True)
    b.csrf = login(b, "student").json()["csrf_token"]
    r = b.post("/api/v1/auth/logout")
    assert r.status == 200
    assert all(not v.startswith("mes_device=") for v in r.headers.get_all("Set-Cookie"))
    assert [c for c in b.jar if c.name == "mes_device"]


def test_the_owner_gets_in_while_an_attacker_guesses(base):
    owner = browser(base, "teacher")
    attacker = Client(base)
    for _ in range(3):
        assert login(attacker, "teacher", "guess").status == 401
    # The attacker now waits before every guess, longer each time: 2 s, 4 s, 8 s.
    waits = []
    for delay in (DELAY_S, 2 * DELAY_S, 4 * DELAY_S):
        wait = throttled(login(attacker, "teacher", "guess"))
        assert delay - 1 <= wait <= delay, (delay, wait)
        waits.append(wait)
        if delay < 4 * DELAY_S:
            time.sleep(wait)
            assert login(attacker, "teacher", "guess").status == 401
    assert waits == sorted(set(waits))
    # The right password is refused too while the delay lasts: no guess is ever checked then.
    throttled(login(attacker, "teacher", "demo"))
    # The owner's browser gets in at once, from the same address, and again after a typo.
    r = login(owner, "teacher")
    assert r.status == 200, r
    owner.csrf = r.json()["csrf_token"]
    assert owner.get("/api/v1/me").json()["login"] == "teacher"
    assert login(owner, "teacher", "typo").status == 401
    assert login(owner, "Teacher").status == 200
    # A browser that never logged in as teacher is judged as any stranger from this address.
    throttled(login(Client(base, cookies=True), "teacher"))
    # Other logins are not concerned.
    assert login(attacker, "schooladmin").status == 200


def test_forged_and_foreign_cookies_earn_nothing(base):
    owner = browser(base, "classteacher")
    student = browser(base, "student")
    attacker = Client(base)
    for _ in range(3):
        assert login(attacker, "classteacher", "guess").status == 401
    throttled(login(attacker, "classteacher", "demo"))
    # Another login's cookie, a changed one, junk: judged as no cookie at all.
    throttled(login(student, "classteacher"))
    good = device_cookie(owner)
    forged = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    for value in (forged, good[:-1], good + "A", "", "x" * 5000, "%00"):
        throttled(attacker.post("/api/v1/auth/login", {"login": "classteacher", "password": "demo"},
                                headers={"Cookie": "mes_device=" + value}))
    # Junk beside a right password for a login nobody attacks still logs in: it is no cookie.
    r = attacker.post("/api/v1/auth/login", {"login": "medic", "password": "demo"},
                      headers={"Cookie": "mes_device=" + "x" * 5000})
    assert r.status == 200, r
    # The genuine cookie, sent by hand as well as by the browser, is trusted.
    r = attacker.post("/api/v1/auth/login", {"login": "classteacher", "password": "demo"},
                      headers={"Cookie": "mes_device=" + good})
    assert r.status == 200, r
    assert login(owner, "classteacher").status == 200


def test_a_cookie_failing_too_often_loses_its_trust(base):
    owner = browser(base, "methodologist")
    other = browser(base, "methodologist")  # the owner's second browser
    # Failures with a device cookie: two free, then the cookie's own delay ...
    assert login(owner, "methodologist", "typo").status == 401
    assert login(owner, "methodologist", "typo").status == 401
    wait = throttled(login(owner, "methodologist"))
    assert wait <= DELAY_S
    time.sleep(wait)
    # ... and a third locks the cookie out: it is a stranger's from now on.
    assert login(owner, "methodologist", "typo").status == 401
    attacker = Client(base)
    for _ in range(3):
        assert login(attacker, "methodologist", "guess").status == 401
    throttled(login(attacker, "methodologist", "demo"))
    # Strangers from this address wait now, and so does the locked cookie.
    throttled(login(owner, "methodologist"))
    # The other browser keeps its trust.
    assert login(other, "methodologist").status == 200

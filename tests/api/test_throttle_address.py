"""Login throttling by address, with the default settings: one address guessing across many
logins is slowed (429 with Retry-After) once it has spent its budget of failures, for every
login it tries without a device cookie, even with a right password; a browser that logged in
before keeps getting in from that same address. A module of its own: the delay would spill
into other tests, which all come from 127.0.0.1."""

DELAY_S = 30  # auth.delay_s default: the first delay


def test_address_is_slowed_across_logins_but_not_the_owners_browser(node):
    teacher = node.login("teacher")  # a session opened before the flood
    owner = node.login("admin", cookies=True)  # a browser that logged in as admin before
    c = node.client()
    budget = 50  # auth.address_free_failures default
    for i in range(budget):
        r = c.post("/api/v1/auth/login", {"login": f"guess{i % 40}", "password": "x"})
        assert r.status == 401, (i, r)
    # guess0..guess9 failed twice each, the rest once: below the per-client budget of 5 for
    # each login, yet the address as a whole now waits, for any login, even with a right
    # password:
    for login in ("admin", "guess45", "Guess0"):
        r = c.post("/api/v1/auth/login", {"login": login, "password": "demo"})
        assert r.status == 429, (login, r)
        assert r.json()["error"]["code"] == "throttled"
        assert 0 < int(r.headers["Retry-After"]) <= DELAY_S
    # The admin's own browser is judged by its own failures only: it gets in at once.
    r = owner.post("/api/v1/auth/login", {"login": "admin", "password": "demo"})
    assert r.status == 200, r
    # Sessions already open keep working: throttling guards logins only.
    assert teacher.get("/api/v1/me").status == 200

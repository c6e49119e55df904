"""Login throttling by address: many failures from one address, spread over many logins,
lock that address out (429) for every login until the window passes. A module of its own:
the lock would spill into other tests, which all come from 127.0.0.1."""


def test_address_is_throttled_across_logins(node):
    teacher = node.login("teacher")  # a session opened before the flood
    c = node.client()
    limit = 50  # auth.max_failures_per_address default
    for i in range(limit):
        r = c.post("/api/v1/auth/login", {"login": f"guess{i % 40}", "password": "x"})
        assert r.status == 401, (i, r)
    # guess0..guess9 failed twice each, the rest once: below the per-login limit of 5,
    # yet the address as a whole is locked, even for a right password:
    r = c.post("/api/v1/auth/login", {"login": "admin", "password": "demo"})
    assert r.status == 429
    assert r.json()["error"]["code"] == "throttled"
    assert int(r.headers["Retry-After"]) > 0
    # Sessions already open keep working: throttling guards logins only.
    assert teacher.get("/api/v1/me").status == 200

"""Accounts and access: login, sessions, CSRF, throttling, /me per role, device tokens, audit,
and the denials of GET /api/v1/students/{id}."""
import pytest

from conftest import Client

LOGINS = ["admin", "schooladmin", "teacher", "classteacher", "student", "parent", "medic"]


@pytest.mark.parametrize("login", LOGINS)
def test_every_demo_login_works(node, login):
    c = node.login(login)
    me = c.get("/api/v1/me")
    assert me.status == 200
    assert me.json()["login"] == login
    assert c.user["login"] == login


def error_of(r):
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) - {"field"} == {"code", "message"}
    return body["error"]["code"]


def test_wrong_password_and_unknown_login_look_the_same(node):
    c = node.client()
    a = c.post("/api/v1/auth/login", {"login": "medic", "password": "nope"})
    b = c.post("/api/v1/auth/login", {"login": "no-such-user", "password": "nope"})
    assert a.status == b.status == 401
    assert error_of(a) == error_of(b) == "invalid_credentials"
    assert a.json()["error"]["message"] == b.json()["error"]["message"]


def test_login_body_is_validated(node):
    c = node.client()
    assert c.post("/api/v1/auth/login", {"login": "admin"}).status == 400
    assert c.post("/api/v1/auth/login", {"login": "admin", "password": 5}).status == 400
    r = c.post("/api/v1/auth/login", {"login": "admin", "password": "demo", "remember": True})
    assert r.status == 400 and error_of(r) == "bad_request"


def test_throttling_after_repeated_failures(node):
    admin = node.login("admin")
    r = admin.post("/api/v1/persons", {"last_name": "Проверкин", "first_name": "Пётр", "account": {
        "login": "throttled", "password": "right-password", "roles": [{"role": "parent"}]}})
    assert r.status == 201, r
    c = node.client()
    for _ in range(5):  # auth.client_free_failures default
        assert c.post("/api/v1/auth/login", {"login": "throttled", "password": "bad"}).status == 401
    # This client now waits before its next try of this login, even with the right password
    # (and whatever the letter case).
    r = c.post("/api/v1/auth/login", {"login": "Throttled", "password": "right-password"})
    assert r.status == 429
    assert error_of(r) == "throttled"
    assert 0 < int(r.headers["Retry-After"]) <= 30  # auth.delay_s default: the first delay
    # The right password is not checked while it waits, nor counted as a try.
    assert c.post("/api/v1/auth/login", {"login": "throttled", "password": "right-password"}).status == 429
    # Other accounts are not slowed by it (the address's own budget is 50).
    assert c.post("/api/v1/auth/login", {"login": "schooladmin", "password": "demo"}).status == 200


def test_success_resets_the_login_counter(node):
    admin = node.login("admin")
    r = admin.post("/api/v1/persons", {"last_name": "Забывчивый", "first_name": "Иван", "account": {
        "login": "forgetful", "password": "right-password", "roles": [{"role": "parent"}]}})
    assert r.status == 201, r
    c = node.client()
    for _ in range(4):
        assert c.post("/api/v1/auth/login", {"login": "forgetful", "password": "bad"}).status == 401
    assert c.post("/api/v1/auth/login", {"login": "forgetful", "password": "right-password"}).status == 200
    # The counter starts again: four more failures are still below the budget of five.
    for _ in range(4):
        assert c.post("/api/v1/auth/login", {"login": "forgetful", "password": "bad"}).status == 401
    assert c.post("/api/v1/auth/login", {"login": "forgetful", "password": "right-password"}).status == 200


def test_bearer_token_and_logout(node):
    c = node.login("student")
    assert c.get("/api/v1/me").status == 200
    assert c.post("/api/v1/auth/logout").status == 200
    r = c.get("/api/v1/me")
    assert r.status == 401 and error_of(r) == "unauthorized"


def test_bearer_writes_need_no_csrf(node):
    admin = node.login("admin")
    assert admin.csrf is None
    r = admin.post("/api/v1/devices", {"name": "Медкабинет", "scopes": ["health"], "institution_id": 1})
    assert r.status == 201, r
    # A stale CSRF header next to a bearer token is ignored, not an error.
    assert admin.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "stale"}).status == 200
    assert admin.get("/api/v1/me").status == 401


def test_cookie_writes_elsewhere_need_csrf(node):
    admin = node.login("admin", cookies=True)
    csrf, admin.csrf = admin.csrf, None
    before = len(admin.get("/api/v1/audit?limit=1000").json()["items"])
    r = admin.post("/api/v1/devices", {"name": "Без CSRF", "scopes": ["meals"], "institution_id": 1})
    assert r.status == 403 and error_of(r) == "csrf"
    # Nothing was written (not even an audit entry).
    assert len(admin.get("/api/v1/audit?limit=1000").json()["items"]) == before
    admin.csrf = csrf
    r = admin.post("/api/v1/devices", {"name": "С CSRF", "scopes": ["meals"], "institution_id": 1})
    assert r.status == 201, r
    # The cookie session also tells its CSRF token through /me, and only there.
    assert admin.get("/api/v1/me").json()["csrf_token"] == csrf
    assert "csrf_token" not in node.login("admin").get("/api/v1/me").json()


def test_garbage_token_is_anonymous(node):
    c = Client(node.base, token="not-a-token")
    assert c.get("/api/v1/me").status == 401


def test_cookie_session_and_csrf(node):
    c = node.login("parent", cookies=True)
    cookie = [k for k in c.jar if k.name == "mes_session"]
    assert cookie, "no session cookie"
    assert c.get("/api/v1/me").status == 200
    # A cookie write without the CSRF header is refused and changes nothing.
    csrf, c.csrf = c.csrf, None
    r = c.post("/api/v1/auth/logout")
    assert r.status == 403 and error_of(r) == "csrf"
    assert c.get("/api/v1/me").status == 200
    c.csrf = "wrong" + csrf
    assert c.post("/api/v1/auth/logout").status == 403
    c.csrf = csrf
    r = c.post("/api/v1/auth/logout")
    assert r.status == 200
    assert "Max-Age=0" in r.headers["Set-Cookie"]  # the browser forgets the cookie
    assert c.get("/api/v1/me").status == 401


def test_logout_ends_only_that_session(node):
    a = node.login("teacher")
    b = node.login("teacher")
    assert a.post("/api/v1/auth/logout").status == 200
    assert a.get("/api/v1/me").status == 401
    assert b.get("/api/v1/me").status == 200
    # The revoked token stays dead for writes too.
    r = a.post("/api/v1/auth/logout")
    assert r.status == 401 and error_of(r) == "unauthorized"


def test_cookie_attributes(node):
    c = node.client()
    r = c.post("/api/v1/auth/login", {"login": "medic", "password": "demo"})
    assert r.status == 200
    cookie = r.headers["Set-Cookie"]
    assert "mes_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert r.json()["token"] not in r.json()["csrf_token"]
    # And the device cookie of the login throttle (tests/api/test_throttle.py), for the login
    # route only.
    device = [v for v in r.headers.get_all("Set-Cookie") if v.startswith("mes_device=")]
    assert len(device) == 1
    assert {"HttpOnly", "SameSite=Strict", "Path=/api/v1/auth/login"} <= {
        a.strip() for a in device[0].split(";")}


def test_me_for_parent(node):
    me = node.login("parent").get("/api/v1/me").json()
    assert me["roles"] == ["parent"]
    assert {"id", "login", "name", "roles"} <= set(me)
    kids = {c["name"]: c for c in me["children"]}
    assert kids["Иванов Артём Сергеевич"]["class"]["name"] == "5А"
    assert kids["Иванова Мария Сергеевна"]["class"]["name"] == "9А"
    for c in me["children"]:
        assert isinstance(c["id"], int) and isinstance(c["class"]["id"], int)


def test_me_for_student(node):
    me = node.login("student").get("/api/v1/me").json()
    assert me["roles"] == ["student"]
    assert me["student"]["class"]["name"] == "5А"
    assert me["student"]["id"] == me["person_id"]
    assert isinstance(me["student"]["class"]["id"], int)
    assert me["name"] == "Иванов Артём Сергеевич"
    assert "children" not in me


def test_me_for_teacher(node):
    me = node.login("teacher").get("/api/v1/me").json()
    assert me["roles"] == ["teacher"]
    pairs = {(a["class"]["name"], a["subject"]["name"]) for a in me["assignments"]}
    assert ("5А", "Математика") in pairs and ("9А", "Алгебра") in pairs
    assert all("id" in a["class"] and "id" in a["subject"] for a in me["assignments"])


def test_me_for_class_teacher(node):
    me = node.login("classteacher").get("/api/v1/me").json()
    assert set(me["roles"]) == {"teacher", "class_teacher"}
    assert [c["name"] for c in me["classes"]] == ["5А"]


def test_me_for_admins_and_medic(node):
    assert node.login("admin").get("/api/v1/me").json()["roles"] == ["admin"]
    sa = node.login("schooladmin").get("/api/v1/me").json()
    assert sa["roles"] == ["school_admin"]
    assert [i["name"] for i in sa["institutions"]] == ["Школа № 1"]
    assert node.login("medic").get("/api/v1/me").json()["roles"] == ["medic"]


def students_of(node, admin, school_name):
    """Ids of students of a school, found through the admin."""
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    classes = admin.get(f"/api/v1/institutions/{schools[school_name]}/classes").json()["items"]
    ids = []
    for c in classes:
        ids += [s["id"] for s in admin.get(f"/api/v1/classes/{c['id']}/students").json()["items"]]
    return ids, classes


@pytest.fixture(scope="module")
def world(node):
    admin = node.login("admin")
    parent = node.login("parent")
    kids = {c["name"]: c for c in parent.user["children"]}
    artem = kids["Иванов Артём Сергеевич"]
    school1, classes1 = students_of(node, admin, "Школа № 1")
    gym, _ = students_of(node, admin, "Гимназия № 2")
    class_5b = next(c for c in classes1 if c["name"] == "5Б")
    in_5b = [s["id"] for s in admin.get(f"/api/v1/classes/{class_5b['id']}/students").json()["items"]]
    return {"artem": artem["id"], "maria": kids["Иванова Мария Сергеевна"]["id"],
            "school1": school1, "gym": gym, "in_5b": in_5b}


def test_student_profile_access(node, world):
    parent = node.login("parent")
    assert parent.get(f"/api/v1/students/{world['artem']}").json()["class"]["name"] == "5А"
    other = next(s for s in world["school1"] if s not in (world["artem"], world["maria"]))
    r = parent.get(f"/api/v1/students/{other}")
    assert r.status == 403 and error_of(r) == "forbidden"
    student = node.login("student")  # the student login is Артём himself
    assert student.user["student"]["id"] == world["artem"]
    me = student.get(f"/api/v1/students/{world['artem']}")
    assert me.status == 200 and me.json()["id"] == world["artem"]
    assert student.get(f"/api/v1/students/{world['maria']}").status == 403
    assert node.client().get(f"/api/v1/students/{world['artem']}").status == 401
    assert node.login("admin").get("/api/v1/students/999999").status == 404


def test_teacher_and_staff_profile_access(node, world):
    teacher = node.login("teacher")  # teaches 5А, 5Б, 9А of school 1
    assert teacher.get(f"/api/v1/students/{world['in_5b'][0]}").status == 200
    assert teacher.get(f"/api/v1/students/{world['gym'][0]}").status == 403
    classteacher = node.login("classteacher")  # class teacher of 5А, teaches 5А and 5Б
    assert classteacher.get(f"/api/v1/students/{world['artem']}").status == 200
    assert classteacher.get(f"/api/v1/students/{world['maria']}").status == 403  # 9А
    medic = node.login("medic")
    assert medic.get(f"/api/v1/students/{world['maria']}").status == 200
    assert medic.get(f"/api/v1/students/{world['gym'][0]}").status == 403
    sa = node.login("schooladmin")
    assert sa.get(f"/api/v1/students/{world['artem']}").status == 200
    assert sa.get(f"/api/v1/students/{world['gym'][0]}").status == 403


def test_device_tokens(node):
    admin = node.login("admin")
    r = admin.post("/api/v1/devices", {"name": "Турникет, вход 1", "scopes": ["passage"],
                                       "institution_id": 1})
    assert r.status == 201, r
    dev = Client(node.base, token=r.json()["token"])
    me = dev.get("/api/v1/device/me")
    assert me.status == 200 and me.json()["scopes"] == ["passage"]
    assert me.json()["institution_id"] == 1
    assert dev.get("/api/v1/me").status == 403
    assert node.login("parent").get("/api/v1/device/me").status == 403
    # Nor can it write as a user.
    w = dev.post("/api/v1/auth/logout")
    assert w.status == 403 and error_of(w) == "forbidden"
    assert node.client().get("/api/v1/device/me").status == 401
    # Bad input and denials.
    assert admin.post("/api/v1/devices", {"name": "x", "scopes": ["teleport"]}).status == 400
    assert admin.post("/api/v1/devices", {"name": "x", "scopes": []}).status == 400
    # A turnstile or a buffet terminal serves one school: a region-wide one is refused.
    for scopes in (["passage"], ["meals"], ["health", "meals"]):
        wide = admin.post("/api/v1/devices", {"name": "x", "scopes": scopes})
        assert wide.status == 400 and error_of(wide) == "device_school_needed", scopes
        assert wide.json()["error"]["field"] == "institution_id"
    assert admin.post("/api/v1/devices", {"name": "Поликлиника", "scopes": ["health"]}).status == 201
    assert node.login("teacher").post("/api/v1/devices", {"name": "x", "scopes": ["meals"]}).status == 403
    sa = node.login("schooladmin")
    assert sa.post("/api/v1/devices", {"name": "x", "scopes": ["meals"], "institution_id": 2}).status == 403
    assert sa.post("/api/v1/devices", {"name": "x", "scopes": ["meals"]}).status == 403
    assert sa.delete(f"/api/v1/devices/{r.json()['id']}").status == 200
    assert dev.get("/api/v1/device/me").status == 401
    assert admin.delete(f"/api/v1/devices/{r.json()['id']}").status == 404


def test_audit_log(node):
    c = node.client()
    c.post("/api/v1/auth/login", {"login": "admin", "password": "wrong"})
    admin = node.login("admin")
    admin.post("/api/v1/devices", {"name": "Касса столовой", "scopes": ["meals"], "institution_id": 1})
    items = admin.get("/api/v1/audit?limit=1000").json()["items"]
    actions = {i["action"] for i in items}
    assert {"login", "login_failed", "device.create"} <= actions
    failed = next(i for i in items if i["action"] == "login_failed")
    assert failed["detail"]["login"] == "admin"
    assert node.login("teacher").get("/api/v1/audit").status == 403
    sa_items = node.login("schooladmin").get("/api/v1/audit").json()["items"]
    assert sa_items and all(i.get("institution_id") == 1 for i in sa_items)
    assert admin.get("/api/v1/audit?limit=0").status == 400

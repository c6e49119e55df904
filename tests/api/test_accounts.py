"""Accounts for everyone (node/accounts/activation.c, manage.c): activation letters of a class,
activation with the code, the password rules, one's password and sessions, resets, disabling,
guardian links and finding accounts; for every route the denials (anonymous, parent, student,
a teacher or class teacher of another class, a school admin of another school), and bad input
changing nothing."""
import os
import re
import sqlite3
import urllib.parse

import pytest

from conftest import Client

PASSWORD = "Roditel2026"
CODE = re.compile(r"^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$")


def code(r):
    return r.json()["error"]["code"]


def audit(client, action):
    return [i for i in client.get("/api/v1/audit?limit=1000").json()["items"] if i["action"] == action]


@pytest.fixture(scope="module")
def ids(node):
    admin = node.login("admin")
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    classes = {}
    for name, sid in schools.items():
        for c in admin.get(f"/api/v1/institutions/{sid}/classes").json()["items"]:
            classes[(name, c["name"])] = c["id"]
    return {"s1": schools["Школа № 1"], "s2": schools["Гимназия № 2"],
            "c5a": classes[("Школа № 1", "5А")], "c5b": classes[("Школа № 1", "5Б")],
            "c9a": classes[("Школа № 1", "9А")], "g6a": classes[("Гимназия № 2", "6А")]}


@pytest.fixture(scope="module")
def letters(node, ids):
    """The letters of 5А made by its class teacher: {login: item}."""
    r = node.login("classteacher").post(f"/api/v1/classes/{ids['c5a']}/letters", {})
    assert r.status == 200, r
    return {i["login"]: i for i in r.json()["items"]}


def fresh_letters(node, class_id, who="classteacher"):
    r = node.login(who).post(f"/api/v1/classes/{class_id}/letters", {})
    assert r.status == 200, r
    return r.json()["items"]


def activate(node, login, code_, password=PASSWORD):
    return node.client().post("/api/v1/auth/activate", {"login": login, "code": code_, "password": password})


def activated(node, class_id, role="parent", skip=()):
    """An account of the class activated now: (login, bearer client)."""
    item = next(i for i in fresh_letters(node, class_id, "admin") if i["role"] == role and i["login"] not in skip)
    r = activate(node, item["login"], item["code"])
    assert r.status == 200, r
    return item, Client(node.base, token=r.json()["token"])


def db(node):
    return sqlite3.connect(os.path.join(node.dir, "data", "mes.db"), timeout=10)


# ---- letters --------------------------------------------------------------------------------

def test_letters_denials(node, ids):
    path = f"/api/v1/classes/{ids['c5a']}/letters"
    anon = node.client()
    assert anon.get(path).status == 401 and anon.post(path, {}).status == 401
    for who in ("parent", "student", "teacher", "medic"):
        c = node.login(who)
        assert c.get(path).status == 403 and c.post(path, {}).status == 403, who
    ct = node.login("classteacher")  # the class teacher of 5А, not of 5Б
    r = ct.post(f"/api/v1/classes/{ids['c5b']}/letters", {})
    assert r.status == 403 and code(r) == "forbidden"
    assert ct.get(f"/api/v1/classes/{ids['c5b']}/letters").status == 403
    sa = node.login("schooladmin")  # of Школа № 1, not of Гимназия № 2
    assert sa.post(f"/api/v1/classes/{ids['g6a']}/letters", {}).status == 403
    assert sa.get(f"/api/v1/classes/{ids['g6a']}/letters").status == 403
    assert ct.post("/api/v1/classes/999999/letters", {}).status == 404
    r = ct.post(path, {"all": True, "extra": 1})
    assert r.status == 400
    assert not audit(node.login("admin"), "letters.create") or all(
        a["object"] != f"class/{ids['c5b']}" for a in audit(node.login("admin"), "letters.create"))


def test_letters_of_a_class(node, ids, letters):
    assert len(letters) > 10
    roles = {i["role"] for i in letters.values()}
    assert roles == {"student", "parent"}
    for i in letters.values():
        assert CODE.match(i["code"]), i["code"]
        assert i["expires_at"] > 0 and i["name"]
        if i["role"] == "parent":
            assert i["student"]["name"] and i["student"]["relation"] in ("mother", "father", "parent", "guardian")
    assert len({i["person_id"] for i in letters.values()}) == len(letters)
    # The demo's own (activated) student and parent get none without "all".
    assert "student" not in letters and "parent" not in letters
    preview = node.login("schooladmin").get(f"/api/v1/classes/{ids['c5a']}/letters").json()
    assert preview["class"]["name"] == "5А" and all("code" not in i for i in preview["items"])
    states = {i["login"]: i["state"] for i in preview["items"]}
    assert states["student"] == "active" and all(states[l] == "inactive" for l in letters)
    entries = [a for a in audit(node.login("admin"), "letters.create") if a["object"] == f"class/{ids['c5a']}"]
    assert entries and entries[0]["institution_id"] == ids["s1"]
    # "all" includes the activated ones.
    r = node.login("schooladmin").post(f"/api/v1/classes/{ids['c5a']}/letters", {"all": True})
    assert r.status == 200 and "student" in {i["login"] for i in r.json()["items"]}


# ---- activation -----------------------------------------------------------------------------

def test_activation(node, ids):
    items = fresh_letters(node, ids["c5a"])
    p = next(i for i in items if i["role"] == "parent")
    assert code(activate(node, p["login"], "K7QM-2XPD-9HT")) == "bad_code"
    for pw, why in (("short1", "password_too_short"), (p["login"], "password_is_login"),
                    ("abcdefghij", "password_needs_letters_and_digits"),
                    ("1234567890", "password_needs_letters_and_digits"), ("a1" * 200, "password_too_long")):
        r = activate(node, p["login"], p["code"], pw)
        assert r.status == 400 and code(r) == why, (pw, r)
    assert activate(node, p["login"], "a", PASSWORD).status == 400
    r = activate(node, p["login"], p["code"], "short1")
    assert r.json()["error"]["min_length"] == 8
    r = activate(node, p["login"], "2222-3333-4444")
    assert r.status == 401 and code(r) == "invalid_code"
    r = activate(node, "no-such-login", p["code"])
    assert r.status == 401 and code(r) == "invalid_code"
    # Another account's code does not open this one.
    other = next(i for i in items if i["role"] == "parent" and i["login"] != p["login"])
    assert code(activate(node, p["login"], other["code"])) == "invalid_code"
    # The code as printed, in lower case with spaces, works once.
    r = activate(node, p["login"], p["code"].lower().replace("-", " "))
    assert r.status == 200, r
    assert "mes_session=" in r.headers.get("Set-Cookie", "")
    me = Client(node.base, token=r.json()["token"]).get("/api/v1/me").json()
    assert me["login"] == p["login"] and p["student"]["id"] in [c["id"] for c in me["children"]]
    r = activate(node, p["login"], p["code"])
    assert r.status == 401 and code(r) == "invalid_code"  # used
    assert node.login(p["login"], PASSWORD).user["login"] == p["login"]
    assert [a for a in audit(node.login("admin"), "account.activate") if a["account"]["login"] == p["login"]]


def test_replaced_code_fails(node, ids):
    first = {i["login"]: i for i in fresh_letters(node, ids["c5a"])}
    second = {i["login"]: i for i in fresh_letters(node, ids["c5a"])}
    login = next(l for l, i in first.items() if i["role"] == "student")
    assert code(activate(node, login, first[login]["code"])) == "invalid_code"
    assert activate(node, login, second[login]["code"]).status == 200


def test_expired_code(node, ids):
    p = next(i for i in fresh_letters(node, ids["c5a"]) if i["role"] == "parent")
    with db(node) as c:
        c.execute("UPDATE activation_codes SET expires_at = 1000 WHERE account_id = "
                  "(SELECT id FROM accounts WHERE login = ?)", (p["login"],))
    r = activate(node, p["login"], p["code"])
    assert r.status == 401 and code(r) == "code_expired"
    assert node.client().post("/api/v1/auth/login", {"login": p["login"], "password": PASSWORD}).status == 401


def test_activation_is_throttled(node, ids):
    p = [i for i in fresh_letters(node, ids["c5a"]) if i["role"] == "parent"][-1]  # untried
    statuses = [activate(node, p["login"], "2222-3333-4444").status for _ in range(6)]
    assert statuses[:4] == [401] * 4 and statuses[5] == 429, statuses
    r = activate(node, p["login"], p["code"])  # even the right code waits
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0


# ---- disabling ------------------------------------------------------------------------------

def test_disable_and_enable(node, ids):
    item, client = activated(node, ids["c5a"])
    sa = node.login("schooladmin")
    acc = client.get("/api/v1/me").json()["id"]
    r = sa.post(f"/api/v1/accounts/{acc}/disable")
    assert r.status == 200 and r.json()["sessions_ended"] >= 1
    assert client.get("/api/v1/me").status == 401  # its session ended
    r = node.client().post("/api/v1/auth/login", {"login": item["login"], "password": PASSWORD})
    assert r.status == 401  # a disabled account cannot log in
    # Nor activate with a code.
    new = sa.post(f"/api/v1/accounts/{acc}/reset").json()
    r = activate(node, item["login"], new["code"])
    assert r.status == 403 and code(r) == "account_disabled"
    listed = sa.get(f"/api/v1/accounts?q={item['login']}").json()["items"]
    assert listed[0]["state"] == "disabled"
    assert sa.post(f"/api/v1/accounts/{acc}/enable").status == 200
    assert activate(node, item["login"], new["code"]).status == 200
    actions = {a["action"] for a in audit(node.login("admin"), "account.disable") + audit(node.login("admin"), "account.enable")}
    assert actions == {"account.disable", "account.enable"}


def test_disable_denials(node, ids):
    admin = node.login("admin")
    sa = node.login("schooladmin")
    admin_acc = admin.user["id"]
    for path in (f"/api/v1/accounts/{admin_acc}/disable", f"/api/v1/accounts/{admin_acc}/enable"):
        assert node.client().post(path).status == 401
        for who in ("classteacher", "teacher", "parent", "student"):
            assert node.login(who).post(path).status == 403, who
        assert sa.post(path).status == 403  # never a region admin
    assert code(sa.post(f"/api/v1/accounts/{sa.user['id']}/disable")) == "own_account"
    assert sa.post("/api/v1/accounts/999999/disable").status == 404
    # A person of another school.
    g = fresh_letters(node, ids["g6a"], "admin")[0]
    acc = admin.get(f"/api/v1/accounts?q={g['login']}").json()["items"][0]["account_id"]
    assert sa.post(f"/api/v1/accounts/{acc}/disable").status == 403
    assert sa.post(f"/api/v1/accounts/{acc}/reset").status == 403
    assert admin.post(f"/api/v1/accounts/{acc}/disable").status == 200
    assert admin.post(f"/api/v1/accounts/{acc}/enable").status == 200


# ---- one's password and sessions ------------------------------------------------------------

def test_password_change_ends_other_sessions(node, ids):
    item, a = activated(node, ids["c5a"], "student")
    b = node.login(item["login"], PASSWORD)
    r = a.post("/api/v1/account/password", {"current": "wrong-one1", "password": "Novyi2026pass"})
    assert r.status == 403 and code(r) == "wrong_password"
    r = a.post("/api/v1/account/password", {"current": PASSWORD, "password": "short"})
    assert r.status == 400 and code(r) == "password_too_short"
    assert a.post("/api/v1/account/password", {"current": PASSWORD}).status == 400
    assert b.get("/api/v1/me").status == 200  # nothing changed yet
    r = a.post("/api/v1/account/password", {"current": PASSWORD, "password": "Novyi2026pass"})
    assert r.status == 200 and r.json()["sessions_ended"] == 1
    assert a.get("/api/v1/me").status == 200  # this session stays
    assert b.get("/api/v1/me").status == 401  # the other one ended
    assert node.client().post("/api/v1/auth/login", {"login": item["login"], "password": PASSWORD}).status == 401
    node.login(item["login"], "Novyi2026pass")
    assert node.client().post("/api/v1/account/password", {"current": "x", "password": "y"}).status == 401


def test_sessions(node, ids):
    item, a = activated(node, ids["c5a"], "student", skip=())
    b = node.login(item["login"], PASSWORD)
    c = node.login(item["login"], PASSWORD, cookies=True)
    items = a.get("/api/v1/account/sessions").json()["items"]
    assert len(items) == 3 and sum(1 for s in items if s["current"]) == 1
    assert all(s["address"] == "127.0.0.1" and re.match(r"^[0-9a-f]{32}$", s["id"]) for s in items)
    b_id = next(s["id"] for s in b.get("/api/v1/account/sessions").json()["items"] if s["current"])
    # Another account cannot end it.
    other = node.login("teacher")
    assert other.post("/api/v1/account/sessions/end", {"id": b_id}).status == 404
    assert a.post("/api/v1/account/sessions/end", {"id": "xyz"}).status == 400
    r = a.post("/api/v1/account/sessions/end", {"id": b_id})
    assert r.status == 200 and not r.json()["current"]
    assert b.get("/api/v1/me").status == 401 and a.get("/api/v1/me").status == 200
    assert a.post("/api/v1/account/sessions/end", {"id": b_id}).status == 404
    # A cookie session's write needs its CSRF token.
    c.csrf, token = None, c.csrf
    assert c.post("/api/v1/account/logout-everywhere").status == 403
    c.csrf = token
    r = c.post("/api/v1/account/logout-everywhere")
    assert r.status == 200 and r.json()["sessions_ended"] == 2
    assert a.get("/api/v1/me").status == 401 and c.get("/api/v1/me").status == 401
    assert node.client().get("/api/v1/account/sessions").status == 401
    assert node.client().post("/api/v1/account/logout-everywhere").status == 401


# ---- resets ---------------------------------------------------------------------------------

def test_reset_by_class_teacher(node, ids):
    item, client = activated(node, ids["c5a"])
    acc = client.get("/api/v1/me").json()["id"]
    ct = node.login("classteacher")
    r = ct.post(f"/api/v1/accounts/{acc}/reset")
    assert r.status == 200, r
    new = r.json()
    assert CODE.match(new["code"]) and new["login"] == item["login"] and new["url"].endswith("/activate")
    assert client.get("/api/v1/me").status == 401  # sessions ended
    r = node.client().post("/api/v1/auth/login", {"login": item["login"], "password": PASSWORD})
    assert r.status == 401  # the password is cleared
    assert activate(node, item["login"], new["code"], "Drugoi2026").status == 200
    assert [a for a in audit(node.login("admin"), "account.reset") if a["object"] == f"account/{acc}"]


def test_reset_denials(node, ids):
    ct = node.login("classteacher")
    sa = node.login("schooladmin")
    admin = node.login("admin")
    found = {i["login"]: i for i in admin.get("/api/v1/accounts?q=student").json()["items"]}
    student_acc = found["student"]["account_id"]  # Артём, 5А
    r = admin.post("/api/v1/persons", {"last_name": "Учителева", "first_name": "Анна", "account": {
        "login": "teacher-reset", "password": "Uchitel2026", "roles": [{"role": "teacher", "institution_id": ids["s1"]}]}})
    assert r.status == 201, r
    teacher_acc = admin.get("/api/v1/accounts?q=teacher-reset").json()["items"][0]["account_id"]
    path = f"/api/v1/accounts/{student_acc}/reset"
    assert node.client().post(path).status == 401
    for who in ("parent", "student", "teacher", "medic"):
        assert node.login(who).post(path).status == 403, who
    # A class teacher: not a student of another class (9А), not staff, not an admin.
    maria = next(i for i in fresh_letters(node, ids["c9a"], "admin") if i["role"] == "student")
    maria_acc = admin.get(f"/api/v1/accounts?q={maria['login']}").json()["items"][0]["account_id"]
    assert ct.post(f"/api/v1/accounts/{maria_acc}/reset").status == 403
    assert ct.post(f"/api/v1/accounts/{teacher_acc}/reset").status == 403
    assert ct.post(f"/api/v1/accounts/{admin.user['id']}/reset").status == 403
    assert sa.post(f"/api/v1/accounts/{admin.user['id']}/reset").status == 403
    assert code(ct.post(f"/api/v1/accounts/{ct.user['id']}/reset")) == "own_account"
    # The school admin may reset their school's staff and the class's parents.
    assert sa.post(f"/api/v1/accounts/{maria_acc}/reset").status == 200
    assert sa.post(f"/api/v1/accounts/{teacher_acc}/reset").status == 200
    # Denials changed nothing: the demo student still logs in.
    node.login("student")


# ---- finding accounts -----------------------------------------------------------------------

def test_search(node, ids):
    admin = node.login("admin")
    sa = node.login("schooladmin")
    r = admin.get("/api/v1/accounts?q=" + urllib.parse.quote("иванов"))
    names = [i["name"] for i in r.json()["items"]]
    assert "Иванов Артём Сергеевич" in names and "Иванова Елена Викторовна" in names
    artem = next(i for i in r.json()["items"] if i["name"] == "Иванов Артём Сергеевич")
    assert artem["login"] == "student" and artem["state"] == "active" and artem["class"]["name"] == "5А"
    assert "student" in artem["roles"] and artem["guardians"][0]["login"] == "parent"
    # Paging.
    page1 = admin.get("/api/v1/accounts?q=" + urllib.parse.quote("И") + "&limit=2").json()
    assert len(page1["items"]) == 2 and page1["next_offset"] == 2
    page2 = admin.get("/api/v1/accounts?q=" + urllib.parse.quote("И") + "&limit=2&offset=2").json()
    assert {i["person_id"] for i in page1["items"]}.isdisjoint(i["person_id"] for i in page2["items"])
    # Region-wide, a query is needed, and it finds by the start of the last name or login only.
    assert admin.get("/api/v1/accounts").json()["error"]["code"] == "q_required"
    assert admin.get("/api/v1/accounts?state=active").status == 400
    assert admin.get("/api/v1/accounts?q=" + urllib.parse.quote("ванов")).json()["items"] == []
    assert [i["login"] for i in admin.get("/api/v1/accounts?q=STUD").json()["items"]] == ["student"]
    # States and classes.
    inactive = sa.get(f"/api/v1/accounts?class_id={ids['c5a']}&state=inactive&limit=200").json()["items"]
    assert inactive and all(i["state"] in ("inactive", "none") for i in inactive)
    active = sa.get(f"/api/v1/accounts?class_id={ids['c5a']}&state=active&limit=200").json()["items"]
    assert "student" in {i["login"] for i in active}
    # The school admin sees their school's people only.
    everyone = sa.get("/api/v1/accounts?limit=200").json()["items"]
    assert everyone and all(i.get("institution", {}).get("id", ids["s1"]) == ids["s1"] for i in everyone)
    assert "admin" not in {i["login"] for i in sa.get("/api/v1/accounts?q=admin").json()["items"]}
    assert sa.get(f"/api/v1/accounts?institution_id={ids['s2']}").status == 403
    assert sa.get(f"/api/v1/accounts?class_id={ids['g6a']}").status == 403
    assert admin.get(f"/api/v1/accounts?institution_id={ids['s2']}").status == 200
    for bad in ("state=gone", "limit=1000", "offset=-1", "class_id=abc", "q=" + "x" * 200):
        assert admin.get(f"/api/v1/accounts?{bad}").status == 400, bad
    assert admin.get("/api/v1/accounts?class_id=999999").status == 404
    assert node.client().get("/api/v1/accounts").status == 401
    for who in ("teacher", "classteacher", "parent", "student", "medic"):
        assert node.login(who).get("/api/v1/accounts").status == 403, who


# ---- guardian links -------------------------------------------------------------------------

def test_guardian_unlink(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    artem = next(i for i in sa.get("/api/v1/accounts?q=student").json()["items"] if i["login"] == "student")
    mother = artem["guardians"][0]["id"]
    path = f"/api/v1/students/{artem['person_id']}/guardians/{mother}"
    assert node.client().delete(path).status == 401
    for who in ("parent", "student", "teacher", "classteacher"):
        assert node.login(who).delete(path).status == 403, who
    # A student of another school.
    g = next(i for i in admin.get(f"/api/v1/accounts?class_id={ids['g6a']}&limit=200").json()["items"]
             if i["student"] and i["guardians"])
    assert sa.delete(f"/api/v1/students/{g['person_id']}/guardians/{g['guardians'][0]['id']}").status == 403
    assert sa.delete(f"/api/v1/students/{artem['person_id']}/guardians/999999").status == 404
    r = sa.delete(path)
    assert r.status == 200
    assert sa.delete(path).status == 404
    parent = node.login("parent")
    assert artem["person_id"] not in [c["id"] for c in parent.user["children"]]
    assert [a for a in audit(admin, "guardian.delete") if a["detail"]["guardian_id"] == mother]
    r = sa.post("/api/v1/guardians", {"guardian_id": mother, "student_id": artem["person_id"], "relation": "mother"})
    assert r.status == 201
    assert artem["person_id"] in [c["id"] for c in node.login("parent").user["children"]]

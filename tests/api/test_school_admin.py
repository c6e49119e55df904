"""A school's administration (node/school/staff.c, members.c; node/journal/timetable.c): staff
with their roles, leaving staff, person search, groups and their members, enrolments, leavers
and transfers, the school's teaching assignments, a class's lessons of a day and replacements.
Each route is tried by the school's admin, and refused to a school admin of another school, a
teacher and a parent; bad input changes nothing; writes are audited."""
import datetime
from urllib.parse import quote

import pytest


def code(r):
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def ids(node):
    admin = node.login("admin")
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    classes = {}
    for name, sid in schools.items():
        for c in admin.get(f"/api/v1/institutions/{sid}/classes").json()["items"]:
            classes[(name, c["name"])] = c["id"]
    subjects = {s["code"]: s["id"] for s in admin.get("/api/v1/subjects").json()["items"]}
    # A school admin of another school.
    r = admin.post("/api/v1/persons", {"last_name": "Другая", "first_name": "Админ", "account": {
        "login": "sadmin2", "password": "second-admin-pass", "roles": [
            {"role": "school_admin", "institution_id": schools["Гимназия № 2"]}]}})
    assert r.status == 201, r
    return {"s1": schools["Школа № 1"], "s2": schools["Гимназия № 2"], "classes": classes,
            "subjects": subjects, "teacher": node.login("teacher").user["person_id"],
            "ct": node.login("classteacher").user["person_id"],
            "sadmin": node.login("schooladmin").user["person_id"]}


@pytest.fixture(scope="module")
def who(node, ids):
    return {"sa": node.login("schooladmin"), "other": node.login("sadmin2", "second-admin-pass"),
            "teacher": node.login("teacher"), "parent": node.login("parent"),
            "admin": node.login("admin")}


def cls(ids, name, school="Школа № 1"):
    return ids["classes"][(school, name)]


def audit(client, action):
    return [i for i in client.get("/api/v1/audit?limit=1000").json()["items"] if i["action"] == action]


def denied(who, method, path, body=None):
    """The other school's admin, the teacher and the parent are refused with 403."""
    for name in ("other", "teacher", "parent"):
        r = who[name].request(method, path, body)
        assert r.status == 403, (name, method, path, r)
        assert code(r) == "forbidden", r


def students(client, class_id):
    return client.get(f"/api/v1/classes/{class_id}/students").json()["items"]


# ---- staff ----------------------------------------------------------------------------------

def test_staff_list_with_roles(who, ids):
    r = who["sa"].get(f"/api/v1/institutions/{ids['s1']}/staff")
    assert r.status == 200, r
    staff = {s["id"]: s for s in r.json()["items"]}
    ct = staff[ids["ct"]]
    assert ct["roles"] == ["class_teacher", "teacher"] and ct["login"] == "classteacher" and ct["active"]
    assert ct["position"].startswith("учитель")
    assert staff[ids["sadmin"]]["roles"] == ["school_admin"]
    denied(who, "GET", f"/api/v1/institutions/{ids['s1']}/staff")
    assert who["admin"].get(f"/api/v1/institutions/{ids['s1']}/staff").status == 200
    assert who["sa"].get("/api/v1/institutions/999999/staff").status == 404


def test_new_staff_member_inactive_then_roles_changed(who, ids):
    sa, s1 = who["sa"], ids["s1"]
    # A person with an account without login or password: a made login, not active.
    r = sa.post("/api/v1/persons", {"last_name": "Щукина", "first_name": "Юлия", "account": {
        "roles": [{"role": "teacher", "institution_id": s1}]}})
    assert r.status == 201, r
    person = r.json()
    assert person["account"]["login"] == f"shchukina{person['id']}", person
    assert sa.post(f"/api/v1/institutions/{s1}/staff", {"person_id": person["id"],
                   "position": "учитель химии"}).status == 201
    staff = {s["id"]: s for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert staff[person["id"]]["roles"] == ["teacher"] and staff[person["id"]]["active"] is False
    # A password without a login is refused, and creates nobody.
    before = len(audit(who["admin"], "person.create"))
    r = sa.post("/api/v1/persons", {"last_name": "Икс", "first_name": "Игрек", "account": {
        "password": "long-enough-1", "roles": []}})
    assert r.status == 400, r
    assert len(audit(who["admin"], "person.create")) == before

    path = f"/api/v1/institutions/{s1}/staff/{person['id']}/roles"
    r = sa.request("PUT", path, {"roles": ["teacher", "class_teacher", "medic"]})
    assert r.status == 200, r
    staff = {s["id"]: s for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert staff[person["id"]]["roles"] == ["class_teacher", "medic", "teacher"]
    r = sa.request("PUT", path, {"roles": ["medic"]})
    assert r.status == 200
    staff = {s["id"]: s for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert staff[person["id"]]["roles"] == ["medic"]
    assert audit(who["admin"], "staff.roles")[0]["institution_id"] == s1
    for bad in ({"roles": ["admin"]}, {"roles": ["medic", "medic"]}, {"roles": "teacher"},
                {"roles": ["teacher"], "x": 1}, {}):
        r = sa.request("PUT", path, bad)
        assert r.status == 400, (bad, r)
    staff = {s["id"]: s for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert staff[person["id"]]["roles"] == ["medic"]
    # Not on this school's staff; one's own school_admin role; the denials.
    r = sa.request("PUT", f"/api/v1/institutions/{s1}/staff/{ids['sadmin'] + 100000}/roles", {"roles": []})
    assert r.status == 404 and code(r) == "not_staff"
    r = sa.request("PUT", f"/api/v1/institutions/{s1}/staff/{ids['sadmin']}/roles", {"roles": ["teacher"]})
    assert r.status == 409 and code(r) == "own_admin_role"
    for name in ("other", "teacher", "parent"):
        assert who[name].request("PUT", path, {"roles": ["school_admin"]}).status == 403, name
    # A staff member without an account gets an inactive one with the roles.
    bare = sa.post("/api/v1/persons", {"last_name": "Безаккаунтов", "first_name": "Пётр"}).json()["id"]
    assert sa.post(f"/api/v1/institutions/{s1}/staff", {"person_id": bare, "position": "учитель"}).status == 201
    assert sa.request("PUT", f"/api/v1/institutions/{s1}/staff/{bare}/roles", {"roles": ["teacher"]}).status == 200
    staff = {s["id"]: s for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert staff[bare]["roles"] == ["teacher"] and staff[bare]["login"].startswith("bezakkauntov")


def test_staff_member_leaves(node, who, ids):
    sa, s1, admin = who["sa"], ids["s1"], who["admin"]
    r = admin.post("/api/v1/persons", {"last_name": "Уходящий", "first_name": "Лев", "account": {
        "login": "leaving1", "password": "leaving-pass-1", "roles": [{"role": "teacher", "institution_id": s1}]}})
    person = r.json()["id"]
    assert sa.post(f"/api/v1/institutions/{s1}/staff", {"person_id": person, "position": "учитель"}).status == 201
    c2a = cls(ids, "2А")
    a = sa.post("/api/v1/assignments", {"teacher_id": person, "class_id": c2a, "subject_id": ids["subjects"]["music"]})
    assert a.status == 201, a
    path = f"/api/v1/institutions/{s1}/staff/{person}/leave"
    for bad in ({}, {"left_on": "2026-13-01"}, {"left_on": "x", "y": 1}):
        assert sa.post(path, bad).status == 400, bad
    denied(who, "POST", path, {"left_on": "2026-12-01"})
    r = sa.post(path, {"left_on": "2026-12-01"})
    assert r.status == 200, r
    assert r.json()["roles"] == 1 and r.json()["assignments"] == 1
    staff = {s["id"] for s in sa.get(f"/api/v1/institutions/{s1}/staff").json()["items"]}
    assert person not in staff
    assert node.login("leaving1", "leaving-pass-1").user["roles"] == []
    assert admin.get(f"/api/v1/persons/{person}").status == 200  # the person stays
    entry = audit(admin, "staff.leave")[0]
    assert entry["institution_id"] == s1 and entry["object"] == f"person/{person}"
    assert sa.post(path, {"left_on": "2026-12-02"}).status == 404  # left already
    r = sa.post(f"/api/v1/institutions/{s1}/staff/{ids['sadmin']}/leave", {"left_on": "2026-12-01"})
    assert r.status == 409


def test_person_search(who, ids):
    sa, s1 = who["sa"], ids["s1"]
    r = sa.get(f"/api/v1/institutions/{s1}/persons?q=" + quote("Иванов Артём"))
    assert r.status == 200, r
    items = r.json()["items"]
    assert items and items[0]["name"].startswith("Иванов Артём") and items[0]["class"]["name"] == "5А"
    # People of other schools are not found.
    other = who["admin"].get(f"/api/v1/institutions/{ids['s2']}/classes").json()["items"][0]["id"]
    name = students(who["admin"], other)[0]["name"]
    assert sa.get(f"/api/v1/institutions/{s1}/persons?q={quote(name)}").json()["items"] == []
    for q in ("", "?q=" + quote("И"), "?q=" + quote("я" * 101)):
        r = sa.get(f"/api/v1/institutions/{s1}/persons{q}")
        assert r.status == 400 and code(r) == "bad_query", q
    denied(who, "GET", f"/api/v1/institutions/{s1}/persons?q={quote('Иванов')}")


# ---- groups ---------------------------------------------------------------------------------

def test_groups_and_members(who, ids):
    sa, c5b = who["sa"], cls(ids, "5Б")
    kids = students(sa, c5b)
    r = sa.post(f"/api/v1/classes/{c5b}/groups", {"name": "Английский 1", "student_ids": [kids[0]["id"]]})
    assert r.status == 201, r
    g = r.json()["id"]
    r = sa.get(f"/api/v1/classes/{c5b}/groups")
    assert r.status == 200
    group = next(x for x in r.json()["items"] if x["id"] == g)
    assert [m["id"] for m in group["members"]] == [kids[0]["id"]]
    # The teacher of 5Б may read its groups; a teacher of other classes, a parent, another
    # school's admin may not.
    assert who["teacher"].get(f"/api/v1/classes/{c5b}/groups").status == 200
    denied(who, "GET", f"/api/v1/classes/{cls(ids, '2А')}/groups")
    assert who["teacher"].get(f"/api/v1/classes/{cls(ids, '2А')}/groups").status == 403

    r = sa.post(f"/api/v1/groups/{g}/members", {"student_id": kids[1]["id"]})
    assert r.status == 201, r
    r = sa.post(f"/api/v1/groups/{g}/members", {"student_id": kids[1]["id"]})
    assert r.status == 409 and code(r) == "already_member"
    outsider = students(sa, cls(ids, "2А"))[0]["id"]
    r = sa.post(f"/api/v1/groups/{g}/members", {"student_id": outsider})
    assert r.status == 400 and code(r) == "not_in_class"
    assert sa.post(f"/api/v1/groups/{g}/members", {"student": 1}).status == 400
    assert sa.post("/api/v1/groups/999999/members", {"student_id": outsider}).status == 404
    denied(who, "POST", f"/api/v1/groups/{g}/members", {"student_id": kids[2]["id"]})
    denied(who, "DELETE", f"/api/v1/groups/{g}/members/{kids[1]['id']}")
    r = sa.delete(f"/api/v1/groups/{g}/members/{kids[1]['id']}")
    assert r.status == 200, r
    r = sa.delete(f"/api/v1/groups/{g}/members/{kids[1]['id']}")
    assert r.status == 404 and code(r) == "not_member"
    actions = [a["action"] for a in sa.get("/api/v1/audit?limit=100").json()["items"]]
    assert "group.member_add" in actions and "group.member_remove" in actions


# ---- enrolments: transfer, leavers ------------------------------------------------------------

def test_transfer_keeps_marks_and_groups_end(node, who, ids, w):
    sa, c5a, c5b = who["sa"], w["c5a"], cls(ids, "5Б")
    kid = next(s for s in students(sa, c5a) if s["id"] != w["artem"])
    teacher = who["teacher"]
    lesson = w["lessons"][0]["id"]
    m = teacher.post(f"/api/v1/lessons/{lesson}/marks", {"student_id": kid["id"], "value": "4",
                     "control_form": "oral"})
    assert m.status == 201, m
    g = sa.post(f"/api/v1/classes/{c5a}/groups", {"name": "Подгруппа", "student_ids": [kid["id"]]}).json()["id"]
    today = datetime.date.today().isoformat()
    r = sa.post("/api/v1/enrollments", {"student_id": kid["id"], "class_id": c5b, "enrolled_on": today})
    assert r.status == 201, r
    assert kid["id"] in [s["id"] for s in students(sa, c5b)]
    assert kid["id"] not in [s["id"] for s in students(sa, c5a)]
    # The mark stays the student's (in the old class's journal); the old enrolment is closed,
    # not deleted; the old groups end.
    history = sa.get(f"/api/v1/marks/{m.json()['id']}/history")
    assert history.status == 200, history
    trail = history.json()["items"]
    assert [h["action"] for h in trail] == ["create"] and trail[0]["new"]["student_id"] == kid["id"]
    assert teacher.patch(f"/api/v1/marks/{m.json()['id']}", {"comment": "до перевода"}).status == 200
    # ... and in the student's marks view, which shows the old class's lessons while they were
    # in it beside the new class's.
    marks = sa.get(f"/api/v1/students/{kid['id']}/marks?period={w['period']['id']}").json()
    math = next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    assert any(x["id"] == m.json()["id"] for x in math["marks"]), math
    old = next(e for e in sa.get(f"/api/v1/classes/{c5a}/enrollments").json()["items"]
               if e["student"]["id"] == kid["id"])
    assert old["left_on"] == today and old["to_class"]["id"] == c5b
    group = next(x for x in sa.get(f"/api/v1/classes/{c5a}/groups").json()["items"] if x["id"] == g)
    assert group["members"] == []


def test_leaver_is_not_deleted(who, ids):
    sa, admin, c2a = who["sa"], who["admin"], cls(ids, "2А")
    r = sa.get(f"/api/v1/classes/{c2a}/enrollments")
    assert r.status == 200, r
    current = [e for e in r.json()["items"] if e["left_on"] is None]
    e = current[0]
    path = f"/api/v1/enrollments/{e['id']}/leave"
    for bad, status, c in (({}, 400, "bad_request"), ({"left_on": "31.12.2026"}, 400, "bad_date"),
                           ({"left_on": "1990-01-01"}, 400, "left_before_enrolled")):
        r = sa.post(path, bad)
        assert r.status == status and code(r) == c, (bad, r)
    denied(who, "POST", path, {"left_on": "2026-12-20"})
    denied(who, "GET", f"/api/v1/classes/{c2a}/enrollments")
    r = sa.post(path, {"left_on": "2026-12-20"})
    assert r.status == 200, r
    assert sa.post(path, {"left_on": "2026-12-21"}).status == 409
    assert e["student"]["id"] not in [s["id"] for s in students(sa, c2a)]
    items = sa.get(f"/api/v1/classes/{c2a}/enrollments").json()["items"]
    left = next(x for x in items if x["id"] == e["id"])
    assert left["left_on"] == "2026-12-20" and "to_class" not in left
    assert admin.get(f"/api/v1/persons/{e['student']['id']}").status == 200
    entry = audit(admin, "enrollment.leave")[0]
    assert entry["institution_id"] == ids["s1"]
    assert sa.post("/api/v1/enrollments/999999/leave", {"left_on": "2026-12-20"}).status == 404
    # The former student is found again by the school's search and may come back.
    last = e["student"]["name"].split()[0]
    found = sa.get(f"/api/v1/institutions/{ids['s1']}/persons?q={quote(last)}").json()["items"]
    back = next(p for p in found if p["id"] == e["student"]["id"])
    assert "class" not in back
    r = sa.post("/api/v1/enrollments", {"student_id": back["id"], "class_id": c2a, "enrolled_on": "2026-12-25"})
    assert r.status == 201, r


# ---- assignments --------------------------------------------------------------------------

def test_assignment_list(who, ids, w):
    sa, s1 = who["sa"], ids["s1"]
    r = sa.get(f"/api/v1/institutions/{s1}/assignments")
    assert r.status == 200, r
    items = r.json()["items"]
    assert any(a["class"]["id"] == w["c5a"] and a["subject"]["name"] == "Математика"
               and a["teacher"]["id"] == ids["teacher"] for a in items)
    only = sa.get(f"/api/v1/institutions/{s1}/assignments?class_id={w['c5a']}").json()["items"]
    assert only and all(a["class"]["id"] == w["c5a"] for a in only)
    assert sa.get(f"/api/v1/institutions/{s1}/assignments?class_id=x").status == 400
    denied(who, "GET", f"/api/v1/institutions/{s1}/assignments")
    new = sa.post("/api/v1/assignments", {"teacher_id": ids["ct"], "class_id": cls(ids, "9А"),
                  "subject_id": ids["subjects"]["lit"]}).json()["id"]
    assert any(a["id"] == new for a in sa.get(f"/api/v1/institutions/{s1}/assignments").json()["items"])
    assert sa.delete(f"/api/v1/assignments/{new}").status == 200
    assert not any(a["id"] == new for a in sa.get(f"/api/v1/institutions/{s1}/assignments").json()["items"])


# ---- a day's lessons and replacements ---------------------------------------------------------

def test_replacement_lets_the_replacing_teacher_mark(node, who, ids, w):
    sa, c5a = who["sa"], w["c5a"]
    lesson = w["lessons"][3]
    r = sa.get(f"/api/v1/classes/{c5a}/lessons?date={lesson['date']}")
    assert r.status == 200, r
    day = {x["id"]: x for x in r.json()["items"]}
    assert day[lesson["id"]]["teacher"]["id"] == ids["teacher"] and day[lesson["id"]]["replacement"] is None
    for q in ("", "?date=tomorrow"):
        assert sa.get(f"/api/v1/classes/{c5a}/lessons{q}").status == 400
    denied(who, "GET", f"/api/v1/classes/{cls(ids, '2А')}/lessons?date={lesson['date']}")
    ct = node.login("classteacher")  # teaches Russian in 5А, not mathematics
    artem = {"student_id": w["artem"], "value": "5", "control_form": "oral"}
    assert ct.post(f"/api/v1/lessons/{lesson['id']}/marks", artem).status == 403
    for name in ("other", "teacher"):
        r = who[name].patch(f"/api/v1/lessons/{lesson['id']}", {"replacement_id": ids["ct"]})
        assert r.status == 403, (name, r)
    r = sa.patch(f"/api/v1/lessons/{lesson['id']}", {"replacement_id": ids["ct"]})
    assert r.status == 200, r
    day = {x["id"]: x for x in sa.get(f"/api/v1/classes/{c5a}/lessons?date={lesson['date']}").json()["items"]}
    assert day[lesson["id"]]["replacement"]["id"] == ids["ct"]
    assert audit(who["admin"], "lesson.update")[0]["object"] == f"lesson/{lesson['id']}"
    r = ct.post(f"/api/v1/lessons/{lesson['id']}/marks", artem)
    assert r.status == 201, r
    # The replacement ends: the mark stays, the class teacher may not mark there again.
    assert sa.patch(f"/api/v1/lessons/{lesson['id']}", {"replacement_id": None}).status == 200
    assert ct.post(f"/api/v1/lessons/{lesson['id']}/marks", dict(artem, value="4")).status == 403

"""School structure administration: what admins may create and change, and the denials:
a school admin only inside their school, teachers and parents not at all."""
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
    year = admin.get("/api/v1/academic-years").json()["items"][0]["id"]
    subjects = {s["code"]: s["id"] for s in admin.get("/api/v1/subjects").json()["items"]}
    return {"s1": schools["Школа № 1"], "s2": schools["Гимназия № 2"], "classes": classes,
            "year": year, "subjects": subjects}


def test_lists_for_any_user(node, ids):
    teacher = node.login("teacher")
    assert len(teacher.get("/api/v1/institutions").json()["items"]) == 3
    muns = teacher.get("/api/v1/municipalities").json()["items"]
    assert len(muns) == 2
    years = teacher.get("/api/v1/academic-years").json()["items"]
    assert [p["number"] for p in years[0]["periods"]] == [1, 2, 3, 4]
    subjects = teacher.get("/api/v1/subjects").json()["items"]
    assert any(s["name"] == "Математика" for s in subjects)
    inst = teacher.get(f"/api/v1/institutions/{ids['s1']}").json()
    assert inst["short_name"] == "Школа № 1" and inst["students"] > 50
    assert teacher.get("/api/v1/institutions/9999").status == 404


def test_admin_creates_municipality_institution_subject_year(node):
    admin = node.login("admin")
    m = admin.post("/api/v1/municipalities", {"name": "Южный район"})
    assert m.status == 201
    i = admin.post("/api/v1/institutions", {"municipality_id": m.json()["id"], "kind": "college",
                                            "name": "ГБПОУ «Южный колледж»", "short_name": "Южный колледж"})
    assert i.status == 201 and i.json()["kind"] == "college"
    assert admin.post("/api/v1/institutions", {"municipality_id": 999, "kind": "school",
                                               "name": "x", "short_name": "x"}).status == 400
    assert admin.post("/api/v1/institutions", {"municipality_id": m.json()["id"], "kind": "academy",
                                               "name": "x", "short_name": "x"}).status == 400
    s = admin.post("/api/v1/subjects", {"code": "native_avar", "name": "Родной язык (аварский)"})
    assert s.status == 201 and s.json()["regional"] is True
    assert admin.post("/api/v1/subjects", {"code": "native_avar", "name": "Дубль"}).status == 409
    assert admin.post("/api/v1/subjects", {"code": "Bad Code", "name": "x"}).status == 400
    y = admin.post("/api/v1/academic-years", {"first_year": 2030})
    assert y.status == 201
    assert admin.post("/api/v1/academic-years", {"first_year": 2030}).status == 409
    years = admin.get("/api/v1/academic-years").json()["items"]
    y2030 = next(x for x in years if x["name"] == "2030/2031")
    assert y2030["periods"][0]["starts_on"] == "2030-09-01"
    assert y2030["periods"][-1]["ends_on"].startswith("2031-")


def test_only_admin_creates_region_records(node):
    for login in ("schooladmin", "teacher", "parent"):
        c = node.login(login)
        assert c.post("/api/v1/municipalities", {"name": "Нет"}).status == 403
        assert c.post("/api/v1/subjects", {"code": "no", "name": "Нет"}).status == 403
        assert c.post("/api/v1/academic-years", {"first_year": 2031}).status == 403
    names = [m["name"] for m in node.login("admin").get("/api/v1/municipalities").json()["items"]]
    assert "Нет" not in names


def test_school_admin_manages_own_school_only(node, ids):
    sa = node.login("schooladmin")
    r = sa.patch(f"/api/v1/institutions/{ids['s1']}", {"address": "ул. Ленина, 14"})
    assert r.status == 200 and r.json()["address"] == "ул. Ленина, 14"
    r = sa.patch(f"/api/v1/institutions/{ids['s2']}", {"address": "захват"})
    assert r.status == 403 and code(r) == "forbidden"
    assert node.login("admin").get(f"/api/v1/institutions/{ids['s2']}").json()["address"] != "захват"
    c = sa.post(f"/api/v1/institutions/{ids['s1']}/classes", {"year_id": ids["year"], "grade": 1, "letter": "В"})
    assert c.status == 201 and c.json()["name"] == "1В"
    r = sa.post(f"/api/v1/institutions/{ids['s2']}/classes", {"year_id": ids["year"], "grade": 1, "letter": "В"})
    assert r.status == 403
    assert sa.get(f"/api/v1/institutions/{ids['s2']}/classes").status == 403
    gym_class = ids["classes"][("Гимназия № 2", "6А")]
    assert sa.get(f"/api/v1/classes/{gym_class}").status == 403
    assert sa.patch(f"/api/v1/classes/{gym_class}", {"letter": "Я"}).status == 403
    assert sa.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '5А')]}").status == 200


def test_class_validation_and_conflicts(node, ids):
    admin = node.login("admin")
    url = f"/api/v1/institutions/{ids['s1']}/classes"
    before = len(admin.get(url).json()["items"])
    assert admin.post(url, {"year_id": ids["year"], "grade": 12, "letter": "А"}).status == 400
    assert admin.post(url, {"year_id": ids["year"], "grade": "5", "letter": "А"}).status == 400
    assert admin.post(url, {"year_id": ids["year"], "grade": 5, "letter": ""}).status == 400
    assert admin.post(url, {"year_id": 999, "grade": 5, "letter": "Г"}).status == 400
    assert admin.post(url, {"year_id": ids["year"], "grade": 5, "letter": "А"}).status == 409
    assert admin.post(url, {"year_id": ids["year"], "grade": 5, "letter": "Д", "size": 3}).status == 400
    assert len(admin.get(url).json()["items"]) == before
    assert admin.get("/api/v1/classes/99999").status == 404


def test_class_view_and_patch(node, ids):
    admin = node.login("admin")
    cid = ids["classes"][("Школа № 1", "5А")]
    c = admin.get(f"/api/v1/classes/{cid}").json()
    assert c["class_teacher"]["name"] == "Кузнецова Марина Игоревна"
    assert any(s["name"] == "Иванов Артём Сергеевич" for s in c["student_list"])
    assert any(a["subject"]["name"] == "Математика" for a in c["assignments"])
    # The class teacher must work at the school.
    gym_teacher = None
    gclass = admin.get(f"/api/v1/classes/{ids['classes'][('Гимназия № 2', '6А')]}").json()
    gym_teacher = gclass["assignments"][0]["teacher"]["id"]
    assert admin.patch(f"/api/v1/classes/{cid}", {"class_teacher_id": gym_teacher}).status == 400
    r = admin.patch(f"/api/v1/classes/{cid}", {"class_teacher_id": None})
    assert r.status == 200 and r.json()["class_teacher"] is None
    me = c["class_teacher"]["id"]
    assert admin.patch(f"/api/v1/classes/{cid}", {"class_teacher_id": me}).status == 200


def test_teacher_and_parent_read_only_what_is_theirs(node, ids):
    teacher = node.login("teacher")
    assert teacher.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '5Б')]}").status == 200
    assert teacher.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '2А')]}").status == 403
    assert teacher.post(f"/api/v1/institutions/{ids['s1']}/classes",
                        {"year_id": ids["year"], "grade": 3, "letter": "Б"}).status == 403
    parent = node.login("parent")
    assert parent.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '5А')]}").status == 403
    assert parent.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '5А')]}/students").status == 403
    assert parent.get(f"/api/v1/institutions/{ids['s1']}/classes").status == 403
    ct = node.login("classteacher")
    assert ct.get(f"/api/v1/classes/{ids['classes'][('Школа № 1', '5А')]}/students").status == 200


def test_person_with_account_logs_in(node, ids):
    sa = node.login("schooladmin")
    r = sa.post("/api/v1/persons", {"last_name": "Гаджиева", "first_name": "Патимат",
                                    "middle_name": "Магомедовна", "birth_date": "1990-02-28",
                                    "account": {"login": "gadzhieva", "password": "secret-pass",
                                                "roles": [{"role": "teacher", "institution_id": ids["s1"]}]}})
    assert r.status == 201, r
    pid = r.json()["id"]
    assert r.json()["account"]["roles"] == [{"role": "teacher", "institution_id": ids["s1"]}]
    me = node.login("gadzhieva", "secret-pass").get("/api/v1/me").json()
    assert me["roles"] == ["teacher"] and me["assignments"] == []
    # Staff, then an assignment: /me shows it.
    assert sa.post(f"/api/v1/institutions/{ids['s1']}/staff", {"person_id": pid, "position": "учитель"}).status == 201
    a = sa.post("/api/v1/assignments", {"teacher_id": pid, "class_id": ids["classes"][("Школа № 1", "9А")],
                                        "subject_id": ids["subjects"]["chem"]})
    assert a.status == 201, a
    me = node.login("gadzhieva", "secret-pass").get("/api/v1/me").json()
    assert [(x["class"]["name"], x["subject"]["name"]) for x in me["assignments"]] == [("9А", "Химия")]
    assert sa.post("/api/v1/assignments", {"teacher_id": pid, "class_id": ids["classes"][("Гимназия № 2", "6А")],
                                           "subject_id": ids["subjects"]["chem"]}).status == 403
    assert sa.delete(f"/api/v1/assignments/{a.json()['id']}").status == 200
    assert sa.delete(f"/api/v1/assignments/{a.json()['id']}").status == 404
    assert sa.get(f"/api/v1/persons/{pid}").status == 200


def test_person_validation_and_grant_limits(node, ids):
    sa = node.login("schooladmin")
    base = {"last_name": "Тестов", "first_name": "Тест"}
    assert sa.post("/api/v1/persons", dict(base, birth_date="2011-02-30")).status == 400
    assert sa.post("/api/v1/persons", dict(base, last_name="")).status == 400
    assert sa.post("/api/v1/persons", dict(base, nickname="t")).status == 400
    acc = lambda roles, login="t1": dict(base, account={"login": login, "password": "12345678", "roles": roles})
    assert sa.post("/api/v1/persons", acc([{"role": "admin"}])).status == 403
    assert sa.post("/api/v1/persons", acc([{"role": "ministry"}])).status == 403
    assert sa.post("/api/v1/persons", acc([{"role": "teacher", "institution_id": ids["s2"]}])).status == 403
    assert sa.post("/api/v1/persons", acc([{"role": "teacher"}])).status == 400
    assert sa.post("/api/v1/persons", acc([{"role": "parent", "institution_id": ids["s1"]}])).status == 400
    assert sa.post("/api/v1/persons", acc([{"role": "wizard"}])).status == 400
    assert sa.post("/api/v1/persons", acc([{"role": "parent"}], login="bad login")).status == 400
    assert sa.post("/api/v1/persons", acc([{"role": "parent"}], login="parent")).status == 409
    assert node.client().post("/api/v1/auth/login", {"login": "t1", "password": "12345678"}).status == 401
    assert node.login("teacher").post("/api/v1/persons", base).status == 403
    assert node.login("admin").post("/api/v1/persons", acc([{"role": "ministry"}], login="analyst")).status == 201


def test_enrollment_guardian_and_transfer(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    child = sa.post("/api/v1/persons", {"last_name": "Новенький", "first_name": "Саша", "birth_date": "2015-05-05"}).json()["id"]
    mum = sa.post("/api/v1/persons", {"last_name": "Новенькая", "first_name": "Ольга", "account": {
        "login": "novmum", "password": "mum-password", "roles": [{"role": "parent"}]}}).json()["id"]
    c5b = ids["classes"][("Школа № 1", "5Б")]
    assert sa.post("/api/v1/enrollments", {"student_id": child, "class_id": c5b, "enrolled_on": "2026-09-01"}).status == 201
    assert sa.post("/api/v1/enrollments", {"student_id": child, "class_id": c5b, "enrolled_on": "2026-09-02"}).status == 409
    assert sa.post("/api/v1/guardians", {"guardian_id": mum, "student_id": child, "relation": "aunt"}).status == 400
    assert sa.post("/api/v1/guardians", {"guardian_id": mum, "student_id": child, "relation": "mother"}).status == 201
    assert sa.post("/api/v1/guardians", {"guardian_id": mum, "student_id": child, "relation": "mother"}).status == 409
    mum_c = node.login("novmum", "mum-password")
    kids = mum_c.get("/api/v1/me").json()["children"]
    assert [k["class"]["name"] for k in kids] == ["5Б"]
    assert mum_c.get(f"/api/v1/students/{child}").status == 200
    # The school admin cannot take the child to another school; the region admin can.
    gym = ids["classes"][("Гимназия № 2", "6А")]
    assert sa.post("/api/v1/enrollments", {"student_id": child, "class_id": gym, "enrolled_on": "2026-10-01"}).status == 403
    assert admin.post("/api/v1/enrollments", {"student_id": child, "class_id": gym, "enrolled_on": "2026-10-01"}).status == 201
    assert sa.get(f"/api/v1/students/{child}").status == 403
    assert mum_c.get(f"/api/v1/students/{child}").json()["class"]["name"] == "6А"
    # Groups take only students of the class.
    g = admin.post(f"/api/v1/classes/{gym}/groups", {"name": "Английский, группа 1", "student_ids": [child]})
    assert g.status == 201
    assert admin.post(f"/api/v1/classes/{c5b}/groups", {"name": "Группа", "student_ids": [child]}).status == 400
    # The refused request changed nothing: the group it began to create is gone.
    assert all(g["name"] != "Группа" for g in admin.get(f"/api/v1/classes/{c5b}").json()["groups"])


def test_audit_trail_of_changes(node, ids):
    admin = node.login("admin")
    sa = node.login("schooladmin")
    sa.patch(f"/api/v1/institutions/{ids['s1']}", {"short_name": "Школа № 1"})
    items = admin.get("/api/v1/audit?limit=1000").json()["items"]
    actions = {i["action"] for i in items}
    assert {"institution.update", "class.create", "person.create", "enrollment.create",
            "guardian.create", "assignment.create", "assignment.delete", "municipality.create",
            "subject.create", "year.create", "staff.add"} <= actions
    mine = sa.get("/api/v1/audit?limit=1000").json()["items"]
    assert mine and all(i.get("institution_id") == ids["s1"] for i in mine)
    assert any(i["action"] == "institution.update" and i["account"]["login"] == "schooladmin" for i in mine)


def test_unauthenticated_is_401(node, ids):
    c = node.client()
    assert c.get("/api/v1/institutions").status == 401
    assert c.post("/api/v1/persons", {"last_name": "a", "first_name": "b"}).status == 401

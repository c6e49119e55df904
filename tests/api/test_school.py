"""School structure administration (node/school/): what admins may create and change,
and the denials: a school admin only inside their school, teachers, medics, students and
parents not at all; bad input changes nothing; every change is audited."""
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
    return {"s1": schools["Школа № 1"], "s2": schools["Гимназия № 2"], "s3": schools["Лицей № 3"],
            "classes": classes, "year": year, "subjects": subjects,
            "admin_person": node.login("admin").user["person_id"],
            "teacher_person": node.login("teacher").user["person_id"],
            "ct_person": node.login("classteacher").user["person_id"],
            "parent_person": node.login("parent").user["person_id"],
            "student_person": node.login("student").user["person_id"]}


def cls(ids, school, name):
    return ids["classes"][(school, name)]


def audit(client, action=None):
    items = client.get("/api/v1/audit?limit=1000").json()["items"]
    return [i for i in items if action is None or i["action"] == action]


def new_person(client, last="Тестов", first="Тест", **kw):
    r = client.post("/api/v1/persons", dict({"last_name": last, "first_name": first}, **kw))
    assert r.status == 201, r
    return r.json()["id"]


def students_of(client, class_id):
    r = client.get(f"/api/v1/classes/{class_id}/students")
    assert r.status == 200, r
    return r.json()["items"]


# ---- who may call at all --------------------------------------------------------------------

def test_unauthenticated_is_401(node, ids):
    c = node.client()
    for path in ("/api/v1/municipalities", "/api/v1/institutions", f"/api/v1/institutions/{ids['s1']}",
                 "/api/v1/academic-years", "/api/v1/subjects", f"/api/v1/institutions/{ids['s1']}/classes",
                 f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}", f"/api/v1/persons/{ids['admin_person']}"):
        r = c.get(path)
        assert r.status == 401 and code(r) == "unauthorized", path
    for path, body in (("/api/v1/municipalities", {"name": "x"}), ("/api/v1/subjects", {"code": "x", "name": "x"}),
                       ("/api/v1/persons", {"last_name": "a", "first_name": "b"}),
                       ("/api/v1/enrollments", {"student_id": 1, "class_id": 1, "enrolled_on": "2026-09-01"})):
        assert c.post(path, body).status == 401, path
    assert c.patch(f"/api/v1/institutions/{ids['s1']}", {"address": "x"}).status == 401
    assert c.delete("/api/v1/assignments/1").status == 401
    # A made-up token is no better than none.
    fake = node.client(token="not-a-real-token")
    assert fake.get("/api/v1/institutions").status == 401


def test_lists_for_any_user(node, ids):
    for login in ("teacher", "parent", "student", "medic"):
        c = node.login(login)
        assert len(c.get("/api/v1/institutions").json()["items"]) >= 3
        assert len(c.get("/api/v1/municipalities").json()["items"]) >= 2
        years = c.get("/api/v1/academic-years").json()["items"]
        assert [p["number"] for p in years[0]["periods"]] == [1, 2, 3, 4]
        assert all(p["starts_on"] <= p["ends_on"] for p in years[0]["periods"])
        subjects = c.get("/api/v1/subjects").json()["items"]
        assert any(s["name"] == "Математика" and s["code"] == "math" for s in subjects)


def test_institution_has_counts(node, ids):
    teacher = node.login("teacher")
    inst = teacher.get(f"/api/v1/institutions/{ids['s1']}").json()
    assert inst["short_name"] == "Школа № 1" and inst["kind"] == "school"
    assert inst["municipality"]["id"] > 0 and inst["municipality"]["name"]
    classes = node.login("admin").get(f"/api/v1/institutions/{ids['s1']}/classes").json()["items"]
    assert inst["classes"] == len(classes)
    assert inst["students"] == sum(c["students"] for c in classes) > 50


def test_missing_records_are_404(node, ids):
    admin = node.login("admin")
    for path in ("/api/v1/institutions/99999", "/api/v1/institutions/99999/classes", "/api/v1/classes/99999",
                 "/api/v1/classes/99999/students", "/api/v1/persons/999999", "/api/v1/students/999999"):
        r = admin.get(path)
        assert r.status == 404 and code(r) == "not_found", path
    assert admin.patch("/api/v1/institutions/99999", {"address": "x"}).status == 404
    assert admin.patch("/api/v1/classes/99999", {"letter": "Я"}).status == 404
    assert admin.post("/api/v1/institutions/99999/classes",
                      {"year_id": ids["year"], "grade": 1, "letter": "А"}).status == 404
    assert admin.post("/api/v1/institutions/99999/staff",
                      {"person_id": ids["teacher_person"], "position": "учитель"}).status == 404
    assert admin.post("/api/v1/classes/99999/groups", {"name": "г", "student_ids": []}).status == 404
    assert admin.delete("/api/v1/assignments/999999").status == 404
    assert admin.post("/api/v1/assignments", {"teacher_id": ids["teacher_person"], "class_id": 99999,
                                              "subject_id": ids["subjects"]["math"]}).status == 404
    assert admin.post("/api/v1/enrollments", {"student_id": ids["student_person"], "class_id": 99999,
                                              "enrolled_on": "2026-09-01"}).status == 404
    assert admin.post("/api/v1/enrollments", {"student_id": 999999, "class_id": cls(ids, "Школа № 1", "5Б"),
                                              "enrolled_on": "2026-09-01"}).status == 404
    assert admin.post("/api/v1/guardians", {"guardian_id": ids["parent_person"], "student_id": 999999,
                                            "relation": "mother"}).status == 404


def test_malformed_bodies_are_400(node, ids):
    admin = node.login("admin")
    before = len(admin.get("/api/v1/municipalities").json()["items"])
    for raw in (b"{not json", b"[1, 2]", b"\"name\"", b""):
        r = admin.request("POST", "/api/v1/municipalities", raw=raw)
        assert r.status == 400 and code(r) in ("bad_request", "bad_json"), raw
    assert admin.post("/api/v1/municipalities", {"name": 5}).status == 400
    assert admin.post("/api/v1/municipalities", {}).status == 400
    assert admin.post("/api/v1/municipalities", {"name": "Ок", "mayor": "x"}).status == 400
    assert len(admin.get("/api/v1/municipalities").json()["items"]) == before


# ---- region records: admin only --------------------------------------------------------------

def test_admin_creates_municipality(node):
    admin = node.login("admin")
    m = admin.post("/api/v1/municipalities", {"name": "Южный район", "okato": "82401"})
    assert m.status == 201 and m.json()["name"] == "Южный район" and m.json()["okato"] == "82401"
    assert any(x["id"] == m.json()["id"] for x in admin.get("/api/v1/municipalities").json()["items"])
    r = admin.post("/api/v1/municipalities", {"name": "Южный район"})
    assert r.status == 409 and code(r) == "conflict"
    assert admin.post("/api/v1/municipalities", {"name": ""}).status == 400
    assert admin.post("/api/v1/municipalities", {"name": "Ок", "okato": "1" * 21}).status == 400
    assert audit(admin, "municipality.create")[0]["object"] == f"municipality/{m.json()['id']}"


def test_admin_creates_institution(node):
    admin = node.login("admin")
    mun = admin.post("/api/v1/municipalities", {"name": "Северо-Западный район"}).json()["id"]
    body = {"municipality_id": mun, "kind": "college", "name": "ГБПОУ «Южный колледж»",
            "short_name": "Южный колледж", "address": "ул. Портовая, 3"}
    i = admin.post("/api/v1/institutions", body)
    assert i.status == 201, i
    inst = i.json()
    assert inst["kind"] == "college" and inst["classes"] == 0 and inst["students"] == 0
    assert inst["municipality"]["id"] == mun and inst["address"] == "ул. Портовая, 3"
    assert admin.get(f"/api/v1/institutions/{inst['id']}").json()["name"] == "ГБПОУ «Южный колледж»"
    assert admin.post("/api/v1/institutions", body).status == 409
    bad = [dict(body, municipality_id=99999), dict(body, kind="academy"), dict(body, name=""),
           dict(body, short_name="ш" * 101), dict(body, kind=1), dict(body, director="x")]
    for b in bad:
        b["name"] = b["name"] + " (дубль)" if b["name"] else ""
        r = admin.post("/api/v1/institutions", b)
        assert r.status == 400, b
    names = [x["name"] for x in admin.get("/api/v1/institutions").json()["items"]]
    assert not any("(дубль)" in n for n in names)
    e = audit(admin, "institution.create")[0]
    assert e["institution_id"] == inst["id"] and e["object"] == f"institution/{inst['id']}"


def test_admin_creates_subject(node):
    admin = node.login("admin")
    s = admin.post("/api/v1/subjects", {"code": "native_avar", "name": "Родной язык (аварский)"})
    assert s.status == 201 and s.json()["regional"] is True and s.json()["code"] == "native_avar"
    assert any(x["code"] == "native_avar" for x in node.login("teacher").get("/api/v1/subjects").json()["items"])
    r = admin.post("/api/v1/subjects", {"code": "native_avar", "name": "Дубль"})
    assert r.status == 409 and code(r) == "conflict"
    assert admin.post("/api/v1/subjects", {"code": "math", "name": "Ещё математика"}).status == 409
    for body in ({"code": "Bad Code", "name": "x"}, {"code": "", "name": "x"}, {"code": "ok", "name": ""},
                 {"code": "ok"}, {"code": "ok", "name": "x", "hours": 3}, {"code": 7, "name": "x"}):
        assert admin.post("/api/v1/subjects", body).status == 400, body
    codes = [x["code"] for x in admin.get("/api/v1/subjects").json()["items"]]
    assert "ok" not in codes and codes.count("native_avar") == 1


def test_admin_creates_year_with_periods(node):
    admin = node.login("admin")
    y = admin.post("/api/v1/academic-years", {"first_year": 2030})
    assert y.status == 201
    r = admin.post("/api/v1/academic-years", {"first_year": 2030})
    assert r.status == 409 and code(r) == "conflict"
    for body in ({"first_year": "2031"}, {"first_year": 1999}, {"first_year": 2031, "x": 1}, {}):
        assert admin.post("/api/v1/academic-years", body).status == 400, body
    years = admin.get("/api/v1/academic-years").json()["items"]
    y2030 = next(x for x in years if x["name"] == "2030/2031")
    assert y2030["id"] == y.json()["id"]
    assert y2030["starts_on"] == "2030-09-01" and y2030["ends_on"] == "2031-08-31"
    assert y2030["periods"][0]["starts_on"] == "2030-09-01"
    assert y2030["periods"][-1]["ends_on"].startswith("2031-")
    assert not any(x["name"] == "2031/2032" for x in years)


def test_only_admin_creates_region_records(node):
    for login in ("schooladmin", "teacher", "classteacher", "medic", "student", "parent"):
        c = node.login(login)
        for path, body in (("/api/v1/municipalities", {"name": "Нет"}),
                           ("/api/v1/subjects", {"code": "no", "name": "Нет"}),
                           ("/api/v1/academic-years", {"first_year": 2041}),
                           ("/api/v1/institutions", {"municipality_id": 1, "kind": "school",
                                                     "name": "Нет", "short_name": "Нет"})):
            r = c.post(path, body)
            assert r.status == 403 and code(r) == "forbidden", (login, path)
    admin = node.login("admin")
    assert "Нет" not in [m["name"] for m in admin.get("/api/v1/municipalities").json()["items"]]
    assert "Нет" not in [m["name"] for m in admin.get("/api/v1/institutions").json()["items"]]
    assert "no" not in [s["code"] for s in admin.get("/api/v1/subjects").json()["items"]]


# ---- institutions and classes -----------------------------------------------------------------

def test_school_admin_patches_own_institution_only(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    r = sa.patch(f"/api/v1/institutions/{ids['s1']}", {"address": "ул. Ленина, 14"})
    assert r.status == 200 and r.json()["address"] == "ул. Ленина, 14"
    assert r.json()["short_name"] == "Школа № 1"
    gym_before = admin.get(f"/api/v1/institutions/{ids['s2']}").json()
    r = sa.patch(f"/api/v1/institutions/{ids['s2']}", {"address": "захват"})
    assert r.status == 403 and code(r) == "forbidden"
    assert admin.get(f"/api/v1/institutions/{ids['s2']}").json() == gym_before
    assert node.login("teacher").patch(f"/api/v1/institutions/{ids['s1']}", {"address": "x"}).status == 403
    r = admin.patch(f"/api/v1/institutions/{ids['s2']}", {"short_name": "Гимназия № 2", "name": gym_before["name"]})
    assert r.status == 200


def test_institution_patch_validation(node, ids):
    admin = node.login("admin")
    url = f"/api/v1/institutions/{ids['s1']}"
    before = admin.get(url).json()
    for body in ({"name": ""}, {"short_name": "ш" * 101}, {"address": 5}, {"kind": "college"},
                 {"municipality_id": 999999}, {"municipality_id": "2"}, {"address": "ok", "phone": "x"}):
        r = admin.patch(url, body)
        assert r.status == 400 and code(r) == "bad_request", body
    assert admin.get(url).json() == before


def test_school_admin_classes_own_school_only(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    c = sa.post(f"/api/v1/institutions/{ids['s1']}/classes", {"year_id": ids["year"], "grade": 1, "letter": "В"})
    assert c.status == 201 and c.json()["name"] == "1В" and c.json()["institution_id"] == ids["s1"]
    assert c.json()["students"] == 0 and c.json()["class_teacher"] is None
    gym_classes = admin.get(f"/api/v1/institutions/{ids['s2']}/classes").json()["items"]
    r = sa.post(f"/api/v1/institutions/{ids['s2']}/classes", {"year_id": ids["year"], "grade": 1, "letter": "В"})
    assert r.status == 403 and code(r) == "forbidden"
    assert admin.get(f"/api/v1/institutions/{ids['s2']}/classes").json()["items"] == gym_classes
    assert sa.get(f"/api/v1/institutions/{ids['s2']}/classes").status == 403
    gym_class = cls(ids, "Гимназия № 2", "6А")
    assert sa.get(f"/api/v1/classes/{gym_class}").status == 403
    assert sa.get(f"/api/v1/classes/{gym_class}/students").status == 403
    assert sa.patch(f"/api/v1/classes/{gym_class}", {"letter": "Я"}).status == 403
    assert admin.get(f"/api/v1/classes/{gym_class}").json()["letter"] == "А"
    assert sa.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}").status == 200
    assert any(x["name"] == "1В" for x in sa.get(f"/api/v1/institutions/{ids['s1']}/classes").json()["items"])


def test_class_validation_and_conflicts(node, ids):
    admin = node.login("admin")
    url = f"/api/v1/institutions/{ids['s1']}/classes"
    before = admin.get(url).json()["items"]
    gym_teacher = admin.get(f"/api/v1/classes/{cls(ids, 'Гимназия № 2', '6А')}").json()["assignments"][0]["teacher"]["id"]
    for body in ({"year_id": ids["year"], "grade": 12, "letter": "А"},
                 {"year_id": ids["year"], "grade": 0, "letter": "Д"},
                 {"year_id": ids["year"], "grade": "5", "letter": "Д"},
                 {"year_id": ids["year"], "grade": 5, "letter": ""},
                 {"year_id": ids["year"], "grade": 5, "letter": "АБВ"},
                 {"year_id": 999, "grade": 5, "letter": "Г"},
                 {"year_id": ids["year"], "grade": 5, "letter": "Д", "size": 3},
                 {"year_id": ids["year"], "grade": 5},
                 {"year_id": ids["year"], "grade": 5, "letter": "Д", "class_teacher_id": gym_teacher}):
        r = admin.post(url, body)
        assert r.status == 400 and code(r) == "bad_request", body
    r = admin.post(url, {"year_id": ids["year"], "grade": 5, "letter": "А"})
    assert r.status == 409 and code(r) == "conflict"
    assert admin.get(url).json()["items"] == before


def test_class_view(node, ids):
    admin = node.login("admin")
    cid = cls(ids, "Школа № 1", "5А")
    c = admin.get(f"/api/v1/classes/{cid}").json()
    assert c["name"] == "5А" and c["grade"] == 5 and c["letter"] == "А" and c["institution_id"] == ids["s1"]
    assert c["class_teacher"] == {"id": ids["ct_person"], "name": "Кузнецова Марина Игоревна"}
    assert any(s["name"] == "Иванов Артём Сергеевич" for s in c["student_list"])
    assert c["students"] == len(c["student_list"]) == len(students_of(admin, cid))
    subjects = {(a["subject"]["name"], a["teacher"]["id"]) for a in c["assignments"]}
    assert ("Математика", ids["teacher_person"]) in subjects and ("Русский язык", ids["ct_person"]) in subjects
    assert isinstance(c["groups"], list)


def test_class_patch(node, ids):
    admin = node.login("admin")
    sa = node.login("schooladmin")
    cid = cls(ids, "Школа № 1", "5Б")
    gym_teacher = admin.get(f"/api/v1/classes/{cls(ids, 'Гимназия № 2', '6А')}").json()["assignments"][0]["teacher"]["id"]
    before = admin.get(f"/api/v1/classes/{cid}").json()
    for body in ({"class_teacher_id": gym_teacher}, {"class_teacher_id": "1"}, {"class_teacher_id": 0},
                 {"letter": ""}, {"letter": "ABC"}, {"grade": 6}):
        assert sa.patch(f"/api/v1/classes/{cid}", body).status == 400, body
    r = sa.patch(f"/api/v1/classes/{cid}", {"letter": "А"})
    assert r.status == 409 and code(r) == "conflict"
    assert admin.get(f"/api/v1/classes/{cid}").json() == before
    r = sa.patch(f"/api/v1/classes/{cid}", {"class_teacher_id": ids["teacher_person"]})
    assert r.status == 200 and r.json()["class_teacher"]["id"] == ids["teacher_person"]
    r = sa.patch(f"/api/v1/classes/{cid}", {"class_teacher_id": None, "letter": "Ж"})
    assert r.status == 200 and r.json()["class_teacher"] is None and r.json()["name"] == "5Ж"
    assert sa.patch(f"/api/v1/classes/{cid}", {"letter": "Б"}).json()["name"] == "5Б"
    assert node.login("teacher").patch(f"/api/v1/classes/{cid}", {"letter": "Я"}).status == 403
    assert node.login("classteacher").patch(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}",
                                            {"letter": "Я"}).status == 403


# ---- who may read classes and people --------------------------------------------------------

def test_teacher_reads_only_classes_taught(node, ids):
    teacher = node.login("teacher")
    assert teacher.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5Б')}").status == 200
    assert teacher.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '9А')}/students").status == 200
    r = teacher.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '2А')}")
    assert r.status == 403 and code(r) == "forbidden"
    assert teacher.get(f"/api/v1/classes/{cls(ids, 'Гимназия № 2', '6А')}").status == 403
    assert teacher.get(f"/api/v1/institutions/{ids['s1']}/classes").status == 200
    assert teacher.get(f"/api/v1/institutions/{ids['s2']}/classes").status == 403
    ct = node.login("classteacher")
    assert ct.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}/students").status == 200
    assert ct.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '9А')}").status == 403
    medic = node.login("medic")
    assert medic.get(f"/api/v1/institutions/{ids['s1']}/classes").status == 200
    assert medic.get(f"/api/v1/institutions/{ids['s3']}/classes").status == 403


def test_teacher_cannot_create_or_change_anything(node, ids):
    admin = node.login("admin")
    c5a = cls(ids, "Школа № 1", "5А")
    assignment = admin.get(f"/api/v1/classes/{c5a}").json()["assignments"][0]["id"]
    artem = ids["student_person"]
    writes = [
        ("POST", f"/api/v1/institutions/{ids['s1']}/classes", {"year_id": ids["year"], "grade": 3, "letter": "Б"}),
        ("PATCH", f"/api/v1/institutions/{ids['s1']}", {"address": "x"}),
        ("PATCH", f"/api/v1/classes/{c5a}", {"letter": "Я"}),
        ("POST", f"/api/v1/classes/{c5a}/groups", {"name": "Моя группа", "student_ids": [artem]}),
        ("POST", "/api/v1/persons", {"last_name": "Левый", "first_name": "Человек"}),
        ("POST", f"/api/v1/institutions/{ids['s1']}/staff", {"person_id": ids["parent_person"], "position": "x"}),
        ("POST", "/api/v1/assignments", {"teacher_id": ids["teacher_person"], "class_id": cls(ids, "Школа № 1", "2А"),
                                         "subject_id": ids["subjects"]["math"]}),
        ("DELETE", f"/api/v1/assignments/{assignment}", None),
        ("POST", "/api/v1/enrollments", {"student_id": artem, "class_id": cls(ids, "Школа № 1", "5Б"),
                                         "enrolled_on": "2026-10-01"}),
        ("POST", "/api/v1/guardians", {"guardian_id": ids["teacher_person"], "student_id": artem, "relation": "parent"}),
    ]
    snapshot = admin.get(f"/api/v1/classes/{c5a}").json()
    changes = lambda: [i for i in audit(admin) if not i["action"].startswith("login")]
    audit_before = changes()
    for login in ("teacher", "classteacher", "medic", "student", "parent"):
        c = node.login(login)
        for method, path, body in writes:
            r = c.request(method, path, body)
            assert r.status == 403 and code(r) == "forbidden", (login, method, path)
    assert admin.get(f"/api/v1/classes/{c5a}").json() == snapshot
    assert admin.get(f"/api/v1/students/{artem}").json()["class"]["name"] == "5А"
    assert changes() == audit_before


def test_parent_reads_own_children_only(node, ids):
    admin = node.login("admin")
    parent = node.login("parent")
    other = students_of(admin, cls(ids, "Школа № 1", "5Б"))[0]["id"]
    assert parent.get(f"/api/v1/students/{ids['student_person']}").status == 200
    r = parent.get(f"/api/v1/students/{other}")
    assert r.status == 403 and code(r) == "forbidden"
    assert parent.get(f"/api/v1/persons/{other}").status == 403
    assert parent.get(f"/api/v1/persons/{ids['parent_person']}").status == 200
    assert parent.get(f"/api/v1/persons/{ids['teacher_person']}").status == 403
    for path in (f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}", f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}/students",
                 f"/api/v1/institutions/{ids['s1']}/classes"):
        r = parent.get(path)
        assert r.status == 403 and code(r) == "forbidden", path
    student = node.login("student")
    assert student.get(f"/api/v1/students/{other}").status == 403
    assert student.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}").status == 403


def test_person_get(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    t = sa.get(f"/api/v1/persons/{ids['teacher_person']}")
    assert t.status == 200 and t.json()["name"] == "Смирнова Ольга Петровна"
    assert t.json()["account"]["login"] == "teacher"
    assert t.json()["account"]["roles"] == [{"role": "teacher", "institution_id": ids["s1"]}]
    assert sa.get(f"/api/v1/persons/{ids['parent_person']}").status == 200  # her children study at s1
    gym_teacher = admin.get(f"/api/v1/classes/{cls(ids, 'Гимназия № 2', '6А')}").json()["assignments"][0]["teacher"]["id"]
    assert sa.get(f"/api/v1/persons/{gym_teacher}").status == 403
    assert sa.get(f"/api/v1/persons/{ids['admin_person']}").status == 403
    assert admin.get(f"/api/v1/persons/{gym_teacher}").status == 200
    me = node.login("teacher").get(f"/api/v1/persons/{ids['teacher_person']}")
    assert me.status == 200 and me.json()["birth_date"] == "1982-05-21"


# ---- persons and accounts ---------------------------------------------------------------------

def test_person_with_account_logs_in(node, ids):
    sa = node.login("schooladmin")
    r = sa.post("/api/v1/persons", {"last_name": "Гаджиева", "first_name": "Патимат",
                                    "middle_name": "Магомедовна", "birth_date": "1990-02-28",
                                    "account": {"login": "gadzhieva", "password": "secret-pass",
                                                "roles": [{"role": "teacher", "institution_id": ids["s1"]},
                                                          {"role": "class_teacher", "institution_id": ids["s1"]}]}})
    assert r.status == 201, r
    p = r.json()
    assert p["name"] == "Гаджиева Патимат Магомедовна" and p["birth_date"] == "1990-02-28"
    assert sorted(x["role"] for x in p["account"]["roles"]) == ["class_teacher", "teacher"]
    assert sa.get(f"/api/v1/persons/{p['id']}").json() == p
    c = node.login("gadzhieva", "secret-pass")
    me = c.get("/api/v1/me").json()
    assert sorted(me["roles"]) == ["class_teacher", "teacher"] and me["person_id"] == p["id"]
    assert {"role": "teacher", "institution_id": ids["s1"]} in me["grants"]
    assert me["assignments"] == []
    assert c.get(f"/api/v1/institutions/{ids['s1']}/classes").status == 200
    assert node.client().post("/api/v1/auth/login", {"login": "gadzhieva", "password": "wrong-pass"}).status == 401
    e = audit(sa, "person.create")[0]
    assert e["object"] == f"person/{p['id']}" and e["institution_id"] == ids["s1"]
    assert e["detail"]["login"] == "gadzhieva" and "password" not in e["detail"]


def test_account_without_password_cannot_log_in(node, ids):
    admin = node.login("admin")
    r = admin.post("/api/v1/persons", {"last_name": "Без", "first_name": "Пароля",
                                       "account": {"login": "nopass", "roles": [{"role": "parent"}]}})
    assert r.status == 201 and r.json()["birth_date"] is None
    # An empty password is a well-formed guess (the length rule is "at most 256"), checked and
    # refused like any other: the account has no password hash to match.
    r = node.client().post("/api/v1/auth/login", {"login": "nopass", "password": ""})
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_credentials", r
    assert node.client().post("/api/v1/auth/login", {"login": "nopass", "password": "anything1"}).status == 401


def test_person_bad_bodies_change_nothing(node, ids):
    sa = node.login("schooladmin")
    first = new_person(sa, "Первый", "Контрольный")
    base = {"last_name": "Тестов", "first_name": "Тест"}
    acc = {"login": "badbody", "password": "12345678", "roles": [{"role": "parent"}]}
    for body in (dict(base, birth_date="2011-02-30"), dict(base, birth_date="2011-2-3"),
                 dict(base, birth_date="03.02.2011"), dict(base, birth_date=20110203),
                 dict(base, last_name=""), dict(base, first_name="ф" * 101), dict(base, middle_name=1),
                 dict(base, nickname="t"), {"last_name": "Тестов"}, dict(base, last_name="a\nb"),
                 dict(base, account=dict(acc, password="short")),
                 dict(base, account=dict(acc, login="bad login")),
                 dict(base, account=dict(acc, login="")),
                 dict(base, account=dict(acc, email="x@y")),
                 dict(base, account=dict(acc, roles="parent")),
                 dict(base, account=dict(acc, roles=[{"role": "parent", "since": 2020}])),
                 dict(base, account={"password": "12345678", "roles": []})):
        r = sa.post("/api/v1/persons", body)
        assert r.status == 400 and code(r) == "bad_request", body
    # Nothing was written: the next person gets the very next id and no login exists.
    second = new_person(sa, "Второй", "Контрольный")
    assert second == first + 1
    assert node.client().post("/api/v1/auth/login", {"login": "badbody", "password": "12345678"}).status == 401


def test_school_admin_grant_limits(node, ids):
    sa = node.login("schooladmin")
    base = {"last_name": "Тестов", "first_name": "Тест"}
    acc = lambda roles, login="granttest": dict(base, account={"login": login, "password": "12345678", "roles": roles})
    for roles in ([{"role": "admin"}], [{"role": "ministry"}], [{"role": "methodologist"}], [{"role": "operator"}],
                  [{"role": "teacher", "institution_id": ids["s2"]}],
                  [{"role": "school_admin", "institution_id": ids["s3"]}],
                  [{"role": "teacher", "institution_id": ids["s1"]}, {"role": "medic", "institution_id": ids["s2"]}]):
        r = sa.post("/api/v1/persons", acc(roles))
        assert r.status == 403 and code(r) == "forbidden", roles
    for roles in ([{"role": "teacher"}], [{"role": "school_admin"}], [{"role": "medic"}],
                  [{"role": "parent", "institution_id": ids["s1"]}], [{"role": "student", "institution_id": ids["s1"]}],
                  [{"role": "admin", "institution_id": ids["s1"]}], [{"role": "wizard"}],
                  [{"role": "teacher", "institution_id": 99999}],
                  [{"role": "parent"}, {"role": "parent"}],
                  [{"role": "teacher", "institution_id": ids["s1"]}] * 2):
        r = sa.post("/api/v1/persons", acc(roles))
        assert r.status == 400 and code(r) == "bad_request", roles
    assert node.client().post("/api/v1/auth/login", {"login": "granttest", "password": "12345678"}).status == 401
    # What a school admin may grant, in their own school.
    r = sa.post("/api/v1/persons", acc([{"role": "medic", "institution_id": ids["s1"]},
                                        {"role": "school_admin", "institution_id": ids["s1"]}], login="deputy"))
    assert r.status == 201, r
    r = sa.post("/api/v1/persons", acc([{"role": "parent"}, {"role": "student"}], login="famuser"))
    assert r.status == 201, r


def test_region_admin_grants_any_role(node, ids):
    admin = node.login("admin")
    base = {"last_name": "Аналитик", "first_name": "Региона"}
    r = admin.post("/api/v1/persons", dict(base, account={"login": "analyst", "password": "12345678",
                                                          "roles": [{"role": "ministry"}, {"role": "methodologist"}]}))
    assert r.status == 201, r
    me = node.login("analyst", "12345678").get("/api/v1/me").json()
    assert sorted(me["roles"]) == ["methodologist", "ministry"]
    r = admin.post("/api/v1/persons", dict(base, account={"login": "gymadmin", "password": "12345678",
                                                          "roles": [{"role": "school_admin", "institution_id": ids["s2"]}]}))
    assert r.status == 201
    gym = node.login("gymadmin", "12345678")
    assert gym.get(f"/api/v1/institutions/{ids['s2']}/classes").status == 200
    assert gym.get(f"/api/v1/institutions/{ids['s1']}/classes").status == 403


def test_taken_login_is_409(node, ids):
    sa = node.login("schooladmin")
    first = new_person(sa, "До", "Конфликта")
    r = sa.post("/api/v1/persons", {"last_name": "Двойник", "first_name": "Родитель",
                                    "account": {"login": "parent", "password": "12345678", "roles": [{"role": "parent"}]}})
    assert r.status == 409 and code(r) == "conflict"
    assert new_person(sa, "После", "Конфликта") == first + 1  # the person of the refused request is gone
    assert node.login("parent").get("/api/v1/me").json()["name"] == "Иванова Елена Викторовна"


# ---- staff, assignments, groups, enrollments, guardians --------------------------------------

def test_staff(node, ids):
    sa = node.login("schooladmin")
    pid = new_person(sa, "Учитель", "Новый")
    url = f"/api/v1/institutions/{ids['s1']}/staff"
    r = sa.post(url, {"person_id": pid, "position": "учитель физики"})
    assert r.status == 201 and r.json() == {"person_id": pid, "institution_id": ids["s1"], "position": "учитель физики"}
    assert sa.post(url, {"person_id": pid, "position": "ещё раз"}).status == 409
    for body in ({"person_id": 999999, "position": "x"}, {"person_id": pid, "position": ""},
                 {"person_id": pid}, {"person_id": str(pid), "position": "x"},
                 {"person_id": pid, "position": "x", "salary": 1}):
        assert sa.post(url, body).status == 400, body
    r = sa.post(f"/api/v1/institutions/{ids['s2']}/staff", {"person_id": pid, "position": "совместитель"})
    assert r.status == 403
    # Staff may now be made class teacher; before, they could not.
    assert sa.patch(f"/api/v1/classes/{cls(ids, 'Школа № 1', '2А')}", {"class_teacher_id": pid}).status == 200
    e = audit(sa, "staff.add")[0]
    assert e["institution_id"] == ids["s1"] and e["object"] == f"person/{pid}"


def test_assignments(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    c9a = cls(ids, "Школа № 1", "9А")
    pid = new_person(sa, "Химикова", "Анна")
    outsider = new_person(sa, "Посторонний", "Пётр")
    assert sa.post(f"/api/v1/institutions/{ids['s1']}/staff", {"person_id": pid, "position": "учитель химии"}).status == 201
    body = {"teacher_id": pid, "class_id": c9a, "subject_id": ids["subjects"]["chem"]}
    a = sa.post("/api/v1/assignments", body)
    assert a.status == 201 and a.json() == dict(body, id=a.json()["id"])
    assert sa.post("/api/v1/assignments", body).status == 409
    other_group = admin.post(f"/api/v1/classes/{cls(ids, 'Школа № 1', '2А')}/groups", {"name": "Химики", "student_ids": []})
    assert other_group.status == 201
    for bad in (dict(body, teacher_id=outsider), dict(body, subject_id=99999), dict(body, group_id=other_group.json()["id"]),
                dict(body, group_id=999999), dict(body, subject_id="chem"), dict(body, hours=2), {"teacher_id": pid}):
        assert sa.post("/api/v1/assignments", bad).status == 400, bad
    view = admin.get(f"/api/v1/classes/{c9a}").json()["assignments"]
    assert [x["id"] for x in view if x["teacher"]["id"] == pid] == [a.json()["id"]]
    gym = dict(body, class_id=cls(ids, "Гимназия № 2", "6А"))
    assert sa.post("/api/v1/assignments", gym).status == 403
    gym_assignment = admin.get(f"/api/v1/classes/{gym['class_id']}").json()["assignments"][0]["id"]
    assert sa.delete(f"/api/v1/assignments/{gym_assignment}").status == 403
    assert sa.delete(f"/api/v1/assignments/{a.json()['id']}").status == 200
    assert sa.delete(f"/api/v1/assignments/{a.json()['id']}").status == 404
    assert not any(x["teacher"]["id"] == pid for x in admin.get(f"/api/v1/classes/{c9a}").json()["assignments"])
    deleted = audit(sa, "assignment.delete")[0]
    assert deleted["object"] == f"assignment/{a.json()['id']}" and deleted["institution_id"] == ids["s1"]


def test_assignment_shows_in_me(node, ids):
    sa = node.login("schooladmin")
    r = sa.post("/api/v1/persons", {"last_name": "Физикова", "first_name": "Ирина",
                                    "account": {"login": "fizikova", "password": "secret-pass",
                                                "roles": [{"role": "teacher", "institution_id": ids["s1"]}]}})
    pid = r.json()["id"]
    assert sa.post(f"/api/v1/institutions/{ids['s1']}/staff", {"person_id": pid, "position": "учитель"}).status == 201
    assert sa.post("/api/v1/assignments", {"teacher_id": pid, "class_id": cls(ids, "Школа № 1", "9А"),
                                           "subject_id": ids["subjects"]["phys"]}).status == 201
    c = node.login("fizikova", "secret-pass")
    me = c.get("/api/v1/me").json()
    assert [(x["class"]["name"], x["subject"]["name"]) for x in me["assignments"]] == [("9А", "Физика")]
    assert c.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '9А')}").status == 200
    assert c.get(f"/api/v1/classes/{cls(ids, 'Школа № 1', '5А')}").status == 403


def test_groups(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    c5a = cls(ids, "Школа № 1", "5А")
    kids = [s["id"] for s in students_of(sa, c5a)]
    stranger = students_of(admin, cls(ids, "Школа № 1", "5Б"))[0]["id"]
    g = sa.post(f"/api/v1/classes/{c5a}/groups", {"name": "Английский, группа 1", "student_ids": kids[:3]})
    assert g.status == 201 and g.json()["student_ids"] == kids[:3] and g.json()["class_id"] == c5a
    groups = sa.get(f"/api/v1/classes/{c5a}").json()["groups"]
    assert {"id": g.json()["id"], "name": "Английский, группа 1", "students": 3} in groups
    assert sa.post(f"/api/v1/classes/{c5a}/groups", {"name": "Английский, группа 1", "student_ids": []}).status == 409
    for body in ({"name": "Чужие", "student_ids": [kids[0], stranger]}, {"name": "Повтор", "student_ids": [kids[0], kids[0]]},
                 {"name": "Строки", "student_ids": ["1"]}, {"name": "", "student_ids": []}, {"name": "Нет списка"},
                 {"name": "Не массив", "student_ids": 5}, {"name": "Лишнее", "student_ids": [], "teacher": 1}):
        r = sa.post(f"/api/v1/classes/{c5a}/groups", body)
        assert r.status == 400, body
    # The refused requests changed nothing: the groups they began to create are gone.
    assert sa.get(f"/api/v1/classes/{c5a}").json()["groups"] == groups
    gym = cls(ids, "Гимназия № 2", "6А")
    before = admin.get(f"/api/v1/classes/{gym}").json()["groups"]
    r = sa.post(f"/api/v1/classes/{gym}/groups", {"name": "Захват", "student_ids": []})
    assert r.status == 403 and r.json()["error"]["code"] == "forbidden", r
    assert admin.get(f"/api/v1/classes/{gym}").json()["groups"] == before
    # A group's assignment: the group must be of that class.
    a = sa.post("/api/v1/assignments", {"teacher_id": ids["teacher_person"], "class_id": c5a,
                                        "subject_id": ids["subjects"]["eng"], "group_id": g.json()["id"]})
    assert a.status == 201 and a.json()["group_id"] == g.json()["id"]


def test_enrollment_guardian_and_transfer(node, ids):
    sa = node.login("schooladmin")
    admin = node.login("admin")
    child = new_person(sa, "Новенький", "Саша", birth_date="2015-05-05")
    mum = sa.post("/api/v1/persons", {"last_name": "Новенькая", "first_name": "Ольга", "account": {
        "login": "novmum", "password": "mum-password", "roles": [{"role": "parent"}]}}).json()["id"]
    c5b = cls(ids, "Школа № 1", "5Б")
    count = len(students_of(sa, c5b))
    for body in ({"student_id": child, "class_id": c5b, "enrolled_on": "2026-13-01"},
                 {"student_id": child, "class_id": c5b, "enrolled_on": "1 сентября"},
                 {"student_id": child, "class_id": c5b},
                 {"student_id": child, "class_id": c5b, "enrolled_on": "2026-09-01", "reason": "x"}):
        assert sa.post("/api/v1/enrollments", body).status == 400, body
    assert len(students_of(sa, c5b)) == count
    e = sa.post("/api/v1/enrollments", {"student_id": child, "class_id": c5b, "enrolled_on": "2026-09-01"})
    assert e.status == 201 and e.json()["class_id"] == c5b
    assert len(students_of(sa, c5b)) == count + 1
    assert sa.post("/api/v1/enrollments", {"student_id": child, "class_id": c5b, "enrolled_on": "2026-09-02"}).status == 409
    # Guardians.
    for body in ({"guardian_id": mum, "student_id": child, "relation": "aunt"},
                 {"guardian_id": child, "student_id": child, "relation": "parent"},
                 {"guardian_id": 999999, "student_id": child, "relation": "parent"},
                 {"guardian_id": mum, "student_id": child}):
        assert sa.post("/api/v1/guardians", body).status == 400, body
    g = sa.post("/api/v1/guardians", {"guardian_id": mum, "student_id": child, "relation": "mother"})
    assert g.status == 201 and g.json()["relation"] == "mother"
    assert sa.post("/api/v1/guardians", {"guardian_id": mum, "student_id": child, "relation": "mother"}).status == 409
    mum_c = node.login("novmum", "mum-password")
    kids = mum_c.get("/api/v1/me").json()["children"]
    assert [(k["id"], k["class"]["name"]) for k in kids] == [(child, "5Б")]
    prof = mum_c.get(f"/api/v1/students/{child}").json()
    assert prof["guardians"] == [{"id": mum, "name": "Новенькая Ольга", "relation": "mother"}]
    # A school admin cannot take the child to another school, nor back-date a transfer.
    gym = cls(ids, "Гимназия № 2", "6А")
    assert sa.post("/api/v1/enrollments", {"student_id": child, "class_id": gym, "enrolled_on": "2026-10-01"}).status == 403
    assert admin.post("/api/v1/enrollments", {"student_id": child, "class_id": gym, "enrolled_on": "2026-08-01"}).status == 400
    assert mum_c.get(f"/api/v1/students/{child}").json()["class"]["name"] == "5Б"
    # The region admin can; the old enrollment ends that day.
    assert admin.post("/api/v1/enrollments", {"student_id": child, "class_id": gym, "enrolled_on": "2026-10-01"}).status == 201
    assert len(students_of(sa, c5b)) == count
    assert sa.get(f"/api/v1/students/{child}").status == 403
    assert mum_c.get(f"/api/v1/students/{child}").json()["class"]["name"] == "6А"
    # Now the child is the gymnasium's: the school admin of school 1 may not add guardians.
    dad = new_person(admin, "Новенький", "Олег")
    assert sa.post("/api/v1/guardians", {"guardian_id": dad, "student_id": child, "relation": "father"}).status == 403
    assert admin.post("/api/v1/guardians", {"guardian_id": dad, "student_id": child, "relation": "father"}).status == 201
    entries = audit(admin, "enrollment.create")
    assert entries[0]["institution_id"] == ids["s2"] and entries[0]["detail"]["from_class_id"] == c5b
    assert audit(admin, "guardian.create")[0]["institution_id"] == ids["s2"]


# ---- the audit trail --------------------------------------------------------------------------

def test_audit_trail_of_changes(node, ids):
    admin = node.login("admin")
    sa = node.login("schooladmin")
    sa.patch(f"/api/v1/institutions/{ids['s1']}", {"short_name": "Школа № 1"})
    gym_class = admin.post(f"/api/v1/institutions/{ids['s2']}/classes", {"year_id": ids["year"], "grade": 2, "letter": "Г"})
    assert gym_class.status == 201
    items = audit(admin)
    actions = {i["action"] for i in items}
    assert {"institution.update", "institution.create", "class.create", "class.update", "group.create",
            "person.create", "enrollment.create", "guardian.create", "assignment.create", "assignment.delete",
            "municipality.create", "subject.create", "year.create", "staff.add"} <= actions
    created = [i for i in items if i["action"] == "class.create" and i["object"] == f"class/{gym_class.json()['id']}"]
    assert len(created) == 1 and created[0]["institution_id"] == ids["s2"]
    assert created[0]["account"]["login"] == "admin" and created[0]["detail"]["letter"] == "Г"
    mine = audit(sa)
    assert mine and all(i.get("institution_id") == ids["s1"] for i in mine)
    assert not any(i["object"] == f"class/{gym_class.json()['id']}" for i in mine)
    assert any(i["action"] == "institution.update" and i["account"]["login"] == "schooladmin" for i in mine)
    assert not any(i["action"] in ("municipality.create", "subject.create", "year.create") for i in mine)
    for login in ("teacher", "parent", "medic"):
        assert node.login(login).get("/api/v1/audit").status == 403

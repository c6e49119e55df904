"""The shell's API: unread counts for the navigation (GET /api/v1/unread) and validation errors
that name their field, so that a page shows the catalog's Russian text beside that field."""


def kids(parent):
    return {c["name"]: c["id"] for c in parent.user["children"]}


def unread(client):
    r = client.get("/api/v1/unread")
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"messages", "notifications"}
    return body


def test_unread_counts_follow_messages_and_reading(node):
    parent, teacher = node.login("parent"), node.login("teacher")
    artem = kids(parent)["Иванов Артём Сергеевич"]
    before = unread(teacher)
    r = parent.post("/api/v1/threads", {"student_id": artem, "with_id": teacher.user["person_id"],
                                        "title": "Счётчик", "text": "Первое"})
    assert r.status == 201
    thread = r.json()["id"]
    assert parent.post(f"/api/v1/threads/{thread}/messages", {"text": "Второе"}).status == 201
    after = unread(teacher)
    # Two unread messages, and a notification of each.
    assert after["messages"] == before["messages"] + 2
    assert after["notifications"] == before["notifications"] + 2
    # The author has nothing new from their own messages.
    assert unread(parent)["messages"] == 0
    # Reading the thread clears its messages and their notifications, nothing else.
    assert teacher.post(f"/api/v1/threads/{thread}/read").status == 200
    read = unread(teacher)
    assert read["messages"] == before["messages"]
    assert read["notifications"] == before["notifications"]
    # Reading all notifications brings their count to zero.
    assert parent.post(f"/api/v1/threads/{thread}/messages", {"text": "Третье"}).status == 201
    assert unread(teacher)["notifications"] == before["notifications"] + 1
    assert teacher.post("/api/v1/notifications/read", {"all": True}).status == 200
    assert unread(teacher)["notifications"] == 0
    assert unread(teacher)["messages"] == before["messages"] + 1


def test_unread_counts_are_ones_own(node):
    """Every role may ask, each for themselves only; nobody logged in is refused, and so is a
    device token."""
    for login in ("admin", "schooladmin", "medic", "student", "classteacher"):
        body = unread(node.login(login))
        assert body["messages"] >= 0 and body["notifications"] >= 0
    # A message to the teacher does not count for the class teacher or the student.
    parent, teacher = node.login("parent"), node.login("teacher")
    ct, student = node.login("classteacher"), node.login("student")
    seen = (unread(ct), unread(student))
    artem = kids(parent)["Иванов Артём Сергеевич"]
    assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": teacher.user["person_id"],
                                           "title": "Только учителю", "text": "?"}).status == 201
    assert (unread(ct)["messages"], unread(student)["messages"]) == (seen[0]["messages"], seen[1]["messages"])
    assert node.client().get("/api/v1/unread").status == 401
    admin = node.login("admin")
    d = admin.post("/api/v1/devices", {"name": "Турникет", "scopes": ["passage"], "institution_id": 1})
    assert d.status == 201, d
    device = node.client(token=d.json()["token"])
    assert device.get("/api/v1/unread").status in (401, 403)


def error(r):
    assert r.status == 400, r
    return r.json()["error"]


def test_notice_errors_name_their_field(node):
    parent = node.login("parent")
    artem = kids(parent)["Иванов Артём Сергеевич"]
    path = f"/api/v1/students/{artem}/absence-notices"
    e = error(parent.post(path, {"from": "2026-11-05", "to": "2026-11-01", "reason": "Болезнь"}))
    assert (e["code"], e["field"]) == ("bad_range", "to")
    e = error(parent.post(path, {"from": "05.11.2026", "to": "2026-11-06", "reason": "Болезнь"}))
    assert (e["code"], e["field"]) == ("bad_date", "from")
    e = error(parent.post(path, {"from": "2026-11-05", "to": "2026-13-01", "reason": "Болезнь"}))
    assert (e["code"], e["field"]) == ("bad_date", "to")
    e = error(parent.post(path, {"from": "2026-11-05", "to": "2026-11-05", "reason": ""}))
    assert (e["code"], e["field"]) == ("bad_request", "reason")
    e = error(parent.post(path, {"from": "2026-11-05", "to": "2026-11-05", "reason": "x" * 1001}))
    assert e["field"] == "reason"
    # Nothing was stored by the refused ones.
    items = parent.get(path).json()["items"]
    assert not any(i["reason"] in ("", "x" * 1001) or i["from"] == "05.11.2026" for i in items)
    # The medic's notes answer the same way.
    medic = node.login("medic")
    e = error(medic.post(f"/api/v1/students/{artem}/medical-notes",
                         {"from": "2026-11-05", "to": "2026-11-04", "reason": "ОРВИ"}))
    assert e["field"] == "to"


def test_message_errors_name_their_field(node):
    parent, teacher = node.login("parent"), node.login("teacher")
    artem = kids(parent)["Иванов Артём Сергеевич"]
    body = {"student_id": artem, "with_id": teacher.user["person_id"], "title": "Тема", "text": "Текст"}
    assert error(parent.post("/api/v1/threads", {**body, "title": ""}))["field"] == "title"
    assert error(parent.post("/api/v1/threads", {**body, "title": "x" * 201}))["field"] == "title"
    assert error(parent.post("/api/v1/threads", {**body, "text": ""}))["field"] == "text"
    r = parent.post("/api/v1/threads", body)
    assert r.status == 201
    e = error(parent.post(f"/api/v1/threads/{r.json()['id']}/messages", {"text": "x" * 10001}))
    assert (e["code"], e["field"]) == ("bad_request", "text")


def test_admin_and_account_errors_name_their_field(node):
    """The routes of the administration's and the account's pages name the field at fault, and
    the refused writes change nothing."""
    admin = node.login("admin")
    e = error(admin.post("/api/v1/municipalities", {"name": ""}))
    assert (e["code"], e["field"]) == ("bad_request", "name")
    assert error(admin.post("/api/v1/municipalities", {"name": "Новый район", "okato": "1" * 21}))["field"] == "okato"
    assert not any(m["name"] == "Новый район" for m in admin.get("/api/v1/municipalities").json()["items"])
    year = admin.get("/api/v1/academic-years").json()["items"][0]
    p1 = year["periods"][0]
    e = error(admin.patch(f"/api/v1/periods/{p1['id']}", {"starts_on": "2000-01-01"}))
    assert (e["code"], e["field"]) == ("period_outside_year", "starts_on")
    e = error(admin.patch(f"/api/v1/periods/{p1['id']}", {"ends_on": "2100-01-01"}))
    assert (e["code"], e["field"]) == ("period_outside_year", "ends_on")
    e = error(admin.patch(f"/api/v1/periods/{p1['id']}", {"ends_on": "завтра"}))
    assert (e["code"], e["field"]) == ("bad_request", "ends_on")
    e = error(admin.post(f"/api/v1/academic-years/{year['id']}/holidays", {"date": "1999-01-01"}))
    assert (e["code"], e["field"]) == ("holiday_outside_year", "date")
    e = error(admin.get("/api/v1/audit?from=2026-12-05&to=2026-12-01"))
    assert (e["code"], e["field"]) == ("bad_range", "to")
    assert error(admin.get("/api/v1/audit?from=5.12.2026"))["field"] == "from"
    e = error(admin.post("/api/v1/devices", {"name": "Турникет", "scopes": []}))
    assert e["field"] == "scopes"
    e = error(admin.post("/api/v1/persons", {"last_name": "", "first_name": "Анна"}))
    assert e["field"] == "last_name"
    # One's own password: the wrong current one, a new one breaking the rules.
    parent = node.login("parent")
    r = parent.post("/api/v1/account/password", {"current": "not-it", "password": "newpass123"})
    assert r.status == 403 and (r.json()["error"]["code"], r.json()["error"]["field"]) == ("wrong_password", "current")
    e = error(parent.post("/api/v1/account/password", {"current": "demo", "password": "short"}))
    assert e["field"] == "password" and e["code"].startswith("password_") and e["min_length"] >= 8
    # Activation: a code that is not one.
    e = error(node.client().post("/api/v1/auth/activate", {"login": "parent", "code": "K7QM", "password": "newpass123"}))
    assert (e["code"], e["field"]) == ("bad_code", "code")


def test_feed_paging_errors_name_their_parameter(node):
    teacher = node.login("teacher")
    assert error(teacher.get("/api/v1/notifications?limit=0"))["field"] == "limit"
    assert error(teacher.get("/api/v1/notifications?before=0"))["field"] == "before"
    assert error(teacher.post("/api/v1/notifications/read", {"ids": ["x"]}))["field"] == "ids"
    assert error(teacher.get("/api/v1/threads?limit=201"))["field"] == "limit"
    assert error(teacher.get("/api/v1/threads?before=-1"))["field"] == "before"

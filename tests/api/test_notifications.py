"""Notifications: marking some read names at most 200 ids (400 beyond, nothing changed), in one
statement over the caller's own rows; duplicates and others' ids change nothing."""


def _messages_to_teacher(node, count):
    """`count` messages from the parent to the teacher: one notification each for the teacher."""
    parent = node.login("parent")
    teacher = node.login("teacher")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    r = parent.post("/api/v1/threads", {"student_id": artem, "with_id": teacher.user["person_id"],
                                        "title": "Вопрос", "text": "Сообщение 0"})
    assert r.status == 201
    for i in range(1, count):
        assert parent.post(f"/api/v1/threads/{r.json()['id']}/messages", {"text": f"Сообщение {i}"}).status == 201
    return teacher


def test_read_ids_capped(node):
    teacher = _messages_to_teacher(node, 3)
    feed = teacher.get("/api/v1/notifications?unread=1").json()
    ids = [n["id"] for n in feed["items"]]
    assert len(ids) == 3 and feed["unread"] == 3
    # 201 ids: refused as a whole, nothing marked read.
    r = teacher.post("/api/v1/notifications/read", {"ids": ids + list(range(10**6, 10**6 + 198))})
    assert r.status == 400 and "200" in r.json()["error"]["message"]
    assert teacher.get("/api/v1/notifications").json()["unread"] == 3
    # 200 ids (the limit), with a repeat and ids that are not the caller's: only its own, once.
    r = teacher.post("/api/v1/notifications/read", {"ids": ids[:2] + [ids[0]] + list(range(10**6, 10**6 + 197))})
    assert r.status == 200 and r.json() == {"read": 2}
    assert teacher.get("/api/v1/notifications").json()["unread"] == 1
    assert teacher.post("/api/v1/notifications/read", {"ids": ids}).json() == {"read": 1}
    assert teacher.post("/api/v1/notifications/read", {"ids": []}).json() == {"read": 0}
    assert teacher.post("/api/v1/notifications/read", {"ids": [ids[0], "x"]}).status == 400


def test_read_ids_of_another(node):
    teacher = _messages_to_teacher(node, 1)
    mine = teacher.get("/api/v1/notifications?unread=1").json()["items"][0]["id"]
    parent = node.login("parent")
    assert parent.post("/api/v1/notifications/read", {"ids": [mine]}).json() == {"read": 0}
    assert teacher.get("/api/v1/notifications").json()["unread"] == 1


def test_a_family_row_is_read_by_each_reader_on_their_own(node, w):
    """A mark for Артём is one row that he and his mother both read: each reads it, by id or
    all at once, for themselves only; a change after «read all» is unread again for both; no
    one else can read it, see it or mark it."""
    teacher, parent, student = node.login("teacher"), node.login("parent"), node.login("student")

    def unread(c):
        return c.get("/api/v1/notifications").json()["unread"]
    p0, s0 = unread(parent), unread(student)
    lesson = w["lessons"][8]  # taken place
    m = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks", {"student_id": w["artem"], "value": "3",
                     "control_form": "oral"})
    assert m.status == 201
    n = parent.get("/api/v1/notifications").json()["items"][0]
    assert n["kind"] == "mark" and n["data"]["mark_id"] == m.json()["id"] and n["read"] is False
    assert student.get("/api/v1/notifications").json()["items"][0]["id"] == n["id"]
    assert unread(parent) == p0 + 1 and unread(student) == s0 + 1
    # The teacher, who wrote it, is not told and cannot mark it read for the family.
    assert all(i["id"] != n["id"] for i in teacher.get("/api/v1/notifications").json()["items"])
    assert teacher.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json() == {"read": 0}
    # The mother reads it by id: for herself; once.
    assert parent.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json() == {"read": 1}
    assert parent.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json() == {"read": 0}
    assert unread(parent) == p0 and unread(student) == s0 + 1
    assert parent.get("/api/v1/notifications").json()["items"][0]["read"] is True
    assert student.get("/api/v1/notifications").json()["items"][0]["read"] is False
    assert [i["id"] for i in parent.get("/api/v1/notifications?unread=1").json()["items"]].count(n["id"]) == 0
    # Артём reads all: his own; his mother's count is as it was.
    assert student.post("/api/v1/notifications/read", {"all": True}).json() == {"read": s0 + 1}
    assert unread(student) == 0 and unread(parent) == p0
    assert student.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json() == {"read": 0}
    assert student.get("/api/v1/notifications?unread=1").json()["items"] == []
    # The mark changed: a new family row, unread for both, the old one still read.
    assert teacher.patch(f"/api/v1/marks/{m.json()['id']}", {"value": "4"}).status == 200
    feed = student.get("/api/v1/notifications?unread=1").json()
    assert [i["kind"] for i in feed["items"]] == ["mark_changed"] and feed["unread"] == 1
    changed = feed["items"][0]
    assert unread(parent) == p0 + 1
    assert parent.post("/api/v1/notifications/read", {"all": True}).json()["read"] == p0 + 1
    assert unread(parent) == 0 and unread(student) == 1
    assert student.post("/api/v1/notifications/read", {"ids": [changed["id"], n["id"]]}).json() == {"read": 1}
    assert unread(student) == 0
    # «Read all» with nothing unread keeps what was read one by one.
    assert student.post("/api/v1/notifications/read", {"all": True}).json() == {"read": 0}
    assert unread(student) == 0
    assert student.get("/api/v1/notifications").json()["items"][0] == dict(changed, read=True)

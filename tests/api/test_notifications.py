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

"""Messages: a parent and a teacher of the child write privately (the child cannot read it);
a teacher and the student; nobody else pairs up or reads a thread."""


def test_parent_teacher_thread(node):
    parent = node.login("parent")
    teacher = node.login("teacher")
    student = node.login("student")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    tid = teacher.user["person_id"]
    r = parent.post("/api/v1/threads", {"student_id": artem, "with_id": tid, "title": "Контрольная",
                                        "text": "Добрый день! Как Артём написал контрольную?"})
    assert r.status == 201 and r.json()["kind"] == "parent_teacher"
    thread = r.json()["id"]
    inbox = teacher.get("/api/v1/threads").json()["items"]
    t = next(i for i in inbox if i["id"] == thread)
    assert t["unread"] == 1 and t["with"]["name"] == "Иванова Елена Викторовна"
    feed = teacher.get("/api/v1/notifications").json()["items"]
    assert feed[0]["kind"] == "message" and feed[0]["data"]["thread_id"] == thread
    assert teacher.post(f"/api/v1/threads/{thread}/messages", {"text": "Хорошо, на четыре."}).status == 201
    assert teacher.post(f"/api/v1/threads/{thread}/read").status == 200
    assert next(i for i in teacher.get("/api/v1/threads").json()["items"] if i["id"] == thread)["unread"] == 0
    msgs = parent.get(f"/api/v1/threads/{thread}").json()["messages"]
    assert [m["text"] for m in msgs] == ["Добрый день! Как Артём написал контрольную?", "Хорошо, на четыре."]
    # The child and other staff cannot read it, nor write into it.
    assert student.get(f"/api/v1/threads/{thread}").status == 404
    assert thread not in [i["id"] for i in student.get("/api/v1/threads").json()["items"]]
    assert node.login("classteacher").get(f"/api/v1/threads/{thread}").status == 404
    assert student.post(f"/api/v1/threads/{thread}/messages", {"text": "!"}).status == 404
    assert node.login("schooladmin").get("/api/v1/threads").status == 403
    assert parent.post(f"/api/v1/threads/{thread}/messages", {"text": ""}).status == 400


def test_who_may_write_to_whom(node):
    parent = node.login("parent")
    teacher = node.login("teacher")
    student = node.login("student")
    medic = node.login("medic")
    artem = student.user["student"]["id"]
    # A teacher and the student: allowed both ways.
    r = teacher.post("/api/v1/threads", {"student_id": artem, "with_id": artem, "title": "Проект",
                                         "text": "Принеси, пожалуйста, проект в среду."})
    assert r.status == 201 and r.json()["kind"] == "teacher_student"
    assert parent.get(f"/api/v1/threads/{r.json()['id']}").status == 404  # not a participant
    # A parent with a teacher who does not teach the child; with another parent; the medic.
    admin = node.login("admin")
    gym_teacher = admin.get("/api/v1/classes/6").json()["assignments"][0]["teacher"]["id"]
    assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": gym_teacher, "title": "x",
                                           "text": "x"}).status == 403
    assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": medic.user["person_id"],
                                           "title": "x", "text": "x"}).status == 403
    # About another family's child.
    other = admin.get(f"/api/v1/classes/{student.user['student']['class']['id']}/students").json()["items"]
    stranger_child = next(s["id"] for s in other if s["id"] != artem)
    assert parent.post("/api/v1/threads", {"student_id": stranger_child, "with_id": teacher.user["person_id"],
                                           "title": "x", "text": "x"}).status == 403
    assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": 999999, "title": "x",
                                           "text": "x"}).status == 404
    assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": parent.user["person_id"],
                                           "title": "x", "text": "x"}).status == 400
    assert node.client().get("/api/v1/threads").status == 401


def test_thread_list_pages(node):
    """The thread list comes a page at a time: `limit` threads after `before`, and `more` while
    others follow; never a list cut short without saying so."""
    parent = node.login("parent")
    teacher = node.login("teacher")
    artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
    for i in range(3):
        assert parent.post("/api/v1/threads", {"student_id": artem, "with_id": teacher.user["person_id"],
                                               "title": f"Страница {i}", "text": "?"}).status == 201
    everything = parent.get("/api/v1/threads").json()
    assert everything["more"] is False and len(everything["items"]) >= 3
    ids = [t["id"] for t in everything["items"]]
    first = parent.get("/api/v1/threads?limit=2").json()
    assert [t["id"] for t in first["items"]] == ids[:2] and first["more"] is True
    rest = parent.get(f"/api/v1/threads?limit=200&before={ids[1]}").json()
    assert [t["id"] for t in rest["items"]] == ids[2:] and rest["more"] is False
    last = parent.get(f"/api/v1/threads?before={ids[-1]}").json()
    assert last == {"items": [], "more": False}
    # Another's thread is no place to start from; bad limits are refused.
    mine_only = node.login("student").get(f"/api/v1/threads?before={ids[0]}").json()
    assert mine_only["items"] == []
    for q in ("limit=0", "limit=201", "before=0", "before=x"):
        assert parent.get(f"/api/v1/threads?{q}").status == 400, q

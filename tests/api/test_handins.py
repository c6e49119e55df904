"""Hand-ins both ways (node/journal/homework.c): the teacher's hand-ins page reads a homework's
hand-ins with the students who handed nothing in and their marks on the lesson, marks what it
shows as seen, and answers with feedback (seen too); the student withdraws a hand-in, answer and
files, only while the teacher has not seen it. And the planner's defaults (grid.c)."""
import datetime
import time

from conftest import Client


def code(r):
    return r.json()["error"]["code"]


def past_lessons(w):
    today = datetime.date.today().isoformat()
    return [l for l in w["lessons"] if l["date"] <= today and not l["cancelled"]]


def homework(node, w, index, text):
    lesson = past_lessons(w)[index]
    r = node.login("teacher").post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": text, "due_date": lesson["date"]})
    assert r.status == 201, r
    return lesson, r.json()["id"]


def upload(client, path, body, name):
    from urllib.parse import quote
    return client.request("POST", f"{path}?name={quote(name)}", raw=body, headers={"Content-Type": "text/plain"})


def classmate(node, w):
    """Another student of 5А with an activated account: a bearer client."""
    letters = node.login("admin").post(f"/api/v1/classes/{w['c5a']}/letters", {}).json()["items"]
    item = next(i for i in letters if i["role"] == "student" and i["login"] != "student")
    r = node.client().post("/api/v1/auth/activate", {"login": item["login"], "code": item["code"],
                                                      "password": "Klassmate-2026"})
    assert r.status == 200, r
    return Client(node.base, token=r.json()["token"])


def mine(teacher, hw, student):
    d = teacher.get(f"/api/v1/homework/{hw}/submissions").json()
    return next((s for s in d["items"] if s["student"]["id"] == student), None)


def diary_hw(client, w, lesson, hw):
    d = client.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    return next(h for day in d["days"] for l in day["lessons"] for h in l["homework"] if h["id"] == hw)


def test_withdraw_until_the_teacher_has_seen(node, w):
    teacher, student, parent = node.login("teacher"), node.login("student"), node.login("parent")
    lesson, hw = homework(node, w, 0, "Сдать и забрать")
    path = f"/api/v1/homework/{hw}/submission"
    assert student.request("PUT", path, body={"done": True, "text": "Черновик"}).status == 200
    f = upload(student, f"{path}/files", b"draft", "draft.txt")
    assert f.status == 201
    h = diary_hw(parent, w, lesson, hw)
    assert h["handed_in"] is True and h["seen"] is False
    # Nobody else withdraws it: a parent (role), a classmate (has none of their own).
    assert parent.delete(path).status == 403
    other = classmate(node, w)
    r = other.delete(path)
    assert r.status == 404 and code(r) == "not_found"
    assert node.login("teacher").delete(path).status == 403
    assert mine(teacher, hw, w["artem"])["text"] == "Черновик"
    # The student withdraws: answer, done and files gone.
    assert student.delete(path).status == 200
    assert mine(teacher, hw, w["artem"]) is None
    assert student.get(f"/api/v1/homework-files/{f.json()['id']}").status == 404
    h = diary_hw(student, w, lesson, hw)
    assert h["handed_in"] is False and h["done"] is False and h["answer"] == "" and h["files"] == []
    assert student.delete(path).status == 404
    # Handed in again, then seen by the teacher: no withdrawing, no removing its files.
    student.request("PUT", path, body={"text": "Окончательно"})
    f = upload(student, f"{path}/files", b"final", "final.txt").json()
    s = mine(teacher, hw, w["artem"])
    assert s["new"] is True and s["seen_at"] is None and [x["name"] for x in s["files"]] == ["final.txt"]
    assert w["artem"] not in [m["id"] for m in teacher.get(f"/api/v1/homework/{hw}/submissions").json()["missing"]]
    assert teacher.post(f"/api/v1/homework/{hw}/submissions/seen", {"students": [w["artem"]]}).json()["seen"] == 1
    s = mine(teacher, hw, w["artem"])
    assert s["new"] is False and s["seen_at"] is not None
    assert diary_hw(student, w, lesson, hw)["seen"] is True
    r = student.delete(path)
    assert r.status == 409 and code(r) == "seen"
    r = student.delete(f"/api/v1/homework-files/{f['id']}")
    assert r.status == 409 and code(r) == "seen"
    r = student.request("PUT", path, body={"text": ""})
    assert r.status == 409 and code(r) == "seen" and r.json()["error"]["field"] == "text"
    assert mine(teacher, hw, w["artem"])["text"] == "Окончательно"
    # A change after that (in a later second: times are whole seconds) is new to the teacher
    # again, and still seen.
    time.sleep(1.1)
    student.request("PUT", path, body={"text": "Исправлено"})
    s = mine(teacher, hw, w["artem"])
    assert s["new"] is True and s["seen_at"] is not None
    assert student.delete(path).status == 409


def test_seen_by_feedback_and_only_for_the_lesson_teacher(node, w):
    teacher, student, parent = node.login("teacher"), node.login("student"), node.login("parent")
    lesson, hw = homework(node, w, 1, "Отзыв и оценка")
    path = f"/api/v1/homework/{hw}/submission"
    student.request("PUT", path, body={"text": "Ответ: 12"})
    # Seen for some students only: others stay unseen.
    assert teacher.post(f"/api/v1/homework/{hw}/submissions/seen", {"students": [w["maria"]]}).json()["seen"] == 0
    assert mine(teacher, hw, w["artem"])["seen_at"] is None
    # Bad input names its field and changes nothing.
    r = teacher.request("PUT", f"/api/v1/homework/{hw}/submissions/{w['artem']}", body={"feedback": ""})
    assert r.status == 400 and r.json()["error"]["field"] == "feedback"
    r = teacher.post(f"/api/v1/homework/{hw}/submissions/seen", {"students": ["x"]})
    assert r.status == 400 and r.json()["error"]["field"] == "students"
    assert mine(teacher, hw, w["artem"])["seen_at"] is None
    # Not the lesson's teachers: the class teacher (another subject), the student, the parent.
    ct = node.login("classteacher")
    assert ct.get(f"/api/v1/homework/{hw}/submissions").status == 403
    assert ct.post(f"/api/v1/homework/{hw}/submissions/seen", {}).status == 403
    assert ct.request("PUT", f"/api/v1/homework/{hw}/submissions/{w['artem']}", body={"feedback": "Чужой"}).status == 403
    assert student.post(f"/api/v1/homework/{hw}/submissions/seen", {}).status == 403
    assert parent.get(f"/api/v1/homework/{hw}/submissions").status == 403
    assert mine(teacher, hw, w["artem"])["seen_at"] is None
    assert student.delete(path).status == 200  # still unseen: withdrawn
    student.request("PUT", path, body={"text": "Ответ: 12"})
    # Feedback makes it seen; a mark on the homework's lesson comes with it.
    assert teacher.request("PUT", f"/api/v1/homework/{hw}/submissions/{w['artem']}",
                           body={"feedback": "Верно"}).status == 200
    m = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks",
                     {"student_id": w["artem"], "value": "5", "control_form": "homework"})
    assert m.status == 201, m
    d = teacher.get(f"/api/v1/homework/{hw}/submissions").json()
    assert d["homework"]["lesson"]["id"] == lesson["id"] and d["homework"]["text"] == "Отзыв и оценка"
    assert d["homework"]["lesson"]["class"]["name"] == "5А" and d["homework"]["lesson"]["subject"]["name"] == "Математика"
    s = next(x for x in d["items"] if x["student"]["id"] == w["artem"])
    assert s["feedback"] == "Верно" and s["feedback_at"] and s["seen_at"]
    assert any(x["id"] == m.json()["id"] and x["value"] == "5" and x["control_form"]["code"] == "homework" for x in s["marks"])
    assert student.delete(path).status == 409
    h = diary_hw(parent, w, lesson, hw)
    assert h["seen"] is True and h["feedback"] == "Верно"


def test_teacher_of_another_class_cannot_see_hand_ins(node, w):
    """The class teacher teaches 5А and 5Б, not 9А: a 9А homework's hand-ins are not theirs."""
    teacher = node.login("teacher")
    a = {(x["class"]["name"], x["subject"]["name"]): x for x in teacher.user["assignments"]}
    algebra = a[("9А", "Алгебра")]
    today = datetime.date.today().isoformat()
    grid = teacher.get(f"/api/v1/journal?class={algebra['class']['id']}&subject={algebra['subject']['id']}"
                       f"&period={w['period']['id']}").json()
    lesson = next(l for l in grid["lessons"] if l["date"] <= today and not l["cancelled"])
    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "9А", "due_date": lesson["date"]}).json()["id"]
    ct = node.login("classteacher")
    assert ct.get(f"/api/v1/homework/{hw}/submissions").status == 403
    assert ct.post(f"/api/v1/homework/{hw}/submissions/seen", {}).status == 403
    assert ct.request("PUT", f"/api/v1/homework/{hw}/submissions/{w['maria']}", body={"feedback": "x"}).status == 403
    # Artem is not in 9А: he hands nothing in there and withdraws nothing.
    student = node.login("student")
    assert student.request("PUT", f"/api/v1/homework/{hw}/submission", body={"done": True}).status == 403
    assert student.delete(f"/api/v1/homework/{hw}/submission").status == 403
    assert node.client().delete(f"/api/v1/homework/{hw}/submission").status == 401


def test_plan_defaults_and_field_errors(node, w):
    student = node.login("student")
    q = f"/api/v1/students/{w['artem']}/plan?period={w['period']['id']}&subject={w['math']}"
    r = student.get(q + "&target=4.5")  # no form: oral
    assert r.status == 200, r
    assert r.json()["control_form"] == "oral" and r.json()["weight"] == 1
    r = student.get(q + "&target=4.5abc")
    assert r.status == 400 and r.json()["error"]["field"] == "target"
    r = student.get(q + "&target=4&form=poem")
    assert r.status == 400 and r.json()["error"]["field"] == "form"

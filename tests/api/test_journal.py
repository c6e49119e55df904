"""The journal and the diary: teachers write marks, attendance and homework only in their own
class and subject (a replacement only in that lesson); students and parents read only their
own; every change of a mark is kept for the school's admin; averages are weighted."""
import datetime

import pytest


def code(r):
    return r.json()["error"]["code"]


def lesson_of(node, w, subject):
    """A lesson of 5А in `subject` in the current period, seen through the admin."""
    admin = node.login("admin")
    grid = admin.get(f"/api/v1/journal?class={w['c5a']}&subject={subject}&period={w['period']['id']}").json()
    return next(l for l in grid["lessons"] if not l["cancelled"])


def test_teacher_puts_a_mark_parent_sees_it(node, w):
    teacher = node.login("teacher")
    lesson = w["lessons"][0]["id"]
    r = teacher.post(f"/api/v1/lessons/{lesson}/marks", {"student_id": w["artem"], "value": "5",
                     "control_form": "control", "comment": "Отлично решил задачи"})
    assert r.status == 201, r
    mark = r.json()
    assert mark["weight"] == 3 and mark["control_form"]["code"] == "control"
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").json()
    artem = next(s for s in grid["students"] if s["id"] == w["artem"])
    assert any(m["id"] == mark["id"] for m in artem["marks"])
    parent = node.login("parent")
    marks = parent.get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    math = next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    assert any(m["id"] == mark["id"] and m["comment"] == "Отлично решил задачи" for m in math["marks"])
    date = w["lessons"][0]["date"]
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={date}&to={date}").json()
    lessons = [l for d in diary["days"] for l in d["lessons"] if l["id"] == lesson]
    assert lessons and any(m["value"] == "5" for m in lessons[0]["marks"])
    assert lessons[0]["starts_at"] and lessons[0]["subject"]["name"] == "Математика"


def test_weighted_average(node, w):
    marks = node.login("student").get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    assert marks["subjects"]
    for s in marks["subjects"]:
        nums = [(int(m["value"]), m["weight"]) for m in s["marks"] if m["value"].isdigit()]
        if not nums:
            assert s["average"] is None
            continue
        expect = round(sum(v * k for v, k in nums) / sum(k for _, k in nums), 2)
        assert abs(s["average"] - expect) < 0.005, (s["subject"], s["average"], expect)


def test_mark_validation(node, w):
    teacher = node.login("teacher")
    lesson = w["lessons"][1]["id"]
    base = {"student_id": w["artem"], "value": "4", "control_form": "oral"}
    for bad in ({"value": "6"}, {"value": "abc"}, {"value": "1"}, {"control_form": "poem"},
                {"weight": 11}, {"extra": 1}):
        r = teacher.post(f"/api/v1/lessons/{lesson}/marks", dict(base, **bad))
        assert r.status == 400, (bad, r)
    other = next(s for s in node.login("admin").get(f"/api/v1/classes/{w['c5a']}/students").json()["items"])
    assert other  # sanity
    r = teacher.post(f"/api/v1/lessons/{lesson}/marks", dict(base, student_id=w["maria"]))  # 9А
    assert r.status == 400
    assert teacher.post(f"/api/v1/lessons/{lesson}/marks", dict(base, value="pass")).status == 201
    assert teacher.post("/api/v1/lessons/999999/marks", base).status == 404


def test_only_own_class_and_subject(node, w):
    rus_lesson = lesson_of(node, w, w["rus"])
    teacher = node.login("teacher")  # mathematics, not Russian
    r = teacher.post(f"/api/v1/lessons/{rus_lesson['id']}/marks",
                     {"student_id": w["artem"], "value": "4", "control_form": "oral"})
    assert r.status == 403 and code(r) == "forbidden"
    ct = node.login("classteacher")  # teaches Russian in 5А
    r = ct.post(f"/api/v1/lessons/{rus_lesson['id']}/marks",
                {"student_id": w["artem"], "value": "4", "control_form": "dictation"})
    assert r.status == 201
    assert ct.post(f"/api/v1/lessons/{w['lessons'][0]['id']}/marks",
                   {"student_id": w["artem"], "value": "4", "control_form": "oral"}).status == 403
    for login in ("student", "parent", "medic", "schooladmin", "admin"):
        r = node.login(login).post(f"/api/v1/lessons/{w['lessons'][0]['id']}/marks",
                                   {"student_id": w["artem"], "value": "3", "control_form": "oral"})
        assert r.status == 403, login


def test_mark_change_delete_and_trail(node, w):
    teacher = node.login("teacher")
    lesson = w["lessons"][2]["id"]
    m = teacher.post(f"/api/v1/lessons/{lesson}/marks", {"student_id": w["artem"], "value": "3",
                     "control_form": "oral"}).json()
    r = teacher.patch(f"/api/v1/marks/{m['id']}", {"value": "4", "control_form": "test"})
    assert r.status == 200 and r.json()["value"] == "4" and r.json()["weight"] == 2
    assert teacher.patch(f"/api/v1/marks/{m['id']}", {"value": "9"}).status == 400
    assert node.login("classteacher").patch(f"/api/v1/marks/{m['id']}", {"value": "5"}).status == 403
    assert teacher.delete(f"/api/v1/marks/{m['id']}").status == 200
    assert teacher.delete(f"/api/v1/marks/{m['id']}").status == 404
    trail = node.login("schooladmin").get(f"/api/v1/marks/{m['id']}/history")
    assert trail.status == 200
    items = trail.json()["items"]
    assert [i["action"] for i in items] == ["create", "update", "delete"]
    assert items[1]["old"]["value"] == "3" and items[1]["new"]["value"] == "4"
    assert items[2]["new"] is None and items[0]["by"]["name"] == "Смирнова Ольга Петровна"
    assert teacher.get(f"/api/v1/marks/{m['id']}/history").status == 403
    gym_admin_denied = node.login("parent").get(f"/api/v1/marks/{m['id']}/history")
    assert gym_admin_denied.status == 403


def test_attendance_and_homework(node, w):
    teacher = node.login("teacher")
    lesson = w["lessons"][3]
    r = teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                        body={"student_id": w["artem"], "status": "late"})
    assert r.status == 200
    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": w["artem"], "status": "asleep"}).status == 400
    h = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "№ 512, 514", "due_date": lesson["date"]})
    assert h.status == 201
    assert teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "", "due_date": lesson["date"]}).status == 400
    diary = node.login("student").get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    l = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert l["attendance"]["status"] == "late"
    assert any(x["text"] == "№ 512, 514" for x in l["homework"])
    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": w["artem"], "status": None}).status == 200
    diary = node.login("student").get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    l = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert "attendance" not in l
    rus = lesson_of(node, w, w["rus"])
    assert teacher.post(f"/api/v1/lessons/{rus['id']}/homework", {"text": "x", "due_date": rus["date"]}).status == 403


def test_journal_and_diary_denials(node, w):
    q = f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}"
    assert node.login("parent").get(q).status == 403
    assert node.login("student").get(q).status == 403
    assert node.login("classteacher").get(q).status == 200  # class teacher of 5А reads all subjects
    rusq = f"/api/v1/journal?class={w['c5a']}&subject={w['rus']}&period={w['period']['id']}"
    assert node.login("teacher").get(rusq).status == 403
    assert node.login("teacher").get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}").status == 400
    parent = node.login("parent")
    other = next(s["id"] for s in w["students"] if s["id"] != w["artem"])
    assert parent.get(f"/api/v1/students/{other}/diary").status == 403
    assert parent.get(f"/api/v1/students/{other}/marks?period={w['period']['id']}").status == 403
    assert parent.get(f"/api/v1/students/{w['artem']}/diary?from=2026-01-01&to=2026-03-01").status == 400
    assert parent.get(f"/api/v1/students/{w['artem']}/diary?from=2026-13-01").status == 400
    week = parent.get(f"/api/v1/students/{w['maria']}/diary")
    assert week.status == 200 and week.json()["from"] <= week.json()["to"]
    assert node.client().get(f"/api/v1/students/{w['artem']}/diary").status == 401


def test_lesson_topic_cancel_and_replacement(node, w):
    teacher = node.login("teacher")
    sa = node.login("schooladmin")
    lesson = w["lessons"][4]
    assert teacher.patch(f"/api/v1/lessons/{lesson['id']}", {"topic": "Дроби"}).status == 200
    assert teacher.patch(f"/api/v1/lessons/{lesson['id']}", {"cancelled": True}).status == 403
    assert node.login("classteacher").patch(f"/api/v1/lessons/{lesson['id']}", {"topic": "x"}).status == 403
    # A replacement teacher writes in that lesson only.
    ct = node.login("classteacher")
    ct_id = ct.user["person_id"]
    assert sa.patch(f"/api/v1/lessons/{lesson['id']}", {"replacement_id": ct_id}).status == 200
    assert ct.post(f"/api/v1/lessons/{lesson['id']}/marks", {"student_id": w["artem"], "value": "5",
                   "control_form": "oral"}).status == 201
    assert ct.post(f"/api/v1/lessons/{w['lessons'][5]['id']}/marks", {"student_id": w["artem"],
                   "value": "5", "control_form": "oral"}).status == 403
    date = lesson["date"]
    diary = node.login("student").get(f"/api/v1/students/{w['artem']}/diary?from={date}&to={date}").json()
    l = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert l["teacher"]["name"] == "Кузнецова Марина Игоревна" and l["topic"] == "Дроби"
    assert sa.patch(f"/api/v1/lessons/{lesson['id']}", {"cancelled": True}).status == 200
    r = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks", {"student_id": w["artem"], "value": "4",
                     "control_form": "oral"})
    assert r.status == 409
    audit = sa.get("/api/v1/audit").json()["items"]
    assert any(i["action"] == "lesson.update" for i in audit)


def test_timetable_and_lesson_generation(node, w):
    sa = node.login("schooladmin")
    teacher_id = node.login("teacher").user["person_id"]
    c = sa.post("/api/v1/institutions/1/classes", {"year_id": w["year_id"], "grade": 8, "letter": "В"}).json()
    entries = [{"weekday": d, "number": n, "subject_id": w["math"], "teacher_id": teacher_id, "room": "21"}
               for d in (1, 3, 5) for n in (1, 2)]
    r = sa.request("PUT", f"/api/v1/classes/{c['id']}/timetable", body={"entries": entries})
    assert r.status == 200 and r.json()["entries"] == 6
    tt = sa.get(f"/api/v1/classes/{c['id']}/timetable").json()["entries"]
    assert len(tt) == 6 and tt[0]["subject"]["name"] == "Математика"
    bad = dict(entries[0], weekday=7)
    assert sa.request("PUT", f"/api/v1/classes/{c['id']}/timetable", body={"entries": [bad]}).status == 400
    dup = [entries[0], entries[0]]
    assert sa.request("PUT", f"/api/v1/classes/{c['id']}/timetable", body={"entries": dup}).status == 409
    assert len(sa.get(f"/api/v1/classes/{c['id']}/timetable").json()["entries"]) == 6  # unchanged
    p3 = next(p for p in w["periods"] if p["number"] == 3)
    g = sa.post(f"/api/v1/classes/{c['id']}/lessons", {"period_id": p3["id"]})
    assert g.status == 201 and g.json()["created"] > 20
    again = sa.post(f"/api/v1/classes/{c['id']}/lessons", {"period_id": p3["id"]})
    assert again.json()["created"] == 0  # nothing twice
    # The teacher has no assignment in 8В; the class's school admin reads the grid.
    grid = sa.get(f"/api/v1/journal?class={c['id']}&subject={w['math']}&period={p3['id']}").json()
    dates = {l["date"] for l in grid["lessons"]}
    year2 = p3["starts_on"][:4]
    assert f"{year2}-02-23" not in dates and f"{year2}-03-08" not in dates
    for d in dates:
        assert datetime.date.fromisoformat(d).isoweekday() in (1, 3, 5)
    assert len(grid["lessons"]) == g.json()["created"]
    # Denials: another school, a teacher.
    assert sa.request("PUT", "/api/v1/classes/6/timetable", body={"entries": []}).status == 403
    assert node.login("teacher").request("PUT", f"/api/v1/classes/{c['id']}/timetable",
                                         body={"entries": []}).status == 403
    bells = sa.request("PUT", "/api/v1/institutions/1/bells", body={"bells": [
        {"number": 1, "starts_at": "08:00", "ends_at": "08:45"}]})
    assert bells.status == 200
    assert sa.request("PUT", "/api/v1/institutions/1/bells", body={"bells": [
        {"number": 1, "starts_at": "09:00", "ends_at": "08:45"}]}).status == 400
    assert sa.request("PUT", "/api/v1/institutions/2/bells", body={"bells": []}).status == 403
    assert sa.get("/api/v1/institutions/1/bells").json()["bells"][0]["starts_at"] == "08:00"


def test_period_and_final_marks(node, w):
    teacher = node.login("teacher")
    body = {"student_id": w["artem"], "subject_id": w["math"], "period_id": w["period"]["id"], "value": "5"}
    assert teacher.request("PUT", "/api/v1/period-marks", body=body).status == 200
    final = dict(body, period_id=None, value="4")
    assert teacher.request("PUT", "/api/v1/period-marks", body=final).status == 200
    marks = node.login("parent").get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    math = next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    assert math["period_mark"] == "5" and math["final_mark"] == "4"
    # Changing is an update, not a second mark.
    assert teacher.request("PUT", "/api/v1/period-marks", body=dict(body, value="4")).status == 200
    marks = node.login("parent").get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    assert next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])["period_mark"] == "4"
    # Denials and bad input.
    assert node.login("classteacher").request("PUT", "/api/v1/period-marks", body=body).status == 403
    assert node.login("parent").request("PUT", "/api/v1/period-marks", body=body).status == 403
    assert teacher.request("PUT", "/api/v1/period-marks", body=dict(body, value="7")).status == 400
    assert teacher.request("PUT", "/api/v1/period-marks", body=dict(body, student_id=999999)).status == 404
    r = teacher.request("PUT", "/api/v1/period-marks", body=dict(body, value="7"))
    assert code(r) == "bad_request" and r.json()["error"]["field"] == "value"
    # The teacher's grid shows them: this period's, the year's by period, the final one.
    q = f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}"
    grid = teacher.get(q).json()
    artem = next(s for s in grid["students"] if s["id"] == w["artem"])
    assert artem["period_mark"] == "4" and artem["final_mark"] == "4"
    assert {"period_id": w["period"]["id"], "value": "4"} in artem["period_marks"]
    other = next(s for s in grid["students"] if s["id"] != w["artem"])
    assert other["period_mark"] is None and other["final_mark"] is None
    last = max(w["periods"], key=lambda p: p["number"])
    assert grid["period"]["last"] is (w["period"]["id"] == last["id"])
    g4 = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={last['id']}").json()
    assert g4["period"]["last"] is True
    a4 = next(s for s in g4["students"] if s["id"] == w["artem"])
    assert a4["final_mark"] == "4"
    if last["id"] != w["period"]["id"]:
        assert a4["period_mark"] is None  # another period's grid
    # Removing.
    assert teacher.request("PUT", "/api/v1/period-marks", body=dict(final, value=None)).status == 200
    marks = node.login("parent").get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    assert "final_mark" not in next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    assert next(s for s in teacher.get(q).json()["students"] if s["id"] == w["artem"])["final_mark"] is None


def test_what_do_i_need(node, w):
    student = node.login("student")
    q = f"/api/v1/students/{w['artem']}/plan?period={w['period']['id']}&subject={w['math']}"
    r = student.get(q + "&target=4.5&form=control")
    assert r.status == 200, r
    plan = r.json()
    assert plan["weight"] == 3
    marks = student.get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    math = next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    nums = [(int(m["value"]), m["weight"]) for m in math["marks"] if m["value"].isdigit()]
    S, W = sum(v * k for v, k in nums), sum(k for _, k in nums)
    five = next(o for o in plan["options"] if o["value"] == "5")
    n = five["count"]
    # n fives of weight 3 reach the target, n - 1 do not.
    assert (S + 15 * n) / (W + 3 * n) >= 4.5 - 1e-9
    if n > 0 and W:
        assert (S + 15 * (n - 1)) / (W + 3 * (n - 1)) < 4.5
    assert all(o["value"] in ("5",) for o in plan["options"])  # only marks above the target help
    assert student.get(q + "&target=6").status == 400
    assert student.get(q + "&target=4&form=poem").status == 400
    other = next(s["id"] for s in w["students"] if s["id"] != w["artem"])
    assert node.login("parent").get(f"/api/v1/students/{other}/plan?period={w['period']['id']}&subject={w['math']}&target=4").status == 403


def test_calendar_thematic_plan(node, w):
    teacher = node.login("teacher")
    q = f"/api/v1/plans?class={w['c5a']}&subject={w['math']}"
    csv = "№;Тема;Часы\n1;Натуральные числа;2\n2;\"Дроби; обыкновенные\";3\n3;Десятичные дроби;100\n"
    r = teacher.request("PUT", q, body={"csv": csv})
    assert r.status == 400 and code(r) == "bad_csv"
    assert "line 4" in r.json()["error"]["message"]
    assert teacher.get(q).json()["topics"] == []  # nothing changed
    csv = "№;Тема;Часы\n1;Натуральные числа;2\n2;\"Дроби; обыкновенные\";3\n3;Десятичные дроби;4\n"
    r = teacher.request("PUT", q, body={"csv": csv})
    assert r.status == 200 and r.json()["topics"] == 3
    plan = teacher.get(q).json()["topics"]
    assert [t["title"] for t in plan] == ["Натуральные числа", "Дроби; обыкновенные", "Десятичные дроби"]
    # Lessons of the year take the topics in order: the first two the first topic, and so on,
    # except lessons whose topic the teacher wrote (one was, earlier in this module).
    admin = node.login("admin")
    first = next(p for p in w["periods"] if p["number"] == 1)
    lessons = admin.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={first['id']}").json()["lessons"]
    live = [l for l in lessons if not l["cancelled"]]
    assert [l["topic"] for l in live[:6]] == ["Натуральные числа"] * 2 + ["Дроби; обыкновенные"] * 3 + ["Десятичные дроби"]
    assert plan[0]["lessons"] == 2 and plan[1]["lessons"] == 3
    # JSON entry works too; a teacher of another subject cannot.
    r = teacher.request("PUT", q, body={"topics": [{"title": "Повторение", "hours": 1}]})
    assert r.status == 200
    assert live and admin.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={first['id']}").json()["lessons"][0]["topic"] == "Повторение"
    rq = f"/api/v1/plans?class={w['c5a']}&subject={w['rus']}"
    assert teacher.request("PUT", rq, body={"topics": [{"title": "x"}]}).status == 403
    assert node.login("parent").get(q).status == 403
    assert teacher.request("PUT", q, body={"topics": [{"title": "", "hours": 1}]}).status == 400
    assert teacher.request("PUT", q, body={"topics": [], "csv": "a;1"}).status == 400


def test_absence_notice_justifies(node, w):
    teacher = node.login("teacher")
    parent = node.login("parent")
    lesson = w["lessons"][6]
    r = teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                        body={"student_id": w["artem"], "status": "absent"})
    assert r.status == 200 and r.json()["justified"] is False
    n = parent.post(f"/api/v1/students/{w['artem']}/absence-notices",
                    {"from": lesson["date"], "to": lesson["date"], "reason": "Семейные обстоятельства"})
    assert n.status == 201 and n.json()["justified"] >= 1
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    l = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert l["attendance"] == {"status": "absent", "justified": True}
    # Marked after the notice, in its range: justified at once.
    n2 = parent.post(f"/api/v1/students/{w['artem']}/absence-notices",
                     {"from": w["lessons"][7]["date"], "to": w["lessons"][7]["date"], "reason": "Болезнь"})
    assert n2.status == 201
    r = teacher.request("PUT", f"/api/v1/lessons/{w['lessons'][7]['id']}/attendance",
                        body={"student_id": w["artem"], "status": "ill"})
    assert r.json()["justified"] is True
    # Who sees notices, who may send them.
    ct = node.login("classteacher")
    items = ct.get(f"/api/v1/classes/{w['c5a']}/absence-notices").json()["items"]
    assert any(i["reason"] == "Семейные обстоятельства" and i["by"]["name"] == "Иванова Елена Викторовна" for i in items)
    assert teacher.get(f"/api/v1/students/{w['artem']}/absence-notices").status == 200
    assert parent.get(f"/api/v1/classes/{w['c5a']}/absence-notices").status == 403
    other = next(s["id"] for s in w["students"] if s["id"] != w["artem"])
    assert parent.post(f"/api/v1/students/{other}/absence-notices",
                       {"from": "2026-11-01", "to": "2026-11-02", "reason": "x"}).status == 403
    assert parent.post(f"/api/v1/students/{w['artem']}/absence-notices",
                       {"from": "2026-11-05", "to": "2026-11-01", "reason": "x"}).status == 400
    assert node.login("student").post(f"/api/v1/students/{w['artem']}/absence-notices",
                                      {"from": "2026-11-01", "to": "2026-11-01", "reason": "x"}).status == 403


def test_medical_note_justifies(node, w):
    teacher, medic = node.login("teacher"), node.login("medic")
    lesson = w["lessons"][5]  # taken place: no absence is put on a future lesson
    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": w["artem"], "status": "ill"}).json()["justified"] is False
    r = medic.post(f"/api/v1/students/{w['artem']}/medical-notes",
                   {"from": lesson["date"], "to": lesson["date"], "reason": "ОРВИ, справка поликлиники"})
    assert r.status == 201, r
    assert r.json()["kind"] == "medical" and r.json()["justified"] >= 1
    diary = node.login("parent").get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    l = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert l["attendance"] == {"status": "ill", "justified": True}
    items = node.login("classteacher").get(f"/api/v1/classes/{w['c5a']}/absence-notices").json()["items"]
    assert any(i["kind"] == "medical" and i["reason"] == "ОРВИ, справка поликлиники" for i in items)
    # Only a medic, and only of the student's own school; bad input changes nothing.
    body = {"from": lesson["date"], "to": lesson["date"], "reason": "x"}
    assert node.login("parent").post(f"/api/v1/students/{w['artem']}/medical-notes", body).status == 403
    assert teacher.post(f"/api/v1/students/{w['artem']}/medical-notes", body).status == 403
    admin = node.login("admin")
    schools = admin.get("/api/v1/institutions").json()["items"]
    mine = admin.get(f"/api/v1/classes/{w['c5a']}").json()["institution_id"]
    other_school = next(s["id"] for s in schools if s["id"] != mine and s["students"] > 0)
    cls = admin.get(f"/api/v1/institutions/{other_school}/classes").json()["items"][0]
    stranger = admin.get(f"/api/v1/classes/{cls['id']}/students").json()["items"][0]["id"]
    assert medic.post(f"/api/v1/students/{stranger}/medical-notes", body).status == 403
    # The medic finds students through the classes of their own school only.
    assert medic.get(f"/api/v1/classes/{w['c5a']}/students").status == 200
    assert medic.get(f"/api/v1/classes/{cls['id']}/students").status == 403
    assert medic.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").status == 403
    assert medic.post(f"/api/v1/students/{w['artem']}/medical-notes", dict(body, to="2000-01-01")).status == 400
    n = len(node.login("classteacher").get(f"/api/v1/classes/{w['c5a']}/absence-notices").json()["items"])
    assert n == len(items)


def test_concurrent_marks_group_commit(node, w):
    """Many teachers' writes at once: every 201 is in the journal, every refusal changed
    nothing, and the writes shared transactions."""
    import threading
    teacher = node.login("teacher")
    lesson = w["lessons"][8]["id"]
    kids = [s["id"] for s in w["students"]]
    before = node.client().get("/metrics").body.decode()
    results = []

    def put(i):
        body = {"student_id": kids[i % len(kids)], "value": str(2 + i % 4), "control_form": "oral",
                "comment": f"поток {i}"}
        if i % 7 == 0:
            body["control_form"] = "nonsense"  # refused
        results.append((i, teacher.post(f"/api/v1/lessons/{lesson}/marks", body).status))

    threads = [threading.Thread(target=put, args=(i,)) for i in range(42)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = {i for i, status in results if status == 201}
    assert len(results) == 42
    assert ok == {i for i in range(42) if i % 7}
    assert all(status == 400 for i, status in results if i % 7 == 0)
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").json()
    comments = {m["comment"] for s in grid["students"] for m in s["marks"] if m["lesson_id"] == lesson}
    assert {f"поток {i}" for i in ok} <= comments
    assert not any(f"поток {i}" in comments for i in range(0, 42, 7))
    after = node.client().get("/metrics").body.decode()

    def value(text, name):
        return int(next(l.split()[1] for l in text.splitlines() if l.startswith(name + " ")))
    done = value(after, "mes_writer_requests_total") - value(before, "mes_writer_requests_total")
    assert done >= 42


def test_notifications(node, w):
    teacher = node.login("teacher")
    parent = node.login("parent")
    student = node.login("student")
    lesson = w["lessons"][8]  # taken place: no mark is put on a future lesson
    before = parent.get("/api/v1/notifications").json()["unread"]
    m = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks", {"student_id": w["artem"], "value": "4",
                     "control_form": "test", "comment": "Хорошо"}).json()
    feed = parent.get("/api/v1/notifications").json()
    assert feed["unread"] == before + 1
    n = feed["items"][0]
    assert n["kind"] == "mark" and n["read"] is False
    assert n["data"]["value"] == "4" and n["data"]["subject"] == "Математика" and n["data"]["mark_id"] == m["id"]
    assert n["student"]["name"] == "Иванов Артём Сергеевич"
    assert student.get("/api/v1/notifications").json()["items"][0]["data"]["mark_id"] == m["id"]
    teacher.patch(f"/api/v1/marks/{m['id']}", {"value": "5"})
    changed = parent.get("/api/v1/notifications").json()["items"][0]
    assert changed["kind"] == "mark_changed" and changed["data"]["old"] == "4" and changed["data"]["value"] == "5"
    # Another family hears nothing of it; nobody marks another's notifications read.
    other = node.login("admin").post("/api/v1/persons", {"last_name": "Чужой", "first_name": "Родитель",
        "account": {"login": "stranger", "password": "stranger-pass", "roles": [{"role": "parent"}]}})
    assert other.status == 201
    stranger = node.login("stranger", "stranger-pass")
    assert stranger.get("/api/v1/notifications").json()["items"] == []
    assert stranger.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json()["read"] == 0
    assert parent.get("/api/v1/notifications").json()["items"][1]["read"] is False
    # Reading.
    assert parent.post("/api/v1/notifications/read", {"ids": [n["id"]]}).json()["read"] == 1
    assert parent.get("/api/v1/notifications?unread=1").json()["unread"] == before + 1  # the change
    assert parent.post("/api/v1/notifications/read", {"all": True}).json()["read"] >= 1
    assert parent.get("/api/v1/notifications").json()["unread"] == 0
    assert parent.post("/api/v1/notifications/read", {}).status == 400
    assert parent.get("/api/v1/notifications?limit=0").status == 400
    # Homework reaches every family of the class; a parent's notice reaches the class teacher.
    teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Задачи 1-5", "due_date": lesson["date"]})
    hw = parent.get("/api/v1/notifications?unread=1").json()["items"]
    assert any(i["kind"] == "homework" and i["data"]["text"] == "Задачи 1-5" for i in hw)
    assert any(i["kind"] == "homework" for i in student.get("/api/v1/notifications").json()["items"])
    parent.post(f"/api/v1/students/{w['artem']}/absence-notices", {"from": lesson["date"], "to": lesson["date"],
                "reason": "Поездка"})
    ct = node.login("classteacher").get("/api/v1/notifications").json()["items"]
    assert any(i["kind"] == "absence_notice" and i["data"]["reason"] == "Поездка" for i in ct)
    assert node.client().get("/api/v1/notifications").status == 401


def test_homework_hand_in_and_feedback(node, w):
    teacher = node.login("teacher")
    student = node.login("student")
    parent = node.login("parent")
    lesson = w["lessons"][10]
    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Задача 7", "due_date": lesson["date"]}).json()
    r = student.request("PUT", f"/api/v1/homework/{hw['id']}/submission", body={"done": True, "text": "Ответ: 42"})
    assert r.status == 200
    subs = teacher.get(f"/api/v1/homework/{hw['id']}/submissions").json()["items"]
    mine = next(s for s in subs if s["student"]["id"] == w["artem"])
    assert mine["done"] is True and mine["text"] == "Ответ: 42"
    assert teacher.request("PUT", f"/api/v1/homework/{hw['id']}/submissions/{w['artem']}",
                           body={"feedback": "Верно, молодец"}).status == 200
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    h = next(x for d in diary["days"] for l in d["lessons"] for x in l["homework"] if x["id"] == hw["id"])
    assert h["done"] is True and h["answer"] == "Ответ: 42" and h["feedback"] == "Верно, молодец"
    # Only the student hands in; only the lesson's teachers read hand-ins and answer.
    assert parent.request("PUT", f"/api/v1/homework/{hw['id']}/submission", body={"done": True}).status == 403
    assert node.login("classteacher").get(f"/api/v1/homework/{hw['id']}/submissions").status == 403
    assert student.get(f"/api/v1/homework/{hw['id']}/submissions").status == 403
    assert teacher.request("PUT", f"/api/v1/homework/{hw['id']}/submissions/{w['maria']}",
                           body={"feedback": "x"}).status == 404
    assert student.request("PUT", "/api/v1/homework/999999/submission", body={"done": True}).status == 404
    assert student.request("PUT", f"/api/v1/homework/{hw['id']}/submission", body={}).status == 400
    # Undo "done" keeps the answer.
    student.request("PUT", f"/api/v1/homework/{hw['id']}/submission", body={"done": False})
    subs = teacher.get(f"/api/v1/homework/{hw['id']}/submissions").json()["items"]
    mine = next(s for s in subs if s["student"]["id"] == w["artem"])
    assert mine["done"] is False and mine["text"] == "Ответ: 42"


def test_homework_due_list(node, w):
    teacher, student, parent = node.login("teacher"), node.login("student"), node.login("parent")
    lesson = w["lessons"][4]
    due = (datetime.date.fromisoformat(lesson["date"]) + datetime.timedelta(days=2)).isoformat()
    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Список: № 7", "due_date": due}).json()
    q = f"/api/v1/students/{w['artem']}/homework?from={due}&to={due}"
    items = parent.get(q).json()["items"]
    mine = next(i for i in items if i["id"] == hw["id"])
    assert mine["due_date"] == due and mine["lesson"]["id"] == lesson["id"]
    assert mine["lesson"]["subject"]["name"] == "Математика" and mine["done"] is False
    assert all(i["due_date"] == due for i in items)
    assert student.request("PUT", f"/api/v1/homework/{hw['id']}/submission", body={"done": True}).status == 200
    assert next(i for i in student.get(q).json()["items"] if i["id"] == hw["id"])["done"] is True
    # Outside the range: not listed; the default is two weeks from today.
    later = (datetime.date.fromisoformat(due) + datetime.timedelta(days=1)).isoformat()
    assert all(i["id"] != hw["id"] for i in parent.get(f"/api/v1/students/{w['artem']}/homework?from={later}&to={later}").json()["items"])
    week = parent.get(f"/api/v1/students/{w['artem']}/homework").json()
    assert week["from"] == datetime.date.today().isoformat()
    # Denials and bad input.
    other = next(s["id"] for s in w["students"] if s["id"] != w["artem"])
    assert parent.get(f"/api/v1/students/{other}/homework").status == 403
    assert node.login("medic").get(f"/api/v1/students/{other}/homework").status == 200  # the school's medic
    assert parent.get(f"/api/v1/students/{w['artem']}/homework?from=2026-01-01&to=2026-06-01").status == 400
    assert parent.get(f"/api/v1/students/{w['artem']}/homework?from=2026-02-30").status == 400


def test_attendance_counts_per_period(node, w):
    teacher, parent = node.login("teacher"), node.login("parent")
    q = f"/api/v1/students/{w['maria']}/marks?period={w['period']['id']}"
    before = parent.get(q).json()["attendance"]
    algebra = next(a for a in teacher.user["assignments"] if a["class"]["name"] == "9А" and a["subject"]["name"] == "Алгебра")
    grid = teacher.get(f"/api/v1/journal?class={algebra['class']['id']}&subject={algebra['subject']['id']}"
                       f"&period={w['period']['id']}").json()
    marked = {a["lesson_id"] for s in grid["students"] if s["id"] == w["maria"] for a in s["attendance"]}
    lessons = [l for l in grid["lessons"] if not l["cancelled"] and l["id"] not in marked][:3]
    assert len(lessons) == 3
    for l, status in zip(lessons, ("absent", "late", "ill")):
        r = teacher.request("PUT", f"/api/v1/lessons/{l['id']}/attendance", body={"student_id": w["maria"], "status": status})
        assert r.status == 200, r
    after = parent.get(q).json()
    total = after["attendance"]
    assert total["absent"] == before["absent"] + 1 and total["late"] == before["late"] + 1
    assert total["ill"] == before["ill"] + 1 and total["unjustified"] == before["unjustified"] + 2
    sub = next(s for s in after["subjects"] if s["subject"]["id"] == algebra["subject"]["id"])
    assert sub["attendance"]["absent"] >= 1 and sub["attendance"]["late"] >= 1 and sub["attendance"]["ill"] >= 1


def future_lesson(node, w):
    """A lesson of 5А in mathematics dated after today: of the current period, else of a later
    one (its lessons made by the school's admin)."""
    today = datetime.date.today().isoformat()
    later = [l for l in w["lessons"] if l["date"] > today and not l["cancelled"]]
    if later:
        return later[0]
    sa = node.login("schooladmin")
    for p in sorted(w["periods"], key=lambda p: p["number"]):
        if p["starts_on"] > today:
            sa.post(f"/api/v1/classes/{w['c5a']}/lessons", {"period_id": p["id"]})
            grid = sa.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={p['id']}").json()
            return next(l for l in grid["lessons"] if not l["cancelled"])
    pytest.skip("no lesson after today in this academic year")


def test_no_marks_or_attendance_on_future_lessons(node, w):
    teacher = node.login("teacher")
    lesson = future_lesson(node, w)
    mark = {"student_id": w["artem"], "value": "5", "control_form": "oral"}
    r = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks", mark)
    assert r.status == 409 and code(r) == "future_lesson", r
    r = teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                        body={"student_id": w["artem"], "status": "absent"})
    assert r.status == 409 and code(r) == "future_lesson", r
    # Clearing an entry stays possible; nothing was written.
    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": w["artem"], "status": None}).status == 200
    period = next(p for p in w["periods"] if p["starts_on"] <= lesson["date"] <= p["ends_on"])
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={period['id']}").json()
    for s in grid["students"]:
        assert not any(m["lesson_id"] == lesson["id"] for m in s["marks"])
        assert not any(a["lesson_id"] == lesson["id"] for a in s["attendance"])
    # Who may not write at all is told so first (403, not 409).
    for login in ("classteacher", "parent", "student", "schooladmin"):
        assert node.login(login).post(f"/api/v1/lessons/{lesson['id']}/marks", mark).status == 403, login
    # Today's and past lessons take marks; a mark there cannot be moved into the future, and
    # changing one of the past stays possible.
    today = datetime.date.today().isoformat()
    past = [l for l in w["lessons"] if l["date"] <= today and not l["cancelled"]]
    assert past, "no lesson has taken place in this period yet"
    r = teacher.post(f"/api/v1/lessons/{past[-1]['id']}/marks", mark)
    assert r.status == 201, r
    assert teacher.patch(f"/api/v1/marks/{r.json()['id']}", {"value": "4"}).json()["value"] == "4"
    # A cancelled lesson is its own refusal.
    sa = node.login("schooladmin")
    assert sa.patch(f"/api/v1/lessons/{lesson['id']}", {"cancelled": True}).status == 200
    r = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks", mark)
    assert r.status == 409 and code(r) == "lesson_cancelled"
    assert sa.patch(f"/api/v1/lessons/{lesson['id']}", {"cancelled": False}).status == 200


def test_the_demo_has_no_marks_on_future_lessons(node, w):
    today = datetime.date.today().isoformat()
    teacher = node.login("teacher")
    for a in teacher.user["assignments"]:
        grid = teacher.get(f"/api/v1/journal?class={a['class']['id']}&subject={a['subject']['id']}"
                           f"&period={w['period']['id']}").json()
        future = {l["id"] for l in grid["lessons"] if l["date"] > today}
        for s in grid["students"]:
            assert not [m for m in s["marks"] if m["lesson_id"] in future], (a, s["name"])
            assert not [x for x in s["attendance"] if x["lesson_id"] in future], (a, s["name"])


def test_mark_errors_name_their_field(node, w):
    teacher = node.login("teacher")
    lesson = w["lessons"][1]["id"]
    base = {"student_id": w["artem"], "value": "4", "control_form": "oral"}
    for bad, field in (({"value": "6"}, "value"), ({"control_form": "poem"}, "control_form"),
                       ({"weight": 11}, "weight"), ({"comment": "x" * 1001}, "comment"),
                       ({"student_id": w["maria"]}, "student_id")):
        r = teacher.post(f"/api/v1/lessons/{lesson}/marks", dict(base, **bad))
        assert r.status == 400 and code(r) == "bad_request", (bad, r)
        assert r.json()["error"]["field"] == field, (bad, r)
    r = teacher.request("PUT", f"/api/v1/lessons/{lesson}/attendance",
                        body={"student_id": w["artem"], "status": "asleep"})
    assert r.status == 400 and r.json()["error"]["field"] == "status"
    m = teacher.post(f"/api/v1/lessons/{lesson}/marks", base).json()
    r = teacher.patch(f"/api/v1/marks/{m['id']}", {"value": "0"})
    assert r.status == 400 and r.json()["error"]["field"] == "value"

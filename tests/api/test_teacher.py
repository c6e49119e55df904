"""The teacher's day (node/journal/day.c), the class teacher's summary of a class
(node/journal/summary.c) and the calendar-thematic plan as the plan editor uses it
(node/journal/plan.c): what each answers, checked against the journal's own answers, and who
is refused."""
import datetime

import pytest


def code(r):
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def ids(node, w):
    admin = node.login("admin")
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    # A school admin of another school.
    r = admin.post("/api/v1/persons", {"last_name": "Другая", "first_name": "Админ", "account": {
        "login": "sadmin-gym", "password": "second-admin-pass", "roles": [
            {"role": "school_admin", "institution_id": schools["Гимназия № 2"]}]}})
    assert r.status == 201, r
    teacher = node.login("teacher")
    a = {(x["class"]["name"], x["subject"]["name"]): x for x in teacher.user["assignments"]}
    return {"teacher": teacher.user["person_id"], "ct": node.login("classteacher").user["person_id"],
            "c5b": a[("5Б", "Математика")]["class"]["id"]}


_admins = {}


def grid(node, w, class_id, subject, period=None):
    if node not in _admins:
        _admins[node] = node.login("admin")
    return _admins[node].get(
        f"/api/v1/journal?class={class_id}&subject={subject}&period={period or w['period']['id']}").json()


def day(client, date):
    r = client.get(f"/api/v1/teachers/me/lessons?date={date}")
    assert r.status == 200, r
    return r.json()


# ---- the teacher's day ------------------------------------------------------------------------

def test_day_lists_the_teachers_lessons_in_bell_order(node, w, ids):
    teacher = node.login("teacher")
    g = grid(node, w, w["c5a"], w["math"])
    lesson = next(l for l in g["lessons"] if not l["cancelled"] and l["date"] <= datetime.date.today().isoformat())
    d = day(teacher, lesson["date"])
    assert d["date"] == lesson["date"]
    numbers = [l["number"] for l in d["lessons"]]
    assert numbers == sorted(numbers) and d["lessons"]
    assert all(l["role"] == "own" and l["teacher"]["id"] == ids["teacher"] for l in d["lessons"])
    mine = next(l for l in d["lessons"] if l["id"] == lesson["id"])
    assert mine["class"]["name"] == "5А" and mine["subject"]["name"] == "Математика"
    assert mine["period_id"] == w["period"]["id"] and mine["topic"] == lesson["topic"]
    assert mine["starts_at"] and mine["ends_at"] and mine["starts_at"] < mine["ends_at"]
    # Marks, attendance and homework as the journal has them.
    marks = sum(1 for s in g["students"] for m in s["marks"] if m["lesson_id"] == lesson["id"])
    absences = sum(1 for s in g["students"] for a in s["attendance"] if a["lesson_id"] == lesson["id"])
    assert mine["marks"] == marks and mine["attendance"] == absences
    assert [h["text"] for h in mine["homework"]] == [h["text"] for h in lesson["homework"]]
    # Every lesson of the teacher that date, and nothing else: the grids of all their classes.
    expected = set()
    for a in teacher.user["assignments"]:
        expected |= {l["id"] for l in grid(node, w, a["class"]["id"], a["subject"]["id"])["lessons"]
                     if l["date"] == lesson["date"]}
    assert {l["id"] for l in d["lessons"]} == expected
    # Homework set now shows at once.
    h = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "№ 7 и 8", "due_date": lesson["date"]})
    assert h.status == 201
    mine = next(l for l in day(teacher, lesson["date"])["lessons"] if l["id"] == lesson["id"])
    assert "№ 7 и 8" in [x["text"] for x in mine["homework"]]


def test_day_arrows_find_the_nearest_days_with_lessons(node, w):
    teacher = node.login("teacher")
    dates = sorted({l["date"] for l in grid(node, w, w["c5a"], w["math"])["lessons"]})
    # A Sunday between two lessons of the teacher has none, and points to both sides.
    first = datetime.date.fromisoformat(dates[0])
    sunday = first + datetime.timedelta(days=6 - first.weekday())
    d = day(teacher, sunday.isoformat())
    assert d["lessons"] == []
    assert d["previous"] and d["previous"] < sunday.isoformat()
    assert d["next"] and d["next"] > sunday.isoformat()
    assert day(teacher, d["next"])["lessons"], "the next day has lessons"
    assert day(teacher, d["previous"])["lessons"], "the previous day has lessons"
    # Without a date: today.
    r = teacher.get("/api/v1/teachers/me/lessons")
    assert r.status == 200 and r.json()["date"] == datetime.date.today().isoformat()


def test_day_shows_replacements_both_ways_and_cancellations(node, w, ids):
    teacher, ct, sa = node.login("teacher"), node.login("classteacher"), node.login("schooladmin")
    lessons = [l for l in grid(node, w, w["c5a"], w["math"])["lessons"] if not l["cancelled"]]
    given, cancelled = lessons[-1], lessons[-2]
    assert sa.patch(f"/api/v1/lessons/{given['id']}", {"replacement_id": ids["ct"]}).status == 200
    assert sa.patch(f"/api/v1/lessons/{cancelled['id']}", {"cancelled": True}).status == 200
    # The teacher sees the lesson as given to a replacement.
    mine = next(l for l in day(teacher, given["date"])["lessons"] if l["id"] == given["id"])
    assert mine["role"] == "replaced" and mine["replacement"]["id"] == ids["ct"]
    assert mine["replacement"]["name"] == "Кузнецова Марина Игоревна"
    # The replacement sees it among their own lessons of that day, with whose it is.
    theirs = day(ct, given["date"])
    rep = next(l for l in theirs["lessons"] if l["id"] == given["id"])
    assert rep["role"] == "replacing" and rep["teacher"]["name"] == "Смирнова Ольга Петровна"
    assert all(l["role"] == "own" for l in theirs["lessons"] if l["id"] != given["id"])
    # ...and the arrows of the day before lead to it.
    before = (datetime.date.fromisoformat(given["date"]) - datetime.timedelta(days=1)).isoformat()
    assert day(ct, before)["next"] <= given["date"]
    # A cancelled lesson stays on the day, marked.
    c = next(l for l in day(teacher, cancelled["date"])["lessons"] if l["id"] == cancelled["id"])
    assert c["cancelled"] is True and c["role"] == "own"
    # Taken back: the replacement's day no longer has it.
    assert sa.patch(f"/api/v1/lessons/{given['id']}", {"replacement_id": None}).status == 200
    assert given["id"] not in [l["id"] for l in day(ct, given["date"])["lessons"]]
    assert next(l for l in day(teacher, given["date"])["lessons"] if l["id"] == given["id"])["role"] == "own"
    assert sa.patch(f"/api/v1/lessons/{cancelled['id']}", {"cancelled": False}).status == 200


def test_day_is_the_callers_own_and_teachers_only(node, w):
    for login in ("student", "parent", "medic", "schooladmin", "admin"):
        r = node.login(login).get("/api/v1/teachers/me/lessons")
        assert r.status == 403 and code(r) == "forbidden", login
    assert node.client().get("/api/v1/teachers/me/lessons").status == 401
    teacher = node.login("teacher")
    for bad in ("2026-13-01", "yesterday", "2026-1-1"):
        r = teacher.get(f"/api/v1/teachers/me/lessons?date={bad}")
        assert r.status == 400, bad
    # The class teacher's day holds none of the mathematics teacher's lessons.
    lesson = w["lessons"][0]
    assert lesson["id"] not in [l["id"] for l in day(node.login("classteacher"), lesson["date"])["lessons"]]


# ---- the class teacher's summary --------------------------------------------------------------

def summary(client, class_id, period):
    return client.get(f"/api/v1/classes/{class_id}/summary?period={period}")


def test_summary_matches_the_students_marks(node, w):
    period = w["period"]["id"]
    r = summary(node.login("classteacher"), w["c5a"], period)
    assert r.status == 200, r
    s = r.json()
    assert s["class"]["name"] == "5А" and s["period"]["id"] == period
    names = [x["name"] for x in s["subjects"]]
    assert names == sorted(names) and "Математика" in names and "Русский язык" in names
    assert [x["name"] for x in s["students"]] == [x["name"] for x in w["students"]]
    admin = node.login("admin")
    for st in s["students"][:6]:
        marks = admin.get(f"/api/v1/students/{st['id']}/marks?period={period}").json()
        cells = {c["subject_id"]: c for c in st["subjects"]}
        for sub in marks["subjects"]:
            c = cells.get(sub["subject"]["id"])
            if sub["average"] is None:
                assert c is None or c["average"] is None, (st["name"], sub["subject"])
            else:
                assert c and abs(c["average"] - sub["average"]) < 0.005, (st["name"], sub["subject"])
                assert c["marks"] == len(sub["marks"])
        a, total = st["attendance"], marks["attendance"]
        assert (a["absent"], a["ill"], a["late"], a["unjustified"]) == \
               (total["absent"], total["ill"], total["late"], total["unjustified"]), st["name"]
        assert a["total"] == a["absent"] + a["ill"] + a["late"] and a["justified"] <= a["total"]


def test_summary_subject_average_is_the_classes_weighted_average(node, w):
    s = summary(node.login("classteacher"), w["c5a"], w["period"]["id"]).json()
    g = grid(node, w, w["c5a"], w["math"])
    pairs = [(int(m["value"]), m["weight"]) for st in g["students"] for m in st["marks"] if m["value"].isdigit()]
    math = next(x for x in s["subjects"] if x["id"] == w["math"])
    assert abs(math["average"] - round(sum(v * k for v, k in pairs) / sum(k for _, k in pairs), 2)) < 0.005


def test_summary_shows_period_and_final_marks(node, w):
    artem, period = w["artem"], w["period"]["id"]
    teacher = node.login("teacher")
    for p in (period, None):
        r = teacher.request("PUT", "/api/v1/period-marks", body={
            "student_id": artem, "subject_id": w["math"], "period_id": p, "value": "5" if p else "4"})
        assert r.status == 200, r
    s = summary(node.login("classteacher"), w["c5a"], period).json()
    cell = next(c for st in s["students"] if st["id"] == artem for c in st["subjects"] if c["subject_id"] == w["math"])
    assert cell["period_mark"] == "5" and cell["final_mark"] == "4"
    # Another period of the year shows the final mark, not this period's.
    other = next(p for p in w["periods"] if p["id"] != period)
    s = summary(node.login("classteacher"), w["c5a"], other["id"]).json()
    cells = [c for st in s["students"] if st["id"] == artem for c in st["subjects"] if c["subject_id"] == w["math"]]
    assert all("period_mark" not in c for c in cells)


def test_summary_only_for_the_class_teacher_and_the_schools_admins(node, w, ids):
    period = w["period"]["id"]
    assert summary(node.login("schooladmin"), w["c5a"], period).status == 200
    assert summary(node.login("admin"), w["c5a"], period).status == 200
    # Another class's class teacher: the class teacher of 5А asks for 5Б.
    r = summary(node.login("classteacher"), ids["c5b"], period)
    assert r.status == 403 and code(r) == "forbidden"
    # A teacher of the class (mathematics in 5А), a parent and a student of the class.
    for login in ("teacher", "parent", "student", "medic"):
        r = summary(node.login(login), w["c5a"], period)
        assert r.status == 403, login
    # Another school's admin.
    r = summary(node.login("sadmin-gym", "second-admin-pass"), w["c5a"], period)
    assert r.status == 403 and code(r) == "forbidden"
    assert node.client().get(f"/api/v1/classes/{w['c5a']}/summary?period={period}").status == 401
    # Nonsense.
    ct = node.login("classteacher")
    assert summary(ct, 999999, period).status == 404
    r = summary(ct, w["c5a"], 999999)
    assert r.status == 404 and r.json()["error"]["field"] == "period"
    assert ct.get(f"/api/v1/classes/{w['c5a']}/summary").status == 400
    assert ct.get(f"/api/v1/classes/{w['c5a']}/summary?period=abc").status == 400


# ---- the plan, as the editor uses it ------------------------------------------------------------

def plan(client, ids, w):
    r = client.get(f"/api/v1/plans?class={ids['c5b']}&subject={w['math']}")
    assert r.status == 200, r
    return r.json()


def live_lessons(node, w, ids):
    """5Б's mathematics lessons of the year that take place, in date order."""
    out = []
    for p in sorted(w["periods"], key=lambda p: p["number"]):
        out += [l for l in grid(node, w, ids["c5b"], w["math"], p["id"])["lessons"]]
    return out


def test_plan_topics_fall_on_lessons_in_date_order(node, w, ids):
    teacher = node.login("teacher")
    q = f"/api/v1/plans?class={ids['c5b']}&subject={w['math']}"
    before = [l for l in live_lessons(node, w, ids) if not l["cancelled"]]
    assert before[3]["topic"], "the demo gave past lessons topics"
    r = teacher.request("PUT", q, body={"topics": [{"title": "Числа", "hours": 2}, {"title": "Дроби", "hours": 1}]})
    assert r.status == 200 and r.json()["topics"] == 2
    p = plan(teacher, ids, w)
    live = [l for l in live_lessons(node, w, ids) if not l["cancelled"]]
    assert p["lessons_total"] == len(live) and p["lessons_manual"] == 0
    assert [t["dates"] for t in p["topics"]] == [[live[0]["date"], live[1]["date"]], [live[2]["date"]]]
    assert [t["lessons"] for t in p["topics"]] == [2, 1]
    assert [l["topic"] for l in live[:3]] == ["Числа", "Числа", "Дроби"]
    # Past the plan's end, a topic the plan never gave stays.
    assert live[3]["topic"] == before[3]["topic"]
    # Reordered and grown: the lessons follow; shrunk: what the plan gave past its end goes.
    r = teacher.request("PUT", q, body={"topics": [{"title": "Дроби", "hours": 1}, {"title": "Числа", "hours": 1},
                                                   {"title": "Проценты", "hours": 2}]})
    assert r.status == 200
    live = [l for l in live_lessons(node, w, ids) if not l["cancelled"]]
    assert [l["topic"] for l in live[:4]] == ["Дроби", "Числа", "Проценты", "Проценты"]
    assert teacher.request("PUT", q, body={"topics": [{"title": "Дроби", "hours": 1}]}).status == 200
    live = [l for l in live_lessons(node, w, ids) if not l["cancelled"]]
    assert [l["topic"] for l in live[:4]] == ["Дроби", "", "", ""]
    assert [t["title"] for t in plan(teacher, ids, w)["topics"]] == ["Дроби"]


def test_plan_follows_a_cancellation_and_keeps_written_topics(node, w, ids):
    teacher, sa = node.login("teacher"), node.login("schooladmin")
    q = f"/api/v1/plans?class={ids['c5b']}&subject={w['math']}"
    assert teacher.request("PUT", q, body={"topics": [{"title": f"Тема {i}", "hours": 1} for i in range(1, 6)]}).status == 200
    live = [l for l in live_lessons(node, w, ids) if not l["cancelled"]]
    # The teacher writes the second lesson's topic: it stays, and still takes its hour.
    assert teacher.patch(f"/api/v1/lessons/{live[1]['id']}", {"topic": "Экскурсия"}).status == 200
    assert teacher.request("PUT", q, body={"topics": [{"title": f"Тема {i}", "hours": 1} for i in range(1, 6)]}).status == 200
    p = plan(teacher, ids, w)
    assert p["lessons_manual"] == 1
    # The first lesson is cancelled: the topics move on to the next lessons.
    assert sa.patch(f"/api/v1/lessons/{live[0]['id']}", {"cancelled": True}).status == 200
    after = {l["id"]: l for l in live_lessons(node, w, ids)}
    assert after[live[0]["id"]]["topic"] == ""
    assert after[live[1]["id"]]["topic"] == "Экскурсия"
    assert [after[l["id"]]["topic"] for l in live[2:5]] == ["Тема 2", "Тема 3", "Тема 4"]
    assert plan(teacher, ids, w)["topics"][0]["dates"] == [live[1]["date"]]
    assert sa.patch(f"/api/v1/lessons/{live[0]['id']}", {"cancelled": False}).status == 200
    assert live_lessons(node, w, ids)[0]["topic"] == "Тема 1"
    # The teacher clears the written topic: the plan's is back.
    assert teacher.patch(f"/api/v1/lessons/{live[1]['id']}", {"topic": ""}).status == 200
    assert [l["topic"] for l in live_lessons(node, w, ids)[:3]] == ["Тема 1", "Тема 2", "Тема 3"]
    assert plan(teacher, ids, w)["lessons_manual"] == 0


def test_plan_errors_name_the_field(node, w, ids):
    teacher = node.login("teacher")
    q = f"/api/v1/plans?class={ids['c5b']}&subject={w['math']}"
    before = plan(teacher, ids, w)["topics"]
    r = teacher.request("PUT", q, body={"csv": "Тема;Часы\nЧисла;2\nДроби;0\n"})
    assert r.status == 400
    e = r.json()["error"]
    assert e["code"] == "bad_csv" and e["field"] == "csv" and e["line"] == 3
    r = teacher.request("PUT", q, body={"topics": [{"title": "Числа", "hours": 1}, {"title": " ", "hours": 1}]})
    e = r.json()["error"]
    assert r.status == 400 and e["field"] == "title" and e["index"] == 1
    r = teacher.request("PUT", q, body={"topics": [{"title": "Числа", "hours": 51}]})
    e = r.json()["error"]
    assert r.status == 400 and e["field"] == "hours" and e["index"] == 0
    assert plan(teacher, ids, w)["topics"] == before  # nothing changed
    # Who may not: a teacher of another subject, the class teacher (reads only), a parent.
    assert node.login("classteacher").request("PUT", q, body={"topics": [{"title": "x"}]}).status == 403
    assert node.login("classteacher").get(q).status == 403  # not 5Б's class teacher nor its mathematics teacher
    assert node.login("parent").get(q).status == 403


def test_plan_goes_through_each_group_on_its_own(node, w, ids):
    """A class split into two groups for a subject: each group's lessons take the plan from its
    first topic, in their own date order (not one sequence shared by both groups)."""
    sa = node.login("schooladmin")
    s1 = sa.user["grants"][0]["institution_id"]
    c = sa.post(f"/api/v1/institutions/{s1}/classes", {"year_id": w["year_id"], "grade": 7, "letter": "Г"})
    assert c.status == 201, c
    cid = c.json()["id"]
    g1 = sa.post(f"/api/v1/classes/{cid}/groups", {"name": "Группа 1", "student_ids": []}).json()["id"]
    g2 = sa.post(f"/api/v1/classes/{cid}/groups", {"name": "Группа 2", "student_ids": []}).json()["id"]
    eng = w["subjects"]["eng"]
    entries = [{"weekday": 1, "number": 1, "subject_id": eng, "teacher_id": ids["teacher"], "group_id": g1},
               {"weekday": 2, "number": 1, "subject_id": eng, "teacher_id": ids["teacher"], "group_id": g2},
               {"weekday": 3, "number": 1, "subject_id": eng, "teacher_id": ids["teacher"], "group_id": g1}]
    assert sa.request("PUT", f"/api/v1/classes/{cid}/timetable", body={"entries": entries}).status == 200
    q = f"/api/v1/plans?class={cid}&subject={eng}"
    # The plan first, the lessons after: generated lessons take it too.
    r = sa.request("PUT", q, body={"topics": [{"title": "Знакомство", "hours": 1}, {"title": "Семья", "hours": 2}]})
    assert r.status == 200
    assert sa.post(f"/api/v1/classes/{cid}/lessons", {"period_id": w["period"]["id"]}).status == 201
    lessons = [l for l in node.login("admin").get(
        f"/api/v1/journal?class={cid}&subject={eng}&period={w['period']['id']}").json()["lessons"] if not l["cancelled"]]
    for g in (g1, g2):
        mine = [l["topic"] for l in lessons if l.get("group_id") == g]
        assert mine[:4] == ["Знакомство", "Семья", "Семья", ""], (g, mine[:4])

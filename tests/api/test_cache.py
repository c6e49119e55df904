"""The read cache: repeated reads of the diary, the journal grid and a student's marks are
answered from memory, every kind of write that changes them is seen by the very next read, and
a cached answer is never given to a caller the authorization layer refuses."""
import re



def metric(node, name):
    text = node.client().get("/metrics").body.decode()
    return int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))


def views(node, w, lesson):
    """The three cached views around one lesson of 5А in mathematics, for Artём."""
    parent = node.login("parent")
    teacher = node.login("teacher")
    day = lesson["date"]
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={day}&to={day}").json()
    dl = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").json()
    gl = next(x for x in grid["lessons"] if x["id"] == lesson["id"])
    gs = next(s for s in grid["students"] if s["id"] == w["artem"])
    marks = parent.get(f"/api/v1/students/{w['artem']}/marks?period={w['period']['id']}").json()
    ms = next(s for s in marks["subjects"] if s["subject"]["id"] == w["math"])
    return {"diary": dl, "grid_lesson": gl, "grid_student": gs, "grid": grid, "marks": ms}


def test_repeated_reads_are_answered_from_memory(node, w):
    parent = node.login("parent")
    q = f"/api/v1/students/{w['artem']}/diary?from={w['lessons'][0]['date']}&to={w['lessons'][0]['date']}"
    first = parent.get(q)
    hits = metric(node, "mes_cache_hits_total")
    again = parent.get(q)
    assert again.status == 200 and again.body == first.body
    assert again.headers["Content-Type"].startswith("application/json")
    assert metric(node, "mes_cache_hits_total") == hits + 1
    assert metric(node, "mes_cache_entries") >= 1 and metric(node, "mes_cache_bytes") >= len(first.body)


def test_every_write_is_seen_by_the_next_read(node, w):
    teacher, student, sa = node.login("teacher"), node.login("student"), node.login("schooladmin")
    lesson = w["lessons"][6]
    views(node, w, lesson)  # fill the cache
    views(node, w, lesson)

    r = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks",
                     {"student_id": w["artem"], "value": "3", "control_form": "test"})
    assert r.status == 201
    mark = r.json()["id"]
    v = views(node, w, lesson)
    assert any(m["id"] == mark for m in v["diary"]["marks"])
    assert any(m["id"] == mark for m in v["grid_student"]["marks"])
    assert any(m["id"] == mark for m in v["marks"]["marks"])

    assert teacher.patch(f"/api/v1/marks/{mark}", {"value": "4"}).status == 200
    v = views(node, w, lesson)
    assert next(m for m in v["diary"]["marks"] if m["id"] == mark)["value"] == "4"
    assert next(m for m in v["grid_student"]["marks"] if m["id"] == mark)["value"] == "4"
    assert next(m for m in v["marks"]["marks"] if m["id"] == mark)["value"] == "4"

    assert teacher.delete(f"/api/v1/marks/{mark}").status == 200
    v = views(node, w, lesson)
    assert not any(m["id"] == mark for m in v["diary"]["marks"] + v["grid_student"]["marks"] + v["marks"]["marks"])

    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": w["artem"], "status": "ill"}).status == 200
    v = views(node, w, lesson)
    assert v["diary"]["attendance"]["status"] == "ill"
    assert any(a["lesson_id"] == lesson["id"] and a["status"] == "ill" for a in v["grid_student"]["attendance"])

    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Кэш: № 101", "due_date": lesson["date"]})
    assert hw.status == 201
    v = views(node, w, lesson)
    assert any(h["text"] == "Кэш: № 101" and not h["done"] for h in v["diary"]["homework"])
    assert any(h["text"] == "Кэш: № 101" for h in v["grid_lesson"]["homework"])

    assert student.request("PUT", f"/api/v1/homework/{hw.json()['id']}/submission", body={"done": True}).status == 200
    v = views(node, w, lesson)
    assert next(h for h in v["diary"]["homework"] if h["text"] == "Кэш: № 101")["done"] is True

    assert teacher.patch(f"/api/v1/lessons/{lesson['id']}", {"topic": "Тема из кэша"}).status == 200
    v = views(node, w, lesson)
    assert v["diary"]["topic"] == "Тема из кэша" and v["grid_lesson"]["topic"] == "Тема из кэша"

    body = {"student_id": w["artem"], "subject_id": w["math"], "period_id": w["period"]["id"], "value": "3"}
    assert teacher.request("PUT", "/api/v1/period-marks", body=body).status == 200
    assert views(node, w, lesson)["marks"]["period_mark"] == "3"
    assert teacher.request("PUT", "/api/v1/period-marks", body=dict(body, value=None)).status == 200
    assert "period_mark" not in views(node, w, lesson)["marks"]

    # Shared tables: the school's bells and the class's name.
    inst = sa.get(f"/api/v1/classes/{w['c5a']}").json()["institution_id"]
    bells = sa.get(f"/api/v1/institutions/{inst}/bells").json()["bells"]
    moved = [dict(b, starts_at="07:" + b["starts_at"][3:]) if b["number"] == lesson["number"] else b for b in bells]
    assert sa.request("PUT", f"/api/v1/institutions/{inst}/bells", body={"bells": moved}).status == 200
    assert views(node, w, lesson)["diary"]["starts_at"].startswith("07:")
    assert sa.request("PUT", f"/api/v1/institutions/{inst}/bells", body={"bells": bells}).status == 200
    assert not views(node, w, lesson)["diary"]["starts_at"].startswith("07:")


def test_library_searches_are_cached_until_the_library_changes(node, w):
    teacher = node.login("teacher")
    q = "/api/v1/library/items?q=%D1%83%D1%80%D0%B0%D0%B2%D0%BD%D0%B5%D0%BD%D0%B8%D1%8F"
    first = teacher.get(q)
    hits = metric(node, "mes_cache_hits_total")
    assert teacher.get(q).body == first.body and metric(node, "mes_cache_hits_total") == hits + 1
    # A new draft changes the library: the next search is built again (and drafts stay out).
    r = teacher.post("/api/v1/library/items", {"type": "scenario", "title": "Уравнения: черновик кэша",
                                               "grade_min": 5, "grade_max": 5})
    assert r.status == 201
    hits = metric(node, "mes_cache_hits_total")
    again = teacher.get(q)
    assert metric(node, "mes_cache_hits_total") == hits and again.json()["total"] == first.json()["total"]
    # One's own items are never served from the shared cache.
    mine = "/api/v1/library/items?mine=1"
    teacher.get(mine)
    hits = metric(node, "mes_cache_hits_total")
    teacher.get(mine)
    assert metric(node, "mes_cache_hits_total") == hits


def test_cached_answers_keep_their_denials(node, w):
    q = f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}"
    teacher = node.login("teacher")
    assert teacher.get(q).status == 200 and teacher.get(q).status == 200  # now cached
    assert node.login("parent").get(q).status == 403
    assert node.login("student").get(q).status == 403
    assert node.client().get(q).status == 401
    d = f"/api/v1/students/{w['artem']}/diary"
    assert node.login("parent").get(d).status == 200 and node.login("student").get(d).status == 200
    other_parent_child = next(s["id"] for s in w["students"] if s["id"] != w["artem"])
    assert node.login("parent").get(f"/api/v1/students/{other_parent_child}/diary").status == 403
    m = f"/api/v1/students/{w['maria']}/marks?period={w['period']['id']}"
    assert node.login("parent").get(m).status == 200
    assert node.login("student").get(m).status == 403  # Артём cannot read his sister's marks

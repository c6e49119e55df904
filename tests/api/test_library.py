"""The library: Russian full-text search with word forms, the review workflow with its
denials (a student never sees drafts, a teacher cannot approve), tests scored on the server
without ever sending the answer key, files, favourites, and items attached to lessons and
homework that the journal and the diary show."""
import json
import os
import re
from urllib.parse import quote

import pytest
import yaml



def search(client, **params):
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    r = client.get(f"/api/v1/library/items?{qs}")
    assert r.status == 200, r
    return r.json()


def titles(result):
    return [i["title"] for i in result["items"]]


def keys_in(obj):
    """Every key anywhere in a JSON value."""
    if isinstance(obj, dict):
        return set(obj) | set().union(*(keys_in(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(keys_in(v) for v in obj)) if obj else set()
    return set()


def test_search_finds_russian_word_forms(node):
    teacher = node.login("teacher")
    for form in ("уравнение", "уравнения", "уравнений", "Уравнениями"):
        found = titles(search(teacher, q=form))
        assert "Решение линейных уравнений" in found and "Квадратные уравнения и теорема Виета" in found, form
    # Ranked: a title match comes before a match in the text only.
    ranked = titles(search(teacher, q="дробей"))
    assert ranked[0] == "Сложение и вычитание обыкновенных дробей"
    assert "Математика. 5 класс. Учебник" in ranked  # "дроби" in its text
    both = search(teacher, q="строение клетки")
    assert set(titles(both)) == {"Интерактивный атлас: строение клетки", "Строение клетки"}
    assert search(teacher, q="квазар")["total"] == 0
    # Operators of the query language are just separators: no error, no injection. Every word
    # is required: "уравнения*" is the word "уравнения"; OR and NEAR are words no item holds, so
    # a query with them finds nothing (as FTS5 syntax, OR would have found the items on
    # equations and on fractions, and the open quote and bracket would have been an error).
    eq = search(teacher, q="уравнения")["total"]
    assert eq >= 2 and search(teacher, q="уравнения*")["total"] == eq
    assert search(teacher, q="дробей")["total"] >= 2
    assert search(teacher, q='уравнен* OR "NEAR(x')["total"] == 0
    assert search(teacher, q='уравнения OR "NEAR(x')["total"] == 0
    assert search(teacher, q="уравнения OR дробей")["total"] == 0
    assert search(teacher, q="ё NOT AND")["total"] == 0


def test_filters_paging_and_bad_parameters(node):
    student = node.login("student")
    subjects = {s["code"]: s["id"] for s in student.get("/api/v1/subjects").json()["items"]}
    tests = search(student, type="test")
    assert tests["total"] >= 3 and all(i["type"] == "test" for i in tests["items"])
    maths = search(student, subject=subjects["math"])
    assert maths["total"] >= 4 and all(i["subject"]["id"] == subjects["math"] for i in maths["items"])
    grade8 = search(student, grade=8)
    assert all(i["grades"]["min"] <= 8 <= i["grades"]["max"] for i in grade8["items"])
    hub = search(student, origin="hub")
    assert hub["total"] >= 5 and all(i["origin"] == "hub" for i in hub["items"])
    combined = search(student, q="уравнения", type="test", subject=subjects["math"])
    assert titles(combined) == ["Решение линейных уравнений"]
    page1, page2 = search(student, limit=5, offset=0), search(student, limit=5, offset=5)
    assert page1["total"] == page2["total"] >= 10
    assert not set(i["id"] for i in page1["items"]) & set(i["id"] for i in page2["items"])
    for bad in ("type=poem", "grade=12", "limit=0", "limit=1000", "origin=mars", "status=secret"):
        assert student.get(f"/api/v1/library/items?{bad}").status == 400, bad


def test_drafts_and_the_review_queue_stay_private(node):
    student, teacher, methodologist = node.login("student"), node.login("teacher"), node.login("methodologist")
    draft = next(i for i in search(teacher, mine=1, status="draft")["items"])
    assert draft["title"] == "Задачи на движение: черновик"
    assert "Задачи на движение: черновик" not in titles(search(student, q="движение"))
    assert student.get(f"/api/v1/library/items/{draft['id']}").status == 404
    assert methodologist.get(f"/api/v1/library/items/{draft['id']}").status == 404  # not yet submitted
    assert student.get("/api/v1/library/items?status=submitted").status == 403
    assert teacher.get("/api/v1/library/items?status=submitted").status == 403
    queue = search(methodologist, status="submitted")
    assert "Теорема Пифагора: практикум" in titles(queue)
    assert node.login("parent").get("/api/v1/library/items?status=draft").status == 403


def test_review_workflow(node):
    teacher, methodologist, student = node.login("teacher"), node.login("methodologist"), node.login("student")
    r = teacher.post("/api/v1/library/items", {"type": "scenario", "title": "Уравнения с параметром",
                                               "description": "Черновик", "grade_min": 9, "grade_max": 11})
    assert r.status == 201, r
    item = r.json()
    assert item["status"] == "draft" and item["origin"] == "school" and re.fullmatch(r"r\d{2}-\d+", item["uid"])
    iid = item["id"]
    assert teacher.patch(f"/api/v1/library/items/{iid}", {"body": "Ход урока: графический метод."}).status == 200
    assert node.login("classteacher").patch(f"/api/v1/library/items/{iid}", {"title": "x"}).status == 404
    assert teacher.patch(f"/api/v1/library/items/{iid}", {"grade_min": 11, "grade_max": 9}).status == 400
    assert teacher.post(f"/api/v1/library/items/{iid}/submit").status == 200
    assert teacher.patch(f"/api/v1/library/items/{iid}", {"title": "y"}).status == 409  # under review
    # A teacher cannot give verdicts; nobody reviews their own item.
    assert teacher.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 403
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "reject"}).status == 400  # no comment
    r = methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "reject", "comment": "Добавьте задачи"})
    assert r.status == 200 and r.json()["status"] == "rejected"
    mine = teacher.get(f"/api/v1/library/items/{iid}").json()
    assert mine["status"] == "rejected" and mine["review_comment"] == "Добавьте задачи"
    assert student.get(f"/api/v1/library/items/{iid}").status == 404
    assert teacher.patch(f"/api/v1/library/items/{iid}", {"body": "Задачи: 1) |x - a| = 2"}).status == 200
    assert teacher.post(f"/api/v1/library/items/{iid}/submit").status == 200
    # The search is cached; the approval is seen by the very next one.
    assert "Уравнения с параметром" not in titles(search(student, q="параметром"))
    assert "Уравнения с параметром" not in titles(search(student, q="параметром"))
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 200
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 409
    assert "Уравнения с параметром" in titles(search(student, q="параметром"))
    assert teacher.patch(f"/api/v1/library/items/{iid}", {"title": "z"}).status == 409  # approved: fixed
    # Contributions are counted for the methodologist.
    authors = methodologist.get("/api/v1/library/authors").json()["items"]
    assert any(a["author"]["name"].startswith("Смирнова") and a["items"] >= 2 for a in authors)
    assert teacher.get("/api/v1/library/authors").status == 403
    # Bad input changes nothing.
    for bad in ({"type": "poem", "title": "x", "grade_min": 1, "grade_max": 2},
                {"type": "scenario", "title": "", "grade_min": 1, "grade_max": 2},
                {"type": "scenario", "title": "x", "grade_min": 0, "grade_max": 2},
                {"type": "scenario", "title": "x", "grade_min": 1, "grade_max": 2, "subject_id": 99999},
                {"type": "scenario", "title": "x", "grade_min": 1, "grade_max": 2, "extra": 1}):
        assert teacher.post("/api/v1/library/items", bad).status == 400, bad
    assert student.post("/api/v1/library/items", {"type": "scenario", "title": "x", "grade_min": 1, "grade_max": 2}).status == 403
    # No subject, said plainly; a subject given later, and taken away again.
    none = teacher.post("/api/v1/library/items", {"type": "media", "title": "Без предмета", "grade_min": 1,
                                                  "grade_max": 2, "subject_id": None})
    assert none.status == 201 and none.json()["subject"] is None
    math = next(s["id"] for s in teacher.get("/api/v1/subjects").json()["items"] if s["code"] == "math")
    assert teacher.patch(f"/api/v1/library/items/{none.json()['id']}", {"subject_id": math}).json()["subject"]["id"] == math
    assert teacher.patch(f"/api/v1/library/items/{none.json()['id']}", {"subject_id": None}).json()["subject"] is None


def test_tests_are_scored_on_the_server_and_never_leak_keys(node):
    teacher, methodologist, student = node.login("teacher"), node.login("methodologist"), node.login("student")
    t = next(i for i in search(student, q="линейных уравнений", type="test")["items"])
    item = student.get(f"/api/v1/library/items/{t['id']}")
    body = item.json()
    assert len(body["questions"]) == 3
    assert not keys_in(body) & {"answer", "answers", "key", "correct"}
    qs = {q["kind"]: q for q in body["questions"]}
    right = [{"question_id": qs["single"]["id"], "answer": 1},
             {"question_id": qs["multiple"]["id"], "answer": [2, 0]},
             {"question_id": qs["text"]["id"], "answer": " 7 "}]
    r = student.post(f"/api/v1/library/items/{t['id']}/attempts", {"answers": right})
    assert r.status == 201 and r.json()["score"] == 3 and r.json()["max_score"] == 3
    wrong = [{"question_id": qs["single"]["id"], "answer": 0},
             {"question_id": qs["multiple"]["id"], "answer": [0]},
             {"question_id": qs["text"]["id"], "answer": "8"}]
    r = student.post(f"/api/v1/library/items/{t['id']}/attempts", {"answers": wrong})
    result = r.json()
    assert result["score"] == 0 and all(not x["correct"] for x in result["results"])
    assert not keys_in(result) & {"answer", "answers", "key", "options"}
    assert student.post(f"/api/v1/library/items/{t['id']}/attempts", {"answers": "all"}).status == 400
    # An author writes questions with keys; bad keys are refused; the keys stay inside.
    r = teacher.post("/api/v1/library/items", {"type": "test", "title": "Дроби: проверка", "grade_min": 5, "grade_max": 5})
    tid = r.json()["id"]
    assert teacher.post(f"/api/v1/library/items/{tid}/submit").status == 409  # no questions yet
    bad = [{"kind": "single", "prompt": "1/2 + 1/2 =", "options": ["1", "2"], "answer": [5]}]
    assert teacher.request("PUT", f"/api/v1/library/items/{tid}/questions", body={"questions": bad}).status == 400
    good = [{"kind": "single", "prompt": "1/2 + 1/2 =", "options": ["1", "2"], "answer": [0], "points": 2}]
    assert teacher.request("PUT", f"/api/v1/library/items/{tid}/questions", body={"questions": good}).status == 200
    mine = teacher.get(f"/api/v1/library/items/{tid}").json()
    assert "answer" not in keys_in(mine)
    assert student.request("PUT", f"/api/v1/library/items/{tid}/questions", body={"questions": good}).status == 403
    scen = teacher.post("/api/v1/library/items", {"type": "scenario", "title": "Без вопросов", "grade_min": 5, "grade_max": 5}).json()
    assert teacher.request("PUT", f"/api/v1/library/items/{scen['id']}/questions", body={"questions": good}).status == 409


def test_files_favourites_and_lessons(node, w):
    teacher, methodologist, student, parent = (node.login(x) for x in ("teacher", "methodologist", "student", "parent"))
    item = teacher.post("/api/v1/library/items", {"type": "media", "title": "Плакат: доли и дроби", "grade_min": 5, "grade_max": 5}).json()
    iid = item["id"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    r = teacher.request("POST", f"/api/v1/library/items/{iid}/files?name=poster.png&cover=1", raw=png,
                        headers={"Content-Type": "image/png"})
    assert r.status == 201 and r.json()["cover"] is True
    r = teacher.request("POST", f"/api/v1/library/items/{iid}/files?name=notes.txt&cover=1", raw=b"text",
                        headers={"Content-Type": "text/plain"})
    assert r.status == 400  # a cover is an image
    got = teacher.get(f"/api/v1/library/items/{iid}").json()
    cover = got["cover"]
    assert cover and [f["name"] for f in got["files"]] == ["poster.png"]
    assert student.get(cover).status == 404  # a draft's file is its author's
    assert student.request("POST", f"/api/v1/library/items/{iid}/files?name=x.png", raw=png,
                           headers={"Content-Type": "image/png"}).status == 403
    # Approved, it is everyone's: its cover, its favourite star, its lessons.
    assert teacher.post(f"/api/v1/library/items/{iid}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 200
    dl = student.get(cover)
    assert dl.status == 200 and dl.body == png and dl.headers["Content-Type"] == "image/png"
    assert student.request("PUT", f"/api/v1/library/items/{iid}/favourite").status == 200
    assert iid in [i["id"] for i in student.get("/api/v1/library/favourites").json()["items"]]
    assert student.get(f"/api/v1/library/items/{iid}").json()["favourite"] is True
    assert student.delete(f"/api/v1/library/items/{iid}/favourite").status == 200
    assert iid not in [i["id"] for i in student.get("/api/v1/library/favourites").json()["items"]]

    lesson = w["lessons"][2]
    assert teacher.post(f"/api/v1/lessons/{lesson['id']}/items", {"item_id": iid}).status == 201
    assert teacher.post(f"/api/v1/lessons/{lesson['id']}/items", {"item_id": iid}).status == 201  # once
    assert teacher.get(f"/api/v1/library/items/{iid}").json()["uses"] == 1
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").json()
    assert [i["title"] for l in grid["lessons"] if l["id"] == lesson["id"] for i in l["items"]] == ["Плакат: доли и дроби"]
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    dl = next(x for d in diary["days"] for x in d["lessons"] if x["id"] == lesson["id"])
    assert [i["id"] for i in dl["items"]] == [iid]
    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Посмотреть плакат", "due_date": lesson["date"]}).json()
    assert teacher.post(f"/api/v1/homework/{hw['id']}/items", {"item_id": iid}).status == 201
    diary = parent.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    h = next(h for d in diary["days"] for x in d["lessons"] for h in x["homework"] if h["id"] == hw["id"])
    assert [i["id"] for i in h["items"]] == [iid]
    assert teacher.get(f"/api/v1/library/items/{iid}").json()["uses"] == 2
    # Denials: a draft, another teacher's lesson, a student.
    draft = next(i for i in search(teacher, mine=1, status="draft")["items"])
    assert teacher.post(f"/api/v1/lessons/{lesson['id']}/items", {"item_id": draft["id"]}).status == 409
    rus = [l for l in teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['rus']}&period={w['period']['id']}").json().get("lessons", [])]
    rus_lesson = node.login("classteacher").get(
        f"/api/v1/journal?class={w['c5a']}&subject={w['rus']}&period={w['period']['id']}").json()["lessons"][0]
    assert rus == []
    assert teacher.post(f"/api/v1/lessons/{rus_lesson['id']}/items", {"item_id": iid}).status == 403
    assert student.post(f"/api/v1/lessons/{lesson['id']}/items", {"item_id": iid}).status == 403
    rus_hw = node.login("classteacher").post(f"/api/v1/lessons/{rus_lesson['id']}/homework",
                                             {"text": "Прочитать", "due_date": rus_lesson["date"]}).json()
    assert teacher.post(f"/api/v1/homework/{rus_hw['id']}/items", {"item_id": iid}).status == 403
    assert student.post(f"/api/v1/homework/{hw['id']}/items", {"item_id": iid}).status == 403
    assert teacher.post("/api/v1/homework/999999/items", {"item_id": iid}).status == 404
    assert teacher.post(f"/api/v1/homework/{hw['id']}/items", {"item_id": draft["id"]}).status == 409
    assert node.login("classteacher").post(f"/api/v1/lessons/{rus_lesson['id']}/items", {"item_id": iid}).status == 201
    assert teacher.delete(f"/api/v1/lessons/{rus_lesson['id']}/items/{iid}").status == 403
    assert teacher.delete(f"/api/v1/lessons/{lesson['id']}/items/{iid}").status == 200
    assert teacher.delete(f"/api/v1/lessons/{lesson['id']}/items/{iid}").status == 404


def test_an_approved_item_changes_through_a_reviewed_revision(node):
    teacher, methodologist, student, other = (node.login(x) for x in ("teacher", "methodologist", "student", "classteacher"))
    iid = teacher.post("/api/v1/library/items", {"type": "test", "title": "Проценты: первая редакция", "grade_min": 6, "grade_max": 6}).json()["id"]
    put = lambda item, body: teacher.request("POST", f"/api/v1/library/items/{item}/files?name=task.txt", raw=body,
                                             headers={"Content-Type": "text/plain"})
    assert put(iid, b"first text").status == 201
    qs = [{"kind": "single", "prompt": "10% of 50 =", "options": ["5", "10"], "answer": [0]}]
    assert teacher.request("PUT", f"/api/v1/library/items/{iid}/questions", body={"questions": qs}).status == 200
    assert teacher.post(f"/api/v1/library/items/{iid}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 200
    assert student.request("PUT", f"/api/v1/library/items/{iid}/favourite").status == 200
    old_file = student.get(f"/api/v1/library/items/{iid}").json()["files"][0]["id"]
    # Only its author opens a revision, of an approved item of the region, one at a time.
    assert student.post(f"/api/v1/library/items/{iid}/revisions").status == 403
    assert other.post(f"/api/v1/library/items/{iid}/revisions").status == 403
    hub = next(i for i in search(teacher, origin="hub")["items"])
    assert teacher.post(f"/api/v1/library/items/{hub['id']}/revisions").status == 403
    r = teacher.post(f"/api/v1/library/items/{iid}/revisions")
    assert r.status == 201, r
    rev = r.json()
    assert rev["status"] == "draft" and rev["version"] == 2 and rev["revision_of"] == iid
    assert [f["name"] for f in rev["files"]] == ["task.txt"] and len(rev["questions"]) == 1
    assert teacher.get(f"/api/v1/library/items/{iid}").json()["revision"] == rev["id"]
    assert teacher.post(f"/api/v1/library/items/{iid}/revisions").status == 409
    assert teacher.post(f"/api/v1/library/items/{rev['id']}/revisions").status == 409  # a draft
    assert student.get(f"/api/v1/library/items/{rev['id']}").status == 404
    # The revision is edited and reviewed; until approved, everyone sees the first version.
    assert teacher.patch(f"/api/v1/library/items/{rev['id']}", {"title": "Проценты: вторая редакция"}).status == 200
    assert put(rev["id"], b"second text").status == 201
    assert teacher.post(f"/api/v1/library/items/{rev['id']}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{rev['id']}/review", {"verdict": "reject", "comment": "Добавьте задачу"}).status == 200
    seen = student.get(f"/api/v1/library/items/{iid}").json()
    assert seen["title"] == "Проценты: первая редакция" and seen["version"] == 1
    assert student.get(f"/api/v1/library/files/{old_file}").body == b"first text"
    assert teacher.post(f"/api/v1/library/items/{rev['id']}/submit").status == 200
    r = methodologist.post(f"/api/v1/library/items/{rev['id']}/review", {"verdict": "approve"})
    assert r.status == 200 and r.json()["id"] == iid
    # Approved: the same item (id, uid, favourites) now holds the new version; the draft is gone.
    seen = student.get(f"/api/v1/library/items/{iid}").json()
    assert seen["title"] == "Проценты: вторая редакция" and seen["version"] == 2 and seen["status"] == "approved"
    assert seen["uid"] == rev["uid"].rsplit(".v", 1)[0]
    assert student.get(f"/api/v1/library/files/{seen['files'][0]['id']}").body == b"second text"
    assert student.get(f"/api/v1/library/files/{old_file}").status == 404
    assert len(seen["questions"]) == 1
    assert teacher.get(f"/api/v1/library/items/{rev['id']}").status == 404
    assert teacher.get(f"/api/v1/library/items/{iid}").json()["revision"] is None
    assert iid in [i["id"] for i in student.get("/api/v1/library/favourites").json()["items"]]
    assert iid in [i["id"] for i in search(student, q="вторая редакция")["items"]]
    assert iid not in [i["id"] for i in search(student, q="первая редакция")["items"]]
    # The answer key moved with the questions: the test still scores.
    q = seen["questions"][0]["id"]
    assert student.post(f"/api/v1/library/items/{iid}/attempts", {"answers": [{"question_id": q, "answer": 0}]}).json()["score"] == 1


def test_item_types_come_from_one_list(node):
    """The web interface's item types are the node's (GET /api/v1/library/types), which the
    API documents as the same enum everywhere; a type outside them is refused."""
    student = node.login("student")
    r = student.get("/api/v1/library/types")
    assert r.status == 200
    served = r.json()["types"]
    assert served == ["scenario", "test", "textbook", "workbook", "fiction", "lab", "app", "media"]
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.yaml"), encoding="utf-8") as f:
        doc = f.read()
    enums = re.findall(r"type: \{type: string, enum: \[(scenario[^\]]*)\]\}", doc)
    assert len(enums) == 3 and all([e.strip() for e in x.split(",")] == served for x in enums), enums
    assert yaml.safe_load(doc)["components"]["schemas"]["LibraryItem"]["properties"]["type"]["enum"] == served
    teacher = node.login("teacher")
    bad = teacher.post("/api/v1/library/items", {"type": "poster", "title": "Плакат", "grade_min": 5, "grade_max": 5})
    assert bad.status == 400 and "type" in bad.json()["error"]["message"]
    assert student.get("/api/v1/library/items?type=poster").status == 400
    assert node.client().get("/api/v1/library/types").status == 401


def test_favourites_and_authors_come_in_pages(node):
    """Favourites and the authors' list are paged (limit up to 500, offset) with their total,
    rather than cut at 500 without a word."""
    student = node.login("student")
    approved = search(student, limit=3)["items"]
    assert len(approved) == 3
    for item in approved:
        assert student.request("PUT", f"/api/v1/library/items/{item['id']}/favourite").status == 200
    everything = student.get("/api/v1/library/favourites").json()
    assert everything["total"] == len(everything["items"]) >= 3
    first = student.get("/api/v1/library/favourites?limit=2").json()
    rest = student.get("/api/v1/library/favourites?limit=2&offset=2").json()
    assert first["total"] == rest["total"] == everything["total"]
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in everything["items"]][:4]
    for bad in ("limit=0", "limit=501", "offset=-1", "limit=x"):
        assert student.get(f"/api/v1/library/favourites?{bad}").status == 400, bad
    methodologist = node.login("methodologist")
    authors = methodologist.get("/api/v1/library/authors").json()
    assert authors["total"] == len(authors["items"]) >= 1
    one = methodologist.get("/api/v1/library/authors?limit=1").json()
    assert one["total"] == authors["total"] and one["items"] == authors["items"][:1]
    assert methodologist.get("/api/v1/library/authors?limit=501").status == 400
    for item in approved:
        assert student.delete(f"/api/v1/library/items/{item['id']}/favourite").status == 200


def put_questions(client, tid, questions):
    return client.request("PUT", f"/api/v1/library/items/{tid}/questions", body={"questions": questions})


def new_test(teacher, title):
    r = teacher.post("/api/v1/library/items", {"type": "test", "title": title, "grade_min": 7, "grade_max": 8})
    assert r.status == 201, r
    return r.json()["id"]


MATCHING = {"kind": "matching", "prompt": "Столица и страна", "options": ["Москва", "Париж", "Рим"],
            "answer": ["Россия", "Франция", "Италия"], "points": 3}


def test_matching_questions_are_checked_kept_and_scored(node):
    teacher, student = node.login("teacher"), node.login("student")
    tid = new_test(teacher, "Столицы: сопоставление")
    single = {"kind": "single", "prompt": "2 + 2 =", "options": ["3", "4"], "answer": [1]}
    assert put_questions(teacher, tid, [single, MATCHING]).status == 200
    # Bad input: 400 with the question's field and a code for its fault; the saved questions stay.
    bad_cases = [
        (dict(MATCHING, answer=["Россия", "Франция"]), "question_pairs_mismatched", "answer"),
        (dict(MATCHING, answer=["Россия", "Россия", "Италия"]), "question_pairs_duplicate", "answer"),
        (dict(MATCHING, options=["Москва", "Москва", "Рим"]), "question_pairs_duplicate", "options"),
        (dict(MATCHING, options=["Москва"], answer=["Россия"]), "question_pairs", "options"),
        (dict(MATCHING, options=[], answer=[]), "question_pairs", "options"),
        (dict(MATCHING, answer=["Россия", "", "Италия"]), "question_pair_text", "answer"),
        (dict(MATCHING, options=["Москва", "", "Рим"]), "question_option_text", "options"),
        (dict(MATCHING, answer="Россия"), "question_pairs_mismatched", "answer"),
        (dict(MATCHING, prompt=""), "question_prompt", "prompt"),
        (dict(MATCHING, kind="essay"), "question_kind", "kind"),
        (dict(MATCHING, points=0), "question_points", "points"),
        (dict(single, answer=[]), "question_no_answer", "answer"),
        (dict(single, answer=[0, 1]), "question_single_answer", "answer"),
        (dict(single, kind="multiple", answer=[1, 1]), "question_answer_index", "answer"),
    ]
    for bad, code, field in bad_cases:
        r = put_questions(teacher, tid, [single, bad])
        assert r.status == 400, (bad, r)
        err = r.json()["error"]
        assert (err["code"], err["field"]) == (code, f"questions[1].{field}"), (bad, err)
    for bad in ([], "all", [single] * 201):
        r = put_questions(teacher, tid, bad)
        assert r.status == 400 and r.json()["error"]["field"] == "questions", r
        assert r.json()["error"]["code"] == "bad_questions", r
    # Nothing changed: the author's editor reads the two saved questions with their keys.
    saved = teacher.get(f"/api/v1/library/items/{tid}/questions")
    assert saved.status == 200, saved
    qs = saved.json()["questions"]
    assert [q["kind"] for q in qs] == ["single", "matching"]
    assert qs[1]["options"] == MATCHING["options"] and qs[1]["answer"] == MATCHING["answer"]
    assert qs[1]["points"] == 3
    # The item as others see it: the right-hand side shuffled, no key; every order is a permutation,
    # and over a few reads more than one order is seen (a fresh shuffle, not the key's order).
    assert teacher.post(f"/api/v1/library/items/{tid}/submit").status == 200
    methodologist = node.login("methodologist")
    assert methodologist.post(f"/api/v1/library/items/{tid}/review", {"verdict": "approve"}).status == 200
    orders = set()
    for _ in range(12):
        body = student.get(f"/api/v1/library/items/{tid}").json()
        assert not keys_in(body) & {"answer", "answers", "key", "correct"}
        m = next(q for q in body["questions"] if q["kind"] == "matching")
        assert m["options"] == MATCHING["options"]
        assert sorted(m["matches"]) == sorted(MATCHING["answer"])
        orders.add(tuple(m["matches"]))
    assert len(orders) > 1
    # Scoring: all pairs right earns the points; one swap earns none; garbage is just wrong.
    ids = {q["kind"]: q["id"] for q in body["questions"]}
    def attempt(matching_answer):
        r = student.post(f"/api/v1/library/items/{tid}/attempts", {"answers": [
            {"question_id": ids["single"], "answer": 1},
            {"question_id": ids["matching"], "answer": matching_answer}]})
        assert r.status == 201, r
        return r.json()
    right = attempt(["Россия", "Франция", "Италия"])
    assert right["score"] == 4 and right["max_score"] == 4
    assert not keys_in(right) & {"answer", "answers", "key", "matches"}
    swapped = attempt(["Франция", "Россия", "Италия"])
    assert swapped["score"] == 1 and [x["correct"] for x in swapped["results"]] == [True, False]
    for junk in (["Россия", "Франция"], "Россия", [1, 2, 3], None, ["Россия", "Франция", "Италия", "Испания"]):
        assert attempt(junk)["score"] == 1, junk
    # The keys stay with the author: nobody else reads them of an approved test.
    for who in ("student", "parent", "classteacher", "methodologist"):
        assert node.login(who).get(f"/api/v1/library/items/{tid}/questions").status in (403, 404), who
    assert teacher.get(f"/api/v1/library/items/{tid}/questions").status == 200


def test_the_editor_keys_are_for_the_author_and_the_reviewers(node):
    teacher, methodologist = node.login("teacher"), node.login("methodologist")
    tid = new_test(teacher, "Ключи: кто видит")
    assert put_questions(teacher, tid, [MATCHING]).status == 200
    # A draft: its author only (a methodologist does not even see the item yet).
    assert methodologist.get(f"/api/v1/library/items/{tid}/questions").status == 404
    assert node.login("classteacher").get(f"/api/v1/library/items/{tid}/questions").status == 404
    assert node.login("student").get(f"/api/v1/library/items/{tid}/questions").status == 403  # not an author's role
    # Submitted: the methodologists check the key too; a teacher who is not its author may not.
    r = teacher.post(f"/api/v1/library/items/{tid}/submit")
    assert r.status == 200, r
    got = methodologist.get(f"/api/v1/library/items/{tid}/questions")
    assert got.status == 200 and got.json()["questions"][0]["answer"] == MATCHING["answer"]
    # Not a test: no questions to read.
    scen = teacher.post("/api/v1/library/items", {"type": "scenario", "title": "Сценарий", "grade_min": 5, "grade_max": 5}).json()
    assert teacher.get(f"/api/v1/library/items/{scen['id']}/questions").status == 409


def library_notes(client):
    feed = client.get("/api/v1/notifications?limit=200")
    assert feed.status == 200, feed
    return [n for n in feed.json()["items"] if n["kind"].startswith("library_")]


def test_verdicts_notify_the_author_alone(node):
    teacher, methodologist = node.login("teacher"), node.login("methodologist")
    others = [node.login(w) for w in ("student", "parent", "classteacher", "methodologist", "admin")]
    before = {id(o): len(library_notes(o)) for o in others}
    tid = new_test(teacher, "Уведомления о решении")
    # Submitting a test without questions says which field is missing.
    r = teacher.post(f"/api/v1/library/items/{tid}/submit")
    assert r.status == 409 and (r.json()["error"]["code"], r.json()["error"]["field"]) == ("no_questions", "questions"), r
    assert put_questions(teacher, tid, [MATCHING]).status == 200
    assert teacher.post(f"/api/v1/library/items/{tid}/submit").status == 200
    # Bad verdicts name their field and change nothing.
    for bad, field in (({"verdict": "maybe"}, "verdict"), ({"verdict": "return"}, "comment"),
                       ({"verdict": "reject", "comment": ""}, "comment")):
        r = methodologist.post(f"/api/v1/library/items/{tid}/review", bad)
        assert r.status == 400 and (r.json()["error"]["code"], r.json()["error"]["field"]) == ("bad_review", field), (bad, r)
    assert teacher.post(f"/api/v1/library/items/{tid}/review", {"verdict": "return", "comment": "x"}).status == 403
    assert library_notes(teacher) == [] or all(n["data"]["item_id"] != tid for n in library_notes(teacher))
    # Returned for changes: a draft again, with the comment; the author edits the questions.
    r = methodologist.post(f"/api/v1/library/items/{tid}/review", {"verdict": "return", "comment": "Добавьте пару"})
    assert r.status == 200 and r.json()["status"] == "draft", r
    item = teacher.get(f"/api/v1/library/items/{tid}").json()
    assert item["status"] == "draft" and item["review_comment"] == "Добавьте пару"
    notes = [n for n in library_notes(teacher) if n["data"]["item_id"] == tid]
    assert [(n["kind"], n["data"]["text"], n["data"]["comment"]) for n in notes] == [
        ("library_returned", "Уведомления о решении", "Добавьте пару")]
    assert "student" not in notes[0]
    more = dict(MATCHING, options=MATCHING["options"] + ["Мадрид"], answer=MATCHING["answer"] + ["Испания"])
    assert put_questions(teacher, tid, [more]).status == 200
    assert teacher.post(f"/api/v1/library/items/{tid}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{tid}/review", {"verdict": "approve"}).status == 200
    kinds = [n["kind"] for n in library_notes(teacher) if n["data"]["item_id"] == tid]
    assert kinds == ["library_approved", "library_returned"]  # newest first
    # A rejection is told too.
    other = new_test(teacher, "Отклонённый тест")
    assert put_questions(teacher, other, [MATCHING]).status == 200
    assert teacher.post(f"/api/v1/library/items/{other}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{other}/review", {"verdict": "reject", "comment": "Не по программе"}).json()["status"] == "rejected"
    assert [n["kind"] for n in library_notes(teacher) if n["data"]["item_id"] == other] == ["library_rejected"]
    # Nobody else heard of any of it.
    for o in others:
        assert len(library_notes(o)) == before[id(o)], o.user


def test_bad_item_fields_name_their_field(node):
    teacher = node.login("teacher")
    base = {"type": "scenario", "title": "Поля", "grade_min": 5, "grade_max": 6}
    for change, field in (({"type": "poem"}, "type"), ({"title": ""}, "title"), ({"title": None}, "title"),
                          ({"grade_min": 12}, "grade_min"), ({"grade_max": 0}, "grade_max"),
                          ({"grade_min": 7, "grade_max": 6}, "grade_min"), ({"subject_id": 99999}, "subject_id"),
                          ({"subject_id": "x"}, "subject_id"), ({"description": "д" * 5001}, "description")):
        body = {k: v for k, v in {**base, **change}.items() if v is not None}
        r = teacher.post("/api/v1/library/items", body)
        assert r.status == 400 and (r.json()["error"]["code"], r.json()["error"]["field"]) == ("bad_item", field), (change, r)
    iid = teacher.post("/api/v1/library/items", base).json()["id"]
    r = teacher.patch(f"/api/v1/library/items/{iid}", {"grade_min": 8})  # above the kept grade_max
    assert r.status == 400 and r.json()["error"]["field"] == "grade_min", r
    assert teacher.get(f"/api/v1/library/items/{iid}").json()["grades"] == {"min": 5, "max": 6}

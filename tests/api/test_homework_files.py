"""Files on homework: the teacher attaches material that the lesson's students and parents
download; a student hands in files that only they, their parents and the lesson's teachers
read. Bodies are stored once per content (BLAKE2b), compressed with zstd, and checked on every
read; bad uploads change nothing."""
import hashlib
import os
import socket
import sqlite3


PDF = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 200 + b"%%EOF\n"


def db(node):
    """The node's database, with its blob store (the files' bodies) attached as `store`."""
    c = sqlite3.connect(os.path.join(node.dir, "data", "mes.db"), timeout=10)
    c.execute("ATTACH DATABASE ? AS store", (os.path.join(node.dir, "data", "mes.blobs.db"),))
    return c


def upload(client, path, body, name, ctype="application/pdf"):
    from urllib.parse import quote
    return client.request("POST", f"{path}?name={quote(name)}", raw=body, headers={"Content-Type": ctype})


def homework(node, w, index):
    teacher = node.login("teacher")
    lesson = w["lessons"][index]
    r = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "Прочитать файл", "due_date": lesson["date"]})
    assert r.status == 201
    return lesson, r.json()["id"]


def diary_homework(client, w, lesson, hw):
    d = client.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}").json()
    return next(h for day in d["days"] for l in day["lessons"] for h in l["homework"] if h["id"] == hw)


def test_material_reaches_students_and_parents(node, w):
    teacher, student, parent = node.login("teacher"), node.login("student"), node.login("parent")
    lesson, hw = homework(node, w, 8)
    r = upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "Задачи к уроку.pdf")
    assert r.status == 201, r
    f = r.json()
    assert f["name"] == "Задачи к уроку.pdf" and f["type"] == "application/pdf" and f["size"] == len(PDF)
    listed = diary_homework(parent, w, lesson, hw)["files"]
    assert [x["id"] for x in listed] == [f["id"]] and listed[0]["handed_in"] is False
    grid = teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={w['period']['id']}").json()
    gh = next(h for l in grid["lessons"] if l["id"] == lesson["id"] for h in l["homework"] if h["id"] == hw)
    assert gh["files"][0]["name"] == "Задачи к уроку.pdf"
    for who in (student, parent, teacher, node.login("classteacher")):
        got = who.get(f"/api/v1/homework-files/{f['id']}")
        assert got.status == 200 and got.body == PDF
        assert got.headers["Content-Type"] == "application/pdf"
        assert got.headers["Content-Disposition"].startswith("inline;")
        assert "UTF-8''%D0%97%D0%B0%D0%B4%D0%B0%D1%87%D0%B8" in got.headers["Content-Disposition"]
        assert "sandbox" in got.headers["Content-Security-Policy"]
    assert node.login("medic").get(f"/api/v1/homework-files/{f['id']}").status == 403
    assert node.client().get(f"/api/v1/homework-files/{f['id']}").status == 401
    # Stored once, compressed, whoever uploads the same bytes again.
    again = upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "copy.pdf")
    assert again.status == 201
    with db(node) as c:
        rows = c.execute("SELECT count(*), max(zstd), max(length(s.data)), max(size) FROM blobs b "
                         "JOIN homework_files f ON f.blob_id = b.id JOIN store.bodies s ON s.id = b.id "
                         "WHERE f.homework_id = ?", (hw,)).fetchall()
        count, zstd, stored, size = rows[0]
        assert count == 2  # two files, one body...
        assert c.execute("SELECT count(DISTINCT blob_id) FROM homework_files WHERE homework_id = ?",
                         (hw,)).fetchone()[0] == 1
        assert zstd == 1 and stored < size // 5
    # Active content is never shown inline.
    html = upload(teacher, f"/api/v1/homework/{hw}/files", b"<script>alert(1)</script>", "x.html", "text/html")
    got = student.get(f"/api/v1/homework-files/{html.json()['id']}")
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment;")


def test_hand_in_files_are_private(node, w):
    teacher, student, parent = node.login("teacher"), node.login("student"), node.login("parent")
    lesson, hw = homework(node, w, 9)
    r = upload(student, f"/api/v1/homework/{hw}/submission/files", b"My answer: 42\n", "ответ.txt", "text/plain")
    assert r.status == 201, r
    f = r.json()
    mine = diary_homework(student, w, lesson, hw)["files"]
    assert mine and mine[0]["id"] == f["id"] and mine[0]["handed_in"] is True
    subs = teacher.get(f"/api/v1/homework/{hw}/submissions").json()["items"]
    artem = next(s for s in subs if s["student"]["id"] == w["artem"])
    assert [x["name"] for x in artem["files"]] == ["ответ.txt"]
    for who in (student, parent, teacher):
        got = who.get(f"/api/v1/homework-files/{f['id']}")
        assert got.status == 200 and got.body == b"My answer: 42\n"
    # The class teacher reads the lesson but does not teach it; the medic neither.
    assert node.login("classteacher").get(f"/api/v1/homework-files/{f['id']}").status == 403
    assert node.login("medic").get(f"/api/v1/homework-files/{f['id']}").status == 403
    # Only the author removes a hand-in; only teachers remove material.
    assert teacher.delete(f"/api/v1/homework-files/{f['id']}").status == 403
    material = upload(teacher, f"/api/v1/homework/{hw}/files", b"teacher's sheet " * 10, "sheet.txt", "text/plain").json()
    assert student.delete(f"/api/v1/homework-files/{material['id']}").status == 403
    assert student.delete(f"/api/v1/homework-files/{f['id']}").status == 200
    assert student.get(f"/api/v1/homework-files/{f['id']}").status == 404
    assert [x["id"] for x in diary_homework(student, w, lesson, hw)["files"]] == [material["id"]]
    with db(node) as c:  # the body nobody names any more is gone, from the store too
        gone = hashlib.blake2b(b"My answer: 42\n", digest_size=32).digest()
        assert c.execute("SELECT count(*) FROM blobs WHERE hash = ?", (gone,)).fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM store.bodies WHERE data = ?",
                         (b"My answer: 42\n",)).fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM store.bodies").fetchone()[0] > 0
    assert teacher.delete(f"/api/v1/homework-files/{material['id']}").status == 200


def test_uploads_are_checked_and_change_nothing(node, w):
    teacher, student = node.login("teacher"), node.login("student")
    lesson, hw = homework(node, w, 10)
    with db(node) as c:
        before = c.execute("SELECT count(*) FROM homework_files").fetchone()[0]
    assert upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "").status == 400
    assert upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "../etc/passwd").status == 400
    assert upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "a\x01b.pdf").status == 400
    assert upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "x" * 201).status == 400
    bad_type = upload(teacher, f"/api/v1/homework/{hw}/files", PDF, "ok.pdf", "not a type")
    assert bad_type.status == 400 and bad_type.headers["Connection"] == "close"  # body left unread
    assert teacher.request("POST", f"/api/v1/homework/{hw}/files", raw=PDF).status == 400  # no name
    assert upload(teacher, "/api/v1/homework/999999/files", PDF, "ok.pdf").status == 404
    # Roles and lessons: a student cannot attach material, a teacher cannot hand in, a teacher
    # of another subject cannot attach to this lesson.
    assert upload(student, f"/api/v1/homework/{hw}/files", PDF, "ok.pdf").status == 403
    assert upload(teacher, f"/api/v1/homework/{hw}/submission/files", PDF, "ok.pdf").status == 403
    assert upload(node.login("classteacher"), f"/api/v1/homework/{hw}/files", PDF, "ok.pdf").status == 403
    # Too large: refused from the Content-Length alone, before the body is read.
    with socket.create_connection(("127.0.0.1", node.port)) as s:
        s.sendall((f"POST /api/v1/homework/{hw}/files?name=big.bin HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {teacher.token}\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Length: {200 * 1024 * 1024}\r\n\r\n").encode())
        head = s.recv(4096).decode(errors="replace")
        assert head.startswith("HTTP/1.1 413") and "Connection: close" in head
    with db(node) as c:
        assert c.execute("SELECT count(*) FROM homework_files").fetchone()[0] == before


def test_damaged_bodies_are_refused(node, w):
    teacher, student = node.login("teacher"), node.login("student")
    lesson, hw = homework(node, w, 11)
    body = os.urandom(3000)  # incompressible: stored as is
    f = upload(teacher, f"/api/v1/homework/{hw}/files", body, "noise.bin", "application/octet-stream").json()
    assert student.get(f"/api/v1/homework-files/{f['id']}").body == body
    with db(node) as c:
        c.execute("UPDATE store.bodies SET data = ? WHERE id = (SELECT blob_id FROM homework_files WHERE id = ?)",
                  (bytes([body[0] ^ 1]) + body[1:], f["id"]))
        assert c.execute("SELECT changes()").fetchone()[0] == 1
    r = student.get(f"/api/v1/homework-files/{f['id']}")
    assert r.status == 500 and r.json()["error"]["code"] == "damaged"

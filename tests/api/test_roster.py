"""The roster import, black-box: `mesnode import` on OneRoster sets and the Russian CSV template
(dry run changes nothing, exit codes, errors as FILE:LINE, idempotence, moves, leavers, delta,
tobedeleted, --skip-invalid), and the HTTP upload, preview and apply with their denials."""
import copy
import os
import re
import sqlite3
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import oneroster_set  # noqa: E402
from conftest import run  # noqa: E402


DUMPED = ["municipalities", "institutions", "academic_years", "periods", "classes", "persons",
          "accounts", "role_grants", "staff", "teaching_assignments", "enrollments", "guardians",
          "roster_ids", "roster_contacts"]


@pytest.fixture
def region(tmp_path):
    cfg = tmp_path / "node.yaml"
    cfg.write_text(f'region:\n  name: "Тестовая область"\n  code: "99"\nhttp:\n  listen: "127.0.0.1:0"\n'
                   f'storage:\n  data_dir: "{tmp_path}/data"\n')

    class R:
        dir = tmp_path
        config = str(cfg)
        db = str(tmp_path / "data" / "mes.db")

        def imp(self, s, *flags, name="set", version="1.1", modes=None, **kw):
            d = str(tmp_path / name)
            if s is not None:
                oneroster_set.write(s, d, version, modes=modes, **kw)
            return run("import", "--config", self.config, "--format", "oneroster", d, *flags)

        def q(self, sql, *args):
            with sqlite3.connect(self.db) as c:
                return c.execute(sql, args).fetchall()

        def dump(self):
            """Every table an import writes, in full."""
            with sqlite3.connect(self.db) as c:
                return [(t, c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()) for t in DUMPED]

    return R()


def counts(out):
    """The report's table: kind -> (added, updated, moved, left)."""
    res = {}
    for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", out, re.M):
        res[m.group(1)] = tuple(int(m.group(i)) for i in range(2, 6))
    return res


def person(r, sid):
    return r.q("SELECT local_id FROM roster_ids WHERE kind = 'u' AND source_id = ?", sid)[0][0]


def current_class(r, sid):
    rows = r.q("SELECT c.grade || c.letter FROM enrollments e JOIN classes c ON c.id = e.class_id "
               "WHERE e.student_id = ? AND e.left_on IS NULL", person(r, sid))
    return rows[0][0] if rows else None


def test_import_then_again_changes_nothing(region):
    s = oneroster_set.make(schools=2, classes=2, students=3)
    first = region.imp(s)
    assert first.returncode == 0, first.stdout + first.stderr
    c = counts(first.stdout)
    assert c["students"] == (12, 0, 0, 0)
    assert c["guardians"] == (18, 0, 0, 0)
    assert c["staff"] == (6, 0, 0, 0)
    assert c["enrolments"][0] == 12
    assert c["accounts"][0] == 36
    # every imported person has an account that cannot log in yet, with its roles
    assert region.q("SELECT count(*) FROM accounts WHERE password_hash IS NULL")[0][0] == 36
    roles = dict(region.q("SELECT role, count(*) FROM role_grants GROUP BY role"))
    assert roles == {"student": 12, "parent": 18, "teacher": 4, "school_admin": 2, "class_teacher": 4}
    # guardians' contacts are kept
    assert region.q("SELECT count(*) FROM roster_contacts WHERE phone <> ''")[0][0] == 12
    before = region.dump()
    again = region.imp(s)
    assert again.returncode == 0
    assert all(v == (0, 0, 0, 0) for v in counts(again.stdout).values()), again.stdout
    assert region.dump() == before


def test_oneroster_12_reads_roles_csv(region):
    s = oneroster_set.make(schools=1, classes=1, students=2)
    r = region.imp(s, version="1.2")
    assert r.returncode == 0, r.stdout
    assert counts(r.stdout)["students"][0] == 2
    assert counts(r.stdout)["staff"][0] == 2


def test_bom_crlf_and_quotes(region):
    s = oneroster_set.make(schools=1, classes=1, students=2)
    s["orgs.csv"][1]["name"] = 'МБОУ "СОШ № 1",\nимени "Героя"'
    r = region.imp(s, bom=True, crlf=True)
    assert r.returncode == 0, r.stdout
    assert region.q("SELECT name FROM institutions")[0][0] == 'МБОУ "СОШ № 1",\nимени "Героя"'


def test_windows_1251_is_converted_and_said(region):
    s = oneroster_set.make(schools=1, classes=1, students=2)
    d = region.dir / "set"
    oneroster_set.write(s, str(d))
    text = (d / "users.csv").read_text(encoding="utf-8")
    (d / "users.csv").write_bytes(text.encode("cp1251"))
    r = region.imp(None)
    assert r.returncode == 0, r.stdout
    assert "users.csv: not UTF-8, read as Windows-1251" in r.stdout
    assert ("Петрова",) in region.q("SELECT last_name FROM persons")


def test_dry_run_changes_nothing(region):
    s = oneroster_set.make(schools=1, classes=2, students=2)
    assert region.imp(s).returncode == 0
    before = region.dump()
    s2 = copy.deepcopy(s)
    s2["users.csv"] = [u for u in s2["users.csv"] if u["sourcedId"] != "u1"]
    dry = region.imp(s2, "--dry-run")
    assert dry.returncode == 0, dry.stdout
    assert counts(dry.stdout)["students"] == (0, 0, 0, 1)
    assert "dry run" in dry.stdout
    assert region.dump() == before


def test_dry_run_for_a_node_not_made_yet_creates_nothing(tmp_path):
    """A first import checked before the node exists: compared with an empty database, and
    the data directory is still not there afterwards."""
    data = tmp_path / "not-yet"
    cfg = tmp_path / "node.yaml"
    cfg.write_text(f'region:\n  name: "Тест"\n  code: "50"\nstorage:\n  data_dir: "{data}"\n')
    d = tmp_path / "set"
    d.mkdir()
    oneroster_set.write(oneroster_set.make(schools=1, classes=1, students=2), str(d), "1.1")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dry = run("import", "--config", str(cfg), "--format", "oneroster", str(d), "--dry-run",
              env={"TMPDIR": str(scratch)})
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert counts(dry.stdout)["students"] == (2, 0, 0, 0)
    assert not data.exists()
    assert list(scratch.iterdir()) == []


def test_errors_give_file_line_and_import_nothing(region):
    s = oneroster_set.make(schools=1, classes=2, students=2)
    # a class that does not exist, an unknown school, a bad date, an agent who is no user,
    # a duplicate id, and a row of the wrong width (written by hand below)
    s["enrollments.csv"][-1]["classSourcedId"] = "nope"
    s["classes.csv"][0]["schoolSourcedId"] = "s404"
    s["demographics.csv"][0]["birthDate"] = "2015-02-30"
    s["users.csv"][3]["agentSourcedIds"] = "ghost"
    s["users.csv"].append(dict(s["users.csv"][1]))
    r = region.imp(s)
    assert r.returncode == 1
    out = r.stdout
    assert re.search(r"^enrollments\.csv:\d+: unknown_class: ", out, re.M), out
    assert re.search(r"^classes\.csv:2: unknown_school: ", out, re.M), out
    assert re.search(r"^demographics\.csv:2: bad_date: .*2015-02-30", out, re.M), out
    assert re.search(r"^users\.csv:5: agent_not_user: .*ghost", out, re.M), out
    assert re.search(r"^users\.csv:\d+: duplicate_id: ", out, re.M), out
    assert "nothing was imported" in out
    assert region.q("SELECT count(*) FROM persons")[0][0] == 0
    assert region.q("SELECT count(*) FROM roster_ids")[0][0] == 0
    with open(region.dir / "set" / "orgs.csv", "a") as f:
        f.write("x1,,,Лишнее\n")
    r = region.imp(None)
    assert re.search(r"^orgs\.csv:\d+: row_width: the row has 4 fields; the header has 7", r.stdout, re.M)


def test_missing_files_and_columns(region):
    s = oneroster_set.make(schools=1, classes=1, students=1)
    d = region.dir / "set"
    oneroster_set.write(s, str(d))
    os.unlink(d / "classes.csv")
    r = region.imp(None)
    assert r.returncode == 1
    assert "classes.csv:0: missing_file" in r.stdout
    oneroster_set.write(s, str(d))
    text = (d / "users.csv").read_text().replace("familyName", "lastName", 1)
    (d / "users.csv").write_text(text)
    r = region.imp(None)
    assert "users.csv:1: missing_column: the header lacks the column familyName" in r.stdout


def test_skip_invalid_imports_the_rest(region):
    s = oneroster_set.make(schools=1, classes=2, students=2)
    s["classes.csv"][0]["schoolSourcedId"] = "s404"  # the first homeroom: its students too
    r = region.imp(s, "--skip-invalid")
    assert r.returncode == 1
    assert "depends_on_invalid" in r.stdout
    c = counts(r.stdout)
    assert c["classes"][0] == 1
    assert c["enrolments"][0] == 2
    # the students of the refused class exist, without a class
    assert c["students"][0] == 4


def test_move_keeps_marks_and_missing_student_leaves(region):
    s = oneroster_set.make(schools=1, classes=2, students=2)
    assert region.imp(s).returncode == 0
    assert current_class(region, "u1") == "1А"
    u1 = person(region, "u1")
    # a mark of u1 in 1А
    with sqlite3.connect(region.db) as c:
        cls = c.execute("SELECT id, institution_id FROM classes WHERE grade = 1").fetchone()
        teacher = person(region, "s0-c0-t")
        c.execute("INSERT INTO control_forms (code, name, weight) VALUES ('t', 'Тест', 1) "
                  "ON CONFLICT DO NOTHING")
        cf = c.execute("SELECT id FROM control_forms LIMIT 1").fetchone()[0]
        period = c.execute("SELECT id FROM periods LIMIT 1").fetchone()[0]
        c.execute("INSERT INTO lessons (class_id, subject_id, teacher_id, period_id, date, number) "
                  "VALUES (?, 1, ?, ?, '2026-09-02', 1)", (cls[0], teacher, period))
        lesson = c.execute("SELECT max(id) FROM lessons").fetchone()[0]
        c.execute("INSERT INTO marks (lesson_id, student_id, value, control_form_id, weight, created_by) "
                  "VALUES (?, ?, '5', ?, 1, ?)", (lesson, u1, cf, teacher))
    s2 = copy.deepcopy(s)
    for e in s2["enrollments.csv"]:
        if e["userSourcedId"] == "u1":
            e["classSourcedId"] = "s0-c1"
    s2["users.csv"] = [u for u in s2["users.csv"] if u["sourcedId"] != "u3"]
    r = region.imp(s2)
    assert r.returncode == 0, r.stdout
    c = counts(r.stdout)
    assert c["enrolments"][2] == 1  # moved
    assert c["enrolments"][3] == 1  # u3 left
    assert c["students"][3] == 1
    assert current_class(region, "u1") == "2А"
    assert region.q("SELECT count(*) FROM marks WHERE student_id = ?", u1)[0][0] == 1
    assert region.q("SELECT count(*) FROM enrollments WHERE student_id = ? AND left_on IS NOT NULL", u1)[0][0] == 1
    u3 = person(region, "u3")
    assert region.q("SELECT count(*) FROM persons WHERE id = ?", u3)[0][0] == 1  # never deleted
    assert current_class(region, "u3") is None
    assert region.q("SELECT count(*) FROM role_grants g JOIN accounts a ON a.id = g.account_id "
                    "WHERE a.person_id = ?", u3)[0][0] == 0
    # and once more: nothing
    again = region.imp(s2)
    assert all(v == (0, 0, 0, 0) for v in counts(again.stdout).values()), again.stdout


def test_delta_and_tobedeleted(region):
    s = oneroster_set.make(schools=1, classes=2, students=2)
    assert region.imp(s).returncode == 0
    n = region.q("SELECT count(*) FROM persons")[0][0]
    # a delta: one new student in an existing class (not in the delta's files), one guardian
    # tobedeleted, a teacher leaves the school
    delta = {k: [] for k in s}
    delta["users.csv"] = [
        {"sourcedId": "new1", "status": "active", "orgSourcedIds": "s0", "role": "student",
         "givenName": "Новый", "familyName": "Ученик", "middleName": ""},
        dict(next(u for u in s["users.csv"] if u["sourcedId"] == "u1-m"), status="tobedeleted"),
        dict(next(u for u in s["users.csv"] if u["sourcedId"] == "s0-c0-t"), status="tobedeleted"),
    ]
    delta["enrollments.csv"] = [
        {"sourcedId": "enew1", "status": "active", "classSourcedId": "s0-c1", "schoolSourcedId": "s0",
         "userSourcedId": "new1", "role": "student"},
        {"sourcedId": "e2", "status": "tobedeleted", "classSourcedId": "s0-c0", "schoolSourcedId": "s0",
         "userSourcedId": "u2", "role": "student"},
    ]
    modes = {k: "absent" for k in s}
    modes.update({"users.csv": "delta", "enrollments.csv": "delta"})
    for k in list(delta):
        if k not in ("users.csv", "enrollments.csv"):
            del delta[k]
    r = region.imp(delta, name="delta", modes=modes)
    assert r.returncode == 0, r.stdout
    c = counts(r.stdout)
    assert c["students"] == (1, 0, 0, 0)
    assert c["guardians"][3] == 1
    assert c["staff"][3] == 1
    assert c["enrolments"][0] == 1 and c["enrolments"][3] == 1
    assert region.q("SELECT count(*) FROM persons")[0][0] == n + 1
    assert current_class(region, "new1") == "2А"
    assert current_class(region, "u2") is None
    assert current_class(region, "u1") == "1А"  # the delta said nothing of u1
    t = person(region, "s0-c0-t")
    assert region.q("SELECT count(*) FROM staff WHERE person_id = ?", t)[0][0] == 0
    assert region.q("SELECT count(*) FROM teaching_assignments WHERE teacher_id = ?", t)[0][0] == 0
    assert region.q("SELECT count(*) FROM guardians WHERE guardian_id = ?", person(region, "u1-m"))[0][0] == 0


def test_staff_leaving_a_school_lose_its_roles(region):
    s = oneroster_set.make(schools=2, classes=1, students=1)
    for u in s["users.csv"]:
        if u["sourcedId"] == "s0-dir":
            u["orgSourcedIds"] = "s0,s1"
    assert region.imp(s).returncode == 0
    d = person(region, "s0-dir")
    assert region.q("SELECT count(*) FROM role_grants g JOIN accounts a ON a.id = g.account_id "
                    "WHERE a.person_id = ? AND role = 'school_admin'", d)[0][0] == 2
    for u in s["users.csv"]:
        if u["sourcedId"] == "s0-dir":
            u["orgSourcedIds"] = "s0"
    r = region.imp(s)
    assert counts(r.stdout)["staff"] == (0, 1, 0, 0)
    assert region.q("SELECT i.name FROM role_grants g JOIN accounts a ON a.id = g.account_id "
                    "JOIN institutions i ON i.id = g.institution_id "
                    "WHERE a.person_id = ? AND role = 'school_admin'", d) == [("МБОУ СОШ № 1",)]
    assert region.q("SELECT count(*) FROM staff WHERE person_id = ?", d)[0][0] == 1


def test_usage_errors(region):
    assert run("import").returncode == 2
    assert run("import", "--config", region.config, "--format", "xml", "x").returncode == 2
    assert run("import", "--config", region.config, "--format", "oneroster").returncode == 2
    r = run("import", "--config", region.config, "--format", "oneroster", str(region.dir / "none"))
    assert r.returncode == 1


SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "roster-sample.csv")


def test_russian_template(region):
    s = oneroster_set.make(schools=1, classes=1, students=1)
    s["orgs.csv"][1]["identifier"] = "Школа № 1"
    assert region.imp(s).returncode == 0
    r = run("import", "--config", region.config, "--format", "csv", SAMPLE)
    assert r.returncode == 0, r.stdout + r.stderr
    c = counts(r.stdout)
    assert c["students"] == (3, 0, 0, 0)
    assert c["guardians"] == (3, 0, 0, 0)  # Иванова Елена is the mother of two
    assert c["staff"] == (2, 0, 0, 0)
    assert c["assignments"] == (4, 0, 0, 0)
    assert region.q("SELECT count(*) FROM guardians g JOIN persons p ON p.id = g.guardian_id "
                    "WHERE p.last_name = 'Иванова' AND p.first_name = 'Елена'")[0][0] == 2
    assert region.q("SELECT position FROM staff s JOIN persons p ON p.id = s.person_id "
                    "WHERE p.last_name = 'Гасанов'") == [("директор",)]
    assert region.q("SELECT count(*) FROM role_grants g JOIN accounts a ON a.id = g.account_id "
                    "JOIN persons p ON p.id = a.person_id WHERE p.last_name = 'Гасанов' "
                    "AND g.role = 'school_admin'")[0][0] == 1
    again = run("import", "--config", region.config, "--format", "csv", SAMPLE)
    assert all(v == (0, 0, 0, 0) for v in counts(again.stdout).values()), again.stdout
    # Windows-1251 with commas, and the errors of a messy file
    bad = region.dir / "bad.csv"
    bad.write_bytes(("Тип,Школа,Класс,ФИО,Дата рождения,Родитель 1,Телефон родителя 1\n"
                     "ученик,Школа № 1,5А,Петров Пётр,31.02.2015,,\n"
                     "ученик,Школа № 404,5А,Сидоров Иван,01.02.2015,,\n"
                     "ученик,Школа № 1,5А,Одно,01.02.2015,,\n"
                     "ученик,Школа № 1,5А,Кузнецов Иван,01.02.2015,Кузнецова Анна,\n"
                     "директор,Школа № 1,,Кто То,,,\n").encode("cp1251"))
    r = run("import", "--config", region.config, "--format", "csv", str(bad))
    assert r.returncode == 1
    out = r.stdout
    assert "read as Windows-1251" in out
    assert re.search(r"^bad\.csv:2: bad_date: ", out, re.M), out
    assert re.search(r"^bad\.csv:3: unknown_school: .*Школа № 404", out, re.M), out
    assert re.search(r"^bad\.csv:4: bad_name: ", out, re.M), out
    assert re.search(r"^bad\.csv:5: bad_contact: ", out, re.M), out
    assert re.search(r"^bad\.csv:6: bad_kind: ", out, re.M), out


# ---- HTTP: upload, preview, apply -------------------------------------------------------------

def zipped(s, version="1.1"):
    """A OneRoster set as the bytes of a zip (its files under a folder, as people zip them)."""
    import io
    import tempfile
    import zipfile
    with tempfile.TemporaryDirectory() as d:
        oneroster_set.write(s, d, version)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(os.listdir(d)):
                z.write(os.path.join(d, name), "export/" + name)
        return buf.getvalue()


def post_file(c, path, data, ctype):
    return c.request("POST", path, raw=data, headers={"Content-Type": ctype})


def test_http_preview_then_apply(node):
    admin = node.login("admin")
    s = oneroster_set.make(schools=1, classes=1, students=2, year=2031)
    s["enrollments.csv"][-1]["classSourcedId"] = "missing-class"
    r = post_file(admin, "/api/v1/roster/uploads", zipped(s), "application/zip")
    assert r.status == 201, r
    p = r.json()
    assert p["format"] == "oneroster" and p["valid"] is False
    err = [e for e in p["report"]["errors"] if e["code"] == "unknown_class"]
    assert err and err[0]["file"] == "enrollments.csv" and err[0]["line"] > 1
    assert err[0]["params"]["value"] == "missing-class"
    assert p["report"]["counts"]["students"]["added"] == 2
    # the preview changed nothing
    students = admin.get("/api/v1/institutions/1/classes")
    # applying it as it is: refused, nothing imported
    bad = admin.post(f"/api/v1/roster/uploads/{p['id']}/apply", {})
    assert bad.status == 422 and bad.json()["error"]["code"] == "invalid"
    # fixed and uploaded again: applied
    s["enrollments.csv"][-1]["classSourcedId"] = "s0-c0"
    r = post_file(admin, "/api/v1/roster/uploads", zipped(s), "application/zip")
    assert r.status == 201 and r.json()["valid"] is True, r
    up = r.json()["id"]
    # the new upload replaced the sender's earlier one, which is gone
    gone = admin.post(f"/api/v1/roster/uploads/{p['id']}/apply", {})
    assert gone.status == 404, gone
    ok = admin.post(f"/api/v1/roster/uploads/{up}/apply", {})
    assert ok.status == 200, ok
    assert ok.json()["report"]["counts"]["students"]["added"] == 2
    again = admin.post(f"/api/v1/roster/uploads/{up}/apply", {})
    assert again.status == 409 and again.json()["error"]["code"] == "already_applied"
    # the imported students are there
    found = admin.get("/api/v1/institutions").json()["items"]
    school = next(i for i in found if i["name"] == "МБОУ СОШ № 1")
    classes = admin.get(f"/api/v1/institutions/{school['id']}/classes").json()["items"]
    assert [c["name"] for c in classes] == ["1А"]
    kids = admin.get(f"/api/v1/classes/{classes[0]['id']}/students").json()["items"]
    assert len(kids) == 2
    assert students.status == 200


def test_http_denials(node):
    s = oneroster_set.make(schools=1, classes=1, students=1, year=2032)
    data = zipped(s)
    # not logged in, and roles that do not import
    assert post_file(node.client(), "/api/v1/roster/uploads", data, "application/zip").status == 401
    for who in ("teacher", "parent", "student", "classteacher"):
        c = node.login(who)
        assert post_file(c, "/api/v1/roster/uploads", data, "application/zip").status == 403, who
    # a school admin: no OneRoster set
    sa = node.login("schooladmin")
    r = post_file(sa, "/api/v1/roster/uploads", data, "application/zip")
    assert r.status == 403 and r.json()["error"]["code"] == "forbidden"
    # the template for another school: an error in the preview; for their own: fine
    other = ("Тип;Школа;Класс;ФИО;Дата рождения;Родитель 1;Телефон родителя 1\n"
             "ученик;Гимназия № 2;5А;Чужой Ученик;01.01.2015;Чужая Мама;+79280000001\n").encode()
    r = post_file(sa, "/api/v1/roster/uploads", other, "text/csv")
    assert r.status == 201
    assert [e["code"] for e in r.json()["report"]["errors"]] == ["other_school"]
    own = ("Тип;Школа;Класс;ФИО;Дата рождения;Родитель 1;Телефон родителя 1\n"
           "ученик;Школа № 1;5А;Новый Ученик Иванович;01.01.2015;Новая Мама;+79280000002\n").encode()
    r = post_file(sa, "/api/v1/roster/uploads", own, "text/csv")
    assert r.status == 201 and r.json()["valid"], r
    own_id = r.json()["id"]
    # the region admin's upload is not the school admin's to apply
    admin = node.login("admin")
    ra = post_file(admin, "/api/v1/roster/uploads", data, "application/zip").json()["id"]
    assert sa.post(f"/api/v1/roster/uploads/{ra}/apply", {}).status == 404
    assert sa.post("/api/v1/roster/uploads/999999/apply", {}).status == 404
    assert node.login("teacher").post(f"/api/v1/roster/uploads/{own_id}/apply", {}).status == 403
    # bad input
    assert sa.post(f"/api/v1/roster/uploads/{own_id}/apply", {"skip": True}).status == 400
    assert post_file(admin, "/api/v1/roster/uploads", b"", "text/csv").status == 400
    ok = sa.post(f"/api/v1/roster/uploads/{own_id}/apply", {"skip_invalid": False})
    assert ok.status == 200, ok
    assert ok.json()["report"]["counts"]["students"]["added"] == 1

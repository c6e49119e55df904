"""`mesnode gen` on a small region: everyone gets an account that waits for activation, with the
grants the records give, and `--export-oneroster` writes the region as a OneRoster 1.1 CSV set
whose counts match the database, whose references all resolve and whose fields are quoted."""
import csv
import filecmp
import os
import sqlite3

import pytest

from conftest import run
from oneroster_set import COLUMNS as ONEROSTER_COLUMNS

DEMO_LOGINS = {"admin", "schooladmin", "teacher", "classteacher", "student", "parent", "medic",
               "canteen", "methodologist"}

# The export writes every column of OneRoster 1.1, as the roster's test sets do (one list of
# them, in oneroster_set.py), and demographics' optional ones too.
COLUMNS = {
    **ONEROSTER_COLUMNS,
    "manifest.csv": ["propertyName", "value"],
    "demographics.csv": ONEROSTER_COLUMNS["demographics.csv"] + [
        "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
        "cityOfBirth", "publicSchoolResidenceStatus"],
}

ODD_LAST = 'Иванов, "младший"'  # a comma and quotes: the field must be quoted
ODD_FIRST = "Анна-\nМария"       # a line break inside a field


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """A small region whose first generated student got a name that needs quoting."""
    base = tmp_path_factory.mktemp("export")
    data = str(base / "data")
    r = run("gen", "--scale", "small", "--data", data)
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(os.path.join(data, "mes.db"))
    (odd,) = db.execute("SELECT min(e.student_id) FROM enrollments e JOIN accounts a ON "
                        "a.person_id = e.student_id WHERE a.password_hash IS NULL").fetchone()
    db.execute("UPDATE persons SET last_name = ?, first_name = ? WHERE id = ?",
               (ODD_LAST, ODD_FIRST, odd))
    db.commit()
    db.close()
    return base, data, odd


def read(out, name):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS[name], name
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def scalar(db, sql):
    return db.execute(sql).fetchone()[0]


def test_everyone_has_an_account_waiting_for_activation(region):
    _, data, _ = region
    db = sqlite3.connect(os.path.join(data, "mes.db"))
    assert scalar(db, "SELECT count(*) FROM persons p WHERE NOT EXISTS "
                      "(SELECT 1 FROM accounts a WHERE a.person_id = p.id)") == 0
    with_password = {r[0] for r in db.execute(
        "SELECT login FROM accounts WHERE password_hash IS NOT NULL")}
    assert with_password == DEMO_LOGINS
    # Made logins: the transliterated last name and the person's id.
    for login, pid in db.execute("SELECT login, person_id FROM accounts WHERE "
                                 "password_hash IS NULL LIMIT 50"):
        assert login.endswith(str(pid)) and login[:-len(str(pid))].isalpha(), login
    # The grants a real region would have, for every account not yet activated.
    def missing(sql):
        return scalar(db, "SELECT count(*) FROM " + sql)
    assert missing("enrollments e JOIN accounts a ON a.person_id = e.student_id WHERE "
                   "e.left_on IS NULL AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE "
                   "g.account_id = a.id AND g.role = 'student')") == 0
    assert missing("(SELECT DISTINCT guardian_id FROM guardians) JOIN accounts a ON "
                   "a.person_id = guardian_id WHERE NOT EXISTS (SELECT 1 FROM role_grants g "
                   "WHERE g.account_id = a.id AND g.role = 'parent')") == 0
    assert missing("staff s JOIN accounts a ON a.person_id = s.person_id WHERE "
                   "s.position LIKE 'учитель%' AND NOT EXISTS (SELECT 1 FROM role_grants g "
                   "WHERE g.account_id = a.id AND g.role = 'teacher' AND "
                   "g.institution_id = s.institution_id)") == 0
    assert missing("staff s JOIN accounts a ON a.person_id = s.person_id WHERE "
                   "s.position = 'директор' AND NOT EXISTS (SELECT 1 FROM role_grants g "
                   "WHERE g.account_id = a.id AND g.role = 'school_admin' AND "
                   "g.institution_id = s.institution_id)") == 0
    assert missing("classes c JOIN accounts a ON a.person_id = c.class_teacher_id WHERE "
                   "NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.account_id = a.id AND "
                   "g.role = 'class_teacher' AND g.institution_id = c.institution_id)") == 0
    # No region-wide role for generated people besides student and parent.
    assert missing("role_grants g JOIN accounts a ON a.id = g.account_id WHERE "
                   "a.password_hash IS NULL AND g.institution_id IS NULL AND g.role NOT IN "
                   "('student', 'parent')") == 0
    db.close()


def test_export_matches_the_database(region):
    base, data, odd = region
    out = str(base / "oneroster")
    r = run("gen", "--data", data, "--export-oneroster", out)
    assert r.returncode == 0, r.stderr
    assert "exported the region as OneRoster 1.1" in r.stdout
    db = sqlite3.connect(os.path.join(data, "mes.db"))

    manifest = {r["propertyName"]: r["value"] for r in read(out, "manifest.csv")}
    assert manifest["manifest.version"] == "1.0" and manifest["oneroster.version"] == "1.1"
    for name in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments",
                 "demographics"):
        assert manifest["file." + name] == "bulk"
        assert os.path.exists(os.path.join(out, name + ".csv"))

    orgs = {o["sourcedId"]: o for o in read(out, "orgs.csv")}
    districts = [o for o in orgs.values() if o["type"] == "district"]
    schools = [o for o in orgs.values() if o["type"] == "school"]
    assert len(districts) == scalar(db, "SELECT count(*) FROM municipalities")
    assert len(schools) == scalar(db, "SELECT count(*) FROM institutions")
    assert {s["identifier"] for s in schools} >= {"Школа № 1", "Гимназия № 2", "Лицей № 3"}
    for s in schools:
        assert orgs[s["parentSourcedId"]]["type"] == "district"

    sessions = {s["sourcedId"]: s for s in read(out, "academicSessions.csv")}
    years = [s for s in sessions.values() if s["type"] == "schoolYear"]
    terms = [s for s in sessions.values() if s["type"] == "term"]
    assert len(years) == scalar(db, "SELECT count(*) FROM academic_years")
    assert len(terms) == scalar(db, "SELECT count(*) FROM periods")
    assert all(sessions[t["parentSourcedId"]]["type"] == "schoolYear" for t in terms)
    assert all(y["startDate"] < y["endDate"] and "/" in y["title"] for y in years)

    courses = {c["sourcedId"]: c for c in read(out, "courses.csv")}
    codes = {r[0] for r in db.execute("SELECT code FROM subjects")}
    for c in courses.values():
        assert c["subjectCodes"] in codes and c["courseCode"] == c["subjectCodes"]
        assert sessions[c["schoolYearSourcedId"]]["type"] == "schoolYear"
        assert orgs[c["orgSourcedId"]]["type"] == "school"

    classes = {c["sourcedId"]: c for c in read(out, "classes.csv")}
    homerooms = {k: c for k, c in classes.items() if c["classType"] == "homeroom"}
    scheduled = {k: c for k, c in classes.items() if c["classType"] == "scheduled"}
    assert len(homerooms) == scalar(db, "SELECT count(*) FROM classes")
    assert len(scheduled) == scalar(db, "SELECT count(*) FROM teaching_assignments")
    codes_by_school = {(c["schoolSourcedId"], c["classCode"]) for c in homerooms.values()}
    for c in classes.values():
        assert orgs[c["schoolSourcedId"]]["type"] == "school"
        assert all(t in sessions for t in c["termSourcedIds"].split(","))
        assert c["grades"] == "%02d" % int(c["classCode"][:-1])
    for c in scheduled.values():
        course = courses[c["courseSourcedId"]]
        assert course["subjectCodes"] == c["subjectCodes"] and c["subjectCodes"] in codes
        assert (c["schoolSourcedId"], c["classCode"]) in codes_by_school
        assert c["title"] == c["classCode"] + " " + course["title"]
    assert any(c["title"] == "5А" for c in homerooms.values())

    users = {u["sourcedId"]: u for u in read(out, "users.csv")}
    roles = [u["role"] for u in users.values()]
    assert roles.count("student") == scalar(
        db, "SELECT count(DISTINCT student_id) FROM enrollments WHERE left_on IS NULL")
    assert roles.count("parent") + roles.count("guardian") == scalar(
        db, "SELECT count(DISTINCT g.guardian_id) FROM guardians g JOIN enrollments e ON "
            "e.student_id = g.student_id AND e.left_on IS NULL")
    assert roles.count("teacher") + roles.count("administrator") + roles.count("aide") == scalar(
        db, "SELECT count(*) FROM (SELECT person_id FROM staff UNION SELECT teacher_id FROM "
            "teaching_assignments)")
    assert roles.count("administrator") == scalar(
        db, "SELECT count(DISTINCT a.person_id) FROM role_grants g JOIN accounts a ON "
            "a.id = g.account_id WHERE g.role = 'school_admin'")
    assert set(roles) <= {"student", "parent", "guardian", "teacher", "administrator", "aide"}
    logins = dict(db.execute("SELECT 'user-' || person_id, login FROM accounts"))
    for k, u in users.items():
        assert u["username"] == logins[k] and u["enabledUser"] == "true"
        assert u["orgSourcedIds"] and all(
            orgs[o]["type"] == "school" for o in u["orgSourcedIds"].split(","))
        # Agents both ways: a student's guardians list the student, and the other way round.
        for a in filter(None, u["agentSourcedIds"].split(",")):
            assert a in users, (k, a)
            assert k in users[a]["agentSourcedIds"].split(","), (k, a)
        if u["role"] == "student":
            assert u["agentSourcedIds"] and u["grades"]
        if u["role"] in ("parent", "guardian"):
            assert u["agentSourcedIds"]
    assert users["user-2"]["username"] == "schooladmin"
    assert users["user-2"]["role"] == "administrator"

    # Quoting: the odd name comes back whole, and is quoted in the file.
    assert users["user-%d" % odd]["familyName"] == ODD_LAST
    assert users["user-%d" % odd]["givenName"] == ODD_FIRST
    raw = open(os.path.join(out, "users.csv"), encoding="utf-8").read()
    assert '"Иванов, ""младший"""' in raw and '"Анна-\nМария"' in raw

    enrollments = read(out, "enrollments.csv")
    assert len({e["sourcedId"] for e in enrollments}) == len(enrollments)
    for e in enrollments:
        assert e["classSourcedId"] in classes and e["userSourcedId"] in users, e
        assert e["schoolSourcedId"] == classes[e["classSourcedId"]]["schoolSourcedId"]
    students = [e for e in enrollments if e["role"] == "student"]
    teaching = [e for e in enrollments if e["role"] == "teacher" and e["primary"] == "false"]
    leading = [e for e in enrollments if e["role"] == "teacher" and e["primary"] == "true"]
    assert len(students) == scalar(db, "SELECT count(*) FROM enrollments WHERE left_on IS NULL")
    assert all(classes[e["classSourcedId"]]["classType"] == "homeroom" for e in students)
    assert all(users[e["userSourcedId"]]["role"] == "student" for e in students)
    assert len(teaching) == len(scheduled)
    assert all(classes[e["classSourcedId"]]["classType"] == "scheduled" for e in teaching)
    assert len(leading) == scalar(db, "SELECT count(*) FROM classes WHERE class_teacher_id "
                                      "IS NOT NULL")
    assert all(classes[e["classSourcedId"]]["classType"] == "homeroom" for e in leading)
    assert len(students) + len(teaching) + len(leading) == len(enrollments)

    demographics = read(out, "demographics.csv")
    assert [d["sourcedId"] for d in demographics] == list(users)
    births = dict(db.execute("SELECT 'user-' || id, birth_date FROM persons"))
    for d in demographics:
        assert d["birthDate"] == births[d["sourcedId"]]
        assert d["sex"] in ("male", "female")
    mothers = {"user-%d" % r[0] for r in db.execute(
        "SELECT guardian_id FROM guardians WHERE relation = 'mother'")}
    sex = {d["sourcedId"]: d["sex"] for d in demographics}
    assert all(sex[m] == "female" for m in mothers if m in sex)
    db.close()

    # Stable: a second export of the same region writes the same bytes.
    again = str(base / "again")
    assert run("gen", "--data", data, "--export-oneroster", again).returncode == 0
    for name in COLUMNS:
        assert filecmp.cmp(os.path.join(out, name), os.path.join(again, name), shallow=False)


def test_export_with_a_new_region_and_refusals(tmp_path):
    data, out = str(tmp_path / "data"), str(tmp_path / "out")
    r = run("gen", "--scale", "small", "--data", data, "--export-oneroster", out)
    assert r.returncode == 0, r.stderr
    assert "generated the small region" in r.stdout and "exported" in r.stdout
    assert len(read(out, "users.csv")) > 1000
    # No region to export; an output that cannot be a directory.
    empty = run("gen", "--data", str(tmp_path / "empty"), "--export-oneroster",
                str(tmp_path / "o2"))
    assert empty.returncode == 1 and "holds no region to export" in empty.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = run("gen", "--data", data, "--export-oneroster", str(blocker / "sub"))
    assert bad.returncode == 1 and "mesnode gen:" in bad.stderr


def test_the_export_imports_into_an_empty_node_and_again_changes_nothing(region, tmp_path):
    """What `gen` writes, `mesnode import` reads: a region moves from one node to an empty one
    with the same people, classes and links, the odd name whole; a second import adds
    nothing."""
    base, data, odd = region
    out = str(base / "oneroster-again")
    assert run("gen", "--data", data, "--export-oneroster", out).returncode == 0
    cfg = tmp_path / "node.yaml"
    cfg.write_text(f'region:\n  name: "Тест"\n  code: "50"\nstorage:\n'
                   f'  data_dir: "{tmp_path / "node"}"\n')
    first = run("import", "--config", str(cfg), "--format", "oneroster", out)
    assert first.returncode == 0, first.stdout + first.stderr
    src = sqlite3.connect(os.path.join(data, "mes.db"))
    dst = sqlite3.connect(str(tmp_path / "node" / "mes.db"))
    users = len(read(out, "users.csv"))
    assert scalar(dst, "SELECT count(*) FROM persons") == users
    assert scalar(dst, "SELECT count(*) FROM accounts WHERE password_hash IS NULL") == users
    for table in ("institutions", "classes", "guardians", "teaching_assignments"):
        assert scalar(dst, f"SELECT count(*) FROM {table}") == \
            scalar(src, f"SELECT count(*) FROM {table}"), table
    assert scalar(dst, "SELECT count(*) FROM enrollments WHERE left_on IS NULL") == \
        scalar(src, "SELECT count(*) FROM enrollments WHERE left_on IS NULL")
    assert scalar(dst, f"SELECT count(*) FROM persons WHERE last_name = '{ODD_LAST.replace(chr(39), chr(39) * 2)}' "
                       f"AND first_name = '{ODD_FIRST}'") == 1
    again = run("import", "--config", str(cfg), "--format", "oneroster", out)
    assert again.returncode == 0, again.stdout + again.stderr
    rows = [line.split() for line in again.stdout.splitlines() if line[:1].isalpha()]
    counts = {r[0]: r[1:] for r in rows if len(r) == 5 and r[1].isdigit()}
    assert counts and all(v == ["0", "0", "0", "0"] for v in counts.values()), again.stdout

"""Query plans of the hot paths (docs/testing.md, "Query plans"): a node started with
MES_QUERY_PLANS=FILE writes, for every statement the first time a connection prepares it, its
EXPLAIN QUERY PLAN and whether the connection is the writer's (node/db.h, db_set_role). This
module runs what a school day does (a teacher's marks, attendance, homework and period marks, a
student's hand-in, a parent's absence notice; the diary, the journal grid, a student's marks,
notifications read, library searches; «Москвёнок»'s day pages and the canteen's sales) and fails on any statement that reads a large table by a
full SCAN, naming the statement and its plan. Every statement the writer ran is checked, and
every read the flows made."""
import json
import os
import re
import sqlite3
from urllib.parse import urlencode

import pytest

from conftest import ServedNode, run

# Tables that stay small whatever the region's size (a row per school, year, subject, ...): a
# scan of these is no cost. Every other table of the schema counts as large, new ones too.
SMALL = {"municipalities", "institutions", "academic_years", "periods", "subjects",
         "control_forms", "bells", "node_secrets", "change_counters", "channel_state",
         "channel_versions", "fed_regions", "fed_hub_key", "fed_key_statements"}

# Scans known today, each fixed by another part of issue 14; remove an entry with its fix (an
# entry that no statement matches any more fails the test, so the list only shrinks). Keyed by
# the table scanned and a fragment of the statement's SQL.
KNOWN: set = set()

# Scans in a plan that never run as scans, with the reason; these stay.
EXEMPT = {
    # Seeding the control forms at start (journal.c) upserts into a parent table of marks:
    # SQLite plans a pass over marks to settle deferred foreign-key violations, and skips it
    # at run time when there are none (the node defers no constraint).
    ("marks", "INSERT INTO control_forms (code, name, weight)"),
    # The region admin's list of every device token reads them all (a school's goes by its
    # index; accounts.c, accounts_devices).
    ("device_tokens", "LEFT JOIN accounts a ON a.id = d.created_by ORDER BY d.id DESC"),
}

SQL_WORDS = {"where", "join", "on", "left", "inner", "cross", "natural", "order", "group", "limit",
             "using", "set", "values", "as", "union", "except", "intersect", "window", "having",
             "select", "from", "indexed", "not", "outer"}


@pytest.fixture(scope="module")
def plans_file(tmp_path_factory):
    return str(tmp_path_factory.mktemp("plans") / "plans.jsonl")


@pytest.fixture(scope="module")
def node(plans_file):
    n = ServedNode(http='  access_log: "off"\n', env={"MES_QUERY_PLANS": plans_file})
    yield n
    code = n.stop()
    assert code == 0, n.last_output[-4000:]


def names(sql):
    """{name in the plan: table} for the tables and aliases of a statement."""
    out = {}
    for m in re.finditer(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", sql, re.I):
        table, alias = m.group(1), m.group(2)
        out[table] = table
        if alias and alias.lower() not in SQL_WORDS:
            out[alias] = table
    return out


def scans(record, large):
    """(table, plan line) for every full pass over a large table in a recorded plan: a SCAN,
    through the table or one of its indexes (the index orders the pass, it does not narrow it).
    A virtual table's SCAN is its own search (FTS5's MATCH); a subquery's is of its rows."""
    alias = names(record["sql"])
    subqueries = {m.group(1) for row in record["plan"]
                  for m in [re.match(r"(?:CO-ROUTINE|MATERIALIZE) (\w+)", row["detail"])] if m}
    found = []
    for row in record["plan"]:
        m = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX \w+)?$", row["detail"])
        if m and m.group(1) not in subqueries:
            table = alias.get(m.group(1), m.group(1))
            if table in large:
                found.append((table, row["detail"]))
    return found


def show(record):
    lines = [f"[{record['role']}] {record['sql']}"]
    depth = {0: 0}
    for row in record["plan"]:
        depth[row["id"]] = depth.get(row["parent"], 0) + 1
        lines.append("    " + "  " * depth[row["id"]] + row["detail"])
    return "\n".join(lines)


def ok(r, status=200):
    assert r.status == status, r


def school_day(node, w):
    """The flows whose statements are checked."""
    teacher, parent = node.login("teacher"), node.login("parent")
    student, classteacher = node.login("student"), node.login("classteacher")
    lesson, other = w["lessons"][2], w["lessons"][4]
    period = w["period"]["id"]
    # The teacher: a mark, changed and removed; attendance; homework; a period mark.
    m = teacher.post(f"/api/v1/lessons/{lesson['id']}/marks",
                     {"student_id": w["artem"], "value": "5", "control_form": "control"})
    ok(m, 201)
    ok(teacher.patch(f"/api/v1/marks/{m.json()['id']}", {"value": "4"}))
    m2 = teacher.post(f"/api/v1/lessons/{other['id']}/marks", {"student_id": w["artem"], "value": "3",
                                                                 "control_form": "test"})
    ok(m2, 201)
    ok(teacher.delete(f"/api/v1/marks/{m2.json()['id']}"))
    ok(teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                       body={"student_id": w["artem"], "status": "absent"}))
    hw = teacher.post(f"/api/v1/lessons/{lesson['id']}/homework", {"text": "№ 1-3", "due_date": lesson["date"]})
    ok(hw, 201)
    ok(teacher.request("PUT", "/api/v1/period-marks", body={
        "student_id": w["artem"], "subject_id": w["math"], "period_id": period, "value": "5"}))
    # The student hands the homework in; the teacher answers.
    ok(student.request("PUT", f"/api/v1/homework/{hw.json()['id']}/submission", body={"done": True, "text": "42"}))
    ok(teacher.request("PUT", f"/api/v1/homework/{hw.json()['id']}/submissions/{w['artem']}",
                       body={"feedback": "Верно"}))
    # The parent files an absence notice.
    ok(parent.post(f"/api/v1/students/{w['artem']}/absence-notices",
                   {"from": lesson["date"], "to": lesson["date"], "reason": "Болел"}), 201)
    # The reads: the diary, the journal grid, a student's marks, notices, notifications read.
    ok(parent.get(f"/api/v1/students/{w['artem']}/diary?from={lesson['date']}&to={lesson['date']}"))
    ok(parent.get(f"/api/v1/students/{w['artem']}/diary"))
    ok(student.get(f"/api/v1/students/{w['artem']}/diary"))
    ok(teacher.get(f"/api/v1/journal?class={w['c5a']}&subject={w['math']}&period={period}"))
    ok(parent.get(f"/api/v1/students/{w['artem']}/marks?period={period}"))
    ok(classteacher.get(f"/api/v1/classes/{w['c5a']}/absence-notices"))
    # The teacher's day, the class teacher's summary, the plan read, written and shrunk.
    ok(teacher.get(f"/api/v1/teachers/me/lessons?date={lesson['date']}"))
    ok(classteacher.get("/api/v1/teachers/me/lessons"))
    ok(classteacher.get(f"/api/v1/classes/{w['c5a']}/summary?period={period}"))
    plan = f"/api/v1/plans?class={w['c5a']}&subject={w['math']}"
    ok(teacher.request("PUT", plan, body={"topics": [{"title": "Числа", "hours": 2}, {"title": "Дроби", "hours": 1}]}))
    ok(teacher.request("PUT", plan, body={"topics": [{"title": "Числа", "hours": 1}]}))
    ok(teacher.get(plan))
    feed = parent.get("/api/v1/notifications")
    ok(feed)
    ids = [i["id"] for i in feed.json()["items"]]
    assert ids, "the school day notified the parent of nothing"
    ok(parent.post("/api/v1/notifications/read", {"ids": ids}))
    ok(parent.post("/api/v1/notifications/read", {"all": True}))
    # The administration: a school's lists, finding people and accounts (in a school, in a
    # class, and region-wide by a last name and a login), a class's letters, the audit log.
    sa, admin = node.login("schooladmin"), node.login("admin")
    s1 = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}["Школа № 1"]
    for path in (f"/api/v1/institutions/{s1}/staff", f"/api/v1/institutions/{s1}/assignments",
                 f"/api/v1/institutions/{s1}/persons?{urlencode({'q': 'Иван'})}",
                 f"/api/v1/classes/{w['c5a']}/enrollments", f"/api/v1/classes/{w['c5a']}/groups",
                 f"/api/v1/classes/{w['c5a']}/letters",
                 f"/api/v1/accounts?institution_id={s1}&{urlencode({'q': 'ван'})}",
                 f"/api/v1/accounts?class_id={w['c5a']}&state=inactive",
                 f"/api/v1/audit?institution_id={s1}",
                 "/api/v1/devices"):
        ok(sa.get(path))
    ok(admin.get(f"/api/v1/accounts?{urlencode({'q': 'иванов'})}"))
    ok(admin.get("/api/v1/accounts?q=stud"))
    ok(admin.get("/api/v1/audit?action=login&from=2026-01-01"))
    ok(admin.get("/api/v1/devices"))
    ok(admin.get(f"/api/v1/devices?institution_id={s1}"))
    # «Москвёнок»'s day pages as they open (the latest day with data, the next school day's
    # menu), the canteen's sales a page at a time, and a student's purchases.
    canteen = node.login("canteen")
    for path in (f"/api/v1/institutions/{s1}/passage?date=latest", f"/api/v1/classes/{w['c5a']}/presence?date=latest",
                 f"/api/v1/institutions/{s1}/meals/reconciliation?date=latest"):
        ok(sa.get(path))
    day = canteen.get(f"/api/v1/institutions/{s1}/meals/sales?date=latest&limit=5")
    ok(day)
    assert day.json()["items"], "the showcase sold nothing"
    ok(canteen.get(f"/api/v1/institutions/{s1}/meals/sales?date={day.json()['date']}&limit=5"
                   f"&before={day.json()['items'][-1]['id']}"))
    ok(canteen.get(f"/api/v1/institutions/{s1}/menu?date=next"))
    ok(parent.get(f"/api/v1/students/{w['artem']}/meals/purchases"))
    # The library: searches by words, by filters, and both.
    for q in ({"q": "уравнения"}, {"q": "строение клетки", "type": "scenario"}, {"subject": w["math"]},
              {"type": "test"}, {"q": "дробей", "grade": 5}):
        ok(teacher.get(f"/api/v1/library/items?{urlencode(q)}"))


def large_tables(node):
    """Every table of the node's schema but the SMALL ones."""
    db = sqlite3.connect(f"file:{os.path.join(node.dir, 'data', 'mes.db')}?mode=ro", uri=True)
    tables = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    return {t for t in tables if t not in SMALL and not t.startswith(("sqlite_", "library_fts_"))}


def test_no_full_scan_of_a_large_table(node, w, plans_file):
    school_day(node, w)
    large = large_tables(node)
    assert {"lessons", "marks", "attendance", "persons", "enrollments", "notifications"} <= large
    records = {}
    with open(plans_file) as f:
        for line in f:
            r = json.loads(line)
            records.setdefault((r["role"], r["sql"]), r)
    roles = {role for role, _ in records}
    assert roles == {"worker", "writer"}, roles
    # The flows reached what they are meant to check.
    sql = "\n".join(s for _, s in records)
    for table in ("marks", "attendance", "homework", "absence_notices", "notifications", "library_items"):
        assert re.search(rf"\b(INSERT INTO|UPDATE|FROM)\s+{table}\b", sql), table
    bad, seen_known = [], set()
    for r in records.values():
        for table, detail in scans(r, large):
            known = {k for k in KNOWN if k[0] == table and k[1] in r["sql"]}
            seen_known |= known
            if not known and not any(k[0] == table and k[1] in r["sql"] for k in EXEMPT):
                bad.append(f"{detail}:\n{show(r)}")
    assert not bad, "full scans of large tables:\n\n" + "\n\n".join(bad)
    assert seen_known == KNOWN, f"no longer scanned, remove from KNOWN: {KNOWN - seen_known}"


def test_the_reports_volumes_read_only_their_month(node, tmp_path):
    """The monthly statistics report's «Москвёнок» volumes (federation/report.c: passage and
    meals by day and grade) go school by school through the per-school-day indexes of
    passage_events, sales and ledger, so that they read the month's rows however many months
    the tables hold: no statement of theirs passes over a large table. The report's other
    sections are not checked here."""
    plans = tmp_path / "report-plans.jsonl"
    r = run("report", "--config", node.config, "--print", env={"MES_QUERY_PLANS": str(plans)})
    assert r.returncode == 0, r.stderr
    large = large_tables(node)
    with open(plans) as f:
        records = [json.loads(line) for line in f]
    volumes = [x for x in records if re.search(r"\b(passage_events|sales|ledger)\b", x["sql"])]
    assert len(volumes) == 2, [x["sql"] for x in volumes]
    bad = [f"{detail}:\n{show(x)}" for x in volumes for _table, detail in scans(x, large)]
    assert not bad, "full scans of large tables:\n\n" + "\n\n".join(bad)


def test_the_plan_reader_finds_scans():
    """The checker itself: aliases resolve to their tables; searches and small tables pass."""
    plan = lambda *d: [{"id": i + 2, "parent": 0, "detail": x} for i, x in enumerate(d)]  # noqa: E731
    large = {"lessons", "marks"}
    r = {"sql": "SELECT * FROM marks m JOIN lessons AS l ON l.id = m.lesson_id, subjects s",
         "plan": plan("SCAN m", "SEARCH l USING INTEGER PRIMARY KEY (rowid=?)", "SCAN s")}
    assert scans(r, large) == [("marks", "SCAN m")]
    r = {"sql": "UPDATE marks SET value = 1 WHERE id = :id",
         "plan": plan("SEARCH marks USING INTEGER PRIMARY KEY (rowid=?)")}
    assert scans(r, large) == []
    r = {"sql": "SELECT id FROM lessons WHERE date BETWEEN :a AND :b",
         "plan": plan("SCAN lessons USING COVERING INDEX lessons_by_teacher")}
    assert scans(r, large) == [("lessons", "SCAN lessons USING COVERING INDEX lessons_by_teacher")]
    r = {"sql": "DELETE FROM lessons WHERE note = :x", "plan": plan("SCAN lessons")}
    assert scans(r, large) == [("lessons", "SCAN lessons")]
    r = {"sql": "SELECT i.id FROM (SELECT rowid AS rid FROM library_fts WHERE library_fts MATCH :q) f "
                "JOIN marks i ON i.id = f.rid, (SELECT f.id FROM lessons f)",
         "plan": plan("CO-ROUTINE f", "SCAN library_fts VIRTUAL TABLE INDEX 0:M4", "SCAN f",
                      "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)")}
    assert scans(r, large | {"library_fts"}) == []

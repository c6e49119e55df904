"""Statistics for the Ministry: a region's monthly report with small cells suppressed (and
their complements), nothing personal in it (every person's name and login is looked for),
signed and queued in an outbox that survives the hub being down, pushed exactly once, and a
forged or foreign report refused by the hub. «Москвёнок»'s passage and meals volumes by day
and grade: the demo's showcase day and today's turnstile, buffet, payments and refund as the
report counts them, small cells suppressed with their money; malformed sections refused by the
hub; the Ministry's tables and CSV of the volumes."""
import datetime
import hashlib
import hmac
import json
import sqlite3
import time

import pytest

from conftest import Client, Served, login, minisign_seed, run, signed_headers


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("stats")
    assert run("gen", "--scale", "demo", "--data", str(d / "hub")).returncode == 0
    hub = Served(d, "hub", f'mode: hub\nregion:\n  name: "Москва"\n  code: "77"\nhttp:\n  listen: "127.0.0.1:PORT"\n'
                           f'  access_log: "off"\nstorage:\n  data_dir: "{d / "hub"}"\n')
    hub.start()
    hub_key = (d / "hub" / "node.pub").read_text().splitlines()[1]
    assert run("gen", "--scale", "demo", "--data", str(d / "r50")).returncode == 0
    cfg = d / "r50.yaml"
    cfg.write_text(f'region:\n  name: "Регион 50"\n  code: "50"\nstorage:\n  data_dir: "{d / "r50"}"\n'
                   f'federation:\n  hub_public_key: "{hub_key}"\n  hub_url: "http://127.0.0.1:{hub.port}"\n'
                   f'  k_suppression: 5\n')
    yield {"d": d, "hub": hub, "cfg": cfg}
    hub.stop()


def report(world):
    r = run("report", "--config", str(world["cfg"]), "--print")
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads(r.stdout)


def keys_in(obj):
    if isinstance(obj, dict):
        return set(obj) | set().union(*(keys_in(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(keys_in(v) for v in obj)) if obj else set()
    return set()


def test_nothing_personal_in_a_report(world):
    text, rep = report(world)
    db = sqlite3.connect(f"file:{world['d'] / 'r50' / 'mes.db'}?mode=ro", uri=True)
    people = db.execute("SELECT last_name, first_name, middle_name, coalesce(birth_date, '') FROM persons").fetchall()
    roles = {"admin", "school_admin", "teacher", "class_teacher", "student", "parent", "medic",
             "methodologist", "operator", "ministry"}
    logins = [l for (l,) in db.execute("SELECT login FROM accounts") if l not in roles]
    assert len(people) > 200 and logins
    for last, first, middle, birth in people:
        for s in (last, f"{last} {first}", f"{first} {middle}".strip(), birth):
            if s:
                assert s not in text, s
    for name in logins:
        assert f'"{name}"' not in text, name
    assert not keys_in(rep) & {"name", "login", "person", "person_id", "student_id", "account_id", "id"}
    assert rep["region"] == "50" and rep["coverage"]["students"] > 200


def test_small_cells_are_suppressed_with_their_complements(world):
    _, rep = report(world)
    k = rep["k"]
    assert k == 5
    suppressed = 0
    for cell in rep["marks"]:
        if cell.get("suppressed"):
            suppressed += 1
            assert cell["students"] is None and cell["marks"] is None and cell["distribution"] is None
            continue
        assert cell["students"] >= k
        hidden = [v for v in cell["distribution"].values() if v.get("suppressed")]
        shown = [v for v in cell["distribution"].values() if not v.get("suppressed")]
        assert all(v["students"] >= k for v in shown)
        assert len(hidden) != 1, cell  # one gap beside a published total would be derivable
        suppressed += len(hidden)
    for g in rep["attendance"]["grades"]:
        assert g.get("suppressed") or g["students"] >= k
    assert sum(1 for g in rep["attendance"]["grades"] if g.get("suppressed")) != 1
    for u in rep["usage"]:
        assert u.get("suppressed") or u["accounts"] >= k
    assert suppressed > 0  # the demo has small groups: the rule did work


def test_outbox_survives_the_hub_down_and_each_report_lands_once(world):
    d, cfg, hub = world["d"], world["cfg"], world["hub"]
    r = run("report", "--config", str(cfg))
    assert r.returncode == 0 and "report 1" in r.stdout, r.stderr
    # Not enrolled yet: refused, kept.
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "403" in r.stderr
    assert run("enroll", "--config", str(hub.config), "--region", "50", "--pubkey", str(d / "r50" / "node.pub")).returncode == 0
    # The hub down: kept, with a backoff.
    hub.stop()
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "0 sent" in r.stderr
    assert run("report", "--config", str(cfg)).returncode == 0  # report 2, queued behind
    hub.log = open(d / "hub2.log", "w")
    hub.start()
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 0 and "reports: 2 sent" in r.stdout, r.stdout + r.stderr
    assert "reports: 0 sent" in run("sync", "--config", str(cfg), "--only", "push").stdout
    # The region lost track of a send the hub took: sent again, taken once.
    db = sqlite3.connect(d / "r50" / "mes.db")
    db.execute("UPDATE fed_outbox SET sent_at = NULL WHERE sequence = 2")
    db.commit()
    assert "reports: 1 sent" in run("sync", "--config", str(cfg), "--only", "push").stdout
    hubdb = sqlite3.connect(f"file:{d / 'hub' / 'mes.db'}?mode=ro", uri=True)
    assert hubdb.execute("SELECT region, sequence FROM fed_reports ORDER BY sequence").fetchall() == [("50", 1), ("50", 2)]


def test_forged_and_foreign_reports_are_refused(world):
    d, cfg = world["d"], world["cfg"]
    assert run("report", "--config", str(cfg)).returncode == 0  # report 3
    db = sqlite3.connect(d / "r50" / "mes.db")
    body = db.execute("SELECT body FROM fed_outbox WHERE sequence = 3").fetchone()[0]
    # A changed byte: the report's signature fails at the hub; the report stays in the outbox.
    forged = bytes(body).replace(b'"k":5', b'"k":2')
    assert forged != bytes(body)
    db.execute("UPDATE fed_outbox SET body = ? WHERE sequence = 3", (forged,))
    db.commit()
    # The hub refuses it for good (400): kept with the hub's answer, never sent again, and the
    # report queued after it goes on.
    assert run("report", "--config", str(cfg)).returncode == 0  # report 4
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "report 3 refused by the hub" in r.stderr and "signature" in r.stderr, r.stderr
    assert "(1 sent" in r.stderr, r.stderr
    kept = db.execute("SELECT refused_at IS NOT NULL, sent_at, last_error FROM fed_outbox WHERE sequence = 3").fetchone()
    assert kept[0] == 1 and kept[1] is None and "signature" in kept[2], kept
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 0 and "reports: 0 sent" in r.stdout, r.stdout + r.stderr
    hubdb = sqlite3.connect(f"file:{d / 'hub' / 'mes.db'}?mode=ro", uri=True)
    assert hubdb.execute("SELECT sequence FROM fed_reports WHERE region = '50' ORDER BY sequence").fetchall() == [
        (1,), (2,), (4,)]
    # The region's operator sees it: refused, and why.
    served = Served(d, "r50serve", world["cfg"].read_text() + 'http:\n  listen: "127.0.0.1:PORT"\n  access_log: "off"\n')
    served.start()
    try:
        admin = login(f"http://127.0.0.1:{served.port}", "admin", "demo")
        st = admin.get("/api/v1/federation/status").json()["outbox"]
        assert st["refused"] == 1 and st["waiting"] == 0 and st["sent"] == 3, st
        assert st["last_refused"]["sequence"] == 3 and "signature" in st["last_refused"]["last_error"], st
    finally:
        served.stop()
    # A correctly signed report that claims another region: 403, which a region not enrolled
    # yet also gets, so it waits in the outbox and is tried again.
    foreign = json.loads(bytes(body))
    foreign["region"] = "77"
    path = d / "foreign.json"
    path.write_text(json.dumps(foreign, separators=(",", ":")))
    assert run("sign", "--key", str(d / "r50" / "node.key"), str(path)).returncode == 0
    db.execute("UPDATE fed_outbox SET body = ?, signature = ?, refused_at = NULL WHERE sequence = 3",
               (path.read_bytes(), (d / "foreign.json.minisig").read_text()))
    db.commit()
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "403" in r.stderr, r.stderr
    assert db.execute("SELECT refused_at, sent_at FROM fed_outbox WHERE sequence = 3").fetchone() == (None, None)
    assert hubdb.execute("SELECT count(*) FROM fed_reports").fetchone()[0] == 3


def test_ministry_reports_from_both_regions(world):
    d, hub = world["d"], world["hub"]
    hub_base = f"http://127.0.0.1:{hub.port}"
    hub_key = (d / "hub" / "node.pub").read_text().splitlines()[1]
    # A second region reports too; a third is enrolled and never reports.
    assert run("gen", "--scale", "demo", "--data", str(d / "r51")).returncode == 0
    cfg51 = d / "r51.yaml"
    cfg51.write_text(f'region:\n  name: "Регион <51> & Co"\n  code: "51"\nstorage:\n  data_dir: "{d / "r51"}"\n'
                     f'federation:\n  hub_public_key: "{hub_key}"\n  hub_url: "{hub_base}"\n')
    assert run("report", "--config", str(cfg51)).returncode == 0
    assert run("enroll", "--config", str(hub.config), "--region", "51", "--pubkey", str(d / "r51" / "node.pub"),
               "--name", "Регион <51> & Co").returncode == 0
    assert run("sync", "--config", str(cfg51), "--only", "push").returncode == 0
    assert run("keygen", "--secret", str(d / "r52.key"), "--public", str(d / "r52.pub")).returncode == 0
    assert run("enroll", "--config", str(hub.config), "--region", "52", "--pubkey", str(d / "r52.pub"), "--name", "Тихий регион").returncode == 0
    admin = login(hub_base, "admin", "demo")
    r = admin.post("/api/v1/persons", {"last_name": "Минпросвещения", "first_name": "Аналитик",
                                       "account": {"login": "ministry1", "password": "ministry-pass-1", "roles": [{"role": "ministry"}]}})
    assert r.status == 201, r
    ministry = login(hub_base, "ministry1", "ministry-pass-1")
    summary = ministry.get("/api/v1/ministry/summary").json()
    rows = {x["region"]: x for x in summary["regions"]}
    assert set(rows) == {"50", "51"}
    for code, cfg in (("50", world["cfg"]), ("51", cfg51)):
        rep = json.loads(run("report", "--config", str(cfg), "--print").stdout)
        assert rows[code]["students"] == rep["coverage"]["students"]
        assert rows[code]["attendance_rate"] == pytest.approx(rep["attendance"]["total"]["rate"], abs=1e-4)
        assert 2 <= rows[code]["average_mark"] <= 5
    csv = ministry.get(f"/api/v1/ministry/summary?period={summary['period']}&format=csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("region,name,schools") and len(lines) == 3
    assert '"Регион <51> & Co"' in csv.body.decode("utf-8-sig")
    subjects = ministry.get("/api/v1/ministry/subjects").json()["rows"]
    assert {"50", "51"} == {x["region"] for x in subjects}
    # Every subject the region's own report marks (whichever the month so far has) is there.
    own = json.loads(run("report", "--config", str(world["cfg"]), "--print").stdout)
    marked = {m["subject"] for m in own["marks"]}
    assert marked and marked <= {x["subject"] for x in subjects if x["region"] == "50"}
    # Names beside the codes: the subject's from the hub's list, the region's as enrolled.
    names = {x["subject"]: x["subject_name"] for x in subjects}
    assert names.get("math") == "Математика" and all(names[c] and names[c] != c for c in marked), names
    assert {x["region_name"] for x in subjects if x["region"] == "51"} == {"Регион <51> & Co"}
    sub_csv = ministry.get("/api/v1/ministry/subjects?format=csv").body.decode("utf-8-sig")
    assert sub_csv.startswith("region,region_name,subject,subject_name,average_mark,marks") and "Математика" in sub_csv
    for chart in ("coverage", "performance", "attendance", "usage"):
        svg = ministry.get(f"/api/v1/ministry/charts/{chart}.svg")
        assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml", chart
        body = svg.body.decode()
        assert body.startswith("<svg") and "<script" not in body
        if chart != "usage":
            assert "Регион &lt;51&gt; &amp; Co" in body and "<51>" not in body
    fresh = {x["region"]: x for x in ministry.get("/api/v1/ministry/regions").json()["items"]}
    assert fresh["50"]["last_sequence"] == 4 and fresh["51"]["days_since_report"] == 0
    assert fresh["52"]["last_report_at"] is None
    # Who may not look.
    teacher = login(hub_base, "teacher", "demo")
    assert teacher.get("/api/v1/ministry/summary").status == 403
    assert Client(hub_base).get("/api/v1/ministry/summary").status == 401
    assert ministry.get("/api/v1/ministry/summary?period=2026-13").status == 400
    assert ministry.get("/api/v1/ministry/charts/secret.svg").status == 404


def test_the_usage_chart_shows_every_month(world):
    """Logins per month over time: every month any region reported gets its bar, however many
    (it stopped at 63 before), each the sum of the regions' latest reports of the month."""
    from test_federation import login
    d, hub = world["d"], world["hub"]
    hubdb = sqlite3.connect(d / "hub" / "mes.db")
    months = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(70)]
    for i, month in enumerate(months):
        for seq, logins in ((2 * i + 1, 1), (2 * i + 2, 1000 + i)):  # only the latest counts
            hubdb.execute("INSERT INTO fed_reports (region, sequence, period, hash, body, signature) "
                          "VALUES ('99', ?, ?, ?, ?, '')",
                          (seq, month, bytes(32), json.dumps({"usage": [{"logins": logins}]}).encode()))
    hubdb.commit()
    try:
        reported = {p for (p,) in hubdb.execute("SELECT DISTINCT period FROM fed_reports")}
        admin = login(f"http://127.0.0.1:{hub.port}", "admin", "demo")
        svg = admin.get("/api/v1/ministry/charts/usage.svg")
        assert svg.status == 200
        body = svg.body.decode()
        assert len(reported) > 70 and body.count("<rect") == len(reported)
        assert ">2000-01</text>" in body and ">1000</text>" in body
        assert ">2005-10</text>" in body and ">1069</text>" in body
    finally:
        hubdb.execute("DELETE FROM fed_reports WHERE region = '99'")
        hubdb.commit()
        hubdb.close()


def test_serve_syncs_on_its_schedule_and_shows_its_status(world):
    d, hub = world["d"], world["hub"]
    hub_key = (d / "hub" / "node.pub").read_text().splitlines()[1]
    assert run("gen", "--scale", "demo", "--data", str(d / "r53")).returncode == 0
    text = (f'region:\n  name: "Регион 53"\n  code: "53"\nhttp:\n  listen: "127.0.0.1:PORT"\n  access_log: "off"\n'
            f'storage:\n  data_dir: "{d / "r53"}"\nfederation:\n  enabled: true\n  hub_public_key: "{hub_key}"\n'
            f'  hub_url: "http://127.0.0.1:{hub.port}"\n  sync_interval_s: 10\n')
    srv = Served(d, "r53", text)
    assert run("report", "--config", str(srv.config)).returncode == 0  # this month's, by hand
    assert run("enroll", "--config", str(hub.config), "--region", "53", "--pubkey", str(d / "r53" / "node.pub")).returncode == 0
    base = srv.start()
    try:
        metrics = ""
        for _ in range(100):
            metrics = Client(base).get("/metrics").body.decode()
            if "mes_federation_reports_sent_total 2" in metrics:
                break
            time.sleep(0.1)
        # By hand this month's report, by the schedule last month's: both taken by the hub.
        assert "mes_federation_reports_sent_total 2" in metrics, metrics[-1500:]
        assert "mes_federation_outbox_reports 0" in metrics
        admin = login(base, "admin", "demo")
        status = admin.get("/api/v1/federation/status").json()
        assert status["mode"] == "region" and status["outbox"] == {"waiting": 0, "sent": 2, "first_waiting": None,
                                                                     "refused": 0, "last_refused": None}
        assert status["schedule"]["last_sync_at"] > 0 and status["schedule"]["interval_s"] == 10
        # The hub published nothing yet: the pull fails and says why.
        assert "published" in status["schedule"]["last_error"] and status["schedule"]["errors"] >= 1
        assert login(base, "teacher", "demo").get("/api/v1/federation/status").status == 403
        hub_status = login(f"http://127.0.0.1:{hub.port}", "admin", "demo").get("/api/v1/federation/status").json()
        assert hub_status["mode"] == "hub" and hub_status["hub"]["regions_enrolled"] >= 3
        hubdb = sqlite3.connect(f"file:{d / 'hub' / 'mes.db'}?mode=ro", uri=True)
        periods = [p for (p,) in hubdb.execute("SELECT period FROM fed_reports WHERE region = '53' ORDER BY sequence")]
        assert len(periods) == 2 and periods[0] > periods[1]  # this month's, then the one before
    finally:
        srv.stop()


# ---- «Москвёнок»'s volumes: passage and meals by day and grade ---------------------------------

def region_db(world):
    return sqlite3.connect(f"file:{world['d'] / 'r50' / 'mes.db'}?mode=ro", uri=True)


def volumes(world, month):
    """The region's report of `month` (printed, not queued): its passage and meals rows by
    (day, grade)."""
    r = run("report", "--config", str(world["cfg"]), "--period", month, "--print")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    passage = {(x["day"], x["grade"]): x for x in rep["passage"]}
    meals = {(x["day"], x["grade"]): x for x in rep["meals"]}
    assert len(passage) == len(rep["passage"]) and len(meals) == len(rep["meals"])
    return rep, passage, meals


def suppressed(cell, keep=()):
    return cell.get("suppressed") is True and all(v is None for k, v in cell.items() if k not in keep + ("suppressed",))


def no_small_cells(rep):
    """Every published passage row and meals cell counts at least k students; every other one
    shows nothing but its day and grade."""
    k = rep["k"]
    for row in rep["passage"]:
        assert suppressed(row, ("day", "grade")) or row["students"] >= k, row
    for row in rep["meals"]:
        for name in ("sales", "free", "topups", "refunds"):
            cell = row[name]
            assert set(cell) <= {"students", "count", "kopecks", "suppressed"}, cell
            assert suppressed(cell) or cell["students"] >= k, row


BUFFET = [1000, 3500, 4500, 2000, 5500]  # the demo's buffet by id: tea, a bun, a yoghurt, an apple, a сырник
BREAKFAST, LUNCH = 9500, 14500


def test_the_showcase_day_in_the_report(world):
    """The demo's showcase (node/demo/terminals.c): each pupil of Школа № 1 who was not ill on its
    last school day entered and left once, grades 1-4 had breakfast free, every third other
    pupil paid for it, every other one for lunch and every fourth for a bun or an apple with
    tea; every student's opening balance came the evening before. The report's cells are those
    figures per grade, computed here from the showcase's rules, small ones suppressed."""
    db = region_db(world)
    school = db.execute("SELECT id FROM institutions WHERE short_name = 'Школа № 1'").fetchone()[0]
    day = db.execute("SELECT max(day) FROM passage_events").fetchone()[0]
    if day is None:
        pytest.skip("no lesson has taken place at Школа № 1 yet this school year: the showcase has no day")
    everyone = db.execute(
        "SELECT e.student_id, c.grade FROM enrollments e JOIN classes c ON c.id = e.class_id "
        "WHERE e.left_on IS NULL AND c.institution_id = ? ORDER BY e.student_id", (school,)).fetchall()
    ill = {s for (s,) in db.execute("SELECT a.student_id FROM attendance a JOIN lessons l ON l.id = a.lesson_id "
                                    "WHERE l.date = ? AND a.status = 'ill'", (day,))}
    db.close()
    pupils = [(s, g) for s, g in everyone if s not in ill]
    grades = sorted({g for _, g in everyone})
    rep, passage, meals = volumes(world, day[:7])
    eve = (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()
    assert {d for d, _ in passage} == {day} and {d for d, _ in meals} <= {day, eve}
    k = rep["k"]
    for g in grades:
        came = [s for s, gg in pupils if gg == g]
        row = passage[(day, g)]
        if len(came) >= k:
            assert (row["students"], row["entries"], row["exits"]) == (len(came), len(came), len(came)), row
        else:
            assert suppressed(row, ("day", "grade")), row
        # The buffet's day, sale by sale, as the showcase made it.
        paid = {}
        for i, (s, gg) in enumerate(pupils):
            if gg != g:
                continue
            free = 1 <= g <= 4
            prices = ([BREAKFAST] if not free and i % 3 == 0 else []) + ([LUNCH] if i % 2 == 0 else []) + \
                     ([BUFFET[1 + (i // 4) % 4] + BUFFET[0]] if i % 4 == 1 else [])
            if prices:
                paid[s] = prices
        expect = {"sales": (len(paid), sum(len(p) for p in paid.values()), sum(sum(p) for p in paid.values())),
                  "free": (len(came), len(came), BREAKFAST * len(came)) if 1 <= g <= 4 else (0, 0, 0),
                  "refunds": (0, 0, 0)}
        for name, (students, count, kopecks) in expect.items():
            cell = meals[(day, g)][name]
            if students >= k:
                assert (cell["students"], cell["count"], cell["kopecks"]) == (students, count, kopecks), (g, name, cell)
            else:
                assert suppressed(cell), (g, name, cell)
        assert suppressed(meals[(day, g)]["topups"])
        # The opening balances, the evening before (when that is in the same month).
        if eve[:7] == day[:7]:
            whole = [s for s, gg in everyone if gg == g]
            cell = meals[(eve, g)]["topups"]
            assert (cell["students"], cell["count"], cell["kopecks"]) == (
                len(whole), len(whole), sum(100000 + (s * 7919 % 41) * 10000 for s in whole)), (g, cell)
            assert all(suppressed(meals[(eve, g)][n]) for n in ("sales", "free", "refunds"))
    no_small_cells(rep)
    assert any(suppressed(meals[(day, g)]["free"]) for g in grades)  # grades 5 and up eat no free breakfast


def card_of(student):
    """The demo's card of a student of Школа № 1 (node/demo/terminals.c, CARD_OF)."""
    return f"{student * 2654435761 % 4294967296:08X}"


PAYMENT_SECRET = "statistics-payment-secret-0123456789"


def topup(base, account, amount, payment_id):
    raw = json.dumps({"payment_id": payment_id, "account": account, "amount": amount,
                      "paid_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
    ts = str(int(time.time()))
    sig = hmac.new(PAYMENT_SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return Client(base).request("POST", "/api/v1/meals/topups", raw=raw,
                                headers={"X-Payment-Timestamp": ts, "X-Payment-Signature": sig})


def test_todays_passage_and_meals_through_the_terminals(world):
    """Today at Школа № 1 through the real routes: six pupils of grade 5 enter and four leave,
    three of grade 9 enter; five of grade 5 buy a bun and two of grade 9; five of grade 5 are
    topped up by the payment provider and one of grade 9; the canteen refunds one of the buns.
    Today's cells of grade 5 show exactly that; grade 9's, and the one refund, are suppressed
    with their money."""
    d = world["d"]
    srv = Served(d, "r50-served", f'region:\n  name: "Регион 50"\n  code: "50"\nhttp:\n  listen: "127.0.0.1:PORT"\n'
                                  f'  access_log: "off"\nstorage:\n  data_dir: "{d / "r50"}"\n'
                                  f'meals:\n  payment_secret: "{PAYMENT_SECRET}"\n')
    base = srv.start()
    try:
        sa = login(base, "schooladmin", "demo")
        school = sa.get("/api/v1/me").json()["institutions"][0]["id"]
        classes = sa.get(f"/api/v1/institutions/{school}/classes").json()["items"]
        by_grade = {}
        for c in classes:
            by_grade.setdefault(c["grade"], []).extend(
                s["id"] for s in sa.get(f"/api/v1/classes/{c['id']}/students").json()["items"])
        five, nine = sorted(by_grade[5])[:6], sorted(by_grade[9])[:3]
        tokens = {}
        for scope in ("passage", "meals"):
            r = sa.post("/api/v1/devices", {"name": f"Проверка {scope}", "scopes": [scope], "institution_id": school})
            assert r.status == 201, r
            tokens[scope] = Client(base, token=r.json()["token"])
        now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        events = [(s, "in") for s in five + nine] + [(s, "out") for s in five[:4]]
        r = tokens["passage"].post("/api/v1/passage/events", {"events": [
            {"key": f"stat-{i}", "seq": i + 1, "card": card_of(s), "direction": way, "at": now}
            for i, (s, way) in enumerate(events)]})
        assert r.status == 200, r
        assert all(x["decision"] == "allow" for x in r.json()["results"]), r.json()
        bun = next(i["id"] for i in sa.get(f"/api/v1/institutions/{school}/buffet/items").json()["items"]
                   if i["name"] == "Булочка с маком")
        sales = []
        for i, s in enumerate(five[:5] + nine[:2]):
            r = tokens["meals"].post("/api/v1/meals/sales", {"key": f"stat-sale-{i}", "seq": i + 1, "card": card_of(s),
                                                             "items": [{"id": bun, "quantity": 1}]})
            assert r.status == 200 and r.json()["approved"] is True, r
            sales.append(r.json()["sale"])
        for i, s in enumerate(five[:5] + nine[:1]):
            account = sa.get(f"/api/v1/students/{s}/meals/account").json()["account_number"]
            assert topup(base, account, 50000, f"stat-pay-{i}").status in (200, 201)
        canteen = login(base, "canteen", "demo")
        r = canteen.post(f"/api/v1/meals/sales/{sales[0]}/refund", {"reason": "Пробили дважды"})
        assert r.status == 200, r
    finally:
        srv.stop()
    today = datetime.date.today().isoformat()
    rep, passage, meals = volumes(world, today[:7])
    row = passage[(today, 5)]
    assert (row["students"], row["entries"], row["exits"]) == (6, 6, 4), row
    assert suppressed(passage[(today, 9)], ("day", "grade"))
    five_today, nine_today = meals[(today, 5)], meals[(today, 9)]
    assert five_today["sales"] == {"students": 5, "count": 5, "kopecks": 5 * 3500}  # the refunded one was sold too
    assert five_today["topups"] == {"students": 5, "count": 5, "kopecks": 5 * 50000}
    assert suppressed(five_today["refunds"]) and suppressed(five_today["free"])
    for name in ("sales", "free", "topups", "refunds"):
        assert suppressed(nine_today[name]), (name, nine_today)
    no_small_cells(rep)
    # Nothing about a person: no student's id or card.
    text = json.dumps(rep)
    for s in five + nine:
        assert card_of(s) not in text


def post_report(world, text):
    """POSTs the report `text` (bytes) to the hub as region 50 would: signed by the region's key,
    in a request signed by it too. The answer."""
    d = world["d"]
    path = d / "volumes-report.json"
    path.write_bytes(text)
    assert run("sign", "--key", str(d / "r50" / "node.key"), str(path)).returncode == 0
    body = json.dumps({"report": text.decode(), "signature": (d / "volumes-report.json.minisig").read_text()}).encode()
    uri = "/federation/v1/reports"
    headers = signed_headers(minisign_seed(d / "r50" / "node.key"), "50", "POST", uri, body)
    return Client(f"http://127.0.0.1:{world['hub'].port}").request(
        "POST", uri, raw=body, headers={**headers, "Content-Type": "application/json"})


def test_the_hub_takes_the_volumes_and_refuses_malformed_ones(world):
    """The region's report with its volumes is taken by the hub, and the Ministry's tables and
    CSV sum its published cells per region and per day. The same report with a malformed
    passage or meals section is refused with 400 bad_section, naming what is wrong, and the
    hub keeps nothing of it."""
    today = datetime.date.today().isoformat()
    month = today[:7]
    rep, passage, meals = volumes(world, month)
    rep["sequence"] = 50
    text = lambda r: json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()  # noqa: E731
    hubdb = sqlite3.connect(f"file:{world['d'] / 'hub' / 'mes.db'}?mode=ro", uri=True)
    count = lambda: hubdb.execute("SELECT count(*) FROM fed_reports").fetchone()[0]  # noqa: E731
    admin = login(f"http://127.0.0.1:{world['hub'].port}", "admin", "demo")
    before = count()
    good_meals = next(m for m in rep["meals"] if not m["sales"].get("suppressed"))
    good_passage = next(p for p in rep["passage"] if not p.get("suppressed"))

    def variant(section, change):
        r = json.loads(json.dumps(rep))
        change(r[section], r)
        return r

    def first_published(rows):
        return next(x for x in rows if not x.get("suppressed") and not x.get("sales", {}).get("suppressed"))

    bad = {
        "small cell shown": (variant("passage", lambda rows, r: first_published(rows).update(students=rep["k"] - 1,
                                                                                             entries=rep["k"] - 1)),
                             "counts fewer than k persons"),
        "a day of another month": (variant("passage", lambda rows, r: rows.append(dict(good_passage, day="2001-01-01"))),
                                   "is not a day of the report's month"),
        "grade 12": (variant("passage", lambda rows, r: first_published(rows).update(grade=12)), "is not a grade"),
        "a day and grade twice": (variant("meals", lambda rows, r: rows.append(json.loads(json.dumps(good_meals)))),
                                  "come twice"),
        "a student's id": (variant("meals", lambda rows, r: first_published(rows)["sales"].update(student_id=17)),
                           "sales.student_id: is not a key of the cell"),
        "money shown in a suppressed cell": (
            variant("meals", lambda rows, r: rows[0]["refunds"].update(kopecks=4000) if rows[0]["refunds"].get("suppressed")
                    else None), "refunds.kopecks: is shown in a suppressed cell"),
        "a negative sum": (variant("meals", lambda rows, r: first_published(rows)["sales"].update(kopecks=-1)),
                           "sales.kopecks: is not a whole number"),
        "not rows": (variant("meals", lambda rows, r: r.update(meals={"sales": 5})), "meals: not an array of rows"),
    }
    assert rep["meals"][0]["refunds"].get("suppressed")
    for what, (r, says) in bad.items():
        answer = post_report(world, text(r))
        assert answer.status == 400, (what, answer)
        error = answer.json()["error"]
        assert error["code"] == "bad_section" and says in error["message"], (what, error)
        assert count() == before, what
    # A sequence the refused ones claimed stays free: the good report takes it.
    answer = post_report(world, text(rep))
    assert answer.status == 201, answer
    assert count() == before + 1
    # The Ministry's month per region: sums of the published cells.
    regions = {x["region"]: x for x in admin.get(f"/api/v1/ministry/volumes?period={month}").json()["regions"]}
    row = regions["50"]

    def total(rows, pick):
        values = [pick(x) for x in rows]
        values = [v for v in values if v is not None]
        return sum(values) if values else None

    days_in = {x["day"] for x in rep["passage"] if x["students"] is not None}
    assert row["passage_days"] == len(days_in) >= 1
    assert row["entries"] == total(rep["passage"], lambda x: x["entries"])
    assert row["students_entered_per_day"] == pytest.approx(total(rep["passage"], lambda x: x["students"]) / len(days_in), abs=0.05)
    for key, cell, count_key in (("sales", "sales", "count"), ("sales_kopecks", "sales", "kopecks"),
                                 ("free_meals", "free", "count"), ("topups_kopecks", "topups", "kopecks"),
                                 ("refunds", "refunds", "count"), ("refunds_kopecks", "refunds", "kopecks")):
        assert row[key] == total(rep["meals"], lambda x: x[cell][count_key]), key
    # Per day: today's figures of grade 5 (grade 9's were suppressed), and the CSV of the same.
    days = admin.get(f"/api/v1/ministry/volumes/days?period={month}").json()["rows"]
    mine = {x["day"]: x for x in days if x["region"] == "50"}
    t = mine[today]
    assert (t["students_entered"], t["entries"], t["exits"]) == (6, 6, 4)
    assert (t["sales"], t["sales_kopecks"], t["topups"], t["topups_kopecks"]) == (5, 17500, 5, 250000)
    assert t["refunds"] is None and t["refunds_kopecks"] is None
    csv = admin.get(f"/api/v1/ministry/volumes/days?period={month}&format=csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0] == ("region,region_name,day,students_entered,entries,exits,sales,sales_kopecks,free_meals,"
                        "free_kopecks,topups,topups_kopecks,refunds,refunds_kopecks")
    assert f'"50","Регион 50","{today}",6,6,4,5,17500,' in csv.body.decode("utf-8-sig")
    month_csv = admin.get(f"/api/v1/ministry/volumes?period={month}&format=csv").body.decode("utf-8-sig")
    assert month_csv.startswith("region,name,passage_days,students_entered_per_day,entries,exits,sales,sales_kopecks")
    assert f'"50","Регион 50",{row["passage_days"]},' in month_csv
    # Who may read them, and on which node.
    base = f"http://127.0.0.1:{world['hub'].port}"
    assert login(base, "teacher", "demo").get("/api/v1/ministry/volumes").status == 403
    assert Client(base).get("/api/v1/ministry/volumes/days").status == 401
    assert admin.get("/api/v1/ministry/volumes?period=2026-13").status == 400

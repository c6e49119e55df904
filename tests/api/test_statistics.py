"""Statistics for the Ministry: a region's monthly report with small cells suppressed (and
their complements), nothing personal in it (every person's name and login is looked for),
signed and queued in an outbox that survives the hub being down, pushed exactly once, and a
forged or foreign report refused by the hub."""
import json
import sqlite3
import subprocess
import time

import pytest

from conftest import Client, Served, login, run


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
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "signature" in r.stderr, r.stderr
    # A correctly signed report that claims another region.
    foreign = json.loads(bytes(body))
    foreign["region"] = "77"
    path = d / "foreign.json"
    path.write_text(json.dumps(foreign, separators=(",", ":")))
    assert run("sign", "--key", str(d / "r50" / "node.key"), str(path)).returncode == 0
    db.execute("UPDATE fed_outbox SET body = ?, signature = ? WHERE sequence = 3",
               (path.read_bytes(), (d / "foreign.json.minisig").read_text()))
    db.commit()
    r = run("sync", "--config", str(cfg), "--only", "push")
    assert r.returncode == 1 and "403" in r.stderr, r.stderr
    hubdb = sqlite3.connect(f"file:{d / 'hub' / 'mes.db'}?mode=ro", uri=True)
    assert hubdb.execute("SELECT count(*) FROM fed_reports").fetchone()[0] == 2


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
    assert fresh["50"]["last_sequence"] == 2 and fresh["51"]["days_since_report"] == 0
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
        assert status["mode"] == "region" and status["outbox"] == {"waiting": 0, "sent": 2, "first_waiting": None}
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

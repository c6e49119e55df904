"""The region's clock (region.timezone): the node's day and a passage's hour are the region's
local time whatever the zone of the server (and of this test process) is; a zone the system does
not know is refused at start."""
import datetime
import os
import sqlite3
import subprocess
import zoneinfo

from conftest import MESNODE, ServedNode

ZONE = "Asia/Vladivostok"  # UTC+10 all year: a day apart from Moscow (the tests' zone) at times


def test_the_node_keeps_the_regions_clock():
    n = ServedNode(extra=f'region:\n  timezone: "{ZONE}"\n')
    try:
        db = sqlite3.connect(f"file:{os.path.join(n.dir, 'data', 'mes.db')}?mode=ro", uri=True)
        card, student, school = db.execute("SELECT card, student_id, institution_id FROM cards "
                                           "WHERE blocked_at IS NULL ORDER BY id LIMIT 1").fetchone()
        db.close()
        admin = n.login("admin")
        r = admin.post("/api/v1/devices", {"name": "Турникет", "scopes": ["passage"], "institution_id": school})
        assert r.status == 201, r
        device = n.client(token=r.json()["token"])
        # 22:30 UTC on the 1st of December: 08:30 on the 2nd in Vladivostok, 01:30 on the 2nd in
        # Moscow, 22:30 on the 1st in UTC.
        r = device.post("/api/v1/passage/events", {"events": [
            {"key": "tz-1", "seq": 1, "card": card, "direction": "in", "at": "2026-12-01T22:30:00Z"}]})
        assert r.status == 200 and r.json()["applied"] == 1, r
        log = admin.get(f"/api/v1/students/{student}/passage?from=2026-11-30&to=2026-12-03").json()["items"]
        assert [(x["day"], x["time"]) for x in log] == [("2026-12-02", "08:30")]
        # "Today" is the region's: the default range of the log ends on Vladivostok's date.
        before = datetime.datetime.now(zoneinfo.ZoneInfo(ZONE)).date()
        to = admin.get(f"/api/v1/students/{student}/passage").json()["to"]
        after = datetime.datetime.now(zoneinfo.ZoneInfo(ZONE)).date()
        assert to in (before.isoformat(), after.isoformat())
    finally:
        assert n.stop() == 0


def test_an_unknown_zone_is_refused(tmp_path):
    config = tmp_path / "node.yaml"
    config.write_text('region:\n  timezone: "Europe/Atlantis"\nhttp:\n  listen: "127.0.0.1:0"\n'
                      f'storage:\n  data_dir: "{tmp_path / "data"}"\n')
    r = subprocess.run([MESNODE, "serve", "--config", str(config)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "region.timezone" in r.stderr and "Europe/Atlantis" in r.stderr, r.stderr
    assert not (tmp_path / "data" / "mes.db").exists()  # refused before anything is written

"""The region admin's APIs behind the administration pages: renaming municipalities and moving
schools between them, correcting periods, the days off of a year, the device token list and the
audit log's filters. Denials first-class: teachers, parents and the school admin of another
school are refused, and bad input (400 with a code) changes nothing."""
import datetime

import pytest


def code(r):
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def ids(node):
    admin = node.login("admin")
    schools = {s["short_name"]: s for s in admin.get("/api/v1/institutions").json()["items"]}
    years = admin.get("/api/v1/academic-years").json()["items"]
    return {"s1": schools["Школа № 1"]["id"], "s2": schools["Гимназия № 2"]["id"],
            "m1": schools["Школа № 1"]["municipality"]["id"], "year": years[0]}


@pytest.fixture(scope="module")
def admin(node):
    return node.login("admin")


@pytest.fixture(scope="module")
def schooladmin(node):
    return node.login("schooladmin")


@pytest.fixture(scope="module")
def others(node):
    return [node.login("teacher"), node.login("parent"), node.login("student")]


# ---- municipalities and schools --------------------------------------------------------------

def test_municipality_rename(admin, schooladmin, others):
    m = admin.post("/api/v1/municipalities", {"name": "Новый район", "okato": "82401"}).json()
    r = admin.patch(f"/api/v1/municipalities/{m['id']}", {"name": "Переименованный район"})
    assert r.status == 200 and r.json() == {"id": m["id"], "name": "Переименованный район", "okato": "82401"}
    names = [x["name"] for x in admin.get("/api/v1/municipalities").json()["items"]]
    assert "Переименованный район" in names and "Новый район" not in names
    entry = admin.get("/api/v1/audit?action=municipality.update").json()["items"][0]
    assert entry["object"] == f"municipality/{m['id']}" and entry["detail"] == {"name": "Переименованный район"}
    for c in [schooladmin, *others]:
        r = c.patch(f"/api/v1/municipalities/{m['id']}", {"name": "Захват"})
        assert r.status == 403, r
    # Bad input, a taken name, an unknown municipality: refused, nothing changes.
    other = admin.get("/api/v1/municipalities").json()["items"][0]["name"]
    for body, status in (({"name": ""}, 400), ({"name": 5}, 400), ({"mayor": "x"}, 400),
                         ({"name": other}, 409), ({"okato": "1" * 21}, 400)):
        assert admin.patch(f"/api/v1/municipalities/{m['id']}", body).status == status, body
    assert admin.patch("/api/v1/municipalities/999999", {"name": "Нигде"}).status == 404
    names = [x["name"] for x in admin.get("/api/v1/municipalities").json()["items"]]
    assert "Переименованный район" in names and "Захват" not in names


def test_school_moves_to_another_municipality(admin, schooladmin, ids):
    m = admin.post("/api/v1/municipalities", {"name": "Район для переезда"}).json()
    s = admin.post("/api/v1/institutions", {"municipality_id": ids["m1"], "kind": "school",
                                            "name": "МБОУ СОШ № 77", "short_name": "Школа № 77"}).json()
    r = admin.patch(f"/api/v1/institutions/{s['id']}", {"municipality_id": m["id"], "address": "ул. Новая, 1"})
    assert r.status == 200, r
    assert r.json()["municipality"] == {"id": m["id"], "name": "Район для переезда"}
    assert r.json()["address"] == "ул. Новая, 1"
    assert admin.patch(f"/api/v1/institutions/{s['id']}", {"municipality_id": 999999}).status == 400
    assert admin.patch(f"/api/v1/institutions/{s['id']}", {"municipality_id": 0}).status == 400
    assert admin.get(f"/api/v1/institutions/{s['id']}").json()["municipality"]["id"] == m["id"]
    # A school admin edits their school's name but does not move it; another school not at all.
    r = schooladmin.patch(f"/api/v1/institutions/{ids['s1']}", {"municipality_id": m["id"]})
    assert r.status == 403, r
    assert admin.get(f"/api/v1/institutions/{ids['s1']}").json()["municipality"]["id"] == ids["m1"]
    assert schooladmin.patch(f"/api/v1/institutions/{ids['s2']}", {"address": "x"}).status == 403


# ---- periods ---------------------------------------------------------------------------------

def test_period_dates_corrected_in_order(admin, schooladmin, others, ids):
    year = ids["year"]
    p1, p2 = year["periods"][0], year["periods"][1]
    day = datetime.date.fromisoformat(p1["ends_on"]) - datetime.timedelta(days=1)
    r = admin.patch(f"/api/v1/periods/{p1['id']}", {"ends_on": day.isoformat()})
    assert r.status == 200 and r.json()["ends_on"] == day.isoformat() and r.json()["starts_on"] == p1["starts_on"]
    assert admin.get("/api/v1/audit?action=period.update").json()["items"][0]["object"] == f"period/{p1['id']}"
    before = admin.get("/api/v1/academic-years").json()["items"][0]["periods"]
    for body, err in (({"ends_on": p2["starts_on"]}, "period_overlap"),
                      ({"starts_on": "2000-01-01"}, "period_outside_year"),
                      ({"starts_on": p1["starts_on"], "ends_on": "2000-01-01"}, "period_order"),
                      ({"ends_on": "2026-02-30"}, "bad_request"),
                      ({"ends_on": "tomorrow"}, "bad_request"),
                      ({"weeks": 9}, "bad_request")):
        r = admin.patch(f"/api/v1/periods/{p1['id']}", body)
        assert r.status == 400 and code(r) == err, (body, r)
    r = admin.patch(f"/api/v1/periods/{p2['id']}", {"starts_on": p1["starts_on"]})
    assert r.status == 400 and code(r) == "period_overlap"
    assert admin.patch("/api/v1/periods/999999", {"name": "x"}).status == 404
    for c in [schooladmin, *others]:
        assert c.patch(f"/api/v1/periods/{p1['id']}", {"ends_on": p1["ends_on"]}).status == 403
    assert admin.get("/api/v1/academic-years").json()["items"][0]["periods"] == before
    assert admin.patch(f"/api/v1/periods/{p1['id']}", {"ends_on": p1["ends_on"]}).status == 200


# ---- days off --------------------------------------------------------------------------------

def test_holidays_start_from_the_configuration_and_are_edited(admin, schooladmin, others, ids):
    year = ids["year"]
    first = int(year["starts_on"][:4])
    r = admin.get(f"/api/v1/academic-years/{year['id']}/holidays")
    assert r.status == 200 and r.json()["from_config"] is False
    dates = [h["date"] for h in r.json()["items"]]
    assert dates == [f"{first}-11-04", f"{first + 1}-02-23", f"{first + 1}-03-08",
                     f"{first + 1}-05-01", f"{first + 1}-05-09"]
    r = admin.post(f"/api/v1/academic-years/{year['id']}/holidays",
                   {"date": f"{first}-12-31", "name": "Новогодний день"})
    assert r.status == 201, r
    new = r.json()
    assert admin.post(f"/api/v1/academic-years/{year['id']}/holidays", {"date": f"{first}-12-31"}).status == 409
    for body, err in (({"date": f"{first - 1}-12-31"}, "holiday_outside_year"),
                      ({"date": "31.12.2026"}, "bad_request"), ({}, "bad_request"),
                      ({"date": f"{first}-12-30", "colour": "red"}, "bad_request")):
        r = admin.post(f"/api/v1/academic-years/{year['id']}/holidays", body)
        assert r.status == 400 and code(r) == err, (body, r)
    assert admin.post("/api/v1/academic-years/999999/holidays", {"date": f"{first}-12-30"}).status == 404
    for c in [schooladmin, *others]:
        assert c.post(f"/api/v1/academic-years/{year['id']}/holidays", {"date": f"{first}-12-30"}).status == 403
        assert c.delete(f"/api/v1/holidays/{new['id']}").status == 403
        assert c.get(f"/api/v1/academic-years/{year['id']}/holidays").status == 200
    items = admin.get(f"/api/v1/academic-years/{year['id']}/holidays").json()["items"]
    assert {"id": new["id"], "date": f"{first}-12-31", "name": "Новогодний день"} in items
    assert len(items) == 6
    assert admin.delete(f"/api/v1/holidays/{new['id']}").status == 200
    assert admin.delete(f"/api/v1/holidays/{new['id']}").status == 404
    actions = [e["action"] for e in admin.get("/api/v1/audit?limit=5").json()["items"]]
    assert actions[:2] == ["holiday.delete", "holiday.create"]


def test_new_year_gets_the_configured_days_off(admin):
    r = admin.post("/api/v1/academic-years", {"first_year": 2040})
    assert r.status == 201, r
    h = admin.get(f"/api/v1/academic-years/{r.json()['id']}/holidays").json()
    assert [x["date"] for x in h["items"]][:2] == ["2040-11-04", "2041-02-23"] and not h["from_config"]


# ---- devices ---------------------------------------------------------------------------------

def test_device_list(admin, schooladmin, others, ids):
    a = admin.post("/api/v1/devices", {"name": "Турникет, Гимназия", "scopes": ["passage"],
                                       "institution_id": ids["s2"]}).json()
    b = schooladmin.post("/api/v1/devices", {"name": "Столовая, Школа 1", "scopes": ["meals", "health"],
                                             "institution_id": ids["s1"]}).json()
    c = admin.post("/api/v1/devices", {"name": "Региональный медпункт", "scopes": ["health"]}).json()
    assert admin.delete(f"/api/v1/devices/{a['id']}").status == 200
    items = {d["id"]: d for d in admin.get("/api/v1/devices").json()["items"]}
    assert {a["id"], b["id"], c["id"]} <= set(items)
    assert items[a["id"]]["revoked_at"] is not None and items[b["id"]]["revoked_at"] is None
    assert items[b["id"]]["scopes"] == ["meals", "health"]
    assert items[b["id"]]["institution"] == {"id": ids["s1"], "name": "Школа № 1"}
    assert items[c["id"]]["institution"] is None and items[c["id"]]["created_by"] == "admin"
    assert "token" not in items[b["id"]] and "token_hash" not in items[b["id"]]
    assert isinstance(items[b["id"]]["created_at"], int)
    # A school admin: their school's tokens only, never another school's or the region's.
    mine = {d["id"] for d in schooladmin.get("/api/v1/devices").json()["items"]}
    assert b["id"] in mine and a["id"] not in mine and c["id"] not in mine
    assert {d["id"] for d in schooladmin.get(f"/api/v1/devices?institution_id={ids['s1']}").json()["items"]} == mine
    assert schooladmin.get(f"/api/v1/devices?institution_id={ids['s2']}").status == 403
    only = admin.get(f"/api/v1/devices?institution_id={ids['s2']}").json()["items"]
    assert [d["id"] for d in only if d["id"] in (a["id"], b["id"], c["id"])] == [a["id"]]
    for q in ("?institution_id=0", "?institution_id=x", "?institution_id=-1"):
        assert admin.get(f"/api/v1/devices{q}").status == 400, q
    assert admin.get("/api/v1/devices?institution_id=999999").status == 404
    for o in others:
        assert o.get("/api/v1/devices").status == 403


# ---- the audit log ---------------------------------------------------------------------------

def test_audit_filters(node, admin, schooladmin, ids):
    node.login("teacher")  # a login of another account
    created = admin.post("/api/v1/municipalities", {"name": "Район для журнала"}).json()
    items = admin.get("/api/v1/audit?action=municipality.create").json()["items"]
    assert items and all(e["action"] == "municipality.create" for e in items)
    assert items[0]["object"] == f"municipality/{created['id']}"
    by_login = admin.get("/api/v1/audit?login=teacher&limit=1000").json()["items"]
    assert by_login and all(e["account"]["login"] == "teacher" for e in by_login)
    account = by_login[0]["account"]["id"]
    by_id = admin.get(f"/api/v1/audit?account_id={account}&limit=1000").json()["items"]
    assert [e["id"] for e in by_id] == [e["id"] for e in by_login]
    assert admin.get("/api/v1/audit?login=nobody-like-this").json()["items"] == []
    today = datetime.date.today()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    r = admin.get(f"/api/v1/audit?action=municipality.create&from={yesterday}&to={tomorrow}")
    assert created["id"] in [int(e["object"].split("/")[1]) for e in r.json()["items"]]
    assert admin.get(f"/api/v1/audit?from={tomorrow}").json()["items"] == []
    assert admin.get("/api/v1/audit?to=2000-01-01").json()["items"] == []
    # By school: only that school's entries, with its name.
    schooladmin.patch(f"/api/v1/institutions/{ids['s1']}", {"address": "ул. Школьная, 1"})
    s1 = admin.get(f"/api/v1/audit?institution_id={ids['s1']}&limit=1000").json()["items"]
    assert s1 and all(e["institution_id"] == ids["s1"] and e["institution"]["name"] == "Школа № 1" for e in s1)


def test_audit_paging(admin):
    first = admin.get("/api/v1/audit?limit=2").json()
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][1]["id"]
    second = admin.get(f"/api/v1/audit?limit=2&before={first['next_before']}").json()
    assert second["items"][0]["id"] < first["items"][1]["id"]
    everything = admin.get("/api/v1/audit?limit=1000").json()
    assert "next_before" not in everything


def test_audit_bad_filters_are_400(admin):
    for q, err in (("from=2026-02-30", "bad_date"), ("to=01.09.2026", "bad_date"), ("from=2026-9-1", "bad_date"),
                   ("from=2026-10-02&to=2026-10-01", "bad_range"), ("action=Login", "bad_action"),
                   ("action=", "bad_action"), ("action=" + "a" * 70, "bad_action"),
                   ("account_id=0", "bad_request"), ("account_id=abc", "bad_request"),
                   ("institution_id=1x", "bad_request"), ("limit=0", "bad_request"),
                   ("limit=1001", "bad_request"), ("before=-5", "bad_request"), ("login=", "bad_request"),
                   ("login=" + "x" * 80, "bad_request"), ("login=" + "x" * 400, "bad_request"),
                   ("action=" + "a" * 400, "bad_action"), ("from=" + "2" * 400, "bad_date"),
                   ("account_id=" + "1" * 400, "bad_request")):
        r = admin.get(f"/api/v1/audit?{q}")
        assert r.status == 400 and code(r) == err, (q, r)


def test_audit_denials(node, admin, schooladmin, others, ids):
    for o in others:
        assert o.get("/api/v1/audit").status == 403
    assert schooladmin.get(f"/api/v1/audit?institution_id={ids['s2']}").status == 403
    # Without a school, a school admin still sees only their schools' entries.
    admin.patch(f"/api/v1/institutions/{ids['s2']}", {"address": "ул. Гимназическая, 2"})
    seen = schooladmin.get("/api/v1/audit?limit=1000").json()["items"]
    assert seen and all(e.get("institution_id") == ids["s1"] for e in seen)
    assert schooladmin.get("/api/v1/audit?action=municipality.create").json()["items"] == []

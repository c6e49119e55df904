"""«Москвёнок»'s menu (node/moskvenok/meals.c): a school's buffet goods and the day's complexes,
copying a day or a week, who eats free and why (by grade, by a benefit category the school admin
gives), and the kitchen's order for a school day (JSON and CSV). Every route's denials: a parent
or a canteen operator of another school, a teacher, a student writing; bad input is a 400 naming
its field and changes nothing; every write is audited.

The buffet's sales are another part's (sales.c, POST /api/v1/meals/sales): until it is here,
`sell` records a sale in the node's database the way that part does, so that the menu's rules
about sold complexes and the kitchen's paid estimate can be checked."""
import datetime
import sqlite3

import pytest

from conftest import ServedNode

CATEGORIES = ["многодетная семья", "ОВЗ"]


def code(r):
    return r.json()["error"]["code"]


def field(r):
    return r.json()["error"].get("field")


def put(client, path, body):
    return client.request("PUT", path, body)


def audit(client, action):
    return [i for i in client.get(f"/api/v1/audit?action={action}&limit=1000").json()["items"]]


def monday_after(days):
    """The Monday at least `days` days after today."""
    d = datetime.date.today() + datetime.timedelta(days=days)
    return d + datetime.timedelta(days=(7 - d.weekday()) % 7)


def iso(d):
    return d.isoformat()


def students_of(client, class_id):
    r = client.get(f"/api/v1/classes/{class_id}/students")
    assert r.status == 200, r
    return [s["id"] for s in r.json()["items"]]


def new_login(creator, login, roles, last="Тестова", first="Галина"):
    r = creator.post("/api/v1/persons", {"last_name": last, "first_name": first,
                                         "account": {"login": login, "password": "menu-pass-2026", "roles": roles}})
    assert r.status == 201, r
    return r.json()["id"]


class World:
    pass


def make_world(node):
    """The demo's school 1 and the gymnasium, their classes, and the people the denials need: a
    canteen operator of each school, a parent and a school admin of the gymnasium."""
    x = World()
    x.admin, x.sa = node.login("admin"), node.login("schooladmin")
    x.s1 = x.sa.user["institutions"][0]["id"]
    schools = {s["short_name"]: s["id"] for s in x.admin.get("/api/v1/institutions").json()["items"]}
    x.s2 = schools["Гимназия № 2"]
    x.classes = {c["name"]: c["id"] for c in x.admin.get(f"/api/v1/institutions/{x.s1}/classes").json()["items"]}
    gym_classes = x.admin.get(f"/api/v1/institutions/{x.s2}/classes").json()["items"]
    x.gym_student = students_of(x.admin, gym_classes[0]["id"])[0]
    parent = node.login("parent")
    kids = {c["name"]: c["id"] for c in parent.user["children"]}
    x.artem, x.maria = kids["Иванов Артём Сергеевич"], kids["Иванова Мария Сергеевна"]
    x.c2a = students_of(x.admin, x.classes["2А"])
    x.c5a = students_of(x.admin, x.classes["5А"])
    new_login(x.sa, "canteen1", [{"role": "canteen", "institution_id": x.s1}], "Поварова")
    new_login(x.admin, "canteen2", [{"role": "canteen", "institution_id": x.s2}], "Кашина")
    new_login(x.admin, "gymadmin", [{"role": "school_admin", "institution_id": x.s2}], "Гимназина")
    gym_parent = new_login(x.admin, "gymparent", [{"role": "parent"}], "Гимназистова")
    r = x.admin.post("/api/v1/guardians", {"guardian_id": gym_parent, "student_id": x.gym_student, "relation": "mother"})
    assert r.status == 201, r
    login = lambda name: node.login(name, "menu-pass-2026")
    x.canteen, x.canteen2, x.gymadmin, x.gymparent = login("canteen1"), login("canteen2"), login("gymadmin"), login("gymparent")
    x.parent, x.teacher, x.student = parent, node.login("teacher"), node.login("student")
    x.anon = node.client()
    dev = x.admin.post("/api/v1/devices", {"name": "Буфет", "scopes": ["meals"], "institution_id": x.s1})
    assert dev.status == 201, dev
    x.device = dev.json()["id"]
    dev2 = x.admin.post("/api/v1/devices", {"name": "Буфет гимназии", "scopes": ["meals"], "institution_id": x.s2})
    x.device2 = dev2.json()["id"]
    return x


@pytest.fixture(scope="module")
def x(node):
    return make_world(node)


_keys = iter(range(1, 1_000_000))


def sell(node, device, inst, student, day, lines, status="approved", refunded=False):
    """Records a buffet sale the way the sales part does: a sales row and its lines, each line
    (item_id or complex_id, quantity, price, free)."""
    db = sqlite3.connect(f"{node.dir}/data/mes.db", timeout=30)
    try:
        with db:
            cur = db.execute(
                "INSERT INTO sales (student_id, institution_id, device_id, key, at, day, status, total, "
                "refunded_at) VALUES (?, ?, ?, ?, strftime('%s', ?), ?, ?, ?, ?)",
                (student, inst, device, f"test-{next(_keys)}", day + " 10:00:00", day, status,
                 sum(q * p for _, _, q, p, free in lines if not free), 1 if refunded else None))
            for item, complex_id, quantity, price, free in lines:
                db.execute("INSERT INTO sale_lines (sale_id, item_id, complex_id, name, category, quantity, price, "
                           "free) VALUES (?, ?, ?, 'x', 'lunch', ?, ?, ?)",
                           (cur.lastrowid, item, complex_id, quantity, price, 1 if free else 0))
    finally:
        db.close()


def menu_of(client, inst, day):
    r = client.get(f"/api/v1/institutions/{inst}/menu?date={day}")
    assert r.status == 200, r
    return r.json()


def complex_id(client, inst, day, kind):
    return next(c["id"] for c in menu_of(client, inst, day)["complexes"] if c["kind"] == kind)


BREAKFAST = {"kind": "breakfast", "price": 9000, "dishes": ["Каша овсяная", "Чай"]}
LUNCH = {"kind": "lunch", "price": 15550, "dishes": ["Борщ", "Котлета с пюре", "Компот"]}
SNACK = {"kind": "snack", "price": 6000, "dishes": ["Кефир", "Печенье"]}


# ---- buffet items ------------------------------------------------------------------------------

def test_buffet_items_are_added_changed_and_taken_off_sale(node, x):
    items = f"/api/v1/institutions/{x.s1}/buffet/items"
    r = x.canteen.post(items, {"name": "  Булочка с маком ", "category": "bakery", "price": 3500})
    assert r.status == 201, r
    bun = r.json()
    assert bun == {"id": bun["id"], "name": "Булочка с маком", "category": "bakery", "price": 3500, "active": True}
    assert x.sa.post(items, {"name": "Яблоко", "category": "fruit", "price": 2000}).status == 201
    listed = x.parent.get(items).json()["items"]
    assert bun in listed and all(i["active"] for i in listed)
    r = put(x.canteen, f"/api/v1/buffet/items/{bun['id']}", {"price": 3700, "name": "Булочка с изюмом"})
    assert r.status == 200 and r.json()["price"] == 3700 and r.json()["name"] == "Булочка с изюмом"
    assert r.json()["category"] == "bakery"
    # Taken off sale: gone from the list on sale, kept with active false.
    r = x.canteen.delete(f"/api/v1/buffet/items/{bun['id']}")
    assert r.status == 200 and r.json()["active"] is False
    assert bun["id"] not in [i["id"] for i in x.parent.get(items).json()["items"]]
    assert bun["id"] not in [i["id"] for i in menu_of(x.parent, x.s1, iso(datetime.date.today()))["items"]]
    off = next(i for i in x.canteen.get(items + "?all=1").json()["items"] if i["id"] == bun["id"])
    assert off["active"] is False and off["price"] == 3700
    r = put(x.canteen, f"/api/v1/buffet/items/{bun['id']}", {"active": True})
    assert r.status == 200 and r.json()["active"] is True
    # Audited, under the school.
    for action in ("buffet.item_create", "buffet.item_update", "buffet.item_remove"):
        entries = [e for e in audit(x.admin, action) if e["object"] == f"buffet_item/{bun['id']}"]
        assert entries and entries[0]["institution_id"] == x.s1, action


def test_buffet_item_bad_input_changes_nothing(node, x):
    items = f"/api/v1/institutions/{x.s1}/buffet/items"
    before = x.canteen.get(items + "?all=1").json()["items"]
    good = {"name": "Сок", "category": "drinks", "price": 4000}
    for body, where in ((dict(good, name=""), "name"), (dict(good, name="   "), "name"), (dict(good, name="я" * 101), "name"),
                        (dict(good, name=5), "name"), (dict(good, name="a\nb"), "name"),
                        (dict(good, category="pizza"), "category"), (dict(good, category=None), "category"),
                        (dict(good, price=0), "price"), (dict(good, price=-100), "price"), (dict(good, price=40.5), "price"),
                        (dict(good, price="4000"), "price"), (dict(good, price=10_000_001), "price"),
                        ({"name": "Сок", "category": "drinks"}, "price"), (dict(good, colour="red"), "colour")):
        r = x.canteen.post(items, body)
        assert r.status == 400 and field(r) == where, (body, r)
    assert x.canteen.request("POST", items, raw=b"[1]").status == 400
    item = before[0]
    path = f"/api/v1/buffet/items/{item['id']}"
    for body, where in (({"price": 0}, "price"), ({"name": ""}, "name"), ({"category": "x"}, "category"),
                        ({"active": 1}, "active"), ({"active": True, "stock": 3}, "stock")):
        r = put(x.canteen, path, body)
        assert r.status == 400 and field(r) == where, (body, r)
    assert put(x.canteen, path, {}).status == 400
    assert x.canteen.get(items + "?all=1").json()["items"] == before
    assert put(x.canteen, "/api/v1/buffet/items/999999", {"price": 100}).status == 404
    assert x.canteen.delete("/api/v1/buffet/items/999999").status == 404
    assert x.canteen.get(items + "?all=yes").status == 400


def test_buffet_denials(node, x):
    items = f"/api/v1/institutions/{x.s1}/buffet/items"
    item = x.canteen.post(items, {"name": "Пирожок", "category": "bakery", "price": 3000}).json()
    body = {"name": "Чужой товар", "category": "snacks", "price": 100}
    # Who may not write at all (the route), and who may not write here (another school).
    for who, status in ((x.teacher, 403), (x.student, 403), (x.parent, 403), (x.canteen2, 403), (x.gymadmin, 403),
                        (x.anon, 401)):
        r = who.post(items, body)
        assert r.status == status, r
        assert put(who, f"/api/v1/buffet/items/{item['id']}", {"price": 1}).status == status
        assert who.delete(f"/api/v1/buffet/items/{item['id']}").status == status
    after = next(i for i in x.canteen.get(items).json()["items"] if i["id"] == item["id"])
    assert after == item
    assert "Чужой товар" not in [i["name"] for i in x.admin.get(items + "?all=1").json()["items"]]
    # Reading: the school's people; not the gymnasium's parent or canteen.
    for who in (x.parent, x.student, x.teacher, x.canteen, x.sa, x.admin):
        assert who.get(items).status == 200
    for who in (x.gymparent, x.canteen2, x.gymadmin):
        r = who.get(items)
        assert r.status == 403 and code(r) == "forbidden", r
    assert x.anon.get(items).status == 401
    assert x.admin.get("/api/v1/institutions/99999/buffet/items").status == 404
    # The region admin writes anywhere; the gymnasium's operator in the gymnasium.
    assert x.admin.post(items, {"name": "Вода", "category": "drinks", "price": 2500}).status == 201
    assert x.canteen2.post(f"/api/v1/institutions/{x.s2}/buffet/items", body).status == 201


# ---- the day's complexes --------------------------------------------------------------------

def test_menu_replaces_the_day_and_keeps_ids(node, x):
    day = iso(monday_after(21))
    path = f"/api/v1/institutions/{x.s1}/menu"
    r = put(x.canteen, path, {"date": day, "complexes": [LUNCH, BREAKFAST]})
    assert r.status == 200, r
    got = r.json()
    assert got["date"] == day and [c["kind"] for c in got["complexes"]] == ["breakfast", "lunch"]
    lunch = got["complexes"][1]
    assert lunch["price"] == 15550 and lunch["dishes"] == LUNCH["dishes"]
    assert menu_of(x.parent, x.s1, day)["complexes"] == got["complexes"]
    # Again: lunch changes in place, breakfast (unsold) goes, the snack comes.
    r = put(x.sa, path, {"date": day, "complexes": [dict(LUNCH, price=16000, dishes=[" Щи ", "Плов"]), SNACK]})
    assert r.status == 200, r
    again = {c["kind"]: c for c in r.json()["complexes"]}
    assert set(again) == {"lunch", "snack"}
    assert again["lunch"]["id"] == lunch["id"] and again["lunch"]["price"] == 16000
    assert again["lunch"]["dishes"] == ["Щи", "Плов"]
    # An empty list empties the day; other days and schools are untouched.
    other = iso(monday_after(21) + datetime.timedelta(days=1))
    assert put(x.sa, path, {"date": other, "complexes": [BREAKFAST]}).status == 200
    assert put(x.sa, path, {"date": day, "complexes": []}).json()["complexes"] == []
    assert len(menu_of(x.sa, x.s1, other)["complexes"]) == 1
    entries = [e for e in audit(x.admin, "menu.update") if e["detail"]["date"] == day]
    assert len(entries) == 3 and entries[0]["institution_id"] == x.s1 and entries[0]["object"] == f"institution/{x.s1}"
    # The default day is today.
    today = iso(datetime.date.today())
    assert x.parent.get(f"/api/v1/institutions/{x.s1}/menu").json()["date"] == today


def test_a_sold_complex_is_changed_never_removed(node, x):
    day = iso(monday_after(77))  # after the kitchen's order's day below: its sales do not count there
    path = f"/api/v1/institutions/{x.s1}/menu"
    assert put(x.canteen, path, {"date": day, "complexes": [BREAKFAST, LUNCH]}).status == 200
    lunch = complex_id(x.sa, x.s1, day, "lunch")
    sell(node, x.device, x.s1, x.artem, day, [(None, lunch, 1, 15550, False)])
    before = menu_of(x.sa, x.s1, day)
    r = put(x.canteen, path, {"date": day, "complexes": [BREAKFAST]})
    assert r.status == 409 and code(r) == "complex_sold", r
    e = r.json()["error"]
    assert e["field"] == "complexes" and e["kind"] == "lunch" and e["date"] == day
    assert menu_of(x.sa, x.s1, day) == before
    # Changing it is fine, and it keeps its id; the unsold breakfast may go.
    r = put(x.canteen, path, {"date": day, "complexes": [dict(LUNCH, price=17000)]})
    assert r.status == 200 and r.json()["complexes"] == [dict(LUNCH, price=17000, id=lunch)]
    # A copy onto the day that would drop the sold lunch is refused whole.
    src = iso(monday_after(77) - datetime.timedelta(days=7))
    assert put(x.canteen, path, {"date": src, "complexes": [SNACK]}).status == 200
    r = x.canteen.post(f"{path}/copy", {"from": src, "to": day})
    assert r.status == 409 and code(r) == "complex_sold" and field(r) == "to" and r.json()["error"]["date"] == day
    assert [c["kind"] for c in menu_of(x.sa, x.s1, day)["complexes"]] == ["lunch"]


def test_menu_bad_input_changes_nothing(node, x):
    day = iso(monday_after(35))
    path = f"/api/v1/institutions/{x.s1}/menu"
    assert put(x.canteen, path, {"date": day, "complexes": [BREAKFAST]}).status == 200
    before = menu_of(x.sa, x.s1, day)
    ok = [BREAKFAST]
    cases = (
        ({"date": "2026-13-01", "complexes": ok}, "bad_date", "date"),
        ({"date": "5 декабря", "complexes": ok}, "bad_date", "date"),
        ({"complexes": ok}, "bad_date", "date"),
        ({"date": day}, "bad_request", "complexes"),
        ({"date": day, "complexes": {"kind": "lunch"}}, "bad_request", "complexes"),
        ({"date": day, "complexes": [BREAKFAST, LUNCH, SNACK, BREAKFAST]}, "bad_request", "complexes"),
        ({"date": day, "complexes": [LUNCH, dict(LUNCH, price=1)]}, "bad_request", "complexes[1].kind"),
        ({"date": day, "complexes": [dict(LUNCH, kind="dinner")]}, "bad_request", "complexes[0].kind"),
        ({"date": day, "complexes": [dict(LUNCH, price=-1)]}, "bad_request", "complexes[0].price"),
        ({"date": day, "complexes": [BREAKFAST, dict(LUNCH, price=99.5)]}, "bad_request", "complexes[1].price"),
        ({"date": day, "complexes": [dict(LUNCH, dishes=[])]}, "bad_request", "complexes[0].dishes"),
        ({"date": day, "complexes": [dict(LUNCH, dishes=["Суп", ""])]}, "bad_request", "complexes[0].dishes"),
        ({"date": day, "complexes": [dict(LUNCH, dishes=["Суп"] * 21)]}, "bad_request", "complexes[0].dishes"),
        ({"date": day, "complexes": [dict(LUNCH, dishes="Суп")]}, "bad_request", "complexes[0].dishes"),
        ({"date": day, "complexes": [dict(LUNCH, dishes=["я" * 201])]}, "bad_request", "complexes[0].dishes"),
        ({"date": day, "complexes": [dict(LUNCH, calories=500)]}, "bad_request", "complexes[0].calories"),
        ({"date": day, "complexes": ["lunch"]}, "bad_request", "complexes[0]"),
        ({"date": day, "complexes": ok, "note": "x"}, "bad_request", "note"),
    )
    for body, err, where in cases:
        r = put(x.canteen, path, body)
        assert r.status == 400 and code(r) == err and field(r) == where, (body, r)
    assert menu_of(x.sa, x.s1, day) == before
    assert x.sa.get(f"{path}?date=2026-02-30").status == 400
    r = x.sa.get(f"{path}?date=tomorrow")
    assert code(r) == "bad_date" and field(r) == "date"


def test_menu_copy_of_a_day_and_a_week(node, x):
    path = f"/api/v1/institutions/{x.s1}/menu"
    week = monday_after(42)
    days = [iso(week + datetime.timedelta(days=i)) for i in range(5)]
    for i, d in enumerate(days):
        if i != 2:  # Wednesday has no menu
            assert put(x.canteen, path, {"date": d, "complexes": [dict(LUNCH, price=15000 + i)]}).status == 200
    target = [iso(week + datetime.timedelta(days=7 + i)) for i in range(5)]
    # Wednesday's target already has a menu: a day without complexes leaves it as it is.
    assert put(x.canteen, path, {"date": target[2], "complexes": [SNACK]}).status == 200
    r = x.canteen.post(f"{path}/copy", {"from": days[0], "to": target[0], "days": 5})
    assert r.status == 200, r
    assert r.json() == {"copied": [target[i] for i in (0, 1, 3, 4)], "skipped": [target[2]]}
    for i in (0, 1, 3, 4):
        got = menu_of(x.parent, x.s1, target[i])["complexes"]
        assert [(c["kind"], c["price"], c["dishes"]) for c in got] == [("lunch", 15000 + i, LUNCH["dishes"])]
    assert [c["kind"] for c in menu_of(x.parent, x.s1, target[2])["complexes"]] == ["snack"]
    # One day (the default), onto a day with another menu: replaced.
    r = x.sa.post(f"{path}/copy", {"from": days[0], "to": target[2]})
    assert r.status == 200 and r.json()["copied"] == [target[2]]
    assert [c["kind"] for c in menu_of(x.parent, x.s1, target[2])["complexes"]] == ["lunch"]
    assert audit(x.admin, "menu.copy")[0]["detail"]["from"] == days[0]
    # Bad input: nothing copied.
    far = iso(week + datetime.timedelta(days=70))
    for body, err, where in (({"from": days[0], "to": days[2], "days": 5}, "bad_range", "to"),
                             ({"from": days[2], "to": days[0], "days": 5}, "bad_range", "to"),
                             ({"from": days[0], "to": days[0]}, "bad_range", "to"),
                             ({"from": days[0], "to": far, "days": 0}, "bad_request", "days"),
                             ({"from": days[0], "to": far, "days": 32}, "bad_request", "days"),
                             ({"from": days[0], "to": far, "days": "5"}, "bad_request", "days"),
                             ({"from": "x", "to": far}, "bad_date", "from"),
                             ({"from": days[0]}, "bad_date", "to"),
                             ({"from": days[0], "to": far, "weeks": 1}, "bad_request", "weeks")):
        r = x.sa.post(f"{path}/copy", body)
        assert r.status == 400 and code(r) == err and field(r) == where, (body, r)
    assert menu_of(x.parent, x.s1, far)["complexes"] == []


def test_menu_denials(node, x):
    day = iso(monday_after(49))
    path = f"/api/v1/institutions/{x.s1}/menu"
    assert put(x.canteen, path, {"date": day, "complexes": [BREAKFAST]}).status == 200
    before = menu_of(x.sa, x.s1, day)
    for who, status in ((x.teacher, 403), (x.student, 403), (x.parent, 403), (x.canteen2, 403), (x.gymadmin, 403),
                        (x.gymparent, 403), (x.anon, 401)):
        assert put(who, path, {"date": day, "complexes": [LUNCH]}).status == status
        assert who.post(f"{path}/copy", {"from": day, "to": iso(monday_after(56))}).status == status
    assert menu_of(x.sa, x.s1, day) == before
    assert menu_of(x.sa, x.s1, iso(monday_after(56)))["complexes"] == []
    for who in (x.parent, x.student, x.teacher, x.canteen, x.admin):
        assert who.get(f"{path}?date={day}").status == 200
    for who in (x.gymparent, x.canteen2, x.gymadmin):
        assert who.get(f"{path}?date={day}").status == 403
    assert x.anon.get(path).status == 401
    assert x.admin.get("/api/v1/institutions/99999/menu").status == 404
    assert put(x.admin, "/api/v1/institutions/99999/menu", {"date": day, "complexes": []}).status == 404
    # The gymnasium's own parent reads the gymnasium's menu.
    assert x.gymparent.get(f"/api/v1/institutions/{x.s2}/menu").status == 200


# ---- who eats free -------------------------------------------------------------------------

def test_free_by_grade_in_the_demo(node, x):
    young = x.c2a[0]
    r = x.sa.get(f"/api/v1/students/{young}/meals/entitlement")
    assert r.status == 200
    assert r.json() == {"free": ["breakfast"], "reason": "grade", "benefit": None, "grade": 2,
                        "by_grade": ["breakfast"], "by_benefit": []}
    r = x.parent.get(f"/api/v1/students/{x.artem}/meals/entitlement")
    assert r.status == 200
    assert r.json() == {"free": [], "reason": None, "benefit": None, "grade": 5, "by_grade": [], "by_benefit": []}
    # The family and the school's staff; nobody else.
    for who in (x.student, x.teacher, x.canteen, x.admin):
        assert who.get(f"/api/v1/students/{x.artem}/meals/entitlement").status == 200, who
    for who in (x.gymparent, x.canteen2, x.gymadmin):
        r = who.get(f"/api/v1/students/{x.artem}/meals/entitlement")
        assert r.status == 403 and code(r) == "forbidden"
    assert x.student.get(f"/api/v1/students/{young}/meals/entitlement").status == 403
    assert x.parent.get(f"/api/v1/students/{young}/meals/entitlement").status == 403
    assert x.anon.get(f"/api/v1/students/{x.artem}/meals/entitlement").status == 401
    assert x.admin.get("/api/v1/students/999999/meals/entitlement").status == 404


def test_benefits_need_the_regions_categories(node, x):
    # The demo names no benefit category: none can be given, "" takes nothing away.
    r = put(x.sa, f"/api/v1/students/{x.artem}/meals/benefit", {"benefit": "многодетная семья"})
    assert r.status == 400 and code(r) == "unknown_benefit" and field(r) == "benefit"
    r = put(x.sa, f"/api/v1/students/{x.artem}/meals/benefit", {"benefit": ""})
    assert r.status == 200 and r.json()["free"] == []
    benefits = x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits").json()
    assert benefits["categories"] == [] and benefits["items"] == []
    assert benefits["free_grades"] == {"from": 1, "to": 4, "complexes": ["breakfast"]}
    for body, where in (({"benefit": 5}, "benefit"), ({}, "benefit"), ({"benefit": "", "since": "2026-09-01"}, "since")):
        r = put(x.sa, f"/api/v1/students/{x.artem}/meals/benefit", body)
        assert r.status == 400 and field(r) == where, body
    for who, status in ((x.teacher, 403), (x.canteen, 403), (x.parent, 403), (x.student, 403), (x.anon, 401)):
        assert put(who, f"/api/v1/students/{x.artem}/meals/benefit", {"benefit": ""}).status == status
        assert who.get(f"/api/v1/institutions/{x.s1}/meals/benefits").status == status
    assert put(x.gymadmin, f"/api/v1/students/{x.artem}/meals/benefit", {"benefit": ""}).status == 403
    assert x.gymadmin.get(f"/api/v1/institutions/{x.s1}/meals/benefits").status == 403
    assert put(x.sa, "/api/v1/students/999999/meals/benefit", {"benefit": ""}).status == 404
    # A class of the school lists all its students; another school's class is not found.
    listed = x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits?class={x.classes['2А']}").json()["items"]
    assert sorted(s["student"]["id"] for s in listed) == sorted(x.c2a)
    assert all(s["benefit"] == "" and s["free"] == ["breakfast"] and s["class"]["name"] == "2А" for s in listed)
    gym_class = x.admin.get(f"/api/v1/institutions/{x.s2}/classes").json()["items"][0]["id"]
    assert x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits?class={gym_class}").status == 404
    r = x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits?class=abc")
    assert r.status == 400 and field(r) == "class"


# ---- the kitchen's order -------------------------------------------------------------------

def order(client, inst, day=None, fmt=None):
    q = "&".join(p for p in (f"date={day}" if day else "", f"format={fmt}" if fmt else "") if p)
    return client.get(f"/api/v1/institutions/{inst}/meals/order" + (f"?{q}" if q else ""))


def row(o, class_name, kind):
    c = next(c for c in o["classes"] if c["class"]["name"] == class_name)
    k = next(k for k in c["complexes"] if k["kind"] == kind)
    return c, k


def test_order_counts_expected_free_and_paid(node, x):
    day_d = monday_after(63)
    day = iso(day_d)
    path = f"/api/v1/institutions/{x.s1}/menu"
    assert put(x.canteen, path, {"date": day, "complexes": [BREAKFAST, LUNCH]}).status == 200
    # Absences on the day: Артём (a parent's notice) in 5А, a 2А pupil (a medical note).
    r = x.parent.post(f"/api/v1/students/{x.artem}/absence-notices",
                      {"from": iso(day_d - datetime.timedelta(days=1)), "to": day, "reason": "Семейные обстоятельства"})
    assert r.status == 201, r
    r = node.login("medic").post(f"/api/v1/students/{x.c2a[0]}/medical-notes", {"from": day, "to": day, "reason": "ОРВИ"})
    assert r.status == 201, r
    # A notice that ends the day before and one that starts the day after change nothing.
    other = next(s for s in x.c5a if s != x.artem)
    assert node.login("medic").post(f"/api/v1/students/{other}/medical-notes",
                                    {"from": iso(day_d - datetime.timedelta(days=5)), "to": iso(day_d - datetime.timedelta(days=1)),
                                     "reason": "Грипп"}).status == 201

    # Sales on ten days before (the estimate's window; the demo's own day of sales, weeks
    # earlier, falls out of it): 5А pays for 2 + 2 lunches and a breakfast; free lines, buffet
    # items, refunded and declined sales, another school's sales and sales on the day itself or
    # after do not count.
    sale_days = [day_d - datetime.timedelta(days=n) for n in (14, 10, 7)]
    for d in sale_days:
        assert put(x.canteen, path, {"date": iso(d), "complexes": [BREAKFAST, LUNCH]}).status == 200
    lunch = [complex_id(x.sa, x.s1, iso(d), "lunch") for d in sale_days]
    breakfast0 = complex_id(x.sa, x.s1, iso(sale_days[0]), "breakfast")
    bun = x.canteen.post(f"/api/v1/institutions/{x.s1}/buffet/items", {"name": "Ватрушка", "category": "bakery", "price": 3000}).json()
    sell(node, x.device, x.s1, x.c5a[1], iso(sale_days[0]), [(None, lunch[0], 1, 15550, False), (None, breakfast0, 1, 9000, False)])
    sell(node, x.device, x.s1, x.c5a[2], iso(sale_days[0]), [(None, lunch[0], 1, 15550, False)])
    sell(node, x.device, x.s1, x.c2a[1], iso(sale_days[0]), [(None, breakfast0, 1, 9000, True)])
    sell(node, x.device, x.s1, x.c5a[3], iso(sale_days[0]), [(None, lunch[0], 1, 15550, False)], refunded=True)
    sell(node, x.device, x.s1, x.c5a[3], iso(sale_days[0]), [(None, lunch[0], 1, 15550, False)], status="declined")
    sell(node, x.device, x.s1, x.c5a[1], iso(sale_days[1]), [(None, lunch[1], 2, 15550, False)])
    sell(node, x.device, x.s1, x.c5a[1], iso(sale_days[2]), [(bun["id"], None, 1, 3000, False)])
    for n in (13, 12, 11, 9, 8, 6, 5):  # seven more days of the buffet's goods only
        sell(node, x.device, x.s1, x.c5a[1], iso(day_d - datetime.timedelta(days=n)), [(bun["id"], None, 1, 3000, False)])
    sell(node, x.device, x.s1, x.c5a[1], day, [(None, complex_id(x.sa, x.s1, day, "lunch"), 5, 15550, False)])
    gym_day = iso(day_d - datetime.timedelta(days=3))
    assert put(x.canteen2, f"/api/v1/institutions/{x.s2}/menu", {"date": gym_day, "complexes": [LUNCH]}).status == 200
    sell(node, x.device2, x.s2, x.gym_student, gym_day, [(None, complex_id(x.canteen2, x.s2, gym_day, "lunch"), 1, 15550, False)])

    r = order(x.canteen, x.s1, day)
    assert r.status == 200, r
    o = r.json()
    assert o["date"] == day and o["kinds"] == ["breakfast", "lunch"] and o["menu"] is True
    assert o["sales_days"] == 10
    assert [c["class"]["name"] for c in o["classes"]] == ["2А", "5А", "5Б", "9А"]
    c2a, b2a = row(o, "2А", "breakfast")
    assert c2a["enrolled"] == len(x.c2a) and c2a["expected"] == len(x.c2a) - 1
    assert b2a == {"kind": "breakfast", "free": len(x.c2a) - 1, "paid_estimate": 0, "portions": len(x.c2a) - 1}
    _, l2a = row(o, "2А", "lunch")
    assert l2a["free"] == 0 and l2a["portions"] == 0
    c5a, l5a = row(o, "5А", "lunch")
    assert c5a["enrolled"] == len(x.c5a) and c5a["expected"] == len(x.c5a) - 1
    # 4 paid lunches over 10 days with sales: 0.4 a day, 1 portion to cook.
    assert l5a == {"kind": "lunch", "free": 0, "paid_estimate": 0.4, "portions": 1}
    _, b5a = row(o, "5А", "breakfast")
    assert b5a["paid_estimate"] == 0.1 and b5a["portions"] == 1
    t = o["totals"]
    assert t["enrolled"] == sum(c["enrolled"] for c in o["classes"]) and t["expected"] == t["enrolled"] - 2
    assert t["complexes"][0] == {"kind": "breakfast", "free": len(x.c2a) - 1, "paid_estimate": 0.1,
                                 "portions": len(x.c2a) - 1 + 1}
    assert t["complexes"][1] == {"kind": "lunch", "free": 0, "paid_estimate": 0.4, "portions": 1}

    # A day without a menu: every kind, and the estimate from the ten days with sales before
    # it: the day itself (5 lunches) in, the first day (2 lunches, the breakfast) out.
    empty = iso(day_d + datetime.timedelta(days=1))
    o2 = order(x.sa, x.s1, empty).json()
    assert o2["kinds"] == ["breakfast", "lunch", "snack"] and o2["menu"] is False and o2["sales_days"] == 10
    assert row(o2, "5А", "lunch")[1]["paid_estimate"] == 0.7 and row(o2, "5А", "breakfast")[1]["paid_estimate"] == 0

    # CSV for a spreadsheet: a byte order mark, ';', the catalog's heads, decimal commas.
    r = order(x.canteen, x.s1, day, "csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert f'filename="kitchen-order-{day}.csv"' in r.headers["Content-Disposition"]
    assert r.body.startswith(b"\xef\xbb\xbf")
    lines = r.body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Класс;Комплекс;Учеников;Придут;Бесплатно;Платно (оценка);Порций"
    assert f"5А;Обед;{len(x.c5a)};{len(x.c5a) - 1};0;0,4;1" in lines
    assert f"2А;Завтрак;{len(x.c2a)};{len(x.c2a) - 1};{len(x.c2a) - 1};0,0;{len(x.c2a) - 1}" in lines
    assert f"Итого;Обед;{t['enrolled']};{t['expected']};0;0,4;1" in lines
    assert lines[-1] == "" and len(lines) == 1 + 4 * 2 + 2 + 1
    assert not any("lunch" in l or "kitchen." in l for l in lines)


def test_order_default_day_and_denials(node, x):
    r = order(x.sa, x.s1)
    assert r.status == 200, r
    day = r.json()["date"]
    # The school day after today: the first day after it with a lesson at the school.
    today = datetime.date.today()
    db = sqlite3.connect(f"file:{node.dir}/data/mes.db?mode=ro", uri=True, timeout=30)
    try:
        first = db.execute("SELECT min(l.date) FROM lessons l JOIN classes c ON c.id = l.class_id WHERE "
                           "c.institution_id = ? AND l.date > ? AND l.cancelled = 0", (x.s1, iso(today))).fetchone()[0]
    finally:
        db.close()
    assert first is not None and day == first
    assert today < datetime.date.fromisoformat(day) and datetime.date.fromisoformat(day).weekday() < 6
    assert order(x.sa, x.s1, day).json() == r.json()
    for who in (x.canteen, x.admin):
        assert order(who, x.s1).status == 200
    for who, status in ((x.teacher, 403), (x.parent, 403), (x.student, 403), (x.canteen2, 403), (x.gymadmin, 403),
                        (x.anon, 401)):
        assert order(who, x.s1).status == status
        assert order(who, x.s1, fmt="csv").status == status
    assert order(x.admin, 99999).status == 404
    for q, where in (("date=2026-02-30", "date"), ("date=", "date"), ("format=xlsx", "format")):
        r = x.sa.get(f"/api/v1/institutions/{x.s1}/meals/order?{q}")
        assert r.status == 400 and field(r) == where, q


def test_the_menu_of_the_next_school_day(node, x):
    """date=next: today when the school has a lesson today, else its next day with one (on a
    weekend or a holiday the menu opens on the next school day's), whatever weekday the test
    runs on: it makes today a school day of the gymnasium's, then today and the two days after
    days without lessons, and puts the timetable back."""
    today = datetime.date.today()
    days = [iso(today + datetime.timedelta(days=n)) for n in range(4)]
    path = f"/api/v1/institutions/{x.s2}/menu"
    db = sqlite3.connect(f"{node.dir}/data/mes.db", timeout=30)
    classes = [c for (c,) in db.execute("SELECT id FROM classes WHERE institution_id = ?", (x.s2,))]
    marks = ",".join("?" * len(classes))
    held = [i for (i,) in db.execute(f"SELECT id FROM lessons WHERE class_id IN ({marks}) AND date IN (?, ?, ?) "
                                     "AND cancelled = 0", (*classes, *days[:3]))]
    added = []

    def lesson(day):
        cur = db.execute("INSERT INTO lessons (class_id, group_id, subject_id, teacher_id, period_id, date, number) "
                         f"SELECT class_id, group_id, subject_id, teacher_id, period_id, ?, 15 FROM lessons WHERE "
                         f"class_id IN ({marks}) LIMIT 1", (day, *classes))
        added.append(cur.lastrowid)

    def shown():
        r = x.gymparent.get(f"{path}?date=next")
        assert r.status == 200, r
        assert r.json() == x.gymparent.get(f"{path}?date={r.json()['date']}").json()
        return r.json()["date"]

    try:
        with db:
            lesson(days[0])
        assert shown() == days[0]
        with db:
            db.execute(f"UPDATE lessons SET cancelled = 1 WHERE id IN ({','.join('?' * len(held + added))})",
                       (*held, *added))
            lesson(days[3])
        assert shown() == days[3]
        assert x.gymparent.get(path).json()["date"] == days[0]  # the default is still today
    finally:
        with db:
            db.execute(f"DELETE FROM lessons WHERE id IN ({','.join('?' * len(added))})", added)
            if held:
                db.execute(f"UPDATE lessons SET cancelled = 0 WHERE id IN ({','.join('?' * len(held))})", held)
        db.close()
    # Nobody learns another school's days; the menu takes `next`, not `latest`.
    for who, status in ((x.parent, 403), (x.canteen, 403), (x.anon, 401)):
        assert who.get(f"{path}?date=next").status == status
    r = x.gymparent.get(f"{path}?date=latest")
    assert r.status == 400 and code(r) == "bad_date" and field(r) == "date"


# ---- benefit categories named by the region's configuration ------------------------------------

@pytest.fixture(scope="module")
def served():
    n = ServedNode(http='  access_log: "off"\n',
                   extra='meals:\n  benefit_categories: ["многодетная семья", "ОВЗ"]\n'
                         '  benefit_complexes: "breakfast lunch"\n  free_grade_from: 1\n  free_grade_to: 4\n'
                         '  free_complexes: "breakfast"\n')
    yield n
    assert n.stop() == 0, n.last_output[-4000:]


def test_free_by_benefit_with_the_regions_categories(served):
    x = make_world(served)
    older, young = x.c5a[4], x.c2a[3]
    path = lambda s: f"/api/v1/students/{s}/meals/benefit"
    r = put(x.sa, path(older), {"benefit": "многодетная семья"})
    assert r.status == 200, r
    assert r.json() == {"free": ["breakfast", "lunch"], "reason": "benefit", "benefit": "многодетная семья",
                        "grade": 5, "by_grade": [], "by_benefit": ["breakfast", "lunch"]}
    # Grade and benefit together: the benefit says why, and both are told.
    r = put(x.sa, path(young), {"benefit": "ОВЗ"})
    assert r.json() == {"free": ["breakfast", "lunch"], "reason": "benefit", "benefit": "ОВЗ", "grade": 2,
                        "by_grade": ["breakfast"], "by_benefit": ["breakfast", "lunch"]}
    assert x.canteen.get(f"/api/v1/students/{older}/meals/entitlement").json()["free"] == ["breakfast", "lunch"]
    r = put(x.sa, path(older), {"benefit": "сирота"})
    assert r.status == 400 and code(r) == "unknown_benefit"
    assert x.sa.get(f"/api/v1/students/{older}/meals/entitlement").json()["benefit"] == "многодетная семья"
    # Another school's admin may not give one here.
    assert put(x.gymadmin, path(older), {"benefit": "ОВЗ"}).status == 403
    listed = x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits").json()
    assert listed["categories"] == CATEGORIES and listed["benefit_complexes"] == ["breakfast", "lunch"]
    assert [(s["student"]["id"], s["benefit"], s["class"]["name"]) for s in listed["items"]] == \
        [(young, "ОВЗ", "2А"), (older, "многодетная семья", "5А")]
    e = [a for a in audit(x.admin, "meals.benefit") if a["object"] == f"student/{older}"]
    assert e and e[0]["detail"] == {"benefit": "многодетная семья", "before": ""} and e[0]["institution_id"] == x.s1
    # The kitchen's order counts them: lunch free in 5А for one, in 2А for one.
    day = iso(monday_after(14))
    assert put(x.canteen, f"/api/v1/institutions/{x.s1}/menu", {"date": day, "complexes": [BREAKFAST, LUNCH]}).status == 200
    o = order(x.canteen, x.s1, day).json()
    assert row(o, "5А", "lunch")[1]["free"] == 1 and row(o, "5А", "breakfast")[1]["free"] == 1
    assert row(o, "2А", "lunch")[1]["free"] == 1 and row(o, "2А", "breakfast")[1]["free"] == len(x.c2a)
    # Taken away: back to the grade's rule.
    r = put(x.sa, path(young), {"benefit": ""})
    assert r.json()["free"] == ["breakfast"] and r.json()["reason"] == "grade" and r.json()["benefit"] is None
    assert [s["student"]["id"] for s in x.sa.get(f"/api/v1/institutions/{x.s1}/meals/benefits").json()["items"]] == [older]

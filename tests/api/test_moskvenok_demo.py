"""«Москвёнок»'s showcase in the demo (node/demo/terminals.c) as the demo's logins see it through
the API: Школа № 1's students each have a card and a meal account with an opening balance, the
school a buffet, this week's and next week's menu, a turnstile and a buffet terminal, and its
last school day before today as the terminals recorded it: entries in the morning and exits
after lessons for everyone who was not ill, breakfasts, lunches and buffet purchases. That day
is not today, so nobody was notified of it. The login `canteen` runs the school's canteen.

What the showcase's day is, and who was ill on it, is read from the node's database (read-only):
the last day before today with a lesson that took place at the school."""
import datetime
import os
import sqlite3

import pytest

TODAY = datetime.date.today()


def sql(node, query, *args):
    """Rows of a read of the node's database (WAL: beside the running node)."""
    db = sqlite3.connect(f"file:{os.path.join(node.dir, 'data', 'mes.db')}?mode=ro", uri=True)
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def demo(node):
    """The demo's logins, Школа № 1, its students by class, the showcase's day and who was ill."""
    admin, sa, parent = node.login("admin"), node.login("schooladmin"), node.login("parent")
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    school = schools["Школа № 1"]
    classes = sa.get(f"/api/v1/institutions/{school}/classes").json()["items"]
    students = {c["name"]: [s["id"] for s in sa.get(f"/api/v1/classes/{c['id']}/students").json()["items"]]
                for c in classes}
    kids = {c["name"]: c for c in parent.user["children"]}
    day = sql(node, "SELECT max(l.date) FROM lessons l JOIN classes c ON c.id = l.class_id WHERE "
                    "c.institution_id = ? AND l.date < ? AND l.cancelled = 0", school, TODAY.isoformat())[0][0]
    ill = {s for (s,) in sql(node, "SELECT DISTINCT a.student_id FROM attendance a JOIN lessons l ON l.id = "
                                   "a.lesson_id WHERE l.date = ? AND a.status = 'ill'", day or "")}
    return {"admin": admin, "sa": sa, "parent": parent, "school": school, "classes": {c["name"]: c["id"] for c in classes},
            "students": students, "everyone": {s for ids in students.values() for s in ids},
            "artem": kids["Иванов Артём Сергеевич"]["id"], "maria": kids["Иванова Мария Сергеевна"]["id"],
            "day": day, "ill": ill}


def showcase_day(demo):
    if demo["day"] is None:
        pytest.skip("no lesson has taken place at Школа № 1 yet this school year: the showcase has no day")
    return demo["day"]


def test_the_parent_sees_both_childrens_balances_and_history(node, demo):
    day = showcase_day(demo)
    parent = demo["parent"]
    before = (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()
    for child in (demo["artem"], demo["maria"]):
        account = parent.get(f"/api/v1/students/{child}/meals/account").json()
        assert account["balance"] > 0 and account["blocked"] is False, account
        r = parent.get(f"/api/v1/students/{child}/meals/history?from={before}&to={day}")
        assert r.status == 200, r
        moves = sorted(r.json()["items"], key=lambda m: m["at"])
        # The opening top-up (no payment behind it) the evening before the day, then the day's
        # purchases: each balance the one before plus its amount, the last the account's.
        opening = moves[0]
        assert opening["kind"] == "topup" and opening["ref"] == 0 and opening["day"] == before, moves
        assert opening["amount"] == opening["balance"] and 100000 <= opening["amount"] <= 500000
        assert all(m["kind"] == "sale" and m["amount"] < 0 and m["day"] == day for m in moves[1:]), moves
        for prev, m in zip(moves, moves[1:]):
            assert m["balance"] == prev["balance"] + m["amount"], moves
        assert moves[-1]["balance"] == account["balance"]
        # The purchases behind them: the family's list of that day.
        bought = parent.get(f"/api/v1/students/{child}/meals/purchases?from={day}&to={day}").json()["items"]
        assert all(p["status"] == "approved" and p["institution"]["id"] == demo["school"] for p in bought), bought
        assert sorted(m["ref"] for m in moves[1:]) == sorted(p["id"] for p in bought if p["total"] > 0)
        if child in demo["ill"]:
            assert bought == []


def test_every_student_of_the_school_has_a_card(node, demo):
    r = demo["sa"].get(f"/api/v1/institutions/{demo['school']}/cards")
    assert r.status == 200, r
    listed = r.json()
    assert listed["more"] is False
    assert {i["student"]["id"] for i in listed["items"]} == demo["everyone"]
    for i in listed["items"]:
        assert len(i["cards"]) == 1, i
        c = i["cards"][0]
        assert len(c["card"]) == 8 and int(c["card"], 16) >= 0 and c["blocked"] is False, c
        assert c["kind"] == "card" and c["institution_id"] == demo["school"]
    assert len({i["cards"][0]["card"] for i in listed["items"]}) == len(listed["items"])
    # The other two schools of the demo have none.
    for name in ("Гимназия № 2", "Лицей № 3"):
        other = next(s["id"] for s in demo["admin"].get("/api/v1/institutions").json()["items"] if s["short_name"] == name)
        assert all(i["cards"] == [] for i in demo["admin"].get(f"/api/v1/institutions/{other}/cards").json()["items"])
    # The school's turnstile and buffet terminal are its devices.
    devices = [(d["name"], d["scopes"], d["revoked_at"])
               for d in demo["sa"].get(f"/api/v1/devices?institution_id={demo['school']}").json()["items"]]
    assert ("Турникет, главный вход", ["passage"], None) in devices and ("Буфет", ["meals"], None) in devices, devices


def test_the_school_sees_the_days_passage(node, demo):
    day = showcase_day(demo)
    came = demo["everyone"] - demo["ill"]
    r = demo["sa"].get(f"/api/v1/institutions/{demo['school']}/passage?date={day}")
    assert r.status == 200, r
    d = r.json()
    assert d["date"] == day and d["today"] is False
    assert d["entries"] == d["exits"] == d["entered"] == len(came) > 0
    assert d["in_school"] == 0 and d["denied"] == 0
    # The class teacher's 5А: each who came entered in the morning and left after lessons.
    c5a = demo["classes"]["5А"]
    p = node.login("classteacher").get(f"/api/v1/classes/{c5a}/presence?date={day}").json()
    assert p["turnstiles"] is True and p["date"] == day
    by = {s["student"]["id"]: s for s in p["students"]}
    assert set(by) == set(demo["students"]["5А"])
    for sid, s in by.items():
        if sid in demo["ill"]:
            assert s["first_in"] is None and s["last_out"] is None, s
        else:
            assert "07:40" <= s["first_in"]["time"] <= "08:25" and "13:10" <= s["last_out"]["time"] <= "15:40", s
            assert s["in_school"] is False
    # The family sees it in the child's log.
    log = demo["parent"].get(f"/api/v1/students/{demo['artem']}/passage?from={day}&to={day}").json()["items"]
    expected = [] if demo["artem"] in demo["ill"] else ["in", "out"]
    assert [x["direction"] for x in log] == expected


def test_this_weeks_menu_has_three_complexes_a_day(node, demo):
    monday = TODAY - datetime.timedelta(days=TODAY.weekday())
    parent = demo["parent"]
    for n in range(12):
        d = monday + datetime.timedelta(days=n)
        got = parent.get(f"/api/v1/institutions/{demo['school']}/menu?date={d}").json()
        if d.weekday() >= 5:
            assert got["complexes"] == [], d
            continue
        assert [(c["kind"], c["price"]) for c in got["complexes"]] == [
            ("breakfast", 9500), ("lunch", 14500), ("snack", 6000)], d
        assert all(c["dishes"] for c in got["complexes"]), d
    assert len(parent.get(f"/api/v1/institutions/{demo['school']}/buffet/items").json()["items"]) == 5


def test_the_canteen_login_sees_the_days_sales(node, demo):
    day = showcase_day(demo)
    canteen = node.login("canteen")
    assert canteen.user["name"] == "Белова Галина Петровна" and canteen.user["roles"] == ["canteen"]
    assert [(g["role"], g["institution_id"]) for g in canteen.user["grants"]] == [("canteen", demo["school"])]
    r = canteen.get(f"/api/v1/institutions/{demo['school']}/meals/sales?date={day}&limit=200")
    assert r.status == 200, r
    sales = r.json()
    assert sales["more"] is False, "the showcase sold more than a page of 200"
    items, totals = sales["items"], sales["totals"]
    assert items and all(s["status"] == "approved" and s["terminal"] == "Буфет" for s in items)
    assert all(s["student"]["id"] in demo["everyone"] - demo["ill"] for s in items)
    assert totals["approved"] == len(items) and totals["declined"] == 0 and totals["refunded"] == 0
    assert totals["debited"] == sum(s["total"] for s in items) > 0
    kinds = {line["category"] for s in items for line in s["lines"]}
    assert {"breakfast", "lunch"} <= kinds and kinds - {"breakfast", "lunch"}, kinds  # and the buffet's goods
    # Breakfast is free in grades 1-4 (the demo's rules): each 2А pupil who came had it free.
    came_2a = set(demo["students"]["2А"]) - demo["ill"]
    free = {s["student"]["id"] for s in items for line in s["lines"] if line["category"] == "breakfast" and line["free"]}
    assert free == came_2a and totals["free"] == 9500 * len(came_2a)
    # The canteen's own pages: the menu, the kitchen's order, today's sales (none yet).
    assert canteen.get(f"/api/v1/institutions/{demo['school']}/menu").status == 200
    assert canteen.get(f"/api/v1/institutions/{demo['school']}/meals/order").status == 200
    assert canteen.get(f"/api/v1/institutions/{demo['school']}/meals/sales").json()["items"] == []
    # The summary of the day: breakfasts (the free ones of 2А), lunches and the goods.
    summary = {(x["kind"], x["category"]): x for x in sales["summary"]}
    assert summary[("complex", "breakfast")]["free_quantity"] == len(came_2a) == totals["free_quantity"]
    assert sum(x["amount"] for x in sales["summary"]) == totals["debited"]
    assert sum(x["quantity"] for x in sales["summary"]) == sum(line["quantity"] for s in items for line in s["lines"])
    # Another school's canteen is not hers.
    gym = next(s["id"] for s in demo["admin"].get("/api/v1/institutions").json()["items"] if s["short_name"] == "Гимназия № 2")
    assert canteen.get(f"/api/v1/institutions/{gym}/meals/sales?date={day}").status == 403
    assert canteen.get(f"/api/v1/institutions/{gym}/meals/sales?date=latest").status == 403


def next_school_day(node, school):
    """The school day from today on as meals.c finds it (an oracle of its own): the first day
    within four weeks with a lesson that is not cancelled, else the first Monday to Friday that
    is not a day off."""
    last = (TODAY + datetime.timedelta(days=27)).isoformat()
    first = sql(node, "SELECT min(l.date) FROM lessons l JOIN classes c ON c.id = l.class_id WHERE "
                      "c.institution_id = ? AND l.date >= ? AND l.date <= ? AND l.cancelled = 0",
                school, TODAY.isoformat(), last)[0][0]
    if first:
        return first
    off = {d for (d,) in sql(node, "SELECT date FROM holidays")}
    for n in range(14):
        d = TODAY + datetime.timedelta(days=n)
        if d.weekday() < 5 and d.isoformat() not in off:
            return d.isoformat()
    return TODAY.isoformat()


def test_the_school_pages_open_on_the_showcases_day(node, demo):
    """Today has no sales nor passage in the demo (the showcase is of the last school day before
    today), whatever weekday it is: the day's pages asked for date=latest get the showcase's day,
    and the menu asked for date=next the school day from today on."""
    day = showcase_day(demo)
    school, sa = demo["school"], demo["sa"]
    canteen = node.login("canteen")
    sales = canteen.get(f"/api/v1/institutions/{school}/meals/sales?date=latest")
    assert sales.status == 200, sales
    assert sales.json()["date"] == day and sales.json()["today"] is False and sales.json()["items"]
    passage = sa.get(f"/api/v1/institutions/{school}/passage?date=latest").json()
    assert passage["date"] == day and passage["today"] is False and passage["entered"] > 0
    ct = node.login("classteacher")
    cls = ct.user["classes"][0]["id"]
    presence = ct.get(f"/api/v1/classes/{cls}/presence?date=latest").json()
    assert presence["date"] == day and presence["today"] is False and presence["turnstiles"] is True
    assert ct.get(f"/api/v1/classes/{cls}/presence").json()["date"] == TODAY.isoformat()
    rec = canteen.get(f"/api/v1/institutions/{school}/meals/reconciliation?date=latest").json()
    assert rec["date"] == day and rec["today"] is False and rec["check"] is True
    assert rec["totals"]["sales"] == sales.json()["totals"]["debited"]
    menu = demo["parent"].get(f"/api/v1/institutions/{school}/menu?date=next").json()
    assert menu["date"] == next_school_day(node, school) >= TODAY.isoformat()
    assert menu == demo["parent"].get(f"/api/v1/institutions/{school}/menu?date={menu['date']}").json()
    # The words are the routes' own: a date, or the one word each takes.
    for path, word in ((f"/api/v1/institutions/{school}/menu", "latest"), (f"/api/v1/institutions/{school}/meals/sales", "next")):
        r = canteen.get(f"{path}?date={word}")
        assert r.status == 400 and r.json()["error"]["code"] == "bad_date" and r.json()["error"]["field"] == "date", path


def test_nobody_was_notified_of_the_showcases_day(node, demo):
    showcase_day(demo)
    for who in ("parent", "student"):
        feed = node.login(who).get("/api/v1/notifications?limit=200").json()["items"]
        told = [n["kind"] for n in feed if n["kind"].startswith(("passage_", "meals_"))]
        assert told == [], (who, told)
    assert sql(node, "SELECT count(*) FROM notifications WHERE kind LIKE 'passage_%' OR kind LIKE 'meals_%'") == [(0,)]

"""«Москвёнок»'s buffet (node/moskvenok/sales.c): terminals' sales decided and debited once, in
the order of the decision's reasons; free complexes; the family's stop list, daily limit and
block; offline uploads; two terminals selling to one card at once; the canteen's day of sales
and its refunds; and who may do each.

The menu, the cards and the balances are written into a fresh demo region's database before
the node starts (`seed_meals`): the menu's, cards' and top-ups' APIs are other parts of the
same issue."""
import datetime
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import threading
import time
from urllib.parse import quote

import pytest

from conftest import MESNODE, Client, Node

OVERDRAFT = 5000  # kopecks: the region of this module lets a balance go 50 ₽ below zero
CONFIG = f"meals:\n  overdraft_kopecks: {OVERDRAFT}\n  low_balance_kopecks: 1000\n"


def seed_meals(path):
    """Writes the buffet's world into the demo region's database at `path`: the goods and the
    day's complexes of Школа № 1 and Гимназия № 2, a card CARD-<id> and a top-up of 1000 ₽ for
    the students of 2nd and 5th grade of Школа № 1 and 3rd of Гимназия № 2, and one blocked card.
    Returns the ids the tests use. (Until merge, in place of the menu's, cards' and top-ups'
    APIs.) Школа № 1 is the demo's showcase of «Москвёнок» besides: its students have a card,
    an opening balance and the last school day's purchases already, and the complexes of this
    week and the next, which the day's complexes here replace."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    q = lambda sql, *a: db.execute(sql, a).fetchall()  # noqa: E731
    s1 = q("SELECT id FROM institutions WHERE short_name = 'Школа № 1'")[0][0]
    s2 = q("SELECT id FROM institutions WHERE short_name = 'Гимназия № 2'")[0][0]
    today = datetime.date.today()
    day, tomorrow = today.isoformat(), (today + datetime.timedelta(days=1)).isoformat()

    def students(school, grade):
        return [r[0] for r in q("SELECT e.student_id FROM enrollments e JOIN classes c ON c.id = e.class_id "
                                "WHERE c.institution_id = ? AND c.grade = ? AND e.left_on IS NULL "
                                "ORDER BY e.student_id", school, grade)]

    items = {}
    for school, name, category, price, active in [
            (s1, "Булочка с маком", "bakery", 4500, 1), (s1, "Сок яблочный", "drinks", 6000, 1),
            (s1, "Шоколад", "sweets", 8000, 1), (s1, "Яблоко", "fruit", 3000, 1),
            (s1, "Пирожок с капустой", "bakery", 4000, 0), (s2, "Кекс", "bakery", 5000, 1)]:
        cur = db.execute("INSERT INTO buffet_items (institution_id, name, category, price, active) "
                         "VALUES (?, ?, ?, ?, ?)", (school, name, category, price, active))
        items[name] = cur.lastrowid
    complexes = {}
    for school, d, kind, price, dishes in [
            (s1, day, "breakfast", 9000, ["Каша овсяная", "Чай"]),
            (s1, day, "lunch", 15000, ["Щи", "Котлета с пюре", "Компот"]),
            (s1, day, "snack", 7000, []), (s1, tomorrow, "breakfast", 9000, ["Сырники"]),
            (s2, day, "lunch", 16000, ["Борщ"])]:
        cur = db.execute("INSERT INTO meal_complexes (institution_id, day, kind, price, dishes) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (institution_id, day, kind) DO UPDATE SET "
                         "price = excluded.price, dishes = excluded.dishes RETURNING id",
                         (school, d, kind, price, json.dumps(dishes, ensure_ascii=False)))
        complexes[(school, d, kind)] = cur.fetchone()[0]
    world = {"s1": s1, "s2": s2, "items": items, "day": day,
             "breakfast": complexes[(s1, day, "breakfast")], "lunch": complexes[(s1, day, "lunch")],
             "snack": complexes[(s1, day, "snack")], "tomorrow": complexes[(s1, tomorrow, "breakfast")],
             "s2_lunch": complexes[(s2, day, "lunch")],
             "grade5": students(s1, 5), "grade2": students(s1, 2), "gym": students(s2, 3)}
    artem = q("SELECT id FROM persons WHERE last_name = 'Иванов' AND first_name = 'Артём'")[0][0]
    world["artem"] = artem
    now = int(time.time())
    for sid in world["grade5"] + world["grade2"] + world["gym"]:
        db.execute("INSERT INTO cards (card, student_id, institution_id) SELECT ?, ?, c.institution_id "
                   "FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE e.student_id = ? "
                   "AND e.left_on IS NULL", (f"CARD-{sid}", sid, sid))
        topup(db, sid, 100000, now)
    # A lost card of a student, blocked and replaced by CARD-<id>.
    db.execute("INSERT INTO cards (card, student_id, institution_id, blocked_at, blocked_reason) "
               "VALUES ('LOST-1', ?, ?, ?, 'lost')", (world["grade5"][1], s1, now))
    db.commit()
    db.close()
    return world


def topup(db, student, amount, at):
    """A top-up of `amount` kopecks as the payment provider's would be: the account's balance
    and a ledger row."""
    db.execute("INSERT INTO meal_accounts (student_id, balance) VALUES (?, ?) ON CONFLICT (student_id) "
               "DO UPDATE SET balance = balance + excluded.balance", (student, amount))
    balance = db.execute("SELECT balance FROM meal_accounts WHERE student_id = ?", (student,)).fetchone()[0]
    db.execute("INSERT INTO ledger (student_id, day, at, kind, amount, ref, balance) "
               "VALUES (?, date(?, 'unixepoch', 'localtime'), ?, 'topup', ?, 0, ?)",
               (student, at, at, amount, balance))


class SalesNode(Node):
    """`mesnode serve` on a demo region with the buffet's world seeded (seed_meals)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mesnode-test-")
        data = os.path.join(self.dir, "data")
        gen = subprocess.run([MESNODE, "gen", "--scale", "demo", "--data", data],
                             capture_output=True, text=True, timeout=120)
        if gen.returncode != 0:
            raise RuntimeError("mesnode gen failed: " + gen.stderr)
        self.db_path = os.path.join(data, "mes.db")
        self.world = seed_meals(self.db_path)
        self.config = os.path.join(self.dir, "node.yaml")
        with open(self.config, "w") as f:
            f.write(f'http:\n  listen: "127.0.0.1:0"\n  threads: 16\n  access_log: "off"\n'
                    f'storage:\n  data_dir: "{data}"\n  synchronous: normal\n{CONFIG}')
        self._start([MESNODE, "serve", "--config", self.config], r"on port (\d+)")

    def sql(self, query, *args):
        """Rows of a read of the node's database (WAL: beside the running node)."""
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return db.execute(query, args).fetchall()
        finally:
            db.close()

    def balance(self, student):
        return self.sql("SELECT balance FROM meal_accounts WHERE student_id = ?", student)[0][0]

    def ledger(self, student, kind=None):
        rows = self.sql("SELECT kind, amount, ref, balance FROM ledger WHERE student_id = ? ORDER BY id", student)
        return [r for r in rows if kind is None or r[0] == kind]


@pytest.fixture(scope="module")
def node():
    n = SalesNode()
    yield n
    code = n.stop()
    assert code == 0, f"mesnode exited with {code}:\n{n.last_output[-6000:]}"


class Terminal:
    """A buffet terminal: a device token of scope meals at a school, numbering its sales."""

    def __init__(self, node, token, name):
        self.client = Client(node.base, token=token)
        self.name = name
        self.seq = 0

    def body(self, card, items, key=None, seq=None, **extra):
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"key": key or f"{self.name}-{seq}", "seq": seq, "card": card,
                "items": json.loads(json.dumps(items)), **extra}

    def sell(self, card, items, **kw):
        return self.client.post("/api/v1/meals/sales", self.body(card, items, **kw))

    def ok(self, card, items, **kw):
        r = self.sell(card, items, **kw)
        assert r.status == 200, r
        return r.json()


@pytest.fixture(scope="module")
def w(node):
    world = dict(node.world)
    admin = node.login("admin")
    world["admin"] = admin

    def device(name, scopes, school):
        r = admin.post("/api/v1/devices", {"name": name, "scopes": scopes, "institution_id": school})
        assert r.status == 201, r
        return r.json()["token"]

    world["device"] = device
    world["t1"] = Terminal(node, device("Касса столовой 1", ["meals"], world["s1"]), "t1")
    world["t2"] = Terminal(node, device("Касса гимназии", ["meals"], world["s2"]), "t2")
    world["turnstile"] = device("Турникет", ["passage"], world["s1"])

    def person(last, login, roles):
        r = admin.post("/api/v1/persons", {"last_name": last, "first_name": "Тест", "account": {
            "login": login, "password": "sales-pass-1", "roles": roles}})
        assert r.status == 201, r
        return r.json()["id"], node.login(login, "sales-pass-1")

    _, world["canteen"] = person("Поварова", "canteen1", [{"role": "canteen", "institution_id": world["s1"]}])
    _, world["canteen2"] = person("Гимназистова", "canteen2", [{"role": "canteen", "institution_id": world["s2"]}])
    _, world["sadmin2"] = person("Директорова", "sadmin2", [{"role": "school_admin", "institution_id": world["s2"]}])
    pid, world["other_parent"] = person("Сидоров", "otherparent", [{"role": "parent"}])
    world["mate"] = next(s for s in world["grade5"] if s != world["artem"])
    assert admin.post("/api/v1/guardians", {"guardian_id": pid, "student_id": world["mate"],
                                            "relation": "father"}).status == 201
    world["parent"] = node.login("parent")
    world["student"] = node.login("student")
    world["sa"] = node.login("schooladmin")
    world["teacher"] = node.login("teacher")
    return world


def card(student):
    return f"CARD-{student}"


def code(r):
    return r.json()["error"]["code"]


def all_sales(client, path, query="", limit=200):
    """Every sale of a canteen's day (GET path?query), page after page: the pages' items in order
    and the last answer (its totals and summary)."""
    items, before = [], None
    while True:
        q = f"{query}&limit={limit}" + (f"&before={before}" if before else "")
        r = client.get(f"{path}?{q.lstrip('&')}")
        assert r.status == 200, r
        page = r.json()
        items += page["items"]
        assert len(page["items"]) <= limit
        if not page["more"]:
            return items, page
        assert len(page["items"]) == limit
        before = page["items"][-1]["id"]


def field(r):
    return r.json()["error"].get("field")


class Pool:
    """Hands out students nobody else in this module sold to, so that each test starts from an
    empty day (the demo's purchases are of an earlier day) and a balance it reads first."""

    def __init__(self, ids):
        self.ids = list(ids)

    def take(self):
        return self.ids.pop()


@pytest.fixture(scope="module")
def fresh(w):
    skip = {w["artem"], w["mate"], w["grade5"][1]}
    return {"grade5": Pool([s for s in w["grade5"] if s not in skip]), "grade2": Pool(w["grade2"]),
            "gym": Pool(w["gym"])}


# ---- one sale ---------------------------------------------------------------------------------

def test_an_approved_sale_is_debited_once(node, w, fresh):
    t1, s = w["t1"], fresh["grade5"].take()
    items = w["items"]
    before, ledger = node.balance(s), node.ledger(s, "sale")  # the demo's last school day's
    body = t1.body(card(s), [{"id": items["Булочка с маком"], "quantity": 2}, {"id": items["Сок яблочный"], "quantity": 1}])
    r = t1.client.post("/api/v1/meals/sales", body)
    assert r.status == 200, r
    a = r.json()
    assert a["approved"] is True and a["reason"] is None and "duplicate" not in a
    assert a["total"] == 2 * 4500 + 6000 and a["free"] == 0
    assert a["balance"] == before - 15000 == node.balance(s)
    assert a["held_seq"] == a["last_seq"] == t1.seq
    assert node.ledger(s, "sale") == ledger + [("sale", -15000, a["sale"], before - 15000)]
    row = node.sql("SELECT status, reason, total, free_value, offline, student_id, day FROM sales WHERE id = ?", a["sale"])
    assert row == [("approved", None, 15000, 0, 0, s, w["day"])]
    lines = node.sql("SELECT name, category, quantity, price, free FROM sale_lines WHERE sale_id = ? ORDER BY rowid", a["sale"])
    assert lines == [("Булочка с маком", "bakery", 2, 4500, 0), ("Сок яблочный", "drinks", 1, 6000, 0)]

    # The same key again, even with another body: the first answer, applied once.
    for again in (body, {**body, "items": [{"id": items["Шоколад"], "quantity": 5}]}):
        d = t1.client.post("/api/v1/meals/sales", again)
        assert d.status == 200, d
        first = {k: v for k, v in d.json().items() if k != "duplicate"}
        assert d.json()["duplicate"] is True and first == a
    assert node.balance(s) == before - 15000 and len(node.ledger(s, "sale")) == len(ledger) + 1
    assert node.sql("SELECT count(*) FROM sales WHERE key = ?", body["key"]) == [(1,)]


def test_the_at_and_offline_of_a_sale_are_kept(node, w, fresh):
    s = fresh["grade5"].take()
    at = datetime.datetime.now().astimezone().replace(microsecond=0) - datetime.timedelta(minutes=5)
    a = w["t1"].ok(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}], at=at.isoformat(), offline=True)
    assert a["approved"]
    assert node.sql("SELECT at, offline FROM sales WHERE id = ?", a["sale"]) == [(int(at.timestamp()), 1)]


def money(node, s):
    """A student's balance and ledger."""
    return node.balance(s), node.ledger(s)


def sold_nothing(node, s, before, sale):
    """The sale was stored declined and moved no money: the balance and the ledger are still
    `before` (money())."""
    assert money(node, s) == before
    assert node.sql("SELECT status, total, free_value FROM sales WHERE id = ?", sale) == [("declined", 0, 0)]


def test_each_decline_reason_in_order(node, w, fresh):
    t1, items = w["t1"], w["items"]
    bun = [{"id": items["Булочка с маком"], "quantity": 1}]

    def declined(card_id, lines, reason, balance_shown=True):
        a = t1.ok(card_id, lines)
        assert a["approved"] is False and a["reason"] == reason, a
        assert a["total"] == 0 and a["free"] == 0
        assert (a["balance"] is not None) == balance_shown, a
        assert node.sql("SELECT status, reason, total FROM sales WHERE id = ?", a["sale"]) == [("declined", reason, 0)]
        return a

    a = declined("NO-SUCH-CARD", bun, "unknown_card", balance_shown=False)
    assert node.sql("SELECT student_id, card_id FROM sales WHERE id = ?", a["sale"]) == [(None, None)]
    lost = w["grade5"][1]
    before = money(node, lost)
    sold_nothing(node, lost, before, declined("LOST-1", bun, "card_blocked", balance_shown=False)["sale"])
    # A card of Гимназия № 2 at Школа № 1's terminal, and the other way round.
    g = fresh["gym"].take()
    before = money(node, g)
    sold_nothing(node, g, before, declined(card(g), bun, "other_school", balance_shown=False)["sale"])
    s = fresh["grade5"].take()
    a = w["t2"].ok(card(s), [{"id": items["Кекс"], "quantity": 1}])
    assert a["approved"] is False and a["reason"] == "other_school" and a["balance"] is None
    # Items: another school's, off sale, unknown; a complex of another day or school. The
    # card's problems come first.
    before = money(node, s)
    for lines in ([{"id": items["Кекс"], "quantity": 1}], [{"id": items["Пирожок с капустой"], "quantity": 1}],
                  [{"id": 999999, "quantity": 1}], [{"complex": w["tomorrow"], "quantity": 1}],
                  [{"complex": w["s2_lunch"], "quantity": 1}], [{"complex": items["Яблоко"] + 999999, "quantity": 1}],
                  bun + [{"id": items["Кекс"], "quantity": 1}]):
        a = declined(card(s), lines, "unknown_item")
        assert a["balance"] == before[0]
        sold_nothing(node, s, before, a["sale"])
    assert declined("LOST-1", [{"id": items["Кекс"], "quantity": 1}], "card_blocked", False)
    # The account stopped by the school, then the stop list, the limit and the balance, each
    # behind the ones before.
    sa = w["sa"]
    assert sa.request("PUT", f"/api/v1/students/{s}/meals/blocked", {"blocked": True}).status == 200
    sold_nothing(node, s, before, declined(card(s), bun, "account_blocked")["sale"])
    declined(card(s), [{"id": items["Кекс"], "quantity": 1}], "unknown_item")
    assert sa.request("PUT", f"/api/v1/students/{s}/meals/blocked", {"blocked": False}).status == 200
    with sqlite3.connect(node.db_path) as db:  # the parent's stop list and limit, as the family's page sets them
        db.execute("INSERT INTO meal_stoplist (student_id, category) VALUES (?, 'bakery')", (s,))
        db.execute("UPDATE meal_accounts SET daily_limit = 10000 WHERE student_id = ?", (s,))
    sold_nothing(node, s, before, declined(card(s), bun, "stop_list")["sale"])
    sold_nothing(node, s, before, declined(card(s), [{"id": items["Шоколад"], "quantity": 2}], "daily_limit")["sale"])
    with sqlite3.connect(node.db_path) as db:
        db.execute("UPDATE meal_accounts SET daily_limit = NULL, balance = 3000 WHERE student_id = ?", (s,))
    # 3000 + the overdraft of 5000 pays for 8000, not for 8001.
    a = declined(card(s), [{"id": items["Шоколад"], "quantity": 1}, {"id": items["Яблоко"], "quantity": 1}], "insufficient_funds")
    assert a["balance"] == 3000
    a = t1.ok(card(s), [{"id": items["Шоколад"], "quantity": 1}])
    assert a["approved"] and a["balance"] == -5000
    declined(card(s), [{"complex": w["snack"], "quantity": 1}], "insufficient_funds")


def test_free_complexes_by_grade_once_a_day(node, w, fresh):
    """Default rules: breakfast is free in grades 1-4; a 5А student pays for it."""
    t1 = w["t1"]
    small = fresh["grade2"].take()
    before, ledger = money(node, small)
    a = t1.ok(card(small), [{"complex": w["breakfast"], "quantity": 1}])
    assert a["approved"] and a["total"] == 0 and a["free"] == 9000 and a["balance"] == before
    assert node.ledger(small) == ledger  # nothing debited, no ledger row
    assert node.sql("SELECT status, total, free_value FROM sales WHERE id = ?", a["sale"]) == [("approved", 0, 9000)]
    assert node.sql("SELECT name, category, quantity, price, free FROM sale_lines WHERE sale_id = ?", a["sale"]) == [
        ("Каша овсяная, Чай", "breakfast", 1, 9000, 1)]
    # The second breakfast of the day is paid; lunch is not free by grade.
    a = t1.ok(card(small), [{"complex": w["breakfast"], "quantity": 1}, {"complex": w["lunch"], "quantity": 1}])
    assert a["approved"] and a["total"] == 24000 and a["free"] == 0
    assert node.balance(small) == before - 24000
    # Two breakfasts in one sale: one free, one paid, as two lines.
    other = fresh["grade2"].take()
    a = t1.ok(card(other), [{"complex": w["breakfast"], "quantity": 2}, {"id": w["items"]["Яблоко"], "quantity": 1}])
    assert a["total"] == 9000 + 3000 and a["free"] == 9000
    assert node.sql("SELECT quantity, free FROM sale_lines WHERE sale_id = ? AND complex_id IS NOT NULL ORDER BY free DESC",
                    a["sale"]) == [(1, 1), (1, 0)]
    # A refunded free breakfast can be given again.
    r = w["canteen"].post(f"/api/v1/meals/sales/{a['sale']}/refund", {"reason": "Пробили дважды"})
    assert r.status == 200 and r.json()["refunded"] == 12000
    assert t1.ok(card(other), [{"complex": w["breakfast"], "quantity": 1}])["free"] == 9000
    # A 5th-grader pays, and a declined free sale gives nothing free.
    big = fresh["grade5"].take()
    a = t1.ok(card(big), [{"complex": w["breakfast"], "quantity": 1}])
    assert a["approved"] and a["total"] == 9000 and a["free"] == 0
    third = fresh["grade2"].take()
    with sqlite3.connect(node.db_path) as db:
        db.execute("INSERT INTO meal_stoplist (student_id, category) VALUES (?, 'fruit')", (third,))
    a = t1.ok(card(third), [{"complex": w["breakfast"], "quantity": 1}, {"id": w["items"]["Яблоко"], "quantity": 1}])
    assert a["reason"] == "stop_list" and a["free"] == 0
    assert t1.ok(card(third), [{"complex": w["breakfast"], "quantity": 1}])["free"] == 9000


# ---- the family: stop list, daily limit, block ------------------------------------------------

def test_stop_list_by_item_and_by_category(node, w):
    parent, artem, items, t1 = w["parent"], w["artem"], w["items"], w["t1"]
    path = f"/api/v1/students/{artem}/meals/stoplist"
    assert parent.get(path).json() == {"items": [], "categories": []}
    r = parent.request("PUT", path, {"items": [items["Сок яблочный"], items["Сок яблочный"]], "categories": ["sweets"]})
    assert r.status == 200 and r.json() == {"items": [items["Сок яблочный"]], "categories": ["sweets"]}
    for who in ("student", "sa", "canteen", "admin"):
        assert w[who].get(path).json() == r.json(), who
    assert t1.ok(card(artem), [{"id": items["Сок яблочный"], "quantity": 1}])["reason"] == "stop_list"
    assert t1.ok(card(artem), [{"id": items["Шоколад"], "quantity": 1}])["reason"] == "stop_list"
    assert t1.ok(card(artem), [{"id": items["Булочка с маком"], "quantity": 1}, {"id": items["Шоколад"], "quantity": 1}])["reason"] == "stop_list"
    assert t1.ok(card(artem), [{"id": items["Булочка с маком"], "quantity": 1}])["approved"]
    # Complexes are never stopped.
    assert t1.ok(card(artem), [{"complex": w["snack"], "quantity": 1}])["approved"]
    # Bad input changes nothing.
    for body, status, c, f in (
            ({"items": [items["Кекс"]], "categories": []}, 400, "unknown_item", "items[0]"),
            ({"items": [999999], "categories": []}, 400, "unknown_item", "items[0]"),
            ({"items": [0], "categories": []}, 400, "bad_request", "items[0]"),
            ({"items": [], "categories": ["sweets", "vodka"]}, 400, "bad_category", "categories[1]"),
            ({"items": "all", "categories": []}, 400, "bad_request", "items"),
            ({"items": []}, 400, "bad_request", None),
            ({"items": [], "categories": [], "more": 1}, 400, "bad_request", None)):
        r = parent.request("PUT", path, body)
        assert r.status == status and code(r) == c and field(r) == f, (body, r)
    assert parent.get(path).json() == {"items": [items["Сок яблочный"]], "categories": ["sweets"]}
    # Only the parents write it; another parent, the student and the school do not.
    for who in ("other_parent", "student", "sa", "canteen", "teacher"):
        assert w[who].request("PUT", path, {"items": [], "categories": []}).status == 403, who
    assert w["other_parent"].get(path).status == 403
    assert w["canteen2"].get(path).status == 403
    assert w["sadmin2"].get(path).status == 403
    assert w["teacher"].get(path).status == 403
    assert parent.get("/api/v1/students/999999/meals/stoplist").status == 404
    assert parent.request("PUT", path, {"items": [], "categories": []}).json() == {"items": [], "categories": []}
    assert t1.ok(card(artem), [{"id": items["Шоколад"], "quantity": 1}])["approved"]


def test_daily_limit_over_a_day(node, w):
    parent, mate, t1, items = w["other_parent"], w["mate"], w["t1"], w["items"]
    path = f"/api/v1/students/{mate}/meals/limit"
    assert parent.get(path).json() == {"daily_limit": None, "spent_today": 0}
    r = parent.request("PUT", path, {"daily_limit": 20000})
    assert r.status == 200 and r.json() == {"daily_limit": 20000, "spent_today": 0}
    a = t1.ok(card(mate), [{"id": items["Сок яблочный"], "quantity": 1}])  # 6000
    b = t1.ok(card(mate), [{"id": items["Шоколад"], "quantity": 1}])  # 14000
    assert a["approved"] and b["approved"]
    # 14000 + 8000 > 20000; 14000 + 6000 = 20000 is within it.
    assert t1.ok(card(mate), [{"id": items["Шоколад"], "quantity": 1}])["reason"] == "daily_limit"
    assert t1.ok(card(mate), [{"id": items["Сок яблочный"], "quantity": 1}])["approved"]
    assert parent.get(path).json() == {"daily_limit": 20000, "spent_today": 20000}
    assert t1.ok(card(mate), [{"id": items["Яблоко"], "quantity": 1}])["reason"] == "daily_limit"
    # A sale of another day does not count; a refund gives its share of the day back. (Another
    # day with nothing bought: the demo's last school day has its own meals under the limit.)
    other = datetime.datetime.now().astimezone() - datetime.timedelta(days=1)
    while node.sql("SELECT count(*) FROM sales WHERE student_id = ? AND day = ?", mate, other.date().isoformat())[0][0]:
        other -= datetime.timedelta(days=1)
    other = other.replace(hour=12)
    assert t1.ok(card(mate), [{"id": items["Яблоко"], "quantity": 1}], at=other.isoformat(), offline=True)["approved"]
    assert w["canteen"].post(f"/api/v1/meals/sales/{a['sale']}/refund", {"reason": "Сок пролит"}).status == 200
    assert parent.get(path).json()["spent_today"] == 14000
    assert t1.ok(card(mate), [{"id": items["Яблоко"], "quantity": 2}])["approved"]
    assert parent.request("PUT", path, {"daily_limit": 0}).json()["daily_limit"] == 0
    assert t1.ok(card(mate), [{"id": items["Яблоко"], "quantity": 1}])["reason"] == "daily_limit"
    # Bad values change nothing.
    for v in (-1, 10000001, 1.5, "100", True):
        r = parent.request("PUT", path, {"daily_limit": v})
        assert r.status == 400 and code(r) == "bad_limit" and field(r) == "daily_limit", v
    assert parent.request("PUT", path, {}).status == 400
    assert parent.get(path).json()["daily_limit"] == 0
    for who in ("parent", "student", "sa", "canteen", "teacher", "admin"):
        assert w[who].request("PUT", path, {"daily_limit": None}).status == 403, who
    assert w["canteen"].get(path).status == 200 and w["canteen2"].get(path).status == 403
    assert w["parent"].get(path).status == 403
    r = parent.request("PUT", path, {"daily_limit": None})
    assert r.status == 200 and r.json()["daily_limit"] is None
    assert t1.ok(card(mate), [{"id": items["Яблоко"], "quantity": 1}])["approved"]


def test_blocking_the_account(node, w):
    parent, artem, t1, items = w["parent"], w["artem"], w["t1"], w["items"]
    path = f"/api/v1/students/{artem}/meals/blocked"
    assert parent.get(path).json() == {"blocked": False, "blocked_at": None}
    audits = lambda: w["admin"].get("/api/v1/audit?action=meals.block&limit=1000").json()["items"]  # noqa: E731
    before = len(audits())
    r = parent.request("PUT", path, {"blocked": True})
    assert r.status == 200 and r.json()["blocked"] is True and r.json()["blocked_at"] > 0
    assert len(audits()) == before  # parents' changes are not the staff's audit
    assert t1.ok(card(artem), [{"id": items["Яблоко"], "quantity": 1}])["reason"] == "account_blocked"
    assert w["student"].get(path).json()["blocked"] is True
    assert parent.request("PUT", path, {"blocked": False}).json() == {"blocked": False, "blocked_at": None}
    assert t1.ok(card(artem), [{"id": items["Яблоко"], "quantity": 1}])["approved"]
    # The school's admin stops it too (a lost card reported at school), audited.
    assert w["sa"].request("PUT", path, {"blocked": True}).status == 200
    entries = audits()
    assert len(entries) == before + 1 and entries[0]["object"] == f"student/{artem}"
    assert w["sa"].request("PUT", path, {"blocked": False}).status == 200
    for who in ("other_parent", "student", "canteen", "teacher", "sadmin2", "admin"):
        assert w[who].request("PUT", path, {"blocked": True}).status == 403, who
    for who in ("other_parent", "canteen2", "sadmin2", "teacher"):
        assert w[who].get(path).status == 403, who
    assert w["canteen"].get(path).status == 200 and w["admin"].get(path).status == 200
    for body in ({"blocked": 1}, {"blocked": "yes"}, {}, {"blocked": True, "x": 1}):
        assert parent.request("PUT", path, body).status == 400, body
    assert parent.get(path).json()["blocked"] is False


# ---- exactly once, offline, concurrency -------------------------------------------------------

def test_seq_taken_and_malformed_batches_change_nothing(node, w, fresh):
    t = Terminal(node, w["device"]("Касса 2", ["meals"], w["s1"]), "q")
    s = fresh["grade5"].take()
    sold = node.sql("SELECT count(*) FROM sales WHERE student_id = ?", s)[0][0]  # the demo's
    bun = [{"id": w["items"]["Булочка с маком"], "quantity": 1}]
    first = t.ok(card(s), bun)
    assert first["held_seq"] == first["last_seq"] == 1
    before = node.balance(s)
    r = t.sell(card(s), bun, key="another", seq=1)
    assert r.status == 409 and code(r) == "seq_taken" and field(r) == "seq"
    # A gap: seq 3 held, 2 not yet.
    a = t.ok(card(s), bun, seq=3)
    assert a["held_seq"] == 1 and a["last_seq"] == 3
    assert node.balance(s) == before - 4500
    before -= 4500
    # A batch with a taken seq, or a malformed sale, refuses everything in it.
    batch = [t.body(card(s), bun, seq=2), t.body(card(s), bun, key="clash", seq=3)]
    r = t.client.post("/api/v1/meals/sales/batch", {"sales": batch})
    assert r.status == 409 and code(r) == "seq_taken" and field(r) == "sales[1].seq"
    for bad, f in ((lambda b: b["items"][0].update(quantity=0), "sales[1].items[0].quantity"),
                   (lambda b: b["items"][0].update(quantity=101), "sales[1].items[0].quantity"),
                   (lambda b: b["items"][0].update(complex=5), "sales[1].items[0].complex"),
                   (lambda b: b["items"][0].pop("quantity"), "sales[1].items[0].quantity"),
                   (lambda b: b.update(items=[]), "sales[1].items"),
                   (lambda b: b.update(key=""), "sales[1].key"),
                   (lambda b: b.update(key="x" * 65), "sales[1].key"),
                   (lambda b: b.update(key="с пробелом"), "sales[1].key"),
                   (lambda b: b.update(seq=0), "sales[1].seq"),
                   (lambda b: b.pop("seq"), "sales[1].seq"),
                   (lambda b: b.update(card=""), "sales[1].card"),
                   (lambda b: b.update(at="вчера"), "sales[1].at"),
                   (lambda b: b.update(at="2026-02-30T10:00:00Z"), "sales[1].at"),
                   (lambda b: b.update(offline="yes"), "sales[1].offline"),
                   (lambda b: b.update(price=1), "sales[1].price")):
        second = t.body(card(s), bun, key="fine-2", seq=4)
        bad(second)
        r = t.client.post("/api/v1/meals/sales/batch", {"sales": [t.body(card(s), bun, key="fine-1", seq=2), second]})
        assert r.status == 400 and field(r) == f, (f, r)
    for body in ({"sales": []}, {"sales": {}}, {"sales": [1]}, {}, {"sales": [t.body(card(s), bun, seq=9)] * 501}):
        assert t.client.post("/api/v1/meals/sales/batch", body).status == 400
    assert t.sell(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}], extra=1).status == 400
    assert node.balance(s) == before
    assert node.sql("SELECT count(*) FROM sales WHERE student_id = ?", s) == [(sold + 2,)]
    # The gap filled: held_seq runs on to 3.
    a = t.ok(card(s), bun, seq=2)
    assert a["held_seq"] == a["last_seq"] == 3


def test_an_hour_offline_replays_without_loss_or_double_charge(node, w, fresh):
    t = Terminal(node, w["device"]("Касса 3", ["meals"], w["s1"]), "offline")
    students = [fresh["grade5"].take() for _ in range(6)] + [fresh["grade2"].take() for _ in range(2)]
    with sqlite3.connect(node.db_path) as db:  # two of them with little money: some sales cannot be paid
        db.execute("UPDATE meal_accounts SET balance = 2000 WHERE student_id IN (?, ?)", (students[0], students[1]))
    start = {s: node.balance(s) for s in students}
    debits = {s: len(node.ledger(s, "sale")) for s in students}  # the demo's last school day's
    now = datetime.datetime.now().astimezone().replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    rnd = random.Random(17)
    goods = [("id", w["items"]["Булочка с маком"]), ("id", w["items"]["Сок яблочный"]), ("id", w["items"]["Яблоко"]),
             ("complex", w["breakfast"]), ("complex", w["lunch"])]
    queue = []
    for i in range(200):
        at = max(midnight, now - datetime.timedelta(seconds=3600 - 18 * i))
        kind, gid = rnd.choice(goods)
        queue.append(t.body(card(rnd.choice(students)), [{kind: gid, "quantity": rnd.randint(1, 2)}],
                            key=f"off-{i + 1:03d}", seq=i + 1, at=at.isoformat(), offline=True))
    answers = {}
    for attempt in range(2):
        order = queue[:]
        rnd.shuffle(order)
        uploaded = set()
        while order:
            n = rnd.randint(1, 40)
            batch, order = order[:n], order[n:]
            r = t.client.post("/api/v1/meals/sales/batch", {"sales": batch})
            assert r.status == 200, r
            a = r.json()
            uploaded |= {b["seq"] for b in batch}
            held = 0
            while attempt == 0 and held + 1 in uploaded:
                held += 1
            assert a["held_seq"] == (held if attempt == 0 else 200)
            assert a["last_seq"] == (max(uploaded) if attempt == 0 else 200)
            assert [x["key"] for x in a["results"]] == [b["key"] for b in batch]
            if attempt == 0:
                assert a["applied"] == len(batch) and a["duplicates"] == 0
                for x in a["results"]:
                    answers[x["key"]] = x
            else:
                assert a["applied"] == 0 and a["duplicates"] == len(batch)
                for x in a["results"]:
                    assert x.pop("duplicate") is True and x == answers[x["key"]]
        assert a["held_seq"] == a["last_seq"] == 200
    # Every sale once; the money moved once per approved sale.
    rows = node.sql("SELECT key, status, total, student_id, offline FROM sales WHERE device_id = "
                    "(SELECT device_id FROM terminal_events WHERE key = 'off-001')")
    assert len(rows) == 200 and {r[0] for r in rows} == set(answers)
    assert all(r[4] == 1 for r in rows)
    declined = [r for r in rows if r[1] == "declined"]
    assert declined and all(answers[r[0]]["reason"] == "insufficient_funds" for r in declined)
    for s in students:
        paid = sum(r[2] for r in rows if r[3] == s and r[1] == "approved")
        assert node.balance(s) == start[s] - paid >= -OVERDRAFT, s
        sales = node.ledger(s, "sale")[debits[s]:]
        assert len(sales) == sum(1 for r in rows if r[3] == s and r[1] == "approved" and r[2] > 0)
        assert sum(x[1] for x in sales) == -paid and node.ledger(s)[-1][3] == node.balance(s)
    # The canteen sees what was handed out and not paid.
    listed, day = all_sales(w["canteen"], f"/api/v1/institutions/{w['s1']}/meals/sales")
    unpaid = {x["id"] for x in listed if x["unpaid"]}
    assert {answers[r[0]]["sale"] for r in declined} <= unpaid
    assert day["totals"]["offline_unpaid"] >= len(declined)


def test_two_terminals_selling_to_one_card_never_overdraw(node, w, fresh):
    s = fresh["grade5"].take()
    # The demo's opening balance less its day's meals, and the 1000 ₽ above: spent first down to
    # 50000 and less than a bar of chocolate (8000) more.
    start = node.balance(s)
    bars = (start - 50000 - 30000 - 12000) // 8000
    a = w["t1"].ok(card(s), [{"complex": w["lunch"], "quantity": 2}, {"id": w["items"]["Сок яблочный"], "quantity": 2},
                             {"id": w["items"]["Шоколад"], "quantity": bars}])
    left = start - 30000 - 12000 - 8000 * bars
    assert a["approved"] and node.balance(s) == left and 50000 <= left < 58000
    terminals = [Terminal(node, w["device"](f"Касса {i}", ["meals"], w["s1"]), f"race{i}") for i in range(2)]
    bun = [{"id": w["items"]["Булочка с маком"], "quantity": 1}]
    rounds, answers = 40, []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def run(t):
        for _ in range(rounds):
            barrier.wait()
            a = t.ok(card(s), bun)
            with lock:
                answers.append(a)

    threads = [threading.Thread(target=run, args=(t,)) for t in terminals]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    approved = [a for a in answers if a["approved"]]
    # (left + 5000 overdraft) // 4500 buns (12 to 13), never one more.
    buns = (left + OVERDRAFT) // 4500
    assert len(answers) == 2 * rounds and len(approved) == buns
    assert all(a["reason"] == "insufficient_funds" for a in answers if not a["approved"])
    assert node.balance(s) == left - buns * 4500 >= -OVERDRAFT
    assert sorted(a["balance"] for a in approved) == [left - 4500 * k for k in range(buns, 0, -1)]
    ledger = node.ledger(s)
    assert sum(x[1] for x in ledger) == node.balance(s) and ledger[-1][3] == node.balance(s)


# ---- the canteen: its day and refunds ---------------------------------------------------------

def test_refunds_once_by_the_right_people(node, w, fresh):
    t1, items, canteen = w["t1"], w["items"], w["canteen"]
    s = fresh["grade5"].take()
    before = node.balance(s)
    a = t1.ok(card(s), [{"id": items["Шоколад"], "quantity": 2}])
    declined = t1.ok(card(s), [{"id": items["Кекс"], "quantity": 1}])
    path = f"/api/v1/meals/sales/{a['sale']}/refund"
    for who in ("canteen2", "sadmin2"):
        r = w[who].post(path, {"reason": "Чужая школа"})
        assert r.status == 403, who
    for who in ("parent", "teacher", "student", "admin"):
        assert w[who].post(path, {"reason": "Нет"}).status == 403, who
    assert Client(node.base, token=w["turnstile"]).post(path, {"reason": "x"}).status == 403
    assert node.client().post(path, {"reason": "x"}).status == 401
    for body in ({"reason": ""}, {"reason": "   "}, {"reason": "я" * 501}, {}, {"reason": 5}, {"reason": "x", "amount": 1}):
        r = canteen.post(path, body)
        assert r.status == 400, (body, r)
    assert canteen.post(path, {"reason": ""}).json()["error"]["field"] == "reason"
    assert node.balance(s) == before - 16000 and node.ledger(s, "refund") == []
    r = canteen.post(path, {"reason": "Шоколад оказался просроченным"})
    assert r.status == 200 and r.json() == {"sale": a["sale"], "refunded": 16000, "balance": before}
    assert node.balance(s) == before
    assert node.ledger(s, "refund") == [("refund", 16000, a["sale"], before)]
    again = canteen.post(path, {"reason": "Ещё раз"})
    assert again.status == 409 and code(again) == "already_refunded"
    r = w["sa"].post(f"/api/v1/meals/sales/{declined['sale']}/refund", {"reason": "Отказ"})
    assert r.status == 409 and code(r) == "declined_sale"
    assert canteen.post("/api/v1/meals/sales/999999/refund", {"reason": "Нет такой"}).status == 404
    assert node.balance(s) == before and len(node.ledger(s, "refund")) == 1
    # The school admin refunds too; each refund is audited with its reason.
    b = t1.ok(card(s), [{"id": items["Яблоко"], "quantity": 1}])
    assert w["sa"].post(f"/api/v1/meals/sales/{b['sale']}/refund", {"reason": "Ошибка кассира"}).status == 200
    entries = w["admin"].get("/api/v1/audit?action=meals.refund&limit=1000").json()["items"]
    mine = {e["object"]: e for e in entries}
    assert mine[f"sale/{a['sale']}"]["detail"]["reason"] == "Шоколад оказался просроченным"
    assert mine[f"sale/{b['sale']}"]["detail"]["amount"] == 3000


def test_the_family_is_told_of_a_refund(node, w):
    artem, t1 = w["artem"], w["t1"]
    a = t1.ok(card(artem), [{"id": w["items"]["Яблоко"], "quantity": 1}])
    assert w["canteen"].post(f"/api/v1/meals/sales/{a['sale']}/refund", {"reason": "Яблоко мятое"}).status == 200
    feed = w["parent"].get("/api/v1/notifications?limit=100").json()["items"]
    told = [n for n in feed if n["kind"] == "meals_refund" and n["data"]["sale"] == a["sale"]]
    assert len(told) == 1 and told[0]["data"]["amount"] == 3000


def test_the_canteens_day(node, w, fresh):
    t1, items, canteen = w["t1"], w["items"], w["canteen"]
    s = fresh["grade5"].take()
    a = t1.ok(card(s), [{"id": items["Булочка с маком"], "quantity": 1}, {"complex": w["lunch"], "quantity": 1}])
    g = fresh["gym"].take()
    other = t1.ok(card(g), [{"id": items["Яблоко"], "quantity": 1}])
    path = f"/api/v1/institutions/{w['s1']}/meals/sales"
    r = canteen.get(path)
    assert r.status == 200, r
    assert r.json()["date"] == w["day"] and r.json()["today"] is True
    listed, day = all_sales(canteen, path)
    sales = {x["id"]: x for x in listed}
    x = sales[a["sale"]]
    assert x["status"] == "approved" and x["total"] == 19500 and x["value"] == 19500 and x["terminal"] == "Касса столовой 1"
    assert x["student"]["id"] == s and x["student"]["class"] == node.sql(
        "SELECT c.grade || c.letter FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE e.student_id = ?", s)[0][0] and x["refunded"] is None
    assert x["lines"] == [
        {"kind": "item", "name": "Булочка с маком", "category": "bakery", "quantity": 1, "price": 4500, "free": False},
        {"kind": "complex", "name": "Щи, Котлета с пюре, Компот", "category": "lunch", "quantity": 1, "price": 15000, "free": False}]
    # A student of another school is not named to this canteen.
    y = sales[other["sale"]]
    assert y["status"] == "declined" and y["reason"] == "other_school" and y["student"] is None
    assert y["lines"][0]["name"] == "Яблоко"
    assert [i["at"] for i in listed] == sorted((i["at"] for i in listed), reverse=True)
    totals = day["totals"]
    assert totals["approved"] == sum(1 for i in listed if i["status"] == "approved")
    assert totals["declined"] == sum(1 for i in listed if i["status"] == "declined")
    assert totals["debited"] == sum(i["total"] for i in listed)
    assert totals["refunded"] == sum(i["total"] for i in listed if i["refunded"])
    # Refunds show who gave them.
    canteen.post(f"/api/v1/meals/sales/{a['sale']}/refund", {"reason": "Не тот обед"})
    x = {i["id"]: i for i in all_sales(canteen, path)[0]}[a["sale"]]
    assert x["refunded"]["reason"] == "Не тот обед" and x["refunded"]["by"] == "Поварова Тест"
    # Another day; who may look.
    assert canteen.get(path + "?date=2020-01-01").json() == {
        "date": "2020-01-01", "today": False, "items": [], "more": False, "summary": [], "totals": {
            "approved": 0, "declined": 0, "debited": 0, "refunded": 0, "refunds": 0, "free": 0,
            "free_quantity": 0, "offline_unpaid": 0, "offline_unpaid_value": 0}}
    for bad in ("?date=2026-13-01", "?date=today", "?date=2026-02-30", "?date=next", "?date=LATEST"):
        r = canteen.get(path + bad)
        assert r.status == 400 and code(r) == "bad_date" and field(r) == "date", bad
    assert w["sa"].get(path).status == 200 and w["admin"].get(path).status == 200
    for who in ("canteen2", "sadmin2"):
        assert w[who].get(path).status == 403, who
    for who in ("parent", "teacher", "student"):
        assert w[who].get(path).status == 403, who
    assert canteen.get("/api/v1/institutions/999999/meals/sales").status == 404
    assert w["canteen2"].get(f"/api/v1/institutions/{w['s2']}/meals/sales").status == 200


def test_the_canteens_day_in_pages(node, w, fresh):
    """The day's sales come a page at a time, newest first: `limit` of them after sale `before`
    (the last of the page before), `more` while others follow; every page carries the whole
    day's totals and summary. Bad paging is a 400 naming its parameter."""
    t1, items, canteen = w["t1"], w["items"], w["canteen"]
    s = fresh["grade5"].take()
    for n in range(7):
        t1.ok(card(s), [{"id": items["Яблоко"], "quantity": 1 + n % 2}])
    t1.ok(card(s), [{"id": items["Кекс"], "quantity": 1}])  # another school's item: declined
    path = f"/api/v1/institutions/{w['s1']}/meals/sales"
    whole = canteen.get(f"{path}?limit=200").json()
    assert len(whole["items"]) >= 8
    everything, last = all_sales(canteen, path, limit=200)
    for limit in (1, 3, 7):
        paged, page = all_sales(canteen, path, limit=limit)
        assert [x["id"] for x in paged] == [x["id"] for x in everything], limit
        assert page["totals"] == last["totals"] and page["summary"] == last["summary"], limit
    keys = [(x["at"], x["id"]) for x in everything]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert last["totals"]["approved"] + last["totals"]["declined"] == len(everything)
    # 50 a page by default, 200 at most; the page's lines are the page's sales'.
    first = canteen.get(path).json()
    assert len(first["items"]) == min(50, len(everything)) and first["more"] == (len(everything) > 50)
    two = canteen.get(f"{path}?limit=2").json()
    assert two["more"] is True and [x["id"] for x in two["items"]] == [x["id"] for x in everything[:2]]
    assert two["items"][0]["lines"] == everything[0]["lines"]
    after = canteen.get(f"{path}?limit=2&before={two['items'][1]['id']}").json()
    assert [x["id"] for x in after["items"]] == [x["id"] for x in everything[2:4]]
    oldest = canteen.get(f"{path}?before={everything[-1]['id']}").json()
    assert oldest["items"] == [] and oldest["more"] is False
    # Bad paging names its parameter.
    gym_sale = w["t2"].ok(card(fresh["gym"].take()), [{"id": items["Кекс"], "quantity": 1}])["sale"]
    for q, f in (("limit=0", "limit"), ("limit=201", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"),
                 ("limit=1.5", "limit"), ("limit=", "limit"), ("limit=" + "9" * 30, "limit"),
                 ("before=0", "before"), ("before=-3", "before"), ("before=x", "before"), ("before=", "before"),
                 ("before=999999999", "before"), (f"before={gym_sale}", "before"),
                 (f"date=2020-01-01&before={everything[0]['id']}", "before")):
        r = canteen.get(f"{path}?{q}")
        assert r.status == 400 and code(r) == "bad_request" and field(r) == f, (q, r)
    # Paging changes nobody's rights.
    q = f"?limit=1&before={everything[0]['id']}"
    for who in ("canteen2", "sadmin2", "parent", "teacher", "student"):
        assert w[who].get(path + q).status == 403, who
    assert node.client().get(path + q).status == 401
    assert w["sa"].get(path + q).status == 200 and w["admin"].get(path + q).status == 200


def test_the_canteens_day_searched(node, w, fresh):
    """`q` keeps the day's sales of a student whose full name holds it, or of the card it
    names, page by page; the totals stay the day's. Another school's student tried here is
    found by the card typed, never by name. Bad `q` is a 400 naming it; nobody's rights change."""
    t1, items, canteen = w["t1"], w["items"], w["canteen"]
    s, other = fresh["grade5"].take(), fresh["grade5"].take()
    mine = [t1.ok(card(s), [{"id": items["Яблоко"], "quantity": 1 + n}])["sale"] for n in range(3)]
    theirs = t1.ok(card(other), [{"id": items["Яблоко"], "quantity": 1}])["sale"]
    g = fresh["gym"].take()
    tried = t1.ok(card(g), [{"id": items["Яблоко"], "quantity": 1}])["sale"]
    path = f"/api/v1/institutions/{w['s1']}/meals/sales"
    _, whole = all_sales(canteen, path)
    last, first, middle = node.sql("SELECT last_name, first_name, middle_name FROM persons WHERE id = ?", s)[0]
    # By the name as a canteen operator types it, in lower case: every sale of that student,
    # in pages too, and nobody else's.
    q = quote(f"{last} {first}".lower())
    for limit in (1, 2, 200):
        found, page = all_sales(canteen, path, f"q={q}", limit=limit)
        ids = [x["id"] for x in found]
        assert set(mine) <= set(ids) and theirs not in ids and tried not in ids, limit
        assert all(x["student"]["name"].startswith(f"{last} {first}") for x in found), limit
        assert page["totals"] == whole["totals"] and page["summary"] == whole["summary"], limit
    # By a card: its sales only; another school's card too, its student still unnamed.
    found, _ = all_sales(canteen, path, f"q={quote(card(other))}")
    assert [x["id"] for x in found] == [theirs]
    found, _ = all_sales(canteen, path, f"q={quote(card(g))}")
    assert [x["id"] for x in found] == [tried] and found[0]["student"] is None
    gym_last, gym_first = node.sql("SELECT last_name, first_name FROM persons WHERE id = ?", g)[0]
    found, _ = all_sales(canteen, path, f"q={quote(gym_last + ' ' + gym_first)}")
    assert tried not in [x["id"] for x in found]
    assert all_sales(canteen, path, "q=" + quote("Нетакогоученика"))[0] == []
    # Bad q names itself; the rights are the page's.
    for bad in ("x" * 101, "%0A", ""):
        r = canteen.get(f"{path}?q={bad}")
        assert (r.status, code(r) if r.status == 400 else None, field(r) if r.status == 400 else None) == (
            (200, None, None) if bad == "" else (400, "bad_request", "q")), bad
    for who in ("canteen2", "sadmin2", "parent", "teacher", "student"):
        assert w[who].get(f"{path}?q={q}").status == 403, who
    assert w["sa"].get(f"{path}?q={q}").status == 200


def test_the_canteens_summary(node, w, fresh):
    """The summary counts the approved sales' lines per complex kind and per buffet item: units,
    those given free and what they are worth, what was paid and what of it was refunded; the
    totals count the refunds and the free portions."""
    t1, items, canteen = w["t1"], w["items"], w["canteen"]
    small = fresh["grade2"].take()  # grade 2 eats breakfast free
    t1.ok(card(small), [{"complex": w["breakfast"], "quantity": 2}, {"id": items["Булочка с маком"], "quantity": 1}])
    big = fresh["grade5"].take()
    refunded = t1.ok(card(big), [{"complex": w["lunch"], "quantity": 1}, {"id": items["Сок яблочный"], "quantity": 2}])
    assert canteen.post(f"/api/v1/meals/sales/{refunded['sale']}/refund", {"reason": "Ошибка"}).status == 200
    listed, day = all_sales(canteen, f"/api/v1/institutions/{w['s1']}/meals/sales")
    expected = {}
    for x in listed:
        if x["status"] != "approved":
            continue
        for line in x["lines"]:
            key = (line["kind"], line["category"] if line["kind"] == "complex" else line["name"])
            e = expected.setdefault(key, {"quantity": 0, "free_quantity": 0, "free_value": 0, "amount": 0, "refunded": 0})
            cost = line["quantity"] * line["price"]
            e["quantity"] += line["quantity"]
            e["free_quantity"] += line["quantity"] if line["free"] else 0
            e["free_value"] += cost if line["free"] else 0
            e["amount"] += 0 if line["free"] else cost
            e["refunded"] += cost if x["refunded"] and not line["free"] else 0
    summary = day["summary"]
    got = {(x["kind"], x["category"] if x["kind"] == "complex" else x["name"]):
           {k: x[k] for k in ("quantity", "free_quantity", "free_value", "amount", "refunded")} for x in summary}
    assert got == expected
    # Complexes first, in the menu's order; then the goods by category.
    kinds = [x["category"] for x in summary if x["kind"] == "complex"]
    assert kinds == [k for k in ("breakfast", "lunch", "snack") if k in kinds]
    assert [x["kind"] for x in summary] == sorted((x["kind"] for x in summary), key=lambda k: k != "complex")
    assert all(x["item_id"] is None if x["kind"] == "complex" else x["item_id"] > 0 for x in summary)
    assert got[("complex", "breakfast")]["free_quantity"] >= 1 and got[("complex", "lunch")]["refunded"] >= 15000
    t = day["totals"]
    assert t["free_quantity"] == sum(x["free_quantity"] for x in summary)
    assert t["free"] == sum(x["free_value"] for x in summary)
    assert t["refunds"] == sum(1 for x in listed if x["refunded"]) >= 1
    assert t["debited"] == sum(x["amount"] for x in summary)


def test_the_latest_day_with_sales(node, w):
    """date=latest: today when the school sold something today, else the latest earlier day with
    a sale (a weekend, a holiday: the canteen's page opens on it), today when it never sold;
    a day ahead (a terminal's clock) is not one. Лицей № 3 has no sales in the demo."""
    admin = w["admin"]
    lyceum = next(s["id"] for s in admin.get("/api/v1/institutions").json()["items"] if s["short_name"] == "Лицей № 3")
    path = f"/api/v1/institutions/{lyceum}/meals/sales"
    today = datetime.date.today()
    never = admin.get(f"{path}?date=latest").json()
    assert never["date"] == today.isoformat() and never["today"] is True and never["items"] == []
    till = Terminal(node, w["device"]("Касса лицея", ["meals"], lyceum), "lyceum")
    now = datetime.datetime.now().astimezone()
    past = till.ok("LYCEUM-UNKNOWN", [{"id": w["items"]["Яблоко"], "quantity": 1}],
                   at=(now - datetime.timedelta(days=4)).isoformat(timespec="seconds"))
    till.ok("LYCEUM-UNKNOWN", [{"id": w["items"]["Яблоко"], "quantity": 1}],
            at=(now + datetime.timedelta(days=2)).isoformat(timespec="seconds"))
    day = (now - datetime.timedelta(days=4)).date().isoformat()
    r = admin.get(f"{path}?date=latest")
    assert r.status == 200, r
    latest = r.json()
    assert latest["date"] == day and latest["today"] is False
    assert [x["id"] for x in latest["items"]] == [past["sale"]] and latest["items"][0]["reason"] == "unknown_card"
    assert latest["totals"]["declined"] == 1
    # Today's default is still today, and empty.
    assert admin.get(path).json()["items"] == [] and admin.get(path).json()["date"] == today.isoformat()
    # Paging within the latest day.
    assert admin.get(f"{path}?date=latest&limit=1&before={past['sale']}").json()["items"] == []
    # A sale today makes today the latest.
    sold = till.ok("LYCEUM-UNKNOWN", [{"id": w["items"]["Яблоко"], "quantity": 1}])
    latest = admin.get(f"{path}?date=latest").json()
    assert latest["date"] == today.isoformat() and latest["today"] is True
    assert [x["id"] for x in latest["items"]] == [sold["sale"]]
    # Nobody learns another school's days.
    for who in ("canteen", "canteen2", "sa", "sadmin2", "parent"):
        assert w[who].get(f"{path}?date=latest").status == 403, who
    assert node.client().get(f"{path}?date=latest").status == 401


def test_the_familys_purchases(node, w):
    parent, artem, t1, items = w["parent"], w["artem"], w["t1"], w["items"]
    a = t1.ok(card(artem), [{"id": items["Сок яблочный"], "quantity": 1}, {"complex": w["snack"], "quantity": 1}])
    b = t1.ok(card(artem), [{"id": items["Кекс"], "quantity": 1}])
    path = f"/api/v1/students/{artem}/meals/purchases"
    r = parent.get(path)
    assert r.status == 200, r
    got = {x["id"]: x for x in r.json()["items"]}
    x = got[a["sale"]]
    assert x["status"] == "approved" and x["total"] == 13000 and x["reason"] is None and x["refunded"] is None
    assert x["day"] == w["day"] and x["institution"]["id"] == w["s1"] and x["offline"] is False
    assert x["lines"] == [
        {"kind": "item", "name": "Сок яблочный", "category": "drinks", "quantity": 1, "price": 6000, "free": False},
        {"kind": "complex", "name": "snack", "category": "snack", "quantity": 1, "price": 7000, "free": False}]
    assert got[b["sale"]]["status"] == "declined" and got[b["sale"]]["reason"] == "unknown_item"
    assert [i["id"] for i in r.json()["items"]][:2] == [b["sale"], a["sale"]]
    # A range of days; yesterday's has none of today's.
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert all(i["day"] == yesterday for i in parent.get(f"{path}?from={yesterday}&to={yesterday}").json()["items"])
    assert a["sale"] in {i["id"] for i in parent.get(f"{path}?from={w['day']}&to={w['day']}").json()["items"]}
    for q, f, c in (("?from=2026-01-10&to=2026-01-01", "to", "bad_range"), ("?from=2025-01-01&to=2025-06-01", "to", "range_too_long"),
                    ("?from=1.1.2026", "from", "bad_date"), ("?to=2026-02-29", "to", "bad_date")):
        r = parent.get(path + q)
        assert r.status == 400 and code(r) == c and field(r) == f, q
    for who in ("student", "sa", "canteen", "admin"):
        assert a["sale"] in {i["id"] for i in w[who].get(path).json()["items"]}, who
    for who in ("other_parent", "canteen2", "sadmin2", "teacher"):
        assert w[who].get(path).status == 403, who
    assert parent.get("/api/v1/students/999999/meals/purchases").status == 404
    # The student sees their own, not a classmate's.
    assert w["student"].get(f"/api/v1/students/{w['mate']}/meals/purchases").status == 403


# ---- who may use the terminals' routes --------------------------------------------------------

def test_terminal_route_denials(node, w, fresh):
    s = fresh["grade5"].take()
    body = w["t1"].body(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}])
    before = node.balance(s)
    passage = Client(node.base, token=w["turnstile"])
    for path, b in (("/api/v1/meals/sales", body), ("/api/v1/meals/sales/batch", {"sales": [body]})):
        r = passage.post(path, b)
        assert r.status == 403 and code(r) == "forbidden", path
        for who in ("canteen", "admin", "parent"):
            assert w[who].post(path, b).status == 403, (who, path)
        assert node.client().post(path, b).status == 401
        assert Client(node.base, token="not-a-token").post(path, b).status == 401
    # A health token is not a buffet terminal either.
    health = Client(node.base, token=w["device"]("Медкабинет", ["health"], w["s1"]))
    assert health.post("/api/v1/meals/sales", body).status == 403
    assert node.balance(s) == before
    assert node.sql("SELECT count(*) FROM sales WHERE key = ?", body["key"]) == [(0,)]
    # A revoked terminal is no terminal.
    admin = w["admin"]
    r = admin.post("/api/v1/devices", {"name": "Старая касса", "scopes": ["meals"], "institution_id": w["s1"]})
    gone = Terminal(node, r.json()["token"], "gone")
    assert gone.ok(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}])["approved"]
    assert admin.delete(f"/api/v1/devices/{r.json()['id']}").status == 200
    assert gone.sell(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}]).status == 401
    # A meals token of no school (made before tokens were bound to one) sells nothing.
    r = admin.post("/api/v1/devices", {"name": "Без школы", "scopes": ["meals"], "institution_id": w["s1"]})
    with sqlite3.connect(node.db_path) as db:
        db.execute("UPDATE device_tokens SET institution_id = NULL WHERE id = ?", (r.json()["id"],))
    nowhere = Terminal(node, r.json()["token"], "nowhere")
    r = nowhere.sell(card(s), [{"id": w["items"]["Яблоко"], "quantity": 1}])
    assert r.status == 403 and code(r) == "device_school_needed", r
    assert node.sql("SELECT count(*) FROM sales WHERE key = 'nowhere-1'") == [(0,)]

"""«Москвёнок»'s money (node/moskvenok/money.c): the payment provider's signed top-ups, a
student's meal account and history, and a school's daily reconciliation.

The node here is `mesnode serve` on the demo region with a meals section naming a payment
secret and URL. Sales come from another part of the subsystem: where a test needs them it
stops the node, writes sales and ledger rows with sqlite3 as the sales code would, and starts
the node again (`with node.stopped() as db:`)."""
import datetime
import hashlib
import hmac
import json
import os
import sqlite3
import time
from contextlib import contextmanager

import pytest

from conftest import MESNODE, Client, Node, ServedNode, free_port

SECRET = "test-payment-secret-0123456789-abcdefghij"
PAY_URL = "https://pay.example.ru/meals"
LOW = 10000  # meals.low_balance_kopecks


class MoneyNode(ServedNode):
    """The demo region served with a meals section, on a fixed port so that it can be stopped
    and started again over the same data."""

    def __init__(self):
        super().__init__(port=free_port(), extra=(
            f'meals:\n  payment_secret: "{SECRET}"\n  payment_url: "{PAY_URL}"\n'
            f'  low_balance_kopecks: {LOW}\n'))
        self.db_path = os.path.join(self.dir, "data", "mes.db")

    @contextmanager
    def stopped(self):
        """Stops the node, yields a sqlite3 connection to its database (committed on leaving),
        then starts the node again on the same port."""
        self.proc.terminate()
        assert self.proc.wait(timeout=20) == 0, self.output()[-3000:]
        self.log.close()
        db = sqlite3.connect(self.db_path)
        try:
            yield db
            db.commit()
        finally:
            db.close()
        self._start([MESNODE, "serve", "--config", self.config], r"on port (\d+)")


@pytest.fixture(scope="module")
def node():
    n = MoneyNode()
    yield n
    code = n.stop()
    assert code == 0, f"mesnode exited with {code}:\n{n.last_output[-6000:]}"


def luhn_number(student):
    """The account number as a payment provider's form would check it: 9 digits of the id and
    the Luhn check digit (an implementation of its own, not the node's)."""
    body = f"{student:09d}"
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def sign(raw, ts, secret=SECRET):
    return hmac.new(secret.encode(), str(ts).encode() + b"." + raw, hashlib.sha256).hexdigest()


def notification(payment_id, account, amount, paid_at=None):
    paid_at = paid_at or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"payment_id": payment_id, "account": account, "amount": amount,
                       "paid_at": paid_at}).encode()


def post_topup(node, raw, ts=None, secret=SECRET, signature=None, headers=None):
    """POSTs the bytes `raw` as a top-up notification, signed unless `signature` or `headers`
    say otherwise."""
    ts = int(time.time()) if ts is None else ts
    h = {"X-Payment-Timestamp": str(ts),
         "X-Payment-Signature": signature if signature is not None else sign(raw, ts, secret)}
    if headers is not None:
        h = headers
    return Client(node.base).request("POST", "/api/v1/meals/topups", raw=raw, headers=h)


@pytest.fixture(scope="module")
def ids(node):
    parent = node.login("parent")
    kids = {c["name"]: c["id"] for c in parent.user["children"]}
    sa = node.login("schooladmin")
    school = next(g["institution_id"] for g in sa.user["grants"] if g["role"] == "school_admin")
    schools = [i["id"] for i in node.login("admin").get("/api/v1/institutions").json()["items"]]
    other = next(s for s in schools if s != school)
    admin = node.login("admin")

    def person(login, roles):
        r = admin.post("/api/v1/persons", {"last_name": "Поварова", "first_name": "Анна", "account": {
            "login": login, "password": "canteen-pass-1", "roles": roles}})
        assert r.status == 201, r
        return node.login(login, "canteen-pass-1")

    return {"artem": kids["Иванов Артём Сергеевич"], "maria": kids["Иванова Мария Сергеевна"],
            "school": school, "other": other,
            "canteen": person("canteen1", [{"role": "canteen", "institution_id": school}]),
            "canteen2": person("canteen2", [{"role": "canteen", "institution_id": other}]),
            "admin2": person("gymadmin", [{"role": "school_admin", "institution_id": other}]),
            "stranger": person("stranger", [{"role": "parent"}])}


def account(node, student, who="parent"):
    r = node.login(who).get(f"/api/v1/students/{student}/meals/account")
    assert r.status == 200, r
    return r.json()


def history(node, student):
    r = node.login("parent").get(f"/api/v1/students/{student}/meals/history")
    assert r.status == 200, r
    return r.json()["items"]


def feed(node, who="parent"):
    return [n for n in node.login(who).get("/api/v1/notifications?limit=200").json()["items"]
            if n["kind"] in ("meals_topup", "meals_low_balance")]


def state(node, student):
    """What a refused notification must leave as it was."""
    return account(node, student)["balance"], len(history(node, student)), len(feed(node)), len(feed(node, "student"))


# ---- the account number ------------------------------------------------------------------

def test_account_shows_number_and_settings(node, ids):
    a = account(node, ids["artem"])
    assert a["account_number"] == luhn_number(ids["artem"])
    assert len(a["account_number"]) == 10
    assert a["payment_url"] == PAY_URL
    assert a["low_balance_threshold"] == LOW and a["overdraft"] == 0
    assert a["blocked"] is False and a["daily_limit"] is None and a["benefit"] is None
    assert a["spent_today"] == 0 and isinstance(a["balance"], int)


# ---- top-ups -----------------------------------------------------------------------------

def test_good_topup_credits_once_and_notifies_the_family(node, ids):
    artem = ids["artem"]
    before, rows, parent_feed, student_feed = state(node, artem)
    raw = notification("pay-good-1", luhn_number(artem), 50000)
    ts = int(time.time())
    r = post_topup(node, raw, ts)
    assert r.status == 200, r
    assert r.json()["applied"] is True and r.json()["balance"] == before + 50000
    assert account(node, artem)["balance"] == before + 50000
    h = history(node, artem)
    assert len(h) == rows + 1
    assert h[0]["kind"] == "topup" and h[0]["amount"] == 50000 and h[0]["balance"] == before + 50000
    told = feed(node)
    assert len(told) == parent_feed + 1
    assert told[0]["kind"] == "meals_topup" and told[0]["data"] == {"amount": 50000, "balance": before + 50000}
    assert told[0]["student"]["id"] == artem
    assert len(feed(node, "student")) == student_feed + 1

    # The same notification, byte for byte (a replay within the time window): nothing moves.
    again = post_topup(node, raw, ts)
    assert again.status == 200, again
    assert again.json() == {"applied": False, "duplicate": True}
    # The provider sending it again later, with a new timestamp and other white space.
    respaced = json.dumps(json.loads(raw), indent=2).encode()
    later = post_topup(node, respaced, ts + 60)
    assert later.status == 200 and later.json()["duplicate"] is True
    assert state(node, artem) == (before + 50000, rows + 1, parent_feed + 1, student_feed + 1)


def test_same_payment_id_other_content_conflicts(node, ids):
    artem = ids["artem"]
    r = post_topup(node, notification("pay-conflict", luhn_number(artem), 1000))
    assert r.status == 200 and r.json()["applied"] is True
    now = state(node, artem)
    for raw in (notification("pay-conflict", luhn_number(artem), 2000),
                notification("pay-conflict", luhn_number(ids["maria"]), 1000)):
        c = post_topup(node, raw)
        assert c.status == 409, c
        assert c.json()["error"]["code"] == "payment_conflict"
    assert state(node, artem) == now


def test_forged_or_stale_notifications_change_nothing(node, ids):
    artem = ids["artem"]
    before = state(node, artem)
    raw = notification("pay-forged", luhn_number(artem), 70000)
    ts = int(time.time())
    flipped = bytearray(raw)
    i = raw.index(b"70000")
    flipped[i] = ord("9")  # 90000: one byte of the body changed after signing
    cases = {
        "wrong secret": post_topup(node, raw, ts, secret=SECRET[:-1] + "x"),
        "byte flipped": post_topup(node, bytes(flipped), ts, signature=sign(raw, ts)),
        "no signature": post_topup(node, raw, headers={"X-Payment-Timestamp": str(ts)}),
        "no timestamp": post_topup(node, raw, headers={"X-Payment-Signature": sign(raw, ts)}),
        "no headers": post_topup(node, raw, headers={}),
        "signature of another timestamp": post_topup(node, raw, ts, signature=sign(raw, ts + 1)),
        "signature cut": post_topup(node, raw, ts, signature=sign(raw, ts)[:-2]),
        "not hex": post_topup(node, raw, ts, signature="z" * 64),
        "timestamp not a number": post_topup(node, raw, headers={
            "X-Payment-Timestamp": f"{ts}.0", "X-Payment-Signature": sign(raw, f"{ts}.0")}),
    }
    for what, r in cases.items():
        assert r.status == 401, (what, r)
        assert r.json()["error"]["code"] == "bad_signature", (what, r)
    for skew in (301, -301, 3600):
        r = post_topup(node, raw, int(time.time()) - skew)  # now: the cases above took a while
        assert r.status == 401, (skew, r)
        assert r.json()["error"]["code"] == "stale", (skew, r)
    # A forged notification to an account that does not exist says no more than the others.
    r = post_topup(node, notification("pay-forged-2", luhn_number(999999), 100), ts, secret="x" * 40)
    assert r.status == 401 and r.json()["error"]["code"] == "bad_signature"
    assert state(node, artem) == before
    # None of them used the payment id: the real notification is applied now.
    ok = post_topup(node, raw, int(time.time()) - 250)  # within 300 s: not stale
    assert ok.status == 200 and ok.json()["applied"] is True, ok


def test_unknown_or_malformed_account(node, ids):
    before = state(node, ids["artem"])
    number = luhn_number(ids["artem"])
    wrong_digit = number[:-1] + str((int(number[-1]) + 1) % 10)
    for account_number in (luhn_number(999999), wrong_digit, luhn_number(0)):
        r = post_topup(node, notification(f"pay-unknown-{account_number}", account_number, 100))
        assert r.status == 404, (account_number, r)
        assert r.json()["error"]["code"] == "unknown_account"
    for account_number in ("123", "12345678901", "00000004a2", 42):
        r = post_topup(node, json.dumps({"payment_id": "pay-malformed", "account": account_number,
                                         "amount": 100, "paid_at": "2026-12-05T08:00:00Z"}).encode())
        assert r.status == 400, (account_number, r)
        assert r.json()["error"]["field"] == "account"
    assert state(node, ids["artem"]) == before


def test_bad_notifications_are_refused_whole(node, ids):
    number = luhn_number(ids["artem"])
    good = {"payment_id": "pay-bad", "account": number, "amount": 100, "paid_at": "2026-12-05T08:00:00+03:00"}
    before = state(node, ids["artem"])
    cases = [
        ({**good, "payment_id": ""}, "payment_id"),
        ({**good, "payment_id": "x" * 65}, "payment_id"),
        ({**good, "payment_id": "with space"}, "payment_id"),
        ({**good, "payment_id": 17}, "payment_id"),
        ({k: v for k, v in good.items() if k != "payment_id"}, "payment_id"),
        ({**good, "amount": 0}, "amount"),
        ({**good, "amount": -500}, "amount"),
        ({**good, "amount": 10.5}, "amount"),
        ({**good, "amount": "100"}, "amount"),
        ({**good, "amount": 100000001}, "amount"),
        ({k: v for k, v in good.items() if k != "amount"}, "amount"),
        ({**good, "paid_at": "2026-12-05"}, "paid_at"),
        ({**good, "paid_at": "вчера"}, "paid_at"),
        ({**good, "currency": "RUB"}, "currency"),
    ]
    for body, field in cases:
        r = post_topup(node, json.dumps(body).encode())
        assert r.status == 400, (body, r)
        assert r.json()["error"]["field"] == field, (body, r.json())
    for raw in (b"", b"[1]", b"{not json"):
        r = post_topup(node, raw)
        assert r.status == 400, (raw, r)
    assert state(node, ids["artem"]) == before


def test_payments_off_without_a_secret():
    demo = Node()
    try:
        parent = demo.login("parent")
        artem = next(c["id"] for c in parent.user["children"] if c["name"].startswith("Иванов Артём"))
        # The demo's opening balance and its last school day's meals: nothing of a payment.
        opening = parent.get(f"/api/v1/students/{artem}/meals/account").json()["balance"]
        moves = parent.get(f"/api/v1/students/{artem}/meals/history").json()["items"]
        raw = notification("pay-off", luhn_number(artem), 100)
        r = post_topup(demo, raw)
        assert r.status == 503, r
        assert r.json()["error"]["code"] == "payments_off"
        a = parent.get(f"/api/v1/students/{artem}/meals/account").json()
        assert a["balance"] == opening and a["payment_url"] is None
        assert parent.get(f"/api/v1/students/{artem}/meals/history").json()["items"] == moves
    finally:
        assert demo.stop() == 0


# ---- the account and the history: who reads them ----------------------------------------

@pytest.mark.parametrize("path", ["account", "history"])
def test_account_and_history_readers(node, ids, path):
    artem = ids["artem"]
    url = f"/api/v1/students/{artem}/meals/{path}"
    for who in ("parent", "student", "schooladmin", "admin"):
        assert node.login(who).get(url).status == 200, who
    assert ids["canteen"].get(url).status == 200
    for who in ("teacher", "classteacher", "medic", "methodologist"):
        r = node.login(who).get(url)
        assert r.status == 403, (who, r)
    for c in (ids["canteen2"], ids["admin2"], ids["stranger"]):
        assert c.get(url).status == 403, c.user["login"]
    assert Client(node.base).get(url).status == 401
    # The student reads their own account, not their sister's.
    assert node.login("student").get(f"/api/v1/students/{ids['maria']}/meals/{path}").status == 403
    assert node.login("parent").get(f"/api/v1/students/999999/meals/{path}").status == 404


def test_history_range(node, ids):
    parent = node.login("parent")
    url = f"/api/v1/students/{ids['artem']}/meals/history"
    today = datetime.date.today()
    first = today - datetime.timedelta(days=91)
    ok = parent.get(f"{url}?from={first}&to={today}")
    assert ok.status == 200
    items = ok.json()["items"]
    assert all(first.isoformat() <= i["day"] <= today.isoformat() for i in items)
    # The 30 days of the default are the newest part of it; today's top-ups (the tests' above)
    # are in it, and the demo's opening balance (a top-up of no payment, the evening before its
    # last school day) when that evening is within the range.
    recent = (today - datetime.timedelta(days=29)).isoformat()
    assert [i for i in items if i["day"] >= recent] == parent.get(url).json()["items"]
    assert any(i["kind"] == "topup" and i["day"] == today.isoformat() and i["ref"] > 0 for i in items)
    db = sqlite3.connect(f"file:{node.db_path}?mode=ro", uri=True)
    try:
        opening = db.execute("SELECT day FROM ledger WHERE student_id = ? AND kind = 'topup' AND ref = 0",
                             (ids["artem"],)).fetchone()[0]
    finally:
        db.close()
    assert any(i["kind"] == "topup" and i["ref"] == 0 for i in items) == (opening >= first.isoformat())
    long = parent.get(f"{url}?from={today - datetime.timedelta(days=92)}&to={today}")
    assert long.status == 400 and long.json()["error"] == {**long.json()["error"], "code": "range_too_long", "field": "to"}
    for q, code, field in (("from=2026-13-01", "bad_date", "from"), ("to=yesterday", "bad_date", "to"),
                           ("from=2026-12-05&to=2026-12-01", "bad_range", "to")):
        r = parent.get(f"{url}?{q}")
        assert r.status == 400, q
        assert (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field), q
    # A range of other days holds none of today's top-ups.
    past = parent.get(f"{url}?from=2020-01-01&to=2020-01-31")
    assert past.status == 200 and past.json()["items"] == []


# ---- the reconciliation -----------------------------------------------------------------

def reconciliation(node, ids, day=None, who=None):
    c = who or node.login("schooladmin")
    r = c.get(f"/api/v1/institutions/{ids['school']}/meals/reconciliation" + (f"?date={day}" if day else ""))
    assert r.status == 200, r
    return r.json()


def row_of(rec, student):
    return next(i for i in rec["items"] if i["student"]["id"] == student)


def test_reconciliation_adds_up_after_topups(node, ids):
    artem = ids["artem"]
    today = datetime.date.today().isoformat()
    start = row_of(reconciliation(node, ids), artem)
    assert post_topup(node, notification("pay-rec-1", luhn_number(artem), 12345)).status == 200
    rec = reconciliation(node, ids)
    assert rec["date"] == today and rec["institution"]["id"] == ids["school"]
    assert rec["check"] is True
    row = row_of(rec, artem)
    assert row["topups"] == start["topups"] + 12345
    assert row["opening"] == start["opening"]
    assert row["closing"] == account(node, artem)["balance"]
    assert row["opening"] + row["topups"] - row["sales"] + row["refunds"] == row["closing"]
    assert row["adds_up"] is True and row["account_number"] == luhn_number(artem)
    assert row["student"]["name"] == "Иванов Артём Сергеевич" and row["class"]["name"] == "5А"
    t = rec["totals"]
    assert t["students"] == len(rec["items"]) > 20  # every student of the school, not only payers
    for k in ("opening", "topups", "sales", "refunds", "closing"):
        assert t[k] == sum(i[k] for i in rec["items"]), k
    assert t["opening"] + t["topups"] - t["sales"] + t["refunds"] == t["closing"]
    # Maria is at another school of the demo? Either way she is listed only where she studies.
    sisters = [i for i in rec["items"] if i["student"]["id"] == ids["maria"]]
    assert len(sisters) <= 1
    # The day before (the demo's opening balances, perhaps its last school day's meals) adds up
    # and closes with today's opening balances.
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    old = reconciliation(node, ids, yesterday)
    assert old["check"] is True and all(i["adds_up"] for i in old["items"])
    opening = {i["student"]["id"]: i["opening"] for i in rec["items"]}
    assert {i["student"]["id"]: i["closing"] for i in old["items"]} == opening
    assert old["totals"]["closing"] == t["opening"]


def test_reconciliation_csv(node, ids):
    artem = ids["artem"]
    r = node.login("schooladmin").get(f"/api/v1/institutions/{ids['school']}/meals/reconciliation?format=csv")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.body.startswith(b"\xef\xbb\xbf")
    lines = r.body[3:].decode("utf-8").split("\r\n")
    assert lines[-1] == ""
    head = lines[0].split(";")
    assert head == ["student_id", "student", "class", "account_number", "opening", "topups", "sales",
                    "refunds", "closing", "free_count", "free_value", "declined_offline_count",
                    "declined_offline_value", "adds_up"]
    rows = [dict(zip(head, line.split(";"))) for line in lines[1:-1]]
    rec = reconciliation(node, ids)
    assert len(rows) == len(rec["items"]) + 1
    mine = next(x for x in rows if x["student_id"] == str(artem))
    j = row_of(rec, artem)
    assert mine["student"] == "Иванов Артём Сергеевич" and mine["class"] == "5А"
    assert mine["account_number"] == luhn_number(artem)
    assert [int(mine[k]) for k in ("opening", "topups", "sales", "refunds", "closing")] == \
        [j[k] for k in ("opening", "topups", "sales", "refunds", "closing")]
    total = rows[-1]
    assert total["student_id"] == "total" and int(total["closing"]) == rec["totals"]["closing"]
    assert total["adds_up"] == "1"


def test_reconciliation_readers(node, ids):
    url = f"/api/v1/institutions/{ids['school']}/meals/reconciliation"
    assert node.login("schooladmin").get(url).status == 200
    assert node.login("admin").get(url).status == 200
    assert ids["canteen"].get(url).status == 200
    for c in (ids["canteen2"], ids["admin2"]):
        r = c.get(url)
        assert r.status == 403, (c.user["login"], r)
    for who in ("parent", "student", "teacher", "medic"):
        assert node.login(who).get(url).status == 403, who
    assert Client(node.base).get(url).status == 401
    assert node.login("admin").get("/api/v1/institutions/999999/meals/reconciliation").status == 404
    for q, field in (("date=2026-02-30", "date"), ("date=today", "date"), ("format=xlsx", "format")):
        r = node.login("schooladmin").get(f"{url}?{q}")
        assert r.status == 400, q
        assert r.json()["error"]["field"] == field


# ---- with sales, written as the sales code writes them ----------------------------------

def local_day(t):
    return time.strftime("%Y-%m-%d", time.localtime(t))


def midnight(day_offset=0):
    d = datetime.date.today() + datetime.timedelta(days=day_offset)
    return int(time.mktime(d.timetuple()))


def device(db, school):
    """A meals terminal's device token row (the sales' device)."""
    row = db.execute("SELECT id FROM device_tokens WHERE institution_id = ? AND ' ' || scopes || ' ' LIKE '% meals %'",
                     (school,)).fetchone()
    if row:
        return row[0]
    return db.execute("INSERT INTO device_tokens (name, scopes, institution_id, token_hash) "
                      "VALUES ('Касса', 'meals', ?, ?)", (school, os.urandom(32))).lastrowid


def post_ledger(db, student, school, kind, amount, at, ref):
    """A ledger row as mosk_ledger_post writes it (the balance after it, the account kept)."""
    db.execute("INSERT OR IGNORE INTO meal_accounts (student_id) VALUES (?)", (student,))
    bal = db.execute("SELECT balance FROM meal_accounts WHERE student_id = ?", (student,)).fetchone()[0] + amount
    db.execute("INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, balance) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (student, school, local_day(at), at, kind, amount, ref, bal))
    db.execute("UPDATE meal_accounts SET balance = ? WHERE student_id = ?", (bal, student))
    return bal


def sale(db, dev, student, school, at, status, lines, offline=False, key=None):
    """A sale with its lines [(name, category, quantity, price, free)]; an approved one is
    debited its paid lines (one ledger row when more than 0)."""
    total = sum(q * p for _, _, q, p, free in lines if not free) if status == "approved" else 0
    free_value = sum(q * p for _, _, q, p, free in lines if free) if status == "approved" else 0
    cur = db.execute(
        "INSERT INTO sales (student_id, institution_id, device_id, key, at, day, status, reason, total, "
        "free_value, offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (student, school, dev, key or os.urandom(8).hex(), at, local_day(at), status,
         None if status == "approved" else "insufficient_funds", total, free_value, int(offline)))
    sid = cur.lastrowid
    item = db.execute("INSERT INTO buffet_items (institution_id, name, category, price) VALUES (?, 'Булочка', "
                      "'bakery', 3500)", (school,)).lastrowid
    for name, category, q, p, free in lines:
        db.execute("INSERT INTO sale_lines (sale_id, item_id, name, category, quantity, price, free) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", (sid, item, name, category, q, p, int(free)))
    if status == "approved" and total > 0:
        post_ledger(db, student, school, "sale", -total, at, sid)
    return sid, total


def test_reconciliation_with_sales_refunds_and_a_late_upload(node, ids):
    artem, school = ids["artem"], ids["school"]
    base_balance = account(node, artem)["balance"]
    today = datetime.date.today().isoformat()
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    opening = row_of(reconciliation(node, ids, today), artem)["opening"]
    old_before = row_of(reconciliation(node, ids, yesterday), artem)
    now = int(time.time())
    today0 = midnight(0)
    yesterday_noon = midnight(-1) + 12 * 3600
    # Keep the day's times inside today (the test may run just after midnight).
    t = lambda minutes: max(today0 + 60, now - 3600) + minutes * 60  # noqa: E731
    with node.stopped() as db:
        dev = device(db, school)
        # Today: a paid sale, a sale with a free breakfast, its refund, an offline sale declined.
        s1, paid1 = sale(db, dev, artem, school, t(1), "approved", [("Булочка", "bakery", 2, 3500, False)])
        s2, paid2 = sale(db, dev, artem, school, t(2), "approved",
                         [("Завтрак", "breakfast", 1, 9000, True), ("Сок", "drinks", 1, 6000, False)])
        post_ledger(db, artem, school, "refund", paid1, t(3), s1)
        db.execute("UPDATE sales SET refunded_at = ? WHERE id = ?", (t(3), s1))
        sale(db, dev, artem, school, t(4), "declined", [("Пицца", "hot", 1, 15000, False),
                                                         ("Обед", "lunch", 1, 20000, True)], offline=True)
        sale(db, dev, artem, school, t(5), "declined", [("Чипсы", "snacks", 1, 9999, False)])  # online: not handed out
        # A terminal that was offline overnight uploads yesterday's sale now: a ledger row dated
        # yesterday, entered after today's rows.
        s3, paid3 = sale(db, dev, artem, school, yesterday_noon, "approved", [("Какао", "drinks", 1, 4000, False)],
                         offline=True)
    rec = reconciliation(node, ids, today)
    assert rec["check"] is True, rec["check"]
    row = row_of(rec, artem)
    assert row["sales"] == paid1 + paid2 == 13000
    assert row["refunds"] == paid1
    assert row["free_count"] == 1 and row["free_value"] == 9000
    assert row["declined_offline_count"] == 1 and row["declined_offline_value"] == 15000
    assert row["closing"] == account(node, artem)["balance"] == base_balance - paid2 - paid3
    assert row["opening"] == opening - paid3  # yesterday's closing, less the late-uploaded sale
    old = row_of(reconciliation(node, ids, yesterday), artem)
    assert old["opening"] == old_before["opening"] and old["sales"] == old_before["sales"] + paid3
    assert old["closing"] == old_before["closing"] - paid3 == row["opening"] and old["adds_up"]
    t_ = rec["totals"]
    assert t_["free_value"] >= 9000 and t_["declined_offline_count"] >= 1
    assert t_["declined_offline_value"] >= 15000
    # The history shows purchases and the refund (an hour before the top-ups), newest first.
    moves = [(i["kind"], i["amount"]) for i in history(node, artem) if i["kind"] != "topup"]
    assert moves[:3] == [("refund", paid1), ("sale", -paid2), ("sale", -paid1)]
    assert account(node, artem)["spent_today"] == paid2  # the refunded sale no longer counts


def test_reconciliation_names_what_does_not_add_up(node, ids):
    artem, school = ids["artem"], ids["school"]
    with node.stopped() as db:
        good = db.execute("SELECT balance FROM meal_accounts WHERE student_id = ?", (artem,)).fetchone()[0]
        # A bug's trace: a ledger row whose stored balance is not the one before plus its amount,
        # and an account whose balance is not the ledger's.
        db.execute("INSERT INTO ledger (student_id, institution_id, day, at, kind, amount, ref, balance) "
                   "VALUES (?, ?, ?, ?, 'topup', 100, 0, ?)", (artem, school, local_day(time.time()),
                                                                int(time.time()) - 5, good + 1000))
        db.execute("UPDATE meal_accounts SET balance = ? WHERE student_id = ?", (good + 1000, artem))
        bad_id = db.execute("SELECT max(id) FROM ledger").fetchone()[0]
    rec = reconciliation(node, ids)
    assert isinstance(rec["check"], list)
    problems = [p for p in rec["check"] if p["student"] == artem]
    assert [p["problem"] for p in problems] == ["sum"], rec["check"]
    assert row_of(rec, artem)["adds_up"] is False
    assert any(p["student"] is None for p in rec["check"])  # the totals do not add up either
    csv = node.login("schooladmin").get(f"/api/v1/institutions/{school}/meals/reconciliation?format=csv")
    mine = [x for x in csv.body.decode().split("\r\n") if x.startswith(f"{artem};")]
    assert len(mine) == 1 and mine[0].endswith(";0"), mine
    assert "\r\ntotal;" in csv.body.decode() and csv.body.decode().endswith(";0\r\n")
    assert "BUG: the meals reconciliation" in node.output()
    with node.stopped() as db:
        db.execute("UPDATE meal_accounts SET balance = ? WHERE student_id = ?", (good + 5, artem))
    rec = reconciliation(node, ids)
    kinds = sorted(p["problem"] for p in rec["check"] if p["student"] == artem)
    assert kinds == ["account", "sum"]
    account_problem = next(p for p in rec["check"] if p["problem"] == "account")
    assert account_problem["expected"] == good + 1000 and account_problem["actual"] == good + 5
    # Repaired: the row out, the account as it was.
    with node.stopped() as db:
        db.execute("DELETE FROM ledger WHERE id = ?", (bad_id,))
        db.execute("UPDATE meal_accounts SET balance = ? WHERE student_id = ?", (good, artem))
    assert reconciliation(node, ids)["check"] is True


# ---- the low-balance notice ----------------------------------------------------------------

def test_low_balance_notice_sent_once(node, ids):
    """A debit through the buffet's sales route (another part of the subsystem) takes the
    balance below the threshold: the family is told once, not at the next debit."""
    maria, school = ids["maria"], ids["school"]
    sa = node.login("schooladmin")
    probe = Client(node.base).request("POST", "/api/v1/meals/sales", raw=b"{}")
    if probe.status == 404:
        pytest.skip("POST /api/v1/meals/sales is not on this branch yet (the sales part); runs after the merge")
    token = sa.post("/api/v1/devices", {"name": "Касса", "scopes": ["meals"], "institution_id": school}).json()["token"]
    maria_school = node.login("parent").get(f"/api/v1/students/{maria}").json()["institution"]["id"]
    assert post_topup(node, notification("pay-low", luhn_number(maria), LOW + 5000)).status == 200
    # Above the top-up, the demo's opening balance (less its last school day's meals): a first
    # purchase of exactly that much leaves LOW + 5000, still above the threshold.
    extra = account(node, maria)["balance"] - (LOW + 5000)
    assert extra >= 0
    with node.stopped() as db:
        db.execute("INSERT INTO cards (card, student_id, institution_id) VALUES ('MONEY-LOW-1', ?, ?)",
                   (maria, maria_school))
        item = db.execute("INSERT INTO buffet_items (institution_id, name, category, price) VALUES "
                          "(?, 'Обед', 'hot', 6000)", (maria_school,)).lastrowid
        feast = db.execute("INSERT INTO buffet_items (institution_id, name, category, price) VALUES "
                           "(?, 'Торт на класс', 'sweets', ?)", (maria_school, extra)).lastrowid
    if maria_school != school:
        token = sa.post("/api/v1/devices", {"name": "Касса", "scopes": ["meals"],
                                            "institution_id": maria_school}).json()["token"]
    before = len([n for n in feed(node) if n["kind"] == "meals_low_balance"])
    terminal = Client(node.base, token=token)
    r = terminal.post("/api/v1/meals/sales", {"key": "low-0", "seq": 1, "card": "MONEY-LOW-1",
                                               "items": [{"id": feast, "quantity": 1}]})
    assert r.status == 200 and r.json()["approved"] is True and r.json()["balance"] == LOW + 5000, r
    assert len([n for n in feed(node) if n["kind"] == "meals_low_balance"]) == before
    for seq in (2, 3):
        r = terminal.post("/api/v1/meals/sales", {"key": f"low-{seq}", "seq": seq, "card": "MONEY-LOW-1",
                                                   "items": [{"id": item, "quantity": 1}]})
        assert r.status == 200 and r.json()["approved"] is True, r
    low = [n for n in feed(node) if n["kind"] == "meals_low_balance"]
    assert len(low) == before + 1
    assert low[0]["data"] == {"balance": LOW + 5000 - 6000, "threshold": LOW}


def test_the_latest_day_with_money(node, ids):
    """date=latest: today when money moved at the school today, else the latest earlier day it
    did (the reconciliation's page opens on it), today when it never did; a day ahead is not one.
    Лицей № 3 has no meal accounts in the demo."""
    admin = node.login("admin")
    lyceum = next(s["id"] for s in admin.get("/api/v1/institutions").json()["items"] if s["short_name"] == "Лицей № 3")
    cls = admin.get(f"/api/v1/institutions/{lyceum}/classes").json()["items"][0]["id"]
    pupil = admin.get(f"/api/v1/classes/{cls}/students").json()["items"][0]["id"]
    url = f"/api/v1/institutions/{lyceum}/meals/reconciliation"
    today = datetime.date.today()
    never = admin.get(f"{url}?date=latest").json()
    assert never["date"] == today.isoformat() and never["today"] is True
    with node.stopped() as db:
        post_ledger(db, pupil, lyceum, "topup", 30000, midnight(-6) + 12 * 3600, 0)
        post_ledger(db, pupil, lyceum, "topup", 1000, midnight(3) + 12 * 3600, 0)  # a day ahead
    r = admin.get(f"{url}?date=latest")
    assert r.status == 200, r
    rec = r.json()
    assert rec["date"] == (today - datetime.timedelta(days=6)).isoformat() and rec["today"] is False
    assert row_of(rec, pupil)["topups"] == 30000 and rec["check"] is True
    csv = admin.get(f"{url}?date=latest&format=csv")
    assert csv.status == 200 and rec["date"] in csv.headers["Content-Disposition"]
    assert admin.get(url).json()["date"] == today.isoformat()  # the default is still today
    with node.stopped() as db:
        post_ledger(db, pupil, lyceum, "topup", 500, int(time.time()), 0)
    rec = admin.get(f"{url}?date=latest").json()
    assert rec["date"] == today.isoformat() and rec["today"] is True
    # Nobody learns another school's days; a wrong word is a bad date.
    for c in (ids["canteen"], ids["canteen2"], ids["admin2"], node.login("schooladmin"), node.login("parent")):
        assert c.get(f"{url}?date=latest").status == 403, c.user["login"]
    r = admin.get(f"{url}?date=next")
    assert r.status == 400 and r.json()["error"]["code"] == "bad_date" and r.json()["error"]["field"] == "date"

"""«Москвёнок»'s cards and passage (node/moskvenok/cards.c, passage.c): carriers issued, blocked
and replaced by the school admin; turnstiles posting batches that are applied exactly once in any
order, with held_seq and last_seq, denials for unknown, blocked and other schools' cards; the
family told of the day's entries and exits; a student's log, a class's presence against the
journal and a school's day. Every route's denials, and bad input that changes nothing (checked
in the node's database itself, read-only)."""
import datetime
import os
import random
import sqlite3
from urllib.parse import quote

import pytest

from conftest import Client


def code(r):
    return r.json()["error"]["code"]


def field(r):
    return r.json()["error"].get("field")


def db(node):
    """A read-only connection to the node's database (WAL: it sees what was committed)."""
    return sqlite3.connect(f"file:{os.path.join(node.dir, 'data', 'mes.db')}?mode=ro", uri=True)


def scalar(node, sql, *args):
    with db(node) as c:
        return c.execute(sql, args).fetchone()[0]


def at(day, hh, mm):
    """RFC 3339 for the node's local day `day` (a date) at hh:mm (the tests run in its zone)."""
    return datetime.datetime(day.year, day.month, day.day, hh, mm).astimezone().isoformat()


TODAY = datetime.date.today()


class Terminal:
    """A turnstile's device token: numbers its events 1, 2, 3... and keys them."""

    def __init__(self, node, sa, school, name="Турникет", scopes=("passage",)):
        r = sa.post("/api/v1/devices", {"name": name, "scopes": list(scopes), "institution_id": school})
        assert r.status == 201, r
        self.client = Client(node.base, token=r.json()["token"])
        self.id = r.json()["id"]
        self.seq = 0
        self.prefix = f"t{self.id}-"

    def event(self, card, direction="in", when=None, **extra):
        self.seq += 1
        e = {"key": f"{self.prefix}{self.seq}", "seq": self.seq, "card": card, "direction": direction,
             "at": when or datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        e.update(extra)
        return e

    def post(self, events):
        return self.client.post("/api/v1/passage/events", {"events": events})


@pytest.fixture(scope="module")
def ids(node):
    admin = node.login("admin")
    parent = node.login("parent")
    kids = {c["name"]: c for c in parent.user["children"]}
    artem, maria = kids["Иванов Артём Сергеевич"], kids["Иванова Мария Сергеевна"]
    schools = {s["short_name"]: s["id"] for s in admin.get("/api/v1/institutions").json()["items"]}
    c5a = artem["class"]["id"]
    mates = admin.get(f"/api/v1/classes/{c5a}/students").json()["items"]
    gym_classes = admin.get(f"/api/v1/institutions/{schools['Гимназия № 2']}/classes").json()["items"]
    gym_students = [s["id"] for s in admin.get(f"/api/v1/classes/{gym_classes[0]['id']}/students").json()["items"]]
    return {"artem": artem["id"], "maria": maria["id"], "c5a": c5a, "c9a": maria["class"]["id"],
            "school": schools["Школа № 1"], "gym": schools["Гимназия № 2"], "gym_student": gym_students[0],
            "gym_class": gym_classes[0]["id"], "gym_students": gym_students,
            "mates": [s["id"] for s in mates if s["id"] != artem["id"]]}


@pytest.fixture(scope="module")
def people(node, ids):
    """Bearer clients of the demo logins and of people made here: another parent (of a classmate
    of Артём), the admin of the gymnasium."""
    admin = node.login("admin")

    def person(last, first, login, roles):
        r = admin.post("/api/v1/persons", {"last_name": last, "first_name": first, "middle_name": "Петрович",
                                           "account": {"login": login, "password": "12345678", "roles": roles}})
        assert r.status == 201, r
        return r.json()["id"], node.login(login, "12345678")

    pid, other_parent = person("Сидоров", "Пётр", "passageparent", [{"role": "parent"}])
    mate = ids["mates"][0]
    assert admin.post("/api/v1/guardians", {"guardian_id": pid, "student_id": mate, "relation": "father"}).status == 201
    _, gym_admin = person("Директор", "Гимназии", "passagegymadmin", [{"role": "school_admin", "institution_id": ids["gym"]}])
    out = {who: node.login(who) for who in ("admin", "schooladmin", "teacher", "classteacher", "student", "parent", "medic")}
    out.update(other_parent=other_parent, other_parent_child=mate, gym_admin=gym_admin)
    return out


_serial = [0]


def card_id(prefix="C"):
    _serial[0] += 1
    return f"{prefix}{os.getpid():x}{_serial[0]:04d}".upper()


def issue(client, student, card=None, kind=None):
    body = {"card": card or card_id()}
    if kind:
        body["kind"] = kind
    r = client.post(f"/api/v1/students/{student}/cards", body)
    assert r.status == 201, r
    return r.json()


# ---- cards ---------------------------------------------------------------------------------


def accounts_of(node, student):
    return scalar(node, "SELECT count(*) FROM meal_accounts WHERE student_id = ?", student)


def test_issue_lists_and_makes_the_meal_account(node, ids, people):
    # Every student of Школа № 1 has a card and a meal account already (the demo's showcase of
    # «Москвёнок»); the gymnasium's have neither, and its admin issues their first carriers.
    sa = people["gym_admin"]
    student = ids["gym_students"][1]
    assert sa.get(f"/api/v1/students/{student}/cards").json()["items"] == []
    assert accounts_of(node, student) == 0
    c = issue(sa, student, "04:A2:19:FF", "bracelet")
    assert c["card"] == "04:A2:19:FF" and c["kind"] == "bracelet" and c["student_id"] == student
    assert c["institution_id"] == ids["gym"] and c["blocked"] is False and c["blocked_reason"] is None
    assert accounts_of(node, student) == 1
    d = issue(sa, student)
    assert d["kind"] == "card"
    listed = sa.get(f"/api/v1/students/{student}/cards").json()["items"]
    assert [x["id"] for x in listed] == [d["id"], c["id"]]
    # The region admin issues too; a second carrier keeps one meal account.
    issue(people["admin"], student, kind="fob")
    assert accounts_of(node, student) == 1
    audit = [a for a in sa.get("/api/v1/audit?limit=1000").json()["items"] if a["action"] == "card.issue"]
    assert any(a["object"] == f"card/{c['id']}" for a in audit)
    # At Школа № 1 a student's further carrier keeps the one account and its balance.
    mate = ids["mates"][3]
    shown = people["schooladmin"].get(f"/api/v1/students/{mate}/cards").json()["items"]
    balance = scalar(node, "SELECT balance FROM meal_accounts WHERE student_id = ?", mate)
    assert len(shown) == 1 and accounts_of(node, mate) == 1
    e = issue(people["schooladmin"], mate)
    listed = people["schooladmin"].get(f"/api/v1/students/{mate}/cards").json()["items"]
    assert [x["id"] for x in listed] == [e["id"], shown[0]["id"]]
    assert accounts_of(node, mate) == 1
    assert scalar(node, "SELECT balance FROM meal_accounts WHERE student_id = ?", mate) == balance


def test_issue_refuses_bad_input_and_taken_identifiers(node, ids, people):
    # A student of the gymnasium, with no carrier and no meal account yet (Школа № 1's all have
    # them: the demo's showcase): a refused issue must leave them without either.
    sa = people["gym_admin"]
    student = ids["gym_students"][2]
    assert accounts_of(node, student) == 0
    before = scalar(node, "SELECT count(*) FROM cards")
    for bad in ("abc", "x" * 65, "AB CD", "ÄÖÜÄ", "12_34", ""):
        r = sa.post(f"/api/v1/students/{student}/cards", {"card": bad})
        assert r.status == 400 and code(r) == "bad_card" and field(r) == "card", bad
    r = sa.post(f"/api/v1/students/{student}/cards", {"card": "GOOD1234", "kind": "watch"})
    assert r.status == 400 and code(r) == "bad_card_kind" and field(r) == "kind"
    for body in ({"card": "GOOD1234", "extra": 1}, {"card": 12345678}, {}):
        assert sa.post(f"/api/v1/students/{student}/cards", body).status == 400, body
    taken = issue(sa, ids["gym_students"][3])["card"]
    r = sa.post(f"/api/v1/students/{student}/cards", {"card": taken})
    assert r.status == 409 and code(r) == "card_taken" and field(r) == "card"
    # Identifiers are the region's: one of Школа № 1 is taken here too.
    school_card = people["schooladmin"].get(f"/api/v1/students/{ids['mates'][4]}/cards").json()["items"][0]["card"]
    r = sa.post(f"/api/v1/students/{student}/cards", {"card": school_card})
    assert r.status == 409 and code(r) == "card_taken"
    # A blocked identifier stays taken.
    blocked = issue(sa, ids["gym_students"][3])
    assert sa.post(f"/api/v1/cards/{blocked['id']}/block", {"reason": "lost"}).status == 200
    r = sa.post(f"/api/v1/students/{student}/cards", {"card": blocked["card"]})
    assert r.status == 409 and code(r) == "card_taken"
    assert scalar(node, "SELECT count(*) FROM cards") == before + 2
    assert scalar(node, "SELECT count(*) FROM cards WHERE student_id = ?", student) == 0
    assert scalar(node, "SELECT count(*) FROM meal_accounts WHERE student_id = ?", student) == 0


def test_who_issues_and_reads_cards(node, ids, people):
    artem, maria = ids["artem"], ids["maria"]
    c = issue(people["schooladmin"], artem)
    path = f"/api/v1/students/{artem}/cards"
    for who in ("teacher", "classteacher", "student", "parent", "medic", "other_parent", "gym_admin"):
        r = people[who].post(path, {"card": card_id()})
        assert r.status == 403, who
    # The gymnasium's admin issues nothing at school № 1, nor for its students.
    assert people["gym_admin"].post(f"/api/v1/students/{maria}/cards", {"card": card_id()}).status == 403
    assert people["schooladmin"].post(f"/api/v1/students/{ids['gym_student']}/cards", {"card": card_id()}).status == 403
    assert people["schooladmin"].post("/api/v1/students/999999/cards", {"card": card_id()}).status == 404
    # Readers: the student, the parents, the school's staff who see the student.
    for who in ("student", "parent", "classteacher", "teacher", "medic", "schooladmin", "admin"):
        r = people[who].get(path)
        assert r.status == 200 and c["id"] in [x["id"] for x in r.json()["items"]], who
    for who in ("other_parent", "gym_admin"):
        assert people[who].get(path).status == 403, who
    assert people["student"].get(f"/api/v1/students/{maria}/cards").status == 403
    assert people["classteacher"].get(f"/api/v1/students/{maria}/cards").status == 403  # 9А is not hers
    assert node.client().get(path).status == 401
    # A device token is no user.
    dev = Terminal(node, people["schooladmin"], ids["school"])
    assert dev.client.get(path).status == 403
    assert dev.client.post(path, {"card": card_id()}).status == 403


def test_block_and_replace(node, ids, people):
    sa = people["schooladmin"]
    student = ids["mates"][6]
    had = {x["id"] for x in sa.get(f"/api/v1/students/{student}/cards").json()["items"]}  # the demo's card
    c = issue(sa, student)
    for bad in ({"reason": "stolen"}, {}, {"reason": "lost", "x": 1}):
        r = sa.post(f"/api/v1/cards/{c['id']}/block", bad)
        assert r.status == 400, bad
    assert code(sa.post(f"/api/v1/cards/{c['id']}/block", {"reason": "stolen"})) == "bad_block_reason"
    for who in ("teacher", "classteacher", "parent", "other_parent", "gym_admin", "student"):
        assert people[who].post(f"/api/v1/cards/{c['id']}/block", {"reason": "lost"}).status == 403, who
        assert people[who].post(f"/api/v1/cards/{c['id']}/replace", {"card": card_id()}).status == 403, who
    assert sa.post("/api/v1/cards/999999/block", {"reason": "lost"}).status == 404
    assert scalar(node, "SELECT blocked_at FROM cards WHERE id = ?", c["id"]) is None

    # Replace: the old one blocked as replaced, the new one issued, in one step.
    new_card = card_id()
    r = sa.post(f"/api/v1/cards/{c['id']}/replace", {"card": new_card})
    assert r.status == 201, r
    fresh = r.json()
    assert fresh["card"] == new_card and fresh["kind"] == c["kind"] and fresh["blocked"] is False
    old = fresh["replaced"]
    assert old["id"] == c["id"] and old["blocked"] and old["blocked_reason"] == "replaced"
    assert old["replaced_by"] == fresh["id"]
    # A replacement onto a taken identifier changes nothing.
    other = issue(sa, student, kind="fob")
    r = sa.post(f"/api/v1/cards/{other['id']}/replace", {"card": new_card})
    assert r.status == 409 and code(r) == "card_taken"
    assert scalar(node, "SELECT blocked_at FROM cards WHERE id = ?", other["id"]) is None
    r = sa.post(f"/api/v1/cards/{other['id']}/replace", {"card": "bad id"})
    assert r.status == 400 and code(r) == "bad_card"
    # A blocked one is neither blocked again nor replaced.
    r = sa.post(f"/api/v1/cards/{c['id']}/block", {"reason": "lost"})
    assert r.status == 409 and code(r) == "card_blocked"
    r = sa.post(f"/api/v1/cards/{c['id']}/replace", {"card": card_id()})
    assert r.status == 409 and code(r) == "card_blocked"
    # Block: lost.
    r = people["admin"].post(f"/api/v1/cards/{other['id']}/block", {"reason": "lost"})
    assert r.status == 200 and r.json()["blocked"] and r.json()["blocked_reason"] == "lost"
    listed = sa.get(f"/api/v1/students/{student}/cards").json()["items"]
    assert listed[0]["id"] == fresh["id"] and not listed[0]["blocked"]  # in use first
    assert {x["id"] for x in listed} == had | {c["id"], fresh["id"], other["id"]}
    actions = {(a["action"], a["object"]) for a in sa.get("/api/v1/audit?limit=1000").json()["items"]}
    assert ("card.replace", f"card/{c['id']}") in actions and ("card.block", f"card/{other['id']}") in actions


def test_school_cards_list(node, ids, people):
    sa = people["schooladmin"]
    artem = ids["artem"]
    c = issue(sa, artem)
    r = sa.get(f"/api/v1/institutions/{ids['school']}/cards?class={ids['c5a']}")
    assert r.status == 200, r
    items = r.json()["items"]
    assert {i["class"]["name"] for i in items} == {"5А"} and r.json()["more"] is False
    mine = next(i for i in items if i["student"]["id"] == artem)
    assert mine["student"]["name"] == "Иванов Артём Сергеевич" and c["id"] in [x["id"] for x in mine["cards"]]
    # Every student of Школа № 1 has the demo's card; students without carriers are listed too
    # (the gymnasium's, listed by its admin).
    assert all(i["cards"] for i in items)
    gym = people["gym_admin"].get(f"/api/v1/institutions/{ids['gym']}/cards?class={ids['gym_class']}").json()["items"]
    assert {i["student"]["id"] for i in gym} == set(ids["gym_students"]) and any(i["cards"] == [] for i in gym)
    # By name (any case of the first letter), by identifier.
    for q in ("иванов арт", "Иванов Артём", "артём"):
        found = sa.get(f"/api/v1/institutions/{ids['school']}/cards?q={quote(q)}").json()["items"]
        assert artem in [i["student"]["id"] for i in found], q
    found = sa.get(f"/api/v1/institutions/{ids['school']}/cards?q={quote(c['card'])}").json()["items"]
    assert [i["student"]["id"] for i in found] == [artem]
    assert sa.get(f"/api/v1/institutions/{ids['school']}/cards?q=%25").json()["items"] == []
    everyone = sa.get(f"/api/v1/institutions/{ids['school']}/cards").json()
    assert len(everyone["items"]) > len(items) and len({i["class"]["id"] for i in everyone["items"]}) > 1
    assert people["admin"].get(f"/api/v1/institutions/{ids['school']}/cards").status == 200
    for bad in ("class=abc", "class=-1", f"q={'я' * 101}"):
        assert sa.get(f"/api/v1/institutions/{ids['school']}/cards?{quote(bad, safe='=')}").status == 400, bad
    assert sa.get(f"/api/v1/institutions/{ids['gym']}/cards").status == 403
    assert people["gym_admin"].get(f"/api/v1/institutions/{ids['school']}/cards").status == 403
    for who in ("teacher", "classteacher", "parent", "student", "medic"):
        assert people[who].get(f"/api/v1/institutions/{ids['school']}/cards").status == 403, who
    assert sa.get("/api/v1/institutions/999999/cards").status in (403, 404)


# ---- the turnstiles' batches -----------------------------------------------------------------


def passage_count(node, student=None):
    if student is None:
        return scalar(node, "SELECT count(*) FROM passage_events")
    return scalar(node, "SELECT count(*) FROM passage_events WHERE student_id = ?", student)


def notes(client, kind=None, student=None):
    items = client.get("/api/v1/notifications?limit=200").json()["items"]
    return [n for n in items if (kind is None or n["kind"] == kind)
            and (student is None or (n.get("student") or {}).get("id") == student)]


def test_who_may_post_events(node, ids, people):
    sa = people["schooladmin"]
    card = issue(sa, ids["mates"][7])["card"]
    before = passage_count(node, ids["mates"][7])  # the demo's last school day
    body = {"events": [{"key": "a", "seq": 1, "card": card, "direction": "in", "at": at(TODAY, 8, 0)}]}
    meals = Terminal(node, sa, ids["school"], "Касса", scopes=("meals",))
    assert meals.client.post("/api/v1/passage/events", body).status == 403
    health = Terminal(node, people["admin"], ids["school"], "Медпункт", scopes=("health",))
    assert health.client.post("/api/v1/passage/events", body).status == 403
    for who in ("schooladmin", "admin", "parent", "teacher"):
        assert people[who].post("/api/v1/passage/events", body).status == 403, who
    assert node.client().post("/api/v1/passage/events", body).status == 401
    assert Client(node.base, token="not-a-token").post("/api/v1/passage/events", body).status == 401
    # A revoked token posts nothing.
    t = Terminal(node, sa, ids["school"])
    assert sa.delete(f"/api/v1/devices/{t.id}").status == 200
    assert t.post(body["events"]).status == 401
    assert passage_count(node, ids["mates"][7]) == before


def test_a_bad_event_refuses_the_batch(node, ids, people):
    sa = people["schooladmin"]
    card = issue(sa, ids["mates"][8])["card"]
    t = Terminal(node, sa, ids["school"])
    good = {"key": "good-1", "seq": 1, "card": card, "direction": "in", "at": at(TODAY, 8, 1)}
    before = passage_count(node)
    bad_events = [
        ({"seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "key"),
        ({"key": "", "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "key"),
        ({"key": "k" * 65, "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "key"),
        ({"key": "with space", "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "key"),
        ({"key": "b", "seq": 0, "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "seq"),
        ({"key": "b", "seq": "2", "card": card, "direction": "in", "at": at(TODAY, 8, 2)}, "seq"),
        ({"key": "b", "seq": 2, "card": "", "direction": "in", "at": at(TODAY, 8, 2)}, "card"),
        ({"key": "b", "seq": 2, "card": "x" * 65, "direction": "in", "at": at(TODAY, 8, 2)}, "card"),
        ({"key": "b", "seq": 2, "card": card, "direction": "up", "at": at(TODAY, 8, 2)}, "direction"),
        ({"key": "b", "seq": 2, "card": card, "at": at(TODAY, 8, 2)}, "direction"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": "вчера"}, "at"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": "2026-13-01T08:00:00Z"}, "at"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": at(TODAY + datetime.timedelta(days=3), 8, 0)}, "at"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2), "turnstile": ""}, "turnstile"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2), "turnstile": "т" * 65}, "turnstile"),
        ({"key": "b", "seq": 2, "card": card, "direction": "in", "at": at(TODAY, 8, 2), "gate": 1}, "gate"),
    ]
    for bad, name in bad_events:
        r = t.post([good, bad])
        assert r.status == 400 and code(r) == "bad_request" and field(r) == f"events[1].{name}", (bad, r)
    r = t.post([good, "not an event"])
    assert r.status == 400 and field(r) == "events[1]"
    for body in ({"events": []}, {"events": {}}, {"events": [good] * 1001}, {}, {"events": [good], "x": 1}):
        r = t.client.post("/api/v1/passage/events", body)
        assert r.status == 400, body
    assert passage_count(node) == before
    assert scalar(node, "SELECT count(*) FROM terminal_events WHERE device_id = ?", t.id) == 0
    # The good event alone is new: nothing of the refused batches was held.
    r = t.post([good])
    assert r.status == 200 and r.json()["applied"] == 1 and r.json()["duplicates"] == 0
    assert r.json()["held_seq"] == 1 and r.json()["last_seq"] == 1


def test_exactly_once_in_any_order(node, ids, people):
    sa = people["schooladmin"]
    students = ids["mates"][9:14]
    cards = [issue(sa, s)["card"] for s in students]
    t = Terminal(node, sa, ids["school"])
    events = [t.event(cards[i % len(cards)], "in" if i < 5 else "out", at(TODAY, 7, 30 + i), turnstile="Вход 1")
              for i in range(10)]
    before = passage_count(node)
    told = "SELECT count(*) FROM notifications WHERE person_id = student_id AND kind LIKE 'passage_%'"
    told_before = scalar(node, told)
    # Shuffled batches with gaps, filled later.
    random.seed(17)
    first, second, third = [events[i] for i in (6, 2, 8)], [events[0], events[1]], [events[i] for i in (9, 3, 4, 5, 7)]
    r = t.post(first).json()
    assert (r["applied"], r["duplicates"], r["held_seq"], r["last_seq"]) == (3, 0, 0, 9)
    r = t.post(second).json()
    assert (r["applied"], r["held_seq"], r["last_seq"]) == (2, 3, 9)
    r = t.post(third).json()
    assert (r["applied"], r["held_seq"], r["last_seq"]) == (5, 10, 10)
    assert [x["decision"] for x in r["results"]] == ["allow"] * 5
    assert [x["key"] for x in r["results"]] == [e["key"] for e in third]
    assert passage_count(node) == before + 10
    # The whole queue again, shuffled: all duplicates, answered as the first time, nothing applied.
    again = events[:]
    random.shuffle(again)
    r = t.post(again)
    assert r.status == 200
    d = r.json()
    assert (d["applied"], d["duplicates"], d["denied"], d["held_seq"], d["last_seq"]) == (0, 10, 0, 10, 10)
    assert all(x["duplicate"] is True and x["decision"] == "allow" for x in d["results"])
    assert [x["key"] for x in d["results"]] == [e["key"] for e in again]
    # The same key twice in one batch: applied once.
    e = t.event(cards[0], "out", at(TODAY, 15, 0))
    d = t.post([e, e]).json()
    assert (d["applied"], d["duplicates"]) == (1, 1) and d["results"][1]["duplicate"] is True
    assert passage_count(node) == before + 11
    # Each student was told once per event of today, never for a repeat.
    assert scalar(node, told) == told_before + 11


def test_seq_taken_refuses_the_batch(node, ids, people):
    sa = people["schooladmin"]
    card = issue(sa, ids["mates"][14])["card"]
    t = Terminal(node, sa, ids["school"])
    e1, e2 = t.event(card), t.event(card, "out")
    assert t.post([e1, e2]).status == 200
    before = passage_count(node)
    fresh = t.event(card, "in")
    thief = dict(t.event(card, "in"), seq=2)  # a new key with seq 2, held by e2
    r = t.post([fresh, thief])
    assert r.status == 409 and code(r) == "seq_taken" and field(r) == "events[1].seq"
    assert passage_count(node) == before
    assert scalar(node, "SELECT count(*) FROM terminal_events WHERE device_id = ?", t.id) == 2
    # The fresh one alone goes through (held_seq stops at the gap the refused key left).
    d = t.post([fresh]).json()
    assert d["applied"] == 1 and d["held_seq"] == 3 and d["last_seq"] == 3
    # Another terminal may use the same keys and numbers: they are per terminal.
    t2 = Terminal(node, sa, ids["school"])
    d = t2.post([dict(e1)]).json()
    assert d["applied"] == 1 and d["duplicates"] == 0 and d["held_seq"] == 1


def test_denials_are_logged(node, ids, people):
    sa = people["schooladmin"]
    mine = issue(sa, ids["mates"][15])
    blocked = issue(sa, ids["mates"][15])
    assert sa.post(f"/api/v1/cards/{blocked['id']}/block", {"reason": "lost"}).status == 200
    gym_card = issue(people["admin"], ids["gym_student"])["card"]
    t = Terminal(node, sa, ids["school"])
    unknown = "NOSUCHCARD"
    events = [t.event(unknown, turnstile="Вход 2"), t.event(blocked["card"]), t.event(gym_card),
              t.event(mine["card"]), t.event("garbled read ~!")]
    before = passage_count(node)
    d = t.post(events).json()
    assert [(x["decision"], x.get("reason")) for x in d["results"]] == [
        ("deny", "unknown_card"), ("deny", "card_blocked"), ("deny", "other_school"), ("allow", None),
        ("deny", "unknown_card")]
    assert (d["applied"], d["denied"]) == (5, 4)
    assert passage_count(node) == before + 1
    # Repeated: the same denials, nothing logged twice.
    again = t.post(events).json()
    assert [x.get("reason") for x in again["results"]] == [x.get("reason") for x in d["results"]]
    day = sa.get(f"/api/v1/institutions/{ids['school']}/passage").json()
    cards = [x["card"] for x in day["denials"]]
    assert cards.count(unknown) == 1 and cards.count(blocked["card"]) == 1 and cards.count(gym_card) == 1
    shown = {x["card"]: x for x in day["denials"]}
    assert shown[unknown]["reason"] == "unknown_card" and shown[unknown]["turnstile"] == "Вход 2"
    assert shown[blocked["card"]]["student"]["id"] == ids["mates"][15]  # our student's blocked card
    assert "student" not in shown[gym_card]  # another school's student stays unnamed
    assert shown["garbled read ~!"]["reason"] == "unknown_card"
    # A turnstile of the gymnasium denies a card of school № 1.
    gym = Terminal(node, people["admin"], ids["gym"])
    d = gym.post([gym.event(mine["card"])]).json()
    assert d["results"][0] == {"key": d["results"][0]["key"], "decision": "deny", "reason": "other_school"}
    gym_day = people["admin"].get(f"/api/v1/institutions/{ids['gym']}/passage").json()
    assert mine["card"] in [x["card"] for x in gym_day["denials"]]
    assert mine["card"] not in [x["card"] for x in sa.get(f"/api/v1/institutions/{ids['school']}/passage").json()["denials"]]
    # Denials tell nobody.
    assert scalar(node, "SELECT count(*) FROM notifications WHERE student_id = ?", ids["gym_student"]) == 0
    assert scalar(node, "SELECT count(*) FROM notifications WHERE student_id = ? AND kind LIKE 'passage_%' "
                  "AND family = 1", ids["mates"][15]) == 1  # the one allowed entry, to the student's family


def test_the_family_is_told_of_today_only(node, ids, people):
    sa, parent = people["schooladmin"], people["parent"]
    artem, maria = ids["artem"], ids["maria"]
    ca, cm = issue(sa, artem)["card"], issue(sa, maria)["card"]
    t = Terminal(node, sa, ids["school"])
    yesterday = TODAY - datetime.timedelta(days=1)
    logged = parent.get(f"/api/v1/students/{artem}/passage?from={yesterday}&to={yesterday}").json()["items"]
    before = {k: len(notes(parent, k)) for k in ("passage_in", "passage_out")}
    other_before = len(notes(people["other_parent"]))
    ct_before = len(notes(people["classteacher"]))
    d = t.post([t.event(ca, "in", at(TODAY, 8, 12)), t.event(cm, "out", at(TODAY, 14, 5)),
                t.event(ca, "in", at(yesterday, 8, 3))]).json()
    assert d["applied"] == 3 and d["denied"] == 0
    ins = [n for n in notes(parent, "passage_in", artem) if n["data"]["time"] == "08:12"]
    outs = [n for n in notes(parent, "passage_out", maria) if n["data"]["time"] == "14:05"]
    assert len(ins) == 1 and len(outs) == 1
    assert len(notes(parent, "passage_in")) == before["passage_in"] + 1  # not yesterday's
    assert len(notes(parent, "passage_out")) == before["passage_out"] + 1
    assert ins[0]["data"]["name"] == "Артём" and ins[0]["data"]["gender"] == "m"
    assert ins[0]["data"]["time"] == "08:12" and ins[0]["data"]["school"] == "Школа № 1"
    assert outs[0]["data"]["name"] == "Мария" and outs[0]["data"]["gender"] == "f" and outs[0]["data"]["time"] == "14:05"
    # The student hears of their own; nobody else hears anything.
    assert "08:12" in [n["data"]["time"] for n in notes(people["student"], "passage_in", artem)]
    assert len(notes(people["other_parent"])) == other_before
    assert len(notes(people["classteacher"])) == ct_before
    # Yesterday's is stored all the same (beside the demo's, if yesterday was its school day).
    log = parent.get(f"/api/v1/students/{artem}/passage?from={yesterday}&to={yesterday}").json()["items"]
    assert [(x["time"], x["direction"]) for x in log] == sorted(
        [(x["time"], x["direction"]) for x in logged] + [("08:03", "in")])


# ---- what the family and the school read --------------------------------------------------


def test_student_passage_log(node, ids, people):
    sa = people["schooladmin"]
    student = ids["mates"][16]
    card = issue(sa, student)["card"]
    t = Terminal(node, sa, ids["school"])
    # Days before the demo's last school day (whose passage the demo recorded): none logged yet.
    last = scalar(node, "SELECT max(day) FROM passage_events WHERE student_id = ?", student)
    last = datetime.date.fromisoformat(last) if last else TODAY
    d1, d2 = last - datetime.timedelta(days=10), last - datetime.timedelta(days=9)
    assert sa.get(f"/api/v1/students/{student}/passage?from={d1}&to={d2}").json()["items"] == []
    t.post([t.event(card, "out", at(d1, 14, 30), turnstile="Выход"), t.event(card, "in", at(d1, 8, 5)),
            t.event(card, "in", at(d2, 8, 20))])
    r = sa.get(f"/api/v1/students/{student}/passage?from={d1}&to={d2}")
    assert r.status == 200, r
    items = r.json()["items"]
    assert [(x["day"], x["time"], x["direction"]) for x in items] == [
        (d1.isoformat(), "08:05", "in"), (d1.isoformat(), "14:30", "out"), (d2.isoformat(), "08:20", "in")]
    assert items[1]["turnstile"] == "Выход" and "turnstile" not in items[0]
    assert isinstance(items[0]["at"], int)
    only = sa.get(f"/api/v1/students/{student}/passage?from={d2}&to={d2}").json()["items"]
    assert len(only) == 1
    # The default: the week to today, the same as asking for it, in time order.
    week = TODAY - datetime.timedelta(days=6)
    default = sa.get(f"/api/v1/students/{student}/passage").json()
    assert default["to"] == TODAY.isoformat() and default["from"] == week.isoformat()
    assert default["items"] == sa.get(f"/api/v1/students/{student}/passage?from={week}&to={TODAY}").json()["items"]
    assert all(week.isoformat() <= x["day"] <= TODAY.isoformat() for x in default["items"])
    assert [x["at"] for x in default["items"]] == sorted(x["at"] for x in default["items"])


def test_who_reads_a_students_passage(node, ids, people):
    artem, maria = ids["artem"], ids["maria"]
    path = f"/api/v1/students/{artem}/passage"
    for who in ("parent", "student", "classteacher", "schooladmin", "admin"):
        assert people[who].get(path).status == 200, who
    for who in ("teacher", "medic", "other_parent", "gym_admin"):
        assert people[who].get(path).status == 403, who
    assert people["student"].get(f"/api/v1/students/{maria}/passage").status == 403
    assert people["classteacher"].get(f"/api/v1/students/{maria}/passage").status == 403
    assert people["parent"].get(f"/api/v1/students/{maria}/passage").status == 200
    assert people["other_parent"].get(f"/api/v1/students/{people['other_parent_child']}/passage").status == 200
    assert people["admin"].get("/api/v1/students/999999/passage").status == 404
    assert node.client().get(path).status == 401
    dev = Terminal(node, people["schooladmin"], ids["school"])
    assert dev.client.get(path).status == 403
    for q, c, f in (("from=2026-02-30", "bad_date", "from"), ("to=tomorrow", "bad_date", "to"),
                    ("from=2026-01-10&to=2026-01-01", "bad_range", "to"),
                    ("from=2026-01-01&to=2026-04-03", "range_too_long", "to")):
        r = people["parent"].get(f"{path}?{q}")
        assert r.status == 400 and code(r) == c and field(r) == f, q
    assert people["parent"].get(f"{path}?from=2026-01-01&to=2026-04-02").status == 200  # 92 days


def past_lesson_day(node, ids):
    """A past weekday of 5А with lessons that took place and nobody passed the school's
    turnstiles (not the demo's last school day, whose passage the demo recorded), and one of its
    math lessons."""
    teacher = node.login("teacher")
    a = next(x for x in teacher.user["assignments"] if x["class"]["name"] == "5А" and x["subject"]["name"] == "Математика")
    years = teacher.get("/api/v1/academic-years").json()["items"]
    periods = years[0]["periods"]
    today = TODAY.isoformat()
    for p in reversed([p for p in periods if p["starts_on"] <= today]):
        grid = teacher.get(f"/api/v1/journal?class={ids['c5a']}&subject={a['subject']['id']}&period={p['id']}").json()
        past = [l for l in grid["lessons"] if l["date"] < today and not l["cancelled"] and not scalar(
            node, "SELECT count(*) FROM passage_events WHERE institution_id = ? AND day = ?", ids["school"], l["date"])]
        if past:
            return datetime.date.fromisoformat(past[-1]["date"]), past[-1]
    raise AssertionError("no past lesson of 5А")


def test_presence_and_flags(node, ids, people):
    sa, ct, teacher = people["schooladmin"], people["classteacher"], node.login("teacher")
    day, lesson = past_lesson_day(node, ids)
    path = f"/api/v1/classes/{ids['c5a']}/presence"
    r = ct.get(f"{path}?date={day}")
    assert r.status == 200, r
    p = r.json()
    assert p["class"]["name"] == "5А" and p["date"] == day.isoformat() and p["today"] is False
    # No one passed a turnstile of the school that day: nobody is flagged for not entering.
    assert p["turnstiles"] is False
    assert all(s["flag"] is None for s in p["students"])
    by = {s["student"]["id"]: s for s in p["students"]}
    assert set(by) == set(ids["mates"]) | {ids["artem"]}
    calm = [sid for sid, s in by.items() if s["lessons"]["present"] > 0 and s["lessons"]["absent"] == 0
            and s["first_in"] is None and sid != ids["artem"]]
    x, y = calm[0], calm[1]
    # Артём is marked absent at the math lesson, and entered; y entered; x did not.
    assert teacher.request("PUT", f"/api/v1/lessons/{lesson['id']}/attendance",
                           body={"student_id": ids["artem"], "status": "absent"}).status == 200
    ca, cy = issue(sa, ids["artem"])["card"], issue(sa, y)["card"]
    t = Terminal(node, sa, ids["school"])
    t.post([t.event(ca, "in", at(day, 7, 55)), t.event(ca, "out", at(day, 9, 40)), t.event(ca, "in", at(day, 10, 0)),
            t.event(ca, "out", at(day, 14, 5)), t.event(cy, "in", at(day, 8, 1))])
    p = ct.get(f"{path}?date={day}").json()
    assert p["turnstiles"] is True
    by = {s["student"]["id"]: s for s in p["students"]}
    a = by[ids["artem"]]
    assert a["flag"] == "absent_with_entry" and a["lessons"]["absent"] >= 1
    assert a["first_in"]["time"] == "07:55" and a["last_out"]["time"] == "14:05" and a["in_school"] is False
    assert by[x]["flag"] == "present_no_entry" and by[x]["first_in"] is None
    assert by[y]["flag"] is None and by[y]["first_in"]["time"] == "08:01" and by[y]["last_out"] is None
    assert by[y]["in_school"] is False  # a past day: nobody is "in now"
    assert p["counts"]["flags"] == sum(1 for s in p["students"] if s["flag"])
    assert p["counts"]["entered"] == sum(1 for s in p["students"] if s["first_in"])
    # Today: in while the last event is an entry.
    t.post([t.event(cy, "in", at(TODAY, 0, 1))])
    now = ct.get(path).json()
    assert now["today"] is True and now["date"] == TODAY.isoformat()
    assert {s["student"]["id"]: s for s in now["students"]}[y]["in_school"] is True
    t.post([t.event(cy, "out", at(TODAY, 0, 2))])
    now = ct.get(path).json()
    assert {s["student"]["id"]: s for s in now["students"]}[y]["in_school"] is False


def test_who_reads_presence(node, ids, people):
    path = f"/api/v1/classes/{ids['c5a']}/presence"
    for who in ("classteacher", "schooladmin", "admin"):
        assert people[who].get(path).status == 200, who
    for who in ("teacher", "parent", "student", "medic", "gym_admin"):
        assert people[who].get(path).status == 403, who
    assert people["classteacher"].get(f"/api/v1/classes/{ids['c9a']}/presence").status == 403
    assert people["admin"].get("/api/v1/classes/999999/presence").status == 404
    r = people["classteacher"].get(f"{path}?date=2026-02-31")
    assert r.status == 400 and code(r) == "bad_date" and field(r) == "date"


def test_school_day(node, ids, people):
    sa = people["schooladmin"]
    student = ids["mates"][17]
    card = issue(sa, student)["card"]
    day = TODAY - datetime.timedelta(days=20)
    path = f"/api/v1/institutions/{ids['school']}/passage"
    before = sa.get(f"{path}?date={day}").json()
    t = Terminal(node, sa, ids["school"])
    t.post([t.event(card, "in", at(day, 8, 0)), t.event(card, "out", at(day, 12, 0)), t.event(card, "in", at(day, 12, 30)),
            t.event("UNKNOWN-2", "in", at(day, 8, 10))])
    d = sa.get(f"{path}?date={day}").json()
    assert d["date"] == day.isoformat() and d["today"] is False
    assert d["entries"] == before["entries"] + 2 and d["exits"] == before["exits"] + 1
    assert d["entered"] == before["entered"] + 1 and d["in_school"] == 0
    assert d["denied"] == before["denied"] + 1 and d["denials"][0]["card"] == "UNKNOWN-2"
    c5a = next(c for c in d["classes"] if c["class"]["id"] == ids["c5a"])
    c5a_before = next(c for c in before["classes"] if c["class"]["id"] == ids["c5a"])
    assert c5a["entered"] == c5a_before["entered"] + 1 and c5a["students"] == len(ids["mates"]) + 1
    # Today: who is in now.
    t.post([t.event(card, "in", at(TODAY, 0, 3))])
    now = sa.get(path).json()
    assert now["today"] is True and now["in_school"] >= 1
    assert next(c for c in now["classes"] if c["class"]["id"] == ids["c5a"])["in_school"] >= 1
    assert people["admin"].get(path).status == 200
    for who in ("teacher", "classteacher", "parent", "student", "medic", "gym_admin"):
        assert people[who].get(path).status == 403, who
    assert sa.get(f"/api/v1/institutions/{ids['gym']}/passage").status == 403
    r = sa.get(f"{path}?date=05.12.2026")
    assert r.status == 400 and field(r) == "date"


def test_the_latest_day_with_passage(node, ids, people):
    """date=latest on a school's day and a class's presence: today when the school's turnstiles
    saw something today, else the latest earlier day they did (a weekend, a holiday: the pages
    open on it), today when they never did. A school's day counts its denials too, a class's
    presence only entries and exits. Лицей № 3 has no passage in the demo."""
    admin = people["admin"]
    lyceum = next(s["id"] for s in admin.get("/api/v1/institutions").json()["items"] if s["short_name"] == "Лицей № 3")
    cls = admin.get(f"/api/v1/institutions/{lyceum}/classes").json()["items"][0]["id"]
    pupil = admin.get(f"/api/v1/classes/{cls}/students").json()["items"][0]["id"]
    school, presence = f"/api/v1/institutions/{lyceum}/passage", f"/api/v1/classes/{cls}/presence"
    for path in (school, presence):
        never = admin.get(f"{path}?date=latest").json()
        assert never["date"] == TODAY.isoformat() and never["today"] is True, path
    t = Terminal(node, admin, lyceum)
    card = issue(admin, pupil)["card"]
    denied, entered = TODAY - datetime.timedelta(days=3), TODAY - datetime.timedelta(days=5)
    r = t.post([t.event("LYCEUM-NOBODY", "in", at(denied, 8, 0)), t.event(card, "in", at(entered, 8, 5)),
                t.event(card, "out", at(entered, 14, 0))])
    assert r.status == 200 and r.json()["denied"] == 1, r
    d = admin.get(f"{school}?date=latest").json()
    assert d["date"] == denied.isoformat() and d["today"] is False and d["denied"] == 1 and d["entries"] == 0
    p = admin.get(f"{presence}?date=latest").json()
    assert p["date"] == entered.isoformat() and p["today"] is False and p["counts"]["entered"] == 1
    assert admin.get(presence).json()["date"] == TODAY.isoformat()  # the default is still today
    # An entry today makes today the latest.
    t.post([t.event(card, "in", at(TODAY, 0, 5))])
    for path in (school, presence):
        now = admin.get(f"{path}?date=latest").json()
        assert now["date"] == TODAY.isoformat() and now["today"] is True, path
    # Nobody learns another school's days; a wrong word is a bad date.
    for who in ("schooladmin", "gym_admin", "classteacher", "teacher", "parent"):
        assert people[who].get(f"{school}?date=latest").status == 403, who
        assert people[who].get(f"{presence}?date=latest").status == 403, who
    for path in (school, presence):
        r = admin.get(f"{path}?date=next")
        assert r.status == 400 and code(r) == "bad_date" and field(r) == "date", path

"""The read cache's invariant: every table a cached view reads is watched, so that a change of
it moves a change counter (node/cache/watch.c, cache.h "The watch table"). The node runs with
MES_CACHE_AUDIT=1: each cached view's statements are noted and the tables they read are checked
against the triggers in the database; the log names what each view read and any table that no
trigger of every kind (insert, update, delete) watches."""
import datetime
import os
import re

import pytest

from conftest import Node


@pytest.fixture(scope="module")
def node():
    os.environ["MES_CACHE_AUDIT"] = "1"
    try:
        n = Node()
    finally:
        del os.environ["MES_CACHE_AUDIT"]
    yield n
    assert n.stop() == 0


def test_every_table_a_cached_view_reads_is_watched(node):
    teacher = node.login("teacher")
    parent = node.login("parent")
    a = teacher.user["assignments"][0]
    years = teacher.get("/api/v1/academic-years").json()["items"]
    today = datetime.date.today().isoformat()
    period = next((p for p in years[0]["periods"] if p["starts_on"] <= today <= p["ends_on"]),
                  years[0]["periods"][0])
    child = parent.user["children"][0]["id"]
    start = datetime.date.today() - datetime.timedelta(days=14)
    week = (start.isoformat(), (start + datetime.timedelta(days=28)).isoformat())
    views = {
        "journal": f"/api/v1/journal?class={a['class']['id']}&subject={a['subject']['id']}&period={period['id']}",
        "diary": f"/api/v1/students/{child}/diary?from={week[0]}&to={week[1]}",
        "marks": f"/api/v1/students/{child}/marks?period={period['id']}",
        "search": "/api/v1/library/items?q=%D0%B4%D1%80%D0%BE%D0%B1%D0%B8",
    }
    for name, url in views.items():
        caller = teacher if name in ("journal", "search") else parent
        assert caller.get(url).status == 200, name
    log = node.output()
    read = dict(re.findall(r"cache audit: (\S+) read: (.*)", log))
    # Each cached view was audited and read what it is known to read (the audit sees the tables).
    assert len(read) == len(views), log[-3000:]
    assert any("marks" in tables.split() and "lessons" in tables.split() for tables in read.values())
    assert any("library_items" in tables.split() for tables in read.values())
    unwatched = re.findall(r"cache audit: .*(?:reads|in:|runs more).*", log)
    assert unwatched == []

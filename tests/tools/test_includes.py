"""Tests of tools/includes.py, the check that folders form a DAG, on small fake trees."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("includes", ROOT / "tools" / "includes.py")
includes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(includes)

INC = [".", "node"]


def tree(tmp_path, files):
    """Writes files {path: [included names]} under tmp_path."""
    for rel, incs in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(f'#include "{i}"\n' for i in incs) + "#include <stdio.h>\n")
    return str(tmp_path)


# A DAG: lib <- node (core) <- node/school <- federation; main.c includes everything.
DAG = {
    "lib/minisign.h": [],
    "lib/bundle.c": ["lib/bundle.h", "lib/minisign.h"],
    "lib/bundle.h": ["minisign.h"],  # the including file's own folder first
    "node/db.h": ["lib/minisign.h"],
    "node/db.c": ["db.h"],
    "node/school/school.c": ["school/school.h", "db.h"],
    "node/school/school.h": ["db.h"],
    "federation/sync.c": ["school/school.h", "lib/bundle.h", "db.h"],
    "federation/sync.h": [],
    "node/main.c": ["federation/sync.h", "school/school.h", "db.h"],
}


def test_a_dag_passes(tmp_path):
    ok, out = includes.check(tree(tmp_path, DAG), INC, known={})
    assert ok, out
    assert out == []


def test_a_cycle_fails_naming_it_and_its_includes(tmp_path):
    files = dict(DAG, **{"node/db.c": ["db.h", "federation/sync.h"]})
    ok, out = includes.check(tree(tmp_path, files), INC, known={})
    assert not ok
    text = "\n".join(out)
    assert "error: folders include each other in a cycle:" in text
    assert "federation -> node -> federation" in text or "node -> federation -> node" in text
    assert "node/db.c: federation/sync.h" in text
    assert "federation/sync.c: node/db.h" in text


def test_a_longer_cycle_fails(tmp_path):
    files = dict(DAG, **{"node/db.h": ["lib/minisign.h", "federation/sync.h"]})
    ok, out = includes.check(tree(tmp_path, files), INC, known={})
    assert not ok
    assert any(" -> " in line and line.count(" -> ") >= 2 for line in out)


def test_includes_resolve_like_the_compiler(tmp_path):
    # "db.h" from node/school/ is node/school/db.h when that exists, not node/db.h: then the
    # school includes nothing of node/, and node/db.c including the school is no cycle.
    files = dict(DAG)
    files["node/school/db.h"] = []
    files["node/school/school.c"] = ["school.h", "db.h"]
    files["node/school/school.h"] = ["db.h"]
    files["node/db.c"] = ["db.h", "school/school.h"]
    ok, out = includes.check(tree(tmp_path, files), INC, known={})
    assert ok, out


def test_the_entry_may_include_anything(tmp_path):
    # main.c is its own folder: node/db.c including node/main.c's neighbours is no cycle.
    ok, out = includes.check(tree(tmp_path, DAG), INC, known={})
    assert ok, out
    assert includes.folder_of("node/main.c") == "node/main.c"
    assert includes.folder_of("node/node.c") == "node"


def test_lib_may_include_only_lib(tmp_path):
    files = dict(DAG, **{"lib/bundle.c": ["lib/bundle.h", "db.h"]})
    ok, out = includes.check(tree(tmp_path, files), INC, known={}, only={"lib": {"lib"}})
    assert not ok
    assert "error: lib/ may include only lib/:" in out
    assert "      lib/bundle.c: node/db.h" in out


def test_an_include_naming_no_file_fails(tmp_path):
    files = dict(DAG, **{"node/db.c": ["db.h", "nowhere.h"]})
    ok, out = includes.check(tree(tmp_path, files), INC, known={})
    assert not ok
    assert 'error: an include that names no file: node/db.c: "nowhere.h"' in out


CYCLE = dict(DAG, **{"node/db.c": ["db.h", "federation/sync.h"]})


def test_a_known_cycle_passes_and_is_printed(tmp_path):
    known = {("node", "federation"): "the core includes the federation"}
    ok, out = includes.check(tree(tmp_path, CYCLE), INC, known=known)
    assert ok, out
    assert "known, to be removed: node -> federation (the core includes the federation)" in out
    assert "  node -> federation -> node" in out


def test_a_new_cycle_beside_a_known_one_fails(tmp_path):
    files = dict(CYCLE, **{"node/school/school.h": ["db.h", "federation/sync.h"]})
    known = {("node", "federation"): "known"}
    ok, out = includes.check(tree(tmp_path, files), INC, known=known)
    assert not ok
    cycles = {"  node/school -> federation -> node/school", "  federation -> node/school -> federation"}
    assert cycles & set(out), out


def test_a_known_edge_that_is_gone_fails(tmp_path):
    known = {("node", "federation"): "known"}
    ok, out = includes.check(tree(tmp_path, DAG), INC, known=known)
    assert not ok
    assert "error: the known cycle edge node -> federation is gone: remove it from KNOWN" in out


def test_a_known_edge_that_closes_no_cycle_fails(tmp_path):
    # federation -> node/school exists, but nothing leads back from the school to federation.
    known = {("federation", "node/school"): "known"}
    ok, out = includes.check(tree(tmp_path, DAG), INC, known=known)
    assert not ok
    assert "error: federation -> node/school closes no cycle any more: remove it from KNOWN" in out


def test_the_command_line_exit_status(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(includes, "KNOWN", {})
    assert includes.main(["--root", tree(tmp_path / "dag", DAG), "-I.", "-Inode"]) == 0
    assert "includes: folders form a DAG" in capsys.readouterr().out
    assert includes.main(["--root", tree(tmp_path / "cycle", CYCLE), "-I.", "-Inode"]) == 1
    assert "includes: FAILED" in capsys.readouterr().out


@pytest.mark.parametrize("line", ['#include "a.h"', '  #  include "a.h"'])
def test_include_lines_are_found(line):
    assert includes.INCLUDE_RE.findall(line + "\n") == ["a.h"]

"""Offline packages: items downloaded as one signed, zstd-compressed file that `mesnode bundle`
checks and unpacks on another machine with the region's public key. The files arrive intact,
answer keys never travel, and a package that was changed, cut short or checked with another
key is refused whole, leaving nothing behind. Who may download what is tested too."""
import json
import os
import subprocess

import pytest
from urllib.parse import quote

from conftest import MESNODE

SECRET_ANSWER = "ответ-который-не-уезжает-42"


def run(*args, cwd=None):
    return subprocess.run([MESNODE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def approved_item(node, kind, title, files=(), questions=None):
    teacher, methodologist = node.login("teacher"), node.login("methodologist")
    iid = teacher.post("/api/v1/library/items", {"type": kind, "title": title, "grade_min": 7, "grade_max": 8}).json()["id"]
    for name, ctype, data in files:
        r = teacher.request("POST", f"/api/v1/library/items/{iid}/files?name={quote(name)}", raw=data,
                            headers={"Content-Type": ctype})
        assert r.status == 201, r
    if questions:
        assert teacher.request("PUT", f"/api/v1/library/items/{iid}/questions", body={"questions": questions}).status == 200
    assert teacher.post(f"/api/v1/library/items/{iid}/submit").status == 200
    assert methodologist.post(f"/api/v1/library/items/{iid}/review", {"verdict": "approve"}).status == 200
    return iid


@pytest.fixture(scope="module")
def pkg(node, tmp_path_factory):
    d = tmp_path_factory.mktemp("pkg")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 200
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>5 < 7 & "x"</text></svg>'
    a = approved_item(node, "textbook", "Алгебра 7: <b>учебник</b> & задачник",
                      [("Алгебра 7.pdf", "application/pdf", pdf), ("cover.svg", "image/svg+xml", svg)])
    b = approved_item(node, "test", "Степени: проверочная", questions=[
        {"kind": "text", "prompt": "2^3 = ?", "answer": [SECRET_ANSWER]},
        {"kind": "single", "prompt": "2^0 =", "options": ["0", "1"], "answer": [1]},
        {"kind": "matching", "prompt": "Степень и значение", "options": ["2^2", "2^4"], "answer": ["4", "16"]}])
    student = node.login("student")
    r = student.get(f"/api/v1/library/package?items={a},{b}")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/vnd.mes.bundle"
    assert "attachment" in r.headers["Content-Disposition"]
    (d / "lib.mesb").write_bytes(r.body)
    key = node.client().get("/federation/v1/key").json()
    assert key["public_key"].startswith("RW") and len(key["key_id"]) == 16
    (d / "region.pub").write_text(f"untrusted comment: region key\n{key['public_key']}\n")
    return {"dir": d, "a": a, "b": b, "pdf": pdf, "svg": svg, "key": key["public_key"]}


def test_package_verifies_and_opens(pkg):
    d = pkg["dir"]
    r = run("bundle", "verify", "--pubkey", "region.pub", "lib.mesb", cwd=d)
    assert r.returncode == 0, r.stderr
    assert "2 items, 2 blobs (2 carried)" in r.stdout
    r = run("bundle", "open", "--pubkey", pkg["key"], "--out", "opened", "lib.mesb", cwd=d)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((d / "opened" / "manifest.json").read_text())
    assert manifest["kind"] == "package" and manifest["format"] == "mes-library-1"
    items = {i["title"]: i for i in manifest["items"]}
    book = items["Алгебра 7: <b>учебник</b> & задачник"]
    assert (d / "opened" / book["uid"] / "Алгебра 7.pdf").read_bytes() == pkg["pdf"]
    assert (d / "opened" / book["uid"] / "cover.svg").read_bytes() == pkg["svg"]
    index = (d / "opened" / "index.html").read_text()
    assert "Алгебра 7: &lt;b&gt;учебник&lt;/b&gt; &amp; задачник" in index and "<b>учебник" not in index
    test = items["Степени: проверочная"]
    assert [q["prompt"] for q in test["questions"]] == ["2^3 = ?", "2^0 =", "Степень и значение"]
    # A matching question travels with its right-hand items shuffled, never its pairs.
    matching = test["questions"][2]
    assert matching["options"] == ["2^2", "2^4"] and sorted(matching["matches"]) == ["16", "4"]
    assert "answer" not in matching
    assert "<li>16</li>" in index and "<li>2^4</li>" in index


def test_answer_keys_never_travel(pkg):
    d = pkg["dir"]
    # Stock zstd reads the content (it skips the signature frame).
    plain = subprocess.run(["zstd", "-d", "-c", str(d / "lib.mesb")], capture_output=True, timeout=60)
    assert plain.returncode == 0 and b"MESBNDL1" in plain.stdout
    assert SECRET_ANSWER.encode() not in plain.stdout and b'"answer"' not in plain.stdout
    if not (d / "opened").exists():
        assert run("bundle", "open", "--pubkey", "region.pub", "--out", "opened", "lib.mesb", cwd=d).returncode == 0
    for root, _, files in os.walk(d / "opened"):
        for f in files:
            assert SECRET_ANSWER.encode() not in open(os.path.join(root, f), "rb").read(), f


def test_changed_truncated_or_wrongly_keyed_packages_are_refused(pkg):
    d = pkg["dir"]
    data = (d / "lib.mesb").read_bytes()
    assert run("keygen", "--secret", "o.key", "--public", "other.pub", cwd=d).returncode == 0
    r = run("bundle", "verify", "--pubkey", "other.pub", "lib.mesb", cwd=d)
    assert r.returncode == 1 and "expected key" in r.stderr
    cases = {"flipped-first.mesb": data[:5] + bytes([data[5] ^ 1]) + data[6:],
             "flipped-middle.mesb": data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x80]) + data[len(data) // 2 + 1:],
             "flipped-last.mesb": data[:-3] + bytes([data[-3] ^ 4]) + data[-2:],
             "truncated.mesb": data[:len(data) - 100],
             "longer.mesb": data + b"\0",
             "empty.mesb": b""}
    for name, bad in cases.items():
        (d / name).write_bytes(bad)
        r = run("bundle", "verify", "--pubkey", "region.pub", name, cwd=d)
        assert r.returncode == 1, name
        out = "out-" + name
        r = run("bundle", "open", "--pubkey", "region.pub", "--out", out, name, cwd=d)
        assert r.returncode == 1, name
        assert not any(p.startswith(out) for p in os.listdir(d)), name  # nothing left behind
    # An existing directory is never written into.
    (d / "taken").mkdir()
    assert run("bundle", "open", "--pubkey", "region.pub", "--out", "taken", "lib.mesb", cwd=d).returncode == 1
    assert os.listdir(d / "taken") == []
    assert run("bundle", "open", "--pubkey", "region.pub", "lib.mesb", cwd=d).returncode == 2


def test_who_may_download_what(node, pkg):
    teacher, student = node.login("teacher"), node.login("student")
    assert node.client().get(f"/api/v1/library/package?items={pkg['a']}").status == 401
    draft = teacher.post("/api/v1/library/items", {"type": "scenario", "title": "Черновик", "grade_min": 7, "grade_max": 7}).json()["id"]
    assert student.get(f"/api/v1/library/package?items={pkg['a']},{draft}").status == 404
    assert teacher.get(f"/api/v1/library/package?items={draft}").status == 200  # one's own draft
    assert student.get("/api/v1/library/package?items=999999").status == 404
    for bad in ("", "a", "1,,2", f"{pkg['a']},{pkg['a']}", "0", "1,", ",".join(str(i) for i in range(1, 102))):
        assert student.get(f"/api/v1/library/package?items={bad}").status == 400, bad
    assert student.get("/api/v1/library/package").status == 400

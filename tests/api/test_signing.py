"""Keys and signatures in minisign's formats, both ways with the stock minisign tool:
`mesnode keygen` and `mesnode sign` make what `minisign -V` accepts; `mesnode verify` accepts
what `minisign -S` signs (prehashed and legacy, plain and password-protected keys), and
refuses a changed file, a changed trusted comment, another key and malformed input."""
import os
import subprocess

import pytest

from conftest import MESNODE


def run(*args, cwd=None, stdin=None):
    return subprocess.run([MESNODE, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=120)


def minisign(*args, cwd=None, stdin=None):
    return subprocess.run(["minisign", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def d(tmp_path):
    (tmp_path / "lesson.txt").write_text("Квадратные уравнения: сценарий урока\n")
    return tmp_path


def test_our_keys_and_signatures_pass_stock_minisign(d):
    r = run("keygen", cwd=d)
    assert r.returncode == 0, r.stderr
    assert (d / "mesnode.key").stat().st_mode & 0o777 == 0o600
    pub = (d / "mesnode.pub").read_text().splitlines()
    assert pub[0].startswith("untrusted comment: minisign public key ") and pub[1] in r.stdout
    assert run("keygen", cwd=d).returncode == 1  # never replaces a key
    r = run("sign", "--key", "mesnode.key", "--trusted-comment", "channel=library version=3", "lesson.txt", cwd=d)
    assert r.returncode == 0, r.stderr
    r = minisign("-V", "-p", "mesnode.pub", "-m", "lesson.txt", cwd=d)
    assert r.returncode == 0, r.stderr
    assert "channel=library version=3" in r.stdout
    # Stock minisign signs with our secret key too: the secret key's format is minisign's.
    r = minisign("-S", "-s", "mesnode.key", "-m", "lesson.txt", "-x", "stock.minisig", cwd=d)
    assert r.returncode == 0, r.stderr
    r = minisign("-V", "-p", "mesnode.pub", "-m", "lesson.txt", "-x", "stock.minisig", cwd=d)
    assert r.returncode == 0, r.stderr


def test_stock_minisign_signatures_pass_ours(d):
    assert minisign("-G", "-W", "-p", "m.pub", "-s", "m.key", cwd=d).returncode == 0
    assert minisign("-S", "-s", "m.key", "-m", "lesson.txt", "-t", "from stock", cwd=d).returncode == 0
    r = run("verify", "--pubkey", "m.pub", "lesson.txt", cwd=d)
    assert r.returncode == 0 and "Trusted comment: from stock" in r.stdout, r.stderr
    # The key given as the string minisign prints, and a legacy (not prehashed) signature.
    key = (d / "m.pub").read_text().splitlines()[1]
    assert minisign("-S", "-l", "-s", "m.key", "-m", "lesson.txt", "-x", "legacy.minisig", cwd=d).returncode == 0
    r = run("verify", "--pubkey", key, "--sig", "legacy.minisig", "lesson.txt", cwd=d)
    assert r.returncode == 0, r.stderr


def test_password_protected_keys_both_ways(d):
    (d / "pw").write_text("a long horse battery\n")
    # A key minisign encrypted (password on its standard input, twice) signs with ours.
    r = minisign("-G", "-p", "m.pub", "-s", "m.key", cwd=d, stdin="a long horse battery\na long horse battery\n")
    assert r.returncode == 0, r.stderr
    r = run("sign", "--key", "m.key", "--password-file", "pw", "lesson.txt", cwd=d)
    assert r.returncode == 0, r.stderr
    assert minisign("-V", "-p", "m.pub", "-m", "lesson.txt", cwd=d).returncode == 0
    # Without the password, or with a wrong one: refused, nothing written.
    os.remove(d / "lesson.txt.minisig")
    r = run("sign", "--key", "m.key", "lesson.txt", cwd=d)
    assert r.returncode == 1 and "password" in r.stderr
    (d / "bad").write_text("wrong\n")
    r = run("sign", "--key", "m.key", "--password-file", "bad", "lesson.txt", cwd=d)
    assert r.returncode == 1 and "wrong password" in r.stderr
    assert not (d / "lesson.txt.minisig").exists()


def test_refusals(d):
    assert run("keygen", cwd=d).returncode == 0
    assert minisign("-G", "-W", "-p", "other.pub", "-s", "other.key", cwd=d).returncode == 0
    assert run("sign", "--key", "mesnode.key", "lesson.txt", cwd=d).returncode == 0
    assert run("verify", "--pubkey", "mesnode.pub", "lesson.txt", cwd=d).returncode == 0
    # Another key.
    r = run("verify", "--pubkey", "other.pub", "lesson.txt", cwd=d)
    assert r.returncode == 1 and "not with the expected key" in r.stderr
    # A changed trusted comment.
    sig = (d / "lesson.txt.minisig").read_text()
    lines = sig.splitlines()
    (d / "forged.minisig").write_text("\n".join(lines[:2] + [lines[2] + "x"] + lines[3:]) + "\n")
    r = run("verify", "--pubkey", "mesnode.pub", "--sig", "forged.minisig", "lesson.txt", cwd=d)
    assert r.returncode == 1 and "comment signature" in r.stderr
    # Malformed signature files and keys.
    (d / "junk.minisig").write_text("untrusted comment: x\nnot base64\n")
    assert run("verify", "--pubkey", "mesnode.pub", "--sig", "junk.minisig", "lesson.txt", cwd=d).returncode == 1
    assert run("verify", "--pubkey", "lesson.txt", "lesson.txt", cwd=d).returncode == 1
    # A changed file.
    with open(d / "lesson.txt", "a") as f:
        f.write("!")
    r = run("verify", "--pubkey", "mesnode.pub", "lesson.txt", cwd=d)
    assert r.returncode == 1 and "verification failed" in r.stderr
    assert minisign("-V", "-p", "mesnode.pub", "-m", "lesson.txt", cwd=d).returncode != 0
    # Usage errors.
    assert run("sign", "lesson.txt", cwd=d).returncode == 2
    assert run("verify", "lesson.txt", cwd=d).returncode == 2

"""The command line: help on every command, version, init and serve from a configuration file,
refusal of a bad configuration, and `make install` honouring PREFIX and DESTDIR."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import MESNODE, Client

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
COMMANDS = ["demo", "gen", "init", "serve", "keygen", "sign", "verify", "bundle", "publish", "enroll", "sync", "report", "rotate-key", "nginx-site", "routes", "version"]


def run(*args, stdin=None, timeout=60):
    return subprocess.run([MESNODE, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def test_help_lists_every_command():
    r = run("help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert re.search(rf"^\s+{c}\s", r.stdout, re.M), c


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    r = run(command, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: mesnode " + command)


def test_unknown_command_is_a_usage_error():
    r = run("frobnicate")
    assert r.returncode == 2
    assert "unknown command" in r.stderr


def test_version():
    r = run("version")
    assert r.returncode == 0
    assert re.match(r"mesnode \d+\.\d+\.\d+ ", r.stdout)


def write_config(d, port=0, extra=""):
    path = os.path.join(d, "node.yaml")
    with open(path, "w") as f:
        f.write(f"""region:
  name: "Тестовая область"
  code: "99"
http:
  listen: "127.0.0.1:{port}"
  threads: 8
  access_log: "off"
storage:
  data_dir: "{d}/data"
{extra}""")
    return path


def test_init_then_serve_then_login():
    with tempfile.TemporaryDirectory() as d:
        cfg = write_config(d)
        pw = os.path.join(d, "pw")
        with open(pw, "w") as f:
            f.write("correct horse battery\n")
        r = run("init", "--config", cfg, "--admin", "root", "--password-file", pw)
        assert r.returncode == 0, r.stderr
        assert "correct horse" not in r.stdout + r.stderr
        assert "root" in r.stdout
        # A second init refuses: the administrator exists.
        again = run("init", "--config", cfg, "--password-file", pw)
        assert again.returncode == 1
        assert "already has an administrator" in again.stderr
        log = open(os.path.join(d, "serve.log"), "w+")
        proc = subprocess.Popen([MESNODE, "serve", "--config", cfg], stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            port = None
            for _ in range(200):
                log.flush()
                m = re.search(r"on port (\d+)", open(log.name).read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            assert port, open(log.name).read()
            c = Client(f"http://127.0.0.1:{port}")
            bad = c.post("/api/v1/auth/login", {"login": "root", "password": "wrong password"})
            assert bad.status == 401
            ok = c.post("/api/v1/auth/login", {"login": "root", "password": "correct horse battery"})
            assert ok.status == 200, ok
            c.token = ok.json()["token"]
            me = c.get("/api/v1/me").json()
            assert me["roles"] == ["admin"]
            years = c.get("/api/v1/academic-years")
            if years.status == 200:  # the school API lists the year init created
                assert len(years.json()["items"]) == 1
        finally:
            proc.terminate()
            assert proc.wait(timeout=10) == 0


def test_init_refuses_a_short_password():
    with tempfile.TemporaryDirectory() as d:
        cfg = write_config(d)
        r = run("init", "--config", cfg, stdin="short\n")
        assert r.returncode == 1
        assert "at least 8" in r.stderr


def test_bad_config_names_file_line_and_key():
    with tempfile.TemporaryDirectory() as d:
        cfg = write_config(d, extra="auth:\n  session_ttl_hours: lots\n")
        r = run("serve", "--config", cfg)
        assert r.returncode == 1
        assert cfg in r.stderr
        assert re.search(r":\d+:", r.stderr)
        assert "session_ttl_hours" in r.stderr
        assert not os.path.exists(os.path.join(d, "data")), "nothing may be created"


def test_unknown_config_key_is_refused():
    with tempfile.TemporaryDirectory() as d:
        cfg = write_config(d, extra="htttp:\n  threads: 4\n")
        r = run("serve", "--config", cfg)
        assert r.returncode == 1
        assert "htttp" in r.stderr


def test_make_install_honours_prefix_and_destdir():
    with tempfile.TemporaryDirectory() as d:
        build = os.path.dirname(os.path.abspath(MESNODE))
        sanitize = "1" if build.endswith("/san") else "0"
        r = subprocess.run(["make", "-s", "-C", ROOT, "install", f"SANITIZE={sanitize}",
                            f"DESTDIR={d}", "PREFIX=/opt/mes"], capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stderr
        binary = os.path.join(d, "opt/mes/bin/mesnode")
        assert os.access(binary, os.X_OK)
        assert os.path.exists(os.path.join(d, "opt/mes/share/man/man1/mesnode.1"))
        assert os.path.exists(os.path.join(d, "opt/mes/share/mesnode/regions/dagestan.yaml"))
        assert subprocess.run([binary, "version"], capture_output=True).returncode == 0


def test_gen_small_region_serves(tmp_path):
    data = str(tmp_path / "small")
    r = run("gen", "--scale", "small", "--data", data, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "100%" in r.stderr  # the progress bar reached the end
    again = run("gen", "--scale", "small", "--data", data)
    assert again.returncode == 1 and "already holds" in again.stderr
    assert run("gen", "--scale", "galaxy", "--data", str(tmp_path / "x")).returncode == 1
    # A library added to the region: searchable at once.
    lib = run("gen", "--library", "400", "--data", data, timeout=300)
    assert lib.returncode == 0 and "added 400 library items" in lib.stdout, lib.stderr
    assert run("gen", "--library", "10", "--data", str(tmp_path / "empty")).returncode == 1
    assert run("gen", "--library", "-5", "--data", data).returncode == 2
    log = open(str(tmp_path / "serve.log"), "w+")
    proc = subprocess.Popen([MESNODE, "demo", "--port", "0", "--data", data], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(200):
            m = re.search(r"running: http://127\.0\.0\.1:(\d+)/", open(log.name).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        assert port
        c = Client(f"http://127.0.0.1:{port}")
        c.token = c.post("/api/v1/auth/login", {"login": "admin", "password": "demo"}).json()["token"]
        schools = c.get("/api/v1/institutions").json()["items"]
        assert len(schools) == 6
        big = max(schools, key=lambda s: s["students"])
        assert big["students"] >= 11 * 18  # every grade 1-11 has a class
        classes = c.get(f"/api/v1/institutions/{big['id']}/classes").json()["items"]
        cls = classes[-1]
        years = c.get("/api/v1/academic-years").json()["items"]
        p1 = years[0]["periods"][0]
        subj = c.get(f"/api/v1/classes/{cls['id']}").json()["assignments"][0]["subject"]["id"]
        grid = c.get(f"/api/v1/journal?class={cls['id']}&subject={subj}&period={p1['id']}").json()
        assert len(grid["lessons"]) > 5
        assert sum(len(s["marks"]) for s in grid["students"]) > len(grid["lessons"])
        assert c.get("/api/v1/library/items").json()["total"] >= 400
        found = c.get("/api/v1/library/items?q=%D1%83%D1%80%D0%B0%D0%B2%D0%BD%D0%B5%D0%BD%D0%B8%D0%B9").json()
        assert found["total"] > 0 and all("уравнен" in (i["title"] + i["description"]).lower() for i in found["items"])
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def tree(d):
    """Every entry under `d` (and `d`) with its owner, mode, size and time: what a command that
    writes nothing leaves unchanged."""
    out = {}
    for root, dirs, files in os.walk(d):
        for name in [""] + dirs + files:
            p = os.path.join(root, name) if name else root
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_uid, st.st_gid, st.st_mode, st.st_size, st.st_mtime_ns)
    return out


NOBODY = 65534  # the service user stand-in: Debian's nobody


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to give a scratch data directory to another "
                                              "user (CI runs the tests as root)")
def test_writing_commands_refuse_a_data_directory_of_another_user():
    """Run as root on a data directory its service user owns, every command that writes the
    data directory refuses with status 2, names the user to run it as, and writes nothing;
    run as that user, a command works and what it makes is that user's."""
    import pwd
    assert pwd.getpwuid(NOBODY).pw_name == "nobody"
    top = tempfile.mkdtemp(prefix="mesnode-owner-")
    try:
        os.chmod(top, 0o755)  # the service user reaches its directories through it
        region, hub = os.path.join(top, "region"), os.path.join(top, "hub")
        region_cfg, hub_cfg = os.path.join(top, "region.yaml"), os.path.join(top, "hub.yaml")
        with open(region_cfg, "w") as f:
            f.write(f'region:\n  name: "Регион"\n  code: "99"\nhttp:\n  listen: "127.0.0.1:0"\n'
                    f'  access_log: "off"\nstorage:\n  data_dir: "{region}"\n'
                    f'federation:\n  hub_url: "http://127.0.0.1:1"\n')
        with open(hub_cfg, "w") as f:
            f.write(f'mode: hub\nregion:\n  name: "Москва"\n  code: "77"\nstorage:\n  data_dir: "{hub}"\n')
        pw = os.path.join(top, "pw")
        with open(pw, "w") as f:
            f.write("correct horse battery\n")
        # Made by root, as an installer would, then given to the service user.
        assert run("init", "--config", region_cfg, "--password-file", pw).returncode == 0
        assert run("gen", "--scale", "demo", "--data", hub).returncode == 0
        assert run("publish", "--config", hub_cfg).returncode == 0
        v1 = os.path.join(top, "v1.mesb")
        assert run("bundle", "build", "--config", hub_cfg, "--out", v1).returncode == 0
        nxt, nxt_pub = os.path.join(top, "next.key"), os.path.join(top, "next.pub")
        assert run("keygen", "--secret", nxt, "--public", nxt_pub).returncode == 0
        for d in (region, hub):
            for root, dirs, files in os.walk(d):
                for name in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(name, NOBODY, NOBODY)
        before = {d: tree(d) for d in (region, hub)}
        out = os.path.join(top, "v2.mesb")
        commands = [
            (region, "init", ["init", "--config", region_cfg, "--password-file", pw]),
            (region, "serve", ["serve", "--config", region_cfg]),
            (hub, "demo", ["demo", "--port", "0", "--data", hub]),
            (hub, "gen", ["gen", "--scale", "demo", "--data", hub]),
            (region, "gen", ["gen", "--library", "5", "--data", region]),
            (hub, "publish", ["publish", "--config", hub_cfg]),
            (hub, "enroll", ["enroll", "--config", hub_cfg, "--region", "99", "--pubkey", nxt_pub]),
            (hub, "rotate-key", ["rotate-key", "--config", hub_cfg, "--new-key", nxt]),
            (hub, "bundle build", ["bundle", "build", "--config", hub_cfg, "--out", out]),
            (region, "bundle import", ["bundle", "import", "--config", region_cfg, v1]),
            (region, "sync", ["sync", "--config", region_cfg]),
            (region, "report", ["report", "--config", region_cfg, "--period", "2026-09"]),
            (region, "report", ["report", "--config", region_cfg, "--print"]),
            (hub, "keygen", ["keygen", "--secret", os.path.join(hub, "next.key"),
                             "--public", os.path.join(hub, "next.pub")]),
        ]
        for d, name, args in commands:
            r = run(*args, timeout=30)
            assert r.returncode == 2, (args, r.stdout, r.stderr)
            assert f"{d} belongs to user nobody, not to root" in r.stderr, (args, r.stderr)
            assert f"sudo -u nobody mesnode {name} ..." in r.stderr, (args, r.stderr)
            assert tree(d) == before[d], args
        assert not os.path.exists(out)
        # As the owner (a copy of the binary it may run), the command works; its files are its.
        binary = os.path.join(top, "mesnode")
        shutil.copy(MESNODE, binary)
        os.chmod(binary, 0o755)

        def as_nobody():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

        r = subprocess.run([binary, "publish", "--config", hub_cfg], capture_output=True, text=True,
                           timeout=60, preexec_fn=as_nobody)
        assert r.returncode == 0 and "published version 2" in r.stdout, r.stderr
        after = tree(hub)
        assert after != before[hub]
        assert {uid for uid, *_ in after.values()} == {NOBODY}, after
    finally:
        shutil.rmtree(top, ignore_errors=True)

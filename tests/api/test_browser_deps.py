"""The browser tests' npm packages (playwright-core, and axe-core for the sweep of every page)
run on Debian 12's own Node.js 18, come only from the public registry with their hashes
locked, and the browser tests fail (never skip) with a clear message when Node.js is older
than the lock needs, node_modules holds other versions, or either package is missing."""
import json
import os
import shutil
import subprocess

import pytest

BROWSER = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "browser"))
# Debian 12's nodejs: 18.13.0 at the release, 18.19 and 18.20 in its updates.
DEBIAN12_NODES = ("18.13.0", "18.19.0", "18.20.4")
# What the browser tests load from each package (deps.mjs, REQUIRED).
REQUIRED = {"playwright-core": "index.mjs", "axe-core": "axe.min.js"}


def load(name):
    with open(os.path.join(BROWSER, name), encoding="utf-8") as f:
        return json.load(f)


def locked():
    """(name, entry) of every package package-lock.json installs."""
    return [(path[len("node_modules/"):], pkg) for path, pkg in load("package-lock.json")["packages"].items()
            if path.startswith("node_modules/")]


def node_eval(script, cwd=BROWSER):
    return subprocess.run(["node", "--input-type=module", "-e", script], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def satisfies(version, node_range):
    out = node_eval(f"import {{ satisfies }} from './deps.mjs'; "
                    f"console.log(JSON.stringify(satisfies({json.dumps(version)}, {json.dumps(node_range)})))")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_engines_range_reading():
    assert satisfies("18.13.0", ">=18") is True
    assert satisfies("16.20.2", ">=18") is False
    assert satisfies("20.1.0", ">=18 <20") is False
    assert satisfies("16.0.0", "^14.17.0 || >=16.0.0") is None  # unreadable: fails, never passes
    assert satisfies("14.0.0", "<16 || >=18") is True


@pytest.mark.parametrize("version", DEBIAN12_NODES)
def test_every_locked_package_runs_on_debian12_node(version):
    packages = locked()
    assert {name for name, _ in packages} >= set(REQUIRED)
    for name, pkg in packages:
        node_range = pkg.get("engines", {}).get("node")
        if node_range:
            assert satisfies(version, node_range) is True, f"{name} {pkg['version']} needs Node.js {node_range}"


def test_lock_is_exact_hashed_and_from_the_public_registry():
    manifest = load("package.json")
    lock = load("package-lock.json")
    wanted = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]
    by_name = dict(locked())
    for name, version in wanted.items():
        assert version[0].isdigit(), f"{name} is not pinned to one version: {version}"
        assert by_name[name]["version"] == version
    for name, pkg in locked():
        assert pkg.get("integrity", "").startswith("sha512-"), name
        resolved = pkg.get("resolved")
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), resolved


def run_copy(tmp_path, lock, installed=None, lacking=()):
    """Runs a copy of the browser tests next to the given lock file, with a node_modules holding
    each package of `installed` (name: version) with the file the tests load from it, but for
    the packages in `lacking`; returns the finished process."""
    for name in ("run.mjs", "deps.mjs", "package.json"):
        shutil.copy(os.path.join(BROWSER, name), tmp_path / name)
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    for name, version in (installed or {}).items():
        pkg = tmp_path / "node_modules" / name
        pkg.mkdir(parents=True)
        (pkg / "package.json").write_text(json.dumps({"name": name, "version": version}))
        if name in REQUIRED and name not in lacking:
            (pkg / REQUIRED[name]).write_text("")
    env = dict(os.environ, MESNODE="/nonexistent/mesnode")
    return subprocess.run(["node", str(tmp_path / "run.mjs")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def as_locked(lock, **versions):
    """Every locked package at its locked version, but those given (name with _ for -)."""
    out = {name: pkg["version"] for name, pkg in
           ((p[len("node_modules/"):], pkg) for p, pkg in lock["packages"].items() if p.startswith("node_modules/"))}
    out.update({k.replace("_", "-"): v for k, v in versions.items()})
    return out


def test_node_older_than_the_lock_needs_fails_clearly(tmp_path):
    lock = load("package-lock.json")
    lock["packages"]["node_modules/playwright-core"]["engines"] = {"node": ">=99"}
    out = run_copy(tmp_path, lock)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    assert out.returncode == 1, out
    assert f"FAIL - browser-test dependencies: Node.js {node} is older than playwright-core" in out.stdout
    assert "(>=99)" in out.stdout
    assert out.stdout.rstrip().endswith("browser: 0 passed, 1 failed"), out.stdout


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_other_installed_version_fails_clearly(tmp_path, name):
    lock = load("package-lock.json")
    version = lock["packages"][f"node_modules/{name}"]["version"]
    out = run_copy(tmp_path, lock, installed=as_locked(lock, **{name.replace("-", "_"): "0.0.1"}))
    assert out.returncode == 1, out
    assert (f"{name} 0.0.1 is installed but package-lock.json locks {version}: run `make deps`"
            in out.stdout), out.stdout
    (tmp_path / "none").mkdir()
    others = {k: v for k, v in as_locked(lock).items() if k != name}
    out = run_copy(tmp_path / "none", lock, installed=others)
    assert out.returncode == 1 and f"{name} is not installed" in out.stdout, out.stdout
    (tmp_path / "empty").mkdir()
    out = run_copy(tmp_path / "empty", lock, installed=as_locked(lock), lacking=(name,))
    assert out.returncode == 1 and f"{name} {version} lacks {REQUIRED[name]}: run `make deps`" in out.stdout, out.stdout


def test_a_lock_without_axe_core_fails_clearly(tmp_path):
    lock = load("package-lock.json")
    del lock["packages"]["node_modules/axe-core"]
    out = run_copy(tmp_path, lock, installed=as_locked(lock))
    assert out.returncode == 1, out
    assert "package-lock.json does not lock axe-core, which the browser tests need" in out.stdout, out.stdout


def test_installed_as_locked_runs_past_the_check(tmp_path):
    """The fakes above pass the check when every version matches: the failures come from them."""
    lock = load("package-lock.json")
    out = run_copy(tmp_path, lock, installed=as_locked(lock))
    assert "browser-test dependencies" not in out.stdout, out.stdout

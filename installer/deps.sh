#!/usr/bin/env bash
# Installs the Debian packages the node and its tests need, when they are missing, and the
# browser-test npm packages. Safe to run repeatedly: it does nothing when all is present.
# Used by `make deps` (and so by `make run` and `make test`) and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The node's libraries, its build tools and what the tests use.
packages=(
  gcc libc6-dev make pkg-config clang-format
  libcivetweb-dev libsqlite3-dev libsodium-dev libzstd-dev libyaml-dev libjansson-dev
  libqrencode-dev libstemmer-dev libcurl4-openssl-dev libcmocka-dev libarchive-dev
  python3 python3-pytest python3-yaml python3-cryptography openssl zbar-tools minisign zstd
  chromium prometheus clang
  nginx  # tests/api/test_nginx.py runs it, from a temporary prefix, in front of the node
  tzdata # region.timezone: the node keeps the region's clock
)
# The benchmark's tools (make bench only).
[[ "${MES_BENCH:-0}" == 1 ]] && packages+=(nginx-light wrk sqlite3)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# Node.js and npm run the browser tests: Debian's own (Node.js 18) or any newer one already
# installed. tests/browser/deps.mjs fails the browser tests when it is older than the lock needs.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci installs exactly what package-lock.json locks, each package checked against the lock's
# hash; again whenever node_modules holds other versions (after the lock changed).
installed_as_locked() {
  node -e 'const fs = require("fs"), dir = process.argv[1];
    const lock = JSON.parse(fs.readFileSync(dir + "/package-lock.json", "utf8"));
    for (const [path, pkg] of Object.entries(lock.packages))
      if (path && JSON.parse(fs.readFileSync(dir + "/" + path + "/package.json", "utf8")).version !== pkg.version)
        process.exit(1);' tests/browser 2>/dev/null
}
if [[ -f tests/browser/package-lock.json ]] && ! installed_as_locked; then
  echo "installing browser-test packages (npm ci)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

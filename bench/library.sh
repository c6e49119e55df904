#!/usr/bin/env bash
# The library benchmark (`make bench`, after the journal one): ingest of a large synthetic
# library and search over it, against raw SQLite FTS5 on the very same texts and nginx serving
# a search answer's bytes, on this machine, in one run. Prints a Markdown report.
#
#   BENCH_LIBRARY=1000000  items to generate (once, into BENCH_LIBRARY_DATA)
#   BENCH_LIBRARY_DATA     default build/bench/library-N
#   BENCH_SECONDS=10       length of each load run; BENCH_CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${BENCH_LIBRARY:-1000000}
DATA=${BENCH_LIBRARY_DATA:-build/bench/library-$ITEMS}
SECONDS_EACH=${BENCH_SECONDS:-10}
CONN=${BENCH_CONNECTIONS:-32}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

MES_BENCH=1 bash installer/deps.sh
make -s all

# Ingest: the node's generator (rows, then the stemmed full-text index built once) against
# raw SQLite inserting the same texts into an FTS5 table with its own unicode61 tokenizer.
if [[ ! -f "$DATA/mes.db" ]]; then
  mkdir -p "$(dirname "$DATA")"
  start=$(date +%s.%N)
  build/mesnode gen --scale small --data "$DATA" --library "$ITEMS" >&2
  end=$(date +%s.%N)
  echo "$start $end" > "$DATA/ingest.time"
fi
read -r start end < "$DATA/ingest.time"
INGEST_S=$(/usr/bin/python3 -c "print(f'{$end - $start:.1f}')")
raw_start=$(date +%s.%N)
sqlite3 "$WORK/raw.db" > /dev/null <<SQL
PRAGMA journal_mode=WAL;
ATTACH '$DATA/mes.db' AS lib;
CREATE TABLE items AS SELECT id, title, description, authors, body FROM lib.library_items;
CREATE VIRTUAL TABLE fts USING fts5(title, description, authors, body, content='items', content_rowid='id');
INSERT INTO fts (fts) VALUES ('rebuild');
SQL
raw_end=$(date +%s.%N)
RAW_S=$(/usr/bin/python3 -c "print(f'{$raw_end - $raw_start:.1f}')")

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }

NODE_PORT=$(port)
cat > "$WORK/node.yaml" <<YAML
http:
  listen: "127.0.0.1:$NODE_PORT"
  threads: $CONN
  access_log: "off"
  cache_mb: 0
storage:
  data_dir: "$DATA"
YAML
build/mesnode serve --config "$WORK/node.yaml" 2>"$WORK/node.log" &
PIDS+=("$!")
wait_port "$NODE_PORT"
BASE="http://127.0.0.1:$NODE_PORT"
TOKEN=$(curl -s -X POST "$BASE/api/v1/auth/login" -d '{"login":"teacher","password":"demo"}' |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Twenty searches people make, in different word forms, one after another per connection.
printf '%s\n' "уравнения" "уравнений" "дроби" "дробей" "проценты" "треугольники" \
  "законы Ньютона" "строение клетки" "фотосинтез" "Смутное время" "Present Simple" \
  "природные зоны" "логарифмы" "причастный оборот" "оптика" "периодическая система" \
  "алгоритмы сортировки" "поэзия Пушкина" "векторы" "генетика" > "$WORK/words.txt"
cat > "$WORK/search.lua" <<LUA
local words = {}
for line in io.lines("$WORK/words.txt") do words[#words + 1] = line end
local n = 0
request = function()
  n = n + 1
  local q = words[(n % #words) + 1]
  q = q:gsub("([^%w])", function(c) return string.format("%%%02X", string.byte(c)) end)
  return wrk.format("GET", "/api/v1/library/items?q=" .. q)
end
LUA
curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/library/items?q=%D1%83%D1%80%D0%B0%D0%B2%D0%BD%D0%B5%D0%BD%D0%B8%D1%8F" > "$WORK/answer.json"

NGINX_PORT=$(port)
mkdir -p "$WORK/www" "$WORK/nginx"
cp "$WORK/answer.json" "$WORK/www/"
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; types { application/json json; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; keepalive_requests 100000; } }
NGX
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
wait_port "$NGINX_PORT"

run_wrk() {
  wrk -t"$((CONN < 2 ? CONN : 2))" -c"$CONN" -d"${SECONDS_EACH}s" --latency "$@" > "$WORK/wrk.out" 2>&1
  /usr/bin/python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"{rps:.0f} {ms('50%'):.2f} {ms('99%'):.2f} {errors.group(1) if errors else 0}")
PY
}
read -r s_rps s_p50 s_p99 s_err < <(run_wrk "$BASE/" -s "$WORK/search.lua" -H "Authorization: Bearer $TOKEN")
CONN_SAVED=$CONN
CONN=1
read -r s1_rps s1_p50 s1_p99 s1_err < <(run_wrk "$BASE/" -s "$WORK/search.lua" -H "Authorization: Bearer $TOKEN")
CONN=$CONN_SAVED
# Raw SQLite on the same texts, one connection, as one would query FTS5 directly: the count
# and the best twenty by bm25 with the same column weights, each word as typed (no stems).
read -r raw_qps raw_ms < <(/usr/bin/python3 - "$WORK/raw.db" "$WORK/words.txt" "$SECONDS_EACH" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
words = [w for w in open(sys.argv[2], encoding="utf-8").read().splitlines() if w]
queries = [" ".join(f'"{t}"' for t in w.split()) for w in words]
n, start = 0, time.monotonic()
while time.monotonic() - start < float(sys.argv[3]):
    q = queries[n % len(queries)]
    db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (q,)).fetchone()
    db.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 10.0, 4.0, 2.0, 1.0) LIMIT 20", (q,)).fetchall()
    n += 1
elapsed = time.monotonic() - start
print(f"{n / elapsed:.0f} {elapsed / n * 1000:.2f}")
PY
)
read -r x_rps _ _ _ < <(run_wrk "http://127.0.0.1:$NGINX_PORT/answer.json")

ratio() { /usr/bin/python3 -c "print(f'{$1 / $2 * 100:.0f} %')"; }
echo "## Library ($(date -u +%Y-%m-%d), $(nproc) cores, $ITEMS items, $CONN connections, ${SECONDS_EACH} s each)"
echo
echo "| ingest | seconds | items/s |"
echo "| --- | --- | --- |"
echo "| mesnode gen --library (rows, then the stemmed index) | $INGEST_S | $(/usr/bin/python3 -c "print(round($ITEMS / $INGEST_S))") |"
echo "| raw SQLite: the same texts into FTS5 (unicode61, no stems) | $RAW_S | $(/usr/bin/python3 -c "print(round($ITEMS / $RAW_S))") |"
echo
echo "| search | req/s | p50 ms | p99 ms | non-2xx | answer bytes | nginx req/s (same bytes) | node / nginx |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| 20 queries in turn, read cache off | $s_rps | $s_p50 | $s_p99 | $s_err | $(stat -c %s "$WORK/answer.json") | $x_rps | $(ratio "$s_rps" "$x_rps") |"
echo
echo "| one connection | queries/s | mean or p50 ms |"
echo "| --- | --- | --- |"
echo "| node: the 20 queries over HTTP (count, best 20, their items as JSON) | $s1_rps | $s1_p50 (p50) |"
echo "| raw SQLite FTS5, same texts: count and best 20 by bm25 (no stems, no items) | $raw_qps | $raw_ms (mean) |"
echo "| node / raw SQLite | $(ratio "$s1_rps" "$raw_qps") | |"
echo
echo "Database with the library: $(($(stat -c %s "$DATA/mes.db") / 1024 / 1024)) MiB."

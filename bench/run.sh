#!/usr/bin/env bash
# The journal benchmark (`make bench`): the diary week and the journal grid over HTTP against
# nginx serving the same bytes and CivetWeb answering them from memory, and durable mark
# writes over HTTP against raw SQLite single-row commits at the same durability. All on this
# machine, in one run, as ratios. Prints a Markdown report (docs/benchmarks.md keeps one).
#
#   BENCH_SCALE=dagestan (default) | medium | small   the region to generate, once
#   BENCH_DATA=DIR       where the region lives (default build/bench/SCALE)
#   BENCH_SECONDS=10     length of each load run
#   BENCH_CONNECTIONS=32 concurrent keep-alive connections (the node runs as many threads)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${BENCH_SCALE:-dagestan}
DATA=${BENCH_DATA:-build/bench/$SCALE}
SECONDS_EACH=${BENCH_SECONDS:-10}
CONN=${BENCH_CONNECTIONS:-32}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

MES_BENCH=1 bash installer/deps.sh
make -s all
cc -O2 -o "$WORK/civet_static" bench/civet_static.c -lcivetweb -lpthread
cc -O2 -o "$WORK/sqlite_commits" bench/sqlite_commits.c -lsqlite3

if [[ ! -f "$DATA/mes.db" ]]; then
  echo "generating the $SCALE region in $DATA (once)" >&2
  mkdir -p "$(dirname "$DATA")"
  /usr/bin/time -f "%e s, %M KiB peak" build/mesnode gen --scale "$SCALE" --data "$DATA" >&2
fi

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }

# Each run works on a copy, so the marks it writes never pile up in the generated region.
mkdir -p "$WORK/data"
cp --reflink=auto "$DATA/mes.db" "$WORK/data/mes.db"
[[ ! -f "$DATA/mes.blobs.db" ]] || cp --reflink=auto "$DATA/mes.blobs.db" "$WORK/data/mes.blobs.db"
# The copy on disk before the clock starts: written back during the run, it would hold up the
# fsyncs of the durable writes measured.
sync "$WORK/data/mes.db"
RUN_DATA="$WORK/data"

# Two nodes on the same database: the configured one (read cache on) and one with the read
# cache off, so the reads are measured both from the cache and built from SQLite each time.
start_node() { # NAME CACHE_MB -> sets NODE_PORT
  NODE_PORT=$(port)
  cat > "$WORK/$1.yaml" <<YAML
http:
  listen: "127.0.0.1:$NODE_PORT"
  threads: $CONN
  access_log: "off"
  cache_mb: $2
storage:
  data_dir: "$RUN_DATA"
  synchronous: full
YAML
  build/mesnode serve --config "$WORK/$1.yaml" 2>"$WORK/$1.log" &
  PIDS+=("$!")
  wait_port "$NODE_PORT"
}
start_node node 64
NODE_PID=${PIDS[-1]}
BASE="http://127.0.0.1:$NODE_PORT"
start_node uncached 0
UNCACHED_PID=${PIDS[-1]}
UNCACHED="http://127.0.0.1:$NODE_PORT"

token() { curl -s -X POST "$BASE/api/v1/auth/login" -d "{\"login\":\"$1\",\"password\":\"demo\"}" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
PARENT=$(token parent)
TEACHER=$(token teacher)
read -r STUDENT CLASS SUBJECT PERIOD LESSON FROM TO < <(/usr/bin/python3 - "$BASE" "$PARENT" "$TEACHER" <<'PY'
import datetime, json, sys, urllib.request
base, parent, teacher = sys.argv[1:]
def get(tok, path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + tok})
    return json.load(urllib.request.urlopen(req))
me = get(parent, "/api/v1/me")
student = next(c["id"] for c in me["children"] if c["class"]["name"] == "5А")
a = get(teacher, "/api/v1/me")["assignments"][0]
today = datetime.date.today().isoformat()
periods = get(teacher, "/api/v1/academic-years")["items"][0]["periods"]
period = next((p for p in periods if p["starts_on"] <= today <= p["ends_on"]), periods[0])
grid = get(teacher, f"/api/v1/journal?class={a['class']['id']}&subject={a['subject']['id']}&period={period['id']}")
lesson = next(l for l in grid["lessons"] if not l["cancelled"])
monday = datetime.date.fromisoformat(lesson["date"])
monday -= datetime.timedelta(days=monday.weekday())
print(student, a["class"]["id"], a["subject"]["id"], period["id"], lesson["id"],
      monday.isoformat(), (monday + datetime.timedelta(days=6)).isoformat())
PY
)
DIARY="/api/v1/students/$STUDENT/diary?from=$FROM&to=$TO"
JOURNAL="/api/v1/journal?class=$CLASS&subject=$SUBJECT&period=$PERIOD"
curl -s -H "Authorization: Bearer $PARENT" "$BASE$DIARY" > "$WORK/diary.json"
curl -s -H "Authorization: Bearer $TEACHER" "$BASE$JOURNAL" > "$WORK/journal.json"

# nginx and CivetWeb serving the same bytes.
NGINX_PORT=$(port)
mkdir -p "$WORK/www" "$WORK/nginx"
cp "$WORK/diary.json" "$WORK/journal.json" "$WORK/www/"
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { application/json json; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; keepalive_requests 100000; }
}
NGX
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
wait_port "$NGINX_PORT"

run_wrk() { # URL [extra wrk args] -> "rps p50 p99"
  local url=$1; shift
  wrk -t2 -c"$CONN" -d"${SECONDS_EACH}s" --latency "$@" "$url" > "$WORK/wrk.out" 2>&1
  /usr/bin/python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{rps:.0f} {ms('50%'):.2f} {ms('99%'):.2f} {errors.group(1) if errors else 0}")
PY
}

results=()
for what in diary journal; do
  if [[ $what == diary ]]; then path=$DIARY; tok=$PARENT; else path=$JOURNAL; tok=$TEACHER; fi
  CIVET_PORT=$(port)
  "$WORK/civet_static" "$WORK/$what.json" "$CIVET_PORT" "$CONN" &
  CIVET_PID=$!
  PIDS+=("$CIVET_PID")
  wait_port "$CIVET_PORT"
  read -r n_rps n_p50 n_p99 n_err < <(run_wrk "$BASE$path" -H "Authorization: Bearer $tok")
  read -r u_rps u_p50 u_p99 u_err < <(run_wrk "$UNCACHED$path" -H "Authorization: Bearer $tok")
  read -r x_rps x_p50 x_p99 _ < <(run_wrk "http://127.0.0.1:$NGINX_PORT/$what.json")
  read -r c_rps c_p50 c_p99 _ < <(run_wrk "http://127.0.0.1:$CIVET_PORT/")
  kill "$CIVET_PID"
  bytes=$(stat -c %s "$WORK/$what.json")
  results+=("$what $bytes $n_rps $n_p50 $n_p99 $n_err $x_rps $c_rps")
  results+=("$what,_cache_off $bytes $u_rps $u_p50 $u_p99 $u_err $x_rps $c_rps")
done
kill "$UNCACHED_PID"

# Durable writes: marks over HTTP (synchronous=full) against raw single-row FULL commits.
cat > "$WORK/mark.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"student_id": $STUDENT, "value": "5", "control_form": "oral"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TEACHER"
LUA
read -r w_rps w_p50 w_p99 w_err < <(run_wrk "$BASE/api/v1/lessons/$LESSON/marks" -s "$WORK/mark.lua")
RAW_FULL=$("$WORK/sqlite_commits" "$WORK/raw.db" full "$SECONDS_EACH")
RAW_NORMAL=$("$WORK/sqlite_commits" "$WORK/raw2.db" normal "$SECONDS_EACH")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$NODE_PID/status")
DB_BYTES=$(stat -c %s "$DATA/mes.db")

ratio() { /usr/bin/python3 -c "print(f'{$1 / $2 * 100:.0f} %')"; }
echo "## Results ($(date -u +%Y-%m-%d), $(nproc) cores, $SCALE region, $CONN connections, ${SECONDS_EACH} s each)"
echo
echo "| route | bytes | node req/s | p50 ms | p99 ms | non-2xx | nginx req/s | CivetWeb static req/s | node / nginx | node / CivetWeb |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for r in "${results[@]}"; do
  read -r what bytes n_rps n_p50 n_p99 n_err x_rps c_rps <<< "$r"
  echo "| ${what//_/ } | $bytes | $n_rps | $n_p50 | $n_p99 | $n_err | $x_rps | $c_rps | $(ratio "$n_rps" "$x_rps") | $(ratio "$n_rps" "$c_rps") |"
done
echo
echo "| durable writes | req/s | p50 ms | p99 ms | non-2xx |"
echo "| --- | --- | --- | --- | --- |"
echo "| POST mark over HTTP, synchronous=full | $w_rps | $w_p50 | $w_p99 | $w_err |"
echo "| raw SQLite single-row commits, FULL | $RAW_FULL | | | |"
echo "| raw SQLite single-row commits, NORMAL | $RAW_NORMAL | | | |"
echo
echo "Mark writes / raw FULL commits: $(ratio "$w_rps" "$RAW_FULL"). Node peak memory: $((HWM / 1024)) MiB. Database: $((DB_BYTES / 1024 / 1024)) MiB."

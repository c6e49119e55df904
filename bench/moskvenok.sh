#!/usr/bin/env bash
# «Москвёнок»'s morning rush (`make bench`): passage events posted over HTTP in batches by many
# turnstiles at once, each acknowledged only after its commit with synchronous=full (durable
# before it is answered), and buffet sales answered while the rush runs. `mesnode terminal
# rush` is the load: one keep-alive connection per thread, every acknowledgement timed on the
# client with CLOCK_MONOTONIC. Three runs on a copy of the generated region:
#   1. one school: its students enter and leave, BENCH_SCHOOL_EVENTS events (its one
#      turnstile token shared by 8 connections: a school's turnstiles behind one device), each
#      connection sending as soon as it is answered: what the node absorbs at most;
#   2. the region: every school at once, BENCH_EVENTS events, the same way;
#   3. the region at the target's pace: BENCH_EVENTS events sent at BENCH_RATE a second
#      whatever the answers' pace, with buffet sales at BENCH_SALES_RATE a second at one
#      school during it: the acknowledgements' and the decisions' latency at that load.
# The machine's own limit in the same run: raw SQLite inserting rows in commits of BATCH rows at
# the same durability (bench/sqlite_commits.c), the most any node could store. And the writer
# thread's CPU time per event, measured in-process (bench/passage_cost.c).
# Issue 17's targets: >= 10,000 events/s with the acknowledgement's p99 < 50 ms; >= 2,000
# sale decisions/s with p99 < 20 ms. Prints a Markdown report (docs/benchmarks.md,
# "«Москвёнок»: the morning rush", keeps one).
#
#   BENCH_SCALE=dagestan (default) | medium | small   the region to generate, once
#   BENCH_DATA=DIR           where it lives (default build/bench/SCALE, shared with run.sh;
#                            generated anew when it predates the cards gen makes)
#   BENCH_SCHOOL_EVENTS=20000  passage events of the one school's run
#   BENCH_EVENTS=200000      passage events of the region's run
#   BENCH_CONNECTIONS=32     its connections (the node runs as many threads, and more)
#   BENCH_BATCH=100          events per request
#   BENCH_RATE=10000         passage events a second of the third run
#   BENCH_SALES_RATE=2000    buffet sales a second during the third run
#   BENCH_SALES_CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${BENCH_SCALE:-dagestan}
DATA=${BENCH_DATA:-build/bench/$SCALE}
SCHOOL_EVENTS=${BENCH_SCHOOL_EVENTS:-20000}
EVENTS=${BENCH_EVENTS:-200000}
CONN=${BENCH_CONNECTIONS:-32}
BATCH=${BENCH_BATCH:-100}
RATE=${BENCH_SALES_RATE:-2000}
SALES_CONN=${BENCH_SALES_CONNECTIONS:-32}
PACE=${BENCH_RATE:-10000}
WORK=$(mktemp -d)
NODE_PID=
cleanup() { [[ -z $NODE_PID ]] || kill "$NODE_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

make -s all build/bench/passage_cost
cc -O2 -o "$WORK/sqlite_commits" bench/sqlite_commits.c -lsqlite3

# A region generated before gen made cards and terminals has no tokens file: made anew.
if [[ ! -f "$DATA/mes.db" || ! -f "$DATA/moskvenok-tokens.tsv" ]]; then
  echo "generating the $SCALE region in $DATA (once)" >&2
  rm -rf "$DATA"
  mkdir -p "$(dirname "$DATA")"
  /usr/bin/time -f "%e s, %M KiB peak" build/mesnode gen --scale "$SCALE" --data "$DATA" >&2
fi
TOKENS="$DATA/moskvenok-tokens.tsv"
CARDS="$DATA/moskvenok-cards.tsv"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; return 1; }

# The run works on a copy, so the events it writes never pile up in the generated region.
mkdir -p "$WORK/data"
cp --reflink=auto "$DATA/mes.db" "$WORK/data/mes.db"
[[ ! -f "$DATA/mes.blobs.db" ]] || cp --reflink=auto "$DATA/mes.blobs.db" "$WORK/data/mes.blobs.db"
# The copy's gigabytes on disk before the clock starts: written back during the run, they would
# hold up every fsync the node waits for.
sync "$WORK/data/mes.db"
PORT=$(port)
cat > "$WORK/node.yaml" <<YAML
http:
  listen: "127.0.0.1:$PORT"
  threads: $((CONN + SALES_CONN + 8))
  access_log: "off"
storage:
  data_dir: "$WORK/data"
  synchronous: full
YAML
build/mesnode serve --config "$WORK/node.yaml" 2>"$WORK/node.log" &
NODE_PID=$!
wait_port "$PORT"
BASE="http://127.0.0.1:$PORT"

# The first school's passage token and cards; the sales at the second school, of its
# cheapest item (tea), so that the balances last the run.
read -r SCHOOL1 SCHOOL1_CARDS MEALS_TOKEN ITEM < <(/usr/bin/python3 - "$TOKENS" "$CARDS" "$WORK/data/mes.db" <<'PY'
import collections, sqlite3, sys
tokens = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if not l.startswith("#")]
cards = collections.Counter(l.split("\t")[1] for l in open(sys.argv[2]).read().splitlines() if not l.startswith("#"))
first = next(s for s, scope, _ in tokens if scope == "passage")
buffets = [(s, t) for s, scope, t in tokens if scope == "meals"]
school, meals = buffets[1 if len(buffets) > 1 else 0]
db = sqlite3.connect(f"file:{sys.argv[3]}?mode=ro", uri=True)
item = db.execute("SELECT id FROM buffet_items WHERE institution_id = ? ORDER BY price LIMIT 1", (school,)).fetchone()[0]
print(first, cards[first], meals, item)
PY
)
SCHOOLS=$(grep -c $'\tpassage\t' "$TOKENS")

# rush ARGS... -> "events events_per_s p50 p99 failed sales sales_per_s sale_p50 sale_p99 sales_failed"
rush() {
  build/mesnode terminal rush --url "$BASE" --tokens "$TOKENS" --cards "$CARDS" "$@" > "$WORK/rush.out" 2>&1 || true
  cat "$WORK/rush.out" >&2
  /usr/bin/python3 - "$WORK/rush.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"^result (.*)$", t, re.M)
v = dict(re.findall(r"(\w+)=([\d.]+)", m.group(1))) if m else {}
keys = ["events", "events_per_s", "ack_p50_ms", "ack_p99_ms", "failed", "sales", "sales_per_s",
        "sale_p50_ms", "sale_p99_ms", "sales_failed"]
print(" ".join(v.get(k, "-") for k in keys))
PY
}

read -r o_ev o_eps o_p50 o_p99 o_fail _ < <(rush --schools 1 --events "$SCHOOL_EVENTS" --connections 8 --batch "$BATCH")
# The first school's terminal numbered 1..N above: the region's runs number on from there.
read -r r_ev r_eps r_p50 r_p99 r_fail _ < <(rush --events "$EVENTS" --connections "$CONN" \
  --batch "$BATCH" --seq-from 1000001)
read -r p_ev p_eps p_p50 p_p99 p_fail s_n s_ps s_p50 s_p99 s_fail < <(rush --events "$EVENTS" \
  --connections "$CONN" --batch "$BATCH" --seq-from 2000001 --rate "$PACE" \
  --sales-token "$MEALS_TOKEN" --sales-item "$ITEM" --sales-rate "$RATE" \
  --sales-connections "$SALES_CONN")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$NODE_PID/status")
kill "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
NODE_PID=
RAW=$("$WORK/sqlite_commits" "$WORK/raw.db" full 10 "$BATCH")
# The writer thread's own CPU per event (bench/passage_cost.c: passage_apply in batches of 200,
# each rolled back), whatever else the machine runs.
read -r COST_PAST COST_TODAY < <(build/bench/passage_cost "$WORK/data/mes.db" 20000 200 64 | head -1 | tr -dc '0-9. \n' | sed 's/^ *//')
ratio() { /usr/bin/python3 -c "import sys; a, b = sys.argv[1:]; print(f'{100 * float(a) / float(b):.1f} %' if a != '-' and float(b) else '-')" "$1" "$2"; }

echo "## «Москвёнок»: the morning rush ($(date -u +%Y-%m-%d), $(nproc) cores, $SCALE region, synchronous=full)"
echo
echo "| run | events | connections | sent | events/s | ack p50 ms | ack p99 ms | failed batches |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| one school ($SCHOOL1_CARDS students), in and out | $o_ev | 8 | when answered | $o_eps | $o_p50 | $o_p99 | $o_fail |"
echo "| the region, $SCHOOLS schools at once, batches of $BATCH | $r_ev | $CONN | when answered | $r_eps | $r_p50 | $r_p99 | $r_fail |"
echo "| the region, with the buffet's sales below | $p_ev | $CONN | $PACE/s | $p_eps | $p_p50 | $p_p99 | $p_fail |"
echo
echo "| buffet sales during the last run | decisions | asked /s | decisions/s | p50 ms | p99 ms | failed |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
echo "| one school's terminal, $SALES_CONN connections | $s_n | $RATE | $s_ps | $s_p50 | $s_p99 | $s_fail |"
echo
echo "Raw SQLite, rows in commits of $BATCH at synchronous=full (the machine's limit): $RAW rows/s; the region's events/s are $(ratio "$r_eps" "$RAW") of it, the one school's $(ratio "$o_eps" "$RAW")."
echo
echo "The writer's CPU per event, passage_apply alone: $COST_PAST µs of an earlier day, $COST_TODAY µs of today (the family told)."
echo
echo "Targets (issue 17): >= 10,000 events/s with p99 < 50 ms; >= 2,000 decisions/s with p99 < 20 ms. Node peak memory: $((HWM / 1024)) MiB."

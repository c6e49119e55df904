#!/usr/bin/env bash
# The roster import benchmark (`make bench`, after the others): a generated region exported as
# OneRoster 1.1 CSV, imported into an empty node with `mesnode import --format oneroster`,
# against raw SQLite inserting the same rows into the node's schema (bench/roster_raw.c:
# prepared statements, one transaction). Both timed with /usr/bin/time -v (wall clock, peak
# memory). Prints a Markdown report (docs/benchmarks.md, "Roster import", keeps one).
#
#   BENCH_SCALE=medium (default) | dagestan | small   the region to generate, once
#   BENCH_DATA=DIR       where the region lives (default build/bench/SCALE, shared with run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${BENCH_SCALE:-medium}
DATA=${BENCH_DATA:-build/bench/$SCALE}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

make -s all build/bench/roster_raw

if [[ ! -f "$DATA/mes.db" ]]; then
  echo "generating the $SCALE region in $DATA (once)" >&2
  mkdir -p "$(dirname "$DATA")"
  /usr/bin/time -f "%e s, %M KiB peak" build/mesnode gen --scale "$SCALE" --data "$DATA" >&2
fi

# field NAME FILE: a value of /usr/bin/time -v's report.
field() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
# seconds of "h:mm:ss" or "m:ss.ss"
seconds() { /usr/bin/python3 -c "import sys; p=[float(x) for x in sys.argv[1].split(':')]; print(f'{sum(v * 60 ** i for i, v in enumerate(reversed(p))):.2f}')" "$1"; }

# The export: the files both sides read.
SET="$WORK/oneroster"
/usr/bin/time -v -o "$WORK/export.time" build/mesnode gen --data "$DATA" --export-oneroster "$SET" > /dev/null 2>&1
EXPORT_S=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$WORK/export.time")")
SET_BYTES=$(du -sb "$SET" | cut -f1)
USERS=$(/usr/bin/python3 -c "import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=''))))" "$SET/users.csv")

# Raw SQLite: the machine's limit for the same rows.
/usr/bin/time -v -o "$WORK/raw.time" build/bench/roster_raw "$WORK/raw.db" "$SET" > "$WORK/raw.out"
read -r _ ROWS _ _ _ _ < "$WORK/raw.out"
RAW_S=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$WORK/raw.time")")
RAW_KB=$(field 'Maximum resident set size (kbytes)' "$WORK/raw.time")

# The node: an empty data directory holding nothing but its region's configuration.
mkdir -p "$WORK/node"
cat > "$WORK/node.yaml" <<YAML
region:
  name: "Республика Дагестан"
  code: "05"
storage:
  data_dir: "$WORK/node"
YAML
NODE=skipped
if build/mesnode import --help 2>/dev/null | grep -q "^usage: mesnode import"; then
  if /usr/bin/time -v -o "$WORK/node.time" build/mesnode import --config "$WORK/node.yaml" \
      --format oneroster "$SET" > "$WORK/node.out" 2>&1; then
    NODE_S=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$WORK/node.time")")
    NODE_KB=$(field 'Maximum resident set size (kbytes)' "$WORK/node.time")
    NODE=ok
  else
    NODE=failed
    tail -5 "$WORK/node.out" >&2
  fi
fi

rate() { /usr/bin/python3 -c "print(f'{$1 / $2:.0f}')"; }
echo "## Roster import ($(date -u +%Y-%m-%d), $(nproc) cores, $SCALE region)"
echo
echo "OneRoster 1.1 set: $ROWS rows ($USERS users), $((SET_BYTES / 1024 / 1024)) MiB, exported in $EXPORT_S s."
echo
echo "| import | wall s | rows/s | peak MiB |"
echo "| --- | --- | --- | --- |"
if [[ $NODE == ok ]]; then
  echo "| mesnode import --format oneroster | $NODE_S | $(rate "$ROWS" "$NODE_S") | $((NODE_KB / 1024)) |"
else
  echo "| mesnode import --format oneroster | $NODE | | |"
fi
echo "| raw SQLite (bench/roster_raw.c) | $RAW_S | $(rate "$ROWS" "$RAW_S") | $((RAW_KB / 1024)) |"
echo
if [[ $NODE == ok ]]; then
  echo "Node / raw: $(/usr/bin/python3 -c "print(f'{$RAW_S / $NODE_S * 100:.0f} %')") (target: at least 50 %)."
else
  echo "Node / raw: not measured (the node's import $NODE)."
fi

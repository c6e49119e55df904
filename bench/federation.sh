#!/usr/bin/env bash
# The federation benchmark (`make bench`, after the library one): the hub's library channel
# of N items with B bytes of files, published, built as a bundle, verified and imported at a
# region, against `tar | zstd` and `minisign` on the very same files in the same run; then an
# update that adds 1 % of the items, and the bytes its incremental bundle moves. Prints a
# Markdown report.
#
#   BENCH_CHANNEL_ITEMS=100000   items
#   BENCH_CHANNEL_BYTES=1000000000  bytes of their files, one file each
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${BENCH_CHANNEL_ITEMS:-100000}
BYTES=${BENCH_CHANNEL_BYTES:-1000000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
M=build/mesnode

MES_BENCH=1 bash installer/deps.sh
make -s all

# Seconds a command takes (wall clock), its output discarded.
took() {
  local s e
  s=$(date +%s.%N)
  "$@" > /dev/null
  e=$(date +%s.%N)
  /usr/bin/python3 -c "print(f'{$e - $s:.2f}')"
}
ratio() { /usr/bin/python3 -c "print(f'{$1 / $2:.2f}')"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
spread() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[1] "–" a[NR]}'; }
RUNS=${BENCH_RUNS:-5}
# series PREPARE CMD...: runs "PREPARE; CMD" for each CMD in turn, RUNS rounds (A B A B ...: a
# drifting machine touches all alike, and each starts after `sync` with no writeback pending),
# and sets T1, T2, ... to the medians of their seconds (S1, S2, ... to min–max), and P2, P3, ...
# to the medians of the first command's time over each other's, round by round (a ratio taken
# within a round is not moved by the machine's drift between rounds, which the ratio of two
# medians is). PREPARE is not timed.
series() {
  local prepare=$1
  shift
  local n=$# t=() k
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 1; k <= n; k++)); do
      eval "$prepare"
      sync
      t[k * RUNS + r]=$(took bash -c "${!k}")
    done
  done
  for ((k = 1; k <= n; k++)); do
    local v=() p=()
    for ((r = 0; r < RUNS; r++)); do
      v+=("${t[k * RUNS + r]}")
      p+=("$(ratio "${t[RUNS + r]}" "${t[k * RUNS + r]}")")
    done
    printf -v "T$k" '%s' "$(median "${v[@]}")"
    printf -v "S$k" '%s' "$(spread "${v[@]}")"
    printf -v "P$k" '%s' "$(median "${p[@]}")"
  done
}

$M gen --scale small --data "$WORK/hub" --library "$ITEMS" --library-bytes "$BYTES" >&2
printf 'mode: hub\nregion:\n  name: "Москва"\n  code: "77"\nstorage:\n  data_dir: "%s"\n' \
  "$WORK/hub" > "$WORK/hub.yaml"
T_PUBLISH=$(took $M publish --config "$WORK/hub.yaml")

# The same files as a directory, for the standard tools.
mkdir "$WORK/files"
sqlite3 "$WORK/hub/mes.db" "ATTACH DATABASE '$WORK/hub/mes.blobs.db' AS store;
  SELECT count(writefile('$WORK/files/' || lower(hex(b.hash)), s.data)) FROM blobs b
  JOIN store.bodies s ON s.id = b.id WHERE b.zstd = 0" > /dev/null
minisign -G -W -p "$WORK/ref.pub" -s "$WORK/ref.key" > /dev/null

# Build: the bundle from the hub's database / tar | zstd -3, then minisign -S. The node fsyncs
# the bundle before renaming it into place; the tools' output is synced too (`sync FILE`), so
# that both sides pay for the same gigabyte reaching the disk, and also timed without.
series "rm -f '$WORK/v1.mesb' '$WORK/ref.tar.zst' '$WORK/ref.tar.zst.minisig'" \
  "$M bundle build --config '$WORK/hub.yaml' --out '$WORK/v1.mesb'" \
  "tar -C '$WORK/files' -cf - . | zstd -3 -q -o '$WORK/ref.tar.zst' && minisign -S -s '$WORK/ref.key' -m '$WORK/ref.tar.zst' && sync '$WORK/ref.tar.zst' '$WORK/ref.tar.zst.minisig'" \
  "tar -C '$WORK/files' -cf - . | zstd -3 -q -o '$WORK/ref.tar.zst' && minisign -S -s '$WORK/ref.key' -m '$WORK/ref.tar.zst'"
T_BUILD=$T1 REF_BUILD=$T2 S_BUILD=$S1 S_REF_BUILD=$S2 R_BUILD=$P2
REF_BUILD_NS=$T3 S_REF_BUILD_NS=$S3 R_BUILD_NS=$P3
$M bundle build --config "$WORK/hub.yaml" --out "$WORK/v1.mesb" > /dev/null # the last round removed it
FULL=$(stat -c %s "$WORK/v1.mesb")

# Verify: every signature and blob hash / minisign -V, then zstd -d | tar -t.
series ":" "$M bundle verify --pubkey '$WORK/hub/node.pub' '$WORK/v1.mesb'" \
  "minisign -Vm '$WORK/ref.tar.zst' -p '$WORK/ref.pub' -q && zstd -dc '$WORK/ref.tar.zst' | tar -tf -"
T_VERIFY=$T1 T_REF_V=$T2 S_VERIFY=$S1 S_REF_V=$S2 R_VERIFY=$P2

# Import: a fresh region takes it into its database, one transaction, every blob checked /
# minisign -V, then zstd -d | tar -x; and raw SQLite storing the same files in one durable
# transaction, the machine's own limit for that part: with a rollback journal, as the node's
# blob store (mes.blobs.db), and in WAL mode, as the node's database (synchronous=FULL both).
printf 'region:\n  name: "Регион"\n  code: "05"\nstorage:\n  data_dir: "%s"\nfederation:\n  hub_public_key: "%s"\n' \
  "$WORK/region" "$(tail -1 "$WORK/hub/node.pub")" > "$WORK/region.yaml"
echo "bench-password" > "$WORK/pw"
$M init --config "$WORK/region.yaml" --password-file "$WORK/pw" > /dev/null 2>&1
cp -a "$WORK/region" "$WORK/region.new"
fresh="rm -rf '$WORK/region' '$WORK/out' '$WORK/raw.db' '$WORK/raw.db-wal' '$WORK/raw.db-journal'; cp -a '$WORK/region.new' '$WORK/region'; mkdir '$WORK/out'"
RAW_SQL="CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash TEXT UNIQUE, data BLOB); BEGIN; INSERT INTO blobs (hash, data) SELECT name, data FROM fsdir('$WORK/files') WHERE data IS NOT NULL; COMMIT;"
series "$fresh" "$M bundle import --config '$WORK/region.yaml' '$WORK/v1.mesb'" \
  "minisign -Vm '$WORK/ref.tar.zst' -p '$WORK/ref.pub' -q && zstd -dc '$WORK/ref.tar.zst' | tar -xf - -C '$WORK/out'" \
  "sqlite3 '$WORK/raw.db' \"PRAGMA journal_mode=TRUNCATE; PRAGMA synchronous=FULL; $RAW_SQL\"" \
  "sqlite3 '$WORK/raw.db' \"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; $RAW_SQL\""
T_IMPORT=$T1 T_REF_I=$T2 T_RAW=$T3 T_RAW_WAL=$T4 S_IMPORT=$S1 S_REF_I=$S2 S_RAW=$S3 S_RAW_WAL=$S4
R_IMPORT=$P2 R_RAW=$P3 R_RAW_WAL=$P4
eval "$fresh"
$M bundle import --config "$WORK/region.yaml" "$WORK/v1.mesb" > /dev/null

# An update: 1 % more items with their files; the incremental bundle moves only those.
$M gen --data "$WORK/hub" --library $((ITEMS / 100)) --library-bytes $((BYTES / 100)) >&2
$M publish --config "$WORK/hub.yaml" > /dev/null
$M bundle build --config "$WORK/hub.yaml" --out "$WORK/v2-from-1.mesb" --from 1 > /dev/null
$M bundle build --config "$WORK/hub.yaml" --out "$WORK/v2.mesb" > /dev/null
INC=$(stat -c %s "$WORK/v2-from-1.mesb")
FULL2=$(stat -c %s "$WORK/v2.mesb")
T_INC=$(took $M bundle import --config "$WORK/region.yaml" "$WORK/v2-from-1.mesb")

echo "## Federation ($(date -u +%Y-%m-%d), $(nproc) cores, $ITEMS items, $BYTES bytes of files; $RUNS rounds, the commands in turn)"
echo
echo "Seconds are medians (min–max); the ratio is the median of the ratios within each round."
echo
echo "| step | mesnode s | tools s (same files) | mesnode / tools |"
echo "| --- | --- | --- | --- |"
echo "| publish (every item's document and the signed manifest) | $T_PUBLISH | | |"
echo "| build the bundle / tar \\| zstd -3 + minisign -S, synced | $T_BUILD ($S_BUILD) | $REF_BUILD ($S_REF_BUILD) | $R_BUILD |"
echo "| build the bundle / the same tools, their output not synced | $T_BUILD | $REF_BUILD_NS ($S_REF_BUILD_NS) | $R_BUILD_NS |"
echo "| verify the bundle / minisign -V + zstd -d \\| tar -t | $T_VERIFY ($S_VERIFY) | $T_REF_V ($S_REF_V) | $R_VERIFY |"
echo "| import at a region / minisign -V + zstd -d \\| tar -x | $T_IMPORT ($S_IMPORT) | $T_REF_I ($S_REF_I) | $R_IMPORT |"
echo "| import at a region / raw SQLite storing the same files (one transaction, rollback journal) | $T_IMPORT | $T_RAW ($S_RAW) | $R_RAW |"
echo "| import at a region / raw SQLite storing the same files (one transaction, WAL) | $T_IMPORT | $T_RAW_WAL ($S_RAW_WAL) | $R_RAW_WAL |"
echo
echo "| update adding 1 % of the items | bytes | of the full bundle |"
echo "| --- | --- | --- |"
echo "| full bundle of v2 | $FULL2 | 100 % |"
echo "| incremental bundle v1 → v2 | $INC | $(/usr/bin/python3 -c "print(f'{$INC / $FULL2 * 100:.2f} %')") |"
echo "| import of the incremental bundle | ${T_INC} s | |"
echo
echo "Full bundle of v1: $FULL bytes; tar.zst of the same files: $(stat -c %s "$WORK/ref.tar.zst") bytes."

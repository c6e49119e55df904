#!/usr/bin/env bash
# Runs every cmocka unit-test binary given, from the repository root, and sums the results
# into one closing line. Exits non-zero when any test fails or a binary crashes.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 status=0
for bin in "$@"; do
  out=$("$bin" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [[ $rc -ne 0 ]]; then
    status=1
    [[ -n "$f" ]] || { echo "$bin exited with $rc"; failed=$((failed + 1)); }
  fi
done
echo "unit: $passed passed, $failed failed"
exit $status

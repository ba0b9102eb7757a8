#!/bin/sh
# tests/run.sh — the whole suite: CppUnit tests, then every integration test
# (tests/integration/test_*.sh). The unit binary and each integration test run
# with a time limit (running past it is a failure); an integration test's exit
# 0 passes, 77 skips (with a reason on stdout), anything else fails.
# Ends with one line "N passed, N failed, N skipped".
#
# Environment: SER_BIN (ser binary), SER_UNIT (unit-test binary), SER_TLS (0/1),
# SER_UNIT_TIMEOUT (seconds for the whole unit binary, default 300),
# SER_TEST_TIMEOUT (seconds for each integration test, default 300).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${SER_BIN:=$top/ser}"
export SER_BIN SER_TLS="${SER_TLS:-0}" SER_TOP="$top"
limit=${SER_TEST_TIMEOUT:-300}
unit_limit=${SER_UNIT_TIMEOUT:-300}

passed=0 failed=0 skipped=0 failures=""

# In a sanitizer build every report (of any process, children included) goes
# to a file here; one report fails the run, whatever the tests said.
san_dir=$(mktemp -d /tmp/ser-san.XXXXXX)
export ASAN_OPTIONS="log_path=$san_dir/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"

if [ -n "${SER_UNIT:-}" ]; then
    started=$(mktemp)
    out=$(SER_UNIT_PROGRESS=$started timeout -k 5 "$unit_limit" "$SER_UNIT" 2>&1); rc=$?
    printf '%s\n' "$out" | tail -n 40
    p=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        failed=$((failed + 1)); failures="$failures unit-timeout"
        echo "FAIL unit tests: no result within ${unit_limit}s (SER_UNIT_TIMEOUT); stopped in $(tail -n 1 "$started")"
    elif [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
        failed=$((failed + 1)); failures="$failures unit-runner"
    fi
    rm -f "$started"
fi

for t in "$top"/tests/integration/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    log=$(mktemp)
    start=$(date +%s)
    timeout -k 5 "$limit" sh "$t" >"$log" 2>&1; rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
        0)  passed=$((passed + 1)); echo "PASS $name (${secs}s)";;
        77) skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")";;
        *)  failed=$((failed + 1)); failures="$failures $name"
            echo "FAIL $name (rc=$rc, ${secs}s)"; sed 's/^/    /' "$log" | tail -n 60;;
    esac
    rm -f "$log"
done

if [ -n "$(ls "$san_dir")" ]; then
    echo "FAIL sanitizer reports:"
    for f in "$san_dir"/*; do echo "--- $f"; head -n 30 "$f"; done
    failed=$((failed + 1)); failures="$failures sanitizer"
fi
rm -rf "$san_dir"

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

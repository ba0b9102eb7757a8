#!/bin/sh
# tests/integration/test_cfg_cli.sh — `ser -c -f FILE` on the config corpus,
# and the command line's basic flags.
#
# Every tests/cfg/bad/*.cfg must make `ser -c -f` exit 1 with its expected
# "FILE:LINE:COL: error: ...TEXT..." on stderr (from its "# expect:" line);
# every tests/cfg/good/*.cfg must exit 0. Cases that need generated
# certificates (@CERTS@, # in-certs-dir) are left to the unit test
# (tests/unit/cfg/test_cfg_corpus.cpp); "# tls-only" / "# plain-only" cases
# run only in the matching build. Then: -V (and its OpenSSL line), -h,
# --help/--version, an unknown flag, a missing
# config file, the embedded default config.
#
# Environment: SER_BIN (default ./ser), SER_TOP (repository root), SER_TLS (0/1).
# Exit 0 when every check passes, 1 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${SER_TOP:-$(cd "$here/../.." && pwd)}
bin=${SER_BIN:-./ser}
tls=${SER_TLS:-0}

# Paths in diagnostics are the paths given to -f: run from the top so they
# read tests/cfg/...; the binary's path is made absolute first.
case $bin in
    /*) ;;
    *) bin=$(pwd)/$bin ;;
esac
if [ ! -x "$bin" ]; then
    echo "FAIL: ser binary $bin not found (set SER_BIN)"
    exit 1
fi
cd "$top" || { echo "FAIL: cannot cd to $top"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test_cfg_cli.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
OUT=$T/out
ERR=$T/err

failures=0 good=0 bad=0 skipped=0

fail() {
    failures=$((failures + 1))
    echo "FAIL: $*"
    if [ -s "$ERR" ]; then
        echo "  stderr:"
        sed 's/^/    /' "$ERR" | head -n 20
    fi
}

# run ARGS...: runs ser with stdout in $OUT, stderr in $ERR; sets rc.
run() {
    "$bin" "$@" >"$OUT" 2>"$ERR"
    rc=$?
}

# skip_case FILE: true when the case is not for this build or needs certificates.
skip_case() {
    if grep -q '@CERTS@' "$1" || grep -q '^# in-certs-dir' "$1"; then
        return 0
    fi
    if grep -q '^# tls-only' "$1" && [ "$tls" != 1 ]; then
        return 0
    fi
    if grep -q '^# plain-only' "$1" && [ "$tls" = 1 ]; then
        return 0
    fi
    return 1
}

for f in tests/cfg/bad/*.cfg; do
    [ -f "$f" ] || continue
    if skip_case "$f"; then
        skipped=$((skipped + 1))
        continue
    fi
    bad=$((bad + 1))
    expect=$(grep '^# expect: ' "$f" | head -n 1 | tr -d '\r' | sed 's/^# expect: //')
    # [FILE:]LINE:COL: TEXT
    loc=$(printf '%s\n' "$expect" | sed -n 's/^\(\([^:]*:\)\{0,1\}[0-9][0-9]*:[0-9][0-9]*\): .*$/\1/p')
    text=$(printf '%s\n' "$expect" | sed -n 's/^\([^:]*:\)\{0,1\}[0-9][0-9]*:[0-9][0-9]*: //p')
    if [ -z "$loc" ]; then
        : >"$ERR"
        fail "$f: no valid '# expect: [FILE:]LINE:COL: TEXT' line"
        continue
    fi
    case $loc in
        *:*:*) where=$(dirname "$f")/$loc ;;   # FILE:LINE:COL, FILE relative to the case
        *) where=$f:$loc ;;
    esac
    run -c -f "$f"
    if [ "$rc" -ne 1 ]; then
        fail "$f: exit status $rc, expected 1"
    elif ! grep -F -- "$where: error: " "$ERR" | grep -q -F -- "$text"; then
        fail "$f: stderr has no \"$where: error: ...$text...\""
    elif ! grep -q 'configuration has errors' "$ERR"; then
        fail "$f: no closing 'configuration has errors' line"
    fi
done

for f in tests/cfg/good/*.cfg; do
    [ -f "$f" ] || continue
    if skip_case "$f"; then
        skipped=$((skipped + 1))
        continue
    fi
    good=$((good + 1))
    run -c -f "$f"
    if [ "$rc" -ne 0 ]; then
        fail "$f: exit status $rc, expected 0"
    elif grep -q ': error: ' "$ERR"; then
        fail "$f: exit 0 but an error was printed"
    elif ! grep -q -F "$f: configuration OK" "$ERR"; then
        fail "$f: no '$f: configuration OK' line"
    fi
done

if [ $((good + bad)) -lt 60 ]; then
    : >"$ERR"
    fail "only $good good and $bad bad cases ran (corpus missing? SER_TOP=$top)"
fi

# -V: version and build options, exit 0.
run -V
if [ "$rc" -ne 0 ]; then
    fail "-V: exit status $rc, expected 0"
elif ! grep -q '^ser [0-9][0-9]*\.[0-9][0-9]*' "$OUT"; then
    fail "-V: no 'ser X.Y' version line on stdout: $(head -c 200 "$OUT")"
elif [ "$tls" = 1 ] && ! grep -q 'TLS' "$OUT"; then
    fail "-V: a TLS build does not say TLS: $(head -c 200 "$OUT")"
fi

# -h: usage on stdout, exit 0.
run -h
if [ "$rc" -ne 0 ]; then
    fail "-h: exit status $rc, expected 0"
elif ! grep -q 'usage:' "$OUT" || ! grep -q -- '-c' "$OUT"; then
    fail "-h: no usage text with -c on stdout"
fi

# -V in a TLS build names the OpenSSL it was built with and runs with.
if [ "$tls" = 1 ]; then
    run -V
    grep -q '^OpenSSL: built with OpenSSL [0-9].*, running with OpenSSL [0-9]' "$OUT" ||
        fail "-V: no 'OpenSSL: built with ..., running with ...' line: $(head -c 300 "$OUT")"
fi

# --help and --version are -h and -V; -h names the default config (a
# development build: the embedded one).
run -h
cp "$OUT" "$T/h.out"
run --help
if [ "$rc" -ne 0 ] || ! cmp -s "$OUT" "$T/h.out"; then
    fail "--help: exit status $rc or output differs from -h"
fi
grep -q 'default: the embedded etc/ser' "$T/h.out" || fail "-h does not name the default config"
run -V
cp "$OUT" "$T/v.out"
run --version
if [ "$rc" -ne 0 ] || ! cmp -s "$OUT" "$T/v.out"; then
    fail "--version: exit status $rc or output differs from -V"
fi
run --bogus
if [ "$rc" -ne 2 ] || ! grep -q -- '--bogus' "$ERR"; then
    fail "--bogus: exit status $rc (expected 2) or not named"
fi

# An unknown flag: exit 2, the flag named, usage shown.
run -Z
if [ "$rc" -ne 2 ]; then
    fail "-Z: exit status $rc, expected 2"
elif ! grep -q -- '-Z' "$ERR" || ! grep -q 'usage:' "$ERR"; then
    fail "-Z: stderr does not name -Z and show the usage"
fi

# -f without its value: exit 2.
run -c -f
if [ "$rc" -ne 2 ]; then
    fail "-c -f (no file): exit status $rc, expected 2"
fi

# A missing config file: exit 1 with the path and the reason.
run -c -f /nonexistent/ser.cfg
if [ "$rc" -ne 1 ]; then
    fail "-c -f /nonexistent/ser.cfg: exit status $rc, expected 1"
elif ! grep -q '/nonexistent/ser\.cfg' "$ERR" || ! grep -q 'cannot read config file' "$ERR" ||
     ! grep -q 'No such file or directory' "$ERR"; then
    fail "-c -f /nonexistent/ser.cfg: no clear message naming the file and the reason"
fi

# A directory is not a config file.
run -c -f "$T"
if [ "$rc" -ne 1 ]; then
    fail "-c -f DIRECTORY: exit status $rc, expected 1"
fi

# -c alone checks the embedded default config (etc/ser.cfg), whose TLS files
# `make run` creates on first use: make them the same way, from the top of the tree.
"$top/tools/run-default.sh" --certs-only "$bin" >/dev/null || fail "tools/run-default.sh --certs-only failed"
(cd "$top" && "$bin" -c) >"$OUT" 2>"$ERR"; rc=$?
if [ "$rc" -ne 0 ]; then
    fail "-c (embedded default config): exit status $rc, expected 0"
elif ! grep -q 'configuration OK' "$ERR"; then
    fail "-c (embedded default config): no 'configuration OK'"
fi

echo "cfg cli: $good good, $bad bad cases checked, $skipped skipped (SER_TLS=$tls)"
if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
exit 0

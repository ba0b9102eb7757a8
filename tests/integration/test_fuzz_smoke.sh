#!/bin/sh
# The libFuzzer targets (tests/fuzz/) build with clang and each runs a short
# while on a fresh copy of its seed corpus: every seed (the crashes found so
# far among them) runs first, then FUZZ_SMOKE_SECONDS (default 2) of
# mutations. A crash, a failed check, a leak or a hang of 10 s fails.
# The clang build goes to build/fuzz (`make fuzz-build`), made once and kept:
# from nothing it costs minutes on two cores, after that only what changed.
. "$(dirname "$0")/lib.sh"
cd "$SER_TOP" || fail "no source tree at $SER_TOP"
command -v clang++ >/dev/null || { echo "clang++ not installed (tools/install-deps.sh installs clang)"; exit 77; }
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 ||
    { echo "libFuzzer's runtime not installed (libclang-rt-*-dev)"; exit 77; }

secs=${FUZZ_SMOKE_SECONDS:-2}
start=$(date +%s)
# A make of its own, not a job of the `make test` that may be running this.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice -n 10 make -j"$(nproc)" fuzz-build >"$T/build.log" 2>&1 ||
    { tail -n 40 "$T/build.log"; fail "make fuzz-build failed"; }
built=$(( $(date +%s) - start ))
ok "fuzz targets built in ${built}s"

# The reports go to the output, not to the suite's sanitizer log files: the
# exit status says it all here.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
n=0
for src in tests/fuzz/*.cpp; do
    t=$(basename "$src" .cpp)
    bin=build/fuzz/bin/$t
    [ -x "$bin" ] || fail "$bin was not built"
    [ -d "tests/fuzz/$t" ] || fail "tests/fuzz/$t: no seed corpus"
    mkdir -p "$T/corpus/$t" "$T/art"
    cp tests/fuzz/"$t"/* "$T/corpus/$t/"
    seeds=$(ls "$T/corpus/$t" | wc -l)
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$T/art/$t-" "$T/corpus/$t" >"$T/$t.log" 2>&1 ||
        { grep -a -v '^#' "$T/$t.log" | tail -n 50
          for a in "$T"/art/"$t"-*; do [ -f "$a" ] && { echo "--- $a:"; od -c "$a" | head -n 20; }; done
          fail "fuzz target $t failed"; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$t.log")
    ok "$t: $seeds seeds, $runs runs in ${secs}s"
    n=$((n + 1))
done
[ "$n" -ge 9 ] || fail "only $n fuzz targets"
ok "$n fuzz targets clean, $(( $(date +%s) - start ))s in all"

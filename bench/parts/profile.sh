#!/bin/sh
# bench/parts/profile.sh — where the time goes, for the notes of the
# performance work: system calls per forwarded message (strace -c on every
# process of the proxy while sipload runs calls at 1000 calls/s) for ser,
# Kamailio (fm) and the null relay over udp, tcp and tls, and perf profiles
# (-e cpu-clock, the software clock: this VM has no hardware counters) of
# ser forwarding and of ser's TLS listener doing full handshakes.
# strace slows the proxy down, so CPU is not measured here, only counts.
#
#   bench/parts/profile.sh [ROUNDS (ignored: one pass)] [SER_BINARY]
# env: SIPLOAD_BIN, TLSLOAD_BIN, NULLRELAY_BIN, PROFILE_CALLS (default 3000),
#      PROFILE_SUBJECTS (default "ser kamailio-fm floor")
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
ser=${2:-$here/../build/tls/ser}
. "$here/sip_lib.sh"
tlsload=${TLSLOAD_BIN:-$here/../build/tls/bench/tlsload}
calls=${PROFILE_CALLS:-3000}
part=profile
command -v strace >/dev/null || { echo "$0: strace not installed" >&2; exit 2; }

# comma-separated pids of the proxy's processes
pid_list() { tree_pids "$1" | tr ' ' ','; }

# syscalls SUBJECT PROTO: strace -c over one run; emits calls per message.
syscalls() {
    free_port SP; free_port UP
    start_uas "$2" "$UP"
    start_proxy "$1" "$2" "$SP" "$UP"
    _args=""
    for _p in $(tree_pids "$srv"); do _args="$_args -p $_p"; done
    # shellcheck disable=SC2086
    strace -c -f -o "$T/strace.$1.$2" $_args 2>/dev/null &
    st=$!; pids="$pids $st"
    sleep 1   # strace has no readiness signal; it attaches within this
    run_uac "$2" "$SP" 1000 "$calls"
    kill -INT "$st" 2>/dev/null || true
    i=0; while alive "$st" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    stop_tree "$st"; stop_tree "$srv"; stop_tree "$uas"
    ok=$(kv ok "$T/uac.out"); ok=${ok:-0}
    [ "$ok" -gt 0 ] || return 0
    msgs=$((ok * 6))
    awk -v m="$msgs" '$NF != "total" && $4 ~ /^[0-9]+$/ { n = $4; name = $NF; tot += n; printf "%s %.2f\n", name, n / m }
        END { printf "total %.2f\n", tot / m }' "$T/strace.$1.$2" | sort -k2 -rn | head -n 8 >"$T/sc"
    total=$(awk '$1 == "total" { print $2 }' "$T/sc")
    emit $part "$2 at 1000 calls/s: system calls per message" "$1" 1 "$total" "calls/msg" \
        "$(grep -v '^total' "$T/sc" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')"
}

# perf_top TITLE SECONDS PIDS: the top of a cpu-clock profile of those pids.
perf_top() {
    perf record -q -e cpu-clock -F 999 -g -p "$3" -o "$T/perf.data" -- sleep "$2" >/dev/null 2>&1 || return 0
    perf report -q -i "$T/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n 25 >"$T/perf.txt"
    emit_text $part "$1" "$T/perf.txt"
}

emit_desc $part "Profiles for the performance work (not a comparison of CPU: strace slows every proxy down). System calls per forwarded message with strace -c over $calls calls at 1000 calls/s; the note lists the largest."
emit_cmd $part "bench/parts/profile.sh"
for proto in udp tcp tls; do
    for s in ${PROFILE_SUBJECTS:-ser kamailio-fm floor}; do syscalls "$s" "$proto"; done
done

if perf stat -e cpu-clock true >/dev/null 2>&1; then
    for proto in udp tls; do
        free_port SP; free_port UP
        start_uas "$proto" "$UP"
        start_proxy ser "$proto" "$SP" "$UP"
        run_uac "$proto" "$SP" 1000 9000 &
        uac=$!
        perf_top "perf: ser forwarding $proto at 1000 calls/s (cpu-clock, % of samples, top 25)" 6 "$(pid_list "$srv")"
        wait "$uac" || true
        stop_tree "$srv"; stop_tree "$uas"
    done
    if [ -x "$tlsload" ]; then
        free_port SP
        ser_cfg "$T/ser.cfg" "tls:127.0.0.1:$SP" "drop;" "$CERT" "$KEY"
        start_ser "$ser" "$T/ser.cfg" "$T/ser.log" tcp "$SP"
        "$tlsload" handshake -c "127.0.0.1:$SP" --seconds 7 --concurrency 8 >"$T/hs.out" 2>&1 &
        hs=$!
        perf_top "perf: ser doing full TLS 1.3 handshakes, ECDSA P-256 (cpu-clock, top 25)" 5 "$(pid_list "$srv")"
        wait "$hs" || true
        stop_tree "$srv"
    fi
fi

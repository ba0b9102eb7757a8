#!/bin/sh
# bench/parts/sip_percall.sh — TLS with a new connection for every call: the
# proxy's CPU per call, a full TLS 1.3 handshake (X25519, ECDSA P-256) plus
# the call's six messages. sipload uac opens a connection per call and closes
# it after the 200 to BYE; the proxy keeps one connection to the uas. Also the
# same with session resumption (the uac resumes the previous session).
# The floor is the server's public-key work of one full handshake from
# `openssl speed` in the same run (two X25519 scalar multiplications and one
# ECDSA P-256 signature); it does not include the six messages.
#
#   bench/parts/sip_percall.sh [ROUNDS] [SER_BINARY]
# env: SIPLOAD_BIN, PERCALL_RATE (default 300), PERCALL_SECONDS (default 4)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
rounds=${1:-3}
ser=${2:-$here/../build/tls/ser}
. "$here/sip_lib.sh"
rate=${PERCALL_RATE:-300} secs=${PERCALL_SECONDS:-4}
part=sip_percall

# measure SUBJECT ROUND MODE (full|resumed)
measure() {
    free_port SP; free_port UP
    start_uas tls "$UP"
    start_proxy "$1" tls "$SP" "$UP"
    calls=$((rate * secs))
    UAC_ARGS="--conn-per-call"; [ "$3" = resumed ] && UAC_ARGS="--conn-per-call --resume"
    before=$(tree_ticks "$srv")
    run_uac tls "$SP" "$rate" "$calls"
    after=$(tree_ticks "$srv")
    stop_tree "$srv"; stop_tree "$uas"
    ok=$(kv ok "$T/uac.out"); failed=$(kv failed "$T/uac.out"); resumed=$(kv resumed "$T/uac.out")
    ok=${ok:-0} failed=${failed:-$calls} resumed=${resumed:-0}
    note=""; [ "$failed" -gt 0 ] && note="$failed of $calls calls failed"
    [ "$3" = resumed ] && [ "$resumed" -lt $((ok / 2)) ] && note="$note; only $resumed of $ok connections resumed"
    us=$(awk -v t=$((after - before)) -v hz="$hz" -v ok="$ok" 'BEGIN { printf "%.1f", ok ? t * 1e6 / hz / ok : 0 }')
    row="tls, new connection per call ($3 handshake), $rate calls/s: CPU per call"
    [ "$ok" -gt 0 ] && emit $part "$row" "$1" "$2" "$us" "µs/call" "$note"
    printf '%s\n' "round $2 $1 $3 ok=$ok failed=$failed resumed=$resumed cpu_ticks=$((after - before)) us_per_call=$us"
}

emit_desc $part "TLS 1.3 with a new connection per call: sipload uac opens a connection for each call (INVITE ... 200 to BYE) and closes it; $rate calls/s for $secs s; proxy CPU per call. The floor is the server's public-key work in one full handshake (openssl speed: 2 × X25519 + 1 ECDSA P-256 signature), without the messages."
emit_cmd $part "bench/parts/sip_percall.sh $rounds   # PERCALL_RATE=$rate PERCALL_SECONDS=$secs"
emit_meta $part "load average at start $(load1)"
r=1
while [ "$r" -le "$rounds" ]; do
    for s in $(rotate $((r - 1)) ser kamailio-fm); do
        measure "$s" "$r" full
        measure "$s" "$r" resumed
    done
    emit $part "tls, new connection per call (full handshake), $rate calls/s: CPU per call" floor "$r" \
        "$(handshake_floor_us ecdsap256)" "µs/call"
    r=$((r + 1))
done
emit_meta $part "load average at end $(load1)"

#!/bin/sh
# bench/parts/client.sh — the load client checked against SIPp: the same ser
# (stateless proxy, udp or tcp, children=2, tcp_children=2), the same rate
# and call count, driven by sipload uac -> ser -> sipload uas and by SIPp's
# built-in uac -> ser -> SIPp's built-in uas, and crossed (sipload uac with
# a SIPp uas, SIPp uac with a sipload uas). Figures: calls ok of each pair
# (the same count shows the two speak the same flow through ser), the load
# generators' own CPU per call (uac + uas, utime+stime), so that sipload is
# shown not to be the bottleneck, and ser's CPU per message under each.
#
#   bench/parts/client.sh [ROUNDS] [SER_BINARY]
# env: SIPLOAD_BIN, CLIENT_RATE (1000), CLIENT_CALLS (3000)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
rounds=${1:-3}
ser=${2:-$here/../build/tls/ser}
. "$here/sip_lib.sh"
command -v sipp >/dev/null || { echo "$0: sipp not installed (sip-tester)" >&2; exit 2; }
rate=${CLIENT_RATE:-1000} calls=${CLIENT_CALLS:-3000}
part=client

# pair PROTO UAC UAS ROUND: UAC and UAS are sipload or sipp.
pair() {
    free_port SP; free_port UP
    LOADGEN=$3 start_uas "$1" "$UP"
    start_proxy ser "$1" "$SP" "$UP"
    u0=$(tree_ticks "$uas") s0=$(tree_ticks "$srv")
    # The uac has exited (and been reaped) when run_uac returns, so /proc
    # no longer has it: run_uac_timed reads its CPU from `times` instead.
    LOADGEN=$2 run_uac_timed "$1" "$SP" "$rate" "$calls"
    u1=$(tree_ticks "$uas") s1=$(tree_ticks "$srv")
    stop_tree "$srv"; stop_tree "$uas"
    ok=$(kv ok "$T/uac.out"); ok=${ok:-0}
    gen=$((uac_ticks + u1 - u0))
    label="$2 uac, $3 uas"
    emit $part "$1 at $rate calls/s: calls ok of $calls, $label" "$2" "$4" "$ok" "calls ok"
    if [ "$2" = "$3" ] && [ "$ok" -gt 0 ]; then
        emit $part "$1 at $rate calls/s: load generator CPU per call (uac + uas)" "$2" "$4" \
            "$(awk -v t="$gen" -v hz="$hz" -v ok="$ok" 'BEGIN { printf "%.1f", t * 1e6 / hz / ok }')" "µs/call"
        emit $part "$1 at $rate calls/s: ser CPU per message under it" "$2" "$4" \
            "$(awk -v t=$((s1 - s0)) -v hz="$hz" -v ok="$ok" 'BEGIN { printf "%.2f", t * 1e6 / hz / (ok * 6) }')" "µs/msg"
    fi
    printf '%s\n' "round $4 $1 $label ok=$ok/$calls generator_ticks=$gen ser_ticks=$((s1 - s0))"
}

# run_uac with the uac's CPU in $uac_ticks: it runs in a subshell that
# reports its children's utime+stime (times) once the uac has exited.
run_uac_timed() {
    _tf=$T/times.out
    ( run_uac "$@"; times >"$_tf" )
    # times prints the shell's then its children's user/system, as NmN.NNs.
    uac_ticks=$(awk -v hz="$hz" 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
        printf "%d", t * hz }' "$_tf")
}

emit_desc $part "The load client against SIPp: ser as a stateless proxy, $rate calls/s, $calls calls, each pair of clients in turn (order rotated per round)."
emit_cmd $part "bench/parts/client.sh $rounds   # CLIENT_RATE=$rate CLIENT_CALLS=$calls"
r=1
while [ "$r" -le "$rounds" ]; do
    for proto in udp tcp; do
        for p in $(rotate $((r - 1)) sipload:sipload sipp:sipp sipload:sipp sipp:sipload); do
            pair "$proto" "${p%%:*}" "${p#*:}" "$r"
        done
    done
    r=$((r + 1))
done

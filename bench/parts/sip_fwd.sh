#!/bin/sh
# bench/parts/sip_fwd.sh — stateless forwarding, CPU per forwarded message.
# Our load client (bench/sipload) as uac -> proxy -> sipload as uas, over
# udp, tcp and tls (one connection per leg), at each rate for FWD_SECONDS of
# calls. The proxy is ser, Kamailio (fast allocator, then Debian's default)
# or the null relay (bench/nullrelay: the same sockets, no parsing: the
# floor). CPU = utime+stime of the proxy's whole process tree, /proc/PID/stat,
# before and after the uac's run; per message = CPU / (calls ok * 6), the
# six messages of a call (INVITE, 180, 200, ACK, BYE, 200) each forwarded once.
# Every round runs each subject once, the order rotated from round to round.
#
#   bench/parts/sip_fwd.sh [ROUNDS] [SER_BINARY]
# env: SIPLOAD_BIN, NULLRELAY_BIN, FWD_SECONDS (default 4),
#      FWD_CASES (default "udp:1000 udp:3000 tcp:1000 tcp:3000 tls:1000 tls:3000"),
#      FWD_SUBJECTS (default "ser kamailio-fm kamailio floor"; Debian's default
#      Kamailio runs at the lowest rate only, it is not the anchor to beat)
#      LOADGEN=sipp uses SIPp's built-in scenarios instead (udp and tcp only).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
rounds=${1:-3}
ser=${2:-$here/../build/tls/ser}
secs=${FWD_SECONDS:-4}
cases=${FWD_CASES:-udp:1000 udp:3000 tcp:1000 tcp:3000 tls:1000 tls:3000}
subjects=${FWD_SUBJECTS:-ser kamailio-fm kamailio floor}
part=sip_fwd

. "$here/sip_lib.sh"

# measure SUBJECT PROTO RATE ROUND
measure() {
    free_port SP; free_port UP
    start_uas "$2" "$UP"
    start_proxy "$1" "$2" "$SP" "$UP"
    calls=$(($3 * secs))
    before=$(tree_ticks "$srv")
    run_uac "$2" "$SP" "$3" "$calls"
    after=$(tree_ticks "$srv")
    stop_tree "$srv"; stop_tree "$uas"
    ok=$(kv ok "$T/uac.out"); failed=$(kv failed "$T/uac.out")
    ok=${ok:-0} failed=${failed:-$calls}
    note=""; [ "$failed" -gt 0 ] && note="$failed of $calls calls failed"
    us=$(awk -v t=$((after - before)) -v hz="$hz" -v ok="$ok" 'BEGIN { printf "%.2f", ok ? t * 1e6 / hz / (ok * 6) : 0 }')
    [ "$ok" -gt 0 ] && emit $part "$2 at $3 calls/s: CPU per message" "$1" "$4" "$us" "µs/msg" "$note"
    printf '%s\n' "round $4 $1 $2 rate=$3 ok=$ok failed=$failed cpu_ticks=$((after - before)) us_per_msg=$us"
}

emit_desc $part "Stateless forwarding: $loadgen uac -> proxy -> $loadgen uas on 127.0.0.1, $secs s of calls at each rate; CPU (utime+stime of the proxy's process tree) per forwarded message; floor = bench/nullrelay (receives and sends on, no parsing; TLS decrypted and encrypted again). children=2, tcp_children=2 for ser and Kamailio; Kamailio loads no module but tls.so."
emit_cmd $part "bench/parts/sip_fwd.sh $rounds   # FWD_SECONDS=$secs LOADGEN=$loadgen"
emit_meta $part "load average at start $(load1)"
lowest=$(for c in $cases; do echo "${c#*:}"; done | sort -n | head -n 1)
r=1
while [ "$r" -le "$rounds" ]; do
    # shellcheck disable=SC2086
    order=$(rotate $((r - 1)) $subjects)
    for c in $cases; do
        proto=${c%%:*} rate=${c#*:}
        for s in $order; do
            [ "$s" = kamailio ] && [ "$rate" != "$lowest" ] && continue
            measure "$s" "$proto" "$rate" "$r"
        done
    done
    r=$((r + 1))
done
emit_meta $part "load average at end $(load1)"

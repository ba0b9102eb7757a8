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
sipload=${SIPLOAD_BIN:-$here/../build/tls/bench/sipload}
nullrelay=${NULLRELAY_BIN:-$here/../build/tls/bench/nullrelay}
secs=${FWD_SECONDS:-4}
cases=${FWD_CASES:-udp:1000 udp:3000 tcp:1000 tcp:3000 tls:1000 tls:3000}
subjects=${FWD_SUBJECTS:-ser kamailio-fm kamailio floor}
loadgen=${LOADGEN:-sipload}
part=sip_fwd
for f in "$ser" "$nullrelay"; do [ -x "$f" ] || { echo "$0: no $f" >&2; exit 2; }; done
[ "$loadgen" = sipp ] || [ -x "$sipload" ] || { echo "$0: no $sipload" >&2; exit 2; }

T=$(mktemp -d /tmp/ser-bench.XXXXXX)
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
bench_certs "$T/c"
CERT=$T/c/ec.pem KEY=$T/c/ec.key
ulimit -n 65536 2>/dev/null || true

# start_proxy SUBJECT PROTO PORT UAS_PORT: one of the proxies, $srv its pid.
start_proxy() {
    case $2 in udp) _fs=forward _fk=forward ;; tcp) _fs=forward_tcp _fk=forward_tcp ;;
               tls) _fs=forward_tls _fk=forward_tls ;; esac
    _cert=""; [ "$2" = tls ] && _cert="$CERT $KEY"
    _wp=tcp; [ "$2" = udp ] && _wp=udp
    case $1 in
    ser)
        # shellcheck disable=SC2086
        ser_cfg "$T/ser.cfg" "$2:127.0.0.1:$3" "$_fs(127.0.0.1, $4);" $_cert
        start_ser "$ser" "$T/ser.cfg" "$T/ser.log" $_wp "$3" ;;
    kamailio-fm|kamailio)
        _alloc=default; [ "$1" = kamailio-fm ] && _alloc=fm
        # shellcheck disable=SC2086
        kam_cfg "$T/kam.cfg" "$2:127.0.0.1:$3" "$_fk(\"127.0.0.1\", $4);" $_cert
        start_kam "$T/kam.cfg" "$T/kam.log" $_alloc $_wp "$3" ;;
    floor)
        # shellcheck disable=SC2086
        "$nullrelay" "$2" "$3" "$4" $_cert >"$T/relay.log" 2>&1 &
        srv=$!; pids="$pids $srv"
        _started $_wp "$3" "$T/relay.log" nullrelay ;;
    esac
}

# start_uas PROTO PORT / run_uac PROTO PORT RATE CALLS: the load client's two
# ends; run_uac leaves its summary (key=value) in $T/uac.out.
start_uas() {
    _wp=tcp; [ "$1" = udp ] && _wp=udp
    if [ "$loadgen" = sipp ]; then
        _t=u1; [ "$1" = tcp ] && _t=t1
        (cd "$T" && exec sipp -sn uas -i 127.0.0.1 -p "$2" -t $_t -nostdin) >/dev/null 2>&1 &
    else
        _c=""; [ "$1" = tls ] && _c="--cert $CERT --key $KEY"
        # shellcheck disable=SC2086
        "$sipload" uas -t "$1" -l "127.0.0.1:$2" $_c -q >"$T/uas.out" 2>"$T/uas.err" &
    fi
    uas=$!; pids="$pids $uas"
    wait_listen $_wp "$2" 100 || { echo "$0: the uas did not start" >&2; cat "$T/uas.err" >&2; exit 1; }
}
run_uac() {
    rm -f "$T/uac.out"
    if [ "$loadgen" = sipp ]; then
        _t=u1; [ "$1" = tcp ] && _t=t1
        free_port _cp
        (cd "$T" && exec sipp -sn uac "127.0.0.1:$2" -i 127.0.0.1 -p "$_cp" -t $_t -r "$3" -m "$4" \
            -l $(($3 * 4)) -nostdin -timeout 120 -trace_stat -stf "$T/uac.csv") >/dev/null 2>&1 || true
        awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i }
            END { printf "ok=%d failed=%d\n", $h["SuccessfulCall(C)"], $h["FailedCall(C)"] }' \
            "$T/uac.csv" >"$T/uac.out"
    else
        "$sipload" uac -t "$1" -r "127.0.0.1:$2" --rate "$3" --calls "$4" --timeout 5000 -q \
            --summary "$T/uac.out" >/dev/null 2>"$T/uac.err" || true
    fi
}

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

# bench/sip_lib.sh — the SIP parts' common ground (source after lib.sh and
# anchors.sh, with $ser set): a scratch directory $T with the benchmark
# certificates, the proxies under test and the two ends of the load client.
# LOADGEN=sipp uses SIPp's built-in uac and uas instead of bench/sipload
# (udp and tcp only; SIPp is the reference the client was checked against).
sipload=${SIPLOAD_BIN:-$here/../build/tls/bench/sipload}
nullrelay=${NULLRELAY_BIN:-$here/../build/tls/bench/nullrelay}
loadgen=${LOADGEN:-sipload}
for f in "$ser" "$nullrelay"; do [ -x "$f" ] || { echo "$0: no $f" >&2; exit 2; }; done
[ "$loadgen" = sipp ] || [ -x "$sipload" ] || { echo "$0: no $sipload" >&2; exit 2; }

T=$(mktemp -d /tmp/ser-bench.XXXXXX)
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
bench_certs "$T/c"
CERT=$T/c/ec.pem KEY=$T/c/ec.key
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

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
        # shellcheck disable=SC2086
        "$sipload" uac -t "$1" -r "127.0.0.1:$2" --rate "$3" --calls "$4" --timeout 5000 -q ${UAC_ARGS:-} \
            --summary "$T/uac.out" >/dev/null 2>"$T/uac.err" || true
    fi
}


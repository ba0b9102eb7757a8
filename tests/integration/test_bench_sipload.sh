#!/bin/sh
# The benchmark's load client through ser: sipload uac -> ser (stateless
# forward) -> sipload uas, 300 calls at 200 calls/s over udp, tcp, tls on one
# connection, and tls with a new, resumed connection per call. Every call must
# succeed and the uas must have answered as many BYEs. Over stream transports
# the INVITE -> 200 median must stay under 5 ms: with Nagle's algorithm on
# ser's sockets it was about 20 ms (a BYE held until the ACK before it was
# acknowledged). Also: a uac whose proxy never answers retransmits, fails
# every call at its timeout, and exits 1.
. "$(dirname "$0")/lib.sh"
SIPLOAD=${SIPLOAD_BIN:-$SER_TOP/build/tls/bench/sipload}
[ -x "$SIPLOAD" ] || fail "no sipload at $SIPLOAD (make bench-tools)"
"$SER_TOP/tools/ser-certs" ca -d "$T/c" >/dev/null && \
    "$SER_TOP/tools/ser-certs" server srv -d "$T/c" --ip 127.0.0.1 >/dev/null || fail "ser-certs failed"
CALLS=300

# run_case PROTO [UAC OPTIONS...]: one ser, one uas, one uac run.
n=0
run_case() {
    sl_proto=$1; shift
    n=$((n + 1))
    PS=$(free_port); UP=$(free_port)
    [ "$PS" != "$UP" ] || fail "port clash, run again"
    fwd=forward; [ "$sl_proto" = tcp ] && fwd=forward_tcp; [ "$sl_proto" = tls ] && fwd=forward_tls
    {
        echo "debug=2"; echo "children=1"; echo "tcp_children=1"
        echo "listen=$sl_proto:127.0.0.1:$PS"
        if [ "$sl_proto" = tls ]; then echo 'tls_certificate="c/srv.pem"'; echo 'tls_private_key="c/srv.key"'; fi
        echo "route { $fwd(127.0.0.1, $UP); }"
    } >"$T/ser.cfg"
    tlsargs=""; [ "$sl_proto" = tls ] && tlsargs="--cert $T/c/srv.pem --key $T/c/srv.key"
    # shellcheck disable=SC2086
    bg_start "uas$n" "$SIPLOAD" uas -t "$sl_proto" -l "127.0.0.1:$UP" --calls $CALLS $tlsargs --summary "$T/uas$n.out"
    wp=tcp; [ "$sl_proto" = udp ] && wp=udp
    wait_port $wp "$UP" 10 || fail "sipload uas did not start"
    start_ser "$T/ser.cfg"
    "$SIPLOAD" uac -t "$sl_proto" -r "127.0.0.1:$PS" --rate 200 --calls $CALLS --timeout 5000 -q \
        --summary "$T/uac$n.out" "$@" >/dev/null 2>"$T/uac$n.err" || { cat "$T/uac$n.out" "$T/uac$n.err"; fail "$sl_proto $*: uac exit $?"; }
    # The uas exits after its last BYE; bounded wait for its summary.
    i=0; while [ ! -s "$T/uas$n.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    stop_ser
    ok=$(tr ' ' '\n' <"$T/uac$n.out" | sed -n 's/^ok=//p')
    byes=$(tr ' ' '\n' <"$T/uas$n.out" 2>/dev/null | sed -n 's/^byes=//p')
    p50=$(tr ' ' '\n' <"$T/uac$n.out" | sed -n 's/^p50_us=//p')
    [ "$ok" = $CALLS ] || fail "$sl_proto $*: $ok of $CALLS calls ok: $(cat "$T/uac$n.out")"
    [ "${byes:-0}" = $CALLS ] || fail "$sl_proto $*: the uas answered ${byes:-no} BYEs of $CALLS"
    if [ "$sl_proto" != udp ] && [ "$p50" -ge 5000 ]; then
        fail "$sl_proto $*: INVITE->200 median $p50 us (>= 5 ms): $(cat "$T/uac$n.out")"
    fi
    ok "$sl_proto $*: $ok calls ok, uas $byes BYEs, p50 $p50 us"
}

run_case udp
run_case tcp
if [ "${SER_TLS:-0}" = 1 ]; then
    run_case tls
    run_case tls --conn-per-call --resume
    resumed=$(tr ' ' '\n' <"$T/uac$n.out" | sed -n 's/^resumed=//p')
    [ "${resumed:-0}" -gt $((CALLS / 2)) ] || fail "only ${resumed:-0} of $CALLS connections resumed their session"
    ok "tls per call: $resumed of $CALLS handshakes resumed"
fi

# Nothing answers: retransmissions, then every call fails at its timeout.
DEAD=$(free_port)
if "$SIPLOAD" uac -t udp -r "127.0.0.1:$DEAD" --rate 10 --calls 3 --timeout 1500 -q --summary "$T/dead.out" >/dev/null 2>&1; then
    fail "uac against a silent port exited 0"
fi
failed=$(tr ' ' '\n' <"$T/dead.out" | sed -n 's/^failed=//p')
retrans=$(tr ' ' '\n' <"$T/dead.out" | sed -n 's/^retrans=//p')
[ "$failed" = 3 ] && [ "${retrans:-0}" -gt 0 ] || fail "silent port: $(cat "$T/dead.out")"
ok "silent port: 3 calls failed after $retrans retransmissions"

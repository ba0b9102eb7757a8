#!/bin/sh
# One Content-Length rule on UDP, TCP and TLS, safe against overflow. Every
# request carries the 5-byte body "hello" and a Call-ID naming its case and
# transport (cl-udp-big63, cl-tls-tab, ...); ser forwards to a UDP sink.
#   too large (2^63, 2^64+5, 20 nines, 100 digits, 5000 > tcp/udp_max_msg_size)
#   and malformed (+5, -5, "5 5", 0x5, empty): UDP answered with 400, TCP and
#   TLS connections closed by ser (< 5 s), nothing forwarded;
#   valid (5, 30 and 100 characters of leading zeros, spaces around, a tab
#   before): forwarded; on TCP and TLS the connection stays open, and a second
#   request sent on it behind the first is forwarded too.
# Prints what happened in each case before it judges.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1

P=$(free_port); PS=$(free_port); SINK=$(free_port)
[ "$P" = "$PS" ] || [ "$P" = "$SINK" ] || [ "$PS" = "$SINK" ] && fail "port clash, run again"
cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=2
udp_max_msg_size=4096
tcp_max_msg_size=4096
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
listen=tls:127.0.0.1:$PS
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
route {
    forward(127.0.0.1, $SINK);
}
CFG
bg_start sink socat -u UDP-RECV:$SINK,bind=127.0.0.1 OPEN:$T/sink,creat,append
wait_port udp "$SINK" 5 || fail "sink did not start"
: >"$T/sink"
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)

BAD="big63 big64p5 big20d big100d over5000 plus5 minus5 space55 hex empty"
GOOD="plain5 zeros30 zeros100 spaces tab"
CR=$(printf '\r')
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# What follows "Content-Length:" in each case.
clval() {
    case $1 in
    big63) printf ' 9223372036854775808' ;;      # 2^63
    big64p5) printf ' 18446744073709551621' ;;   # 2^64 + 5: wraps to 5 in 64 bits
    big20d) printf ' 99999999999999999999' ;;
    big100d) printf ' 1%099d' 0 ;;               # 1 and 99 zeros
    over5000) printf ' 5000' ;;
    plus5) printf ' +5' ;;
    minus5) printf ' -5' ;;
    space55) printf ' 5 5' ;;
    hex) printf ' 0x5' ;;
    empty) ;;
    plain5) printf ' 5' ;;
    zeros30) printf ' %030d' 5 ;;                # 30 characters
    zeros100) printf ' %0100d' 5 ;;              # 99 zeros, then 5
    spaces) printf '   5  ' ;;
    tab) printf '\t5' ;;
    esac
}
# req VIA_PROTO CALLID CLVALUE: a MESSAGE with the body "hello".
req() {
    printf 'MESSAGE sip:cl@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:tester@127.0.0.1>;tag=%s\r\nTo: <sip:cl@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length:%s\r\n\r\nhello' \
        "$SINK" "$1" "$2" "$2" "$2" "$3"
}
at_sink() { grep -q "^Call-ID: $1$CR\$" "$T/sink"; }
alive() { kill -0 "$1" 2>/dev/null; }

# Start every case at once, each its own process (one datagram, or one
# connection), remembered in TLS_PIDS for the clean-up. A stream client keeps
# its sending side open (socat shut-none, s_client -ign_eof), so only ser can
# end the connection early.
for c in $BAD $GOOD; do
    req UDP "cl-udp-$c" "$(clval $c)" >"$T/udp-$c.req"
    timeout 15 socat -t 15 -T 15 - "UDP:127.0.0.1:$P" <"$T/udp-$c.req" >"$T/udp-$c.out" 2>&1 &
    eval "PID_udp_$c=$!"; TLS_PIDS="$TLS_PIDS $!"
    for tr in tcp tls; do
        TR=$(echo $tr | tr a-z A-Z)
        req "$TR" "cl-$tr-$c" "$(clval $c)" >"$T/$tr-$c.req"
        # Behind a valid request, a second one on the same connection.
        case " $GOOD " in *" $c "*) req "$TR" "cl-$tr-$c-2" ' 5' >>"$T/$tr-$c.req" ;; esac
        eval "START_${tr}_$c=$(now_ms)"
        if [ $tr = tcp ]; then
            timeout 15 socat -t 15 -T 15 - "TCP:127.0.0.1:$P,shut-none" <"$T/$tr-$c.req" >"$T/$tr-$c.out" 2>&1 &
        else
            timeout 15 openssl s_client -ign_eof -connect "127.0.0.1:$PS" -CAfile "$CERTS/ca.pem" \
                -verify_return_error <"$T/$tr-$c.req" >"$T/$tr-$c.out" 2>&1 &
        fi
        eval "PID_${tr}_$c=$!"; TLS_PIDS="$TLS_PIDS $!"
    done
done

# Bounded wait (6 s) until every case has had its outcome: a reply to each bad
# datagram, every bad stream ended, every valid request (both, on streams) at
# the sink. The time a bad stream took to end is noted as it ends.
t_end=$(( $(now_ms) + 6000 ))
while [ "$(now_ms)" -lt "$t_end" ]; do
    done_all=1
    for c in $BAD; do
        grep -q 'SIP/2.0 ' "$T/udp-$c.out" || done_all=0
        for tr in tcp tls; do
            eval "_el=\${EL_${tr}_$c:-}; _p=\$PID_${tr}_$c; _s=\$START_${tr}_$c"
            [ -n "$_el" ] && continue
            if alive "$_p"; then done_all=0; else eval "EL_${tr}_$c=$(( $(now_ms) - _s ))"; fi
        done
    done
    for c in $GOOD; do
        at_sink "cl-udp-$c" || done_all=0
        for tr in tcp tls; do at_sink "cl-$tr-$c" && at_sink "cl-$tr-$c-2" || done_all=0; done
    done
    [ $done_all = 1 ] && break
    sleep 0.05
done

# Streams of valid requests still open? (Looked at before anything is ended.)
for c in $GOOD; do
    for tr in tcp tls; do
        eval "_p=\$PID_${tr}_$c"
        alive "$_p" && eval "OPEN_${tr}_$c=yes" || eval "OPEN_${tr}_$c=no"
    done
done

# A last valid datagram: once it is at the sink, whatever ser forwarded before is there too.
req UDP cl-udp-marker ' 5' | socat -u - "UDP-SENDTO:127.0.0.1:$P"
j=0; while ! at_sink cl-udp-marker && [ $j -lt 100 ]; do sleep 0.05; j=$((j+1)); done
at_sink cl-udp-marker || fail "the final marker request never reached the sink"

# End every client (by PID) and judge.
for p in $TLS_PIDS; do kill "$p" 2>/dev/null; done
for p in $TLS_PIDS; do wait "$p" 2>/dev/null; done
TLS_PIDS=""

: >"$T/errors"
err() { echo "$*" >>"$T/errors"; }
echo "what ser did (udp: reply, forwarded; tcp/tls: connection, forwarded):"
for c in $BAD $GOOD; do
    u_reply=$(head -n 1 "$T/udp-$c.out" | tr -d '\r'); [ -n "$u_reply" ] || u_reply="no reply"
    at_sink "cl-udp-$c" && u_fwd=forwarded || u_fwd="not forwarded"
    line="  $c:$(clval $c | tr '\t' '~' | cut -c1-24) | udp: $u_reply, $u_fwd"
    for tr in tcp tls; do
        at_sink "cl-$tr-$c" && fwd=forwarded || fwd="not forwarded"
        eval "_el=\${EL_${tr}_$c:-}; _open=\${OPEN_${tr}_$c:-}"
        if [ -n "$_open" ]; then
            at_sink "cl-$tr-$c-2" && fwd="$fwd, second forwarded" || fwd="$fwd, second not forwarded"
            [ "$_open" = yes ] && conn="stayed open" || conn="closed"
        elif [ -n "$_el" ]; then conn="closed within ${_el} ms"
        else conn="still open after 6 s"
        fi
        line="$line | $tr: $conn, $fwd"
    done
    echo "$line"
done

for c in $BAD; do
    head -n 1 "$T/udp-$c.out" | grep -q '^SIP/2.0 400' ||
        err "udp $c: expected a 400 reply, got: $(head -n 1 "$T/udp-$c.out" | tr -d '\r')"
    grep -q "^Call-ID: cl-udp-$c$CR\$" "$T/udp-$c.out" || err "udp $c: no reply carrying Call-ID cl-udp-$c"
    at_sink "cl-udp-$c" && err "udp $c: forwarded"
    for tr in tcp tls; do
        eval "_el=\${EL_${tr}_$c:-}"
        [ -n "$_el" ] && [ "$_el" -lt 5000 ] || err "$tr $c: connection not closed by ser within 5 s"
        at_sink "cl-$tr-$c" && err "$tr $c: forwarded"
    done
    # The TLS session ended after its handshake, not by a failed one.
    grep -q 'Verify return code: 0 (ok)' "$T/tls-$c.out" || err "tls $c: no completed TLS handshake"
done
for c in $GOOD; do
    at_sink "cl-udp-$c" || err "udp $c: not forwarded"
    [ -s "$T/udp-$c.out" ] && err "udp $c: unexpected reply: $(head -n 1 "$T/udp-$c.out" | tr -d '\r')"
    for tr in tcp tls; do
        at_sink "cl-$tr-$c" || err "$tr $c: not forwarded"
        at_sink "cl-$tr-$c-2" || err "$tr $c: the second request on the connection not forwarded"
        eval "_open=\$OPEN_${tr}_$c"
        [ "$_open" = yes ] || err "$tr $c: connection closed"
    done
done
# Nothing of a bad case at the sink, whatever its transport (grep the Call-IDs).
for c in $BAD; do
    grep -q "cl-[a-z]*-$c$CR\$" "$T/sink" && err "a request of the bad case $c is at the sink"
done
# (The sink file is the datagrams back to back: a body runs into the next start line.)
n_fwd=$(grep -c "^Call-ID: cl-" "$T/sink")
n_exp=$(( $(echo $GOOD | wc -w) * 5 + 1 ))
[ "$n_fwd" -eq "$n_exp" ] || err "sink got $n_fwd requests, expected $n_exp (the valid ones and the marker)"
n_body=$(tr -d '\r\n' <"$T/sink" | grep -o 'hello\(MESSAGE sip:\|$\)' | wc -l)
[ "$n_body" -eq "$n_fwd" ] || err "only $n_body of the $n_fwd forwarded requests end in the body hello"
if [ -s "$T/errors" ]; then
    echo "$(wc -l <"$T/errors") assertion(s) failed:"
    sed 's/^/  /' "$T/errors"
    fail "Content-Length handling (see above)"
fi
ok "too large and malformed Content-Length refused on udp (400), tcp and tls (closed); valid ones forwarded"

[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "ser kept its children"

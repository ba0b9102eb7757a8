#!/bin/sh
# Strict routing through a running ser (RFC 3261 §16.6 step 6, §16.12): a
# request whose next Route has no ;lr goes to that URI, which becomes the
# Request-URI, and the old Request-URI becomes the last Route value; a loose
# next hop (;lr) leaves the Request-URI alone.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port); SINK=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
listen=udp:127.0.0.1:$P
route {
    loose_route();
    forward();
}
CFG
bg_start sink socat -u UDP-RECV:$SINK,bind=127.0.0.1 OPEN:$T/sink,creat,append
wait_port udp "$SINK" 5 || fail "sink did not start"
start_ser "$T/ser.cfg"

req() { # $1 = call-id, $2 = Route values
    printf 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%s\r\nRoute: %s\r\nFrom: <sip:a@example.org>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$1" "$2" "$1" |
        socat -u - UDP-SENDTO:127.0.0.1:$P
}
wait_sink() { # $1 = call-id; bounded
    i=0; while ! grep -q "$1" "$T/sink" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    grep -q "$1" "$T/sink" || fail "$1 did not reach the sink"
}

req strict-1 "<sip:127.0.0.1:$P;lr>, <sip:127.0.0.1:$SINK>, <sip:p3.example.com;lr>"
wait_sink strict-1
tr -d '\r' <"$T/sink" | grep -q "^OPTIONS sip:127.0.0.1:$SINK SIP/2.0\$" ||
    fail "the strict router's URI is not the Request-URI: $(head -n 1 "$T/sink")"
tr -d '\r' <"$T/sink" | grep -q '^Route: <sip:p3.example.com;lr>$' || fail "the rest of the route set is gone"
tr -d '\r' <"$T/sink" | grep -q '^Route: <sip:bob@example.com>$' || fail "the Request-URI is not the last Route value"
[ "$(grep -c "127.0.0.1:$SINK>" "$T/sink")" -eq 0 ] || fail "the strict router's Route value stayed"
ok "a strict next hop gets the request with its URI as Request-URI and the old one as the last Route"

: >"$T/sink"
req loose-1 "<sip:127.0.0.1:$SINK;lr>"
wait_sink loose-1
tr -d '\r' <"$T/sink" | grep -q '^OPTIONS sip:bob@example.com SIP/2.0$' || fail "a loose next hop changed the Request-URI"
tr -d '\r' <"$T/sink" | grep -q "^Route: <sip:127.0.0.1:$SINK;lr>\$" || fail "a loose next hop's Route was removed"
ok "a loose next hop (;lr) keeps the Request-URI and its Route"
stop_ser

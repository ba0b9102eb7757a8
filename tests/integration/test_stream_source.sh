#!/bin/sh
# The listener an outgoing stream leaves from is chosen once, by the proxy,
# and carried to the worker that opens the connection: the connection's
# source address is the one our Via names. ser's only TCP listener is on
# 127.0.0.2; a request from UDP is forwarded over TCP to a sink on 127.0.0.1
# (the kernel alone would pick 127.0.0.1 as the source there).
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port); Q=$(free_port); SINK=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=2
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.2:$Q
route {
    forward_tcp(127.0.0.1, $SINK);
}
CFG
bg_start sink socat -d -d -u TCP-LISTEN:$SINK,bind=127.0.0.1,reuseaddr,fork OPEN:$T/sink,creat,append
wait_port tcp "$SINK" 5 || fail "sink did not start"
: >"$T/sink"
start_ser "$T/ser.cfg"

printf 'MESSAGE sip:sink@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-src1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:sink@127.0.0.1>\r\nCall-ID: source-1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$SINK" |
    socat -u - UDP-SENDTO:127.0.0.1:$P
i=0; while ! grep -q 'source-1' "$T/sink" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q 'source-1' "$T/sink" || fail "the request never reached the TCP sink"

via=$(tr -d '\r' <"$T/sink" | grep -m1 '^Via: SIP/2.0/TCP ')
[ "$via" = "Via: SIP/2.0/TCP 127.0.0.2:$Q;branch=${via##*;branch=}" ] || fail "top Via is not our TCP listener: $via"
src=$(sed -n 's/.*accepting connection from AF=2 \([0-9.]*\):[0-9]*.*/\1/p' "$T/sink.log" | head -n 1)
[ -n "$src" ] || fail "socat did not log the connection's source: $(cat "$T/sink.log")"
[ "$src" = 127.0.0.2 ] || fail "Via names 127.0.0.2:$Q but the connection came from $src"
stop_ser
ok "a stream forwarded from UDP leaves from 127.0.0.2, the listener its Via names"

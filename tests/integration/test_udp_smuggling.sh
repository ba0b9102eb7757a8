#!/bin/sh
# RFC 3261 §18.3 request smuggling over UDP: a datagram holding a complete
# INVITE (Content-Length: 0) followed by a complete BYE is one INVITE; the
# bytes after its Content-Length body are dropped (and logged with the peer's
# address), never forwarded. Forwarded to a TCP sink, where a smuggled BYE
# would read as a request of its own. A UDP request without Content-Length
# still takes the rest of the datagram as its body.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port); SINK=$(free_port)
[ "$P" = "$SINK" ] && fail "port clash, run again"
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=2
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route {
    forward_tcp(127.0.0.1, $SINK);
}
CFG
bg_start sink socat -u TCP-LISTEN:$SINK,bind=127.0.0.1,reuseaddr,fork OPEN:$T/sink,creat,append
wait_port tcp "$SINK" 5 || fail "sink did not start"
: >"$T/sink"
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)

udp_send() { socat -u - UDP-SENDTO:127.0.0.1:$P; }
# sink_wait TEXT [N]: bounded wait (5 s) until TEXT is on at least N lines of the sink file.
sink_wait() {
    _i=0
    while [ $_i -lt 100 ]; do
        [ "$(grep -c -- "$1" "$T/sink" 2>/dev/null)" -ge "${2:-1}" ] && return 0
        sleep 0.05; _i=$((_i+1))
    done
    return 1
}
# req METHOD CALLID CSEQ [BODY [NOCL]]: a request to the sink's address; with
# NOCL set it has no Content-Length header (the body runs to the datagram's end).
req() {
    _body=${4:-}
    if [ -n "${5:-}" ]; then _cl=''; else _cl="Content-Length: ${#_body}\r\n"; fi
    printf "%s sip:bob@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:alice@127.0.0.1>;tag=%s\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: %s %s\r\nMax-Forwards: 70\r\n${_cl}\r\n%s" \
        "$1" "$SINK" "$2" "$2" "$2" "$3" "$1" "$_body"
}

# One datagram: INVITE with Content-Length: 0, then a whole BYE right after it.
{ req INVITE smuggle-invite 1; req BYE smuggle-bye 2; } >"$T/smuggle.dgram"
udp_send <"$T/smuggle.dgram"
# A legitimate UDP request without Content-Length: its body is the rest of the
# datagram; on the TCP hop it must carry a Content-Length (RFC 3261 §18.3).
# (The body ends in CRLF so that, should the forwarded copy lack one, the next
# request on the TCP connection still starts a line and the counts stay right.)
CRLF=$(printf '\r\nX'); CRLF=${CRLF%X}
req MESSAGE nocl-body 1 "hello-no-content-length$CRLF" nocl >"$T/nocl.dgram"
udp_send <"$T/nocl.dgram"
# The marker: once it (and the INVITE) are at the sink, the sink has had its chance.
req OPTIONS marker-after 1 | udp_send
sink_wait 'marker-after' || fail "the marker request never reached the TCP sink"
sink_wait 'smuggle-invite' || fail "the INVITE never reached the TCP sink"
sink_wait 'nocl-body' || fail "a UDP request without Content-Length was not forwarded"

n_inv=$(grep -c '^INVITE ' "$T/sink")
n_bye=$(grep -c '^BYE ' "$T/sink")
n_opt=$(grep -c '^OPTIONS ' "$T/sink")
n_msg=$(grep -c '^MESSAGE ' "$T/sink")
[ "$n_bye" -eq 0 ] || fail "the BYE smuggled after the INVITE's body reached the sink ($n_bye BYE start line(s))"
grep -q 'smuggle-bye' "$T/sink" && fail "bytes of the smuggled BYE (Call-ID smuggle-bye) reached the sink"
[ "$n_inv" -eq 1 ] || fail "sink got $n_inv INVITEs, expected 1"
[ "$n_opt" -eq 1 ] && [ "$n_msg" -eq 1 ] || fail "sink got $n_opt OPTIONS and $n_msg MESSAGE, expected 1 each"
ok "a datagram with an INVITE and a smuggled BYE forwarded as the INVITE alone"

grep 'bytes after the Content-Length body discarded' "$T/ser.log" | grep -q '127\.0\.0\.1' ||
    fail "no log line 'bytes after the Content-Length body discarded' naming 127.0.0.1"
ok "the discarded bytes are logged with the peer address"

grep -q 'hello-no-content-length' "$T/sink" || fail "the body of the request without Content-Length was not forwarded"
# The MESSAGE's header block at the sink: from its start line to the empty line.
tr -d '\r' <"$T/sink" | sed -n '/^MESSAGE /,/^$/p' | grep -qx 'Content-Length: 25' ||
    fail "the request without Content-Length went onto TCP without one: $(sed -n '/^MESSAGE /,/^\r*$/p' "$T/sink" | tr -d '\r' | tr '\n' '|')"
ok "a UDP request without Content-Length forwarded with its body, and with Content-Length: 25 on the TCP hop"

[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "ser stayed up"

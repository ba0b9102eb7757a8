#!/bin/sh
# Garbage, malformed and oversized messages on UDP and TCP: ser stays up (no
# child dies), answers 400 where it can, and forwards nothing broken.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port); SINK=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=2
udp_max_msg_size=4096
tcp_max_msg_size=4096
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route {
    forward(127.0.0.1, $SINK);
}
CFG
bg_start sink socat -u UDP-RECV:$SINK,bind=127.0.0.1 OPEN:$T/sink,creat,append
wait_port udp "$SINK" 5 || fail "sink did not start"
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)

req() { # $1 = extra header lines, $2 = call-id
    printf 'OPTIONS sip:x@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: %s\r\n%bMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$SINK" "$2" "$2" "$1"
}
udp_send() { socat -u - UDP-SENDTO:127.0.0.1:$P; }
udp_ask() { timeout 5 socat -T 2 - UDP:127.0.0.1:$P 2>/dev/null; }

req 'CSeq: 1 OPTIONS\r\n' good-1 | udp_send
head -c 1500 /dev/urandom | udp_send
printf 'GARBAGE-LINE-1\r\n\r\n' | udp_send
reply=$(req 'CSeq: 1 OPTIONS\r\nContent-Length: zz\r\n' bad-clen | udp_ask)
echo "$reply" | head -n 1 | grep -q '^SIP/2.0 400' || fail "no 400 for a bad Content-Length, got: $(echo "$reply" | head -n 1)"
echo "$reply" | grep -q '^Call-ID: bad-clen' || fail "the 400 does not carry the request's Call-ID"
ok "400 Bad Request for a malformed request with the headers a reply needs"
reply=$(printf 'OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-nocallid\r\n\r\n' | udp_ask)
[ -z "$reply" ] || fail "replied to a request without the headers a reply needs: $reply"
big=$(head -c 6000 /dev/zero | tr '\0' 'x')
req "X-Big: $big\r\nCSeq: 1 OPTIONS\r\n" oversized-udp | udp_send

# TCP: no Content-Length, oversized, garbage: each closes its connection.
for payload in "$(printf 'OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bK-nocl\r\n\r\n')" \
               "$(req "X-Big: $big\r\nCSeq: 1 OPTIONS\r\n" oversized-tcp)" \
               "$(head -c 5000 /dev/urandom | tr -d '\r')"; do
    start=$(date +%s)
    printf '%s' "$payload" | timeout 10 socat -T 8 - TCP:127.0.0.1:$P >/dev/null 2>&1
    [ $(( $(date +%s) - start )) -lt 8 ] || fail "ser did not close a bad TCP stream"
done
ok "bad TCP streams are closed by ser"

req 'CSeq: 2 OPTIONS\r\n' good-2 | udp_send
# Bounded wait for the second good message at the sink.
i=0; while ! grep -q 'good-2' "$T/sink" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
grep -q 'good-2' "$T/sink" || fail "a good request after the garbage was not forwarded"
n=$(grep -c '^OPTIONS sip:' "$T/sink")
[ "$n" -eq 2 ] || fail "sink got $n requests, expected exactly the 2 good ones"
grep -q -e 'bad-clen' -e 'nocallid' -e 'oversized' -e 'GARBAGE' -e 'nocl' "$T/sink" && fail "something malformed was forwarded"
[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "ser stayed up and forwarded only the 2 good requests"

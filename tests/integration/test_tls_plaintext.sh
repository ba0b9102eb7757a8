#!/bin/sh
# Not-TLS on the TLS port: plain SIP over TCP is dropped at once (< 2 s), and a
# client that connects and says nothing is dropped after tls_handshake_timeout
# (2 s here). ser keeps every child and still serves TLS afterwards.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1

PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_handshake_timeout=2
CFG
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Plain SIP over TCP; socat waits (-t) up to 10 s for ser to close after its input ends.
sip_options "sip:ping@127.0.0.1:$PT" plain TCP >"$T/plain.req"
t0=$(now_ms)
timeout 15 socat -t 10 -T 10 - "TCP:127.0.0.1:$PT" <"$T/plain.req" >"$T/plain.out" 2>&1
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 2000 ] || fail "plain SIP on the TLS port: connection still open after ${el} ms"
grep -q 'SIP/2.0' "$T/plain.out" && fail "ser answered plain SIP on its TLS port"
ok "plain SIP over TCP to the TLS port: closed after ${el} ms, no SIP answer"

# A TCP client that sends nothing: read-only socat ends when ser closes.
t0=$(now_ms)
timeout 15 socat -u -T 12 "TCP:127.0.0.1:$PT" - >"$T/idle.out" 2>&1
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 1500 ] || fail "silent client dropped after ${el} ms, before tls_handshake_timeout=2"
[ "$el" -le 5000 ] || fail "silent client dropped only after ${el} ms (tls_handshake_timeout=2)"
ok "silent TCP client dropped after ${el} ms (tls_handshake_timeout=2)"

[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
sip_options "sip:ping@127.0.0.1:$PT" after >"$T/after.req"
TLS_REQ=$T/after.req
tls_ask after 'SIP/2.0 200 OK' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error ||
    fail "no TLS service after the plaintext clients"
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "ser kept its children and still answers over TLS"

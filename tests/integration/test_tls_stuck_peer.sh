#!/bin/sh
# An outgoing TLS hop to a peer that accepts TCP and never answers the
# ClientHello: the worker waits for the peer without spinning (almost no CPU
# while it waits) and gives up at tls_handshake_timeout with a log line.
. "$(dirname "$0")/tls_lib.sh"
certs_ca
cert_server localhost --dns localhost --ip 127.0.0.1
U=$(free_port); P=$(free_port); MUTE=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=4
children=1
tcp_children=1
listen=udp:127.0.0.1:$U
listen=tls:127.0.0.1:$P
tls_certificate="$CERTS/localhost.pem"
tls_private_key="$CERTS/localhost.key"
tls_handshake_timeout=3
route { forward_tls(127.0.0.1, $MUTE); }
CFG
# The mute peer reads what it gets and never writes.
bg_start mute socat -u "TCP-LISTEN:$MUTE,bind=127.0.0.1,reuseaddr" "OPEN:/dev/null"
wait_port tcp "$MUTE" 5 || fail "mute peer did not start"
start_ser "$T/ser.cfg"
worker=$(ser_children | tail -n 1)
ticks() { cut -d')' -f2 "/proc/$worker/stat" | awk '{print $12 + $13}'; }
before=$(ticks)
sip_options "sip:x@127.0.0.1:$MUTE" stuck UDP >"$T/req"
socat -u "OPEN:$T/req" "UDP-SENDTO:127.0.0.1:$U"
log_wait "$T/ser.log" "connecting to 127.0.0.1:$MUTE" 1 5 || fail "no connection to the mute peer"
log_wait "$T/ser.log" "handshake with 127.0.0.1:$MUTE timed out" 1 8 || fail "no handshake timeout"
used=$(( $(ticks) - before ))
hz=$(getconf CLK_TCK)
[ "$used" -lt $((hz / 5)) ] || fail "the worker used $used ticks (of $hz/s) while waiting ~3 s for a mute peer"
stop_ser
ok "waiting for a mute TLS peer costs $used ticks; the handshake timed out as configured"

#!/bin/sh
# allow= on a serial block: a source outside the list is refused before any
# TLS work (the client reads not one byte of a ServerHello), one inside it is
# served. The block listens on 127.0.0.1 and on ::1 and allows only ::1.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"
ip -6 addr show lo 2>/dev/null | grep -q '::1' || skip "no IPv6 loopback"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1 --ip ::1
cert_client alice
P4=$(free_port)
P6=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
serial "$T/dev" {
    listen=tls:127.0.0.1:$P4;
    listen=tls:[::1]:$P6;
    allow="::1/128";
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P4" 10 || fail "the bridge does not listen on $P4"
log_wait "$T/ser.log" "serial $T/dev: open" 1 5 || fail "the device was not opened"

K="-CAfile $CERTS/ca.pem -cert $CERTS/alice.pem -key $CERTS/alice.key"
# shellcheck disable=SC2086
tls_open out 7 -connect "127.0.0.1:$P4" $K
tls_wait out "handshake has read 0 bytes" 5 ||
    fail "a source outside allow= got TLS bytes from the bridge: $(tail -n 8 "$T/out.out")"
tls_close out 7
log_wait "$T/ser.log" "refusing 127.0.0.1:[0-9]*: not in the allow= list" 1 5 ||
    fail "the refusal was not logged with the source"
grep -qi "handshake\|ssl" "$T/ser.log" && fail "TLS work was done for a refused source: $(grep -i 'handshake\|ssl' "$T/ser.log")"
ok "127.0.0.1 is refused before the handshake and the refusal is logged"

# shellcheck disable=SC2086
tls_open in 8 -connect "[::1]:$P6" $K
log_wait "$T/ser.log" "client [0-9]* from \[::1\]" 1 5 || fail "::1 was not admitted: $(tail -n 5 "$T/in.out")"
printf 'for-the-allowed\n' >"$T/peer"
tls_wait in for-the-allowed 5 || fail "the allowed client did not get the device's bytes: $(tail -n 5 "$T/in.out")"
tls_close in 8
stop_ser
ok "::1, in the allow= list, shares the device over TLS"

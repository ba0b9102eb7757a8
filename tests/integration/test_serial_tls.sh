#!/bin/sh
# A serial device shared over TLS with client certificates: the same TLS as
# the SIP listeners (the global tls_* parameters; tls_verify=1 and
# tls_require_certificate=1 here). A client with a certificate of the CA gets
# the device's bytes and its bytes reach the device; one without is refused.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
PT=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
serial "$T/dev" {
    listen=tls:127.0.0.1:$PT;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$PT" 10 || fail "the bridge does not listen on $PT"

C="-connect 127.0.0.1:$PT -CAfile $CERTS/ca.pem"
# shellcheck disable=SC2086
tls_open alice 7 $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
log_wait "$T/ser.log" "client 1 from 127.0.0.1" 1 5 || fail "alice's connection was not established: $(tail -n 5 "$T/alice.out")"
printf 'from-the-device\n' >"$T/peer"
tls_wait alice from-the-device 5 || fail "the device's bytes did not reach alice over TLS: $(tail -n 5 "$T/alice.out")"
printf 'from-alice\n' >&7
timeout 5 sh -c "until grep -q from-alice '$T/got' 2>/dev/null; do dd if='$T/peer' bs=64 count=1 2>/dev/null >>'$T/got'; done" ||
    fail "alice's bytes did not reach the device"
tls_close alice 7
ok "a client with a certificate shares the device over TLS, both ways"

# shellcheck disable=SC2086
tls_open anon 8 $C
tls_wait anon "alert certificate required" 5 || fail "a client without a certificate was not refused: $(tail -n 5 "$T/anon.out")"
tls_close anon 8
grep -q 'peer did not return a certificate' "$T/ser.log" || fail "the refusal was not logged with its reason"
stop_ser
ok "a client without a certificate is refused, with the reason in the log"

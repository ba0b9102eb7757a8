#!/bin/sh
# etc/ser-serial.cfg runs as its comment says: with ser-certs certificates and
# a pty in place of the device, a client with a certificate gets ser2sock's
# banner and the device's bytes over mutual TLS, and the plain listener works.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

P=$(free_port)
P2=$(free_port)
mkdir -p "$T/certs"
"$SER_TOP/tools/ser-certs" ca -d "$T/certs" >/dev/null 2>&1 || fail "ser-certs ca failed"
"$SER_TOP/tools/ser-certs" server localhost -d "$T/certs" --dns localhost --ip 127.0.0.1 >/dev/null 2>&1 ||
    fail "ser-certs server failed"
"$SER_TOP/tools/ser-certs" client panel-reader -d "$T/certs" >/dev/null 2>&1 || fail "ser-certs client failed"
pty_pair
sed -e "s|/tmp/ser-tty|$T/dev|" -e "s|127.0.0.1:10000|127.0.0.1:$P|" -e "s|127.0.0.1:10001|127.0.0.1:$P2|" \
    "$SER_TOP/etc/ser-serial.cfg" >"$T/ser-serial.cfg"
out=$("$SER_BIN" -c -f "$T/ser-serial.cfg" 2>&1) || fail "etc/ser-serial.cfg does not check: $out"
"$SER_BIN" -D -E -f "$T/ser-serial.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "the example does not listen on $P"
log_wait "$T/ser.log" "serial $T/dev: open" 1 5 || fail "the device was not opened"

tls_open reader 7 -connect "127.0.0.1:$P" -CAfile "$T/certs/ca.pem" \
    -cert "$T/certs/panel-reader.pem" -key "$T/certs/panel-reader.key"
tls_wait reader "!SER2SOCK Connected" 5 || fail "no ser2sock banner: $(tail -n 5 "$T/reader.out")"
printf 'hello\n' >"$T/peer"
tls_wait reader hello 5 || fail "the device's bytes did not reach the client: $(tail -n 5 "$T/reader.out")"
tls_close reader 7
ok "etc/ser-serial.cfg: banner and device bytes over mutual TLS"

socat -u "TCP:127.0.0.1:$P2" "OPEN:$T/plain.out,creat" &
SP=$!
# The banner says the client is in (the example logs at notice, not per client).
i=0; while ! grep -q 'SER2SOCK Connected' "$T/plain.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
printf 'plain\n' >"$T/peer"
i=0; while ! grep -q plain "$T/plain.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
grep -q '!SER2SOCK Connected' "$T/plain.out" && grep -q plain "$T/plain.out" ||
    fail "the plain listener did not serve: $(cat "$T/plain.out")"
stop_ser
ok "etc/ser-serial.cfg: the plain listener serves too"

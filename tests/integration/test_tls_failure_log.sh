#!/bin/sh
# A failed TLS handshake is logged once: one line for the connection, at info
# for a peer's fault (issue 13: its level follows the cause), with
# the reason (the verify error or alert), and no second "read error" line
# without one. (Before the TLS transport reported failure_reason() to the
# loop, each failure gave a NOTICE with the reason and then a WARNING without.)
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_expired old
PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" 9 <<CFG
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
CFG
start_ser "$T/ser.cfg"

C="-connect 127.0.0.1:$PT -CAfile $CERTS/ca.pem"
sip_options "sip:ping@127.0.0.1:$PT" failing >"$T/req"; TLS_REQ=$T/req
# shellcheck disable=SC2086
tls_ask none "200 OK" $C && fail "a client without a certificate got in"
# shellcheck disable=SC2086
tls_ask old "200 OK" $C -cert "$CERTS/old.pem" -key "$CERTS/old.key" && fail "an expired certificate got in"
log_wait "$T/ser.log" 'closing: ' 2 5 || fail "ser did not close the two refused connections"

for reason in 'peer did not return a certificate' 'certificate has expired'; do
    id=$(grep "$reason" "$T/ser.log" | sed -n 's/.*conn \([0-9]*\): .*/\1/p' | head -n 1)
    [ -n "$id" ] || fail "no line with the reason '$reason'"
    lines=$(grep -c "conn $id: " "$T/ser.log")
    [ "$lines" -eq 1 ] || fail "connection $id logged $lines lines: $(grep "conn $id: " "$T/ser.log")"
    grep "conn $id: " "$T/ser.log" | grep -q '] INFO: ' || fail "the failure of connection $id is not an info line (a peer's fault)"
done
grep -q 'read error' "$T/ser.log" && fail "a 'read error' line: $(grep -m1 'read error' "$T/ser.log")"
stop_ser
ok "each failed handshake is one info line with its reason"

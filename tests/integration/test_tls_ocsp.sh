#!/bin/sh
# OCSP stapling (issue 13): a response made by ser-certs for the server's
# certificate is stapled to clients that ask (openssl s_client -status) and
# only to them; a response about another certificate is refused by ser -c
# with a warning and never stapled; a new response file (the certificate
# revoked) is taken without a signal, with the certificate's reload.
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/ctl_lib.sh"

certs_ca "$CERTS"
cert_server sip --dns localhost --ip 127.0.0.1
cert_server other --dns localhost
"$SER_CERTS" ocsp sip -d "$CERTS" >/dev/null || fail "ser-certs ocsp sip failed"
"$SER_CERTS" ocsp other -d "$CERTS" >/dev/null || fail "ser-certs ocsp other failed"
cp "$CERTS/sip.ocsp" "$CERTS/live.ocsp"
PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/sip.pem"
tls_private_key="c/sip.key"
tls_ca_list="c/ca.pem"
tls_ocsp_response="c/live.ocsp"
ctl_socket="$T/ctl"
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check" 2>&1 || { cat "$T/check"; fail "ser -c refused a good OCSP response"; }
grep -q 'tls_ocsp_response' "$T/check" && fail "ser -c warns about a good response: $(cat "$T/check")"
start_ser "$T/ser.cfg"

status() { timeout 10 openssl s_client -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" "$@" </dev/null 2>&1; }
status -status >"$T/s1"
grep -q 'OCSP Response Status: successful' "$T/s1" || fail "no OCSP response stapled: $(grep -i ocsp "$T/s1")"
grep -q 'Cert Status: good' "$T/s1" || fail "the stapled response is not 'good': $(grep -i status "$T/s1")"
grep -q 'Verify return code: 0' "$T/s1" || fail "the handshake did not verify"
ok "a client asking for the status gets the stapled response: successful, good"
status >"$T/s2"
grep -q 'OCSP Response Status' "$T/s2" && fail "a response was sent to a client that did not ask"
ok "a client that does not ask gets none"
info=$(rpc "$T/ctl" tls.info)
[ "$(jget "$info" "[d for d in r['result'] if d['domain']=='default'][0]['ocsp_status']")" = good ] ||
    fail "tls.info does not show the OCSP status: $info"
jget "$(rpc "$T/ctl" metrics)" "r['result']" | grep -q '^ser_tls_ocsp_next_update_seconds{domain="default"' ||
    fail "no ser_tls_ocsp_next_update_seconds in the metrics"
ok "tls.info shows the response (good) and the metrics its next update"

# The certificate revoked: a new response renamed into place is stapled without a signal.
"$SER_CERTS" revoke sip -d "$CERTS" >/dev/null || fail "revoke"
"$SER_CERTS" ocsp sip -d "$CERTS" --out "$CERTS/.new.ocsp" >/dev/null || fail "ser-certs ocsp after revoke"
mv "$CERTS/.new.ocsp" "$CERTS/live.ocsp"
i=0; while [ $i -lt 40 ]; do
    status -status >"$T/s3"; grep -q 'Cert Status: revoked' "$T/s3" && break
    sleep 0.05; i=$((i+1)); done
grep -q 'Cert Status: revoked' "$T/s3" || fail "the new response was not stapled within 2 s: $(grep -i 'cert status' "$T/s3")"
ok "a new response file is stapled without a signal (now: revoked)"
stop_ser

# A response about another certificate: ser -c warns, and nothing is stapled.
sed -i 's|c/live.ocsp|c/other.ocsp|' "$T/ser.cfg"
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check2" 2>&1 || { cat "$T/check2"; fail "ser -c failed on a foreign response"; }
grep -q 'warning: .*tls_ocsp_response ".*other.ocsp" is about another certificate, not this tls_certificate: it is not stapled' \
    "$T/check2" || fail "ser -c does not say the response is about another certificate: $(cat "$T/check2")"
start_ser "$T/ser.cfg"
status -status >"$T/s4"
grep -q 'OCSP response: no response sent' "$T/s4" || fail "a response about another certificate was stapled"
stop_ser
ok "a response about another certificate: ser -c warns, and it is never stapled"

sed -i 's|c/other.ocsp|c/missing.ocsp|' "$T/ser.cfg"
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check3" 2>&1 && fail "ser -c accepted a missing tls_ocsp_response"
grep -q 'missing.ocsp" cannot be read' "$T/check3" || fail "no clear error for a missing file: $(cat "$T/check3")"
ok "a missing response file is an error"

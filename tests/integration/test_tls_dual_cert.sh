#!/bin/sh
# Two certificates on one domain (issue 13): an ECDSA tls_certificate and an
# RSA tls_certificate2; a client that only takes RSA (TLS 1.3 with RSA
# signature algorithms only, or TLS 1.2 with ECDHE-RSA suites only) gets the
# RSA certificate, a default client the ECDSA one. Two certificates of one key
# type, or a certificate without its key, are refused by ser -c.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server ec --dns localhost --ip 127.0.0.1 --cn sip-ecdsa
cert_server rsa --dns localhost --ip 127.0.0.1 --cn sip-rsa --key-type rsa2048
cert_server ec2 --dns localhost --ip 127.0.0.1
PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/ec.pem"
tls_private_key="c/ec.key"
tls_certificate2="c/rsa.pem"
tls_private_key2="c/rsa.key"
tls_ca_list="c/ca.pem"
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check" 2>&1 || { cat "$T/check"; fail "ser -c refused an ECDSA + RSA pair"; }
start_ser "$T/ser.cfg"
cn_with() { peer_subject "$PT" -CAfile "$CERTS/ca.pem" -verify_return_error "$@" | sed -n 's/.*CN *= *//p'; }
[ "$(cn_with)" = sip-ecdsa ] || fail "a default client got '$(cn_with)', expected the ECDSA certificate"
ok "a default client gets the ECDSA certificate"
got=$(cn_with -sigalgs 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256')
[ "$got" = sip-rsa ] || fail "a TLS 1.3 client with RSA signature algorithms only got '$got'"
got=$(cn_with -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256')
[ "$got" = sip-rsa ] || fail "a TLS 1.2 client with ECDHE-RSA suites only got '$got'"
got=$(cn_with -tls1_2 -cipher 'ECDHE-ECDSA-AES128-GCM-SHA256')
[ "$got" = sip-ecdsa ] || fail "a TLS 1.2 client with ECDHE-ECDSA suites only got '$got'"
ok "an RSA-only client gets the RSA certificate (TLS 1.3 and 1.2), an ECDSA-only one the ECDSA certificate"
sip_options "sip:ping@127.0.0.1:$PT" dual >"$T/req"; TLS_REQ=$T/req
tls_ask rsa 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error -tls1_2 \
    -cipher 'ECDHE-RSA-AES128-GCM-SHA256' || fail "no 200 over the RSA certificate"
ok "SIP over the RSA certificate"
stop_ser

sed -i 's|c/rsa.pem|c/ec2.pem|; s|c/rsa.key|c/ec2.key|' "$T/ser.cfg"
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check2" 2>&1 && fail "ser -c accepted two ECDSA certificates"
grep -q 'tls_certificate2 ".*ec2.pem" has the same key type as tls_certificate' "$T/check2" ||
    fail "no clear error for two certificates of one key type: $(cat "$T/check2")"
sed -i '/tls_private_key2/d' "$T/ser.cfg"
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check3" 2>&1 && fail "ser -c accepted tls_certificate2 without its key"
grep -q 'tls_certificate2 and tls_private_key2 go together' "$T/check3" || fail "no clear error: $(cat "$T/check3")"
ok "two certificates of one key type, or one without its key: clear errors"

#!/bin/sh
# Mutual TLS on ser's TLS listener (SER TLS guide 1.5.8 / 1.6):
#   tls_verify=1, tls_require_certificate=1: a good client certificate gets in
#   (OPTIONS answered by ser itself, and one forwarded through ser to a second
#   ser over UDP whose 200 comes back on the TLS connection); no certificate,
#   another CA's, an expired one and a revoked one (tls_crl) are refused.
#   tls_verify=1, tls_require_certificate=0: no certificate is fine, a bad one is not.
#   tls_verify=0: ser asks for no certificate at all.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
cert_client bob
cert_expired old
"$SER_CERTS" revoke bob -d "$CERTS" >/dev/null || fail "ser-certs revoke failed"
certs_ca "$T/other"
cert_client mallory -d "$T/other"

PU=$(free_port); PT=$(free_port); PB=$(free_port)
[ "$PU" = "$PT" ] || [ "$PU" = "$PB" ] || [ "$PT" = "$PB" ] && fail "port clash, run again"

# The second ser: UDP only, answers every OPTIONS with a reason phrase of its own.
cat >"$T/b.cfg" <<CFG
debug=3
children=1
listen=udp:127.0.0.1:$PB
route {
    if (method=="OPTIONS") { sl_send_reply("200", "OK from B"); break; };
    drop;
}
CFG
ser_start b "$T/b.cfg"

write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PB" <<CFG
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_crl="c/crl.pem"
tls_verify=1
tls_require_certificate=1
CFG
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)

C="-connect 127.0.0.1:$PT -CAfile $CERTS/ca.pem -verify_return_error"
OK='SIP/2.0 200 OK'

sip_options "sip:ping@127.0.0.1:$PT" own-1 >"$T/own-1.req"; TLS_REQ=$T/own-1.req
# shellcheck disable=SC2086
tls_ask alice "$OK" $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "good client certificate: no 200 from ser; s_client said: $(tail -n 5 "$T/alice.out")"
grep -q 'Acceptable client certificate CA names' "$T/alice.out" ||
    fail "with tls_verify=1 ser sent no CA names in its certificate request"
grep -q 'peer .*CN *= *alice (verified)' "$T/ser.log" || fail "ser did not log alice's verified certificate"
ok "good client certificate: handshake, OPTIONS answered 200 by ser"

sip_options "sip:ping@127.0.0.1:$PB" via-b-1 >"$T/via-b-1.req"; TLS_REQ=$T/via-b-1.req
# shellcheck disable=SC2086
tls_ask alice_b "$OK from B" $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "OPTIONS through ser to the second ser: no 200 back over TLS; s_client said: $(tail -n 5 "$T/alice_b.out")"
grep -q 'Call-ID: via-b-1' "$T/alice_b.out" || fail "the 200 from B is not the answer to our request"
ok "OPTIONS forwarded through ser to a second ser (UDP); its 200 came back over the TLS connection"

sip_options "sip:ping@127.0.0.1:$PT" refused >"$T/refused.req"; TLS_REQ=$T/refused.req
refused() { # $1 = name, $2 = what, $3 = expected alert, rest = s_client arguments
    rname=$1 what=$2 alert=$3; shift 3
    # shellcheck disable=SC2086
    tls_ask "$rname" "$OK" $C "$@" && fail "$what: ser answered 200 instead of refusing"
    grep -qi "alert $alert" "$T/$rname.out" ||
        fail "$what: no '$alert' alert from ser; s_client said: $(grep -i -m3 'alert\|error' "$T/$rname.out")"
    ok "$what: refused (alert $alert)"
}
refused none "no client certificate" "certificate required"
refused other "certificate of another CA" "unknown ca" -cert "$T/other/mallory.pem" -key "$T/other/mallory.key"
refused old "expired certificate" "certificate expired" -cert "$CERTS/old.pem" -key "$CERTS/old.key"
refused bob "revoked certificate (tls_crl)" "certificate revoked" -cert "$CERTS/bob.pem" -key "$CERTS/bob.key"
grep -q 'peer did not return a certificate' "$T/ser.log" || fail "ser did not log the missing certificate"
grep -q 'certificate has expired' "$T/ser.log" || fail "ser did not log the expired certificate"
grep -q 'certificate revoked' "$T/ser.log" || fail "ser did not log the revoked certificate"

sip_options "sip:ping@127.0.0.1:$PT" own-2 >"$T/own-2.req"; TLS_REQ=$T/own-2.req
# shellcheck disable=SC2086
tls_ask alice2 "$OK" $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "alice refused after the refusals (CRL should only hit bob)"
ok "alice still gets in with the CRL loaded"
[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
stop_ser

# tls_verify=1, tls_require_certificate=0: the certificate is optional, but checked when given.
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PB" <<CFG
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=0
CFG
start_ser "$T/ser.cfg"
sip_options "sip:ping@127.0.0.1:$PT" optional-1 >"$T/optional-1.req"; TLS_REQ=$T/optional-1.req
# shellcheck disable=SC2086
tls_ask opt_none "$OK" $C || fail "tls_require_certificate=0: a client without certificate was refused"
grep -q 'Acceptable client certificate CA names' "$T/opt_none.out" || fail "tls_verify=1 but no certificate request"
ok "tls_verify=1, tls_require_certificate=0: no client certificate is accepted"
refused opt_other "tls_require_certificate=0 with another CA's certificate" "unknown ca" \
    -cert "$T/other/mallory.pem" -key "$T/other/mallory.key"
stop_ser

# tls_verify=0: no certificate request at all.
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PB" <<CFG
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=0
tls_require_certificate=1
CFG
start_ser "$T/ser.cfg"
sip_options "sip:ping@127.0.0.1:$PT" noverify-1 >"$T/noverify-1.req"; TLS_REQ=$T/noverify-1.req
# shellcheck disable=SC2086
tls_ask nov "$OK" $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" || fail "tls_verify=0: no 200"
grep -q 'No client certificate CA names sent' "$T/nov.out" || fail "tls_verify=0 but ser asked for a client certificate"
grep -q 'peer without certificate' "$T/ser.log" || fail "tls_verify=0: ser got a client certificate it should not have asked for"
ok "tls_verify=0: no certificate request (and tls_require_certificate is ignored)"
stop_ser
ser_stop b
ok "client certificate checks done"

#!/bin/sh
# TLS identity at the edge (issue 13):
# - tls_peer_matches_from(): a verified client certificate whose SIP identity
#   (RFC 5922: sip: URI and DNS SANs) covers the From domain; tls_peer_san("name");
# - tls_require_certificate=optional_no_ca: a phone's self-signed certificate
#   is asked for and accepted unverified, and the script sees its fingerprint;
#   a client without one gets in too;
# - tls_verify_depth: a client certificate under an intermediate CA is refused
#   with tls_verify_depth=0 and accepted with the default.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice --dns alice.example.com
cert_client bob --dns bob.example.com
"$SER_CERTS" selfsigned phone -d "$CERTS" >/dev/null || fail "ser-certs selfsigned"
"$SER_CERTS" intermediate issuing -d "$CERTS" >/dev/null || fail "ser-certs intermediate"
"$SER_CERTS" client deep --ca issuing -d "$CERTS" >/dev/null || fail "ser-certs client --ca issuing"
PU=$(free_port); PT=$(free_port); PO=$(free_port); PD=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=2
ctl_socket="none"
listen=udp:127.0.0.1:$PU
listen=tls:127.0.0.1:$PT
listen=tls:127.0.0.1:$PO
listen=tls:127.0.0.1:$PD
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
tls_domain[127.0.0.1:$PO] {
    tls_require_certificate=optional_no_ca
}
tls_domain[127.0.0.1:$PD] {
    tls_verify_depth=0
}
route {
    if (dst_port==$PO) {
        log(1, "phone fingerprint=\$tls_peer_fingerprint verified=\$tls_verified");
        sl_send_reply("200", "phone");
        break;
    };
    if (tls_peer_matches_from()) { sl_send_reply("200", "From covered"); break; };
    if (tls_peer_san("alice.example.com")) { sl_send_reply("202", "SAN alice"); break; };
    sl_send_reply("403", "From not covered");
}
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check" 2>&1 || { cat "$T/check"; fail "ser -c"; }
start_ser "$T/ser.cfg"

ask() { # NAME FROM-HOST PORT EXPECT ARGS...
    _n=$1 _from=$2 _port=$3 _want=$4; shift 4
    printf 'OPTIONS sip:ping@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: "T" <sip:t@%s>;tag=%s\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
        "$_port" "$_n" "$_from" "$_n" "$_n" >"$T/$_n.req"
    TLS_REQ=$T/$_n.req tls_ask "$_n" "$_want" -connect "127.0.0.1:$_port" -CAfile "$CERTS/ca.pem" "$@"
}
ask a1 alice.example.com "$PT" 'SIP/2.0 200 From covered' -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "alice with From alice.example.com: $(grep SIP/2.0 "$T/a1.out")"
ask a2 ALICE.Example.COM "$PT" 'SIP/2.0 200 From covered' -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "the From domain is compared case-insensitively"
ask a3 evil.example "$PT" 'SIP/2.0 202 SAN alice' -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" ||
    fail "alice with another From: $(grep SIP/2.0 "$T/a3.out")"
ask b1 alice.example.com "$PT" 'SIP/2.0 403' -cert "$CERTS/bob.pem" -key "$CERTS/bob.key" ||
    fail "bob speaking for alice.example.com was not refused: $(grep SIP/2.0 "$T/b1.out")"
ask b2 example.com "$PT" 'SIP/2.0 403' -cert "$CERTS/bob.pem" -key "$CERTS/bob.key" ||
    fail "a parent domain matched bob.example.com"
ok "tls_peer_matches_from(): the certificate's SIP identity must cover the From domain (case-insensitive, whole names); tls_peer_san()"

ask p1 phone "$PO" 'SIP/2.0 200 phone' -cert "$CERTS/phone.pem" -key "$CERTS/phone.key" ||
    fail "optional_no_ca refused a self-signed phone certificate: $(tail -n 3 "$T/ser.log")"
fp=$(openssl x509 -in "$CERTS/phone.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
log_wait "$T/ser.log" "phone fingerprint=sha256:$fp verified=0" 1 5 ||
    fail "the script did not see the phone's fingerprint $fp: $(grep 'phone fingerprint' "$T/ser.log")"
ask p2 phone "$PO" 'SIP/2.0 200 phone' || fail "optional_no_ca refused a client without a certificate"
ask p3 phone "$PT" 'SIP/2.0' -cert "$CERTS/phone.pem" -key "$CERTS/phone.key" &&
    fail "the strict listener accepted the self-signed phone"
ok "optional_no_ca: a self-signed certificate is accepted unverified with its fingerprint; none is fine too; strict listeners still refuse it"

ask d1 x "$PT" 'SIP/2.0 403' -cert "$CERTS/deep.pem" -key "$CERTS/deep.key" -cert_chain "$CERTS/issuing/chain.pem" ||
    fail "a client under an intermediate CA was refused with the default depth: $(tail -n 2 "$T/ser.log")"
ask d2 x "$PD" 'SIP/2.0' -cert "$CERTS/deep.pem" -key "$CERTS/deep.key" -cert_chain "$CERTS/issuing/chain.pem" &&
    fail "tls_verify_depth=0 accepted a client under an intermediate CA"
log_wait "$T/ser.log" 'certificate chain too long' 1 5 || fail "the depth refusal is not logged"
ok "tls_verify_depth=0 refuses a chain through an intermediate; the default accepts it"
stop_ser

#!/bin/sh
# A session made with one TLS domain never resumes in another: the SNI-selected
# domain is chosen from the ClientHello before the session is looked up, and
# each domain has its own session context. Otherwise a client could skip the
# certificate a strict domain requires by resuming a session of a lax one.
. "$(dirname "$0")/tls_lib.sh"

certs_ca
cert_server localhost --dns localhost --ip 127.0.0.1
cert_server trunk --dns trunk.example
U=$(free_port); P=$(free_port)
write_tls_cfg "$T/ser.cfg" "$U" "$P" 9 <<CFG
tls_certificate="$CERTS/localhost.pem"
tls_private_key="$CERTS/localhost.key"
tls_domain[127.0.0.1:$P] {
    tls_certificate="$CERTS/localhost.pem"
    tls_private_key="$CERTS/localhost.key"
}
tls_domain[127.0.0.1:$P] {
    tls_server_name="trunk.example"
    tls_certificate="$CERTS/trunk.pem"
    tls_private_key="$CERTS/trunk.key"
    tls_ca_list="$CERTS/ca.pem"
    tls_verify=1
    tls_require_certificate=1
}
CFG
start_ser "$T/ser.cfg"
sip_options "sip:ping@127.0.0.1:$P" sniresume >"$T/req"
TLS_REQ=$T/req

for v in tls1_2 tls1_3; do
    rm -f "$T/sess"
    tls_ask lax_$v 'SIP/2.0 200' -connect "127.0.0.1:$P" -$v -sess_out "$T/sess" \
        || fail "$v: the lax default domain did not answer"
    [ -s "$T/sess" ] || fail "$v: no session saved"
    tls_ask strict_$v 'SIP/2.0 200' -connect "127.0.0.1:$P" -$v -servername trunk.example -sess_in "$T/sess" \
        && fail "$v: a session of the lax domain was resumed in the strict one, without a client certificate"
    grep -q '^Reused' "$T/strict_$v.out" && fail "$v: session reused across domains"
    tls_ask again_$v 'SIP/2.0 200' -connect "127.0.0.1:$P" -$v -sess_in "$T/sess" \
        || fail "$v: resumption within the lax domain broke"
    grep -q '^Reused' "$T/again_$v.out" || fail "$v: session not resumed within its own domain"
done
stop_ser
ok "sessions resume within their TLS domain only (TLS 1.2 and 1.3)"

#!/bin/sh
# The TLS facts in the route script: is_peer_verified(), proto==TLS and the
# $tls_* log variables, over tls_verify=1 / tls_require_certificate=0 (the
# seed's "certificate optional" row); and session resumption for a client
# that reconnects (TLS 1.2 session cache, TLS 1.3 tickets).
. "$(dirname "$0")/tls_lib.sh"

certs_ca
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
U=$(free_port); P=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=2
listen=udp:127.0.0.1:$U
listen=tls:127.0.0.1:$P
tls_certificate="$CERTS/localhost.pem"
tls_private_key="$CERTS/localhost.key"
tls_ca_list="$CERTS/ca.pem"
tls_verify=1
tls_require_certificate=0
route {
    if (proto == TLS && is_peer_verified()) {
        log(2, "verified peer cn=\$tls_peer_cn version=\$tls_version cipher=\$tls_cipher\n");
        sl_send_reply("200", "Verified");
        break;
    };
    if (proto == TLS) {
        sl_send_reply("403", "Certificate Required");
        break;
    };
    sl_send_reply("488", "Not Over TLS");
}
CFG
start_ser "$T/ser.cfg"
sip_options "sip:ping@127.0.0.1:$P" script >"$T/req"
TLS_REQ=$T/req

tls_ask withcert 'SIP/2.0 200 Verified' -connect "127.0.0.1:$P" -CAfile "$CERTS/ca.pem" \
    -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" || fail "verified client not recognised by is_peer_verified()"
log_wait "$T/ser.log" 'verified peer cn=alice version=TLSv1.3 cipher=TLS_' 1 5 || fail "no \$tls_* facts in the log line"
tls_ask nocert 'SIP/2.0 403' -connect "127.0.0.1:$P" -CAfile "$CERTS/ca.pem" \
    || fail "a client without certificate was not told 403 by the script"
ok "is_peer_verified(), proto==TLS and \$tls_peer_cn/\$tls_version/\$tls_cipher in the route script"

# Resumption: the second connection reuses the first one's session.
for v in tls1_2 tls1_3; do
    rm -f "$T/sess"
    tls_ask first_$v 'SIP/2.0 200' -connect "127.0.0.1:$P" -$v -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
        -key "$CERTS/alice.key" -sess_out "$T/sess" || fail "$v: first connection failed"
    [ -s "$T/sess" ] || fail "$v: no session saved by the client"
    tls_ask again_$v 'SIP/2.0 200' -connect "127.0.0.1:$P" -$v -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
        -key "$CERTS/alice.key" -sess_in "$T/sess" || fail "$v: resumed connection failed"
    grep -q '^Reused' "$T/again_$v.out" || fail "$v: session not resumed: $(grep -E '^(New|Reused)' "$T/again_$v.out")"
done
log_wait "$T/ser.log" '(resumed)' 2 5 || fail "ser's log does not show the resumed handshakes"
stop_ser
ok "sessions resumed for a reconnecting client over TLS 1.2 and TLS 1.3"

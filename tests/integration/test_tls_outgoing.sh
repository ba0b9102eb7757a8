#!/bin/sh
# An outgoing TLS hop: OPTIONS by UDP to ser A, which forward_tls()es to ser B;
# B answers 200 and the answer comes back through A.
#   A: tls_client_domain[127.0.0.1:PB] with tls_verify=1, the CA and A's client
#      certificate; globally tls_verify=1 and the CA, but no certificate. A also
#      has a TLS listener: ser sends over TLS only from one (its Via names it).
#   B: PB  certificate for localhost and 127.0.0.1, client certificate required;
#      PN  the same, but A has no client domain for it, so presents no certificate;
#      PW  a certificate for wrong.example only, no client certificate asked;
#      PI  a certificate for the IP 127.0.0.1 only, no client certificate asked.
# The R-URI user picks A's target: name -> localhost:PB, ip -> 127.0.0.1:PB,
# nocert -> 127.0.0.1:PN, wrongip -> 127.0.0.1:PW, wrongname -> localhost:PW,
# ipfirst -> 127.0.0.1:PI, thenname -> localhost:PI.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"
getent ahosts localhost | head -n 1 | grep -q '^127\.0\.0\.1 ' ||
    skip "localhost does not resolve to 127.0.0.1 first here"

certs_ca "$CERTS"
cert_server b --dns localhost --ip 127.0.0.1
cert_server wrong --dns wrong.example
cert_server iponly --ip 127.0.0.1
cert_server a_listener --ip 127.0.0.1
cert_client proxy_a

PA=$(free_port); PB=$(free_port); PN=$(free_port); PW=$(free_port); PI=$(free_port)
[ "$(printf '%s\n' "$PA" "$PB" "$PN" "$PW" "$PI" | sort -u | wc -l)" -eq 5 ] || fail "port clash, run again"

cat >"$T/b.cfg" <<CFG
debug=3
children=1
tcp_children=2
listen=tls:127.0.0.1:$PB
listen=tls:127.0.0.1:$PN
listen=tls:127.0.0.1:$PW
listen=tls:127.0.0.1:$PI
tls_certificate="c/b.pem"
tls_private_key="c/b.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
tls_domain[127.0.0.1:$PW] {
    tls_certificate="c/wrong.pem"
    tls_private_key="c/wrong.key"
    tls_verify=0
    tls_require_certificate=0
}
tls_domain[127.0.0.1:$PI] {
    tls_certificate="c/iponly.pem"
    tls_private_key="c/iponly.key"
    tls_verify=0
    tls_require_certificate=0
}
route {
    if (method=="OPTIONS") { sl_send_reply("200", "OK from B"); break; };
    drop;
}
CFG
cat >"$T/a.cfg" <<CFG
debug=3
children=1
tcp_children=2
listen=udp:127.0.0.1:$PA
listen=tls:127.0.0.1:$PA
tls_domain[127.0.0.1:$PA] {
    tls_certificate="c/a_listener.pem"
    tls_private_key="c/a_listener.key"
}
tls_certificate="c/none.pem"
tls_private_key="c/none.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_client_domain[127.0.0.1:$PB] {
    tls_verify=1
    tls_ca_list="c/ca.pem"
    tls_certificate="c/proxy_a.pem"
    tls_private_key="c/proxy_a.key"
}
route {
    if (uri=~"^sip:name@") { forward_tls(localhost, $PB); break; };
    if (uri=~"^sip:ip@") { forward_tls(127.0.0.1, $PB); break; };
    if (uri=~"^sip:nocert@") { forward_tls(127.0.0.1, $PN); break; };
    if (uri=~"^sip:wrongip@") { forward_tls(127.0.0.1, $PW); break; };
    if (uri=~"^sip:wrongname@") { forward_tls(localhost, $PW); break; };
    if (uri=~"^sip:ipfirst@") { forward_tls(127.0.0.1, $PI); break; };
    if (uri=~"^sip:thenname@") { forward_tls(localhost, $PI); break; };
    sl_send_reply("404", "Not Here");
}
CFG
ser_start b "$T/b.cfg"
ser_start a "$T/a.cfg"

show() { echo "--- a.log:"; tail -n 15 "$T/a.log"; echo "--- b.log:"; tail -n 15 "$T/b.log"; }

count() { c=$(grep -c -- "$2" "$1" 2>/dev/null); echo "${c:-0}"; }
# ask_a USER [LOG PATTERN]: OPTIONS to A; true when B's 200 came back. With LOG and
# PATTERN, stop waiting as soon as PATTERN shows up once more in LOG (the hop failed).
ask_a() {
    sip_options "sip:$1@127.0.0.1:$PA" "out-$1" UDP >"$T/$1.req"
    UDP_REQ=$T/$1.req
    UDP_ASK_UNTIL=""
    [ $# -ge 3 ] && UDP_ASK_UNTIL="[ \$(count '$2' '$3') -gt $(count "$2" "$3") ]"
    udp_ask "$1" "$PA" '^SIP/2.0 [2-6]'
    grep -q '^SIP/2.0 200 OK from B' "$T/$1.out"
}
# fails_with USER LOG PATTERN WHAT: the hop must fail and LOG must say PATTERN (once more).
fails_with() {
    before=$(count "$2" "$3")
    ask_a "$1" "$2" "$3" && { show; fail "$4: B's 200 came back"; }
    log_wait "$2" "$3" $((before + 1)) 5 || { show; fail "$4: no (new) '$3' in $(basename "$2")"; }
}

ask_a name || { show; fail "forward_tls(localhost, PB): no 200 from B; A answered: $(head -n 1 "$T/name.out")"; }
grep -q 'Call-ID: out-name' "$T/name.out" || fail "the 200 is not the answer to our request"
grep -q 'peer CN *= *proxy_a (verified)' "$T/b.log" || { show; fail "B did not see A's verified client certificate"; }
ok "UDP -> A -> TLS -> B and 200 back: SNI + DNS SAN localhost verified by A, A's client certificate (tls_client_domain) by B"

ask_a ip || { show; fail "forward_tls(127.0.0.1, PB): no 200 from B"; }
ok "forward_tls(127.0.0.1, PB): 200 back (B's certificate holds the IP too)"

ask_a ipfirst || { show; fail "forward_tls(127.0.0.1, PI): no 200 from B"; }
grep -q 'peer CN *= *iponly (verified)' "$T/a.log" || { show; fail "A did not verify B's IP-only certificate"; }
ok "forward_tls(127.0.0.1, PI): IP SAN verified on a new connection; 200 back"

fails_with nocert "$T/b.log" 'peer did not return a certificate' "no client certificate for PN"
ok "without a client domain A presents no certificate, and B (tls_require_certificate=1) refuses it"

fails_with wrongip "$T/a.log" 'IP address mismatch' "certificate for wrong.example at 127.0.0.1"
fails_with wrongname "$T/a.log" 'hostname mismatch' "certificate for wrong.example at localhost"
ok "a server certificate for another name fails the hop (no 200), and A says why"

# The connection to PI, verified for the IP 127.0.0.1, must not carry a request for
# the name localhost, which its certificate does not hold (RFC 5922 7.4, RFC 5923 5).
fails_with thenname "$T/a.log" 'mismatch' \
    "forward_tls(localhost, PI) over the connection verified for 127.0.0.1 only, whose certificate has no DNS name localhost"
ok "a connection verified for 127.0.0.1 is not reused for the name localhost"

ask_a ip || { show; fail "the good hop failed after the bad ones"; }
ok "the good hop still works"
ser_stop a
ser_stop b

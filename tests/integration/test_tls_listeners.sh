#!/bin/sh
# Several TLS listeners, each with its own certificate (tls_domain[IP:port]),
# and SNI: two domains on one listener, one with tls_server_name="a.example".
#   127.0.0.1:P1  no domain: the global certificate ("main")
#   127.0.0.1:P2  tls_domain: "two"; tls_domain with tls_server_name="a.example": "a.example"
#   [::1]:P1      tls_domain: "six" (when the loopback has IPv6)
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server main --ip 127.0.0.1
cert_server two --ip 127.0.0.1
cert_server a.example --dns a.example
V6=0
ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' && V6=1
[ $V6 = 1 ] && cert_server six --ip ::1

PU=$(free_port); P1=$(free_port); P2=$(free_port)
[ "$PU" = "$P1" ] || [ "$PU" = "$P2" ] || [ "$P1" = "$P2" ] && fail "port clash, run again"
{
    echo "listen=tls:127.0.0.1:$P2"
    [ $V6 = 1 ] && echo "listen=tls:[::1]:$P1"
    cat <<CFG
tls_certificate="c/main.pem"
tls_private_key="c/main.key"
tls_domain[127.0.0.1:$P2] {
    tls_certificate="c/two.pem"
    tls_private_key="c/two.key"
}
tls_domain[127.0.0.1:$P2] {
    tls_server_name="a.example"
    tls_certificate="c/a.example.pem"
    tls_private_key="c/a.example.key"
}
CFG
    [ $V6 = 1 ] && printf 'tls_domain[[::1]:%s] {\n    tls_certificate="c/six.pem"\n    tls_private_key="c/six.key"\n}\n' "$P1"
} | write_tls_cfg "$T/ser.cfg" "$PU" "$P1" "$PU"
start_ser "$T/ser.cfg"

subject_is() { # $1 = expected CN, $2 = what, rest = peer_subject arguments
    want=$1 what=$2; shift 2
    got=$(peer_subject "$@")
    echo "$got" | grep -q "CN *= *$want\$" || fail "$what: expected CN $want, got '$got'"
}

subject_is main "127.0.0.1:$P1 (global certificate)" "$P1" -noservername
subject_is two "127.0.0.1:$P2 (its tls_domain)" "$P2" -noservername
ok "each IPv4 listener sends its own certificate"

subject_is a.example "SNI a.example on $P2" "$P2" -servername a.example
subject_is a.example "SNI A.EXAMPLE on $P2 (names are case-insensitive)" "$P2" -servername A.EXAMPLE
subject_is two "SNI other.example on $P2" "$P2" -servername other.example
subject_is main "SNI a.example on $P1 (no such domain there)" "$P1" -servername a.example
ok "SNI: a.example gets its domain's certificate, other or no names the listener's default"

sip_options "sip:ping@127.0.0.1:$P2" sni >"$T/sni.req"
TLS_REQ=$T/sni.req
tls_ask sni 'SIP/2.0 200 OK' -connect "127.0.0.1:$P2" -servername a.example -CAfile "$CERTS/ca.pem" \
    -verify_return_error -verify_hostname a.example || fail "no 200 over the SNI-selected domain"
ok "OPTIONS answered over the connection whose domain SNI chose (certificate verified for a.example)"

if [ $V6 = 1 ]; then
    got=$(timeout 10 openssl s_client -connect "[::1]:$P1" -noservername </dev/null 2>/dev/null |
        openssl x509 -noout -subject 2>/dev/null)
    echo "$got" | grep -q 'CN *= *six$' || fail "[::1]:$P1: expected CN six, got '$got'"
    subject_is main "127.0.0.1:$P1 next to [::1]:$P1" "$P1" -noservername
    ok "[::1]:$P1 and 127.0.0.1:$P1 send different certificates"
else
    echo "note: no IPv6 on the loopback, [::1] listener not tested"
fi
kill -0 "$SER_PID" || fail "ser died"
stop_ser

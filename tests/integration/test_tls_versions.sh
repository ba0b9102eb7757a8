#!/bin/sh
# tls_method and tls_ciphers_list on ser's TLS listener:
#   sslv23 (default): TLS 1.2 and 1.3 accepted, TLS 1.1 refused by ser (TLS 1.2 floor);
#   the same client gets TLS 1.1 from ser with the explicit legacy opt-in tls_method=tlsv1.1,
#   which shows the refusal was ser's and not the client's;
#   tlsv1.2 refuses 1.3, tlsv1.3 refuses 1.2;
#   tls_ciphers_list with one TLS 1.2 cipher: that cipher is used, others are refused.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1

PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
sip_options "sip:ping@127.0.0.1:$PT" versions >"$T/req"
TLS_REQ=$T/req
C="-connect 127.0.0.1:$PT -CAfile $CERTS/ca.pem -verify_return_error"
# OpenSSL 3 clients offer TLS 1.1 only at security level 0.
LEGACY="-tls1_1 -cipher DEFAULT@SECLEVEL=0"

run_with() { # $1 = extra global parameters (one per line)
    stop_ser
    printf 'tls_certificate="c/localhost.pem"\ntls_private_key="c/localhost.key"\n%s\n' "$1" |
        write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU"
    start_ser "$T/ser.cfg"
}

accepted() { # $1 = session name, $2 = protocol expected, rest = s_client options
    aname=$1 proto=$2; shift 2
    # shellcheck disable=SC2086
    tls_ask "$aname" 'SIP/2.0 200 OK' $C "$@" || fail "$proto: no 200; s_client said: $(grep -i -m3 'alert\|error' "$T/$aname.out")"
    grep -q "Protocol *: *$proto\$" "$T/$aname.out" || fail "expected $proto, s_client says: $(grep -m1 'Protocol *:' "$T/$aname.out")"
}

refused() { # $1 = session name, $2 = what s_client must report (grep -E), rest = s_client options
    rname=$1 alert=$2; shift 2
    # shellcheck disable=SC2086
    tls_ask "$rname" 'SIP/2.0 200 OK' $C "$@" && fail "$rname: ser accepted what it should refuse"
    grep -E -q "$alert" "$T/$rname.out" ||
        fail "$rname: no '$alert' alert from ser; s_client said: $(grep -i -m3 'alert\|error' "$T/$rname.out")"
}

run_with ""
# shellcheck disable=SC2086
refused def_11 "alert protocol version" $LEGACY
grep -q 'unsupported protocol' "$T/ser.log" || fail "ser did not log the refused TLS 1.1 handshake"
accepted def_12 TLSv1.2 -tls1_2
accepted def_13 TLSv1.3 -tls1_3
accepted def_any TLSv1.3
ok "tls_method=sslv23 (default): TLS 1.1 refused, 1.2 and 1.3 accepted, 1.3 preferred"

run_with "tls_method=tlsv1.1"
grep -q -i 'warn' "$T/ser.log" || fail "no warning for the legacy tls_method=tlsv1.1"
# shellcheck disable=SC2086
accepted leg_11 TLSv1.1 $LEGACY
# ser answers with TLS 1.1, which a TLS 1.2-only client turns down.
refused leg_12 "unsupported protocol" -tls1_2
ok "tls_method=tlsv1.1 (legacy opt-in, warned about): the same TLS 1.1 client gets in, 1.2 does not"

run_with "tls_method=tlsv1.2"
refused m12_13 "alert protocol version" -tls1_3
accepted m12_12 TLSv1.2 -tls1_2
accepted m12_any TLSv1.2
ok "tls_method=tlsv1.2: TLS 1.3 refused, 1.2 accepted"

run_with "tls_method=tlsv1.3"
refused m13_12 "alert protocol version" -tls1_2
accepted m13_13 TLSv1.3 -tls1_3
ok "tls_method=tlsv1.3: TLS 1.2 refused, 1.3 accepted"

run_with 'tls_ciphers_list="ECDHE-ECDSA-AES128-SHA256"'
accepted c_one TLSv1.2 -tls1_2
grep -q 'Cipher is ECDHE-ECDSA-AES128-SHA256' "$T/c_one.out" ||
    fail "tls_ciphers_list not applied: $(grep -m1 'Cipher is' "$T/c_one.out")"
refused c_other "alert handshake failure" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
ok "tls_ciphers_list with one cipher: it is the one used, another is refused"
stop_ser

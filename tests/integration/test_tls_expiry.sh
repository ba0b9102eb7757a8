#!/bin/sh
# Expiry that warns before it bites (issue 12):
# - ser -c fails, naming the file and the date, for a server certificate that
#   expired or is not yet valid, for a CRL past its next update, and for a
#   client-only certificate as server certificate; it warns (exit 0) for a
#   certificate ending within tls_expiry_warn_days (10 days here);
# - at run time the soon-ending certificate is logged as a warning at start;
# - a CRL that passes its next update while ser runs refuses every client
#   certificate with tls_crl_expired=refuse (the default), logged with the file;
# - tls_crl_expired=warn keeps accepting good clients (ser -c warns, the start
#   logs it loudly), and a revoked client is still refused.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server good --dns localhost --ip 127.0.0.1
cert_client alice
cert_client bob
"$SER_CERTS" revoke bob -d "$CERTS" >/dev/null || fail "ser-certs revoke bob failed"

# dated NAME START END: a serverAuth certificate of the CA with these dates.
dated() { cert_dated "$1" "$2" "$3" serverAuth "DNS:localhost,IP:127.0.0.1"; }
# crl_until FILE NEXT: the CA's CRL (bob revoked) with nextUpdate NEXT (YYYYMMDDHHMMSSZ).
crl_until() {
    cat >"$T/crl.cnf" <<CNF
[ ca ]
default_ca = c
[ c ]
database = ./index.txt
crlnumber = ./crlnumber
default_md = sha256
CNF
    (cd "$CERTS" && openssl ca -batch -config "$T/crl.cnf" -cert ca.pem -keyfile ca.key -gencrl \
        -crl_lastupdate 20200101000000Z -crl_nextupdate "$2" -out "$1") >"$T/crl.log" 2>&1 ||
        { cat "$T/crl.log"; fail "openssl ca -gencrl"; }
}
utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

dated old 20190101000000Z 20200101000000Z
dated future "$(utc '+30 days')" "$(utc '+400 days')"
dated soon "$(utc '-1 day')" "$(utc '+10 days -1 hour')"   # 9 days and 23 hours left
crl_until "$CERTS/crl-old.pem" 20200201000000Z

PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
# check NAME EXPECT-RC LINES: ser -c on a config with the TLS LINES (stdin).
check() {
    write_tls_cfg "$T/$1.cfg" "$PU" "$PT" "$PU"
    "$SER_BIN" -c -f "$T/$1.cfg" >"$T/$1.check" 2>&1
    _rc=$?
    [ "$_rc" -eq "$2" ] || { cat "$T/$1.check"; fail "ser -c on $1: exit $_rc, expected $2"; }
}
has() { grep -q -- "$2" "$T/$1.check" || { cat "$T/$1.check"; fail "ser -c on $1 does not say: $2"; }; }

check expired 1 <<CFG
tls_certificate="c/old.pem"
tls_private_key="c/old.key"
CFG
has expired 'error: default TLS domain: tls_certificate ".*/c/old.pem" expired on 2020-01-01 00:00 UTC'
ok "ser -c: an expired certificate is an error naming the file and the date"

check future 1 <<CFG
tls_certificate="c/future.pem"
tls_private_key="c/future.key"
CFG
has future 'error: .*future.pem" is not valid before 20[0-9-]* [0-9:]* UTC (in 30 days)'
ok "ser -c: a certificate not yet valid is an error"

check crlold 1 <<CFG
tls_certificate="c/good.pem"
tls_private_key="c/good.key"
tls_ca_list="c/ca.pem"
tls_crl="c/crl-old.pem"
tls_verify=1
CFG
has crlold 'error: .*tls_crl ".*crl-old.pem" is past its next update since 2020-02-01 00:00 UTC'
ok "ser -c: a CRL past its next update is an error (tls_crl_expired=refuse)"

check role 1 <<CFG
tls_certificate="c/alice.pem"
tls_private_key="c/alice.key"
CFG
has role 'alice.pem" is not a server certificate'
ok "ser -c: a client-only certificate as server certificate is an error"

check soon 0 <<CFG
tls_certificate="c/soon.pem"
tls_private_key="c/soon.key"
tls_expiry_warn_days=30
CFG
has soon 'warning: default TLS domain: tls_certificate ".*soon.pem" expires on .* (in 9 days)'
check soon_quiet 0 <<CFG
tls_certificate="c/soon.pem"
tls_private_key="c/soon.key"
tls_expiry_warn_days=7
CFG
grep -q 'expires on' "$T/soon_quiet.check" && fail "tls_expiry_warn_days=7 still warns for 10 days"
ok "ser -c: a certificate ending in 10 days is a warning (exit 0); tls_expiry_warn_days=7 silences it"

start_ser "$T/soon.cfg"
log_wait "$T/ser.log" 'soon.pem" expires in 9 day(s) (tls_expiry_warn_days=30): renew it' 1 5 ||
    fail "no run-time warning for the certificate ending in 10 days"
stop_ser
ok "run time: the soon-ending certificate is logged as a warning at start"

# A CRL that passes its next update while ser runs.
next=$(utc '+4 seconds')
crl_until "$CERTS/crl-short.pem" "$next"
write_tls_cfg "$T/short.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/good.pem"
tls_private_key="c/good.key"
tls_ca_list="c/ca.pem"
tls_crl="c/crl-short.pem"
tls_verify=1
tls_require_certificate=1
CFG
start_ser "$T/short.cfg"
sip_options "sip:ping@127.0.0.1:$PT" crl >"$T/req"
TLS_REQ=$T/req
tls_ask a1 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
    -key "$CERTS/alice.key" || fail "alice refused while the CRL is current"
# Time itself is what is waited for here: the CRL's next update.
i=0; while [ "$(date -u +%Y%m%d%H%M%SZ)" \< "$next" ] || [ "$(date -u +%Y%m%d%H%M%SZ)" = "$next" ]; do
    [ $i -lt 100 ] || fail "the clock did not pass $next"; sleep 0.1; i=$((i+1)); done
tls_ask a2 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
    -key "$CERTS/alice.key" && fail "alice accepted with a CRL past its next update (tls_crl_expired=refuse)"
log_wait "$T/ser.log" 'tls_crl ".*crl-short.pem" is past its next update: EVERY client certificate is refused' 1 5 ||
    fail "the refusal for the expired CRL is not logged with the file"
stop_ser
ok "a CRL passing its next update at run time: clients refused (refuse), logged with the file name"

# tls_crl_expired=warn with that expired CRL.
write_tls_cfg "$T/warn.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/good.pem"
tls_private_key="c/good.key"
tls_ca_list="c/ca.pem"
tls_crl="c/crl-old.pem"
tls_crl_expired=warn
tls_verify=1
tls_require_certificate=1
CFG
"$SER_BIN" -c -f "$T/warn.cfg" >"$T/warn.check" 2>&1 || { cat "$T/warn.check"; fail "ser -c refused tls_crl_expired=warn"; }
grep -q 'warning: .*crl-old.pem" is past its next update.*tls_crl_expired=warn' "$T/warn.check" ||
    fail "ser -c does not warn for the expired CRL: $(cat "$T/warn.check")"
start_ser "$T/warn.cfg"
log_wait "$T/ser.log" 'crl-old.pem" is PAST ITS NEXT UPDATE' 1 5 || fail "the start does not log the expired CRL loudly"
tls_ask w1 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
    -key "$CERTS/alice.key" || fail "tls_crl_expired=warn: alice refused"
log_wait "$T/ser.log" 'checked against it anyway (tls_crl_expired=warn)' 1 5 || fail "the handshake does not log the warning"
tls_ask w2 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/bob.pem" \
    -key "$CERTS/bob.key" && fail "tls_crl_expired=warn: revoked bob accepted"
stop_ser
ok "tls_crl_expired=warn: good clients pass with a warning, the revoked one is still refused"

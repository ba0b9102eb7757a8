#!/bin/sh
# Forward-secret TLS by default (no tls_ciphers_list), scanned with sslscan on two
# listeners: 127.0.0.1:PE with an ECDSA P-256 certificate (the global one) and
# 127.0.0.1:PR with an RSA 2048 one (its tls_domain). On each:
#   SSLv2, SSLv3, TLS 1.0 and 1.1 disabled; TLS 1.2 and 1.3 enabled;
#   every TLS 1.2 suite accepted is ECDHE (forward secret) and AEAD (AES-GCM or
#   CHACHA20-POLY1305: no CBC, no SHA-1 MAC), ECDHE-*-AES128-GCM-SHA256 among them;
#   no suite of another protocol version; no renegotiation; no compression;
#   and ser logs no "without forward secrecy" warning.
# Then a domain that opts in to a suite without forward secrecy
# (tls_ciphers_list="AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"): ser starts,
# warns "without forward secrecy" naming that domain (127.0.0.1:PR), and the
# explicit list is applied (AES128-GCM-SHA256 is negotiated).
. "$(dirname "$0")/tls_lib.sh"
command -v sslscan >/dev/null || skip "sslscan not installed (tools/install-deps.sh installs it)"

certs_ca "$CERTS"
cert_server ec --ip 127.0.0.1
cert_server rsa --ip 127.0.0.1 --key-type rsa2048

PU=$(free_port); PE=$(free_port); PR=$(free_port)
[ "$PU" = "$PE" ] || [ "$PU" = "$PR" ] || [ "$PE" = "$PR" ] && fail "port clash, run again"

tls_cfg() { # $1 = extra parameters of the RSA domain (one per line, may be empty)
    stop_ser
    write_tls_cfg "$T/ser.cfg" "$PU" "$PE" "$PU" <<CFG
listen=tls:127.0.0.1:$PR
tls_certificate="$CERTS/ec.pem"
tls_private_key="$CERTS/ec.key"
tls_domain[127.0.0.1:$PR] {
    tls_certificate="$CERTS/rsa.pem"
    tls_private_key="$CERTS/rsa.key"
$1
}
CFG
    start_ser "$T/ser.cfg"
}

PROBLEMS=$T/problems
: >"$PROBLEMS"
problem() { echo "  $*" >>"$PROBLEMS"; }

# $1 = name, $2 = port, $3 = the key type sslscan must see (RSA / EC),
# $4 = the ECDHE AES128-GCM suite that must be accepted.
scan() {
    sname=$1 sport=$2 skey=$3 smust=$4
    sx=$T/$sname.xml
    timeout 60 sslscan --no-colour --xml=- "127.0.0.1:$sport" >"$sx" 2>"$T/$sname.err"; src=$?
    [ $src -eq 0 ] || fail "$sname: sslscan 127.0.0.1:$sport exited with $src: $(head -n 5 "$T/$sname.err")"
    grep -q '<protocol type="tls" version="1.3"' "$sx" ||
        fail "$sname: no scan result from sslscan: $(grep -v '^ *<group' "$sx" | head -n 20)"
    grep -q "<pk error=\"false\" type=\"$skey\"" "$sx" ||
        fail "$sname: expected a $skey certificate, sslscan saw: $(grep -m1 '<pk ' "$sx")"

    for v in 'ssl" version="2' 'ssl" version="3' 'tls" version="1.0' 'tls" version="1.1'; do
        grep -q "<protocol type=\"$v\" enabled=\"0\"" "$sx" ||
            problem "$sname: protocol not disabled: $(grep -m1 "<protocol type=\"$v\"" "$sx")"
    done
    for v in 1.2 1.3; do
        grep -q "<protocol type=\"tls\" version=\"$v\" enabled=\"1\"" "$sx" ||
            problem "$sname: TLSv$v not enabled: $(grep -m1 "<protocol type=\"tls\" version=\"$v\"" "$sx")"
    done

    # <cipher status="accepted" sslversion="TLSv1.2" bits="256" cipher="AES256-GCM-SHA384" .../>
    sed -n 's/.*<cipher status="[a-z]*" sslversion="\([^"]*\)".* cipher="\([^"]*\)".*/\1 \2/p' "$sx" >"$T/$sname.suites"
    grep -q "^TLSv1.2 $smust\$" "$T/$sname.suites" || problem "$sname: TLS 1.2 suite $smust not accepted"
    while read -r ver suite; do
        case $ver in
            TLSv1.2|TLSv1.3) ;;
            *) problem "$sname: suite of $ver accepted: $suite";;
        esac
    done <"$T/$sname.suites"
    # OpenSSL names: every forward-secret TLS 1.2 suite starts with ECDHE- (no
    # DHE- either: finite-field DHE is not wanted), plain RSA key exchange has no prefix.
    grep '^TLSv1.2 ' "$T/$sname.suites" | while read -r ver suite; do
        case $suite in
            ECDHE-*) ;;
            *) problem "$sname: TLS 1.2 suite without forward secrecy accepted: $suite";;
        esac
    done
    grep '^TLSv1.2 ' "$T/$sname.suites" | while read -r ver suite; do
        case $suite in
            *-GCM-*|*-CHACHA20-POLY1305) ;;
            *) problem "$sname: TLS 1.2 suite that is not AES-GCM / CHACHA20-POLY1305 (CBC) accepted: $suite";;
        esac
    done

    grep -q '<renegotiation supported="0"' "$sx" ||
        problem "$sname: renegotiation: $(grep -m1 '<renegotiation' "$sx")"
    # sslscan reports compression only when its OpenSSL can offer it (Debian's
    # OpenSSL 3 is built without zlib: then there is no <compression> element).
    if grep -q '<compression ' "$sx"; then
        grep -q '<compression supported="0"' "$sx" || problem "$sname: $(grep -m1 '<compression' "$sx")"
    else
        echo "note: $sname: sslscan could not test compression (its OpenSSL has none); checked with s_client -comp"
    fi
    comp=$(timeout 10 openssl s_client -connect "127.0.0.1:$sport" -tls1_2 -comp </dev/null 2>&1 | grep -m1 '^Compression:')
    [ "$comp" = "Compression: NONE" ] || problem "$sname: s_client -tls1_2 -comp: '${comp:-no Compression line}'"
}

tls_cfg ""
scan ecdsa "$PE" EC ECDHE-ECDSA-AES128-GCM-SHA256
scan rsa "$PR" RSA ECDHE-RSA-AES128-GCM-SHA256
grep -i 'forward secrecy' "$T/ser.log" >/dev/null &&
    problem "default configuration, yet ser warns: $(grep -i -m1 'forward secrecy' "$T/ser.log")"
if [ -s "$PROBLEMS" ]; then
    for n in ecdsa rsa; do
        echo "--- TLS 1.2 suites accepted on the $n listener:"
        grep '^TLSv1.2 ' "$T/$n.suites" | sed 's/^TLSv1.2 /    /'
    done
    fail "default TLS settings are not forward-secret AEAD only:
$(cat "$PROBLEMS")"
fi
ok "default TLS (ECDSA and RSA listeners): TLS 1.2 with ECDHE + AEAD suites only, TLS 1.3 on, SSLv2/3 and TLS 1.0/1.1 off, no renegotiation, no compression, no warning"

tls_cfg '    tls_ciphers_list="AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"'
grep -i 'without forward secrecy' "$T/ser.log" | grep -i 'warn' | grep -q -F "127.0.0.1:$PR" ||
    fail "tls_ciphers_list with AES128-GCM-SHA256 (RSA key exchange): no warning 'without forward secrecy' naming tls_domain[127.0.0.1:$PR]"
grep -i 'without forward secrecy' "$T/ser.log" | grep -v -F "127.0.0.1:$PR" | grep -q . &&
    fail "a 'without forward secrecy' warning about another domain: $(grep -i 'without forward secrecy' "$T/ser.log" | grep -v -F "127.0.0.1:$PR" | head -n 1)"
ok "a domain that allows a suite without forward secrecy is warned about, by name"

got=$(timeout 10 openssl s_client -connect "127.0.0.1:$PR" -tls1_2 -cipher AES128-GCM-SHA256 </dev/null 2>&1 |
    grep -m1 'Cipher is')
echo "$got" | grep -q 'Cipher is AES128-GCM-SHA256$' ||
    fail "the explicit tls_ciphers_list was not applied: s_client -cipher AES128-GCM-SHA256 got '${got:-no cipher}'"
ok "the explicit tls_ciphers_list is honoured (AES128-GCM-SHA256 negotiated)"
kill -0 "$SER_PID" || fail "ser died"
stop_ser

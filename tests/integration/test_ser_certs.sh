#!/bin/sh
# tests/integration/test_ser_certs.sh — the certificate tool tools/ser-certs.
#
# Makes a CA, server, client and self-signed certificates in a temporary
# directory and checks them with openssl itself: chains, SANs, key usages and
# role separation, key modes, overwrite protection, each key type, 'show',
# revocation with a CRL, PKCS#12, and a mutual-TLS handshake between
# openssl s_server and s_client on 127.0.0.1.
#
# Run: sh tests/integration/test_ser_certs.sh   (SER_TOP = repository root)
# Exit 0 when every check passes, 77 when openssl is missing, 1 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${SER_TOP:-$(cd "$here/../.." && pwd)}
tool=$top/tools/ser-certs

if ! command -v openssl >/dev/null 2>&1; then
    echo "skip: openssl is not installed"
    exit 77
fi
if [ ! -f "$tool" ]; then
    echo "FAIL: $tool not found"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/test_ser_certs.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=""
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

D=$T/certs          # the main certificate directory
OUT=$T/out          # output of the last command
ALL=$T/all.log      # everything the tool printed, checked for key material
: >"$ALL"
checks=0

fail() {
    echo "FAIL: $*"
    if [ -s "$OUT" ]; then
        echo "  last output:"
        sed 's/^/    /' "$OUT" | head -n 40
    fi
    exit 1
}
ok() {
    checks=$((checks + 1))
    echo "ok: $*"
}

# run_tool ARGS...: run ser-certs, output in $OUT, status returned
run_tool() {
    if [ -x "$tool" ]; then
        "$tool" "$@" >"$OUT" 2>&1
    else
        bash "$tool" "$@" >"$OUT" 2>&1
    fi
    rc=$?
    cat "$OUT" >>"$ALL"
    return $rc
}
# must ARGS...: ser-certs must succeed
must() {
    run_tool "$@" || fail "ser-certs $* exited with $rc"
}
# must_not ARGS...: ser-certs must fail
must_not() {
    run_tool "$@" && fail "ser-certs $* succeeded but should have failed"
    return 0
}
# ossl ARGS...: openssl, output in $OUT
ossl() {
    openssl "$@" >"$OUT" 2>&1
}
has() { # has TEXT FILE
    grep -F -q -- "$1" "$2"
}
mode_is() { # mode_is MODE FILE
    m=$(stat -c %a "$2") || fail "cannot stat $2"
    [ "$m" = "$1" ] || fail "$2 has mode $m, expected $1"
}
ext() { # ext CERT NAME: the text of one extension
    openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null
}

# --- usage ------------------------------------------------------------------
run_tool --help; [ $rc -eq 0 ] || fail "--help exited with $rc"
has "usage:" "$OUT" || fail "--help prints no usage"
run_tool frobnicate; [ $rc -eq 2 ] || fail "unknown command exited with $rc, expected 2"
has "usage:" "$OUT" || fail "unknown command prints no usage"
run_tool server x --frob -d "$D"; [ $rc -eq 2 ] || fail "unknown option exited with $rc, expected 2"
run_tool ca --key-type dsa -d "$D"; [ $rc -eq 2 ] || fail "bad --key-type exited with $rc, expected 2"
run_tool ca --days abc -d "$D"; [ $rc -eq 2 ] || fail "bad --days exited with $rc, expected 2"
run_tool crl --p12 -d "$D"; [ $rc -eq 2 ] || fail "option of another command exited with $rc, expected 2"
ok "usage and option errors"

# --- no CA yet --------------------------------------------------------------
must_not server sip -d "$D"
has "no CA in $D" "$OUT" && has "ser-certs ca -d $D" "$OUT" || fail "server without a CA: message does not say what to do"
[ ! -e "$D/sip.key" ] || fail "a failed server left $D/sip.key behind"
ok "server without a CA fails with a hint"

# --- ca -----------------------------------------------------------------------
must ca --cn "Test CA" -d "$D"
[ -f "$D/ca.key" ] && [ -f "$D/ca.pem" ] || fail "ca did not write ca.key and ca.pem"
mode_is 600 "$D/ca.key"
mode_is 644 "$D/ca.pem"
ext "$D/ca.pem" basicConstraints >"$OUT"
has "critical" "$OUT" && has "CA:TRUE" "$OUT" || fail "ca.pem lacks basicConstraints critical CA:TRUE"
ext "$D/ca.pem" keyUsage >"$OUT"
has "Certificate Sign" "$OUT" && has "CRL Sign" "$OUT" || fail "ca.pem lacks keyUsage keyCertSign, cRLSign"
openssl x509 -in "$D/ca.pem" -noout -subject -nameopt RFC2253 >"$OUT"
has "CN=Test CA" "$OUT" || fail "ca.pem subject is not CN=Test CA"
ossl verify -CAfile "$D/ca.pem" "$D/ca.pem" || fail "ca.pem does not verify against itself"
must_not ca -d "$D"
has "ca.key" "$OUT" && has "--force" "$OUT" || fail "second ca: error does not name the file and --force"
ok "ca"

# --- server -------------------------------------------------------------------
must server sip --dns sip.example.com --dns localhost --ip 127.0.0.1 --ip ::1 -d "$D"
ossl verify -CAfile "$D/ca.pem" "$D/sip.pem" || fail "openssl verify of sip.pem"
ext "$D/sip.pem" subjectAltName >"$OUT"
for want in "DNS:sip.example.com" "DNS:localhost" "IP Address:127.0.0.1" "IP Address:0:0:0:0:0:0:0:1"; do
    has "$want" "$OUT" || fail "sip.pem SAN lacks $want"
done
ext "$D/sip.pem" extendedKeyUsage >"$OUT"
has "TLS Web Server Authentication" "$OUT" || fail "sip.pem lacks serverAuth"
has "TLS Web Client Authentication" "$OUT" && fail "sip.pem has clientAuth without --client-auth"
openssl x509 -in "$D/sip.pem" -noout -subject -nameopt RFC2253 >"$OUT"
has "CN=sip" "$OUT" || fail "sip.pem subject is not CN=sip"
mode_is 600 "$D/sip.key"
mode_is 644 "$D/sip.pem"
ok "server: chain, SANs, serverAuth, modes"

must server plain -d "$D"
ext "$D/plain.pem" subjectAltName >"$OUT"
has "DNS:plain" "$OUT" || fail "server without --dns/--ip lacks SAN DNS:plain"
ok "server without SANs gets DNS:NAME"

must server trunk --dns trunk.example.com --client-auth -d "$D"
ext "$D/trunk.pem" extendedKeyUsage >"$OUT"
has "TLS Web Server Authentication" "$OUT" && has "TLS Web Client Authentication" "$OUT" \
    || fail "server --client-auth lacks serverAuth + clientAuth"
ok "server --client-auth"

must_not server bad --dns 'a,b' -d "$D"
must_not server bad --ip 300.1.1.1 -d "$D"
must_not server ../evil -d "$D"
[ ! -e "$T/evil.key" ] || fail "a name with ../ wrote outside the directory"
ok "bad names and addresses refused"

# --- overwrite protection ------------------------------------------------------
cp "$D/sip.pem" "$T/sip.pem.orig"
cp "$D/sip.key" "$T/sip.key.orig"
must_not server sip --dns sip.example.com -d "$D"
has "sip.key" "$OUT" && has "--force" "$OUT" || fail "overwrite refusal does not name the file and --force"
cmp -s "$D/sip.pem" "$T/sip.pem.orig" || fail "refused overwrite changed sip.pem"
cmp -s "$D/sip.key" "$T/sip.key.orig" || fail "refused overwrite changed sip.key"
must server sip --dns sip.example.com --dns localhost --ip 127.0.0.1 --ip ::1 --force -d "$D"
cmp -s "$D/sip.pem" "$T/sip.pem.orig" && fail "--force did not replace sip.pem"
cmp -s "$D/sip.key" "$T/sip.key.orig" && fail "--force did not replace sip.key"
s1=$(openssl x509 -in "$T/sip.pem.orig" -noout -serial)
s2=$(openssl x509 -in "$D/sip.pem" -noout -serial)
[ "$s1" != "$s2" ] || fail "reissued certificate has the same serial ($s1)"
ossl verify -CAfile "$D/ca.pem" "$D/sip.pem" || fail "openssl verify of the reissued sip.pem"
mode_is 600 "$D/sip.key"
ok "overwrite protection and --force"

# --- client + PKCS#12 ----------------------------------------------------------
must client alice --p12 --p12-pass 's3cret pass' -d "$D"
ossl verify -CAfile "$D/ca.pem" "$D/alice.pem" || fail "openssl verify of alice.pem"
ext "$D/alice.pem" extendedKeyUsage >"$OUT"
has "TLS Web Client Authentication" "$OUT" || fail "alice.pem lacks clientAuth"
has "TLS Web Server Authentication" "$OUT" && fail "alice.pem has serverAuth"
mode_is 600 "$D/alice.key"
mode_is 600 "$D/alice.p12"
ossl pkcs12 -info -nokeys -in "$D/alice.p12" -passin 'pass:s3cret pass' || fail "openssl pkcs12 cannot read alice.p12"
has "subject=CN = alice" "$OUT" || has "subject=CN=alice" "$OUT" || fail "alice.p12 does not hold alice's certificate"
has "PRIVATE KEY" "$OUT" && fail "pkcs12 -nokeys printed a key"
ossl pkcs12 -info -nokeys -in "$D/alice.p12" -passin pass:wrong && fail "alice.p12 opens with a wrong password"
ok "client, clientAuth and PKCS#12"

must client bob -d "$D"
ossl verify -CAfile "$D/ca.pem" "$D/bob.pem" || fail "openssl verify of bob.pem"
[ ! -e "$D/bob.p12" ] || fail "client without --p12 wrote bob.p12"
ok "client without --p12"

# --- role separation -----------------------------------------------------------
ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/sip.pem" || fail "sip.pem is not good for sslserver"
ossl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/alice.pem" || fail "alice.pem is not good for sslclient"
ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/alice.pem" && fail "client cert alice.pem passes -purpose sslserver"
ossl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/sip.pem" && fail "server cert sip.pem passes -purpose sslclient"
ok "role separation (sslserver / sslclient)"

# --- key types -----------------------------------------------------------------
for kt in ec rsa2048 ed25519; do
    must server "kt-$kt" --key-type "$kt" --dns "$kt.example.com" -d "$D"
    mode_is 600 "$D/kt-$kt.key"
    ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/kt-$kt.pem" || fail "key type $kt: verify"
    case $kt in
        ec) want="EC P-256" ;;
        rsa2048) want="RSA (2048 bit)" ;;
        ed25519) want="Ed25519" ;;
    esac
    must show "$D/kt-$kt.pem" --key "$D/kt-$kt.key"
    has "key matches: yes" "$OUT" || fail "key type $kt: show does not match its key"
    has "$want" "$OUT" || fail "key type $kt: show does not say '$want'"
    # the key signs, and the certificate's public key checks the signature
    echo "data for $kt" >"$T/data"
    openssl x509 -in "$D/kt-$kt.pem" -noout -pubkey >"$T/pub.pem" || fail "key type $kt: no public key"
    if [ "$kt" = ed25519 ]; then
        ossl pkeyutl -sign -rawin -inkey "$D/kt-$kt.key" -in "$T/data" -out "$T/sig" || fail "ed25519 sign"
        ossl pkeyutl -verify -rawin -pubin -inkey "$T/pub.pem" -in "$T/data" -sigfile "$T/sig" || fail "ed25519 signature does not verify"
    else
        ossl dgst -sha256 -sign "$D/kt-$kt.key" -out "$T/sig" "$T/data" || fail "$kt sign"
        ossl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/data" || fail "$kt signature does not verify"
    fi
done
ok "key types ec, rsa2048, ed25519"

E=$T/edca
must ca --key-type ed25519 -d "$E"
must server s1 --key-type rsa2048 --dns s1.example.com -d "$E"
ossl verify -CAfile "$E/ca.pem" "$E/s1.pem" || fail "rsa leaf under an ed25519 CA does not verify"
ok "ed25519 CA"

# --- --days ----------------------------------------------------------------------
must client shortlived --days 10 -d "$D"
openssl x509 -in "$D/shortlived.pem" -noout -checkend $((9 * 86400)) >/dev/null || fail "--days 10 ends within 9 days"
openssl x509 -in "$D/shortlived.pem" -noout -checkend $((11 * 86400)) >/dev/null && fail "--days 10 lasts beyond 11 days"
ok "--days"

# --- selfsigned -----------------------------------------------------------------
Q=$T/quick
must selfsigned quick --dns localhost --ip 127.0.0.1 -d "$Q"
[ ! -e "$Q/ca.pem" ] || fail "selfsigned made a CA"
mode_is 600 "$Q/quick.key"
ossl verify -CAfile "$Q/quick.pem" "$Q/quick.pem" || fail "self-signed quick.pem does not verify against itself"
ossl verify -purpose sslserver -CAfile "$Q/quick.pem" "$Q/quick.pem" || fail "quick.pem is not good for sslserver"
ext "$Q/quick.pem" extendedKeyUsage >"$OUT"
has "TLS Web Server Authentication" "$OUT" && has "TLS Web Client Authentication" "$OUT" || fail "quick.pem lacks serverAuth + clientAuth"
ext "$Q/quick.pem" subjectAltName >"$OUT"
has "DNS:localhost" "$OUT" && has "IP Address:127.0.0.1" "$OUT" || fail "quick.pem lacks its SANs"
iss=$(openssl x509 -in "$Q/quick.pem" -noout -issuer -nameopt RFC2253)
sub=$(openssl x509 -in "$Q/quick.pem" -noout -subject -nameopt RFC2253)
[ "${iss#issuer=}" = "${sub#subject=}" ] || fail "quick.pem is not self-issued"
must_not selfsigned quick -d "$Q"
ok "selfsigned"

# --- show -------------------------------------------------------------------------
must show "$D/sip.pem" --key "$D/sip.key"
for want in "subject:" "CN=sip" "SANs:" "DNS:sip.example.com" "IP Address:127.0.0.1" "issuer:" "CN=Test CA" \
            "notBefore:" "notAfter:" "key type:" "EC P-256" "key matches: yes"; do
    has "$want" "$OUT" || fail "show sip.pem: no '$want'"
done
must_not show "$D/sip.pem" --key "$D/alice.key"
[ $rc -eq 1 ] || fail "show with the wrong key exited with $rc, expected 1"
has "key matches: no" "$OUT" || fail "show with the wrong key does not say 'key matches: no'"
must show "$D/sip.key"
has "EC P-256" "$OUT" || fail "show of a key does not give its type"
has "BEGIN" "$OUT" && fail "show of a key printed PEM data"
must show "$D/crl.pem"
has "nextUpdate:" "$OUT" || fail "show of the CRL"
must_not show "$T/does-not-exist.pem"
ok "show"

# --- revoke + crl ----------------------------------------------------------------
must revoke alice --reason keyCompromise -d "$D"
[ -f "$D/crl.pem" ] || fail "revoke did not write crl.pem"
mode_is 644 "$D/crl.pem"
ossl crl -in "$D/crl.pem" -noout -CAfile "$D/ca.pem" || fail "crl.pem does not load or its signature is bad"
has "verify OK" "$OUT" || fail "crl.pem signature not verified by openssl crl"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/alice.pem" && fail "revoked alice.pem passes -crl_check"
has "revoked" "$OUT" || fail "alice.pem fails -crl_check, but not as revoked"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/bob.pem" || fail "bob.pem fails -crl_check"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/sip.pem" || fail "sip.pem fails -crl_check"
must revoke alice -d "$D"
has "already revoked" "$OUT" || fail "second revoke does not say it was already revoked"
ok "revoke"

n1=$(openssl crl -in "$D/crl.pem" -noout -crlnumber)
must crl -d "$D"
n2=$(openssl crl -in "$D/crl.pem" -noout -crlnumber)
[ "$n1" != "$n2" ] || fail "crl did not advance the CRL number ($n1)"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/alice.pem" && fail "alice.pem passes -crl_check after crl"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/bob.pem" || fail "bob.pem fails -crl_check after crl"
# a CRL next to the CA in one file, as X509_STORE loads it
cat "$D/ca.pem" "$D/crl.pem" >"$T/ca+crl.pem"
ossl verify -crl_check -CAfile "$T/ca+crl.pem" "$D/bob.pem" || fail "bob.pem fails with CA+CRL in one file"
ossl verify -crl_check -CAfile "$T/ca+crl.pem" "$D/alice.pem" && fail "alice.pem passes with CA+CRL in one file"
must_not revoke nobody -d "$D"
must_not revoke quick -d "$Q"
ok "crl"

# --- all keys mode 600 -------------------------------------------------------------
for f in "$D"/*.key "$D"/*.p12 "$E"/*.key "$Q"/*.key; do
    mode_is 600 "$f"
done
for f in "$D"/*.pem; do
    mode_is 644 "$f"
done
ok "every key and bundle is mode 600, every certificate 644"

# --- handshake --------------------------------------------------------------------
pick_port() {
    n=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' \n')
    [ -n "$n" ] || n=$$
    echo $((21000 + n % 1000))
}
port_listening() { # port_listening PORT: someone listens on 127.0.0.1:PORT
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        return 1
    fi
}

port=""
tries=0
while [ -z "$port" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    p=$(pick_port)
    port_listening "$p" && continue
    : >"$T/server.log"   # before the background start, so the first look finds the file
    openssl s_server -accept "127.0.0.1:$p" -cert "$D/sip.pem" -key "$D/sip.key" \
        -CAfile "$D/ca.pem" -Verify 1 -verify_return_error \
        -CRL "$D/crl.pem" -crl_check -www >"$T/server.log" 2>&1 </dev/null &
    server_pid=$!
    i=0
    while [ $i -lt 50 ]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break                                   # it died: port taken, try another
        fi
        if has "ACCEPT" "$T/server.log"; then
            if ! command -v ss >/dev/null 2>&1 || port_listening "$p"; then
                port=$p
                break
            fi
        fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$port" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=""
    fi
done
if [ -z "$port" ]; then
    OUT=$T/server.log
    fail "openssl s_server did not start on any port in 21000-21999 after $tries tries"
fi

# connect CERT-ARGS...: an HTTP GET through s_client, output in $T/client.log
connect() {
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
        -CAfile "$D/ca.pem" -verify_return_error -verify_hostname sip.example.com \
        -ign_eof "$@" >"$T/client.log" 2>&1
}

connect -cert "$D/bob.pem" -key "$D/bob.key" || { OUT=$T/client.log; fail "s_client with bob's certificate failed"; }
OUT=$T/client.log
has "Verify return code: 0 (ok)" "$OUT" || fail "s_client: server certificate not verified"
has "Client certificate" "$OUT" || fail "s_server did not see bob's certificate"
has "CN = bob" "$OUT" || has "CN=bob" "$OUT" || fail "s_server saw a certificate, but not bob's"
ok "mutual TLS handshake on 127.0.0.1:$port (server sip, client bob)"

# refused WHY CERT-ARGS...: the connection must fail, and s_server must log WHY
refused() {
    why=$1
    shift
    connect "$@" && fail "s_client succeeded ($why expected)"
    has "Client certificate" "$T/client.log" && fail "s_server accepted the client ($why expected)"
    i=0
    while ! has "$why" "$T/server.log"; do
        i=$((i + 1))
        [ $i -le 20 ] || { OUT=$T/server.log; fail "s_server did not log '$why'"; }
        sleep 0.1
    done
}
refused "peer did not return a certificate"
refused "certificate revoked" -cert "$D/alice.pem" -key "$D/alice.key"
refused "unsuitable certificate purpose" -cert "$D/sip.pem" -key "$D/sip.key"
ok "handshake refused without a certificate, with a revoked one, and with a server-only one"

kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
server_pid=""

# --- no key material in anything the tool printed --------------------------------
OUT=$ALL
has "PRIVATE KEY" "$ALL" && fail "ser-certs printed key material"
ok "ser-certs never printed a key"

echo "all $checks checks passed"
exit 0

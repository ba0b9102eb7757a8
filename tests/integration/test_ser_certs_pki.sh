#!/bin/sh
# tests/integration/test_ser_certs_pki.sh — the PKI side of tools/ser-certs.
#
# A root CA with a passphrase-protected key, an existing CA given with
# --ca-cert/--ca-key, signing a request made elsewhere (SANs and extensions
# from the command line, never from the request), renewal with the same key,
# an intermediate CA with full chains, --subject and .crt naming, the CRL
# default and the expiry marks of 'show', and OCSP responses. Everything made
# is checked with openssl itself; then ser serves the intermediate-issued full
# chain on 127.0.0.1 (openssl s_client verifies it) and accepts a client
# certificate signed from a request.
#
# Run: sh tests/integration/test_ser_certs_pki.sh   (SER_TOP = repository root;
# SER_BIN = a ser built with TLS=1, default build/tls/ser)
# Exit 0 when every check passes, 77 when openssl is missing, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${SER_TOP:-$(cd "$here/../.." && pwd)}
tool=$top/tools/ser-certs
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl is not installed"; exit 77; }
[ -f "$tool" ] || { echo "FAIL: $tool not found"; exit 1; }

# lib.sh: the temporary directory $T (removed at exit), fail/ok, free_port,
# start_ser/stop_ser (by PID), sip_options and options_cfg
: "${SER_BIN:=$top/build/tls/ser}"
. "$here/lib.sh"

D=$T/pki            # the root CA and the certificates it (and its intermediate) issues
OUT=$T/out          # output of the last command
ALL=$T/all.log      # everything the tool printed, checked for secrets
: >"$ALL"
checks=0
PASS_TEXT="correct horse battery"
printf '%s\n' "$PASS_TEXT" >"$T/ca.pass"
printf 'not the passphrase\n' >"$T/wrong.pass"
chmod 600 "$T/ca.pass" "$T/wrong.pass"
# CP is two words, left unquoted on purpose ($T, from lib.sh, has no blanks)
# shellcheck disable=SC2086
CP="--ca-pass file:$T/ca.pass"

# fail MSG: lib.sh's, with the output of the last command first
fail() {
    if [ -s "$OUT" ]; then
        echo "  last output:"
        sed 's/^/    /' "$OUT" | head -n 40
    fi
    echo "FAIL: $*"
    [ -f "$T/ser.log" ] && { echo "--- ser log (tail):"; tail -n 30 "$T/ser.log"; }
    exit 1
}
pass() { checks=$((checks + 1)); ok "$@"; }

# sc WANT ARGS...: ser-certs ARGS, its output in $OUT (and appended to $ALL),
# its status in rc; WANT is ok (must succeed) or no (must fail)
sc() {
    _want=$1
    shift
    bash "$tool" "$@" >"$OUT" 2>&1
    rc=$?
    cat "$OUT" >>"$ALL"
    if [ "$_want" = ok ] && [ $rc -ne 0 ]; then fail "ser-certs $* exited with $rc"; fi
    if [ "$_want" = no ] && [ $rc -eq 0 ]; then fail "ser-certs $* succeeded but should have failed"; fi
    return 0
}
must() { sc ok "$@"; }
must_not() { sc no "$@"; }
ossl() { openssl "$@" >"$OUT" 2>&1; }
has() { grep -F -q -- "$1" "$2"; }            # has TEXT FILE
ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null; }   # ext CERT NAME
listing() { # listing DIR: every path below DIR, sorted
    (cd "$1" && find . | LC_ALL=C sort)
}
serial_of() { openssl x509 -in "$1" -noout -serial; }
pubkey_fp() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r; }
subject_of() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
# days_until DATE: whole days from now to an openssl date
days_until() {
    echo $(( ( $(date -u -d "$1" +%s) - $(date -u +%s) ) / 86400 ))
}
# new_csr NAME SUBJECT [REQ-ARGS]: a key and request made outside ser-certs
new_csr() {
    _n=$1 _s=$2
    shift 2
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$_n.key" \
        -subj "$_s" "$@" -out "$T/$_n.csr" >/dev/null 2>&1 || fail "openssl req for $_n"
}

# --- a root CA with an encrypted key --------------------------------------------
must ca -d "$D" --subject "/C=DE/O=Example/CN=Example Root" $CP
has "ENCRYPTED PRIVATE KEY" "$D/ca.key" || fail "ca --ca-pass: ca.key is not encrypted"
openssl asn1parse -in "$D/ca.key" >"$OUT" 2>&1 || fail "cannot parse the encrypted ca.key"
has "aes-256-cbc" "$OUT" || fail "ca --ca-pass: ca.key is not encrypted with AES-256"
[ "$(stat -c %a "$D/ca.key")" = 600 ] || fail "ca.key is not mode 600"
ossl pkey -in "$D/ca.key" -noout -passin pass: && fail "the encrypted ca.key opens without a passphrase"
ossl pkey -in "$D/ca.key" -noout -passin "file:$T/ca.pass" || fail "ca.key does not open with the passphrase"
subject_of "$D/ca.pem" >"$OUT"
has "CN=Example Root,O=Example,C=DE" "$OUT" || fail "ca --subject: subject is not C=DE, O=Example, CN=Example Root"
ossl verify -CAfile "$D/ca.pem" "$D/ca.pem" || fail "the root does not verify against itself"
pass "ca with --subject and an AES-256 encrypted key (--ca-pass file:)"

# --- passphrase errors leave nothing behind ---------------------------------------
before=$(listing "$D")
must_not server s1 -d "$D"
[ $rc -eq 1 ] || fail "an encrypted CA key without --ca-pass exited with $rc, expected 1"
has "is encrypted" "$OUT" && has "--ca-pass" "$OUT" || fail "no hint to give --ca-pass"
must_not server s1 -d "$D" --ca-pass "file:$T/wrong.pass"
[ $rc -eq 1 ] || fail "a wrong passphrase exited with $rc, expected 1"
has "wrong passphrase for CA key $D/ca.key" "$OUT" || fail "a wrong passphrase does not say 'wrong passphrase for CA key'"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "the wrong-passphrase error is not one line"
CA_PASS_WRONG="nope" must_not client c1 -d "$D" --ca-pass env:CA_PASS_WRONG
has "wrong passphrase for CA key" "$OUT" || fail "a wrong env: passphrase is not reported as such"
after=$(listing "$D")
[ "$before" = "$after" ] || fail "a failed passphrase left files in $D: $(printf '%s\n%s\n' "$before" "$after" | sort | uniq -u)"
must_not server s1 -d "$D" --ca-pass "$PASS_TEXT"
[ $rc -eq 2 ] || fail "a passphrase on the command line exited with $rc, expected 2"
has "file:PATH or env:VAR" "$OUT" || fail "a passphrase on the command line is not refused with a clear message"
must_not server s1 -d "$D" --ca-pass "pass:$PASS_TEXT"
[ $rc -eq 2 ] || fail "--ca-pass pass:... exited with $rc, expected 2"
must_not server s1 -d "$D" --ca-pass env:CA_PASS_UNSET_HERE
has "CA_PASS_UNSET_HERE" "$OUT" || fail "an unset env: variable is not named"
[ "$before" = "$(listing "$D")" ] || fail "refused --ca-pass values left files in $D"
pass "CA passphrase: encrypted-key hint, wrong passphrase (one-line error, no new files), never on the command line"

must server s1 -d "$D" --dns s1.example.com --ip 127.0.0.1 $CP
ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/s1.pem" || fail "verify of s1.pem"
CA_PASS=$PASS_TEXT must client c1 -d "$D" --ca-pass env:CA_PASS
ossl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/c1.pem" || fail "verify of c1.pem"
pass "server/client with the passphrase from file: and env:"

# --- an existing CA: --ca-cert / --ca-key -----------------------------------------
O=$T/other
must ca -d "$O" --cn "Other CA"
must_not server x1 -d "$T/ext-bad" --ca-cert "$D/ca.pem" --ca-key "$O/ca.key"
has "CA key $O/ca.key does not match CA certificate $D/ca.pem" "$OUT" || fail "key mismatch not reported"
[ ! -e "$T/ext-bad" ] || fail "a key mismatch created $T/ext-bad"
must_not server x1 -d "$T/ext-bad" --ca-cert "$D/s1.pem" --ca-key "$D/s1.key"
has "$D/s1.pem is not a CA certificate (basicConstraints CA:FALSE)" "$OUT" || fail "a leaf as CA not reported"
[ ! -e "$T/ext-bad" ] || fail "a leaf as CA created $T/ext-bad"
must_not server x1 -d "$T/ext-bad" --ca-cert "$D/ca.pem"
[ $rc -eq 2 ] || fail "--ca-cert without --ca-key exited with $rc, expected 2"
X=$T/ext
must server x1 -d "$X" --ca-cert "$D/ca.pem" --ca-key "$D/ca.key" $CP --dns x1.example.com
ossl verify -CAfile "$D/ca.pem" "$X/x1.pem" || fail "x1.pem from --ca-cert/--ca-key does not verify"
[ ! -e "$X/x1.fullchain.pem" ] || fail "a leaf of a root CA got a full chain"
grep -q "$(serial_of "$X/x1.pem" | sed 's/^serial=//')" "$X/index.txt" || fail "x1.pem not recorded in $X/index.txt"
must revoke x1 -d "$X" --ca-cert "$D/ca.pem" --ca-key "$D/ca.key" $CP
ossl verify -crl_check -CRLfile "$X/crl.pem" -CAfile "$D/ca.pem" "$X/x1.pem" && fail "x1.pem passes -crl_check after revoke"
has "revoked" "$OUT" || fail "x1.pem fails -crl_check, but not as revoked"
must_not server x2 -d "$O" --ca-cert "$D/ca.pem" --ca-key "$D/ca.key" $CP
has "has a CA of its own" "$OUT" || fail "an existing CA was let into a directory with another CA's database"
pass "existing CA (--ca-cert/--ca-key/--ca-pass): key mismatch, not-a-CA, issue, record, revoke"

# --- sign: a request made elsewhere ------------------------------------------------
new_csr phone1 "/O=Evil Corp/CN=phone1" -addext "subjectAltName=DNS:evil.example" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "extendedKeyUsage=serverAuth,codeSigning"
openssl req -in "$T/phone1.csr" -noout -text >"$OUT"
has "DNS:evil.example" "$OUT" || fail "the test request lacks its SAN extension"
must sign "$T/phone1.csr" --client -d "$D" $CP
[ -f "$D/phone1.pem" ] || fail "sign did not name the certificate after the request's CN"
[ ! -e "$D/phone1.key" ] || fail "sign wrote a key"
ossl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/phone1.pem" || fail "verify of the signed phone1.pem"
openssl x509 -in "$D/phone1.pem" -noout -text >"$OUT"
has "evil.example" "$OUT" && fail "the request's SAN DNS:evil.example was copied"
has "Code Signing" "$OUT" && fail "the request's extendedKeyUsage was copied"
has "TLS Web Server Authentication" "$OUT" && fail "sign --client gave serverAuth"
ext "$D/phone1.pem" basicConstraints >"$OUT"
has "CA:FALSE" "$OUT" || fail "the request's CA:TRUE was copied"
[ "$(pubkey_fp "$D/phone1.pem")" = "$(openssl pkey -in "$T/phone1.key" -pubout -outform DER | openssl dgst -sha256 -r)" ] \
    || fail "phone1.pem does not hold the request's key"
must sign "$T/phone1.csr" --server -d "$D" --name dev1 --dns sip-dev.example.com --ip 127.0.0.1 $CP
ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/dev1.pem" || fail "verify of the signed dev1.pem"
ext "$D/dev1.pem" subjectAltName >"$OUT"
has "DNS:sip-dev.example.com" "$OUT" && has "IP Address:127.0.0.1" "$OUT" || fail "dev1.pem lacks the command line SANs"
has "evil.example" "$OUT" && fail "sign --server copied DNS:evil.example"
must_not sign "$T/phone1.csr" --server -d "$D" --name dev2 $CP
has "--dns or --ip" "$OUT" || fail "sign --server without names does not ask for --dns/--ip"
must_not sign "$T/phone1.csr" --client -d "$D" $CP
has "already exists" "$OUT" || fail "sign over an existing phone1.pem did not refuse"
new_csr desk "/CN=Desk Phone 7"
openssl req -in "$T/desk.csr" -outform DER -out "$T/desk.der" || fail "DER request"
must sign "$T/desk.der" --client -d "$D" --subject "/C=DE/O=Example/CN=Desk Phone 7" $CP
[ -f "$D/Desk_Phone_7.pem" ] || fail "the request's CN was not made into the file name Desk_Phone_7"
subject_of "$D/Desk_Phone_7.pem" >"$OUT"
has "CN=Desk Phone 7,O=Example,C=DE" "$OUT" || fail "sign --subject not applied"
# a request whose signature is broken: flip its last byte (inside the signature)
size=$(wc -c <"$T/desk.der")
last=$(tail -c 1 "$T/desk.der" | od -An -tu1 | tr -d ' ')
head -c $((size - 1)) "$T/desk.der" >"$T/bad.der"
# shellcheck disable=SC2059
printf "\\$(printf '%03o' $(( (last + 1) % 256 )))" >>"$T/bad.der"
before=$(listing "$D")
must_not sign "$T/bad.der" --client -d "$D" --name badsig $CP
has "self-signature" "$OUT" || fail "a request with a bad signature is not reported as such"
[ "$before" = "$(listing "$D")" ] || fail "a refused request left files in $D"
must revoke phone1 -d "$D" $CP
awk -F '\t' -v s="$(serial_of "$D/phone1.pem" | sed 's/^serial=//')" '$4 == s && $1 == "R"' "$D/index.txt" | grep -q . \
    || fail "the signed phone1.pem is not revoked in index.txt"
pass "sign: from the request only its key and (unless --subject) its subject; SANs/extensions from the command line; bad signature refused; revocable"

# --- renew ------------------------------------------------------------------------
cp "$D/s1.pem" "$T/s1.old.pem"
fp1=$(pubkey_fp "$D/s1.pem")
sn1=$(serial_of "$D/s1.pem")
ext "$D/s1.pem" subjectAltName >"$T/san.old"
must renew s1 -d "$D" $CP
[ "$(pubkey_fp "$D/s1.pem")" = "$fp1" ] || fail "renew changed the public key"
[ "$(serial_of "$D/s1.pem")" != "$sn1" ] || fail "renew kept the serial ($sn1)"
ext "$D/s1.pem" subjectAltName >"$T/san.new"
cmp -s "$T/san.old" "$T/san.new" || fail "renew changed the SANs"
ossl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/s1.pem" || fail "the renewed s1.pem does not verify"
must crl -d "$D" $CP
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$T/s1.old.pem" || fail "renew revoked the old certificate"
cp "$D/s1.pem" "$T/s1.mid.pem"
must renew s1 -d "$D" --dns s1-new.example.com --revoke-old $CP
ext "$D/s1.pem" subjectAltName >"$OUT"
has "DNS:s1-new.example.com" "$OUT" || fail "renew --dns did not set the new SAN"
has "DNS:s1.example.com" "$OUT" && fail "renew --dns kept the old SANs"
[ "$(pubkey_fp "$D/s1.pem")" = "$fp1" ] || fail "renew --revoke-old changed the public key"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$T/s1.mid.pem" && fail "renew --revoke-old did not revoke the old certificate"
ossl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.pem" "$D/s1.pem" || fail "the renewed s1.pem fails -crl_check"
must_not server s1 -d "$D" --dns s1.example.com $CP
has "--force" "$OUT" || fail "server over an existing NAME does not point to --force"
must server s1 -d "$D" --dns s1.example.com --force $CP
[ "$(pubkey_fp "$D/s1.pem")" != "$fp1" ] || fail "server --force kept the key"
must_not renew phone1 -d "$D" $CP
has "no key" "$OUT" || fail "renew of a certificate without a key here does not say so"
sc ok --help
has "new key" "$OUT" || fail "usage does not say that --force means a new key"
pass "renew keeps the key, new serial, same SANs; --dns, --revoke-old; server --force = new key"

# --- intermediate -------------------------------------------------------------------
must intermediate issuing -d "$D" --subject "/C=DE/O=Example/CN=Example Issuing CA" $CP
I=$D/issuing
for f in ca.key ca.pem chain.pem index.txt crl.pem; do
    [ -f "$I/$f" ] || fail "intermediate did not write $I/$f"
done
[ "$(stat -c %a "$I/ca.key")" = 600 ] || fail "the intermediate key is not mode 600"
ossl verify -CAfile "$D/ca.pem" "$I/ca.pem" || fail "the intermediate does not verify against the root"
ext "$I/ca.pem" basicConstraints >"$OUT"
has "CA:TRUE" "$OUT" && has "pathlen:0" "$OUT" || fail "the intermediate lacks CA:TRUE, pathlen:0"
ext "$I/ca.pem" keyUsage >"$OUT"
has "Certificate Sign" "$OUT" && has "CRL Sign" "$OUT" || fail "the intermediate lacks keyCertSign, cRLSign"
ossl crl -in "$I/crl.pem" -noout -CAfile "$I/ca.pem" || fail "the intermediate's CRL does not verify"
must server edge -d "$D" --ca issuing --dns localhost --ip 127.0.0.1
[ -f "$D/edge.fullchain.pem" ] || fail "a leaf of the intermediate has no full chain"
[ "$(grep -c 'BEGIN CERTIFICATE' "$D/edge.fullchain.pem")" -eq 2 ] || fail "edge.fullchain.pem does not hold leaf + intermediate"
has "$(sed -n 2p "$D/ca.pem")" "$D/edge.fullchain.pem" && fail "the full chain holds the root"
ossl verify -purpose sslserver -CAfile "$D/ca.pem" -untrusted "$I/ca.pem" "$D/edge.pem" || fail "edge.pem does not verify with the intermediate"
ossl verify -CAfile "$D/ca.pem" -untrusted "$D/edge.fullchain.pem" "$D/edge.pem" || fail "edge.pem does not verify with its full chain"
ossl verify -CAfile "$D/ca.pem" "$D/edge.pem" && fail "edge.pem verifies without the intermediate"
must client viaint -d "$D" --ca-cert "$I/ca.pem" --ca-key "$I/ca.key"
ossl verify -purpose sslclient -CAfile "$D/ca.pem" -untrusted "$D/viaint.fullchain.pem" "$D/viaint.pem" || fail "viaint.pem (--ca-cert pointing at the intermediate) does not verify"
grep -q "$(serial_of "$D/viaint.pem" | sed 's/^serial=//')" "$I/index.txt" || fail "viaint.pem not recorded in the intermediate's database"
must server gone -d "$D" --ca issuing --dns gone.example.com
must revoke gone -d "$D"
ossl verify -crl_check -CRLfile "$I/crl.pem" -CAfile "$D/ca.pem" -untrusted "$I/ca.pem" "$D/gone.pem" && fail "gone.pem passes -crl_check after revoke"
has "revoked" "$OUT" || fail "gone.pem fails, but not as revoked"
must renew edge -d "$D"
ossl verify -CAfile "$D/ca.pem" -untrusted "$D/edge.fullchain.pem" "$D/edge.pem" || fail "the renewed edge.pem does not verify with its new full chain"
must_not intermediate deeper -d "$D" --ca issuing
has "pathlen:0" "$OUT" || fail "an intermediate under a pathlen:0 CA is not refused for it"
must_not intermediate issuing -d "$D" $CP
has "--force" "$OUT" || fail "a second intermediate of one name is not refused"
must_not server issuing -d "$D" --dns issuing.example.com $CP
has "taken by the intermediate CA" "$OUT" || fail "a leaf named like an intermediate is not refused"
pass "intermediate: pathlen:0 CA, its own database/CRL, --ca and --ca-cert issue from it, full chains verify, revoke and renew find it"

# --- --subject and .crt naming ---------------------------------------------------------
must server named -d "$D" --crt --dns sip1.example.com $CP \
    --subject "/C=DE/ST=Bayern/L=Muenchen/O=Example GmbH/OU=VoIP/CN=sip1.example.com/emailAddress=ops@example.com"
[ -f "$D/named.crt" ] && [ -f "$D/named.key" ] || fail "--crt did not write named.crt and named.key"
[ ! -e "$D/named.pem" ] || fail "--crt also wrote named.pem"
subject_of "$D/named.crt" >"$OUT"
for want in "C=DE" "ST=Bayern" "L=Muenchen" "O=Example GmbH" "OU=VoIP" "CN=sip1.example.com" "ops@example.com"; do
    has "$want" "$OUT" || fail "the subject of named.crt lacks $want"
done
ossl verify -CAfile "$D/ca.pem" "$D/named.crt" || fail "verify of named.crt"
must server named2 -d "$D" --ext crt --ca issuing --dns sip2.example.com
[ -f "$D/named2.crt" ] && [ -f "$D/named2.fullchain.crt" ] || fail "--ext crt with an intermediate did not write named2.crt and named2.fullchain.crt"
must renew named -d "$D" $CP
[ ! -e "$D/named.pem" ] || fail "renew of a .crt wrote a .pem"
must revoke named -d "$D" $CP
before=$(listing "$D")
for bad in "/C=DEU/CN=x" "CN=x" "/X=1/CN=x" "/CN=" "/C=D1/CN=x" "/CN=a//O=b"; do
    must_not server badsubj -d "$D" --subject "$bad" $CP
    has "subject" "$OUT" || fail "bad --subject '$bad' gives no clear error"
done
must_not server badsubj -d "$D" --subject "/CN=x" --cn x $CP
[ "$before" = "$(listing "$D")" ] || fail "refused subjects left files in $D"
pass "--subject (all keys), its format checks, --crt / --ext crt naming with renew and revoke"

# --- crl default and show marks -----------------------------------------------------
must crl -d "$D" $CP
n=$(days_until "$(openssl crl -in "$D/crl.pem" -noout -nextupdate | sed 's/^nextUpdate=//')")
[ "$n" -ge 364 ] && [ "$n" -le 365 ] || fail "crl: nextUpdate in $n days, expected about 365"
must revoke c1 -d "$D" $CP
n=$(days_until "$(openssl crl -in "$D/crl.pem" -noout -nextupdate | sed 's/^nextUpdate=//')")
[ "$n" -ge 364 ] && [ "$n" -le 365 ] || fail "revoke: nextUpdate in $n days, expected about 365"
must show "$D/crl.pem"
has "nextUpdate:" "$OUT" && has "days left" "$OUT" || fail "show of a fresh CRL gives no days left"
must crl -d "$D" --ca issuing --days 10
must show "$I/crl.pem"
has "expires in" "$OUT" || fail "show of a CRL ending in 10 days does not say 'expires in'"
must show "$I/crl.pem" --warn-days 5
has "expires in" "$OUT" && fail "show --warn-days 5 warns about a CRL 10 days from its end"
must client short -d "$D" --days 10 $CP
must show "$D/short.pem"
has "expires in" "$OUT" || fail "show of a certificate ending in 10 days does not say 'expires in'"

# An expired CRL and expired / future certificates, made by openssl ca with
# dates of its own, from a database of the test's (the tool's is left alone;
# everything but the database is given on the command line).
if openssl ca -help 2>&1 | grep -q -- '-crl_nextupdate'; then
    Z=$T/odb
    mkdir -p "$Z"
    : >"$Z/index.txt"
    echo 1000 >"$Z/crlnumber"
    printf '[ca]\ndefault_ca = t\n[t]\ndatabase = %s\ncrlnumber = %s\nrand_serial = yes\n[any]\ncommonName = supplied\n' \
        "$Z/index.txt" "$Z/crlnumber" >"$Z/ca.cnf"
    # dated START END NAME: a certificate of the other CA valid from START to END
    dated() {
        new_csr "$3" "/CN=$3"
        openssl ca -batch -config "$Z/ca.cnf" -cert "$O/ca.pem" -keyfile "$O/ca.key" -md sha256 \
            -policy any -outdir "$Z" -notext -startdate "$1" -enddate "$2" \
            -in "$T/$3.csr" -out "$T/$3.pem" >"$OUT" 2>&1 || fail "openssl ca could not make $3.pem ($1 to $2)"
    }
    openssl ca -batch -config "$Z/ca.cnf" -cert "$O/ca.pem" -keyfile "$O/ca.key" -md sha256 -gencrl \
        -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z -out "$T/old.crl" >"$OUT" 2>&1 \
        || fail "openssl ca could not make a CRL with a past nextUpdate"
    must show "$T/old.crl"
    has "EXPIRED" "$OUT" || fail "show of a CRL past its nextUpdate does not say EXPIRED"
    dated 20200101000000Z 20200201000000Z old
    must show "$T/old.pem"
    has "EXPIRED" "$OUT" || fail "show of an expired certificate does not say EXPIRED"
    dated 20990101000000Z 20990201000000Z future
    must show "$T/future.pem"
    has "NOT YET VALID" "$OUT" || fail "show of a certificate valid from 2099 does not say NOT YET VALID"
    pass "crl/revoke default 365 days; show marks expired, not yet valid and expiring CRLs and certificates (--warn-days)"
else
    echo "note: openssl ca has no -crl_nextupdate; the expired CRL/certificate marks of 'show' are not checked"
    pass "crl/revoke default 365 days; show marks CRLs and certificates expiring within --warn-days"
fi

# --- ocsp ----------------------------------------------------------------------------
must ocsp edge -d "$D"
[ -f "$D/edge.ocsp" ] || fail "ocsp did not write $D/edge.ocsp"
[ "$(stat -c %a "$D/edge.ocsp")" = 644 ] || fail "edge.ocsp is not mode 644"
ossl ocsp -respin "$D/edge.ocsp" -CAfile "$D/ca.pem" -issuer "$I/ca.pem" -cert "$D/edge.pem"
has "Response verify OK" "$OUT" || fail "the OCSP response of edge does not verify"
has "edge.pem: good" "$OUT" || fail "the OCSP response of edge does not say good"
must ocsp gone -d "$D" --out "$T/gone.der" --days 2
ossl ocsp -respin "$T/gone.der" -CAfile "$D/ca.pem" -VAfile "$I/ca.pem" -issuer "$I/ca.pem" -cert "$D/gone.pem"
has "Response verify OK" "$OUT" && has "gone.pem: revoked" "$OUT" || fail "the OCSP response of the revoked gone.pem does not say revoked"
ossl ocsp -respin "$T/gone.der" -resp_text -noverify
has "Next Update" "$OUT" || fail "the OCSP response has no next update"
n=$(days_until "$(sed -n 's/^ *Next Update: //p' "$OUT" | head -n 1)")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "ocsp --days 2: next update in $n days"
must ocsp s1 -d "$D" $CP
ossl ocsp -respin "$D/s1.ocsp" -CAfile "$D/ca.pem" -issuer "$D/ca.pem" -cert "$D/s1.pem"
has "Response verify OK" "$OUT" && has "s1.pem: good" "$OUT" || fail "the OCSP response of s1 (root CA) is not good"
must ocsp phone1 -d "$D" $CP
ossl ocsp -respin "$D/phone1.ocsp" -CAfile "$D/ca.pem" -issuer "$D/ca.pem" -cert "$D/phone1.pem"
has "Response verify OK" "$OUT" && has "phone1.pem: revoked" "$OUT" || fail "the OCSP response of the revoked phone1 is not revoked"
before=$(listing "$D")
must_not ocsp s1 -d "$D" --ca-pass "file:$T/wrong.pass"
[ "$before" = "$(listing "$D")" ] || fail "a failed ocsp left files in $D"
pass "ocsp: DER responses good / revoked from the database, root and intermediate, --out and --days"

# --- nothing secret in what the tool printed ------------------------------------------
OUT=$ALL
has "PRIVATE KEY" "$ALL" && fail "ser-certs printed key material"
has "$PASS_TEXT" "$ALL" && fail "ser-certs printed the CA passphrase"
pass "ser-certs printed no key and no passphrase"
OUT=$T/out

# --- ser serves the material ----------------------------------------------------------
if [ ! -x "$SER_BIN" ] || ! "$SER_BIN" -V 2>/dev/null | grep -q 'TLS'; then
    echo "note: no ser built with TLS at $SER_BIN (make TLS=1): the ser checks are skipped"
    echo "all $checks checks passed"
    exit 0
fi

# a client certificate for ser, signed from a request
new_csr sipclient "/CN=sipclient"
must sign "$T/sipclient.csr" --client -d "$D" $CP

P=$(free_port)
# ser on 127.0.0.1: the intermediate's full chain, the root for client certificates
options_cfg "$T/ser.cfg" "break;" <<EOF
children=1
tcp_children=1
listen=tls:127.0.0.1:$P
tls_certificate="$D/edge.fullchain.pem"
tls_private_key="$D/edge.key"
tls_ca_list="$D/ca.pem"
tls_verify=1
tls_require_certificate=1
EOF
OUT=$T/check.log
"$SER_BIN" -c -f "$T/ser.cfg" >"$OUT" 2>&1 || fail "ser -c does not accept the intermediate full chain, its key and the root"
pass "ser -c accepts the intermediate-issued full chain as tls_certificate"

start_ser "$T/ser.cfg"
sip_options "sip:ping@127.0.0.1:$P" pki1 >"$T/req"
# ask NAME ARGS...: the OPTIONS through s_client (sent after the handshake,
# stdin closed 3 s later), output in $T/NAME.out
ask() {
    _n=$1
    shift
    { sleep 1; cat "$T/req"; sleep 3; } | timeout 15 openssl s_client -connect "127.0.0.1:$P" \
        -CAfile "$D/ca.pem" -verify_return_error "$@" >"$T/$_n.out" 2>&1
}

ask chain -verify_hostname localhost
OUT=$T/chain.out
has "Verify return code: 0 (ok)" "$OUT" || fail "s_client did not verify ser's chain"
has "depth=1 C = DE, O = Example, CN = Example Issuing CA" "$OUT" || fail "s_client shows no intermediate at depth 1"
has "depth=2 C = DE, O = Example, CN = Example Root" "$OUT" || fail "s_client did not reach the root at depth 2"
pass "TLS handshake with ser on 127.0.0.1:$P: the chain through the intermediate verifies against the root"

ask withcert -cert "$D/sipclient.pem" -key "$T/sipclient.key"
OUT=$T/withcert.out
has "SIP/2.0 200" "$OUT" || fail "ser did not answer a client with the signed sipclient certificate"
ask nocert
OUT=$T/nocert.out
has "SIP/2.0 200" "$OUT" && fail "ser answered a client without a certificate (tls_require_certificate)"
pass "ser (tls_verify, tls_require_certificate) accepts the client certificate made by 'sign --client' and refuses none"

stop_ser
echo "all $checks checks passed"
exit 0

#!/bin/sh
# Certificates from tools/ser-certs work in the roles they were made for and
# in no other: ser serving a ser-certs server certificate is accepted by a
# strict client; a client certificate as server certificate is refused by
# ser -c and at start (a strict client would refuse it); a ser-certs client certificate is
# accepted by ser as a client, a server-only one is refused. The annotated
# production example (etc/ser-production.cfg) checks clean once its files exist.
. "$(dirname "$0")/tls_lib.sh"

certs_ca
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
U=$(free_port); P=$(free_port)
sip_options "sip:ping@127.0.0.1:$P" roles >"$T/req"
TLS_REQ=$T/req

# 1. ser with a client certificate as its server certificate: a strict
# client would refuse it ("unsupported certificate purpose"), so ser -c and
# the start refuse it first, naming the role.
write_tls_cfg "$T/wrong.cfg" "$U" "$P" 9 <<CFG
tls_certificate="$CERTS/alice.pem"
tls_private_key="$CERTS/alice.key"
CFG
"$SER_BIN" -c -f "$T/wrong.cfg" >"$T/wrong.check" 2>&1 && fail "ser -c accepted a clientAuth-only certificate as server certificate"
grep -q 'alice.pem" is not a server certificate: its extendedKeyUsage (clientAuth) does not allow serverAuth' "$T/wrong.check" ||
    fail "ser -c does not say why: $(cat "$T/wrong.check")"
timeout 10 "$SER_BIN" -D -E -f "$T/wrong.cfg" >"$T/wrong.log" 2>&1 && fail "ser started with a client certificate as server certificate"
grep -q 'is not a server certificate' "$T/wrong.log" || fail "ser's start does not say why: $(tail -n 3 "$T/wrong.log")"
ok "a client certificate as server certificate: ser -c and the start refuse it, naming the role"

# 2. ser with its server certificate, asking clients for theirs.
write_tls_cfg "$T/right.cfg" "$U" "$P" 9 <<CFG
tls_certificate="$CERTS/localhost.pem"
tls_private_key="$CERTS/localhost.key"
tls_ca_list="$CERTS/ca.pem"
tls_verify=1
tls_require_certificate=1
CFG
start_ser "$T/right.cfg"
tls_ask good 'SIP/2.0 200' -connect "127.0.0.1:$P" -CAfile "$CERTS/ca.pem" -verify_return_error \
    -cert "$CERTS/alice.pem" -key "$CERTS/alice.key" || fail "server certificate + client certificate: no 200"
grep -q 'Verify return code: 0' "$T/good.out" || fail "the client did not verify ser's certificate"
ok "ser-certs server and client certificates accepted in their roles"
tls_ask srvascli 'SIP/2.0 200' -connect "127.0.0.1:$P" -CAfile "$CERTS/ca.pem" \
    -cert "$CERTS/localhost.pem" -key "$CERTS/localhost.key" \
    && fail "ser accepted a serverAuth-only certificate from a client"
log_wait "$T/ser.log" 'unsuitable certificate purpose' 1 5 || fail "ser's log does not say why it refused"
stop_ser
ok "a server-only certificate presented as a client certificate is refused by ser"

# 3. The production example: every name it uses, made with ser-certs.
pc=$T/prod
"$SER_CERTS" ca -d "$pc" >/dev/null
"$SER_CERTS" ca -d "$pc/carrier" >/dev/null
for n in sip.example.com portal.example.com; do "$SER_CERTS" server $n -d "$pc" --dns $n >/dev/null; done
"$SER_CERTS" server trunk.example.com -d "$pc" --dns trunk.example.com --client-auth >/dev/null
cp "$pc/ca.pem" "$pc/ca-bundle.pem"
cp "$pc/carrier/ca.pem" "$pc/carrier-ca.pem"
cp "$pc/carrier/crl.pem" "$pc/carrier-ca.crl"
sed -e "s|/etc/ser/certs|$pc|g" "$SER_TOP/etc/ser-production.cfg" >"$T/production.cfg"
# Its documentation addresses are not on this host: check without resolving them.
out=$("$SER_BIN" -c -f "$T/production.cfg" 2>&1) || fail "etc/ser-production.cfg does not check clean: $out"
ok "etc/ser-production.cfg checks clean with ser-certs certificates"

#!/bin/sh
# ser -u: a TLS file that root could read at start but the dropped user could
# not read on a SIGHUP reload gets a warning at start (and from ser -c -u),
# naming the parameter, the file and its domain (global and per tls_domain);
# once the keys belong to the user, the same start is silent about them.
# Needs root (for -u nobody).
. "$(dirname "$0")/tls_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to drop privileges to nobody"
id nobody >/dev/null 2>&1 || skip "no user nobody"

certs_ca
cert_server srv --dns localhost --ip 127.0.0.1
cert_server dom --dns localhost --ip 127.0.0.1
# nobody may walk to the files; each one's own mode decides.
chmod 755 "$T" "$CERTS"
for k in srv dom; do
    [ "$(stat -c '%a %U' "$CERTS/$k.key")" = "600 root" ] || fail "$k.key is not root's, mode 600"
    [ "$(stat -c '%a' "$CERTS/$k.pem")" = 644 ] || fail "$k.pem is not mode 644"
done

P1=$(free_port) P2=$(free_port)
cat >"$T/ser.cfg" <<CFG
children=1
tcp_children=1
listen=tls:127.0.0.1:$P1
listen=tls:127.0.0.1:$P2
tls_certificate="$CERTS/srv.pem"
tls_private_key="$CERTS/srv.key"
tls_ca_list="$CERTS/ca.pem"
tls_domain[127.0.0.1:$P2] {
    tls_certificate="$CERTS/dom.pem"
    tls_private_key="$CERTS/dom.key"
}
route { drop; }
CFG

# start_as_nobody LOG: ser -u nobody until its listeners are open (the
# warnings come before the listeners are bound), then stopped.
start_as_nobody() {
    start_ser "$T/ser.cfg" -u nobody
    stop_ser
    cp "$T/ser.log" "$1"
}

start_as_nobody "$T/root-keys.log"
grep -F "tls_private_key \"$CERTS/srv.key\" (default TLS domain) is not readable by user nobody" \
    "$T/root-keys.log" >/dev/null || { cat "$T/root-keys.log"; fail "no warning for the default domain's key"; }
grep -F "tls_private_key \"$CERTS/dom.key\" (tls_domain[127.0.0.1:$P2]) is not readable by user nobody" \
    "$T/root-keys.log" >/dev/null || { cat "$T/root-keys.log"; fail "no warning for the tls_domain's key"; }
grep -q 'SIGHUP' "$T/root-keys.log" || fail "the warning does not say what will fail"
grep -F "make it group-readable by the ser group: chgrp nogroup '$CERTS/srv.key' && chmod g+r '$CERTS/srv.key'" "$T/root-keys.log" >/dev/null ||
    fail "the warning does not say how to fix it: $(grep -m1 "srv.key" "$T/root-keys.log")"
n=$(grep -c 'is not readable by' "$T/root-keys.log")
[ "$n" -eq 2 ] || { cat "$T/root-keys.log"; fail "$n warnings, expected 2 (the certificates and CA list are readable)"; }
ok "keys of root at mode 600: one warning each, naming file and domain; none for readable files"

"$SER_BIN" -c -f "$T/ser.cfg" -u nobody >"$T/check.log" 2>&1 || fail "ser -c -u nobody failed"
[ "$(grep -c 'is not readable by user nobody' "$T/check.log")" -eq 2 ] || { cat "$T/check.log"; fail "ser -c -u nobody does not warn twice"; }
grep -q "ser.cfg:6:[0-9]*: warning: tls_private_key \"$CERTS/srv.key" "$T/check.log" &&
    grep -q "ser.cfg:10:[0-9]*: warning: tls_private_key \"$CERTS/dom.key" "$T/check.log" ||
    { cat "$T/check.log"; fail "the warnings do not point at the tls_private_key lines"; }
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check-root.log" 2>&1 || fail "ser -c failed"
grep -q 'is not readable by' "$T/check-root.log" && fail "a warning without -u"
ok "ser -c -u nobody warns at the parameter's line; without -u it does not"

chown nobody "$CERTS/srv.key" "$CERTS/dom.key"
start_as_nobody "$T/own-keys.log"
if grep -q 'is not readable by' "$T/own-keys.log"; then
    cat "$T/own-keys.log"; fail "a warning although nobody owns the keys"
fi
ok "keys owned by nobody: no warning"

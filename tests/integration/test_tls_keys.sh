#!/bin/sh
# Private keys protected by a passphrase (tls_private_key_pass="file:...")
# and the opt-in NSS key log (tls_keylog_file) (issue 13):
# - an encrypted key without tls_private_key_pass, a wrong passphrase, and a
#   passphrase written into ser.cfg are clear errors; the right one serves;
#   the passphrase appears in no output;
# - tls_keylog_file: a loud warning at start, the file is mode 600, and it
#   holds the secrets of the client's own session (compared with the key log
#   openssl s_client writes of the same handshake).
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server sip --dns localhost --ip 127.0.0.1
PASS=correct-horse-battery-42
printf '%s\n' "$PASS" >"$CERTS/sip.pass"; chmod 600 "$CERTS/sip.pass"
printf 'wrong\n' >"$CERTS/wrong.pass"; chmod 600 "$CERTS/wrong.pass"
openssl pkey -in "$CERTS/sip.key" -aes256 -passout "file:$CERTS/sip.pass" -out "$CERTS/sip-enc.key" 2>/dev/null ||
    fail "openssl pkey -aes256"
chmod 600 "$CERTS/sip-enc.key"
grep -q 'ENCRYPTED PRIVATE KEY' "$CERTS/sip-enc.key" || fail "the key is not encrypted"
PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
cfg() { # NAME LINES...
    _n=$1; shift
    printf '%s\n' "$@" | write_tls_cfg "$T/$_n.cfg" "$PU" "$PT" "$PU"
}
check() { "$SER_BIN" -c -f "$T/$1.cfg" >"$T/$1.check" 2>&1; }

cfg nopass 'tls_certificate="c/sip.pem"' 'tls_private_key="c/sip-enc.key"'
check nopass && fail "ser -c accepted an encrypted key without tls_private_key_pass"
grep -q 'sip-enc.key" is encrypted, and no tls_private_key_pass says where its passphrase is' "$T/nopass.check" ||
    fail "no clear error without the passphrase: $(cat "$T/nopass.check")"
ok "an encrypted key without tls_private_key_pass: a clear error (and no prompt)"

cfg wrong 'tls_certificate="c/sip.pem"' 'tls_private_key="c/sip-enc.key"' 'tls_private_key_pass="file:c/wrong.pass"'
check wrong && fail "ser -c accepted a wrong passphrase"
grep -q 'cannot be decrypted with the passphrase of tls_private_key_pass (wrong passphrase?)' "$T/wrong.check" ||
    fail "no clear error for a wrong passphrase: $(cat "$T/wrong.check")"
ok "a wrong passphrase: a clear error"

cfg literal 'tls_certificate="c/sip.pem"' 'tls_private_key="c/sip-enc.key"' "tls_private_key_pass=\"$PASS\""
check literal && fail "ser -c accepted a passphrase written in ser.cfg"
grep -q 'tls_private_key_pass: expected "file:PATH" or "env:VARIABLE"' "$T/literal.check" ||
    fail "no clear error for a literal passphrase: $(cat "$T/literal.check")"
ok "a passphrase in ser.cfg itself is refused"

cfg good 'tls_certificate="c/sip.pem"' 'tls_private_key="c/sip-enc.key"' 'tls_private_key_pass="file:c/sip.pass"' \
    "tls_keylog_file=\"$T/keys.log\""
check good || fail "ser -c refused the right passphrase: $(cat "$T/good.check")"
grep -q 'tls_keylog_file=.*the keys of every TLS session will be written to it' "$T/good.check" ||
    fail "ser -c does not warn about tls_keylog_file"
start_ser "$T/good.cfg"
grep -q 'WARNING: tls_keylog_file=.*THE KEYS OF EVERY TLS SESSION ARE WRITTEN TO IT' "$T/ser.log" ||
    fail "no loud warning at start"
sip_options "sip:ping@127.0.0.1:$PT" keys >"$T/req"
TLS_REQ=$T/req
tls_ask k 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error -keylogfile "$T/client.keys" ||
    fail "no 200 from ser with the encrypted key"
ok "the right passphrase from a file: ser serves with the encrypted key"

[ "$(stat -c %a "$T/keys.log")" = 600 ] || fail "the key log is mode $(stat -c %a "$T/keys.log"), not 600"
n=0
for r in $(awk '/^CLIENT_HANDSHAKE_TRAFFIC_SECRET|^CLIENT_TRAFFIC_SECRET_0/ {print $2}' "$T/client.keys" | sort -u); do
    grep -q "$r" "$T/keys.log" || fail "client random $r of the session is not in ser's key log"
    n=$((n+1))
done
[ $n -ge 1 ] || fail "s_client wrote no key log"
grep -q '^SERVER_HANDSHAKE_TRAFFIC_SECRET ' "$T/keys.log" || fail "ser's key log is not in the NSS format"
ok "tls_keylog_file: mode 600, NSS format, holds the secrets of the client's session"
stop_ser
cat "$T"/*.check "$T/ser.log" | grep -q -- "$PASS" && fail "the passphrase appears in ser's output"
ok "the passphrase appears in no output"

#!/bin/sh
# Certificates rotated on disk are taken without a signal (issue 12):
# - a certificate and key renamed into place (as ACME clients do) are served
#   to new connections within 2 s, while a connection opened before goes on;
# - certbot's layout (live/ symbolic links into archive/, the links swapped):
#   the same;
# - a half-written certificate, a certificate without its key and an expired
#   one are refused: the old certificate stays, each refusal is logged once,
#   an unrelated file in the same directory triggers nothing, and the next
#   good file is taken;
# - the counters tls_reloads / tls_reload_failures and their metrics say so.
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/ctl_lib.sh"

certs_ca "$CERTS"
for n in first second third fourth fifth; do cert_server $n --dns localhost --ip 127.0.0.1; done
cp "$CERTS/first.pem" "$CERTS/live.pem"
cp "$CERTS/first.key" "$CERTS/live.key"
# certbot: live/NAME/{cert,privkey}.pem are links into archive/NAME/.
mkdir -p "$CERTS/archive/sip" "$CERTS/live/sip"
cp "$CERTS/first.pem" "$CERTS/archive/sip/cert1.pem"
cp "$CERTS/first.key" "$CERTS/archive/sip/privkey1.pem"
ln -s ../../archive/sip/cert1.pem "$CERTS/live/sip/cert.pem"
ln -s ../../archive/sip/privkey1.pem "$CERTS/live/sip/privkey.pem"

PU=$(free_port); PT=$(free_port); PB=$(free_port)
[ "$PU" != "$PT" ] && [ "$PT" != "$PB" ] && [ "$PU" != "$PB" ] || fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
listen=tls:127.0.0.1:$PB
ctl_socket="$T/ctl"
tls_certificate="c/live.pem"
tls_private_key="c/live.key"
tls_ca_list="c/ca.pem"
tls_domain[127.0.0.1:$PB] {
    tls_certificate="c/live/sip/cert.pem"
    tls_private_key="c/live/sip/privkey.pem"
}
CFG
start_ser "$T/ser.cfg"
[ -S "$T/ctl" ] || fail "no control socket"

cn_of() { peer_subject "$1" -noservername | sed -n 's/.*CN *= *//p'; }
# wait_cn PORT CN: bounded to 2 s from the call; prints the milliseconds it took.
wait_cn() {
    _t0=$(date +%s%N)
    while :; do
        [ "$(cn_of "$1")" = "$2" ] && { echo $((($(date +%s%N) - _t0) / 1000000)); return 0; }
        [ $((($(date +%s%N) - _t0) / 1000000)) -ge 2000 ] && return 1
        sleep 0.05
    done
}
counter() { jget "$(rpc "$T/ctl" stats)" "r['result']['counters']['$1']"; }

[ "$(cn_of "$PT")" = first ] || fail "at start: expected CN first"
[ "$(cn_of "$PB")" = first ] || fail "at start (certbot layout): expected CN first"

sip_options "sip:ping@127.0.0.1:$PT" before-1 >"$T/before-1.req"
sip_options "sip:ping@127.0.0.1:$PT" before-2 >"$T/before-2.req"
tls_open held 7 -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error
tls_send 7 "$T/before-1.req"
tls_wait held 'Call-ID: before-1' || fail "no answer on the connection opened before the rotation"

# 1. rename into place, key first then certificate, no signal.
cp "$CERTS/second.key" "$CERTS/.live.key.new" && mv "$CERTS/.live.key.new" "$CERTS/live.key"
cp "$CERTS/second.pem" "$CERTS/.live.pem.new" && mv "$CERTS/.live.pem.new" "$CERTS/live.pem"
ms=$(wait_cn "$PT" second) || fail "the renamed certificate was not served within 2 s (CN now: $(cn_of "$PT"))"
ok "certificate renamed into place: served to new connections after $ms ms, no signal"
tls_send 7 "$T/before-2.req"
tls_wait held 'Call-ID: before-2' || fail "the connection opened before the rotation stopped working"
tls_close held 7
ok "a connection opened before the rotation keeps working"

# 2. certbot renew: new files in archive/, the links replaced by rename.
cp "$CERTS/second.pem" "$CERTS/archive/sip/cert2.pem"
cp "$CERTS/second.key" "$CERTS/archive/sip/privkey2.pem"
ln -s ../../archive/sip/privkey2.pem "$CERTS/live/sip/.privkey.new" && mv -T "$CERTS/live/sip/.privkey.new" "$CERTS/live/sip/privkey.pem"
ln -s ../../archive/sip/cert2.pem "$CERTS/live/sip/.cert.new" && mv -T "$CERTS/live/sip/.cert.new" "$CERTS/live/sip/cert.pem"
ms=$(wait_cn "$PB" second) || fail "the certbot-style renewal was not served within 2 s (CN now: $(cn_of "$PB"))"
ok "certbot layout (links swapped in live/): new certificate served after $ms ms"
[ "$(cn_of "$PT")" = second ] || fail "the other listener changed"

reloads=$(counter tls_reloads)
[ "$reloads" -ge 2 ] || fail "tls_reloads is $reloads after two rotations"

# 3. refused material: each is logged once, the old certificate stays.
refusals() { grep -c 'after a file change refused, the old certificates stay in use' "$T/ser.log"; }
n0=$(refusals)
head -c 300 "$CERTS/third.pem" >"$CERTS/.live.pem.new" && mv "$CERTS/.live.pem.new" "$CERTS/live.pem"
log_wait "$T/ser.log" 'after a file change refused' $((n0 + 1)) 5 || fail "the half-written certificate was not refused"
grep 'after a file change refused' "$T/ser.log" | tail -n 1 | grep -q 'live.pem' ||
    fail "the refusal does not name the file: $(grep 'refused' "$T/ser.log" | tail -n 1)"
[ "$(cn_of "$PT")" = second ] || fail "after a half-written certificate: expected the old CN second"
ok "half-written certificate refused (logged with the file), the old one is still served"

# An unrelated file in the same directory: nothing is tried again.
echo notes >"$CERTS/README.txt"
# A certificate whose key is not beside it yet.
cp "$CERTS/third.pem" "$CERTS/.live.pem.new" && mv "$CERTS/.live.pem.new" "$CERTS/live.pem"
log_wait "$T/ser.log" 'after a file change refused' $((n0 + 2)) 5 || fail "a certificate without its key was not refused"
grep 'after a file change refused' "$T/ser.log" | tail -n 1 | grep -q 'mismatch\|does not match' ||
    fail "the key mismatch is not named: $(grep 'refused' "$T/ser.log" | tail -n 1)"
[ "$(cn_of "$PT")" = second ] || fail "after a certificate without its key: expected CN second"
ok "certificate without its key refused, the old pair is still served"

# The key arrives: the pair is good now.
cp "$CERTS/third.key" "$CERTS/.live.key.new" && mv "$CERTS/.live.key.new" "$CERTS/live.key"
ms=$(wait_cn "$PT" third) || fail "the completed pair was not taken within 2 s"
ok "the key renamed in after its certificate: the pair is taken after $ms ms"

# An expired certificate is refused too (what ser -c refuses).
cert_expired stale
cp "$CERTS/stale.key" "$CERTS/.live.key.new"; cp "$CERTS/stale.pem" "$CERTS/.live.pem.new"
mv "$CERTS/.live.key.new" "$CERTS/live.key"; mv "$CERTS/.live.pem.new" "$CERTS/live.pem"
log_wait "$T/ser.log" 'after a file change refused' $((n0 + 3)) 5 || fail "an expired certificate was not refused"
grep 'after a file change refused' "$T/ser.log" | tail -n 1 | grep -q 'expired on 2020' ||
    fail "the expiry is not named: $(grep 'refused' "$T/ser.log" | tail -n 1)"
[ "$(cn_of "$PT")" = third ] || fail "after an expired certificate: expected CN third"
ok "expired certificate refused, the previous one stays"

# Good material again; then count: every refusal was logged exactly once.
cp "$CERTS/fourth.key" "$CERTS/.live.key.new"; cp "$CERTS/fourth.pem" "$CERTS/.live.pem.new"
mv "$CERTS/.live.key.new" "$CERTS/live.key"; mv "$CERTS/.live.pem.new" "$CERTS/live.pem"
wait_cn "$PT" fourth >/dev/null || fail "good material after refusals was not taken within 2 s"
[ "$(refusals)" -eq $((n0 + 3)) ] || fail "expected $((n0 + 3)) refusal lines, got $(refusals)"
ok "each refused file was logged once; the unrelated file triggered nothing; good material is taken"

failures=$(counter tls_reload_failures)
[ "$failures" -ge 3 ] || fail "tls_reload_failures is $failures after 3 refusals"
m=$(rpc "$T/ctl" metrics)
echo "$m" | grep -q 'ser_tls_reload_failures_total' || fail "no ser_tls_reload_failures_total in the metrics"
ok "counters: tls_reloads=$(counter tls_reloads), tls_reload_failures=$failures"

# SIGHUP still reloads.
before=$(grep -c 'TLS material reloaded (SIGHUP)' "$T/ser.log")
kill -HUP "$SER_PID"
log_wait "$T/ser.log" 'TLS material reloaded (SIGHUP)' $((before + 1)) 5 || fail "SIGHUP did not reload"
ok "SIGHUP still reloads"
kill -0 "$SER_PID" || fail "ser died"
stop_ser

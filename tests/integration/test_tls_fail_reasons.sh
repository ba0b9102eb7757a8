#!/bin/sh
# Failed TLS handshakes are counted by reason, exactly one per failure, and
# logged once with the peer at a level chosen by the cause (issue 13): peer
# faults at info, ours (the peer refused our certificate) at error. Then
# tls_handshake_rate: a flood of new handshakes on one listener is held to
# the rate across both workers, while a connection opened before from another
# source goes on answering, and a new connection gets in once the flood stops.
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/ctl_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
cert_client bob
"$SER_CERTS" revoke bob -d "$CERTS" >/dev/null || fail "ser-certs revoke bob failed"
cert_expired old
mkdir -p "$T/other"
"$SER_CERTS" ca -d "$T/other" >/dev/null || fail "other CA"
cert_client stranger -d "$T/other"

PU=$(free_port); PT=$(free_port); P13=$(free_port); PR=$(free_port)
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
listen=tls:127.0.0.1:$P13
listen=tls:127.0.0.1:$PR
ctl_socket="$T/ctl"
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_crl="c/crl.pem"
tls_verify=1
tls_require_certificate=1
tls_handshake_timeout=1
tls_domain[127.0.0.1:$P13] {
    tls_method=tlsv1.3
}
tls_domain[127.0.0.1:$PR] {
    tls_verify=0
    tls_require_certificate=0
    tls_handshake_rate=20
}
CFG
start_ser "$T/ser.cfg"

fails() { rpc "$T/ctl" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['tls_failures'].get('$1', 0))"; }
# expect_one REASON LEVEL TEXT-IN-LOG CMD...: CMD fails one handshake; the
# counter REASON moves by exactly one and one line at LEVEL says TEXT.
expect_one() {
    xr_reason=$1 xr_level=$2 xr_text=$3; shift 3
    xr_before=$(fails "$xr_reason"); xr_lines=$(grep -c -- "$xr_text" "$T/ser.log")
    "$@" >"$T/$xr_reason.out" 2>&1 </dev/null
    _i=0; while [ "$(fails "$xr_reason")" -eq "$xr_before" ] && [ $_i -lt 60 ]; do sleep 0.05; _i=$((_i+1)); done
    [ "$(fails "$xr_reason")" -eq $((xr_before + 1)) ] || fail "$xr_reason: counter $(fails "$xr_reason"), expected $((xr_before + 1)) ($(tail -n 3 "$T/ser.log"))"
    log_wait "$T/ser.log" "$xr_text" $((_lb + 1)) 3 || fail "$xr_reason: no log line with '$xr_text'"
    grep -- "$xr_text" "$T/ser.log" | tail -n 1 | grep -q "] $xr_level: .*127.0.0.1" ||
        fail "$xr_reason: not logged at $xr_level with the peer: $(grep -- "$xr_text" "$T/ser.log" | tail -n 1)"
    ok "$xr_reason: counted once, logged at $xr_level with the peer"
}
client() { # PORT ARGS: a client that sends an OPTIONS once connected
    xr_port=$1; shift
    sip_options "sip:ping@127.0.0.1:$xr_port" r >"$T/r.req"
    (cat "$T/r.req"; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$xr_port" "$@"
}

expect_one no_certificate INFO "peer did not return a certificate" client "$PT" -CAfile "$CERTS/ca.pem"
expect_one unknown_ca INFO "unable to get local issuer certificate" \
    client "$PT" -cert "$T/other/stranger.pem" -key "$T/other/stranger.key"
expect_one expired INFO "certificate has expired" client "$PT" -cert "$CERTS/old.pem" -key "$CERTS/old.key"
expect_one revoked INFO "certificate revoked" client "$PT" -cert "$CERTS/bob.pem" -key "$CERTS/bob.key"
expect_one protocol_version INFO "unsupported protocol" \
    client "$P13" -tls1_2 -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
expect_one no_shared_cipher INFO "no shared cipher" \
    client "$PT" -tls1_2 -cipher AES128-SHA -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
sip_options "sip:ping@127.0.0.1:$PT" plain >"$T/plain.req"
expect_one not_tls INFO "wrong version number\|http request\|packet length" \
    sh -c "(cat '$T/plain.req'; sleep 0.5) | socat - TCP:127.0.0.1:$PT"
expect_one timeout INFO "handshake with 127.0.0.1:[0-9]* timed out" sh -c "sleep 2 | socat - TCP:127.0.0.1:$PT"
expect_one peer_refused_ours ERROR "alert unknown ca" \
    client "$PT" -CAfile "$T/other/ca.pem" -verify_return_error -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
TLS_REQ=$T/plain.req
tls_ask good 'SIP/2.0 200' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" \
    -key "$CERTS/alice.key" || fail "a good client was refused"
ok "a good client still gets its 200"

# tls_handshake_rate=20 on $PR: a connection opened before the flood.
sip_options "sip:ping@127.0.0.1:$PR" held-1 >"$T/held-1.req"
sip_options "sip:ping@127.0.0.1:$PR" held-2 >"$T/held-2.req"
tls_open held 7 -connect "127.0.0.1:$PR" -CAfile "$CERTS/ca.pem"
tls_send 7 "$T/held-1.req"
tls_wait held 'Call-ID: held-1' || fail "no answer on the connection opened before the flood"
rl0=$(fails rate_limited)
cat >"$T/flood.py" <<'PY'
import socket, ssl, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ok = bad = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    try:
        # From another source address than the connection held open (127.0.0.1).
        with socket.create_connection(("127.0.0.1", port), timeout=2, source_address=("127.0.0.2", 0)) as s:
            with ctx.wrap_socket(s) as t:
                ok += 1
    except (OSError, ssl.SSLError):
        bad += 1
print(ok, bad)
PY
set -- $(python3 "$T/flood.py" "$PR" 2)
done_ok=$1; refused=$2
tls_send 7 "$T/held-2.req"
tls_wait held 'Call-ID: held-2' || fail "the connection opened before the flood stopped answering"
tls_close held 7
rl=$(( $(fails rate_limited) - rl0 ))
[ "$refused" -gt 0 ] || fail "a 2 s flood was never limited ($done_ok handshakes)"
# 2 s of flood (plus its last handshake) touch at most 4 one-second windows of 20.
[ "$done_ok" -le 80 ] || fail "$done_ok handshakes in 2 s through tls_handshake_rate=20"
[ "$rl" -ge "$refused" ] || fail "rate_limited counted $rl, the flood saw $refused refusals"
ok "flood of 2 s from 127.0.0.2: $done_ok handshakes let in (limit 20/s), $refused refused and counted; the connection from 127.0.0.1 kept answering"
sleep 1.1   # the next one-second window: wall time is what is waited for
TLS_REQ=$T/held-1.req
tls_ask after 'SIP/2.0 200' -connect "127.0.0.1:$PR" -CAfile "$CERTS/ca.pem" || fail "no new connection after the flood"
ok "a new connection gets in once the flood is over"
stop_ser

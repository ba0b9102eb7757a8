#!/bin/sh
# SIPp uac --UDP--> Kamailio --TLS--> ser --UDP--> SIPp uas, 20 calls/s for 10 s;
# the answers go back the same way, over the TLS connection Kamailio opened.
# Mutual TLS: ser requires and verifies Kamailio's client certificate, Kamailio
# verifies ser's. Every call must succeed. (Debian's SIPp has no TLS, hence Kamailio.)
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || skip "sipp not installed"
command -v kamailio >/dev/null || skip "kamailio not installed (packages kamailio, kamailio-tls-modules)"
KAM_MODS=$(kamailio -h 2>&1 | sed -n 's/.*Modules search path (default: \([^)]*\)).*/\1/p')
[ -f "$KAM_MODS/tls.so" ] || skip "kamailio's tls module missing (package kamailio-tls-modules)"

RATE=20 CALLS=200
certs_ca "$CERTS"
cert_server ser --dns localhost --ip 127.0.0.1
cert_server kamailio --dns localhost --ip 127.0.0.1 --client-auth

PS=$(free_port); KU=$(free_port); KT=$(free_port); UAS_PORT=$(free_port)
[ "$(printf '%s\n' "$PS" "$KU" "$KT" "$UAS_PORT" | sort -u | wc -l)" -eq 4 ] || fail "port clash, run again"

cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=2
listen=udp:127.0.0.1:$PS
listen=tls:127.0.0.1:$PS
tls_certificate="c/ser.pem"
tls_private_key="c/ser.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); break; };
    if (proto!=TLS) { sl_send_reply("403", "TLS only"); break; };
    forward(127.0.0.1, $UAS_PORT);
}
CFG

mkdir -p "$T/kam-run"
cat >"$T/kam-tls.cfg" <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $CERTS/kamailio.pem
private_key = $CERTS/kamailio.key
ca_list = $CERTS/ca.pem

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
certificate = $CERTS/kamailio.pem
private_key = $CERTS/kamailio.key
ca_list = $CERTS/ca.pem
CFG
cat >"$T/kamailio.cfg" <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
disable_sctp=yes
enable_tls=yes
listen=udp:127.0.0.1:$KU
listen=tls:127.0.0.1:$KT
loadmodule "tls.so"
loadmodule "pv.so"
modparam("tls", "config", "$T/kam-tls.cfg")
request_route {
    \$du = "sip:127.0.0.1:$PS;transport=tls";
    forward();
}
CFG
kamailio -c -f "$T/kamailio.cfg" -L "$KAM_MODS" >"$T/kam-check.log" 2>&1 ||
    { tail -n 20 "$T/kam-check.log"; fail "kamailio does not accept the test's kamailio.cfg"; }

bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t u1 -nostdin
wait_port udp "$UAS_PORT" 10 || fail "sipp uas did not start"
start_ser "$T/ser.cfg"

KAM_PID=""
stop_kamailio() {
    [ -n "$KAM_PID" ] || return 0
    kill -TERM "$KAM_PID" 2>/dev/null
    k=0; while kill -0 "$KAM_PID" 2>/dev/null && [ $k -lt 50 ]; do sleep 0.1; k=$((k+1)); done
    kill -0 "$KAM_PID" 2>/dev/null && echo "kamailio (pid $KAM_PID) still running 5 s after SIGTERM"
    kill -KILL "$KAM_PID" 2>/dev/null
    wait "$KAM_PID" 2>/dev/null
    KAM_PID=""
}
kam_cleanup() { stop_kamailio; tls_cleanup; }
trap kam_cleanup EXIT INT TERM
# Kamailio in the foreground, logging to stderr, pid file and run directory in $T.
kamailio -DD -E -f "$T/kamailio.cfg" -L "$KAM_MODS" -P "$T/kam-run/kamailio.pid" -Y "$T/kam-run" \
    -w "$T/kam-run" -m 64 -M 8 >"$T/kamailio.log" 2>&1 &
KAM_PID=$!
if ! wait_port udp "$KU" 10 || ! wait_port tcp "$KT" 10; then
    tail -n 20 "$T/kamailio.log"; fail "kamailio did not start listening"
fi

# sipp_calls.sh's uac, aimed at Kamailio over UDP.
# shellcheck disable=SC2034  # read by sipp_run
SER_PORT=$KU SIPP_T=u1
sipp_run "$RATE" "$CALLS"
show() { echo "--- kamailio.log:"; tail -n 20 "$T/kamailio.log"; tail -n 20 "$T/uac.out"; }
[ "$SIPP_OK" -eq "$CALLS" ] || { show; fail "expected $CALLS successful calls, got $SIPP_OK"; }
[ "$SIPP_FAILED" -eq 0 ] || { show; fail "$SIPP_FAILED calls failed"; }
[ "$SIPP_RC" -eq 0 ] || { show; fail "sipp exited with $SIPP_RC"; }
grep -q "TLS with 127.0.0.1:[0-9]*: TLSv1.3 .*peer CN *= *kamailio (verified)" "$T/ser.log" ||
    { grep TLS "$T/ser.log" | tail -n 5; fail "ser did not log Kamailio's verified TLS connection"; }
kill -0 "$SER_PID" || fail "ser died"
stop_kamailio
stop_ser
ok "$CALLS/$CALLS calls at $RATE/s: SIPp -> Kamailio -TLS-> ser -> SIPp and back"

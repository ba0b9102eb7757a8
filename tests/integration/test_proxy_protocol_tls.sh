#!/bin/sh
# TLS behind HAProxy in TCP passthrough with send-proxy-v2: openssl s_client
# on [::1] -> haproxy [::1] -> listen=tls:127.0.0.1 proxy_protocol. The PROXY
# header is read before the TLS handshake; the OPTIONS gets a 200 whose Via
# says received=::1, and while the session is open tcp.list and tls.list show
# the client [::1] as the remote and haproxy (127.0.0.1) as via.
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v haproxy >/dev/null || skip "haproxy not installed"
ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' || skip "no ::1 on lo"

certs_ca "$CERTS"
cert_server main --ip 127.0.0.1
HP=$(free_port); ST=$(free_port)
[ "$HP" = "$ST" ] && fail "port clash, run again"
options_cfg "$T/ser.cfg" "drop;" <<CFG
debug=3
children=1
tcp_children=2
ctl_socket="unix:$T/ser.ctl"
proxy_protocol_from=127.0.0.1
tls_certificate="c/main.pem"
tls_private_key="c/main.key"
listen=tls:127.0.0.1:$ST proxy_protocol
CFG
start_ser "$T/ser.cfg"

cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tls
    bind [::1]:$HP
    default_backend ser
backend ser
    server ser 127.0.0.1:$ST send-proxy-v2
CFG
haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 & HAP=$!; BG_PIDS="$BG_PIDS $HAP"
wait_port tcp "$HP" 10 || { cat "$T/haproxy.log"; fail "haproxy did not start"; }

sip_options "sip:ping@127.0.0.1:$ST" pp-tls >"$T/req"
tls_open s1 9 -connect "[::1]:$HP" -servername main
tls_send 9 "$T/req"
tls_wait s1 "SIP/2.0 200 OK" 10 || { cat "$T/s1.out"; fail "no 200 over TLS through haproxy"; }
grep -q 'Via: SIP/2.0/TLS 127.0.0.1:9;rport=[0-9]*;branch=z9hG4bK-pp-tls;received=::1' "$T/s1.out" ||
    { cat "$T/s1.out"; fail "the reply's Via does not say received=::1"; }
ok "OPTIONS over TLS through haproxy (send-proxy-v2): 200, Via received=::1"

tcp=$(rpc "$T/ser.ctl" tcp.list)
tls=$(rpc "$T/ser.ctl" tls.list)
n=$(jget "$tcp" 'len([c for c in r["result"] if c["proto"]=="tls" and c["remote"].startswith("[::1]:") and c.get("via","").startswith("127.0.0.1:")])')
[ "$n" = 1 ] || fail "tcp.list does not show the client [::1] via 127.0.0.1: $tcp"
n=$(jget "$tls" 'len([c for c in r["result"] if c["remote"].startswith("[::1]:") and c.get("via","").startswith("127.0.0.1:") and c["tls_version"].startswith("TLSv1")])')
[ "$n" = 1 ] || fail "tls.list does not show the client [::1] via 127.0.0.1: $tls"
tls_close s1 9
ok "tcp.list and tls.list show the client [::1] as remote, haproxy as via"

grep -q 'conn [0-9]*: \[::1\]:[0-9]* via 127.0.0.1:[0-9]* (PROXY v2)' "$T/ser.log" || fail "no log line naming client and balancer"
grep -q 'conn [0-9]*: TLS with \[::1\]:[0-9]*: TLSv1' "$T/ser.log" || fail "the TLS line does not name the client"
ok "the log names the client for the PROXY header and the handshake"

kill "$HAP"; wait "$HAP" 2>/dev/null
stop_ser

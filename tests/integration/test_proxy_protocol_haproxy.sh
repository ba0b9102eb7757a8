#!/bin/sh
# Two sers behind a real HAProxy in TCP mode: SIPp's uac on [::1] calls
# through haproxy (bound on [::1], roundrobin over a new connection per call)
# to ser1 (send-proxy, PROXY v1) and ser2 (send-proxy-v2), both on 127.0.0.1,
# which forward to SIPp's uas. Both sers answer a request only when src_ip is
# ::1 (the client; haproxy talks to them from 127.0.0.1): every call
# succeeds, both sers carry calls (their counters), their forward lines name
# the client, and a reply's Via received= is ::1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v haproxy >/dev/null || { echo "haproxy not installed"; exit 77; }
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }
ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' || { echo "no ::1 on lo"; exit 77; }

HP=$(free_port); S1=$(free_port); S2=$(free_port); UAS=$(free_port)
[ "$(printf '%s\n' "$HP" "$S1" "$S2" "$UAS" | sort -u | wc -l)" -eq 4 ] || fail "port clash, run again"

ser_cfg() { # NAME PORT
    cat >"$T/$1.cfg" <<CFG
debug=3
children=1
tcp_children=2
ctl_socket="unix:$T/$1.ctl"
proxy_protocol_from=127.0.0.1
listen=tcp:127.0.0.1:$2 proxy_protocol
route {
    if (!(src_ip==[::1])) {
        sl_send_reply("403", "Not from the client address");
        break;
    };
    if (method=="OPTIONS") {
        sl_send_reply("200", "OK");
        break;
    };
    forward_tcp(127.0.0.1, $UAS);
}
CFG
}
ser_cfg ser1 "$S1"
ser_cfg ser2 "$S2"

cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 512
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend sip
    bind [::1]:$HP
    default_backend sers
backend sers
    balance roundrobin
    server ser1 127.0.0.1:$S1 send-proxy
    server ser2 127.0.0.1:$S2 send-proxy-v2
CFG

bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS" -t t1 -nostdin -max_socket 64
wait_port tcp "$UAS" 10 || fail "sipp uas did not start"
"$SER_BIN" -D -E -f "$T/ser1.cfg" >"$T/ser1.log" 2>&1 & SER1=$!; BG_PIDS="$BG_PIDS $SER1"
"$SER_BIN" -D -E -f "$T/ser2.cfg" >"$T/ser2.log" 2>&1 & SER2=$!; BG_PIDS="$BG_PIDS $SER2"
wait_port tcp "$S1" 10 && wait_port tcp "$S2" 10 || { cat "$T/ser1.log" "$T/ser2.log"; fail "the sers did not start"; }
haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 & HAP=$!; BG_PIDS="$BG_PIDS $HAP"
wait_port tcp "$HP" 10 || { cat "$T/haproxy.log"; fail "haproxy did not start"; }

CALLS=200
uac_port=$(free_port)
timeout 120 sipp -sn uac "[::1]:$HP" -i ::1 -p "$uac_port" -t tn -max_socket 256 -r 50 -m "$CALLS" -l 100 \
    -nostdin -timeout 90 -timeout_error -recv_timeout 10000 -trace_stat -stf "$T/uac.csv" -fd 1 >"$T/uac.out" 2>&1
rc=$?
okc=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} END{print $c+0}' "$T/uac.csv")
failed=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="FailedCall(C)") c=i} END{print $c+0}' "$T/uac.csv")
echo "uac: $CALLS calls over [::1] -> haproxy -> ser1/ser2: $okc successful, $failed failed (sipp rc $rc)"
[ "$rc" -eq 0 ] && [ "$okc" -eq "$CALLS" ] && [ "$failed" -eq 0 ] ||
    { tail -n 20 "$T/uac.out"; tail -n 5 "$T/ser1.log" "$T/ser2.log"; fail "not every call through haproxy succeeded"; }
ok "$CALLS/$CALLS calls from [::1] through haproxy to two sers (their script admits src_ip ::1 only)"

for n in ser1 ser2; do
    st=$(rpc "$T/$n.ctl" stats)
    fwd=$(jget "$st" 'r["result"]["counters"]["requests_forwarded"]')
    rfwd=$(jget "$st" 'r["result"]["counters"]["replies_forwarded"]')
    opened=$(jget "$st" 'r["result"]["counters"]["conns_opened"]')
    bad=$(jget "$st" 'r["result"]["closed"]["proxy_header_bad"]')
    [ "$fwd" -ge $((CALLS / 2)) ] || fail "$n forwarded $fwd requests: expected at least $((CALLS / 2)) (roundrobin: half the calls, 3 requests each)"
    [ "$bad" -eq 0 ] || fail "$n closed $bad connections for a bad PROXY header"
    # Replies to the client left on the connection through haproxy: the only
    # connections ser opened are to the uas (at most one per worker).
    [ "$opened" -le 2 ] || fail "$n opened $opened connections: replies did not all go back through haproxy"
    echo "$n: requests_forwarded $fwd, replies_forwarded $rfwd, conns_opened $opened"
done
ok "both sers carried calls (roundrobin), no bad header, every reply back over the balancer's connection"

grep -q 'conn [0-9]*: \[::1\]:[0-9]* via 127.0.0.1:[0-9]* (PROXY v1)' "$T/ser1.log" || fail "ser1 logged no v1 client"
grep -q 'conn [0-9]*: \[::1\]:[0-9]* via 127.0.0.1:[0-9]* (PROXY v2)' "$T/ser2.log" || fail "ser2 logged no v2 client"
for n in ser1 ser2; do
    grep -q "forward INVITE call-id .*: tcp \[::1\]:[0-9]* -> tcp 127.0.0.1:$UAS" "$T/$n.log" ||
        fail "$n: no forward line with the client [::1] as the source"
    grep -q "forward INVITE call-id .*: tcp 127.0.0.1:[0-9]* ->" "$T/$n.log" && fail "$n forwarded with haproxy as the source"
done
ok "ser1 took PROXY v1, ser2 PROXY v2; forwards name the client [::1], never haproxy"

# A reply to a request through haproxy: its Via says received=::1 with the
# client's port (rport), on the connection the request came on.
for i in 1 2; do
    sip_options "sip:ping@127.0.0.1" "via-$i" TCP >"$T/opt$i"
    timeout 5 socat -T 3 - "TCP6:[::1]:$HP" <"$T/opt$i" >"$T/opt$i.out" 2>&1
    grep -q '^SIP/2.0 200 OK' "$T/opt$i.out" || { cat "$T/opt$i.out"; fail "no 200 to an OPTIONS through haproxy"; }
    grep -q '^Via: SIP/2.0/TCP 127.0.0.1:9;rport=[0-9]*;branch=z9hG4bK-via-'"$i"';received=::1' "$T/opt$i.out" ||
        { cat "$T/opt$i.out"; fail "the reply's Via does not say received=::1"; }
done
ok "replies through haproxy (both sers) carry Via received=::1 and come back on the client's connection"

kill "$HAP"; wait "$HAP" 2>/dev/null
for p in $SER1 $SER2; do kill -TERM "$p"; done
for p in $SER1 $SER2; do
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -0 "$p" 2>/dev/null && fail "ser (pid $p) still running 5 s after SIGTERM"
done
ok "haproxy and both sers stopped"

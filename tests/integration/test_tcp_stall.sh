#!/bin/sh
# A peer that stops reading: what ser queues for it is bounded. Requests
# forwarded over TCP to a sink that never reads fill the kernel buffers, then
# ser's write queue up to tcp_max_write_queue; then ser closes that connection
# with a log line and stays up, its memory bounded, serving other traffic.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port); SINK=$(free_port)
options_cfg "$T/ser.cfg" "forward_tcp(127.0.0.1, $SINK);" <<CFG
debug=3
children=1
tcp_children=1
tcp_max_write_queue=65536
tcp_send_timeout=5
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
CFG
# The sink accepts one connection and hands it to a process that never reads.
bg_start sink socat -u "TCP-LISTEN:$SINK,bind=127.0.0.1,reuseaddr,rcvbuf=4096" "SYSTEM:sleep 60"
wait_port tcp "$SINK" 5 || fail "sink did not start"
start_ser "$T/ser.cfg"

pad=$(head -c 60000 /dev/zero | tr '\0' 'x')
i=0
while [ $i -lt 300 ] && ! grep -q 'over tcp_max_write_queue=65536' "$T/ser.log"; do
    printf 'MESSAGE sip:sink@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-s%s\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:sink@127.0.0.1>\r\nCall-ID: stall-%s\r\nCSeq: 1 MESSAGE\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n' \
        "$SINK" $i $i "$pad" | socat -u -b 65536 - "UDP-SENDTO:127.0.0.1:$P"
    i=$((i+1))
done
grep -q 'over tcp_max_write_queue=65536 bytes: peer is not reading' "$T/ser.log" \
    || fail "no close after $i messages to a peer that does not read"
ok "a peer that stopped reading was closed once 64 KB were queued for it ($i messages sent)"
worker=$(ser_children | tail -n 1)
rss=$(awk '/^VmRSS:/{print $2}' "/proc/$worker/status")
[ "$rss" -lt 65536 ] || fail "worker RSS ${rss} kB: memory grew"
reply=$(sip_options "sip:ping@127.0.0.1:$P" alive UDP | timeout 5 socat -T 2 - "UDP:127.0.0.1:$P")
echo "$reply" | grep -q '^SIP/2.0 200' || fail "ser does not answer after closing the stalled peer"
ok "ser still answers; worker RSS ${rss} kB"

# Keep-alive pings from a peer that never reads the pongs: the queue of pongs
# is bounded by the same limit, counted in bytes, not grown one piece per pong.
yes "$(printf '\r')" | head -c 30000000 | timeout 20 socat -u - "TCP:127.0.0.1:$P" 2>/dev/null
grep -q 'over tcp_max_write_queue=65536 bytes' "$T/ser.log" && [ "$(grep -c 'over tcp_max_write_queue' "$T/ser.log")" -ge 2 ] \
    || fail "a peer that pings and never reads was not closed at tcp_max_write_queue"
rss2=$(awk '/^VmRSS:/{print $2}' "/proc/$worker/status")
[ "$rss2" -lt 65536 ] || fail "worker RSS ${rss2} kB after the ping flood: memory grew"
stop_ser
ok "a ping flood that never reads its pongs is closed at the limit; worker RSS ${rss2} kB"

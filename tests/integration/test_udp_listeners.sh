#!/bin/sh
# Several UDP listeners: a reply leaves from the listener the request came in
# on (a client's connected UDP socket accepts nothing else), on each of them.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P1=$(free_port); P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))
options_cfg "$T/ser.cfg" "drop;" <<CFG
children=2
listen=udp:127.0.0.1:$P1
listen=udp:127.0.0.1:$P2
CFG
start_ser "$T/ser.cfg"
for p in $P1 $P2; do
    reply=$(sip_options "sip:ping@127.0.0.1:$p" "udp-$p" UDP | timeout 5 socat -T 2 - "UDP:127.0.0.1:$p")
    echo "$reply" | head -n 1 | grep -q '^SIP/2.0 200' || fail "no 200 from the listener on port $p"
done
stop_ser
ok "each UDP listener answers from its own address"

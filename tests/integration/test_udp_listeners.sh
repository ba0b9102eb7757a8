#!/bin/sh
# Several UDP listeners: a reply leaves from the listener the request came in
# on (a client's connected UDP socket accepts nothing else), on each of them.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P1=$(free_port); P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))
cat >"$T/ser.cfg" <<CFG
children=2
listen=udp:127.0.0.1:$P1
listen=udp:127.0.0.1:$P2
route {
    if (uri==myself && method=="OPTIONS") { sl_send_reply("200", "OK"); break; };
    drop;
}
CFG
start_ser "$T/ser.cfg"
for p in $P1 $P2; do
    reply=$(printf 'OPTIONS sip:ping@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: udp-%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' "$p" "$p" "$p" \
        | timeout 5 socat -T 2 - "UDP:127.0.0.1:$p")
    echo "$reply" | head -n 1 | grep -q '^SIP/2.0 200' || fail "no 200 from the listener on port $p"
done
stop_ser
ok "each UDP listener answers from its own address"

#!/bin/sh
# Large messages (tcp_max_msg_size=1000000) cross between TCP workers whole:
# the connection to the next hop belongs to one worker, a message that arrives
# on a connection of another worker goes through the worker channel. The next
# hop must receive every message with its whole body, nothing cut or merged.
# Which worker accepts a connection is the kernel's choice, so the test repeats
# (bounded) until some message did cross.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port)
n=6
want=$((n * 300000))
body=$(head -c 300000 /dev/zero | tr '\0' 'b')
attempt=0
while :; do
    attempt=$((attempt + 1))
    [ $attempt -le 6 ] || { echo "no message crossed between workers in 6 runs"; exit 77; }
    SINK=$(free_port)
    cat >"$T/ser.cfg" <<CFG
debug=4
children=1
tcp_children=2
tcp_max_msg_size=1000000
tcp_max_write_queue=4000000
listen=tcp:127.0.0.1:$P
route { forward_tcp(127.0.0.1, $SINK); }
CFG
    rm -f "$T/sink"
    bg_start sink socat -u "TCP-LISTEN:$SINK,bind=127.0.0.1,reuseaddr,fork" "OPEN:$T/sink,creat,append"
    wait_port tcp "$SINK" 5 || fail "sink did not start"
    start_ser "$T/ser.cfg"
    for k in $(seq 1 $n); do
        printf 'MESSAGE sip:sink@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-big%s\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:sink@127.0.0.1>\r\nCall-ID: big-%s\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 300000\r\n\r\n%s' \
            "$k" "$k" "$body" | timeout 10 socat -u -b 65536 - "TCP:127.0.0.1:$P"
    done
    i=0
    while [ "$(grep -c '^Call-ID: big-' "$T/sink" 2>/dev/null)" -lt $n ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    owner=$(sed -n "s/^\(tcp#[0-9]*\).*connecting to 127.0.0.1:$SINK.*/\1/p" "$T/ser.log" | head -n 1)
    if grep "accepted tcp" "$T/ser.log" | grep -qv "^$owner\["; then
        break
    fi
    stop_ser
    kill "$PID_sink" 2>/dev/null; wait "$PID_sink" 2>/dev/null
done
crossed=$(grep "accepted tcp" "$T/ser.log" | grep -cv "^$owner\[")
got=$(grep -c '^Call-ID: big-' "$T/sink")
[ "$got" -eq $n ] || fail "the next hop got $got of $n large messages"
bodies=$(tr -cd 'b' <"$T/sink" | wc -c)
# Every body byte is 'b'; headers add a few more 'b's (branch, big-N).
[ "$bodies" -ge $want ] && [ "$bodies" -lt $((want + 200)) ] || fail "body bytes at the next hop: $bodies, expected $want"
grep -q 'over the .*-byte limit dropped' "$T/ser.log" && fail "a channel message was dropped"
stop_ser
ok "$n messages of 300 KB reached the next hop whole ($crossed through the worker channel, run $attempt)"

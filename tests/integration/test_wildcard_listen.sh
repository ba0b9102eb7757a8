#!/bin/sh
# listen=udp:0.0.0.0 serves every local address, and a request forwarded to
# another host leaves from the address the route to it uses, with that
# address in our Via (not 127.0.0.1). Two test hosts in network namespaces of
# this test, joined by a veth pair: A (10.77.0.1, runs ser and the client) and
# B (10.77.0.2, runs the sink).
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null && command -v socat >/dev/null || { echo "needs ip and socat"; exit 77; }
A=serA$$; B=serB$$
ip netns add $A 2>/dev/null || { echo "cannot create network namespaces here"; exit 77; }
ip netns add $B
netns_cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap 'cleanup; netns_cleanup' EXIT INT TERM
ip link add va$$ type veth peer name vb$$ || fail "veth pair"
ip link set va$$ netns $A; ip link set vb$$ netns $B
ip -n $A addr add 10.77.0.1/24 dev va$$; ip -n $B addr add 10.77.0.2/24 dev vb$$
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set va$$ up; ip -n $B link set vb$$ up

P=$(free_port); S=$(free_port)
options_cfg "$T/ser.cfg" "forward(10.77.0.2, $S);" <<CFG
children=1
listen=udp:0.0.0.0:$P
CFG
ip netns exec $B socat -u UDP-RECV:$S,bind=10.77.0.2 OPEN:$T/sink,creat,append &
BG_PIDS="$BG_PIDS $!"
ip netns exec $A "$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
i=0; while ! ip netns exec $A ss -Hlnu "sport = :$P" | grep -q 10.77.0.1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ip netns exec $A ss -Hlnu "sport = :$P" | grep -q 127.0.0.1 || fail "no listener on 127.0.0.1 from 0.0.0.0"
ip netns exec $A ss -Hlnu "sport = :$P" | grep -q 10.77.0.1 || fail "no listener on 10.77.0.1 from 0.0.0.0"

printf 'MESSAGE sip:b@10.77.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-wc\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@10.77.0.2>\r\nCall-ID: wildcard\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n' \
    | ip netns exec $A socat -u - UDP-SENDTO:127.0.0.1:$P
i=0; while ! grep -q 'Call-ID: wildcard' "$T/sink" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q 'Call-ID: wildcard' "$T/sink" || fail "the request did not reach host B"
head -n 2 "$T/sink" | grep -q "^Via: SIP/2.0/UDP 10.77.0.1:$P;branch=z9hG4bK" || fail "our Via does not name 10.77.0.1: $(sed -n 2p "$T/sink")"
kill -TERM $SER_PID; wait $SER_PID; SER_PID=""
ok "0.0.0.0 listens on every address; a forward to B leaves from 10.77.0.1 and says so in its Via"

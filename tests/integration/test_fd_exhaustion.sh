#!/bin/sh
# Out of file descriptors: with a descriptor limit below the number of
# clients, a worker stops accepting for a moment instead of spinning on the
# listener (little CPU, a few log lines), and serves again once clients leave.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port)
options_cfg "$T/ser.cfg" "drop;" <<CFG
debug=3
children=1
tcp_children=1
listen=tcp:127.0.0.1:$P
CFG
# A hard limit of 48 descriptors for ser (ulimit -n in sh sets both limits).
sh -c "ulimit -n 48; exec \"$SER_BIN\" -D -E -f \"$T/ser.cfg\"" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "ser did not start"
grep -q 'may open only 48 files' "$T/ser.log" || fail "no warning about the descriptor limit"
worker=$(ser_children)
ticks() { cut -d')' -f2 "/proc/$worker/stat" | awk '{print $12 + $13}'; }
before=$(ticks)
clients=""
for i in $(seq 1 70); do
    sleep 3 | socat -u - "TCP:127.0.0.1:$P" 2>/dev/null &
    clients="$clients $!"
done
BG_PIDS="$BG_PIDS $clients"
i=0; while ! grep -q 'not accepting for 500 ms' "$T/ser.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q 'Too many open files; not accepting for 500 ms' "$T/ser.log" || fail "no log line when descriptors ran out"
sleep 2   # let the clients hold their connections: this is the load, not a wait for readiness
used=$(( $(ticks) - before ))
hz=$(getconf CLK_TCK)
[ "$used" -lt $((hz / 2)) ] || fail "the worker used $used ticks (of $hz/s) while out of descriptors"
lines=$(grep -c 'not accepting for 500 ms' "$T/ser.log")
[ "$lines" -lt 20 ] || fail "$lines log lines about accept in ~2 s"
for c in $clients; do kill "$c" 2>/dev/null; done
wait $clients 2>/dev/null
reply=$(sip_options "sip:ping@127.0.0.1:$P" fd TCP | timeout 10 socat -t 3 -T 3 - "TCP:127.0.0.1:$P")
echo "$reply" | head -n 1 | grep -q '^SIP/2.0 200' || fail "ser does not serve again after the clients left"
stop_ser
ok "out of descriptors: $used ticks, $lines log lines, then serving again"

#!/bin/sh
# bench/cpu_per_msg.sh — CPU time ser spends per forwarded SIP message.
# SIPp's built-in uac -> ser -> SIPp's built-in uas, over udp or tcp; the CPU
# of every ser process (utime+stime from /proc/PID/stat, children included
# by summing them) is read before and after the run and divided by the number
# of messages ser forwarded (6 per call: INVITE, 180, 200, ACK, BYE, 200).
#
#   bench/cpu_per_msg.sh [udp|tcp] [RATE] [CALLS] [SER_BINARY]
# Prints: proto rate calls cpu_ms us_per_msg
set -eu
. "$(dirname "$0")/lib.sh"
proto=${1:-udp} rate=${2:-1000} calls=${3:-20000}
top=$(cd "$(dirname "$0")/.." && pwd)
ser=${4:-$top/ser}
T=$(mktemp -d /tmp/ser-bench.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT
SP=$(bench_port); UP=$(bench_port); CP=$(bench_port)
fwd=forward; t=u1
[ "$proto" = tcp ] && { fwd=forward_tcp; t=t1; }
cat >"$T/ser.cfg" <<CFG
debug=0
children=2
tcp_children=2
listen=udp:127.0.0.1:$SP
listen=tcp:127.0.0.1:$SP
route { $fwd(127.0.0.1, $UP); }
CFG
sipp -sn uas -i 127.0.0.1 -p "$UP" -t $t -nostdin >/dev/null 2>&1 &
pids="$pids $!"
"$ser" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
main=$!
pids="$pids $main"
i=0; while ! ss -Hlnu "sport = :$SP" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
before=$(ser_cpu_ticks $main)
sipp -sn uac "127.0.0.1:$SP" -i 127.0.0.1 -p "$CP" -t $t -r "$rate" -m "$calls" -l $((rate * 4)) \
    -nostdin -timeout 300 -trace_stat -stf "$T/uac.csv" >/dev/null 2>&1 || true
after=$(ser_cpu_ticks $main)
ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} END{print $c+0}' "$T/uac.csv")
hz=$(getconf CLK_TCK)
awk -v p="$proto" -v r="$rate" -v c="$ok" -v d=$((after - before)) -v hz="$hz" 'BEGIN{
    ms = d * 1000 / hz; printf "%s rate=%d calls_ok=%d ser_cpu_ms=%.0f us_per_msg=%.2f\n", p, r, c, ms, (c ? ms * 1000 / (c * 6) : 0) }'

#!/bin/sh
# TCP limits of the core: a full connection table refuses the next connection
# with a log line and the others keep working; an idle connection is closed
# after tcp_connection_lifetime; a CRLFCRLF keep-alive gets a CRLF pong
# (RFC 5626); a message without Content-Length closes its connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port)
options_cfg "$T/ser.cfg" "drop;" <<CFG
debug=3
children=1
tcp_children=1
tcp_max_connections=2
tcp_connection_lifetime=2
ctl_socket="unix:$T/ser.ctl"
listen=tcp:127.0.0.1:$P
CFG
start_ser "$T/ser.cfg"

options() { sip_options "sip:ping@127.0.0.1:$P" "$1" TCP; }

# Two idle connections fill the table.
mkfifo "$T/in1" "$T/in2" "$T/in3"
socat -u "PIPE:$T/in1" "TCP:127.0.0.1:$P" & BG_PIDS="$BG_PIDS $!"; c1=$!
exec 4>"$T/in1"
socat -u "PIPE:$T/in2" "TCP:127.0.0.1:$P" & BG_PIDS="$BG_PIDS $!"
exec 5>"$T/in2"
i=0; while [ "$(ss -Htn state established "dport = :$P" | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
# The third is refused: ser closes it at once, with a log line naming the limit.
start=$(date +%s%N)
options third | timeout 5 socat -T 3 - "TCP:127.0.0.1:$P" >"$T/third.out" 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q 'connection table full (tcp_max_connections=2)' "$T/ser.log" || fail "no log line for the full table"
grep -q '^SIP/2.0 200' "$T/third.out" && fail "a connection over tcp_max_connections was served"
[ "$ms" -lt 2500 ] || fail "the refused connection was not closed at once (${ms} ms)"
ok "connection over tcp_max_connections refused with a log line"
# Counted, and the two connections in the table are still served: a request
# on the first is read and handled (requests_in).
i=0; while [ ! -S "$T/ser.ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
r=$(rpc "$T/ser.ctl" stats)
[ "$(jget "$r" 'r["result"]["refused"]["table_full"]')" = 1 ] || fail "refused.table_full is not 1: $r"
sip_options "sip:ping@127.0.0.1:$P" held1 TCP >&4
i=0; n=0
while [ "$n" -lt 1 ] && [ $i -lt 100 ]; do
    n=$(jget "$(rpc "$T/ser.ctl" stats)" 'r["result"]["counters"]["requests_in"]'); i=$((i+1))
    [ "$n" -ge 1 ] || sleep 0.05
done
[ "$n" -ge 1 ] || fail "the held connection's request was not read (requests_in=$n)"
ok "the refusal is counted (refused.table_full=1) and a connection in the table is still read"

# The idle ones are closed after tcp_connection_lifetime (2 s), freeing the table.
i=0; while [ "$(ss -Htn state established "dport = :$P" | wc -l)" -gt 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ "$(ss -Htn state established "dport = :$P" | wc -l)" -eq 0 ] || fail "idle connections not closed after tcp_connection_lifetime"
grep -q 'idle for tcp_connection_lifetime=2 s' "$T/ser.log" || fail "no log line for the idle close"
exec 4>&- 5>&-
ok "idle connections closed after tcp_connection_lifetime"

# Keep-alive ping and a request on one connection: CRLF pong, then 200 OK.
out=$( { printf '\r\n\r\n'; options ka; } | timeout 5 socat -t 2 -T 2 - "TCP:127.0.0.1:$P" | od -c | head -n 2)
printf '%s\n' "$out" | head -n 1 | grep -q '^0000000  *\\r  *\\n  *S  *I  *P' || fail "no CRLF pong before the reply: $out"
ok "CRLFCRLF ping answered with CRLF (RFC 5626), then the request served"

# A request without Content-Length on a stream closes the connection.
printf 'OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n' \
    | timeout 5 socat -T 4 - "TCP:127.0.0.1:$P" >"$T/nocl.out"
grep -q 'missing Content-Length' "$T/ser.log" || fail "no log line for a missing Content-Length"
[ -s "$T/nocl.out" ] && fail "answered a stream message without Content-Length"
stop_ser
ok "stream message without Content-Length closes the connection"

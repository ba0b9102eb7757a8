#!/bin/sh
# A resolver that never answers (dns_servers is a UDP port where a silent
# socket sits) must not hold up anything else the worker does. One UDP
# receiver (children=1) gets 20 requests to sip:...@slow.example.test, then,
# while those wait for DNS, SIPp calls to a numeric target and OPTIONS pings
# that ser answers itself. Asserts:
# - every SIPp call succeeds, and no ping waits long (max round trip < 300 ms)
#   although the lookups take seconds;
# - dns_max_pending=8: 8 requests wait and get 478 when the lookup times out
#   (after at least one dns_timeout), the 12 beyond the bound get 503 at once;
# - the counters dns_queued / dns_queue_full / dns_failures say so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }
udp_load

SILENT=$(free_port)
cat >"$T/silent.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(120)
PY
bg_start silent python3 "$T/silent.py" "$SILENT"
wait_port udp "$SILENT" 10 || fail "the silent socket did not bind"

SER_PORT=$(free_port)
UAS_PORT=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=1
children=1
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
dns_servers="127.0.0.1:$SILENT"
dns_timeout=700
dns_retries=1
dns_max_pending=8
route {
    if (uri=~"@slow\.example\.test") { forward(); break; };
    if (method=="OPTIONS" && uri=~"^sip:ping@") { sl_send_reply("200", "OK"); break; };
    forward(127.0.0.1, $UAS_PORT);
}
CFG
SIPP_T=u1
bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t u1 -nostdin -max_socket 64
wait_port udp "$UAS_PORT" 10 || fail "sipp uas did not start"
start_ser "$T/ser.cfg"

(cd "$T" && timeout 60 python3 udp_load.py "$SER_PORT" 20 sip:x@slow.example.test >"$T/slow.out" 2>&1) &
slow_pid=$!
sleep 0.3
(cd "$T" && timeout 60 python3 udp_load.py "$SER_PORT" 300 "sip:ping@127.0.0.1:$SER_PORT" >"$T/ping.out" 2>&1) &
ping_pid=$!
sipp_run 200 400
wait "$ping_pid"
wait "$slow_pid"
echo "names: $(cat "$T/slow.out")"
echo "pings: $(cat "$T/ping.out")"
sipp_all_ok 400
ping=$(cat "$T/ping.out") slow=$(cat "$T/slow.out")
[ "$(replies_of "$ping")" = "200=300" ] || fail "pings: expected 300 answers 200, got $ping"
[ "$(rtt_of "$ping")" -lt 300 ] || fail "a ping waited $(rtt_of "$ping") ms: the worker was held up"
ok "400/400 SIPp calls and 300/300 pings (slowest $(rtt_of "$ping") ms) while lookups hung"
[ "$(replies_of "$slow")" = "478=8 503=12" ] || fail "names: expected 478=8 503=12, got $slow"
[ "$(rtt_of "$slow")" -ge 700 ] || fail "the 478s came after $(rtt_of "$slow") ms, before one dns_timeout"
ok "silent resolver: 8 requests waited and got 478 (the last after $(rtt_of "$slow") ms), 12 over dns_max_pending got 503"

r=$(rpc "$T/ser.ctl" stats)
counts=$(jget "$r" "' '.join(str(r['result']['counters'].get(k)) for k in ('dns_queued', 'dns_queue_full', 'dns_failures'))")
[ "$counts" = "8 12 8" ] || fail "stats dns_queued dns_queue_full dns_failures: $counts, expected 8 12 8 ($r)"
ok "counters: dns_queued=8 dns_queue_full=12 dns_failures=8"
kill -0 "$SER_PID" || fail "ser died"
stop_ser

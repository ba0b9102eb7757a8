#!/bin/sh
# A child that is alive but stuck (SIGSTOP, as a loop that never returns or a
# call that blocks would be) is caught by main's heartbeat check with
# worker_stall_timeout=2: under SIPp load, first a tcp worker, then the udp
# receiver. Each time the stall is logged, the child is killed and replaced
# within the timeout plus a second, the dead worker's connections leave the
# connection table, workers_stalled counts it, no other child is touched, and
# calls succeed afterwards. Connections opened while the tcp worker is stopped
# (the kernel queues about half of them on its SO_REUSEPORT socket) are
# answered by its successor, which inherits the same socket from main: the
# test prints how long they waited and fails if one was lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }

STALL=2
SER_PORT=$(free_port)
UAS_UDP=$(free_port)
UAS_TCP=$(free_port)
[ "$UAS_UDP" = "$SER_PORT" ] && UAS_UDP=$((SER_PORT + 1))
[ "$UAS_TCP" = "$SER_PORT" ] || [ "$UAS_TCP" = "$UAS_UDP" ] && UAS_TCP=$((SER_PORT + 2))
cat >"$T/ser.cfg" <<CFG
debug=2
children=1
tcp_children=2
worker_stall_timeout=$STALL
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
listen=tcp:127.0.0.1:$SER_PORT
route {
    if (uri==myself && method=="OPTIONS") { sl_send_reply("200", "OK"); break; };
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); break; };
    if (proto==UDP) { forward(127.0.0.1, $UAS_UDP); } else { forward_tcp(127.0.0.1, $UAS_TCP); };
}
CFG
bg_start uas_udp sipp -sn uas -i 127.0.0.1 -p "$UAS_UDP" -t u1 -nostdin
bg_start uas_tcp sipp -sn uas -i 127.0.0.1 -p "$UAS_TCP" -t t1 -nostdin -max_socket 64
wait_port udp "$UAS_UDP" 10 || fail "sipp uas (udp) did not start"
wait_port tcp "$UAS_TCP" 10 || fail "sipp uas (tcp) did not start"
start_ser "$T/ser.cfg"
[ "$(ser_children | wc -l)" -eq 4 ] || {
    i=0; while [ "$(ser_children | wc -l)" -lt 4 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; }
[ "$(ser_children | wc -l)" -eq 4 ] || fail "expected 4 children (1 udp, 2 tcp, control): $(ser_children)"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# pid_of TAG: the pid core.ps shows for the child named TAG ("tcp#1", "udp#0.0").
pid_of() {
    jget "$(rpc "$T/ser.ctl" core.ps)" "([p['pid'] for p in r['result'] if p['name'] == '$1'] or [0])[0]"
}
stalled_count() {
    jget "$(rpc "$T/ser.ctl" stats)" "r['result']['counters'].get('workers_stalled')"
}
# wait_for SECS CMD...: run CMD every 50 ms until it succeeds, at most SECS.
wait_for() {
    _n=$(($1 * 20)); shift; _i=0
    while ! "$@" && [ $_i -lt $_n ]; do sleep 0.05; _i=$((_i+1)); done
    "$@"
}
logged() { grep -q "$1" "$T/ser.log"; }
# replaced PID: PID is gone and main has its 4 children again (pgrep: no
# control-socket round trip in the measured time).
replaced() {
    _k=$(ser_children)
    ! echo "$_k" | grep -qx "$1" && [ "$(echo "$_k" | wc -l)" -eq 4 ]
}
# A background SIPp uac, killable by name (bg_start): load PROTO NAME CALLS.
load() {
    _port=$(free_port)
    bg_start "$2" timeout 60 sipp -sn uac "127.0.0.1:$SER_PORT" -i 127.0.0.1 -p "$_port" -t "$1" -r 50 -m "$3" \
        -l 200 -nostdin -timeout 50 -recv_timeout 10000 -trace_stat -stf "$T/$2.csv" -fd 1
    LOAD_PORT=$_port
}
# A call counter of a SIPp statistics file: csv_count FILE COLUMN.
csv_count() {
    [ -s "$1" ] || { echo 0; return; }
    awk -F';' -v col="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i} END{print $c+0}' "$1"
}

cat >"$T/queued.py" <<'PY'
# Opens N connections to ser at once (while a worker is stopped), sends an
# OPTIONS on each and waits up to LIMIT s for the 200s. Prints: answered,
# opened, reset, closed, slowest wait (ms), answers that took over 1 s.
import select, socket, sys, time
port, n, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def options(i):
    u = "sip:127.0.0.1:%d" % port
    return ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-q%d\r\n"
            "From: <sip:t@127.0.0.1>;tag=q%d\r\nTo: <%s>\r\nCall-ID: queued-%d\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (u, i, i, u, i)).encode()
t0 = time.monotonic()
pending, bufs, waits, resets, eofs = {}, {}, [], 0, 0
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(options(i))
    s.setblocking(False)
    pending[s] = i
    bufs[s] = b""
while pending and time.monotonic() - t0 < limit:
    ready, _, _ = select.select(list(pending), [], [], 0.05)
    for s in ready:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            resets += 1
            del pending[s]
            continue
        if not d:
            eofs += 1
            del pending[s]
            continue
        bufs[s] += d
        if b"\r\n\r\n" in bufs[s]:
            if bufs[s].startswith(b"SIP/2.0 200"):
                waits.append(time.monotonic() - t0)
            del pending[s]
print(len(waits), n, resets, eofs, int(max(waits or [0]) * 1000), sum(1 for w in waits if w > 1.0))
PY

cat >"$T/queued_udp.py" <<'PY'
# Sends N OPTIONS datagrams to ser (while its receiver is stopped) and waits
# up to LIMIT s for the 200s. Prints: answered, sent, slowest wait (ms).
import socket, sys, time
port, n, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
u = "sip:127.0.0.1:%d" % port
t0 = time.monotonic()
for i in range(n):
    s.sendto(("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-d%d\r\n"
              "From: <sip:t@127.0.0.1>;tag=d%d\r\nTo: <%s>\r\nCall-ID: queued-udp-%d\r\nCSeq: 1 OPTIONS\r\n"
              "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (u, me, i, i, u, i)).encode(), ("127.0.0.1", port))
got, slowest = set(), 0.0
while len(got) < n and time.monotonic() - t0 < limit:
    s.settimeout(max(0.01, limit - (time.monotonic() - t0)))
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if d.startswith(b"SIP/2.0 200"):
        for line in d.split(b"\r\n"):
            if line.lower().startswith(b"call-id:"):
                got.add(line)
        slowest = time.monotonic() - t0
print(len(got), n, int(slowest * 1000))
PY

# ---- a tcp worker ----
SIPP_T=t1
sipp_run 50 100 warm_tcp
sipp_all_ok 100
load t1 load_tcp 400
# The worker that owns the load's connection is the one to stop.
owner_of_load() {
    VICTIM_TAG=$(jget "$(rpc "$T/ser.ctl" tcp.list)" \
        "([c['owner'] for c in r['result'] if c['remote'].endswith(':$LOAD_PORT') and c['direction'] == 'in'] or [''])[0]")
    [ -n "$VICTIM_TAG" ]
}
wait_for 10 owner_of_load || fail "the load's connection never showed in tcp.list"
i=0; while [ "$(csv_count "$T/load_tcp.csv" 'SuccessfulCall(C)' 2>/dev/null)" -lt 20 ] && [ $i -lt 200 ]; do
    sleep 0.05; i=$((i+1)); done
victim=$(pid_of "$VICTIM_TAG")
[ "$victim" != 0 ] || fail "no pid for $VICTIM_TAG"
old_ids=$(jget "$(rpc "$T/ser.ctl" tcp.list)" "' '.join(str(c['id']) for c in r['result'] if c['owner'] == '$VICTIM_TAG')")
t0=$(now_ms)
kill -STOP "$victim" || fail "could not stop $victim"
python3 "$T/queued.py" "$SER_PORT" 16 $((STALL + 4)) >"$T/queued.out" 2>&1 &
PROBE=$!
wait_for $((STALL + 3)) logged "$VICTIM_TAG (pid $victim) stalled for [0-9]* ms.*; killing and restarting" \
    || fail "no stall logged for $VICTIM_TAG (pid $victim)"
t_log=$(now_ms)
wait_for 3 replaced "$victim" || fail "$VICTIM_TAG was not replaced"
t_new=$(now_ms)
line=$(grep "stalled for" "$T/ser.log" | tail -n 1)
echo "$line"
[ $((t_log - t0)) -le $((STALL * 1000 + 1000)) ] || fail "stall logged $((t_log - t0)) ms after SIGSTOP"
[ $((t_new - t0)) -le $((STALL * 1000 + 1000)) ] || fail "$VICTIM_TAG replaced $((t_new - t0)) ms after SIGSTOP"
kill -0 "$victim" 2>/dev/null && fail "stopped worker $victim still exists"
ok "$VICTIM_TAG (pid $victim) stopped: stall logged after $((t_log - t0)) ms, replaced by pid $(pid_of "$VICTIM_TAG") after $((t_new - t0)) ms"

wait $PROBE
read -r answered opened resets eofs slowest queued <"$T/queued.out" || fail "probe: $(cat "$T/queued.out")"
echo "connections opened while $VICTIM_TAG was stopped: $answered/$opened answered, $resets reset, $eofs closed," \
     "$queued of them waited over 1 s (slowest $slowest ms)"
[ "$answered" = "$opened" ] || fail "connections opened during the stall were lost: $(cat "$T/queued.out")"
[ "$slowest" -le $((STALL * 1000 + 1500)) ] || fail "a queued connection waited $slowest ms"
ok "no connection opened during the stall was lost; the queued ones waited at most $slowest ms"

if [ -n "$old_ids" ]; then
    wait_for 2 logged "connections of $VICTIM_TAG closed with it" || fail "no clean-up of $VICTIM_TAG's connections logged"
    ids=$(jget "$(rpc "$T/ser.ctl" tcp.list)" "' '.join(str(c['id']) for c in r['result'])")
    for id in $old_ids; do
        echo " $ids " | grep -q " $id " && fail "connection $id of the dead $VICTIM_TAG still in tcp.list ($ids)"
    done
    ok "the dead worker's connections ($old_ids) left the connection table"
fi
[ "$(stalled_count)" = 1 ] || fail "workers_stalled is $(stalled_count), expected 1"
/bin/kill -TERM -- "-$PID_load_tcp" 2>/dev/null
wait_for 5 sh -c "! kill -0 $PID_load_tcp 2>/dev/null" || true
sipp_run 50 200 after_tcp
sipp_all_ok 200
ok "workers_stalled=1; 200/200 TCP calls after the restart"

# ---- the udp receiver (children=1: all UDP traffic goes through it) ----
SIPP_T=u1
load u1 load_udp 300
i=0; while [ "$(csv_count "$T/load_udp.csv" 'SuccessfulCall(C)' 2>/dev/null)" -lt 20 ] && [ $i -lt 200 ]; do
    sleep 0.05; i=$((i+1)); done
victim=$(pid_of udp#0.0)
[ "$victim" != 0 ] || fail "no pid for udp#0.0"
t0=$(now_ms)
kill -STOP "$victim" || fail "could not stop $victim"
python3 "$T/queued_udp.py" "$SER_PORT" 20 $((STALL + 4)) >"$T/queued_udp.out" 2>&1 &
PROBE=$!
wait_for $((STALL + 3)) logged "udp#0.0 (pid $victim) stalled for [0-9]* ms.*; killing and restarting" \
    || fail "no stall logged for udp#0.0 (pid $victim)"
t_log=$(now_ms)
wait_for 3 replaced "$victim" || fail "udp#0.0 was not replaced"
t_new=$(now_ms)
grep "stalled for" "$T/ser.log" | tail -n 1
[ $((t_log - t0)) -le $((STALL * 1000 + 1000)) ] || fail "stall logged $((t_log - t0)) ms after SIGSTOP"
[ $((t_new - t0)) -le $((STALL * 1000 + 1000)) ] || fail "udp#0.0 replaced $((t_new - t0)) ms after SIGSTOP"
kill -0 "$victim" 2>/dev/null && fail "stopped receiver $victim still exists"
ok "udp#0.0 (pid $victim) stopped: stall logged after $((t_log - t0)) ms, replaced after $((t_new - t0)) ms"
wait $PROBE
read -r answered sent slowest <"$T/queued_udp.out" || fail "udp probe: $(cat "$T/queued_udp.out")"
echo "datagrams sent while udp#0.0 was stopped: $answered/$sent answered, slowest after $slowest ms"
[ "$answered" = "$sent" ] || fail "datagrams queued during the stall were lost: $(cat "$T/queued_udp.out")"
ok "the datagrams queued on the stopped receiver's socket were answered by its successor"
# The load ends by itself (300 calls at 50/s); SIPp's retransmissions and
# what waited in the socket carry the calls of the stall.
wait_for 40 sh -c "! kill -0 $PID_load_udp 2>/dev/null" || fail "the udp load did not end"
echo "udp load across the stall: $(csv_count "$T/load_udp.csv" 'SuccessfulCall(C)') successful," \
     "$(csv_count "$T/load_udp.csv" 'FailedCall(C)') failed of 300"
[ "$(stalled_count)" = 2 ] || fail "workers_stalled is $(stalled_count), expected 2"
sipp_run 50 200 after_udp
sipp_all_ok 200
ok "workers_stalled=2; 200/200 UDP calls after the restart"

[ "$(grep -c 'stalled for' "$T/ser.log")" -eq 2 ] || fail "other children were killed: $(grep 'stalled for' "$T/ser.log")"
[ "$(ser_children | wc -l)" -eq 4 ] || fail "expected 4 children at the end: $(ser_children)"
stop_ser
ok "only the two stopped children were killed; SIGTERM left no child behind"

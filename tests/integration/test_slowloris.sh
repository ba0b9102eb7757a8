#!/bin/sh
# Slow-drip ("slowloris") peers cannot hold TCP connections: 100 fresh
# connections that drip an OPTIONS request one byte every 0.5 s are cut
# tcp_first_msg_timeout (3 s) after their accept, 100 that first send a
# complete request and then drip a second are cut tcp_msg_read_timeout (2 s)
# after its first byte, each with one log line naming the limit; meanwhile
# SIPp calls through ser over TCP all succeed. (The idle timer,
# tcp_connection_lifetime, stays at its default 120 s and plays no part.)
# The fresh ones start dripping 1.5 s after connect: a first message is also
# on tcp_msg_read_timeout's clock from its first byte, and a drip from the
# connect would be cut by that (2 s) before tcp_first_msg_timeout (3 s).
#
# SLOWLORIS_OLD=1 leaves the two parameters out of the config, for a binary
# that does not know them (the test then fails on the drip connections).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 not installed"; exit 77; }

FIRST_S=3 READ_S=2 SLACK_MS=1500
N=100            # connections of each kind
DEADLINE_S=12    # the drip script gives up after this long
FRESH_DELAY=1.5  # fresh connections start dripping this long after connect
SER_PORT=$(free_port)
UAS_PORT=$(free_port)
[ "$UAS_PORT" = "$SER_PORT" ] && UAS_PORT=$((SER_PORT + 1))
SIPP_T=t1
timeouts="tcp_first_msg_timeout=$FIRST_S
tcp_msg_read_timeout=$READ_S"
[ "${SLOWLORIS_OLD:-0}" = 1 ] && timeouts="# SLOWLORIS_OLD=1: tcp_first_msg_timeout / tcp_msg_read_timeout left out"
cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=2
tcp_max_connections=1024
$timeouts
listen=udp:127.0.0.1:$SER_PORT
listen=tcp:127.0.0.1:$SER_PORT
route {
    if (uri==myself && method=="OPTIONS") { sl_send_reply("200", "OK"); break; };
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        break;
    };
    forward_tcp(127.0.0.1, $UAS_PORT);
}
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "ser rejects the config"; }

bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t "$SIPP_T" -nostdin -max_socket 64
wait_port tcp "$UAS_PORT" 10 || fail "sipp uas did not start"
start_ser "$T/ser.cfg"

# The drip peers; the calls start once all their connections are open.
bg_start drip timeout $((DEADLINE_S + 10)) "$PY" "$(dirname "$0")/slowloris.py" "$SER_PORT" $N $N 0.5 $FRESH_DELAY $DEADLINE_S
i=0
while ! grep -qs '^connected' "$T/drip.log" && kill -0 "$PID_drip" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.05; i=$((i+1))
done
grep -qs "^connected $((2 * N))\$" "$T/drip.log" || { cat "$T/drip.log" 2>/dev/null; fail "the drip peers could not connect"; }

sipp_run 50 250

# The drip script ends by itself (all closed, or its deadline); bounded wait.
i=0
while kill -0 "$PID_drip" 2>/dev/null && [ $i -lt $(( (DEADLINE_S + 12) * 10 )) ]; do sleep 0.1; i=$((i+1)); done
kill -0 "$PID_drip" 2>/dev/null && fail "the drip script did not end"
wait "$PID_drip" 2>/dev/null
cat "$T/drip.log"
field() { sed -n "s/^$1 .*\\<$2=\\(-\\?[0-9]*\\).*/\\1/p" "$T/drip.log"; }
f_closed=$(field fresh closed) f_min=$(field fresh min_ms) f_max=$(field fresh max_ms)
a_closed=$(field after-first closed) a_answered=$(field after-first answered)
a_min=$(field after-first min_ms) a_max=$(field after-first max_ms)
[ -n "$f_closed" ] && [ -n "$a_closed" ] || fail "the drip script printed no results"

# ser's log lines, one per cut connection (bounded wait: they may trail the close).
i=0
while [ $i -lt 30 ]; do
    n_first=$(grep -c 'tcp_first_msg_timeout' "$T/ser.log")
    n_read=$(grep -c 'tcp_msg_read_timeout' "$T/ser.log")
    [ "$n_first" -ge $N ] && [ "$n_read" -ge $N ] && break
    sleep 0.1; i=$((i+1))
done
echo "ser log: $n_first lines naming tcp_first_msg_timeout, $n_read naming tcp_msg_read_timeout"

sipp_all_ok 250
ok "250/250 calls through ser over tcp while $((2 * N)) drip connections were open"

[ "$a_answered" -eq $N ] || fail "only $a_answered/$N after-first connections got a reply to their first request"
[ "$f_closed" -eq $N ] || fail "only $f_closed/$N fresh drip connections were closed by ser within ${DEADLINE_S} s"
[ "$f_max" -le $((FIRST_S * 1000 + SLACK_MS)) ] || fail "a fresh drip connection was closed ${f_max} ms after connect (tcp_first_msg_timeout=$FIRST_S)"
[ "$f_min" -ge $((FIRST_S * 1000 - 500)) ] || fail "a fresh drip connection was closed already ${f_min} ms after connect (tcp_first_msg_timeout=$FIRST_S)"
ok "$N fresh drip connections closed $f_min..$f_max ms after connect (tcp_first_msg_timeout=$FIRST_S)"
[ "$a_closed" -eq $N ] || fail "only $a_closed/$N after-first drip connections were closed by ser within ${DEADLINE_S} s"
[ "$a_max" -le $((READ_S * 1000 + SLACK_MS)) ] || fail "an after-first drip connection was closed ${a_max} ms after its first drip byte (tcp_msg_read_timeout=$READ_S)"
[ "$a_min" -ge $((READ_S * 1000 - 500)) ] || fail "an after-first drip connection was closed already ${a_min} ms after its first drip byte (tcp_msg_read_timeout=$READ_S)"
ok "$N after-first drip connections closed $a_min..$a_max ms after their first drip byte (tcp_msg_read_timeout=$READ_S)"
[ "$n_first" -ge $N ] || fail "$n_first/$N log lines naming tcp_first_msg_timeout"
[ "$n_read" -ge $N ] || fail "$n_read/$N log lines naming tcp_msg_read_timeout"
ok "one log line per cut connection"
stop_ser

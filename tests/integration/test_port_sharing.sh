#!/bin/sh
# No silent port sharing: ser binds its listeners with SO_REUSEPORT (one socket
# per worker), but refuses to start, exiting non-zero with "address already in
# use by another process" naming the listener, when another process serves one
# of its addresses:
#   - a second ser with the same listeners (udp + tcp on 127.0.0.1:P), while the
#     first answers all of 20 OPTIONS sent to P over UDP (none lost to the second);
#   - a plain UDP socket (socat UDP-RECV) on the port of a udp listener;
#   - a UDP socket with SO_REUSEPORT (python3) there, which the kernel would let
#     ser share silently;
#   - a TCP listener (socat TCP-LISTEN) on the port of a tcp listener.
# And no false positive: ser restarted at once on the same port, with a TIME_WAIT
# left there by a TCP connection it closed, starts and answers.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
PY=$(command -v python3) || { echo "python3 not installed"; exit 77; }

MSG='address already in use by another process'
USED=""
port() { # a free port not handed out before in this test
    _n=0
    while [ $_n -lt 20 ]; do
        _q=$(free_port)
        case " $USED " in *" $_q "*) ;; *) USED="$USED $_q"; echo "$_q"; return 0;; esac
        _n=$((_n+1))
    done
    fail "no distinct free port"
}

# udp + tcp on 127.0.0.1:$2, OPTIONS answered "200 $3".
share_cfg() {
    options_cfg "$1" "drop;" <<CFG
debug=3
children=2
tcp_children=2
listen=udp:127.0.0.1:$2
listen=tcp:127.0.0.1:$2
CFG
    sed -i "s/sl_send_reply(\"200\", \"OK\")/sl_send_reply(\"200\", \"$3\")/" "$1"
    grep -q "\"200\", \"$3\"" "$1" || fail "could not set the reason phrase in $1"
}

# One other ser at a time, in the background, bounded by timeout 10 (which
# passes SIGTERM on), in a process group of its own that lib.sh's clean-up ends;
# stdout and stderr apart in $T/NAME.out and $T/NAME.err. OPID: its pid.
OPID="" ORC=""
other_start() { # NAME CFG
    setsid timeout 10 "$SER_BIN" -D -E -f "$2" >"$T/$1.out" 2>"$T/$1.err" &
    OPID=$!
    BG_PIDS="$BG_PIDS $OPID"
}

# Bounded wait (SECS) until it exits; true, with ORC its exit status, when it did.
other_exited() { # SECS
    _i=0
    while kill -0 "$OPID" 2>/dev/null && [ $_i -lt $(($1 * 20)) ]; do sleep 0.05; _i=$((_i+1)); done
    kill -0 "$OPID" 2>/dev/null && return 1
    wait "$OPID"; ORC=$?
    return 0
}

other_stop() { # SIGTERM by PID (timeout passes it on), bounded wait, then SIGKILL the group
    kill -TERM "$OPID" 2>/dev/null
    _i=0; while kill -0 "$OPID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i+1)); done
    /bin/kill -KILL -- "-$OPID" 2>/dev/null
    wait "$OPID" 2>/dev/null
    return 0
}

# The refusal: exited non-zero (not by the timeout) with $MSG naming LISTENER on
# one line of its stderr.
assert_refused() { # NAME WHAT LISTENER
    [ "$ORC" -ne 0 ] || fail "$2: ser exited with status 0; stderr: $(head -n 5 "$T/$1.err")"
    [ "$ORC" -ne 124 ] || fail "$2: ser ran until timeout 10 ended it"
    grep -F "$MSG" "$T/$1.err" | grep -q -F "$3" ||
        fail "$2: exit status $ORC, but no '$MSG' naming $3 on stderr: $(head -n 5 "$T/$1.err")"
}

# Start ser on CFG while something else holds a port; it must refuse within 5 s.
refuses() { # NAME CFG WHAT LISTENER
    other_start "$1" "$2"
    other_exited 5 || { other_stop; fail "$3: ser started anyway and was still running after 5 s; its log: $(tail -n 2 "$T/$1.err" | tr '\n' ' ')"; }
    assert_refused "$1" "$3" "$4"
}

# UDP client: for each request file, a new socket (so a new source port), one
# request, a bounded wait for the reply; prints the reply's first line or "no reply".
cat >"$T/udp_ask.py" <<'PY'
import socket, sys
port = int(sys.argv[1])
for f in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(2)
    s.send(open(f, "rb").read())
    try:
        print(s.recv(65535).split(b"\r\n", 1)[0].decode(errors="replace"), flush=True)
    except (socket.timeout, ConnectionRefusedError):
        print("no reply", flush=True)
    s.close()
PY
# A UDP socket with SO_REUSEPORT on 127.0.0.1:PORT that reads until ended.
cat >"$T/reuse_holder.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(65535)
PY

P=$(port)
share_cfg "$T/a.cfg" "$P" OK
share_cfg "$T/b.cfg" "$P" "OK from B"
start_ser "$T/a.cfg"

# --- a second ser on the same addresses --------------------------------------
other_start b "$T/b.cfg"
b_exited=1
other_exited 3 || b_exited=0
i=1 reqs=""
while [ $i -le 20 ]; do
    sip_options "sip:ping@127.0.0.1:$P" "share-$i" UDP >"$T/req.$i"
    reqs="$reqs $T/req.$i"; i=$((i+1))
done
# shellcheck disable=SC2086
timeout 60 "$PY" "$T/udp_ask.py" "$P" $reqs >"$T/replies"
by_a=$(grep -c '^SIP/2.0 200 OK$' "$T/replies")
by_b=$(grep -c '^SIP/2.0 200 OK from B$' "$T/replies")
if [ $b_exited = 0 ]; then
    other_stop
    fail "a second ser on udp+tcp 127.0.0.1:$P started and was still running after 3 s; of 20 OPTIONS the first ser answered $by_a, the second $by_b"
fi
assert_refused b "second ser on 127.0.0.1:$P" "127.0.0.1:$P"
ok "a second ser on the addresses of a running one refuses to start (status $ORC): $(grep -F -m1 "$MSG" "$T/b.err")"
[ "$by_a" = 20 ] || fail "of 20 OPTIONS over UDP, the first ser answered $by_a with 200 (the second $by_b); replies: $(sort "$T/replies" | uniq -c | tr '\n' ';')"
ok "all 20 OPTIONS over UDP were answered by the first ser"

# --- restart on the same port with a TIME_WAIT there --------------------------
# A TCP connection that gets an answer and is still open when ser stops: ser
# closes first, so the TIME_WAIT is on 127.0.0.1:P's side.
sip_options "sip:ping@127.0.0.1:$P" tw TCP >"$T/tw.req"
mkfifo "$T/tw.in" || fail "mkfifo failed"
socat - "TCP:127.0.0.1:$P" <"$T/tw.in" >"$T/tw.out" 2>"$T/tw.err" &
TW_PID=$!
BG_PIDS="$BG_PIDS $TW_PID"
exec 7>"$T/tw.in"
(cat "$T/tw.req" >&7) 2>/dev/null
i=0
while ! grep -q '^SIP/2.0 200' "$T/tw.out" && kill -0 "$TW_PID" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.05; i=$((i+1))
done
grep -q '^SIP/2.0 200' "$T/tw.out" || fail "no 200 over TCP from 127.0.0.1:$P: $(cat "$T/tw.err")"
stop_ser
i=0
while [ $i -lt 100 ] && ! ss -Htan state time-wait "sport = :$P" 2>/dev/null | grep -q .; do
    sleep 0.05; i=$((i+1))
done
exec 7>&-
kill "$TW_PID" 2>/dev/null; wait "$TW_PID" 2>/dev/null
ss -Htan state time-wait "sport = :$P" | grep -q . || fail "no TIME_WAIT on port $P after ser closed the connection"
start_ser "$T/a.cfg"
sip_options "sip:ping@127.0.0.1:$P" restarted UDP >"$T/restarted.req"
grep -F -q "$MSG" "$T/ser.log" && fail "the restarted ser complains: $(grep -F -m1 "$MSG" "$T/ser.log")"
timeout 10 "$PY" "$T/udp_ask.py" "$P" "$T/restarted.req" | grep -q '^SIP/2.0 200 OK$' || fail "the restarted ser does not answer"
ok "ser restarted at once on port $P, with a TIME_WAIT there, starts and answers"
stop_ser

# --- non-ser occupants ---------------------------------------------------------
Q=$(port)
bg_start holder_udp socat -u "UDP-RECV:$Q,bind=127.0.0.1" -
wait_port udp "$Q" 5 || fail "socat did not bind udp 127.0.0.1:$Q"
share_cfg "$T/q.cfg" "$Q" OK
refuses q "$T/q.cfg" "udp 127.0.0.1:$Q held by socat" "udp:127.0.0.1:$Q"
ok "a port held by socat UDP-RECV: ser refuses: $(grep -F -m1 "$MSG" "$T/q.err")"

R=$(port)
bg_start holder_reuse "$PY" "$T/reuse_holder.py" "$R"
wait_port udp "$R" 5 || fail "python3 did not bind udp 127.0.0.1:$R"
share_cfg "$T/r.cfg" "$R" OK
refuses r "$T/r.cfg" "udp 127.0.0.1:$R held by a SO_REUSEPORT socket of another process" "udp:127.0.0.1:$R"
ok "a port held by another process's SO_REUSEPORT socket: ser refuses: $(grep -F -m1 "$MSG" "$T/r.err")"

S=$(port)
bg_start holder_tcp socat "TCP-LISTEN:$S,bind=127.0.0.1" -
wait_port tcp "$S" 5 || fail "socat did not listen on tcp 127.0.0.1:$S"
share_cfg "$T/s.cfg" "$S" OK
refuses s "$T/s.cfg" "tcp 127.0.0.1:$S held by socat TCP-LISTEN" "tcp:127.0.0.1:$S"
ok "a TCP port held by socat TCP-LISTEN: ser refuses: $(grep -F -m1 "$MSG" "$T/s.err")"

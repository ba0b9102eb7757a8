#!/bin/sh
# kill -9 of main leaves nothing behind: every child (udp receivers, tcp
# workers, the control process) has PR_SET_PDEATHSIG SIGKILL, so within a
# second none is running and the ports can be bound again (a bind by another
# program succeeds, and a new ser starts on the same config: its claim of
# the addresses finds no process still serving them).
. "$(dirname "$0")/lib.sh"

P=$(free_port)
cat >"$T/ser.cfg" <<CFG
children=2
tcp_children=2
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { drop; }
CFG
start_ser "$T/ser.cfg"
i=0; while [ "$(ser_children | wc -l)" -lt 5 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kids=$(ser_children)
[ "$(echo "$kids" | wc -l)" -eq 5 ] || fail "expected 5 children (2 udp, 2 tcp, control): $kids"
# A connection held open by a tcp worker, so one child has more than its listeners.
python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', $P), timeout=2)
time.sleep(30)
" &
HOLD=$!
BG_PIDS="$BG_PIDS $HOLD"
# ss -p names the process only once a worker has accepted it.
held() { ss -Htnp state established "sport = :$P" | grep -q ser; }
i=0; while ! held && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
held || fail "the held connection was never accepted"

# A child reparented to init is a zombie until init reaps it: a zombie has stopped.
running() { st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
any_running() { for k in $kids; do running "$k" && return 0; done; return 1; }
start=$(date +%s%N)
kill -KILL "$SER_PID" || fail "could not kill main"
wait "$SER_PID" 2>/dev/null
SER_PID=""
i=0; while any_running && [ $i -lt 200 ]; do sleep 0.005; i=$((i+1)); done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
for k in $kids; do running "$k" && fail "child $k still running $ms ms after main was killed"; done
[ "$ms" -le 1000 ] || fail "the children took $ms ms to go"
ok "every child gone $ms ms after kill -9 of main"

python3 - "$P" <<'PY' || fail "the ports are still held"
import socket, sys
p = int(sys.argv[1])
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as any server: TIME_WAIT of the held connection
t.bind(("127.0.0.1", p))
t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", p))
t.close()
u.close()
PY
ok "tcp and udp port $P can be bound again at once"

start_ser "$T/ser.cfg"
grep -q 'already in use' "$T/ser.log" && fail "the new ser found the address in use: $(cat "$T/ser.log")"
stop_ser
ok "a new ser starts on the same addresses and stops cleanly"

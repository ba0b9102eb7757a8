#!/bin/sh
# The process model from the outside: without -D ser daemonizes and writes its
# pid file (-P); it drops privileges (-u/-g) after binding; SIGINT stops main
# and every child within two seconds and removes the pid file; the shared
# memory size -m is enforced at start with a clear message.
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
# main removes the pid file at exit as user nobody: let it.
chmod 777 "$T"
"$SER_BIN" -E -f "$T/ser.cfg" -P "$T/ser.pid" -u nobody -g nogroup >"$T/ser.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "daemonizing ser returned $rc"
i=0; while [ ! -s "$T/ser.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
SER_PID=$(cat "$T/ser.pid" 2>/dev/null)
[ -n "$SER_PID" ] && kill -0 "$SER_PID" 2>/dev/null || fail "no running process in the pid file"
[ "$(ps -o ppid= -p "$SER_PID" | tr -d ' ')" = 1 ] || [ "$(ps -o sid= -p "$SER_PID" | tr -d ' ')" = "$SER_PID" ] \
    || fail "main is not detached (not a session leader, not re-parented)"
wait_port udp "$P" 5 || fail "udp port not open"
i=0; while [ "$(ser_children | wc -l)" -lt 5 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ "$(ser_children | wc -l)" -eq 5 ] || fail "expected 5 children (2 udp, 2 tcp, control)"
for k in $SER_PID $(ser_children); do
    [ "$(ps -o user= -p "$k" | tr -d ' ')" = nobody ] || fail "process $k does not run as nobody"
done
ok "daemonized with pid file, 5 children, all running as nobody"

kids=$(ser_children)
start=$(date +%s%N)
# A daemon's parent is init, which may reap it late: a zombie has stopped.
running() { st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
kill -INT "$SER_PID"
i=0; while running "$SER_PID" && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
running "$SER_PID" && fail "main still running 2 s after SIGINT"
for k in $kids; do running "$k" && fail "child $k left behind"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
SER_PID=""
[ -e "$T/ser.pid" ] && fail "pid file not removed"
ok "SIGINT stopped main and every child in ${ms} ms"

# Ctrl-C in a terminal sends SIGINT to the whole process group: the children
# leave the stopping to main, which neither reports them as failed nor restarts them.
setsid "$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port udp "$P" 5 || fail "udp port not open (process group run)"
i=0; while [ "$(ser_children | wc -l)" -lt 5 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
/bin/kill -s INT -- "-$SER_PID" || fail "ser is not a process group leader"
i=0; while running "$SER_PID" && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
running "$SER_PID" && fail "main still running 2 s after SIGINT to the group"
grep -q 'restarting' "$T/ser.log" && fail "SIGINT to the group made main restart children: $(grep restarting "$T/ser.log")"
SER_PID=""
ok "SIGINT to the whole process group (Ctrl-C) stops ser cleanly"

cat >"$T/big.cfg" <<CFG
tcp_max_connections=1000000
listen=udp:127.0.0.1:$P
route { drop; }
CFG
out=$("$SER_BIN" -D -E -m 4 -f "$T/big.cfg" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "ser started with too little shared memory"
echo "$out" | grep -q 'too small for tcp_max_connections=1000000' || fail "no clear message for -m: $out"
ok "shared memory too small for the connection table is refused at start"

#!/bin/sh
# serctl against a running ser: help lists the server's methods; ps shows
# every process with a live pid; tcp.list and conn.close on a held TCP
# connection; --json is JSON; metrics pass promtool; exit codes: 1 for a
# server error, 2 for usage, 3 with a clear message when the socket is
# missing or refused by its permissions.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
SERCTL="$(dirname "$SER_BIN")/serctl"
[ -x "$SERCTL" ] || fail "no serctl beside $SER_BIN"

P=$(free_port)
cat >"$T/ser.cfg" <<CFG
children=2
tcp_children=2
ctl_socket="$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { sl_send_reply("404", "Not here"); }
CFG
start_ser "$T/ser.cfg"
i=0; while [ ! -S "$T/ser.ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
c() { "$SERCTL" -s "$T/ser.ctl" "$@"; }

c help >"$T/help.out" || fail "serctl help failed"
for m in core.ps tcp.list tls.list serial.list stats conn.close log.level metrics; do
    grep -q "^$m " "$T/help.out" || fail "serctl help lacks $m: $(cat "$T/help.out")"
done
ok "serctl help lists the server's methods"

c ps >"$T/ps.out" || fail "serctl ps failed"
for role in main "udp receiver" "tcp worker" control; do
    grep -q "  $role  " "$T/ps.out" || fail "serctl ps lacks $role: $(cat "$T/ps.out")"
done
for pid in $(awk 'NR>1{print $1}' "$T/ps.out"); do kill -0 "$pid" || fail "serctl ps shows pid $pid, which is not running"; done
[ "$(awk 'NR>1' "$T/ps.out" | wc -l)" = 6 ] || fail "serctl ps: $(cat "$T/ps.out")"
ok "serctl ps: main, 2 udp receivers, 2 tcp workers and control, all running"

rm -f "$T/hold.in"; mkfifo "$T/hold.in"
socat -u "OPEN:$T/hold.in" "TCP:127.0.0.1:$P" &
HELD=$!
BG_PIDS="$BG_PIDS $HELD"
exec 6>"$T/hold.in"
i=0; while ! c tcp.list | grep -q " in "; do [ $i -lt 100 ] || break; sleep 0.05; i=$((i+1)); done
c tcp.list >"$T/tcp.out"
id=$(awk '$3=="in"{print $1}' "$T/tcp.out" | head -n 1)
[ -n "$id" ] || fail "serctl tcp.list shows no incoming connection: $(cat "$T/tcp.out")"
c conn.close "$id" >"$T/close.out" || fail "serctl conn.close $id failed: $(cat "$T/close.out")"
i=0; while kill -0 "$HELD" 2>/dev/null && [ $i -lt 100 ]; do printf x >&6 2>/dev/null; sleep 0.05; i=$((i+1)); done
exec 6>&-
kill -0 "$HELD" 2>/dev/null && fail "serctl conn.close $id did not close it"
ok "serctl tcp.list shows the held connection and conn.close $id closes it"

c stats --json >"$T/stats.json" || fail "serctl stats --json failed"
python3 -m json.tool "$T/stats.json" >/dev/null || fail "serctl --json is not JSON: $(head -c 300 "$T/stats.json")"
c metrics >"$T/metrics.txt" || fail "serctl metrics failed"
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/metrics.txt" >"$T/prom.out" 2>&1 || fail "promtool: $(cat "$T/prom.out")"
fi
ok "serctl --json gives JSON; serctl metrics passes promtool"

c no.such.method >"$T/err.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "no method no.such.method" "$T/err.out" || fail "unknown method: rc $rc, $(cat "$T/err.out")"
c conn.close 999999 >"$T/err.out" 2>&1; [ $? = 1 ] || fail "conn.close of no connection did not exit 1"
"$SERCTL" >/dev/null 2>&1; [ $? = 2 ] || fail "serctl without a command did not exit 2"
"$SERCTL" -s "$T/none.ctl" ps >"$T/err.out" 2>&1; rc=$?
[ $rc = 3 ] && grep -q "no such socket (is ser running" "$T/err.out" || fail "missing socket: rc $rc, $(cat "$T/err.out")"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SERCTL" -s "$T/ser.ctl" ps >"$T/err.out" 2>&1; rc=$?
[ $rc = 3 ] && grep -q "permission denied" "$T/err.out" || fail "another user: rc $rc, $(cat "$T/err.out")"
ok "exit codes: 1 server error, 2 usage, 3 no socket / permission denied, each with a clear message"
stop_ser

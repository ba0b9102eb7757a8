#!/bin/sh
# The serial bridge in client mode (connect=): ser dials a TCP server and
# sends it the device's bytes; when the server goes away ser redials with
# back-off, and what the device sent meanwhile (bounded) arrives after the
# link is back.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

S=$(free_port)
pty_pair
bg_start sink1 socat -u TCP-LISTEN:$S,bind=127.0.0.1,reuseaddr OPEN:$T/sink1,creat,append
wait_port tcp "$S" 5 || fail "sink did not start"
cat >"$T/ser.cfg" <<CFG
debug=3
serial "$T/dev" {
    connect=tcp:127.0.0.1:$S;
}
CFG
# The log exists before log_wait greps it (the background redirection may come later).
: >"$T/ser.log"
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
log_wait() { i=0; while [ "$(grep -c "$1" "$T/ser.log")" -lt "$2" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ "$(grep -c "$1" "$T/ser.log")" -ge "$2" ]; }
log_wait "connected to 127.0.0.1:$S" 1 || fail "ser did not dial the server"
printf 'first-line\n' >"$T/peer"
i=0; while ! grep -q first-line "$T/sink1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q first-line "$T/sink1" || fail "the device's bytes did not reach the server"
ok "device bytes reach the server ser dialled"

# The server goes away; the device keeps talking; the server comes back.
kill -TERM -- "-$PID_sink1" 2>/dev/null; kill "$PID_sink1" 2>/dev/null
log_wait "link to 127.0.0.1:$S down" 1 || fail "ser did not notice the link going down"
printf 'while-down\n' >"$T/peer"
bg_start sink2 socat -u TCP-LISTEN:$S,bind=127.0.0.1,reuseaddr OPEN:$T/sink2,creat,append
wait_port tcp "$S" 5 || fail "second sink did not start"
log_wait "connected to 127.0.0.1:$S" 2 || fail "ser did not redial"
printf 'after-back\n' >"$T/peer"
i=0; while ! grep -q after-back "$T/sink2" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q after-back "$T/sink2" || fail "bytes after the redial did not arrive"
grep -q while-down "$T/sink2" || fail "the bytes the device sent while the link was down were lost: $(cat "$T/sink2")"
[ "$(head -n 1 "$T/sink2")" = while-down ] || fail "the kept bytes did not come first: $(cat "$T/sink2")"
stop_ser
ok "ser redialled; what the device sent while the link was down came first"

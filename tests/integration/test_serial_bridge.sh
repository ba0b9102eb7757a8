#!/bin/sh
# The serial bridge, server mode, on a socat pty pair (no real device):
# bytes the device sends reach every connected client in order; bytes a
# client sends reach the device; max_clients refuses one more; a ser.cfg with
# only a serial block (no SIP listener) runs; the device vanishing and
# coming back is retried every reopen_delay, keep_clients=yes keeping the client.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

P=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
serial "$T/dev" {
    baudrate=115200;
    listen=tcp:127.0.0.1:$P;
    max_clients=2;
    keep_clients=yes;
    reopen_delay=300;
    init_string="INIT-STRING";
}
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "ser -c refuses a config with only a serial block"; }
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "the bridge does not listen on $P"
i=0; while ! grep -q "started: " "$T/ser.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q "started: [0-9]* processes, 0 listeners" "$T/ser.log" ||
    fail "a serial-only config opened SIP listeners: $(grep 'started: ' "$T/ser.log")"
grep -q "no main route" "$T/ser.log" && fail "a serial-only config was warned for having no route"
log_open() { i=0; while [ "$(grep -c "serial $T/dev: open" "$T/ser.log")" -lt "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; }
log_open 1
grep -q "serial $T/dev: open" "$T/ser.log" || fail "the device was not opened"

# Two clients and the device's other end, driven by one bounded python3 script.
cat >"$T/drive.py" <<'PY'
import os, socket, sys, time, select, hashlib
port, peer = int(sys.argv[1]), sys.argv[2]
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY)
cl = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
time.sleep(0.3)   # both admitted before the device speaks (the bridge logs each)
# A third client is one over max_clients=2: the bridge closes it at once.
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
extra.settimeout(3)
try:
    refused = extra.recv(1) == b""
except (ConnectionResetError, socket.timeout):
    refused = True
print("extra refused:", refused)
data = os.urandom(200000)
got = [bytearray(), bytearray()]
sent = 0
deadline = time.time() + 20
while (len(got[0]) < len(data) or len(got[1]) < len(data)) and time.time() < deadline:
    if sent < len(data):
        sent += os.write(dev, data[sent:sent + 4096])
    r, _, _ = select.select(cl, [], [], 0.05)
    for s in r:
        i = cl.index(s)
        got[i] += s.recv(65536)
for i in range(2):
    print("client %d: %d bytes, in order: %s" % (i, len(got[i]), bytes(got[i]) == data))
# Client to device.
cl[0].sendall(b"hello device\n")
buf = b""
deadline = time.time() + 5
while b"hello device\n" not in buf and time.time() < deadline:
    r, _, _ = select.select([dev], [], [], 0.1)
    if r:
        buf += os.read(dev, 4096)
print("device got:", b"hello device\n" in buf)
print("init string first:", buf.startswith(b"INIT-STRING"))
for s in cl:
    s.close()
PY
timeout 40 python3 "$T/drive.py" "$P" "$T/peer" >"$T/drive.out" 2>&1 || { cat "$T/drive.out"; fail "the driver failed"; }
cat "$T/drive.out"
grep -q "extra refused: True" "$T/drive.out" || fail "a third client was not refused at max_clients=2"
grep -q "max_clients=2 reached" "$T/ser.log" || fail "no log line for the refused client"
grep -q "client 0: 200000 bytes, in order: True" "$T/drive.out" || fail "client 0 did not get every device byte in order"
grep -q "client 1: 200000 bytes, in order: True" "$T/drive.out" || fail "client 1 did not get every device byte in order"
ok "200 KB from the device reached both clients, in order; a third client was refused"
grep -q "device got: True" "$T/drive.out" || fail "bytes from a client did not reach the device"
ok "bytes from a client reached the device"
grep -q "init string first: True" "$T/drive.out" || fail "the device did not get init_string when it was opened"

# The device goes away (the pty pair ends) and comes back: the bridge reopens it.
kill -TERM -- "-$PID_pty" 2>/dev/null; kill "$PID_pty" 2>/dev/null
i=0; while ! grep -q "reopening in 300 ms\|No such file" "$T/ser.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q "reopening in 300 ms" "$T/ser.log" || fail "the bridge did not notice the device going away"
rm -f "$T/dev" "$T/peer"
pty_pair
back=$(date +%s%3N)   # the device is there again (pty_pair saw it; up to 50 ms after it appeared)
i=0; while [ "$(grep -c "serial $T/dev: open" "$T/ser.log")" -lt 2 ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
took=$(( $(date +%s%3N) - back ))
[ "$(grep -c "serial $T/dev: open" "$T/ser.log")" -ge 2 ] || fail "the device was not reopened"
echo "device back in service after $took ms (reopen_delay=300)"
# reopen_delay + 100 ms, plus this loop's 10 ms polling and a process start or two of slack.
[ "$took" -le 450 ] || fail "the device came back and was in service only after $took ms (reopen_delay=300)"
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "the device went away and was reopened within reopen_delay"

#!/bin/sh
# The serial bridge's framing=line and its slow-client bound, on a socat pty
# pair: two clients that trickle lines byte by byte at the same time reach the
# device line by line, never mixed; a client that never reads is dropped at
# its queue while a fast one receives every byte of 4 MB from the device;
# with keep_clients=no (the default) a client is closed when the device goes away.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

P=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
serial "$T/dev" {
    listen=tcp:127.0.0.1:$P;
    framing=line;
    client_queue=131072;
}
CFG
start_ser_serial() {
    "$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
    SER_PID=$!
    wait_port tcp "$P" 10 || fail "the bridge does not listen on $P"
}
start_ser_serial
cat >"$T/drive.py" <<'PY'
import os, socket, sys, time, select
port, peer = int(sys.argv[1]), sys.argv[2]
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
a = socket.create_connection(("127.0.0.1", port), timeout=5)
b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a small window: ser's queue fills
b.settimeout(5)
b.connect(("127.0.0.1", port))
time.sleep(0.3)
la = b"".join(b"client-a line %03d\n" % i for i in range(100))
lb = b"".join(b"client-b line %03d\n" % i for i in range(100))
got = b""
for i in range(max(len(la), len(lb))):
    if i < len(la): a.send(la[i:i + 1])
    if i < len(lb): b.send(lb[i:i + 1])
    if i % 64 == 0:
        try: got += os.read(dev, 65536)
        except BlockingIOError: pass
deadline = time.time() + 10
while got.count(b"\n") < 200 and time.time() < deadline:
    r, _, _ = select.select([dev], [], [], 0.1)
    if r: got += os.read(dev, 65536)
lines = got.split(b"\n")[:-1]
good = all(l.startswith((b"client-a line ", b"client-b line ")) and len(l) == 17 for l in lines)
print("lines:", len(lines), "whole:", good)
# Slow client: `b` stops reading; `a` reads everything. 4 MB from the device.
data = os.urandom(4 * 1024 * 1024)
sent, fast = 0, 0
b_open = True
deadline = time.time() + 30
while fast < len(data) and time.time() < deadline:
    if sent < len(data):
        try: sent += os.write(dev, data[sent:sent + 16384])
        except BlockingIOError: pass
    r, _, _ = select.select([a], [], [], 0.01)
    if r:
        chunk = a.recv(1 << 20)
        if not chunk: break
        fast += len(chunk)
print("fast client got:", fast, "of", len(data))
PY
timeout 60 python3 "$T/drive.py" "$P" "$T/peer" >"$T/drive.out" 2>&1 || { cat "$T/drive.out"; fail "the driver failed"; }
cat "$T/drive.out"
grep -q "lines: 200 whole: True" "$T/drive.out" || fail "with framing=line the device did not get 200 whole lines"
ok "two clients trickling lines at once: the device got 200 whole lines"
grep -q "fast client got: 4194304 of 4194304" "$T/drive.out" || fail "the fast client did not get all 4 MB"
grep -q "write queue to 127.0.0.1:[0-9]* over tcp_max_write_queue=131072 bytes" "$T/ser.log" ||
    fail "the client that never read was not dropped at its client_queue of 128 KB"
rss=$(for k in $(ser_children); do awk '/^VmRSS:/{print $2}' "/proc/$k/status"; done | sort -n | tail -n 1)
[ "${rss:-0}" -lt 65536 ] || fail "bridge RSS ${rss} kB: memory grew"
ok "a client that never reads was dropped at its queue; the fast one got all 4 MB; bridge RSS ${rss} kB"

# keep_clients=no (the default): when the device goes away, its clients are closed.
bg_start watcher socat -u TCP:127.0.0.1:$P OPEN:$T/watcher.out,creat
i=0; while [ "$(grep -c 'connected (1 now)' "$T/ser.log")" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill -TERM -- "-$PID_pty" 2>/dev/null; kill "$PID_pty" 2>/dev/null
i=0; while kill -0 "$PID_watcher" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill -0 "$PID_watcher" 2>/dev/null && fail "a client stayed connected after the device went away (keep_clients=no)"
grep -q "closing: serial device $T/dev went away" "$T/ser.log" || fail "no log line for closing the client with the device"
stop_ser
ok "keep_clients=no: the device went away and its client was closed"

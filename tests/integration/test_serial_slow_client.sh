#!/bin/sh
# A serial client that never reads, next to one that does, at the default
# client_queue (256 KB), on a socat pty pair: the slow one is dropped (a log
# line naming it; it reads what the kernel held for it, in order, then EOF or
# a reset), the fast one receives all 10 MB from the device in order, and the
# bridge's memory stays bounded: its VmRSS (sampled during the run) and VmHWM
# stay under its idle VmRSS + 2 clients x 2 x client_queue + 1 MB. The factor
# 2 covers the allocator's overhead on the queued chunks; the 1 MB covers the
# code and libc pages a busy bridge touches that an idle one has not. Without
# the drop the slow client's queue alone would hold the whole 10 MB. (VmHWM
# alone is not enough: the kernel updates the high-water mark lazily, and it
# has been seen below a VmRSS sampled earlier in the run.)
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

QUEUE_KB=256    # client_queue's default (README: 262144)
P=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
serial "$T/dev" {
    listen=tcp:127.0.0.1:$P;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "the bridge does not listen on $P"
log_wait() { i=0; while [ "$(grep -c -- "$1" "$T/ser.log")" -lt "$2" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ "$(grep -c -- "$1" "$T/ser.log")" -ge "$2" ]; }
log_wait "serial $T/dev: open" 1 || fail "the device was not opened"

# The bridge is the child of main titled "ser: serial bridge DEVICE".
bridge=""
i=0
while [ -z "$bridge" ] && [ $i -lt 100 ]; do
    for k in $(ser_children); do
        [ "$(ps -ww -o args= -p "$k" 2>/dev/null)" = "ser: serial bridge $T/dev" ] && bridge=$k
    done
    [ -n "$bridge" ] || sleep 0.05
    i=$((i+1))
done
[ -n "$bridge" ] || fail "no child of ser titled \"ser: serial bridge $T/dev\": $(for k in $(ser_children); do ps -ww -o args= -p "$k"; done)"

cat >"$T/slow.py" <<'PY'
import os, select, socket, sys, time
port, peer, log, bridge = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
SIZE, WINDOW = 10 * 1024 * 1024, 1024 * 1024
deadline = time.time() + 25
def status(key):
    for line in open("/proc/%s/status" % bridge):
        if line.startswith(key + ":"):
            return int(line.split()[1])
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
fast = socket.create_connection(("127.0.0.1", port), timeout=5)
slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a small window: the bridge's queue fills
slow.settimeout(5)
slow.connect(("127.0.0.1", port))
print("slow client port:", slow.getsockname()[1])
while b"connected (2 now)" not in open(log, "rb").read():
    if time.time() > deadline:
        sys.exit("the bridge never had 2 clients connected")
    time.sleep(0.05)
idle = status("VmRSS")
print("idle VmRSS kB:", idle)
data = os.urandom(SIZE)
got = bytearray()
sent, peak, last_sample = 0, idle, 0.0
fast.setblocking(False)
while len(got) < SIZE and time.time() < deadline:
    # The window follows the fast client only: the slow one never reads.
    if sent < SIZE and sent - len(got) < WINDOW:
        try:
            sent += os.write(dev, data[sent:sent + 65536])
        except BlockingIOError:
            pass
    r, _, _ = select.select([fast], [], [], 0.005)
    if r:
        try:
            b = fast.recv(1 << 20)
        except BlockingIOError:
            b = None
        if b == b"":
            print("fast client: EOF"); break
        if b:
            got += b
    if time.time() - last_sample > 0.02:
        peak, last_sample = max(peak, status("VmRSS")), time.time()
print("fast client: %d bytes, in order: %s" % (len(got), bytes(got) == data))
print("peak sampled VmRSS kB:", max(peak, status("VmRSS")))
print("VmHWM kB:", status("VmHWM"))
# The slow client now reads: what the kernel held for it, then EOF or a reset.
tail, end, how = bytearray(), time.time() + 5, "still open"
while time.time() < end:
    try:
        b = slow.recv(65536)
    except ConnectionResetError:
        how = "reset"; break
    except socket.timeout:
        break
    if not b:
        how = "EOF"; break
    tail += b
print("slow client: %s after %d bytes, a prefix of the device's: %s" % (how, len(tail), data.startswith(bytes(tail))))
PY
timeout 40 python3 "$T/slow.py" "$P" "$T/peer" "$T/ser.log" "$bridge" >"$T/slow.out" 2>&1 ||
    { cat "$T/slow.out"; fail "the driver failed"; }
cat "$T/slow.out"
slowport=$(sed -n 's/^slow client port: //p' "$T/slow.out")
grep -q "write queue to 127.0.0.1:$slowport over tcp_max_write_queue=262144 bytes" "$T/ser.log" ||
    fail "the client that never read (port $slowport) was not dropped at client_queue=262144: $(grep 'write queue' "$T/ser.log")"
grep -q "write queue to" "$T/ser.log" && [ "$(grep -c "write queue to" "$T/ser.log")" -ne 1 ] &&
    fail "more than the slow client was dropped: $(grep 'write queue to' "$T/ser.log")"
grep -Eq "^slow client: (EOF|reset) after [0-9]+ bytes, a prefix of the device's: True" "$T/slow.out" ||
    fail "the dropped client did not get EOF or a reset after an in-order prefix: $(grep '^slow client:' "$T/slow.out")"
ok "the client that never read was dropped at client_queue, with a log line, and got $(sed -n 's/^slow client: \([a-zA-Z]*\) .*/\1/p' "$T/slow.out")"
grep -q "fast client: 10485760 bytes, in order: True" "$T/slow.out" || fail "the fast client did not get all 10 MB in order"
ok "the fast client got all 10 MB in order"

idle=$(sed -n 's/^idle VmRSS kB: //p' "$T/slow.out")
peak=$(sed -n 's/^peak sampled VmRSS kB: //p' "$T/slow.out")
hwm=$(sed -n 's/^VmHWM kB: //p' "$T/slow.out")
bound=$((idle + 2 * 2 * QUEUE_KB + 1024))
echo "bridge (pid $bridge) memory: idle VmRSS ${idle} kB, peak sampled VmRSS ${peak} kB, VmHWM ${hwm} kB, bound ${bound} kB"
if ldd "$SER_BIN" 2>/dev/null | grep -q libasan; then
    # ASan keeps freed memory in quarantine: RSS says nothing about the bridge's bounds there.
    echo "AddressSanitizer build: the memory bound is not checked (measured peak ${peak} kB)"
    kill -0 "$SER_PID" 2>/dev/null || fail "ser died"
    stop_ser
    ok "slow client dropped, fast client complete (memory bound checked in the plain build only)"
    exit 0
fi
[ "$peak" -le "$bound" ] || fail "bridge VmRSS reached ${peak} kB, over ${bound} kB (idle ${idle} kB): memory grew with the slow client"
[ "$hwm" -le "$bound" ] || fail "bridge VmHWM ${hwm} kB, over ${bound} kB (idle ${idle} kB): memory grew with the slow client"
ok "bridge memory bounded: VmHWM ${hwm} kB, $((hwm - idle)) kB over idle (bound ${bound} kB)"
kill -0 "$SER_PID" 2>/dev/null || fail "ser died"
stop_ser
ok "stopped"

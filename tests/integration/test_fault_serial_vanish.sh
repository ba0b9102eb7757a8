#!/bin/sh
# A serial device that vanishes in the middle of a transfer and comes back
# (issue 17, faults under load). Two bridges in one ser, each on a socat pty
# pair, each with a TCP client receiving a stream of numbered lines the device
# sends every 5 ms: device A has keep_clients=yes, device B keep_clients=no.
# Both socats are killed at once (the ptys go away, the bridge reads EIO or a
# hang-up). What ser is designed to do (README "Device faults"): log it, retry
# every reopen_delay; keep A's client connected, close B's. Then new socats
# with the same link paths: each device is reopened without restarting ser,
# and lines flow again to A's same connection and to a new client of B. The
# lines each client got are whole and in increasing order; no child of ser
# died or was replaced; serial.list counts one reopen per device.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

# dev_pair NAME: a socat pty pair, $T/NAME.dev for ser and $T/NAME.peer for
# the device's other end (background peer "pty_NAME"); waits until both exist.
dev_pair() {
    rm -f "$T/$1.dev" "$T/$1.peer"
    bg_start "pty_$1" socat -d -d "pty,raw,echo=0,link=$T/$1.dev" "pty,raw,echo=0,link=$T/$1.peer"
    _i=0; while { [ ! -e "$T/$1.dev" ] || [ ! -e "$T/$1.peer" ]; } && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i+1)); done
    [ -e "$T/$1.dev" ] && [ -e "$T/$1.peer" ] || fail "socat made no pty pair for $1"
}
dev_kill() {
    eval "_p=\$PID_pty_$1"
    /bin/kill -KILL -- "-$_p" 2>/dev/null
    _i=0; while kill -0 "$_p" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i+1)); done
    kill -0 "$_p" 2>/dev/null && fail "socat of $1 still running"
    wait "$_p" 2>/dev/null
    # SIGKILL leaves socat's links behind, dangling: the device is gone.
    [ -e "$T/$1.dev" ] && fail "$T/$1.dev still opens after its socat died"
    return 0
}
wait_for() { # SECS CMD...: CMD every 50 ms until it succeeds, at most SECS
    _n=$(($1 * 20)); shift; _i=0
    while ! "$@" && [ $_i -lt $_n ]; do sleep 0.05; _i=$((_i+1)); done
    "$@"
}
count() { grep -c "$1" "$T/ser.log"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

PA=$(free_port); PB=$(free_port)
[ "$PA" != "$PB" ] || fail "port clash, run again"
dev_pair a
dev_pair b
cat >"$T/ser.cfg" <<CFG
debug=3
ctl_socket="unix:$T/ser.ctl"
serial "$T/a.dev" {
    baudrate=115200;
    listen=tcp:127.0.0.1:$PA;
    keep_clients=yes;
    reopen_delay=300;
}
serial "$T/b.dev" {
    baudrate=115200;
    listen=tcp:127.0.0.1:$PB;
    keep_clients=no;
    reopen_delay=300;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$PA" 10 && wait_port tcp "$PB" 10 || fail "the bridges do not listen"
wait_for 5 sh -c "[ \$(grep -c ': open (' '$T/ser.log') -ge 2 ]" || fail "the devices were not opened"
kids_before=$(ser_children | sort)

# The driver: writes numbered lines to both devices' other ends, reads both
# clients, and reports on stdout. Its commands come on stdin: "reconnect b"
# (a new client of B), "end". A write error on a device (its pty went away)
# closes it and reopens the peer path every 50 ms until it is back.
cat >"$T/drive.py" <<'PY'
import os, select, socket, sys, time, errno
pa, pb, peer_a, peer_b = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = lambda *a: (print(*a), sys.stdout.flush())
class Dev:
    def __init__(s, name, path):
        s.name, s.path, s.fd, s.seq, s.next_try = name, path, None, 0, 0
        s.epoch = 0
    def write(s, now):
        if s.fd is None:
            if now < s.next_try:
                return
            try:
                s.fd = os.open(s.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                s.epoch += 1
                out("device", s.name, "back, epoch", s.epoch)
            except OSError:
                s.next_try = now + 0.05
                return
        line = b"%s %d %d\n" % (s.name.encode(), s.epoch, s.seq)
        try:
            os.write(s.fd, line)
            s.seq += 1
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return
            out("device", s.name, "write failed:", e.strerror)
            os.close(s.fd)
            s.fd = None
            s.next_try = now + 0.05
        # Reads what the bridge sent to the device (nothing here) so the pty never fills.
        try:
            if s.fd is not None:
                os.read(s.fd, 4096)
        except OSError:
            pass
class Client:
    def __init__(s, name, port):
        s.name, s.sock, s.buf = name, socket.create_connection(("127.0.0.1", port), timeout=5), b""
        s.sock.setblocking(False)
        s.lines, s.last, s.bad, s.eof, s.by_epoch = 0, None, 0, False, {}
    def read(s):
        try:
            d = s.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            d = b""
        if not d:
            s.eof = True
            out("client", s.name, "closed by the bridge after", s.lines, "lines")
            return
        s.buf += d
        while b"\n" in s.buf:
            ln, s.buf = s.buf.split(b"\n", 1)
            f = ln.split(b" ")
            key = None
            if len(f) == 3 and f[1].isdigit() and f[2].isdigit():
                key = (int(f[1]), int(f[2]))
            if key is None or (s.last is not None and key <= s.last):
                s.bad += 1
                continue
            s.last = key
            s.lines += 1
            s.by_epoch[key[0]] = s.by_epoch.get(key[0], 0) + 1
devs = [Dev("a", peer_a), Dev("b", peer_b)]
clients = {"a": Client("a", pa), "b": Client("b", pb)}
t0 = time.time()
next_write, stats_at = 0, 0
while time.time() - t0 < 40:
    now = time.time()
    if now >= next_write:
        for d in devs:
            d.write(now)
        next_write = now + 0.005
    socks = [c.sock for c in clients.values() if not c.eof]
    r, _, _ = select.select(socks + [sys.stdin], [], [], 0.005)
    for c in list(clients.values()):
        if not c.eof and c.sock in r:
            c.read()
    if sys.stdin in r:
        cmd = sys.stdin.readline().strip()
        if cmd == "reconnect b":
            clients["b2"] = Client("b2", pb)
            out("client b2 connected")
        elif cmd == "end" or cmd == "":
            break
    if now >= stats_at:
        for c in clients.values():
            out("stat", c.name, c.lines, c.bad, int(c.eof), " ".join("%d:%d" % kv for kv in sorted(c.by_epoch.items())))
        stats_at = now + 0.1
for c in clients.values():
    out("final", c.name, c.lines, c.bad, int(c.eof), " ".join("%d:%d" % kv for kv in sorted(c.by_epoch.items())))
PY
mkfifo "$T/drive.in"
bg_start drive sh -c "timeout 50 python3 '$T/drive.py' $PA $PB '$T/a.peer' '$T/b.peer' <'$T/drive.in'"
exec 7>"$T/drive.in"
# stat NAME FIELD: the driver's last report for client NAME (2 lines, 3 bad, 4 eof, 5.. epochs)
stat() { grep "^stat $1 " "$T/drive.log" | tail -n 1 | cut -d' ' -f"$2"; }
epoch_lines() { grep "^stat $1 " "$T/drive.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2://p"; }
more_than() { [ "$(stat "$1" 3)" -gt "$2" ] 2>/dev/null; }
wait_for 10 more_than a 100 && wait_for 5 more_than b 100 || fail "the stream did not start: $(tail -n 3 "$T/drive.log")"
ok "the clients receive the devices' streams: a $(stat a 3) lines, b $(stat b 3)"

# ---- both devices vanish mid-stream ----
n_gone=$(count "reopening in 300 ms")
t_gone=$(now_ms)
dev_kill a
dev_kill b
wait_for 5 sh -c "[ \$(grep -c 'reopening in 300 ms' '$T/ser.log') -ge $((n_gone + 2)) ]" ||
    fail "the bridges did not log both devices going away: $(grep 'serial ' "$T/ser.log" | tail -n 4)"
grep "serial $T/a.dev: .*reopening in 300 ms" "$T/ser.log" | tail -n 1
grep "serial $T/b.dev: .*reopening in 300 ms" "$T/ser.log" | tail -n 1
grep -q "serial $T/a.dev: .*reopening in 300 ms" "$T/ser.log" || fail "no log for device a"
grep -q "serial $T/b.dev: .*reopening in 300 ms" "$T/ser.log" || fail "no log for device b"
eof_b() { [ "$(stat b 5)" = 1 ]; }
wait_for 3 eof_b || fail "keep_clients=no: the client of b was not closed"
grep -q "serial device $T/b.dev went away" "$T/ser.log" || fail "no log line for b's client being closed"
ok "keep_clients=no: b's client closed ($(stat b 3) lines received), logged"
# a's client is kept while the device is away, through several reopen attempts.
sleep 1   # the time the device stays away: not a synchronisation
r=$(rpc "$T/ser.ctl" serial.list)
jget "$r" "[(d['device'].split('/')[-1], d['state'], d['reopens'], len(d['clients'])) for d in r['result']]"
[ "$(jget "$r" "[d['state'] for d in r['result']] == ['closed', 'closed']")" = True ] || fail "serial.list: $r"
[ "$(jget "$r" "len(r['result'][0]['clients'])")" = 1 ] || fail "keep_clients=yes: a's client is not listed while the device is away: $r"
[ "$(stat a 5)" = 0 ] || fail "keep_clients=yes: a's client was closed"
[ "$(grep -c "serial $T/a.dev: .*reopening\|serial $T/a.dev: .*retrying" "$T/ser.log")" -ge 1 ] || fail "no retry logged for a"
ok "keep_clients=yes: a's client stays connected while the device is away ($(stat a 3) lines so far)"

# ---- the devices come back, same link paths ----
n_open=$(count ': open (')
dev_pair a
dev_pair b
t_back=$(now_ms)
wait_for 5 sh -c "[ \$(grep -c ': open (' '$T/ser.log') -ge $((n_open + 2)) ]" ||
    fail "the devices were not reopened: $(grep 'serial ' "$T/ser.log" | tail -n 4)"
t_open=$(now_ms)
echo "reconnect b" >&7
a_back() { [ "$(epoch_lines a 2)" -gt 50 ] 2>/dev/null; }
b2_back() { [ "$(epoch_lines b2 2)" -gt 50 ] 2>/dev/null; }
wait_for 10 a_back || fail "no data reached a's kept client after the device came back: $(grep '^stat a ' "$T/drive.log" | tail -n 1)"
t_flow=$(now_ms)
wait_for 10 b2_back || fail "no data reached a new client of b: $(grep '^stat b2 ' "$T/drive.log" | tail -n 1)"
echo "end" >&7
exec 7>&-
wait_for 5 sh -c "grep -q '^final b2 ' '$T/drive.log'" || fail "the driver did not end"
grep '^final\|^device\|^client' "$T/drive.log"
echo "device away $((t_back - t_gone)) ms; both reopened $((t_open - t_back)) ms after they were back (reopen_delay=300);" \
     "lines again at a's kept client after $((t_flow - t_back)) ms"
[ $((t_open - t_back)) -le 1000 ] || fail "reopened only $((t_open - t_back)) ms after the device came back"
for c in a b b2; do
    [ "$(grep "^final $c " "$T/drive.log" | cut -d' ' -f4)" = 0 ] || fail "client $c got malformed or out-of-order lines"
done
[ "$(grep '^final a ' "$T/drive.log" | cut -d' ' -f5)" = 0 ] || fail "a's client was closed"
ok "a's kept client and b's new client receive the stream again, whole lines in order, ser not restarted"

kill -0 "$SER_PID" || fail "ser died"
kids_after=$(ser_children | sort)
[ "$kids_before" = "$kids_after" ] || fail "children changed: before $kids_before, after $kids_after"
grep -q 'killed by signal\|exited with' "$T/ser.log" && fail "a child died: $(grep 'killed by signal\|exited with' "$T/ser.log")"
r=$(rpc "$T/ser.ctl" serial.list)
[ "$(jget "$r" "[(d['state'], d['reopens']) for d in r['result']] == [('open', 1), ('open', 1)]")" = True ] ||
    fail "serial.list after the return: $(jget "$r" "[(d['state'], d['reopens']) for d in r['result']]")"
stop_ser
ok "no child died or was replaced; serial.list: both open, 1 reopen each"

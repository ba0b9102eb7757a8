#!/bin/sh
# RFC 2217 on a serial block, driven by a client nobody here wrote: pyserial's
# rfc2217:// handler, over TCP and (TLS builds) over TLS through a socat
# OPENSSL client in front of the bridge's tls listener.
#
# The device is a pty the test's python helper opens itself (os.openpty), so
# that it holds the device's own side (the slave) open and can read the line
# settings of the very tty the bridge holds with TIOCEXCL (TCGETS2 on its fd:
# termios lives in the tty, whoever asks). What a pty takes: any baud rate
# and the stop bits; the kernel's pty driver forces CS8 and clears PARENB
# whatever is asked (PARODD and CMSPAR are kept). So an odd-parity request
# reaches the pty (PARODD is set there) but the line has no parity, and the
# bridge says so: pyserial reports the value as rejected. Full parity
# handling is covered by the unit tests (tests/unit/serial/test_rfc2217.cpp).
#
# Shown here: negotiation; baud rate at open and changed later; stop bits;
# parity answered truthfully; DTR/RTS requests answered (a pty has no modem
# lines) and the NOTIFY-MODEMSTATE pyserial waits for; 0xFF data both ways,
# through pyserial and on the wire (IAC IAC); the block's settings restored
# when the last RFC 2217 client leaves; the same over TLS.
if [ "${SER_TLS:-0}" = 1 ]; then . "$(dirname "$0")/tls_lib.sh"; else . "$(dirname "$0")/lib.sh"; fi
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

# A python with pyserial (Debian's python3-serial), asked from $T: the
# repository's serial/ directory must not shadow the package.
PY=""
for p in ${PYTHON:-} /usr/bin/python3 python3; do
    if (cd "$T" && "$p" -c 'import serial.rfc2217' 2>/dev/null); then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "no python3 with pyserial (python3-serial)"; exit 77; }

cat >"$T/dev.py" <<'PY'
# The device (a pty of our own) and the RFC 2217 client, in one bounded script.
import fcntl, os, select, socket, struct, sys, termios, time, tty
import serial

T = sys.argv[1]
TCGETS2 = 0x802C542A            # _IOR('T', 0x2A, struct termios2), x86-64 and arm64
PARENB, PARODD, CSTOPB = termios.PARENB, termios.PARODD, termios.CSTOPB

master, slave = os.openpty()
tty.setraw(slave)
os.symlink(os.ttyname(slave), T + "/dev")

def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)

def ok(msg):
    print("ok: " + msg, flush=True)

def line():
    """(cflag, ospeed) of the device, read on our own fd of the same tty."""
    buf = fcntl.ioctl(slave, TCGETS2, bytes(44))
    f = struct.unpack("<IIIIB19sII", buf)
    return f[2], f[7]

def until(what, cond, secs=5):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    fail(what)

def read_master(n, secs=5):
    got = b""
    end = time.monotonic() + secs
    while len(got) < n and time.monotonic() < end:
        r, _, _ = select.select([master], [], [], max(0, end - time.monotonic()))
        if r:
            got += os.read(master, n - len(got))
    return got

# The shell starts ser once the device exists, then says where it listens.
deadline = time.monotonic() + 20
while not os.path.exists(T + "/go"):
    if time.monotonic() > deadline:
        fail("ser was not started")
    time.sleep(0.02)
ports = open(T + "/go").read().split()
port = int(ports[0])

def url(p):
    return "rfc2217://127.0.0.1:%d?timeout=5" % p

# --- TCP: settings, honest answers, 0xFF both ways ---
s = serial.serial_for_url(url(port), baudrate=19200, timeout=5)
until("19200 baud did not reach the device: %r" % (line(),), lambda: line()[1] == 19200)
ok("pyserial negotiated RFC 2217 and 19200 baud reached the pty (TCGETS2 on the device)")

s.baudrate = 57600
if line()[1] != 57600:
    fail("57600 baud did not reach the device: %r" % (line(),))
s.stopbits = serial.STOPBITS_TWO
if not line()[0] & CSTOPB:
    fail("two stop bits did not reach the device")
ok("a baud rate change (57600) and two stop bits reached the pty while connected")

try:
    s.parity = serial.PARITY_ODD
    fail("odd parity was acknowledged, but a pty cannot have parity: cflag %o" % line()[0])
except ValueError as e:
    if "parity" not in str(e):
        fail("unexpected error for parity: %s" % e)
cflag = line()[0]
if not cflag & PARODD or cflag & PARENB:
    fail("expected PARODD set and PARENB cleared by the pty, cflag %o" % cflag)
ok("odd parity reached the pty (PARODD set; the pty driver clears PARENB) and the bridge told the client so")
s.parity = serial.PARITY_NONE

if s.cts or s.dsr or s.cd:
    fail("a pty has no modem lines, yet they read as up")
s.dtr = False
s.rts = False
s.dtr = True
ok("NOTIFY-MODEMSTATE arrived (all lines off on a pty); DTR/RTS requests were answered")

s.write(b"\xff\x00\xffZ")
got = read_master(4)
if got != b"\xff\x00\xffZ":
    fail("client to device: %r" % got)
os.write(master, b"A\xff\xffB\xff")
got = s.read(5)
if got != b"A\xff\xffB\xff":
    fail("device to client: %r" % got)
ok("0xFF bytes pass both ways through pyserial")
s.close()
until("the block's 9600 baud was not restored after the last client left: %r" % (line(),),
      lambda: line()[1] == 9600)
ok("the last RFC 2217 client gone, the device is back at the configured 9600 baud")

# --- the wire itself: IAC doubled by the bridge, undoubled from the client ---
c = socket.create_connection(("127.0.0.1", port), timeout=5)
c.sendall(b"\xff\xfb\x2c")                      # IAC WILL COM-PORT-OPTION
notify = b"\xff\xfa\x2c\x6b\x00\xff\xf0"        # NOTIFY-MODEMSTATE 0 once it is on
buf = b""
end = time.monotonic() + 5
while notify not in buf and time.monotonic() < end:
    buf += c.recv(256)
if b"\xff\xfd\x2c" not in buf or notify not in buf:
    fail("no DO COM-PORT-OPTION / modem state from the bridge: %r" % buf)
os.write(master, b"\xff")
rest = buf.split(notify, 1)[1]
while len(rest) < 2 and time.monotonic() < end:
    rest += c.recv(16)
if rest[:2] != b"\xff\xff":
    fail("a device 0xFF was not sent as IAC IAC: %r" % rest)
c.sendall(b"\xff\xffE")
got = read_master(2)
if got != b"\xffE":
    fail("IAC IAC from the client did not reach the device as one 0xFF: %r" % got)
c.close()
ok("on the wire: a device 0xFF leaves as IAC IAC, a client IAC IAC arrives as one 0xFF")

# --- TLS, through socat in front ---
if len(ports) > 1:
    s = serial.serial_for_url(url(int(ports[1])), baudrate=38400, timeout=5)
    until("38400 baud over TLS did not reach the device", lambda: line()[1] == 38400)
    s.write(b"\xffT")
    got = read_master(2)
    if got != b"\xffT":
        fail("TLS: client to device: %r" % got)
    os.write(master, b"\xffU")
    got = s.read(2)
    if got != b"\xffU":
        fail("TLS: device to client: %r" % got)
    s.close()
    ok("over TLS (socat OPENSSL client in front): 38400 baud reached the pty, 0xFF both ways")
print("done", flush=True)
PY

bg_start dev timeout 90 "$PY" "$T/dev.py" "$T"
i=0; while [ ! -e "$T/dev" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$T/dev" ] || fail "the python helper made no pty: $(cat "$T/dev.log")"

P=$(free_port)
TLS_LINES="" TLS_LISTEN=""
if [ "${SER_TLS:-0}" = 1 ]; then
    certs_ca "$CERTS"
    cert_server localhost --dns localhost --ip 127.0.0.1
    cert_client alice
    PT=$(free_port); P2=$(free_port)
    [ "$P" = "$PT" ] || [ "$P" = "$P2" ] || [ "$PT" = "$P2" ] && fail "port clash, run again"
    TLS_LINES="tls_certificate=\"$CERTS/localhost.pem\"
tls_private_key=\"$CERTS/localhost.key\"
tls_ca_list=\"$CERTS/ca.pem\"
tls_verify=1
tls_require_certificate=1"
    TLS_LISTEN="listen=tls:127.0.0.1:$PT;"
fi
cat >"$T/ser.cfg" <<CFG
debug=3
$TLS_LINES
serial "$T/dev" {
    baudrate=9600;
    listen=tcp:127.0.0.1:$P;
    $TLS_LISTEN
    rfc2217=yes;
    reopen_delay=200;
}
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "ser -c refuses rfc2217=yes"; }
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "the bridge does not listen on $P"
i=0; while ! grep -q "serial $T/dev: open" "$T/ser.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q "serial $T/dev: open" "$T/ser.log" || fail "the bridge did not open the pty"

GO="$P"
if [ "${SER_TLS:-0}" = 1 ]; then
    wait_port tcp "$PT" 10 || fail "the bridge does not listen on tls $PT"
    bg_start tlswrap socat TCP-LISTEN:"$P2",bind=127.0.0.1,reuseaddr,fork \
        OPENSSL:127.0.0.1:"$PT",cafile="$CERTS/ca.pem",cert="$CERTS/alice.pem",key="$CERTS/alice.key",commonname=localhost
    wait_port tcp "$P2" 10 || fail "the socat TLS wrapper did not start: $(cat "$T/tlswrap.log")"
    GO="$P $P2"
fi
echo "$GO" >"$T/go.tmp" && mv "$T/go.tmp" "$T/go"

wait "$PID_dev"; rc=$?
cat "$T/dev.log"
[ $rc = 0 ] && grep -q '^done$' "$T/dev.log" || fail "the RFC 2217 client run failed (exit $rc)"
grep -q "ERROR\|CRIT" "$T/ser.log" && fail "ser logged an error: $(grep 'ERROR\|CRIT' "$T/ser.log" | head -n 3)"
stop_ser
ok "RFC 2217 over TCP$([ "${SER_TLS:-0}" = 1 ] && echo ' and TLS') with pyserial"

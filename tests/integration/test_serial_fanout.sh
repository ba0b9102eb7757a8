#!/bin/sh
# The serial bridge's fan-out under load, on a socat pty pair: 10 MB from the
# device reach 4 clients over TCP and 4 over TLS with client certificates
# (tls_verify=1, tls_require_certificate=1), every byte in order (sha256 of
# what each client got = sha256 of what the device sent); then bytes from
# each of the 8 clients reach the device. No client may be dropped on the way.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"
command -v python3 >/dev/null || skip "python3 not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
PP=$(free_port); PT=$(free_port)
[ "$PP" != "$PT" ] || fail "port clash, run again"
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
serial "$T/dev" {
    listen=tcp:127.0.0.1:$PP;
    listen=tls:127.0.0.1:$PT;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$PP" 10 || fail "the bridge does not listen on $PP"
wait_port tcp "$PT" 10 || fail "the bridge does not listen on $PT"
log_wait "$T/ser.log" "serial $T/dev: open" 1 5 || fail "the device was not opened"

# One bounded driver: the device's other end and the 8 clients. It waits for
# the bridge to log all 8 clients as connected (a TLS 1.3 client is done with
# its handshake before the server is, and the bridge sends only to clients
# whose handshake is over). The writer keeps at most WINDOW bytes ahead of the
# slowest client: the driver is one python thread reading 8 sockets, and the
# bridge rightly drops a client that falls client_queue behind; this test is
# about order and completeness, test_serial_slow_client.sh about the drop.
cat >"$T/fanout.py" <<'PY'
import hashlib, os, select, socket, ssl, sys, time
pp, pt, peer, certs, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
SIZE, WINDOW = 10 * 1024 * 1024, 1024 * 1024
deadline = time.time() + 25
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=certs + "/ca.pem")
ctx.load_cert_chain(certs + "/alice.pem", certs + "/alice.key")
clients = []
for i in range(4):
    clients.append(("tcp%d" % i, socket.create_connection(("127.0.0.1", pp), timeout=5)))
for i in range(4):
    raw = socket.create_connection(("127.0.0.1", pt), timeout=5)
    clients.append(("tls%d" % i, ctx.wrap_socket(raw, server_hostname="127.0.0.1")))
while b"connected (8 now)" not in open(log, "rb").read():
    if time.time() > deadline:
        sys.exit("the bridge never had 8 clients connected")
    time.sleep(0.05)
for _, s in clients:
    s.setblocking(False)
data = os.urandom(SIZE)
want = hashlib.sha256(data).hexdigest()
got = {n: 0 for n, _ in clients}
h = {n: hashlib.sha256() for n, _ in clients}
eof = set()
sent = 0
def drain(name, s):
    while True:
        try:
            b = s.recv(1 << 20)
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except (ConnectionError, ssl.SSLError) as e:
            print("%s: %s" % (name, e)); eof.add(name); return
        if not b:
            eof.add(name); return
        got[name] += len(b)
        h[name].update(b)
while min(got.values()) < SIZE and len(eof) < len(clients) and time.time() < deadline:
    if sent < SIZE and sent - min(got.values()) < WINDOW:
        try:
            sent += os.write(dev, data[sent:sent + 65536])
        except BlockingIOError:
            pass
    live = [(n, s) for n, s in clients if n not in eof]
    r, _, _ = select.select([s for _, s in live], [], [], 0.005)
    for n, s in live:
        if s in r or (isinstance(s, ssl.SSLSocket) and s.pending()):
            drain(n, s)
print("device wrote %d bytes" % sent)
for n, _ in clients:
    print("client %s: %d bytes, sha256 %s" % (n, got[n], "same" if h[n].hexdigest() == want else "DIFFERENT"))
# Client -> device: each client says who it is; the device must hear all 8.
for n, s in clients:
    s.setblocking(True)
    s.sendall(b"<hello from %s>" % n.encode())
heard = b""
end = time.time() + 5
while time.time() < min(end, deadline):
    if all(b"<hello from %s>" % n.encode() in heard for n, _ in clients):
        break
    r, _, _ = select.select([dev], [], [], 0.05)
    if r:
        heard += os.read(dev, 65536)
for n, _ in clients:
    print("device heard %s: %s" % (n, b"<hello from %s>" % n.encode() in heard))
for _, s in clients:
    s.close()
PY
start=$(date +%s)
timeout 40 python3 "$T/fanout.py" "$PP" "$PT" "$T/peer" "$CERTS" "$T/ser.log" >"$T/fanout.out" 2>&1 ||
    { cat "$T/fanout.out"; fail "the driver failed"; }
cat "$T/fanout.out"
secs=$(( $(date +%s) - start ))
grep -q "write queue to .* over" "$T/ser.log" && fail "the bridge dropped a client that was reading: $(grep 'write queue to' "$T/ser.log" | head -n 3)"
for c in tcp0 tcp1 tcp2 tcp3 tls0 tls1 tls2 tls3; do
    grep -q "client $c: 10485760 bytes, sha256 same" "$T/fanout.out" ||
        fail "client $c did not get the device's 10 MB intact and in order: $(grep "client $c:" "$T/fanout.out")"
done
ok "10 MB from the device reached 4 TCP and 4 TLS clients (client certificates), each byte in order (${secs}s)"
for c in tcp0 tcp1 tcp2 tcp3 tls0 tls1 tls2 tls3; do
    grep -q "device heard $c: True" "$T/fanout.out" || fail "bytes from client $c did not reach the device"
done
ok "bytes from each of the 8 clients reached the device"
kill -0 "$SER_PID" 2>/dev/null || fail "ser died"
stop_ser
ok "stopped"

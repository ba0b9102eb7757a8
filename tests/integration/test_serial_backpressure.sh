#!/bin/sh
# A device slower than its clients loses nothing: 2 MB from one client (TCP)
# and 2 MB from another (TLS) while the device's side reads nothing for a
# second, so the pty and the bridge's device queue fill up. The bridge holds
# its clients (stops reading them; TCP flow control stops the senders) instead
# of dropping bytes, and every byte then reaches the device, each client's in
# order (framing=line keeps each line whole; the lines carry client and number).
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
P=$(free_port)
PT=$(free_port)
pty_pair
cat >"$T/ser.cfg" <<CFG
debug=3
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
serial "$T/dev" {
    listen=tcp:127.0.0.1:$P;
    listen=tls:127.0.0.1:$PT;
    framing=line;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P" 10 || fail "the bridge does not listen on $P"
log_wait "$T/ser.log" "serial $T/dev: open" 1 5 || fail "the device was not opened"

cat >"$T/drive.py" <<'PY'
import os, socket, ssl, sys, threading, time, termios
port, tport, peer, certs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY)
ctx = ssl.create_default_context(cafile=certs + "/ca.pem")
ctx.load_cert_chain(certs + "/alice.pem", certs + "/alice.key")
plain = socket.create_connection(("127.0.0.1", port), timeout=30)
tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tport), timeout=30), server_hostname="localhost")
N = 20000   # lines of ~100 bytes per client: about 2 MB each
def lines(tag):
    return b"".join(b"%s %06d %s\n" % (tag, i, b"x" * 88) for i in range(N))
data = {b"tcp": lines(b"tcp"), b"tls": lines(b"tls")}
errs = []
def send(s, tag):
    try:
        s.sendall(data[tag])
    except Exception as e:
        errs.append("%s: %r" % (tag, e))
ts = [threading.Thread(target=send, args=(plain, b"tcp")), threading.Thread(target=send, args=(tls, b"tls"))]
for t in ts: t.start()
time.sleep(1.0)   # the device side reads nothing: everything backs up (this is the load, not a wait for readiness)
want = len(data[b"tcp"]) + len(data[b"tls"])
got = bytearray()
deadline = time.time() + 60
while len(got) < want and time.time() < deadline:
    import select
    r, _, _ = select.select([dev], [], [], 0.5)
    if r:
        got += os.read(dev, 65536)
for t in ts: t.join(5)
print("sent", want, "got", len(got), "errors", errs)
seen = {b"tcp": [], b"tls": []}
bad = 0
for line in bytes(got).split(b"\n")[:-1]:
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] not in seen or parts[2] != b"x" * 88:
        bad += 1
        continue
    seen[parts[0]].append(int(parts[1]))
ok = len(got) == want and bad == 0 and all(seen[k] == list(range(N)) for k in seen)
print("whole lines in order:", ok, "bad lines:", bad)
sys.exit(0 if ok else 1)
PY
timeout 90 python3 "$T/drive.py" "$P" "$PT" "$T/peer" "$CERTS" >"$T/drive.out" 2>&1 ||
    fail "bytes were lost or mixed on the way to a slow device: $(cat "$T/drive.out")"
cat "$T/drive.out"
grep -q "dropped" "$T/ser.log" && fail "the bridge dropped bytes: $(grep dropped "$T/ser.log")"
stop_ser
ok "a slow device holds its clients back and loses nothing (TCP and TLS, whole lines, in order)"

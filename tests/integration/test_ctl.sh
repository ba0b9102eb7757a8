#!/bin/sh
# The control socket: mode 0600 (another user cannot connect), JSON-RPC
# errors for every kind of bad request and never a crash, a request over
# ctl_max_request answered and closed, a stuck client neither blocking the
# others nor living past ctl_timeout, ctl_max_clients, a second ser on the
# same socket refused, and GET /metrics checked by promtool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

P=$(free_port)
M=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
listen=udp:127.0.0.1:$P
ctl_socket="unix:$T/run/ser.ctl"
ctl_max_clients=3
ctl_timeout=2
ctl_max_request=2048
metrics_listen="127.0.0.1:$M"
route { sl_send_reply("404", "Not here"); }
CFG
start_ser "$T/ser.cfg"
S="$T/run/ser.ctl"
i=0; while [ ! -S "$S" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -S "$S" ] || fail "no control socket at $S"
[ "$(stat -c '%a %U' "$S")" = "600 root" ] || fail "the socket is $(stat -c '%a %U' "$S"), not 600 root"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups python3 "$T/ctl_rpc.py" "$S" core.version 2>&1) &&
    fail "user nobody could use the control socket: $out"
echo "$out" | grep -q "Permission denied" || fail "nobody was refused, but not by permissions: $out"
ok "the control socket is 0600 root and another user is refused"

r=$(rpc "$S" core.version)
[ "$(jget "$r" 'r["result"]["version"] != "" and r["result"]["openssl"].startswith("OpenSSL")')" = True ] ||
    fail "core.version: $r"
r=$(rpc "$S" system.listMethods)
for m in core.version core.uptime core.ps core.shmmem tcp.list tls.list tls.info tls.reload serial.list stats \
    stats.reset conn.close log.level metrics; do
    [ "$(jget "$r" "'$m' in [x['name'] for x in r['result']]")" = True ] || fail "system.listMethods lacks $m: $r"
done
ok "core.version names OpenSSL; system.listMethods lists every command"

# Bad requests: each gets its JSON-RPC error, on one connection that stays up.
cat >"$T/bad.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rwb")
cases = [
    (b'{"jsonrpc":"2.0","method":"core.version"', -32700),
    (b'[1,2]', None),
    (b'"just a string"', -32600),
    (b'{"jsonrpc":"1.0","method":"core.version","id":1}', -32600),
    (b'{"jsonrpc":"2.0","method":7,"id":1}', -32600),
    (b'{"jsonrpc":"2.0","method":"no.such","id":1}', -32601),
    (b'{"jsonrpc":"2.0","method":"conn.close","params":["x"],"id":1}', -32602),
    (b'{"jsonrpc":"2.0","method":"conn.close","id":1}', -32602),
    (b'{"jsonrpc":"2.0","method":"log.level","params":[99],"id":1}', -32602),
    (b'\xff\xfe not utf-8', -32700),
    (b'{"jsonrpc":"2.0","method":"core.uptime","id":{"no":"objects"}}', -32600),
]
bad = 0
for req, code in cases:
    f.write(req + b"\n"); f.flush()
    r = json.loads(f.readline())
    if code is None:   # a batch of two non-objects: two errors
        okay = isinstance(r, list) and len(r) == 2 and all(x["error"]["code"] == -32600 for x in r)
    else:
        okay = isinstance(r, dict) and r.get("error", {}).get("code") == code
    if not okay:
        bad += 1
        print("unexpected answer to", req, ":", r)
# A notification gets no answer; the next request still does.
f.write(b'{"jsonrpc":"2.0","method":"core.uptime"}\n{"jsonrpc":"2.0","method":"core.uptime","id":"x"}\n'); f.flush()
r = json.loads(f.readline())
if r.get("id") != "x":
    bad += 1
    print("a notification was answered:", r)
print("bad", bad)
sys.exit(1 if bad else 0)
PY
python3 "$T/bad.py" "$S" >"$T/bad.out" 2>&1 || fail "bad requests: $(cat "$T/bad.out")"
kill -0 "$SER_PID" || fail "ser died of bad requests"
ok "malformed requests get JSON-RPC errors (parse, invalid, no method, bad params), notifications none"

# Over ctl_max_request: an error, then the connection is closed.
cat >"$T/big.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","method":"core.version","params":["' + b"x" * 5000 + b'"],"id":1}\n')
buf = b""
while True:
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        break
    if not d:
        break
    buf += d
r = json.loads(buf.split(b"\n")[0])
print(r)
sys.exit(0 if r["error"]["code"] == -32600 and "ctl_max_request" in r["error"]["message"] else 1)
PY
timeout 10 python3 "$T/big.py" "$S" >"$T/big.out" 2>&1 || fail "an oversized request: $(cat "$T/big.out")"
ok "a request over ctl_max_request gets an error and the connection ends"

# A stuck client (half a request, then nothing) blocks nobody and is closed
# after ctl_timeout=2; meanwhile two more clients fill ctl_max_clients=3 and
# a fourth is refused.
cat >"$T/stuck.py" <<'PY'
import json, socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s
stuck = conn()
stuck.sendall(b'{"jsonrpc":"2.0","met')
t0 = time.time()
other = conn()
other.sendall(b'{"jsonrpc":"2.0","method":"core.uptime","id":1}\n')
r = json.loads(other.makefile("rb").readline())
answered = "result" in r and time.time() - t0 < 1.0
third = conn()
fourth = conn()
try:
    refused = fourth.recv(1) == b""
except (ConnectionResetError, socket.timeout):
    refused = True
stuck.settimeout(6)
try:
    closed = stuck.recv(1) == b""
except ConnectionResetError:
    closed = True
took = time.time() - t0
print("answered while stuck:", answered, "fourth refused:", refused, "stuck closed after %.1f s" % took)
sys.exit(0 if answered and refused and closed and 1.5 < took < 4.5 else 1)
PY
timeout 20 python3 "$T/stuck.py" "$S" >"$T/stuck.out" 2>&1 || fail "stuck client: $(cat "$T/stuck.out")"
cat "$T/stuck.out"
grep -q "ctl_max_clients=3" "$T/ser.log" || fail "the refusal at ctl_max_clients was not logged"
ok "a stuck client blocks nobody and is closed after ctl_timeout; ctl_max_clients refuses one more"

# The same socket for a second ser: refused at start, with the reason.
P2=$(free_port)
sed -e "s/127.0.0.1:$P/127.0.0.1:$P2/" -e "s/127.0.0.1:$M/127.0.0.1:$(free_port)/" "$T/ser.cfg" >"$T/ser2.cfg"
out=$(timeout 10 "$SER_BIN" -D -E -f "$T/ser2.cfg" 2>&1) && fail "a second ser started on the same control socket"
echo "$out" | grep -q "in use by another running ser" || fail "the second ser gave no clear reason: $out"
[ -S "$S" ] || fail "the second ser removed the first one's socket"
ok "a second ser on the same ctl_socket is refused and leaves the first one's socket"

# /metrics over HTTP, checked by a real parser.
curl -sf "http://127.0.0.1:$M/metrics" >"$T/metrics.txt" || fail "GET /metrics failed"
grep -q '^ser_connections_closed_total{reason="peer"}' "$T/metrics.txt" || fail "no close reasons in the metrics"
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
    ok "GET /metrics passes promtool check metrics"
else
    echo "promtool not installed: the metrics text was not checked by it"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M/other")
[ "$code" = 404 ] || fail "GET /other gave $code, not 404"
r=$(rpc "$S" metrics)
jget "$r" 'r["result"]' >"$T/metrics2.txt"
grep -q '^# TYPE ser_requests_received_total counter' "$T/metrics2.txt" || fail "the metrics method: $r"
ok "/other is 404; the metrics method gives the same text"

stop_ser
[ -e "$S" ] && fail "the control socket was left behind at stop"
ok "the control socket is removed at stop"

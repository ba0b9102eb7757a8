#!/bin/sh
# A flood of the same fault is rate-limited in the log (per process): 200 TLS
# clients within a second that refuse ser's certificate (they trust no CA of
# it: a fault ser logs as an error, since it is ours to fix) leave at most 10
# "closing" errors a second, then one "last message repeated N times" line;
# and 200 malformed requests at debug=3 leave at most 10 info lines a second.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
PT=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=2
tcp_children=1
ctl_socket="none"
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
listen=tls:127.0.0.1:$PT
route { drop; }
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$PT" 10 || fail "ser does not listen on $PT"
cat >"$T/flood.py" <<'PY'
import socket, ssl, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.create_default_context()   # the system's CAs: ser's test CA is not among them
ctx.check_hostname = False
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        ctx.wrap_socket(s).close()
    except (OSError, ssl.SSLError):
        pass
    s.close()
print("%.2f" % (time.time() - t0))
PY
took=$(timeout 60 python3 "$T/flood.py" "$PT" 200) || fail "the flood did not run"
log_wait "$T/ser.log" "ERROR: conn [0-9]*: closing: handshake with .*alert unknown ca" 1 5 ||
    fail "no handshake failure was logged as an error: $(tail -n 3 "$T/ser.log")"
sleep 1.2   # the limit's window (1 s) must end before the summary can be said (the load, not readiness)
timeout 10 python3 "$T/flood.py" "$PT" 1 >/dev/null
log_wait "$T/ser.log" "last message repeated [0-9]* times" 1 5 ||
    fail "no 'repeated' line after the flood: $(tail -n 5 "$T/ser.log")"
n=$(grep -c "closing: handshake with" "$T/ser.log")
secs=$(python3 -c "import math; print(math.ceil($took) + 2)")
held=$(sed -n 's/.*last message repeated \([0-9]*\) times.*/\1/p' "$T/ser.log" | awk '{s+=$1} END{print s+0}')
echo "200 faults in ${took}s: $n lines written, $held said as repeated"
[ "$n" -le $((10 * secs * 2)) ] || fail "$n error lines for 200 faults in ${took}s: not limited"
# One worker: every fault is either a line or counted in its repeated line.
[ $((n + held)) -eq 201 ] || fail "lines written ($n) and held ($held) do not account for 200 + 1 faults"
stop_ser
ok "a flood of one fault is limited to 10 lines a second per site and the rest is counted in a repeated line"

# Info lines a peer causes at will are limited too: 200 malformed requests
# (each answered with a 400) at debug=3 leave at most 10 "invalid request"
# lines a second, then a "repeated" line; every one of them is still answered.
PU=$(free_port)
cat >"$T/inv.cfg" <<CFG
debug=3
children=1
tcp_children=1
ctl_socket="none"
listen=udp:127.0.0.1:$PU
route { drop; }
CFG
"$SER_BIN" -D -E -f "$T/inv.cfg" >"$T/inv.log" 2>&1 &
SER_PID=$!
wait_port udp "$PU" 10 || fail "ser does not listen on udp $PU"
cat >"$T/inv.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = s.getsockname()[1]
got = 0
t0 = time.time()
for i in range(n):
    m = ("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-f%d\r\n"
         "From: <sip:a@b>;tag=%d\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: flood-%d\r\nCSeq: x OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n" % (me, i, i, i))
    s.sendto(m.encode(), ("127.0.0.1", port))
    try:
        if s.recv(4096).startswith(b"SIP/2.0 400"):
            got += 1
    except OSError:
        pass
print("%d %.2f" % (got, time.time() - t0))
PY
set -- $(timeout 60 python3 "$T/inv.py" "$PU" 200) || fail "the invalid flood did not run"
answered=$1 took=$2
[ "$answered" -eq 200 ] || fail "$answered of 200 malformed requests got their 400"
sleep 1.2   # the limit's window (1 s) must end before the summary can be said (the load, not readiness)
timeout 10 python3 "$T/inv.py" "$PU" 1 >/dev/null
log_wait "$T/inv.log" 'last message repeated [0-9]* times: "invalid request' 1 5 ||
    fail "no 'repeated' line after the invalid flood: $(tail -n 3 "$T/inv.log")"
n=$(grep -c "INFO: invalid request from" "$T/inv.log")
secs=$(python3 -c "import math; print(math.ceil($took) + 2)")
[ "$n" -ge 1 ] && [ "$n" -le $((10 * secs * 2)) ] || fail "$n 'invalid request' lines for 200 in ${took}s: not limited"
stop_ser
ok "200 malformed requests: all answered with 400, $n info lines in ${took}s, the rest said as repeated"

#!/bin/sh
# A flood of the same fault is rate-limited in the log (per process): 200 TLS
# clients within a second that refuse ser's certificate (they trust no CA of
# it: a fault ser logs as an error, since it is ours to fix) leave at most 10
# "closing" errors a second, then one "last message repeated N times" line.
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

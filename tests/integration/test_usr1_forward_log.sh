#!/bin/sh
# SIGUSR1 to main writes the statistics to the log and ends nothing (nor does
# SIGUSR2); at debug=3 a forwarded request and its reply leave one line each
# with method or status, Call-ID, from -> to and the transports, and at
# debug=2 none.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
U=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=1
ctl_socket="none"
listen=udp:127.0.0.1:$P
route { forward(127.0.0.1, $U); }
CFG
start_ser "$T/ser.cfg"
log_wait() { _i=0; while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "$3" ] && [ $_i -lt $(($4 * 20)) ]; do sleep 0.05; _i=$((_i+1)); done
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
# A client sends N OPTIONS through ser to a callee that answers 200 to each.
cat >"$T/calls.py" <<'PY'
import socket, sys, threading
ser, uas_port, n, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uas.bind(("127.0.0.1", uas_port))
uas.settimeout(5)
def answer():
    for _ in range(n):
        req, src = uas.recvfrom(65535)
        head = req.split(b"\r\n\r\n")[0].split(b"\r\n")
        keep = [h for h in head[1:] if h.split(b":")[0].lower() in (b"via", b"from", b"to", b"call-id", b"cseq")]
        uas.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) + b"\r\nContent-Length: 0\r\n\r\n", src)
t = threading.Thread(target=answer)
t.start()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.1", 0))
c.settimeout(5)
got = 0
for i in range(n):
    cid = "%s-%d" % (tag, i)
    c.sendto(("OPTIONS sip:x@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n"
              "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
              "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (uas_port, c.getsockname()[1], cid, cid)).encode(),
             ("127.0.0.1", ser))
    if c.recv(65535).startswith(b"SIP/2.0 200"):
        got += 1
t.join(5)
print("client port", c.getsockname()[1], "answered", got)
sys.exit(0 if got == n else 1)
PY
timeout 30 python3 "$T/calls.py" "$P" "$U" 5 usr1 >"$T/calls.out" 2>&1 || fail "calls through ser: $(cat "$T/calls.out")"
CP=$(sed -n 's/^client port \([0-9]*\).*/\1/p' "$T/calls.out")
kids=$(ser_children | sort)

kill -USR1 "$SER_PID"
log_wait "$T/ser.log" "NOTICE: stats: requests_in=5 replies_in=5 requests_forwarded=5 replies_forwarded=5" 1 5 ||
    fail "SIGUSR1 did not log the statistics (5 requests, 5 replies): $(grep 'stats' "$T/ser.log")"
log_wait "$T/ser.log" "NOTICE: stats transports: udp in=10 out=10" 1 5 || fail "no transport line: $(grep 'stats' "$T/ser.log")"
kill -USR2 "$SER_PID"
kill -USR1 "$(echo "$kids" | head -n 1)"
kill -USR2 "$(echo "$kids" | head -n 1)"
kill -USR1 "$SER_PID"
log_wait "$T/ser.log" "NOTICE: stats: requests_in=5" 2 5 || fail "a second SIGUSR1 was not answered"
kill -0 "$SER_PID" || fail "ser died of SIGUSR1/SIGUSR2"
[ "$(ser_children | sort)" = "$kids" ] || fail "children changed after USR1/USR2: $(ser_children | tr '\n' ' ') vs $kids"
ok "SIGUSR1 logs the statistics (exact counts); USR1 and USR2 kill neither main nor a child"

for i in 0 4; do
    n=$(grep -c "INFO: forward OPTIONS call-id usr1-$i: udp 127.0.0.1:$CP -> udp 127.0.0.1:$U$" "$T/ser.log")
    [ "$n" = 1 ] || fail "request usr1-$i: $n forward lines, want 1: $(grep "usr1-$i" "$T/ser.log")"
    n=$(grep -c "INFO: forward reply 200 call-id usr1-$i: udp 127.0.0.1:$U -> udp 127.0.0.1:$CP$" "$T/ser.log")
    [ "$n" = 1 ] || fail "reply usr1-$i: $n forward lines, want 1: $(grep "usr1-$i" "$T/ser.log")"
done
stop_ser
ok "debug=3: one line per forwarded request and per forwarded reply, with Call-ID, from -> to and transports"

sed -i 's/^debug=3/debug=2/' "$T/ser.cfg"
U=$(free_port)
sed -i "s/forward(127.0.0.1, [0-9]*)/forward(127.0.0.1, $U)/" "$T/ser.cfg"
start_ser "$T/ser.cfg"
timeout 30 python3 "$T/calls.py" "$P" "$U" 2 quiet >"$T/calls2.out" 2>&1 || fail "calls at debug=2: $(cat "$T/calls2.out")"
grep -q "call-id quiet" "$T/ser.log" && fail "debug=2 logged forwards: $(grep 'call-id quiet' "$T/ser.log")"
stop_ser
ok "debug=2: no per-message lines"

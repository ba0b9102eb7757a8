# tests/integration/dns_lib.sh — a real DNS server for the RFC 3263 tests.
# Source after lib.sh.
#
#   dns_start NAME ARGS...   dnsmasq on 127.0.0.1:$DNS_PORT (picked on the first call),
#                            authoritative for example.test (--local: unknown names are
#                            NXDOMAIN, not REFUSED), logging queries to $T/NAME.qlog;
#                            ARGS are its record options (--srv-host=..., --host-record=...)
#   dns_stop NAME            stop it by PID (bounded wait)
#   udp_load                 write $T/udp_load.py (see its header) for the test to run
#   sinks_py                 write $T/sinks.py (see its header)
#   dns_ser_start DEBUG      start ser on udp and tcp 127.0.0.1:$SER_PORT, one receiver and
#                            one tcp worker, asking $DNS_PORT, route { forward(); }; and sinks_py

dns_start() {
    command -v dnsmasq >/dev/null || { echo "dnsmasq not installed"; exit 77; }
    _name=$1; shift
    : "${DNS_PORT:=$(free_port)}"
    bg_start "$_name" dnsmasq -k --no-resolv --no-hosts -p "$DNS_PORT" --listen-address=127.0.0.1 \
        --bind-interfaces --local=/example.test/ --log-queries --log-facility="$T/$_name.qlog" "$@"
    wait_port udp "$DNS_PORT" 10 || fail "dnsmasq $_name did not start: $(cat "$T/$_name.log")"
}

dns_stop() {
    eval "_pid=\$PID_$1"
    /bin/kill -TERM -- "-$_pid" 2>/dev/null
    i=0; while kill -0 "$_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -0 "$_pid" 2>/dev/null && fail "dnsmasq $1 (pid $_pid) still running"
    wait "$_pid" 2>/dev/null
    i=0; while port_in_use "$DNS_PORT" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}

# udp_load.py SER_PORT N URI SINK_PORT...: sends N OPTIONS for URI to ser over
# UDP (paced: at most 64 unanswered), counts what arrives at each sink port and
# the replies ser sends back by code, and prints
#   counts C1 C2 ... replies CODE=N ... maxrtt_ms M
# ("-" for no sinks or no replies; maxrtt: the slowest reply). replies_of and
# rtt_of pick those out of that line. Stops when every request is accounted for, or after 30 s.
udp_load() {
    cat >"$T/udp_load.py" <<'PY'
import select, socket, sys, time
ser, n, uri = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sinks = []
for p in sys.argv[4:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", int(p)))
    sinks.append(s)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.1", 0))
lp = c.getsockname()[1]
tag = "%d-%d" % (lp, int(time.time() * 1000) % 100000)
def msg(i):
    return ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%s-%d\r\n"
            "From: <sip:load@127.0.0.1>;tag=%d\r\nTo: <%s>\r\nCall-ID: %s-%d@load\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (uri, lp, tag, i, i, uri, tag, i)).encode()
counts = [0] * len(sinks)
replies = {}
sent_at = {}
maxrtt = 0.0
sent = 0
end = time.time() + 30
def done():
    return sum(counts) + sum(replies.values())
while time.time() < end and done() < n:
    if sent < n and sent - done() < 64:
        sent_at[sent] = time.time()
        c.sendto(msg(sent), ("127.0.0.1", ser))
        sent += 1
    r, _, _ = select.select(sinks + [c], [], [], 0 if sent < n and sent - done() < 64 else 0.2)
    for s in r:
        d = s.recv(65535)
        if s is c:
            code = d.split(b" ", 2)[1].decode()
            replies[code] = replies.get(code, 0) + 1
            cid = d.split(b"Call-ID: ", 1)[1].split(b"@", 1)[0].decode()
            i = int(cid.rsplit("-", 1)[1])
            maxrtt = max(maxrtt, time.time() - sent_at.get(i, time.time()))
        else:
            counts[sinks.index(s)] += 1
print("counts", " ".join(map(str, counts)) or "-", "replies",
      " ".join("%s=%d" % kv for kv in sorted(replies.items())) or "-", "maxrtt_ms", int(maxrtt * 1000))
PY
}

replies_of() { printf '%s\n' "$1" | sed 's/.* replies \(.*\) maxrtt_ms .*/\1/'; }
rtt_of() { printf '%s\n' "${1##* }"; }

# sinks.py udp|tcp URI N SER_PORT TCP_SINK UDP_SINK: sends N OPTIONS to ser
# over udp or one tcp connection and counts, for 10 s at most, what arrives at
# a TCP sink and a UDP sink on those ports, and the replies:
# "tcp N udp N replies CODE=N..." ("-" for no replies).
sinks_py() {
    cat >"$T/sinks.py" <<'PY'
import select, socket, sys, time
mode, uri, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ser_port, tcp_sink, udp_sink = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
ts = socket.socket(); ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ts.bind(("127.0.0.1", tcp_sink)); ts.listen(16)
us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); us.bind(("127.0.0.1", udp_sink))
if mode == "udp":
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(("127.0.0.1", 0))
else:
    c = socket.create_connection(("127.0.0.1", ser_port))
lp = c.getsockname()[1]
for i in range(n):
    m = ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:%d;rport;branch=z9hG4bK-n%d-%d\r\n"
         "From: <sip:t@127.0.0.1>;tag=%d\r\nTo: <%s>\r\nCall-ID: n%d-%d@t\r\nCSeq: 1 OPTIONS\r\n"
         "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (uri, mode.upper(), lp, lp, i, i, uri, lp, i)).encode()
    if mode == "udp":
        c.sendto(m, ("127.0.0.1", ser_port))
    else:
        c.sendall(m)
got = {"tcp": 0, "udp": 0}; replies = {}; conns = []; bufs = {}
end = time.time() + 10
while time.time() < end and got["tcp"] + got["udp"] + sum(replies.values()) < n:
    r, _, _ = select.select([ts, us, c] + conns, [], [], 0.2)
    for s in r:
        if s is ts:
            conns.append(ts.accept()[0]); continue
        d = s.recv(65535)
        if s is us:
            got["udp"] += 1
        elif s is c:
            for line in d.split(b"\r\n"):
                if line.startswith(b"SIP/2.0 "):
                    k = line.split(b" ")[1].decode(); replies[k] = replies.get(k, 0) + 1
        else:
            if not d:
                conns.remove(s); continue
            got["tcp"] += d.count(b"OPTIONS sip:")
print("tcp", got["tcp"], "udp", got["udp"], "replies", " ".join("%s=%d" % kv for kv in sorted(replies.items())) or "-")
PY
}

dns_ser_start() {
    cat >"$T/ser.cfg" <<CFG
debug=$1
children=1
tcp_children=1
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
listen=tcp:127.0.0.1:$SER_PORT
dns_servers="127.0.0.1:$DNS_PORT"
route { forward(); }
CFG
    start_ser "$T/ser.cfg"
    sinks_py
}

#!/bin/sh
# tcp_max_conns_per_ip=3 with tcp_children=2: three connections from
# 127.0.0.1 stay open and are served (spread over both workers), a fourth is
# closed at accept however often it is tried (the count is shared by the
# workers), while 127.0.0.2 and clients named by a PROXY header (counted as
# themselves, not as their balancer) still get in; a PROXY client over the
# limit is refused after its header; closing one lets a new one in; each
# refusal is counted (refused per_ip_limit) and logged with the source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"

P=$(free_port); PP=$(free_port)
[ "$P" = "$PP" ] && fail "port clash, run again"
options_cfg "$T/ser.cfg" "drop;" <<CFG
debug=3
children=1
tcp_children=2
tcp_max_conns_per_ip=3
ctl_socket="unix:$T/ser.ctl"
proxy_protocol_from=127.0.0.1
listen=tcp:127.0.0.1:$P
listen=tcp:127.0.0.1:$PP proxy_protocol
CFG
start_ser "$T/ser.cfg"

cat >"$T/perip.py" <<'PY'
import socket, sys, time

import ctl_rpc
from ctl_rpc import fail, ok

port, pport, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def rpc(method):
    return ctl_rpc.result(ctl, method)

n = 0
def options(to):
    global n
    n += 1
    c = "perip-%d" % n
    return ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\n"
            "From: <sip:t@127.0.0.1>;tag=%s\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (to, c, c, c)).encode()

def ask(src, to=None, header=b""):
    """Connects from src, sends header + OPTIONS; the socket if a 200 came, else None (closed unanswered)."""
    to = to or port
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", to))
    try:
        s.sendall(header + options(to))
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except (ConnectionResetError, BrokenPipeError):
        buf = b""
    except socket.timeout:
        fail("no answer and no close within 5 s from %s" % src)
    if buf.startswith(b"SIP/2.0 200"):
        return s
    if buf:
        fail("unexpected answer: %r" % buf)
    s.close()
    return None

def refused():
    return rpc("stats")["refused"]["per_ip_limit"]

def owners(remote_ip):
    return sorted({c["owner"] for c in rpc("tcp.list") if c["remote"].rsplit(":", 1)[0] == remote_ip})

def wait_count(remote_ip, want):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if sum(1 for c in rpc("tcp.list") if c["remote"].rsplit(":", 1)[0] == remote_ip) == want:
            return
        time.sleep(0.05)
    fail("tcp.list does not show %d connections from %s: %r" % (want, remote_ip, rpc("tcp.list")))

# Three from 127.0.0.1, on both workers: reconnect until both own one (the
# kernel spreads connections over the workers' sockets by their ports).
held = []
for _ in range(3):
    s = ask("127.0.0.1")
    if not s:
        fail("connection %d of 3 from 127.0.0.1 refused" % (len(held) + 1))
    held.append(s)
tries = 0
while len(owners("127.0.0.1")) < 2 and tries < 40:
    held.pop(0).close()
    wait_count("127.0.0.1", 2)
    s = ask("127.0.0.1")
    if not s:
        fail("a connection in place of a closed one was refused")
    held.append(s)
    tries += 1
if len(owners("127.0.0.1")) < 2:
    fail("40 reconnections never spread the three connections over both workers")
ok("3 connections from 127.0.0.1 open and served, owned by %s" % ", ".join(owners("127.0.0.1")))

# The fourth is refused at accept whichever worker takes it.
r0 = refused()
for i in range(8):
    if ask("127.0.0.1"):
        fail("connection %d over tcp_max_conns_per_ip=3 was served" % (i + 4))
for s in held:
    s.sendall(options(port))
    if not s.recv(4096).startswith(b"SIP/2.0 200"):
        fail("a held connection stopped being served")
ok("8 tries of a 4th connection from 127.0.0.1 refused; the 3 open ones still served")

other = ask("127.0.0.2")
if not other:
    fail("127.0.0.2 was refused while 127.0.0.1 was at its limit")
ok("another source address (127.0.0.2) still gets in")

# Behind the balancer 127.0.0.1 (already at 3 of its own): clients count as themselves.
proxied = []
for i in range(3):
    s = ask("127.0.0.1", pport, b"PROXY TCP4 192.0.2.7 127.0.0.1 %d %d\r\n" % (7000 + i, pport))
    if not s:
        fail("PROXY client 192.0.2.7 connection %d refused" % (i + 1))
    proxied.append(s)
if ask("127.0.0.1", pport, b"PROXY TCP4 192.0.2.7 127.0.0.1 7100 %d\r\n" % pport):
    fail("a 4th connection of PROXY client 192.0.2.7 was served")
s = ask("127.0.0.1", pport, b"PROXY TCP4 192.0.2.8 127.0.0.1 7200 %d\r\n" % pport)
if not s:
    fail("PROXY client 192.0.2.8 refused")
proxied.append(s)
ok("PROXY clients are counted as themselves: 192.0.2.7 gets 3 and not a 4th, 192.0.2.8 gets in")

# Closing one frees its place (the count drops when ser has closed it).
held.pop().close()
wait_count("127.0.0.1", 2)
s = ask("127.0.0.1")
if not s:
    fail("after closing one of the three, a new connection from 127.0.0.1 was refused")
held.append(s)
ok("closing one connection lets a new one in")

deadline = time.monotonic() + 5
while refused() - r0 != 9 and time.monotonic() < deadline:
    time.sleep(0.05)
if refused() - r0 != 9:
    fail("refused per_ip_limit counted %d, expected 9" % (refused() - r0))
ok("9 refusals counted as refused per_ip_limit")
PY
python3 "$T/perip.py" "$P" "$PP" "$T/ser.ctl" || fail "the per-address limit client failed"

grep -q "refusing tcp connection from 127.0.0.1:[0-9]*: tcp_max_conns_per_ip=3 connections from that address are open" "$T/ser.log" ||
    fail "no log line for a direct refusal"
grep -q "refusing tcp connection from 192.0.2.7:7100 via 127.0.0.1:[0-9]*: tcp_max_conns_per_ip=3" "$T/ser.log" ||
    fail "no log line naming the PROXY client and its balancer"
ok "refusals logged with the source (and the balancer)"
stop_ser

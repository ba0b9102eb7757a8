#!/bin/sh
# PROXY protocol on a tcp listener, with a client that speaks it by hand
# (python): a v1 and a v2 header make the client's address the source of
# the request (Via received=/rport in the reply, src_ip in the script,
# tcp.list with the balancer as via); a header cut into single bytes still
# works; v2 LOCAL and v1 UNKNOWN keep the real peer; a source not in
# proxy_protocol_from is refused at accept, a connection that sends no
# header is closed after tcp_first_msg_timeout, one that sends garbage or an
# oversized header at once; each counted in the stats and logged with the peer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctl_lib.sh"

P=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=2
tcp_first_msg_timeout=1
ctl_socket="unix:$T/ser.ctl"
proxy_protocol_from="127.0.0.1, 10.9.9.9"
listen=tcp:127.0.0.1:$P proxy_protocol
route {
    if (method=="OPTIONS") {
        # The script sees the client the header names.
        if (src_ip==192.0.2.7) { sl_send_reply("200", "OK from 192.0.2.7"); break; };
        if (src_ip==[2001:db8::9]) { sl_send_reply("200", "OK from 2001:db8::9"); break; };
        sl_send_reply("200", "OK");
        break;
    };
    drop;
}
CFG
start_ser "$T/ser.cfg"

cat >"$T/pp.py" <<'PY'
import socket, struct, sys, time

import ctl_rpc
from ctl_rpc import fail, ok

port, ctl = int(sys.argv[1]), sys.argv[2]

def rpc(method):
    return ctl_rpc.result(ctl, method)

def options(callid):
    return ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\n"
            "From: <sip:t@127.0.0.1>;tag=%s\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (port, callid, callid, callid)).encode()

def connect(src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

def reply(s, secs=5):
    """The first response on s, or what came before the peer closed (b'' if nothing)."""
    s.settimeout(secs)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except (ConnectionResetError, socket.timeout):
        pass
    return buf.decode(errors="replace")

def closed_within(s, secs):
    """Seconds until the peer closed s (no byte sent to us), or None."""
    start = time.monotonic()
    s.settimeout(secs)
    try:
        d = s.recv(1)
        if d:
            return None
    except ConnectionResetError:
        pass
    except socket.timeout:
        return None
    return time.monotonic() - start

def v2(src, sport, dst, dport, tlvs=b"", cmd=0x21):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    fam = 0x11 if ":" not in src else 0x21
    af = socket.AF_INET if fam == 0x11 else socket.AF_INET6
    body = socket.inet_pton(af, src) + socket.inet_pton(af, dst) + struct.pack("!HH", sport, dport) + tlvs
    return sig + bytes([cmd, fam]) + struct.pack("!H", len(body)) + body

def counters():
    st = rpc("stats")
    return st["refused"], st["closed"]

# v1: the client is 192.0.2.7:5555; the reply's Via says so.
s = connect()
s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 5555 %d\r\n" % port + options("v1"))
r = reply(s)
if "SIP/2.0 200 OK from 192.0.2.7" not in r:
    fail("v1: no 200 for the client 192.0.2.7: %r" % r)
if "received=192.0.2.7" not in r or "rport=5555" not in r:
    fail("v1: the reply's Via does not name the client: %r" % r)
rows = [c for c in rpc("tcp.list") if c.get("remote") == "192.0.2.7:5555"]
if len(rows) != 1 or not rows[0].get("via", "").startswith("127.0.0.1:"):
    fail("v1: tcp.list does not show 192.0.2.7:5555 via 127.0.0.1: %r" % rpc("tcp.list"))
via = rows[0]["via"]
s.close()
ok("v1 TCP4: src_ip, Via received=/rport and tcp.list name the client, the balancer is via " + via)

# v2 with TLVs, IPv6 client, the header and request in one write.
s = connect()
s.sendall(v2("2001:db8::9", 40000, "::1", port, tlvs=b"\x01\x00\x03sip\x04\x00\x00") + options("v2"))
r = reply(s)
if "SIP/2.0 200 OK from 2001:db8::9" not in r or "received=2001:db8::9" not in r or "rport=40000" not in r:
    fail("v2: the reply does not name the client [2001:db8::9]:40000: %r" % r)
s.close()
ok("v2 PROXY with TLVs: the IPv6 client it names is the source")

# The v1 header a byte at a time, then the request.
s = connect()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for b in b"PROXY TCP4 192.0.2.7 127.0.0.1 6000 %d\r\n" % port:
    s.send(bytes([b]))
    time.sleep(0.002)
s.sendall(options("split"))
r = reply(s)
if "SIP/2.0 200 OK from 192.0.2.7" not in r or "rport=6000" not in r:
    fail("a header sent a byte at a time was not taken: %r" % r)
s.close()
ok("a header that arrives a byte at a time is taken whole")

# LOCAL (a health check) and UNKNOWN: the real peer stands.
for name, hdr in (("v2 LOCAL", v2("192.0.2.7", 1, "127.0.0.1", 2, cmd=0x20)), ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n")):
    s = connect()
    lport = s.getsockname()[1]
    s.sendall(hdr + options("local"))
    r = reply(s)
    if "SIP/2.0 200 OK\r\n" not in r or "rport=%d" % lport not in r or "192.0.2.7" in r:
        fail("%s: the reply should name the real peer 127.0.0.1:%d: %r" % (name, lport, r))
    s.close()
ok("v2 LOCAL and v1 UNKNOWN keep the connection's own peer")

ref0, cl0 = counters()

# A source not in proxy_protocol_from: closed at accept, before any byte.
s = connect("127.0.0.3")
t = closed_within(s, 3)
if t is None or t > 1.0:
    fail("a connection from 127.0.0.3 (not in proxy_protocol_from) was not closed at once (%s)" % t)
s.close()
ok("a source not in proxy_protocol_from is refused at accept (%.0f ms)" % (t * 1000))

# No header at all: closed once tcp_first_msg_timeout (1 s) is over.
s = connect()
t = closed_within(s, 4)
if t is None or t < 0.8 or t > 2.5:
    fail("a connection without a header was not closed after tcp_first_msg_timeout=1 s (%s)" % t)
s.close()
ok("no header: closed after %.1f s (tcp_first_msg_timeout=1)" % t)

# A plain SIP request instead of a header, and an oversized v1 line: at once.
for name, data in (("plain SIP", options("plain")), ("oversized v1", b"PROXY UNKNOWN " + b"x" * 120)):
    s = connect()
    s.sendall(data)
    start = time.monotonic()
    r = reply(s, 3)
    t = time.monotonic() - start
    if r or t > 1.0:
        fail("%s: expected a close at once without an answer, got %r after %.2f s" % (name, r, t))
    s.close()
ok("a plain request or an oversized header instead of a PROXY header is closed at once, unanswered")

deadline = time.monotonic() + 5
while True:
    ref, cl = counters()
    got = (ref["proxy_not_allowed"] - ref0["proxy_not_allowed"], cl["proxy_header_timeout"] - cl0["proxy_header_timeout"],
           cl["proxy_header_bad"] - cl0["proxy_header_bad"])
    if got == (1, 1, 2) or time.monotonic() > deadline:
        break
    time.sleep(0.05)
if got != (1, 1, 2):
    fail("counters proxy_not_allowed, proxy_header_timeout, proxy_header_bad: expected (1, 1, 2), got %r" % (got,))
ok("counted: refused proxy_not_allowed 1, closed proxy_header_timeout 1, proxy_header_bad 2")
PY
python3 "$T/pp.py" "$P" "$T/ser.ctl" || fail "the PROXY protocol client failed"

grep -q 'conn [0-9]*: 192.0.2.7:5555 via 127.0.0.1:[0-9]* (PROXY v1)' "$T/ser.log" || fail "no log line naming client and balancer"
grep -q 'refusing tcp connection from 127.0.0.3:[0-9]* on 127.0.0.1:'"$P"': not in proxy_protocol_from' "$T/ser.log" ||
    fail "no log line for the refused source"
grep -q 'no complete PROXY header within tcp_first_msg_timeout=1 s from 127.0.0.1:' "$T/ser.log" ||
    fail "no log line for the header timeout"
grep -q 'no valid PROXY header from 127.0.0.1:[0-9]*: not a PROXY protocol header' "$T/ser.log" ||
    fail "no log line for the plain request"
grep -q 'no valid PROXY header from 127.0.0.1:[0-9]*: v1 header longer than 107 bytes' "$T/ser.log" ||
    fail "no log line for the oversized header"
ok "each refusal and close is logged with the peer"
stop_ser

#!/usr/bin/python3
# tests/integration/slowloris.py — slow-drip ("slowloris") TCP peers for
# test_slowloris.sh.
#
#   slowloris.py PORT FRESH AFTER_FIRST DRIP_S FRESH_DELAY_S DEADLINE_S
#
# Opens FRESH + AFTER_FIRST connections to 127.0.0.1:PORT.
#   fresh:       drips the bytes of an OPTIONS request, one every DRIP_S
#                seconds, from FRESH_DELAY_S after connect() returns;
#   after-first: sends one complete OPTIONS request, waits for its final
#                response, then drips a second request the same way.
# Records when the server closes each connection (EOF or reset), and exits
# once all are closed or DEADLINE_S seconds after the start. Prints
# "connected N" once every connection is open, then one line per kind:
#   fresh closed=C total=N min_ms=A max_ms=B               (from connect)
#   after-first closed=C total=N answered=R min_ms=A max_ms=B  (from first drip byte)
# min_ms/max_ms are -1 when no connection of that kind was closed.
import selectors
import socket
import sys
import time


def options(port, callid):
    return ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\n"
            "From: <sip:tester@127.0.0.1>;tag=%s\r\n"
            "To: <sip:ping@127.0.0.1:%d>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" % (port, callid, callid, port, callid)).encode()


class Conn:
    def __init__(self, kind, idx, port):
        self.kind = kind
        self.sock = None
        self.t_connect = None
        self.t_drip0 = None      # when the first drip byte is (was) due
        self.t_closed = None
        self.answered = False
        self.rbuf = b""
        self.drip = options(port, "drip-%s-%d" % (kind, idx))
        self.drip_pos = 0
        self.next_drip = None

    def start_drip(self, now):
        self.t_drip0 = now
        self.next_drip = now


def main():
    port, n_fresh, n_after = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    drip_s, fresh_delay_s, deadline_s = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    start = time.monotonic()
    deadline = start + deadline_s
    sel = selectors.DefaultSelector()
    conns = []
    kinds = ["fresh"] * n_fresh + ["after-first"] * n_after
    # Interleave the two kinds so that both meet the same server state.
    order = sorted(range(len(kinds)), key=lambda i: (i % max(n_fresh, n_after, 1), i))
    for i in order:
        c = Conn(kinds[i], i, port)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2.0)
        s.connect(("127.0.0.1", port))
        c.sock = s
        c.t_connect = time.monotonic()
        if c.kind == "fresh":
            c.start_drip(c.t_connect + fresh_delay_s)
        else:
            s.sendall(options(port, "first-%d" % i))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, c)
        conns.append(c)
    print("connected %d" % len(conns), flush=True)

    def closed(c, now):
        if c.t_closed is None:
            c.t_closed = now
            sel.unregister(c.sock)
            c.sock.close()

    while time.monotonic() < deadline:
        open_ = [c for c in conns if c.t_closed is None]
        if not open_:
            break
        now = time.monotonic()
        # Send the drip bytes that are due.
        for c in open_:
            if c.next_drip is not None and now >= c.next_drip and c.drip_pos < len(c.drip):
                try:
                    c.sock.send(c.drip[c.drip_pos:c.drip_pos + 1])
                    c.drip_pos += 1
                    c.next_drip += drip_s
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed(c, now)
        due = [c.next_drip for c in conns if c.t_closed is None and c.next_drip is not None]
        wake = min(due + [deadline])
        timeout = max(0.0, min(wake, deadline) - time.monotonic())
        for key, _ in sel.select(timeout):
            c = key.data
            now = time.monotonic()
            try:
                data = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                closed(c, now)
                continue
            if not data:
                closed(c, now)
                continue
            if c.kind == "after-first" and c.t_drip0 is None:
                c.rbuf += data
                head, sep, _ = c.rbuf.partition(b"\r\n\r\n")
                if sep:
                    line = head.split(b"\r\n", 1)[0]
                    parts = line.split()
                    code = parts[1] if len(parts) > 1 else b""
                    if code.startswith(b"1"):
                        c.rbuf = c.rbuf[len(head) + 4:]
                    else:
                        c.answered = True
                        c.start_drip(now)

    for kind, ref in (("fresh", "t_connect"), ("after-first", "t_drip0")):
        ks = [c for c in conns if c.kind == kind]
        ms = [int((c.t_closed - getattr(c, ref)) * 1000) for c in ks
              if c.t_closed is not None and getattr(c, ref) is not None]
        line = "%s closed=%d total=%d" % (kind, sum(1 for c in ks if c.t_closed is not None), len(ks))
        if kind == "after-first":
            line += " answered=%d" % sum(1 for c in ks if c.answered)
        line += " min_ms=%d max_ms=%d" % (min(ms) if ms else -1, max(ms) if ms else -1)
        print(line, flush=True)
    for c in conns:
        if c.t_closed is None:
            c.sock.close()


if __name__ == "__main__":
    main()

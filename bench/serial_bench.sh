#!/bin/sh
# bench/serial_bench.sh — the serial bridge beside socat and ser2net, through a
# socat pty pair (the "device"; its other end is driven by the benchmark):
#   tput  device -> N clients (1 or 4), over TCP and TLS: MB/s of device bytes
#         (every client gets every byte) and server CPU ms per device MB;
#   rtt   one TCP client writes 16 bytes, the server passes them to the device,
#         an echo on the pty's other end writes them back, the server passes
#         them to the client; the client times each of these round trips
#         (two passes through the server each), one at a time: p50 and p99.
# Server CPU is utime+stime from /proc/PID/stat of the server's processes
# (ser: main and its children; socat and ser2net: their one process), read
# just before the first device byte and after the last client byte. One python
# driver plays the device's other end and every client; it keeps the device
# writer at most 1 MB ahead of the slowest client (ser drops a client that
# falls client_queue behind; socat and ser2net stop reading the device
# instead), so every client gets every byte with every server.
# Each server runs the cases it supports: ser all; socat (one client; TLS via
# OPENSSL-LISTEN) tput 1 client TCP and TLS, rtt; ser2net 4.x (max-connections: 4;
# TLS via its ssl gensio) all, twice: with its default buffers ("ser2net") and
# with 16 KB dev-to-net/net-to-dev buffers ("ser2net_buf"). ser2net's chardelay
# (a wait of at least 1 ms, by design, before it sends device bytes on) is
# switched off for rtt only.
# Rounds alternate the order of the servers; the summary takes medians.
#
#   [BENCH_SERVERS="ser socat ser2net"] [BENCH_CASES="tcp1 tcp4 tls1 tls4 rtt"] \
#   bench/serial_bench.sh [ROUNDS] [MB] [SECS] [SER_BINARY]     (defaults 3, 64, 2)
# A tput run moves MB megabytes, or what the server moves in SECS seconds if
# that is less; rtt runs are 5000 round trips.
# Prints one line per run, then medians and ser/anchor ratios.
set -eu
. "$(dirname "$0")/lib.sh"
rounds=${1:-3} mb=${2:-64} secs=${3:-2}
top=$(cd "$(dirname "$0")/.." && pwd)
ser=${4:-$top/build/tls/ser}
[ -x "$ser" ] || { echo "no ser binary at $ser"; exit 1; }
for t in socat python3 openssl; do command -v $t >/dev/null || { echo "serial_bench: $t not installed"; exit 1; }; done
have_ser2net=0; command -v ser2net >/dev/null && have_ser2net=1
ser_tls=0; "$ser" -V | grep -q '(TLS' && ser_tls=1
T=$(mktemp -d /tmp/ser-bench.XXXXXX)
srv=""     # the server running now
pty=""
stop_srv() {
    [ -n "$srv" ] || return 0
    kill -TERM "$srv" 2>/dev/null || true
    i=0; while kill -0 "$srv" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
    srv=""
}
trap 'stop_srv; [ -n "$pty" ] && kill "$pty" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

"$top/tools/ser-certs" ca -d "$T/c" >/dev/null
"$top/tools/ser-certs" server srv --ip 127.0.0.1 -d "$T/c" >/dev/null

socat "pty,raw,echo=0,link=$T/dev" "pty,raw,echo=0,link=$T/peer" 2>"$T/pty.log" &
pty=$!
i=0; while { [ ! -e "$T/dev" ] || [ ! -e "$T/peer" ]; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$T/dev" ] && [ -e "$T/peer" ] || { echo "socat made no pty pair"; exit 1; }

cat >"$T/drive.py" <<'PY'
import os, select, socket, ssl, sys, time
mode, kind, port, n, peer, amount = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
server, budget = int(sys.argv[7]), float(sys.argv[8])
WINDOW = 1 << 20
deadline = time.time() + 60
def pids():
    out = [server]
    try:
        for t in os.listdir("/proc/%d/task" % server):
            out += [int(x) for x in open("/proc/%d/task/%s/children" % (server, t)).read().split()]
    except OSError:
        pass
    return out
def runtime_ns():
    # The scheduler's own count of time on a CPU (ns): a finer cross-check of the ticks.
    total = 0
    for p in pids():
        try:
            total += int(open("/proc/%d/schedstat" % p).read().split()[0])
        except OSError:
            pass
    return total
def ticks():
    total = 0
    for p in pids():
        try:
            f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(f[11]) + int(f[12])   # utime, stime
    return total
dev = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
ctx = ssl.create_default_context(cafile=os.path.dirname(peer) + "/c/ca.pem")
def connect():
    end = time.time() + 5
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except ConnectionRefusedError:
            if time.time() > end:
                raise
            time.sleep(0.02)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1") if kind == "tls" else s
clients = [connect() for _ in range(n)]
for s in clients:
    s.setblocking(False)
def recv_all(s, into):
    """Reads what is there; False at EOF."""
    while True:
        try:
            b = s.recv(1 << 18)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        if not b:
            return False
        into.append(len(b)) if isinstance(into, list) else into.extend(b)
        if not isinstance(s, ssl.SSLSocket):
            return True
def readable(timeout):
    r, _, _ = select.select(clients, [], [], timeout)
    return [s for s in clients if s in r or (isinstance(s, ssl.SSLSocket) and s.pending())]
# Ready when every client has seen a marker written after it was accepted (a
# server may open the device, or finish a handshake, after connect() returns).
seen = [bytearray() for _ in clients]
k = 0
while time.time() < deadline:
    k += 1
    mark = b"\x00SYNC%d\x00" % k
    os.write(dev, mark)
    end = time.time() + 0.3
    while time.time() < end and not all(mark in b for b in seen):
        for s in readable(0.02):
            if not recv_all(s, seen[clients.index(s)]):
                sys.exit("a client got EOF while syncing")
    if all(mark in b for b in seen):
        break
else:
    sys.exit("the clients never all saw the sync marker")
try:
    while os.read(dev, 65536):
        pass
except BlockingIOError:
    pass
if mode == "tput":
    # Up to `amount` bytes, but the writer stops after `budget` seconds: a
    # slow server moves fewer bytes, and CPU and rate are per byte moved.
    data = os.urandom(1 << 16)
    got = [0] * n
    sent, target = 0, amount
    t0, c0, ns0 = time.time(), ticks(), runtime_ns()
    while min(got) < target:
        now = time.time()
        if now - t0 > budget and target > sent:
            target = sent
        if now > deadline:
            sys.exit("timed out: clients got %s of %d" % (got, target))
        want_w = sent < target and sent - min(got) < WINDOW
        pend = [s for s in clients if isinstance(s, ssl.SSLSocket) and s.pending()]
        r, w, _ = select.select(clients, [dev] if want_w else [], [], 0 if pend else 0.05)
        if w:
            try:
                sent += os.write(dev, data[:min(len(data), target - sent)])
            except BlockingIOError:
                pass
        for s in set(r) | set(pend):
            chunks = []
            if not recv_all(s, chunks):
                sys.exit("a client got EOF")
            got[clients.index(s)] += sum(chunks)
    t1, c1, ns1 = time.time(), ticks(), runtime_ns()
    tls = " tls=%s/%s" % (clients[0].version(), clients[0].cipher()[0]) if kind == "tls" else ""
    print("bytes=%d secs=%.4f ticks=%d cpu_ns=%d%s" % (target, t1 - t0, c1 - c0, ns1 - ns0, tls))
else:
    s = clients[0]
    s.setblocking(True)
    msg = b"0123456789abcdef"
    lat = []
    c0, ns0 = ticks(), runtime_ns()
    t0 = time.time()
    for i in range(amount):
        a = time.perf_counter()
        s.sendall(msg)
        echo = b""
        while len(echo) < 16:
            select.select([dev], [], [], 1)
            echo += os.read(dev, 16 - len(echo))
        os.write(dev, echo)
        back = b""
        while len(back) < 16:
            back += s.recv(16 - len(back))
        lat.append(time.perf_counter() - a)
        if back != msg or time.time() > deadline:
            sys.exit("round trip %d came back as %r" % (i, back))
    t1, c1, ns1 = time.time(), ticks(), runtime_ns()
    lat.sort()
    print("trips=%d p50_us=%.1f p99_us=%.1f secs=%.4f ticks=%d cpu_ns=%d" % (
        amount, lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6, t1 - t0, c1 - c0, ns1 - ns0))
for s in clients:
    s.close()
PY

# start_SERVER KIND N PORT [rtt]: the server on 127.0.0.1:PORT for KIND (tcp|tls) and N clients.
start_ser() {
    { echo "debug=0"; [ "$1" = tls ] && printf 'tls_certificate="c/srv.pem"\ntls_private_key="c/srv.key"\n'
      cat <<CFG
serial "$T/dev" {
    baudrate=115200;
    listen=$1:127.0.0.1:$3;
}
CFG
    } >"$T/ser.cfg"
    "$ser" -D -E -f "$T/ser.cfg" >"$T/srv.log" 2>&1 &
    srv=$!
}
start_socat() {
    if [ "$1" = tls ]; then
        a="OPENSSL-LISTEN:$3,bind=127.0.0.1,reuseaddr,cert=$T/c/srv.pem,key=$T/c/srv.key,verify=0"
    else
        a="TCP-LISTEN:$3,bind=127.0.0.1,reuseaddr"
    fi
    socat "$a" "FILE:$T/dev,raw,echo=0" >"$T/srv.log" 2>&1 &
    srv=$!
}
start_ser2net() {
    acc="tcp,127.0.0.1,$3"
    [ "$1" = tls ] && acc="ssl(key=$T/c/srv.key,cert=$T/c/srv.pem),tcp,127.0.0.1,$3"
    delay=true
    [ "${4:-}" = rtt ] && delay=false
    cat >"$T/ser2net.yaml" <<YAML
connection: &bench
  accepter: $acc
  connector: serialdev,$T/dev,115200n81,local
  options:
    max-connections: 4
    chardelay: $delay
YAML
    if [ -n "$s2n_buf" ]; then
        printf '    dev-to-net-bufsize: %s\n    net-to-dev-bufsize: %s\n' "$s2n_buf" "$s2n_buf" >>"$T/ser2net.yaml"
    fi
    ser2net -n -u -c "$T/ser2net.yaml" -P "$T/ser2net.pid" >"$T/srv.log" 2>&1 &
    srv=$!
}
s2n_buf=""
# ser2net with 16 KB buffers between device and network (its default ones are
# far smaller: it then spends most of its CPU on small reads and writes).
start_ser2net_buf() { s2n_buf=16384; start_ser2net "$@"; s2n_buf=""; }

# run SERVER CASE: one measurement, one result line in $T/results.
run() {
    name=$1 case=$2
    kind=${case%%[0-9]*}; rest=${case#"$kind"}; n=${rest%%-*}
    mode=tput; amount=$((mb * 1024 * 1024)); flag=""
    [ "$case" = rtt ] && { kind=tcp; n=1; mode=rtt; amount=5000; flag=rtt; }
    port=$(bench_port)
    "start_$name" "$kind" "$n" "$port" $flag
    i=0; while ! ss -Hlnt "sport = :$port" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    if out=$(python3 "$T/drive.py" "$mode" "$kind" "$port" "$n" "$T/peer" "$amount" "$srv" "$secs" 2>&1); then
        echo "$round $name $case $out" | tee -a "$T/results"
    else
        echo "$round $name $case FAILED: $out"; tail -n 5 "$T/srv.log"
    fi
    stop_srv
}

cases_ser="tcp1 tcp4 rtt"; [ "$ser_tls" = 1 ] && cases_ser="tcp1 tcp4 tls1 tls4 rtt"
cases_socat="tcp1 tls1 rtt"
cases_ser2net="tcp1 tcp4 tls1 tls4 rtt"
cases_ser2net_buf=$cases_ser2net
servers="ser socat"; [ "$have_ser2net" = 1 ] && servers="ser socat ser2net ser2net_buf"
servers=${BENCH_SERVERS:-$servers}   # e.g. BENCH_SERVERS="ser socat" BENCH_CASES="rtt" for a partial run
round=1
while [ $round -le "$rounds" ]; do
    order=$servers
    # Round r starts with the r-th server: the order rotates from round to round.
    j=1; while [ $j -lt $round ]; do set -- $order; first=$1; shift; order="$* $first"; j=$((j+1)); done
    for s in $order; do
        eval "cases=\$cases_$s"
        for c in $cases; do
            case " ${BENCH_CASES:-$c} " in *" $c "*) run "$s" "$c";; esac
        done
    done
    round=$((round + 1))
done

hz=$(getconf CLK_TCK)
cat >"$T/sum.py" <<'PY'
import statistics, sys
hz = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[1], f[2]), []).append(dict(x.split("=") for x in f[3:]))
med = statistics.median
print("\nmedians over %d round(s); cpu from /proc/PID/stat (utime+stime), [schedstat] in brackets:" % max(len(v) for v in rows.values()))
print("%-11s %-5s %8s %8s %16s %8s" % ("server", "case", "MB", "MB/s", "cpu ms/MB", "wall s"))
fig = {}
for k in sorted(rows):
    if k[1] == "rtt":
        continue
    rs = rows[k]
    mb = lambda r: int(r["bytes"]) / 1048576
    rate = med(mb(r) / float(r["secs"]) for r in rs)
    cpu = med(int(r["ticks"]) * 1000 / hz / mb(r) for r in rs)
    ns = med(int(r["cpu_ns"]) / 1e6 / mb(r) for r in rs)
    fig[k] = (rate, cpu, ns)
    print("%-11s %-5s %8.0f %8.1f %7.2f [%6.2f] %8.2f" % (k[0], k[1], med(mb(r) for r in rs), rate, cpu, ns,
                                                       med(float(r["secs"]) for r in rs)))
print("%-11s %-5s %8s %8s %18s" % ("server", "case", "p50 us", "p99 us", "cpu us/trip"))
for k in sorted(rows):
    if k[1] != "rtt":
        continue
    rs = rows[k]
    cpu = med(int(r["ticks"]) * 1e6 / hz / int(r["trips"]) for r in rs)
    ns = med(int(r["cpu_ns"]) / 1e3 / int(r["trips"]) for r in rs)
    fig[k] = (med(float(r["p50_us"]) for r in rs), med(float(r["p99_us"]) for r in rs), cpu, ns)
    print("%-11s %-5s %8.1f %8.1f %9.1f [%6.1f]" % (k[0], k[1], fig[k][0], fig[k][1], cpu, ns))
div = lambda a, b: a / b if b else float("nan")
print("ratios ser/anchor of the medians (cpu: < 1 = ser cheaper; MB/s: > 1 = ser faster; latency: < 1 = ser quicker):")
for anchor in ("socat", "ser2net", "ser2net_buf"):
    for (srv, c), v in sorted(fig.items()):
        if srv != anchor or ("ser", c) not in fig:
            continue
        me = fig[("ser", c)]
        if c == "rtt":
            print("  %-5s vs %-11s p50 %.2f  p99 %.2f  cpu/trip %.2f [%.2f]" % (c, anchor, div(me[0], v[0]), div(me[1], v[1]),
                                                                              div(me[2], v[2]), div(me[3], v[3])))
        else:
            print("  %-5s vs %-11s cpu/MB %.2f [%.2f]  MB/s %.2f" % (c, anchor, div(me[1], v[1]), div(me[2], v[2]),
                                                                 div(me[0], v[0])))
PY
python3 "$T/sum.py" "$T/results" "$hz"

#!/bin/sh
# bench/parts/serial.sh — the serial bridge beside socat, ser2net and
# socat+stunnel. Two parts of `make bench`:
#
# serial    the device is a socat pty pair; each server opens one end, one
#           python driver plays the other end (the device) and every client.
#   tput    device -> 1 or 4 clients over TCP and over TLS: CPU per device MB
#           of the server's whole process tree, and device MB/s (every client
#           gets every byte). Subjects: ser; socat (one client only: tcp1,
#           tls1); ser2net 4.x as shipped ("ser2net", max-connections: 4) and
#           with 16 KB dev-to-net/net-to-dev buffers ("ser2net-buf").
#   rtt     one TCP client writes 16 bytes, the server passes them to the
#           device, the driver on the pty's far end echoes them, the server
#           passes them back; one trip at a time: p50 and p99. ser2net runs
#           with chardelay off here (its wait of >= 1 ms before it sends
#           device bytes on is meant to gather bytes, not to cost latency).
#           "floor": the same trip with no server, the driver writing and
#           reading the server's end of the pty itself. All subjects run at
#           once, each on its own pty pair, and the driver takes their trips
#           in turn (trip i of each before trip i+1 of any, the order
#           rotating): on this VM trips switch between a fast and a slow
#           mode from one second to the next (most likely wake-ups of idle
#           vCPUs, and of the kernel worker that moves pty data), and so
#           every subject sees the same modes.
#   rtt1cpu the same, with every pty relay, server and the driver on one
#           CPU (taskset, SERIAL_RTT_CPU, default the last); the pty's
#           kworker still runs where the kernel puts it.
# tls_bulk  device -> one TLS client: ser's bridge against what is run for
#           that job today, socat serving the pty on plain TCP behind stunnel
#           ("socat+stunnel": both processes; "stunnel": stunnel alone), and
#           the floor: `openssl speed -aead` of the AEAD cipher the
#           connections negotiated, at 16384-byte records, as us CPU per MB.
#
# CPU is the scheduler's count of time on a CPU (/proc/PID/task/*/schedstat,
# ns) of every thread of the server's process tree, read after the clients
# are connected and synced and after the last byte reached every client;
# utime+stime ticks (/proc/PID/stat) are read too and printed beside it as a
# cross-check. The driver keeps the device writer at most 1 MB ahead of the
# slowest client (ser drops a client that falls client_queue behind; socat
# and ser2net stop reading the device instead), so every client gets every
# byte with every server. Each round runs every case with every subject that
# supports it, subjects in an order rotated from round to round (A B, B A).
#
#   bench/parts/serial.sh [ROUNDS] [SER_BINARY]              (default 3 rounds)
# env: SERIAL_MB (48), SERIAL_SECS (1.5), SERIAL_TRIPS (2000),
#      SERIAL_CASES ("tcp1 tcp4 tls1 tls4 rtt rtt1cpu bulk"), SERIAL_RTT_CPU,
#      SERIAL_SUBJECTS ("ser socat ser2net ser2net-buf socat+stunnel")
# Budget: a tput run moves SERIAL_MB (48) MB, or what the server moves in
# SERIAL_SECS (1.5) s if that is less (48 MB takes ser, socat and
# ser2net-buf 0.7-1.5 s; ser2net as shipped always uses its 1.5 s). A rtt
# run is 200 untimed and SERIAL_TRIPS (2000) timed trips of each of the 5
# subjects, 1-4 s. With starts and stops (about 1 s a run) a round is 16
# tput runs, 2 rtt runs and 1 s of openssl speed: 50-80 s on this shared
# 2-core VM, so 3 rounds take 2.5-4 minutes, under the 6 allowed (64 MB,
# 2 s and 3000 trips took 5.5 minutes with the machine busy).
# Every driver run is bounded (25 s, killed at 30 s).
# Result lines go to $BENCH_OUT (bench/lib.sh); a summary goes to stdout.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)
rounds=${1:-3}
ser=${2:-$top/build/tls/ser}
mb=${SERIAL_MB:-48} secs=${SERIAL_SECS:-1.5} trips=${SERIAL_TRIPS:-2000}
cases=${SERIAL_CASES:-tcp1 tcp4 tls1 tls4 rtt rtt1cpu bulk}
rtt_cpu=${SERIAL_RTT_CPU:-$(($(nproc) - 1))}
subjects=${SERIAL_SUBJECTS:-ser socat ser2net ser2net-buf socat+stunnel}
[ -x "$ser" ] || { echo "$0: no ser binary at $ser" >&2; exit 2; }
for t in socat python3 openssl timeout taskset; do
    command -v $t >/dev/null || { echo "$0: $t not installed" >&2; exit 2; }
done
has() { case " $subjects " in *" $1 "*) return 0 ;; esac; return 1; }
command -v ser2net >/dev/null || subjects=$(echo " $subjects " | sed 's/ ser2net / /; s/ ser2net-buf / /')
command -v stunnel >/dev/null || subjects=$(echo " $subjects " | sed 's/ socat+stunnel / /')
if ! "$ser" -V | grep -q '(TLS'; then
    echo "$0: $ser is built without TLS: no tls1, tls4, bulk" >&2
    cases=$(echo " $cases " | sed 's/ tls1 / /; s/ tls4 / /; s/ bulk / /')
fi

T=$(mktemp -d /tmp/ser-bench.XXXXXX)
pin=""     # "taskset -c CPU" while the round trips run on one CPU
srv=""     # the server just started (main pid); srv2: socat behind stunnel
srv2=""
cleanup() {
    for _p in $pids; do stop_tree "$_p"; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Results of this invocation are kept for the summary as well.
rec() { emit "$@"; printf '%s\t' "$@" >>"$T/r.tsv"; echo >>"$T/r.tsv"; }

"$top/tools/ser-certs" ca -d "$T/c" >/dev/null
"$top/tools/ser-certs" server srv --ip 127.0.0.1 -d "$T/c" >/dev/null

# pty_pair NAME: a socat pty pair, $T/dev.NAME the servers' end and
# $T/peer.NAME the driver's (the device); sets relay to socat's pid.
pty_pair() {
    rm -f "$T/dev.$1" "$T/peer.$1"
    $pin socat "pty,raw,echo=0,link=$T/dev.$1" "pty,raw,echo=0,link=$T/peer.$1" 2>"$T/relay.$1.log" &
    relay=$!; pids="$pids $relay"
    _i=0
    while { [ ! -e "$T/dev.$1" ] || [ ! -e "$T/peer.$1" ]; } && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    if [ ! -e "$T/dev.$1" ] || [ ! -e "$T/peer.$1" ]; then
        echo "$0: socat made no pty pair" >&2; cat "$T/relay.$1.log" >&2; exit 1
    fi
}
# The pair of the tput and bulk runs lives as long as the script.
pty_pair tput
relay_tput=$relay

cat >"$T/drive.py" <<'PY'
# drive.py DIR tput KIND N PORT AMOUNT BUDGET NAME=PID...
#   the device (DIR/peer.tput) writes AMOUNT bytes, or what it can in BUDGET
#   seconds, to N clients (KIND tcp or tls) of the server on PORT; the CPU
#   of each process tree NAME=PID is reported.
# drive.py DIR rtt TRIPS SPEC...
#   16-byte round trips, each subject's in turn; SPEC NAME:PORT:PEER:PID for
#   a server, floor:0:PEER:DEV for the trip without one.
import os, select, socket, ssl, sys, time
tdir, mode = sys.argv[1], sys.argv[2]
WINDOW = 1 << 20
deadline = time.time() + 25
msg = b"0123456789abcdef"
ctx = ssl.create_default_context(cafile=tdir + "/c/ca.pem")

def procs(root):
    """root and every descendant (through each thread's children)."""
    out, todo = [], [root]
    while todo and len(out) < 256:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                todo += [int(x) for x in open("/proc/%d/task/%s/children" % (p, t)).read().split()]
        except OSError:
            pass
    return out

def cpu(trees):
    """{name: (utime+stime ticks, schedstat ns of every thread)}."""
    res = {}
    for name, pid in trees:
        ticks = ns = 0
        for p in procs(int(pid)):
            try:
                f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
                ticks += int(f[11]) + int(f[12])
                for t in os.listdir("/proc/%d/task" % p):
                    ns += int(open("/proc/%d/task/%s/schedstat" % (p, t)).read().split()[0])
            except (OSError, IndexError, ValueError):
                continue
        res[name] = (ticks, ns)
    return res

def read_exact(fd, want, what):
    got = b""
    while len(got) < want:
        r, _, _ = select.select([fd], [], [], 1)
        if not r:
            if time.time() > deadline:
                sys.exit("timed out waiting for %s" % what)
            continue
        got += os.read(fd, want - len(got))
    return got

def drain(fd):
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass

def connect(port, kind):
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

def sync(clients, dev):
    """Until every client has seen a marker written after it was accepted (a
    server may open the device, or finish a handshake, after connect())."""
    for s in clients:
        s.setblocking(False)
    seen = [bytearray() for _ in clients]
    k = 0
    while time.time() < deadline:
        k += 1
        mark = b"\x00SYNC%d\x00" % k
        os.write(dev, mark)
        end = time.time() + 0.3
        while time.time() < end and not all(mark in b for b in seen):
            r, _, _ = select.select(clients, [], [], 0.02)
            for s in clients:
                if s in r or (isinstance(s, ssl.SSLSocket) and s.pending()):
                    if not recv_all(s, seen[clients.index(s)]):
                        sys.exit("a client got EOF while syncing")
        if all(mark in b for b in seen):
            drain(dev)
            return
    sys.exit("the clients never all saw the sync marker")

def tput(kind, n, port, amount, budget, trees):
    dev = os.open(tdir + "/peer.tput", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    clients = [connect(port, kind) for _ in range(n)]
    sync(clients, dev)
    # Up to `amount` bytes, but the writer stops after `budget` seconds: a
    # slow server moves fewer bytes, and CPU and rate are per byte moved.
    data = os.urandom(1 << 16)
    got = [0] * n
    sent, target = 0, amount
    c0, t0 = cpu(trees), time.time()
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
    t1, c1 = time.time(), cpu(trees)
    words = " ".join("ticks_%s=%d ns_%s=%d" % (k, c1[k][0] - c0[k][0], k, c1[k][1] - c0[k][1]) for k in c0)
    tls = " tls=%s/%s" % (clients[0].version(), clients[0].cipher()[0]) if kind == "tls" else ""
    print("bytes=%d secs=%.4f %s%s" % (target, t1 - t0, words, tls))
    for s in clients:
        s.close()

def server_trip(s, dev):
    def go():
        s.sendall(msg)
        os.write(dev, read_exact(dev, 16, "the client's bytes at the device"))
        back = b""
        while len(back) < 16:
            b = s.recv(16 - len(back))
            if not b:
                sys.exit("EOF in a round trip")
            back += b
        if back != msg:
            sys.exit("a round trip came back as %r" % back)
    return go

def floor_trip(end, dev):
    # The server's end of the pty, opened by the driver: write, the echo
    # answers on the far end, read back. The pty relay both ways and the
    # echo, nothing of any server.
    def go():
        os.write(end, msg)
        os.write(dev, read_exact(dev, 16, "the echo"))
        if read_exact(end, 16, "the answer") != msg:
            sys.exit("the floor trip came back wrong")
    return go

def rtt(trips, specs):
    subs, trees = [], []
    for spec in specs:
        name, port, peer, last = spec.split(":")
        dev = os.open(peer, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        if name == "floor":
            end = os.open(last, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            drain(end)
            drain(dev)
            subs.append((name, floor_trip(end, dev)))
            continue
        s = connect(int(port), "tcp")
        sync([s], dev)
        s.setblocking(True)
        s.settimeout(5)
        subs.append((name, server_trip(s, dev)))
        trees.append((name, last))
    n = len(subs)
    for _ in range(200):
        for _, go in subs:
            go()
    lat = [[] for _ in subs]
    c0 = cpu(trees)
    for i in range(trips):
        for j in range(n):
            k = (i + j) % n
            a = time.perf_counter()
            subs[k][1]()
            lat[k].append(time.perf_counter() - a)
        if time.time() > deadline:
            sys.exit("timed out after %d trips" % i)
    c1 = cpu(trees)
    for k, (name, _) in enumerate(subs):
        v = sorted(lat[k])
        words = ""
        if name in c0:
            words = " ticks_server=%d ns_server=%d" % (c1[name][0] - c0[name][0], c1[name][1] - c0[name][1])
        print("%s trips=%d p50_us=%.1f p99_us=%.1f min_us=%.1f%s" % (
            name, trips, v[len(v) // 2] * 1e6, v[int(len(v) * 0.99)] * 1e6, v[0] * 1e6, words))

if mode == "tput":
    tput(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]),
         [a.split("=", 1) for a in sys.argv[8:]])
else:
    rtt(int(sys.argv[3]), sys.argv[4:])
PY

# start_SUBJECT KIND PORT [rtt]: the server on 127.0.0.1:PORT for KIND (tcp
# or tls) on the device $devp, its files named with $tag; sets srv (and srv2)
# and waits for its listener.
devp=$T/dev.tput tag=tput
started() {
    if ! wait_listen tcp "$1" 100 || ! alive "$srv"; then
        echo "$2 did not start (no listener on port $1):" >&2
        tail -n 5 "$T/srv.$tag.log" >&2
        return 1
    fi
}
start_ser() {
    { echo "debug=0"
      if [ "$1" = tls ]; then printf 'tls_certificate="%s"\ntls_private_key="%s"\n' "$T/c/srv.pem" "$T/c/srv.key"; fi
      cat <<CFG
serial "$devp" {
    baudrate=115200;
    listen=$1:127.0.0.1:$2;
}
CFG
    } >"$T/ser.$tag.cfg"
    $pin "$ser" -D -E -f "$T/ser.$tag.cfg" >"$T/srv.$tag.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" ser
}
start_socat() {
    _a="TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr"
    [ "$1" = tls ] && _a="OPENSSL-LISTEN:$2,bind=127.0.0.1,reuseaddr,cert=$T/c/srv.pem,key=$T/c/srv.key,verify=0"
    $pin socat "$_a" "FILE:$devp,raw,echo=0" >"$T/srv.$tag.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" socat
}
s2n_buf=""
start_ser2net() {
    _acc="tcp,127.0.0.1,$2"
    [ "$1" = tls ] && _acc="ssl(key=$T/c/srv.key,cert=$T/c/srv.pem),tcp,127.0.0.1,$2"
    _delay=true
    [ "${3:-}" = rtt ] && _delay=false
    cat >"$T/ser2net.$tag.yaml" <<YAML
connection: &bench
  accepter: $_acc
  connector: serialdev,$devp,115200n81,local
  options:
    max-connections: 4
    chardelay: $_delay
    mdns: false
YAML
    if [ -n "$s2n_buf" ]; then
        printf '    dev-to-net-bufsize: %s\n    net-to-dev-bufsize: %s\n' "$s2n_buf" "$s2n_buf" >>"$T/ser2net.$tag.yaml"
    fi
    $pin ser2net -n -u -c "$T/ser2net.$tag.yaml" -P "$T/ser2net.$tag.pid" >"$T/srv.$tag.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" ser2net
}
# ser2net with 16 KB buffers between device and network: its default ones
# are so small that it spends most of its CPU on small reads and writes.
start_ser2net_buf() { s2n_buf=16384; _rc=0; start_ser2net "$@" || _rc=$?; s2n_buf=""; return $_rc; }
# socat on plain TCP (a port of its own) with stunnel in front for TLS.
start_socat_stunnel() {
    pick_port _back
    $pin socat "TCP-LISTEN:$_back,bind=127.0.0.1,reuseaddr" "FILE:$devp,raw,echo=0" >"$T/srv2.$tag.log" 2>&1 &
    srv2=$!; pids="$pids $srv2"
    if ! wait_listen tcp "$_back" 100; then
        echo "socat behind stunnel did not start" >&2; tail -n 5 "$T/srv2.$tag.log" >&2; return 1
    fi
    cat >"$T/stunnel.$tag.conf" <<CFG
foreground = yes
pid =
debug = 3
[bench]
accept = 127.0.0.1:$2
connect = 127.0.0.1:$_back
cert = $T/c/srv.pem
key = $T/c/srv.key
CFG
    $pin stunnel "$T/stunnel.$tag.conf" >"$T/srv.$tag.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" stunnel
}

stop_servers() {
    [ -z "$srv" ] || stop_tree "$srv"
    [ -z "$srv2" ] || stop_tree "$srv2"
    srv="" srv2=""
}

# pick_port VAR: free_port, but a port no socket of any state uses (free_port
# sees listeners only; other programs on this machine hold thousands of
# connections on ephemeral ports of the bench range).
pick_port() {
    _k=0
    while free_port "$1" && eval "ss -Hant \"sport = :\$$1\"" | grep -q . && [ $_k -lt 20 ]; do _k=$((_k + 1)); done
}

# launch SUBJECT KIND [rtt]: start it on a free port (sets port), up to 3
# tries (a port can still be taken as some client's ephemeral port before the
# server binds it; ser2net sometimes fails at start with "Unable to start
# mdns: Out of memory", mdns: false or not).
launch() {
    _fn=start_$(echo "$1" | tr -- '-+' '__') _try=1
    while [ $_try -le 3 ]; do
        pick_port port
        if "$_fn" "$2" "$port" ${3:-}; then
            wait_settled "$srv"
            return 0
        fi
        stop_servers
        _try=$((_try + 1))
    done
    return 1
}

# val KEY: the value of KEY=... in the driver's output $out.
val() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1; }
# per_mb NS BYTES SCALE: NS nanoseconds over BYTES bytes, per MB, / SCALE.
per_mb() { awk -v ns="$1" -v b="$2" -v s="$3" 'BEGIN { printf "%.3f", b ? ns / s * 1048576 / b : 0 }'; }

# run SUBJECT CASE ROUND: one tput or bulk run: start the subject, drive it
# once, record.
run() {
    r_s=$1 r_case=$2 r_round=$3
    r_kind=${r_case%%[0-9]*} r_n=${r_case#"$r_kind"}
    [ "$r_case" = bulk ] && r_kind=tls r_n=1
    if ! alive "$relay_tput"; then
        echo "the pty relay died; a new one" >&2; pty_pair tput; relay_tput=$relay
    fi
    devp=$T/dev.tput tag=tput
    if ! launch "$r_s" "$r_kind"; then
        echo "round $r_round $r_s $r_case FAILED: did not start"
        return 0
    fi
    r_trees="server=$srv"
    [ -n "$srv2" ] && r_trees="stunnel=$srv socat=$srv2"
    # shellcheck disable=SC2086
    if ! out=$(timeout -k 2 30 python3 "$T/drive.py" "$T" tput "$r_kind" "$r_n" "$port" $((mb * 1048576)) "$secs" $r_trees 2>&1); then
        echo "round $r_round $r_s $r_case FAILED: $out"
        tail -n 5 "$T/srv.tput.log"
        stop_servers; return 0
    fi
    stop_servers
    echo "round $r_round $r_s $r_case $out"
    r_bytes=$(val bytes)
    r_rate=$(awk -v b="$r_bytes" -v t="$(val secs)" 'BEGIN { printf "%.1f", b / 1048576 / t }')
    r_tls=$(val tls)
    r_note="$((r_bytes / 1048576)) MB${r_tls:+, $r_tls}"
    if [ "$r_case" = bulk ]; then
        echo "$r_tls" | sed 's,.*/,,' >>"$T/suites"
        r_row="device→1 client TLS: CPU per MB"
        if [ "$r_s" = socat+stunnel ]; then
            r_both=$(($(val ns_stunnel) + $(val ns_socat)))
            rec tls_bulk "$r_row" socat+stunnel "$r_round" "$(per_mb "$r_both" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
            rec tls_bulk "$r_row" stunnel "$r_round" "$(per_mb "$(val ns_stunnel)" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
        else
            rec tls_bulk "$r_row" "$r_s" "$r_round" "$(per_mb "$(val ns_server)" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
        fi
        rec tls_bulk "device→1 client TLS: throughput" "$r_s" "$r_round" "$r_rate" "MB/s (higher is better)" "$r_note"
        return 0
    fi
    r_what="$r_n clients"; [ "$r_n" = 1 ] && r_what="1 client"
    r_K=$(echo "$r_kind" | tr '[:lower:]' '[:upper:]')
    rec serial "device→$r_what $r_K: CPU per MB" "$r_s" "$r_round" "$(per_mb "$(val ns_server)" "$r_bytes" 1000000)" "ms CPU/MB" "$r_note"
    rec serial "device→$r_what $r_K: throughput" "$r_s" "$r_round" "$r_rate" "MB/s (higher is better)" "$r_note"
}

# rtt_run CASE ROUND: every rtt subject at once, each on a pty pair of its
# own, their trips taken in turn by one driver; the order of the subjects
# rotates from round to round.
rtt_run() {
    t_case=$1 t_round=$2 t_specs="" t_stop=""
    if [ "$t_case" = rtt1cpu ]; then pin="taskset -c $rtt_cpu"; else pin=""; fi
    for t_s in $(order "$t_round" $subj_rtt); do
        [ "$t_s" = floor ] || has "$t_s" || continue
        tag=$(echo "$t_s" | tr -- '-+' '__')
        pty_pair "$tag"
        t_stop="$t_stop $relay"
        if [ "$t_s" = floor ]; then
            t_specs="$t_specs floor:0:$T/peer.$tag:$T/dev.$tag"
            continue
        fi
        devp=$T/dev.$tag
        if launch "$t_s" tcp rtt; then
            t_specs="$t_specs $t_s:$port:$T/peer.$tag:$srv"
            t_stop="$t_stop $srv"
        else
            echo "round $t_round $t_s $t_case FAILED: did not start"
        fi
        srv="" srv2=""
    done
    # shellcheck disable=SC2086
    if out=$(timeout -k 2 30 $pin python3 "$T/drive.py" "$T" rtt "$trips" $t_specs 2>&1); then
        t_row="round trip 16 B via pty"
        [ "$t_case" = rtt1cpu ] && t_row="round trip 16 B via pty, all on one CPU"
        echo "$out" | while read -r t_s t_rest; do
            echo "round $t_round $t_s $t_case $t_rest"
            out=$t_rest
            rec serial "$t_row: p50" "$t_s" "$t_round" "$(val p50_us)" "us p50"
            rec serial "$t_row: p99" "$t_s" "$t_round" "$(val p99_us)" "us p99"
            if [ "$t_s" != floor ]; then
                rec serial "$t_row: server CPU per trip" "$t_s" "$t_round" \
                    "$(awk -v ns="$(val ns_server)" -v n="$trips" 'BEGIN { printf "%.2f", ns / 1000 / n }')" "us CPU/trip"
            fi
        done
    else
        echo "round $t_round $t_case FAILED: $out"
    fi
    for t_p in $t_stop; do stop_tree "$t_p"; done
    pin="" devp=$T/dev.tput tag=tput
}

# floor_bulk ROUND: us of CPU per MB to seal it in 16 KB TLS records with
# the AEAD cipher the bulk runs negotiated (openssl speed -aead, CPU time).
floor_bulk() {
    _suite=$(sort "$T/suites" 2>/dev/null | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
    case ${_suite:-TLS_AES_256_GCM_SHA384} in
    TLS_AES_256_GCM_SHA384) _alg=aes-256-gcm ;;
    TLS_AES_128_GCM_SHA256) _alg=aes-128-gcm ;;
    TLS_CHACHA20_POLY1305_SHA256) _alg=chacha20-poly1305 ;;
    *) echo "round $1 floor bulk: no openssl speed name for $_suite"; return 0 ;;
    esac
    _bps=$(openssl speed -aead -evp "$_alg" -bytes 16384 -seconds 1 -mr 2>/dev/null | awk -F: '/^\+F:/ { print $4; exit }')
    [ -n "$_bps" ] || { echo "round $1 floor bulk: openssl speed gave nothing"; return 0; }
    _us=$(awk -v b="$_bps" 'BEGIN { printf "%.3f", 1e6 * 1048576 / b }')
    echo "round $1 floor bulk openssl speed -aead -evp $_alg -bytes 16384: $_bps bytes/s = $_us us/MB"
    rec tls_bulk "device→1 client TLS: CPU per MB" floor "$1" "$_us" "us CPU/MB" "openssl speed -aead -evp $_alg, 16384-byte blocks"
}

# order R WORD...: the words rotated left by R-1.
order() {
    _r=$(($1 - 1)); shift
    [ $# -gt 0 ] || return 0
    _r=$((_r % $#)) _head=""
    while [ $_r -gt 0 ]; do _head="$_head $1"; shift; _r=$((_r - 1)); done
    # shellcheck disable=SC2086
    echo "$@" $_head
}

# Which subject runs which case.
subj_tcp1="ser socat ser2net ser2net-buf"
subj_tcp4="ser ser2net ser2net-buf"
subj_tls1=$subj_tcp1
subj_tls4=$subj_tcp4
subj_rtt="ser socat ser2net ser2net-buf floor"
subj_bulk="ser socat+stunnel"

emit_desc serial "The serial bridge against socat 1.7 and ser2net 4.x (as shipped, and ser2net-buf: 16 KB device and network buffers) on socat pty pairs; a python driver is the device (the pty's far end) and every client. device→N clients: ${mb} MB of device bytes a run, or what moves in ${secs} s (every client gets every byte; the writer stays at most 1 MB ahead of the slowest client); CPU of the server's whole process tree (schedstat of every thread) per device MB; socat serves one client only; ser2net runs with max-connections: 4 and its chardelay on. Round trip: one TCP client writes 16 bytes, the server passes them to the device, the driver echoes them on the far end, the server passes them back, one trip at a time, ${trips} trips after 200 untimed; ser2net with chardelay off. All subjects of a round trip row run at once, each on its own pty pair, and the driver takes one trip of each in turn, so that all see the same moments of this VM (its trips are either fast or several times slower, from one second to the next). The floor is the same trip with no server: the driver writes 16 bytes to the server's end of the pty itself, answers them on the far end and reads them back there: the socat pty relay both ways and the echo, the part of every server's trip that is not the server (its two TCP hops and its own work are not in it). The rows \"all on one CPU\" pin the relays, servers and driver to one CPU (taskset); the pty's kernel worker still runs anywhere."
emit_cmd serial "bench/parts/serial.sh $rounds   # SERIAL_MB=$mb SERIAL_SECS=$secs SERIAL_TRIPS=$trips"
emit_desc tls_bulk "Device → one TLS 1.3 client over the serial bridge: ser's serial block with listen=tls: against socat serving the same pty on plain TCP with stunnel 5 in front terminating TLS (socat+stunnel: CPU of both processes; stunnel: stunnel's alone), the same python client and pty as the serial part, ${mb} MB or ${secs} s a run. CPU per device MB from schedstat of every thread. The floor is openssl speed -aead -evp of the AEAD cipher the connections negotiated at 16384-byte blocks (TLS's largest record), CPU time, as us per MB: the sealing alone, none of the reads, writes and record framing."
emit_cmd tls_bulk "bench/parts/serial.sh $rounds   # SERIAL_CASES=bulk SERIAL_MB=$mb SERIAL_SECS=$secs"

echo "serial bench: $rounds round(s), cases: $cases; subjects: $subjects; $mb MB or $secs s per tput run, $trips round trips; load $(load1)"
t_start=$(date +%s)
round=1
while [ "$round" -le "$rounds" ]; do
    for c in $cases; do
        case $c in
        rtt|rtt1cpu) rtt_run "$c" "$round" ;;
        *)
            eval "_list=\$subj_$c"
            # shellcheck disable=SC2154
            for s in $(order "$round" $_list); do
                if has "$s"; then run "$s" "$c" "$round"; fi
            done
            if [ "$c" = bulk ]; then floor_bulk "$round"; fi
            ;;
        esac
    done
    round=$((round + 1))
done
echo "serial bench: $(( $(date +%s) - t_start )) s"

# The summary: per row, each subject's median, and ser/other per round.
python3 - "$T/r.tsv" <<'PY'
import statistics, sys
rows, units = {}, {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    part, row, subj, rnd, value, unit = f[:6]
    rows.setdefault((part, row), {}).setdefault(subj, {})[int(rnd)] = float(value)
    units[(part, row)] = unit
order = ["ser", "socat", "ser2net", "ser2net-buf", "socat+stunnel", "stunnel", "floor"]
print("\nmedians over the rounds; ser/X: the median of the per-round ratios [min-max]")
for key, subs in rows.items():
    print("%-8s %s (%s)" % (key[0], key[1], units[key]))
    ser = subs.get("ser", {})
    for s in sorted(subs, key=order.index):
        v = subs[s]
        line = "    %-14s %10.3f" % (s, statistics.median(v.values()))
        if s != "ser" and ser:
            r = [ser[k] / v[k] for k in v if k in ser and v[k]]
            if r:
                line += "   ser/%s %.2f [%.2f-%.2f]" % (s, statistics.median(r), min(r), max(r))
        line += "   rounds: " + " ".join("%g" % v[k] for k in sorted(v))
        print(line)
PY

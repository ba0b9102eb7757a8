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
#           reading the server's end of the pty itself.
#   rtt1cpu the same round trips with the pty relay, the server and the
#           driver all on one CPU (taskset, SERIAL_RTT_CPU, default the last):
#           on this VM a wake-up of an idle vCPU costs about 100 us, so trips
#           across the two CPUs measure mostly that; on one CPU they measure
#           the software path.
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
# env: SERIAL_MB (64), SERIAL_SECS (2), SERIAL_TRIPS (5000),
#      SERIAL_CASES ("tcp1 tcp4 tls1 tls4 rtt rtt1cpu bulk"), SERIAL_RTT_CPU,
#      SERIAL_SUBJECTS ("ser socat ser2net ser2net-buf socat+stunnel")
# Budget: a tput run moves SERIAL_MB (64) MB, or what the server moves in
# SERIAL_SECS (2) s if that is less; a rtt run is 200 warm-up trips and
# SERIAL_TRIPS (5000) timed ones. A round is 16 tput runs, 10 rtt runs and 1 s
# of openssl speed: about 40 s on 2 idle cores (ser2net as shipped uses its
# 2 s in every tput case), so 3 rounds take about 2-3 minutes and stay under 6
# with the cores shared. Every run is bounded (driver 30 s, then killed).
# Result lines go to $BENCH_OUT (bench/lib.sh); a summary goes to stdout.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
top=$(cd "$here/.." && pwd)
rounds=${1:-3}
ser=${2:-$top/build/tls/ser}
mb=${SERIAL_MB:-64} secs=${SERIAL_SECS:-2} trips=${SERIAL_TRIPS:-5000}
cases=${SERIAL_CASES:-tcp1 tcp4 tls1 tls4 rtt rtt1cpu bulk}
rtt_cpu=${SERIAL_RTT_CPU:-$(($(nproc) - 1))}
subjects=${SERIAL_SUBJECTS:-ser socat ser2net ser2net-buf socat+stunnel}
[ -x "$ser" ] || { echo "$0: no ser binary at $ser" >&2; exit 2; }
for t in socat python3 openssl timeout taskset; do
    command -v $t >/dev/null || { echo "$0: $t not installed" >&2; exit 2; }
done
has() { case " $subjects " in *" $1 "*) return 0 ;; esac; return 1; }
want() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }
command -v ser2net >/dev/null || subjects=$(echo " $subjects " | sed 's/ ser2net / /; s/ ser2net-buf / /')
command -v stunnel >/dev/null || subjects=$(echo " $subjects " | sed 's/ socat+stunnel / /')
if ! "$ser" -V | grep -q '(TLS'; then
    echo "$0: $ser is built without TLS: no tls1, tls4, bulk" >&2
    cases=$(echo " $cases " | sed 's/ tls1 / /; s/ tls4 / /; s/ bulk / /')
fi

T=$(mktemp -d /tmp/ser-bench.XXXXXX)
relay=""   # the socat that makes the pty pair
pin=""     # "taskset -c CPU" while the round trips run on one CPU
srv=""     # the server of the run (main pid); srv2: socat behind stunnel
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

# The pty pair: $T/dev is the servers' end, $T/peer the driver's (the device).
start_relay() {
    rm -f "$T/dev" "$T/peer"
    $pin socat "pty,raw,echo=0,link=$T/dev" "pty,raw,echo=0,link=$T/peer" 2>"$T/relay.log" &
    relay=$!; pids="$pids $relay"
    _i=0
    while { [ ! -e "$T/dev" ] || [ ! -e "$T/peer" ]; } && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    [ -e "$T/dev" ] && [ -e "$T/peer" ] || { echo "$0: socat made no pty pair" >&2; cat "$T/relay.log" >&2; exit 1; }
}
start_relay

cat >"$T/drive.py" <<'PY'
# drive.py MODE KIND PORT N DIR AMOUNT BUDGET [NAME=PID...]
#   MODE tput: the device writes AMOUNT bytes (or what it can in BUDGET
#   seconds) to N clients; rtt: AMOUNT 16-byte round trips through the
#   server; floor: the same trips with no server (KIND, PORT, N unused).
#   KIND tcp or tls. NAME=PID: the process trees whose CPU is reported.
import os, select, socket, ssl, sys, time
mode, kind, port, n, tdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
amount, budget = int(sys.argv[6]), float(sys.argv[7])
trees = [a.split("=", 1) for a in sys.argv[8:]]
WINDOW = 1 << 20
deadline = time.time() + 25

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

def cpu():
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

def cpu_words(c0, c1):
    return " ".join("ticks_%s=%d ns_%s=%d" % (k, c1[k][0] - c0[k][0], k, c1[k][1] - c0[k][1]) for k in c0)

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

dev = os.open(tdir + "/peer", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
msg = b"0123456789abcdef"

def trips(go):
    """Times `amount` trips of go() after 200 untimed ones: p50, p99 in us."""
    for _ in range(200):
        go()
    lat = []
    for _ in range(amount):
        a = time.perf_counter()
        go()
        lat.append(time.perf_counter() - a)
        if time.time() > deadline:
            sys.exit("timed out after %d trips" % len(lat))
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6, lat[0] * 1e6

if mode == "floor":
    # The server's end of the pty, opened by the driver: write, the echo
    # answers on the far end, read back. The pty relay both ways and the
    # echo, nothing of any server.
    end = os.open(tdir + "/dev", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    drain(end); drain(dev)
    def go():
        os.write(end, msg)
        os.write(dev, read_exact(dev, 16, "the echo"))
        if read_exact(end, 16, "the answer") != msg:
            sys.exit("the floor trip came back wrong")
    p50, p99, low = trips(go)
    print("trips=%d p50_us=%.1f p99_us=%.1f min_us=%.1f" % (amount, p50, p99, low))
    sys.exit(0)

ctx = ssl.create_default_context(cafile=tdir + "/c/ca.pem")

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
drain(dev)
tls = " tls=%s/%s" % (clients[0].version(), clients[0].cipher()[0]) if kind == "tls" else ""

if mode == "tput":
    # Up to `amount` bytes, but the writer stops after `budget` seconds: a
    # slow server moves fewer bytes, and CPU and rate are per byte moved.
    data = os.urandom(1 << 16)
    got = [0] * n
    sent, target = 0, amount
    c0, t0 = cpu(), time.time()
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
    t1, c1 = time.time(), cpu()
    print("bytes=%d secs=%.4f %s%s" % (target, t1 - t0, cpu_words(c0, c1), tls))
else:
    s = clients[0]
    s.setblocking(True)
    s.settimeout(5)
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
    c0 = cpu()
    p50, p99, low = trips(go)
    c1 = cpu()
    print("trips=%d p50_us=%.1f p99_us=%.1f min_us=%.1f %s" % (amount, p50, p99, low, cpu_words(c0, c1)))
for s in clients:
    s.close()
PY

# start_SUBJECT KIND PORT [rtt]: the server on 127.0.0.1:PORT for KIND (tcp
# or tls); sets srv (and srv2) and waits for its listener.
started() {
    if ! wait_listen tcp "$1" 100 || ! alive "$srv"; then
        echo "$2 did not start (no listener on port $1):" >&2
        tail -n 20 "$T/srv.log" >&2
        return 1
    fi
}
start_ser() {
    { echo "debug=0"
      if [ "$1" = tls ]; then printf 'tls_certificate="%s"\ntls_private_key="%s"\n' "$T/c/srv.pem" "$T/c/srv.key"; fi
      cat <<CFG
serial "$T/dev" {
    baudrate=115200;
    listen=$1:127.0.0.1:$2;
}
CFG
    } >"$T/ser.cfg"
    $pin "$ser" -D -E -f "$T/ser.cfg" >"$T/srv.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" ser
}
socat_tls="cert=$T/c/srv.pem,key=$T/c/srv.key,verify=0"
start_socat() {
    _a="TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr"
    [ "$1" = tls ] && _a="OPENSSL-LISTEN:$2,bind=127.0.0.1,reuseaddr,$socat_tls"
    $pin socat "$_a" "FILE:$T/dev,raw,echo=0" >"$T/srv.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" socat
}
s2n_buf=""
start_ser2net() {
    _acc="tcp,127.0.0.1,$2"
    [ "$1" = tls ] && _acc="ssl(key=$T/c/srv.key,cert=$T/c/srv.pem),tcp,127.0.0.1,$2"
    _delay=true
    [ "${3:-}" = rtt ] && _delay=false
    cat >"$T/ser2net.yaml" <<YAML
connection: &bench
  accepter: $_acc
  connector: serialdev,$T/dev,115200n81,local
  options:
    max-connections: 4
    chardelay: $_delay
YAML
    if [ -n "$s2n_buf" ]; then
        printf '    dev-to-net-bufsize: %s\n    net-to-dev-bufsize: %s\n' "$s2n_buf" "$s2n_buf" >>"$T/ser2net.yaml"
    fi
    $pin ser2net -n -u -c "$T/ser2net.yaml" -P "$T/ser2net.pid" >"$T/srv.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" ser2net
}
# ser2net with 16 KB buffers between device and network: its default ones
# are so small that it spends most of its CPU on small reads and writes.
start_ser2net_buf() { s2n_buf=16384; start_ser2net "$@"; _rc=$?; s2n_buf=""; return $_rc; }
# socat on plain TCP (a port of its own) with stunnel in front for TLS.
start_socat_stunnel() {
    free_port _back
    socat "TCP-LISTEN:$_back,bind=127.0.0.1,reuseaddr" "FILE:$T/dev,raw,echo=0" >"$T/srv2.log" 2>&1 &
    srv2=$!; pids="$pids $srv2"
    wait_listen tcp "$_back" 100 || { echo "socat behind stunnel did not start" >&2; cat "$T/srv2.log" >&2; return 1; }
    cat >"$T/stunnel.conf" <<CFG
foreground = yes
pid =
debug = 3
[bench]
accept = 127.0.0.1:$2
connect = 127.0.0.1:$_back
cert = $T/c/srv.pem
key = $T/c/srv.key
CFG
    stunnel "$T/stunnel.conf" >"$T/srv.log" 2>&1 &
    srv=$!; pids="$pids $srv"
    started "$2" stunnel
}

stop_servers() {
    [ -z "$srv" ] || stop_tree "$srv"
    [ -z "$srv2" ] || stop_tree "$srv2"
    srv="" srv2=""
}

# val KEY: the value of KEY=... in the driver's output $out.
val() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1; }
# per_mb NS BYTES SCALE: NS nanoseconds over BYTES bytes, per MB, / SCALE.
per_mb() { awk -v ns="$1" -v b="$2" -v s="$3" 'BEGIN { printf "%.3f", b ? ns / s * 1048576 / b : 0 }'; }

# run SUBJECT CASE ROUND: start the subject, drive it once, record.
run() {
    r_s=$1 r_case=$2 r_round=$3
    r_kind=${r_case%%[0-9]*} r_n=${r_case#"$r_kind"} r_mode=tput r_amount=$((mb * 1048576)) r_flag=""
    case $r_case in
    rtt|rtt1cpu) r_kind=tcp r_n=1 r_mode=rtt r_amount=$trips r_flag=rtt ;;
    bulk) r_kind=tls r_n=1 ;;
    esac
    alive "$relay" || { echo "the pty relay died; restarting it" >&2; start_relay; }
    free_port r_port
    r_fn=start_$(echo "$r_s" | tr -- '-+' '__')
    if ! "$r_fn" "$r_kind" "$r_port" $r_flag; then
        echo "round $r_round $r_s $r_case FAILED: did not start"
        stop_servers; return 0
    fi
    wait_settled "$srv"
    r_trees="server=$srv"
    [ -n "$srv2" ] && r_trees="stunnel=$srv socat=$srv2"
    # shellcheck disable=SC2086
    if ! out=$(timeout -k 2 30 $pin python3 "$T/drive.py" "$r_mode" "$r_kind" "$r_port" "$r_n" "$T" "$r_amount" "$secs" $r_trees 2>&1); then
        echo "round $r_round $r_s $r_case FAILED: $out"
        tail -n 5 "$T/srv.log"
        stop_servers; return 0
    fi
    stop_servers
    echo "round $r_round $r_s $r_case $out"
    if [ $r_mode = rtt ]; then
        r_row="round trip 16 B via pty"
        [ "$r_case" = rtt1cpu ] && r_row="round trip 16 B via pty, all on one CPU"
        rec serial "$r_row: p50" "$r_s" "$r_round" "$(val p50_us)" "us p50"
        rec serial "$r_row: p99" "$r_s" "$r_round" "$(val p99_us)" "us p99"
        rec serial "$r_row: server CPU per trip" "$r_s" "$r_round" \
            "$(awk -v ns="$(val ns_server)" -v n="$trips" 'BEGIN { printf "%.2f", ns / 1000 / n }')" "us CPU/trip"
        return 0
    fi
    r_bytes=$(val bytes)
    r_rate=$(awk -v b="$r_bytes" -v t="$(val secs)" 'BEGIN { printf "%.1f", b / 1048576 / t }')
    r_tls=$(val tls)
    r_note="$((r_bytes / 1048576)) MB${r_tls:+, $r_tls}"
    if [ "$r_case" = bulk ]; then
        echo "$r_tls" | sed 's,.*/,,' >>"$T/suites"
        if [ "$r_s" = socat+stunnel ]; then
            r_both=$(($(val ns_stunnel) + $(val ns_socat)))
            rec tls_bulk "device→1 client TLS: CPU per MB" socat+stunnel "$r_round" "$(per_mb "$r_both" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
            rec tls_bulk "device→1 client TLS: CPU per MB" stunnel "$r_round" "$(per_mb "$(val ns_stunnel)" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
        else
            rec tls_bulk "device→1 client TLS: CPU per MB" "$r_s" "$r_round" "$(per_mb "$(val ns_server)" "$r_bytes" 1000)" "us CPU/MB" "$r_note"
        fi
        rec tls_bulk "device→1 client TLS: throughput" "$r_s" "$r_round" "$r_rate" "MB/s (higher is better)" "$r_note"
        return 0
    fi
    r_what="$r_n clients"; [ "$r_n" = 1 ] && r_what="1 client"
    r_K=$(echo "$r_kind" | tr a-z A-Z)
    rec serial "device→$r_what $r_K: CPU per MB" "$r_s" "$r_round" "$(per_mb "$(val ns_server)" "$r_bytes" 1000000)" "ms CPU/MB" "$r_note"
    rec serial "device→$r_what $r_K: throughput" "$r_s" "$r_round" "$r_rate" "MB/s (higher is better)" "$r_note"
}

# floor_rtt ROUND CASE: the round trip without a server.
floor_rtt() {
    alive "$relay" || start_relay
    # shellcheck disable=SC2086
    if ! out=$(timeout -k 2 30 $pin python3 "$T/drive.py" floor tcp 0 0 "$T" "$trips" 0 2>&1); then
        echo "round $1 floor $2 FAILED: $out"; return 0
    fi
    echo "round $1 floor $2 $out"
    f_row="round trip 16 B via pty"
    [ "$2" = rtt1cpu ] && f_row="round trip 16 B via pty, all on one CPU"
    rec serial "$f_row: p50" floor "$1" "$(val p50_us)" "us p50"
    rec serial "$f_row: p99" floor "$1" "$(val p99_us)" "us p99"
}

# pin_all CPU|"": the pty relay, and every server and driver started from
# now on, on that one CPU (or back on every CPU).
pin_all() {
    if [ -n "$1" ]; then
        pin="taskset -c $1"
        taskset -a -pc "$1" "$relay" >/dev/null
    else
        pin=""
        taskset -a -pc "0-$(($(nproc) - 1))" "$relay" >/dev/null
    fi
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
    echo $* $_head
}

# Which subject runs which case.
subj_tcp1="ser socat ser2net ser2net-buf"
subj_tcp4="ser ser2net ser2net-buf"
subj_tls1=$subj_tcp1 subj_tls4=$subj_tcp4
subj_rtt="ser socat ser2net ser2net-buf floor"
subj_rtt1cpu=$subj_rtt
subj_bulk="ser socat+stunnel"

emit_desc serial "The serial bridge against socat 1.7 and ser2net 4.x (as shipped, and ser2net-buf: 16 KB device and network buffers) on a socat pty pair; a python driver is the device (the pty's far end) and every client. device→N clients: MB of device bytes (every client gets every byte; the writer stays at most 1 MB ahead of the slowest client), CPU of the server's whole process tree (schedstat of every thread) per device MB; socat serves one client only; ser2net runs with max-connections: 4 and its chardelay on. Round trip: one TCP client writes 16 bytes, the server passes them to the device, the driver echoes them on the far end, the server passes them back, one trip at a time, ${trips} trips after 200 untimed; ser2net with chardelay off. The floor is the same trip with no server: the driver writes 16 bytes to the server's end of the pty itself, answers them on the far end and reads them back there, so it covers the socat pty relay both ways and the echo, the part of every server's trip that is not the server (its two TCP hops and its own work are not in it). The rows "all on one CPU" run the same trips with the pty relay, the server and the driver pinned to one CPU (taskset): across CPUs a trip waits for idle vCPUs to wake (about 100 us each on this VM), on one CPU it is the software path."
emit_cmd serial "bench/parts/serial.sh $rounds   # SERIAL_MB=$mb SERIAL_SECS=$secs SERIAL_TRIPS=$trips"
emit_desc tls_bulk "Device → one TLS 1.3 client over the serial bridge: ser's serial block with listen=tls: against socat serving the same pty on plain TCP with stunnel 5 in front terminating TLS (socat+stunnel: CPU of both processes; stunnel: stunnel's alone), the same python client and pty as the serial part, ${mb} MB or ${secs} s a run. CPU per device MB from schedstat of every thread. The floor is openssl speed -aead -evp of the AEAD cipher the connections negotiated at 16384-byte blocks (TLS's largest record), CPU time, as us per MB: the sealing alone, none of the reads, writes and record framing."
emit_cmd tls_bulk "bench/parts/serial.sh $rounds   # SERIAL_CASES=bulk SERIAL_MB=$mb SERIAL_SECS=$secs"

echo "serial bench: $rounds round(s), cases: $cases; subjects: $subjects; $mb MB or $secs s per tput run, $trips round trips; load $(load1)"
t_start=$(date +%s)
round=1
while [ "$round" -le "$rounds" ]; do
    for c in $cases; do
        eval "_list=\$subj_$c"
        if [ "$c" = rtt1cpu ]; then pin_all "$rtt_cpu"; else pin_all ""; fi
        for s in $(order "$round" $_list); do
            if [ "$s" = floor ]; then
                floor_rtt "$round" "$c"
            elif has "$s"; then
                run "$s" "$c" "$round"
            fi
        done
        [ "$c" = bulk ] && floor_bulk "$round"
    done
    pin_all ""
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

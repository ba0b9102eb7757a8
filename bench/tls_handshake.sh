#!/bin/sh
# bench/tls_handshake.sh — server-side CPU per TLS handshake, full and resumed,
# for an ECDSA P-256 and an RSA 2048 certificate, and the memory one idle TLS
# connection costs in its worker.
# openssl s_time drives handshakes against a ser TLS listener for a fixed time;
# ser's CPU (utime+stime of all its processes, /proc/PID/stat) is divided by
# the number of connections s_time made.
#   bench/tls_handshake.sh [SECONDS] [SER_BINARY]
set -eu
. "$(dirname "$0")/lib.sh"
secs=${1:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
ser=${2:-$top/build/tls/ser}
T=$(mktemp -d /tmp/ser-bench.XXXXXX)
main=""
trap '[ -n "$main" ] && kill $main 2>/dev/null; rm -rf "$T"' EXIT
"$top/tools/ser-certs" ca -d "$T/c" >/dev/null
"$top/tools/ser-certs" server ec -d "$T/c" --dns localhost --ip 127.0.0.1 >/dev/null
"$top/tools/ser-certs" server rsa -d "$T/c" --dns localhost --ip 127.0.0.1 --key-type rsa2048 >/dev/null
hz=$(getconf CLK_TCK)


run_one() { # $1 = cert name, $2 = -new | -reuse, $3 = s_time version flag
    port=$(bench_port)
    cat >"$T/ser.cfg" <<CFG
debug=0
children=1
tcp_children=1
listen=tls:127.0.0.1:$port
tls_certificate="c/$1.pem"
tls_private_key="c/$1.key"
route { drop; }
CFG
    "$ser" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
    main=$!
    i=0; while ! ss -Hlnt "sport = :$port" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    before=$(ser_cpu_ticks $main)
    out=$(openssl s_time -connect 127.0.0.1:$port $2 $3 -time "$secs" -CAfile "$T/c/ca.pem" 2>/dev/null)
    after=$(ser_cpu_ticks $main)
    conns=$(echo "$out" | sed -n 's/^\([0-9]*\) connections in .*/\1/p' | tail -n 1)
    kill $main; wait $main 2>/dev/null || true; main=""
    awk -v k="$1" -v m="$2" -v v="$3" -v c="${conns:-0}" -v d=$((after - before)) -v hz="$hz" 'BEGIN{
        us = d * 1e6 / hz; printf "%-4s %-7s %-7s handshakes=%d ser_cpu_ms=%.0f us_per_handshake=%.0f\n", k, m, v, c, us/1000, (c ? us / c : 0) }'
}

# s_time resumes by session id, which TLS 1.3 no longer has: resumption is
# measured with TLS 1.2 (session cache); full handshakes with both versions.
for k in ec rsa; do
    run_one $k -new -tls1_3
    run_one $k -new -tls1_2
    run_one $k -reuse -tls1_2
done

# Memory of idle TLS connections: RSS of the one worker before and after
# opening N connections that finish their handshake and then stay idle.
if command -v python3 >/dev/null; then
    port=$(bench_port)
    sed -i "s/^listen=.*/listen=tls:127.0.0.1:$port/; s/c\/rsa/c\/ec/g" "$T/ser.cfg"
    "$ser" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
    main=$!
    i=0; while ! ss -Hlnt "sport = :$port" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    worker=$(pgrep -P $main | head -n 1)
    rss() { awk '/^Rss:/{s+=$2} END{print s}' /proc/$worker/smaps_rollup; }
    python3 - "$port" "$T/c/ca.pem" 500 "$worker" <<'PY'
import socket, ssl, sys, time
port, ca, n, worker = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rss():
    for line in open(f"/proc/{worker}/smaps_rollup"):
        if line.startswith("Rss:"):
            return int(line.split()[1])
ctx = ssl.create_default_context(cafile=ca)
# warm-up connection so one-time allocations are not counted
w = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
time.sleep(0.2); before = rss()
conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") for _ in range(n)]
time.sleep(0.5); after = rss()
print(f"idle TLS connections={n} worker_rss_delta_kb={after-before} per_conn_kb={(after-before)/n:.1f}")
PY
fi

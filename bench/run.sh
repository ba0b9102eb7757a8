#!/bin/sh
# bench/run.sh — what `make bench` runs: every benchmark of bench/ against the
# ser just built (SER_BIN, default build/tls/ser). Figures go to stdout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ser=${SER_BIN:-$here/../build/tls/ser}
[ -x "$ser" ] || ser=$here/../ser
for proto in udp tcp; do
    "$here/cpu_per_msg.sh" "$proto" 1000 20000 "$ser"
done
if "$ser" -V | grep -q '(TLS'; then
    "$here/parts/tls_handshake.sh" 3 "$ser"
    "$here/parts/tls_idle_mem.sh" 3 "$ser"
fi
# The serial bridge beside socat and ser2net (TLS cases only with a TLS build).
if command -v socat >/dev/null && command -v python3 >/dev/null; then
    "$here/serial_bench.sh" 3 64 2 "$ser"
fi

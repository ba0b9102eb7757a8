#!/bin/sh
# bench/parts/tls_idle_load.sh — 10,000 idle TLS connections held by the proxy
# while calls run through it. bench/tlsload opens IDLE_CONNS TLS 1.3
# connections (ECDSA P-256) to the proxy's TLS listener and keeps them open
# and silent; then sipload makes calls over TLS (one connection per leg) at
# IDLE_RATE calls/s for IDLE_SECONDS. Figures: the share of calls that
# succeeded, the idle connections still open at the end, and the sum of Pss
# of the proxy's processes per held connection. ser runs with its defaults
# but tcp_max_connections, and the idle timeouts (tcp_first_msg_timeout: a
# connection that never sends a message is closed after 10 s by default;
# tcp_connection_lifetime) at an hour; Kamailio with its limits raised to
# match, the same lifetime and 1 GB of shared memory.
#
#   bench/parts/tls_idle_load.sh [ROUNDS] [SER_BINARY]
# env: SIPLOAD_BIN, TLSLOAD_BIN, IDLE_CONNS (10000), IDLE_RATE (500), IDLE_SECONDS (10),
#      IDLE_OPEN_RATE (1000 new idle connections a second)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
rounds=${1:-3}
ser=${2:-$here/../build/tls/ser}
. "$here/sip_lib.sh"
tlsload=${TLSLOAD_BIN:-$here/../build/tls/bench/tlsload}
[ -x "$tlsload" ] || { echo "$0: no $tlsload" >&2; exit 2; }
conns=${IDLE_CONNS:-10000} rate=${IDLE_RATE:-500} secs=${IDLE_SECONDS:-10}
open_rate=${IDLE_OPEN_RATE:-1000}   # new idle connections a second
limit=$((conns + 2000))
part=tls_idle_load

# measure SUBJECT ROUND
measure() {
    free_port SP; free_port UP
    start_uas tls "$UP"
    SER_EXTRA="tcp_max_connections=$limit
tcp_first_msg_timeout=3600
tcp_connection_lifetime=3600" \
    KAM_EXTRA="tcp_max_connections=$limit
tcp_connection_lifetime=3600
tls_max_connections=$limit
open_files_limit=$(ulimit -n)" KAM_SHM=1024 \
        start_proxy "$1" tls "$SP" "$UP"
    pss0=$(tree_pss_kb "$srv") nproc0=$(tree_pids "$srv" | wc -w)
    rm -f "$T/ready"
    "$tlsload" hold -c "127.0.0.1:$SP" --conns "$conns" --rate "$open_rate" --ready-file "$T/ready" >"$T/hold.out" 2>"$T/hold.err" &
    hold=$!; pids="$pids $hold"
    i=0; while [ ! -s "$T/ready" ] && alive "$hold" && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    est=$(kv established "$T/ready"); est=${est:-0}
    pss1=$(tree_pss_kb "$srv") nproc1=$(tree_pids "$srv" | wc -w)
    calls=$((rate * secs))
    run_uac tls "$SP" "$rate" "$calls"
    ok=$(kv ok "$T/uac.out"); ok=${ok:-0}
    stop_tree "$hold"
    closed=$(kv closed "$T/hold.out"); closed=${closed:-0}
    stop_tree "$srv"; stop_tree "$uas"
    pct=$(awk -v ok="$ok" -v c="$calls" 'BEGIN { printf "%.2f", 100 * ok / c }')
    per=$(awk -v a="$pss0" -v b="$pss1" -v n="$est" 'BEGIN { printf "%.1f", n ? (b - a) / n : 0 }')
    note="$est of $conns idle connections established"
    [ "$nproc1" -lt "$nproc0" ] && note="$note; $((nproc0 - nproc1)) of its $nproc0 processes died while the connections opened"
    emit $part "$conns idle TLS connections, calls at $rate calls/s: calls ok" "$1" "$2" "$pct" "% ok" "$note"
    emit $part "$conns idle TLS connections: still open after the calls" "$1" "$2" $((est - closed)) "established"
    [ "$nproc1" -eq "$nproc0" ] && emit $part "$conns idle TLS connections: Pss of all processes per connection" "$1" "$2" "$per" "KB"
    printf '%s\n' "round $2 $1 established=$est closed=$closed calls_ok=$ok/$calls pss_kb=$pss0->$pss1"
}

emit_desc $part "$conns idle TLS 1.3 connections (bench/tlsload hold) held by the proxy while sipload runs calls over TLS at $rate calls/s for $secs s."
emit_cmd $part "bench/parts/tls_idle_load.sh $rounds   # IDLE_CONNS=$conns IDLE_RATE=$rate IDLE_SECONDS=$secs"
emit_meta $part "load average at start $(load1)"
r=1
while [ "$r" -le "$rounds" ]; do
    for s in $(rotate $((r - 1)) ser kamailio-fm); do measure "$s" "$r"; done
    r=$((r + 1))
done
emit_meta $part "load average at end $(load1)"

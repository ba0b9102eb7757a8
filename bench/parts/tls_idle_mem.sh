#!/bin/sh
# bench/parts/tls_idle_mem.sh [ROUNDS] [SER_BINARY] — part tls_idle_mem:
# memory per idle TLS connection: the sum of Pss of every process of the
# server (tree_pss_kb; Pss counts the shared memory pages each process
# touched, shared by the processes touching them) before and after
# `tlsload hold` opened TLS_IDLE_CONNS (default 4000) TLS 1.3 connections
# (X25519, ECDSA P-256), divided by the connections established; for ser,
# Kamailio with -x fm -X fm (the anchor), Kamailio with Debian's default
# allocator, and the floor (tlsload floor: a minimal OpenSSL server holding as
# many connections). Each server is warmed with 50 handshakes first. Also the
# growth of Private_Dirty (the processes' own pages: heap, stacks) per
# connection, and for ser which process holds it.
#   BENCH_OUT=FILE bench/parts/tls_idle_mem.sh 3 build/tls/ser
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
top=$(cd "$here/.." && pwd)
part=tls_idle_mem
rounds=${1:-3}
ser=${2:-$top/build/tls/ser}
n=${TLS_IDLE_CONNS:-4000}
T=$(mktemp -d /tmp/ser-bench-tlsmem.XXXXXX)
hold=""
trap '[ -n "$hold" ] && stop_tree "$hold"; for _p in $pids; do stop_tree "$_p"; done; rm -rf "$T"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((n + 200)) ] || { echo "$0: ulimit -n $(ulimit -n) is too low for $n connections" >&2; exit 1; }

tlsload=${TLSLOAD_BIN:-$(dirname "$ser")/bench/tlsload}
[ -x "$tlsload" ] || tlsload=$top/build/tls/bench/tlsload
if [ ! -x "$tlsload" ]; then
    tlsload=$T/tlsload
    g++ -std=c++20 -O2 -Wall -Wextra -o "$tlsload" "$top"/bench/tlsload/*.cpp -lssl -lcrypto
fi
bench_certs "$T/c"

limit=$((n + 1000))
# Idle connections must outlive the measurement: ser closes a connection
# that sent no SIP message within tcp_first_msg_timeout (10 s), Kamailio an
# idle one after tcp_connection_lifetime (120 s).
ser_extra="tcp_max_connections=$limit
tcp_first_msg_timeout=3600
tcp_connection_lifetime=3600"
kam_extra="tcp_max_connections=$limit
tls_max_connections=$limit
tcp_connection_lifetime=3600"
kam_shm=${KAM_SHM:-1024}

emit_desc $part "Pss (kB, summed over every process of the server, shared memory counted as the pages each touched) per idle TLS 1.3 connection (X25519, ECDSA P-256), $n connections held open by tlsload hold after a warm-up of 50 handshakes; ser: tcp_max_connections=$limit tcp_first_msg_timeout=3600 tcp_connection_lifetime=3600, session cache and tickets at their defaults; kamailio-fm / kamailio: tcp_max_connections and tls_max_connections $limit, tcp_connection_lifetime 3600, -m $kam_shm; floor: tlsload floor (a forked minimal OpenSSL server: SSL_CTX with the certificate, default options, holding the SSL objects with their default buffers; socket kernel memory is in nobody's Pss); the row 'Private_Dirty per connection' counts only the processes' own dirty pages (not the shared memory). $(nproc) CPUs, load $(load1) at start"
emit_cmd $part "BENCH_OUT=FILE bench/parts/tls_idle_mem.sh $rounds SER_BINARY  (TLS_IDLE_CONNS=$n)"

row="idle TLS 1.3 connection, ECDSA P-256"
prow="Private_Dirty per connection"

start() {
    free_port port
    case $1 in
    ser)
        SER_EXTRA=$ser_extra ser_cfg "$T/ser.cfg" "tls:127.0.0.1:$port" "drop;" "$T/c/ec.pem" "$T/c/ec.key"
        start_ser "$ser" "$T/ser.cfg" "$T/ser.log" tcp "$port" ;;
    kamailio-fm|kamailio)
        _a=fm; [ "$1" = kamailio ] && _a=default
        KAM_EXTRA=$kam_extra kam_cfg "$T/kam.cfg" "tls:127.0.0.1:$port" "drop;" "$T/c/ec.pem" "$T/c/ec.key"
        KAM_SHM=$kam_shm start_kam "$T/kam.cfg" "$T/kam.log" $_a tcp "$port" ;;
    esac
}

# field FIELD PID: kB of an smaps_rollup field of one process.
field() { awk -v f="$1:" '$1 == f { print $2; exit }' "/proc/$2/smaps_rollup" 2>/dev/null || echo 0; }
tree_field() { # FIELD ROOT
    _s=0
    for _p in $(tree_pids "$2"); do _v=$(field "$1" "$_p"); _s=$((_s + ${_v:-0})); done
    echo $_s
}
# per_proc ROOT: "pid Private_Dirty Pss" of each process, to a file.
per_proc() {
    for _p in $(tree_pids "$1"); do
        echo "$_p $(field Private_Dirty "$_p") $(field Pss "$_p")"
        tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | cut -c1-32 | sed 's/ *$//' >"$T/name.$_p" || true
    done
}

measure() { # SUBJECT ROUND
    start "$1"
    timeout 60 "$tlsload" handshake -c "127.0.0.1:$port" --count 50 --concurrency 4 --tls 1.3 --groups X25519 \
        >/dev/null 2>&1 || true
    sleep 1
    _pss0=$(tree_pss_kb "$srv"); _pd0=$(tree_field Private_Dirty "$srv")
    per_proc "$srv" | sort >"$T/before"    # join wants them sorted
    rm -f "$T/ready"
    "$tlsload" hold -c "127.0.0.1:$port" --conns "$n" --ready-file "$T/ready" --tls 1.3 --groups X25519 \
        >"$T/hold.out" 2>"$T/hold.err" &
    hold=$!
    _i=0
    while [ ! -s "$T/ready" ] && [ $_i -lt 1200 ] && alive "$hold"; do sleep 0.1; _i=$((_i + 1)); done
    sleep 2    # let every worker publish and settle
    _pss1=$(tree_pss_kb "$srv"); _pd1=$(tree_field Private_Dirty "$srv")
    per_proc "$srv" | sort >"$T/after"
    _dead=""
    # Dead if any process there before is gone (Kamailio's main may still
    # be exiting when its workers are already gone).
    for _p in $(cut -d' ' -f1 "$T/before"); do alive "$_p" || _dead=" THE SERVER DIED"; done
    if [ -n "$_dead" ]; then
        echo "$part: $1 lost a process; its log:" >&2
        tail -n 20 "$T/ser.log" "$T/kam.log" 2>/dev/null >&2 || true
    fi
    kill "$hold" 2>/dev/null || true
    _i=0; while alive "$hold" && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    stop_tree "$hold"; hold=""
    _est=$(sed -n 's/^established=\([0-9]*\).*/\1/p' "$T/ready" 2>/dev/null)
    _fail=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' "$T/ready" 2>/dev/null)
    _closed=$(sed -n 's/.*closed_by_server=\([0-9]*\).*/\1/p' "$T/hold.out" | tail -n 1)
    stop_tree "$srv"
    echo "$part round $2 $1: $(cat "$T/ready" 2>/dev/null || echo 'not ready') closed_by_server=${_closed:-?} pss ${_pss0} -> ${_pss1} kB, private_dirty ${_pd0} -> ${_pd1} kB" >&2
    if [ -n "$_dead" ]; then
        # No figure from a server that crashed: the report says so instead.
        emit_desc $part "$1 died during round $2 after $_est of $n connections (${_fail:-?} failed): no figure for that round (seen in a run with debug=1: Kamailio 5.6's tls.so with OpenSSL 3 corrupts its shared memory under concurrent handshakes: 'qm_free(): BUG: freeing already freed pointer ... tls_init.c: ser_free', then SIGSEGV)"
        return 0
    fi
    if [ -z "$_est" ] || [ "$_est" -eq 0 ]; then
        echo "$0: $1: no connection established" >&2; cat "$T/hold.out" "$T/hold.err" >&2
        return 0
    fi
    _note="$_est of $n established, $_fail failed, ${_closed:-?} closed by the server while held; Pss $_pss0 -> $_pss1 kB$_dead"
    emit $part "$row" "$1" "$2" "$(awk -v a="$_pss0" -v b="$_pss1" -v e="$_est" 'BEGIN{ printf "%.2f", (b - a) / e }')" \
        kB/conn "$_note"
    # Where it sits: each process's own (Private_Dirty) growth.
    _where=$(join "$T/before" "$T/after" | while read -r _p _d0 _s0 _d1 _s1; do
        [ $((_d1 - _d0)) -gt 100 ] || continue
        printf "%s +%s kB; " "$(cat "$T/name.$_p" 2>/dev/null)" \
            "$(awk -v d=$((_d1 - _d0)) -v e="$_est" 'BEGIN{ printf "%.2f", d / e }')"
    done)
    emit $part "$prow" "$1" "$2" "$(awk -v a="$_pd0" -v b="$_pd1" -v e="$_est" 'BEGIN{ printf "%.2f", (b - a) / e }')" \
        kB/conn "Private_Dirty $_pd0 -> $_pd1 kB; by process, per connection of all $_est: ${_where:-no process grew over 100 kB}"
    if [ "$1" = ser ]; then
        echo "$part: ser per process (pid Private_Dirty Pss, before | after):" >&2
        join "$T/before" "$T/after" | while read -r _p _d0 _s0 _d1 _s1; do
            echo "  $(cat "$T/name.$_p" 2>/dev/null) Private_Dirty $_d0 -> $_d1 kB, Pss $_s0 -> $_s1 kB" >&2
        done
    fi
}

t0=$(date +%s)
r=1
while [ $r -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="ser kamailio-fm kamailio"; else order="kamailio kamailio-fm ser"; fi
    [ -n "${TLS_IDLE_SUBJECTS:-}" ] && order=$TLS_IDLE_SUBJECTS    # e.g. "ser" to try one
    for subj in $order; do measure "$subj" $r; done
    _fl=$(timeout 300 "$tlsload" floor --conns "$n" --cert "$T/c/ec.pem" --key "$T/c/ec.key" --tls 1.3 --groups X25519 2>&1 || true)
    echo "$part round $r floor: $_fl" >&2
    _v=$(echo "$_fl" | sed -n 's/.*per_conn_kb=\([0-9.]*\).*/\1/p')
    if [ -n "$_v" ]; then
        emit $part "$row" floor $r "$_v" kB/conn "tlsload floor: $(echo "$_fl" | grep '^floor')"
    fi
    r=$((r + 1))
done
echo "$part: $(($(date +%s) - t0)) s" >&2

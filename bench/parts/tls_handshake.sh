#!/bin/sh
# bench/parts/tls_handshake.sh [ROUNDS] [SER_BINARY] — part tls_handshake:
# server CPU (utime+stime of the server's whole process tree, /proc) per TLS
# handshake, full and resumed, for ser (TLS listener, route { drop; }),
# Kamailio with -x fm -X fm and tls.so (the anchor), stunnel (TLS in front of
# a local TCP sink that accepts and closes) and the floor: the public-key
# operations a server cannot avoid, timed by `openssl speed`.
# tlsload (bench/tlsload) makes the handshakes, 8 in flight, each closed
# cleanly (close_notify both ways); TLS 1.3 resumption uses each ticket once.
# Each round starts every server afresh (order alternates by round), warms it
# with 32 handshakes, then measures TLS_HS_SECONDS (default 3) per row.
#   BENCH_OUT=FILE bench/parts/tls_handshake.sh 3 build/tls/ser
# TLS_HS_SUBJECTS="ser" measures only those servers (before/after a change).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
top=$(cd "$here/.." && pwd)
part=tls_handshake
rounds=${1:-3}
ser=${2:-$top/build/tls/ser}
secs=${TLS_HS_SECONDS:-3}
conc=${TLS_HS_CONCURRENCY:-8}
T=$(mktemp -d /tmp/ser-bench-tlshs.XXXXXX)
trap 'for _p in $pids; do stop_tree "$_p"; done; rm -rf "$T"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# tlsload: $TLSLOAD_BIN, beside the ser binary, in build/tls/bench, or built here.
tlsload=${TLSLOAD_BIN:-$(dirname "$ser")/bench/tlsload}
[ -x "$tlsload" ] || tlsload=$top/build/tls/bench/tlsload
if [ ! -x "$tlsload" ]; then
    tlsload=$T/tlsload
    g++ -std=c++20 -O2 -Wall -Wextra -o "$tlsload" "$top"/bench/tlsload/*.cpp -lssl -lcrypto
fi

bench_certs "$T/c"

emit_desc $part "server CPU (utime+stime of every process of the server, /proc/PID/stat) per TLS handshake, in us: tlsload keeps $conc handshakes in flight for ${secs}s per row and closes each connection with close_notify; full handshakes with a fresh X25519 key share, resumed ones offering the last TLS 1.2 session (ticket or id) or an unused TLS 1.3 ticket (psk_dhe_ke); ser: tls listener with route { drop; } and its default session cache (20000, SSL_SESS_CACHE_SERVER) and tickets (OpenSSL's, 2 per full handshake); kamailio-fm: tls.so with its defaults (session_cache=0, OpenSSL tickets; one SSL_CTX per process, so a ticket resumes only in the worker that issued it); stunnel: defaults (session cache on, sessionCacheTimeout 300) in front of a TCP sink that accepts and closes (the sink's CPU not counted); floor: openssl speed, one X25519 key generation (taken as one X25519 derivation: both one scalar multiplication) + one derivation + one signature (full), the X25519 pair (resumed TLS 1.3), 12 HMAC-SHA256 of 64 bytes (resumed TLS 1.2: key block, two Finished, ticket MAC; no public-key operation). $(nproc) CPUs, load $(load1) at start"
emit_cmd $part "BENCH_OUT=FILE bench/parts/tls_handshake.sh $rounds SER_BINARY  (TLS_HS_SECONDS=$secs TLS_HS_CONCURRENCY=$conc)"

# Rows: name|cert|tlsload options|floor formula
rows='full TLS 1.3, X25519, ECDSA P-256|ec|--tls 1.3 --groups X25519|x2+ec
full TLS 1.3, X25519, RSA 2048|rsa|--tls 1.3 --groups X25519|x2+rsa
full TLS 1.2, ECDHE X25519, ECDSA P-256|ec|--tls 1.2 --groups X25519:P-256|x2+ec
resumed TLS 1.2|ec|--tls 1.2 --groups X25519:P-256 --resume|hmac
resumed TLS 1.3 (ticket)|ec|--tls 1.3 --groups X25519 --resume|x2'
# (TLS 1.2's supported_groups also names the curves the client accepts in
# the server's ECDSA certificate: X25519 alone would refuse a P-256 one;
# every server here prefers X25519 for the key exchange, checked below.)

# start SUBJECT CERT: the server on $port with certificate $T/c/CERT.pem.
start() {
    free_port port
    case $1 in
    ser)
        SER_EXTRA="" ser_cfg "$T/ser.cfg" "tls:127.0.0.1:$port" "drop;" "$T/c/$2.pem" "$T/c/$2.key"
        start_ser "$ser" "$T/ser.cfg" "$T/ser.log" tcp "$port" ;;
    kamailio-fm)
        KAM_EXTRA="" kam_cfg "$T/kam.cfg" "tls:127.0.0.1:$port" "drop;" "$T/c/$2.pem" "$T/c/$2.key"
        start_kam "$T/kam.cfg" "$T/kam.log" fm tcp "$port" ;;
    stunnel)
        free_port sinkport
        python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' "$sinkport" &
        sink=$!; pids="$pids $sink"
        wait_listen tcp "$sinkport" 100 || { echo "$0: TCP sink did not start" >&2; exit 1; }
        stunnel_cfg "$T/st.cfg" "$port" "$sinkport" "$T/c/$2.pem" "$T/c/$2.key"
        start_stunnel "$T/st.cfg" "$T/st.log" "$port" ;;
    esac
}
stop() {
    stop_tree "$srv"
    if [ "$1" = stunnel ]; then stop_tree "$sink"; fi
}

# openssl speed: us per operation.
speed_us() { # ALG AWK-FIELD-FROM-END
    openssl speed -seconds 1 "$1" 2>/dev/null | awk -v f="$2" 'END{ printf "%.3f", 1e6 / $(NF - f) }'
}
floor_round() {
    x_us=$(speed_us ecdhx25519 0)
    ec_us=$(speed_us ecdsap256 1)
    rsa_us=$(openssl speed -seconds 1 rsa2048 2>/dev/null | awk '/^rsa 2048/{ printf "%.3f", 1e6 / $(NF - 1) }')
    hmac_us=$(openssl speed -seconds 1 -bytes 64 -hmac sha256 2>/dev/null |
        awk '/^hmac/{ v = $2; sub("k", "", v); printf "%.4f", 64 / (v * 1000) * 1e6 }')
    echo "floor: x25519=${x_us}us ecdsa-p256-sign=${ec_us}us rsa2048-sign=${rsa_us}us hmac-sha256-64B=${hmac_us}us" >&2
}
floor_value() {
    case $1 in
    x2+ec) echo "$x_us $ec_us" | awk '{ printf "%.1f", 2 * $1 + $2 }' ;;
    x2+rsa) echo "$x_us $rsa_us" | awk '{ printf "%.1f", 2 * $1 + $2 }' ;;
    x2) echo "$x_us" | awk '{ printf "%.1f", 2 * $1 }' ;;
    hmac) echo "$hmac_us" | awk '{ printf "%.2f", 12 * $1 }' ;;
    esac
}

# measure SUBJECT ROUND ROW OPTIONS...
measure() {
    _subj=$1 _round=$2 _row=$3; shift 3
    # shellcheck disable=SC2086
    timeout 60 "$tlsload" handshake -c "127.0.0.1:$port" --count 32 --concurrency 4 "$@" >/dev/null 2>&1 || true
    _procs=$(tree_pids "$srv")
    _b=$(tree_ticks "$srv")
    _out=$(timeout $((secs + 30)) "$tlsload" handshake -c "127.0.0.1:$port" --seconds "$secs" \
        --concurrency "$conc" "$@" 2>"$T/tlsload.err") || true
    _a=$(tree_ticks "$srv")
    _hs=$(echo "$_out" | sed -n 's/.*handshakes=\([0-9]*\).*/\1/p')
    _full=$(echo "$_out" | sed -n 's/.* full=\([0-9]*\).*/\1/p')
    _res=$(echo "$_out" | sed -n 's/.* resumed=\([0-9]*\).*/\1/p')
    _fail=$(echo "$_out" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
    _rate=$(echo "$_out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
    _nego=$(grep -m1 '^tlsload: full' "$T/tlsload.err" | sed 's/^tlsload: full //' || true)
    echo "$part round $_round $_subj: $_row: $_out ($_nego) cpu_ticks=$((_a - _b))" >&2
    for _p in $_procs; do
        alive "$_p" && continue
        # A process of the server died during the run: its CPU is lost
        # from the sum, so there is no figure; the caller restarts it.
        echo "$part: $_subj lost process $_p during '$_row'; its log:" >&2
        tail -n 5 "$T/ser.log" "$T/kam.log" "$T/st.log" 2>/dev/null >&2 || true
        emit_desc $part "$_subj: a server process died during '$_row' in round $_round ($_out): no figure for it (Kamailio 5.6 tls.so with OpenSSL 3 crashes now and then under concurrent handshakes)"
        return 1
    done
    if [ -z "$_hs" ] || [ "$_hs" -eq 0 ]; then
        echo "$0: $_subj made no handshake for '$_row': $_out" >&2; cat "$T/tlsload.err" >&2
        return 0
    fi
    _note="$_hs handshakes, ${_rate}/s, $_fail failed"
    case "$*" in
    *--resume*)
        _note="$_note; resumed $_res of $_hs"
        [ "$_res" -eq 0 ] && _note="$_note: DOES NOT RESUME"
        [ "$_full" -gt $((conc * 2)) ] && _note="$_note ($_full full: the server did not resume every session offered)" ;;
    *)  _note="$_note; $_nego" ;;
    esac
    emit $part "$_row" "$_subj" "$_round" \
        "$(awk -v t=$((_a - _b)) -v hz="$hz" -v n="$_hs" 'BEGIN{ printf "%.1f", t * 1e6 / hz / n }')" \
        us/handshake "$_note"
}

t0=$(date +%s)
r=1
while [ $r -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="ser kamailio-fm stunnel"; else order="stunnel kamailio-fm ser"; fi
    [ -n "${TLS_HS_SUBJECTS:-}" ] && order=$TLS_HS_SUBJECTS    # e.g. "ser" to try one
    for subj in $order; do
        for cert in ec rsa; do
            start "$subj" "$cert"
            # (no pipe into the loop: start must set $srv in this shell)
            printf '%s\n' "$rows" >"$T/rows"
            while IFS='|' read -r row rc opts fl; do
                [ "$rc" = "$cert" ] || continue
                # shellcheck disable=SC2086
                if ! measure "$subj" "$r" "$row" $opts </dev/null; then
                    stop "$subj"; start "$subj" "$cert" </dev/null
                fi
            done <"$T/rows"
            stop "$subj"
        done
    done
    floor_round
    echo "$rows" | while IFS='|' read -r row rc opts fl; do
        emit $part "$row" floor "$r" "$(floor_value "$fl")" us/handshake \
            "openssl speed: X25519 ${x_us} us, ECDSA P-256 sign ${ec_us} us, RSA 2048 sign ${rsa_us} us, HMAC-SHA256(64 B) ${hmac_us} us"
    done
    r=$((r + 1))
done
echo "$part: $(($(date +%s) - t0)) s" >&2

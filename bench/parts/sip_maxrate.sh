#!/bin/sh
# bench/parts/sip_maxrate.sh — the highest clean call rate per transport: our
# load client offers calls at rising rates (MAXRATE_STEPS, each for
# MAXRATE_SECONDS) through one running proxy; a step is clean when fewer than
# 0.5 % of its calls failed and the uac kept up with the rate (at least 95 %
# of it reached). The figure is the last clean step before the first one
# that is not. Client and proxy share the machine's two cores, so this is the
# rate the whole machine sustains with each proxy; both proxies get the same.
#
#   bench/parts/sip_maxrate.sh [ROUNDS] [SER_BINARY]
# env: SIPLOAD_BIN, MAXRATE_SECONDS (default 2),
#      MAXRATE_STEPS (default "4000 8000 12000 16000 22000 30000"),
#      MAXRATE_PROTOS (default "udp tcp tls"),
#      MAXRATE_SUBJECTS (default "ser kamailio-fm"; "ser" to try a change)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
. "$here/anchors.sh"
rounds=${1:-3}
ser=${2:-$here/../build/tls/ser}
. "$here/sip_lib.sh"
secs=${MAXRATE_SECONDS:-2}
steps=${MAXRATE_STEPS:-4000 8000 12000 16000 22000 30000}
protos=${MAXRATE_PROTOS:-udp tcp tls}
subjects=${MAXRATE_SUBJECTS:-ser kamailio-fm}
part=sip_maxrate

# search SUBJECT PROTO ROUND
search() {
    free_port SP; free_port UP
    start_uas "$2" "$UP"
    start_proxy "$1" "$2" "$SP" "$UP"
    best=0 why="the last step (every step was clean)"
    for rate in $steps; do
        calls=$((rate * secs))
        run_uac "$2" "$SP" "$rate" "$calls"
        ok=$(kv ok "$T/uac.out"); failed=$(kv failed "$T/uac.out"); got=$(kv rate "$T/uac.out")
        ok=${ok:-0} failed=${failed:-$calls} got=${got:-0}
        printf '%s\n' "round $3 $1 $2 offered=$rate ok=$ok failed=$failed achieved=$got"
        if [ $((failed * 1000)) -ge $((calls * 5)) ]; then why="$rate calls/s: $failed of $calls failed"; break; fi
        if ! awk -v g="$got" -v r="$rate" 'BEGIN { exit !(g >= 0.95 * r) }'; then
            why="$rate calls/s: the uac reached only $got"; break
        fi
        best=$rate
    done
    stop_tree "$srv"; stop_tree "$uas"
    emit $part "$2: highest clean call rate" "$1" "$3" "$best" "calls/s" "stopped at $why"
}

emit_desc $part "Highest clean call rate (< 0.5 % failed, ≥ 95 % of the offered rate reached) with sipload, steps $steps calls/s of $secs s each; uac, uas and proxy share the 2 cores."
emit_cmd $part "bench/parts/sip_maxrate.sh $rounds   # MAXRATE_SECONDS=$secs"
emit_meta $part "load average at start $(load1)"
r=1
while [ "$r" -le "$rounds" ]; do
    for p in $protos; do
        for s in $(rotate $((r - 1)) $subjects); do search "$s" "$p" "$r"; done
    done
    r=$((r + 1))
done
emit_meta $part "load average at end $(load1)"

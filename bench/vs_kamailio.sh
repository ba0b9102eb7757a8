#!/bin/sh
# bench/vs_kamailio.sh — CPU time per forwarded SIP message, ser vs Kamailio,
# side by side in one run.
#
# Both servers are a stateless proxy doing the same work: SIPp's built-in uac
# -> proxy -> SIPp's built-in uas (as bench/cpu_per_msg.sh), same rate, same
# call count, same process counts (children=2 UDP receivers, tcp_children=2),
# logging at errors only, on 127.0.0.1 and ports in 40000-49999. Requests go
# through `forward` (`forward_tcp` over tcp) in the route; replies are sent
# back statelessly by the core of each server (Kamailio loads no module).
#
# The CPU of a server is utime+stime (+ cutime+cstime of reaped children) of
# its main process and every descendant, read from /proc before and after the
# uac run. us/msg = cpu / (successful calls * 6): INVITE, 180, 200, ACK, BYE,
# 200. Each round runs ser then Kamailio, the next round the other order, to
# cancel drift of a noisy machine.
#
#   bench/vs_kamailio.sh [udp|tcp] [RATE] [CALLS] [ROUNDS] [SER_BINARY]
# KAMAILIO=path overrides /usr/sbin/kamailio; KAM_ARGS adds options to its
# command line, e.g. KAM_ARGS="-x fm -X fm" for the fast allocator instead of
# the default q_malloc (which Debian builds with DBG_SR_MEMORY).
# Prints one line per server run, then a markdown table with the medians.
set -eu
. "$(dirname "$0")/lib.sh"
proto=${1:-udp} rate=${2:-1000} calls=${3:-20000} rounds=${4:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
ser=${5:-$top/build/tls/ser}
kam=${KAMAILIO:-/usr/sbin/kamailio}
kam_args=${KAM_ARGS:-}
case $proto in
    udp) t=u1 fwd=forward ;;
    tcp) t=t1 fwd=forward_tcp ;;
    *) echo "usage: $0 [udp|tcp] [RATE] [CALLS] [ROUNDS] [SER_BINARY]" >&2; exit 2 ;;
esac
[ -x "$ser" ] || { echo "$0: no ser binary at $ser" >&2; exit 2; }
[ -x "$kam" ] || { echo "$0: no kamailio at $kam (apt-get install kamailio)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "$0: sipp not found" >&2; exit 2; }

T=$(mktemp -d /tmp/ser-vs-kam.XXXXXX)
pids=""      # every process this script started and has not stopped yet
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used_ports=""

# Column $1 of the last row of the uac's -trace_stat csv.
stat_col() {
    awk -F';' -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i }
        END { print (c ? $c : 0) + 0 }' "$T/uac.csv" 2>/dev/null || echo 0
}

# Messages received by one SIPp end: from the last row of its -trace_counts
# file, the sum of every *_Recv and *_Unexp column.
sum_counts() {
    [ -f "$1" ] || { echo 0; return; }
    awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next } { last = $0 }
        END { n = split(last, v, ";"); s = 0
              for (i = 1; i <= n; i++) if (h[i] ~ /_(Recv|Unexp)$/) s += v[i]
              print s + 0 }' "$1"
}

write_ser_cfg() {  # $1 server port, $2 uas port
    cat >"$T/ser.cfg" <<CFG
debug=0
children=2
tcp_children=2
listen=udp:127.0.0.1:$1
listen=tcp:127.0.0.1:$1
route { $fwd(127.0.0.1, $2); }
CFG
}

write_kam_cfg() {  # $1 server port, $2 uas port
    cat >"$T/kam.cfg" <<CFG
#!KAMAILIO
# Stateless proxy, no module: core forward; replies forwarded by the core.
debug=-1
log_stderror=yes
children=2
tcp_children=2
disable_sctp=yes
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:$1
listen=tcp:127.0.0.1:$1
request_route { $fwd("127.0.0.1", $2); }
CFG
}

# One measured run: $1 = ser|kamailio, $2 = round. Appends to $T/results.
run_one() {
    who=$1 round=$2
    free_port SP; free_port UP; free_port CP
    rm -f "$T"/uac_*_counts.csv "$T"/uas_*_counts.csv "$T/uac.csv"
    (cd "$T" && exec sipp -sn uas -i 127.0.0.1 -p "$UP" -t $t -nostdin -trace_counts) >/dev/null 2>&1 &
    uas=$!; pids="$pids $uas"
    log=$T/$who.$round.log
    if [ "$who" = ser ]; then
        write_ser_cfg "$SP" "$UP"
        "$ser" -D -E -f "$T/ser.cfg" >"$log" 2>&1 &
    else
        write_kam_cfg "$SP" "$UP"
        # shellcheck disable=SC2086
        "$kam" -DD -E -f "$T/kam.cfg" -P "$T/kam.pid" -w "$T" -m 64 -M 8 $kam_args >"$log" 2>&1 &
    fi
    main=$!; pids="$pids $main"
    i=0
    while [ $i -lt 200 ] && ! { ss -Hlnu "sport = :$SP" | grep -q . &&
                                ss -Hlnt "sport = :$SP" | grep -q .; }; do
        sleep 0.05; i=$((i + 1))
    done
    # Let every child finish its start-up before the first reading.
    n=0 prev=-1 i=0
    while [ $i -lt 40 ]; do
        n=$(tree_pids "$main" | wc -w)
        [ "$n" -eq "$prev" ] && break
        prev=$n; sleep 0.25; i=$((i + 1))
    done
    sleep 0.5
    alive "$main" || { echo "$who did not start:" >&2; cat "$log" >&2; exit 1; }
    procs=$(tree_pids "$main" | wc -w)
    before=$(tree_ticks "$main")
    (cd "$T" && exec sipp -sn uac "127.0.0.1:$SP" -i 127.0.0.1 -p "$CP" -t $t -r "$rate" \
        -m "$calls" -l $((rate * 4)) -nostdin -timeout 300 -trace_stat -stf "$T/uac.csv" \
        -trace_counts) >/dev/null 2>&1 || true
    after=$(tree_ticks "$main")
    stop_tree "$main"
    stop_tree "$uas"
    ok=$(stat_col 'SuccessfulCall(C)'); failed=$(stat_col 'FailedCall(C)')
    # Messages the proxy delivered: what each SIPp end received, expected
    # or not (a reordered 180 or ACK still went through the proxy).
    msgs=$(sum_counts "$T"/uac_*_counts.csv)
    msgs=$((msgs + $(sum_counts "$T"/uas_*_counts.csv)))
    awk -v w="$who" -v r="$round" -v p="$proto" -v ok="$ok" -v f="$failed" -v n="$procs" \
        -v m="$msgs" -v d=$((after - before)) -v hz="$hz" -v out="$T/results" 'BEGIN{
        ms = d * 1000 / hz; us = ok ? ms * 1000 / (ok * 6) : -1; um = m ? ms * 1000 / m : -1
        printf "round=%d %-8s %s procs=%d calls_ok=%d failed=%d msgs=%d cpu_ms=%.0f us_per_msg=%.2f us_per_delivered_msg=%.2f\n", r, w, p, n, ok, f, m, ms, us, um
        printf "%d %s %d %d %.0f %.4f %d %.4f\n", r, w, ok, f, ms, us, m, um >> out }'
}

echo "# vs_kamailio: $proto rate=$rate calls=$calls rounds=$rounds ser=$ser kamailio=$kam ($("$kam" -v | head -1 | sed 's/^version: //; s/ *$//')) KAM_ARGS='$kam_args'"
r=1
while [ $r -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then run_one ser $r; run_one kamailio $r
    else run_one kamailio $r; run_one ser $r; fi
    r=$((r + 1))
done

# Table: per round, then medians. us/msg = cpu / (successful calls * 6);
# us/delivered = cpu / messages counted at the SIPp ends (counts the calls
# SIPp failed for reordering too). ratio = ser / kamailio: below 1, ser is
# cheaper.
awk -v p="$proto" -v rate="$rate" -v calls="$calls" '
    function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function ratio(a, b) { return b > 0 ? a / b : 0 }
    { us[$1, $2] = $6; ud[$1, $2] = $8; ok[$1, $2] = $3; fl[$1, $2] = $4; if ($1 > R) R = $1 }
    END {
        printf "\n| %s r=%d m=%d | ser us/msg | kam us/msg | ser/kam | ser us/delivered | kam us/delivered | ser/kam | ser ok/failed | kam ok/failed |\n", p, rate, calls
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for (r = 1; r <= R; r++) {
            s = us[r, "ser"]; k = us[r, "kamailio"]; sd = ud[r, "ser"]; kd = ud[r, "kamailio"]
            printf "| round %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %d/%d | %d/%d |\n", r,
                s, k, ratio(s, k), sd, kd, ratio(sd, kd),
                ok[r, "ser"], fl[r, "ser"], ok[r, "kamailio"], fl[r, "kamailio"]
            S[r] = s; K[r] = k; SD[r] = sd; KD[r] = kd
        }
        s = median(S, R); k = median(K, R); sd = median(SD, R); kd = median(KD, R)
        printf "| **median** | **%.2f** | **%.2f** | **%.2f** | **%.2f** | **%.2f** | **%.2f** | | |\n",
            s, k, ratio(s, k), sd, kd, ratio(sd, kd)
    }' "$T/results"

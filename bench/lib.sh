# bench/lib.sh — shared by the benchmark scripts (POSIX sh; source it).
#
# Every part of `make bench` (bench/parts/*.sh) records what it measured as
# lines of $BENCH_OUT, tab-separated, which bench/report.py turns into the
# tables of bench/RESULTS.md:
#   R  part  row  subject  round  value  unit  note      one measurement
#   C  part  command                                     how to reproduce it
#   D  part  text                                        what the part measures
# subject is ser, an anchor (kamailio, kamailio-fm, stunnel, socat, ser2net,
# ser2net-buf, sipp) or floor; round counts from 1; value is a number.

hz=$(getconf CLK_TCK)
BENCH_OUT=${BENCH_OUT:-/dev/stdout}

# emit PART ROW SUBJECT ROUND VALUE UNIT [NOTE]
emit() {
    printf 'R\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" >>"$BENCH_OUT"
}
emit_cmd() { printf 'C\t%s\t%s\n' "$1" "$2" >>"$BENCH_OUT"; }
emit_desc() { printf 'D\t%s\t%s\n' "$1" "$2" >>"$BENCH_OUT"; }

# CPU clock ticks (utime + stime from /proc/PID/stat) of process $1 and its
# direct children: the whole of a ser instance.
ser_cpu_ticks() {
    _total=0
    for _p in $1 $(pgrep -P "$1"); do
        _s=$(cut -d')' -f2 "/proc/$_p/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2086
        set -- $_s
        _total=$((_total + ${12} + ${13}))
    done
    echo $_total
}

# Main pid $1 and all its descendants (bounded depth).
tree_pids() {
    _todo=$1 _all="" _d=0
    while [ -n "$_todo" ] && [ $_d -lt 8 ]; do
        _all="$_all $_todo" _next=""
        for _p in $_todo; do _next="$_next $(pgrep -P "$_p" || true)"; done
        # shellcheck disable=SC2086,SC2116  # word splitting trims the list
        _todo=$(echo $_next)
        _d=$((_d + 1))
    done
    # shellcheck disable=SC2086
    echo $_all
}

# utime+stime+cutime+cstime ticks of the whole process tree under $1 (more
# than one root pid may be given).
tree_ticks() {
    _total=0
    for _root in "$@"; do
        for _p in $(tree_pids "$_root"); do
            _s=$(cut -d')' -f2 "/proc/$_p/stat" 2>/dev/null) || continue
            # shellcheck disable=SC2086
            set -- $_s
            _total=$((_total + ${12} + ${13} + ${14} + ${15}))
        done
    done
    echo $_total
}

# Sum of Pss (kB) of every process of the trees under the pids given.
tree_pss_kb() {
    _kb=0
    for _root in "$@"; do
        for _p in $(tree_pids "$_root"); do
            _v=$(awk '/^Pss:/{print $2; exit}' "/proc/$_p/smaps_rollup" 2>/dev/null) || continue
            _kb=$((_kb + ${_v:-0}))
        done
    done
    echo $_kb
}

# ticks_to_us TICKS: CPU ticks in microseconds.
ticks_to_us() { echo $(( $1 * 1000000 / hz )); }

# A random port in 40000-49999 (benchmarks stay out of the tests' range).
bench_port() { echo $(( 40000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 10000 )); }

# free_port VAR: set VAR to a bench port nobody listens on (udp or tcp) and
# not yet used by this script (no subshell, so used_ports is kept).
used_ports=""
free_port() {
    _i=0
    while [ $_i -lt 50 ]; do
        _p=$(bench_port)
        _i=$((_i + 1))
        case " $used_ports " in *" $_p "*) continue ;; esac
        # any socket on it, not only listeners: a client connection may hold
        # it as its ephemeral port (bench_port overlaps that range), and so
        # may one in TIME_WAIT
        ss -Hanut "sport = :$_p" | grep -q . && continue
        used_ports="$used_ports $_p"
        eval "$1=$_p"
        return 0
    done
    echo "$0: no free port found" >&2; exit 1
}

# wait_listen PROTO PORT [TENTHS]: until something listens on 127.0.0.1:PORT
# (PROTO tcp or udp), at most TENTHS tenths of a second (default 100).
wait_listen() {
    _f=-Hlnt; [ "$1" = udp ] && _f=-Hlnu
    _i=0
    while ! ss $_f "sport = :$2" | grep -q . ; do
        _i=$((_i + 1)); [ $_i -gt "${3:-100}" ] && return 1
        sleep 0.1
    done
}

# wait_settled PID: until the number of processes under PID stops changing
# (every child of a server has started), at most 10 s.
wait_settled() {
    _prev=-1 _i=0
    while [ $_i -lt 40 ]; do
        _n=$(tree_pids "$1" | wc -w)
        [ "$_n" -eq "$_prev" ] && return 0
        _prev=$_n; sleep 0.25; _i=$((_i + 1))
    done
}

# Running (not gone, not a zombie)?
alive() {
    _st=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | awk '{print $1}') || true
    [ -n "$_st" ] && [ "$_st" != Z ]
}

# Stop process $1 (and leftovers of its tree) by pid; bounded wait. Removes
# it from $pids, the list a script's EXIT trap kills.
pids=""
stop_tree() {
    _tree=$(tree_pids "$1")
    kill "$1" 2>/dev/null || true
    _i=0
    while alive "$1" && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    for _p in $_tree; do
        if alive "$_p"; then kill -9 "$_p" 2>/dev/null || true; fi
    done
    wait "$1" 2>/dev/null || true
    pids=$(echo " $pids " | sed "s/ $1 / /")
}

# The machine's load when a part starts: 1-minute load average.
load1() { cut -d' ' -f1 /proc/loadavg; }

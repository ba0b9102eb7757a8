# bench/lib.sh — shared by the benchmark scripts (POSIX sh; source it).
#
# Every part of `make bench` (bench/parts/*.sh) records what it measured as
# lines of $BENCH_OUT, tab-separated, which bench/report.py turns into the
# tables of bench/RESULTS.md:
#   R  part  row  subject  round  value  unit  note      one measurement
#   C  part  command                                     how to reproduce it
#   D  part  text                                        what the part measures
#   M  part  text                                        the machine then (load...)
#   T  part  title  line                                 a block of text (a profile)
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
emit_meta() { printf 'M\t%s\t%s\n' "$1" "$2" >>"$BENCH_OUT"; }
# emit_text PART TITLE FILE: every line of FILE as a block under TITLE.
emit_text() {
    while IFS= read -r _line; do
        printf 'T\t%s\t%s\t%s\n' "$1" "$2" "$_line" >>"$BENCH_OUT"
    done <"$3"
}
# The summary of a load client, key=value words: kv KEY FILE prints the value.
kv() { tr ' ' '\n' <"$2" 2>/dev/null | sed -n "s/^$1=//p" | tail -n 1; }

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

# A random port in 61000-64999: out of the tests' range (20000-39999) and above
# the kernel's ephemeral ports (32768-60999 by default), which the thousands
# of client connections of some parts use.
bench_port() { echo $(( 61000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 4000 )); }

# free_port VAR: set VAR to a bench port no socket uses (udp or tcp, any
# state) and not yet used by this script (no subshell, so used_ports is kept).
used_ports=""
free_port() {
    _i=0
    while [ $_i -lt 50 ]; do
        _p=$(bench_port)
        _i=$((_i + 1))
        case " $used_ports " in *" $_p "*) continue ;; esac
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

# rotate N WORD...: the words rotated left by N (mod their count), so that
# round r of a part can run its subjects in a different order: A B, B A...
rotate() {
    _n=$1; shift
    [ $# -gt 0 ] || return 0
    _n=$((_n % $#)) _head=""
    while [ "$_n" -gt 0 ]; do _head="$_head $1"; shift; _n=$((_n - 1)); done
    echo $* $_head
}

# speed_us ALGORITHM: microseconds of CPU per operation from `openssl speed`
# (one second of it): for a signature algorithm (rsa2048, ecdsap256) a
# signature, for ecdhx25519 one key derivation (a scalar multiplication,
# which is what a key generation costs too).
speed_us() {
    openssl speed -seconds 1 -mr "$1" 2>/dev/null | awk -F: '
        /^\+F2:/ || /^\+F4:/ { printf "%.2f\n", 1e6 / $4; exit }   # rsa, ecdsa: sign/s
        /^\+F5:/ || /^\+F6:/ { printf "%.2f\n", 1e6 / $4; exit }   # ecdh: op/s'
}

# handshake_floor_us SIGALG: the public-key work of a server in a full
# TLS 1.3 handshake with X25519: one key generation and one derivation (two
# scalar multiplications) and one signature with SIGALG.
handshake_floor_us() {
    _x=$(speed_us ecdhx25519) _s=$(speed_us "$1")
    awk -v x="$_x" -v s="$_s" 'BEGIN { printf "%.2f\n", 2 * x + s }'
}

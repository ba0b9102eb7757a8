# bench/lib.sh — shared by the benchmark scripts (POSIX sh; source it).

# CPU clock ticks (utime + stime from /proc/PID/stat) of process $1 and its
# children: the whole of a ser instance.
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

# A random port in 40000-49999 (benchmarks stay out of the tests' range).
bench_port() { echo $(( 40000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 10000 )); }

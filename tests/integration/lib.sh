# tests/integration/lib.sh — helpers for integration tests (POSIX sh).
# Source it; it sets up a temporary directory removed at exit, and stops, by
# PID, every ser and peer the test started.
#
#   start_ser CFG            start ser -D -E -f CFG; waits until its ports listen
#   stop_ser                 SIGTERM by PID; fails if it or a child outlives 5 s
#   free_port [BASE SPAN]    print a currently unused port (TCP and UDP), default 20000-39999
#   wait_port PROTO PORT [S] wait (bounded) until PROTO (tcp|udp) PORT is bound
#   bg_start NAME CMD...     start a peer in the background, remembered for clean-up
#   fail MSG                 print and exit 1
#   sip_options RURI CALLID [VIA_PROTO]  print an OPTIONS request (CRLF, Content-Length: 0,
#                            Via 127.0.0.1:9;rport); keep it in a file or pipe it:
#                            $(...) would strip its final LF. VIA_PROTO defaults to TLS.
#   options_cfg FILE ACTION  write a config: globals from stdin, then a route that
#                            answers OPTIONS for itself with 200 and runs ACTION otherwise
#   pty_pair                 a socat pty pair (background peer "pty"): $T/dev for ser,
#                            $T/peer the device's other end; waits until both exist

set -u
: "${SER_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/ser}"
: "${SER_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
T=$(mktemp -d /tmp/ser-test.XXXXXX)
SER_PID=""
BG_PIDS=""

cleanup() {
    # Peers first, with what they forked (socat SYSTEM:, sh -c): bg_start puts
    # each in a process group of its own, ended as a whole.
    for p in $BG_PIDS; do /bin/kill -TERM -- "-$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    if [ -n "$SER_PID" ] && kill -0 "$SER_PID" 2>/dev/null; then
        kill -TERM "$SER_PID" 2>/dev/null
        i=0; while kill -0 "$SER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        kill -KILL "$SER_PID" 2>/dev/null
    fi
    for p in $BG_PIDS; do /bin/kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; [ -f "$T/ser.log" ] && { echo "--- ser log (tail):"; tail -n 30 "$T/ser.log"; }; exit 1; }
ok() { echo "ok: $*"; }

port_in_use() {
    ss -Htanu 2>/dev/null | awk '{print $5}' | grep -q "[:.]$1\$"
}

free_port() { # [BASE SPAN]: a port in BASE..BASE+SPAN-1 (default 20000-39999)
    _base=${1:-20000} _span=${2:-20000}
    i=0
    while [ $i -lt 200 ]; do
        p=$(( _base + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % _span ))
        if ! port_in_use "$p"; then echo "$p"; return 0; fi
        i=$((i+1))
    done
    fail "no free port found in $_base..$((_base + _span - 1))"
}

wait_port() {
    proto=$1 port=$2 secs=${3:-10}
    flag=$([ "$proto" = udp ] && echo -Hlnu || echo -Hlnt)
    i=0
    while [ $i -lt $((secs * 20)) ]; do
        ss $flag "sport = :$port" 2>/dev/null | grep -q . && return 0
        sleep 0.05; i=$((i+1))
    done
    return 1
}

# The ports a config listens on, as "proto port" lines (from listen= lines,
# options such as proxy_protocol after the value allowed).
cfg_ports() {
    sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*\(udp\|tcp\|tls\):.*:\([0-9][0-9]*\)\([[:space:]][[:space:]]*[a-z_]*\)*[[:space:]]*;*[[:space:]]*$/\1 \2/p' "$1"
}

start_ser() {
    cfg=$1; shift
    "$SER_BIN" -D -E -f "$cfg" "$@" >"$T/ser.log" 2>&1 &
    SER_PID=$!
    cfg_ports "$cfg" | while read -r proto port; do
        [ "$proto" = tls ] && proto=tcp
        wait_port "$proto" "$port" 10 || { echo "port $proto $port never opened"; exit 1; }
    done || fail "ser did not start listening"
    kill -0 "$SER_PID" 2>/dev/null || fail "ser exited at start"
}

# Child pids of ser (receivers and workers).
ser_children() { pgrep -P "$SER_PID" 2>/dev/null; }

stop_ser() {
    [ -n "$SER_PID" ] || return 0
    kids=$(ser_children)
    kill -TERM "$SER_PID" 2>/dev/null
    i=0; while kill -0 "$SER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -0 "$SER_PID" 2>/dev/null && fail "ser (pid $SER_PID) still running 5 s after SIGTERM"
    wait "$SER_PID" 2>/dev/null
    for k in $kids; do kill -0 "$k" 2>/dev/null && fail "child $k left behind after SIGTERM"; done
    SER_PID=""
}

bg_start() {
    name=$1; shift
    setsid "$@" >"$T/$name.log" 2>&1 &
    BG_PIDS="$BG_PIDS $!"
    eval "PID_$name=$!"
}

sip_options() {
    printf 'OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:tester@127.0.0.1>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
        "$1" "${3:-TLS}" "$2" "$2" "$1" "$2"
}

options_cfg() {
    { cat; printf 'route {\n    if (uri==myself && method=="OPTIONS") { sl_send_reply("200", "OK"); break; };\n    %s\n}\n' "$2"; } >"$1"
}

pty_pair() {
    bg_start pty socat -d -d "pty,raw,echo=0,link=$T/dev" "pty,raw,echo=0,link=$T/peer"
    _i=0; while { [ ! -e "$T/dev" ] || [ ! -e "$T/peer" ]; } && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i+1)); done
    [ -e "$T/dev" ] && [ -e "$T/peer" ] || fail "socat made no pty pair"
}

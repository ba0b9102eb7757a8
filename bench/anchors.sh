# bench/anchors.sh — how bench/ starts ser and the servers it is measured
# against (Kamailio, stunnel) the same way in every part (POSIX sh; source it
# after lib.sh). Each start_* sets $srv to the server's main pid, adds it to
# $pids (stop it with stop_tree "$srv"), waits until it listens on the port
# given and every child has started, and fails with the server's log if not.

KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
KAM_MODS=${KAM_MODS:-$("$KAMAILIO" -h 2>&1 | sed -n 's/.*Modules search path (default: \([^)]*\)).*/\1/p')}

# bench_certs DIR: a CA, an ECDSA P-256 and an RSA 2048 server certificate
# for localhost / 127.0.0.1 (DIR/ec.pem .key, DIR/rsa.pem .key) and a client
# certificate (DIR/client.pem .key), made with tools/ser-certs.
bench_certs() {
    _top=$(cd "$here/.." && pwd)   # every script that sources this sets $here = bench/
    "$_top/tools/ser-certs" ca -d "$1" >/dev/null
    "$_top/tools/ser-certs" server ec -d "$1" --dns localhost --ip 127.0.0.1 >/dev/null
    "$_top/tools/ser-certs" server rsa -d "$1" --dns localhost --ip 127.0.0.1 --key-type rsa2048 >/dev/null
    "$_top/tools/ser-certs" client client -d "$1" >/dev/null
}

# ser_cfg FILE "LISTEN..." "ROUTE BODY" [CERT KEY]: a ser.cfg with
# children=2, tcp_children=2, errors-only logging, the listeners given
# (e.g. "udp:127.0.0.1:5060 tls:127.0.0.1:5061"), the TLS certificate when
# given, the lines of $SER_EXTRA, and the route.
ser_cfg() {
    {
        echo "debug=0"
        echo "children=${BENCH_CHILDREN:-2}"
        echo "tcp_children=${BENCH_CHILDREN:-2}"
        for _l in $2; do echo "listen=$_l"; done
        if [ -n "${4:-}" ]; then
            echo "tls_certificate=\"$4\""
            echo "tls_private_key=\"$5\""
        fi
        [ -n "${SER_EXTRA:-}" ] && printf '%s\n' "$SER_EXTRA"
        echo "route { $3 }"
    } >"$1"
}

# kam_cfg FILE "LISTEN..." "ROUTE BODY" [CERT KEY]: the same server as
# Kamailio: same process counts and logging, no module but tls.so (when a
# certificate is given: TLS 1.2+, no client certificate asked, none checked
# on outgoing connections), the lines of $KAM_EXTRA, the route as
# request_route. Replies are forwarded statelessly by the core.
kam_cfg() {
    {
        echo "#!KAMAILIO"
        echo "debug=-1"
        echo "log_stderror=yes"
        echo "children=${BENCH_CHILDREN:-2}"
        echo "tcp_children=${BENCH_CHILDREN:-2}"
        echo "disable_sctp=yes"
        echo "auto_aliases=no"
        echo "dns=no"
        echo "rev_dns=no"
        for _l in $2; do echo "listen=$_l"; done
        if [ -n "${4:-}" ]; then
            echo "enable_tls=yes"
            echo "loadmodule \"tls.so\""
            echo "modparam(\"tls\", \"config\", \"$1.tls\")"
            cat >"$1.tls" <<TLS
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $4
private_key = $5

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
TLS
        fi
        [ -n "${KAM_EXTRA:-}" ] && printf '%s\n' "$KAM_EXTRA"
        echo "request_route { $3 }"
    } >"$1"
}

# stunnel_cfg FILE ACCEPT_PORT CONNECT_PORT CERT KEY: stunnel in the
# foreground terminating TLS on 127.0.0.1:ACCEPT_PORT and passing the bytes
# to 127.0.0.1:CONNECT_PORT.
stunnel_cfg() {
    cat >"$1" <<CFG
foreground = yes
pid =
debug = 3
[bench]
accept = 127.0.0.1:$2
connect = 127.0.0.1:$3
cert = $4
key = $5
CFG
}

# _started PROTO PORT LOG NAME: wait for the listener and the children.
_started() {
    if ! wait_listen "$1" "$2" 200 || ! alive "$srv"; then
        echo "$4 did not start (no $1 listener on port $2):" >&2
        tail -n 30 "$3" >&2
        exit 1
    fi
    wait_settled "$srv"
}

# start_ser SER_BIN CFG LOG PROTO PORT
start_ser() {
    "$1" -D -E -f "$2" >"$3" 2>&1 &
    srv=$!; pids="$pids $srv"
    _started "$4" "$5" "$3" ser
}

# start_kam CFG LOG fm|default PROTO PORT: Kamailio with its fast allocator
# (-x fm -X fm, the anchor to beat) or Debian's default (q_malloc). Shared
# memory: $KAM_SHM MB (default 256), private $KAM_PKG MB (default 16).
start_kam() {
    _alloc=""; [ "$3" = fm ] && _alloc="-x fm -X fm"
    _run=$(dirname "$1")/kam-run.$$; mkdir -p "$_run"
    # shellcheck disable=SC2086
    "$KAMAILIO" -DD -E -f "$1" -L "$KAM_MODS" -P "$_run/kam.pid" -Y "$_run" -w "$_run" \
        -m "${KAM_SHM:-256}" -M "${KAM_PKG:-16}" $_alloc >"$2" 2>&1 &
    srv=$!; pids="$pids $srv"
    _started "$4" "$5" "$2" kamailio
}

# start_stunnel CFG LOG PORT
start_stunnel() {
    stunnel "$1" >"$2" 2>&1 &
    srv=$!; pids="$pids $srv"
    _started tcp "$3" "$2" stunnel
}

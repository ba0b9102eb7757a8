# tests/integration/tls_lib.sh — helpers for the TLS integration tests (POSIX sh).
# Source it instead of lib.sh (it sources lib.sh). Tests that use it skip (77)
# unless ser was built with TLS (SER_TLS=1) and openssl is installed.
#
#   CERTS                       $T/c, where the test's certificates go
#   certs_ca [DIR]              a CA in DIR (default $CERTS): DIR/ca.pem, ca.key, crl.pem
#   cert_server NAME [ARGS]     ser-certs server NAME ARGS (--dns/--ip/--client-auth/...) in $CERTS
#   cert_client NAME [ARGS]     ser-certs client NAME ARGS in $CERTS (ARGS may hold -d DIR)
#   cert_expired NAME           a client certificate of the CA in $CERTS that expired in 2020
#   cert_dated NAME FROM UNTIL EKU [SAN]  one valid FROM..UNTIL (YYYYMMDDHHMMSSZ), past or future
#   cert_custom NAME SAN EKU    a certificate signed by the CA in $CERTS with a SAN written
#                               as openssl wants it (DNS:..,IP:..), for names ser-certs refuses
#   cert_subject FILE           the subject line of a PEM certificate
#
#   write_tls_cfg CFG UDP TLS FWD   ser.cfg with listen=udp/tls on 127.0.0.1, the TLS
#                               parameters read from stdin, and a route that answers
#                               OPTIONS for itself with 200 and forwards the rest to FWD (UDP)
#   sip_options (in lib.sh)    an OPTIONS request; VIA_PROTO defaults to TLS here
#
#   tls_open NAME FD ARGS...    openssl s_client -ign_eof ARGS, stdin from a FIFO held open
#                               on FD, output to $T/NAME.out; NAME: letters, digits and _.
#                               (Without -ign_eof, OpenSSL 3.0's s_client drops input that
#                               is there before the handshake ends. Its session print-out
#                               may run into the reply's first line: match without '^'.
#                               stdbuf -oL keeps that print-out from being lost at the kill.)
#   tls_send FD FILE            write FILE to the session on FD (a session that died is no error)
#   tls_wait NAME TEXT [SECS]   bounded wait until TEXT is in $T/NAME.out or s_client exited;
#                               true when TEXT is there
#   tls_close NAME FD           close stdin and end s_client (by PID)
#   tls_ask NAME TEXT ARGS...   open, send the file $TLS_REQ (if set), wait for TEXT, close;
#                               true when TEXT was seen ($TLS_ASK_SECS, default 5)
#   udp_ask NAME PORT TEXT      send the file $UDP_REQ by UDP to 127.0.0.1:PORT, wait (bounded,
#                               $UDP_ASK_SECS, default 5) for TEXT in $T/NAME.out, or until the
#                               command $UDP_ASK_UNTIL (if set) succeeds; true when TEXT is there
#   peer_subject PORT [ARGS]    subject of the certificate a TLS server on 127.0.0.1:PORT sends
#
#   ser_start NAME CFG          another ser (besides lib.sh's start_ser); log in $T/NAME.log,
#                               pid in SERPID_NAME; waits for its ports
#   ser_stop NAME               SIGTERM by PID, bounded wait; fails if it outlives 5 s
#   log_wait FILE TEXT N [SECS] bounded wait until TEXT occurs at least N times in FILE
#   free_port_low               an unused port in 6000-9999 (sipsak mangles 5-digit ports)
#   skip REASON                 print REASON and exit 77

. "$(dirname "$0")/lib.sh"

skip() { echo "$*"; exit 77; }

[ "${SER_TLS:-0}" = 1 ] || skip "ser built without TLS (SER_TLS=${SER_TLS:-0})"
command -v openssl >/dev/null || skip "openssl not installed"

CERTS=$T/c
SER_CERTS=$SER_TOP/tools/ser-certs
EXTRA_SERS=""
TLS_PIDS=""     # s_client / socat sessions still open

# Stop the extra sers and peers gracefully first, then lib.sh's clean-up.
tls_cleanup() {
    for _p in $TLS_PIDS; do kill "$_p" 2>/dev/null; done
    for _n in $EXTRA_SERS; do
        eval "_p=\${SERPID_$_n:-}"
        [ -n "$_p" ] && kill -TERM "$_p" 2>/dev/null
    done
    for _n in $EXTRA_SERS; do
        eval "_p=\${SERPID_$_n:-}"
        [ -n "$_p" ] || continue
        _i=0; while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i+1)); done
        kill -KILL "$_p" 2>/dev/null
    done
    cleanup
}
trap tls_cleanup EXIT INT TERM

# ---- certificates ---------------------------------------------------------

certs_ca() {
    "$SER_CERTS" ca -d "${1:-$CERTS}" >/dev/null || fail "ser-certs ca failed"
}

cert_server() {
    "$SER_CERTS" server "$@" -d "$CERTS" >/dev/null || fail "ser-certs server $* failed"
}

cert_client() {
    _name=$1; shift
    _dir=$CERTS
    if [ "${1:-}" = -d ]; then _dir=$2; shift 2; fi
    "$SER_CERTS" client "$_name" "$@" -d "$_dir" >/dev/null || fail "ser-certs client $_name failed"
}

# cert_dated NAME START END EKU [SAN]: a certificate of the CA in $CERTS valid
# from START to END (YYYYMMDDHHMMSSZ), made with openssl ca and a small
# configuration of its own, so the dates can lie in the past or the future;
# the CA database of ser-certs is left alone.
cert_dated() {
    _name=$1 _from=$2 _until=$3 _eku=$4 _san=${5:-}
    _db=$T/dated-ca
    mkdir -p "$_db"
    [ -f "$_db/index.txt" ] || : >"$_db/index.txt"
    cat >"$_db/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $_db/index.txt
new_certs_dir = $_db
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = $_eku
${_san:+subjectAltName = $_san}
CNF
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$CERTS/$_name.key" -subj "/CN=$_name" -out "$_db/$_name.csr" 2>/dev/null ||
        fail "openssl req for $_name failed"
    openssl ca -batch -config "$_db/ca.cnf" -cert "$CERTS/ca.pem" -keyfile "$CERTS/ca.key" \
        -startdate "$_from" -enddate "$_until" -extensions ext -notext \
        -in "$_db/$_name.csr" -out "$CERTS/$_name.pem" >"$_db/$_name.log" 2>&1 ||
        { cat "$_db/$_name.log"; fail "openssl ca for $_name failed"; }
}

# A client certificate of the CA that expired in 2020.
cert_expired() { cert_dated "$1" 20200101000000Z 20200201000000Z clientAuth; }

cert_custom() {
    _name=$1 _san=$2 _eku=$3
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=%s\nextendedKeyUsage=%s\n' \
        "$_san" "$_eku" >"$T/$_name.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$CERTS/$_name.key" -subj "/CN=$_name" -out "$T/$_name.csr" 2>/dev/null ||
        fail "openssl req for $_name failed"
    openssl x509 -req -in "$T/$_name.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
        -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 2 \
        -extfile "$T/$_name.ext" -out "$CERTS/$_name.pem" 2>/dev/null || fail "openssl x509 -req for $_name failed"
}

cert_subject() { openssl x509 -in "$1" -noout -subject 2>/dev/null; }

# ---- configuration and requests -------------------------------------------

write_tls_cfg() {
    _cfg=$1 _udp=$2 _tls=$3 _fwd=$4
    {
        printf 'debug=3\nchildren=1\ntcp_children=2\n'
        printf 'listen=udp:127.0.0.1:%s\nlisten=tls:127.0.0.1:%s\n' "$_udp" "$_tls"
        cat
    } | options_cfg "$_cfg" "forward(127.0.0.1, $_fwd);"
}

# ---- s_client sessions ----------------------------------------------------

tls_open() {
    _name=$1 _fd=$2; shift 2
    rm -f "$T/$_name.in"
    mkfifo "$T/$_name.in" || fail "mkfifo failed"
    stdbuf -oL openssl s_client -ign_eof "$@" <"$T/$_name.in" >"$T/$_name.out" 2>&1 &
    eval "TLSPID_$_name=$!"
    TLS_PIDS="$TLS_PIDS $!"
    eval "exec $_fd>\"\$T/\$_name.in\""
}

tls_send() {
    # In a subshell: a write to a session that is gone must not kill the test (SIGPIPE).
    [ -n "$2" ] && (cat "$2" >&"$1") 2>/dev/null
    return 0
}

tls_wait() {
    _name=$1 _text=$2 _secs=${3:-5}
    eval "_p=\$TLSPID_$_name"
    _i=0
    while [ $_i -lt $((_secs * 20)) ]; do
        grep -q -- "$_text" "$T/$_name.out" 2>/dev/null && return 0
        kill -0 "$_p" 2>/dev/null || break
        sleep 0.05; _i=$((_i+1))
    done
    grep -q -- "$_text" "$T/$_name.out" 2>/dev/null
}

tls_close() {
    _name=$1 _fd=$2
    eval "exec $_fd>&-"
    eval "_p=\$TLSPID_$_name"
    kill "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
    TLS_PIDS=$(echo " $TLS_PIDS " | sed "s/ $_p / /")
    rm -f "$T/$_name.in"
    return 0
}

tls_ask() {
    _name=$1 _text=$2; shift 2
    tls_open "$_name" 9 "$@"
    tls_send 9 "${TLS_REQ:-}"
    tls_wait "$_name" "$_text" "${TLS_ASK_SECS:-5}"; _r=$?
    tls_close "$_name" 9
    return $_r
}

udp_ask() {
    _name=$1 _port=$2 _text=$3
    rm -f "$T/$_name.in"; mkfifo "$T/$_name.in" || fail "mkfifo failed"
    socat - "UDP:127.0.0.1:$_port" <"$T/$_name.in" >"$T/$_name.out" 2>&1 &
    _p=$!
    TLS_PIDS="$TLS_PIDS $_p"
    exec 8>"$T/$_name.in"
    (cat "$UDP_REQ" >&8) 2>/dev/null
    _i=0
    while [ $_i -lt $((${UDP_ASK_SECS:-5} * 20)) ] && kill -0 "$_p" 2>/dev/null; do
        grep -q -- "$_text" "$T/$_name.out" && break
        [ -n "${UDP_ASK_UNTIL:-}" ] && eval "$UDP_ASK_UNTIL" && break
        sleep 0.05; _i=$((_i+1))
    done
    exec 8>&-
    kill "$_p" 2>/dev/null; wait "$_p" 2>/dev/null
    TLS_PIDS=$(echo " $TLS_PIDS " | sed "s/ $_p / /")
    rm -f "$T/$_name.in"
    grep -q -- "$_text" "$T/$_name.out"
}

peer_subject() {
    _port=$1; shift
    timeout 10 openssl s_client -connect "127.0.0.1:$_port" "$@" </dev/null 2>/dev/null |
        openssl x509 -noout -subject 2>/dev/null
}

# ---- more processes -------------------------------------------------------

ser_start() {
    _name=$1 _cfg=$2
    "$SER_BIN" -D -E -f "$_cfg" >"$T/$_name.log" 2>&1 &
    eval "SERPID_$_name=$!"
    EXTRA_SERS="$EXTRA_SERS $_name"
    cfg_ports "$_cfg" | while read -r _proto _port; do
        [ "$_proto" = tls ] && _proto=tcp
        wait_port "$_proto" "$_port" 10 || { echo "port $_proto $_port never opened"; exit 1; }
    done || { tail -n 20 "$T/$_name.log"; fail "ser $_name did not start listening"; }
    eval "kill -0 \$SERPID_$_name" 2>/dev/null || { tail -n 20 "$T/$_name.log"; fail "ser $_name exited at start"; }
}

ser_stop() {
    _name=$1
    eval "_p=\${SERPID_$_name:-}"
    [ -n "$_p" ] || return 0
    kill -TERM "$_p" 2>/dev/null
    _i=0; while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i+1)); done
    kill -0 "$_p" 2>/dev/null && fail "ser $_name (pid $_p) still running 5 s after SIGTERM"
    wait "$_p" 2>/dev/null
    eval "SERPID_$_name="
}

log_wait() {
    _file=$1 _text=$2 _n=$3 _secs=${4:-10}
    _i=0
    while [ $_i -lt $((_secs * 20)) ]; do
        _c=$(grep -c -- "$_text" "$_file" 2>/dev/null)
        [ "${_c:-0}" -ge "$_n" ] && return 0
        sleep 0.05; _i=$((_i+1))
    done
    return 1
}

free_port_low() { free_port 6000 4000; }

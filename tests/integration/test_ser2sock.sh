#!/bin/sh
# ser as a drop-in for ser2sock, on socat pty pairs (no real device):
#   - banner=ser2sock in a serial block: a new client gets "!SER2SOCK Connected"
#     and the device's state line, then SERIAL_DISCONNECTED / SERIAL_CONNECTED
#     as the device goes and comes back, byte for byte as ser2sock sends them;
#     a block without banner= sends the device's bytes only;
#   - ser --ser2sock -p PORT -s DEV -e with a ser2sock.conf (TLS files from the
#     conf, daemonize = 1 kept in the foreground by ser's -D): a client with a
#     certificate of ca_certificate gets the banner and the device, both ways;
#     one with another CA's certificate, or none, is refused;
#   - ser --ser2sock -0 -d -P: raw mode (no status lines), daemonized, pid file;
#   - a missing -f file or TLS file stops ser with the file named;
#   - etc/ser2sock.conf runs as its header says.
# The TLS part needs SER_TLS=1 and openssl; the rest runs in any build.
if [ "${SER_TLS:-0}" = 1 ] && command -v openssl >/dev/null; then
    . "$(dirname "$0")/tls_lib.sh"
    HAVE_TLS=1
else
    . "$(dirname "$0")/lib.sh"
    HAVE_TLS=0
fi
command -v socat >/dev/null || { echo "socat not installed"; exit 77; }

# Bounded wait until TEXT occurs at least N times in FILE.
wait_count() {
    _f=$1 _t=$2 _n=$3 _s=${4:-5} _i=0
    while [ $_i -lt $((_s * 20)) ]; do
        _c=$(grep -c -- "$_t" "$_f" 2>/dev/null)
        [ "${_c:-0}" -ge "$_n" ] && return 0
        sleep 0.05; _i=$((_i+1))
    done
    return 1
}
# FILE holds exactly the bytes of the printf FORMAT.
same_bytes() {
    # shellcheck disable=SC2059
    printf "$2" >"$T/expected"
    cmp -s "$1" "$T/expected"
}
shown() { od -c "$1" | head -n 12; }
# The device (the pty pair) goes away; pty_pair brings a new one.
device_gone() {
    kill -TERM -- "-$PID_pty" 2>/dev/null; kill "$PID_pty" 2>/dev/null
    _i=0; while [ -e "$T/dev" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i+1)); done
    rm -f "$T/dev" "$T/peer"
}

HELLO='!SER2SOCK Connected\r\n'
UP='!SER2SOCK SERIAL_CONNECTED\r\n'
DOWN='!SER2SOCK SERIAL_DISCONNECTED\r\n'

# ---- banner=ser2sock in a ser.cfg serial block ------------------------------
P1=$(free_port); P2=$(free_port)
[ "$P1" = "$P2" ] && fail "port clash, run again"
pty_pair
bg_start pty2 socat -d -d "pty,raw,echo=0,link=$T/dev2" "pty,raw,echo=0,link=$T/peer2"
i=0; while { [ ! -e "$T/dev2" ] || [ ! -e "$T/peer2" ]; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$T/dev2" ] || fail "socat made no second pty pair"
cat >"$T/ser.cfg" <<CFG
debug=3
serial "$T/dev" {
    listen=tcp:127.0.0.1:$P1;
    banner=ser2sock;
    keep_clients=yes;
    reopen_delay=300;
}
serial "$T/dev2" {
    listen=tcp:127.0.0.1:$P2;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
wait_port tcp "$P1" 10 && wait_port tcp "$P2" 10 || fail "the bridges do not listen on $P1 and $P2"
wait_count "$T/ser.log" "serial $T/dev: open" 1 || fail "the device was not opened"

bg_start c1 socat -u "TCP:127.0.0.1:$P1" "OPEN:$T/c1.out,creat"
wait_count "$T/c1.out" 'SERIAL_CONNECTED' 1 || fail "no banner for a new client: $(shown "$T/c1.out")"
printf 'zone 3 open\n' >"$T/peer"
wait_count "$T/c1.out" 'zone 3 open' 1 || fail "the device's bytes did not follow the banner"
device_gone
wait_count "$T/c1.out" 'SERIAL_DISCONNECTED' 1 || fail "no SERIAL_DISCONNECTED when the device went: $(shown "$T/c1.out")"
# A client arriving while the device is away hears so.
bg_start c2 socat -u "TCP:127.0.0.1:$P1" "OPEN:$T/c2.out,creat"
wait_count "$T/c2.out" 'SERIAL_DISCONNECTED' 1 || fail "a client of an absent device was not told: $(shown "$T/c2.out")"
pty_pair
wait_count "$T/c1.out" 'SERIAL_CONNECTED' 2 || fail "no SERIAL_CONNECTED when the device came back: $(shown "$T/c1.out")"
wait_count "$T/c2.out" 'SERIAL_CONNECTED' 1 || fail "the second client was not told the device is back"
same_bytes "$T/c1.out" "$HELLO${UP}zone 3 open\n\r\n$DOWN$UP" ||
    fail "the first client's bytes are not ser2sock's: $(shown "$T/c1.out")"
same_bytes "$T/c2.out" "$HELLO$DOWN$UP" || fail "the second client's bytes are not ser2sock's: $(shown "$T/c2.out")"
ok "banner=ser2sock: Connected and the state line to a new client, DISCONNECTED/CONNECTED as the device goes and comes"

# A block without banner=: the device's bytes and nothing else.
bg_start c3 socat -u "TCP:127.0.0.1:$P2" "OPEN:$T/c3.out,creat"
wait_count "$T/ser.log" "serial $T/dev2: client" 1 || fail "the plain block's client was not admitted"
printf 'bytes only\n' >"$T/peer2"
wait_count "$T/c3.out" 'bytes only' 1 || fail "the plain block's client got nothing"
same_bytes "$T/c3.out" 'bytes only\n' || fail "a block without banner= sent more than the device's bytes: $(shown "$T/c3.out")"
stop_ser
ok "a serial block without banner= sends the device's bytes only"

# ---- ser --ser2sock -e with a ser2sock.conf ---------------------------------
if [ "$HAVE_TLS" = 1 ]; then
    certs_ca "$CERTS"
    cert_server localhost --dns localhost --ip 127.0.0.1
    cert_client alice
    certs_ca "$T/other"
    cert_client mallory -d "$T/other"
    P=$(free_port)
    # ser2sock's sample conf, as an installation would have it; relative
    # paths are taken from where ser starts, as ser2sock took them.
    cat >"$T/ser2sock.conf" <<CONF
# ser2sock sample configuration
#

[ser2sock]
# Fork into the background?  Default: 0
daemonize = 1
device = /dev/ttyAMA0
baudrate = 115200
port = 10000
encrypted = 0
ca_certificate = $CERTS/ca.pem
ssl_certificate = c/localhost.pem
ssl_key = c/localhost.key
bind_ip = 127.0.0.1
raw_device_mode = 0
preserve_connections = 1
listen_backlog = 10
CONF
    (cd "$T" && exec "$SER_BIN" --ser2sock -D -E -g 1 -p "$P" -s "$T/dev" -e -f "$T/ser2sock.conf") >"$T/s2s.log" 2>&1 &
    SER_PID=$!
    wait_port tcp "$P" 10 || { cat "$T/s2s.log"; fail "ser --ser2sock does not listen on $P"; }
    kill -0 "$SER_PID" 2>/dev/null || fail "ser --ser2sock left the foreground despite -D"
    grep -q "^$T/ser2sock.conf:17:1: warning: unknown ser2sock key \"listen_backlog\"" "$T/s2s.log" ||
        fail "no warning naming the unknown key's file and line: $(head -n 5 "$T/s2s.log")"
    grep -q "command line: -p $P: warning: wins over port = 10000" "$T/s2s.log" ||
        fail "the option overriding the conf's port was not said"
    ss -Hlnt "sport = :$P" | grep -q "127.0.0.1:$P" || fail "bind_ip = 127.0.0.1 was not used"
    wait_count "$T/s2s.log" "serial $T/dev: open (115200 baud" 1 || fail "the device was not opened at the conf's baud rate"

    C="-connect 127.0.0.1:$P -CAfile $CERTS/ca.pem"
    # shellcheck disable=SC2086
    tls_open alice 7 $C -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
    tls_wait alice 'SERIAL_CONNECTED' 5 || fail "alice got no banner over TLS: $(tail -n 5 "$T/alice.out")"
    grep -q '!SER2SOCK Connected' "$T/alice.out" || fail "alice did not get !SER2SOCK Connected"
    printf 'zone 5 fault\n' >"$T/peer"
    tls_wait alice 'zone 5 fault' 5 || fail "the device's bytes did not reach alice"
    printf 'from-alice\n' >&7
    timeout 5 sh -c "until grep -q from-alice '$T/got' 2>/dev/null; do dd if='$T/peer' bs=64 count=1 2>/dev/null >>'$T/got'; done" ||
        fail "alice's bytes did not reach the device"
    tls_close alice 7
    ok "ser --ser2sock -p -s -e with a ser2sock.conf: a client certificate of ca_certificate gets the banner and the device"

    # shellcheck disable=SC2086
    tls_open mallory 8 $C -cert "$T/other/mallory.pem" -key "$T/other/mallory.key"
    tls_wait mallory 'alert unknown ca' 5 || fail "another CA's certificate was not refused: $(grep -i -m3 'alert\|error' "$T/mallory.out")"
    tls_close mallory 8
    grep -q 'SER2SOCK' "$T/mallory.out" && fail "the client of another CA got the banner"
    # shellcheck disable=SC2086
    tls_open anon 9 $C
    tls_wait anon 'alert certificate required' 5 || fail "a client without a certificate was not refused"
    tls_close anon 9
    grep -q 'SER2SOCK' "$T/anon.out" && fail "a client without a certificate got the banner"
    kill -0 "$SER_PID" 2>/dev/null || fail "ser died"
    stop_ser
    ok "a client certificate from another CA, and none, are refused (alerts unknown ca, certificate required)"

    # A TLS file that is not there stops ser at the conf line that names it.
    sed "s|^ssl_key = .*|ssl_key = $T/no-such.key|" "$T/ser2sock.conf" >"$T/bad.conf"
    out=$(cd "$T" && "$SER_BIN" --ser2sock -D -E -s "$T/dev" -p "$P" -e -f "$T/bad.conf" 2>&1) &&
        fail "ser started with a missing ssl_key"
    echo "$out" | grep -q "^$T/bad.conf:13:1: error: ssl_key: .*no-such.key\" cannot be read" ||
        fail "the missing ssl_key was not reported at its line: $out"
    ok "a missing TLS file is an error naming the conf line"

    # etc/ser2sock.conf runs as its comment says (its certificates under etc/certs).
    P4=$(free_port)
    mkdir -p "$T/ex/etc" && ln -s "$CERTS" "$T/ex/etc/certs"
    sed -e "s|/tmp/ser-tty|$T/dev|" -e "s|^port = 10000|port = $P4|" "$SER_TOP/etc/ser2sock.conf" >"$T/ex/ser2sock.conf"
    (cd "$T/ex" && exec "$SER_BIN" --ser2sock -D -E -f "$T/ex/ser2sock.conf") >"$T/ex.log" 2>&1 &
    SER_PID=$!
    wait_port tcp "$P4" 10 || { cat "$T/ex.log"; fail "etc/ser2sock.conf does not listen"; }
    grep -q 'warning\|error' "$T/ex.log" && fail "etc/ser2sock.conf draws warnings: $(cat "$T/ex.log")"
    tls_open example 7 -connect "127.0.0.1:$P4" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
    tls_wait example 'SERIAL_CONNECTED' 5 || fail "etc/ser2sock.conf: no banner over TLS: $(tail -n 5 "$T/example.out")"
    tls_close example 7
    stop_ser
    ok "etc/ser2sock.conf: mutual TLS and the banner, no warnings"
else
    echo "skip: ser --ser2sock -e (needs SER_TLS=1 and openssl)"
fi

# ---- ser --ser2sock -0 -d -P: raw mode, daemonized --------------------------
P3=$(free_port)
: >"$T/empty.conf"
"$SER_BIN" --ser2sock -f "$T/empty.conf" -s "$T/dev" -p "$P3" -i 127.0.0.1 -0 -d -P "$T/s2s.pid" -E \
    >"$T/raw.log" 2>&1 || { cat "$T/raw.log"; fail "ser --ser2sock -d did not start"; }
i=0; while [ ! -s "$T/s2s.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -s "$T/s2s.pid" ] || fail "-d -P wrote no pid file"
SER_PID=$(cat "$T/s2s.pid")
kill -0 "$SER_PID" 2>/dev/null || fail "the daemon of the pid file is not running"
wait_port tcp "$P3" 10 || fail "the daemon does not listen on $P3"
bg_start c4 socat -u "TCP:127.0.0.1:$P3" "OPEN:$T/c4.out,creat"
wait_count "$T/raw.log" "serial $T/dev: client" 1 || fail "the raw-mode client was not admitted: $(tail -n 3 "$T/raw.log")"
printf 'raw bytes\n' >"$T/peer"
wait_count "$T/c4.out" 'raw bytes' 1 || fail "the raw-mode client got nothing"
same_bytes "$T/c4.out" 'raw bytes\n' || fail "-0 still sent status lines: $(shown "$T/c4.out")"
stop_ser
[ -e "$T/s2s.pid" ] && fail "the pid file was left behind"
ok "ser --ser2sock -0 -d -P: daemonized with its pid file, the device's bytes only"

out=$("$SER_BIN" --ser2sock -s "$T/dev" -f "$T/nowhere.conf" 2>&1) && fail "ser started with a missing -f file"
echo "$out" | grep -q "command line: -f $T/nowhere.conf: error: cannot read" || fail "a missing -f file was not named: $out"
ok "a missing -f file is an error"

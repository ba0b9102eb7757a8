#!/bin/sh
# The serial bridge in client mode over TLS (connect=tls:), on socat pty pairs:
# ser dials `openssl s_server -Verify 1`, which requires a client certificate
# (ser's comes from a tls_client_domain for the server's address, which also
# sets tls_verify=1 and the CA). Device bytes reach s_server's output; lines
# typed into s_server reach the device. s_server is killed (by PID) and started
# again on the same port: ser says the link is down, redials after 500 ms
# (the first step of its back-off) and bytes flow both ways again. Two more
# serial blocks dial servers that must be refused: one whose certificate names
# wrong.example, one whose certificate comes from a CA ser does not know;
# ser logs why, redials with a doubling back-off, and neither server ever
# receives a device byte.
. "$(dirname "$0")/tls_lib.sh"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server srv --ip 127.0.0.1
cert_server wrong --dns wrong.example
cert_client bridge
"$SER_CERTS" ca -d "$T/other" >/dev/null || fail "ser-certs ca (other CA) failed"
"$SER_CERTS" server rogue --ip 127.0.0.1 -d "$T/other" >/dev/null || fail "ser-certs server (other CA) failed"

PS=$(free_port); PW=$(free_port); PU=$(free_port)
[ "$(printf '%s\n' "$PS" "$PW" "$PU" | sort -u | wc -l)" -eq 3 ] || fail "port clash, run again"

# Three devices: the good link's (lib.sh's pty_pair: $T/dev, $T/peer) and one per bad server.
pty_pair
for d in w u; do
    bg_start "pty$d" socat -d -d "pty,raw,echo=0,link=$T/dev$d" "pty,raw,echo=0,link=$T/peer$d"
done
i=0; while { [ ! -e "$T/devw" ] || [ ! -e "$T/devu" ]; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$T/devw" ] && [ -e "$T/devu" ] || fail "socat made no pty pairs"

# s_server NAME PORT CERT KEY: a TLS server that requires a client certificate
# of our CA; its input comes from the FIFO $T/NAME.in (held open on an fd by
# the caller), what it receives goes to $T/NAME.log.
s_server() {
    rm -f "$T/$1.in"; mkfifo "$T/$1.in" || fail "mkfifo failed"
    bg_start "$1" sh -c 'exec stdbuf -oL openssl s_server -quiet -accept "127.0.0.1:$1" -cert "$2" -key "$3" -CAfile "$4" -Verify 1 <"$5"' \
        sh "$2" "$3" "$4" "$CERTS/ca.pem" "$T/$1.in"
}
s_server srv1 "$PS" "$CERTS/srv.pem" "$CERTS/srv.key"
exec 7>"$T/srv1.in"
s_server wrong "$PW" "$CERTS/wrong.pem" "$CERTS/wrong.key"
exec 5>"$T/wrong.in"
s_server rogue "$PU" "$T/other/rogue.pem" "$T/other/rogue.key"
exec 6>"$T/rogue.in"
for p in "$PS" "$PW" "$PU"; do wait_port tcp "$p" 5 || fail "s_server on $p did not start"; done

# ser's side: no global certificate, so only the client domains can offer one.
cat >"$T/ser.cfg" <<CFG
debug=3
tls_certificate="c/none.pem"
tls_private_key="c/none.key"
tls_ca_list="c/ca.pem"
tls_verify=1
CFG
for p in "$PS" "$PW" "$PU"; do
    cat >>"$T/ser.cfg" <<CFG
tls_client_domain[127.0.0.1:$p] {
    tls_verify=1
    tls_ca_list="c/ca.pem"
    tls_certificate="c/bridge.pem"
    tls_private_key="c/bridge.key"
}
CFG
done
cat >>"$T/ser.cfg" <<CFG
serial "$T/dev" {
    connect=tls:127.0.0.1:$PS;
}
serial "$T/devw" {
    connect=tls:127.0.0.1:$PW;
}
serial "$T/devu" {
    connect=tls:127.0.0.1:$PU;
}
CFG
"$SER_BIN" -D -E -f "$T/ser.cfg" >"$T/ser.log" 2>&1 &
SER_PID=$!
bg_start devread cat "$T/peer"    # what the good link's device receives: $T/devread.log

# The bridge has nothing queued when its link connects (device bytes wait
# until established()): the TLS client must send its ClientHello by itself.
# Before that fix, ser and s_server waited for each other until the handshake timeout.
log_wait "$T/ser.log" "serial $T/dev: connected to 127.0.0.1:$PS" 1 10 ||
    fail "ser did not connect to s_server (no ClientHello sent?)"
printf 'device-line-1\n' >"$T/peer"
log_wait "$T/srv1.log" device-line-1 1 5 || fail "the device's bytes did not reach s_server: $(tail -n 5 "$T/srv1.log")"
printf 'server-line-1\n' >&7
log_wait "$T/devread.log" server-line-1 1 5 || fail "s_server's bytes did not reach the device"
ok "connect=tls: with a client certificate (s_server -Verify 1): bytes flow device -> server and server -> device"

# s_server goes away; ser notices, redials at the first back-off step; s_server comes back on the same port.
/bin/kill -TERM -- "-$PID_srv1" 2>/dev/null; kill "$PID_srv1" 2>/dev/null
exec 7>&-
log_wait "$T/ser.log" "serial $T/dev: link to 127.0.0.1:$PS down; redialling in 500 ms" 1 5 ||
    fail "ser did not say the link was down with a 500 ms redial: $(grep "serial $T/dev:" "$T/ser.log" | tail -n 3)"
ok "s_server killed: ser says the link is down, redialling in 500 ms"
s_server srv2 "$PS" "$CERTS/srv.pem" "$CERTS/srv.key"
exec 7>"$T/srv2.in"
wait_port tcp "$PS" 5 || fail "the second s_server did not start"
# At most a refused dial or two (0.5 s, then 1 s) before s_server listens again.
log_wait "$T/ser.log" "serial $T/dev: connected to 127.0.0.1:$PS" 2 10 || fail "ser did not redial s_server"
printf 'device-line-2\n' >"$T/peer"
log_wait "$T/srv2.log" device-line-2 1 5 || fail "after the redial the device's bytes did not reach s_server"
printf 'server-line-2\n' >&7
log_wait "$T/devread.log" server-line-2 1 5 || fail "after the redial s_server's bytes did not reach the device"
ok "s_server restarted on the same port: ser redialled and bytes flow both ways again"

# The two servers ser must refuse. Each failure is logged with its reason.
log_wait "$T/ser.log" "handshake with 127.0.0.1:$PW: TLS handshake failed: certificate verify failed; certificate: IP address mismatch" 1 5 ||
    fail "no 'IP address mismatch' for the server whose certificate names wrong.example: $(grep -i "$PW" "$T/ser.log" | tail -n 3)"
log_wait "$T/ser.log" "handshake with 127.0.0.1:$PU: TLS handshake failed: certificate verify failed; certificate: unable to get local issuer certificate" 1 5 ||
    fail "no 'unable to get local issuer certificate' for the server of an unknown CA: $(grep -i "$PU" "$T/ser.log" | tail -n 3)"
for d in w u; do
    printf 'secret-%s\n' "$d" >"$T/peer$d"
done
for p in "$PW" "$PU"; do
    log_wait "$T/ser.log" "link to 127.0.0.1:$p down; redialling in 1000 ms" 1 5 ||
        fail "no second, doubled redial to $p: $(grep "127.0.0.1:$p" "$T/ser.log" | tail -n 3)"
done
grep -q "connected to 127.0.0.1:$PW\|connected to 127.0.0.1:$PU" "$T/ser.log" && fail "ser reported a refused server as connected"
grep -q secret "$T/wrong.log" "$T/rogue.log" && fail "a device byte reached a server ser should have refused"
ok "a server certificate for another name and one of an unknown CA are refused, with the reason; redials back off 500 -> 1000 ms"
exec 5>&- 6>&- 7>&-
kill -0 "$SER_PID" 2>/dev/null || fail "ser died"
stop_ser
ok "stopped"

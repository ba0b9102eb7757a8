#!/bin/sh
# The control commands against a ser with real traffic: the counters move by
# exactly what a known SIPp run sent (3 requests and 3 replies per call);
# tcp.list and conn.close on a held TCP connection; tls.list shows the cipher
# and the peer CN of an openssl s_client; tls.reload takes good material and
# refuses a broken certificate (the old one stays in use); serial.list shows a
# pty device, its client and the bytes each way; log.level reaches every process.
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || skip "sipp not installed"
command -v socat >/dev/null || skip "socat not installed"

certs_ca "$CERTS"
cert_server localhost --dns localhost --ip 127.0.0.1
cert_client alice
PT=$(free_port)
PS=$(free_port)
pty_pair
# sipp_setup's config, with a TLS listener and a serial block added.
SER_PORT=$(free_port)
UAS_PORT=$(free_port)
cat >"$T/ser.cfg" <<CFG
debug=3
children=2
tcp_children=2
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
listen=tcp:127.0.0.1:$SER_PORT
listen=tls:127.0.0.1:$PT
tls_certificate="c/localhost.pem"
tls_private_key="c/localhost.key"
tls_ca_list="c/ca.pem"
tls_verify=1
tls_require_certificate=1
route { forward(127.0.0.1, $UAS_PORT); }
serial "$T/dev" {
    listen=tcp:127.0.0.1:$PS;
}
CFG
SIPP_T=u1
bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t u1 -nostdin
wait_port udp "$UAS_PORT" 10 || fail "sipp uas did not start"
start_ser "$T/ser.cfg"
S="$T/ser.ctl"
i=0; while [ ! -S "$S" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done

r=$(rpc "$S" stats.reset)
[ "$(jget "$r" 'r["result"]["reset"]')" = True ] || fail "stats.reset: $r"
sipp_run 20 20
sipp_all_ok 20
r=$(rpc "$S" stats)
got=$(jget "$r" '" ".join(str(r["result"]["counters"][k]) for k in ("requests_in","replies_in","requests_forwarded","replies_forwarded")) + " " + str(r["result"]["transports"]["udp"]["in"]) + " " + str(r["result"]["transports"]["udp"]["out"])')
[ "$got" = "60 60 60 60 120 120" ] ||
    fail "after 20 calls: requests_in replies_in requests_forwarded replies_forwarded udp_in udp_out = $got, want 60 60 60 60 120 120"
ok "stats after 20 SIPp calls: exactly 60 requests and 60 replies in and forwarded"
r=$(rpc "$S" stats.reset)
r=$(rpc "$S" stats)
[ "$(jget "$r" 'r["result"]["counters"]["requests_in"]')" = 0 ] || fail "stats.reset did not zero: $r"
ok "stats.reset starts the counters from zero"

# tcp.list and conn.close on a TCP connection held by socat.
rm -f "$T/tcp.in"; mkfifo "$T/tcp.in"
socat -u "OPEN:$T/tcp.in" "TCP:127.0.0.1:$SER_PORT" &
HELD=$!
BG_PIDS="$BG_PIDS $HELD"
exec 6>"$T/tcp.in"
i=0; id=""
while [ -z "$id" ] && [ $i -lt 100 ]; do
    r=$(rpc "$S" tcp.list)
    id=$(jget "$r" '" ".join(str(c["id"]) for c in r["result"] if c["proto"]=="tcp" and c["direction"]=="in")')
    [ -n "$id" ] || sleep 0.05; i=$((i+1))
done
[ -n "$id" ] || fail "tcp.list does not show the held connection: $r"
r=$(rpc "$S" conn.close "[$id]")
[ "$(jget "$r" 'r["result"]["closing"]')" = "$id" ] || fail "conn.close $id: $r"
i=0; while kill -0 "$HELD" 2>/dev/null && [ $i -lt 100 ]; do printf 'x' >&6 2>/dev/null; sleep 0.05; i=$((i+1)); done
exec 6>&-
kill -0 "$HELD" 2>/dev/null && fail "conn.close $id did not close the connection"
r=$(rpc "$S" tcp.list)
[ "$(jget "$r" "any(c['id']==$id for c in r['result'])")" = False ] || fail "closed connection still listed: $r"
grep -q "closed by the operator (conn.close $id)" "$T/ser.log" || fail "conn.close was not logged"
r=$(rpc "$S" conn.close "[999999]")
[ "$(jget "$r" 'r["error"]["code"]')" = -32000 ] || fail "conn.close of no connection: $r"
ok "tcp.list shows a connection, conn.close closes it (logged), an unknown id is an error"

# tls.list: cipher and peer CN of an s_client connection.
tls_open alice 7 -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
tls_wait alice "Verify return code: 0" 5 || fail "s_client did not connect: $(tail -5 "$T/alice.out")"
cipher=$(sed -n 's/^ *Cipher *: *//p' "$T/alice.out" | head -n 1)
i=0; r=""
while [ $i -lt 100 ]; do
    r=$(rpc "$S" tls.list)
    [ "$(jget "$r" 'len([c for c in r["result"] if c["cipher"]])')" -ge 1 ] && break
    sleep 0.05; i=$((i+1))
done
[ "$(jget "$r" "[c['cipher'] for c in r['result']][0]")" = "$cipher" ] || fail "tls.list cipher is not s_client's $cipher: $r"
jget "$r" "[c['peer_subject'] for c in r['result']][0]" | grep -q "CN *= *alice" || fail "tls.list has no peer CN alice: $r"
[ "$(jget "$r" "[c['verified'] for c in r['result']][0]")" = True ] || fail "tls.list: not verified: $r"
tls_close alice 7
ok "tls.list shows s_client's cipher ($cipher) and the peer CN alice, verified"

r=$(rpc "$S" tls.info)
[ "$(jget "$r" 'r["result"][0]["expires_in_days"] > 300 and "DNS:localhost" in r["result"][0]["sans"]')" = True ] ||
    fail "tls.info: $r"
r=$(rpc "$S" tls.reload)
[ "$(jget "$r" 'r["result"]["reloaded"]')" = True ] || fail "tls.reload of good material: $r"
cp "$CERTS/localhost.pem" "$T/good.pem"
echo "not a certificate" >"$CERTS/localhost.pem"
r=$(rpc "$S" tls.reload)
[ "$(jget "$r" 'r["error"]["code"]')" = -32000 ] || fail "tls.reload of a broken certificate did not fail: $r"
jget "$r" 'r["error"]["message"]' | grep -q "localhost.pem" || fail "the tls.reload error does not name the file: $r"
tls_open bob 8 -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -cert "$CERTS/alice.pem" -key "$CERTS/alice.key"
tls_wait bob "Verify return code: 0" 5 || fail "after a failed reload TLS no longer works: $(tail -5 "$T/bob.out")"
tls_close bob 8
cp "$T/good.pem" "$CERTS/localhost.pem"
ok "tls.info shows the certificate; tls.reload takes good material, refuses a broken one naming it, the old stays"

# serial.list: the pty device, a client, bytes both ways.
rm -f "$T/ser.in"; mkfifo "$T/ser.in"
socat -u "OPEN:$T/ser.in" "TCP:127.0.0.1:$PS" &
SC=$!
BG_PIDS="$BG_PIDS $SC"
exec 5>"$T/ser.in"
i=0; while [ $i -lt 100 ]; do
    r=$(rpc "$S" serial.list)
    [ "$(jget "$r" 'len(r["result"][0]["clients"])')" = 1 ] && break
    sleep 0.05; i=$((i+1))
done
printf 'hello' >&5
printf 'from-device' >"$T/peer"
i=0; while [ $i -lt 100 ]; do
    r=$(rpc "$S" serial.list)
    [ "$(jget "$r" 'r["result"][0]["tx"] == 5 and r["result"][0]["rx"] == 11')" = True ] && break
    sleep 0.05; i=$((i+1))
done
[ "$(jget "$r" 'r["result"][0]["state"] == "open" and r["result"][0]["baudrate"] == 9600 and r["result"][0]["line"] == "8N1"')" = True ] ||
    fail "serial.list device: $r"
[ "$(jget "$r" '[c["rx"] == 5 and c["tx"] == 11 and c["address"].startswith("127.0.0.1:") for c in r["result"][0]["clients"]]')" = "[True]" ] ||
    fail "serial.list client: $r"
exec 5>&-
ok "serial.list: the device open at 9600 8N1, 11 bytes from it and 5 to it, its client with the same counts"

# log.level: every process logs at the new level.
r=$(rpc "$S" log.level "[4]")
[ "$(jget "$r" 'r["result"]["level"]')" = 4 ] || fail "log.level 4: $r"
# The TCP worker that accepts a connection says so at debug (another process than ctl).
printf '\r\n\r\n' | socat -u - "TCP:127.0.0.1:$SER_PORT"
log_wait "$T/ser.log" "^tcp#[01]\[[0-9]*\] DEBUG: conn [0-9]*: accepted" 1 5 ||
    fail "no TCP worker logs at debug after log.level 4"
r=$(rpc "$S" log.level "[2]")
[ "$(jget "$r" 'r["result"]["level"]')" = 2 ] || fail "log.level 2: $r"
n=$(grep -c "DEBUG: conn [0-9]*: accepted" "$T/ser.log")
printf '\r\n\r\n' | socat -u - "TCP:127.0.0.1:$SER_PORT"
r=$(rpc "$S" tcp.list)   # a round trip after the connection: its accept line would be in by now
[ "$(grep -c "DEBUG: conn [0-9]*: accepted" "$T/ser.log")" = "$n" ] || fail "still logging at debug after log.level 2"
ok "log.level 4 reaches the TCP workers; log.level 2 sets it back"

stop_ser

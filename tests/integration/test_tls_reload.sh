#!/bin/sh
# SIGHUP reloads the TLS certificates in every TLS worker: new connections get
# the new certificate, an open connection goes on; a broken certificate file
# keeps the old certificates in use (main refuses it, says so, and asks no
# worker to load it), and ser stays up. tls_reload_check=0 and files copied
# in place: the file watcher may reload too, the SIGHUP path is what is shown.
. "$(dirname "$0")/tls_lib.sh"

certs_ca "$CERTS"
cert_server first --dns localhost --ip 127.0.0.1
cert_server second --dns localhost --ip 127.0.0.1
cp "$CERTS/first.pem" "$CERTS/live.pem"
cp "$CERTS/first.key" "$CERTS/live.key"

WORKERS=2
PU=$(free_port); PT=$(free_port)
[ "$PU" = "$PT" ] && fail "port clash, run again"
write_tls_cfg "$T/ser.cfg" "$PU" "$PT" "$PU" <<CFG
tls_certificate="c/live.pem"
tls_private_key="c/live.key"
CFG
sed -i "s/^tcp_children=.*/tcp_children=$WORKERS/" "$T/ser.cfg"
start_ser "$T/ser.cfg"
kids=$(ser_children | sort)

# Several new connections, so that every worker is likely to take one.
all_subjects_are() { # $1 = expected CN, $2 = when
    for n in 1 2 3 4 5 6; do
        got=$(peer_subject "$PT" -noservername)
        echo "$got" | grep -q "CN *= *$1\$" || fail "$2: connection $n got '$got', expected CN $1"
    done
}
all_subjects_are first "before the reload"

# A connection opened before the reload, used after it.
sip_options "sip:ping@127.0.0.1:$PT" before-1 >"$T/before-1.req"
sip_options "sip:ping@127.0.0.1:$PT" before-2 >"$T/before-2.req"
tls_open held 7 -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error
tls_send 7 "$T/before-1.req"
tls_wait held 'Call-ID: before-1' || fail "no answer on the connection opened before the reload"

cp "$CERTS/second.pem" "$CERTS/live.pem"
cp "$CERTS/second.key" "$CERTS/live.key"
kill -HUP "$SER_PID"
log_wait "$T/ser.log" 'TLS certificates and keys reloaded' $WORKERS 10 ||
    fail "not every TLS worker logged the reload: $(grep -c 'reloaded' "$T/ser.log") of $WORKERS"
all_subjects_are second "after the reload"
ok "SIGHUP: all $WORKERS TLS workers reloaded, new connections get the new certificate"

tls_send 7 "$T/before-2.req"
tls_wait held 'Call-ID: before-2' || fail "the connection opened before the reload stopped working"
tls_close held 7
ok "a connection opened before the reload keeps working"

printf -- '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n' >"$CERTS/live.pem"
kill -HUP "$SER_PID"
# main builds first and refuses it, so no worker is asked to load it.
log_wait "$T/ser.log" 'refused, the old certificates stay in use' 1 10 ||
    fail "main did not log the refused reload"
grep -q 'reload failed' "$T/ser.log" && fail "a worker was asked to load the broken certificate"
all_subjects_are second "after a failed reload"
sip_options "sip:ping@127.0.0.1:$PT" after >"$T/after.req"
TLS_REQ=$T/after.req
tls_ask after 'SIP/2.0 200 OK' -connect "127.0.0.1:$PT" -CAfile "$CERTS/ca.pem" -verify_return_error ||
    fail "no 200 over TLS after the failed reload"
[ "$(ser_children | sort)" = "$kids" ] || fail "a child process died"
kill -0 "$SER_PID" || fail "ser died"
ok "broken certificate: reload refused, the previous certificate stays in use, ser is up"

# A worker that dies after a reload comes back with the reloaded material,
# not the certificate main had at start.
for w in $(ser_children); do kill -KILL "$w"; done
i=0; while [ "$(ser_children | wc -l)" -lt "$(echo "$kids" | wc -l)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ "$(ser_children | wc -l)" -eq "$(echo "$kids" | wc -l)" ] || fail "killed children were not restarted"
wait_port tcp "$PT" 5 || fail "TLS port closed after the restart"
all_subjects_are second "from workers restarted after the reload"
ok "workers restarted after a reload serve the reloaded certificate"
stop_ser

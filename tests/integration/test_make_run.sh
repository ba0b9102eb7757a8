#!/bin/sh
# `make TLS=1 run` on a fresh tree: tools/run-default.sh makes the test
# certificates and starts ser on its embedded config, whose mutual-TLS
# listener answers an OPTIONS from openssl s_client with the generated client
# certificate. The default config binds 5060/5061, so the test runs it in a
# network namespace of its own, where no other run can hold those ports.
. "$(dirname "$0")/lib.sh"
[ "${SER_TLS:-0}" = 1 ] || { echo "needs a TLS build"; exit 77; }
unshare --net true 2>/dev/null || { echo "cannot create a network namespace here"; exit 77; }

cat >"$T/inner.sh" <<'INNER'
set -u
ip link set lo up
certs="$SER_TOP/build/certs"
"$SER_TOP/tools/run-default.sh" "$SER_BIN" >"$T/run.log" 2>&1 &
pid=$!
i=0
while ! ss -Hlnt 'sport = :5061' | grep -q . && [ $i -lt 200 ]; do
    kill -0 $pid 2>/dev/null || { echo "ser exited"; cat "$T/run.log"; exit 1; }
    sleep 0.05; i=$((i+1))
done
ss -Hlnt 'sport = :5061' | grep -q . || { echo "5061 never opened"; cat "$T/run.log"; kill $pid; exit 1; }
mkfifo "$T/in"
openssl s_client -connect 127.0.0.1:5061 -CAfile "$certs/ca.pem" -cert "$certs/client.pem" \
    -key "$certs/client.key" -verify_return_error -quiet <"$T/in" >"$T/out" 2>"$T/err" &
sc=$!
exec 3>"$T/in"
printf 'OPTIONS sip:ping@127.0.0.1:5061 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;rport;branch=z9hG4bK-mr\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: make-run\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' >&3
i=0
while ! grep -q '^SIP/2.0 200' "$T/out" && kill -0 $sc 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
exec 3>&-
kill $sc 2>/dev/null
rc=0
grep -q '^SIP/2.0 200' "$T/out" || { echo "no 200 OK over TLS"; cat "$T/out" "$T/err"; rc=1; }
grep -q 'ser test CA' "$T/err" || { echo "server certificate not from the generated CA"; rc=1; }
kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -0 $pid 2>/dev/null && { echo "ser did not stop on SIGTERM"; kill -KILL $pid; rc=1; }
exit $rc
INNER
export T SER_BIN SER_TOP
unshare --net sh "$T/inner.sh" || fail "make run did not answer a TLS OPTIONS"
[ "$(stat -c %a "$SER_TOP/build/certs/localhost.key")" = 600 ] || fail "generated key is not mode 600"
ok "make run: mutual-TLS listener answered OPTIONS with the generated client certificate"

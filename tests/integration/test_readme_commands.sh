#!/bin/sh
# The commands of the README's first section, run as written against ser on
# its embedded default config (as `make TLS=1 run` starts it): the OPTIONS
# over mutual TLS, sipsak over UDP, and a SIPp call through ser to a SIPp
# callee. The config binds 5060/5061: this runs in a network namespace of
# its own. The README's block is read from README.md, so the two cannot drift.
. "$(dirname "$0")/lib.sh"
[ "${SER_TLS:-0}" = 1 ] || { echo "needs a TLS build"; exit 77; }
command -v sipp >/dev/null && command -v sipsak >/dev/null || { echo "sipp or sipsak not installed"; exit 77; }
unshare --net true 2>/dev/null || { echo "cannot create a network namespace here"; exit 77; }

# The README's "from another terminal" block: the lines between the sh fence
# after "It prints the command that proves TLS works" and its end.
awk '/It prints the command that proves TLS works/{f=1} f&&/^```sh/{g=1;next} g&&/^```/{exit} g' \
    "$SER_TOP/README.md" >"$T/readme.sh"
grep -q "openssl s_client" "$T/readme.sh" && grep -q "^sipsak " "$T/readme.sh" && grep -q "^sipp -sn uac" "$T/readme.sh" ||
    fail "the README block was not found: $(cat "$T/readme.sh")"

cat >"$T/inner.sh" <<'INNER'
set -u
ip link set lo up
cd "$SER_TOP"
"$SER_TOP/tools/run-default.sh" "$SER_BIN" >"$T/run.log" 2>&1 &
pid=$!
i=0
while ! ss -Hlnt 'sport = :5061' | grep -q . && [ $i -lt 200 ]; do
    kill -0 $pid 2>/dev/null || { echo "ser exited"; cat "$T/run.log"; exit 1; }
    sleep 0.05; i=$((i+1))
done
rc=0
# Each README line on its own, bounded in time: s_client waits for Ctrl-C,
# the callee runs until killed.
sed -n '/^printf .OPTIONS/,/-ign_eof$/p' "$T/readme.sh" >"$T/tls.sh"
timeout 5 sh "$T/tls.sh" >"$T/tls.out" 2>&1
grep -q '^SIP/2.0 200 OK' "$T/tls.out" || { echo "README OPTIONS over TLS: no 200 OK"; cat "$T/tls.out"; rc=1; }
cmd=$(grep '^sipsak ' "$T/readme.sh" | sed 's/ *#.*//')
timeout 10 sh -c "$cmd" >"$T/sipsak.out" 2>&1
grep -q '200 OK' "$T/sipsak.out" || { echo "README sipsak: no 200 OK"; cat "$T/sipsak.out"; rc=1; }
uas=$(grep '^sipp -sn uas' "$T/readme.sh" | sed 's/ *#.*//; s/ *& *$//')
sh -c "exec $uas -nostdin -bg" >"$T/uas.out" 2>&1
i=0; while ! ss -Hlnu 'sport = :5070' | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
uac=$(grep '^sipp -sn uac' "$T/readme.sh" | sed 's/ *#.*//')
timeout 30 sh -c "$uac -nostdin -timeout 20 -timeout_error -trace_stat -stf $T/uac.csv" >"$T/uac.out" 2>&1
urc=$?
pkill -f "sipp -sn uas" 2>/dev/null
[ $urc -eq 0 ] || { echo "README sipp call failed (rc $urc)"; tail -n 20 "$T/uac.out"; rc=1; }
kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -0 $pid 2>/dev/null && { echo "ser did not stop on SIGTERM"; kill -KILL $pid; rc=1; }
exit $rc
INNER
export T SER_BIN SER_TOP
unshare --net sh "$T/inner.sh" || fail "a README command did not work as written"
ok "the README's commands work as written: OPTIONS over mutual TLS, sipsak, a SIPp call through ser"

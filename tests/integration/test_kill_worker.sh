#!/bin/sh
# A UDP receiver killed with SIGKILL under load is logged and restarted by
# main; calls keep succeeding during and after; SIGTERM then stops everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }

sipp_setup udp 2
before=$(ser_children | sort)
[ "$(echo "$before" | wc -l)" -eq 5 ] || fail "expected 5 children (2 udp + 2 tcp + control), got: $before"

# Load in the background, then kill one receiver in the middle of it.
( sipp_run 100 1000 during >"$T/during.summary" ) &
LOAD=$!
BG_PIDS="$BG_PIDS $LOAD"
i=0; while [ ! -s "$T/during.csv" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
victim=$(echo "$before" | head -n 1)
kill -KILL "$victim" || fail "could not kill $victim"
i=0
while ! grep -q "pid $victim) killed by signal 9; restarting" "$T/ser.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
grep -q "pid $victim) killed by signal 9; restarting" "$T/ser.log" || fail "main did not log the death of $victim"
i=0
while [ "$(ser_children | wc -l)" -lt 5 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
after=$(ser_children | sort)
[ "$(echo "$after" | wc -l)" -eq 5 ] || fail "child not restarted: $after"
echo "$after" | grep -qx "$victim" && fail "victim $victim still listed"
ok "receiver $victim killed and restarted"

wait $LOAD
cat "$T/during.summary"
ok_during=$(sed -n 's/.*: \([0-9]*\) successful, \([0-9]*\) failed.*/\1/p' "$T/during.summary")
[ "${ok_during:-0}" -ge 990 ] || fail "only ${ok_during:-0} of 1000 calls succeeded while a receiver was killed"

sipp_run 200 1000 after
sipp_all_ok 1000
stop_ser
ok "calls keep succeeding after a receiver restart; SIGTERM left no child behind"

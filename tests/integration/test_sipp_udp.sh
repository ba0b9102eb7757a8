#!/bin/sh
# SIPp uac -> ser (UDP, children=2) -> SIPp uas, 500 calls/s for 10 s: every
# call must succeed. With two receivers on one port this also shows that one
# peer's messages keep their order (a 200 overtaking its 180 fails the call).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }

sipp_setup udp 2
sipp_run 500 5000
sipp_all_ok 5000
kill -0 "$SER_PID" || fail "ser died"
stop_ser
ok "5000/5000 calls through ser over udp at 500 calls/s"

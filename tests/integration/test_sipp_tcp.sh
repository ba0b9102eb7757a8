#!/bin/sh
# SIPp uac -> ser (TCP) -> SIPp uas over TCP, 500 calls/s for 10 s: every call
# must succeed; responses go back over the connection the request came on,
# which may be owned by another worker than the one the response arrives on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sipp_calls.sh"
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }

sipp_setup tcp 2
sipp_run 500 5000
sipp_all_ok 5000
stop_ser
ok "5000/5000 calls through ser over tcp at 500 calls/s"

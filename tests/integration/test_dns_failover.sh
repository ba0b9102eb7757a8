#!/bin/sh
# SRV failover for streams (RFC 3263 §4.3, RFC 2782): _sip._tcp.fo.example.test
# has a priority-10 target on a port where nothing listens and a priority-20
# target, a TCP sink. Asserts:
# - a request that came over UDP (handed to a tcp worker through its channel,
#   the alternates with it): the connect to the first target is refused and
#   all 10 arrive at the second;
# - the same for requests that came over TCP (the worker's own send);
# - ser logs the fail-over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

SER_PORT=$(free_port)
DEAD=$(free_port); LIVE=$(free_port); US=$(free_port)
dns_start z --local-ttl=60 \
    --srv-host=_sip._tcp.fo.example.test,host1.example.test,"$DEAD",10,10 \
    --srv-host=_sip._tcp.fo.example.test,host1.example.test,"$LIVE",20,10 \
    --host-record=host1.example.test,127.0.0.1
dns_ser_start 2
for mode in udp tcp; do
    out=$(cd "$T" && timeout 30 python3 sinks.py "$mode" "sip:$mode@fo.example.test;transport=tcp" 10 \
        "$SER_PORT" "$LIVE" "$US")
    [ "$out" = "tcp 10 udp 0 replies -" ] || fail "over $mode: expected 10 at the second target, got \"$out\""
    ok "request over $mode: the first SRV target refused, 10/10 at the second"
done
grep -q "connect to 127.0.0.1:$DEAD failed: .* go to the next target, 127.0.0.1:$LIVE" "$T/ser.log" ||
    fail "no fail-over line in the log"
ok "the fail-over is logged"
kill -0 "$SER_PID" || fail "ser died"
stop_ser

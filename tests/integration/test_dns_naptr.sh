#!/bin/sh
# RFC 3263 §4.1 with NAPTR records (dnsmasq on 127.0.0.1): example.test has
# NAPTR SIP+D2T (order 10) and SIP+D2U (order 20), each to its SRV name, and
# the SRV records point at a TCP sink and a UDP sink. Asserts:
# - sip:...@example.test over UDP follows the NAPTR order: 10/10 arrive over TCP;
# - the same over a TCP connection (the TCP worker's own resolver on its
#   connection loop): 10/10 over TCP;
# - ;transport=udp skips NAPTR: _sip._udp's SRV, 10/10 at the UDP sink;
# - an explicit port skips NAPTR and SRV (RFC 3263 §4.2): no NAPTR or SRV
#   query for that host, 10/10 at the UDP sink;
# - a name with no records at all gets 478.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

SER_PORT=$(free_port)
TS=$(free_port); US=$(free_port)
dns_start z --local-ttl=60 \
    --naptr-record=example.test,20,10,s,SIP+D2U,,_sip._udp.example.test \
    --naptr-record=example.test,10,10,s,SIP+D2T,,_sip._tcp.example.test \
    --srv-host=_sip._tcp.example.test,host1.example.test,"$TS",10,10 \
    --srv-host=_sip._udp.example.test,host1.example.test,"$US",10,10 \
    --host-record=host1.example.test,127.0.0.1
dns_ser_start 1

check() { # MODE URI EXPECT
    out=$(cd "$T" && timeout 30 python3 sinks.py "$1" "$2" 10 "$SER_PORT" "$TS" "$US")
    [ "$out" = "$3" ] || fail "$1 $2: expected \"$3\", got \"$out\""
    ok "$1 $2: $out"
}
check udp sip:a@example.test "tcp 10 udp 0 replies -"
check tcp sip:b@example.test "tcp 10 udp 0 replies -"
n=$(grep -c 'query\[NAPTR\] example.test' "$T/z.qlog")
[ "$n" -eq 2 ] || fail "$n NAPTR queries for example.test; expected 2 (the receiver's and the tcp worker's)"
ok "the udp receiver and the tcp worker asked once each (per-process caches)"
check udp "sip:c@example.test;transport=udp" "tcp 0 udp 10 replies -"
check udp "sip:d@host1.example.test:$US" "tcp 0 udp 10 replies -"
! grep -q 'query\[\(NAPTR\|SRV\)\] [_a-z.]*host1.example.test' "$T/z.qlog" || fail "NAPTR or SRV asked for host1 although its port was given"
ok "an explicit port asked neither NAPTR nor SRV"
check udp sip:e@nothing.example.test "tcp 0 udp 0 replies 478=10"
kill -0 "$SER_PID" || fail "ser died"
stop_ser

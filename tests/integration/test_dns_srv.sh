#!/bin/sh
# RFC 3263 through a real DNS server (dnsmasq on 127.0.0.1 with zone data
# made here), one UDP receiver (children=1, one cache): forward() to sip:...@example.test finds no NAPTR, takes
# _sip._udp.example.test's SRV records (same priority, weights 75 and 25) and
# their A records. Asserts:
# - 1000 forwards reach the two targets in proportion to the weights (each
#   count within 5 sigma of 750/250), none lost;
# - the answers are cached: far fewer SRV queries than forwards;
# - TTL expiry re-queries: dnsmasq restarted with a third target is not asked
#   while the TTL (5 s) runs, and after it the new target gets every request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
udp_load

SER_PORT=$(free_port)
A=$(free_port); B=$(free_port); C=$(free_port)
dns_start z1 --local-ttl=5 \
    --srv-host=_sip._udp.example.test,host1.example.test,"$A",10,75 \
    --srv-host=_sip._udp.example.test,host2.example.test,"$B",10,25 \
    --host-record=host1.example.test,127.0.0.1 --host-record=host2.example.test,127.0.0.1
cat >"$T/ser.cfg" <<CFG
debug=1
children=1
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
dns_servers="127.0.0.1:$DNS_PORT"
dns_timeout=1000
route { forward(); }
CFG
t0=$(date +%s)
start_ser "$T/ser.cfg"

# 1000 forwards by weight.
out=$(cd "$T" && timeout 60 python3 udp_load.py "$SER_PORT" 1000 sip:svc@example.test "$A" "$B")
echo "weights 75:25 -> $out"
set -- $out
na=$2 nb=$3
[ $((na + nb)) -eq 1000 ] || fail "1000 requests sent, $((na + nb)) reached a target ($out)"
# |na - 750| < 5 sigma, sigma^2 = 1000 * 0.75 * 0.25 = 187.5
d=$((na - 750))
[ $((d * d)) -lt 4688 ] || fail "host1 (weight 75) got $na of 1000: more than 5 sigma (68) from 750"
ok "SRV weights 75:25 over 1000 forwards: $na / $nb (within 5 sigma of 750 / 250)"

q=$(grep -c 'query\[SRV\] _sip._udp.example.test' "$T/z1.qlog")
[ "$q" -ge 1 ] && [ "$q" -le 10 ] || fail "$q SRV queries for 1000 forwards (cache not used?)"
ok "$q SRV queries for 1000 forwards (answers cached)"

# TTL: a new zone whose only target is C.
dns_stop z1
dns_start z2 --local-ttl=5 \
    --srv-host=_sip._udp.example.test,host3.example.test,"$C",10,10 --host-record=host3.example.test,127.0.0.1
if [ $(($(date +%s) - t0)) -le 3 ]; then
    out=$(cd "$T" && timeout 60 python3 udp_load.py "$SER_PORT" 20 sip:svc@example.test "$A" "$B" "$C")
    set -- $out
    [ "$4" -eq 0 ] || fail "within the TTL, $4 of 20 requests went to the new target ($out)"
    ! grep -q 'query\[SRV\]' "$T/z2.qlog" || fail "the new server was asked within the TTL"
    ok "within the TTL the cached targets are used ($2 / $3 / $4), the new server not asked"
else
    echo "note: the first phase took over 3 s; the within-TTL check skipped"
fi
sleep $((t0 + 7 - $(date +%s)))
out=$(cd "$T" && timeout 60 python3 udp_load.py "$SER_PORT" 20 sip:svc@example.test "$A" "$B" "$C")
set -- $out
[ "$4" -eq 20 ] || fail "after the TTL, $4 of 20 requests went to the new target ($out)"
grep -q 'query\[SRV\] _sip._udp.example.test' "$T/z2.qlog" || fail "no SRV query after the TTL"
ok "after the TTL the SRV records are asked again: 20/20 to the new target"

kill -0 "$SER_PID" || fail "ser died"
stop_ser

#!/bin/sh
# What Kamailio and OpenSIPS users write works (issue 14 item 4): the
# pseudo-variables $rm $ru $rd $fd $si in conditions, in rewritehost() and in
# log(); t_relay() forwards (statelessly: ser -c says so); modparam("tls", ...)
# is refused with ser's parameter named.
. "$(dirname "$0")/lib.sh"

command -v socat >/dev/null || { echo "skip: socat not installed"; exit 77; }
PU=$(free_port); PS=$(free_port)
[ "$PU" = "$PS" ] && fail "port clash, run again"
cat >"$T/ser.cfg" <<CFG
debug=3
children=1
tcp_children=1
ctl_socket="none"
listen=udp:127.0.0.1:$PU
route {
    if (\$rm == "OPTIONS" && \$fd == "alice.example.com") { sl_send_reply("200", "from alice"); break; };
    if (\$rm == "MESSAGE" && \$si == 127.0.0.1 && \$rd == "example.org") {
        rewritehost("\$fd");
        log(1, "habit: ru=\$ru rd=\$rd fd=\$fd method=\$rm");
        t_relay();
        break;
    };
    sl_send_reply("403", "no habit");
}
CFG
"$SER_BIN" -c -f "$T/ser.cfg" >"$T/check" 2>&1 || { cat "$T/check"; fail "ser -c"; }
grep -q 'notice: t_relay(): ser is stateless' "$T/check" || fail "ser -c does not say t_relay() is stateless"
ok "ser -c accepts the pseudo-variables and says t_relay() is stateless"
start_ser "$T/ser.cfg"
bg_start sink socat -u "UDP-RECVFROM:$PS,bind=127.0.0.1,fork" "OPEN:$T/sink.out,creat,append"
wait_port udp "$PS" 5 || fail "the sink does not listen"

send() { # FILE: one datagram to ser, the answer in FILE.out
    timeout 5 socat -t 2 - "UDP:127.0.0.1:$PU" <"$1" >"$1.out" 2>/dev/null
}
msg() { # METHOD RURI FROM-HOST CALLID
    printf '%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-%s\r\nFrom: <sip:t@%s>;tag=%s\r\nTo: <sip:x@example.org>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
        "$1" "$2" "$4" "$3" "$4" "$4" "$1"
}
msg OPTIONS "sip:x@127.0.0.1:$PU" alice.example.com o1 >"$T/o1"; send "$T/o1"
grep -q 'SIP/2.0 200 from alice' "$T/o1.out" || fail "\$rm/\$fd in a condition: $(head -n 1 "$T/o1.out")"
msg OPTIONS "sip:x@127.0.0.1:$PU" bob.example.com o2 >"$T/o2"; send "$T/o2"
grep -q 'SIP/2.0 403' "$T/o2.out" || fail "\$fd matched the wrong domain: $(head -n 1 "$T/o2.out")"
ok "\$rm and \$fd in conditions"

msg MESSAGE "sip:sink@example.org:$PS" 127.0.0.1 m1 >"$T/m1"
timeout 5 socat -u - "UDP:127.0.0.1:$PU" <"$T/m1"
i=0; while ! grep -q 'Call-ID: m1' "$T/sink.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
grep -q "^MESSAGE sip:sink@127.0.0.1:$PS SIP/2.0" "$T/sink.out" ||
    fail "rewritehost(\"\$fd\") + t_relay() did not forward to sip:sink@127.0.0.1:$PS: $(head -n 1 "$T/sink.out" 2>/dev/null)"
log_line=$(grep 'habit: ' "$T/ser.log")
echo "$log_line" | grep -q "habit: ru=sip:sink@127.0.0.1:$PS rd=127.0.0.1 fd=127.0.0.1 method=MESSAGE" ||
    fail "log() did not expand the pseudo-variables: $log_line"
ok "\$si/\$rd in a condition, rewritehost(\"\$fd\"), log() with \$ru \$rd \$fd \$rm, and t_relay() forwarding"
stop_ser

printf 'listen=udp:127.0.0.1:%s\nmodparam("tls", "private_key", "/etc/ser/key.pem")\nroute { drop; }\n' "$PU" >"$T/mp.cfg"
"$SER_BIN" -c -f "$T/mp.cfg" >"$T/mp.check" 2>&1 && fail "ser -c accepted modparam(\"tls\", ...)"
grep -q 'modparam("tls", "private_key", ...) is not available in ser: write tls_private_key instead' "$T/mp.check" ||
    fail "the refusal does not name tls_private_key: $(cat "$T/mp.check")"
ok "modparam(\"tls\", ...) is refused, naming ser's parameter"

#!/bin/sh
# ps shows each process's role in its title (`ps -o args`): "ser: main", and
# for 2 udp receivers on one listener and 2 tcp workers
#   ser: udp receiver 127.0.0.1:P #0     ser: udp receiver 127.0.0.1:P #1
#   ser: tcp worker 0                    ser: tcp worker 1
# The comm name (`ps -o comm`) of a child says it too ("ser: tcp#1", the
# prefix of its log lines). A worker killed and restarted by main comes back
# with the same title.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
cat >"$T/ser.cfg" <<CFG
children=2
tcp_children=2
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { drop; }
CFG
start_ser "$T/ser.cfg"

title() { ps -ww -o args= -p "$1" 2>/dev/null; }
# The children's titles, sorted, one a line; each child sets its own just after fork.
titles() { for k in $(ser_children); do title "$k"; done | sort; }

want=$(printf '%s\n' "ser: control $T/ser.ctl" "ser: tcp worker 0" "ser: tcp worker 1" \
    "ser: udp receiver 127.0.0.1:$P #0" "ser: udp receiver 127.0.0.1:$P #1" | sort)
i=0; while [ "$(titles)" != "$want" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
got=$(title "$SER_PID")
[ "$got" = "ser: main" ] || fail "main's title is \"$got\", not \"ser: main\""
got=$(titles)
[ "$got" = "$want" ] || fail "children's titles are:
$got
expected:
$want"
ok "main and its 5 children show their roles: $(echo "$got" | tr '\n' ';')"

comms=$(for k in $(ser_children); do ps -o comm= -p "$k"; done | sort | tr '\n' ';')
[ "$comms" = "ser: ctl;ser: tcp#0;ser: tcp#1;ser: udp#0.0;ser: udp#0.1;" ] || fail "children's comm names are $comms"
ok "comm names: $comms"

victim=""
for k in $(ser_children); do [ "$(title "$k")" = "ser: tcp worker 1" ] && victim=$k; done
[ -n "$victim" ] || fail "no process titled \"ser: tcp worker 1\""
kill -KILL "$victim" || fail "could not kill $victim"
i=0
while ! grep -q "^main\[$SER_PID\] .*tcp#1 (pid $victim) killed by signal 9; restarting" "$T/ser.log" && [ $i -lt 100 ]; do
    sleep 0.05; i=$((i+1))
done
grep -q "tcp#1 (pid $victim) killed by signal 9; restarting" "$T/ser.log" || fail "main did not log the death of tcp#1 ($victim)"
i=0; while { [ "$(titles)" != "$want" ] || ser_children | grep -qx "$victim"; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ser_children | grep -qx "$victim" && fail "killed worker $victim still listed"
got=$(titles)
[ "$got" = "$want" ] || fail "after the restart of tcp worker 1 the titles are:
$got"
ok "tcp worker 1 killed and restarted under the same title"

stop_ser
ok "stopped"

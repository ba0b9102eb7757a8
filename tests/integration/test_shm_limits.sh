#!/bin/sh
# Shared memory too small for the config is refused at start, before any
# child is forked, with a message on stderr that names the table and what to
# raise, and a non-zero exit: the connection table (tcp_max_connections, by
# shm_mem_size or -m) and the statistics (a slot per process: children,
# tcp_children). Every table placed in shared memory (connection table,
# statistics, process table, serial status) has such a check; the connection
# table's comes first, from its size alone.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
# refused NAME EXPECTED-TEXT [ser options]: ser on $T/NAME.cfg must exit non-zero
# within 10 s, say EXPECTED-TEXT on stderr, and leave the port unbound.
refused() {
    name=$1 want=$2; shift 2
    timeout 10 "$SER_BIN" -D -f "$T/$name.cfg" "$@" >"$T/$name.out" 2>&1
    rc=$?
    [ $rc -ne 0 ] || fail "$name: ser started (rc 0): $(cat "$T/$name.out")"
    [ $rc -ne 124 ] || fail "$name: ser was still running after 10 s"
    grep -q "$want" "$T/$name.out" || fail "$name: no clear message ($want): $(cat "$T/$name.out")"
    port_in_use "$P" && fail "$name: port $P still bound after the refusal"
    ok "$name: exit $rc, \"$(grep -m1 "$want" "$T/$name.out")\""
}

cat >"$T/conn_table.cfg" <<CFG
shm_mem_size=1
tcp_max_connections=100000
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { drop; }
CFG
refused conn_table 'shared memory of 1 MB is too small for tcp_max_connections=100000 (needs [0-9]* MB): raise shm_mem_size or -m'

# -m overrides shm_mem_size, for the check too.
sed 's/^shm_mem_size=1$/shm_mem_size=512/' "$T/conn_table.cfg" >"$T/conn_table_m.cfg"
refused conn_table_m 'shared memory of 2 MB is too small for tcp_max_connections=100000' -m 2

# Many processes: their statistics slots do not fit however small the table.
cat >"$T/processes.cfg" <<CFG
shm_mem_size=1
tcp_max_connections=16
children=300
tcp_children=300
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { drop; }
CFG
refused processes 'too small for the statistics of 610 processes'

# A config with room starts.
cat >"$T/fits.cfg" <<CFG
shm_mem_size=8
tcp_max_connections=1000
children=1
tcp_children=1
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$P
listen=tcp:127.0.0.1:$P
route { drop; }
CFG
start_ser "$T/fits.cfg"
stop_ser
ok "with shm_mem_size=8 the same config starts and stops"

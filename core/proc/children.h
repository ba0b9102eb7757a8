#pragma once
// The SIP roles main registers: UDP receivers and TCP/TLS workers (see
// proc/role.h for what a role is).

#include "proc/role.h"

namespace ser {

// "udp receiver": `children` per UDP listener, each with its own
// SO_REUSEPORT socket of it. Titled "udp receiver 127.0.0.1:5060 #0", logs as
// "udp#L.K" (L: the listener among the UDP ones, K: its socket).
void register_udp_receivers(RoleTable& roles);

// "tcp worker": `tcp_children` when any listener is a stream one (outgoing
// connections need them too), each with a socket of every tcp/tls listener
// and a channel. Titled "tcp worker N", logs as "tcp#N". When one dies, its
// connections leave the shared connection table.
void register_tcp_workers(RoleTable& roles);

}  // namespace ser

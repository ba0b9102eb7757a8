#pragma once
// The control socket's commands (core.*, tcp.list, tls.*, serial.list,
// stats, conn.close, log.level, metrics) over a Runtime: each reads the
// shared memory (statistics, connection table, process rows, serial status)
// or asks the owning process through its channel. Control role, after fork.

#include "ctl/ctl_rpc.h"

#include <string>

namespace ser {
struct Runtime;
}

namespace ser::ctl {

// Registers every command (and system.listMethods) on `rpc`.
void add_methods(Rpc& rpc, Runtime& rt);

// The Prometheus text exposition of everything the commands show as numbers
// (ctl/metrics.cpp): counters as *_total with labels for transport,
// listener and reason; gauges for connections, processes, serial devices and
// certificate expiry.
std::string metrics_text(Runtime& rt);

}  // namespace ser::ctl

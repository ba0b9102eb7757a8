#pragma once
// A UDP receiver process: reads datagrams from its own SO_REUSEPORT socket of
// one UDP listener and hands each to the SIP layer.

#include "proc/dns_hooks.h"
#include "proc/runtime.h"

#include <csignal>
#include <functional>
#include <string_view>

namespace ser {

using DgramHandler = std::function<void(std::string_view msg, const RecvInfo& ri)>;

// Runs until `stop` is set; `udp_idx` picks the listener, `k` the receiver's
// socket; counts into `stats`, the receiver's slot. With `dns`, the
// resolver's sockets and timer are served by the same poll.
int run_udp_receiver(Runtime& rt, size_t udp_idx, size_t k, StatsSlot stats, const DgramHandler& h,
                     const volatile sig_atomic_t& stop, PollDns* dns = nullptr);

}  // namespace ser

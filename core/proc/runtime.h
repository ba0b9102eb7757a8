#pragma once
// Everything main sets up before fork and every child inherits: the shared
// memory with the connection table and counters, the bound sockets, the
// per-worker channels. Plain fds and shm pointers only; no process-local state.

#include "clock.h"
#include "cfg/config.h"
#include "shm/conn_table.h"
#include "io/msg_io.h"
#include "shm/shm.h"
#include "shm/stats.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ser {

struct UdpListener {
    size_t listen_idx;            // into Runtime::listen_addrs
    std::vector<int> fds;         // one SO_REUSEPORT socket per receiver process
};

struct StreamListener {
    size_t listen_idx;
    std::vector<int> fds;         // one SO_REUSEPORT socket per TCP worker
};

// A unix datagram socketpair per TCP worker: others write to fds[1], the worker reads fds[0].
struct Channel {
    int fds[2] = {-1, -1};
};

// Statistics slots beyond main and the children, for roles still to come
// (control, serial bridges). A process whose slot is past the end counts into
// a sink of its own, and says so once (children.cpp).
inline constexpr uint32_t kSpareStatsSlots = 8;

struct Runtime {
    const Config* cfg = nullptr;
    std::optional<Shm> shm;
    ConnTable* conns = nullptr;
    Stats* stats = nullptr;          // a slot per process: main, the children, kSpareStatsSlots
    std::vector<ListenAddr> listen_addrs;
    std::vector<UdpListener> udp;
    std::vector<StreamListener> streams;
    std::vector<Channel> channels;   // one per tcp worker
    std::vector<int> listen_locks;   // one per listen address: no second server on it
    int64_t start_ms = 0;

    // Shared memory, sockets and channels from `cfg`; on failure returns a
    // message for the operator. Main process, before fork.
    std::string setup(const Config& cfg, int shm_mb);
    // The UDP listener to send from: `from` when it is a UDP listener of
    // `family`, else the first UDP listener of the family (any receiver's copy
    // of a listener's socket, fds[0] will do, has the same address); nullptr
    // when there is none.
    const UdpListener* udp_sender(const ListenAddr* from, int family) const;
    // The index of `l` in listen_addrs (the per-listener statistics), -1 for
    // nullptr or an address that is not one of them.
    int listener_index(const ListenAddr* l) const
    {
        return l && l >= listen_addrs.data() && l < listen_addrs.data() + listen_addrs.size()
                   ? static_cast<int>(l - listen_addrs.data())
                   : -1;
    }
};


}  // namespace ser

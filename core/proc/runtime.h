#pragma once
// Everything main sets up before fork and every child inherits: the shared
// memory with the connection table and counters, the bound sockets, the
// per-worker channels. Plain fds and shm pointers only; no process-local state.

#include "clock.h"
#include "cfg/config.h"
#include "shm/conn_table.h"
#include "io/msg_io.h"
#include "shm/shm.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ser {

// Counters shared by all processes (relaxed atomics in shm).
struct SharedStats {
    std::atomic<uint64_t> rcv_requests, rcv_replies, fwd_requests, fwd_replies, local_replies,
        drops, parse_errors, send_errors, tcp_accepted, tcp_refused_full, tcp_closed_errors,
        chan_drops, tcp_msg_read_timeouts, tcp_first_msg_timeouts;
};

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

struct Runtime {
    const Config* cfg = nullptr;
    std::optional<Shm> shm;
    ConnTable* conns = nullptr;
    SharedStats* stats = nullptr;
    std::vector<ListenAddr> listen_addrs;
    std::vector<UdpListener> udp;
    std::vector<StreamListener> streams;
    std::vector<Channel> channels;   // one per tcp worker
    std::vector<int> listen_locks;   // one per listen address: no second server on it
    int64_t start_ms = 0;

    // Shared memory, sockets and channels from `cfg`; on failure returns a
    // message for the operator. Main process, before fork.
    std::string setup(const Config& cfg, int shm_mb);
    // The UDP socket to send from: `from`'s when it is a UDP listener of
    // `family`, else the first UDP listener of the family (any receiver's copy
    // of a listener's socket has the same address); -1 when there is none.
    int udp_send_fd(const ListenAddr* from, int family) const;
};


}  // namespace ser

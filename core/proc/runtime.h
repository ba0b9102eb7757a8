#pragma once
// Everything main sets up before fork and every child inherits: the shared
// memory with the connection table and counters, the bound sockets, the
// per-worker channels. Plain fds and shm pointers only; no process-local state.

#include "clock.h"
#include "cfg/config.h"
#include "shm/conn_table.h"
#include "io/msg_io.h"
#include "shm/proc_table.h"
#include "shm/rate_gate.h"
#include "shm/serial_status.h"
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

class RoleTable;

// Statistics slots beyond main and the children, for roles still to come
// (control, serial bridges). A process whose slot is past the end counts into
// a sink of its own, and says so once (children.cpp).
inline constexpr uint32_t kSpareStatsSlots = 8;

struct Runtime {
    const Config* cfg = nullptr;
    std::optional<Shm> shm;
    ConnTable* conns = nullptr;
    Stats* stats = nullptr;          // a slot per process: main, the children, kSpareStatsSlots
    ProcTable* procs = nullptr;      // a row per child (core.ps), written by main
    std::atomic<int>* log_level = nullptr;   // the debug level every process logs at (log.level)
    RateGate* accept_gates = nullptr;        // per listen_addrs entry: tls_handshake_rate, shared by all workers
    std::vector<ListenAddr> listen_addrs;
    std::vector<UdpListener> udp;
    std::vector<StreamListener> streams;
    std::vector<Channel> channels;   // one per tcp worker
    // The listening sockets of each serial block's listen= (one per
    // endpoint, in cfg->serials order), bound by the serial bridge's step.
    std::vector<std::vector<int>> serial_listeners;
    // Each serial block's live state (device, clients), placed by the same step.
    std::vector<SerialStatus*> serial_status;
    std::vector<int> listen_locks;   // one per listen address: no second server on it
    // The control role's sockets (ctl/ctl_role.cpp): -1 when not in use.
    int ctl_fd = -1;
    std::string ctl_path;            // the unix socket's path, "" for tcp
    int metrics_fd = -1;
    // Whom ser runs as after the privilege drop (-u/-g or user=/group=), for
    // the files it makes before it (the control socket).
    std::string run_user, run_group;
    int64_t start_ms = 0;

    // Everything the children need, in steps: shared memory, listen
    // addresses, the listeners of each role, each role's own step, the
    // transports. "" or the first failure, a message for the operator.
    // Main process, before fork; `roles` are all registered.
    std::string setup(const Config& cfg, int shm_mb, const RoleTable& roles);

    // The steps of setup, in order; each "" or a message for the operator.
    // 1. The shared memory (-m or shm_mem_size), the connection table and the counters.
    std::string map_shared_memory(const Config& cfg, int shm_mb);
    // 2. listen= into listen_addrs: a wildcard becomes one listener per local address.
    std::string expand_listen_addrs();
    // 3. Per listen address, the role serving it: claim the address, then the role binds it.
    std::string bind_listeners(const RoleTable& roles);
    // 4. Each role's own set-up step (Role::setup), in registration order.
    std::string run_role_setups(const RoleTable& roles);
    // 5. The statistics: a slot for main (0, bound here) and each child of every role.
    std::string map_statistics(const RoleTable& roles);
    // 6. The stream transports (tcp; tls when built with it) and their contexts.
    std::string init_transports();

    // For the roles' steps. Refuses a listen address that another process
    // serves, else holds its lock (in listen_locks) until exit.
    std::string claim(const ListenAddr& la);
    // `n` channels (see Channel), appended to `channels`.
    std::string open_channels(size_t n);

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

// A socket of `type` bound to l.addr (SO_REUSEADDR; SO_REUSEPORT when
// `reuseport`), non-blocking, close-on-exec; -1 with `err` set on failure.
int open_bound_socket(const ListenAddr& l, int type, bool reuseport, std::string& err);
// A stream socket bound to l.addr and listening with `backlog`; -1 with
// `err` set (and nothing left open) on failure.
int open_listening_socket(const ListenAddr& l, bool reuseport, int backlog, std::string& err);
// "WHAT proto:addr failed: <errno text>", e.g. "listen() on tcp:127.0.0.1:5060 failed: ...".
std::string sock_error(const char* what, const ListenAddr& l);

}  // namespace ser

#pragma once
// The connection table: a fixed-size table in shared memory (tcp_max_connections
// records) of every TCP/TLS connection, found by id and by remote address, so
// any process can find the owner of a connection. Plain data only: the fd, the
// SSL object and the buffers stay in the owning worker.

#include "net.h"
#include "proto.h"
#include "shm/ip_counts.h"
#include "shm/shm.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ser {

enum class ConnState : uint8_t { Free, Connecting, Handshake, Established, Closing };

struct TcpConnRecord {
    uint32_t id = 0;
    Proto proto = Proto::Tcp;
    ConnState state = ConnState::Free;
    bool outgoing = false;
    int16_t owner = -1;              // tcp worker index
    SockAddr local, remote;          // remote: the client (from its PROXY header when it has one)
    SockAddr via;                    // the load balancer that relayed it (PROXY protocol); family 0: none
    char host[128] = "";             // outgoing TLS: the name the peer was verified for
    int64_t created_ms = 0, last_active_ms = 0;   // wall clock (CLOCK_REALTIME) milliseconds
    uint64_t bytes_in = 0, bytes_out = 0, msgs_in = 0, msgs_out = 0;
    char tls_version[16] = "";
    char tls_cipher[64] = "";
    char tls_peer_subject[256] = "";
    int8_t tls_verified = -1;        // -1 not TLS / not yet, 0 no, 1 yes
    bool tls_resumed = false;        // the session was resumed
    char tls_sni[128] = "";          // the server name the client asked for
    bool ip_counted_ = false;        // counted against remote for tcp_max_conns_per_ip (table internal)
    int32_t next_ = -1;              // hash chain by remote address (table internal)
};
static_assert(std::is_trivially_copyable_v<TcpConnRecord>);

// Whether a TLS connection may carry a message for target name `want`: one we
// opened only for the name its certificate was checked against; one a peer
// opened (no name checked) only for targets given by address.
bool tls_reusable(bool outgoing, std::string_view conn_host, std::string_view want);

class ConnTable {
public:
    // Places a table of `capacity` records in `shm`; nullptr if it does not fit.
    // Main process, before fork.
    static ConnTable* create(Shm& shm, uint32_t capacity);
    // Bytes of shared memory a table of `capacity` records needs.
    static size_t bytes_needed(uint32_t capacity);

    // Why add() or set_client() refused.
    enum class Refusal { None, TableFull, PerIpLimit };

    // Inserts `r` (its id is assigned); returns the id, or 0 when the table is
    // full. With per_ip_limit > 0 (tcp_max_conns_per_ip, for an accepted
    // connection) it is also counted against r.remote, and refused (0) when
    // that address has per_ip_limit connections already; *why says which.
    uint32_t add(const TcpConnRecord& r, uint32_t per_ip_limit = 0, Refusal* why = nullptr);
    // Connection `id` came through load balancer `via` (family 0: it relayed
    // no client): its record names `client` as the remote and `via`, and
    // with per_ip_limit > 0 is counted against the client. False (the record
    // unchanged) when the client is at the limit (*why) or id is gone.
    bool set_client(uint32_t id, const SockAddr& client, const SockAddr& via, uint32_t per_ip_limit,
                    Refusal* why = nullptr);
    // Removes the record (and its per-address count).
    void remove(uint32_t id);
    std::optional<TcpConnRecord> get(uint32_t id);
    // An open connection of `proto` to `remote`, if any. For TLS the
    // connection must also have been opened (and its certificate checked)
    // for the same target name `host` ("" = by address).
    std::optional<TcpConnRecord> find(Proto proto, const SockAddr& remote, std::string_view host = {});
    // Runs f(record&) under the lock when `id` is live; false if it is not.
    template <typename F>
    bool update(uint32_t id, F&& f)
    {
        LockGuard g(lock_);
        TcpConnRecord* r = slot_of(id, g);
        if (r)
            f(*r);
        return r != nullptr;
    }
    // Removes every record owned by tcp worker `owner` (after it died).
    size_t purge_owner(int owner);
    std::vector<TcpConnRecord> snapshot();
    uint32_t count();
    // Connections counted against `a`'s address now (tcp_max_conns_per_ip).
    uint32_t count_from(const SockAddr& a);
    uint32_t capacity() const { return capacity_; }

private:
    TcpConnRecord* slot_of(uint32_t id, const LockGuard&);
    int32_t* bucket_of(const SockAddr& remote, const LockGuard&);
    void link(int32_t slot, const LockGuard&);
    void unchain(int32_t slot, const LockGuard&);
    void unlink(int32_t slot, const LockGuard&);
    bool count_ip(TcpConnRecord& r, uint32_t limit, Refusal* why, const LockGuard&);

    RobustMutex lock_;
    uint32_t capacity_ = 0;
    uint32_t used_ = 0;
    uint32_t nbuckets_ = 0;
    int32_t free_head_ = -1;
    int32_t free_tail_ = -1;          // freed slots go to the tail: ids recur as late as possible
    uint16_t* gen_ = nullptr;         // per slot generation, so ids are not reused at once
    TcpConnRecord* recs_ = nullptr;
    int32_t* buckets_ = nullptr;
    // Per-address counts of the records with ip_counted_: at most one entry
    // per counted record, and twice as many slots as records, so it cannot
    // fill; were it ever full, the connection would be refused as one over
    // the limit (never admitted uncounted).
    IpCounts ips_{nullptr, 0};
};

}  // namespace ser

#pragma once
// The two event loops of the workers, as seen by the resolver (dns::LoopHooks):
// a TCP worker's ConnLoop (watch/wake_at/tick), and the UDP receiver's poll
// set. Each is made before the Proxy whose resolver uses it and attached to
// that resolver once it exists.

#include "io/conn_loop.h"
#include "proxy/dns_resolver.h"

#include <poll.h>

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ser {

class ConnLoopDns final : public dns::LoopHooks {
public:
    explicit ConnLoopDns(ConnLoop& loop) : loop_(loop) {}
    // Runs r's sockets and timer from the loop (one of the loop's ticks).
    void attach(dns::Resolver& r);
    void dns_watch(int fd, bool readable, bool writable) override;
    void dns_wake_at(int64_t at_ms) override { loop_.wake_at(at_ms); }

private:
    ConnLoop& loop_;
    dns::Resolver* res_ = nullptr;
    std::unordered_set<int> fds_;
};

class PollDns final : public dns::LoopHooks {
public:
    void attach(dns::Resolver& r) { res_ = &r; }
    void dns_watch(int fd, bool readable, bool writable) override;
    void dns_wake_at(int64_t at_ms) override
    {
        if (wake_ms_ == 0 || at_ms < wake_ms_)
            wake_ms_ = at_ms;
    }
    // Appends the resolver's sockets to a poll set.
    void add_to(std::vector<pollfd>& set) const;
    // The poll timeout: at most max_ms, less when a resolver timeout is due.
    int timeout_ms(int max_ms) const;
    // After poll: the resolver's sockets that are ready (set[from..]), then its timer when due.
    void dispatch(const std::vector<pollfd>& set, size_t from);

private:
    dns::Resolver* res_ = nullptr;
    std::unordered_map<int, short> fds_;   // fd -> poll events
    int64_t wake_ms_ = 0;
};

}  // namespace ser

#pragma once
// The asynchronous resolver of a worker process: c-ares in non-blocking mode,
// its sockets watched by the worker's own event loop (LoopHooks), its
// timeouts run from that loop's timer, and the answers kept in a dns::Cache
// for their TTL (negative ones for the SOA minimum, bounded). One query per
// (name, type) is in flight at a time; later askers wait for the same answer.

#include "proxy/dns_select.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ser::dns {

// What the event loop around a resolver provides.
class LoopHooks {
public:
    virtual ~LoopHooks() = default;
    // Watch fd for reading and/or writing (both false: stop watching it;
    // c-ares closes it after this).
    virtual void dns_watch(int fd, bool readable, bool writable) = 0;
    // Call Resolver::on_timer() at at_ms (now_ms() clock) or earlier.
    virtual void dns_wake_at(int64_t at_ms) = 0;
};

struct ResolverOptions {
    std::vector<std::string> servers;   // empty: /etc/resolv.conf
    int timeout_ms = 2000;
    int retries = 1;
    size_t cache_size = 1024;
};

// How a query ended: an answer (positive or negative, cached), or no answer
// (timeout, SERVFAIL, refused, ...: not cached).
struct Result {
    bool ok = false;
    Answer answer;
    std::string error;   // when !ok
};

class Resolver {
public:
    using Done = std::function<void(const Result&)>;

    // Makes the c-ares channel; ok() says whether it could (error() why).
    Resolver(const ResolverOptions& o, LoopHooks& hooks);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;
    bool ok() const { return channel_ != nullptr; }
    const std::string& error() const { return error_; }

    // The cached answer for (name, type), or nullptr.
    const Answer* cached(const std::string& name, Type t);
    // Asks for (name, type); done runs later, from on_fd() or on_timer(),
    // never from inside query().
    void query(const std::string& name, Type t, Done done);
    // The loop saw fd readable (or writable, when asked for).
    void on_fd(int fd);
    // The loop's timer: c-ares retries and timeouts.
    void on_timer();
    // True when the hosts file (/etc/hosts) names host: such names keep the
    // system's answer. Remembered for a minute.
    bool in_hosts_file(const std::string& host);
    // Queries in flight.
    size_t in_flight() const { return waiters_.size(); }

private:
    struct Query;
    static void sock_state(void* data, int fd, int readable, int writable);
    static void answered(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    void finish(const std::string& key, const Result& r);
    void rearm();

    LoopHooks& hooks_;
    Cache cache_;
    void* channel_ = nullptr;    // ares_channel
    std::string error_;
    bool destroying_ = false;
    bool in_query_ = false;
    std::vector<std::pair<std::string, Result>> deferred_;   // answered inside query()
    std::unordered_map<std::string, std::vector<Done>> waiters_;   // by cache-style key
    std::unordered_map<int, bool> writable_;
    std::unordered_map<std::string, std::pair<bool, int64_t>> hosts_;   // in the file?, until (ms)                      // fds c-ares wants written
};

// Parses a DNS response for (qtype): the records c-ares finds, the lowest TTL
// of the answer section, and for a negative answer the TTL of RFC 2308 (the
// authority section's SOA). Pure; exposed for tests.
Result parse_response(Type t, int ares_status, const unsigned char* abuf, int alen, uint32_t& ttl_s);

}  // namespace ser::dns

#pragma once
// The stateless SIP proxy (RFC 3261 §16.11): parses each received message,
// runs requests through the route script and forwards them with our Via,
// routes responses back along their Via path, and sends local replies.
// One Proxy per worker process; it keeps no per-transaction state.

#include "cfg/config.h"
#include "io/msg_io.h"
#include "proxy/dns_plan.h"
#include "proxy/dns_resolver.h"
#include "route/route_engine.h"
#include "shm/stats.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ser {

// The defect a parse error names (the parser's ParseResult::error), for the
// statistics of invalid messages.
InvalidReason invalid_reason(std::string_view parse_error);

class Proxy final : public RouteHost {
public:
    // Compiles cfg's route blocks and learns our addresses from
    // sender.listeners() and cfg's aliases. cfg and sender must outlive the proxy.
    // Counts into `stats`, the slot of the process that runs it.
    Proxy(const Config& cfg, Sender& sender, StatsSlot stats);
    ~Proxy() override;

    // Resolves host names of forward() by RFC 3263 with the asynchronous
    // resolver, its sockets and timer run by `hooks` (the worker's loop):
    // a request whose name is not cached waits (up to dns_max_pending) and
    // is forwarded when the answer comes. Without it, names go through the
    // blocking resolve_host(). The returned resolver lives as the proxy does.
    dns::Resolver& enable_dns(dns::LoopHooks& hooks);
    // Requests waiting for an answer.
    size_t dns_pending() const { return pending_.size(); }

    // Handles one complete SIP message (a datagram or one framed stream
    // message) received as ri says; tls describes the TLS connection it came
    // on (nullptr otherwise). Sends whatever must be sent through the Sender.
    void on_message(std::string_view buf, const RecvInfo& ri, const TlsFacts* tls = nullptr);

    // RouteHost: called by the route engine while on_message() runs.
    int forward(MsgContext& ctx, const FwdSpec& f) override;
    int reply(MsgContext& ctx, int code, std::string_view reason) override;
    bool is_myself(std::string_view host, uint16_t port) const override;
    bool is_my_addr(const SockAddr& a) const override;

private:
    // One name or address that means "this server".
    struct SelfEntry {
        std::string host;              // lower case, IPv6 without brackets
        std::optional<SockAddr> ip;    // when host is numeric
        uint16_t port = 0;             // 0: any port (aliases without one)
        std::optional<Proto> proto;    // listeners only
    };
    // Where a forward goes, before and after resolution.
    struct Dest {
        Proto proto = Proto::Udp;
        std::string host;
        uint16_t port = 0;
        SockAddr addr;
        const RouteEntry* strict_route = nullptr;  // the next Route, when it has no ;lr (RFC 3261 §16.6 step 6)
        bool port_given = false;       // by the script or the URI: no SRV
        bool proto_given = false;      // transport= or forward_tcp() & co: no NAPTR
        bool secure = false;           // a sips: URI
        std::vector<SockAddr> alternates;   // streams: the next targets of the same transport
    };
    // A request waiting for DNS: its bytes, where it came from, the forward asked
    // for, and the state the script left it in (restored on a new parse).
    struct PendingFwd {
        std::string buf;
        RecvInfo ri;
        FwdSpec f;
        Dest d;
        dns::Lookup lookup;
        size_t max_size = 0;
        // MsgContext's script state at the forward.
        uint32_t flags = 0;
        std::vector<bool> removed;
        std::vector<bool> routes_removed;
        std::string new_uri;
        bool uri_changed = false;
        std::string prepend, append;
        bool maxfwd_done = false;
        int maxfwd_result = 0;
        int maxfwd_value = -1;
        bool rr_done = false;
        bool force_rport = false;
        int forwards = 0;
        long strict_route_idx = -1;   // Dest::strict_route as an index into the re-parsed routes
        // Answers of this lookup, kept here too: the cache may be full or off.
        std::unordered_map<std::string, dns::Answer> got;
        std::unordered_map<std::string, bool> asked;
        size_t waiting = 0;
    };

    void learn_addresses();
    void add_self(std::string_view hostport, uint16_t port, std::optional<Proto> proto);
    bool is_loop(const Dest& d) const;
    bool pick_dest(MsgContext& ctx, const FwdSpec& f, Dest& d);
    bool resolve_dest(MsgContext& ctx, Dest& d);
    int send_to(MsgContext& ctx, const FwdSpec& f, Dest& d);
    bool by_rfc3263(const Dest& d) const;
    int forward_by_name(MsgContext& ctx, const FwdSpec& f, Dest& d);
    void dns_step(uint64_t id);
    void dns_resume(PendingFwd& p, const std::vector<dns::Target>& targets);
    static void take_targets(const std::vector<dns::Target>& out, Dest& d);
    void handle_request(MsgContext& ctx);
    void handle_response(MsgContext& ctx);
    void on_bad_message(std::string_view buf, const RecvInfo& ri, const std::string& error);
    static MsgContext strict_routed(const MsgContext& ctx, const RouteEntry& r);
    bool build_request(const MsgContext& ctx, const ListenAddr* out, const Dest& d, std::string& msg) const;
    std::string build_reply(const MsgContext& ctx, int code, std::string_view reason) const;
    bool send(const SendTarget& t, std::string_view data);
    static void fail(MsgContext& ctx, int code, const char* reason);

    const Config& cfg_;
    Sender& sender_;
    RouteEngine engine_;
    std::vector<SelfEntry> self_;
    StatsSlot stats_;
    bool send_failed_ = false;   // a send of the current message was refused
    std::unique_ptr<dns::Resolver> dns_;
    std::unordered_map<uint64_t, std::unique_ptr<PendingFwd>> pending_;
    uint64_t next_pending_ = 1;
    std::mt19937 rng_{std::random_device{}()};
};

}  // namespace ser

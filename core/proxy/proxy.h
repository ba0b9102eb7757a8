#pragma once
// The stateless SIP proxy (RFC 3261 §16.11): parses each received message,
// runs requests through the route script and forwards them with our Via,
// routes responses back along their Via path, and sends local replies.
// One Proxy per worker process; it keeps no per-transaction state.

#include "cfg/config.h"
#include "io/msg_io.h"
#include "route/route_engine.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// What the proxy did, counted since construction.
struct ProxyStats {
    uint64_t requests = 0;      // parsed requests
    uint64_t responses = 0;     // parsed responses
    uint64_t forwarded = 0;     // requests and responses that left
    uint64_t replied = 0;       // local replies that left
    uint64_t dropped = 0;       // messages that ended with nothing sent
    uint64_t parse_errors = 0;  // messages that did not parse
    uint64_t send_errors = 0;   // Sender::send() refusals
    // Bytes dropped without being forwarded, by reason.
    uint64_t discarded_after_body_msgs = 0;   // datagrams longer than their Content-Length
    uint64_t discarded_after_body_bytes = 0;  // the bytes past it (RFC 3261 §18.3)
};

class Proxy final : public RouteHost {
public:
    // Compiles cfg's route blocks and learns our addresses from
    // sender.listeners() and cfg's aliases. cfg and sender must outlive the proxy.
    Proxy(const Config& cfg, Sender& sender);

    // Handles one complete SIP message (a datagram or one framed stream
    // message) received as ri says; tls describes the TLS connection it came
    // on (nullptr otherwise). Sends whatever must be sent through the Sender.
    void on_message(std::string_view buf, const RecvInfo& ri, const TlsFacts* tls = nullptr);

    const ProxyStats& stats() const { return stats_; }

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
    };

    void learn_addresses();
    void add_self(std::string_view hostport, uint16_t port, std::optional<Proto> proto);
    bool is_loop(const Dest& d) const;
    bool pick_dest(MsgContext& ctx, const FwdSpec& f, Dest& d);
    bool resolve_dest(MsgContext& ctx, Dest& d);
    void handle_request(MsgContext& ctx);
    void handle_response(MsgContext& ctx);
    void on_bad_message(std::string_view buf, const RecvInfo& ri, const std::string& error);
    bool build_request(const MsgContext& ctx, const ListenAddr* out, const Dest& d, std::string& msg) const;
    std::string build_reply(const MsgContext& ctx, int code, std::string_view reason) const;
    bool send(const SendTarget& t, std::string_view data);
    static void fail(MsgContext& ctx, int code, const char* reason);

    const Config& cfg_;
    Sender& sender_;
    RouteEngine engine_;
    std::vector<SelfEntry> self_;
    ProxyStats stats_;
};

}  // namespace ser

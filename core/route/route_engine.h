#pragma once
// The route engine: the route blocks of a Config compiled once at start into a
// program (regexes, addresses, route indexes, numbers resolved), then run per
// message. Actions that leave the engine (forward, send, replies) and the
// `myself` test go through RouteHost, which the Proxy implements.
//
// Semantics (SER 0.9): an action returns >0 (true), <0 (false) or 0 (stop the
// script). `break` leaves the current route block, `return(n)` leaves it with
// n, `exit` stops the script, `drop` stops it and marks the message dropped,
// `route(N)` runs block N and evaluates to its value (0 stops the script too).

#include "cfg/config.h"
#include "io/msg_io.h"
#include "sip/sip_edit.h"
#include "sip/sip_msg.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// One value of a Route header of the request, top-most first.
struct RouteEntry {
    size_t header = 0;       // index into SipMsg::headers
    size_t start = 0;        // the value's extent in the buffer
    size_t end = 0;
    std::string_view uri;    // the URI inside <...>
    bool removed = false;    // popped by loose_route()
};

// One message on its way through the script: the parse, where it came from,
// and every change the script asked for. Changes are applied only when the
// message is built for sending (collect_edits), so the parse stays valid.
struct MsgContext {
    // buf, ri and tls must outlive the context.
    MsgContext(std::string_view buffer, const RecvInfo& recv, const TlsFacts* tls_facts = nullptr);

    // Parses buf into msg and indexes the Route values; false when malformed.
    // A Content-Length above max_msg_size is malformed. Bytes after the body
    // (a datagram longer than its Content-Length) are cut off buf: they are
    // no part of this message and are never forwarded (RFC 3261 §18.3);
    // discarded_after_body says how many there were.
    sip::ParseResult parse(size_t max_msg_size = SIZE_MAX);

    // The Request-URI as the script left it (rewritten or original).
    std::string_view ruri() const { return uri_changed ? std::string_view(new_uri) : msg.uri; }
    // The first Route value not popped by loose_route(), or nullptr.
    const RouteEntry* next_route() const;
    bool header_removed(size_t i) const { return i < removed.size() && removed[i]; }
    // True for the ACK method (never answered locally).
    bool is_ack() const;

    // Max-Forwards processing, once per message (later calls return the first
    // result): absent -> set to `limit` (2); 0 -> -1, the caller answers 483;
    // else decremented (1). The new value is written by collect_edits().
    int process_maxfwd(long long limit);

    // Queues every change of the script (Request-URI, removed headers and
    // Route values, Max-Forwards, inserted headers) against buf into e.
    void collect_edits(sip::Edits& e) const;

    std::string_view buf;
    size_t discarded_after_body = 0;
    const RecvInfo& ri;
    const TlsFacts* tls = nullptr;
    sip::SipMsg msg;
    std::vector<RouteEntry> routes;

    // Script state.
    uint32_t flags = 0;            // setflag/resetflag/isflagset
    std::vector<bool> removed;     // by header index (remove_hf)
    std::string new_uri;           // the Request-URI after rewrite*()
    bool uri_changed = false;
    std::string prepend;           // header lines inserted before the first header
    std::string append;            // header lines added after the last header
    bool maxfwd_done = false;      // Max-Forwards processed (script or proxy)
    int maxfwd_result = 0;         // what that processing returned (-1 at zero)
    int maxfwd_value = -1;         // value to write; -1 leaves the header alone
    bool rr_done = false;          // record_route() already inserted
    bool force_rport = false;      // force_rport() was called
    int forwards = 0;              // forward attempts that left (fork index for the branch)

    // Outcome.
    bool forwarded = false;        // at least one forward/send left
    bool replied = false;          // a local reply left
    bool dropped = false;          // `drop` ran
    int err_code = 0;              // last failure of a forward (for sl_reply_error)
    std::string err_reason;
};

// Where forward()/send() should go, as written in the script.
struct FwdSpec {
    bool raw = false;                  // send(): no Via, no received/rport
    std::optional<Proto> proto;        // forced by forward_udp/_tcp/_tls and send
    bool has_host = false;             // false: next Route, else Request-URI
    std::string host;                  // literal host (IP, [IPv6], name)
    bool host_from_uri = false;        // uri:host
    uint16_t port = 0;                 // 0: default for the protocol
    bool port_from_uri = false;        // uri:port
};

// What the engine needs from the proxy around it.
class RouteHost {
public:
    virtual ~RouteHost() = default;
    // Forwards (or raw-sends) the request in ctx to f; 1 when it left, -1 otherwise.
    virtual int forward(MsgContext& ctx, const FwdSpec& f) = 0;
    // Sends a local reply to the request in ctx; 1 when it left, -1 otherwise.
    virtual int reply(MsgContext& ctx, int code, std::string_view reason) = 0;
    // True when host (name, IP or [IPv6]) and port name this server; port 0 matches any port.
    virtual bool is_myself(std::string_view host, uint16_t port) const = 0;
    // True when a is one of our addresses (port ignored).
    virtual bool is_my_addr(const SockAddr& a) const = 0;
};

struct RouteProgram;  // route_program.h

class RouteEngine {
public:
    // Compiles every route block of cfg, which cfg::check() has validated. A
    // host name in a condition that does not resolve is logged, and that test
    // is false. Main process, before fork.
    explicit RouteEngine(const Config& cfg);
    ~RouteEngine();
    RouteEngine(const RouteEngine&) = delete;
    RouteEngine& operator=(const RouteEngine&) = delete;

    // Runs the main route on ctx. Returns the script's value: >0 or <0 when
    // the route ran to its end or returned, 0 when exit/drop stopped it.
    // Without a main route nothing runs and the result is 0.
    int run(MsgContext& ctx, RouteHost& host) const;

    bool has_main_route() const;

private:
    std::unique_ptr<RouteProgram> prog_;
};

}  // namespace ser

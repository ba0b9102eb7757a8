// The proxy: message entry point, request handling, destinations of
// forward(), and the `myself` tests. Via handling and response routing are
// in proxy_via.cpp, local replies in proxy_reply.cpp.
#include "proxy/proxy.h"

#include "log.h"
#include "sip/sip_uri.h"

#include <cctype>

namespace ser {
namespace {

// Lower case, IPv6 brackets removed: the form SelfEntry::host holds.
std::string canonical_host(std::string_view host)
{
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    std::string h(host);
    for (char& c : h)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return h;
}

}  // namespace

Proxy::Proxy(const Config& cfg, Sender& sender, StatsSlot stats)
    : cfg_(cfg), sender_(sender), engine_(cfg), stats_(stats)
{
    learn_addresses();
}

void Proxy::add_self(std::string_view hostport, uint16_t port, std::optional<Proto> proto)
{
    HostPort hp = split_hostport(hostport);
    if (auto p = parse_port(hp.port))
        port = *p;
    SelfEntry e;
    e.host = canonical_host(hp.host);
    if (e.host.empty())
        return;
    e.ip = SockAddr::from_numeric(e.host, port);
    e.port = port;
    e.proto = proto;
    self_.push_back(std::move(e));
}

// Start-up has expanded a listen address of 0.0.0.0 or :: into one listener
// per local address (Runtime::setup), so the listeners name every address.
void Proxy::learn_addresses()
{
    for (const ListenAddr& l : sender_.listeners()) {
        add_self(l.addr.ip(), l.addr.port(), l.proto);
        if (!l.advertise.empty())
            add_self(l.advertise, l.addr.port(), l.proto);
    }
    for (const std::string& a : cfg_.aliases)
        add_self(a, 0, std::nullopt);
}

bool Proxy::is_myself(std::string_view host, uint16_t port) const
{
    std::string h = canonical_host(host);
    std::optional<SockAddr> ip = SockAddr::from_numeric(h, 0);
    for (const SelfEntry& e : self_) {
        if (port != 0 && e.port != 0 && e.port != port)
            continue;
        if (ip ? (e.ip && e.ip->same_ip(*ip)) : e.host == h)
            return true;
    }
    return false;
}

bool Proxy::is_my_addr(const SockAddr& a) const
{
    for (const SelfEntry& e : self_)
        if (e.ip && e.ip->same_ip(a))
            return true;
    return false;
}

bool Proxy::is_loop(const Dest& d) const
{
    for (const SelfEntry& e : self_)
        if (e.proto == d.proto && e.ip && e.port == d.addr.port() && e.ip->same_ip(d.addr))
            return true;
    return false;
}

void Proxy::fail(MsgContext& ctx, int code, const char* reason)
{
    ctx.err_code = code;
    ctx.err_reason = reason;
}

bool Proxy::send(const SendTarget& t, std::string_view data)
{
    if (sender_.send(t, data))
        return true;
    // The cause is the Sender's to count (SendError); the message's fate is ours.
    send_failed_ = true;
    LOG_ERR("send over %s to %s failed", std::string(proto_name(t.proto)).c_str(), t.dst.str().c_str());
    return false;
}

void Proxy::on_message(std::string_view buf, const RecvInfo& ri, const TlsFacts* tls)
{
    // The CRLFs a datagram may carry before the start line (RFC 3261 §7.5)
    // are no part of the message: every edit and every copy sent on starts
    // at its start line (on a stream a leading LF would be no frame at all).
    buf.remove_prefix(sip::leading_crlfs(buf));
    MsgContext ctx(buf, ri, tls);
    send_failed_ = false;
    // One limit per transport, the same the receivers and framers apply.
    int max = ri.proto == Proto::Udp ? cfg_.udp_max_msg_size : cfg_.tcp_max_msg_size;
    sip::ParseResult pr = ctx.parse(static_cast<size_t>(max));
    if (!pr.ok) {
        stats_.count(Stat::ParseErrors);
        on_bad_message(buf, ri, pr.error);
        return;
    }
    if (ctx.discarded_after_body) {
        // What follows Content-Length never passed the route script: forwarding
        // it would smuggle a second message past it.
        stats_.discarded(DiscardReason::AfterBody, ctx.discarded_after_body);
        LOG_INFO("%s message from %s: %zu bytes after the Content-Length body discarded",
                 std::string(proto_name(ri.proto)).c_str(), ri.src.str().c_str(), ctx.discarded_after_body);
    }
    if (ctx.msg.is_request)
        handle_request(ctx);
    else
        handle_response(ctx);
}

void Proxy::handle_request(MsgContext& ctx)
{
    stats_.count(Stat::RequestsIn);
    engine_.run(ctx, *this);
    if (ctx.forwarded || ctx.replied)
        return;
    // A forward failed and the script neither retried nor answered: answer
    // with that failure rather than leave the client retransmitting.
    if (!ctx.dropped && ctx.err_code != 0 && !ctx.is_ack())
        reply(ctx, ctx.err_code, ctx.err_reason);
    if (!ctx.replied) {
        // Nothing left: the script's choice, unless a forward failed (and an
        // ACK gets no reply, or the reply could not leave either).
        stats_.count(ctx.dropped || ctx.err_code == 0 ? DropReason::ScriptDrop
                     : send_failed_                   ? DropReason::SendFailure
                                                      : DropReason::NoRoute);
        LOG_DBG("%.*s from %s: nothing sent", static_cast<int>(ctx.msg.method.size()), ctx.msg.method.data(),
                ctx.ri.src.str().c_str());
    }
}

// Where forward()/send() goes: the explicit host, else the next Route, else
// the Request-URI (maddr, port and transport= honoured; sips means TLS).
bool Proxy::pick_dest(MsgContext& ctx, const FwdSpec& f, Dest& d)
{
    bool by_uri = !f.has_host || f.host_from_uri;
    sip::SipUri u;
    if (by_uri || f.port_from_uri) {
        const RouteEntry* r = f.has_host ? nullptr : ctx.next_route();
        std::string_view target = r ? r->uri : ctx.ruri();
        bool parsed = sip::parse_uri(target, u);
        if (!parsed || u.host.empty()) {
            LOG_INFO("cannot forward: \"%.*s\" is not a SIP URI", static_cast<int>(target.size()), target.data());
            fail(ctx, parsed ? 416 : 400, parsed ? "Unsupported URI Scheme" : "Bad Request-URI");
            return false;
        }
        if (r && !u.lr)
            d.strict_route = r;
    }
    d.proto = f.proto.value_or(Proto::Udp);
    if (by_uri && !f.proto) {
        std::optional<Proto> p = u.transport.empty() ? std::optional<Proto>(Proto::Udp) : proto_from_name(u.transport);
        if (!p) {
            LOG_INFO("cannot forward: transport=%.*s is not supported", static_cast<int>(u.transport.size()),
                     u.transport.data());
            fail(ctx, 503, "Unsupported Transport");
            return false;
        }
        d.proto = (u.transport.empty() && sip::iequals(u.scheme, "sips")) ? Proto::Tls : *p;
    }
    if (f.host_from_uri)
        d.host = std::string(u.host);
    else if (!f.has_host)
        d.host = std::string(u.maddr.empty() ? u.host : u.maddr);
    else
        d.host = f.host;
    d.proto_given = f.proto.has_value() || (by_uri && !u.transport.empty());
    d.secure = by_uri && sip::iequals(u.scheme, "sips");
    d.port = f.port;
    if (d.port == 0 && (f.port_from_uri || !f.has_host))
        d.port = u.port;
    d.port_given = d.port != 0;
    if (d.port == 0)
        d.port = proto_default_port(d.proto);
    return true;
}

bool Proxy::resolve_dest(MsgContext& ctx, Dest& d)
{
    std::optional<SockAddr> a = resolve_host(d.host, d.port);
    if (!a) {
        LOG_ERR("cannot resolve \"%s\"", d.host.c_str());
        fail(ctx, 478, "Unresolvable destination");
        return false;
    }
    d.addr = *a;
    return true;
}

// A strict router next (RFC 3261 §16.6 step 6, §16.12): its Route value
// becomes the Request-URI and the Request-URI the last Route value. Made on
// a copy, so the script's context (and a later forward) keeps the original.
MsgContext Proxy::strict_routed(const MsgContext& ctx, const RouteEntry& r)
{
    MsgContext sc = ctx;
    sc.append = "Route: <" + std::string(ctx.ruri()) + ">\r\n" + sc.append;
    sc.new_uri = std::string(r.uri);
    sc.uri_changed = true;
    sc.routes[static_cast<size_t>(&r - ctx.routes.data())].removed = true;
    return sc;
}

int Proxy::forward(MsgContext& ctx, const FwdSpec& f)
{
    if (!ctx.msg.is_request)
        return -1;
    Dest d;
    if (!pick_dest(ctx, f, d))
        return -1;
    if (by_rfc3263(d))
        return forward_by_name(ctx, f, d);
    if (!resolve_dest(ctx, d))
        return -1;
    return send_to(ctx, f, d);
}

// The rest of forward() once d.addr is known (at once, or when DNS answered).
int Proxy::send_to(MsgContext& ctx, const FwdSpec& f, Dest& d)
{
    if (!f.raw && ctx.process_maxfwd(70) < 0) {
        LOG_INFO("Max-Forwards is 0: not forwarding to %s", d.addr.str().c_str());
        fail(ctx, 483, "Too Many Hops");
        return -1;
    }
    if (is_loop(d)) {
        LOG_WARN("forward to %s:%s is this server: loop", std::string(proto_name(d.proto)).c_str(),
                 d.addr.str().c_str());
        fail(ctx, 482, "Loop Detected");
        return -1;
    }
    const ListenAddr* out = sender_.pick_listener(d.proto, d.addr);
    if (!out) {
        LOG_ERR("no %s listener to reach %s", std::string(proto_name(d.proto)).c_str(), d.addr.str().c_str());
        fail(ctx, 503, "Service Unavailable");
        return -1;
    }
    std::string msg;
    bool built = d.strict_route ? build_request(strict_routed(ctx, *d.strict_route), f.raw ? nullptr : out, d, msg)
                                : build_request(ctx, f.raw ? nullptr : out, d, msg);
    if (!built) {
        LOG_ERR("cannot build the request for %s (conflicting edits)", d.addr.str().c_str());
        fail(ctx, 500, "Server Internal Error");
        return -1;
    }
    SendTarget t{d.proto, d.addr, 0, d.host};
    t.from = out;   // the listener our Via names
    if (d.proto != Proto::Udp)
        t.alternates = d.alternates;
    if (!send(t, msg)) {
        fail(ctx, 503, "Service Unavailable");
        return -1;
    }
    stats_.count(Stat::RequestsForwarded);
    // One line per forward at info: method, Call-ID, from -> to, transports.
    LOG_INFO("forward %.*s call-id %.*s: %s %s -> %s %s", static_cast<int>(ctx.msg.method.size()),
             ctx.msg.method.data(), static_cast<int>(ctx.msg.call_id.size()), ctx.msg.call_id.data(),
             std::string(proto_name(ctx.ri.proto)).c_str(), ctx.ri.src.str().c_str(),
             std::string(proto_name(d.proto)).c_str(), d.addr.str().c_str());
    ++ctx.forwards;
    ctx.forwarded = true;
    return 1;
}

}  // namespace ser

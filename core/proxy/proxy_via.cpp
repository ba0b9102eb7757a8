// Via handling of the proxy: our Via and branch on forwarded requests, the
// received/rport/i= parameters of the sender's Via, and the routing of
// responses along the Via path (RFC 3261 §16.11, §18.2.2, RFC 3581).
#include "proxy/proxy.h"
#include "proxy/proxy_via.h"

#include "log.h"

#include <algorithm>
#include <charconv>

namespace ser {
namespace {

constexpr std::string_view kCookie = "z9hG4bK";

// 64-bit FNV-1a; every field ends with a separator so ("ab","c") != ("a","bc").
class Fnv64 {
public:
    void add(std::string_view s)
    {
        for (unsigned char c : s)
            mix(c);
        mix(0xff);
    }
    void add(uint64_t n) { add(std::to_string(n)); }
    uint64_t value() const { return h_; }

private:
    void mix(unsigned char c)
    {
        h_ ^= c;
        h_ *= 1099511628211ull;
    }
    uint64_t h_ = 14695981039346656037ull;
};

std::string hex(uint64_t v, bool pad)
{
    char buf[17];
    auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
    std::string s(buf, r.ptr);
    if (pad && s.size() < 16)
        s.insert(0, 16 - s.size(), '0');
    return s;
}

std::string upper(std::string_view s)
{
    std::string u(s);
    for (char& c : u)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return u;
}

bool parse_u32(std::string_view s, int base, uint32_t& out)
{
    auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The response destination given by Via value v (RFC 3261 §18.2.2, RFC 3581):
// received (else sent-by host), rport (else sent-by port, else the default),
// and for stream transports the connection named by our i= alias.
bool response_target(std::string_view buf, const sip::Via& v, SendTarget& t)
{
    std::optional<Proto> p = proto_from_name(v.transport);
    if (!p) {
        LOG_DBG("response: next Via transport %.*s is not supported", static_cast<int>(v.transport.size()),
                v.transport.data());
        return false;
    }
    std::string_view host = v.received.empty() ? v.host : v.received;
    uint16_t port = v.port ? v.port : proto_default_port(*p);
    uint32_t n = 0;
    if (v.has_rport && parse_u32(v.rport, 10, n) && n > 0 && n < 65536)
        port = static_cast<uint16_t>(n);
    // Only a numeric address: we add received= whenever a sender's Via names
    // a host, so a name here comes from a forged response, and resolving it
    // would stall this process on DNS for whoever sends such responses.
    std::optional<SockAddr> a = SockAddr::from_numeric(host, port);
    if (!a) {
        LOG_INFO("response: next Via host %.*s is not an address: dropped", static_cast<int>(host.size()), host.data());
        return false;
    }
    uint32_t id = 0;
    if (proto_is_stream(*p) && !parse_u32(via_param(buf, v, "i"), 16, id))
        id = 0;
    t = SendTarget{*p, *a, id, std::string(v.host)};
    return true;
}

}  // namespace

std::vector<Splice> top_via_fixes(const MsgContext& ctx, bool alias)
{
    std::vector<Splice> out;
    const RecvInfo& ri = ctx.ri;
    if (ctx.msg.vias.empty() || (ri.src.family() != AF_INET && ri.src.family() != AF_INET6))
        return out;
    const sip::Via& v = ctx.msg.vias[0];
    if (ctx.header_removed(v.header_index))
        return out;
    auto off = [&](std::string_view part) { return static_cast<size_t>(part.data() - ctx.buf.data()); };
    std::string ip = ri.src.ip();
    std::string tail;
    std::optional<SockAddr> via_ip = SockAddr::from_numeric(v.host, 0);
    bool differs = !via_ip || !via_ip->same_ip(ri.src);
    if (differs || v.has_rport || ctx.force_rport) {
        if (v.received.data() == nullptr)
            tail += ";received=" + ip;
        else if (v.received.empty())
            out.push_back(Splice{off(v.received), off(v.received), "=" + ip});
        else if (v.received != ip)
            out.push_back(Splice{off(v.received), off(v.received) + v.received.size(), ip});
    }
    std::string port = std::to_string(ri.src.port());
    if (v.has_rport && v.rport.empty())
        out.push_back(Splice{off(v.rport), off(v.rport), "=" + port});
    else if (ctx.force_rport && !v.has_rport)
        tail += ";rport=" + port;
    if (alias && proto_is_stream(ri.proto) && ri.conn_id != 0)
        tail += ";i=" + hex(ri.conn_id, false);
    if (!tail.empty())
        out.push_back(Splice{v.end, v.end, std::move(tail)});
    std::stable_sort(out.begin(), out.end(), [](const Splice& a, const Splice& b) { return a.start < b.start; });
    return out;
}

std::string make_branch(const MsgContext& ctx)
{
    const sip::SipMsg& m = ctx.msg;
    const sip::Via& v = m.vias[0];
    Fnv64 f;
    // A branch of the bare cookie names no transaction (RFC 4475 badbranch):
    // hashed like an RFC 2543 request, or every such request would share our branch.
    if (v.branch.size() > kCookie.size() && v.branch.substr(0, kCookie.size()) == kCookie) {
        f.add(v.branch);
    } else {
        f.add(m.call_id);
        f.add(m.cseq_num);
        f.add(m.from_tag);
        f.add(m.uri);
    }
    f.add(v.host);
    f.add(v.port);
    f.add(static_cast<uint64_t>(ctx.forwards));
    return std::string(kCookie) + hex(f.value(), true);
}

std::string hash_tag(std::initializer_list<std::string_view> parts)
{
    Fnv64 f;
    for (std::string_view p : parts)
        f.add(p);
    return hex(f.value(), true);
}

std::string_view via_param(std::string_view buf, const sip::Via& v, std::string_view name)
{
    std::string_view t = buf.substr(v.start, v.end - v.start);
    size_t i = t.find(';');  // sent-by holds no ';'
    while (i < t.size()) {
        ++i;
        while (i < t.size() && sip::is_lws(t[i]))
            ++i;
        size_t ns = i;
        while (i < t.size() && sip::is_token_char(t[i]))
            ++i;
        std::string_view pname = t.substr(ns, i - ns);
        while (i < t.size() && sip::is_lws(t[i]))
            ++i;
        std::string_view val = t.substr(i, 0);
        if (i < t.size() && t[i] == '=') {
            ++i;
            while (i < t.size() && sip::is_lws(t[i]))
                ++i;
            size_t vs = i;
            bool quoted = i < t.size() && t[i] == '"';
            size_t e = quoted ? sip::skip_quoted(t, i) : i;
            while (!quoted && e < t.size() && t[e] != ';' && !sip::is_lws(t[e]))
                ++e;
            if (e == std::string_view::npos)
                return {};
            val = quoted ? t.substr(vs + 1, e - vs - 2) : t.substr(vs, e - vs);
            i = e;
        }
        if (sip::iequals(pname, name))
            return val;
        while (i < t.size() && t[i] != ';')
            ++i;
    }
    return {};
}

// A datagram may leave Content-Length out (the body runs to its end); a
// stream may not (RFC 3261 §18.3, §20.14): add it when a message without one
// goes onto a stream, or the next hop cannot tell where the message ends.
static void add_content_length(const sip::SipMsg& m, Proto to, sip::Edits& e)
{
    if (proto_is_stream(to) && m.content_length < 0 && !m.headers.empty())
        e.insert(m.headers.back().end, "Content-Length: " + std::to_string(m.body.size()) + "\r\n");
}

bool Proxy::build_request(const MsgContext& ctx, const ListenAddr* out, const Dest& d, std::string& msg) const
{
    sip::Edits e;
    // The script's edits first: a Record-Route inserted before the first
    // header then lands above our Via, and the Via rows stay together.
    ctx.collect_edits(e);
    if (out) {
        const sip::Via& top = ctx.msg.vias[0];
        std::string adv = out->advertise.empty() ? out->addr.str() : out->advertise;
        e.insert(ctx.msg.headers[top.header_index].start, "Via: SIP/2.0/" + upper(proto_name(d.proto)) + " " +
                                                              adv + ";branch=" + make_branch(ctx) + "\r\n");
        for (Splice& s : top_via_fixes(ctx, true))
            e.replace(s.start, s.end, std::move(s.text));
    }
    add_content_length(ctx.msg, d.proto, e);
    return e.apply(ctx.buf, msg);
}

void Proxy::handle_response(MsgContext& ctx)
{
    stats_.count(Stat::RepliesIn);
    const sip::SipMsg& m = ctx.msg;
    const sip::Via& top = m.vias[0];
    if (top.branch.substr(0, kCookie.size()) != kCookie || !is_myself(top.host, top.port)) {
        LOG_INFO("%d response from %s %s: top Via %.*s is not ours; dropped", m.status,
                 std::string(proto_name(ctx.ri.proto)).c_str(), ctx.ri.src.str().c_str(),
                 static_cast<int>(top.host.size()), top.host.data());
        stats_.count(DropReason::NotOurs);
        return;
    }
    SendTarget t;
    if (m.vias.size() < 2 || !response_target(ctx.buf, m.vias[1], t)) {
        LOG_INFO("%d response from %s %s: no usable Via after ours; dropped", m.status,
                 std::string(proto_name(ctx.ri.proto)).c_str(), ctx.ri.src.str().c_str());
        stats_.count(DropReason::NoRoute);
        return;
    }
    sip::Edits e;
    const sip::Via& next = m.vias[1];
    if (next.header_index == top.header_index) {
        e.remove(top.start, next.start);
    } else {
        const sip::Header& h = m.headers[top.header_index];
        e.remove(h.start, h.end);
    }
    add_content_length(m, t.proto, e);
    std::string out;
    if (!e.apply(ctx.buf, out)) {
        LOG_DBG("%d response: conflicting edits; dropped", m.status);
        stats_.count(DropReason::Malformed);
        return;
    }
    if (!send(t, out)) {
        stats_.count(DropReason::SendFailure);
        return;
    }
    stats_.count(Stat::RepliesForwarded);
    LOG_INFO("forward reply %d call-id %.*s: %s %s -> %s %s", m.status, static_cast<int>(m.call_id.size()),
             m.call_id.data(), std::string(proto_name(ctx.ri.proto)).c_str(), ctx.ri.src.str().c_str(),
             std::string(proto_name(t.proto)).c_str(), t.dst.str().c_str());
}

}  // namespace ser

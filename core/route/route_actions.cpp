// The route actions that read or change the message (maxfwd, rr, textops,
// rewrite*), and the MsgContext that records their changes until the
// message is built for sending.
#include "log.h"
#include "route/route_program.h"
#include "sip/sip_uri.h"

namespace ser {

MsgContext::MsgContext(std::string_view buffer, const RecvInfo& recv, const TlsFacts* tls_facts)
    : buf(buffer), ri(recv), tls(tls_facts)
{
}

sip::ParseResult MsgContext::parse(size_t max_msg_size)
{
    sip::ParseResult r = sip::parse_message(buf, msg, max_msg_size);
    if (!r.ok)
        return r;
    // Every view of msg lies before body_end(), so cutting buf keeps them valid.
    discarded_after_body = buf.size() - msg.body_end();
    buf = buf.substr(0, msg.body_end());
    removed.assign(msg.headers.size(), false);
    routes.clear();
    for (size_t k = 0; k < msg.headers.size(); ++k) {
        if (msg.headers[k].type != sip::HdrType::Route)
            continue;
        std::string_view v = msg.headers[k].value;
        size_t pos = 0;
        std::string_view item;
        while (sip::next_value(v, pos, item)) {
            RouteEntry e;
            e.header = k;
            e.start = static_cast<size_t>(item.data() - buf.data());
            e.end = e.start + item.size();
            e.uri = sip::strip_name_addr(item);
            routes.push_back(e);
        }
    }
    return r;
}

const RouteEntry* MsgContext::next_route() const
{
    for (const RouteEntry& r : routes)
        if (!r.removed && !header_removed(r.header))
            return &r;
    return nullptr;
}

bool MsgContext::is_ack() const
{
    return msg.is_request && sip::iequals(msg.method, "ACK");
}

namespace {

// Cuts the popped values of one Route header that keeps at least one value:
// a run of popped values takes the separator after it, or, at the end of the
// header, the separator before it, so what remains stays a valid list.
void cut_route_values(const std::vector<const RouteEntry*>& vals, sip::Edits& e)
{
    size_t n = vals.size();
    for (size_t i = 0; i < n;) {
        if (!vals[i]->removed) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && vals[j + 1]->removed)
            ++j;
        if (j + 1 < n)
            e.remove(vals[i]->start, vals[j + 1]->start);
        else
            e.remove(vals[i - 1]->end, vals[j]->end);  // i > 0: some value is kept
        i = j + 1;
    }
}

void collect_route_cuts(const MsgContext& ctx, sip::Edits& e)
{
    size_t i = 0;
    while (i < ctx.routes.size()) {
        size_t hdr = ctx.routes[i].header;
        std::vector<const RouteEntry*> vals;
        bool any = false, all = true;
        for (; i < ctx.routes.size() && ctx.routes[i].header == hdr; ++i) {
            vals.push_back(&ctx.routes[i]);
            any = any || ctx.routes[i].removed;
            all = all && ctx.routes[i].removed;
        }
        if (!any || ctx.header_removed(hdr))
            continue;
        const sip::Header& h = ctx.msg.headers[hdr];
        if (all)
            e.remove(h.start, h.end);
        else
            cut_route_values(vals, e);
    }
}

// The host:port of the socket the message arrived on, for Record-Route.
std::string local_advertise(const RecvInfo& ri)
{
    if (ri.listener && !ri.listener->advertise.empty())
        return ri.listener->advertise;
    if (ri.dst.family() == AF_INET || ri.dst.family() == AF_INET6)
        return ri.dst.str();
    return {};
}

bool header_matches(const sip::Header& h, sip::HdrType t, std::string_view name)
{
    return t != sip::HdrType::Other ? h.type == t : sip::iequals(h.name, name);
}

}  // namespace

void MsgContext::collect_edits(sip::Edits& e) const
{
    if (uri_changed) {
        size_t off = static_cast<size_t>(msg.uri.data() - buf.data());
        e.replace(off, off + msg.uri.size(), new_uri);
    }
    if (!prepend.empty() && !msg.headers.empty())
        e.insert(msg.headers.front().start, prepend);
    for (size_t k = 0; k < msg.headers.size(); ++k)
        if (header_removed(k))
            e.remove(msg.headers[k].start, msg.headers[k].end);
    collect_route_cuts(*this, e);
    std::string tail;
    if (maxfwd_value >= 0) {
        bool replaced = false;
        for (size_t k = 0; k < msg.headers.size() && !replaced; ++k) {
            const sip::Header& h = msg.headers[k];
            if (h.type != sip::HdrType::MaxForwards || header_removed(k))
                continue;
            size_t off = static_cast<size_t>(h.value.data() - buf.data());
            e.replace(off, off + h.value.size(), std::to_string(maxfwd_value));
            replaced = true;
        }
        if (!replaced)
            tail = "Max-Forwards: " + std::to_string(maxfwd_value) + "\r\n";
    }
    tail += append;
    if (!tail.empty() && !msg.headers.empty())
        e.insert(msg.headers.back().end, std::move(tail));
}

int MsgContext::process_maxfwd(long long limit)
{
    if (maxfwd_done)
        return maxfwd_result;  // once per message, as SER's maxfwd module
    maxfwd_done = true;
    int mf = msg.max_forwards;
    if (mf < 0) {
        maxfwd_value = static_cast<int>(limit < 0 ? 0 : limit > 255 ? 255 : limit);
        maxfwd_result = 2;
    } else if (mf == 0) {
        maxfwd_result = -1;
    } else {
        maxfwd_value = mf - 1;
        maxfwd_result = 1;
    }
    return maxfwd_result;
}

int act_record_route(MsgContext& ctx)
{
    if (ctx.rr_done)
        return 1;
    std::string adv = local_advertise(ctx.ri);
    if (adv.empty()) {
        LOG_ERR("record_route: no local address known for the receiving socket");
        return -1;
    }
    ctx.prepend += "Record-Route: <sip:" + adv;
    if (ctx.ri.proto != Proto::Udp)
        ctx.prepend += ";transport=" + std::string(proto_name(ctx.ri.proto));
    ctx.prepend += ";lr>\r\n";
    ctx.rr_done = true;
    return 1;
}

int act_loose_route(MsgContext& ctx, const RouteHost& host)
{
    const RouteEntry* top = ctx.next_route();
    if (!top)
        return -1;
    // RFC 3261 §16.4: a strict router before us put our Record-Route URI into
    // the Request-URI; the real target is the last Route value.
    sip::SipUri ru;
    std::string cur(ctx.ruri());
    bool ru_ok = sip::parse_uri(cur, ru);
    if (ru_ok && ru.lr && !ru.host.empty() && host.is_myself(ru.host, ru.port)) {
        for (auto it = ctx.routes.rbegin(); it != ctx.routes.rend(); ++it) {
            if (it->removed || ctx.header_removed(it->header))
                continue;
            ctx.new_uri = std::string(it->uri);
            ctx.uri_changed = true;
            it->removed = true;
            return 1;
        }
    }
    sip::SipUri tu;
    if (!sip::parse_uri(top->uri, tu) || tu.host.empty() || !host.is_myself(tu.host, tu.port))
        return 1;  // a pre-loaded route set that does not start with us
    ctx.routes[static_cast<size_t>(top - ctx.routes.data())].removed = true;
    // Our Route was the last one and the Request-URI names us too: the request
    // is for this server, so the script treats it like an initial request.
    if (!ctx.next_route() && ru_ok && !ru.host.empty() && host.is_myself(ru.host, ru.port))
        return -1;
    return 1;
}

int act_append_hf(MsgContext& ctx, const std::string& line)
{
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string::npos) {
        LOG_ERR("append_hf: \"%s\" is not a header line", line.c_str());
        return -1;
    }
    ctx.append += line;
    // SER wants the CRLF in the argument; a missing one would glue two headers.
    if (line.back() != '\n')
        ctx.append += "\r\n";
    return 1;
}

int act_remove_hf(MsgContext& ctx, std::string_view name)
{
    sip::HdrType t = sip::header_type(name);
    int n = 0;
    for (size_t k = 0; k < ctx.msg.headers.size(); ++k) {
        if (ctx.header_removed(k) || !header_matches(ctx.msg.headers[k], t, name))
            continue;
        ctx.removed[k] = true;
        ++n;
    }
    return n > 0 ? n : -1;
}

int act_is_present_hf(const MsgContext& ctx, std::string_view name)
{
    sip::HdrType t = sip::header_type(name);
    for (size_t k = 0; k < ctx.msg.headers.size(); ++k)
        if (!ctx.header_removed(k) && header_matches(ctx.msg.headers[k], t, name))
            return 1;
    return -1;
}

int act_rewrite(MsgContext& ctx, ActionId id, const std::string& arg, long long num)
{
    // rewritehost("$fd"), seturi("sip:$rd"): the pseudo-variables of log() too.
    const std::string text = arg.find('$') == std::string::npos ? arg : expand_log_text(arg, ctx);
    sip::SipUri u;
    if (id == ActionId::RewriteUri) {
        if (!sip::parse_uri(text, u)) {
            LOG_ERR("rewriteuri: \"%s\" is not a SIP URI", text.c_str());
            return -1;
        }
        ctx.new_uri = text;
        ctx.uri_changed = true;
        return 1;
    }
    std::string cur(ctx.ruri());
    if (!sip::parse_uri(cur, u) || u.host.empty())
        return -1;
    std::string_view user = u.user, pass = u.password, host = u.host;
    std::string port = u.port ? std::to_string(u.port) : std::string();
    HostPort hp;
    switch (id) {
    case ActionId::RewriteHost: host = text; break;
    case ActionId::RewriteHostPort: hp = split_hostport(text); host = hp.host; port = std::string(hp.port); break;
    case ActionId::RewritePort: if (num <= 0) return 1; port = std::to_string(num); break;
    case ActionId::RewriteUser: user = text; pass = user.empty() ? std::string_view() : pass; break;
    default: return -1;
    }
    std::string out = std::string(u.scheme) + ":";
    if (!user.empty())
        out += std::string(user) + (pass.empty() ? "" : ":" + std::string(pass)) + "@";
    out += std::string(host) + (port.empty() ? "" : ":" + port);
    out += u.params.empty() ? std::string() : ";" + std::string(u.params);
    out += u.headers.empty() ? std::string() : "?" + std::string(u.headers);
    sip::SipUri check;
    if (!sip::parse_uri(out, check)) {
        LOG_ERR("rewrite: the new Request-URI \"%s\" is not valid; unchanged", out.c_str());
        return -1;
    }
    ctx.new_uri = std::move(out);
    ctx.uri_changed = true;
    return 1;
}

}  // namespace ser

namespace ser {

std::string from_domain(const MsgContext& ctx)
{
    const sip::Header* from = ctx.msg.find(sip::HdrType::From);
    sip::SipUri u;
    if (!from || !sip::parse_uri(sip::strip_name_addr(from->value), u))
        return {};
    return std::string(u.host);
}

std::string ruri_domain(const MsgContext& ctx)
{
    sip::SipUri u;
    if (!ctx.msg.is_request || !sip::parse_uri(ctx.ruri(), u))
        return {};
    return std::string(u.host);
}

// log() texts may name facts of the message: $rm method, $ru Request-URI,
// $rd its host, $fd the From URI's host,
// $si/$sp source address/port, $pr transport, $ci Call-ID, and for TLS
// $tls_version, $tls_cipher, $tls_peer_cn, $tls_verified (Kamailio's names),
// $tls_peer_fingerprint (sha256 of the peer certificate).
std::string expand_log_text(const std::string& text, const MsgContext& ctx)
{
    if (text.find('$') == std::string::npos)
        return text;
    const TlsFacts* t = ctx.tls;
    const std::pair<std::string_view, std::string> vars[] = {
        {"$tls_version", t ? t->version : ""},
        {"$tls_cipher", t ? t->cipher : ""},
        {"$tls_peer_cn", t ? t->peer_cn : ""},
        {"$tls_peer_fingerprint", t ? t->peer_fingerprint : ""},
        {"$tls_verified", t && t->verified ? "1" : "0"},
        {"$rm", std::string(ctx.msg.method)},
        {"$ru", std::string(ctx.ruri())},
        {"$rd", ruri_domain(ctx)},
        {"$fd", from_domain(ctx)},
        {"$si", ctx.ri.src.ip()},
        {"$sp", std::to_string(ctx.ri.src.port())},
        {"$pr", std::string(proto_name(ctx.ri.proto))},
        {"$ci", std::string(ctx.msg.call_id)},
    };
    std::string out;
    for (size_t i = 0; i < text.size();) {
        bool hit = false;
        if (text[i] == '$')
            for (const auto& [name, val] : vars)
                if (text.compare(i, name.size(), name) == 0) {
                    out += val;
                    i += name.size();
                    hit = true;
                    break;
                }
        if (!hit)
            out += text[i++];
    }
    return out;
}

}  // namespace ser

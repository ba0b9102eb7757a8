// forward() to a host name by RFC 3263 without blocking the worker: a name
// whose answers are cached is forwarded at once; otherwise the request waits
// in a bounded per-process table (dns_max_pending) with the script's edits,
// and is built and sent when the resolver has the answers, or answered with
// 478 when the name does not resolve.
#include "proxy/proxy.h"

#include "log.h"

namespace ser {

namespace {

std::string answer_key(const std::string& name, dns::Type t)
{
    return std::to_string(static_cast<unsigned>(t)) + ":" + name;
}

}  // namespace

Proxy::~Proxy() = default;

dns::Resolver& Proxy::enable_dns(dns::LoopHooks& hooks)
{
    dns::ResolverOptions o;
    o.servers = cfg_.dns_servers;
    o.timeout_ms = cfg_.dns_timeout;
    o.retries = cfg_.dns_retries;
    o.cache_size = static_cast<size_t>(cfg_.dns_cache_size);
    dns_ = std::make_unique<dns::Resolver>(o, hooks);
    if (!dns_->ok())
        LOG_ERR("dns: %s: forward() to a name fails with 478", dns_->error().c_str());
    return *dns_;
}

// Names in /etc/hosts (localhost) keep the system's answer, as before.
bool Proxy::by_rfc3263(const Dest& d) const
{
    return dns_ && !SockAddr::from_numeric(d.host, 0) && !dns_->in_hosts_file(d.host);
}

int Proxy::forward_by_name(MsgContext& ctx, const FwdSpec& f, Dest& d)
{
    dns::Lookup l{d.host, d.port_given ? d.port : uint16_t{0},
                  d.proto_given ? std::optional<Proto>(d.proto) : std::nullopt, d.secure};
    std::vector<dns::Target> out;
    std::vector<std::pair<std::string, dns::Type>> need;
    auto known = [this](const std::string& name, dns::Type t) { return dns_->cached(name, t); };
    dns::PlanResult r = dns::plan(l, known, rng_, out, need);
    if (r == dns::PlanResult::Done) {
        take_targets(out, d);
        return send_to(ctx, f, d);
    }
    if (r == dns::PlanResult::Failed) {
        LOG_ERR("cannot resolve \"%s\" (cached answer)", d.host.c_str());
        stats_.count(Stat::DnsFailures);
        fail(ctx, 478, "Unresolvable destination");
        return -1;
    }
    if (pending_.size() >= static_cast<size_t>(cfg_.dns_max_pending)) {
        LOG_WARN("dns: %zu requests already wait for answers (dns_max_pending): 503 for one to \"%s\"",
                 pending_.size(), d.host.c_str());
        stats_.count(Stat::DnsQueueFull);
        fail(ctx, 503, "Service Unavailable");
        return -1;
    }
    auto p = std::make_unique<PendingFwd>();
    p->buf = std::string(ctx.buf);
    p->ri = ctx.ri;
    p->f = f;
    p->d = d;
    p->lookup = l;
    p->max_size = static_cast<size_t>(ctx.ri.proto == Proto::Udp ? cfg_.udp_max_msg_size : cfg_.tcp_max_msg_size);
    p->flags = ctx.flags;
    p->removed = ctx.removed;
    for (const RouteEntry& e : ctx.routes)
        p->routes_removed.push_back(e.removed);
    p->new_uri = ctx.new_uri;
    p->uri_changed = ctx.uri_changed;
    p->prepend = ctx.prepend;
    p->append = ctx.append;
    p->maxfwd_done = ctx.maxfwd_done;
    p->maxfwd_result = ctx.maxfwd_result;
    p->maxfwd_value = ctx.maxfwd_value;
    p->rr_done = ctx.rr_done;
    p->force_rport = ctx.force_rport;
    p->forwards = ctx.forwards;
    // The pointer is into ctx, which is gone when the answers come.
    if (d.strict_route)
        p->strict_route_idx = d.strict_route - ctx.routes.data();
    p->d.strict_route = nullptr;
    uint64_t id = next_pending_++;
    pending_.emplace(id, std::move(p));
    stats_.count(Stat::DnsQueued);
    LOG_DBG("dns: request to \"%s\" waits for answers (%zu waiting)", d.host.c_str(), pending_.size());
    // The request is ours now: the script goes on as after a forward that left.
    ++ctx.forwards;
    ctx.forwarded = true;
    dns_step(id);
    return 1;
}

// Runs the plan of one waiting request over what is known: asks what is
// missing, or sends (or fails) it.
void Proxy::dns_step(uint64_t id)
{
    auto it = pending_.find(id);
    if (it == pending_.end())
        return;
    PendingFwd& p = *it->second;
    auto known = [&](const std::string& name, dns::Type t) -> const dns::Answer* {
        auto g = p.got.find(answer_key(name, t));
        return g != p.got.end() ? &g->second : dns_->cached(name, t);
    };
    std::vector<dns::Target> out;
    std::vector<std::pair<std::string, dns::Type>> need;
    dns::PlanResult r = dns::plan(p.lookup, known, rng_, out, need);
    if (r == dns::PlanResult::Need) {
        for (const auto& [name, type] : need) {
            std::string key = answer_key(name, type);
            if (p.asked[key])
                continue;
            p.asked[key] = true;
            p.waiting++;
            dns_->query(name, type, [this, id, key](const dns::Result& res) {
                auto pit = pending_.find(id);
                if (pit == pending_.end())
                    return;
                // No answer (timeout, SERVFAIL) counts as none for this request only.
                dns::Answer a = res.answer;
                if (!res.ok)
                    a.negative = true;
                pit->second->got[key] = std::move(a);
                pit->second->waiting--;
                dns_step(id);
            });
        }
        if (p.waiting > 0)
            return;
        r = dns::PlanResult::Failed;   // nothing left to ask yet nothing known: cannot happen
    }
    std::unique_ptr<PendingFwd> mine = std::move(it->second);
    pending_.erase(it);
    if (r != dns::PlanResult::Done)
        out.clear();
    dns_resume(*mine, out);
}

// The first target is where d goes; the next ones of its transport (the
// later SRV targets) are where a stream goes when its connect fails.
void Proxy::take_targets(const std::vector<dns::Target>& out, Dest& d)
{
    d.addr = out[0].addr;
    d.proto = out[0].proto;
    d.alternates.clear();
    for (size_t i = 1; i < out.size() && d.alternates.size() < kMaxAlternates; i++)
        if (out[i].proto == d.proto && !(out[i].addr == d.addr))
            d.alternates.push_back(out[i].addr);
}

// Forwards a waiting request to its targets (none: its name did not resolve) on a
// new parse of its bytes with the script's state put back.
void Proxy::dns_resume(PendingFwd& p, const std::vector<dns::Target>& targets)
{
    MsgContext ctx(p.buf, p.ri, nullptr);
    if (!ctx.parse(p.max_size).ok)
        return;   // parsed before; cannot happen
    ctx.flags = p.flags;
    ctx.removed = p.removed;
    for (size_t i = 0; i < ctx.routes.size() && i < p.routes_removed.size(); i++)
        ctx.routes[i].removed = p.routes_removed[i];
    ctx.new_uri = p.new_uri;
    ctx.uri_changed = p.uri_changed;
    ctx.prepend = p.prepend;
    ctx.append = p.append;
    ctx.maxfwd_done = p.maxfwd_done;
    ctx.maxfwd_result = p.maxfwd_result;
    ctx.maxfwd_value = p.maxfwd_value;
    ctx.rr_done = p.rr_done;
    ctx.force_rport = p.force_rport;
    ctx.forwards = p.forwards;
    if (p.strict_route_idx >= 0 && static_cast<size_t>(p.strict_route_idx) < ctx.routes.size())
        p.d.strict_route = &ctx.routes[static_cast<size_t>(p.strict_route_idx)];
    send_failed_ = false;
    int rc = -1;
    if (!targets.empty()) {
        take_targets(targets, p.d);
        rc = send_to(ctx, p.f, p.d);
    } else {
        LOG_ERR("cannot resolve \"%s\"", p.d.host.c_str());
        stats_.count(Stat::DnsFailures);
        fail(ctx, 478, "Unresolvable destination");
    }
    if (rc > 0)
        return;
    if (ctx.err_code != 0 && !ctx.is_ack())
        reply(ctx, ctx.err_code, ctx.err_reason);
    if (!ctx.replied)
        stats_.count(send_failed_ ? DropReason::SendFailure : DropReason::NoRoute);
}

}  // namespace ser

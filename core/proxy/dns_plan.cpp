// RFC 3263 §4 over the answers known: dns_plan.h.
#include "proxy/dns_plan.h"

namespace ser::dns {
namespace {

enum class Part { Unknown, None, Found };

struct Planner {
    const Known& known;
    std::mt19937& rng;
    std::vector<Target>& out;
    std::vector<std::pair<std::string, Type>>& need;

    const Answer* ask(const std::string& name, Type t)
    {
        const Answer* a = known(name, t);
        if (!a) {
            for (const auto& n : need)
                if (n.first == name && n.second == t)
                    return nullptr;
            need.emplace_back(name, t);
        }
        return a;
    }

    // The A, then AAAA, addresses of name with port.
    Part addrs(const std::string& name, uint16_t port, Proto p)
    {
        const Answer* a4 = ask(name, Type::A);
        const Answer* a6 = ask(name, Type::Aaaa);
        if (!a4 || !a6)
            return Part::Unknown;
        size_t before = out.size();
        for (const Answer* a : {a4, a6})
            for (SockAddr s : a->addrs) {
                s.set_port(port);
                out.push_back({p, s, name});
            }
        return out.size() > before ? Part::Found : Part::None;
    }

    // The addresses of an SRV name's targets, in RFC 2782 order.
    Part srv(const std::string& srv_name, Proto p)
    {
        const Answer* s = ask(srv_name, Type::Srv);
        if (!s)
            return Part::Unknown;
        if (s->negative)
            return Part::None;
        std::vector<SrvRecord> order = srv_order(s->srv, rng);
        bool unknown = false;
        size_t before = out.size();
        for (const SrvRecord& r : order)
            unknown |= addrs(r.target, r.port, p) == Part::Unknown;
        if (unknown) {
            out.resize(before);
            return Part::Unknown;
        }
        return out.size() > before ? Part::Found : Part::None;
    }
};

PlanResult finish(Part p)
{
    return p == Part::Found ? PlanResult::Done : p == Part::Unknown ? PlanResult::Need : PlanResult::Failed;
}

}  // namespace

PlanResult plan(const Lookup& l, const Known& known, std::mt19937& rng, std::vector<Target>& out,
                std::vector<std::pair<std::string, Type>>& need)
{
    out.clear();
    need.clear();
    Planner pl{known, rng, out, need};
    Proto plain = l.secure ? Proto::Tls : Proto::Udp;
    // §4.2: an explicit port means no SRV (and no NAPTR).
    if (l.port != 0)
        return finish(pl.addrs(l.host, l.port, l.proto.value_or(plain)));
    // §4.1: a transport given (transport=, or forced by the script) skips NAPTR.
    if (l.proto) {
        Part p = pl.srv(srv_name(*l.proto, l.host), *l.proto);
        if (p == Part::None)
            p = pl.addrs(l.host, proto_default_port(*l.proto), *l.proto);
        return finish(p);
    }
    const Answer* n = pl.ask(l.host, Type::Naptr);
    if (!n)
        return PlanResult::Need;
    std::vector<NaptrChoice> choices;
    if (!n->negative)
        choices = naptr_choices(n->naptr, l.secure);
    if (choices.empty()) {
        // No NAPTR: an SRV query per transport, asked together; the first
        // that has targets wins (UDP, TCP, TLS: the order of our preference).
        std::vector<Proto> mine = l.secure ? std::vector<Proto>{Proto::Tls}
                                           : std::vector<Proto>{Proto::Udp, Proto::Tcp, Proto::Tls};
        for (Proto p : mine)
            choices.push_back({p, srv_name(p, l.host)});
        for (const NaptrChoice& c : choices)
            pl.ask(c.srv_name, Type::Srv);
        if (!need.empty())
            return PlanResult::Need;
    }
    for (const NaptrChoice& c : choices) {
        Part p = pl.srv(c.srv_name, c.proto);
        if (p != Part::None)
            return finish(p);
    }
    // §4.2 last resort: the host's own addresses, default port.
    return finish(pl.addrs(l.host, proto_default_port(plain), plain));
}

}  // namespace ser::dns

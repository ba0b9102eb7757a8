// Unit tests of core/proxy/dns_plan.cpp, RFC 3263 §4 over a table of
// answers: what is asked in which round, what an explicit port or transport
// skips, NAPTR before SRV before A/AAAA, sips, and the fall-backs.
#include "proxy/dns_plan.h"

#include <cppunit/extensions/HelperMacros.h>

#include <map>

using namespace ser;
using namespace ser::dns;

namespace {

// A zone: answers by (name, type); a name not in it has not been answered yet.
struct Zone {
    std::map<std::pair<std::string, Type>, Answer> answers;
    void addr(const std::string& name, const char* ip)
    {
        answers[{name, Type::A}].addrs.push_back(*SockAddr::from_numeric(ip, 0));
        if (!answers.count({name, Type::Aaaa}))
            none(name, Type::Aaaa);
    }
    void none(const std::string& name, Type t) { answers[{name, t}].negative = true; }
    void srv(const std::string& name, uint16_t prio, uint16_t weight, uint16_t port, const std::string& target)
    {
        answers[{name, Type::Srv}].srv.push_back({prio, weight, port, target});
    }
    void naptr(const std::string& name, uint16_t order, const std::string& service, const std::string& repl)
    {
        answers[{name, Type::Naptr}].naptr.push_back({order, 10, "s", service, repl});
    }
    Known known() const
    {
        return [this](const std::string& n, Type t) -> const Answer* {
            auto it = answers.find({n, t});
            return it == answers.end() ? nullptr : &it->second;
        };
    }
};

struct Run {
    PlanResult r;
    std::vector<Target> out;
    std::vector<std::pair<std::string, Type>> need;
};

Run run(const Zone& z, Lookup l)
{
    static std::mt19937 rng(3);
    Run x;
    x.r = plan(l, z.known(), rng, x.out, x.need);
    return x;
}

bool needs(const Run& x, const std::string& n, Type t)
{
    for (const auto& q : x.need)
        if (q.first == n && q.second == t)
            return true;
    return false;
}

}  // namespace

class DnsPlanTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DnsPlanTest);
    CPPUNIT_TEST(explicit_port_skips_naptr_and_srv);
    CPPUNIT_TEST(transport_skips_naptr);
    CPPUNIT_TEST(naptr_then_srv_then_address);
    CPPUNIT_TEST(no_naptr_asks_every_srv_at_once);
    CPPUNIT_TEST(no_srv_falls_back_to_address);
    CPPUNIT_TEST(sips_only_tls);
    CPPUNIT_TEST(nothing_resolves);
    CPPUNIT_TEST(srv_priority_order_of_targets);
    CPPUNIT_TEST_SUITE_END();

public:
    void explicit_port_skips_naptr_and_srv()
    {
        Zone z;
        Run x = run(z, {"h.test", 5070, std::nullopt, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Need);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "h.test", Type::A) && needs(x, "h.test", Type::Aaaa));
        z.addr("h.test", "192.0.2.1");
        x = run(z, {"h.test", 5070, Proto::Tcp, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:5070"), x.out[0].addr.str());
        CPPUNIT_ASSERT(x.out[0].proto == Proto::Tcp);
    }

    void transport_skips_naptr()
    {
        Zone z;
        Run x = run(z, {"h.test", 0, Proto::Tcp, false});
        CPPUNIT_ASSERT_EQUAL(size_t{1}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "_sip._tcp.h.test", Type::Srv));
        z.srv("_sip._tcp.h.test", 1, 1, 5080, "a.h.test");
        x = run(z, {"h.test", 0, Proto::Tcp, false});
        CPPUNIT_ASSERT(needs(x, "a.h.test", Type::A));
        z.addr("a.h.test", "192.0.2.2");
        x = run(z, {"h.test", 0, Proto::Tcp, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.2:5080"), x.out[0].addr.str());
    }

    void naptr_then_srv_then_address()
    {
        Zone z;
        Run x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT_EQUAL(size_t{1}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "h.test", Type::Naptr));
        z.naptr("h.test", 20, "SIP+D2U", "_sip._udp.h.test");
        z.naptr("h.test", 10, "SIP+D2T", "_sip._tcp.h.test");
        x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT_EQUAL(size_t{1}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "_sip._tcp.h.test", Type::Srv));   // order 10 first
        z.none("_sip._tcp.h.test", Type::Srv);                      // no SRV: the next NAPTR
        z.srv("_sip._udp.h.test", 1, 1, 5090, "u.h.test");
        z.addr("u.h.test", "192.0.2.3");
        x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT(x.out[0].proto == Proto::Udp);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.3:5090"), x.out[0].addr.str());
    }

    void no_naptr_asks_every_srv_at_once()
    {
        Zone z;
        z.none("h.test", Type::Naptr);
        Run x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT_EQUAL(size_t{3}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "_sip._udp.h.test", Type::Srv) && needs(x, "_sip._tcp.h.test", Type::Srv) &&
                       needs(x, "_sips._tcp.h.test", Type::Srv));
        z.none("_sip._udp.h.test", Type::Srv);
        z.srv("_sip._tcp.h.test", 1, 1, 5060, "t.h.test");
        z.none("_sips._tcp.h.test", Type::Srv);
        z.addr("t.h.test", "192.0.2.4");
        x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT(x.out[0].proto == Proto::Tcp);
    }

    void no_srv_falls_back_to_address()
    {
        Zone z;
        z.none("h.test", Type::Naptr);
        for (const char* s : {"_sip._udp.h.test", "_sip._tcp.h.test", "_sips._tcp.h.test"})
            z.none(s, Type::Srv);
        Run x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT(needs(x, "h.test", Type::A));
        z.addr("h.test", "192.0.2.5");
        x = run(z, {"h.test", 0, std::nullopt, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT(x.out[0].proto == Proto::Udp);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.5:5060"), x.out[0].addr.str());
    }

    void sips_only_tls()
    {
        Zone z;
        z.naptr("h.test", 10, "SIP+D2U", "_sip._udp.h.test");
        Run x = run(z, {"h.test", 0, std::nullopt, true});
        // The only NAPTR is not SIPS: as if there were none, so _sips._tcp only.
        CPPUNIT_ASSERT_EQUAL(size_t{1}, x.need.size());
        CPPUNIT_ASSERT(needs(x, "_sips._tcp.h.test", Type::Srv));
        z.none("_sips._tcp.h.test", Type::Srv);
        z.addr("h.test", "192.0.2.6");
        x = run(z, {"h.test", 0, std::nullopt, true});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT(x.out[0].proto == Proto::Tls);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5061}, x.out[0].addr.port());
    }

    void nothing_resolves()
    {
        Zone z;
        z.none("h.test", Type::A);
        z.none("h.test", Type::Aaaa);
        CPPUNIT_ASSERT(run(z, {"h.test", 5060, std::nullopt, false}).r == PlanResult::Failed);
    }

    void srv_priority_order_of_targets()
    {
        Zone z;
        z.srv("_sip._udp.h.test", 20, 1, 5001, "b.h.test");
        z.srv("_sip._udp.h.test", 10, 1, 5002, "a.h.test");
        z.addr("a.h.test", "192.0.2.7");
        z.addr("b.h.test", "192.0.2.8");
        Run x = run(z, {"h.test", 0, Proto::Udp, false});
        CPPUNIT_ASSERT(x.r == PlanResult::Done);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, x.out.size());
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5002"), x.out[0].addr.str());
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.8:5001"), x.out[1].addr.str());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DnsPlanTest);

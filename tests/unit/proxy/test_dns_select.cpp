// Unit tests of core/proxy/dns_select.cpp: the RFC 2782 SRV order (priority
// first, weights as frequencies over many draws), the RFC 3263 NAPTR choice,
// and the answer cache's bound, LRU eviction and TTL expiry.
#include "proxy/dns_select.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cmath>
#include <map>

using namespace ser;
using namespace ser::dns;

namespace {

SrvRecord srv(uint16_t prio, uint16_t weight, std::string target)
{
    return SrvRecord{prio, weight, 5060, std::move(target)};
}

NaptrRecord naptr(uint16_t order, uint16_t pref, std::string service, std::string repl, std::string flags = "s")
{
    return NaptrRecord{order, pref, std::move(flags), std::move(service), std::move(repl)};
}

Answer addr_answer(const char* ip)
{
    Answer a;
    a.addrs.push_back(*SockAddr::from_numeric(ip, 0));
    return a;
}

}  // namespace

class DnsSelectTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DnsSelectTest);
    CPPUNIT_TEST(srv_priority_first);
    CPPUNIT_TEST(srv_weights_are_frequencies);
    CPPUNIT_TEST(srv_zero_weight_last_but_present);
    CPPUNIT_TEST(srv_dot_means_no_service);
    CPPUNIT_TEST(naptr_order_then_preference);
    CPPUNIT_TEST(naptr_secure_only_sips);
    CPPUNIT_TEST(srv_names);
    CPPUNIT_TEST(cache_ttl_expiry);
    CPPUNIT_TEST(cache_bound_evicts_lru);
    CPPUNIT_TEST(cache_bound_evicts_expired_first);
    CPPUNIT_TEST(cache_zero_capacity_and_ttl);
    CPPUNIT_TEST(cache_name_case_and_dot);
    CPPUNIT_TEST(negative_ttl_rules);
    CPPUNIT_TEST_SUITE_END();

public:
    void srv_priority_first()
    {
        std::mt19937 rng(1);
        for (int i = 0; i < 100; i++) {
            auto o = srv_order({srv(20, 100, "c"), srv(10, 1, "a"), srv(10, 1, "b"), srv(30, 0, "d")}, rng);
            CPPUNIT_ASSERT_EQUAL(size_t{4}, o.size());
            CPPUNIT_ASSERT_EQUAL(uint16_t{10}, o[0].priority);
            CPPUNIT_ASSERT_EQUAL(uint16_t{10}, o[1].priority);
            CPPUNIT_ASSERT_EQUAL(std::string("c"), o[2].target);
            CPPUNIT_ASSERT_EQUAL(std::string("d"), o[3].target);
        }
    }

    // Weights 60:30:10 over 30000 draws: each first-choice count within 5
    // sigma of its expectation.
    void srv_weights_are_frequencies()
    {
        std::mt19937 rng(42);
        std::map<std::string, int> first;
        const int n = 30000;
        for (int i = 0; i < n; i++)
            first[srv_order({srv(1, 60, "a"), srv(1, 30, "b"), srv(1, 10, "c")}, rng)[0].target]++;
        for (auto [t, p] : {std::pair{"a", 0.6}, {"b", 0.3}, {"c", 0.1}}) {
            double mean = n * p, sigma = std::sqrt(n * p * (1 - p));
            CPPUNIT_ASSERT_MESSAGE(t, std::fabs(first[t] - mean) < 5 * sigma);
        }
    }

    void srv_zero_weight_last_but_present()
    {
        std::mt19937 rng(7);
        int zero_first = 0;
        for (int i = 0; i < 2000; i++) {
            auto o = srv_order({srv(1, 0, "z"), srv(1, 1000, "w")}, rng);
            CPPUNIT_ASSERT_EQUAL(size_t{2}, o.size());
            zero_first += o[0].target == "z";
        }
        // P(draw 0 of 0..1000) is 1/1001: a handful at most.
        CPPUNIT_ASSERT(zero_first < 20);
        auto all_zero = srv_order({srv(1, 0, "x"), srv(1, 0, "y")}, rng);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, all_zero.size());
    }

    void srv_dot_means_no_service()
    {
        std::mt19937 rng(1);
        CPPUNIT_ASSERT(srv_order({srv(0, 0, ".")}, rng).empty());
        CPPUNIT_ASSERT(srv_order({}, rng).empty());
    }

    void naptr_order_then_preference()
    {
        auto c = naptr_choices({naptr(20, 10, "SIP+D2U", "_sip._udp.x"), naptr(10, 50, "SIP+D2T", "_sip._tcp.x"),
                                naptr(10, 10, "SIPS+D2T", "_sips._tcp.x"), naptr(5, 1, "E2U+sip", "_e.x"),
                                naptr(1, 1, "SIP+D2U", "!^.*$!sip:a@b!", "u"), naptr(2, 1, "SIP+D2S", "_sip._sctp.x")},
                               false);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, c.size());
        CPPUNIT_ASSERT(c[0].proto == Proto::Tls);
        CPPUNIT_ASSERT_EQUAL(std::string("_sips._tcp.x"), c[0].srv_name);
        CPPUNIT_ASSERT(c[1].proto == Proto::Tcp);
        CPPUNIT_ASSERT(c[2].proto == Proto::Udp);
    }

    void naptr_secure_only_sips()
    {
        auto c = naptr_choices({naptr(1, 1, "SIP+D2U", "_sip._udp.x"), naptr(2, 1, "sips+d2t", "_sips._tcp.x")},
                               true);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, c.size());
        CPPUNIT_ASSERT(c[0].proto == Proto::Tls);
    }

    void srv_names()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("_sip._udp.h.test"), srv_name(Proto::Udp, "h.test"));
        CPPUNIT_ASSERT_EQUAL(std::string("_sip._tcp.h.test"), srv_name(Proto::Tcp, "h.test"));
        CPPUNIT_ASSERT_EQUAL(std::string("_sips._tcp.h.test"), srv_name(Proto::Tls, "h.test"));
    }

    void cache_ttl_expiry()
    {
        Cache c(4);
        c.put("a.test", Type::A, addr_answer("10.0.0.1"), 2, 1000);
        CPPUNIT_ASSERT(c.find("a.test", Type::A, 2999) != nullptr);
        CPPUNIT_ASSERT(c.find("a.test", Type::Aaaa, 2999) == nullptr);
        CPPUNIT_ASSERT(c.find("a.test", Type::A, 3000) == nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t{0}, c.size());
        Answer neg;
        neg.negative = true;
        c.put("n.test", Type::Srv, neg, 5, 0);
        const Answer* a = c.find("n.test", Type::Srv, 4000);
        CPPUNIT_ASSERT(a && a->negative);
    }

    void cache_bound_evicts_lru()
    {
        Cache c(2);
        c.put("a", Type::A, addr_answer("10.0.0.1"), 60, 0);
        c.put("b", Type::A, addr_answer("10.0.0.2"), 60, 0);
        CPPUNIT_ASSERT(c.find("a", Type::A, 1) != nullptr);   // a is now the most recent
        c.put("c", Type::A, addr_answer("10.0.0.3"), 60, 2);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, c.size());
        CPPUNIT_ASSERT(c.find("b", Type::A, 3) == nullptr);
        CPPUNIT_ASSERT(c.find("a", Type::A, 3) != nullptr);
        CPPUNIT_ASSERT(c.find("c", Type::A, 3) != nullptr);
        // Replacing a key does not grow the cache.
        c.put("c", Type::A, addr_answer("10.0.0.4"), 60, 4);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, c.size());
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.4"), c.find("c", Type::A, 5)->addrs[0].ip());
    }

    void cache_bound_evicts_expired_first()
    {
        Cache c(2);
        c.put("short", Type::A, addr_answer("10.0.0.1"), 1, 0);
        c.put("long", Type::A, addr_answer("10.0.0.2"), 60, 0);
        CPPUNIT_ASSERT(c.find("short", Type::A, 10) != nullptr);   // most recent, but expires at 1000
        c.put("new", Type::A, addr_answer("10.0.0.3"), 60, 2000);
        CPPUNIT_ASSERT(c.find("long", Type::A, 2001) != nullptr);
        CPPUNIT_ASSERT(c.find("new", Type::A, 2001) != nullptr);
    }

    void cache_zero_capacity_and_ttl()
    {
        Cache none(0);
        none.put("a", Type::A, addr_answer("10.0.0.1"), 60, 0);
        CPPUNIT_ASSERT_EQUAL(size_t{0}, none.size());
        Cache c(2);
        c.put("a", Type::A, addr_answer("10.0.0.1"), 0, 0);
        CPPUNIT_ASSERT(c.find("a", Type::A, 0) == nullptr);
    }

    void cache_name_case_and_dot()
    {
        Cache c(2);
        c.put("Host.Example.TEST.", Type::A, addr_answer("10.0.0.1"), 60, 0);
        CPPUNIT_ASSERT(c.find("host.example.test", Type::A, 1) != nullptr);
    }

    void negative_ttl_rules()
    {
        CPPUNIT_ASSERT_EQUAL(uint32_t{30}, negative_ttl(std::nullopt, std::nullopt, 30, 300));
        CPPUNIT_ASSERT_EQUAL(uint32_t{60}, negative_ttl(60u, 3600u, 30, 300));
        CPPUNIT_ASSERT_EQUAL(uint32_t{10}, negative_ttl(60u, 10u, 30, 300));
        CPPUNIT_ASSERT_EQUAL(uint32_t{300}, negative_ttl(86400u, 86400u, 30, 300));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DnsSelectTest);

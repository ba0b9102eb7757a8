// core/net: SockAddr's numeric forms, host:port splitting, wildcard and local
// addresses, resolve_host and its name cache (over a counting fake resolver
// and a fake clock: a second lookup is answered from the cache, failures for
// 10 s, names for 60 s, at most 512 of them).
#include "net.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// Puts a counting fake resolver and a settable clock behind resolve_host's
// cache, empty, for the life of this object; then the real ones again.
class NameCachePeer {
public:
    NameCachePeer()
    {
        NameCache::clear();
        NameCache::lookup_ = fake_lookup;
        NameCache::clock_ = fake_clock;
        lookups = 0;
        now = 1'000'000;
        answer.reset();
    }
    ~NameCachePeer()
    {
        NameCache::clear();
        NameCache::lookup_ = real_lookup_;
        NameCache::clock_ = real_clock_;
    }
    NameCachePeer(const NameCachePeer&) = delete;
    size_t size() const { return NameCache::size(); }
    static void forget_all() { NameCache::clear(); }

    static inline int lookups = 0;                  // calls of the fake resolver
    static inline int64_t now = 0;                  // what the cache's clock says (ms)
    static inline std::optional<SockAddr> answer;   // what the fake resolver says

private:
    static std::optional<SockAddr> fake_lookup(const std::string&, int)
    {
        ++lookups;
        return answer;
    }
    static int64_t fake_clock() { return now; }

    NameCache::Lookup real_lookup_ = NameCache::lookup_;
    NameCache::Clock real_clock_ = NameCache::clock_;
};

// What resolve_host answered, printable either way.
std::string text(const std::optional<SockAddr>& a)
{
    return a ? a->str() : "nothing";
}

class NetTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NetTest);
    CPPUNIT_TEST(numericForms);
    CPPUNIT_TEST(hostPortSplits);
    CPPUNIT_TEST(portsParse);
    CPPUNIT_TEST(wildcards);
    CPPUNIT_TEST(cidrBlocks);
    CPPUNIT_TEST(localAddresses);
    CPPUNIT_TEST(namesResolveWithTheAskedPort);
    CPPUNIT_TEST(secondLookupIsCached);
    CPPUNIT_TEST(failuresAreCachedTenSeconds);
    CPPUNIT_TEST(namesExpireAfterSixtySeconds);
    CPPUNIT_TEST(cacheHoldsAtMost512Names);
    CPPUNIT_TEST_SUITE_END();

public:
    void cidrBlocks()
    {
        auto in = [](const char* block, const char* ip) {
            auto c = Cidr::parse(block);
            CPPUNIT_ASSERT_MESSAGE(block, c.has_value());
            return c->contains(*SockAddr::from_numeric(ip, 1));
        };
        CPPUNIT_ASSERT(in("10.0.0.0/8", "10.255.1.2"));
        CPPUNIT_ASSERT(!in("10.0.0.0/8", "11.0.0.1"));
        CPPUNIT_ASSERT(in("192.168.1.7", "192.168.1.7"));
        CPPUNIT_ASSERT(!in("192.168.1.7", "192.168.1.8"));
        CPPUNIT_ASSERT(in("192.168.1.0/25", "192.168.1.127"));
        CPPUNIT_ASSERT(!in("192.168.1.0/25", "192.168.1.128"));
        CPPUNIT_ASSERT(in("0.0.0.0/0", "203.0.113.9"));
        CPPUNIT_ASSERT(!in("0.0.0.0/0", "::1"));                  // an IPv4 block never holds IPv6
        CPPUNIT_ASSERT(in("127.0.0.0/8", "::ffff:127.0.0.1"));    // ... but holds the mapped form
        CPPUNIT_ASSERT(in("2001:db8::/32", "2001:db8:ffff::1"));
        CPPUNIT_ASSERT(!in("2001:db8::/33", "2001:db8:8000::1"));
        CPPUNIT_ASSERT(!in("::1", "127.0.0.1"));
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.0/8"), Cidr::parse("10.1.2.3/8")->str());   // host bits cleared
        std::string why;
        CPPUNIT_ASSERT(!Cidr::parse("10.0.0.0/33", &why));
        CPPUNIT_ASSERT(why.find("0..32") != std::string::npos);
        CPPUNIT_ASSERT(!Cidr::parse("::/129"));
        CPPUNIT_ASSERT(!Cidr::parse("10.0.0.0/"));
        CPPUNIT_ASSERT(!Cidr::parse("10.0.0.0/8x"));
        CPPUNIT_ASSERT(!Cidr::parse("example.com/8"));
    }

    void numericForms()
    {
        auto a = SockAddr::from_numeric("[::1]", 5061);
        CPPUNIT_ASSERT(a && a->family() == AF_INET6);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5061"), a->str());
        CPPUNIT_ASSERT(!SockAddr::from_numeric("1.2.3", 1));
        CPPUNIT_ASSERT(!SockAddr::from_numeric("host.example", 1));
        auto b = resolve_host("192.0.2.1", 5070);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:5070"), text(b));
    }

    void hostPortSplits()
    {
        auto check = [](std::string_view in, std::string_view host, std::string_view port) {
            HostPort hp = split_hostport(in);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(in), std::string(host), std::string(hp.host));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(in), std::string(port), std::string(hp.port));
        };
        check("example.com", "example.com", "");
        check("example.com:5070", "example.com", "5070");
        check("10.0.0.4:5090", "10.0.0.4", "5090");
        check("[2001:db8::1]:5062", "[2001:db8::1]", "5062");
        check("[2001:db8::1]", "[2001:db8::1]", "");
        check("2001:db8::1", "2001:db8::1", "");    // bare IPv6: all host
        check("[2001:db8::1", "[2001:db8::1", "");  // unclosed bracket: all host
        check("[::1]x", "[::1]", "");
        check("host:", "host", "");
        check("", "", "");
    }

    void portsParse()
    {
        CPPUNIT_ASSERT(parse_port("5060") == 5060);
        CPPUNIT_ASSERT(parse_port("1") == 1);
        CPPUNIT_ASSERT(parse_port("65535") == 65535);
        for (std::string_view bad : {"", "0", "65536", "4294967301", "50a", "-1", "+1", " 1", "0x10"})
            CPPUNIT_ASSERT_MESSAGE(std::string(bad), !parse_port(bad));
    }

    void wildcards()
    {
        CPPUNIT_ASSERT(is_wildcard(*SockAddr::from_numeric("0.0.0.0", 5060)));
        CPPUNIT_ASSERT(is_wildcard(*SockAddr::from_numeric("::", 0)));
        CPPUNIT_ASSERT(is_wildcard(*SockAddr::from_numeric("[::]", 5061)));
        CPPUNIT_ASSERT(!is_wildcard(*SockAddr::from_numeric("127.0.0.1", 5060)));
        CPPUNIT_ASSERT(!is_wildcard(*SockAddr::from_numeric("::1", 5060)));
        CPPUNIT_ASSERT(!is_wildcard(*SockAddr::from_numeric("::ffff:0.0.0.0", 5060)));
        CPPUNIT_ASSERT(!is_wildcard(SockAddr{}));
    }

    // What a listen address of 0.0.0.0 or :: becomes at start-up.
    void localAddresses()
    {
        std::vector<SockAddr> v4 = local_addresses(AF_INET, 5080);
        CPPUNIT_ASSERT(std::find(v4.begin(), v4.end(), *SockAddr::from_numeric("127.0.0.1", 5080)) != v4.end());
        for (size_t i = 0; i < v4.size(); i++) {
            CPPUNIT_ASSERT_EQUAL(AF_INET, v4[i].family());
            CPPUNIT_ASSERT_EQUAL(uint16_t{5080}, v4[i].port());
            CPPUNIT_ASSERT(!is_wildcard(v4[i]));
            CPPUNIT_ASSERT(std::find(v4.begin() + static_cast<long>(i) + 1, v4.end(), v4[i]) == v4.end());
        }
        for (const SockAddr& a : local_addresses(AF_INET6, 5081)) {
            CPPUNIT_ASSERT_EQUAL(AF_INET6, a.family());
            CPPUNIT_ASSERT_EQUAL(uint16_t{5081}, a.port());
            CPPUNIT_ASSERT_MESSAGE(a.str(), !a.ip().starts_with("fe80:"));  // link-local needs a scope
        }
    }

    // The real resolver: "localhost" comes from /etc/hosts.
    void namesResolveWithTheAskedPort()
    {
        NameCachePeer::forget_all();   // so the resolver is really asked
        auto a = resolve_host("localhost", 5060, AF_INET);
        CPPUNIT_ASSERT(a);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5060"), a->str());
        auto b = resolve_host("localhost", 7000, AF_INET);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:7000"), text(b));
        CPPUNIT_ASSERT(!lookup_host("no-such-host.invalid", 0));
    }

    void secondLookupIsCached()
    {
        NameCachePeer fake;
        fake.answer = SockAddr::from_numeric("192.0.2.7", 0);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5060"), text(resolve_host("sip.example.com", 5060)));
        CPPUNIT_ASSERT_EQUAL(1, fake.lookups);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:7000"), text(resolve_host("sip.example.com", 7000)));
        CPPUNIT_ASSERT_EQUAL(1, fake.lookups);   // from the cache, with its own port
        CPPUNIT_ASSERT(resolve_host("sip.example.com", 5060, AF_INET6));
        CPPUNIT_ASSERT_EQUAL(2, fake.lookups);   // another family is another question
        CPPUNIT_ASSERT(resolve_host("192.0.2.1", 5070));
        CPPUNIT_ASSERT_EQUAL(2, fake.lookups);   // numeric input never asks
        CPPUNIT_ASSERT_EQUAL(size_t{2}, fake.size());
    }

    void failuresAreCachedTenSeconds()
    {
        NameCachePeer fake;
        CPPUNIT_ASSERT(!resolve_host("down.example.com", 5060));
        CPPUNIT_ASSERT_EQUAL(1, fake.lookups);
        fake.now += 9'999;
        CPPUNIT_ASSERT(!resolve_host("down.example.com", 5060));
        CPPUNIT_ASSERT_EQUAL(1, fake.lookups);
        fake.answer = SockAddr::from_numeric("192.0.2.8", 0);
        fake.now += 1;
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.8:5060"), text(resolve_host("down.example.com", 5060)));
        CPPUNIT_ASSERT_EQUAL(2, fake.lookups);
    }

    void namesExpireAfterSixtySeconds()
    {
        NameCachePeer fake;
        fake.answer = SockAddr::from_numeric("192.0.2.7", 0);
        CPPUNIT_ASSERT(resolve_host("moving.example.com", 5060));
        fake.answer = SockAddr::from_numeric("192.0.2.9", 0);
        fake.now += 59'999;
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5060"), text(resolve_host("moving.example.com", 5060)));
        CPPUNIT_ASSERT_EQUAL(1, fake.lookups);
        fake.now += 1;
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.9:5060"), text(resolve_host("moving.example.com", 5060)));
        CPPUNIT_ASSERT_EQUAL(2, fake.lookups);
    }

    void cacheHoldsAtMost512Names()
    {
        NameCachePeer fake;
        fake.answer = SockAddr::from_numeric("192.0.2.7", 0);
        auto name = [](int i) { return "h" + std::to_string(i) + ".example.com"; };
        for (int i = 0; i < 512; i++)
            resolve_host(name(i), 5060);
        CPPUNIT_ASSERT_EQUAL(512, fake.lookups);
        for (int i = 0; i < 512; i++)
            resolve_host(name(i), 5060);
        CPPUNIT_ASSERT_EQUAL(512, fake.lookups);   // all 512 held
        CPPUNIT_ASSERT(resolve_host(name(512), 5060));
        CPPUNIT_ASSERT_EQUAL(513, fake.lookups);
        CPPUNIT_ASSERT(fake.size() >= 1 && fake.size() <= 512);
        resolve_host(name(512), 5060);
        CPPUNIT_ASSERT_EQUAL(513, fake.lookups);   // the newest name is kept
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NetTest);

}  // namespace ser

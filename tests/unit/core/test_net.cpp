// core/net: SockAddr's numeric forms, host:port splitting, wildcard and local
// addresses, resolve_host and its name cache.
#include "net.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <vector>

namespace ser {

class NetTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NetTest);
    CPPUNIT_TEST(numericForms);
    CPPUNIT_TEST(hostPortSplits);
    CPPUNIT_TEST(portsParse);
    CPPUNIT_TEST(wildcards);
    CPPUNIT_TEST(localAddresses);
    CPPUNIT_TEST(namesResolveWithTheAskedPort);
    CPPUNIT_TEST(failedNamesAreRemembered);
    CPPUNIT_TEST_SUITE_END();

public:
    void numericForms()
    {
        auto a = SockAddr::from_numeric("[::1]", 5061);
        CPPUNIT_ASSERT(a && a->family() == AF_INET6);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5061"), a->str());
        CPPUNIT_ASSERT(!SockAddr::from_numeric("1.2.3", 1));
        CPPUNIT_ASSERT(!SockAddr::from_numeric("host.example", 1));
        auto b = resolve_host("192.0.2.1", 5070);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:5070"), b->str());
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

    void namesResolveWithTheAskedPort()
    {
        auto a = resolve_host("localhost", 5060, AF_INET);
        CPPUNIT_ASSERT(a);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5060"), a->str());
        auto b = resolve_host("localhost", 7000, AF_INET);   // from the cache, with its own port
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:7000"), b->str());
    }

    void failedNamesAreRemembered()
    {
        CPPUNIT_ASSERT(!resolve_host("no-such-host.invalid", 5060));
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 1000; i++)
            CPPUNIT_ASSERT(!resolve_host("no-such-host.invalid", 5060));
        // 1000 lookups from the cache take far less than one resolver round trip each.
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NetTest);

}  // namespace ser

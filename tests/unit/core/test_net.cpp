// SockAddr and resolve_host: numeric forms, ports, names and the name cache.
#include "net.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>

namespace ser {

class NetTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NetTest);
    CPPUNIT_TEST(numericForms);
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

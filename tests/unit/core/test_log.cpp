// The log's flood limit (core/log.cpp, log::flood): each call site writes
// kBurst lines per window, the rest is counted and said as "repeated" once
// the window is over; other sites are not affected; a full table limits nothing.
#include "log.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

namespace ser {

class LogFloodTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LogFloodTest);
    CPPUNIT_TEST(burstThenHeld);
    CPPUNIT_TEST(repeatedSaidAfterWindow);
    CPPUNIT_TEST(otherSitesUnaffected);
    CPPUNIT_TEST(fullTableLimitsNothing);
    CPPUNIT_TEST_SUITE_END();

    using H = log::flood::Held;
    static constexpr int kMax = 8;

public:
    void setUp() override { log::flood::reset(); }
    void tearDown() override { log::flood::reset(); }

    void burstThenHeld()
    {
        static const char site[] = "x %d";
        H rep[kMax];
        int n = 0, written = 0;
        for (int i = 0; i < 100; i++)
            written += log::flood::allow(site, 1000 + i, rep, &n, kMax);
        CPPUNIT_ASSERT_EQUAL(log::flood::kBurst, written);
        CPPUNIT_ASSERT_EQUAL(0, n);
    }

    void repeatedSaidAfterWindow()
    {
        static const char site[] = "y %d";
        H rep[kMax];
        int n = 0;
        for (int i = 0; i < 25; i++)
            log::flood::allow(site, 5000, rep, &n, kMax);
        // The next window: the 15 held lines are said first, and it writes again.
        CPPUNIT_ASSERT(log::flood::allow(site, 5000 + log::flood::kWindowMs, rep, &n, kMax));
        CPPUNIT_ASSERT_EQUAL(1, n);
        CPPUNIT_ASSERT_EQUAL(uint64_t{15}, rep[0].count);
        CPPUNIT_ASSERT_EQUAL(std::string(site), std::string(rep[0].site));
        CPPUNIT_ASSERT(log::flood::allow(site, 5000 + log::flood::kWindowMs + 1, rep, &n, kMax));
        CPPUNIT_ASSERT_EQUAL(0, n);   // said once
    }

    void otherSitesUnaffected()
    {
        static const char a[] = "a", b[] = "b";
        H rep[kMax];
        int n = 0;
        for (int i = 0; i < 50; i++)
            log::flood::allow(a, 0, rep, &n, kMax);
        CPPUNIT_ASSERT(log::flood::allow(b, 0, rep, &n, kMax));
        // a's held lines are said with b's first line after a's window.
        CPPUNIT_ASSERT(log::flood::allow(b, log::flood::kWindowMs, rep, &n, kMax));
        CPPUNIT_ASSERT_EQUAL(1, n);
        CPPUNIT_ASSERT_EQUAL(uint64_t{40}, rep[0].count);
    }

    void fullTableLimitsNothing()
    {
        static char sites[log::flood::kSites][8];
        H rep[kMax];
        int n = 0;
        for (int i = 0; i < log::flood::kSites; i++)
            CPPUNIT_ASSERT(log::flood::allow(sites[i], 0, rep, &n, kMax));
        static const char extra[] = "extra";
        int written = 0;
        for (int i = 0; i < 100; i++)
            written += log::flood::allow(extra, 0, rep, &n, kMax);
        CPPUNIT_ASSERT_EQUAL(100, written);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LogFloodTest);

}  // namespace ser

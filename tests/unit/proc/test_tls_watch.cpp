// proc/tls_watch.h TlsWatch: a file renamed into place is seen through the
// directory watch and acted on once the directory is quiet; an event for an
// unrelated file in the same directory, or for a file back as it was when
// the last attempt read it, asks for nothing; the periodic check finds a
// change without any event.
#include "proc/tls_watch.h"

#include <cppunit/extensions/HelperMacros.h>

#include <poll.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace ser {
namespace {

void write_file(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

// Waits (bounded: 2 s) for the watch descriptor to become readable and reads it at `at`.
bool events(TlsWatch& w, int64_t at)
{
    pollfd pf{w.fd(), POLLIN, 0};
    if (poll(&pf, 1, 2000) != 1)
        return false;
    w.on_readable(at);
    return true;
}

}  // namespace

class TlsWatchTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsWatchTest);
    CPPUNIT_TEST(renameIntoPlaceAfterQuiet);
    CPPUNIT_TEST(unrelatedFileAsksNothing);
    CPPUNIT_TEST(periodicCheckWithoutEvents);
    CPPUNIT_TEST(noFilesNoWatch);
    CPPUNIT_TEST_SUITE_END();

    std::string dir_;

public:
    void setUp() override
    {
        char tmpl[] = "/tmp/ser-tls-watch.XXXXXX";
        CPPUNIT_ASSERT(mkdtemp(tmpl));
        dir_ = tmpl;
        write_file(dir_ + "/cert.pem", "one");
    }
    void tearDown() override
    {
        std::string cmd = "rm -rf '" + dir_ + "'";
        CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
    }

    void renameIntoPlaceAfterQuiet()
    {
        TlsWatch w({dir_ + "/cert.pem"}, 0);
        CPPUNIT_ASSERT(w.fd() >= 0);
        CPPUNIT_ASSERT(!w.due(1000));
        write_file(dir_ + "/.new", "two, longer");
        CPPUNIT_ASSERT_EQUAL(0, std::rename((dir_ + "/.new").c_str(), (dir_ + "/cert.pem").c_str()));
        CPPUNIT_ASSERT(events(w, 1000));
        CPPUNIT_ASSERT(!w.due(1000 + TlsWatch::kQuietMs - 1));   // not quiet yet
        CPPUNIT_ASSERT(w.timeout_ms(1000, 100) <= TlsWatch::kQuietMs);
        CPPUNIT_ASSERT(w.due(1000 + TlsWatch::kQuietMs));
        w.begin_attempt();
        CPPUNIT_ASSERT(!w.due(5000));   // nothing new since the attempt
    }

    void unrelatedFileAsksNothing()
    {
        TlsWatch w({dir_ + "/cert.pem"}, 0);
        write_file(dir_ + "/notes.txt", "x");
        CPPUNIT_ASSERT(events(w, 1000));
        CPPUNIT_ASSERT(!w.due(1000 + TlsWatch::kMaxWaitMs));
    }

    void periodicCheckWithoutEvents()
    {
        TlsWatch w({dir_ + "/cert.pem"}, 1);
        CPPUNIT_ASSERT(!w.due(0));   // the first check: as at start
        write_file(dir_ + "/cert.pem", "changed in place");
        CPPUNIT_ASSERT(!w.due(999));   // not time yet, and no event was read
        CPPUNIT_ASSERT(w.due(1000));
    }

    void noFilesNoWatch()
    {
        TlsWatch w({}, 60);
        CPPUNIT_ASSERT_EQUAL(-1, w.fd());
        CPPUNIT_ASSERT(!w.due(1000000));
        // main sleeps its full period: a 0 here made it spin at 100 % CPU without TLS.
        CPPUNIT_ASSERT_EQUAL(100, w.timeout_ms(1000000, 100));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsWatchTest);

}  // namespace ser

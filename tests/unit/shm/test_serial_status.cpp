// SerialStatus (core/shm/serial_status.cpp): a serial bridge's device and
// peer state written by one process and read by another across fork; slots
// reused after a peer goes; a full table refuses politely; long text cut.
#include "shm/serial_status.h"
#include "shm/shm.h"

#include <cppunit/extensions/HelperMacros.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace ser {

class SerialStatusTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SerialStatusTest);
    CPPUNIT_TEST(deviceCountersAndReopens);
    CPPUNIT_TEST(peersComeAndGo);
    CPPUNIT_TEST(fullTableRefuses);
    CPPUNIT_TEST(longTextIsCut);
    CPPUNIT_TEST(childWritesParentReads);
    CPPUNIT_TEST_SUITE_END();

public:
    void deviceCountersAndReopens()
    {
        auto shm = Shm::create(1 << 20);
        SerialStatus* s = SerialStatus::create(*shm, 2);
        CPPUNIT_ASSERT(s);
        CPPUNIT_ASSERT(!s->read().open);
        s->device_open(true, 1000);
        s->device_rx(10);
        s->device_tx(3);
        s->device_open(false, 2000);
        s->device_dropped(5);
        s->device_open(true, 3000);
        s->device_open(false, 4000);
        s->device_open(true, 5000);
        s->link_dropped(7);
        s->line(250000, 7, 'E', 2);
        SerialStatusView v = s->read();
        CPPUNIT_ASSERT_EQUAL(uint32_t{250000}, v.baud);
        CPPUNIT_ASSERT(v.databits == 7 && v.parity == 'E' && v.stopbits == 2);
        CPPUNIT_ASSERT(v.open);
        CPPUNIT_ASSERT_EQUAL(int64_t{5000}, v.since_ms);
        CPPUNIT_ASSERT_EQUAL(uint64_t{10}, v.rx);
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, v.tx);
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, v.reopens);   // the first open is no reopen
        CPPUNIT_ASSERT_EQUAL(uint64_t{5}, v.dropped);
        CPPUNIT_ASSERT_EQUAL(uint64_t{7}, v.link_dropped);
    }

    void peersComeAndGo()
    {
        auto shm = Shm::create(1 << 20);
        SerialStatus* s = SerialStatus::create(*shm, 2);
        int a = s->attach(7, false, "127.0.0.1:4000", 111);
        int b = s->attach(8, true, "[::1]:7000", 222);
        CPPUNIT_ASSERT(a >= 0 && b >= 0 && a != b);
        s->set_tls(a, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=alice");
        s->peer_rx(a, 5);
        s->peer_tx(a, 9);
        s->peer_tx(b, 1);
        SerialStatusView v = s->read();
        CPPUNIT_ASSERT_EQUAL(size_t{2}, v.peers.size());
        const SerialPeerView& p = v.peers[0].conn == 7 ? v.peers[0] : v.peers[1];
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:4000"), p.addr);
        CPPUNIT_ASSERT(p.tls && !p.outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.3"), p.tls_version);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=alice"), p.peer_subject);
        CPPUNIT_ASSERT_EQUAL(uint64_t{5}, p.rx);
        CPPUNIT_ASSERT_EQUAL(uint64_t{9}, p.tx);
        CPPUNIT_ASSERT_EQUAL(int64_t{111}, p.since_ms);
        s->detach(a);
        v = s->read();
        CPPUNIT_ASSERT_EQUAL(size_t{1}, v.peers.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t{8}, v.peers[0].conn);
        CPPUNIT_ASSERT(v.peers[0].outgoing && !v.peers[0].tls);
        // The freed slot is taken again, with nothing of its last peer left.
        int c = s->attach(9, false, "127.0.0.1:4001", 333);
        CPPUNIT_ASSERT_EQUAL(a, c);
        v = s->read();
        const SerialPeerView& q = v.peers[0].conn == 9 ? v.peers[0] : v.peers[1];
        CPPUNIT_ASSERT(!q.tls && q.tls_version.empty() && q.rx == 0 && q.tx == 0);
    }

    void fullTableRefuses()
    {
        auto shm = Shm::create(1 << 20);
        SerialStatus* s = SerialStatus::create(*shm, 1);
        CPPUNIT_ASSERT(s->attach(1, false, "a", 0) >= 0);
        CPPUNIT_ASSERT_EQUAL(-1, s->attach(2, false, "b", 0));
        s->peer_rx(-1, 5);   // an unlisted peer counts nowhere and harms nothing
        s->set_tls(-1, "x", "y", "z");
        s->detach(-1);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s->read().peers.size());
        // A mapping too small for the table is refused, not overrun.
        auto tiny = Shm::create(4096);
        CPPUNIT_ASSERT(!SerialStatus::create(*tiny, 1000));
    }

    void longTextIsCut()
    {
        auto shm = Shm::create(1 << 20);
        SerialStatus* s = SerialStatus::create(*shm, 1);
        int a = s->attach(1, false, "127.0.0.1:1", 0);
        s->set_tls(a, "TLSv1.3", std::string(1000, 'c'), std::string(5000, 's'));
        SerialPeerView p = s->read().peers.at(0);
        CPPUNIT_ASSERT_EQUAL(size_t{63}, p.cipher.size());
        CPPUNIT_ASSERT_EQUAL(size_t{255}, p.peer_subject.size());
    }

    void childWritesParentReads()
    {
        auto shm = Shm::create(1 << 20);
        SerialStatus* s = SerialStatus::create(*shm, 4);
        pid_t pid = fork();
        if (pid == 0) {
            s->device_open(true, 42);
            int a = s->attach(5, false, "127.0.0.1:9", 43);
            for (int i = 0; i < 1000; i++)
                s->peer_tx(a, 2);
            s->device_rx(2000);
            _exit(0);
        }
        int st = 0;
        for (int i = 0; i < 1000 && waitpid(pid, &st, WNOHANG) != pid; i++)
            usleep(10000);
        CPPUNIT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        SerialStatusView v = s->read();
        CPPUNIT_ASSERT(v.open);
        CPPUNIT_ASSERT_EQUAL(uint64_t{2000}, v.rx);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, v.peers.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t{2000}, v.peers[0].tx);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SerialStatusTest);

}  // namespace ser

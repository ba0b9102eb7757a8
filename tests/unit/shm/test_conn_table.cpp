// ConnTable and Shm: fixed capacity, lookups by id and address, ids not reused
// at once, purge by owner, a lock whose holder died is taken over.
#include "shm/conn_table.h"
#include "shm/shm.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/wait.h>
#include <unistd.h>

namespace ser {

class ConnTableTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConnTableTest);
    CPPUNIT_TEST(addFindRemove);
    CPPUNIT_TEST(fullTableRefuses);
    CPPUNIT_TEST(idsAreNotReusedAtOnce);
    CPPUNIT_TEST(freedSlotsAreReusedLast);
    CPPUNIT_TEST(purgeOwner);
    CPPUNIT_TEST(sharedAcrossFork);
    CPPUNIT_TEST(lockSurvivesDeadHolder);
    CPPUNIT_TEST(shmIsBounded);
    CPPUNIT_TEST_SUITE_END();

    static TcpConnRecord rec(const char* ip, uint16_t port, int owner)
    {
        TcpConnRecord r;
        r.remote = *SockAddr::from_numeric(ip, port);
        r.owner = static_cast<int16_t>(owner);
        r.state = ConnState::Established;
        return r;
    }

public:
    void addFindRemove()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 16);
        CPPUNIT_ASSERT(t);
        uint32_t a = t->add(rec("127.0.0.1", 5060, 0));
        uint32_t b = t->add(rec("::1", 5061, 1));
        CPPUNIT_ASSERT(a && b && a != b);
        CPPUNIT_ASSERT_EQUAL(2u, t->count());
        auto fb = t->find(Proto::Tcp, *SockAddr::from_numeric("::1", 5061));
        CPPUNIT_ASSERT(fb && fb->id == b && fb->owner == 1);
        CPPUNIT_ASSERT(!t->find(Proto::Tls, *SockAddr::from_numeric("::1", 5061)));
        CPPUNIT_ASSERT(!t->find(Proto::Tcp, *SockAddr::from_numeric("::1", 5062)));
        CPPUNIT_ASSERT(t->update(a, [](TcpConnRecord& r) { r.msgs_in = 7; }));
        CPPUNIT_ASSERT_EQUAL(uint64_t(7), t->get(a)->msgs_in);
        t->remove(a);
        CPPUNIT_ASSERT(!t->get(a));
        CPPUNIT_ASSERT(!t->update(a, [](TcpConnRecord&) {}));
        CPPUNIT_ASSERT_EQUAL(1u, t->count());
    }

    void fullTableRefuses()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 3);
        for (int i = 0; i < 3; i++)
            CPPUNIT_ASSERT(t->add(rec("10.0.0.1", static_cast<uint16_t>(1000 + i), 0)) != 0);
        CPPUNIT_ASSERT_EQUAL(0u, t->add(rec("10.0.0.1", 2000, 0)));
        CPPUNIT_ASSERT_EQUAL(3u, t->count());
    }

    void idsAreNotReusedAtOnce()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 1);
        uint32_t a = t->add(rec("10.0.0.1", 1, 0));
        t->remove(a);
        uint32_t b = t->add(rec("10.0.0.1", 1, 0));
        CPPUNIT_ASSERT(b != 0 && b != a);
        CPPUNIT_ASSERT(!t->get(a));   // a stale id finds nothing, not the new connection
        CPPUNIT_ASSERT(t->get(b));
    }

    void freedSlotsAreReusedLast()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 4);
        uint32_t a = t->add(rec("10.0.0.1", 1, 0));
        t->remove(a);
        // Churn through the other slots: a's slot comes back only after them.
        for (int i = 0; i < 3; i++) {
            uint32_t x = t->add(rec("10.0.0.1", static_cast<uint16_t>(10 + i), 0));
            CPPUNIT_ASSERT((x & 0xfffff) != (a & 0xfffff));
        }
        uint32_t again = t->add(rec("10.0.0.1", 20, 0));
        CPPUNIT_ASSERT_EQUAL(a & 0xfffff, again & 0xfffff);
        CPPUNIT_ASSERT(again != a);
        CPPUNIT_ASSERT_EQUAL(0u, t->add(rec("10.0.0.1", 21, 0)));
    }

    void purgeOwner()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 8);
        t->add(rec("10.0.0.1", 1, 0));
        t->add(rec("10.0.0.1", 2, 1));
        t->add(rec("10.0.0.1", 3, 1));
        CPPUNIT_ASSERT_EQUAL(size_t(2), t->purge_owner(1));
        CPPUNIT_ASSERT_EQUAL(1u, t->count());
        CPPUNIT_ASSERT(!t->find(Proto::Tcp, *SockAddr::from_numeric("10.0.0.1", 2)));
    }

    void sharedAcrossFork()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 8);
        pid_t pid = fork();
        if (pid == 0)
            _exit(t->add(rec("192.0.2.1", 5060, 3)) ? 0 : 1);
        int st = 0;
        waitpid(pid, &st, 0);
        CPPUNIT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        auto r = t->find(Proto::Tcp, *SockAddr::from_numeric("192.0.2.1", 5060));
        CPPUNIT_ASSERT(r && r->owner == 3);
    }

    void lockSurvivesDeadHolder()
    {
        auto shm = Shm::create(1 << 16);
        RobustMutex* m = shm->alloc<RobustMutex>();
        m->init();
        pid_t pid = fork();
        if (pid == 0) {
            m->lock();
            _exit(0);   // dies holding the lock
        }
        waitpid(pid, nullptr, 0);
        m->lock();      // must not hang
        m->unlock();
        m->lock();
        m->unlock();
    }

    void shmIsBounded()
    {
        auto shm = Shm::create(4096);
        CPPUNIT_ASSERT(shm->alloc<char>(4000));
        CPPUNIT_ASSERT(!shm->alloc<char>(200));
        CPPUNIT_ASSERT(!ConnTable::create(*shm, 100));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConnTableTest);

}  // namespace ser

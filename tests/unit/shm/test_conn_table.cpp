// ConnTable and Shm: fixed capacity, lookups by id and address, ids not reused
// at once, purge by owner, a lock whose holder died is taken over (and the
// table and the lock still work after it).
#include "shm/conn_table.h"
#include "shm/shm.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace ser {
namespace {

// Everything written to fd 2 (by this process and the children it forks)
// while this object lives, for reading back.
class StderrCapture {
public:
    StderrCapture()
    {
        char path[] = "/tmp/ser-unit-stderr.XXXXXX";
        fd_ = mkstemp(path);
        unlink(path);
        std::fflush(stderr);
        dup2(fd_, 2);
    }
    ~StderrCapture()
    {
        dup2(saved_, 2);
        close(saved_);
        close(fd_);
    }
    StderrCapture(const StderrCapture&) = delete;
    std::string text() const
    {
        std::string out;
        char buf[4096];
        ssize_t n;
        for (off_t at = 0; (n = pread(fd_, buf, sizeof buf, at)) > 0; at += n)
            out.append(buf, static_cast<size_t>(n));
        return out;
    }

private:
    int saved_ = dup(2);
    int fd_ = -1;
};

size_t occurrences(const std::string& s, const std::string& what)
{
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size()))
        n++;
    return n;
}

// Waits up to `ms` for child `pid` to end and returns its wait status; -1
// (the child killed) when it does not end in time.
int wait_child(pid_t pid, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
}

}  // namespace

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

    // A process that dies inside the table's critical section (update() runs
    // f under the lock) leaves the lock held. The parent takes it over, the
    // log says so once, the table works on with no slot lost, and the lock
    // still excludes. Every wait is bounded: a lock that is never recovered
    // fails this test instead of hanging the run.
    void lockSurvivesDeadHolder()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 4);
        uint32_t a = t->add(rec("10.0.0.1", 5060, 0));
        StderrCapture log;
        pid_t holder = fork();
        if (holder == 0) {
            t->update(a, [](TcpConnRecord&) { _exit(0); });
            _exit(1);   // a was not live: update() never took the lock
        }
        int st = wait_child(holder, 5000);
        CPPUNIT_ASSERT_MESSAGE("the child did not die inside update()", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

        // On a thread of our own, which is left behind if the lock never comes.
        auto counting = std::make_shared<std::promise<uint32_t>>();
        std::future<uint32_t> counted = counting->get_future();
        std::thread([t, counting] { counting->set_value(t->count()); }).detach();
        if (counted.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
            static_cast<void>(new Shm(std::move(*shm)));   // the blocked thread's memory stays mapped
            CPPUNIT_FAIL("a lock whose holder died was not taken over within 5 s");
        }
        CPPUNIT_ASSERT_EQUAL(1u, counted.get());

        auto ra = t->get(a);
        CPPUNIT_ASSERT(ra && ra->remote == *SockAddr::from_numeric("10.0.0.1", 5060));
        uint32_t b = t->add(rec("10.0.0.2", 5060, 1));
        auto fb = t->find(Proto::Tcp, *SockAddr::from_numeric("10.0.0.2", 5060));
        CPPUNIT_ASSERT(b != 0 && fb && fb->id == b);
        t->remove(a);
        CPPUNIT_ASSERT(!t->get(a));
        for (uint16_t port = 1; port <= 3; port++)
            CPPUNIT_ASSERT(t->add(rec("10.0.0.3", port, 1)) != 0);
        CPPUNIT_ASSERT_EQUAL(0u, t->add(rec("10.0.0.3", 4, 1)));   // full at 4: every slot is back
        CPPUNIT_ASSERT_EQUAL(4u, t->count());

        // Still a lock: a process that wants it waits while we hold it.
        pid_t waiter = -1;
        bool waited = false;
        t->update(b, [&](TcpConnRecord&) {
            waiter = fork();
            if (waiter == 0)
                _exit(t->count() == 4 ? 0 : 1);
            usleep(200 * 1000);
            waited = waitpid(waiter, nullptr, WNOHANG) == 0;
        });
        CPPUNIT_ASSERT_MESSAGE("another process took the lock while we held it", waited);
        st = wait_child(waiter, 5000);
        CPPUNIT_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

        std::string said = log.text();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(said, size_t{1}, occurrences(said, "WARNING: shared lock recovered from a process that died holding it"));
        CPPUNIT_ASSERT_MESSAGE(said, said.find("CRIT") == std::string::npos);
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

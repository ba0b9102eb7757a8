// IpCounts (core/shm/ip_counts.cpp) and its use by the connection table for
// tcp_max_conns_per_ip: counts per address up to the limit and not past it,
// ports do not matter, an IPv4-mapped address is its IPv4 address, release
// frees a slot and lookups of the rest still work after backward shifts (a
// randomised run against a reference map), a full hash says Full; the table
// counts accepted connections, releases on remove and purge_owner, moves the
// count to the client on set_client (keeping the balancer as via), and the
// counts are shared by processes.
#include "shm/conn_table.h"
#include "shm/ip_counts.h"
#include "shm/shm.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace ser {
namespace {

SockAddr addr(const std::string& ip, uint16_t port = 1)
{
    return *SockAddr::from_numeric(ip, port);
}

TcpConnRecord rec(const std::string& ip, uint16_t port, int owner = 0)
{
    TcpConnRecord r;
    r.remote = addr(ip, port);
    r.owner = static_cast<int16_t>(owner);
    r.state = ConnState::Established;
    return r;
}

class IpCountsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(IpCountsTest);
    CPPUNIT_TEST(limitPerAddress);
    CPPUNIT_TEST(mappedIsIpv4);
    CPPUNIT_TEST(fullHash);
    CPPUNIT_TEST(churnAgainstReference);
    CPPUNIT_TEST(tableCountsAccepted);
    CPPUNIT_TEST(tableSetClient);
    CPPUNIT_TEST(tablePurgeReleases);
    CPPUNIT_TEST(tableSharedAcrossFork);
    CPPUNIT_TEST_SUITE_END();

public:
    void limitPerAddress()
    {
        std::vector<IpCount> slots(IpCounts::slots_for(8));
        IpCounts c(slots.data(), static_cast<uint32_t>(slots.size()));
        for (uint16_t p = 1; p <= 3; p++)
            CPPUNIT_ASSERT(c.acquire(addr("192.0.2.1", p), 3) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT(c.acquire(addr("192.0.2.1", 9), 3) == IpCounts::Result::OverLimit);
        CPPUNIT_ASSERT_EQUAL(3u, c.count(addr("192.0.2.1", 77)));
        CPPUNIT_ASSERT(c.acquire(addr("192.0.2.2"), 3) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT(c.acquire(addr("::1"), 3) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT_EQUAL(3u, c.used());
        c.release(addr("192.0.2.1"));
        CPPUNIT_ASSERT(c.acquire(addr("192.0.2.1"), 3) == IpCounts::Result::Ok);
        for (int i = 0; i < 3; i++)
            c.release(addr("192.0.2.1"));
        CPPUNIT_ASSERT_EQUAL(0u, c.count(addr("192.0.2.1")));
        CPPUNIT_ASSERT_EQUAL(2u, c.used());
        c.release(addr("203.0.113.5"));   // never counted: nothing happens
        CPPUNIT_ASSERT_EQUAL(2u, c.used());
    }

    void mappedIsIpv4()
    {
        std::vector<IpCount> slots(IpCounts::slots_for(4));
        IpCounts c(slots.data(), static_cast<uint32_t>(slots.size()));
        CPPUNIT_ASSERT(c.acquire(addr("127.0.0.1"), 2) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT(c.acquire(addr("::ffff:127.0.0.1"), 2) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT(c.acquire(addr("127.0.0.1"), 2) == IpCounts::Result::OverLimit);
        CPPUNIT_ASSERT_EQUAL(1u, c.used());
        CPPUNIT_ASSERT_EQUAL(0u, c.count(addr("::1")));
    }

    void fullHash()
    {
        // Four slots keep one empty: three addresses, then Full; a known
        // address still counts.
        std::vector<IpCount> slots(4);
        IpCounts c(slots.data(), 4);
        for (int i = 1; i <= 3; i++)
            CPPUNIT_ASSERT(c.acquire(addr("10.0.0." + std::to_string(i)), 5) == IpCounts::Result::Ok);
        CPPUNIT_ASSERT(c.acquire(addr("10.0.0.4"), 5) == IpCounts::Result::Full);
        CPPUNIT_ASSERT(c.acquire(addr("10.0.0.2"), 5) == IpCounts::Result::Ok);
        c.release(addr("10.0.0.1"));
        CPPUNIT_ASSERT(c.acquire(addr("10.0.0.4"), 5) == IpCounts::Result::Ok);
    }

    void churnAgainstReference()
    {
        // Few slots and many addresses: long chains that wrap, and deletions
        // in the middle of them.
        std::vector<IpCount> slots(IpCounts::slots_for(24));
        IpCounts c(slots.data(), static_cast<uint32_t>(slots.size()));
        std::map<std::string, uint32_t> ref;
        std::mt19937 rng(13);
        for (int step = 0; step < 20000; step++) {
            std::string ip = (rng() % 2 ? "10.1.0." : "2001:db8::") + std::to_string(rng() % 40 + 1);
            auto it = ref.find(ip);
            uint32_t had = it == ref.end() ? 0 : it->second;
            if (rng() % 2 && (had > 0 || ref.size() < 24)) {
                bool under = had < 4;
                CPPUNIT_ASSERT((c.acquire(addr(ip), 4) == IpCounts::Result::Ok) == under);
                if (under)
                    ref[ip] = had + 1;
            } else if (had > 0) {
                c.release(addr(ip));
                if (had == 1)
                    ref.erase(ip);
                else
                    ref[ip] = had - 1;
            }
            if (step % 97 == 0)
                for (auto& [k, v] : ref)
                    CPPUNIT_ASSERT_EQUAL(v, c.count(addr(k)));
        }
        CPPUNIT_ASSERT_EQUAL(static_cast<uint32_t>(ref.size()), c.used());
    }

    void tableCountsAccepted()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 16);
        ConnTable::Refusal why;
        uint32_t ids[3];
        for (int i = 0; i < 3; i++) {
            ids[i] = t->add(rec("127.0.0.1", static_cast<uint16_t>(4000 + i)), 3, &why);
            CPPUNIT_ASSERT(ids[i] != 0 && why == ConnTable::Refusal::None);
        }
        CPPUNIT_ASSERT_EQUAL(0u, t->add(rec("127.0.0.1", 4003), 3, &why));
        CPPUNIT_ASSERT(why == ConnTable::Refusal::PerIpLimit);
        CPPUNIT_ASSERT_EQUAL(3u, t->count());
        CPPUNIT_ASSERT(t->add(rec("127.0.0.2", 4003), 3, &why) != 0);
        // Uncounted (outgoing, or no limit): not refused, not counted.
        CPPUNIT_ASSERT(t->add(rec("127.0.0.1", 4004)) != 0);
        CPPUNIT_ASSERT_EQUAL(3u, t->count_from(addr("127.0.0.1")));
        t->remove(ids[1]);
        CPPUNIT_ASSERT_EQUAL(2u, t->count_from(addr("127.0.0.1")));
        CPPUNIT_ASSERT(t->add(rec("127.0.0.1", 4005), 3, &why) != 0);
    }

    void tableSetClient()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 16);
        // Three clients behind one balancer: each counts as itself.
        std::vector<uint32_t> ids;
        for (int i = 0; i < 4; i++)
            ids.push_back(t->add(rec("127.0.0.1", static_cast<uint16_t>(41000 + i))));
        ConnTable::Refusal why;
        for (int i = 0; i < 2; i++)
            CPPUNIT_ASSERT(t->set_client(ids[i], addr("192.0.2.7", static_cast<uint16_t>(5555 + i)),
                                          addr("127.0.0.1", static_cast<uint16_t>(41000 + i)), 2, &why));
        CPPUNIT_ASSERT(!t->set_client(ids[2], addr("192.0.2.7", 5557), addr("127.0.0.1", 41002), 2, &why));
        CPPUNIT_ASSERT(why == ConnTable::Refusal::PerIpLimit);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:41002"), t->get(ids[2])->remote.str());
        CPPUNIT_ASSERT(t->set_client(ids[3], addr("::1", 6000), addr("127.0.0.1", 41003), 2, &why));
        auto r = t->get(ids[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5555"), r->remote.str());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:41000"), r->via.str());
        // Found by the client's address now, not the balancer's.
        auto f = t->find(Proto::Tcp, addr("192.0.2.7", 5556));
        CPPUNIT_ASSERT(f && f->id == ids[1]);
        CPPUNIT_ASSERT(!t->find(Proto::Tcp, addr("127.0.0.1", 41001)));
        CPPUNIT_ASSERT_EQUAL(2u, t->count_from(addr("192.0.2.7")));
        CPPUNIT_ASSERT_EQUAL(0u, t->count_from(addr("127.0.0.1")));
        t->remove(ids[0]);
        CPPUNIT_ASSERT_EQUAL(1u, t->count_from(addr("192.0.2.7")));
        CPPUNIT_ASSERT(!t->set_client(ids[0], addr("192.0.2.8"), addr("127.0.0.1"), 2));   // gone
    }

    void tablePurgeReleases()
    {
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 8);
        for (int i = 0; i < 3; i++)
            CPPUNIT_ASSERT(t->add(rec("10.0.0.9", static_cast<uint16_t>(1 + i), i % 2), 5));
        CPPUNIT_ASSERT_EQUAL(3u, t->count_from(addr("10.0.0.9")));
        CPPUNIT_ASSERT_EQUAL(size_t(2), t->purge_owner(0));
        CPPUNIT_ASSERT_EQUAL(1u, t->count_from(addr("10.0.0.9")));
    }

    void tableSharedAcrossFork()
    {
        // Two processes (two tcp workers) share one limit.
        auto shm = Shm::create(1 << 20);
        ConnTable* t = ConnTable::create(*shm, 8);
        CPPUNIT_ASSERT(t->add(rec("198.51.100.1", 1), 2));
        pid_t pid = fork();
        if (pid == 0)
            _exit(t->add(rec("198.51.100.1", 2, 1), 2) && !t->add(rec("198.51.100.1", 3, 1), 2) ? 0 : 1);
        int st = 0;
        waitpid(pid, &st, 0);
        CPPUNIT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CPPUNIT_ASSERT_EQUAL(0u, t->add(rec("198.51.100.1", 4), 2));
        CPPUNIT_ASSERT_EQUAL(2u, t->count_from(addr("198.51.100.1")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IpCountsTest);

}  // namespace
}  // namespace ser

// Roles and the set-up steps: which role serves which listen address, what
// each role opens before fork, how many children it has and how they are
// named and titled; a role's own step runs after every listener and stops set-up on
// failure; an address held by another process is refused.
#include "cfg/cfg_check.h"
#include "proc/children.h"
#include "proc/role.h"
#include "proc/runtime.h"
#include "runtime_fds.h"

#include <cppunit/extensions/HelperMacros.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ser {
namespace {

// A port that is free on 127.0.0.1 for both UDP and TCP right now.
uint16_t free_port()
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
        getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        bool ok = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        close(t);
        close(u);
        if (ok)
            return ntohs(a.sin_port);
    }
    return 0;
}

// The config of `text`, which must check clean.
Config config(const std::string& text)
{
    cfg::CheckResult r = cfg::load_config_text(text + "route { drop; }\n", "roles.cfg", cfg::CheckOptions{false, false});
    for (const auto& d : r.diags)
        if (d.level == cfg::Diag::Level::Error)
            CPPUNIT_FAIL("config: " + d.str());
    return r.config;
}

// Steps 1 to 4 of Runtime::setup (the transports are process-wide state: left out).
std::string set_up(Runtime& rt, const Config& c, const RoleTable& roles)
{
    std::string err = rt.map_shared_memory(c, 4);
    if (err.empty())
        err = rt.expand_listen_addrs();
    if (err.empty())
        err = rt.bind_listeners(roles);
    if (err.empty())
        err = rt.run_role_setups(roles);
    return err;
}

RoleTable sip_roles()
{
    RoleTable t;
    register_udp_receivers(t);
    register_tcp_workers(t);
    return t;
}

const Role& role(const RoleTable& t, const std::string& name)
{
    for (const Role& r : t.roles())
        if (r.name == name)
            return r;
    CPPUNIT_FAIL("no role " + name);
    return t.roles().front();
}

}  // namespace

class RolesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RolesTest);
    CPPUNIT_TEST(sipRolesOfListeners);
    CPPUNIT_TEST(udpOnlyHasNoWorkers);
    CPPUNIT_TEST(disabledTcpIsNeitherClaimedNorBound);
    CPPUNIT_TEST(heldAddressIsRefused);
    CPPUNIT_TEST(roleStepsInOrder);
    CPPUNIT_TEST(failingStepStopsSetUp);
    CPPUNIT_TEST_SUITE_END();

public:
    void sipRolesOfListeners()
    {
        uint16_t p1 = free_port(), p2 = free_port();
        std::string a1 = "127.0.0.1:" + std::to_string(p1), a2 = "127.0.0.1:" + std::to_string(p2);
        Config c = config("children=2\ntcp_children=3\nlisten=udp:" + a1 + "\nlisten=udp:" + a2 +
                          "\nlisten=tcp:" + a1 + "\n");
        RoleTable roles = sip_roles();
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL(std::string(), set_up(rt, c, roles));
        CPPUNIT_ASSERT_EQUAL(size_t{3}, rt.listen_locks.size());   // every listener claimed
        const Role& udp = role(roles, "udp receiver");
        CPPUNIT_ASSERT_EQUAL(size_t{4}, udp.count(rt));
        const char* tags[] = {"udp#0.0", "udp#0.1", "udp#1.0", "udp#1.1"};
        std::string details[] = {a1 + " #0", a1 + " #1", a2 + " #0", a2 + " #1"};
        for (size_t i = 0; i < 4; i++) {
            ChildName n = udp.child_name(rt, i);
            CPPUNIT_ASSERT_EQUAL(std::string(tags[i]), n.tag);
            CPPUNIT_ASSERT_EQUAL(details[i], n.detail);
        }
        const Role& tcp = role(roles, "tcp worker");
        CPPUNIT_ASSERT_EQUAL(size_t{3}, tcp.count(rt));
        CPPUNIT_ASSERT_EQUAL("ser: udp receiver " + a2 + " #1", child_title(udp, udp.child_name(rt, 3)));
        CPPUNIT_ASSERT_EQUAL(std::string("ser: tcp worker 2"), child_title(tcp, tcp.child_name(rt, 2)));
        CPPUNIT_ASSERT_EQUAL(std::string("tcp#2"), tcp.child_name(rt, 2).tag);
        CPPUNIT_ASSERT_EQUAL(std::string("2"), tcp.child_name(rt, 2).detail);
        CPPUNIT_ASSERT(tcp.on_died && !udp.on_died);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, rt.streams.size());
        CPPUNIT_ASSERT_EQUAL(size_t{3}, rt.streams[0].fds.size());
        CPPUNIT_ASSERT_EQUAL(size_t{3}, rt.channels.size());
        test::close_runtime_fds(rt);
    }

    void udpOnlyHasNoWorkers()
    {
        Config c = config("children=1\nlisten=udp:127.0.0.1:" + std::to_string(free_port()) + "\n");
        RoleTable roles = sip_roles();
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL(std::string(), set_up(rt, c, roles));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, role(roles, "udp receiver").count(rt));
        CPPUNIT_ASSERT_EQUAL(size_t{0}, role(roles, "tcp worker").count(rt));
        test::close_runtime_fds(rt);
    }

    void disabledTcpIsNeitherClaimedNorBound()
    {
        std::string a = "127.0.0.1:" + std::to_string(free_port());
        Config c = config("disable_tcp=yes\ntcp_children=2\nlisten=udp:" + a + "\nlisten=tcp:" + a + "\n");
        RoleTable roles = sip_roles();
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL(std::string(), set_up(rt, c, roles));
        CPPUNIT_ASSERT(roles.server_of(rt, rt.listen_addrs[1]) == nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, rt.listen_locks.size());
        CPPUNIT_ASSERT(rt.streams.empty());
        // Outgoing stream connections still need their workers.
        CPPUNIT_ASSERT_EQUAL(size_t{2}, role(roles, "tcp worker").count(rt));
        test::close_runtime_fds(rt);
    }

    void heldAddressIsRefused()
    {
        uint16_t p = free_port();
        int holder = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(p);
        CPPUNIT_ASSERT_EQUAL(0, bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a));
        Config c = config("listen=udp:127.0.0.1:" + std::to_string(p) + "\n");
        RoleTable roles = sip_roles();
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL("udp:127.0.0.1:" + std::to_string(p) + ": address already in use by another process",
                             set_up(rt, c, roles));
        CPPUNIT_ASSERT(rt.udp.empty());
        test::close_runtime_fds(rt);
        close(holder);
    }

    void roleStepsInOrder()
    {
        uint16_t p1 = free_port(), p2 = free_port();
        Config c = config("listen=udp:127.0.0.1:" + std::to_string(p1) + "\nlisten=tcp:127.0.0.1:" +
                          std::to_string(p2) + "\nlisten=udp:127.0.0.1:" + std::to_string(p2) + "\n");
        std::vector<std::string> calls;
        RoleTable roles;
        Role r;
        r.name = "probe";
        r.serves = [](const Runtime&, const ListenAddr& la) { return la.proto == Proto::Udp; };
        r.bind_listener = [&](Runtime& rt, size_t i) {
            calls.push_back("bind " + std::to_string(i) + " locks=" + std::to_string(rt.listen_locks.size()));
            return std::string();
        };
        r.setup = [&](Runtime& rt) {
            calls.push_back("setup listeners=" + std::to_string(rt.listen_addrs.size()));
            return std::string();
        };
        roles.add(r);
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL(std::string(), set_up(rt, c, roles));
        // Each address claimed just before its role binds it; the tcp one nobody serves.
        std::vector<std::string> want{"bind 0 locks=1", "bind 2 locks=2", "setup listeners=3"};
        CPPUNIT_ASSERT(calls == want);
        test::close_runtime_fds(rt);
    }

    void failingStepStopsSetUp()
    {
        Config c = config("listen=udp:127.0.0.1:" + std::to_string(free_port()) + "\n");
        bool later_ran = false;
        RoleTable roles;
        Role bad;
        bad.name = "bad";
        bad.setup = [](Runtime&) { return std::string("no device"); };
        roles.add(bad);
        Role later;
        later.name = "later";
        later.setup = [&](Runtime&) { later_ran = true; return std::string(); };
        roles.add(later);
        Runtime rt;
        CPPUNIT_ASSERT_EQUAL(std::string("no device"), set_up(rt, c, roles));
        CPPUNIT_ASSERT(!later_ran);
        // No role serves the udp listener: not claimed.
        CPPUNIT_ASSERT(rt.listen_locks.empty());
        test::close_runtime_fds(rt);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RolesTest);

}  // namespace ser

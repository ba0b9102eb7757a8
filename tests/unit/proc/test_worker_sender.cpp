// WorkerSender (core/proc/worker_sender.cpp) over a real Runtime (shared
// memory, connection table, listening sockets on 127.0.0.1 and 127.0.0.2,
// worker channels): the listener a message leaves from is the one of the
// kernel's route; UDP leaves from that listener's socket; a stream message
// goes to the worker that owns its connection (itself, or over that worker's
// channel), or by destination hash to the worker that will open one; an i=
// alias naming another peer's connection is ignored; a full channel fails
// and is counted.
#include "cfg/cfg_check.h"
#include "io/channel.h"
#include "log.h"
#include "proc/runtime.h"
#include "runtime_fds.h"
#include "proc/children.h"
#include "proc/role.h"
#include "proc/worker_sender.h"

#include <cppunit/extensions/HelperMacros.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ser {
namespace {

SockAddr addr(const char* ip, uint16_t port)
{
    return *SockAddr::from_numeric(ip, port);
}

// A TCP and UDP port free on 127.0.0.1 and 127.0.0.2 just now. A fixed port
// would collide with another test run; port 0 would give every socket of a
// listener its own port.
uint16_t free_port()
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        SockAddr a = addr("127.0.0.1", 0);
        bind(fd, a.sa(), a.len);
        a.len = sizeof a.ss;
        getsockname(fd, a.sa(), &a.len);
        close(fd);
        uint16_t port = a.port();
        bool free = true;
        for (const char* ip : {"127.0.0.1", "127.0.0.2"})
            for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
                int p = socket(AF_INET, type | SOCK_CLOEXEC, 0);
                SockAddr b = addr(ip, port);
                free = free && bind(p, b.sa(), b.len) == 0;
                close(p);
            }
        if (free)
            return port;
    }
    CPPUNIT_FAIL("no free port");
    return 0;
}

// The source address the kernel picks to reach dst.
std::string kernel_source(const SockAddr& dst)
{
    int fd = socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    SockAddr probe = dst;
    CPPUNIT_ASSERT_EQUAL(0, connect(fd, probe.sa(), probe.len));
    SockAddr local;
    local.len = sizeof local.ss;
    getsockname(fd, local.sa(), &local.len);
    close(fd);
    return local.ip();
}

// A Runtime set up from config text (`%P` stands for a free port) with one
// UDP receiver and two TCP workers; its descriptors are closed with it.
struct TestRuntime {
    explicit TestRuntime(std::string listens)
    {
        port = free_port();
        for (size_t p; (p = listens.find("%P")) != std::string::npos;)
            listens.replace(p, 2, std::to_string(port));
        cfg::CheckOptions opt;
        opt.check_files = false;
        opt.resolve_hosts = false;
        auto res = cfg::load_config_text("children=1\ntcp_children=2\ntcp_max_connections=64\n" + listens +
                                             "route { drop; }\n",
                                         "test.cfg", opt);
        std::string diags;
        for (const auto& d : res.diags)
            diags += d.str() + "\n";
        CPPUNIT_ASSERT_MESSAGE(diags, res.ok());
        cfg = std::move(res.config);
        RoleTable roles;
        register_udp_receivers(roles);
        register_tcp_workers(roles);
        std::string err = rt.setup(cfg, 4, roles);
        CPPUNIT_ASSERT_MESSAGE(err, err.empty());
    }
    ~TestRuntime()
    {
        test::close_runtime_fds(rt);
    }
    const ListenAddr* listener(Proto p, const char* ip) const
    {
        for (const auto& l : rt.listen_addrs)
            if (l.proto == p && l.addr.ip() == ip)
                return &l;
        return nullptr;
    }
    // Adds an established connection of worker `owner` to `remote`; its id.
    uint32_t add_conn(const char* ip, uint16_t port_, int owner, Proto proto = Proto::Tcp)
    {
        TcpConnRecord r;
        r.proto = proto;
        r.state = ConnState::Established;
        r.owner = static_cast<int16_t>(owner);
        r.remote = addr(ip, port_);
        uint32_t id = rt.conns->add(r);
        CPPUNIT_ASSERT(id != 0);
        return id;
    }
    // The next message on worker w's channel (nullopt when none came).
    std::optional<ChanMsg> take(int w, std::string& buf) const
    {
        pollfd p{rt.channels[static_cast<size_t>(w)].fds[0], POLLIN, 0};
        if (poll(&p, 1, 200) != 1)
            return std::nullopt;
        buf.resize(chan_max_bytes(cfg));
        ssize_t n = recv(p.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0)
            return std::nullopt;
        buf.resize(static_cast<size_t>(n));
        return chan_decode(buf);
    }
    bool idle(int w) const
    {
        pollfd p{rt.channels[static_cast<size_t>(w)].fds[0], POLLIN, 0};
        return poll(&p, 1, 0) == 0;
    }

    uint16_t port = 0;
    Config cfg;
    Runtime rt;
};

const char* const kStreams = "listen=tcp:127.0.0.2:%P\nlisten=tcp:127.0.0.1:%P\n";

// The calling TCP worker, as far as WorkerSender sees it.
class FakeOwner final : public StreamOwner {
public:
    explicit FakeOwner(int idx) : idx_(idx) {}
    int worker_index() const override { return idx_; }
    bool send_local(const SendTarget& t, std::string_view data) override
    {
        sent.push_back({t, std::string(data)});
        return true;
    }
    struct Sent {
        SendTarget t;
        std::string data;
    };
    std::vector<Sent> sent;

private:
    int idx_;
};

// What the process writes to stderr (the log) while it lives.
class StderrCapture {
public:
    StderrCapture()
    {
        std::fflush(stderr);
        saved_ = dup(2);
        tmp_ = std::tmpfile();
        dup2(fileno(tmp_), 2);
    }
    ~StderrCapture() { stop(); }
    std::string stop()
    {
        if (saved_ >= 0) {
            dup2(saved_, 2);
            close(saved_);
            saved_ = -1;
            std::rewind(tmp_);
            char buf[4096];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, tmp_)) > 0)
                text_.append(buf, n);
            std::fclose(tmp_);
        }
        return text_;
    }

private:
    int saved_ = -1;
    std::FILE* tmp_ = nullptr;
    std::string text_;
};

SendTarget stream_to(const SockAddr& dst, uint32_t conn_id = 0, const ListenAddr* from = nullptr)
{
    SendTarget t;
    t.proto = Proto::Tcp;
    t.dst = dst;
    t.conn_id = conn_id;
    t.from = from;
    return t;
}

}  // namespace

class WorkerSenderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WorkerSenderTest);
    CPPUNIT_TEST(pickListenerFollowsKernelRoute);
    CPPUNIT_TEST(pickListenerSingleOrNone);
    CPPUNIT_TEST(udpLeavesFromListenerSocket);
    CPPUNIT_TEST(streamToOtherWorkersConnection);
    CPPUNIT_TEST(streamToOwnConnection);
    CPPUNIT_TEST(streamWithoutConnectionGoesByHash);
    CPPUNIT_TEST(aliasOfAnotherPeerIgnored);
    CPPUNIT_TEST(goneConnectionWithoutAddressFails);
    CPPUNIT_TEST(fullChannelFails);
    CPPUNIT_TEST(noWorkersFails);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { log::init(-3, true, "LOG_DAEMON"); }
    void tearDown() override { log::init(2, true, "LOG_DAEMON"); }

    void pickListenerFollowsKernelRoute()
    {
        TestRuntime t(std::string(kStreams) + "listen=udp:127.0.0.2:%P\nlisten=udp:127.0.0.1:%P\n");
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        CPPUNIT_ASSERT_EQUAL(size_t{4}, t.rt.listen_addrs.size());
        SockAddr dst = addr("127.0.0.9", 5060);
        std::string src = kernel_source(dst);
        // The first listener of the family is 127.0.0.2: only the route lookup picks another.
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2"), t.rt.listen_addrs[0].addr.ip());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), src);
        const ListenAddr* l = ws.pick_listener(Proto::Tcp, dst);
        CPPUNIT_ASSERT(l);
        CPPUNIT_ASSERT(l == t.listener(Proto::Tcp, "127.0.0.1"));
        // Same for UDP, among the UDP listeners only.
        l = ws.pick_listener(Proto::Udp, dst);
        CPPUNIT_ASSERT(l == t.listener(Proto::Udp, "127.0.0.1"));
        // Asked again (from the cache): the same answer.
        CPPUNIT_ASSERT(ws.pick_listener(Proto::Tcp, dst) == t.listener(Proto::Tcp, "127.0.0.1"));
        // A destination that is one of our own addresses: the route's source for it.
        SockAddr own = addr("127.0.0.2", 5060);
        CPPUNIT_ASSERT(ws.pick_listener(Proto::Tcp, own) == t.listener(Proto::Tcp, kernel_source(own).c_str()));
        // No listener of the family: none.
        CPPUNIT_ASSERT(!ws.pick_listener(Proto::Tcp, addr("::1", 5060)));
        CPPUNIT_ASSERT(!ws.pick_listener(Proto::Tls, dst));
    }

    void pickListenerSingleOrNone()
    {
        TestRuntime t("listen=tcp:127.0.0.2:%P\nlisten=udp:127.0.0.1:%P\n");
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        // One candidate: that one, whatever the route says.
        CPPUNIT_ASSERT(ws.pick_listener(Proto::Tcp, addr("127.0.0.9", 5060)) == t.listener(Proto::Tcp, "127.0.0.2"));
        CPPUNIT_ASSERT(ws.pick_listener(Proto::Udp, addr("127.0.0.9", 5060)) == t.listener(Proto::Udp, "127.0.0.1"));
        // None of the proto, or none of the family: none, never another proto's.
        CPPUNIT_ASSERT(!ws.pick_listener(Proto::Tls, addr("127.0.0.9", 5060)));
        CPPUNIT_ASSERT(!ws.pick_listener(Proto::Tcp, addr("::1", 5060)));
        CPPUNIT_ASSERT(&ws.listeners() == &t.rt.listen_addrs);
    }

    void udpLeavesFromListenerSocket()
    {
        TestRuntime t("listen=udp:127.0.0.2:%P\nlisten=udp:127.0.0.1:%P\n");
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        int peer = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        SockAddr pa = addr("127.0.0.1", 0);
        CPPUNIT_ASSERT_EQUAL(0, bind(peer, pa.sa(), pa.len));
        pa.len = sizeof pa.ss;
        getsockname(peer, pa.sa(), &pa.len);
        auto recv_from = [&](std::string& data) {
            pollfd p{peer, POLLIN, 0};
            CPPUNIT_ASSERT_EQUAL(1, poll(&p, 1, 1000));
            char buf[256];
            SockAddr src;
            src.len = sizeof src.ss;
            ssize_t n = recvfrom(peer, buf, sizeof buf, 0, src.sa(), &src.len);
            CPPUNIT_ASSERT(n > 0);
            data.assign(buf, static_cast<size_t>(n));
            return src;
        };
        SendTarget to;
        to.proto = Proto::Udp;
        to.dst = pa;
        CPPUNIT_ASSERT(ws.send(to, "by route"));
        std::string got;
        // From our listening socket (its port), of the listener the route picks.
        SockAddr src = recv_from(got);
        CPPUNIT_ASSERT_EQUAL(std::string("by route"), got);
        CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(t.port), src.str());
        // The listener the proxy chose (and wrote in Via) wins over the route.
        to.from = t.listener(Proto::Udp, "127.0.0.2");
        CPPUNIT_ASSERT(ws.send(to, "chosen"));
        src = recv_from(got);
        CPPUNIT_ASSERT_EQUAL(std::string("chosen"), got);
        CPPUNIT_ASSERT_EQUAL("127.0.0.2:" + std::to_string(t.port), src.str());
        close(peer);
    }

    void streamToOtherWorkersConnection()
    {
        TestRuntime t(kStreams);
        FakeOwner self(0);
        WorkerSender ws(t.rt, &self, *t.rt.stats->slot(0));
        uint32_t id = t.add_conn("10.0.0.7", 5070, 1);
        const ListenAddr* from = t.listener(Proto::Tcp, "127.0.0.1");
        SockAddr dst = addr("10.0.0.7", 5070);
        CPPUNIT_ASSERT(ws.send(stream_to(dst, id, from), "by id"));
        std::string buf;
        auto m = t.take(1, buf);
        CPPUNIT_ASSERT(m);
        CPPUNIT_ASSERT(m->kind == ChanKind::SendConn);
        CPPUNIT_ASSERT(m->proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL(id, m->conn_id);
        CPPUNIT_ASSERT_EQUAL(static_cast<int16_t>(from - t.rt.listen_addrs.data()), m->from);
        CPPUNIT_ASSERT_EQUAL(int16_t{1}, m->from);
        CPPUNIT_ASSERT(m->dst == dst);
        CPPUNIT_ASSERT_EQUAL(std::string("by id"), std::string(m->data));
        CPPUNIT_ASSERT(self.sent.empty());
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
        // Without the id, the connection table finds it by address.
        CPPUNIT_ASSERT(ws.send(stream_to(dst), "by address"));
        m = t.take(1, buf);
        CPPUNIT_ASSERT(m && m->kind == ChanKind::SendConn);
        CPPUNIT_ASSERT_EQUAL(id, m->conn_id);
        CPPUNIT_ASSERT_EQUAL(int16_t{-1}, m->from);   // no listener asked for
        CPPUNIT_ASSERT_EQUAL(std::string("by address"), std::string(m->data));
        CPPUNIT_ASSERT(t.idle(0));
        // A process that is no TCP worker hands it over the same way.
        WorkerSender other(t.rt, nullptr, *t.rt.stats->slot(0));
        CPPUNIT_ASSERT(other.send(stream_to(dst, id), "from udp"));
        m = t.take(1, buf);
        CPPUNIT_ASSERT(m && m->kind == ChanKind::SendConn && m->conn_id == id);
    }

    void streamToOwnConnection()
    {
        TestRuntime t(kStreams);
        FakeOwner self(1);
        WorkerSender ws(t.rt, &self, *t.rt.stats->slot(0));
        uint32_t id = t.add_conn("10.0.0.7", 5070, 1);
        CPPUNIT_ASSERT(ws.send(stream_to(addr("10.0.0.7", 5070)), "mine"));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, self.sent.size());
        CPPUNIT_ASSERT_EQUAL(id, self.sent[0].t.conn_id);   // the connection the table found
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), self.sent[0].data);
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
    }

    void streamWithoutConnectionGoesByHash()
    {
        TestRuntime t(kStreams);
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        const ListenAddr* from = t.listener(Proto::Tcp, "127.0.0.2");
        int seen[2] = {0, 0};
        std::string buf;
        for (uint16_t port = 5060; port < 5076; port++) {
            SockAddr dst = addr("10.1.2.3", port);
            int w = static_cast<int>(dst.hash() % t.rt.channels.size());
            for (int again = 0; again < 2; again++) {   // the same worker every time
                SendTarget st = stream_to(dst, 0, from);
                st.host = "gw.example";
                CPPUNIT_ASSERT(ws.send(st, "new " + std::to_string(port)));
                auto m = t.take(w, buf);
                CPPUNIT_ASSERT(m);
                CPPUNIT_ASSERT(m->kind == ChanKind::SendAddr);
                CPPUNIT_ASSERT_EQUAL(0u, m->conn_id);
                CPPUNIT_ASSERT(m->dst == dst);
                CPPUNIT_ASSERT_EQUAL(int16_t{0}, m->from);
                CPPUNIT_ASSERT_EQUAL(std::string("gw.example"), std::string(m->host));
                CPPUNIT_ASSERT_EQUAL("new " + std::to_string(port), std::string(m->data));
                CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
            }
            seen[w]++;
        }
        CPPUNIT_ASSERT(seen[0] > 0 && seen[1] > 0);   // the hash spreads them
        // A TCP worker opens it itself.
        FakeOwner self(0);
        WorkerSender own(t.rt, &self, *t.rt.stats->slot(0));
        CPPUNIT_ASSERT(own.send(stream_to(addr("10.1.2.3", 5099), 0, from), "mine"));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, self.sent.size());
        CPPUNIT_ASSERT_EQUAL(0u, self.sent[0].t.conn_id);
        CPPUNIT_ASSERT(self.sent[0].t.from == from);
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
    }

    void aliasOfAnotherPeerIgnored()
    {
        TestRuntime t(kStreams);
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        uint32_t other = t.add_conn("10.0.0.9", 5060, 1);
        SockAddr dst = addr("10.0.0.1", 5070);
        int w = static_cast<int>(dst.hash() % t.rt.channels.size());
        std::string log;
        {
            log::init(2, true, "LOG_DAEMON");
            StderrCapture cap;
            CPPUNIT_ASSERT(ws.send(stream_to(dst, other), "forged alias"));
            log = cap.stop();
            log::init(-3, true, "LOG_DAEMON");
        }
        CPPUNIT_ASSERT_MESSAGE(log, log.find("NOTICE") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(log, log.find("connection " + std::to_string(other) + " belongs to 10.0.0.9:5060, not "
                                             "10.0.0.1:5070: alias ignored") != std::string::npos);
        // By address: a new connection from the hashed worker, not the other peer's.
        std::string buf;
        auto m = t.take(w, buf);
        CPPUNIT_ASSERT(m);
        CPPUNIT_ASSERT(m->kind == ChanKind::SendAddr);
        CPPUNIT_ASSERT_EQUAL(0u, m->conn_id);
        CPPUNIT_ASSERT(m->dst == dst);
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
        // With a connection to the right peer, that one is used.
        uint32_t right = t.add_conn("10.0.0.1", 5070, 0);
        CPPUNIT_ASSERT(ws.send(stream_to(dst, other), "forged alias"));
        m = t.take(0, buf);
        CPPUNIT_ASSERT(m && m->kind == ChanKind::SendConn);
        CPPUNIT_ASSERT_EQUAL(right, m->conn_id);
        // An alias naming the peer's own connection (same address, any port) is honoured.
        uint32_t mine = t.add_conn("10.0.0.9", 40000, 1);
        CPPUNIT_ASSERT(ws.send(stream_to(addr("10.0.0.9", 5060), mine), "alias"));
        m = t.take(1, buf);
        CPPUNIT_ASSERT(m && m->kind == ChanKind::SendConn);
        CPPUNIT_ASSERT_EQUAL(mine, m->conn_id);
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
    }

    void goneConnectionWithoutAddressFails()
    {
        TestRuntime t(kStreams);
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        uint32_t id = t.add_conn("10.0.0.9", 5060, 1);
        // By id alone (no address known): the connection, wherever it lives.
        CPPUNIT_ASSERT(ws.send(stream_to(SockAddr{}, id), "reply"));
        std::string buf;
        auto m = t.take(1, buf);
        CPPUNIT_ASSERT(m && m->kind == ChanKind::SendConn && m->conn_id == id);
        t.rt.conns->remove(id);
        CPPUNIT_ASSERT(!ws.send(stream_to(SockAddr{}, id), "reply"));
        CPPUNIT_ASSERT(t.idle(0) && t.idle(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, t.rt.stats->sum()[SendError::ConnGone]);
    }

    void fullChannelFails()
    {
        TestRuntime t(kStreams);
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        uint32_t id = t.add_conn("10.0.0.7", 5070, 1);
        std::string big(60000, 'b');
        int ok = 0;
        while (ok < 10000 && ws.send(stream_to(addr("10.0.0.7", 5070), id), big))
            ok++;
        CPPUNIT_ASSERT(ok > 0 && ok < 10000);
        StatsSnapshot st = t.rt.stats->sum();
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[SendError::ChannelFull]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, st[SendError::ConnGone] + st[SendError::NoListener] + st[SendError::Stream]);
        CPPUNIT_ASSERT(t.idle(0));   // nothing spilled to the other worker
        // The worker reads one: there is room for one more.
        std::string buf;
        auto m = t.take(1, buf);
        CPPUNIT_ASSERT(m && m->data.size() == big.size());
        CPPUNIT_ASSERT(ws.send(stream_to(addr("10.0.0.7", 5070), id), big));
    }

    void noWorkersFails()
    {
        TestRuntime t("listen=udp:127.0.0.1:%P\n");
        CPPUNIT_ASSERT(t.rt.channels.empty());
        WorkerSender ws(t.rt, nullptr, *t.rt.stats->slot(0));
        CPPUNIT_ASSERT(!ws.send(stream_to(addr("10.0.0.7", 5070)), "x"));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, t.rt.stats->sum()[SendError::NoListener]);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WorkerSenderTest);

}  // namespace ser

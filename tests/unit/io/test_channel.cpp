// The worker channel (core/io/channel.cpp): what chan_send puts on a unix
// datagram socketpair comes out of chan_decode field for field (IPv4 and
// IPv6 destinations, host names, messages up to the largest a config
// allows); datagrams that are cut short or carry a bad kind are refused;
// a full or too small channel makes chan_send fail at once, never block.
#include "cfg/config.h"
#include "io/channel.h"

#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace ser {
namespace {

// A unix datagram socketpair: chan_send on w, recv on r.
struct Pair {
    int w = -1, r = -1;
    explicit Pair(int sndbuf = 0)
    {
        int fds[2];
        CPPUNIT_ASSERT_EQUAL(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds));
        r = fds[0];
        w = fds[1];
        if (sndbuf > 0)
            CPPUNIT_ASSERT_EQUAL(0, setsockopt(w, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf));
    }
    ~Pair()
    {
        ::close(w);
        ::close(r);
    }
    // The next datagram, whole (empty with `false` when none is waiting).
    bool take(std::string& out) const
    {
        pollfd p{r, POLLIN, 0};
        if (poll(&p, 1, 1000) != 1)
            return false;
        out.resize(1 << 20);
        ssize_t n = recv(r, out.data(), out.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 || static_cast<size_t>(n) > out.size())
            return false;
        out.resize(static_cast<size_t>(n));
        return true;
    }
    bool idle() const
    {
        pollfd p{r, POLLIN, 0};
        return poll(&p, 1, 0) == 0;
    }
};

SockAddr addr(const char* ip, uint16_t port)
{
    return *SockAddr::from_numeric(ip, port);
}

// The datagram chan_send makes of m (through a real socketpair).
std::string encode(const ChanMsg& m)
{
    Pair p;
    CPPUNIT_ASSERT(chan_send(p.w, m));
    std::string d;
    CPPUNIT_ASSERT(p.take(d));
    return d;
}

}  // namespace

class ChannelTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChannelTest);
    CPPUNIT_TEST(roundTripIpv4);
    CPPUNIT_TEST(roundTripIpv6);
    CPPUNIT_TEST(roundTripEmpty);
    CPPUNIT_TEST(largestMessageFits);
    CPPUNIT_TEST(shortDatagramRefused);
    CPPUNIT_TEST(badKindRefused);
    CPPUNIT_TEST(badProtoRefused);
    CPPUNIT_TEST(hostPastTheEndRefused);
    CPPUNIT_TEST(longHostRefused);
    CPPUNIT_TEST(fullChannelFailsAtOnce);
    CPPUNIT_TEST(tooLargeForChannelFails);
    CPPUNIT_TEST_SUITE_END();

public:
    void roundTripIpv4()
    {
        Pair p;
        ChanMsg m;
        m.kind = ChanKind::SendConn;
        m.proto = Proto::Tls;
        m.conn_id = 0xdeadbeef;
        m.from = 3;
        m.dst = addr("192.0.2.7", 5061);
        m.host = "sip.example.org";
        m.data = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
        CPPUNIT_ASSERT(chan_send(p.w, m));
        std::string d;
        CPPUNIT_ASSERT(p.take(d));
        auto got = chan_decode(d);
        CPPUNIT_ASSERT(got);
        CPPUNIT_ASSERT(got->kind == ChanKind::SendConn);
        CPPUNIT_ASSERT(got->proto == Proto::Tls);
        CPPUNIT_ASSERT_EQUAL(0xdeadbeefu, got->conn_id);
        CPPUNIT_ASSERT_EQUAL(int16_t{3}, got->from);
        CPPUNIT_ASSERT(got->dst == m.dst);
        CPPUNIT_ASSERT_EQUAL(AF_INET, got->dst.family());
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5061"), got->dst.str());
        CPPUNIT_ASSERT_EQUAL(std::string(m.host), std::string(got->host));
        CPPUNIT_ASSERT_EQUAL(std::string(m.data), std::string(got->data));
        // The views point into the datagram, not at the sender's strings.
        CPPUNIT_ASSERT(got->data.data() >= d.data() && got->data.data() < d.data() + d.size());
        CPPUNIT_ASSERT(p.idle());   // one message, one datagram
    }

    void roundTripIpv6()
    {
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.proto = Proto::Tcp;
        m.conn_id = 0;
        m.from = -1;
        m.dst = addr("2001:db8::1:2", 5070);
        m.host = "[2001:db8::1:2]";
        m.data = std::string_view("bin\0ary\xff", 8);
        std::string d = encode(m);
        auto got = chan_decode(d);
        CPPUNIT_ASSERT(got);
        CPPUNIT_ASSERT(got->kind == ChanKind::SendAddr);
        CPPUNIT_ASSERT(got->proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL(0u, got->conn_id);
        CPPUNIT_ASSERT_EQUAL(int16_t{-1}, got->from);
        CPPUNIT_ASSERT_EQUAL(AF_INET6, got->dst.family());
        CPPUNIT_ASSERT(got->dst == m.dst);
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1:2]:5070"), got->dst.str());
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1:2]"), std::string(got->host));
        CPPUNIT_ASSERT_EQUAL(std::string("bin\0ary\xff", 8), std::string(got->data));
    }

    void roundTripEmpty()
    {
        // No host, no data, no address: still one well-formed datagram.
        ChanMsg m;
        m.kind = ChanKind::SendConn;
        m.conn_id = 42;
        std::string d = encode(m);
        auto got = chan_decode(d);
        CPPUNIT_ASSERT(got);
        CPPUNIT_ASSERT_EQUAL(42u, got->conn_id);
        CPPUNIT_ASSERT_EQUAL(0, got->dst.family());
        CPPUNIT_ASSERT(got->host.empty());
        CPPUNIT_ASSERT(got->data.empty());
    }

    void largestMessageFits()
    {
        // The largest message of a config with the longest host name and the
        // most alternates is one byte under chan_max_bytes(); it travels whole.
        Config cfg;
        cfg.tcp_max_msg_size = 65535;
        cfg.udp_max_msg_size = 4096;
        size_t limit = chan_max_bytes(cfg);
        Pair p(static_cast<int>(2 * limit));
        std::string host(255, 'h');
        std::string data(static_cast<size_t>(cfg.tcp_max_msg_size), '\0');
        for (size_t i = 0; i < data.size(); i++)
            data[i] = static_cast<char>('a' + i % 26);
        data.back() = '$';
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.proto = Proto::Tcp;
        m.dst = addr("::1", 5060);
        m.host = host;
        m.data = data;
        for (size_t i = 0; i < kMaxAlternates; i++)
            m.alternates.push_back(addr("::1", static_cast<uint16_t>(5070 + i)));
        CPPUNIT_ASSERT(chan_send(p.w, m));
        std::string d;
        CPPUNIT_ASSERT(p.take(d));
        CPPUNIT_ASSERT(d.size() <= limit);
        CPPUNIT_ASSERT(d.size() >= limit - 1);
        auto back = chan_decode(d);
        CPPUNIT_ASSERT(back);
        CPPUNIT_ASSERT_EQUAL(kMaxAlternates, back->alternates.size());
        CPPUNIT_ASSERT_EQUAL(uint16_t{5073}, back->alternates.back().port());
        CPPUNIT_ASSERT(back->data == data);
        auto got = chan_decode(d);
        CPPUNIT_ASSERT(got);
        CPPUNIT_ASSERT_EQUAL(host, std::string(got->host));
        CPPUNIT_ASSERT_EQUAL(data.size(), got->data.size());
        CPPUNIT_ASSERT(got->data == data);
        // udp_max_msg_size counts when it is the larger one.
        cfg.udp_max_msg_size = 100000;
        CPPUNIT_ASSERT_EQUAL(limit + (100000 - 65535), chan_max_bytes(cfg));
    }

    void shortDatagramRefused()
    {
        ChanMsg m;
        m.kind = ChanKind::SendConn;
        m.conn_id = 7;
        std::string d = encode(m);   // header only
        CPPUNIT_ASSERT(chan_decode(d));
        // Copies, so that a decoder reading past the end reads past a buffer.
        for (size_t n : {d.size() - 1, size_t{8}, size_t{1}, size_t{0}}) {
            std::string cut(d, 0, n);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(n), !chan_decode(cut));
        }
        CPPUNIT_ASSERT(!chan_decode(std::string_view()));
    }

    void badKindRefused()
    {
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.dst = addr("10.0.0.1", 5060);
        m.data = "x";
        std::string d = encode(m);
        // The kind is the first byte on the wire.
        CPPUNIT_ASSERT_EQUAL(static_cast<char>(ChanKind::SendAddr), d[0]);
        for (int k : {0, 4, 0x7f, 0xff}) {
            std::string bad = d;
            bad[0] = static_cast<char>(k);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(k), !chan_decode(bad));
        }
        d[0] = static_cast<char>(ChanKind::SendConn);
        CPPUNIT_ASSERT(chan_decode(d) && chan_decode(d)->kind == ChanKind::SendConn);
    }

    void badProtoRefused()
    {
        // The proto byte indexes the transport table on the other side: one
        // out of range is a malformed datagram, not a transport.
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.proto = Proto::Tls;
        std::string d = encode(m);
        CPPUNIT_ASSERT_EQUAL(static_cast<char>(Proto::Tls), d[1]);
        for (int p : {kProtoCount, 0x80, 0xff}) {
            std::string bad = d;
            bad[1] = static_cast<char>(p);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(p), !chan_decode(bad));
        }
    }

    void hostPastTheEndRefused()
    {
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.host = "abcde";
        std::string d = encode(m);   // header + 5 bytes of host, no data
        CPPUNIT_ASSERT(chan_decode(d));
        CPPUNIT_ASSERT_EQUAL(std::string("abcde"), std::string(chan_decode(d)->host));
        // The header still says 5 bytes of host; fewer follow.
        for (size_t cut = 1; cut <= 5; cut++)
            CPPUNIT_ASSERT_MESSAGE(std::to_string(cut), !chan_decode(std::string_view(d).substr(0, d.size() - cut)));
    }

    void longHostRefused()
    {
        Pair p;
        std::string host(256, 'x');
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.host = host;
        m.data = "data";
        CPPUNIT_ASSERT(!chan_send(p.w, m));
        CPPUNIT_ASSERT(p.idle());   // nothing half-sent
        host.pop_back();            // 255 is the limit
        m.host = host;
        CPPUNIT_ASSERT(chan_send(p.w, m));
        std::string d;
        CPPUNIT_ASSERT(p.take(d));
        CPPUNIT_ASSERT_EQUAL(size_t{255}, chan_decode(d)->host.size());
    }

    void fullChannelFailsAtOnce()
    {
        // Nobody reads: sends fail once the buffer is full, without waiting.
        // The socket itself is blocking (MSG_DONTWAIT must do it), with a
        // send timeout so that a blocking chan_send shows as slow, not as a hang.
        Pair p(65536);
        timeval tv{1, 0};
        setsockopt(p.w, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::string data(8000, 'm');
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.data = data;
        int sent = 0;
        while (sent < 100000 && chan_send(p.w, m))
            sent++;
        CPPUNIT_ASSERT(sent > 0);
        CPPUNIT_ASSERT(sent < 100000);
        auto t0 = std::chrono::steady_clock::now();
        CPPUNIT_ASSERT(!chan_send(p.w, m));
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200));
        // Draining one makes room again; what was queued arrives intact.
        std::string d;
        CPPUNIT_ASSERT(p.take(d));
        CPPUNIT_ASSERT(chan_decode(d) && chan_decode(d)->data == data);
        for (int i = 0; i < 50 && !chan_send(p.w, m); i++)
            CPPUNIT_ASSERT(p.take(d));
        CPPUNIT_ASSERT(chan_decode(d) && chan_decode(d)->data == data);
    }

    void tooLargeForChannelFails()
    {
        // A datagram over the send buffer cannot leave at all.
        Pair p(4096);
        std::string data(200000, 'm');
        ChanMsg m;
        m.kind = ChanKind::SendAddr;
        m.data = data;
        CPPUNIT_ASSERT(!chan_send(p.w, m));
        CPPUNIT_ASSERT(p.idle());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChannelTest);

}  // namespace ser

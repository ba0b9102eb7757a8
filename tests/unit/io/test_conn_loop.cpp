// The connection loop (core/io/conn_loop.cpp) in process, over real TCP
// sockets on 127.0.0.1 and the plain transport, with a line framer and a host
// that records what the loop tells it. Frames arrive whole however the bytes
// are cut; a Skip's reply goes back; every way a connection ends carries its
// reason (peer, framing, too large, write queue full, send timeout, the
// message and first-message timeouts, idle, connect failed or timed out,
// shutdown), and timeouts fire neither early nor much late; a refused
// connection is closed; outgoing connections leave from the address asked
// for; counters reach publish(). Every run is bounded: the host stops the
// loop when what the test waits for happened, and a watchdog stops it after
// kWatchdogMs and fails the test.
#include "clock.h"
#include "io/conn_loop.h"
#include "log.h"

#include <cppunit/extensions/HelperMacros.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ser {
namespace {

constexpr int kWatchdogMs = 3000;
constexpr int kTickMs = 10;

// Newline-terminated lines; "PING" is answered with "PONG" and dropped,
// "BAD" is a framing error.
class LineFramer final : public Framer {
public:
    FrameCut next(std::string_view buf) override
    {
        calls++;
        size_t nl = buf.find('\n');
        if (nl == std::string_view::npos) {
            need_more++;
            return {};
        }
        std::string_view line = buf.substr(0, nl);
        if (line == "PING")
            return {FrameCut::Kind::Skip, nl + 1, "PONG\n", nullptr};
        if (line == "BAD")
            return {FrameCut::Kind::Error, 0, {}, "a BAD line"};
        return {FrameCut::Kind::Frame, nl + 1, {}, nullptr};
    }
    int calls = 0;
    int need_more = 0;
};

// A descriptor closed with its owner.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept
    {
        reset(std::exchange(o.fd, -1));
        return *this;
    }
    ~Fd() { reset(); }
    void reset(int f = -1)
    {
        if (fd >= 0)
            ::close(fd);
        fd = f;
    }
    operator int() const { return fd; }
};

SockAddr local_of(int fd)
{
    SockAddr a;
    a.len = sizeof a.ss;
    getsockname(fd, a.sa(), &a.len);
    return a;
}

SockAddr peer_of(int fd)
{
    SockAddr a;
    a.len = sizeof a.ss;
    getpeername(fd, a.sa(), &a.len);
    return a;
}

void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A listening socket on 127.0.0.1 with a port of the kernel's choice;
// `sndbuf` (when set) is inherited by the connections it accepts.
Fd listen_local(int sndbuf = 0, int backlog = 16)
{
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    CPPUNIT_ASSERT(fd >= 0);
    if (sndbuf)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    SockAddr a = *SockAddr::from_numeric("127.0.0.1", 0);
    CPPUNIT_ASSERT_EQUAL(0, bind(fd, a.sa(), a.len));
    CPPUNIT_ASSERT_EQUAL(0, listen(fd, backlog));
    return fd;
}

// A client connected to `to` (the kernel completes the handshake before
// anyone accepts), non-blocking afterwards.
Fd connect_client(const SockAddr& to, int rcvbuf = 0)
{
    Fd fd(socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    CPPUNIT_ASSERT(fd >= 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::strerror(errno), 0, ::connect(fd, to.sa(), to.len));
    set_nonblock(fd);
    return fd;
}

// Writes all of `s` (small writes: the socket buffer takes them whole).
void put(int fd, std::string_view s)
{
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    CPPUNIT_ASSERT_EQUAL(static_cast<ssize_t>(s.size()), n);
}

// Everything readable now, appended to `out`; true when the peer closed.
bool drain(int fd, std::string& out)
{
    char buf[65536];
    while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            continue;
        }
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

// Reads until `want` bytes arrived, the peer closed or `ms` passed.
std::string read_for(int fd, size_t want, int ms, bool* eof = nullptr)
{
    std::string out;
    int64_t end = now_ms() + ms;
    bool closed = false;
    while (out.size() < want && !closed && now_ms() < end) {
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::max<int64_t>(1, end - now_ms())));
        closed = drain(fd, out);
    }
    if (eof)
        *eof = closed;
    return out;
}

// True when the peer closed `fd` within `ms` (data before the end is read and dropped).
bool sees_eof(int fd, int ms)
{
    bool eof = false;
    read_for(fd, SIZE_MAX, ms, &eof);
    return eof;
}

LoopLimits fast_limits()
{
    LoopLimits l;
    l.read_buffer = 4096;
    l.max_write_queue = 1 << 20;
    l.send_timeout_s = 10;
    l.connect_timeout_s = 10;
    l.idle_timeout_s = 10;
    l.msg_read_timeout_s = 10;
    l.first_msg_timeout_s = 10;
    return l;
}

// The plain transport, counting its reads and writes (each is a system call).
class CountingTcp final : public Transport {
public:
    Proto proto() const override { return Proto::Tcp; }
    IoStatus on_open(StreamConn& c) override { return tcp_transport().on_open(c); }
    IoResult read(StreamConn& c, std::span<char> buf) override
    {
        IoResult r = tcp_transport().read(c, buf);
        reads += c.rx_drained && r.status == IoStatus::Again ? 0 : 1;   // a skipped read is no system call
        return r;
    }
    IoResult write(StreamConn& c, std::span<const char> data) override
    {
        writes++;
        return tcp_transport().write(c, data);
    }
    void close(StreamConn& c) override { tcp_transport().close(c); }
    int reads = 0, writes = 0;
};

struct Admitted {
    bool outgoing;
    std::string host;
    SockAddr local, remote;
    const ListenAddr* listener;
};

struct Closed {
    uint32_t id;
    CloseReason why;
    int64_t at_ms;
};

struct Published {
    uint32_t id;
    uint64_t bytes_in, frames_in, bytes_out, frames_out;
};

// A LoopHost that records every call, plus the loop it hosts, a tick that
// runs scheduled steps and a watchdog.
class Harness final : public LoopHost {
public:
    explicit Harness(const LoopLimits& lim = fast_limits()) : loop(std::make_unique<ConnLoop>(lim, *this))
    {
        tick_ = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        watchdog_ = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        CPPUNIT_ASSERT(tick_ >= 0 && watchdog_ >= 0);
        itimerspec its{{0, kTickMs * 1000000L}, {0, kTickMs * 1000000L}};
        timerfd_settime(tick_, 0, &its, nullptr);
        loop->watch(tick_, [this] { on_tick(); });
        loop->watch(watchdog_, [this] {
            uint64_t n;
            (void)!::read(watchdog_, &n, sizeof n);
            watchdog_fired = true;
            stop = 1;
        });
    }
    ~Harness() override
    {
        // The loop tells closed() about what is still open; the test's
        // locals the predicate looks at are gone by now.
        done_ = nullptr;
        loop.reset();   // before the fds it watches
    }

    // A listener on 127.0.0.1 that the loop accepts on; returns its address.
    SockAddr listen(int sndbuf = 0, Transport* xprt = nullptr)
    {
        listeners_.push_back(listen_local(sndbuf));
        tag.proto = Proto::Tcp;
        tag.addr = local_of(listeners_.back());
        tag.advertise = tag.addr.str();
        loop->add_listener(listeners_.back(), xprt ? *xprt : tcp_transport(), framer, &tag);
        return tag.addr;
    }

    // Runs fn on the first tick at least `ms` after the start of the next run().
    void at(int ms, std::function<void()> fn) { steps_.emplace_back(ms, std::move(fn)); }

    // Runs the loop until done() holds (checked after every host call and
    // tick) or the watchdog fires; fails the test in the second case.
    void run(std::function<bool()> until)
    {
        done_ = std::move(until);
        stop = 0;
        watchdog_fired = false;
        run_start_ms = now_ms();
        itimerspec wd{{0, 0}, {kWatchdogMs / 1000, (kWatchdogMs % 1000) * 1000000L}};
        timerfd_settime(watchdog_, 0, &wd, nullptr);
        CPPUNIT_ASSERT_EQUAL(0, loop->run(stop, hup, [this] { hups++; if (on_hup) on_hup(); check(); }));
        itimerspec off{};
        timerfd_settime(watchdog_, 0, &off, nullptr);
        CPPUNIT_ASSERT_MESSAGE("watchdog fired: the expected event did not happen", !watchdog_fired);
    }
    int64_t elapsed_ms() const { return now_ms() - run_start_ms; }

    // LoopHost
    uint32_t admit(const StreamConn& c) override
    {
        admitted.push_back(Admitted{c.outgoing, c.host, c.local, c.remote, c.listener});
        uint32_t id = refuse ? 0 : next_id_++;
        check();
        return id;
    }
    void established(StreamConn& c) override
    {
        established_ids.push_back(c.id);
        established_local.push_back(c.local);
        if (on_established)
            on_established(c);
        check();
    }
    void frame(StreamConn& c, std::string_view f) override
    {
        frames.emplace_back(f);
        frame_ids.push_back(c.id);
        if (on_frame)
            on_frame(c, f);
        check();
    }
    void publish(StreamConn& c) override
    {
        published.push_back(Published{c.id, c.bytes_in, c.frames_in, c.bytes_out, c.frames_out});
        check();
    }
    void closed(StreamConn& c, CloseReason why) override
    {
        closes.push_back(Closed{c.id, why, now_ms()});
        check();
    }

    volatile sig_atomic_t stop = 0, hup = 0;
    bool watchdog_fired = false;
    int64_t run_start_ms = 0;
    ListenAddr tag;
    LineFramer framer;
    std::unique_ptr<ConnLoop> loop;

    bool refuse = false;
    std::function<void(StreamConn&)> on_established;
    std::function<void(StreamConn&, std::string_view)> on_frame;
    std::function<void()> on_hup;
    int hups = 0;

    std::vector<Admitted> admitted;
    std::vector<uint32_t> established_ids;
    std::vector<SockAddr> established_local;
    std::vector<std::string> frames;
    std::vector<uint32_t> frame_ids;
    std::vector<Published> published;
    std::vector<Closed> closes;

private:
    void on_tick()
    {
        uint64_t n;
        (void)!::read(tick_, &n, sizeof n);
        int64_t t = elapsed_ms();
        // Steps run in the order given; one may schedule others.
        for (size_t i = 0; i < steps_.size();) {
            if (steps_[i].first <= t) {
                auto fn = std::move(steps_[i].second);
                steps_.erase(steps_.begin() + static_cast<std::ptrdiff_t>(i));
                fn();
            } else {
                i++;
            }
        }
        check();
    }
    void check()
    {
        if (done_ && done_())
            stop = 1;
    }

    Fd tick_, watchdog_;
    std::vector<Fd> listeners_;
    std::vector<std::pair<int, std::function<void()>>> steps_;
    std::function<bool()> done_;
    uint32_t next_id_ = 1;
};

std::string reason(CloseReason r)
{
    return std::string(stat_name(r));
}

#define ASSERT_REASON(want, got) CPPUNIT_ASSERT_EQUAL(reason(want), reason(got))

}  // namespace

class ConnLoopTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConnLoopTest);
    CPPUNIT_TEST(acceptedConnectionIsAdmittedAndEstablished);
    CPPUNIT_TEST(framesWholeAcrossSplitWrites);
    CPPUNIT_TEST(framesBackToBackInOneWrite);
    CPPUNIT_TEST(oneBurstIsOneReadAndOneWrite);
    CPPUNIT_TEST(bulkInOneTurnDoesNotFillTheQueue);
    CPPUNIT_TEST(skipReplyIsWrittenBack);
    CPPUNIT_TEST(framerErrorClosesWithFraming);
    CPPUNIT_TEST(hostMayCloseFromFrame);
    CPPUNIT_TEST(peerCloseGivesPeer);
    CPPUNIT_TEST(frameOverReadBufferIsTooLarge);
    CPPUNIT_TEST(queuedDataLeavesInOrder);
    CPPUNIT_TEST(writeQueueFullCloses);
    CPPUNIT_TEST(sendTimeoutCloses);
    CPPUNIT_TEST(msgReadTimeout);
    CPPUNIT_TEST(firstMsgTimeout);
    CPPUNIT_TEST(idleTimeout);
    CPPUNIT_TEST(sendingKeepsConnectionActive);
    CPPUNIT_TEST(admitZeroRefuses);
    CPPUNIT_TEST(outgoingConnect);
    CPPUNIT_TEST(outgoingLeavesFromListenerAddress);
    CPPUNIT_TEST(connectToClosedPortFails);
    CPPUNIT_TEST(connectTimeout);
    CPPUNIT_TEST(countersReachPublish);
    CPPUNIT_TEST(hupCallsOnHup);
    CPPUNIT_TEST(destroyClosesWithShutdown);
    CPPUNIT_TEST(heldConnectionWaitsForRelease);
    CPPUNIT_TEST(heldConnectionThatResetsIsClosed);
    CPPUNIT_TEST(wakeAtRunsTheTickEarly);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { log::init(-3, true, "LOG_DAEMON"); }     // keep test output quiet
    void tearDown() override { log::init(2, true, "LOG_DAEMON"); }

    // hold(): after the first frame nothing more is cut or read; the release
    // delivers what was already buffered and what the socket still held.
    void heldConnectionWaitsForRelease()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        size_t during_hold = 99;
        h.on_frame = [&](StreamConn& c, std::string_view f) {
            if (f == "one\n")
                h.loop->hold(c, true);
        };
        put(cl, "one\ntwo\n");
        h.at(100, [&] { put(cl, "three\n"); });
        h.at(250, [&] {
            during_hold = h.frames.size();
            h.loop->hold(*h.loop->find(1), false);
        });
        h.run([&] { return h.frames.size() == 3; });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, during_hold);
        CPPUNIT_ASSERT_EQUAL(std::string("two\n"), h.frames[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("three\n"), h.frames[2]);
        CPPUNIT_ASSERT(h.closes.empty());
    }

    // A held peer that resets is closed at once (epoll reports it whatever
    // the mask; waiting would spin), not left until its release.
    void heldConnectionThatResetsIsClosed()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        h.on_frame = [&](StreamConn& c, std::string_view) { h.loop->hold(c, true); };
        put(cl, "one\n");
        h.at(50, [&] {
            linger l{1, 0};
            setsockopt(cl, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            cl.reset();   // RST
        });
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT(h.closes[0].why == CloseReason::ReadError || h.closes[0].why == CloseReason::Peer);
        CPPUNIT_ASSERT(h.elapsed_ms() < 1000);
    }

    // wake_at() runs the loop's tick when asked, not at the next 200 ms
    // timer: asked from a timer tick, for 30 ms later, it comes long before
    // the next timer tick would.
    void wakeAtRunsTheTickEarly()
    {
        Harness h;
        int64_t asked = 0, woke = 0;
        h.loop->set_tick([&] {
            if (!asked) {
                asked = now_ms();
                h.loop->wake_at(asked + 30);
            } else if (!woke) {
                woke = now_ms();
            }
        });
        h.run([&] { return woke != 0; });
        CPPUNIT_ASSERT(woke - asked >= 30);
        CPPUNIT_ASSERT_MESSAGE("woke after " + std::to_string(woke - asked) + " ms", woke - asked < 150);
    }

    void acceptedConnectionIsAdmittedAndEstablished()
    {
        Harness h;
        SockAddr at = h.listen();
        Fd cl = connect_client(at);
        h.run([&] { return !h.established_ids.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.admitted.size());
        const Admitted& a = h.admitted[0];
        CPPUNIT_ASSERT(!a.outgoing);
        CPPUNIT_ASSERT(a.host.empty());
        CPPUNIT_ASSERT(a.listener == &h.tag);
        CPPUNIT_ASSERT_EQUAL(at.str(), a.local.str());
        CPPUNIT_ASSERT_EQUAL(local_of(cl).str(), a.remote.str());
        CPPUNIT_ASSERT_EQUAL(1u, h.established_ids[0]);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.loop->size());
        StreamConn* c = h.loop->find(1);
        CPPUNIT_ASSERT(c && c->open && c->established && !c->closing);
        CPPUNIT_ASSERT(!h.loop->find(2));
        CPPUNIT_ASSERT(h.closes.empty());
    }

    void framesWholeAcrossSplitWrites()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        size_t frames_after_first = 99, frames_after_second = 99;
        int need_more_after_first = -1;
        h.at(0, [&] { put(cl, "hel"); });
        bool held_partial = false;
        h.at(60, [&] {
            frames_after_first = h.frames.size();
            need_more_after_first = h.framer.need_more;
            StreamConn* c = h.loop->find(1);
            held_partial = c && c->rbuf.attached() && c->rbuf.size() == 3;   // "hel" waits in its buffer
            put(cl, "lo\nwor");
        });
        h.at(120, [&] {
            frames_after_second = h.frames.size();
            put(cl, "ld\n");
        });
        h.run([&] { return h.frames.size() == 2; });
        CPPUNIT_ASSERT_EQUAL(size_t{0}, frames_after_first);
        CPPUNIT_ASSERT(need_more_after_first >= 1);   // the loop did see "hel" alone
        CPPUNIT_ASSERT_EQUAL(size_t{1}, frames_after_second);
        CPPUNIT_ASSERT(held_partial);
        CPPUNIT_ASSERT_EQUAL(std::string("hello\n"), h.frames[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("world\n"), h.frames[1]);
        CPPUNIT_ASSERT_EQUAL(2, h.framer.need_more);   // "hel", then "wor"
        CPPUNIT_ASSERT_EQUAL(1u, h.frame_ids[0]);
        CPPUNIT_ASSERT(h.closes.empty());
    }

    void framesBackToBackInOneWrite()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        put(cl, "a\nbb\nccc\ndddd");
        h.at(100, [&] { put(cl, "\n"); });
        h.run([&] { return h.frames.size() == 4; });
        CPPUNIT_ASSERT_EQUAL(std::string("a\n"), h.frames[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("bb\n"), h.frames[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("ccc\n"), h.frames[2]);
        CPPUNIT_ASSERT_EQUAL(std::string("dddd\n"), h.frames[3]);
        StreamConn* c = h.loop->find(1);
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT(c->rbuf.empty());
        CPPUNIT_ASSERT(!c->rbuf.attached());   // nothing unread: the read buffer went back to the loop
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, c->frames_in);
        CPPUNIT_ASSERT_EQUAL(uint64_t{14}, c->bytes_in);
    }

    // Four messages in one segment: one read takes them (a short read means
    // the socket is empty, so no read only to hear EAGAIN), and the four
    // answers the host sends while handling them leave in one write.
    void oneBurstIsOneReadAndOneWrite()
    {
        Harness h;
        CountingTcp xprt;
        Fd cl = connect_client(h.listen(0, &xprt));
        put(cl, "a\nb\nc\nd\n");
        h.on_frame = [&](StreamConn& c, std::string_view f) { h.loop->send(c, "re:" + std::string(f)); };
        std::string got;
        h.at(0, [&] { drain(cl, got); });
        h.run([&] {
            drain(cl, got);
            return got.size() >= 20;
        });
        CPPUNIT_ASSERT_EQUAL(std::string("re:a\nre:b\nre:c\nre:d\n"), got);
        CPPUNIT_ASSERT_EQUAL(1, xprt.reads);
        CPPUNIT_ASSERT_EQUAL(1, xprt.writes);
    }

    // 64 KB sent in one turn to a client that reads, with a 32 KB write
    // queue: the deferred writes leave once 16 KB wait, so the queue never
    // holds the whole turn's output and the connection is not failed.
    void bulkInOneTurnDoesNotFillTheQueue()
    {
        LoopLimits lim = fast_limits();
        lim.max_write_queue = 32768;
        Harness h(lim);
        Fd cl = connect_client(h.listen());
        put(cl, "go\n");
        std::string piece(1024, 'x');
        h.on_frame = [&](StreamConn& c, std::string_view) {
            for (int i = 0; i < 64; i++)
                h.loop->send(c, piece);
        };
        std::string got;
        h.run([&] {
            drain(cl, got);
            return got.size() >= 65536 || !h.closes.empty();
        });
        CPPUNIT_ASSERT(h.closes.empty());
        CPPUNIT_ASSERT_EQUAL(size_t{65536}, got.size());
    }

    void skipReplyIsWrittenBack()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        put(cl, "PING\nx\nPING\n");
        h.run([&] { return h.frames.size() == 1 && h.framer.calls >= 3; });
        CPPUNIT_ASSERT_EQUAL(std::string("x\n"), h.frames[0]);   // the pings are not frames
        CPPUNIT_ASSERT_EQUAL(std::string("PONG\nPONG\n"), read_for(cl, 10, 1000));
        StreamConn* c = h.loop->find(1);
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c->frames_in);
        CPPUNIT_ASSERT_EQUAL(uint64_t{10}, c->bytes_out);
        CPPUNIT_ASSERT(h.closes.empty());
    }

    void framerErrorClosesWithFraming()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        put(cl, "ok\nBAD\nlater\n");
        h.run([&] { return !h.closes.empty(); });
        ASSERT_REASON(CloseReason::BadFrame, h.closes[0].why);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.frames.size());   // what came before, not after
        CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), h.frames[0]);
        CPPUNIT_ASSERT(!h.loop->find(1));
        CPPUNIT_ASSERT_EQUAL(size_t{0}, h.loop->size());
        CPPUNIT_ASSERT(sees_eof(cl, 1000));
    }

    void hostMayCloseFromFrame()
    {
        // A host closes the connection it is reading from: the frames after
        // the one that made it close are not delivered, the close is reaped
        // at the end of the turn with the host's reason.
        Harness h;
        Fd cl = connect_client(h.listen());
        h.on_frame = [&](StreamConn& c, std::string_view f) {
            if (f == "QUIT\n")
                h.loop->close(c, CloseReason::Shutdown, "told to quit");
        };
        put(cl, "a\nQUIT\nb\n");
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{2}, h.frames.size());
        CPPUNIT_ASSERT_EQUAL(std::string("QUIT\n"), h.frames[1]);
        ASSERT_REASON(CloseReason::Shutdown, h.closes[0].why);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.closes.size());
        CPPUNIT_ASSERT(sees_eof(cl, 1000));
    }

    void peerCloseGivesPeer()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        put(cl, "x\n");
        h.at(50, [&] { cl.reset(); });
        h.run([&] { return !h.closes.empty(); });
        ASSERT_REASON(CloseReason::Peer, h.closes[0].why);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.frames.size());
        CPPUNIT_ASSERT_EQUAL(size_t{0}, h.loop->size());
        // What was counted and not published yet is published before closed().
        CPPUNIT_ASSERT(!h.published.empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, h.published.back().bytes_in);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.published.back().frames_in);
    }

    void frameOverReadBufferIsTooLarge()
    {
        LoopLimits lim = fast_limits();
        lim.read_buffer = 256;
        Harness h(lim);
        Fd cl = connect_client(h.listen());
        // A frame of exactly the buffer's size fits; one byte more cannot.
        put(cl, std::string(255, 'a') + "\n" + std::string(256, 'b') + "\n");
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.frames.size());
        CPPUNIT_ASSERT_EQUAL(size_t{256}, h.frames[0].size());
        ASSERT_REASON(CloseReason::TooLarge, h.closes[0].why);
        CPPUNIT_ASSERT(sees_eof(cl, 1000));
    }

    void queuedDataLeavesInOrder()
    {
        // More than the socket buffers hold, to a peer that reads late: the
        // write queue keeps it, in order, and sends it as the peer drains.
        Harness h;
        Fd cl = connect_client(h.listen(4096), 16384);
        std::string want;
        size_t sends_ok = 0;
        h.on_established = [&](StreamConn& c) {
            for (int i = 0; i < 200; i++) {
                std::string m = "msg " + std::to_string(i) + " ";
                m += std::string(static_cast<size_t>(i * 37 % 1500), '.') + "\n";
                want += m;
                sends_ok += h.loop->send(c, m) ? 1 : 0;
            }
        };
        std::string got;
        size_t queued_at_start = 0;
        h.at(100, [&] {
            if (StreamConn* c = h.loop->find(1))
                queued_at_start = c->wqueue_bytes;
        });
        h.run([&] {
            if (h.elapsed_ms() >= 100)
                drain(cl, got);
            return !want.empty() && got.size() >= want.size();
        });
        CPPUNIT_ASSERT_EQUAL(size_t{200}, sends_ok);
        CPPUNIT_ASSERT(queued_at_start > 0);   // the queue was used, not only the kernel's buffers
        CPPUNIT_ASSERT_EQUAL(want.size(), got.size());
        CPPUNIT_ASSERT(want == got);
        StreamConn* c = h.loop->find(1);
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT_EQUAL(size_t{0}, c->wqueue_bytes);
        CPPUNIT_ASSERT_EQUAL(static_cast<uint64_t>(want.size()), c->bytes_out);
        CPPUNIT_ASSERT_EQUAL(uint64_t{200}, c->frames_out);
        CPPUNIT_ASSERT(h.closes.empty());
    }

    void writeQueueFullCloses()
    {
        LoopLimits lim = fast_limits();
        lim.max_write_queue = 65536;
        Harness h(lim);
        Fd cl = connect_client(h.listen(4096), 4096);   // and never read
        std::string chunk(8192, 'q');
        size_t sent = 0;
        bool refused = false, refused_after = false;
        h.on_established = [&](StreamConn& c) {
            for (int i = 0; i < 1000 && !refused; i++) {
                if (h.loop->send(c, chunk))
                    sent += chunk.size();
                else
                    refused = true;
            }
            refused_after = !h.loop->send(c, "x");
        };
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT(refused);
        CPPUNIT_ASSERT(refused_after);   // a closing connection takes nothing more
        ASSERT_REASON(CloseReason::WriteQueueFull, h.closes[0].why);
        CPPUNIT_ASSERT(sent >= lim.max_write_queue - chunk.size());
        CPPUNIT_ASSERT(sent < lim.max_write_queue + (4u << 20));
    }

    void sendTimeoutCloses()
    {
        LoopLimits lim = fast_limits();
        lim.send_timeout_s = 1;
        Harness h(lim);
        Fd cl = connect_client(h.listen(4096), 4096);   // and never read
        int64_t sent_at = 0;
        int sends_ok = 0;
        h.on_established = [&](StreamConn& c) {
            for (int i = 0; i < 32; i++)
                sends_ok += h.loop->send(c, std::string(8192, 's')) ? 1 : 0;
            sent_at = now_ms();
        };
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT_EQUAL(32, sends_ok);   // under max_write_queue: queued
        ASSERT_REASON(CloseReason::SendTimeout, h.closes[0].why);
        int64_t took = h.closes[0].at_ms - sent_at;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 1000);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2000);
    }

    void msgReadTimeout()
    {
        // A message that is not complete within msg_read_timeout_s of its
        // first byte closes the connection, although bytes keep coming.
        LoopLimits lim = fast_limits();
        lim.msg_read_timeout_s = 1;
        lim.first_msg_timeout_s = 1;
        Harness h(lim);
        Fd cl = connect_client(h.listen());
        put(cl, "first\n");
        int64_t partial_at = 0;
        h.at(300, [&] {
            partial_at = now_ms();
            put(cl, "par");
        });
        std::function<void()> drip = [&] {
            (void)!::send(cl, "t", 1, MSG_NOSIGNAL);
            h.at(static_cast<int>(h.elapsed_ms()) + 150, drip);
        };
        h.at(450, drip);
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.frames.size());
        ASSERT_REASON(CloseReason::MsgReadTimeout, h.closes[0].why);
        int64_t took = h.closes[0].at_ms - partial_at;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 1000);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2000);
    }

    void firstMsgTimeout()
    {
        // A connection that sends only keep-alives is closed first_msg_timeout_s
        // after it was accepted; one that sent a frame stays.
        LoopLimits lim = fast_limits();
        lim.first_msg_timeout_s = 1;
        lim.msg_read_timeout_s = 1;
        Harness h(lim);
        SockAddr at = h.listen();
        int64_t connected_at = now_ms();
        Fd pinger = connect_client(at);
        Fd talker = connect_client(at);
        put(talker, "hello\n");
        std::function<void()> ping = [&] {
            (void)!::send(pinger, "PING\n", 5, MSG_NOSIGNAL);
            h.at(static_cast<int>(h.elapsed_ms()) + 200, ping);
        };
        h.at(0, ping);
        h.run([&] { return !h.closes.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.closes.size());
        ASSERT_REASON(CloseReason::FirstMsgTimeout, h.closes[0].why);
        CPPUNIT_ASSERT_EQUAL(1u, h.closes[0].id);   // the pinger, accepted first
        int64_t took = h.closes[0].at_ms - connected_at;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 1000);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2000);
        CPPUNIT_ASSERT(h.loop->find(2));   // the talker
        std::string pongs = read_for(pinger, SIZE_MAX, 300);
        CPPUNIT_ASSERT_MESSAGE(pongs, pongs.starts_with("PONG\nPONG\n"));
    }

    void idleTimeout()
    {
        LoopLimits lim = fast_limits();
        lim.idle_timeout_s = 1;
        Harness h(lim);
        Fd cl = connect_client(h.listen());
        put(cl, "hi\n");
        int64_t last_at = now_ms();
        h.run([&] { return !h.closes.empty(); });
        ASSERT_REASON(CloseReason::Idle, h.closes[0].why);
        int64_t took = h.closes[0].at_ms - last_at;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 1000);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2000);
    }

    void sendingKeepsConnectionActive()
    {
        // A connection we keep sending on is in use, although the peer
        // says nothing back (SER's tcp_connection_lifetime counts sends too).
        LoopLimits lim = fast_limits();
        lim.idle_timeout_s = 1;
        Harness h(lim);
        Fd cl = connect_client(h.listen());
        put(cl, "hi\n");
        std::function<void()> talk = [&] {
            if (StreamConn* c = h.loop->find(1))
                h.loop->send(*c, "news\n");
            h.at(static_cast<int>(h.elapsed_ms()) + 200, talk);
        };
        h.at(200, talk);
        h.run([&] { return !h.closes.empty() || h.elapsed_ms() > 1600; });
        CPPUNIT_ASSERT_MESSAGE(h.closes.empty() ? "" : reason(h.closes[0].why), h.closes.empty());
        std::string got = read_for(cl, SIZE_MAX, 50);
        CPPUNIT_ASSERT(got.size() >= 5 * 7);
    }

    void admitZeroRefuses()
    {
        Harness h;
        h.refuse = true;
        Fd cl = connect_client(h.listen());
        h.run([&] { return !h.admitted.empty(); });
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.admitted.size());
        CPPUNIT_ASSERT(sees_eof(cl, 1000));
        CPPUNIT_ASSERT_EQUAL(size_t{0}, h.loop->size());
        CPPUNIT_ASSERT(h.established_ids.empty());
        CPPUNIT_ASSERT(h.closes.empty());   // never a connection, so never closed()
    }

    void outgoingConnect()
    {
        Harness h;
        Fd server = listen_local();
        SockAddr dst = local_of(server);
        Fd accepted;
        std::string server_got;
        h.loop->watch(server, [&] {
            int fd = accept4(server, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                accepted = Fd(fd);
                (void)!::send(fd, "welcome\n", 8, MSG_NOSIGNAL);
            }
        });
        bool sent = false;
        h.on_established = [&](StreamConn& c) { sent = h.loop->send(c, "HELLO\n"); };
        StreamConn* c = h.loop->connect(dst, nullptr, tcp_transport(), h.framer, "peer.example");
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT(c->connecting && c->outgoing);
        CPPUNIT_ASSERT(h.established_ids.empty());   // not before the connect completes
        uint32_t id = c->id;
        h.run([&] {
            if (accepted >= 0)
                drain(accepted, server_got);
            return server_got == "HELLO\n" && h.frames.size() == 1;
        });
        CPPUNIT_ASSERT(sent);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.admitted.size());
        CPPUNIT_ASSERT(h.admitted[0].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("peer.example"), h.admitted[0].host);
        CPPUNIT_ASSERT_EQUAL(dst.str(), h.admitted[0].remote.str());
        CPPUNIT_ASSERT(h.admitted[0].listener == nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.established_ids.size());
        CPPUNIT_ASSERT_EQUAL(id, h.established_ids[0]);
        // The local address is known once connected, and is the one the server sees.
        CPPUNIT_ASSERT_EQUAL(peer_of(accepted).str(), h.established_local[0].str());
        CPPUNIT_ASSERT_EQUAL(std::string("welcome\n"), h.frames[0]);
        CPPUNIT_ASSERT_EQUAL(id, h.frame_ids[0]);
        CPPUNIT_ASSERT(h.closes.empty());
    }

    void outgoingLeavesFromListenerAddress()
    {
        // From the address of the listener asked for (127.0.0.2 is local on
        // Linux loopback), though the kernel's route would pick 127.0.0.1.
        Harness h;
        Fd server = listen_local();
        Fd accepted;
        h.loop->watch(server, [&] {
            if (int fd = accept4(server, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); fd >= 0)
                accepted = Fd(fd);
        });
        ListenAddr from{Proto::Tcp, *SockAddr::from_numeric("127.0.0.2", 5060), "127.0.0.2:5060"};
        StreamConn* c = h.loop->connect(local_of(server), &from, tcp_transport(), h.framer, {});
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT(c->listener == &from);
        h.run([&] { return accepted >= 0 && !h.established_ids.empty(); });
        SockAddr src = peer_of(accepted);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2"), src.ip());
        CPPUNIT_ASSERT(src.port() != 5060);   // the address, not the listener's port
        CPPUNIT_ASSERT_EQUAL(src.str(), h.established_local[0].str());
    }

    void connectToClosedPortFails()
    {
        Harness h;
        // A bound port nobody listens on (kept bound: nobody else takes it).
        Fd reserved(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        SockAddr a = *SockAddr::from_numeric("127.0.0.1", 0);
        CPPUNIT_ASSERT_EQUAL(0, bind(reserved, a.sa(), a.len));
        StreamConn* c = h.loop->connect(local_of(reserved), nullptr, tcp_transport(), h.framer, {});
        CPPUNIT_ASSERT(c);   // the refusal comes later, from the loop
        h.run([&] { return !h.closes.empty(); });
        ASSERT_REASON(CloseReason::ConnectFailed, h.closes[0].why);
        CPPUNIT_ASSERT(h.established_ids.empty());
        CPPUNIT_ASSERT_EQUAL(size_t{0}, h.loop->size());
    }

    void connectTimeout()
    {
        // A listener whose accept queue is full drops new SYNs: the connect
        // neither succeeds nor fails, and connect_timeout_s ends it.
        LoopLimits lim = fast_limits();
        lim.connect_timeout_s = 1;
        Harness h(lim);
        Fd server = listen_local(0, 0);
        SockAddr dst = local_of(server);
        std::vector<Fd> fillers;
        for (int i = 0; i < 4; i++) {
            Fd f(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
            ::connect(f, dst.sa(), dst.len);
            fillers.push_back(std::move(f));
        }
        int64_t started = now_ms();
        StreamConn* c = h.loop->connect(dst, nullptr, tcp_transport(), h.framer, {});
        CPPUNIT_ASSERT(c);
        h.run([&] { return !h.closes.empty(); });
        ASSERT_REASON(CloseReason::ConnectTimeout, h.closes[0].why);
        int64_t took = h.closes[0].at_ms - started;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took >= 1000);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took), took < 2000);
        CPPUNIT_ASSERT(h.established_ids.empty());
    }

    void countersReachPublish()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        h.on_frame = [&](StreamConn& c, std::string_view) { h.loop->send(c, "ok\n"); };
        put(cl, "a\nbb\nPING\n");
        auto reached = [&] {
            for (const Published& p : h.published)
                if (p.id == 1 && p.bytes_in == 10 && p.frames_in == 2 && p.bytes_out == 11 && p.frames_out == 3)
                    return true;
            return false;
        };
        h.run(reached);
        // Published from the timer, not once per frame.
        CPPUNIT_ASSERT(h.published.size() <= 2);
        CPPUNIT_ASSERT_EQUAL(std::string("ok\nok\nPONG\n"), read_for(cl, 11, 1000));
    }

    void hupCallsOnHup()
    {
        Harness h;
        bool called = false;
        h.on_hup = [&] { called = true; };
        h.at(20, [&] { h.hup = 1; });
        h.run([&] { return h.hups > 0; });
        CPPUNIT_ASSERT(called);
        CPPUNIT_ASSERT_EQUAL(1, h.hups);
        CPPUNIT_ASSERT_EQUAL(0, static_cast<int>(h.hup));   // cleared by the loop
    }

    void destroyClosesWithShutdown()
    {
        Harness h;
        Fd cl = connect_client(h.listen());
        h.run([&] { return !h.established_ids.empty(); });
        CPPUNIT_ASSERT(h.closes.empty());
        h.loop.reset();
        CPPUNIT_ASSERT_EQUAL(size_t{1}, h.closes.size());
        ASSERT_REASON(CloseReason::Shutdown, h.closes[0].why);
        CPPUNIT_ASSERT(sees_eof(cl, 1000));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConnLoopTest);

}  // namespace ser

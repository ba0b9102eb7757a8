#pragma once
// The connection loop: one epoll loop that owns the stream connections of a
// process — accept and connect, the transport stack of each connection, the
// bounded read buffer, the bounded write queue with its send timeout, one
// deadline per purpose, reaping, and the pause when descriptors run out. It
// hands complete frames, cut by the connection's Framer, to its host. Nothing
// of SIP and nothing of TLS is in here: the TCP worker is this loop with the
// SIP framer; the serial bridge will be this loop with the raw or line framer.

#include "io/stream_conn.h"
#include "log.h"
#include "io/transport.h"
#include "net.h"
#include "shm/rate_gate.h"
#include "shm/stats.h"

#include <cstdarg>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ser {

// What a framer found at the front of a connection's read buffer.
struct FrameCut {
    enum class Kind { NeedMore, Frame, Skip, Error };
    Kind kind = Kind::NeedMore;
    size_t length = 0;          // bytes of the frame (Frame) or to drop (Skip)
    std::string_view reply;     // bytes to send back at once (a keep-alive pong); static storage
    const char* error = nullptr;  // Error: why, for the log line
};

// Cuts frames out of a byte stream (SIP messages; raw bytes and lines later).
class Framer {
public:
    virtual ~Framer() = default;
    // Looks at the unread bytes; never keeps a view of them.
    virtual FrameCut next(std::string_view buf) = 0;
};

// Why the loop closed a connection: CloseReason of shm/stats.h (one log line
// and one counter each).

// The limits of a loop, from the configuration of whoever runs it.
struct LoopLimits {
    size_t read_buffer = 65536 + 64;     // per connection; a frame must fit
    size_t max_write_queue = 262144;     // bytes per connection
    int send_timeout_s = 10;             // default; a transport may say otherwise
    int connect_timeout_s = 10;
    int idle_timeout_s = 120;
    int msg_read_timeout_s = 10;         // first byte of a frame to its last
    int first_msg_timeout_s = 10;        // accept to the first complete frame
};

// What the owner of a loop provides.
class LoopHost {
public:
    virtual ~LoopHost() = default;
    // A connection was accepted or is being opened: its id (non-zero, unique
    // while it lives), or 0 to refuse it (the host logs why).
    virtual uint32_t admit(const StreamConn& c) = 0;
    // The PROXY header of a connection on a proxy_protocol listener was read
    // (before its transport starts): c.remote is now the client it names and
    // c.via the balancer; when it relayed no client (v1 UNKNOWN, v2 LOCAL)
    // c.remote stays the balancer and c.via is empty. False refuses the
    // connection, which the host has logged and counted: it is closed at once.
    virtual bool proxied(StreamConn&) { return true; }
    // The transport is ready for data (after its handshake): facts known.
    virtual void established(StreamConn& c) = 0;
    // One complete frame; the view is valid during the call only.
    virtual void frame(StreamConn& c, std::string_view f) = 0;
    // The connection's counters changed (called from the timer, not per frame).
    virtual void publish(StreamConn& c) = 0;
    // The connection is about to be closed (already logged).
    virtual void closed(StreamConn& c, CloseReason why) = 0;
};

class ConnLoop {
public:
    // Counts closes by reason and accept pauses into `stats`.
    ConnLoop(const LoopLimits& limits, LoopHost& host, StatsSlot stats = StatsSlot());
    ~ConnLoop();
    ConnLoop(const ConnLoop&) = delete;
    ConnLoop& operator=(const ConnLoop&) = delete;

    // Accepts on `fd` (a listening socket this process polls); its
    // connections use transport t and framer f and are tagged with `tag`.
    // With proxy_protocol, each connection must start with a PROXY header,
    // read raw before the transport sees a byte (LoopHost::proxied). With
    // `gate`, a connection beyond its rate is closed at accept, before a byte
    // is read (tls_handshake_rate), counted and logged.
    void add_listener(int fd, Transport& t, Framer& f, const ListenAddr* tag, bool proxy_protocol = false,
                      RateGate* gate = nullptr);
    // Calls on_readable when `fd` (a channel, a device) has data.
    void watch(int fd, std::function<void()> on_readable);
    // Stops watching fd (before the caller closes it).
    void unwatch(int fd);
    // Also calls a watched fd's callback when it is writable (a device whose
    // output queue is full), until turned off again.
    void watch_writable(int fd, bool on);
    // Calls f from the loop's timer, about every 200 ms, and at each wake_at.
    void set_tick(std::function<void()> f) { tick_ = std::move(f); }
    // Another function for the timer, after the tick (the resolver's, a retry's).
    void add_tick(std::function<void()> f) { more_ticks_.push_back(std::move(f)); }
    // Runs the tick at `at_ms` (now_ms() clock) too, when that comes before the
    // next 200 ms timer: a retry due in 1000 ms is not 1200 ms late.
    void wake_at(int64_t at_ms) { if (wake_ms_ == 0 || at_ms < wake_ms_) wake_ms_ = at_ms; }
    // Back-pressure: a held connection is not read (TCP flow control stops its
    // peer) and frames already read are not cut; releasing it cuts and reads
    // what waited. For a host whose sink (a device) is full.
    void hold(StreamConn& c, bool on);
    // Closes `c` (CloseReason::Done) once what is queued for it has been
    // written: the end of a reply-and-close exchange (HTTP, an error).
    void close_when_sent(StreamConn& c);
    // Every live connection, for a host that fans out.
    template <typename F>
    void for_each(F&& f)
    {
        for (auto& [id, c] : conns_)
            if (!c->closing)
                f(*c);
    }
    // Starts a connection to dst through t, from `from`'s address when given
    // (so the source is the listener our Via names). nullptr when it cannot.
    StreamConn* connect(const SockAddr& dst, const ListenAddr* from, Transport& t, Framer& f, std::string host);
    // The live connection with this id, or nullptr.
    StreamConn* find(uint32_t id);
    // Queues data on c and sends it: at once outside the loop's event
    // handling, else at the end of the turn, so what one burst of reads
    // routes to one connection leaves in one write. False (and c fails) when
    // the write queue would go over its limit; false when c is closing.
    bool send(StreamConn& c, std::string_view data);
    // Marks c for closing at the end of this turn and logs one line
    // ("conn ID: closing: <reason>: <what>"): info for routine closes, a
    // warning for faults.
    void close(StreamConn& c, CloseReason why, const char* fmt, ...) __attribute__((format(printf, 4, 5)));
    // close() with the log line at `level` rather than the reason's usual one.
    void close_at(StreamConn& c, CloseReason why, log::Level level, const char* fmt, ...)
        __attribute__((format(printf, 5, 6)));

    // Runs until `stop`; calls on_hup (and clears hup) when hup is set.
    // Returns an exit code.
    int run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup, const std::function<void()>& on_hup);
    size_t size() const { return conns_.size(); }

private:
    void vclose(StreamConn& c, CloseReason why, log::Level level, const char* fmt, va_list ap);
    struct Listener {
        int fd;
        Transport* xprt;
        Framer* framer;
        const ListenAddr* tag;
        bool proxy_protocol;
        RateGate* gate;
    };
    StreamConn* add(int fd, Transport& t, Framer& f, const SockAddr& local, const SockAddr& remote, bool outgoing,
                    const ListenAddr* tag, std::string host, bool proxy_pending = false);
    void on_accept(size_t idx);
    void pause_accept(size_t idx, int err);
    void resume_accept();
    void on_event(StreamConn& c, uint32_t events);
    void on_connected(StreamConn& c);
    void read_proxy_header(StreamConn& c);
    void close_quiet(StreamConn& c, CloseReason why);
    void after_io(StreamConn& c);
    void read(StreamConn& c);
    std::unique_ptr<char[]> take_block();
    void give_back(StreamConn& c);
    void cut_frames(StreamConn& c);
    bool enqueue(StreamConn& c, std::string_view data);
    void flush(StreamConn& c);
    void flush_queued();
    void read_again();
    void set_want_write(StreamConn& c, bool on);
    void fail_io(StreamConn& c, IoStatus st, CloseReason error_reason, const char* what);
    void timers();
    void reap();

    LoopLimits lim_;
    LoopHost& host_;
    StatsSlot stats_;
    int ep_ = -1;
    std::vector<Listener> listeners_;
    std::vector<std::pair<int, std::function<void()>>> watched_;
    std::unordered_map<uint32_t, std::unique_ptr<StreamConn>> conns_;
    std::vector<std::pair<uint32_t, CloseReason>> dead_;   // closed at the end of the turn
    bool in_turn_ = false;              // handling the events of one epoll_wait: sends wait for its end
    std::vector<uint32_t> to_flush_;    // connections with data queued in this turn
    std::vector<uint32_t> to_read_;     // connections whose transport holds data the socket no longer shows
    std::vector<std::unique_ptr<char[]>> spare_;   // read buffers not lent to a connection
    int64_t last_timer_ms_ = 0;
    std::function<void()> tick_;
    std::vector<std::function<void()>> more_ticks_;
    void run_ticks()
    {
        if (tick_)
            tick_();
        for (auto& f : more_ticks_)
            f();
    }
    int64_t wake_ms_ = 0;
    std::vector<size_t> paused_;      // listeners not polled after EMFILE & co
    int64_t accept_resume_ms_ = 0;
};

}  // namespace ser

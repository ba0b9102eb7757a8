// The connection loop. Connections are closed only in reap(), at the end of a
// loop turn, so a host may close a connection it is reading from.
#include "io/conn_loop.h"

#include "clock.h"
#include "io/proxy_header.h"
#include "log.h"
#include "shm/heartbeat.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace ser {
namespace {

bool is_loopback(const SockAddr& a)
{
    if (a.family() == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr.s_addr) >> 24) == 127;
    return a.family() == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr);
}

// epoll data: kind in the top byte, listener/watch index or connection id below.
enum : uint64_t { kListener = 1ull << 56, kWatch = 2ull << 56, kConn = 3ull << 56, kKindMask = 0xffull << 56 };
constexpr int kMaxReadsPerEvent = 16;
constexpr int kTimerPeriodMs = 200;
constexpr int kAcceptPauseMs = 500;
constexpr size_t kCoalesceBytes = 16384;
constexpr size_t kSpareBlocks = 8;

// Routine closes (the peer's doing or our timers) log at info; faults warn.
bool is_fault(CloseReason r)
{
    switch (r) {
    case CloseReason::Peer:
    case CloseReason::Idle:
    case CloseReason::Shutdown:
    case CloseReason::Done:
    case CloseReason::Operator:
    case CloseReason::MsgReadTimeout:
    case CloseReason::FirstMsgTimeout:
    case CloseReason::ConnectFailed:
    case CloseReason::ProxyHeaderBad:
    case CloseReason::ProxyHeaderTimeout:
        return false;
    default:
        return true;
    }
}

}  // namespace

ConnLoop::ConnLoop(const LoopLimits& limits, LoopHost& host, StatsSlot stats)
    : lim_(limits), host_(host), stats_(stats)
{
    ep_ = epoll_create1(EPOLL_CLOEXEC);
}

ConnLoop::~ConnLoop()
{
    for (auto& [id, c] : conns_) {
        host_.closed(*c, CloseReason::Shutdown);
        c->xprt->close(*c);
        ::close(c->fd);
    }
    if (ep_ >= 0)
        ::close(ep_);
}

void ConnLoop::add_listener(int fd, Transport& t, Framer& f, const ListenAddr* tag, bool proxy_protocol, RateGate* gate)
{
    listeners_.push_back(Listener{fd, &t, &f, tag, proxy_protocol, gate && gate->limit ? gate : nullptr});
    epoll_event ev{EPOLLIN, {.u64 = kListener | (listeners_.size() - 1)}};
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void ConnLoop::watch(int fd, std::function<void()> on_readable)
{
    // A slot freed by unwatch() is reused, so the list stays as long as the
    // most fds watched at once.
    size_t i = 0;
    while (i < watched_.size() && watched_[i].first >= 0)
        i++;
    if (i == watched_.size())
        watched_.emplace_back(fd, std::move(on_readable));
    else
        watched_[i] = {fd, std::move(on_readable)};
    epoll_event ev{EPOLLIN, {.u64 = kWatch | i}};
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void ConnLoop::watch_writable(int fd, bool on)
{
    for (size_t i = 0; i < watched_.size(); i++)
        if (watched_[i].first == fd) {
            epoll_event ev{EPOLLIN | (on ? EPOLLOUT : 0u), {.u64 = kWatch | i}};
            epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
        }
}

void ConnLoop::hold(StreamConn& c, bool on)
{
    if (c.held == on || c.closing)
        return;
    c.held = on;
    epoll_event ev{(on ? 0u : EPOLLIN | EPOLLRDHUP) | (c.want_write ? EPOLLOUT : 0u), {.u64 = kConn | c.id}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    if (on)
        return;
    // What was read before the hold, then what the transport holds (TLS
    // records already decrypted raise no new event).
    cut_frames(c);
    if (!c.closing && !c.held)
        read(c);
}

void ConnLoop::close_when_sent(StreamConn& c)
{
    c.close_when_sent = true;
    if (c.wqueue.empty() && !c.connecting)
        close(c, CloseReason::Done, "%s: exchange done", c.remote.str().c_str());
}

void ConnLoop::unwatch(int fd)
{
    for (auto& w : watched_)
        if (w.first == fd) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
            w.first = -1;   // the callback stays until the slot is reused: it may be running now
        }
}

int ConnLoop::run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup, const std::function<void()>& on_hup)
{
    epoll_event evs[64];
    while (!stop) {
        if (hup) {
            hup = 0;
            if (on_hup)
                on_hup();
        }
        heartbeat::beat();   // main's stall check (shm/heartbeat.h); the wait below is at most kTimerPeriodMs
        int timeout = kTimerPeriodMs;
        if (wake_ms_)
            timeout = static_cast<int>(std::clamp<int64_t>(wake_ms_ - now_ms(), 0, kTimerPeriodMs));
        if (!to_read_.empty())
            timeout = 0;
        int n = epoll_wait(ep_, evs, 64, timeout);
        if (n < 0 && errno != EINTR) {
            LOG_CRIT("epoll_wait failed: %s", std::strerror(errno));
            return 1;
        }
        in_turn_ = true;
        read_again();
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            switch (d & kKindMask) {
            case kListener: on_accept(d & ~kKindMask); break;
            case kWatch:
                if (auto& w = watched_[d & ~kKindMask]; w.first >= 0 && w.second)
                    w.second();
                break;
            case kConn: {
                auto it = conns_.find(static_cast<uint32_t>(d & 0xffffffffu));
                if (it != conns_.end() && !it->second->closing)
                    on_event(*it->second, evs[i].events);
                break;
            }
            }
        }
        in_turn_ = false;
        flush_queued();
        reap();
        if (now_ms() - last_timer_ms_ >= kTimerPeriodMs)
            timers();
        else if (wake_ms_ && now_ms() >= wake_ms_ && (tick_ || !more_ticks_.empty())) {
            wake_ms_ = 0;
            run_ticks();
        }
    }
    return 0;
}

StreamConn* ConnLoop::add(int fd, Transport& t, Framer& f, const SockAddr& local, const SockAddr& remote,
                          bool outgoing, const ListenAddr* tag, std::string host, bool proxy_pending)
{
    // Every write is a whole message (or a device's chunk) that the peer is
    // waiting for: Nagle's algorithm would hold the second of two quick
    // messages (an ACK then a BYE) until the first is acknowledged, which a
    // peer delaying its ACKs does only after ~40 ms.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<StreamConn>(0, fd, t, f, lim_.read_buffer);
    c->local = local;
    c->remote = remote;
    c->outgoing = outgoing;
    c->proxy_pending = proxy_pending;
    c->listener = tag;
    c->host = std::move(host);
    c->created_ms = c->last_active_ms = now_ms();
    uint32_t id = host_.admit(*c);
    if (id == 0)
        return nullptr;
    c->id = id;
    epoll_event ev{EPOLLIN | EPOLLRDHUP | (outgoing ? EPOLLOUT : 0u), {.u64 = kConn | id}};
    c->want_write = outgoing;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    StreamConn* p = c.get();
    conns_.emplace(id, std::move(c));
    return p;
}

void ConnLoop::on_accept(size_t idx)
{
    const Listener& l = listeners_[idx];
    for (int i = 0; i < 64; i++) {
        SockAddr remote;
        remote.len = sizeof remote.ss;
        int fd = accept4(l.fd, remote.sa(), &remote.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(idx, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                LOG_ERR("accept() failed: %s", std::strerror(errno));
            return;
        }
        if (l.gate && !l.gate->allow(wall_ms() / 1000)) {
            ::close(fd);
            stats_.count(TlsFailReason::RateLimited);
            LOG_NOTICE("connection from %s to %s refused: tls_handshake_rate=%u a second reached", remote.str().c_str(),
                       l.tag ? l.tag->addr.str().c_str() : "?", l.gate->limit);
            continue;
        }
        SockAddr local;
        local.len = sizeof local.ss;
        getsockname(fd, local.sa(), &local.len);
        StreamConn* c = add(fd, *l.xprt, *l.framer, local, remote, false, l.tag, {}, l.proxy_protocol);
        if (!c) {
            ::close(fd);
            continue;
        }
        LOG_DBG("conn %u: accepted %s from %s", c->id, std::string(proto_name(l.xprt->proto())).c_str(),
                remote.str().c_str());
        // Behind a balancer the transport starts once the PROXY header is in:
        // a TLS handshake must not read the header's bytes as its own.
        if (!c->proxy_pending)
            on_connected(*c);
    }
}

void ConnLoop::pause_accept(size_t idx, int err)
{
    // Out of descriptors or memory: the pending connection stays in the
    // backlog and the level-triggered listener would fire again at once.
    // Stop listening for a moment instead of spinning, and say it once.
    epoll_event ev{0, {.u64 = kListener | idx}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, listeners_[idx].fd, &ev);
    paused_.push_back(idx);
    accept_resume_ms_ = now_ms() + kAcceptPauseMs;
    stats_.count(RefuseReason::FdExhausted);
    const ListenAddr* tag = listeners_[idx].tag;
    LOG_ERR("accept() on %s failed: %s; not accepting for %d ms (%zu connections open here)",
            tag ? tag->addr.str().c_str() : "?", std::strerror(err), kAcceptPauseMs, conns_.size());
}

void ConnLoop::resume_accept()
{
    for (size_t idx : paused_) {
        epoll_event ev{EPOLLIN, {.u64 = kListener | idx}};
        epoll_ctl(ep_, EPOLL_CTL_MOD, listeners_[idx].fd, &ev);
    }
    paused_.clear();
}

StreamConn* ConnLoop::connect(const SockAddr& dst, const ListenAddr* from, Transport& t, Framer& f, std::string host)
{
    int fd = socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        LOG_ERR("socket() for %s failed: %s", dst.str().c_str(), std::strerror(errno));
        return nullptr;
    }
    // (Not from a loopback listener to a host elsewhere: no packet could leave.)
    if (from && from->addr.family() == dst.family() && (!is_loopback(from->addr) || is_loopback(dst))) {
        // Leave from the listener's address (our Via names it); the port is
        // the kernel's, chosen at connect() time.
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        SockAddr src = from->addr;
        src.set_port(0);
        if (bind(fd, src.sa(), src.len) != 0)
            LOG_INFO("binding the connection to %s to %s failed (%s): the kernel picks the source", dst.str().c_str(),
                     src.ip().c_str(), std::strerror(errno));
    }
    if (::connect(fd, dst.sa(), dst.len) != 0 && errno != EINPROGRESS) {
        LOG_INFO("connect to %s failed: %s", dst.str().c_str(), std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    SockAddr local;
    StreamConn* c = add(fd, t, f, local, dst, true, from, std::move(host));
    if (!c) {
        ::close(fd);
        return nullptr;
    }
    c->connecting = true;
    c->connect_deadline_ms = now_ms() + lim_.connect_timeout_s * 1000LL;
    LOG_DBG("conn %u: connecting to %s", c->id, dst.str().c_str());
    return c;
}

StreamConn* ConnLoop::find(uint32_t id)
{
    auto it = conns_.find(id);
    return it == conns_.end() || it->second->closing ? nullptr : it->second.get();
}

void ConnLoop::on_connected(StreamConn& c)
{
    c.connecting = false;
    c.connect_deadline_ms = 0;
    if (c.xprt->on_open(c) != IoStatus::Ok) {
        std::string why = c.xprt->failure_reason(c);
        close(c, CloseReason::Refused, "transport refused the connection%s%s", why.empty() ? "" : ": ", why.c_str());
        return;
    }
    c.open = true;
    if (int hs = c.xprt->handshake_timeout_s(c); hs > 0 && !c.xprt->handshake_done(c))
        c.handshake_deadline_ms = now_ms() + hs * 1000LL;
    after_io(c);
    flush(c);
}

// Tells the host once when the transport became ready for data.
void ConnLoop::after_io(StreamConn& c)
{
    if (c.established || c.closing || !c.open || !c.xprt->handshake_done(c))
        return;
    c.established = true;
    c.handshake_deadline_ms = 0;
    host_.established(c);
}

// Reads the PROXY header raw from the socket, never a byte past it: what
// follows belongs to the transport (a TLS ClientHello) or the framer. A peek
// shows what has come; a header still incomplete in it owns all those bytes,
// which are taken (so a level-triggered poll does not wake again for them);
// a complete one is taken to its last byte.
void ConnLoop::read_proxy_header(StreamConn& c)
{
    char buf[kProxyHeaderMax];
    size_t have = c.proxy_hdr.size();
    ssize_t n = ::recv(c.fd, buf, sizeof buf - have, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        close(c, n == 0 ? CloseReason::Peer : CloseReason::ReadError, "%s before its PROXY header was complete (%zu bytes)",
              n == 0 ? "closed by peer" : std::strerror(errno), have);
        return;
    }
    std::string seen = c.proxy_hdr + std::string(buf, static_cast<size_t>(n));
    ProxyHeader h = parse_proxy_header(seen);
    if (h.status == ProxyHeader::Status::Error) {
        close(c, CloseReason::ProxyHeaderBad, "no valid PROXY header from %s: %s", c.remote.str().c_str(), h.error);
        return;
    }
    size_t take = h.status == ProxyHeader::Status::Done ? h.length - have : static_cast<size_t>(n);
    if (::recv(c.fd, buf, take, 0) != static_cast<ssize_t>(take)) {
        close(c, CloseReason::ReadError, "read error from %s: %s", c.remote.str().c_str(), std::strerror(errno));
        return;
    }
    c.bytes_in += take;
    c.dirty = true;
    if (h.status == ProxyHeader::Status::NeedMore) {
        c.proxy_hdr = std::move(seen);
        return;
    }
    c.proxy_pending = false;
    c.proxy_hdr.clear();
    c.proxy_hdr.shrink_to_fit();
    if (h.has_addr) {
        c.via = c.remote;
        c.remote = h.src;
        LOG_INFO("conn %u: %s via %s (PROXY v%d)", c.id, c.remote.str().c_str(), c.via.str().c_str(), h.version);
    } else {
        LOG_INFO("conn %u: PROXY v%d header from %s relays no client (%s): the balancer is the peer", c.id, h.version,
                 c.remote.str().c_str(), h.version == 1 ? "UNKNOWN" : "LOCAL or no address");
    }
    if (!host_.proxied(c)) {
        close_quiet(c, CloseReason::Refused);
        return;
    }
    on_connected(c);
}

void ConnLoop::on_event(StreamConn& c, uint32_t events)
{
    if (c.proxy_pending) {
        read_proxy_header(c);
        return;
    }
    if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            close(c, CloseReason::ConnectFailed, "connect to %s failed: %s", c.remote.str().c_str(),
                  std::strerror(err ? err : ECONNREFUSED));
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        c.local.len = sizeof c.local.ss;
        getsockname(c.fd, c.local.sa(), &c.local.len);
        on_connected(c);
        return;
    }
    if (c.held && (events & (EPOLLHUP | EPOLLERR))) {
        // Reported whatever the mask: a held connection that reset or shut
        // both ways cannot wait for its release (it would wake us forever).
        close(c, (events & EPOLLERR) ? CloseReason::ReadError : CloseReason::Peer, "%s gone while held",
              c.remote.str().c_str());
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        read(c);
    if (!c.closing && (events & EPOLLOUT))
        flush(c);
}

void ConnLoop::fail_io(StreamConn& c, IoStatus st, CloseReason error_reason, const char* what)
{
    if (st == IoStatus::Closed) {
        close(c, CloseReason::Peer, "closed by peer %s", c.remote.str().c_str());
        return;
    }
    // One line with the transport's reason (a TLS alert, a verify error) or
    // the errno. A failed handshake is the peer's fault (info: a scanner, an
    // old phone) unless the transport says it is ours to fix (error).
    std::string why = c.xprt->failure_reason(c);
    if (why.empty() && errno)
        why = std::strerror(errno);
    log::Level level = !c.established && c.xprt->handshake_timeout_s(c) > 0
                           ? (c.xprt->failure_is_local(c) ? log::Level::Err : log::Level::Info)
                           : (is_fault(error_reason) ? log::Level::Warn : log::Level::Info);
    close_at(c, error_reason, level, "%s %s%s%s", what, c.remote.str().c_str(), why.empty() ? "" : ": ", why.c_str());
}

// Read buffers are lent per burst: a connection with no unread bytes gives
// its block back, so an idle connection holds none (memory per idle TLS
// connection, bench/ANALYSIS.md). A few spare blocks stay for the next
// burst; beyond kSpareBlocks they are freed.
std::unique_ptr<char[]> ConnLoop::take_block()
{
    if (spare_.empty())
        return std::unique_ptr<char[]>(new char[lim_.read_buffer]);
    auto b = std::move(spare_.back());
    spare_.pop_back();
    return b;
}

void ConnLoop::give_back(StreamConn& c)
{
    if (auto b = c.rbuf.detach(); b && spare_.size() < kSpareBlocks)
        spare_.push_back(std::move(b));
}

void ConnLoop::read(StreamConn& c)
{
    if (!c.rbuf.attached())
        c.rbuf.attach(take_block());
    c.rx_drained = false;
    int i = 0;
    for (; i < kMaxReadsPerEvent && !c.closing && !c.held; i++) {
        char* p = c.rbuf.space();
        size_t room = c.rbuf.contiguous_space();
        if (room == 0) {
            close(c, CloseReason::TooLarge, "frame from %s larger than the read buffer (%zu bytes)",
                  c.remote.str().c_str(), c.rbuf.capacity());
            return;
        }
        errno = 0;
        IoResult r = c.xprt->read(c, std::span<char>(p, room));
        if (r.status == IoStatus::Ok) {
            c.last_active_ms = now_ms();
            after_io(c);
            if (r.bytes == 0)
                continue;   // handshake progress, no data yet
            c.rbuf.commit(r.bytes);
            c.bytes_in += r.bytes;
            c.dirty = true;
            cut_frames(c);
            continue;
        }
        if (r.status == IoStatus::Again)
            break;
        fail_io(c, r.status, CloseReason::ReadError, c.established ? "read error from" : "handshake with");
        return;
    }
    // Stopped at the limit with records the transport read ahead and the
    // socket no longer shows: no event would come for them.
    if (i == kMaxReadsPerEvent && !c.closing && !c.held && c.xprt->has_buffered(c))
        to_read_.push_back(c.id);
    give_back(c);
    after_io(c);
    // A read may have produced protocol bytes to send (a TLS handshake).
    if (!c.closing)
        flush(c);
}

void ConnLoop::cut_frames(StreamConn& c)
{
    while (!c.closing && !c.held && !c.rbuf.empty()) {
        std::string_view data = c.rbuf.data();
        FrameCut f = c.framer->next(data);
        switch (f.kind) {
        case FrameCut::Kind::NeedMore:
            // A partial frame is on the clock (msg_read_timeout) from the read
            // that brought its first byte.
            if (!c.msg_started_ms)
                c.msg_started_ms = now_ms();
            return;
        case FrameCut::Kind::Skip:
            // Queued only: read() flushes once after the burst, so a flood of
            // pings is not a write (and a queue node) per pong.
            if (!f.reply.empty())
                enqueue(c, f.reply);
            c.rbuf.consume(f.length);
            break;
        case FrameCut::Kind::Error:
            close(c, CloseReason::BadFrame, "bad stream from %s: %s", c.remote.str().c_str(), f.error ? f.error : "?");
            return;
        case FrameCut::Kind::Frame:
            c.got_frame = true;
            c.msg_started_ms = 0;   // what is left (if anything) starts the next one
            c.frames_in++;
            host_.frame(c, data.substr(0, f.length));
            c.rbuf.consume(f.length);
            break;
        }
    }
    c.msg_started_ms = 0;   // every byte read belonged to a whole frame
}

bool ConnLoop::send(StreamConn& c, std::string_view data)
{
    if (!enqueue(c, data))
        return false;
    // Deferred up to one write's worth (kCoalesceBytes): a burst of bulk
    // data (a device's output) leaves as it comes, never piling up in the
    // queue towards tcp_max_write_queue within one turn.
    if (in_turn_ && c.wqueue_bytes < kCoalesceBytes) {
        if (!c.flush_queued) {
            c.flush_queued = true;
            to_flush_.push_back(c.id);
        }
        return true;
    }
    flush(c);
    return !c.closing;
}

// The writes of one turn: what the turn's reads routed to a connection goes
// in one write (and, over TLS, one record) instead of one per message.
void ConnLoop::flush_queued()
{
    for (size_t i = 0; i < to_flush_.size(); i++)
        if (auto it = conns_.find(to_flush_[i]); it != conns_.end()) {
            it->second->flush_queued = false;
            if (!it->second->closing)
                flush(*it->second);
        }
    to_flush_.clear();
}

void ConnLoop::read_again()
{
    if (to_read_.empty())
        return;
    std::vector<uint32_t> ids;
    ids.swap(to_read_);
    for (uint32_t id : ids)
        if (StreamConn* c = find(id); c && !c->held)
            read(*c);
}

bool ConnLoop::enqueue(StreamConn& c, std::string_view data)
{
    if (c.closing)
        return false;
    if (c.wqueue_bytes + data.size() > lim_.max_write_queue) {
        close(c, CloseReason::WriteQueueFull, "write queue to %s over tcp_max_write_queue=%zu bytes: peer is not reading",
              c.remote.str().c_str(), lim_.max_write_queue);
        return false;
    }
    // Small pieces (pongs, short messages) join the last queued one unless
    // that one is being written: a peer that sends pings and never reads
    // must not make a string (and its allocation overhead) per pong, and the
    // messages of one turn leave in one write. (A front piece not yet
    // touched, with no write refused, is not being written.)
    bool front_free = c.wqueue.size() == 1 && c.woff == 0 && !c.stalled_since_ms;
    if ((c.wqueue.size() > 1 || front_free) && c.wqueue.back().size() + data.size() <= kCoalesceBytes)
        c.wqueue.back().append(data);
    else
        c.wqueue.emplace_back(data);
    c.wqueue_bytes += data.size();
    c.frames_out++;
    c.dirty = true;
    return true;
}

void ConnLoop::flush(StreamConn& c)
{
    if (c.connecting || c.closing || !c.open)
        return;
    while (true) {
        // An empty write lets a transport with pending protocol data (TLS) move it.
        std::span<const char> chunk;
        if (!c.wqueue.empty())
            chunk = std::span<const char>(c.wqueue.front().data() + c.woff, c.wqueue.front().size() - c.woff);
        else if (!c.xprt->pending_write(c))
            break;
        errno = 0;
        IoResult r = c.xprt->write(c, chunk);
        after_io(c);
        if (r.status == IoStatus::Error || r.status == IoStatus::Closed) {
            fail_io(c, r.status, CloseReason::WriteError, c.established ? "write to" : "handshake with");
            return;
        }
        if (r.status == IoStatus::Again || c.wqueue.empty()) {
            if (!c.stalled_since_ms && !c.wqueue.empty())
                c.stalled_since_ms = now_ms();
            // Wait for writability only when that is what blocks us: a TLS
            // handshake waiting for the peer's answer waits for EPOLLIN, and
            // arming EPOLLOUT then would spin on an always-writable socket.
            set_want_write(c, r.status == IoStatus::Again && c.xprt->blocked_on_write(c));
            return;
        }
        c.stalled_since_ms = 0;
        c.last_active_ms = now_ms();   // sending is activity too (tcp_connection_lifetime)
        c.woff += r.bytes;
        c.wqueue_bytes -= r.bytes;
        c.bytes_out += r.bytes;
        c.dirty = true;
        if (c.woff == c.wqueue.front().size()) {
            c.wqueue.pop_front();
            c.woff = 0;
        }
    }
    set_want_write(c, false);
    if (c.close_when_sent)
        close(c, CloseReason::Done, "%s: exchange done", c.remote.str().c_str());
}

void ConnLoop::set_want_write(StreamConn& c, bool on)
{
    if (c.want_write == on)
        return;
    c.want_write = on;
    epoll_event ev{(c.held ? 0u : EPOLLIN | EPOLLRDHUP) | (on ? EPOLLOUT : 0u), {.u64 = kConn | c.id}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ConnLoop::close(StreamConn& c, CloseReason why, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vclose(c, why, is_fault(why) ? log::Level::Warn : log::Level::Info, fmt, ap);
    va_end(ap);
}

void ConnLoop::close_at(StreamConn& c, CloseReason why, log::Level level, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vclose(c, why, level, fmt, ap);
    va_end(ap);
}

void ConnLoop::vclose(StreamConn& c, CloseReason why, log::Level level, const char* fmt, va_list ap)
{
    if (c.closing)
        return;
    if (log::enabled(level)) {   // (a routine close at info costs no formatting when info is off)
        char msg[512];
        std::vsnprintf(msg, sizeof msg, fmt, ap);
        log::write(level, "conn %u: closing: %s", c.id, msg);
    }
    c.closing = true;
    stats_.count(why);
    dead_.emplace_back(c.id, why);
}

// A close the host already logged and counted (a refusal after the PROXY header).
void ConnLoop::close_quiet(StreamConn& c, CloseReason why)
{
    if (c.closing)
        return;
    c.closing = true;
    dead_.emplace_back(c.id, why);
}

void ConnLoop::reap()
{
    for (auto [id, why] : dead_) {
        auto it = conns_.find(id);
        if (it == conns_.end())
            continue;
        StreamConn& c = *it->second;
        if (c.dirty)
            host_.publish(c);
        host_.closed(c, why);
        c.xprt->close(c);
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        conns_.erase(it);
    }
    dead_.clear();
}

void ConnLoop::timers()
{
    int64_t now = now_ms();
    last_timer_ms_ = now;
    if (!paused_.empty() && now >= accept_resume_ms_)
        resume_accept();
    if (wake_ms_ && now >= wake_ms_)
        wake_ms_ = 0;
    run_ticks();
    int64_t idle = lim_.idle_timeout_s * 1000LL;
    // A peer that trickles bytes is active but never done: these bound a
    // frame's time and a new connection's time to its first frame.
    int64_t msg_read = lim_.msg_read_timeout_s * 1000LL;
    int64_t first_msg = lim_.first_msg_timeout_s * 1000LL;
    for (auto& [id, cp] : conns_) {
        StreamConn& c = *cp;
        if (c.closing)
            continue;
        if (c.dirty) {
            host_.publish(c);
            c.dirty = false;
        }
        if (c.connect_deadline_ms && now > c.connect_deadline_ms)
            close(c, CloseReason::ConnectTimeout, "connect to %s timed out", c.remote.str().c_str());
        else if (c.handshake_deadline_ms && now > c.handshake_deadline_ms) {
            if (c.xprt->proto() == Proto::Tls)
                stats_.count(TlsFailReason::Timeout);
            close_at(c, CloseReason::HandshakeTimeout, log::Level::Info, "handshake with %s timed out",
                     c.remote.str().c_str());
        }
        else if (int send_s = c.xprt->send_timeout_s(c, lim_.send_timeout_s);
                 c.stalled_since_ms && now - c.stalled_since_ms > send_s * 1000LL)
            close(c, CloseReason::SendTimeout, "send to %s timed out: %zu bytes could not leave in %d s",
                  c.remote.str().c_str(), c.wqueue_bytes, send_s);
        else if (c.proxy_pending && now - c.created_ms > first_msg)
            close(c, CloseReason::ProxyHeaderTimeout, "no complete PROXY header within tcp_first_msg_timeout=%d s "
                  "from %s (%zu bytes read)", lim_.first_msg_timeout_s, c.remote.str().c_str(), c.proxy_hdr.size());
        else if (!c.outgoing && !c.got_frame && now - c.created_ms > first_msg)
            close(c, CloseReason::FirstMsgTimeout, "no complete message within tcp_first_msg_timeout=%d s from %s "
                  "(%zu bytes buffered)", lim_.first_msg_timeout_s, c.remote.str().c_str(), c.rbuf.size());
        else if (c.msg_started_ms && now - c.msg_started_ms > msg_read)
            close(c, CloseReason::MsgReadTimeout, "message not complete within tcp_msg_read_timeout=%d s from %s "
                  "(%zu bytes buffered)", lim_.msg_read_timeout_s, c.remote.str().c_str(), c.rbuf.size());
        else if (now - c.last_active_ms > idle && c.wqueue.empty())
            close(c, CloseReason::Idle, "idle for tcp_connection_lifetime=%d s", lim_.idle_timeout_s);
    }
    reap();
}

}  // namespace ser

// The TCP/TLS worker's event loop. Connections are closed only in reap(), at
// the end of a loop turn, so a handler may fail a connection it is reading from.
#include "proc/tcp_worker.h"

#include "io/channel.h"
#include "shm/conn_table.h"
#include "log.h"
#include "sip/sip_framing.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace ser {
namespace {

// epoll data: kind in the top byte, listener index or connection id below.
enum : uint64_t { kListener = 1ull << 56, kChannel = 2ull << 56, kConn = 3ull << 56, kKindMask = 0xffull << 56 };
constexpr int kMaxReadsPerEvent = 16;
constexpr int kTimerPeriodMs = 200;
constexpr int kAcceptPauseMs = 500;
constexpr size_t kCoalesceBytes = 16384;

// Peers going away or being slow are routine (info); our faults and protocol errors are not.
bool routine(CloseReason r)
{
    return r == CloseReason::Peer || r == CloseReason::ConnectFailed || r == CloseReason::Idle ||
           r == CloseReason::MsgReadTimeout || r == CloseReason::FirstMsgTimeout;
}

}  // namespace

TcpWorker::TcpWorker(Runtime& rt, int index, StatsSlot stats) : rt_(rt), index_(index), stats_(stats)
{
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < rt_.streams.size(); i++) {
        epoll_event ev{EPOLLIN, {.u64 = kListener | i}};
        epoll_ctl(ep_, EPOLL_CTL_ADD, rt_.streams[i].fds[index_], &ev);
    }
    epoll_event ev{EPOLLIN, {.u64 = kChannel}};
    epoll_ctl(ep_, EPOLL_CTL_ADD, rt_.channels[index].fds[0], &ev);
}

TcpWorker::~TcpWorker()
{
    for (auto& [id, c] : conns_) {
        c->xprt->close(*c);
        ::close(c->fd);
        rt_.conns->remove(id);
    }
    if (ep_ >= 0)
        ::close(ep_);
}

int TcpWorker::run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup)
{
    epoll_event evs[64];
    while (!stop) {
        if (hup) {
            hup = 0;
            reload();
        }
        int n = epoll_wait(ep_, evs, 64, kTimerPeriodMs);
        if (n < 0 && errno != EINTR) {
            LOG_CRIT("epoll_wait failed: %s", std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            switch (d & kKindMask) {
            case kListener: on_accept(rt_.streams[d & ~kKindMask]); break;
            case kChannel: on_channel(); break;
            case kConn: {
                auto it = conns_.find(static_cast<uint32_t>(d & 0xffffffffu));
                if (it != conns_.end() && !it->second->closing)
                    on_conn_event(*it->second, evs[i].events);
                break;
            }
            }
        }
        reap();
        if (now_ms() - last_timer_ms_ >= kTimerPeriodMs)
            timers();
    }
    return 0;
}

StreamConn* TcpWorker::add_conn(int fd, Proto proto, const SockAddr& local, const SockAddr& remote, bool outgoing)
{
    Transport* x = find_transport(proto);
    if (!x) {
        LOG_ERR("no transport for %s", std::string(proto_name(proto)).c_str());
        return nullptr;
    }
    TcpConnRecord rec;
    rec.proto = proto;
    rec.state = outgoing ? ConnState::Connecting : ConnState::Established;
    rec.outgoing = outgoing;
    rec.owner = static_cast<int16_t>(index_);
    rec.local = local;
    rec.remote = remote;
    rec.created_ms = rec.last_active_ms = wall_ms();
    uint32_t id = rt_.conns->add(rec);
    if (id == 0) {
        stats_.count(RefuseReason::TableFull);
        LOG_ERR("connection table full (tcp_max_connections=%d): refusing %s connection %s %s",
                rt_.cfg->tcp_max_connections, std::string(proto_name(proto)).c_str(), outgoing ? "to" : "from",
                remote.str().c_str());
        return nullptr;
    }
    size_t rbuf = static_cast<size_t>(rt_.cfg->tcp_max_msg_size) + 64;
    auto c = std::make_unique<StreamConn>(id, fd, *x, rbuf);
    c->local = local;
    c->remote = remote;
    c->outgoing = outgoing;
    c->created_ms = c->last_active_ms = now_ms();
    epoll_event ev{EPOLLIN | EPOLLRDHUP | (outgoing ? EPOLLOUT : 0u), {.u64 = kConn | id}};
    c->want_write = outgoing;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    StreamConn* p = c.get();
    conns_.emplace(id, std::move(c));
    return p;
}

void TcpWorker::on_accept(const StreamListener& l)
{
    for (int i = 0; i < 64; i++) {
        SockAddr remote;
        remote.len = sizeof remote.ss;
        int fd = accept4(l.fds[index_], remote.sa(), &remote.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(l, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                LOG_ERR("accept() failed: %s", std::strerror(errno));
            return;
        }
        const ListenAddr& la = rt_.listen_addrs[l.listen_idx];
        SockAddr local;
        local.len = sizeof local.ss;
        getsockname(fd, local.sa(), &local.len);
        StreamConn* c = add_conn(fd, la.proto, local, remote, false);
        if (!c) {
            ::close(fd);
            continue;
        }
        stats_.count(Stat::ConnsAccepted);
        c->listener = &la;
        LOG_DBG("conn %u: accepted %s from %s", c->id, std::string(proto_name(la.proto)).c_str(),
                remote.str().c_str());
        on_connected(*c);
    }
}

void TcpWorker::pause_accept(const StreamListener& l, int err)
{
    // Out of descriptors or memory: the pending connection stays in the
    // backlog and the level-triggered listener would fire again at once.
    // Stop listening for a moment instead of spinning, and say it once.
    stats_.count(RefuseReason::FdExhausted);
    size_t idx = static_cast<size_t>(&l - rt_.streams.data());
    epoll_event ev{0, {.u64 = kListener | idx}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, l.fds[index_], &ev);
    paused_.push_back(idx);
    accept_resume_ms_ = now_ms() + kAcceptPauseMs;
    LOG_ERR("accept() on %s failed: %s; not accepting for %d ms (%zu connections open here)",
            rt_.listen_addrs[l.listen_idx].addr.str().c_str(), std::strerror(err), kAcceptPauseMs, conns_.size());
}

void TcpWorker::resume_accept()
{
    for (size_t idx : paused_) {
        epoll_event ev{EPOLLIN, {.u64 = kListener | idx}};
        epoll_ctl(ep_, EPOLL_CTL_MOD, rt_.streams[idx].fds[index_], &ev);
    }
    paused_.clear();
}

void TcpWorker::on_connected(StreamConn& c)
{
    c.connecting = false;
    c.deadline_ms = 0;
    if (c.xprt->on_open(c) != IoStatus::Ok) {
        fail(c, CloseReason::Error, "transport refused the connection");
        return;
    }
    c.open = true;
    // The handshake deadline (TLS) is set by on_open; plain TCP has none.
    rt_.conns->update(c.id, [&](TcpConnRecord& r) {
        r.state = ConnState::Established;
        r.local = c.local;
    });
    flush(c);
}

void TcpWorker::on_conn_event(StreamConn& c, uint32_t events)
{
    if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            fail(c, CloseReason::ConnectFailed, "connect to %s failed: %s", c.remote.str().c_str(),
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
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        read_conn(c);
    if (!c.closing && (events & EPOLLOUT))
        flush(c);
}

void TcpWorker::read_conn(StreamConn& c)
{
    for (int i = 0; i < kMaxReadsPerEvent && !c.closing; i++) {
        errno = 0;   // a TLS failure sets no errno; do not report a stale one
        IoResult r = c.xprt->read(c, c.rbuf);
        if (r.status == IoStatus::Ok) {
            c.last_active_ms = now_ms();
            rt_.conns->update(c.id, [&](TcpConnRecord& rec) {
                rec.bytes_in += r.bytes;
                rec.last_active_ms = wall_ms();
            });
            frame_conn(c);
            continue;
        }
        if (r.status == IoStatus::Again)
            break;
        if (r.status == IoStatus::Closed)
            fail(c, CloseReason::Peer, "closed by peer %s", c.remote.str().c_str());
        else
            fail(c, CloseReason::Error, "read error from %s%s%s", c.remote.str().c_str(), errno ? ": " : "",
                 errno ? std::strerror(errno) : "");
        return;
    }
    // A TLS read may have produced handshake bytes to send.
    if (!c.closing)
        flush(c);
}

void TcpWorker::frame_conn(StreamConn& c)
{
    size_t max = static_cast<size_t>(rt_.cfg->tcp_max_msg_size);
    while (!c.closing && !c.rbuf.empty()) {
        std::string_view data = c.rbuf.data();
        sip::Frame f = sip::next_frame(data, max);
        switch (f.status) {
        case sip::FrameStatus::NeedMore:
            if (c.rbuf.space_left() == 0)
                fail(c, CloseReason::TooLarge, "message from %s larger than tcp_max_msg_size=%zu",
                     c.remote.str().c_str(), max);
            // A partial message is on the clock (tcp_msg_read_timeout) from
            // the read that brought its first byte.
            if (!c.msg_started_ms)
                c.msg_started_ms = now_ms();
            return;
        case sip::FrameStatus::Ping:
            // RFC 5626 §4.4.1: a CRLFCRLF ping gets a CRLF pong.
            queue(c, "\r\n");
            c.rbuf.consume(f.length);
            break;
        case sip::FrameStatus::Pong:
            c.rbuf.consume(f.length);
            break;
        case sip::FrameStatus::Error:
            stats_.count(Stat::ParseErrors);
            fail(c, CloseReason::BadFrame, "bad stream from %s: %s", c.remote.str().c_str(), f.error.c_str());
            return;
        case sip::FrameStatus::Message: {
            c.got_msg = true;
            c.msg_started_ms = 0;   // what is left (if anything) starts the next one
            rt_.conns->update(c.id, [](TcpConnRecord& r) { r.msgs_in++; });
            stats_.msg_in(c.xprt->proto(), rt_.listener_index(c.listener));
            if (handler_)
                handler_(data.substr(0, f.length), recv_info(c), c);
            c.rbuf.consume(f.length);
            break;
        }
        }
    }
    c.msg_started_ms = 0;   // every byte read belonged to a whole message
}

RecvInfo TcpWorker::recv_info(const StreamConn& c) const
{
    RecvInfo ri;
    ri.proto = c.xprt->proto();
    ri.src = c.remote;
    ri.dst = c.local;
    ri.conn_id = c.id;
    ri.listener = c.listener;
    return ri;
}

bool TcpWorker::queue(StreamConn& c, std::string_view data)
{
    if (c.closing)
        return false;
    if (c.wqueue_bytes + data.size() > static_cast<size_t>(rt_.cfg->tcp_max_write_queue)) {
        fail(c, CloseReason::WriteQueueFull,
             "write queue to %s over tcp_max_write_queue=%d bytes: peer is not reading", c.remote.str().c_str(),
             rt_.cfg->tcp_max_write_queue);
        return false;
    }
    // Small pieces (pongs, short messages) join the last queued one unless
    // that one is being written: a peer that sends pings and never reads
    // must not make a string (and its allocation overhead) per pong.
    if (c.wqueue.size() > 1 && c.wqueue.back().size() + data.size() <= kCoalesceBytes)
        c.wqueue.back().append(data);
    else
        c.wqueue.emplace_back(data);
    c.wqueue_bytes += data.size();
    rt_.conns->update(c.id, [](TcpConnRecord& r) { r.msgs_out++; });
    return true;
}

void TcpWorker::flush(StreamConn& c)
{
    if (c.connecting || c.closing)
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
        if (r.status == IoStatus::Error || r.status == IoStatus::Closed) {
            fail(c, CloseReason::Error, "write to %s failed%s%s", c.remote.str().c_str(), errno ? ": " : "",
                 errno ? std::strerror(errno) : "");
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
        c.woff += r.bytes;
        c.wqueue_bytes -= r.bytes;
        rt_.conns->update(c.id, [&](TcpConnRecord& rec) { rec.bytes_out += r.bytes; });
        if (c.woff == c.wqueue.front().size()) {
            c.wqueue.pop_front();
            c.woff = 0;
        }
    }
    set_want_write(c, false);
}

void TcpWorker::set_want_write(StreamConn& c, bool on)
{
    if (c.want_write == on)
        return;
    c.want_write = on;
    epoll_event ev{EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u), {.u64 = kConn | c.id}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

StreamConn* TcpWorker::connect_to(const SendTarget& t)
{
    int fd = socket(t.dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            stats_.count(RefuseReason::FdExhausted);
        LOG_ERR("socket() for %s failed: %s", t.dst.str().c_str(), std::strerror(errno));
        return nullptr;
    }
    if (connect(fd, t.dst.sa(), t.dst.len) != 0 && errno != EINPROGRESS) {
        LOG_INFO("connect to %s failed: %s", t.dst.str().c_str(), std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    SockAddr local;
    StreamConn* c = add_conn(fd, t.proto, local, t.dst, true);
    if (!c) {
        ::close(fd);
        return nullptr;
    }
    c->connecting = true;
    stats_.count(Stat::ConnsOpened);
    c->host = t.host;
    rt_.conns->update(c->id, [&](TcpConnRecord& r) { std::snprintf(r.host, sizeof r.host, "%s", t.host.c_str()); });
    c->deadline_ms = now_ms() + rt_.cfg->tcp_connect_timeout * 1000LL;
    for (const auto& l : rt_.listen_addrs)
        if (l.proto == t.proto && l.addr.family() == t.dst.family()) {
            c->listener = &l;
            break;
        }
    LOG_DBG("conn %u: connecting to %s", c->id, t.dst.str().c_str());
    return c;
}

bool TcpWorker::send_local(const SendTarget& t, std::string_view data)
{
    StreamConn* c = nullptr;
    if (t.conn_id) {
        auto it = conns_.find(t.conn_id);
        if (it != conns_.end() && !it->second->closing)
            c = it->second.get();
    }
    if (!c && t.dst.family() != 0) {
        for (auto& [id, sc] : conns_)
            // A TLS connection serves only the name its certificate was checked for.
            if (!sc->closing && sc->xprt->proto() == t.proto && sc->remote == t.dst &&
                (t.proto != Proto::Tls || tls_reusable(sc->outgoing, sc->host, t.host))) {
                c = sc.get();
                break;
            }
        if (!c)
            c = connect_to(t);
    }
    if (!c)
        return false;
    if (!queue(*c, data))
        return false;
    stats_.msg_out(c->xprt->proto(), rt_.listener_index(c->listener));
    flush(*c);
    return true;
}

void TcpWorker::on_channel()
{
    if (chan_buf_.empty())
        chan_buf_.resize(chan_max_bytes(*rt_.cfg));
    for (int i = 0; i < 256; i++) {
        // MSG_TRUNC returns the real size: a truncated message is dropped,
        // never forwarded as a shorter one.
        ssize_t n = recv(rt_.channels[index_].fds[0], chan_buf_.data(), chan_buf_.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n <= 0)
            return;
        if (static_cast<size_t>(n) > chan_buf_.size()) {
            LOG_ERR("channel message of %zd bytes over the %zu-byte limit dropped", n, chan_buf_.size());
            continue;
        }
        auto m = chan_decode(std::string_view(chan_buf_.data(), static_cast<size_t>(n)));
        if (!m) {
            LOG_ERR("malformed channel message (%zd bytes) ignored", n);
            continue;
        }
        SendTarget t;
        t.proto = m->proto;
        t.dst = m->dst;
        t.conn_id = m->conn_id;
        t.host = std::string(m->host);
        if (!send_local(t, m->data))
            stats_.count(SendError::Stream);
    }
}

void TcpWorker::fail(StreamConn& c, CloseReason why, const char* fmt, ...)
{
    if (c.closing)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    stats_.count(why);
    if (!routine(why)) {
        LOG_WARN("conn %u: closing: %s", c.id, msg);
    } else {
        LOG_INFO("conn %u: closing: %s", c.id, msg);
    }
    c.closing = true;
    dead_.push_back(c.id);
}

void TcpWorker::slow_peer(StreamConn& c, CloseReason reason, const char* what, int secs)
{
    char why[128];
    std::snprintf(why, sizeof why, what, secs);
    fail(c, reason, "%s from %s (%zu bytes buffered)", why, c.remote.str().c_str(), c.rbuf.size());
}

void TcpWorker::reap()
{
    for (uint32_t id : dead_) {
        auto it = conns_.find(id);
        if (it == conns_.end())
            continue;
        StreamConn& c = *it->second;
        c.xprt->close(c);
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        rt_.conns->remove(id);
        conns_.erase(it);
    }
    dead_.clear();
}

void TcpWorker::reload()
{
    std::string err = reload_transports();
    if (!err.empty())
        LOG_ERR("TLS reload failed, the old certificates stay in use: %s", err.c_str());
    else if (find_transport(Proto::Tls))
        LOG_NOTICE("TLS certificates and keys reloaded; open connections keep theirs");
}

void TcpWorker::timers()
{
    int64_t now = now_ms();
    last_timer_ms_ = now;
    if (!paused_.empty() && now >= accept_resume_ms_)
        resume_accept();
    int64_t lifetime = rt_.cfg->tcp_connection_lifetime * 1000LL;
    // A peer that trickles bytes is active but never done: these bound a
    // message's time and a new connection's time to its first message.
    int64_t msg_read = rt_.cfg->tcp_msg_read_timeout * 1000LL;
    int64_t first_msg = rt_.cfg->tcp_first_msg_timeout * 1000LL;

    for (auto& [id, cp] : conns_) {
        StreamConn& c = *cp;
        if (c.closing)
            continue;
        if (c.deadline_ms && now > c.deadline_ms)
            fail(c, c.connecting ? CloseReason::ConnectTimeout : CloseReason::HandshakeTimeout,
                 c.connecting ? "connect to %s timed out" : "handshake with %s timed out",
                 c.remote.str().c_str());
        else if (int send_s = c.xprt->send_timeout_s(c, rt_.cfg->tcp_send_timeout);
                 c.stalled_since_ms && now - c.stalled_since_ms > send_s * 1000LL)
            fail(c, CloseReason::SendTimeout, "send to %s timed out: %zu bytes could not leave in %d s",
                 c.remote.str().c_str(), c.wqueue_bytes, send_s);
        else if (!c.outgoing && !c.got_msg && now - c.created_ms > first_msg)
            slow_peer(c, CloseReason::FirstMsgTimeout, "no complete message within tcp_first_msg_timeout=%d s",
                      rt_.cfg->tcp_first_msg_timeout);
        else if (c.msg_started_ms && now - c.msg_started_ms > msg_read)
            slow_peer(c, CloseReason::MsgReadTimeout, "message not complete within tcp_msg_read_timeout=%d s",
                      rt_.cfg->tcp_msg_read_timeout);
        else if (now - c.last_active_ms > lifetime && c.wqueue.empty())
            fail(c, CloseReason::Idle, "idle for tcp_connection_lifetime=%d s", rt_.cfg->tcp_connection_lifetime);
    }
    reap();
}

}  // namespace ser

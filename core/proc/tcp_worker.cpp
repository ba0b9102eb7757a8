// The TCP/TLS worker: the connection loop plus what is SIP and shared about
// it — the SIP framer, the channel from other processes, the connection table.
#include "proc/tcp_worker.h"

#include "clock.h"
#include "io/channel.h"
#include "log.h"
#include "shm/conn_table.h"
#include "sip/sip_framing.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace ser {
namespace {

// SIP messages and RFC 5626 keep-alives on a stream.
class SipFramer final : public Framer {
public:
    explicit SipFramer(size_t max_msg_size) : max_(max_msg_size) {}
    FrameCut next(std::string_view buf) override
    {
        sip::Frame f = sip::next_frame(buf, max_);
        switch (f.status) {
        case sip::FrameStatus::NeedMore: return {};
        // RFC 5626 §4.4.1: a CRLFCRLF ping gets a CRLF pong.
        case sip::FrameStatus::Ping: return {FrameCut::Kind::Skip, f.length, "\r\n", nullptr};
        case sip::FrameStatus::Pong: return {FrameCut::Kind::Skip, f.length, {}, nullptr};
        case sip::FrameStatus::Message: return {FrameCut::Kind::Frame, f.length, {}, nullptr};
        case sip::FrameStatus::Error: break;
        }
        error_ = std::move(f.error);
        return {FrameCut::Kind::Error, 0, {}, error_.c_str()};
    }

private:
    size_t max_;
    std::string error_;   // the last error, alive until the next call
};

}  // namespace

LoopLimits tcp_loop_limits(const Config& cfg)
{
    LoopLimits l;
    l.read_buffer = static_cast<size_t>(cfg.tcp_max_msg_size) + 64;
    l.max_write_queue = static_cast<size_t>(cfg.tcp_max_write_queue);
    l.send_timeout_s = cfg.tcp_send_timeout;
    l.connect_timeout_s = cfg.tcp_connect_timeout;
    l.idle_timeout_s = cfg.tcp_connection_lifetime;
    l.msg_read_timeout_s = cfg.tcp_msg_read_timeout;
    l.first_msg_timeout_s = cfg.tcp_first_msg_timeout;
    return l;
}

TcpWorker::TcpWorker(Runtime& rt, int index, StatsSlot stats)
    : rt_(rt), index_(index), stats_(stats),
      framer_(std::make_unique<SipFramer>(static_cast<size_t>(rt.cfg->tcp_max_msg_size))),
      loop_(std::make_unique<ConnLoop>(tcp_loop_limits(*rt.cfg), *this, stats))
{
    for (const StreamListener& sl : rt_.streams) {
        const ListenAddr& la = rt_.listen_addrs[sl.listen_idx];
        Transport* x = find_transport(la.proto);
        if (!x) {
            LOG_ERR("no transport for %s listener %s: not accepting there", std::string(proto_name(la.proto)).c_str(),
                    la.addr.str().c_str());
            continue;
        }
        loop_->add_listener(sl.fds[index_], *x, *framer_, &la, la.proxy_protocol,
                            rt_.accept_gates ? &rt_.accept_gates[sl.listen_idx] : nullptr);
    }
    loop_->watch(rt_.channels[index].fds[0], [this] { on_channel(); });
    loop_->add_tick([this] { run_fail_overs(); });
}

TcpWorker::~TcpWorker()
{
    loop_.reset();
}

int TcpWorker::run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup)
{
    return loop_->run(stop, hup, [this] { reload(); });
}

namespace {

bool from_balancer(const Config& cfg, const SockAddr& a)
{
    return std::any_of(cfg.proxy_protocol_from.begin(), cfg.proxy_protocol_from.end(),
                       [&](const Cidr& c) { return c.contains(a); });
}

}  // namespace

uint32_t TcpWorker::admit(const StreamConn& c)
{
    const Config& cfg = *rt_.cfg;
    // Before anything is read: a PROXY header is believed from the load
    // balancers named in proxy_protocol_from only.
    if (c.proxy_pending && !from_balancer(cfg, c.remote)) {
        stats_.count(RefuseReason::ProxyNotAllowed);
        LOG_WARN("refusing %s connection from %s on %s: not in proxy_protocol_from (the listener expects a PROXY "
                 "header from a load balancer)", std::string(proto_name(c.xprt->proto())).c_str(),
                 c.remote.str().c_str(), c.listener ? c.listener->addr.str().c_str() : "?");
        return 0;
    }
    TcpConnRecord rec;
    rec.proto = c.xprt->proto();
    rec.state = c.outgoing ? ConnState::Connecting : ConnState::Established;
    rec.outgoing = c.outgoing;
    rec.owner = static_cast<int16_t>(index_);
    rec.local = c.local;
    rec.remote = c.remote;
    rec.created_ms = rec.last_active_ms = wall_ms();
    // The name an outgoing TLS connection is checked against: known now, so
    // messages that come while it connects reuse it instead of opening another.
    std::snprintf(rec.host, sizeof rec.host, "%s", c.host.c_str());
    // Counted per client address when accepted; behind a balancer the client
    // is known once its header is in (proxied()).
    uint32_t per_ip = c.outgoing || c.proxy_pending ? 0u : static_cast<uint32_t>(cfg.tcp_max_conns_per_ip);
    ConnTable::Refusal why = ConnTable::Refusal::None;
    uint32_t id = rt_.conns->add(rec, per_ip, &why);
    if (id == 0 && why == ConnTable::Refusal::PerIpLimit) {
        refuse_per_ip(c);
        return 0;
    }
    if (id == 0) {
        stats_.count(RefuseReason::TableFull);
        LOG_ERR("connection table full (tcp_max_connections=%d): refusing %s connection %s %s",
                rt_.cfg->tcp_max_connections, std::string(proto_name(rec.proto)).c_str(),
                c.outgoing ? "to" : "from", c.remote.str().c_str());
        return 0;
    }
    stats_.count(c.outgoing ? Stat::ConnsOpened : Stat::ConnsAccepted);
    return id;
}

void TcpWorker::refuse_per_ip(const StreamConn& c)
{
    stats_.count(RefuseReason::PerIpLimit);
    std::string via = c.via.family() ? " via " + c.via.str() : std::string();
    LOG_WARN("refusing %s connection from %s%s: tcp_max_conns_per_ip=%d connections from that address are open",
             std::string(proto_name(c.xprt->proto())).c_str(), c.remote.str().c_str(), via.c_str(),
             rt_.cfg->tcp_max_conns_per_ip);
}

bool TcpWorker::proxied(StreamConn& c)
{
    ConnTable::Refusal why = ConnTable::Refusal::None;
    // No client relayed: the balancer's own connection is counted as itself.
    if (rt_.conns->set_client(c.id, c.remote, c.via, static_cast<uint32_t>(rt_.cfg->tcp_max_conns_per_ip), &why))
        return true;
    if (why == ConnTable::Refusal::PerIpLimit)
        refuse_per_ip(c);
    return false;
}

void TcpWorker::established(StreamConn& c)
{
    alternates_.erase(c.id);
    const TlsFacts* f = c.xprt->describe(c);
    rt_.conns->update(c.id, [&](TcpConnRecord& r) {
        r.state = ConnState::Established;
        r.local = c.local;
        if (f) {
            std::snprintf(r.tls_version, sizeof r.tls_version, "%s", f->version.c_str());
            std::snprintf(r.tls_cipher, sizeof r.tls_cipher, "%s", f->cipher.c_str());
            std::snprintf(r.tls_peer_subject, sizeof r.tls_peer_subject, "%s", f->peer_subject.c_str());
            r.tls_verified = f->verified ? 1 : 0;
            r.tls_resumed = f->resumed;
            std::snprintf(r.tls_sni, sizeof r.tls_sni, "%s", f->sni.c_str());
        }
    });
    if (f)
        LOG_INFO("conn %u: TLS with %s: %s %s%s, peer %s%s", c.id, c.remote.str().c_str(), f->version.c_str(),
                 f->cipher.c_str(), f->resumed ? " (resumed)" : "",
                 f->peer_subject.empty() ? "without certificate" : f->peer_subject.c_str(),
                 f->peer_subject.empty() ? "" : (f->verified ? " (verified)" : " (not verified)"));
}

void TcpWorker::frame(StreamConn& c, std::string_view f)
{
    stats_.msg_in(c.xprt->proto(), rt_.listener_index(c.listener));
    if (handler_)
        handler_(f, recv_info(c), c);
}

void TcpWorker::publish(StreamConn& c)
{
    rt_.conns->update(c.id, [&](TcpConnRecord& r) {
        r.bytes_in = c.bytes_in;
        r.bytes_out = c.bytes_out;
        r.msgs_in = c.frames_in;
        r.msgs_out = c.frames_out;
        r.last_active_ms = wall_ms() - (now_ms() - c.last_active_ms);
    });
}

void TcpWorker::closed(StreamConn& c, CloseReason why)
{
    fail_over(c, why);
    // The loop counted the close by reason; a stream that is not SIP is also a parse error.
    if (why == CloseReason::BadFrame)
        stats_.count(Stat::ParseErrors);
    rt_.conns->remove(c.id);
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

// The listener a new connection for t leaves from: the one the proxy chose
// (its address is in our Via), else the first of that proto and family.
const ListenAddr* TcpWorker::source_for(const SendTarget& t) const
{
    if (t.from && t.from->proto == t.proto && t.from->addr.family() == t.dst.family())
        return t.from;
    for (const auto& l : rt_.listen_addrs)
        if (l.proto == t.proto && l.addr.family() == t.dst.family())
            return &l;
    return nullptr;
}

bool TcpWorker::send_local(const SendTarget& t, std::string_view data)
{
    StreamConn* c = t.conn_id ? loop_->find(t.conn_id) : nullptr;
    if (!c && t.dst.family() != 0) {
        // Which open connection may carry it is the connection table's one
        // decision (a TLS connection only for the name it was checked for).
        if (auto rec = rt_.conns->find(t.proto, t.dst, t.host); rec && rec->owner == index_)
            c = loop_->find(rec->id);
        if (!c) {
            Transport* x = find_transport(t.proto);
            if (!x) {
                LOG_ERR("no transport for %s", std::string(proto_name(t.proto)).c_str());
                return false;
            }
            c = loop_->connect(t.dst, source_for(t), *x, *framer_, t.host);
            if (!c && !t.alternates.empty()) {
                // Could not even start: the next address at once.
                SendTarget next = t;
                next.dst = next.alternates.front();
                next.alternates.erase(next.alternates.begin());
                LOG_INFO("connect to %s not started: trying %s", t.dst.str().c_str(), next.dst.str().c_str());
                return send_local(next, data);
            }
            if (c && !t.alternates.empty())
                alternates_[c->id] = t;
        }
    }
    if (!c || !loop_->send(*c, data))
        return false;
    stats_.msg_out(c->xprt->proto(), rt_.listener_index(c->listener));
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
        if (m->kind == ChanKind::Close) {
            if (StreamConn* c = loop_->find(m->conn_id))
                loop_->close(*c, CloseReason::Operator, "closed by the operator (conn.close %u)", m->conn_id);
            continue;
        }
        SendTarget t;
        t.proto = m->proto;
        t.dst = m->dst;
        t.conn_id = m->conn_id;
        t.host = std::string(m->host);
        t.alternates = std::move(m->alternates);
        if (m->from >= 0 && static_cast<size_t>(m->from) < rt_.listen_addrs.size())
            t.from = &rt_.listen_addrs[static_cast<size_t>(m->from)];
        if (!send_local(t, m->data))
            stats_.count(SendError::Stream);
    }
}

void TcpWorker::fail_over(StreamConn& c, CloseReason why)
{
    auto it = alternates_.find(c.id);
    if (it == alternates_.end())
        return;
    SendTarget next = std::move(it->second);
    alternates_.erase(it);
    // Only a connect that failed: once a byte may have left, resending could duplicate.
    if ((why != CloseReason::ConnectFailed && why != CloseReason::ConnectTimeout) || c.wqueue.empty())
        return;
    std::string data;
    for (size_t i = 0; i < c.wqueue.size(); i++)
        data += i == 0 ? c.wqueue[i].substr(c.woff) : c.wqueue[i];
    SockAddr failed = next.dst;
    next.dst = next.alternates.front();
    next.alternates.erase(next.alternates.begin());
    LOG_NOTICE("connect to %s failed: %zu bytes go to the next target, %s", failed.str().c_str(), data.size(),
               next.dst.str().c_str());
    fail_overs_.emplace_back(std::move(next), std::move(data));
    loop_->wake_at(now_ms());
}

void TcpWorker::run_fail_overs()
{
    std::vector<std::pair<SendTarget, std::string>> due = std::move(fail_overs_);
    fail_overs_.clear();
    for (auto& [t, data] : due)
        if (!send_local(t, data))
            stats_.count(SendError::Stream);
}

void TcpWorker::reload()
{
    std::string err = reload_transports();
    if (!err.empty())
        LOG_ERR("TLS reload failed, the old certificates stay in use: %s", err.c_str());
    else if (find_transport(Proto::Tls))
        LOG_INFO("TLS certificates and keys reloaded; open connections keep theirs");
}

}  // namespace ser

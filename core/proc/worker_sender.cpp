#include "proc/worker_sender.h"

#include "io/channel.h"
#include "log.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ser {

namespace {

constexpr size_t kMaxSourceCache = 1024;

// The local address the kernel would send from to reach `dst` (a connect()ed
// UDP socket sends nothing); nullopt when there is no route.
std::optional<SockAddr> route_source(const SockAddr& dst)
{
    int fd = socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::nullopt;
    std::optional<SockAddr> out;
    SockAddr probe = dst;
    if (probe.port() == 0)
        probe.set_port(9);
    if (connect(fd, probe.sa(), probe.len) == 0) {
        SockAddr local;
        local.len = sizeof local.ss;
        if (getsockname(fd, local.sa(), &local.len) == 0)
            out = local;
    }
    close(fd);
    return out;
}

}  // namespace

const ListenAddr* WorkerSender::pick_listener(Proto p, const SockAddr& dst) const
{
    const ListenAddr* first = nullptr;
    size_t n = 0;
    for (const auto& l : rt_.listen_addrs)
        if (l.proto == p && l.addr.family() == dst.family()) {
            first = first ? first : &l;
            n++;
        }
    if (n <= 1)
        return first;
    // Several candidates (a wildcard expanded, or several addresses): the one
    // the kernel's route to dst leaves from, so Via and source agree.
    std::string key = dst.ip();
    auto it = source_of_.find(key);
    if (it == source_of_.end()) {
        auto src = route_source(dst);
        if (!src)
            return first;
        if (source_of_.size() >= kMaxSourceCache)
            source_of_.clear();
        it = source_of_.emplace(key, *src).first;
    }
    for (const auto& l : rt_.listen_addrs)
        if (l.proto == p && l.addr.same_ip(it->second))
            return &l;
    return first;
}

bool WorkerSender::send(const SendTarget& t, std::string_view data)
{
    // Each refusal is counted where its cause is known; a stream message that
    // leaves is counted by the worker that queues it.
    return t.proto == Proto::Udp ? send_udp(t, data) : send_stream(t, data);
}

bool WorkerSender::send_udp(const SendTarget& t, std::string_view data)
{
    const UdpListener* u = rt_.udp_sender(t.from ? t.from : pick_listener(Proto::Udp, t.dst), t.dst.family());
    if (!u) {
        LOG_WARN("no udp listener of the family of %s to send from", t.dst.str().c_str());
        return refused(SendError::NoListener);
    }
    if (sendto(u->fds[0], data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL, t.dst.sa(), t.dst.len) < 0) {
        LOG_INFO("sendto %s failed: %s", t.dst.str().c_str(), std::strerror(errno));
        return refused(SendError::Socket);
    }
    stats_.msg_out(Proto::Udp, static_cast<int>(u->listen_idx));
    return true;
}

bool WorkerSender::hand_to(int worker, ChanKind kind, const SendTarget& t, uint32_t conn_id, std::string_view data)
{
    if (worker < 0 || static_cast<size_t>(worker) >= rt_.channels.size())
        return refused(SendError::ConnGone);
    ChanMsg m;
    m.kind = kind;
    m.proto = t.proto;
    m.conn_id = conn_id;
    m.dst = t.dst;
    m.from = static_cast<int16_t>(rt_.listener_index(t.from));
    m.host = t.host;
    m.data = data;
    m.alternates = t.alternates;
    if (!chan_send(rt_.channels[worker].fds[1], m)) {
        LOG_WARN("tcp worker %d is not keeping up (channel full): message to %s dropped", worker,
                 t.dst.str().c_str());
        return refused(SendError::ChannelFull);
    }
    return true;
}

bool WorkerSender::send_stream(const SendTarget& t, std::string_view data)
{
    if (rt_.channels.empty()) {
        LOG_WARN("no tcp workers: cannot send %s to %s", std::string(proto_name(t.proto)).c_str(),
                 t.dst.str().c_str());
        return refused(SendError::NoListener);
    }
    std::optional<TcpConnRecord> rec;
    if (t.conn_id) {
        rec = rt_.conns->get(t.conn_id);
        // An i= alias comes from the message itself: honour it only for the
        // peer the Via names, so a forged one cannot reach another client.
        if (rec && t.dst.family() != 0 && !rec->remote.same_ip(t.dst)) {
            LOG_NOTICE("connection %u belongs to %s, not %s: alias ignored", t.conn_id, rec->remote.str().c_str(),
                       t.dst.str().c_str());
            rec.reset();
        }
    }
    if (!rec && t.dst.family() != 0)
        rec = rt_.conns->find(t.proto, t.dst, t.host);
    if (rec) {
        SendTarget via = t;
        via.conn_id = rec->id;
        if (self_ && rec->owner == self_->worker_index())
            return self_->send_local(via, data) || refused(SendError::Stream);
        return hand_to(rec->owner, ChanKind::SendConn, via, rec->id, data);
    }
    if (t.dst.family() == 0) {
        LOG_INFO("connection %u is gone and no address is known: message dropped", t.conn_id);
        return refused(SendError::ConnGone);
    }
    SendTarget by_addr = t;
    by_addr.conn_id = 0;
    if (self_)
        return self_->send_local(by_addr, data) || refused(SendError::Stream);
    // A new outgoing connection: the same destination always goes to the same worker.
    int w = static_cast<int>(t.dst.hash() % rt_.channels.size());
    return hand_to(w, ChanKind::SendAddr, by_addr, 0, data);
}

}  // namespace ser

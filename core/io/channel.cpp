#include "io/channel.h"

#include "cfg/config.h"

#include <algorithm>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace ser {
namespace {

struct Header {
    ChanKind kind;
    Proto proto;
    uint16_t host_len;
    uint8_t alt_count;       // SockAddrs between the host and the data
    int16_t from;
    uint32_t conn_id;
    SockAddr dst;
};

}  // namespace

size_t chan_max_bytes(const Config& cfg)
{
    size_t msg = static_cast<size_t>(std::max(cfg.tcp_max_msg_size, cfg.udp_max_msg_size));
    return msg + sizeof(Header) + 256 + kMaxAlternates * sizeof(SockAddr);
}

bool chan_send(int fd, const ChanMsg& m)
{
    if (m.host.size() > 255 || m.alternates.size() > kMaxAlternates)
        return false;
    Header h{m.kind, m.proto, static_cast<uint16_t>(m.host.size()), static_cast<uint8_t>(m.alternates.size()),
             m.from, m.conn_id, m.dst};
    iovec iov[4] = {{&h, sizeof h},
                    {const_cast<char*>(m.host.data()), m.host.size()},
                    {const_cast<SockAddr*>(m.alternates.data()), m.alternates.size() * sizeof(SockAddr)},
                    {const_cast<char*>(m.data.data()), m.data.size()}};
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = 4;
    return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

std::optional<ChanMsg> chan_decode(std::string_view d)
{
    Header h;
    if (d.size() < sizeof h)
        return std::nullopt;
    std::memcpy(&h, d.data(), sizeof h);
    // The proto indexes the transport table on the receiving side.
    if ((h.kind != ChanKind::SendConn && h.kind != ChanKind::SendAddr && h.kind != ChanKind::Close) || static_cast<int>(h.proto) >= kProtoCount ||
        h.alt_count > kMaxAlternates || d.size() < sizeof h + h.host_len + h.alt_count * sizeof(SockAddr))
        return std::nullopt;
    ChanMsg m;
    m.kind = h.kind;
    m.proto = h.proto;
    m.conn_id = h.conn_id;
    m.from = h.from;
    m.dst = h.dst;
    m.host = d.substr(sizeof h, h.host_len);
    size_t alts = sizeof h + h.host_len;
    m.alternates.resize(h.alt_count);
    if (h.alt_count)
        std::memcpy(static_cast<void*>(m.alternates.data()), d.data() + alts, h.alt_count * sizeof(SockAddr));
    m.data = d.substr(alts + h.alt_count * sizeof(SockAddr));
    return m;
}

}  // namespace ser

// Plain TCP: read(2)/send(2) on the non-blocking socket.
#include "io/stream_conn.h"
#include "io/transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ser {
namespace {

class TcpTransport final : public Transport {
public:
    Proto proto() const override { return Proto::Tcp; }
    IoStatus on_open(StreamConn&) override { return IoStatus::Ok; }

    IoResult read(StreamConn& c, std::span<char> buf) override
    {
        if (buf.empty())
            return {IoStatus::Error, 0};
        // A read that got less than it asked for emptied the socket: the
        // next one in the same burst would only say EAGAIN (one system call
        // per burst saved; the poll is level-triggered, so whatever comes
        // meanwhile wakes the loop again).
        if (c.rx_drained)
            return {IoStatus::Again, 0};
        ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
        if (n > 0) {
            c.rx_drained = static_cast<size_t>(n) < buf.size();
            return {IoStatus::Ok, static_cast<size_t>(n)};
        }
        if (n == 0)
            return {IoStatus::Closed, 0};
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return {IoStatus::Again, 0};
        return {IoStatus::Error, 0};
    }

    IoResult write(StreamConn& c, std::span<const char> data) override
    {
        ssize_t n = ::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0)
            return {IoStatus::Ok, static_cast<size_t>(n)};
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return {IoStatus::Again, 0};
        return {IoStatus::Error, 0};
    }

    void close(StreamConn&) override {}
};

}  // namespace

namespace {
Transport* g_transports[kProtoCount] = {};
}

void register_transport(Proto p, Transport* t)
{
    g_transports[static_cast<int>(p)] = t;
}

Transport* find_transport(Proto p)
{
    return g_transports[static_cast<int>(p)];
}

std::string reload_transports()
{
    for (Transport* t : g_transports)
        if (t) {
            std::string err = t->reload();
            if (!err.empty())
                return err;
        }
    return {};
}

Transport& tcp_transport()
{
    static TcpTransport t;
    return t;
}

}  // namespace ser

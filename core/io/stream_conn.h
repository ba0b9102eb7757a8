#pragma once
// A stream connection as its owning TCP worker holds it: the fd, the
// transport and its state, the read buffer and the bounded write queue.
// Never shared between processes; the shared view is TcpConnRecord.

#include "io/msg_io.h"
#include "net.h"
#include "io/recv_buf.h"
#include "io/transport.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace ser {

struct StreamConn {
    StreamConn(uint32_t id_, int fd_, Transport& t, size_t rbuf_size) : id(id_), fd(fd_), xprt(&t), rbuf(rbuf_size) {}
    ~StreamConn() = default;

    uint32_t id;
    int fd;
    Transport* xprt;
    std::unique_ptr<TransportState> xstate;  // e.g. the TLS session
    RecvBuf rbuf;
    SockAddr local, remote;
    std::string host;                        // name the peer was reached by (outgoing)
    const ListenAddr* listener = nullptr;  // the listener it arrived on / leaves from
    bool outgoing = false;
    bool connecting = false;                 // outgoing connect() in progress
    bool open = false;                       // transport on_open() done
    bool want_write = false;                 // EPOLLOUT armed
    bool closing = false;
    std::deque<std::string> wqueue;          // bytes waiting to leave
    size_t wqueue_bytes = 0;
    size_t woff = 0;                         // bytes of wqueue.front() already written
    int64_t created_ms = 0;
    int64_t last_active_ms = 0;
    int64_t stalled_since_ms = 0;            // first failed write with data queued; 0 = flowing
    int64_t deadline_ms = 0;                 // connect / handshake deadline; 0 = none
    int64_t msg_started_ms = 0;              // first byte of a message still incomplete; 0 = none
    bool got_msg = false;                    // a complete message arrived (tcp_first_msg_timeout)
};

}  // namespace ser

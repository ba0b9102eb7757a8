#pragma once
// A stream connection as the connection loop of its owning process holds it:
// the fd, the transport and its state, the framer, the read buffer, the
// bounded write queue, its deadlines and its counters. Never shared between
// processes; the shared view (TcpConnRecord) is published by the loop's host.

#include "io/msg_io.h"
#include "io/recv_buf.h"
#include "io/transport.h"
#include "net.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace ser {

class Framer;

struct StreamConn {
    StreamConn(uint32_t id_, int fd_, Transport& t, Framer& f, size_t rbuf_size)
        : id(id_), fd(fd_), xprt(&t), framer(&f), rbuf(rbuf_size)
    {
    }

    uint32_t id;
    int fd;
    Transport* xprt;
    Framer* framer;
    std::unique_ptr<TransportState> xstate;  // e.g. the TLS session; the transport's alone
    RecvBuf rbuf;
    SockAddr local, remote;                  // remote: the client, from its PROXY header when it sent one
    SockAddr via;                            // the load balancer that relayed it (PROXY protocol); family 0: none
    std::string host;                        // name the peer was reached by (outgoing)
    const ListenAddr* listener = nullptr;    // the listener it arrived on / leaves from
    bool outgoing = false;
    bool connecting = false;                 // outgoing connect() in progress
    bool proxy_pending = false;              // a PROXY header is awaited (listen=... proxy_protocol)
    std::string proxy_hdr;                   // its bytes read so far (at most kProxyHeaderMax)
    bool open = false;                       // transport on_open() done
    bool established = false;                // handshake (if any) done, host told
    bool want_write = false;                 // EPOLLOUT armed
    bool rx_drained = false;                 // the socket gave less than asked in this read burst: it is empty
    bool flush_queued = false;               // in the loop's list of writes to make at the end of its turn
    bool held = false;                       // not read (ConnLoop::hold): back-pressure from the host
    bool closing = false;
    bool close_when_sent = false;            // ConnLoop::close_when_sent: closed once the queue is empty
    std::deque<std::string> wqueue;          // bytes waiting to leave
    size_t wqueue_bytes = 0;
    size_t woff = 0;                         // bytes of wqueue.front() already written

    // Deadlines, one per purpose (CLOCK_MONOTONIC ms; 0 = none).
    int64_t created_ms = 0;
    int64_t last_active_ms = 0;
    int64_t connect_deadline_ms = 0;         // outgoing connect (tcp_connect_timeout)
    int64_t handshake_deadline_ms = 0;       // transport handshake (tls_handshake_timeout)
    int64_t stalled_since_ms = 0;            // first failed write with data queued; 0 = flowing
    int64_t msg_started_ms = 0;              // first byte of a frame still incomplete
    bool got_frame = false;                  // a complete frame arrived (first-message timeout)

    // Counters, kept here and published by the host now and then: counting
    // takes no lock shared with other processes.
    uint64_t bytes_in = 0, bytes_out = 0, frames_in = 0, frames_out = 0;
    bool dirty = false;                      // counters changed since the last publish
};

}  // namespace ser

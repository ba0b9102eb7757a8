#pragma once
// The stream transport interface: what a TCP worker calls to move bytes on a
// connection it owns. Plain TCP (tcp_transport.cpp) and TLS (tls/tls_server.cpp)
// implement it; the SIP framing and the proxy never ask which one it is.

#include "proto.h"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ser {

enum class IoStatus { Ok, Again, Closed, Error };

struct IoResult {
    IoStatus status = IoStatus::Ok;
    size_t bytes = 0;
};

struct StreamConn;
struct TlsFacts;

// Per-connection state a transport keeps (the TLS session); owned by the
// connection, touched only by its transport.
struct TransportState {
    virtual ~TransportState() = default;
};

// One layer of a stream connection's stack: plain TCP on the fd, or TLS over
// plain TCP. The connection loop calls these; the framing above never asks
// which one it is, and a transport never touches the loop's bookkeeping.
class Transport {
public:
    virtual ~Transport() = default;
    virtual Proto proto() const = 0;
    // Called once the socket is connected (accepted, or outgoing connect done).
    // Returns Error to refuse the connection (failure_reason() says why).
    virtual IoStatus on_open(StreamConn& c) = 0;
    // Reads what is available into `buf`. Ok with bytes (0 when a handshake
    // moved but no data came); Again: nothing now; Closed: orderly end;
    // Error: fail the connection (failure_reason() says why).
    virtual IoResult read(StreamConn& c, std::span<char> buf) = 0;
    // Writes a prefix of `data`; Again when nothing could be written now. An
    // empty `data` lets pending protocol bytes (a TLS handshake) move.
    virtual IoResult write(StreamConn& c, std::span<const char> data) = 0;
    // Best-effort orderly shutdown before the fd is closed (TLS close_notify).
    virtual void close(StreamConn& c) = 0;
    // True when the transport has protocol bytes to send although the write
    // queue is empty (a TLS handshake that wants the socket writable).
    virtual bool pending_write(const StreamConn&) const { return false; }
    // After a write returned Again: true when it waits for the socket to be
    // writable (TCP always), false when it waits for the peer (a TLS handshake).
    virtual bool blocked_on_write(const StreamConn&) const { return true; }
    // True when the transport holds received bytes the socket no longer
    // shows (TLS records read ahead): the loop reads again without an event.
    virtual bool has_buffered(const StreamConn&) const { return false; }
    // Seconds queued data may wait to leave before the connection fails
    // (tls_send_timeout of the connection's TLS domain; else `dflt`).
    virtual int send_timeout_s(const StreamConn&, int dflt) const { return dflt; }
    // Seconds a handshake may take from on_open (0: the transport has none).
    virtual int handshake_timeout_s(const StreamConn&) const { return 0; }
    // True once data can flow (at once for TCP; after the handshake for TLS).
    virtual bool handshake_done(const StreamConn&) const { return true; }
    // Why the last Error happened, for the one log line the loop writes.
    virtual std::string failure_reason(const StreamConn&) const { return {}; }
    // Whether that failure is ours to fix (logged as an error) rather than
    // the peer's (logged at info): the peer refused our certificate, say.
    virtual bool failure_is_local(const StreamConn&) const { return false; }
    // What the handshake established (TLS version, cipher, peer), for the
    // route script and the connection table; nullptr for plain TCP.
    virtual const TlsFacts* describe(const StreamConn&) const { return nullptr; }
    // Re-reads certificates and keys (SIGHUP) in this process; "" or why the
    // old material stays in use.
    virtual std::string reload() { return {}; }
};

// The plain TCP transport (one shared instance).
Transport& tcp_transport();

// The transport table, indexed by Proto (HAProxy xprt_register): main registers
// tcp, and tls when built with TLS=1, before fork. nullptr when not registered.
void register_transport(Proto p, Transport* t);
Transport* find_transport(Proto p);
// Calls reload() on every registered transport; "" or the first failure.
std::string reload_transports();

}  // namespace ser

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

class RecvBuf;
struct StreamConn;
struct TlsFacts;

// Per-connection state a transport keeps (the TLS session); owned by the connection.
struct TransportState {
    virtual ~TransportState() = default;
    // The TLS facts of an established TLS connection, for the route script.
    virtual const TlsFacts* tls_facts() const { return nullptr; }
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual Proto proto() const = 0;
    // Called once the socket is connected (accepted, or outgoing connect done).
    // Returns Error to refuse the connection.
    virtual IoStatus on_open(StreamConn& c) = 0;
    // Reads what is available into `buf` (bounded by its free space).
    // Again: nothing now; Closed: orderly end; Error: fail the connection.
    virtual IoResult read(StreamConn& c, RecvBuf& buf) = 0;
    // Writes a prefix of `data`; Again when nothing could be written now.
    virtual IoResult write(StreamConn& c, std::span<const char> data) = 0;
    // Best-effort orderly shutdown before the fd is closed (TLS close_notify).
    virtual void close(StreamConn& c) = 0;
    // True when the transport has protocol bytes to send although the write
    // queue is empty (a TLS handshake that wants the socket writable).
    virtual bool pending_write(const StreamConn&) const { return false; }
    // After a write returned Again: true when it waits for the socket to be
    // writable (TCP always), false when it waits for the peer (a TLS handshake).
    virtual bool blocked_on_write(const StreamConn&) const { return true; }
    // Seconds queued data may wait to leave before the connection fails
    // (tls_send_timeout of the connection's TLS domain; else `dflt`).
    virtual int send_timeout_s(const StreamConn&, int dflt) const { return dflt; }
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

#pragma once
// The TLS transport, stacked on the plain transport below it through a BIO
// (tls_bio.h): a non-blocking handshake state machine driven from the
// connection loop's read and write paths, then SSL_read/SSL_write. It never
// touches the socket nor the shared connection table: it reports what the
// handshake established (describe) and why it failed (failure_reason), and
// the loop logs and publishes. The SER TLS API names are its entry points.

#include "io/msg_io.h"
#include "io/stream_conn.h"
#include "io/transport.h"
#include "shm/stats.h"
#include "tls_bio.h"
#include "tls_domain.h"

#include <memory>
#include <span>
#include <string>

namespace ser::tls {

enum class TlsState { Accepting, Connecting, Established, ShutdownSent, Closed };

// The TLS state of one connection; owned by StreamConn::xstate, freed by
// tls_tcpconn_clean.
struct TlsConn final : TransportState {
    SslPtr ssl;
    LowerLink link;                               // the BIO's way to the transport below
    std::shared_ptr<const TlsDomainSet> domains;  // the snapshot this connection started with
    const TlsDomain* domain = nullptr;
    TlsState state = TlsState::Accepting;
    SockAddr local;
    std::string session_key;   // client side: "domain|host|ip:port" for resumption
    bool want_write = false;   // the last SSL call wanted the socket writable
    TlsFacts peer;             // what the handshake established
    std::string failure;       // why the last call failed, for the loop's log line
    TlsFailReason fail_reason = TlsFailReason::Protocol;   // its class, for the counters
    bool fail_local = false;   // ours to fix (logged as an error), not the peer's
};

// Creates the TLS transport over `lower` with the domains built in main;
// called once by tls_register.
Transport& tls_transport_init(const Config& cfg, Transport& lower, std::shared_ptr<const TlsDomainSet> domains);

// The TLS state of `c`, or nullptr when it is not a TLS connection.
const TlsConn* tls_conn(const StreamConn& c);

// ClientHello callback installed on every server SSL_CTX: switches the
// connection to the domain the client's SNI name selects (tls_server_name),
// before any session is resumed.
int client_hello_callback(SSL* ssl, int* alert, void* arg);

// --- SER TLS module API names (seed 004), the transport's entry points ---
// tls_tcpconn_init: a new connection becomes TLS (server or client side by
// c.outgoing) over `lower`; Error with c's failure reason when it cannot.
IoStatus tls_tcpconn_init(StreamConn& c, Transport& lower);
// tls_read: drives the handshake, then decrypts into buf.
IoResult tls_read(StreamConn& c, std::span<char> buf);
// tls_blocking_write: drives the handshake, then encrypts a prefix of data.
// It never blocks the process: what cannot leave now stays in the loop's
// write queue, and the loop fails the connection when it has not left
// within tls_send_timeout (send_timeout_s).
IoResult tls_blocking_write(StreamConn& c, std::span<const char> data);
// tls_close: sends close_notify once, without waiting for the peer's.
void tls_close(StreamConn& c);
// tls_tcpconn_clean: frees the TLS state of c.
void tls_tcpconn_clean(StreamConn& c);

}  // namespace ser::tls

#pragma once
// The TLS transport over a TCP connection the worker owns, and the SER TLS
// API names as a thin façade over it (tls_tcpconn_init, tls_read,
// tls_blocking_write, tls_close, tls_tcpconn_clean).

#include "io/msg_io.h"
#include "shm/conn_table.h"
#include "io/stream_conn.h"
#include "tls_domain.h"
#include "io/transport.h"

#include <memory>
#include <string>

namespace ser::tls {

enum class TlsState { Accepting, Connecting, Established, ShutdownSent, Closed };

// The TLS state of one connection; owned by StreamConn::xstate, freed with it
// (tls_tcpconn_clean is its destructor).
struct TlsConn final : TransportState {
    SslPtr ssl;
    std::shared_ptr<const TlsDomainSet> domains;  // the snapshot this connection started with
    const TlsDomain* domain = nullptr;
    TlsState state = TlsState::Accepting;
    SockAddr local;
    std::string session_key;   // client side: "host|ip:port" for resumption
    bool want_write = false;   // the last SSL call wanted the socket writable
    TlsFacts peer;             // what the handshake told: for the route script
    std::string peer_subject;  // one-line subject of the peer certificate, "" when none
    const TlsFacts* tls_facts() const override { return state == TlsState::Established ? &peer : nullptr; }
};

// Creates the TLS transport with the domains built in main; called once by tls_register.
Transport& tls_transport_init(const Config& cfg, ConnTable& conns, std::shared_ptr<const TlsDomainSet> domains);

// The TLS state of `c`, or nullptr when it is not a TLS connection.
const TlsConn* tls_conn(const StreamConn& c);

// ClientHello callback installed on every server SSL_CTX: switches the
// connection to the domain the client's SNI name selects (tls_server_name),
// before any session is resumed.
int client_hello_callback(SSL* ssl, int* alert, void* arg);

// --- SER TLS module API names (seed 004, §2.3) ---
// tls_tcpconn_init: a new TCP connection becomes TLS (server or client side by c.outgoing).
IoStatus tls_tcpconn_init(StreamConn& c, int fd);
// tls_read: drives the handshake, then decrypts into c.rbuf.
IoResult tls_read(StreamConn& c);
// tls_blocking_write: writes all of buf, waiting at most tls_send_timeout; returns bytes written.
size_t tls_blocking_write(StreamConn& c, int fd, const char* buf, size_t len);
// tls_close: sends close_notify once, without waiting for the peer's.
void tls_close(StreamConn& c, int fd);
// tls_tcpconn_clean: frees the TLS state of c.
void tls_tcpconn_clean(StreamConn& c);

}  // namespace ser::tls

#pragma once
// An in-process TLS connection for unit tests: a client SSL and a server SSL
// joined by BIO_new_bio_pair, no sockets (the shape of Envoy's handshaker_test).
// The handshake is pumped on both sides, a bounded number of turns, so a test
// is deterministic and never waits. The SSLs come from ser's own SSL_CTXs
// (make_ctx, TlsDomainSet) or, for foreign peers, from plain OpenSSL ones.

#include "net.h"
#include "tls/tls_domain.h"
#include "tls/tls_util.h"

#include <cppunit/extensions/HelperMacros.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ser::test {

using SessionPtr = std::unique_ptr<SSL_SESSION, tls::Free<SSL_SESSION_free>>;

// The name TlsEnd::version() gives version `v` (TLS1_2_VERSION, ...).
inline std::string version_name(int v)
{
    switch (v) {
    case TLS1_VERSION: return "TLSv1";
    case TLS1_1_VERSION: return "TLSv1.1";
    case TLS1_2_VERSION: return "TLSv1.2";
    case TLS1_3_VERSION: return "TLSv1.3";
    }
    return "version " + std::to_string(v);
}

// One side of the connection and how its handshake ended.
struct TlsEnd {
    tls::SslPtr ssl;
    bool done = false;               // SSL_do_handshake returned 1
    bool failed = false;             // it returned an error other than WANT_READ/WANT_WRITE
    int ssl_error = SSL_ERROR_NONE;  // SSL_get_error of the failing call
    int reason = 0;                  // ERR_GET_REASON of the first error queued then
    std::string why;                 // the error queue of the failure, drained

    // The verification result of the peer's certificate (X509_V_OK when none was checked).
    long verify_result() const { return SSL_get_verify_result(ssl.get()); }
    // The peer's certificate subject as "CN=alice" (first CN only), or "" without one.
    std::string peer_cn() const
    {
        X509* peer = SSL_get0_peer_certificate(ssl.get());
        if (!peer)
            return {};
        char cn[256] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        return std::string("CN=") + cn;
    }
    bool resumed() const { return SSL_session_reused(ssl.get()) == 1; }
    // How it ended, for assertion messages: "done", or the error and the verify result.
    std::string describe() const
    {
        if (!failed)
            return done ? "done" : "unfinished";
        return "failed (SSL_get_error " + std::to_string(ssl_error) + ", verify: " +
               X509_verify_cert_error_string(verify_result()) + "): " + why;
    }
    // The negotiated version as OpenSSL names it: "TLSv1.2", "TLSv1.3".
    std::string version() const { return SSL_get_version(ssl.get()); }
    const SSL_CIPHER* cipher() const { return SSL_get_current_cipher(ssl.get()); }
};

// The state ser's ClientHello callback needs for one accepted connection: the
// domain snapshot, the local address, and the domain serving it so far.
struct ServerDomain {
    const tls::TlsDomainSet* set = nullptr;
    SockAddr local;
    const tls::TlsDomain* domain = nullptr;   // after the handshake: the domain that served it
};

namespace detail {

inline int server_domain_index()
{
    static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return idx;
}

// The test's stand-in for tls_server.cpp's client_hello_callback, which finds its
// state in a TlsConn: the same delegation to TlsDomainSet::select_by_client_hello.
inline int client_hello(SSL* ssl, int*, void*)
{
    if (auto* sd = static_cast<ServerDomain*>(SSL_get_ex_data(ssl, server_domain_index())))
        sd->domain = sd->set->select_by_client_hello(ssl, sd->local, sd->domain);
    return SSL_CLIENT_HELLO_SUCCESS;
}

inline void step(TlsEnd& e)
{
    if (e.done || e.failed)
        return;
    ERR_clear_error();
    int rc = SSL_do_handshake(e.ssl.get());
    if (rc == 1) {
        e.done = true;
        return;
    }
    int err = SSL_get_error(e.ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return;
    e.failed = true;
    e.ssl_error = err;
    e.reason = ERR_GET_REASON(ERR_peek_error());
    e.why = tls::drain_errors();
}

inline size_t readable(const TlsEnd& e)
{
    return BIO_ctrl_pending(SSL_get_rbio(e.ssl.get()));
}

}  // namespace detail

class TlsPair {
public:
    // Joins `client` and `server` by a BIO pair and puts them in connect and
    // accept state. Either may come with settings of the test (SNI, versions, session).
    TlsPair(tls::SslPtr client, tls::SslPtr server) { join(std::move(client), std::move(server)); }

    // A connection from `client` to ser accepting on `local` with `set`, made as
    // tls_tcpconn_init makes it: from the domain of `local` without SNI, switched
    // by ser's SNI selection when the ClientHello arrives.
    TlsPair(tls::SslPtr client, const tls::TlsDomainSet& set, const SockAddr& local)
        : domain_(std::make_unique<ServerDomain>(ServerDomain{&set, local, set.find_server(local, "")}))
    {
        SSL_CTX* first = domain_->domain->ctx.get();
        // The callback of the context the connection starts with is the one OpenSSL calls.
        SSL_CTX_set_client_hello_cb(first, detail::client_hello, nullptr);
        tls::SslPtr server(SSL_new(first));
        SSL_set_ex_data(server.get(), detail::server_domain_index(), domain_.get());
        join(std::move(client), std::move(server));
    }

    // Pumps SSL_do_handshake on both sides until both are done, or neither can
    // move any more (one failed, or both wait for bytes nobody sends), at most
    // `turns` times. True when both completed.
    bool handshake(int turns = 64)
    {
        for (int i = 0; i < turns; i++) {
            detail::step(client_);
            detail::step(server_);
            if (client_.done && server_.done)
                return true;
            if ((client_.done || client_.failed) && (server_.done || server_.failed))
                return false;
            // Each step consumes what it can read; with nothing left in either
            // direction, no further step changes anything.
            if (detail::readable(client_) == 0 && detail::readable(server_) == 0)
                return false;
        }
        return false;
    }

    // After the handshake: the client reads what the server sent after its
    // Finished (TLS 1.3 session tickets, or an alert). False when that was an error.
    bool client_reads()
    {
        char buf[256];
        for (int i = 0; i < 16; i++) {
            ERR_clear_error();
            int n = SSL_read(client_.ssl.get(), buf, sizeof buf);
            if (n > 0)
                continue;
            int err = SSL_get_error(client_.ssl.get(), n);
            if (err == SSL_ERROR_WANT_READ)
                return true;
            client_.why = tls::drain_errors();
            return false;
        }
        return true;
    }

    // Sends close_notify from each end that finished its handshake, without
    // waiting for the peer's, as tls_close does. Freeing an SSL that did not
    // send it marks its session not resumable (on the server it also leaves
    // the session cache): a session to resume must come from a closed pair.
    void close()
    {
        for (TlsEnd* e : {&client_, &server_})
            if (e->done) {
                ERR_clear_error();
                SSL_shutdown(e->ssl.get());
                ERR_clear_error();
            }
    }

    // The client's session: resumable after handshake() (and client_reads() for
    // TLS 1.3 tickets), as long as close() comes before the pair is freed.
    SessionPtr client_session() const { return SessionPtr(SSL_get1_session(client_.ssl.get())); }

    // Both ends' describe(), for assertion messages.
    std::string failure() const { return "client " + client_.describe() + "; server " + server_.describe(); }

    TlsEnd& client() { return client_; }
    TlsEnd& server() { return server_; }
    // The domain ser's selection settled on (only for the ser-server constructor).
    const tls::TlsDomain* server_domain() const { return domain_ ? domain_->domain : nullptr; }

private:
    void join(tls::SslPtr client, tls::SslPtr server)
    {
        client_.ssl = std::move(client);
        server_.ssl = std::move(server);
        BIO* c = nullptr;
        BIO* s = nullptr;
        CPPUNIT_ASSERT_MESSAGE("SSL_new or BIO_new_bio_pair failed: " + tls::drain_errors(),
                               client_.ssl && server_.ssl && BIO_new_bio_pair(&c, 0, &s, 0) == 1);
        SSL_set_bio(client_.ssl.get(), c, c);   // each SSL owns its end of the pair now
        SSL_set_bio(server_.ssl.get(), s, s);
        SSL_set_connect_state(client_.ssl.get());
        SSL_set_accept_state(server_.ssl.get());
    }

    std::unique_ptr<ServerDomain> domain_;   // ser's selection state of the server end, if ser's
    TlsEnd client_;
    TlsEnd server_;
};

// A client SSL of `ctx`, sending `sni` when not empty.
inline tls::SslPtr client_ssl(SSL_CTX* ctx, std::string_view sni = {})
{
    tls::SslPtr ssl(SSL_new(ctx));
    if (ssl && !sni.empty())
        SSL_set_tlsext_host_name(ssl.get(), std::string(sni).c_str());
    return ssl;
}

// A client SSL of ser's client domain for `remote`, set up as ser sets up an
// outgoing connection to `host` (tls_server.cpp setup_client): SNI for a host
// name, and with tls_verify the name (or the IP of `remote` for a numeric host)
// that the server's certificate must carry.
inline tls::SslPtr ser_client_ssl(const tls::TlsDomainSet& set, const SockAddr& remote, const std::string& host)
{
    const tls::TlsDomain* d = set.find_client(remote);
    bool is_name = !host.empty() && !SockAddr::from_numeric(host, 0);
    tls::SslPtr ssl = client_ssl(d->ctx.get(), is_name ? host : "");
    if (ssl && d->params.verify) {
        if (is_name)
            tls::expect_peer_name(ssl.get(), host);
        else
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), remote.ip().c_str());
    }
    return ssl;
}

}  // namespace ser::test

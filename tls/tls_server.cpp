// The TLS transport: a non-blocking handshake state machine driven from the
// owning worker's read and write paths, then SSL_read/SSL_write on the fd.
#include "tls_server.h"

#include "clock.h"
#include "log.h"
#include "shm/stats.h"
#include "tls_init.h"

#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace ser::tls {
namespace {

constexpr size_t kMaxClientSessions = 1024;

using SessionPtr = std::unique_ptr<SSL_SESSION, Free<SSL_SESSION_free>>;

class TlsTransport;
TlsTransport* g_transport = nullptr;   // one per process, made before fork

TlsConn* conn_of(SSL* ssl) { return static_cast<TlsConn*>(SSL_get_app_data(ssl)); }

std::string x509_name(X509_NAME* n)
{
    BioPtr b(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char* p = nullptr;
    long len = BIO_get_mem_data(b.get(), &p);
    return std::string(p, static_cast<size_t>(len));
}

std::string common_name(X509_NAME* n)
{
    char buf[256] = "";
    X509_NAME_get_text_by_NID(n, NID_commonName, buf, sizeof buf);
    return buf;
}

class TlsTransport final : public Transport {
public:
    TlsTransport(const Config& cfg, ConnTable& conns, std::shared_ptr<const TlsDomainSet> d)
        : cfg_(cfg), conns_(conns), domains_(std::move(d))
    {
    }
    Proto proto() const override { return Proto::Tls; }

    IoStatus on_open(StreamConn& c) override { return tls_tcpconn_init(c, c.fd); }

    IoResult read(StreamConn& c, RecvBuf& buf) override
    {
        auto* t = static_cast<TlsConn*>(c.xstate.get());
        if (t->state != TlsState::Established) {
            IoStatus s = handshake(c, *t);
            if (s != IoStatus::Ok)
                return {s, 0};
        }
        char* p = buf.space();
        size_t room = buf.contiguous_space();
        if (room == 0)
            return {IoStatus::Error, 0};
        ERR_clear_error();
        int n = SSL_read(t->ssl.get(), p, static_cast<int>(std::min<size_t>(room, 1 << 30)));
        if (n > 0) {
            buf.commit(static_cast<size_t>(n));
            return {IoStatus::Ok, static_cast<size_t>(n)};
        }
        return {io_error(c, *t, n, "SSL_read"), 0};
    }

    IoResult write(StreamConn& c, std::span<const char> data) override
    {
        auto* t = static_cast<TlsConn*>(c.xstate.get());
        if (t->state != TlsState::Established) {
            IoStatus s = handshake(c, *t);
            if (s != IoStatus::Ok)
                return {s, 0};
        }
        if (data.empty())
            return {IoStatus::Ok, 0};
        ERR_clear_error();
        // With SSL_MODE_ENABLE_PARTIAL_WRITE a retry after WANT_* passes the same
        // (or a longer) buffer, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows to move.
        int n = SSL_write(t->ssl.get(), data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
        if (n > 0)
            return {IoStatus::Ok, static_cast<size_t>(n)};
        return {io_error(c, *t, n, "SSL_write"), 0};
    }

    void close(StreamConn& c) override { tls_close(c, c.fd); }

    bool pending_write(const StreamConn& c) const override
    {
        auto* t = static_cast<const TlsConn*>(c.xstate.get());
        return t && t->want_write;
    }

    bool blocked_on_write(const StreamConn& c) const override { return pending_write(c); }

    int send_timeout_s(const StreamConn& c, int dflt) const override
    {
        auto* t = static_cast<const TlsConn*>(c.xstate.get());
        return t && t->domain ? t->domain->params.send_timeout : dflt;
    }

    std::string reload() override
    {
        std::string err;
        auto fresh = TlsDomainSet::build(cfg_, err);
        if (!fresh)
            return err;
        domains_ = std::move(fresh);
        // Sessions made under the old settings must not skip the new checks.
        sessions_.clear();
        return {};
    }

    std::shared_ptr<const TlsDomainSet> domains() const { return domains_; }

    void save_session(const std::string& key, SSL_SESSION* s)
    {
        if (sessions_.size() >= kMaxClientSessions && !sessions_.count(key))
            sessions_.erase(sessions_.begin());
        sessions_[key] = SessionPtr(s);
    }

    SSL_SESSION* session_for(const std::string& key)
    {
        auto it = sessions_.find(key);
        return it == sessions_.end() ? nullptr : it->second.get();
    }

private:
    IoStatus handshake(StreamConn& c, TlsConn& t);
    IoStatus io_error(StreamConn& c, TlsConn& t, int rc, const char* call);
    void established(StreamConn& c, TlsConn& t);

    const Config& cfg_;
    ConnTable& conns_;
    std::shared_ptr<const TlsDomainSet> domains_;
    std::unordered_map<std::string, SessionPtr> sessions_;
};

IoStatus TlsTransport::io_error(StreamConn& c, TlsConn& t, int rc, const char* call)
{
    int e = SSL_get_error(t.ssl.get(), rc);
    t.want_write = e == SSL_ERROR_WANT_WRITE;
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return IoStatus::Again;
    case SSL_ERROR_ZERO_RETURN:
        return IoStatus::Closed;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EINTR)
            return IoStatus::Again;
        // EOF without close_notify, or a reset: the peer went away.
        drain_errors();
        return IoStatus::Closed;
    default: {
        // OpenSSL 3 reports a peer that closed without close_notify as an
        // error; for SIP, whose framing detects truncation, it is a close.
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            drain_errors();
            return IoStatus::Closed;
        }
        std::string why = drain_errors();
        long vr = SSL_get_verify_result(t.ssl.get());
        if (vr != X509_V_OK)
            why += (why.empty() ? "" : "; ") + std::string("certificate: ") + X509_verify_cert_error_string(vr);
        LOG_NOTICE("conn %u: TLS %s with %s failed: %s", c.id, call, c.remote.str().c_str(),
                   why.empty() ? "protocol error" : why.c_str());
        return IoStatus::Error;
    }
    }
}

IoStatus TlsTransport::handshake(StreamConn& c, TlsConn& t)
{
    if (t.state == TlsState::ShutdownSent || t.state == TlsState::Closed)
        return IoStatus::Closed;
    ERR_clear_error();
    int rc = SSL_do_handshake(t.ssl.get());
    if (rc == 1) {
        t.want_write = false;
        established(c, t);
        return IoStatus::Ok;
    }
    IoStatus s = io_error(c, t, rc, "handshake");
    // The transport is made in main before fork, so no slot can be handed to
    // it: it counts in the slot the running worker bound (Stats::local()).
    if (s == IoStatus::Error)
        Stats::local().count(SSL_get_verify_result(t.ssl.get()) != X509_V_OK ? TlsFailReason::Certificate
                                                                             : TlsFailReason::Protocol);
    else if (s == IoStatus::Closed)
        Stats::local().count(TlsFailReason::PeerClosed);
    return s;
}

void TlsTransport::established(StreamConn& c, TlsConn& t)
{
    t.state = TlsState::Established;
    c.deadline_ms = 0;
    Stats::local().count(Stat::TlsHandshakesOk);
    SSL* ssl = t.ssl.get();
    t.peer.version = SSL_get_version(ssl);
    t.peer.cipher = SSL_get_cipher_name(ssl);
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        t.peer_subject = x509_name(X509_get_subject_name(peer));
        t.peer.peer_cn = common_name(X509_get_subject_name(peer));
        t.peer.verified = SSL_get_verify_result(ssl) == X509_V_OK && t.domain->params.verify;
    }
    conns_.update(c.id, [&](TcpConnRecord& r) {
        std::snprintf(r.tls_version, sizeof r.tls_version, "%s", t.peer.version.c_str());
        std::snprintf(r.tls_cipher, sizeof r.tls_cipher, "%s", t.peer.cipher.c_str());
        std::snprintf(r.tls_peer_subject, sizeof r.tls_peer_subject, "%s", t.peer_subject.c_str());
        r.tls_verified = t.peer.verified ? 1 : 0;
    });
    LOG_INFO("conn %u: TLS with %s: %s %s%s, peer %s%s", c.id, c.remote.str().c_str(), t.peer.version.c_str(),
             t.peer.cipher.c_str(), SSL_session_reused(ssl) ? " (resumed)" : "",
             t.peer_subject.empty() ? "without certificate" : t.peer_subject.c_str(),
             t.peer_subject.empty() ? "" : (t.peer.verified ? " (verified)" : " (not verified)"));
}

int new_session_cb(SSL* ssl, SSL_SESSION* sess)
{
    TlsConn* t = conn_of(ssl);
    if (!t || t->session_key.empty() || !g_transport)
        return 0;
    g_transport->save_session(t->session_key, sess);
    return 1;   // we keep the reference
}

// Client side: SNI, the name the server certificate must carry, resumption.
bool setup_client(StreamConn& c, TlsConn& t)
{
    SSL* ssl = t.ssl.get();
    bool host_is_name = !c.host.empty() && !SockAddr::from_numeric(c.host, 0);
    if (host_is_name && SSL_set_tlsext_host_name(ssl, c.host.c_str()) != 1)
        return false;
    if (t.domain->params.verify) {
        X509_VERIFY_PARAM* vp = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = host_is_name ? X509_VERIFY_PARAM_set1_host(vp, c.host.c_str(), 0)
                              : X509_VERIFY_PARAM_set1_ip_asc(vp, c.remote.ip().c_str());
        if (ok != 1)
            return false;
    }
    SSL_CTX_sess_set_new_cb(t.domain->ctx.get(), new_session_cb);
    t.session_key = t.domain->name + "|" + c.host + "|" + c.remote.str();
    if (SSL_SESSION* s = g_transport->session_for(t.session_key))
        SSL_set_session(ssl, s);
    SSL_set_connect_state(ssl);
    return true;
}

}  // namespace

Transport& tls_transport_init(const Config& cfg, ConnTable& conns, std::shared_ptr<const TlsDomainSet> domains)
{
    static TlsTransport t(cfg, conns, std::move(domains));
    g_transport = &t;
    return t;
}

const TlsConn* tls_conn(const StreamConn& c)
{
    return c.xprt->proto() == Proto::Tls ? static_cast<const TlsConn*>(c.xstate.get()) : nullptr;
}

namespace {

// The host_name of a ClientHello's server_name extension (RFC 6066 §3), or "".
std::string client_hello_sni(SSL* ssl)
{
    const unsigned char* p = nullptr;
    size_t len = 0;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) || len < 5)
        return {};
    size_t list = (size_t(p[0]) << 8) | p[1];
    if (list + 2 != len || p[2] != TLSEXT_NAMETYPE_host_name)
        return {};
    size_t n = (size_t(p[3]) << 8) | p[4];
    if (n + 5 > len)
        return {};
    return std::string(reinterpret_cast<const char*>(p + 5), n);
}

}  // namespace

int client_hello_callback(SSL* ssl, int*, void*)
{
    TlsConn* t = conn_of(ssl);
    if (!t)
        return SSL_CLIENT_HELLO_SUCCESS;
    std::string name = client_hello_sni(ssl);
    const TlsDomain* d = t->domains->find_server(t->local, name);
    if (d && d != t->domain) {
        SSL_set_SSL_CTX(ssl, d->ctx.get());
        // SSL_set_SSL_CTX moves certificate and key, not the verification
        // settings nor the session context. Switching here, before the session
        // is looked up, and with the domain's own session context, keeps a
        // session of one domain from resuming in another (and skipping its checks).
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(d->ctx.get()), nullptr);
        if (STACK_OF(X509_NAME)* cas = SSL_CTX_get_client_CA_list(d->ctx.get()))
            SSL_set_client_CA_list(ssl, SSL_dup_CA_list(cas));
        unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
        session_context_of(d->name, sid);
        SSL_set_session_id_context(ssl, sid, sizeof sid);
        t->domain = d;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

IoStatus tls_tcpconn_init(StreamConn& c, int fd)
{
    auto t = std::make_unique<TlsConn>();
    t->domains = g_transport->domains();
    t->local = c.local;
    t->domain = c.outgoing ? t->domains->find_client(c.remote) : t->domains->find_server(c.local, "");
    ERR_clear_error();
    t->ssl.reset(SSL_new(t->domain->ctx.get()));
    if (!t->ssl || SSL_set_fd(t->ssl.get(), fd) != 1) {
        LOG_ERR("conn %u: SSL_new/SSL_set_fd failed: %s", c.id, drain_errors().c_str());
        return IoStatus::Error;
    }
    SSL_set_app_data(t->ssl.get(), t.get());
    if (c.outgoing) {
        t->state = TlsState::Connecting;
        if (!setup_client(c, *t)) {
            LOG_ERR("conn %u: TLS client set-up for %s failed: %s", c.id, c.host.c_str(), drain_errors().c_str());
            return IoStatus::Error;
        }
    } else {
        SSL_set_accept_state(t->ssl.get());
    }
    c.deadline_ms = now_ms() + t->domain->params.handshake_timeout * 1000LL;
    c.xstate = std::move(t);
    return IoStatus::Ok;
}

IoResult tls_read(StreamConn& c)
{
    return c.xprt->read(c, c.rbuf);
}

size_t tls_blocking_write(StreamConn& c, int fd, const char* buf, size_t len)
{
    auto* t = static_cast<TlsConn*>(c.xstate.get());
    int64_t deadline = now_ms() + (t ? t->domain->params.send_timeout : 120) * 1000LL;
    size_t done = 0;
    while (done < len) {
        IoResult r = c.xprt->write(c, std::span<const char>(buf + done, len - done));
        if (r.status == IoStatus::Ok) {
            done += r.bytes;
            continue;
        }
        int64_t left = deadline - now_ms();
        if (r.status != IoStatus::Again || left <= 0)
            break;
        pollfd p{fd, static_cast<short>(t && t->want_write ? POLLOUT : POLLIN | POLLOUT), 0};
        poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    }
    return done;
}

void tls_close(StreamConn& c, int)
{
    auto* t = static_cast<TlsConn*>(c.xstate.get());
    if (!t || !t->ssl)
        return;
    if (t->state == TlsState::Established) {
        ERR_clear_error();
        SSL_shutdown(t->ssl.get());   // close_notify; we do not wait for the peer's
        drain_errors();
        t->state = TlsState::ShutdownSent;
    }
}

void tls_tcpconn_clean(StreamConn& c)
{
    c.xstate.reset();
}

}  // namespace ser::tls

// The TLS transport (see tls_server.h): the handshake state machine, then
// SSL_read/SSL_write, all through the BIO over the transport below.
#include "tls_server.h"

#include "clock.h"
#include "log.h"
#include "shm/stats.h"
#include "tls_init.h"
#include "tls_material.h"

#include <openssl/x509v3.h>

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

// The class of a failed handshake from what OpenSSL said: the first error
// on the queue (`code`), our verdict on the peer's certificate, and the
// first byte the peer sent. Sets `local` for failures that are ours to fix.
TlsFailReason classify(unsigned long code, long verify, int first_byte, bool server, bool& local)
{
    local = false;
    // A TLS record starts with its type (20..24); an SSLv2-style hello with the high bit.
    if (server && first_byte >= 0 && !(first_byte >= 20 && first_byte <= 24) && !(first_byte & 0x80))
        return TlsFailReason::NotTls;
    switch (verify) {
    case X509_V_OK: break;
    case X509_V_ERR_CERT_HAS_EXPIRED: case X509_V_ERR_CERT_NOT_YET_VALID: return TlsFailReason::Expired;
    case X509_V_ERR_CERT_REVOKED: return TlsFailReason::Revoked;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED: case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return TlsFailReason::UnknownCa;
    case X509_V_ERR_CRL_HAS_EXPIRED: case X509_V_ERR_CRL_NOT_YET_VALID: case X509_V_ERR_UNABLE_TO_GET_CRL:
        local = true;
        return TlsFailReason::CrlUnusable;
    default: return TlsFailReason::BadCertificate;
    }
    if (ERR_GET_LIB(code) != ERR_LIB_SSL)
        return TlsFailReason::Protocol;
    switch (ERR_GET_REASON(code)) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return TlsFailReason::NoCertificate;
    case SSL_R_UNSUPPORTED_PROTOCOL: case SSL_R_VERSION_TOO_LOW: case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: case SSL_R_WRONG_SSL_VERSION: case SSL_R_WRONG_VERSION_NUMBER:
        return TlsFailReason::ProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER: case SSL_R_NO_SHARED_GROUPS: case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_CIPHERS_AVAILABLE: case SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        return TlsFailReason::NoSharedCipher;
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA: case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED: case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED: case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
        local = true;
        return TlsFailReason::PeerRefusedOurs;
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        local = true;   // the peer wanted a certificate of ours and we have none configured
        return TlsFailReason::PeerRefusedOurs;
    default: return TlsFailReason::Protocol;
    }
}

class TlsTransport final : public Transport {
public:
    TlsTransport(const Config& cfg, Transport& lower, std::shared_ptr<const TlsDomainSet> d)
        : cfg_(cfg), lower_(lower), domains_(std::move(d))
    {
    }
    Proto proto() const override { return Proto::Tls; }
    IoStatus on_open(StreamConn& c) override { return tls_tcpconn_init(c, lower_); }
    IoResult read(StreamConn& c, std::span<char> buf) override { return tls_read(c, buf); }
    IoResult write(StreamConn& c, std::span<const char> data) override { return tls_blocking_write(c, data); }
    void close(StreamConn& c) override
    {
        tls_close(c);
        tls_tcpconn_clean(c);
    }

    bool pending_write(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->want_write;
    }
    bool blocked_on_write(const StreamConn& c) const override { return pending_write(c); }
    bool has_buffered(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->ssl && SSL_has_pending(t->ssl.get());
    }
    int send_timeout_s(const StreamConn& c, int dflt) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->domain ? t->domain->params.send_timeout : dflt;
    }
    int handshake_timeout_s(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->domain ? t->domain->params.handshake_timeout : 0;
    }
    bool handshake_done(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->state == TlsState::Established;
    }
    std::string failure_reason(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t ? t->failure : std::string();
    }
    bool failure_is_local(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->fail_local;
    }
    const TlsFacts* describe(const StreamConn& c) const override
    {
        const TlsConn* t = tls_conn(c);
        return t && t->state == TlsState::Established ? &t->peer : nullptr;
    }

    std::string reload() override
    {
        std::string err;
        auto fresh = TlsDomainSet::build(cfg_, err);
        if (fresh)
            err = domains_->regression_in(*fresh);
        if (!err.empty()) {
            Stats::local().count(Stat::TlsReloadFailures);
            return err;
        }
        Stats::local().count(Stat::TlsReloads);
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

    IoStatus handshake(StreamConn& c, TlsConn& t);
    IoStatus io_error(StreamConn& c, TlsConn& t, int rc, const char* call);

private:
    void established(TlsConn& t);

    const Config& cfg_;
    Transport& lower_;
    std::shared_ptr<const TlsDomainSet> domains_;
    std::unordered_map<std::string, SessionPtr> sessions_;
};

IoStatus TlsTransport::io_error(StreamConn&, TlsConn& t, int rc, const char* call)
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
        // The layer below ended (EOF without close_notify, or a reset): the
        // peer went away.
        drain_errors();
        return IoStatus::Closed;
    default: {
        // OpenSSL 3 reports a peer that closed without close_notify as an
        // error; for SIP, whose framing detects truncation, it is a close.
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            drain_errors();
            return IoStatus::Closed;
        }
        long vr = SSL_get_verify_result(t.ssl.get());
        t.fail_reason = classify(ERR_peek_error(), vr, t.link.first_byte, t.state == TlsState::Accepting, t.fail_local);
        std::string why = drain_errors();
        if (vr != X509_V_OK)
            why += (why.empty() ? "" : "; ") + std::string("certificate: ") + X509_verify_cert_error_string(vr);
        t.failure = std::string("TLS ") + call + " failed: " + (why.empty() ? "protocol error" : why);
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
        established(t);
        return IoStatus::Ok;
    }
    IoStatus s = io_error(c, t, rc, "handshake");
    // The transport is made in main before fork, so no slot can be handed to
    // it: it counts in the slot the running worker bound (Stats::local()).
    if (s == IoStatus::Error)
        Stats::local().count(t.fail_reason);
    else if (s == IoStatus::Closed)
        Stats::local().count(TlsFailReason::PeerClosed);
    return s;
}

void TlsTransport::established(TlsConn& t)
{
    t.state = TlsState::Established;
    Stats::local().count(Stat::TlsHandshakesOk);
    SSL* ssl = t.ssl.get();
    t.peer.version = SSL_get_version(ssl);
    t.peer.cipher = SSL_get_cipher_name(ssl);
    t.peer.resumed = SSL_session_reused(ssl) == 1;
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
        t.peer.sni = sni;
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        t.peer.peer_subject = x509_name(X509_get_subject_name(peer));
        t.peer.peer_cn = common_name(X509_get_subject_name(peer));
        t.peer.verified = SSL_get_verify_result(ssl) == X509_V_OK && t.domain->params.verify;
        t.peer.peer_ids = sip_identities(peer, &t.peer.peer_ips);
        t.peer.peer_fingerprint = fingerprint(peer);
    }
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
        // A name is checked by verify_callback with the rules of RFC 5922
        // (URI sip: and DNS SANs, no wildcards); an address by OpenSSL (IP SANs).
        if (host_is_name)
            expect_peer_name(ssl, c.host);
        else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c.remote.ip().c_str()) != 1)
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

Transport& tls_transport_init(const Config& cfg, Transport& lower, std::shared_ptr<const TlsDomainSet> domains)
{
    static TlsTransport t(cfg, lower, std::move(domains));
    g_transport = &t;
    return t;
}

const TlsConn* tls_conn(const StreamConn& c)
{
    return c.xprt->proto() == Proto::Tls ? static_cast<const TlsConn*>(c.xstate.get()) : nullptr;
}

int client_hello_callback(SSL* ssl, int*, void*)
{
    if (TlsConn* t = conn_of(ssl))
        t->domain = t->domains->select_by_client_hello(ssl, t->local, t->domain);
    return SSL_CLIENT_HELLO_SUCCESS;
}

IoStatus tls_tcpconn_init(StreamConn& c, Transport& lower)
{
    auto t = std::make_unique<TlsConn>();
    t->domains = g_transport->domains();
    t->local = c.local;
    t->domain = c.outgoing ? t->domains->find_client(c.remote) : tls_find_domain(*t->domains, c.local, "");
    t->link = LowerLink{&lower, &c};
    TlsConn& tc = *t;
    c.xstate = std::move(t);   // from here on tls_conn(c) finds it, and c frees it
    ERR_clear_error();
    tc.ssl.reset(SSL_new(tc.domain->ctx.get()));
    BIO* bio = tc.ssl ? transport_bio(tc.link) : nullptr;
    if (!bio) {
        tc.failure = "SSL_new/BIO_new failed: " + drain_errors();
        return IoStatus::Error;
    }
    SSL_set_bio(tc.ssl.get(), bio, bio);   // the SSL owns the BIO (one reference for both directions)
    SSL_set_app_data(tc.ssl.get(), &tc);
    if (c.outgoing) {
        tc.state = TlsState::Connecting;
        // The client speaks first: the loop's first flush must send the
        // ClientHello even with nothing queued (a serial link has nothing
        // to say until it is up; a SIP forward always had a message).
        tc.want_write = true;
        if (!setup_client(c, tc)) {
            tc.failure = "TLS client set-up for " + c.host + " failed: " + drain_errors();
            return IoStatus::Error;
        }
    } else {
        SSL_set_accept_state(tc.ssl.get());
    }
    return IoStatus::Ok;
}

namespace {

// The connection's TLS state once its handshake is done; else nullptr, and
// `st` says why not yet (Again) or never (Error, Closed).
TlsConn* ready(StreamConn& c, IoStatus& st)
{
    auto* t = static_cast<TlsConn*>(c.xstate.get());
    st = t->state == TlsState::Established ? IoStatus::Ok : g_transport->handshake(c, *t);
    return st == IoStatus::Ok ? t : nullptr;
}

}  // namespace

IoResult tls_read(StreamConn& c, std::span<char> buf)
{
    IoStatus st;
    TlsConn* t = ready(c, st);
    if (!t)
        return {st, 0};
    if (buf.empty())
        return {IoStatus::Error, 0};
    ERR_clear_error();
    int n = SSL_read(t->ssl.get(), buf.data(), static_cast<int>(std::min<size_t>(buf.size(), 1 << 30)));
    if (n > 0)
        return {IoStatus::Ok, static_cast<size_t>(n)};
    return {g_transport->io_error(c, *t, n, "SSL_read"), 0};
}

IoResult tls_blocking_write(StreamConn& c, std::span<const char> data)
{
    IoStatus st;
    TlsConn* t = ready(c, st);
    if (!t)
        return {st, 0};
    if (data.empty())
        return {IoStatus::Ok, 0};
    ERR_clear_error();
    // With SSL_MODE_ENABLE_PARTIAL_WRITE a retry after WANT_* passes the same
    // (or a longer) buffer, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows to move.
    int n = SSL_write(t->ssl.get(), data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
    if (n > 0)
        return {IoStatus::Ok, static_cast<size_t>(n)};
    return {g_transport->io_error(c, *t, n, "SSL_write"), 0};
}

void tls_close(StreamConn& c)
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

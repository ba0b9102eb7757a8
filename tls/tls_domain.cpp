// Building a snapshot of TLS domains, and finding the one for a connection
// (tls_find_domain by local address and SNI name; client domains by remote).
#include "tls_domain.h"

#include "tls_init.h"
#include "tls_server.h"

#include <strings.h>

namespace ser::tls {
namespace {

bool addr_matches(const SockAddr& dom, const SockAddr& conn)
{
    if (dom.family() != conn.family() || dom.port() != conn.port())
        return false;
    return dom.same_ip(conn) || is_wildcard(dom);
}

// Whether some TLS listener has no tls_domain of its own, so the global settings serve it.
bool default_server_used(const Config& cfg)
{
    auto covered = [&](const std::string& addr, uint16_t port) {
        for (const auto& d : cfg.tls_domains)
            if (!d.client && d.addr == addr && d.port == port)
                return true;
        return false;
    };
    for (const auto& l : cfg.listens)
        if (l.proto == Proto::Tls && !covered(l.addr, l.port))
            return true;
    for (const auto& s : cfg.serials)
        for (const auto& l : s.listens)
            if (l.tls && !covered(l.addr, l.port))
                return true;
    return false;
}

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

std::shared_ptr<const TlsDomainSet> TlsDomainSet::build(const Config& cfg, std::string& err)
{
    auto set = std::make_shared<TlsDomainSet>();
    auto add = [&](bool client, bool is_default, const SockAddr& addr, const TlsParams& p, std::string name) {
        auto d = std::make_unique<TlsDomain>();
        d->client = client;
        d->is_default = is_default;
        d->addr = addr;
        d->params = p;
        d->name = std::move(name);
        d->ctx = make_ctx(p, client, d->name, err);
        if (!d->ctx)
            return static_cast<TlsDomain*>(nullptr);
        if (!client)
            SSL_CTX_set_client_hello_cb(d->ctx.get(), client_hello_callback, nullptr);
        set->domains_.push_back(std::move(d));
        return set->domains_.back().get();
    };
    if (default_server_used(cfg) && !(set->default_server_ = add(false, true, SockAddr{}, cfg.tls, "default TLS domain")))
        return nullptr;
    if (!(set->default_client_ = add(true, true, SockAddr{}, cfg.tls, "default TLS client domain")))
        return nullptr;
    for (const auto& dc : cfg.tls_domains) {
        auto a = SockAddr::from_numeric(dc.addr, dc.port);
        std::string name = std::string(dc.client ? "tls_client_domain[" : "tls_domain[") +
                           (a ? a->str() : dc.addr) + "]" +
                           (dc.params.server_name.empty() ? "" : " (" + dc.params.server_name + ")");
        if (!a) {
            err = name + ": address is not numeric";
            return nullptr;
        }
        if (!add(dc.client, false, *a, dc.params, name))
            return nullptr;
    }
    if (!set->default_server_)
        for (const auto& d : set->domains_)
            if (!d->client) {
                set->default_server_ = d.get();
                break;
            }
    if (!set->default_server_)
        set->default_server_ = set->default_client_;   // only client use; never selected for accept
    return set;
}

const TlsDomain* TlsDomainSet::find_server(const SockAddr& local, std::string_view sni) const
{
    const TlsDomain* unnamed = nullptr;
    const TlsDomain* first = nullptr;
    for (const auto& d : domains_) {
        if (d->client || d->is_default || !addr_matches(d->addr, local))
            continue;
        const std::string& sn = d->params.server_name;
        if (!sni.empty() && sn.size() == sni.size() && strncasecmp(sn.data(), sni.data(), sni.size()) == 0)
            return d.get();
        if (sn.empty() && !unnamed)
            unnamed = d.get();
        if (!first)
            first = d.get();
    }
    return unnamed ? unnamed : first ? first : default_server_;
}

const TlsDomain* TlsDomainSet::select_by_client_hello(SSL* ssl, const SockAddr& local, const TlsDomain* current) const
{
    const TlsDomain* d = find_server(local, client_hello_sni(ssl));
    if (!d || d == current)
        return current;
    SSL_set_SSL_CTX(ssl, d->ctx.get());
    // SSL_set_SSL_CTX moves certificate and key, not the verification
    // settings nor the session context. Switching here, before the session
    // is looked up, and with the domain's own session context, keeps a
    // session of one domain from resuming in another (and skipping its checks).
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(d->ctx.get()), nullptr);
    // Nor the versions of tls_method (the SSL took them from the first context
    // at SSL_new); the version is chosen after this callback, so they still count.
    SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(d->ctx.get()));
    SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(d->ctx.get()));
    if (STACK_OF(X509_NAME)* cas = SSL_CTX_get_client_CA_list(d->ctx.get()))
        SSL_set_client_CA_list(ssl, SSL_dup_CA_list(cas));
    unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
    session_context_of(d->name, sid);
    SSL_set_session_id_context(ssl, sid, sizeof sid);
    return d;
}

const TlsDomain* TlsDomainSet::find_client(const SockAddr& remote) const
{
    for (const auto& d : domains_)
        if (d->client && !d->is_default && d->addr == remote)
            return d.get();
    return default_client_;
}

}  // namespace ser::tls

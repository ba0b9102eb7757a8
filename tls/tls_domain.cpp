// Building a snapshot of TLS domains, and finding the one for a connection
// (tls_find_domain by local address and SNI name; client domains by remote).
#include "tls_domain.h"

#include "tls_init.h"
#include "tls_material.h"
#include "tls_server.h"

#include "log.h"

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

// 'tls_certificate "FILE"' or 'tls_certificate2 "FILE"': which one `cert` came from.
std::string which_certificate(const TlsDomain& d, X509* cert)
{
    return cert == d.primary ? "tls_certificate \"" + d.params.certificate + "\""
                             : "tls_certificate2 \"" + d.params.certificate2 + "\"";
}

// The checks of tls_material.h on what ctx loaded; "" or the first fatal one.
std::string validate(const TlsDomain& d, bool check_role)
{
    time_t now = time(nullptr);
    std::string err;
    for_each_certificate(d.ctx.get(), [&](X509* cert, STACK_OF(X509)*) {
        for (const MaterialIssue& i : check_certificate(cert, d.client, check_role, 0, now))
            if (i.fatal && err.empty())
                err = d.name + ": " + which_certificate(d, cert) + " " + i.text;
    });
    if (!err.empty())
        return err;
    X509_STORE* store = SSL_CTX_get_cert_store(d.ctx.get());
    STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(store);
    for (int k = 0; k < sk_X509_OBJECT_num(objs); k++)
        if (X509_CRL* crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, k)))
            for (const MaterialIssue& i : check_crl(crl, d.params.crl_expired_warn, 0, now))
                if (i.fatal)
                    return d.name + ": tls_crl \"" + d.params.crl + "\" " + i.text;
    return {};
}

// tls_ocsp_response of a server domain: what cannot be stapled is left out
// here, and said by ser -c and main's periodic check (tls.info shows it).
void load_staple(TlsDomain& d)
{
    // The response is about tls_certificate (not tls_certificate2).
    STACK_OF(X509)* chain = nullptr;
    for_each_certificate(d.ctx.get(), [&](X509* x, STACK_OF(X509)* ch) {
        if (x == d.primary)
            chain = ch;
    });
    if (!d.primary)
        return;
    X509Ptr issuer(find_issuer(d.primary, chain, d.params.ca_list));
    load_ocsp(d.params.ocsp_response, d.primary, issuer.get(), d.ocsp);
    SSL_CTX_set_tlsext_status_cb(d.ctx.get(), ocsp_status_callback);
}

}  // namespace

int domain_ex_index()
{
    // First called in main while the domains are built, before fork.
    static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return idx;
}

const TlsDomain* domain_of(const SSL_CTX* ctx)
{
    return ctx ? static_cast<const TlsDomain*>(SSL_CTX_get_ex_data(ctx, domain_ex_index())) : nullptr;
}

namespace {

int expected_name_index()
{
    static const int idx = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(p); });
    return idx;
}

}  // namespace

void expect_peer_name(SSL* ssl, const std::string& name)
{
    delete static_cast<std::string*>(SSL_get_ex_data(ssl, expected_name_index()));
    SSL_set_ex_data(ssl, expected_name_index(), new std::string(name));
}

int verify_callback(int ok, X509_STORE_CTX* sc)
{
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx()));
    const TlsDomain* d = ssl ? domain_of(SSL_get_SSL_CTX(ssl)) : nullptr;
    if (!d)
        return ok;
    int err = X509_STORE_CTX_get_error(sc);
    if (ok && X509_STORE_CTX_get_error_depth(sc) == 0) {
        // Outgoing: the next hop's certificate must name its SIP domain (RFC 5922 §7).
        auto* want = static_cast<const std::string*>(SSL_get_ex_data(ssl, expected_name_index()));
        if (want && !identity_matches(sip_identities(X509_STORE_CTX_get_current_cert(sc)), *want)) {
            X509_STORE_CTX_set_error(sc, X509_V_ERR_HOSTNAME_MISMATCH);
            return 0;
        }
        return ok;
    }
    if (!ok && d->params.optional_no_ca &&
        (err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || err == X509_V_ERR_CERT_UNTRUSTED))
        return 1;   // accepted unverified: $tls_verified is 0, the fingerprint says who it is
    if (ok || err != X509_V_ERR_CRL_HAS_EXPIRED)
        return ok;
    if (d->params.crl_expired_warn) {
        LOG_WARN("%s: tls_crl \"%s\" is past its next update; the peer's certificate is checked against it anyway "
                 "(tls_crl_expired=warn): issue a new CRL", d->name.c_str(), d->params.crl.c_str());
        return 1;
    }
    LOG_ERR("%s: tls_crl \"%s\" is past its next update: EVERY client certificate is refused until a new CRL "
            "is in place (tls_crl_expired=refuse; ser takes a new file without a signal)",
            d->name.c_str(), d->params.crl.c_str());
    return 0;
}

std::string TlsDomainSet::regression_in(const TlsDomainSet& fresh) const
{
    for (const auto& n : fresh.domains_) {
        const TlsDomain* old = find_named(n->name);
        if (old && old->chain_problem.empty() && !n->chain_problem.empty())
            return n->name + ": the chain of tls_certificate \"" + n->params.certificate +
                   "\" no longer verifies (" + n->chain_problem +
                   "); it did before: is an intermediate certificate missing from the file?";
    }
    return {};
}

const TlsDomain* TlsDomainSet::find_named(const std::string& name) const
{
    for (const auto& d : domains_)
        if (d->name == name)
            return d.get();
    return nullptr;
}

std::shared_ptr<const TlsDomainSet> TlsDomainSet::build(const Config& cfg, std::string& err)
{
    auto set = std::make_shared<TlsDomainSet>();
    // What ser -c checks is checked here, no more: the default client domain
    // (the global settings used to connect out, presented only when readable)
    // is not, and a client domain's role only when it was given its own
    // certificate (not the server's it inherits).
    enum class Check { None, Dates, DatesAndRole };
    auto add = [&](bool client, bool is_default, const SockAddr& addr, const TlsParams& p, std::string name,
                   Check check) {
        auto d = std::make_unique<TlsDomain>();
        d->client = client;
        d->is_default = is_default;
        d->addr = addr;
        d->params = p;
        d->name = std::move(name);
        d->ctx = make_ctx(p, client, d->name, err, &d->primary);
        if (!d->ctx)
            return static_cast<TlsDomain*>(nullptr);
        if (check != Check::None)
            err = validate(*d, check == Check::DatesAndRole);
        if (!err.empty())
            return static_cast<TlsDomain*>(nullptr);
        d->chain_problem = chain_problem(d->ctx.get(), p.ca_list, client);
        if (!client && !p.ocsp_response.empty())
            load_staple(*d);
        SSL_CTX_set_ex_data(d->ctx.get(), domain_ex_index(), d.get());
        if (!client)
            SSL_CTX_set_client_hello_cb(d->ctx.get(), client_hello_callback, nullptr);
        set->domains_.push_back(std::move(d));
        return set->domains_.back().get();
    };
    if (default_server_used(cfg) &&
        !(set->default_server_ = add(false, true, SockAddr{}, cfg.tls, "default TLS domain", Check::DatesAndRole)))
        return nullptr;
    if (!(set->default_client_ = add(true, true, SockAddr{}, cfg.tls, "default TLS client domain", Check::None)))
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
        bool own_cert = !dc.client || dc.params.certificate != cfg.tls.certificate;
        if (!add(dc.client, false, *a, dc.params, name, own_cert ? Check::DatesAndRole : Check::Dates))
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
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(d->ctx.get()), SSL_CTX_get_verify_callback(d->ctx.get()));
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

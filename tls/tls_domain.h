#pragma once
// TLS domains: the TLS settings and SSL_CTX of one listener (tls_domain[IP:port],
// optionally selected by SNI with tls_server_name), of outgoing connections to
// one address (tls_client_domain[IP:port]), or the global defaults. A set of
// domains is an immutable snapshot: SIGHUP builds a new one, and connections keep
// the one they started with.

#include "cfg/config.h"
#include "net.h"
#include "tls_ocsp.h"
#include "tls_util.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ser::tls {

struct TlsDomain {
    bool client = false;
    bool is_default = false;          // the global settings (no address)
    SockAddr addr;                    // family 0 for the default domains
    TlsParams params;
    SslCtxPtr ctx;
    std::string name;                 // "tls_domain[1.2.3.4:5061]" for logs
    std::string chain_problem;        // "" when the certificate's chain verifies (tls_material.h)
    OcspStaple ocsp;                  // tls_ocsp_response as read with the certificate (tls_ocsp.h)
    X509* primary = nullptr;          // the certificate of tls_certificate (owned by ctx), beside tls_certificate2's
};

class TlsDomainSet {
public:
    // Builds every domain's SSL_CTX (server and client defaults included); on
    // failure returns nullptr and sets `err` to a message naming file and cause.
    // The certificates must be valid now and fit their role, the CRLs not
    // be past their next update (unless tls_crl_expired=warn): what ser -c refuses.
    static std::shared_ptr<const TlsDomainSet> build(const Config& cfg, std::string& err);
    // "" when `fresh` may replace this set, else why not: a certificate whose
    // chain verified here and no longer does in `fresh` (an intermediate left
    // out of a renewed file, a certificate from another CA).
    std::string regression_in(const TlsDomainSet& fresh) const;
    // The domain of this name, or nullptr.
    const TlsDomain* find_named(const std::string& name) const;

    // The server domain for a connection that arrived on `local`
    // with SNI name `sni` ("" when the client sent none). Never nullptr.
    const TlsDomain* find_server(const SockAddr& local, std::string_view sni) const;
    // The SNI step of tls_find_domain, for the ClientHello callback (before any
    // session is looked up): the domain on `local` that the ClientHello's
    // server_name selects. When it is not `current`, `ssl` is switched to it:
    // certificate and key, verification mode, client CA list and session id
    // context, so a session of one domain never resumes in another. Never nullptr.
    const TlsDomain* select_by_client_hello(SSL* ssl, const SockAddr& local, const TlsDomain* current) const;
    // The client domain for an outgoing connection to `remote`. Never nullptr.
    const TlsDomain* find_client(const SockAddr& remote) const;
    size_t size() const { return domains_.size(); }

private:
    std::vector<std::unique_ptr<TlsDomain>> domains_;
    const TlsDomain* default_server_ = nullptr;
    const TlsDomain* default_client_ = nullptr;
};

// The ex_data index of SSL_CTX under which each context points at its TlsDomain.
int domain_ex_index();
// The domain whose context `ctx` is, or nullptr.
const TlsDomain* domain_of(const SSL_CTX* ctx);
// Outgoing with tls_verify: the SIP domain `name` the peer's certificate must
// carry (RFC 5922 §7: a sip: URI or DNS SAN, whole, no wildcard), checked by
// verify_callback. Kept with the SSL and freed with it.
void expect_peer_name(SSL* ssl, const std::string& name);

// The verify callback of every context: it lets a CRL past its next update
// pass with tls_crl_expired=warn, and logs it with the file name either way.
int verify_callback(int preverify_ok, X509_STORE_CTX* sc);

// tls_find_domain (SER name): the server domain for a connection that arrived
// on `local` with SNI name `sni`. Never nullptr.
inline const TlsDomain* tls_find_domain(const TlsDomainSet& set, const SockAddr& local, std::string_view sni)
{
    return set.find_server(local, sni);
}

}  // namespace ser::tls

// OCSP stapling (see tls_ocsp.h).
#include "tls_ocsp.h"

#include "log.h"
#include "tls_domain.h"
#include "tls_material.h"

#include <openssl/ocsp.h>

#include <ctime>
#include <fstream>
#include <iterator>

namespace ser::tls {
namespace {

constexpr size_t kMaxResponse = 64 * 1024;   // a response is a few KB; a bigger file is not one

using OcspRespPtr = std::unique_ptr<OCSP_RESPONSE, Free<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Free<OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Free<OCSP_CERTID_free>>;

}  // namespace

X509* find_issuer(X509* leaf, STACK_OF(X509)* chain, const std::string& ca_list)
{
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        X509* c = sk_X509_value(chain, i);
        if (X509_check_issued(c, leaf) == X509_V_OK) {
            X509_up_ref(c);
            return c;
        }
    }
    if (ca_list.empty())
        return nullptr;
    std::unique_ptr<X509_STORE, Free<X509_STORE_free>> store(X509_STORE_new());
    std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>> sc(X509_STORE_CTX_new());
    X509* issuer = nullptr;
    if (store && sc && X509_STORE_load_file(store.get(), ca_list.c_str()) == 1 &&
        X509_STORE_CTX_init(sc.get(), store.get(), leaf, nullptr) == 1)
        X509_STORE_CTX_get1_issuer(&issuer, sc.get(), leaf);
    ERR_clear_error();
    return issuer;
}

std::string load_ocsp(const std::string& path, X509* cert, X509* issuer, OcspStaple& out)
{
    out = OcspStaple{};
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return "cannot be read";
    std::vector<unsigned char> der;
    der.reserve(4096);
    char buf[4096];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        der.insert(der.end(), buf, buf + f.gcount());
        if (der.size() > kMaxResponse)
            return "is larger than " + std::to_string(kMaxResponse) + " bytes: not an OCSP response";
    }
    const unsigned char* p = der.data();
    OcspRespPtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!resp) {
        ERR_clear_error();
        return "holds no DER OCSP response (openssl ocsp -respout writes one)";
    }
    if (int st = OCSP_response_status(resp.get()); st != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        return std::string("is an unsuccessful OCSP response (") + OCSP_response_status_str(st) + ")";
    OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
    if (!basic)
        return "holds no basic OCSP response";
    if (!issuer)
        return "cannot be checked: the issuer of the certificate is neither in its chain file nor in tls_ca_list";
    OcspCertIdPtr id(OCSP_cert_to_id(nullptr, cert, issuer));
    int status = -1, reason = 0;
    ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    if (!id || OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &rev, &thisupd, &nextupd) != 1) {
        ERR_clear_error();
        return "is about another certificate, not this tls_certificate";
    }
    if (status == V_OCSP_CERTSTATUS_UNKNOWN)
        return "says the status of the certificate is unknown";
    out.der = std::move(der);
    out.status = status == V_OCSP_CERTSTATUS_GOOD ? "good" : "revoked";
    out.this_update = unix_time(thisupd);
    out.next_update = unix_time(nextupd);
    return {};
}

std::string load_ocsp_for_file(const std::string& path, const std::string& cert_file, const std::string& ca_list,
                               OcspStaple& out)
{
    out = OcspStaple{};
    BioPtr bio = open_pem(cert_file);
    X509Ptr leaf(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!leaf) {
        ERR_clear_error();
        return "cannot be checked: the certificate cannot be read";
    }
    struct ChainFree {
        void operator()(STACK_OF(X509)* c) const { sk_X509_pop_free(c, X509_free); }
    };
    std::unique_ptr<STACK_OF(X509), ChainFree> chain(sk_X509_new_null());
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        sk_X509_push(chain.get(), c);
    ERR_clear_error();
    X509Ptr issuer(find_issuer(leaf.get(), chain.get(), ca_list));
    return load_ocsp(path, leaf.get(), issuer.get(), out);
}

bool stapled(const OcspStaple& s, int64_t now)
{
    return !s.der.empty() && (s.next_update == 0 || s.next_update > now);
}

int ocsp_status_callback(SSL* ssl, void*)
{
    const TlsDomain* d = domain_of(SSL_get_SSL_CTX(ssl));
    if (!d || d->ocsp.der.empty())
        return SSL_TLSEXT_ERR_NOACK;
    // With two certificates, only the one the response is about gets it.
    if (X509* chosen = SSL_get_certificate(ssl); chosen && d->primary && chosen != d->primary)
        return SSL_TLSEXT_ERR_NOACK;
    if (!stapled(d->ocsp, time(nullptr))) {
        LOG_WARN("%s: tls_ocsp_response \"%s\" is past its next update (%s): not stapled; fetch a new one",
                 d->name.c_str(), d->params.ocsp_response.c_str(), utc_text(d->ocsp.next_update).c_str());
        return SSL_TLSEXT_ERR_NOACK;
    }
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(d->ocsp.der.data(), d->ocsp.der.size()));
    if (!copy)
        return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(d->ocsp.der.size()));   // the SSL frees it
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace ser::tls

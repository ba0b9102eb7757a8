// tls.info: the certificates and CRLs of the configured domains, read from
// their files (see io/tls_hooks.h).
#include "io/tls_hooks.h"
#include "tls_material.h"
#include "tls_ocsp.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace ser {
namespace {

using tls::unix_time;

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};

std::string name_text(const X509_NAME* n)
{
    char buf[512];
    X509_NAME_oneline(n, buf, sizeof buf);
    return buf;
}

void read_cert(TlsDomainInfo& d)
{
    std::unique_ptr<FILE, FileCloser> f(std::fopen(d.certificate.c_str(), "r"));
    if (!f) {
        d.error = "cannot open " + d.certificate;
        return;
    }
    X509* x = PEM_read_X509(f.get(), nullptr, nullptr, nullptr);
    if (!x) {
        d.error = d.certificate + " holds no PEM certificate";
        return;
    }
    d.subject = name_text(X509_get_subject_name(x));
    d.issuer = name_text(X509_get_issuer_name(x));
    d.not_before = unix_time(X509_get0_notBefore(x));
    d.not_after = unix_time(X509_get0_notAfter(x));
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING* s = g->d.dNSName;
            d.sans.push_back("DNS:" + std::string(reinterpret_cast<const char*>(s->data), static_cast<size_t>(s->length)));
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* ip = g->d.iPAddress;
            char buf[64] = "";
            if (ip->length == 4)
                std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip->data[0], ip->data[1], ip->data[2], ip->data[3]);
            else if (ip->length == 16)
                for (int k = 0; k < 16; k += 2)
                    std::snprintf(buf + std::strlen(buf), sizeof buf - std::strlen(buf), "%s%x", k ? ":" : "",
                                  (ip->data[k] << 8) | ip->data[k + 1]);
            d.sans.push_back(std::string("IP:") + buf);
        }
    }
    GENERAL_NAMES_free(names);
    X509_free(x);
}

void read_crl(TlsDomainInfo& d)
{
    if (d.crl.empty())
        return;
    std::unique_ptr<FILE, FileCloser> f(std::fopen(d.crl.c_str(), "r"));
    X509_CRL* c = f ? PEM_read_X509_CRL(f.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!c) {
        if (d.error.empty())
            d.error = "cannot read the CRL " + d.crl;
        return;
    }
    d.crl_next_update = unix_time(X509_CRL_get0_nextUpdate(c));
    X509_CRL_free(c);
}

// tls_ocsp_response as a client asking for the status would see it now.
void read_ocsp(TlsDomainInfo& d, const TlsParams& p)
{
    d.ocsp = p.ocsp_response;
    tls::OcspStaple s;
    std::string why = tls::load_ocsp_for_file(p.ocsp_response, p.certificate, p.ca_list, s);
    d.ocsp_status = why.empty() ? s.status : why;
    d.ocsp_next_update = why.empty() ? s.next_update : 0;
    if (why.empty() && !tls::stapled(s, time(nullptr)))
        d.ocsp_status = "past its next update: not stapled";
}

TlsDomainInfo info_of(std::string name, bool client, const TlsParams& p)
{
    TlsDomainInfo d;
    d.name = std::move(name);
    d.client = client;
    d.certificate = p.certificate;
    d.ca_list = p.ca_list;
    d.crl = p.crl;
    if (!d.certificate.empty())
        read_cert(d);
    read_crl(d);
    if (!client && !p.ocsp_response.empty())
        read_ocsp(d, p);
    return d;
}

}  // namespace

std::vector<TlsDomainInfo> tls_domain_info(const Config& cfg)
{
    std::vector<TlsDomainInfo> out;
    if (cfg.disable_tls)
        return out;
    out.push_back(info_of("default", false, cfg.tls));
    for (const TlsDomainCfg& d : cfg.tls_domains) {
        std::string where = (d.family == AF_INET6 ? "[" + d.addr + "]" : d.addr) + ":" + std::to_string(d.port);
        out.push_back(info_of((d.client ? "tls_client_domain[" : "tls_domain[") + where + "]", d.client, d.params));
    }
    return out;
}

std::string tls_library_version()
{
    return OpenSSL_version(OPENSSL_VERSION);
}

}  // namespace ser

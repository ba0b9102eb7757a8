// Shared checks of certificates and CRLs (see tls_material.h).
#include "tls_material.h"

#include <openssl/x509v3.h>

#include <openssl/pem.h>

#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace ser::tls {
namespace {

constexpr int64_t kDay = 86400;

std::string days_text(int64_t seconds)
{
    int64_t d = seconds / kDay;
    return std::to_string(d) + (d == 1 ? " day" : " days");
}

// What the extended key usage allows, for the message about a wrong role.
std::string usages_of(X509* cert)
{
    uint32_t x = X509_get_extended_key_usage(cert);
    if (x == UINT32_MAX)
        return "its key usage";
    std::string out;
    if (x & XKU_SSL_SERVER)
        out += "serverAuth";
    if (x & XKU_SSL_CLIENT)
        out += out.empty() ? "clientAuth" : ", clientAuth";
    return out.empty() ? "its extendedKeyUsage" : "its extendedKeyUsage (" + out + ")";
}

}  // namespace

int64_t unix_time(const ASN1_TIME* t)
{
    struct tm tm {};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return static_cast<int64_t>(timegm(&tm));
}

std::string utc_text(int64_t unix_seconds)
{
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

std::vector<MaterialIssue> check_certificate(X509* cert, bool client, bool check_role, int warn_days, time_t now)
{
    std::vector<MaterialIssue> out;
    int64_t from = unix_time(X509_get0_notBefore(cert));
    int64_t until = unix_time(X509_get0_notAfter(cert));
    if (from > now)
        out.push_back({true, "is not valid before " + utc_text(from) + " (in " + days_text(from - now + kDay - 1) + ")"});
    else if (until && until < now)
        out.push_back({true, "expired on " + utc_text(until) + " (" + days_text(now - until) + " ago)"});
    else if (until && until - now < warn_days * kDay)
        out.push_back({false, "expires on " + utc_text(until) + " (in " + days_text(until - now) + ")"});
    if (check_role && X509_check_purpose(cert, client ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER, 0) != 1) {
        ERR_clear_error();
        out.push_back({true, std::string("is not a ") + (client ? "client" : "server") + " certificate: " +
                                 usages_of(cert) + " does not allow " + (client ? "clientAuth" : "serverAuth") +
                                 (client ? " (ser-certs client NAME makes one)" : " (ser-certs server NAME makes one)")});
    }
    return out;
}

std::vector<MaterialIssue> check_crl(const X509_CRL* crl, bool warn_only, int warn_days, time_t now)
{
    std::vector<MaterialIssue> out;
    int64_t next = unix_time(X509_CRL_get0_nextUpdate(crl));
    if (!next)
        return out;
    if (next < now)
        out.push_back({!warn_only, "is past its next update since " + utc_text(next) + " (" + days_text(now - next) +
                                       " ago): " +
                                       (warn_only ? "it is still used (tls_crl_expired=warn)"
                                                  : "every client certificate checked against it is refused "
                                                    "(tls_crl_expired=refuse); issue a new CRL (ser-certs crl)")});
    else if (next - now < warn_days * kDay)
        out.push_back({false, "has its next update on " + utc_text(next) + " (in " + days_text(next - now) +
                                  "): issue a new one before (ser-certs crl)"});
    return out;
}

void for_each_certificate(SSL_CTX* ctx, const std::function<void(X509*, STACK_OF(X509)*)>& f)
{
    for (int r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); r == 1;
         r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
        STACK_OF(X509)* chain = nullptr;
        SSL_CTX_get0_chain_certs(ctx, &chain);
        if (X509* x = SSL_CTX_get0_certificate(ctx))
            f(x, chain);
    }
    SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
    ERR_clear_error();
}

std::string chain_problem(SSL_CTX* ctx, const std::string& ca_list, bool client)
{
    std::string out;
    std::unique_ptr<X509_STORE, Free<X509_STORE_free>> store(X509_STORE_new());
    if (!store)
        return "out of memory";
    if (!ca_list.empty())
        X509_STORE_load_file(store.get(), ca_list.c_str());
    // The hashed directory is read lazily, one issuer at a time: cheap on every reload.
    X509_STORE_load_path(store.get(), X509_get_default_cert_dir());
    ERR_clear_error();
    for_each_certificate(ctx, [&](X509* leaf, STACK_OF(X509)* chain) {
        std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>> sc(X509_STORE_CTX_new());
        if (!sc || X509_STORE_CTX_init(sc.get(), store.get(), leaf, chain) != 1) {
            out = "out of memory";
            return;
        }
        X509_STORE_CTX_set_purpose(sc.get(), client ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
        if (X509_verify_cert(sc.get()) != 1 && out.empty())
            out = X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc.get()));
        ERR_clear_error();
    });
    return out;
}

namespace {

std::string lower(std::string_view v)
{
    std::string s(v);
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!s.empty() && s.back() == '.')
        s.pop_back();
    return s;
}

std::string asn1_text(const ASN1_STRING* a)
{
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(a)), static_cast<size_t>(ASN1_STRING_length(a)));
}

// The host of a sip: or sips: URI ("sip:example.com", "sips:user@host;p"), or "".
std::string uri_host(std::string_view u)
{
    size_t colon = u.find(':');
    if (colon == std::string_view::npos)
        return {};
    std::string scheme = lower(u.substr(0, colon));
    if (scheme != "sip" && scheme != "sips")
        return {};
    std::string_view rest = u.substr(colon + 1);
    if (size_t at = rest.find('@'); at != std::string_view::npos)
        rest = rest.substr(at + 1);
    size_t end = rest.find_first_of(";?:>");
    if (!rest.empty() && rest[0] == '[')
        end = rest.find(']') == std::string_view::npos ? rest.size() : rest.find(']') + 1;
    return lower(rest.substr(0, end));
}

}  // namespace

std::vector<std::string> sip_identities(X509* cert, std::vector<std::string>* ips)
{
    std::vector<std::string> out;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_URI) {
            std::string h = uri_host(asn1_text(g->d.uniformResourceIdentifier));
            if (!h.empty())
                out.push_back(h);
        } else if (g->type == GEN_DNS) {
            out.push_back(lower(asn1_text(g->d.dNSName)));
        } else if (g->type == GEN_IPADD && ips) {
            char buf[64] = "";
            const ASN1_OCTET_STRING* ip = g->d.iPAddress;
            if (ip->length == 4 || ip->length == 16)
                inet_ntop(ip->length == 4 ? AF_INET : AF_INET6, ip->data, buf, sizeof buf);
            if (*buf)
                ips->push_back(buf);
        }
    }
    GENERAL_NAMES_free(names);
    if (out.empty()) {
        char cn[256] = "";
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
            out.push_back(lower(cn));
    }
    ERR_clear_error();
    return out;
}

bool identity_matches(const std::vector<std::string>& ids, std::string_view domain)
{
    std::string d = lower(domain);
    if (d.empty())
        return false;
    for (const std::string& id : ids)
        if (id == d)
            return true;
    return false;
}

std::string fingerprint(X509* cert)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
        return {};
    static const char* hex = "0123456789ABCDEF";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < n; i++) {
        out += i ? ":" : "";
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

bool read_key_pass(const std::string& spec, std::string& pass, std::string& err)
{
    pass.clear();
    if (spec.rfind("env:", 0) == 0) {
        const char* v = std::getenv(spec.c_str() + 4);
        if (!v) {
            err = "tls_private_key_pass: the environment variable " + spec.substr(4) + " is not set";
            return false;
        }
        pass = v;
        return true;
    }
    std::string path = spec.rfind("file:", 0) == 0 ? spec.substr(5) : spec;
    std::ifstream f(path);
    if (!f) {
        err = "tls_private_key_pass: \"" + path + "\" cannot be read";
        return false;
    }
    std::getline(f, pass);
    if (!pass.empty() && pass.back() == '\r')
        pass.pop_back();
    return true;
}

EvpPkeyPtr read_private_key(const std::string& path, const std::string& spec, std::string& err)
{
    BioPtr bio = open_pem(path);
    if (!bio) {
        err = "cannot be read";
        return nullptr;
    }
    std::string pass;
    if (!spec.empty() && !read_key_pass(spec, pass, err))
        return nullptr;
    struct Ask {
        const std::string* pass;
        bool asked = false;
    } ask{spec.empty() ? nullptr : &pass};
    // Never a prompt: without a passphrase an encrypted key fails here.
    auto cb = [](char* buf, int size, int, void* u) -> int {
        auto* a = static_cast<Ask*>(u);
        a->asked = true;
        if (!a->pass || a->pass->size() > static_cast<size_t>(size))
            return 0;
        a->pass->copy(buf, a->pass->size());
        return static_cast<int>(a->pass->size());
    };
    ERR_clear_error();
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, cb, &ask));
    OPENSSL_cleanse(pass.data(), pass.size());
    if (!key) {
        std::string why = drain_errors();
        if (ask.asked && spec.empty())
            err = "is encrypted, and no tls_private_key_pass says where its passphrase is";
        else if (ask.asked)
            err = "cannot be decrypted with the passphrase of tls_private_key_pass (wrong passphrase?)";
        else
            err = "holds no usable PEM private key: " + why;
    } else if (!spec.empty() && !ask.asked) {
        err.clear();   // a plain key with a passphrase given: it works, the passphrase is unused
    }
    return key;
}

}  // namespace ser::tls

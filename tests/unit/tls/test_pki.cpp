// Makes the identities of test_pki.h with the OpenSSL API: keys, X.509 v3
// certificates with the extensions tools/ser-certs gives its own, and a CRL.
#include "test_pki.h"

#include "tls/tls_util.h"

#include <cppunit/extensions/HelperMacros.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <vector>

namespace ser::test {
namespace {

using tls::EvpPkeyPtr;
using tls::X509CrlPtr;
using tls::X509Ptr;

constexpr long kDay = 24 * 60 * 60;

void check(bool ok, const std::string& what)
{
    CPPUNIT_ASSERT_MESSAGE("test PKI: " + what + " failed: " + tls::drain_errors(), ok);
}

EvpPkeyPtr new_key(bool rsa)
{
    EvpPkeyPtr k(rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    check(k != nullptr, "EVP_PKEY_Q_keygen");
    return k;
}

// One key and the certificate of it; `cert` is also the issuer of the next ones.
struct Made {
    EvpPkeyPtr key;
    X509Ptr cert;
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, tls::Free<X509_EXTENSION_free>> ext(
        X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    check(ext && X509_add_ext(cert, ext.get(), -1) == 1, std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
}

struct Spec {
    std::string cn;
    std::string san;            // "DNS:a, IP:1.2.3.4"; "" for none
    const char* eku = nullptr;  // "serverAuth", "clientAuth"; nullptr for a CA
    bool rsa = false;
    long not_before = -kDay;    // seconds from now
    long not_after = 365 * kDay;
};

// A certificate for `s`, signed by `issuer` (self-signed when nullptr).
Made make_cert(const Spec& s, const Made* issuer, uint64_t serial)
{
    Made m{new_key(s.rsa), X509Ptr(X509_new())};
    X509* x = m.cert.get();
    check(x != nullptr, "X509_new");
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial);
    time_t now = std::time(nullptr);
    X509_time_adj_ex(X509_getm_notBefore(x), 0, s.not_before, &now);
    X509_time_adj_ex(X509_getm_notAfter(x), 0, s.not_after, &now);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(s.cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : name);
    check(X509_set_pubkey(x, m.key.get()) == 1, "X509_set_pubkey");
    X509* signer = issuer ? issuer->cert.get() : x;
    if (!s.eku) {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, signer, NID_key_usage, s.rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
        add_ext(x, signer, NID_ext_key_usage, s.eku);
    }
    if (!s.san.empty())
        add_ext(x, signer, NID_subject_alt_name, s.san.c_str());
    add_ext(x, signer, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    check(X509_sign(x, issuer ? issuer->key.get() : m.key.get(), EVP_sha256()) > 0, "X509_sign(" + s.cn + ")");
    return m;
}

// A CRL of `ca` that lists the certificates `revoked`, valid from yesterday for 30 days.
X509CrlPtr make_crl(const Made& ca, const std::vector<X509*>& revoked)
{
    X509CrlPtr crl(X509_CRL_new());
    check(crl != nullptr, "X509_CRL_new");
    X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.get()));
    time_t now = std::time(nullptr);
    std::unique_ptr<ASN1_TIME, tls::Free<ASN1_TIME_free>> last(X509_time_adj_ex(nullptr, 0, -kDay, &now));
    std::unique_ptr<ASN1_TIME, tls::Free<ASN1_TIME_free>> next(X509_time_adj_ex(nullptr, 30, 0, &now));
    X509_CRL_set1_lastUpdate(crl.get(), last.get());
    X509_CRL_set1_nextUpdate(crl.get(), next.get());
    for (X509* c : revoked) {
        X509_REVOKED* r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c));
        X509_REVOKED_set_revocationDate(r, last.get());
        check(X509_CRL_add0_revoked(crl.get(), r) == 1, "X509_CRL_add0_revoked");   // the CRL owns r now
    }
    X509_CRL_sort(crl.get());
    check(X509_CRL_sign(crl.get(), ca.key.get(), EVP_sha256()) > 0, "X509_CRL_sign");
    return crl;
}

// Writes a PEM file; keys get mode 600, as ser's config check wants them.
template <typename F>
void write_pem(const std::string& path, int mode, F&& write)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    check(fd >= 0, "open(" + path + ")");
    tls::BioPtr bio(BIO_new_fd(fd, BIO_CLOSE));
    check(bio && write(bio.get()) == 1, "writing " + path);
}

class Store {
public:
    Store()
    {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/ser-tls-unit.XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        check(mkdtemp(buf.data()) != nullptr, "mkdtemp(" + templ + ")");
        pki_.dir = buf.data();
    }
    ~Store()
    {
        std::error_code ec;
        std::filesystem::remove_all(pki_.dir, ec);
    }
    std::string cert(const std::string& name, const Made& m)
    {
        std::string path = pki_.dir + "/" + name + ".pem";
        write_pem(path, 0644, [&](BIO* b) { return PEM_write_bio_X509(b, m.cert.get()); });
        return path;
    }
    Identity identity(const std::string& name, const Made& m)
    {
        Identity id{cert(name, m), pki_.dir + "/" + name + ".key"};
        write_pem(id.key, 0600, [&](BIO* b) {
            return PEM_write_bio_PrivateKey(b, m.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        });
        return id;
    }
    TestPki& pki() { return pki_; }

private:
    TestPki pki_;
};

void make_all(Store& st)
{
    TestPki& p = st.pki();
    uint64_t serial = 0x5e7000;
    Made ca = make_cert({"ser test CA", "", nullptr, false, -kDay, 3650 * kDay}, nullptr, ++serial);
    Made other = make_cert({"other CA", "", nullptr, false, -kDay, 3650 * kDay}, nullptr, ++serial);
    p.ca = st.cert("ca", ca);
    p.ca_key = p.dir + "/ca.key";
    write_pem(p.ca_key, 0600, [&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, ca.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    p.other_ca = st.cert("other-ca", other);

    p.server = st.identity("sip", make_cert({"sip.example.com", "DNS:sip.example.com, DNS:localhost, IP:127.0.0.1",
                                             "serverAuth"}, &ca, ++serial));
    p.server_rsa = st.identity("rsa", make_cert({"rsa.example.com", "DNS:rsa.example.com", "serverAuth", true}, &ca, ++serial));
    p.server_a = st.identity("a", make_cert({"a.example.com", "DNS:a.example.com", "serverAuth"}, &ca, ++serial));
    p.server_b = st.identity("b", make_cert({"b.example.com", "DNS:b.example.com", "serverAuth"}, &ca, ++serial));

    p.sip_uri = st.identity("trunk", make_cert({"ignored.example.com", "URI:sip:trunk.example.com",
                                                "serverAuth, clientAuth"}, &ca, ++serial));
    p.wildcard = st.identity("wild", make_cert({"wild", "DNS:*.example.com", "serverAuth"}, &ca, ++serial));
    p.client = st.identity("alice", make_cert({"alice", "", "clientAuth"}, &ca, ++serial));
    p.expired = st.identity("old-alice", make_cert({"old-alice", "", "clientAuth", false, -60 * kDay, -kDay}, &ca, ++serial));
    p.foreign = st.identity("mallory", make_cert({"mallory", "", "clientAuth"}, &other, ++serial));
    Made bob = make_cert({"bob", "", "clientAuth"}, &ca, ++serial);
    p.revoked = st.identity("bob", bob);

    X509CrlPtr crl = make_crl(ca, {bob.cert.get()});
    p.crl = p.dir + "/crl.pem";
    write_pem(p.crl, 0644, [&](BIO* b) { return PEM_write_bio_X509_CRL(b, crl.get()); });
}

}  // namespace

const TestPki& test_pki()
{
    // Made once per run; the directory goes when the binary exits.
    static Store store;
    static bool made = false;
    if (!made) {
        make_all(store);
        made = true;
    }
    return store.pki();
}

}  // namespace ser::test

// tls/tls_ocsp.h: a response is read and checked against the certificate
// (about it, status known); the status callback staples a current one and
// never a stale one. Responses are signed here with the test CA, with
// times in the past where staleness is the point.
#include "test_pki.h"
#include "tls/tls_ocsp.h"
#include "tls_test_cfg.h"

#include <cppunit/extensions/HelperMacros.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <ctime>

namespace ser::test {
namespace {

template <typename T, auto R>
std::unique_ptr<T, tls::Free<R>> read_pem(const std::string& path, T* (*rd)(FILE*, T**, pem_password_cb*, void*))
{
    FILE* f = std::fopen(path.c_str(), "r");
    CPPUNIT_ASSERT(f);
    std::unique_ptr<T, tls::Free<R>> x(rd(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    CPPUNIT_ASSERT(x);
    return x;
}

// A DER response about `subject`, status good, valid from now+from to now+until (seconds).
std::string make_response(const std::string& name, const std::string& subject, long from, long until)
{
    auto ca = read_pem<X509, X509_free>(test_pki().ca, PEM_read_X509);
    auto key = read_pem<EVP_PKEY, EVP_PKEY_free>(test_pki().ca_key, PEM_read_PrivateKey);
    auto cert = read_pem<X509, X509_free>(subject, PEM_read_X509);
    OCSP_BASICRESP* bs = OCSP_BASICRESP_new();
    OCSP_CERTID* id = OCSP_cert_to_id(nullptr, cert.get(), ca.get());
    ASN1_TIME* t0 = X509_time_adj_ex(nullptr, 0, from, nullptr);
    ASN1_TIME* t1 = X509_time_adj_ex(nullptr, 0, until, nullptr);
    CPPUNIT_ASSERT(OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, t0, t1));
    CPPUNIT_ASSERT(OCSP_basic_sign(bs, ca.get(), key.get(), EVP_sha256(), nullptr, 0) == 1);
    OCSP_RESPONSE* resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    std::string path = test_pki().dir + "/" + name + ".ocsp";
    unsigned char* der = nullptr;
    int len = i2d_OCSP_RESPONSE(resp, &der);
    FILE* f = std::fopen(path.c_str(), "wb");
    CPPUNIT_ASSERT(f && len > 0 && std::fwrite(der, 1, static_cast<size_t>(len), f) == static_cast<size_t>(len));
    std::fclose(f);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(t0);
    ASN1_TIME_free(t1);
    return path;
}

const tls::TlsDomain* served(const tls::TlsDomainSet& set) { return set.find_server(addr("127.0.0.1", 5061), ""); }

int callback_on(const tls::TlsDomain& d)
{
    tls::SslPtr ssl(SSL_new(d.ctx.get()));
    return tls::ocsp_status_callback(ssl.get(), nullptr);
}

}  // namespace

class TlsOcspTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsOcspTest);
    CPPUNIT_TEST(currentResponseIsStapled);
    CPPUNIT_TEST(staleResponseIsNot);
    CPPUNIT_TEST(responseAboutAnotherCertificate);
    CPPUNIT_TEST(notAResponse);
    CPPUNIT_TEST_SUITE_END();

public:
    void currentResponseIsStapled()
    {
        std::string f = make_response("fresh", test_pki().server.cert, -60, 86400);
        auto set = domains_of(server_cfg("tls_ocsp_response=\"" + f + "\"\n"));
        const tls::TlsDomain* d = served(*set);
        CPPUNIT_ASSERT_EQUAL(std::string("good"), d->ocsp.status);
        CPPUNIT_ASSERT(tls::stapled(d->ocsp, time(nullptr)));
        CPPUNIT_ASSERT_EQUAL(SSL_TLSEXT_ERR_OK, callback_on(*d));
    }

    void staleResponseIsNot()
    {
        std::string f = make_response("stale", test_pki().server.cert, -2 * 86400, -86400);
        auto set = domains_of(server_cfg("tls_ocsp_response=\"" + f + "\"\n"));
        const tls::TlsDomain* d = served(*set);
        CPPUNIT_ASSERT(!d->ocsp.der.empty());   // read, but past its next update
        CPPUNIT_ASSERT(!tls::stapled(d->ocsp, time(nullptr)));
        CPPUNIT_ASSERT_EQUAL(SSL_TLSEXT_ERR_NOACK, callback_on(*d));
    }

    void responseAboutAnotherCertificate()
    {
        std::string f = make_response("alice", test_pki().client.cert, -60, 86400);
        auto set = domains_of(server_cfg("tls_ocsp_response=\"" + f + "\"\n"));
        const tls::TlsDomain* d = served(*set);
        CPPUNIT_ASSERT(d->ocsp.der.empty());
        CPPUNIT_ASSERT_EQUAL(SSL_TLSEXT_ERR_NOACK, callback_on(*d));
    }

    void notAResponse()
    {
        tls::OcspStaple s;
        auto cert = read_pem<X509, X509_free>(test_pki().server.cert, PEM_read_X509);
        std::string why = tls::load_ocsp(test_pki().ca, cert.get(), nullptr, s);   // a PEM file
        CPPUNIT_ASSERT_MESSAGE(why, why.find("holds no DER OCSP response") != std::string::npos);
        CPPUNIT_ASSERT(s.der.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsOcspTest);

}  // namespace ser::test

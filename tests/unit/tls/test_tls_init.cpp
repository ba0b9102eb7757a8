// tls/tls_init.cpp make_ctx, through the domains a config builds: what the
// TLS parameters mean in a handshake. Peer certificate checks (tls_verify,
// tls_require_certificate, tls_ca_list, tls_crl), the version floor of
// tls_method, and the default cipher list. In process over a BIO pair.
#include "test_pki.h"
#include "tls_pair.h"
#include "tls_test_cfg.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace ser;
using namespace ser::test;

namespace {

const SockAddr& local()
{
    static const SockAddr a = addr("127.0.0.1", 5061);
    return a;
}

// A handshake from ser's default client domain of `client_text` to ser's
// server of `server_text`, accepted on 127.0.0.1:5061.
struct Handshake {
    std::shared_ptr<const tls::TlsDomainSet> server_set;
    std::shared_ptr<const tls::TlsDomainSet> client_set;
    std::unique_ptr<TlsPair> pair;
    bool ok = false;

    Handshake(const std::string& server_text, const std::string& client_text)
        : server_set(domains_of(server_text)), client_set(domains_of(client_text))
    {
        pair = std::make_unique<TlsPair>(ser_client_ssl(*client_set, local(), "sip.example.com"), *server_set, local());
        ok = pair->handshake();
    }
    TlsEnd& server() { return pair->server(); }
    TlsEnd& client() { return pair->client(); }
    std::string failure() const { return pair->failure(); }
};

// A client that is not ser: any OpenSSL peer, limited to `min`..`max`
// (0: no limit) and offering `ciphers` on TLS 1.2 and older.
tls::SslCtxPtr foreign_client(int min, int max, const char* ciphers = nullptr)
{
    tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    CPPUNIT_ASSERT(ctx);
    if (min && min < TLS1_2_VERSION)
        SSL_CTX_set_security_level(ctx.get(), 0);   // what an old device still signs with
    CPPUNIT_ASSERT(SSL_CTX_set_min_proto_version(ctx.get(), min));
    CPPUNIT_ASSERT(SSL_CTX_set_max_proto_version(ctx.get(), max));
    if (ciphers)
        CPPUNIT_ASSERT(SSL_CTX_set_cipher_list(ctx.get(), ciphers));
    return ctx;
}

}  // namespace

class TlsInitTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsInitTest);
    CPPUNIT_TEST(mutualTlsVerifiesClient);
    CPPUNIT_TEST(requiredCertificateMissing);
    CPPUNIT_TEST(optionalCertificateMissing);
    CPPUNIT_TEST(clientOfAnotherCa);
    CPPUNIT_TEST(expiredClient);
    CPPUNIT_TEST(revokedClient);
    CPPUNIT_TEST(versionFloorRefusesTls11);
    CPPUNIT_TEST(tls12MethodRefusesTls13Client);
    CPPUNIT_TEST(tls12OffersOnlyEcdheAead);
    CPPUNIT_TEST(plainRsaKeyExchangeRefused);
    CPPUNIT_TEST_SUITE_END();

    const std::string kMutual = "tls_verify=1\ntls_require_certificate=1\n";

public:
    // tls_verify=1 with tls_require_certificate=1 and a client of the CA: the
    // handshake completes on TLS 1.3 (the default), the server has the verified
    // subject, and the client (tls_verify=1) verified the server's name.
    void mutualTlsVerifiesClient()
    {
        Handshake h(server_cfg(kMutual), client_cfg(&test_pki().client, "tls_verify=1\n"));
        CPPUNIT_ASSERT_MESSAGE(h.failure(), h.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=alice"), h.server().peer_cn());
        CPPUNIT_ASSERT_EQUAL(long(X509_V_OK), h.server().verify_result());
        CPPUNIT_ASSERT_EQUAL(std::string("CN=sip.example.com"), h.client().peer_cn());
        CPPUNIT_ASSERT_EQUAL(long(X509_V_OK), h.client().verify_result());
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_3_VERSION), h.server().version());
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_3_VERSION), h.client().version());
        CPPUNIT_ASSERT_EQUAL(std::string("tls_domain[127.0.0.1:5061]"), h.pair->server_domain()->name);
    }

    // tls_require_certificate=1: a client without a certificate is refused by
    // the server (in TLS 1.3 the client has finished before it learns so).
    void requiredCertificateMissing()
    {
        Handshake h(server_cfg(kMutual), client_cfg(nullptr));
        CPPUNIT_ASSERT(!h.ok);
        CPPUNIT_ASSERT_MESSAGE(h.failure(), h.server().failed);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(h.server().why, int(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE), h.server().reason);
        CPPUNIT_ASSERT(!h.pair->client_reads());   // the alert reaches the client
    }

    // tls_require_certificate=0: asked for, but not required; the connection
    // stands without a peer certificate, so nothing about the peer is verified.
    void optionalCertificateMissing()
    {
        Handshake h(server_cfg("tls_verify=1\ntls_require_certificate=0\n"), client_cfg(nullptr));
        CPPUNIT_ASSERT_MESSAGE(h.failure(), h.ok);
        CPPUNIT_ASSERT_EQUAL(std::string(), h.server().peer_cn());
        CPPUNIT_ASSERT(h.pair->client_reads());
    }

    // A client certificate from "other CA": a verification error on the server.
    void clientOfAnotherCa()
    {
        Handshake h(server_cfg(kMutual), client_cfg(&test_pki().foreign));
        CPPUNIT_ASSERT(!h.ok);
        CPPUNIT_ASSERT_MESSAGE(h.failure(), h.server().failed);
        CPPUNIT_ASSERT_EQUAL(int(SSL_R_CERTIFICATE_VERIFY_FAILED), h.server().reason);
        CPPUNIT_ASSERT_EQUAL(long(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), h.server().verify_result());
    }

    // A client certificate of the CA that expired yesterday.
    void expiredClient()
    {
        Handshake h(server_cfg(kMutual), client_cfg(&test_pki().expired));
        CPPUNIT_ASSERT(!h.ok);
        CPPUNIT_ASSERT_MESSAGE(h.failure(), h.server().failed);
        CPPUNIT_ASSERT_EQUAL(int(SSL_R_CERTIFICATE_VERIFY_FAILED), h.server().reason);
        CPPUNIT_ASSERT_EQUAL(long(X509_V_ERR_CERT_HAS_EXPIRED), h.server().verify_result());
    }

    // tls_crl: the revoked client is refused, the others of the CA still pass;
    // without tls_crl the revoked one passes too (the CRL is what refuses it).
    void revokedClient()
    {
        const std::string with_crl = kMutual + "tls_crl=\"" + test_pki().crl + "\"\n";
        Handshake revoked(server_cfg(with_crl), client_cfg(&test_pki().revoked));
        CPPUNIT_ASSERT(!revoked.ok);
        CPPUNIT_ASSERT_MESSAGE(revoked.failure(), revoked.server().failed);
        CPPUNIT_ASSERT_EQUAL(long(X509_V_ERR_CERT_REVOKED), revoked.server().verify_result());

        Handshake alice(server_cfg(with_crl), client_cfg(&test_pki().client));
        CPPUNIT_ASSERT_MESSAGE(alice.failure(), alice.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=alice"), alice.server().peer_cn());

        Handshake no_crl(server_cfg(kMutual), client_cfg(&test_pki().revoked));
        CPPUNIT_ASSERT_MESSAGE(no_crl.failure(), no_crl.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=bob"), no_crl.server().peer_cn());
    }

    // The default tls_method (sslv23) has TLS 1.2 as its floor: a client that
    // speaks TLS 1.0 to 1.1 only is refused, one that speaks up to 1.2 is served.
    void versionFloorRefusesTls11()
    {
        auto server = domains_of(server_cfg(""));
        auto old = foreign_client(TLS1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0");
        TlsPair refused(client_ssl(old.get()), *server, local());
        CPPUNIT_ASSERT(!refused.handshake());
        CPPUNIT_ASSERT_MESSAGE(refused.failure(), refused.server().failed);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.server().why, int(SSL_R_UNSUPPORTED_PROTOCOL), refused.server().reason);

        auto tls12 = foreign_client(0, TLS1_2_VERSION);
        TlsPair served(client_ssl(tls12.get()), *server, local());
        bool ok = served.handshake();
        CPPUNIT_ASSERT_MESSAGE(served.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_2_VERSION), served.server().version());
    }

    // tls_method=tlsv1.2 pins TLS 1.2: a client that speaks only TLS 1.3 is
    // refused, though the default server serves it.
    void tls12MethodRefusesTls13Client()
    {
        auto only13 = foreign_client(TLS1_3_VERSION, TLS1_3_VERSION);
        auto pinned = domains_of(server_cfg("tls_method=tlsv1.2\n"));
        TlsPair refused(client_ssl(only13.get()), *pinned, local());
        CPPUNIT_ASSERT(!refused.handshake());
        CPPUNIT_ASSERT_MESSAGE(refused.failure(), refused.server().failed);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.server().why, int(SSL_R_UNSUPPORTED_PROTOCOL), refused.server().reason);

        auto dflt = domains_of(server_cfg(""));
        TlsPair served(client_ssl(only13.get()), *dflt, local());
        bool ok = served.handshake();
        CPPUNIT_ASSERT_MESSAGE(served.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_3_VERSION), served.server().version());
    }

    // Without tls_ciphers_list, TLS 1.2 gets ECDHE key exchange with an AEAD
    // cipher only, with an ECDSA certificate and with an RSA one: both in the
    // suites the server context offers and in what a permissive client gets.
    void tls12OffersOnlyEcdheAead()
    {
        for (const Identity* id : {&test_pki().server, &test_pki().server_rsa}) {
            auto server = domains_of(server_cfg("", *id));
            SSL_CTX* ctx = server->find_server(local(), "")->ctx.get();
            STACK_OF(SSL_CIPHER)* suites = SSL_CTX_get_ciphers(ctx);
            int tls12 = 0;
            for (int i = 0; i < sk_SSL_CIPHER_num(suites); i++) {
                const SSL_CIPHER* c = sk_SSL_CIPHER_value(suites, i);
                if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any)
                    continue;   // a TLS 1.3 suite: key exchange is always (EC)DHE there
                tls12++;
                CPPUNIT_ASSERT_EQUAL_MESSAGE(SSL_CIPHER_get_name(c), NID_kx_ecdhe, SSL_CIPHER_get_kx_nid(c));
                CPPUNIT_ASSERT_MESSAGE(SSL_CIPHER_get_name(c), SSL_CIPHER_is_aead(c));
            }
            CPPUNIT_ASSERT(tls12 > 0);

            auto any12 = foreign_client(0, TLS1_2_VERSION, "ALL:@SECLEVEL=0");
            TlsPair p(client_ssl(any12.get()), *server, local());
            bool ok = p.handshake();
            CPPUNIT_ASSERT_MESSAGE(id->cert + ": " + p.failure(), ok);
            const SSL_CIPHER* got = p.server().cipher();
            CPPUNIT_ASSERT_EQUAL(version_name(TLS1_2_VERSION), p.server().version());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(SSL_CIPHER_get_name(got), NID_kx_ecdhe, SSL_CIPHER_get_kx_nid(got));
            CPPUNIT_ASSERT_MESSAGE(SSL_CIPHER_get_name(got), SSL_CIPHER_is_aead(got));
        }
    }

    // A TLS 1.2 client offering only AES128-SHA (RSA key exchange, no forward
    // secrecy) finds no shared cipher, whether the server key is RSA or ECDSA.
    void plainRsaKeyExchangeRefused()
    {
        for (const Identity* id : {&test_pki().server_rsa, &test_pki().server}) {
            auto server = domains_of(server_cfg("", *id));
            auto rsa_kx = foreign_client(0, TLS1_2_VERSION, "AES128-SHA");
            TlsPair p(client_ssl(rsa_kx.get()), *server, local());
            CPPUNIT_ASSERT_MESSAGE(id->cert, !p.handshake());
            CPPUNIT_ASSERT_MESSAGE(id->cert + ": " + p.failure(), p.server().failed);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(p.server().why, int(SSL_R_NO_SHARED_CIPHER), p.server().reason);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsInitTest);

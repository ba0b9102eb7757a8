// tls/tls_domain.cpp TlsDomainSet: which domain serves a connection (by the
// listener's address, then by the SNI name of the ClientHello), which client
// domain checks an outgoing one, and that a session resumes only in the
// domain that made it. In process over a BIO pair.
#include "test_pki.h"
#include "tls_pair.h"
#include "tls_test_cfg.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace ser;
using namespace ser::test;

namespace {

std::string named_domain(const std::string& name, const Identity& id, const std::string& settings = "")
{
    return "tls_domain[127.0.0.1:5061] {\n    tls_server_name=\"" + name + "\"\n" + identity_cfg(id) + settings + "}\n";
}

// 127.0.0.1:5061 with a domain per SNI name (a.example.com, b.example.com)
// and an unnamed one, written last; 127.0.0.1:5062 with one domain of its own.
std::string sni_cfg()
{
    const TestPki& p = test_pki();
    return "listen=tls:127.0.0.1:5061\nlisten=tls:127.0.0.1:5062\n" + named_domain("a.example.com", p.server_a) +
           named_domain("b.example.com", p.server_b) + "tls_domain[127.0.0.1:5061] {\n" + identity_cfg(p.server) +
           "}\ntls_domain[127.0.0.1:5062] {\n" + identity_cfg(p.server_rsa) + "}\n";
}

// 127.0.0.1:5061: an unnamed domain that asks for no client certificate, and
// "b.example.com" that requires one and checks the CRL; 127.0.0.1:5062: another lax domain.
std::string lax_and_strict_cfg()
{
    const TestPki& p = test_pki();
    return "listen=tls:127.0.0.1:5061\nlisten=tls:127.0.0.1:5062\n"
           "tls_domain[127.0.0.1:5061] {\n" + identity_cfg(p.server) + "}\n" +
           named_domain("b.example.com", p.server_b, ca_cfg() + "tls_crl=\"" + p.crl + "\"\n" +
                                                         "tls_verify=1\ntls_require_certificate=1\n") +
           "tls_domain[127.0.0.1:5062] {\n" + identity_cfg(p.server_rsa) + "}\n";
}

// The CN of the certificate a ser client (which checks nothing) gets from
// `server` on `local` when it connects to `host` (a name sends it as SNI).
std::string served_cn(const tls::TlsDomainSet& server, const SockAddr& local, const std::string& host,
                      std::string* domain = nullptr)
{
    auto client = domains_of(client_cfg(nullptr));
    TlsPair p(ser_client_ssl(*client, local, host), server, local);
    bool ok = p.handshake();
    CPPUNIT_ASSERT_MESSAGE(host + ": " + p.failure(), ok);
    if (domain)
        *domain = p.server_domain()->name;
    return p.client().peer_cn();
}

}  // namespace

class TlsDomainTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsDomainTest);
    CPPUNIT_TEST(sniSelectsDomainOfListener);
    CPPUNIT_TEST(sniDomainKeepsItsChecks);
    CPPUNIT_TEST(sniDomainKeepsItsVersions);
    CPPUNIT_TEST(clientDomainChecksServerName);
    CPPUNIT_TEST(clientDomainUsesSipDomainRules);
    CPPUNIT_TEST(resumesWithinDomainTls12);
    CPPUNIT_TEST(resumesWithinDomainTls13);
    CPPUNIT_TEST(noResumptionAcrossDomainsTls12);
    CPPUNIT_TEST(noResumptionAcrossDomainsTls13);
    CPPUNIT_TEST_SUITE_END();

    const SockAddr l1 = addr("127.0.0.1", 5061);
    const SockAddr l2 = addr("127.0.0.1", 5062);

public:
    // Two tls_domain blocks on one listener chosen by tls_server_name: name A
    // gets A's certificate, B gets B's (names compare without case); an unknown
    // name, or none, gets the listener's unnamed domain; the same name on another
    // listener gets that listener's domain.
    void sniSelectsDomainOfListener()
    {
        auto set = domains_of(sni_cfg());
        std::string dom;
        CPPUNIT_ASSERT_EQUAL(std::string("CN=a.example.com"), served_cn(*set, l1, "a.example.com", &dom));
        CPPUNIT_ASSERT_EQUAL(std::string("tls_domain[127.0.0.1:5061] (a.example.com)"), dom);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=b.example.com"), served_cn(*set, l1, "b.example.com"));
        CPPUNIT_ASSERT_EQUAL(std::string("CN=b.example.com"), served_cn(*set, l1, "B.Example.COM"));
        CPPUNIT_ASSERT_EQUAL(std::string("CN=sip.example.com"), served_cn(*set, l1, "unknown.example.com", &dom));
        CPPUNIT_ASSERT_EQUAL(std::string("tls_domain[127.0.0.1:5061]"), dom);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=sip.example.com"), served_cn(*set, l1, "127.0.0.1"));   // no SNI
        CPPUNIT_ASSERT_EQUAL(std::string("CN=rsa.example.com"), served_cn(*set, l2, "a.example.com", &dom));
        CPPUNIT_ASSERT_EQUAL(std::string("tls_domain[127.0.0.1:5062]"), dom);
    }

    // The domain SNI selects brings its own peer checks, not those of the
    // domain the connection started in: "b.example.com" requires a client
    // certificate, names its CA to the client and checks its CRL; the unnamed
    // domain does none of this.
    void sniDomainKeepsItsChecks()
    {
        auto server = domains_of(lax_and_strict_cfg());
        auto anonymous = domains_of(client_cfg(nullptr));
        auto alice = domains_of(client_cfg(&test_pki().client));

        TlsPair refused(ser_client_ssl(*anonymous, l1, "b.example.com"), *server, l1);
        CPPUNIT_ASSERT(!refused.handshake());
        CPPUNIT_ASSERT_MESSAGE(refused.failure(), refused.server().failed);
        CPPUNIT_ASSERT_EQUAL(int(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE), refused.server().reason);

        TlsPair served(ser_client_ssl(*alice, l1, "b.example.com"), *server, l1);
        bool served_ok = served.handshake();
        CPPUNIT_ASSERT_MESSAGE(served.failure(), served_ok);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=alice"), served.server().peer_cn());
        STACK_OF(X509_NAME)* cas = SSL_get_client_CA_list(served.client().ssl.get());
        CPPUNIT_ASSERT_EQUAL(1, sk_X509_NAME_num(cas));
        char cn[64] = "";
        X509_NAME_get_text_by_NID(sk_X509_NAME_value(cas, 0), NID_commonName, cn, sizeof cn);
        CPPUNIT_ASSERT_EQUAL(std::string("ser test CA"), std::string(cn));

        auto bob = domains_of(client_cfg(&test_pki().revoked));
        TlsPair revoked(ser_client_ssl(*bob, l1, "b.example.com"), *server, l1);
        CPPUNIT_ASSERT(!revoked.handshake());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(revoked.failure(), long(X509_V_ERR_CERT_REVOKED), revoked.server().verify_result());

        TlsPair lax(ser_client_ssl(*anonymous, l1, "sip.example.com"), *server, l1);
        bool lax_ok = lax.handshake();
        CPPUNIT_ASSERT_MESSAGE(lax.failure(), lax_ok);
        CPPUNIT_ASSERT(lax.client_reads());
        CPPUNIT_ASSERT_EQUAL(std::string(), lax.server().peer_cn());
    }

    // The domain SNI selects brings its own tls_method: "b.example.com" pinned
    // to TLS 1.2 serves TLS 1.2 to a client that speaks 1.3 too, and refuses
    // one that speaks only 1.3, while the listener's unnamed domain serves 1.3.
    void sniDomainKeepsItsVersions()
    {
        const TestPki& p = test_pki();
        auto server = domains_of("listen=tls:127.0.0.1:5061\ntls_domain[127.0.0.1:5061] {\n" + identity_cfg(p.server) +
                                 "}\n" + named_domain("b.example.com", p.server_b, "tls_method=tlsv1.2\n"));
        auto client = domains_of(client_cfg(nullptr));

        TlsPair pinned(ser_client_ssl(*client, l1, "b.example.com"), *server, l1);
        bool ok = pinned.handshake();
        CPPUNIT_ASSERT_MESSAGE(pinned.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(std::string("CN=b.example.com"), pinned.client().peer_cn());
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_2_VERSION), pinned.server().version());

        tls::SslPtr only13 = ser_client_ssl(*client, l1, "b.example.com");
        SSL_set_min_proto_version(only13.get(), TLS1_3_VERSION);
        TlsPair refused(std::move(only13), *server, l1);
        CPPUNIT_ASSERT(!refused.handshake());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.failure(), int(SSL_R_UNSUPPORTED_PROTOCOL), refused.server().reason);

        TlsPair unnamed(ser_client_ssl(*client, l1, "sip.example.com"), *server, l1);
        ok = unnamed.handshake();
        CPPUNIT_ASSERT_MESSAGE(unnamed.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(version_name(TLS1_3_VERSION), unnamed.server().version());
    }

    // A tls_client_domain with tls_verify=1 checks that the server certificate
    // names the target: the host name of the URI (DNS SAN), or for a numeric
    // host the address (IP SAN). The default client domain (tls_verify=0) does not.
    void clientDomainChecksServerName()
    {
        auto server = domains_of(server_cfg(""));
        auto client = domains_of(client_cfg(nullptr, "tls_client_domain[127.0.0.1:5061] {\n" + ca_cfg() +
                                                         "tls_verify=1\n}\ntls_client_domain[127.0.0.3:5061] {\n" +
                                                         ca_cfg() + "tls_verify=1\n}\n"));
        struct Case {
            const char* remote;
            const char* host;
            long verify;   // on the client
        } cases[] = {
            {"127.0.0.1", "sip.example.com", X509_V_OK},
            {"127.0.0.1", "localhost", X509_V_OK},
            {"127.0.0.1", "127.0.0.1", X509_V_OK},
            {"127.0.0.1", "other.example.com", X509_V_ERR_HOSTNAME_MISMATCH},
            {"127.0.0.1", "sip.example.com.evil.example", X509_V_ERR_HOSTNAME_MISMATCH},
            {"127.0.0.3", "127.0.0.3", X509_V_ERR_IP_ADDRESS_MISMATCH},
            {"127.0.0.2", "other.example.com", X509_V_OK},   // default client domain: no check
        };
        for (const Case& c : cases) {
            std::string what = std::string(c.remote) + " as " + c.host;
            TlsPair p(ser_client_ssl(*client, addr(c.remote, 5061), c.host), *server, l1);
            bool ok = p.handshake();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what, c.verify, p.client().verify_result());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + p.failure(), c.verify == X509_V_OK, ok);
            if (!ok) {
                CPPUNIT_ASSERT_MESSAGE(what, p.client().failed);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(what, int(SSL_R_CERTIFICATE_VERIFY_FAILED), p.client().reason);
            }
        }
    }

    // RFC 5922 §7: a sip: URI SAN names the SIP domain (OpenSSL's host check
    // knows only DNS SANs); a wildcard DNS SAN matches nothing but itself;
    // the CN counts only without URI and DNS SANs.
    void clientDomainUsesSipDomainRules()
    {
        auto client = domains_of(client_cfg(nullptr, "tls_client_domain[127.0.0.1:5061] {\n" + ca_cfg() +
                                                         "tls_verify=1\n}\n"));
        struct Case {
            const Identity* id;
            const char* host;
            long verify;
        } cases[] = {
            {&test_pki().sip_uri, "trunk.example.com", X509_V_OK},
            {&test_pki().sip_uri, "TRUNK.example.com.", X509_V_OK},
            {&test_pki().sip_uri, "ignored.example.com", X509_V_ERR_HOSTNAME_MISMATCH},   // CN, with a SAN present
            {&test_pki().sip_uri, "example.com", X509_V_ERR_HOSTNAME_MISMATCH},           // no suffix match
            {&test_pki().wildcard, "sip.example.com", X509_V_ERR_HOSTNAME_MISMATCH},      // no wildcard
        };
        for (const Case& c : cases) {
            auto server = domains_of(server_cfg("", *c.id));
            std::string what = c.id->cert + " as " + c.host;
            TlsPair p(ser_client_ssl(*client, addr("127.0.0.1", 5061), c.host), *server, l1);
            bool ok = p.handshake();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what, c.verify, p.client().verify_result());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + p.failure(), c.verify == X509_V_OK, ok);
        }
    }

    // A TLS 1.2 session and a TLS 1.3 ticket resume against the same domain,
    // and the resumed connection still carries the verified client certificate.
    void resumesWithinDomainTls12() { resumes_within_domain(TLS1_2_VERSION); }
    void resumesWithinDomainTls13() { resumes_within_domain(TLS1_3_VERSION); }

    // A session made in the lax domain does not resume in another one: not in
    // the strict SNI domain of the same listener (which would skip its client
    // certificate requirement: the handshake must fail instead), not in the
    // domain of another listener. It still resumes in its own (so it was resumable).
    void noResumptionAcrossDomainsTls12() { no_resumption_across_domains(TLS1_2_VERSION); }
    void noResumptionAcrossDomainsTls13() { no_resumption_across_domains(TLS1_3_VERSION); }

private:
    void resumes_within_domain(int v)
    {
        auto server = domains_of(server_cfg("tls_verify=1\ntls_require_certificate=1\n"));
        auto alice = domains_of(client_cfg(&test_pki().client));
        SessionPtr s = first_session(*alice, *server, l1, "sip.example.com", v);
        tls::SslPtr again = ser_client_ssl(*alice, l1, "sip.example.com");
        SSL_set_max_proto_version(again.get(), v);
        SSL_set_session(again.get(), s.get());
        TlsPair p(std::move(again), *server, l1);
        bool ok = p.handshake();
        CPPUNIT_ASSERT_MESSAGE(p.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(version_name(v), p.server().version());
        CPPUNIT_ASSERT(p.server().resumed());
        CPPUNIT_ASSERT(p.client().resumed());
        CPPUNIT_ASSERT_EQUAL(std::string("CN=alice"), p.server().peer_cn());
        CPPUNIT_ASSERT_EQUAL(long(X509_V_OK), p.server().verify_result());
    }

    void no_resumption_across_domains(int v)
    {
        auto server = domains_of(lax_and_strict_cfg());
        auto anonymous = domains_of(client_cfg(nullptr));
        SessionPtr s = first_session(*anonymous, *server, l1, "sip.example.com", v);
        auto offer = [&](const SockAddr& local, const char* host) {
            tls::SslPtr ssl = ser_client_ssl(*anonymous, local, host);
            SSL_set_max_proto_version(ssl.get(), v);
            SSL_set_session(ssl.get(), s.get());
            return std::make_unique<TlsPair>(std::move(ssl), *server, local);
        };

        auto strict = offer(l1, "b.example.com");
        CPPUNIT_ASSERT(!strict->handshake());
        CPPUNIT_ASSERT(!strict->server().resumed());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(strict->failure(), int(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE),
                                     strict->server().reason);

        auto other = offer(l2, "rsa.example.com");
        bool other_ok = other->handshake();
        CPPUNIT_ASSERT_MESSAGE(other->failure(), other_ok);
        CPPUNIT_ASSERT(!other->server().resumed());

        auto same = offer(l1, "sip.example.com");
        bool same_ok = same->handshake();
        CPPUNIT_ASSERT_MESSAGE(same->failure(), same_ok);
        CPPUNIT_ASSERT(same->server().resumed());
    }

    // The session of a first, full handshake of `client` with `server` on
    // `local` at version `v`, closed cleanly so that it stays resumable.
    static SessionPtr first_session(const tls::TlsDomainSet& client, const tls::TlsDomainSet& server,
                                    const SockAddr& local, const std::string& host, int v)
    {
        tls::SslPtr ssl = ser_client_ssl(client, local, host);
        SSL_set_max_proto_version(ssl.get(), v);
        TlsPair p(std::move(ssl), server, local);
        bool ok = p.handshake();
        CPPUNIT_ASSERT_MESSAGE(p.failure(), ok);
        CPPUNIT_ASSERT_EQUAL(version_name(v), p.server().version());
        CPPUNIT_ASSERT(!p.server().resumed());
        CPPUNIT_ASSERT(p.client_reads());
        SessionPtr s = p.client_session();
        p.close();
        CPPUNIT_ASSERT(s && SSL_SESSION_is_resumable(s.get()));
        return s;
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsDomainTest);

// tls/tls_material.h: the checks ser -c and every reload share — validity
// dates and role of a certificate, a CRL's next update, a chain that
// verifies against the CA list or does not.
#include "test_pki.h"
#include "tls/tls_material.h"
#include "tls_test_cfg.h"

#include <cppunit/extensions/HelperMacros.h>

#include <openssl/pem.h>

#include <cstdio>

namespace ser::test {
namespace {

// A PEM object of `path` read with `rd` (PEM_read_X509, PEM_read_X509_CRL).
template <typename T, auto F>
std::unique_ptr<T, tls::Free<F>> read_pem(const std::string& path, T* (*rd)(FILE*, T**, pem_password_cb*, void*))
{
    FILE* f = std::fopen(path.c_str(), "r");
    CPPUNIT_ASSERT(f);
    std::unique_ptr<T, tls::Free<F>> x(rd(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    CPPUNIT_ASSERT(x);
    return x;
}

tls::X509Ptr read_cert(const std::string& path) { return read_pem<X509, X509_free>(path, PEM_read_X509); }
tls::X509CrlPtr read_crl(const std::string& path) { return read_pem<X509_CRL, X509_CRL_free>(path, PEM_read_X509_CRL); }

bool has(const std::vector<tls::MaterialIssue>& v, bool fatal, const std::string& text)
{
    for (const auto& i : v)
        if (i.fatal == fatal && i.text.find(text) != std::string::npos)
            return true;
    return false;
}

constexpr time_t kYear = 365L * 86400;

}  // namespace

class TlsMaterialTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsMaterialTest);
    CPPUNIT_TEST(validServerCertificateHasNoIssue);
    CPPUNIT_TEST(expiredIsFatal);
    CPPUNIT_TEST(notYetValidIsFatal);
    CPPUNIT_TEST(endingSoonIsAWarning);
    CPPUNIT_TEST(wrongRoleIsFatal);
    CPPUNIT_TEST(crlNextUpdate);
    CPPUNIT_TEST(chainAgainstCaList);
    CPPUNIT_TEST_SUITE_END();

public:
    void validServerCertificateHasNoIssue()
    {
        auto x = read_cert(test_pki().server.cert);
        CPPUNIT_ASSERT(tls::check_certificate(x.get(), false, true, 0, time(nullptr)).empty());
    }

    void expiredIsFatal()
    {
        auto x = read_cert(test_pki().expired.cert);
        auto v = tls::check_certificate(x.get(), true, true, 30, time(nullptr));
        CPPUNIT_ASSERT(has(v, true, "expired on "));
        CPPUNIT_ASSERT(has(v, true, "(1 day ago)"));
    }

    void notYetValidIsFatal()
    {
        auto x = read_cert(test_pki().server.cert);
        auto v = tls::check_certificate(x.get(), false, true, 30, time(nullptr) - 10 * kYear);
        CPPUNIT_ASSERT(has(v, true, "is not valid before "));
    }

    void endingSoonIsAWarning()
    {
        auto x = read_cert(test_pki().server.cert);
        int64_t until = tls::unix_time(X509_get0_notAfter(x.get()));
        auto v = tls::check_certificate(x.get(), false, true, 30, static_cast<time_t>(until - 10 * 86400 - 60));
        CPPUNIT_ASSERT(has(v, false, "(in 10 days)"));
        CPPUNIT_ASSERT(!has(v, true, ""));
        CPPUNIT_ASSERT(tls::check_certificate(x.get(), false, true, 9, static_cast<time_t>(until - 10 * 86400 - 60)).empty());
    }

    void wrongRoleIsFatal()
    {
        auto client = read_cert(test_pki().client.cert);
        auto v = tls::check_certificate(client.get(), false, true, 0, time(nullptr));
        CPPUNIT_ASSERT(has(v, true, "is not a server certificate: its extendedKeyUsage (clientAuth) does not allow serverAuth"));
        CPPUNIT_ASSERT(tls::check_certificate(client.get(), true, true, 0, time(nullptr)).empty());
        CPPUNIT_ASSERT(tls::check_certificate(client.get(), false, false, 0, time(nullptr)).empty());
        auto server = read_cert(test_pki().server.cert);
        CPPUNIT_ASSERT(has(tls::check_certificate(server.get(), true, true, 0, time(nullptr)), true, "is not a client certificate"));
    }

    void crlNextUpdate()
    {
        auto crl = read_crl(test_pki().crl);
        int64_t next = tls::unix_time(X509_CRL_get0_nextUpdate(crl.get()));
        CPPUNIT_ASSERT(next > 0);
        CPPUNIT_ASSERT(tls::check_crl(crl.get(), false, 0, next - 100).empty());
        CPPUNIT_ASSERT(has(tls::check_crl(crl.get(), false, 30, next - 5 * 86400 - 60), false, "(in 5 days)"));
        auto after = tls::check_crl(crl.get(), false, 30, next + 3 * 86400);
        CPPUNIT_ASSERT(has(after, true, "is past its next update since "));
        CPPUNIT_ASSERT(has(after, true, "tls_crl_expired=refuse"));
        auto warned = tls::check_crl(crl.get(), true, 30, next + 3 * 86400);
        CPPUNIT_ASSERT(has(warned, false, "tls_crl_expired=warn"));
    }

    void chainAgainstCaList()
    {
        auto set = domains_of(server_cfg(""));
        const tls::TlsDomain* d = set->find_server(addr("127.0.0.1", 5061), "");
        CPPUNIT_ASSERT(d);
        CPPUNIT_ASSERT_EQUAL(std::string(), tls::chain_problem(d->ctx.get(), test_pki().ca, false));
        CPPUNIT_ASSERT_EQUAL(std::string(), d->chain_problem);
        CPPUNIT_ASSERT(!tls::chain_problem(d->ctx.get(), test_pki().other_ca, false).empty());
        CPPUNIT_ASSERT(!tls::chain_problem(d->ctx.get(), test_pki().ca, true).empty());   // serverAuth only
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsMaterialTest);

}  // namespace ser::test

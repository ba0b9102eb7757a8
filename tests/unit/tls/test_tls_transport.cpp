// Unit tests of the TLS transport itself (tls/tls_server.cpp over
// tls/tls_bio.cpp): ser's TlsTransport runs the server side of a handshake
// through its BIO over a "layer below" that is one end of a BIO pair; an
// OpenSSL client drives the other end. No sockets, no processes.
#include "cfg/cfg_check.h"
#include "io/conn_loop.h"
#include "io/stream_conn.h"
#include "tls/tls_domain.h"
#include "tls/tls_init.h"
#include "tls/tls_server.h"

#include <cppunit/extensions/HelperMacros.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace ser;

namespace {

// The layer below the TLS transport: reads and writes one end of a BIO pair.
class PairTransport final : public Transport {
public:
    BIO* end = nullptr;
    int reads = 0;   // calls of read(): the system calls a socket would take
    Proto proto() const override { return Proto::Tcp; }
    IoStatus on_open(StreamConn&) override { return IoStatus::Ok; }
    IoResult read(StreamConn&, std::span<char> buf) override
    {
        reads++;
        int n = BIO_read(end, buf.data(), static_cast<int>(buf.size()));
        if (n > 0)
            return {IoStatus::Ok, static_cast<size_t>(n)};
        return {BIO_should_retry(end) ? IoStatus::Again : IoStatus::Closed, 0};
    }
    IoResult write(StreamConn&, std::span<const char> data) override
    {
        int n = BIO_write(end, data.data(), static_cast<int>(data.size()));
        if (n > 0)
            return {IoStatus::Ok, static_cast<size_t>(n)};
        return {IoStatus::Again, 0};
    }
    void close(StreamConn&) override {}
};

class NoFramer final : public Framer {
public:
    FrameCut next(std::string_view) override { return {}; }
};

// Identities, made once with the openssl command in a temp dir:
//   ca.pem/ca.key      the test CA
//   srv.pem/srv.key    server certificate of the CA, SAN IP:127.0.0.1
//   cli.pem/cli.key    client certificate of the CA, CN=client.test
struct Pki {
    std::string dir;
    Pki()
    {
        char tmpl[] = "/tmp/ser-tls-unit.XXXXXX";
        dir = mkdtemp(tmpl);
        std::string d = dir;
        std::string sh =
            "cd " + d + " && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
            "-days 2 -subj /CN=test-ca -addext basicConstraints=critical,CA:true 2>/dev/null && "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr "
            "-subj /CN=127.0.0.1 2>/dev/null && "
            "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > srv.ext && "
            "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext "
            "-out srv.pem 2>/dev/null && "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cli.key -out cli.csr "
            "-subj /CN=client.test 2>/dev/null && "
            "printf 'extendedKeyUsage=clientAuth\\n' > cli.ext && "
            "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile cli.ext "
            "-out cli.pem 2>/dev/null && chmod 600 *.key";
        ok = std::system(sh.c_str()) == 0;
    }
    ~Pki() { std::system(("rm -rf " + dir).c_str()); }
    bool ok = false;
};

// One process-wide TLS transport (it is a singleton, as in a worker):
// domain 127.0.0.1:5061 asks no certificate, 127.0.0.2:5061 requires one.
struct World {
    Pki pki;
    Config cfg;
    PairTransport lower;
    Transport* tls = nullptr;
    World()
    {
        if (!pki.ok)
            return;
        std::string d = pki.dir + "/";
        std::string text = "listen=tls:127.0.0.1:5061\nlisten=tls:127.0.0.2:5061\n"
                           "tls_certificate=\"" + d + "srv.pem\"\ntls_private_key=\"" + d + "srv.key\"\n"
                           "tls_ca_list=\"" + d + "ca.pem\"\n"
                           "tls_domain[127.0.0.2:5061] {\n tls_verify=1\n tls_require_certificate=1\n}\n"
                           "route { drop; }\n";
        auto res = cfg::load_config_text(text, "tls-unit.cfg");
        if (!res.ok())
            return;
        cfg = std::move(res.config);
        tls::init_tls();
        std::string err;
        auto domains = tls::TlsDomainSet::build(cfg, err);
        if (!domains)
            return;
        tls = &tls::tls_transport_init(cfg, lower, std::move(domains));
    }
};

World& world()
{
    static World w;
    return w;
}

// One server connection of the TLS transport and an OpenSSL client on the
// other end of its BIO pair.
struct Session {
    NoFramer framer;
    StreamConn conn;
    tls::SslCtxPtr cctx;
    tls::SslPtr client;
    BIO* server_end = nullptr;
    BIO* client_end = nullptr;

    explicit Session(const char* local_ip, bool with_cert)
        : conn(1, -1, *world().tls, framer, 4096), cctx(SSL_CTX_new(TLS_client_method()))
    {
        conn.local = *SockAddr::from_numeric(local_ip, 5061);
        conn.remote = *SockAddr::from_numeric("127.0.0.9", 40000);
        BIO_new_bio_pair(&server_end, 0, &client_end, 0);
        world().lower.end = server_end;
        std::string d = world().pki.dir + "/";
        SSL_CTX_load_verify_locations(cctx.get(), (d + "ca.pem").c_str(), nullptr);
        SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_PEER, nullptr);
        if (with_cert) {
            SSL_CTX_use_certificate_file(cctx.get(), (d + "cli.pem").c_str(), SSL_FILETYPE_PEM);
            SSL_CTX_use_PrivateKey_file(cctx.get(), (d + "cli.key").c_str(), SSL_FILETYPE_PEM);
        }
        client.reset(SSL_new(cctx.get()));
        SSL_set_bio(client.get(), client_end, client_end);   // the client SSL owns its end
        SSL_set_connect_state(client.get());
    }
    ~Session()
    {
        world().tls->close(conn);
        BIO_free(server_end);
    }

    // Runs both sides until the server transport is established, fails, or
    // 50 rounds pass. Returns the server's last status.
    IoStatus handshake()
    {
        IoStatus st = world().tls->on_open(conn);
        if (st != IoStatus::Ok)
            return st;
        char buf[256];
        for (int i = 0; i < 50; i++) {
            SSL_do_handshake(client.get());
            IoResult r = world().tls->read(conn, std::span<char>(buf, sizeof buf));
            world().tls->write(conn, {});   // let pending handshake bytes out
            if (r.status == IoStatus::Error || r.status == IoStatus::Closed)
                return r.status;
            if (world().tls->handshake_done(conn) && SSL_is_init_finished(client.get()))
                return IoStatus::Ok;
        }
        return IoStatus::Again;
    }
};

}  // namespace

class TlsTransportTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsTransportTest);
    CPPUNIT_TEST(testHandshakeAndData);
    CPPUNIT_TEST(testRequiredCertificateMissing);
    CPPUNIT_TEST(testClientCertificateVerified);
    CPPUNIT_TEST(testRecordsReadAheadInOneLowerRead);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        CPPUNIT_ASSERT_MESSAGE("test certificates could not be made (openssl)", world().pki.ok);
        CPPUNIT_ASSERT_MESSAGE("the TLS transport could not be built", world().tls != nullptr);
    }

    void testHandshakeAndData()
    {
        Session s("127.0.0.1", false);
        CPPUNIT_ASSERT(s.handshake() == IoStatus::Ok);
        const TlsFacts* f = world().tls->describe(s.conn);
        CPPUNIT_ASSERT(f != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.3"), f->version);
        CPPUNIT_ASSERT(f->peer_subject.empty());
        CPPUNIT_ASSERT(!f->verified);
        // Client to server, then server to client, through the transport.
        CPPUNIT_ASSERT_EQUAL(5, SSL_write(s.client.get(), "hello", 5));
        char buf[64];
        IoResult r = world().tls->read(s.conn, std::span<char>(buf, sizeof buf));
        CPPUNIT_ASSERT(r.status == IoStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), std::string(buf, r.bytes));
        r = world().tls->write(s.conn, std::span<const char>("world", 5));
        CPPUNIT_ASSERT(r.status == IoStatus::Ok && r.bytes == 5);
        int n = SSL_read(s.client.get(), buf, sizeof buf);
        CPPUNIT_ASSERT_EQUAL(std::string("world"), std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
        // Nothing more to read: Again, not an error.
        r = world().tls->read(s.conn, std::span<char>(buf, sizeof buf));
        CPPUNIT_ASSERT(r.status == IoStatus::Again);
    }

    // Twenty records waiting: one read of the layer below takes them all
    // (read-ahead), each SSL_read then gives one, and has_buffered() says so
    // while some are left, since a poll would show the socket empty.
    void testRecordsReadAheadInOneLowerRead()
    {
        Session s("127.0.0.1", false);
        CPPUNIT_ASSERT(s.handshake() == IoStatus::Ok);
        char buf[256];
        while (world().tls->read(s.conn, std::span<char>(buf, sizeof buf)).status == IoStatus::Ok) {
        }   // the session tickets of TLS 1.3, if any are still in flight
        for (int i = 0; i < 20; i++) {
            std::string m = "record " + std::to_string(i);
            CPPUNIT_ASSERT_EQUAL(static_cast<int>(m.size()), SSL_write(s.client.get(), m.data(), static_cast<int>(m.size())));
        }
        world().lower.reads = 0;
        for (int i = 0; i < 20; i++) {
            IoResult r = world().tls->read(s.conn, std::span<char>(buf, sizeof buf));
            CPPUNIT_ASSERT(r.status == IoStatus::Ok);
            CPPUNIT_ASSERT_EQUAL("record " + std::to_string(i), std::string(buf, r.bytes));
            CPPUNIT_ASSERT_EQUAL(i < 19, world().tls->has_buffered(s.conn));
        }
        CPPUNIT_ASSERT_EQUAL(1, world().lower.reads);
    }

    void testRequiredCertificateMissing()
    {
        Session s("127.0.0.2", false);
        CPPUNIT_ASSERT(s.handshake() == IoStatus::Error);
        CPPUNIT_ASSERT(!world().tls->handshake_done(s.conn));
        CPPUNIT_ASSERT(world().tls->describe(s.conn) == nullptr);
        std::string why = world().tls->failure_reason(s.conn);
        CPPUNIT_ASSERT_MESSAGE(why, why.find("peer did not return a certificate") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(120, world().tls->handshake_timeout_s(s.conn));
    }

    void testClientCertificateVerified()
    {
        Session s("127.0.0.2", true);
        CPPUNIT_ASSERT(s.handshake() == IoStatus::Ok);
        const TlsFacts* f = world().tls->describe(s.conn);
        CPPUNIT_ASSERT(f != nullptr);
        CPPUNIT_ASSERT(f->verified);
        CPPUNIT_ASSERT_EQUAL(std::string("client.test"), f->peer_cn);
        CPPUNIT_ASSERT(f->peer_subject.find("CN = client.test") != std::string::npos);
        CPPUNIT_ASSERT(world().tls->failure_reason(s.conn).empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsTransportTest);

// libFuzzer target: ser's TLS transport (tls/tls_server.cpp) reading through
// its transport BIO (tls/tls_bio.cpp) from a fake layer below: the server
// side of a connection in process, no sockets. The first input byte picks
// what the fuzzed bytes are:
//   0  the client's whole byte stream from the first byte (ClientHello and
//      every record after it), in reads of a size the second byte sets;
//   1  records injected after a real handshake with an OpenSSL client over
//      a memory BIO pair (the record layer of an established connection);
//   2  application data the OpenSSL client sends after the handshake: the
//      transport must read back exactly those bytes, and what it writes
//      must reach the client exactly.
// The transport may fail or close the connection; it must not crash, and a
// failure must come with a reason.
#include "cfg/cfg_check.h"
#include "io/conn_loop.h"
#include "io/stream_conn.h"
#include "tls/tls_domain.h"
#include "tls/tls_init.h"
#include "tls/tls_server.h"
#include "tls/tls_util.h"

#include "fuzz_check.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace ser;

namespace {

// The layer below TLS: reads come from the client's end of a BIO pair, or
// from the fuzzed bytes once they are set; writes go to the client's end
// (or nowhere while the fuzzed bytes stand in for the client).
class FakeLower final : public Transport {
public:
    BIO* end = nullptr;             // our end of the pair; null: no client
    std::string_view fuzzed;        // when set (non-null data), what reads return
    size_t chunk = 0;               // the size of each read of fuzzed bytes
    bool use_fuzzed = false;

    Proto proto() const override { return Proto::Tcp; }
    IoStatus on_open(StreamConn&) override { return IoStatus::Ok; }
    IoResult read(StreamConn&, std::span<char> buf) override
    {
        if (use_fuzzed) {
            if (fuzzed.empty())
                return {IoStatus::Closed, 0};
            size_t n = std::min({buf.size(), fuzzed.size(), chunk});
            std::copy_n(fuzzed.data(), n, buf.data());
            fuzzed.remove_prefix(n);
            return {IoStatus::Ok, n};
        }
        int n = BIO_read(end, buf.data(), static_cast<int>(buf.size()));
        if (n > 0)
            return {IoStatus::Ok, static_cast<size_t>(n)};
        return {BIO_should_retry(end) ? IoStatus::Again : IoStatus::Closed, 0};
    }
    IoResult write(StreamConn&, std::span<const char> data) override
    {
        if (use_fuzzed || !end)
            return {IoStatus::Ok, data.size()};
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

struct World {
    std::string dir;
    Config cfg;
    FakeLower lower;
    Transport* tls = nullptr;
    tls::SslCtxPtr cctx;

    World()
    {
        fuzz::quiet_log();
        char tmpl[] = "/tmp/ser-fuzz-tls.XXXXXX";
        FUZZ_CHECK(mkdtemp(tmpl));
        dir = tmpl;
        std::string sh = "cd " + dir +
                         " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                         " -keyout srv.key -out srv.pem -days 2 -subj /CN=127.0.0.1"
                         " -addext subjectAltName=IP:127.0.0.1 2>/dev/null && chmod 600 srv.key";
        FUZZ_CHECK(std::system(sh.c_str()) == 0);
        std::string text = "listen=tls:127.0.0.1:5061\n"
                           "tls_certificate=\"" + dir + "/srv.pem\"\ntls_private_key=\"" + dir + "/srv.key\"\n"
                           "route { drop; }\n";
        cfg::CheckOptions opt;
        opt.resolve_hosts = false;
        cfg::CheckResult r = cfg::load_config_text(text, "fuzz-tls.cfg", opt);
        if (!r.ok())
            for (const auto& d : r.diags)
                std::fprintf(stderr, "%s\n", d.str().c_str());
        FUZZ_CHECK(r.ok());
        cfg = std::move(r.config);
        FUZZ_CHECK(tls::init_tls());
        std::string err;
        auto domains = tls::TlsDomainSet::build(cfg, err);
        if (!domains)
            std::fprintf(stderr, "%s\n", err.c_str());
        FUZZ_CHECK(domains);
        tls = &tls::tls_transport_init(cfg, lower, std::move(domains));
        cctx.reset(SSL_CTX_new(TLS_client_method()));
        FUZZ_CHECK(cctx);
        SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_NONE, nullptr);
        std::system(("rm -rf " + dir).c_str());   // the contexts hold what they read
    }
};

World& world()
{
    static World w;
    return w;
}

// One server connection of the transport, and an OpenSSL client on the
// other end of a BIO pair when `with_client`.
struct Session {
    NoFramer framer;
    StreamConn conn;
    tls::SslPtr client;
    BIO* server_end = nullptr;
    BIO* client_end = nullptr;

    explicit Session(bool with_client) : conn(1, -1, *world().tls, framer, 4096)
    {
        conn.local = *SockAddr::from_numeric("127.0.0.1", 5061);
        conn.remote = *SockAddr::from_numeric("127.0.0.9", 40000);
        FakeLower& low = world().lower;
        low.end = nullptr;
        low.use_fuzzed = !with_client;
        low.fuzzed = {};
        if (with_client) {
            FUZZ_CHECK(BIO_new_bio_pair(&server_end, 0, &client_end, 0) == 1);
            low.end = server_end;
            client.reset(SSL_new(world().cctx.get()));
            SSL_set_bio(client.get(), client_end, client_end);
            SSL_set_connect_state(client.get());
        }
    }
    ~Session()
    {
        world().tls->close(conn);
        conn.xstate.reset();
        world().lower.end = nullptr;
        if (server_end)
            BIO_free(server_end);
        ERR_clear_error();
    }

    // Both sides until established (true), or failure, or 50 rounds.
    bool handshake()
    {
        if (world().tls->on_open(conn) != IoStatus::Ok)
            return false;
        char buf[256];
        for (int i = 0; i < 50; i++) {
            SSL_do_handshake(client.get());
            IoResult r = world().tls->read(conn, std::span<char>(buf, sizeof buf));
            world().tls->write(conn, {});
            if (r.status == IoStatus::Error || r.status == IoStatus::Closed)
                return false;
            if (world().tls->handshake_done(conn) && SSL_is_init_finished(client.get()))
                return true;
        }
        return false;
    }

    // Reads until the transport stops giving bytes; what it gave, and how it ended.
    IoStatus drain(std::string& got, int max_rounds)
    {
        char buf[4096];
        for (int i = 0; i < max_rounds; i++) {
            IoResult r = world().tls->read(conn, std::span<char>(buf, sizeof buf));
            if (r.status == IoStatus::Error) {
                FUZZ_CHECK(!world().tls->failure_reason(conn).empty());
                return r.status;
            }
            if (r.status != IoStatus::Ok)
                return r.status;
            got.append(buf, r.bytes);
        }
        return IoStatus::Ok;
    }
};

void raw_stream(std::string_view in, size_t chunk)
{
    Session s(false);
    world().lower.chunk = chunk;
    world().lower.fuzzed = in;
    if (world().tls->on_open(s.conn) != IoStatus::Ok)
        return;
    std::string got;
    // Each read takes at least one chunk unless it fails or ends.
    s.drain(got, static_cast<int>(in.size() / chunk) + 4);
    world().tls->write(s.conn, {});
    world().tls->describe(s.conn);
}

void injected_records(std::string_view in)
{
    Session s(true);
    if (!s.handshake())
        return;
    world().lower.use_fuzzed = true;
    world().lower.chunk = 4096;
    world().lower.fuzzed = in;
    std::string got;
    s.drain(got, static_cast<int>(in.size()) + 4);
}

void app_data(std::string_view in)
{
    Session s(true);
    FUZZ_CHECK(s.handshake());
    // The client sends the payload in records of varying size.
    size_t at = 0, step = 1;
    while (at < in.size()) {
        size_t n = std::min(in.size() - at, step);
        FUZZ_CHECK(SSL_write(s.client.get(), in.data() + at, static_cast<int>(n)) == static_cast<int>(n));
        at += n;
        step = step * 3 + 1;
    }
    std::string got;
    IoStatus st = s.drain(got, 1000);
    FUZZ_CHECK(st == IoStatus::Again);
    FUZZ_CHECK(got == in);
    // And back: what the transport writes is what the client reads.
    std::string_view rest = in;
    while (!rest.empty()) {
        IoResult w = world().tls->write(s.conn, std::span<const char>(rest.data(), rest.size()));
        FUZZ_CHECK(w.status == IoStatus::Ok && w.bytes > 0);
        rest.remove_prefix(w.bytes);
    }
    std::string back;
    char buf[4096];
    int n;
    while ((n = SSL_read(s.client.get(), buf, sizeof buf)) > 0)
        back.append(buf, static_cast<size_t>(n));
    FUZZ_CHECK(back == in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    world();
    if (size < 2)
        return 0;
    std::string copy(reinterpret_cast<const char*>(data) + 2, size - 2);
    switch (data[0] % 3) {
    case 0: raw_stream(copy, 1 + data[1]); break;
    case 1: injected_records(copy); break;
    case 2: app_data(copy); break;
    }
    return 0;
}

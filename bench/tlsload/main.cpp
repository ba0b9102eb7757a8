// tlsload: command line (see tlsload.h for the build command).
#include "tlsload.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage()
{
    std::fputs(
        "usage:\n"
        "  tlsload handshake -c ADDR:PORT [--seconds S | --count N] [--concurrency K]\n"
        "          [--tls 1.2|1.3] [--groups LIST] [--resume] [--ca F] [--sni NAME] [--timeout S]\n"
        "      handshakes as fast as possible, K in flight; each completes, then closes\n"
        "      (close_notify, the peer's close_notify or EOF, close). --resume offers the\n"
        "      last session the server gave (TLS 1.3: waits for the ticket before closing).\n"
        "      prints: handshakes=N full=N resumed=N failed=N elapsed_s=S rate=R\n"
        "  tlsload hold -c ADDR:PORT --conns N [--rate R] [--ready-file F]\n"
        "          [--tls 1.2|1.3] [--groups LIST] [--ca F] [--sni NAME] [--timeout S]\n"
        "      opens N connections (at most R new a second; at most 200 handshakes at\n"
        "      once), keeps them idle; when all are up or failed writes\n"
        "      'established=N failed=M' to F and stdout; on SIGTERM prints how many\n"
        "      the server closed meanwhile\n"
        "  tlsload floor --conns N --cert F --key F [--tls 1.2|1.3] [--groups LIST] [--release-buffers]\n"
        "      Pss per idle connection of a minimal OpenSSL server (forked) holding N\n"
        "--timeout: seconds each stage of a connection may take (default 10)\n",
        stderr);
}

bool host_port(const std::string& s, tlsload::Options& o)
{
    auto colon = s.rfind(':');
    if (colon == std::string::npos)
        return false;
    o.host = s.substr(0, colon);
    o.port = std::atoi(s.c_str() + colon + 1);
    return o.port > 0 && o.port < 65536;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    tlsload::Options o;
    o.mode = argv[1];
    bool have_addr = false;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "tlsload: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "-c" || a == "--connect") {
            if (!host_port(val(), o)) {
                std::fprintf(stderr, "tlsload: -c wants ADDR:PORT\n");
                return 2;
            }
            have_addr = true;
        } else if (a == "--seconds") {
            o.seconds = std::atof(val().c_str());
        } else if (a == "--count") {
            o.count = std::atol(val().c_str());
        } else if (a == "--concurrency") {
            o.concurrency = std::atoi(val().c_str());
        } else if (a == "--tls") {
            std::string v = val();
            if (v == "1.2")
                o.tls = 12;
            else if (v == "1.3")
                o.tls = 13;
            else {
                std::fprintf(stderr, "tlsload: --tls 1.2 or 1.3\n");
                return 2;
            }
        } else if (a == "--groups") {
            o.groups = val();
        } else if (a == "--release-buffers") {
            o.release_buffers = true;
        } else if (a == "--resume") {
            o.resume = true;
        } else if (a == "--ca") {
            o.ca = val();
        } else if (a == "--sni") {
            o.sni = val();
        } else if (a == "--timeout") {
            o.timeout = std::atof(val().c_str());
        } else if (a == "--conns") {
            o.conns = std::atol(val().c_str());
        } else if (a == "--rate") {
            o.rate = std::atof(val().c_str());
        } else if (a == "--ready-file") {
            o.ready_file = val();
        } else if (a == "--cert") {
            o.cert = val();
        } else if (a == "--key") {
            o.key = val();
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else {
            std::fprintf(stderr, "tlsload: unknown option %s\n", a.c_str());
            usage();
            return 2;
        }
    }
    if (o.concurrency < 1 || o.timeout <= 0) {
        std::fprintf(stderr, "tlsload: --concurrency and --timeout must be positive\n");
        return 2;
    }
    if (o.mode == "handshake") {
        if (!have_addr || (o.seconds <= 0 && o.count <= 0)) {
            std::fprintf(stderr, "tlsload handshake: -c and --seconds or --count are needed\n");
            return 2;
        }
        return tlsload::run_handshake(o);
    }
    if (o.mode == "hold") {
        if (!have_addr || o.conns <= 0) {
            std::fprintf(stderr, "tlsload hold: -c and --conns are needed\n");
            return 2;
        }
        return tlsload::run_hold(o);
    }
    if (o.mode == "floor") {
        if (o.conns <= 0 || o.cert.empty() || o.key.empty()) {
            std::fprintf(stderr, "tlsload floor: --conns, --cert and --key are needed\n");
            return 2;
        }
        return tlsload::run_floor(o);
    }
    usage();
    return 2;
}

// sipload: the command line. See usage() and sipload.h.
#include <arpa/inet.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sipload.h"

namespace sipload {

volatile int g_stop = 0;

void print_summary(const Options& o, const Stats& s, const std::string& extra) {
    static const char* names[] = {"udp", "tcp", "tls"};
    char line[768];
    if (o.uac)
        std::snprintf(line, sizeof line,
                      "role=uac transport=%s calls=%ld ok=%ld failed=%ld timeout=%ld retrans=%ld msgs_sent=%ld "
                      "msgs_recv=%ld conns=%ld handshakes=%ld resumed=%ld throttled=%ld errors=%ld%s",
                      names[static_cast<int>(o.proto)], s.calls, s.ok, s.failed, s.timeouts, s.retrans,
                      s.msgs_sent, s.msgs_recv, s.conns, s.handshakes, s.resumed, s.throttled, s.errors,
                      extra.c_str());
    else
        std::snprintf(line, sizeof line,
                      "role=uas transport=%s invites=%ld byes=%ld msgs_recv=%ld msgs_sent=%ld retrans=%ld "
                      "conns=%ld handshakes=%ld errors=%ld",
                      names[static_cast<int>(o.proto)], s.invites, s.byes, s.msgs_recv, s.msgs_sent, s.retrans,
                      s.conns, s.handshakes, s.errors);
    std::printf("%s\n", line);
    std::fflush(stdout);
    if (!o.summary.empty()) {
        if (FILE* f = std::fopen(o.summary.c_str(), "w")) {
            std::fprintf(f, "%s\n", line);
            std::fclose(f);
        }
    }
}

}  // namespace sipload

namespace {

using sipload::Options;
using sipload::Proto;

void usage() {
    std::fputs(
        "usage: sipload uac|uas [options]\n"
        "  -t, --transport udp|tcp|tls\n"
        "  -l, --local ADDR:PORT    uac: source address (port 0: any); uas: where it listens\n"
        "  -r, --remote ADDR:PORT   uac: the proxy\n"
        "  --rate N                 uac: calls started per second (default 100)\n"
        "  --calls N                uac: calls to make (default 1000); uas: exit after N BYEs\n"
        "  --max-concurrent N       uac: calls in flight at most (default 4 x rate)\n"
        "  --timeout MS             uac: per call, INVITE to the 200 of the BYE (default 10000)\n"
        "  --connections N          uac, tcp/tls: calls spread over N connections (default 1)\n"
        "  --conn-per-call          uac, tcp/tls: a new connection per call\n"
        "  --resume                 uac, tls: resume the previous session on each new connection\n"
        "  --tls-version 1.2|1.3    pin the TLS version\n"
        "  --tick MS                handle what arrived once every MS ms, as SIPp does (default 1;\n"
        "                           0: at once, finer latency figures, one wake-up per message)\n"
        "  --cert F --key F         our certificate (uas over tls: required)\n"
        "  --ca F                   verify the peer against this CA (name: --sni, else the IP)\n"
        "  --sni NAME               uac: server name to send and verify\n"
        "  --summary FILE           also write the summary line to FILE\n"
        "  -q                       quiet\n"
        "Prints one summary line (key=value). Exit: 0 all calls ok, 1 some failed, 2 usage.\n",
        stderr);
}

[[noreturn]] void bad(const char* what, const char* value) {
    std::fprintf(stderr, "sipload: %s: %s (try --help)\n", what, value);
    std::exit(2);
}

sockaddr_in address(const char* opt, const char* v) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    std::string s = v;
    auto colon = s.rfind(':');
    if (colon == std::string::npos) bad(opt, "needs ADDR:PORT");
    char* end = nullptr;
    long port = std::strtol(s.c_str() + colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, s.substr(0, colon).c_str(), &a.sin_addr) != 1)
        bad(opt, v);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
}

long number(const char* opt, const char* v, long lo, long hi) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) bad(opt, v);
    return n;
}

Options parse_args(int argc, char** argv) {
    Options o;
    if (argc < 2 || (std::strcmp(argv[1], "uac") && std::strcmp(argv[1], "uas"))) {
        usage();
        std::exit(2);
    }
    o.uac = std::strcmp(argv[1], "uac") == 0;
    o.calls = o.uac ? 1000 : 0;
    o.local.sin_family = AF_INET;
    o.local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        }
        if (a == "-q") { o.quiet = true; continue; }
        if (a == "--conn-per-call") { o.conn_per_call = true; continue; }
        if (a == "--resume") { o.resume = true; continue; }
        if (i + 1 >= argc) bad(argv[i], "needs a value");
        const char* v = argv[++i];
        if (a == "-t" || a == "--transport") {
            std::string t = v;
            o.proto = t == "udp" ? Proto::udp : t == "tcp" ? Proto::tcp : t == "tls" ? Proto::tls
                                                                        : (bad("--transport", v), Proto::udp);
        } else if (a == "-l" || a == "--local") { o.local = address("--local", v); o.have_local = true; }
        else if (a == "-r" || a == "--remote") { o.remote = address("--remote", v); o.have_remote = true; }
        else if (a == "--rate") { o.rate = std::atof(v); if (o.rate <= 0 || o.rate > 1e6) bad("--rate", v); }
        else if (a == "--calls") o.calls = number("--calls", v, 0, 1000000000);
        else if (a == "--max-concurrent") o.max_concurrent = number("--max-concurrent", v, 1, 10000000);
        else if (a == "--tick") o.tick_us = static_cast<int>(number("--tick", v, 0, 1000)) * 1000;
        else if (a == "--timeout") o.timeout_ms = static_cast<int>(number("--timeout", v, 1, 3600000));
        else if (a == "--connections") o.connections = static_cast<int>(number("--connections", v, 1, 100000));
        else if (a == "--tls-version") {
            std::string t = v;
            o.tls_version = t == "1.2" ? 12 : t == "1.3" ? 13 : (bad("--tls-version", v), 0);
        } else if (a == "--cert") o.cert = v;
        else if (a == "--key") o.key = v;
        else if (a == "--ca") o.ca = v;
        else if (a == "--sni") o.sni = v;
        else if (a == "--summary") o.summary = v;
        else bad("unknown option", argv[i - 1]);
    }
    if (o.uac && !o.have_remote) bad("uac", "needs --remote ADDR:PORT");
    if (!o.uac && !o.have_local) bad("uas", "needs --local ADDR:PORT");
    if (!o.uac && o.proto == Proto::tls && o.cert.empty()) bad("uas over tls", "needs --cert and --key");
    if (o.cert.empty() != o.key.empty()) bad("--cert and --key", "go together");
    if (o.resume && (o.proto != Proto::tls || !o.conn_per_call)) bad("--resume", "needs -t tls --conn-per-call");
    if (o.conn_per_call && o.proto == Proto::udp) bad("--conn-per-call", "needs tcp or tls");
    if (o.uac && o.calls == 0) bad("--calls", "0");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    struct sigaction sa{};
    sa.sa_handler = [](int) { sipload::g_stop = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    return o.uac ? sipload::run_uac(o) : sipload::run_uas(o);
}

// Helpers shared by the modes of tlsload: clock, fd limit, the client SSL_CTX.
#include "tlsload.h"

#include <openssl/err.h>

#include <sys/resource.h>
#include <time.h>

#include <cstdio>

namespace tlsload {

double now_s()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void raise_nofile()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            std::perror("tlsload: setrlimit(RLIMIT_NOFILE)");
    }
}

std::string ssl_errors()
{
    std::string out;
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty())
            out += "; ";
        out += buf;
    }
    return out;
}

bool set_version(SSL_CTX* ctx, int tls)
{
    if (tls == 0)
        return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1;
    int v = tls == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return SSL_CTX_set_min_proto_version(ctx, v) == 1 && SSL_CTX_set_max_proto_version(ctx, v) == 1;
}

SSL_CTX* client_ctx(const Options& o)
{
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        std::fprintf(stderr, "tlsload: SSL_CTX_new: %s\n", ssl_errors().c_str());
        return nullptr;
    }
    bool ok = set_version(ctx, o.tls);
    if (ok && !o.groups.empty())
        ok = SSL_CTX_set1_groups_list(ctx, o.groups.c_str()) == 1;
    if (ok && !o.ca.empty()) {
        ok = SSL_CTX_load_verify_locations(ctx, o.ca.c_str(), nullptr) == 1;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!ok) {
        std::fprintf(stderr, "tlsload: client context (--tls/--groups/--ca): %s\n", ssl_errors().c_str());
        SSL_CTX_free(ctx);
        return nullptr;
    }
    // Sessions are kept by the program (new-session callback), never in
    // OpenSSL's internal client cache.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    return ctx;
}

}  // namespace tlsload

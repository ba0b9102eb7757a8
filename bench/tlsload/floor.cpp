// tlsload floor: what an idle TLS server connection costs in OpenSSL itself.
//
// A forked server process with the minimal setup (an SSL_CTX from
// TLS_server_method() with the certificate and key, the version pinned by
// --tls, OpenSSL's default options otherwise: its default internal session
// cache and tickets) accepts N connections on a loopback socket from the
// parent and completes each handshake (blocking, one at a time), keeping the
// SSL objects. Its Pss (/proc/self/smaps_rollup) before the N and after them,
// divided by N, is the floor.
//
// Counted: the SSL object with its read and write buffers as OpenSSL keeps
// them by default (SSL_MODE_RELEASE_BUFFERS off), the handshake state it keeps,
// the SSL_SESSION and its entry in the server's session cache, the socket BIO,
// malloc's overhead, the fd table growth. Not counted: the kernel's socket
// memory (not in any process's Pss), any per-connection bookkeeping a real
// server adds (its connection record, SIP read buffer, timers).
// Five warm-up handshakes run before the first measurement, so one-time
// initialisation (OpenSSL's lazy tables, malloc arenas) is not counted.
#include "tlsload.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace tlsload {

namespace {

long pss_kb()
{
    std::ifstream f("/proc/self/smaps_rollup");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("Pss:", 0) == 0)
            return std::strtol(line.c_str() + 4, nullptr, 10);
    return -1;
}

constexpr int warmup = 5;

int server(const Options& o, int lfd, int report_fd, int go_fd)
{
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !set_version(ctx, o.tls) || SSL_CTX_use_certificate_chain_file(ctx, o.cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        (!o.groups.empty() && SSL_CTX_set1_groups_list(ctx, o.groups.c_str()) != 1)) {
        std::fprintf(stderr, "tlsload floor: server context: %s\n", ssl_errors().c_str());
        return 1;
    }
    if (o.release_buffers)
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    auto accept_one = [&]() -> SSL* {
        int fd = accept(lfd, nullptr, nullptr);
        if (fd < 0)
            return nullptr;
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            std::fprintf(stderr, "tlsload floor: SSL_accept: %s\n", ssl_errors().c_str());
            SSL_free(ssl);
            close(fd);
            return nullptr;
        }
        return ssl;
    };
    for (int i = 0; i < warmup; ++i) {
        SSL* s = accept_one();
        if (s) {
            int fd = SSL_get_fd(s);
            SSL_shutdown(s);
            SSL_free(s);
            close(fd);
        }
    }
    char go;
    if (read(go_fd, &go, 1) != 1)
        return 1;
    long before = pss_kb();
    std::vector<SSL*> kept;
    kept.reserve(static_cast<size_t>(o.conns));
    long bad = 0;
    for (long i = 0; i < o.conns; ++i) {
        SSL* s = accept_one();
        if (s)
            kept.push_back(s);
        else
            ++bad;
    }
    long after = pss_kb();
    long n = static_cast<long>(kept.size());
    char line[256];
    int len = std::snprintf(line, sizeof line,
                            "floor conns=%ld failed=%ld pss_before_kb=%ld pss_after_kb=%ld per_conn_kb=%.2f\n", n, bad,
                            before, after, n ? static_cast<double>(after - before) / static_cast<double>(n) : 0.0);
    if (write(report_fd, line, static_cast<size_t>(len)) != len)
        return 1;
    // Stay until the client has closed everything (the pipe closes).
    if (read(go_fd, &go, 1) < 0)
        return 1;
    return 0;
}

SSL* client_connect(SSL_CTX* ctx, const sockaddr_in& addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nullptr;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return nullptr;
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return nullptr;
    }
    return ssl;
}

void client_close(SSL* s)
{
    int fd = SSL_get_fd(s);
    SSL_free(s);
    close(fd);
}

}  // namespace

int run_floor(const Options& o)
{
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(lfd, 4096) != 0 || getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
        std::perror("tlsload floor: listen");
        return 2;
    }
    int rep[2], go[2];
    if (pipe(rep) != 0 || pipe(go) != 0) {
        std::perror("tlsload floor: pipe");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        std::perror("tlsload floor: fork");
        return 2;
    }
    if (pid == 0) {
        close(rep[0]);
        close(go[1]);
        _exit(server(o, lfd, rep[1], go[0]));
    }
    close(lfd);
    close(rep[1]);
    close(go[0]);
    SSL_CTX* ctx = client_ctx(o);
    if (!ctx)
        return 2;
    for (int i = 0; i < warmup; ++i)
        if (SSL* s = client_connect(ctx, addr)) {
            SSL_shutdown(s);
            client_close(s);
        }
    std::vector<SSL*> kept;
    if (write(go[1], "g", 1) != 1)
        return 2;
    for (long i = 0; i < o.conns; ++i) {
        SSL* s = client_connect(ctx, addr);
        if (!s) {
            std::fprintf(stderr, "tlsload floor: connection %ld failed: %s\n", i, ssl_errors().c_str());
            break;   // the server is waiting for the rest: stop it below
        }
        kept.push_back(s);
    }
    int rc = 0;
    if (static_cast<long>(kept.size()) < o.conns) {
        kill(pid, SIGTERM);
        rc = 1;
    } else {
        char buf[256];
        ssize_t n = read(rep[0], buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            std::fputs(buf, stdout);
        } else {
            rc = 1;
        }
    }
    close(go[1]);
    for (SSL* s : kept)
        client_close(s);
    int st = 0;
    waitpid(pid, &st, 0);
    return rc;
}

}  // namespace tlsload

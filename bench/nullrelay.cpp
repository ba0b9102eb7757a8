// bench/nullrelay.cpp — the kernel's (and, over TLS, OpenSSL's) floor for a
// forwarding proxy: it relays what it receives and parses nothing.
//
//   nullrelay udp|tcp|tls LISTEN_PORT UAS_PORT [CERT KEY]
//
// udp: one socket on 127.0.0.1:LISTEN_PORT; a datagram from the uas goes to
//      the last other sender (the uac), every other datagram to the uas.
// tcp: each accepted connection gets its own connection to the uas; bytes are
//      passed both ways as they come.
// tls: the same as tcp with TLS on both legs (the server leg with CERT/KEY,
//      the uas leg unverified), as a TLS proxy decrypts and encrypts again.
// It is built for bench/ only: no limits beyond a 256 KB backlog per
// direction (above that, the connection pair is closed), one thread.
//
// build: g++ -std=c++20 -O2 -o nullrelay bench/nullrelay.cpp -lssl -lcrypto
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kBacklog = 256 * 1024;

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int relay_udp(int port, int uas_port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in me = loopback(port), uas = loopback(uas_port), uac{};
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) < 0) die("udp bind");
    char buf[65536];
    for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recvfrom");
        }
        bool from_uas = from.sin_port == uas.sin_port && from.sin_addr.s_addr == uas.sin_addr.s_addr;
        if (!from_uas) uac = from;
        const sockaddr_in& to = from_uas ? uac : uas;
        if (to.sin_port == 0) continue;
        sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
}

// One leg of a connection pair: its socket, its TLS state (or none), and what
// is waiting to be written to it.
struct Leg {
    int fd = -1;
    SSL* ssl = nullptr;
    bool ready = false;  // connected and, over TLS, handshake done
    bool dead = false;   // closed; freed after the current batch of events
    bool out_watched = false;  // EPOLLOUT is in its epoll mask
    std::string out;
    struct Leg* peer = nullptr;
};

SSL_CTX* server_ctx = nullptr;
SSL_CTX* client_ctx = nullptr;
int ep = -1;
std::vector<Leg*> graveyard;  // closed pairs, freed when no event can name them

// Set the leg's epoll mask; a change of mask only when it changes.
void watch(Leg* leg, bool want_write, bool add) {
    if (!add && leg->out_watched == want_write) return;
    leg->out_watched = want_write;
    epoll_event ev{};
    ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
    ev.data.ptr = leg;
    epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, leg->fd, &ev);
}

void close_pair(Leg* a) {
    for (Leg* l : {a, a->peer}) {
        if (l->ssl) SSL_free(l->ssl);
        close(l->fd);  // also leaves the epoll set
        l->dead = true;
        graveyard.push_back(l);
    }
}

// Drive the handshake; true when it is done.
bool handshake(Leg* l) {
    if (l->ready) return true;
    int r = SSL_do_handshake(l->ssl);
    if (r == 1) return l->ready = true;
    int e = SSL_get_error(l->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
    watch(l, e == SSL_ERROR_WANT_WRITE, false);
    return true;
}

// Write what is queued on l; false when the leg is dead.
bool flush(Leg* l) {
    while (!l->out.empty() && l->ready) {
        ssize_t n;
        if (l->ssl) {
            int r = SSL_write(l->ssl, l->out.data(), static_cast<int>(l->out.size()));
            if (r <= 0) {
                int e = SSL_get_error(l->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
                return false;
            }
            n = r;
        } else {
            n = write(l->fd, l->out.data(), l->out.size());
            if (n < 0) {
                if (errno == EAGAIN) break;
                return false;
            }
        }
        l->out.erase(0, static_cast<size_t>(n));
    }
    watch(l, !l->out.empty(), false);
    return l->out.size() <= kBacklog;
}

// Read what l has and queue it on its peer; false when the pair must close.
bool pump(Leg* l) {
    char buf[65536];
    for (;;) {
        ssize_t n;
        if (l->ssl) {
            int r = SSL_read(l->ssl, buf, sizeof buf);
            if (r <= 0) {
                int e = SSL_get_error(l->ssl, r);
                return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
            }
            n = r;
        } else {
            n = read(l->fd, buf, sizeof buf);
            if (n == 0) return false;
            if (n < 0) return errno == EAGAIN;
        }
        l->peer->out.append(buf, static_cast<size_t>(n));
        if (!flush(l->peer)) return false;
    }
}

void on_event(Leg* l) {
    if (l->dead) return;
    if (!l->ready) {
        if (!l->ssl) l->ready = true;  // the connect finished (or failed: the write says)
        else if (!handshake(l)) return close_pair(l);
        if (!l->ready) return;
    }
    if (!flush(l) || !flush(l->peer) || !pump(l)) close_pair(l);
}

void accept_pair(int lfd, int uas_port, bool tls) {
    int cfd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    if (cfd < 0) return;
    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in uas = loopback(uas_port);
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connect(ufd, reinterpret_cast<sockaddr*>(&uas), sizeof uas);
    auto* c = new Leg;
    c->fd = cfd;
    auto* u = new Leg;
    u->fd = ufd;
    c->peer = u;
    u->peer = c;
    c->ready = !tls;
    if (tls) {
        c->ssl = SSL_new(server_ctx);
        SSL_set_fd(c->ssl, cfd);
        SSL_set_accept_state(c->ssl);
        u->ssl = SSL_new(client_ctx);
        SSL_set_fd(u->ssl, ufd);
        SSL_set_connect_state(u->ssl);
    }
    watch(c, false, true);
    watch(u, true, true);
}

int relay_stream(int port, int uas_port, bool tls) {
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in me = loopback(port);
    if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&me), sizeof me) < 0 || listen(lfd, 1024) < 0)
        die("tcp listen");
    ep = epoll_create1(0);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; ++i) {
            if (!evs[i].data.ptr) accept_pair(lfd, uas_port, tls);
            else on_event(static_cast<Leg*>(evs[i].data.ptr));
        }
        for (Leg* l : graveyard) delete l;
        graveyard.clear();
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string_view mode = argc > 1 ? argv[1] : "";
    if (argc < 4 || (mode == "tls" && argc < 6) || (mode != "udp" && mode != "tcp" && mode != "tls")) {
        std::fprintf(stderr, "usage: nullrelay udp|tcp|tls LISTEN_PORT UAS_PORT [CERT KEY]\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    int port = std::atoi(argv[2]), uas = std::atoi(argv[3]);
    if (mode == "udp") return relay_udp(port, uas);
    if (mode == "tls") {
        server_ctx = SSL_CTX_new(TLS_server_method());
        client_ctx = SSL_CTX_new(TLS_client_method());
        if (SSL_CTX_use_certificate_chain_file(server_ctx, argv[4]) != 1 ||
            SSL_CTX_use_PrivateKey_file(server_ctx, argv[5], SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
    }
    return relay_stream(port, uas, mode == "tls");
}

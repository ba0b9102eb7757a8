// tlsload handshake and tlsload hold: many non-blocking TLS client
// connections driven by one epoll loop.
//
// A connection goes Connecting -> Handshake, then
//   handshake mode: [WaitTicket, TLS 1.3 with --resume: read until the
//     server's NewSessionTicket came] -> Closing (close_notify sent, read
//     until the peer's close_notify or EOF, at most --timeout) -> closed;
//   hold mode: Idle (read and discard whatever comes, count the server
//     closing it) until the program ends.
// Every stage before Idle has a deadline (--timeout seconds): a connection
// over it is counted failed (before the handshake completed) or just closed
// (while closing).
#include "tlsload.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

namespace tlsload {

namespace {

enum class St { Connecting, Handshake, WaitTicket, Closing, Idle };

struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    St st = St::Connecting;
    double deadline = 0;
    bool got_ticket = false;
    bool shutdown_sent = false;
    size_t slot = 0;           // index in Engine::live while it has a deadline
    unsigned events = 0;       // what epoll waits for now
};

struct Engine {
    const Options& o;
    bool hold;
    SSL_CTX* ctx = nullptr;
    int ep = -1;
    sockaddr_in addr{};
    // Sessions to resume. TLS 1.2: the last one the server gave (a session id
    // or ticket stays valid for many connections). TLS 1.3: tickets are used
    // once each (RFC 8446 C.4; a server may keep them single-use), oldest
    // first; only when none is left is the newest used again (reused_ticket).
    SSL_SESSION* saved = nullptr;
    std::deque<SSL_SESSION*> tickets;
    long reused_ticket = 0;
    std::vector<Conn*> live;          // connections with a deadline (not Idle)
    long started = 0, full = 0, resumed = 0, failed = 0, no_ticket = 0;
    long offered = 0, closed_by_server = 0, unclean_close = 0, established = 0;
    static int conn_index;

    Engine(const Options& opt, bool h) : o(opt), hold(h) {}

    void track(Conn* c)
    {
        c->slot = live.size();
        live.push_back(c);
    }
    void untrack(Conn* c)
    {
        Conn* last = live.back();
        live[c->slot] = last;
        last->slot = c->slot;
        live.pop_back();
    }

    void want(Conn* c, unsigned ev)
    {
        if (ev == c->events)
            return;
        epoll_event e{};
        e.events = ev;
        e.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }

    void destroy(Conn* c, bool tracked)
    {
        if (tracked)
            untrack(c);
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
        SSL_free(c->ssl);
        close(c->fd);
        delete c;
    }

    bool start()
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            std::perror("tlsload: socket");
            ++started;
            ++failed;
            return false;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto* c = new Conn;
        c->fd = fd;
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, fd);
        SSL_set_ex_data(c->ssl, conn_index, c);
        if (!o.sni.empty()) {
            SSL_set_tlsext_host_name(c->ssl, o.sni.c_str());
            if (!o.ca.empty())
                SSL_set1_host(c->ssl, o.sni.c_str());
        }
        if (o.resume && !tickets.empty()) {
            SSL_SESSION* t = tickets.front();
            tickets.pop_front();
            SSL_set_session(c->ssl, t);
            SSL_SESSION_free(t);
            ++offered;
        } else if (o.resume && saved) {
            SSL_set_session(c->ssl, saved);
            ++offered;
            if (SSL_SESSION_get_protocol_version(saved) == TLS1_3_VERSION)
                ++reused_ticket;
        }
        SSL_set_connect_state(c->ssl);
        ++started;
        c->deadline = now_s() + o.timeout;
        track(c);
        epoll_event e{};
        e.events = EPOLLOUT;
        e.data.ptr = c;
        c->events = EPOLLOUT;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
            fail(c);
            return false;
        }
        return true;
    }

    void fail(Conn* c)
    {
        ++failed;
        destroy(c, true);
    }

    // What the first connection (and the first resumed one) negotiated, on
    // stderr: the scripts log it.
    void describe(Conn* c)
    {
        int nid = SSL_get_negotiated_group(c->ssl);
        const char* group = nid > 0 ? OBJ_nid2sn(nid & ~TLSEXT_nid_unknown) : "none";
        int sig = 0;
        SSL_get_peer_signature_type_nid(c->ssl, &sig);
        X509* cert = SSL_get1_peer_certificate(c->ssl);
        const char* key = "none";
        if (cert) {
            EVP_PKEY* pk = X509_get0_pubkey(cert);
            key = pk ? OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) : "none";
        }
        std::fprintf(stderr, "tlsload: %s %s %s group=%s cert=%s sig=%s\n",
                     SSL_session_reused(c->ssl) ? "resumed" : "full", SSL_get_version(c->ssl),
                     SSL_get_cipher_name(c->ssl), group, key, sig ? OBJ_nid2sn(sig) : "none");
        X509_free(cert);
    }

    // The handshake completed: count it, move on.
    void handshake_done(Conn* c)
    {
        if (full + resumed == 0 || (o.resume && resumed == 0 && SSL_session_reused(c->ssl)))
            describe(c);
        if (SSL_session_reused(c->ssl))
            ++resumed;
        else
            ++full;
        if (hold) {
            ++established;
            untrack(c);
            c->st = St::Idle;
            want(c, EPOLLIN);
            idle_read(c);
            return;
        }
        c->deadline = now_s() + o.timeout;
        if (o.resume && SSL_version(c->ssl) == TLS1_3_VERSION && !c->got_ticket) {
            c->st = St::WaitTicket;
            wait_ticket(c);
        } else {
            c->st = St::Closing;
            closing(c);
        }
    }

    void handshake(Conn* c)
    {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1) {
            handshake_done(c);
            return;
        }
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ: want(c, EPOLLIN); return;
        case SSL_ERROR_WANT_WRITE: want(c, EPOLLOUT); return;
        default:
            if (failed < 5)
                std::fprintf(stderr, "tlsload: handshake failed: %s\n", ssl_errors().c_str());
            ERR_clear_error();
            fail(c);
        }
    }

    // TLS 1.3: the ticket comes after the handshake; read until it did.
    void wait_ticket(Conn* c)
    {
        char buf[4096];
        while (!c->got_ticket) {
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0)
                continue;
            int e = SSL_get_error(c->ssl, r);
            if (c->got_ticket && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE))
                break;     // read with the ticket, nothing more yet
            if (e == SSL_ERROR_WANT_READ) {
                want(c, EPOLLIN);
                return;
            }
            if (e == SSL_ERROR_WANT_WRITE) {
                want(c, EPOLLOUT);
                return;
            }
            ERR_clear_error();
            ++no_ticket;
            ++unclean_close;
            destroy(c, true);
            return;
        }
        c->st = St::Closing;
        closing(c);
    }

    // close_notify, then the peer's close_notify or EOF.
    void closing(Conn* c)
    {
        for (;;) {
            int r = SSL_shutdown(c->ssl);
            if (r == 1) {
                destroy(c, true);
                return;
            }
            if (r == 0) {          // ours sent; now read the peer's
                c->shutdown_sent = true;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                want(c, EPOLLIN);
                return;
            }
            if (e == SSL_ERROR_WANT_WRITE) {
                want(c, EPOLLOUT);
                return;
            }
            // The peer closed the TCP connection without a close_notify of
            // its own (after ours): that ends it as well.
            ERR_clear_error();
            if (!c->shutdown_sent)
                ++unclean_close;
            destroy(c, true);
            return;
        }
    }

    void idle_read(Conn* c)
    {
        char buf[4096];
        for (;;) {
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0)
                continue;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                want(c, EPOLLIN);
                return;
            }
            if (e == SSL_ERROR_WANT_WRITE) {
                want(c, EPOLLOUT);
                return;
            }
            ERR_clear_error();
            ++closed_by_server;
            destroy(c, false);
            return;
        }
    }

    void on_event(Conn* c, unsigned ev)
    {
        switch (c->st) {
        case St::Connecting: {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0 || (ev & (EPOLLERR | EPOLLHUP)) != 0) {
                if (failed < 5)
                    std::fprintf(stderr, "tlsload: connect: %s\n", std::strerror(err ? err : ECONNRESET));
                fail(c);
                return;
            }
            c->st = St::Handshake;
            handshake(c);
            return;
        }
        case St::Handshake: handshake(c); return;
        case St::WaitTicket: wait_ticket(c); return;
        case St::Closing: closing(c); return;
        case St::Idle: idle_read(c); return;
        }
    }

    void expire(double t)
    {
        for (size_t i = 0; i < live.size();) {
            Conn* c = live[i];
            if (c->deadline > t) {
                ++i;
                continue;
            }
            if (c->st == St::Connecting || c->st == St::Handshake) {
                if (failed < 5)
                    std::fprintf(stderr, "tlsload: connection timed out (%s)\n",
                                 c->st == St::Connecting ? "connect" : "handshake");
                fail(c);   // replaces live[i] with the last one
            } else {
                if (c->st == St::WaitTicket)
                    ++no_ticket;
                ++unclean_close;
                destroy(c, true);
            }
        }
    }

    void poll_once(int timeout_ms)
    {
        epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, timeout_ms);
        for (int i = 0; i < n; ++i)
            on_event(static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
        expire(now_s());
    }
};

int Engine::conn_index = -1;
Engine* g_engine = nullptr;

int new_session(SSL* ssl, SSL_SESSION* sess)
{
    auto* c = static_cast<Conn*>(SSL_get_ex_data(ssl, Engine::conn_index));
    if (c)
        c->got_ticket = true;
    Engine* e = g_engine;
    if (e && e->o.resume && SSL_SESSION_is_resumable(sess)) {
        if (e->saved)
            SSL_SESSION_free(e->saved);
        e->saved = sess;
        if (SSL_SESSION_get_protocol_version(sess) == TLS1_3_VERSION) {
            SSL_SESSION_up_ref(sess);
            e->tickets.push_back(sess);
            if (e->tickets.size() > 1000) {
                SSL_SESSION_free(e->tickets.front());
                e->tickets.pop_front();
            }
        }
        return 1;      // kept
    }
    return 0;
}

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

bool setup(Engine& e)
{
    raise_nofile();
    e.addr.sin_family = AF_INET;
    e.addr.sin_port = htons(static_cast<uint16_t>(e.o.port));
    if (inet_pton(AF_INET, e.o.host.c_str(), &e.addr.sin_addr) != 1) {
        std::fprintf(stderr, "tlsload: -c wants an IPv4 address: %s\n", e.o.host.c_str());
        return false;
    }
    e.ctx = client_ctx(e.o);
    if (!e.ctx)
        return false;
    if (Engine::conn_index < 0)
        Engine::conn_index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    SSL_CTX_sess_set_new_cb(e.ctx, new_session);
    g_engine = &e;
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    if (e.ep < 0) {
        std::perror("tlsload: epoll_create1");
        return false;
    }
    signal(SIGPIPE, SIG_IGN);
    return true;
}

}  // namespace

int run_handshake(const Options& o)
{
    Engine e(o, false);
    if (!setup(e))
        return 2;
    double t0 = now_s();
    double end = o.seconds > 0 ? t0 + o.seconds : 0;
    for (;;) {
        double t = now_s();
        bool more = o.seconds > 0 ? t < end : e.started < o.count;
        while (more && static_cast<int>(e.live.size()) < o.concurrency) {
            e.start();
            more = o.seconds > 0 ? true : e.started < o.count;
        }
        if (!more && e.live.empty())
            break;
        e.poll_once(20);
    }
    double elapsed = now_s() - t0;
    long ok = e.full + e.resumed;
    std::printf("handshakes=%ld full=%ld resumed=%ld failed=%ld elapsed_s=%.3f rate=%.1f\n",
                ok, e.full, e.resumed, e.failed, elapsed, elapsed > 0 ? static_cast<double>(ok) / elapsed : 0.0);
    if (o.resume)
        std::fprintf(stderr, "tlsload: sessions offered=%ld (the server did not resume %ld of them; "
                     "TLS 1.3 tickets offered a second time: %ld)\n", e.offered, e.offered - e.resumed, e.reused_ticket);
    if (e.no_ticket || e.unclean_close)
        std::fprintf(stderr, "tlsload: no_ticket=%ld unclean_close=%ld\n", e.no_ticket, e.unclean_close);
    std::fflush(stdout);
    return 0;
}

int run_hold(const Options& o)
{
    Engine e(o, true);
    if (!setup(e))
        return 2;
    struct sigaction sa{};
    sa.sa_handler = on_term;   // no SA_RESTART: epoll_wait returns EINTR
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    double t0 = now_s();
    bool reported = false;
    while (!g_stop) {
        if (e.started < o.conns) {
            long allowed = o.conns;
            if (o.rate > 0)
                allowed = std::min(o.conns, 1 + static_cast<long>(std::floor((now_s() - t0) * o.rate)));
            while (e.started < allowed && static_cast<int>(e.live.size()) < o.max_inflight)
                e.start();
        }
        if (!reported && e.started >= o.conns && e.live.empty()) {
            reported = true;
            std::printf("established=%ld failed=%ld\n", e.established, e.failed);
            std::fflush(stdout);
            if (!o.ready_file.empty()) {
                std::string tmp = o.ready_file + ".tmp";
                if (FILE* f = std::fopen(tmp.c_str(), "w")) {
                    std::fprintf(f, "established=%ld failed=%ld\n", e.established, e.failed);
                    std::fclose(f);
                    std::rename(tmp.c_str(), o.ready_file.c_str());
                }
            }
        }
        e.poll_once(reported ? 500 : 10);
    }
    std::printf("established=%ld failed=%ld closed_by_server=%ld still_open=%ld elapsed_s=%.1f\n", e.established,
                e.failed, e.closed_by_server, e.established - e.closed_by_server, now_s() - t0);
    std::fflush(stdout);
    return 0;
}

}  // namespace tlsload

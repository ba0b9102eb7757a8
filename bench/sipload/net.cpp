// sipload: sockets, TLS and the event loop. UDP is one socket drained with
// recvmmsg; a stream connection is read to EAGAIN, framed, and written
// directly, with a bounded queue when the socket is full.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "sipload.h"

namespace sipload {

namespace {

constexpr size_t kReadLimit = 64 * 1024;       // one message at most
constexpr size_t kWriteLimit = 4 * 1024 * 1024;  // queued per connection
Conn udp_mark, listen_mark;                      // epoll tags of the two sockets

std::string addr_text(const sockaddr_in& a) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

std::string local_via(int fd, Proto p) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return std::string(proto_upper(p)) + " " + addr_text(a);
}

int new_session(SSL* ssl, SSL_SESSION* sess) {
    auto* net = static_cast<Net*>(SSL_get_app_data(ssl));
    if (!net) return 0;
    if (net->last_session) SSL_SESSION_free(net->last_session);
    net->last_session = sess;  // we keep the reference
    return 1;
}

bool load_tls(Net& n) {
    Options& o = n.o;
    n.ctx = SSL_CTX_new(o.uac ? TLS_client_method() : TLS_server_method());
    if (o.tls_version) {
        int v = o.tls_version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
        SSL_CTX_set_min_proto_version(n.ctx, v);
        SSL_CTX_set_max_proto_version(n.ctx, v);
    }
    if (!o.cert.empty() && (SSL_CTX_use_certificate_chain_file(n.ctx, o.cert.c_str()) != 1 ||
                            SSL_CTX_use_PrivateKey_file(n.ctx, o.key.c_str(), SSL_FILETYPE_PEM) != 1)) {
        std::fprintf(stderr, "sipload: cannot load --cert %s / --key %s\n", o.cert.c_str(), o.key.c_str());
        ERR_print_errors_fp(stderr);
        return false;
    }
    if (!o.ca.empty()) {
        if (SSL_CTX_load_verify_locations(n.ctx, o.ca.c_str(), nullptr) != 1) {
            std::fprintf(stderr, "sipload: cannot load --ca %s\n", o.ca.c_str());
            return false;
        }
        SSL_CTX_set_verify(n.ctx, SSL_VERIFY_PEER, nullptr);
    }
    if (o.uac && o.resume) {
        SSL_CTX_set_session_cache_mode(n.ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(n.ctx, new_session);
    }
    return true;
}

}  // namespace

bool Net::setup() {
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (o.proto == Proto::tls && !load_tls(*this)) return false;
    if (o.proto == Proto::udp) {
        udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        int big = 4 * 1024 * 1024;
        setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        sockaddr_in a = o.local;
        if (bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
            std::perror("sipload: bind");
            return false;
        }
        udp_via = local_via(udp, o.proto);
        epoll_event ev{EPOLLIN, {.ptr = &udp_mark}};
        epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev);
    } else if (!o.uac) {
        listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int one = 1;
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(listener, reinterpret_cast<const sockaddr*>(&o.local), sizeof o.local) < 0 ||
            ::listen(listener, 4096) < 0) {
            std::perror("sipload: listen");
            return false;
        }
        epoll_event ev{EPOLLIN, {.ptr = &listen_mark}};
        epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    }
    return true;
}

void Net::watch(Conn* c, bool want_out, bool add) {
    if (!add && c->out_watched == want_out) return;
    c->out_watched = want_out;
    epoll_event ev{EPOLLIN | (want_out ? EPOLLOUT : 0u), {.ptr = c}};
    epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
}

Conn* Net::connect_remote() {
    auto* c = new Conn;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o.have_local) {
        sockaddr_in a = o.local;
        a.sin_port = 0;
        bind(c->fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    int r = ::connect(c->fd, reinterpret_cast<const sockaddr*>(&o.remote), sizeof o.remote);
    if (r < 0 && errno != EINPROGRESS) {
        ++st.errors;
        ::close(c->fd);
        delete c;
        return nullptr;
    }
    c->connecting = true;
    c->via = local_via(c->fd, o.proto);
    if (ctx) {
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_app_data(c->ssl, this);
        SSL_set_connect_state(c->ssl);
        if (!o.sni.empty()) SSL_set_tlsext_host_name(c->ssl, o.sni.c_str());
        if (!o.ca.empty()) {
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &o.remote.sin_addr, ip, sizeof ip);
            X509_VERIFY_PARAM* vp = SSL_get0_param(c->ssl);
            if (o.sni.empty()) X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
            else SSL_set1_host(c->ssl, o.sni.c_str());
        }
        if (o.resume && last_session) SSL_set_session(c->ssl, last_session);
        c->handshaking = true;
    }
    ++st.conns;
    watch(c, true, true);
    return c;
}

void Net::accept_all() {
    for (;;) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto* c = new Conn;
        c->fd = fd;
        c->via = local_via(fd, o.proto);
        if (ctx) {
            c->ssl = SSL_new(ctx);
            SSL_set_fd(c->ssl, fd);
            SSL_set_accept_state(c->ssl);
            c->handshaking = true;
        }
        ++st.conns;
        watch(c, false, true);
    }
}

void Net::close(Conn* c) {
    if (c->dead) return;
    c->dead = true;
    if (c->ssl) {
        if (!c->handshaking) SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = nullptr;
    }
    ::close(c->fd);
    if (on_close) on_close(role, c);
    graveyard.push_back(c);
}

void Net::free_closed() {
    for (Conn* c : graveyard) delete c;
    graveyard.clear();
}

void Net::send(Conn* c, const sockaddr_in* to, std::string_view m) {
    ++st.msgs_sent;
    if (!c) {
        if (queued == kQueue) flush_udp();
        size_t len = std::min(m.size(), sizeof qbuf[0]);
        std::memcpy(qbuf[queued], m.data(), len);
        qto[queued] = *to;
        iov_len[queued++] = len;
        return;
    }
    if (c->dead) return;
    // Written at the end of this round of events, with whatever else it
    // gets meanwhile (a 180 and its 200, an ACK and its BYE) in one write.
    if (c->out.size() + m.size() > kWriteLimit) {
        ++st.errors;
        return close(c);
    }
    if (c->out.empty() && !c->connecting && !c->handshaking) dirty.push_back(c);
    c->out.append(m);
}

bool Net::flush(Conn* c) {
    while (!c->out.empty()) {
        ssize_t n;
        if (c->ssl) {
            int r = SSL_write(c->ssl, c->out.data(), static_cast<int>(c->out.size()));
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
                return false;
            }
            n = r;
        } else {
            n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) break;
                return false;
            }
        }
        c->out.erase(0, static_cast<size_t>(n));
    }
    watch(c, !c->out.empty(), false);
    return true;
}

bool Net::drive_handshake(Conn* c) {
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaking = false;
        ++st.handshakes;
        if (SSL_session_reused(c->ssl)) ++st.resumed;
        return true;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        watch(c, e == SSL_ERROR_WANT_WRITE, false);
        return true;
    }
    if (!o.quiet) ERR_print_errors_fp(stderr);
    ERR_clear_error();
    ++st.errors;
    return false;
}

bool Net::read_stream(Conn* c) {
    char buf[32768];
    for (;;) {
        ssize_t n;
        if (c->ssl) {
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
                if (e != SSL_ERROR_ZERO_RETURN) ERR_clear_error();
                ++st.closed_by_peer;
                return false;
            }
            n = r;
        } else {
            n = ::recv(c->fd, buf, sizeof buf, 0);
            if (n == 0) {
                ++st.closed_by_peer;
                return false;
            }
            if (n < 0) return errno == EAGAIN || errno == EINTR;
        }
        c->in.append(buf, static_cast<size_t>(n));
        size_t used = 0;
        for (;;) {
            long len = frame(std::string_view(c->in).substr(used), kReadLimit);
            if (len < 0) {
                ++st.errors;
                return false;
            }
            if (len == 0) break;
            ++st.msgs_recv;
            on_msg(role, c, nullptr, std::string_view(c->in).substr(used, static_cast<size_t>(len)));
            if (c->dead) return true;
            used += static_cast<size_t>(len);
        }
        c->in.erase(0, used);
    }
}

void Net::on_conn(Conn* c, uint32_t events) {
    if (c->dead) return;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            ++st.errors;
            return close(c);
        }
        if (!(events & EPOLLOUT)) return;
        c->connecting = false;
    }
    if (c->handshaking) {
        if (!drive_handshake(c)) return close(c);
        if (c->handshaking) return;
    }
    if (!flush(c) || !read_stream(c)) close(c);
}

void Net::read_udp() {
    constexpr int kBatch = 32;
    static char bufs[kBatch][65536 / 8];
    static sockaddr_in from[kBatch];
    static iovec iov[kBatch];
    static mmsghdr hdr[kBatch];
    for (;;) {
        for (int i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i], sizeof bufs[i]};
            hdr[i] = {};
            hdr[i].msg_hdr.msg_iov = &iov[i];
            hdr[i].msg_hdr.msg_iovlen = 1;
            hdr[i].msg_hdr.msg_name = &from[i];
            hdr[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int n = recvmmsg(udp, hdr, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;
        for (int i = 0; i < n; ++i) {
            ++st.msgs_recv;
            on_msg(role, nullptr, &from[i], std::string_view(bufs[i], hdr[i].msg_len));
        }
        if (n < kBatch) return;
    }
}

void Net::flush_udp() {
    mmsghdr hdr[kQueue];
    iovec iov[kQueue];
    for (int i = 0; i < queued; ++i) {
        iov[i] = {qbuf[i], iov_len[i]};
        hdr[i] = {};
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
        hdr[i].msg_hdr.msg_name = &qto[i];
        hdr[i].msg_hdr.msg_namelen = sizeof qto[i];
    }
    int done = 0;
    while (done < queued) {
        int n = sendmmsg(udp, hdr + done, static_cast<unsigned>(queued - done), 0);
        if (n <= 0) {  // a full socket buffer or an ICMP error: count and drop the rest
            st.errors += queued - done;
            break;
        }
        done += n;
    }
    queued = 0;
}

void Net::flush_all() {
    if (queued) flush_udp();
    for (size_t i = 0; i < dirty.size(); ++i) {  // (flush may close, which may queue more)
        Conn* c = dirty[i];
        if (!c->dead && !c->connecting && !c->handshaking && !flush(c)) close(c);
    }
    dirty.clear();
}

void Net::poll(int64_t timeout_us) {
    flush_all();
    epoll_event evs[256];
    timespec ts{timeout_us / 1000000, (timeout_us % 1000000) * 1000};
    int n = epoll_pwait2(ep, evs, 256, timeout_us < 0 ? nullptr : &ts, nullptr);
    for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(evs[i].data.ptr);
        if (c == &udp_mark) read_udp();
        else if (c == &listen_mark) accept_all();
        else on_conn(c, evs[i].events);
    }
    flush_all();
    free_closed();
}

}  // namespace sipload

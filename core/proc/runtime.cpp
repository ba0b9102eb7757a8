// Start-up of the runtime in steps: shared memory, listen addresses, the
// listeners of each role, the roles' own steps (channels), the transports.
#include "proc/runtime.h"

#include "io/channel.h"
#include "io/tls_hooks.h"
#include "io/transport.h"
#include "log.h"
#include "proc/role.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace ser {

std::string sock_error(const char* what, const ListenAddr& l)
{
    return std::string(what) + " " + std::string(proto_name(l.proto)) + ":" + l.addr.str() + " failed: " +
           std::strerror(errno);
}

int open_bound_socket(const ListenAddr& l, int type, bool reuseport, std::string& err)
{
    int fd = socket(l.addr.family(), type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = sock_error("socket() for", l);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (l.addr.family() == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, l.addr.sa(), l.addr.len) != 0) {
        err = sock_error("bind() on", l);
        close(fd);
        return -1;
    }
    return fd;
}

int open_listening_socket(const ListenAddr& l, bool reuseport, int backlog, std::string& err)
{
    int fd = open_bound_socket(l, SOCK_STREAM, reuseport, err);
    if (fd >= 0 && listen(fd, backlog) != 0) {
        err = sock_error("listen() on", l);
        close(fd);
        fd = -1;
    }
    return fd;
}

namespace {

// Refuses a listen address that another process serves already. Our own
// sockets carry SO_REUSEPORT (one per receiver or worker), which would let a
// second server join the same port silently and take part of its traffic:
// a probe bound without SO_REUSEPORT fails then. TCP probes keep SO_REUSEADDR
// so the TIME_WAIT connections of a server just restarted do not count. A
// lock (an abstract unix socket named after the address, held by main and
// its children) closes the gap between two sers that probe at once.
std::string claim_address(const ListenAddr& l, std::vector<int>& locks)
{
    bool stream = l.proto != Proto::Udp;
    std::string who = std::string(proto_name(l.proto)) + ":" + l.addr.str();
    auto in_use = [&] { return who + ": address already in use by another process"; };
    int lk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (lk < 0)
        return "socket() for the lock of " + who + " failed: " + std::strerror(errno);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    // TCP and TLS share the TCP port space: one name for both.
    std::string name = std::string("ser-listen ") + (stream ? "tcp " : "udp ") + l.addr.str();
    name.resize(std::min(name.size(), sizeof un.sun_path - 1));
    std::memcpy(un.sun_path + 1, name.data(), name.size());   // sun_path[0] == 0: abstract
    if (bind(lk, reinterpret_cast<sockaddr*>(&un), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())) != 0) {
        int e = errno;
        close(lk);
        if (e == EADDRINUSE)
            return in_use();
        return "bind() of the lock of " + who + " failed: " + std::strerror(e);
    }
    locks.push_back(lk);
    int probe = socket(l.addr.family(), (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return sock_error("socket() for", l);
    int one = 1;
    if (stream)
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l.addr.family() == AF_INET6)
        setsockopt(probe, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = bind(probe, l.addr.sa(), l.addr.len);
    int e = errno;
    close(probe);
    if (rc == 0)
        return {};
    errno = e;
    return e == EADDRINUSE ? in_use() : sock_error("bind() on", l);
}

}  // namespace

std::string Runtime::setup(const Config& c, int shm_mb, const RoleTable& roles)
{
    std::string err = map_shared_memory(c, shm_mb);
    if (err.empty())
        err = expand_listen_addrs();
    if (err.empty())
        err = bind_listeners(roles);
    if (err.empty())
        err = run_role_setups(roles);
    if (err.empty())
        err = map_statistics(roles);
    if (err.empty())
        err = init_transports();
    return err;
}

std::string Runtime::map_shared_memory(const Config& c, int shm_mb)
{
    cfg = &c;
    start_ms = now_ms();
    size_t bytes = static_cast<size_t>(shm_mb > 0 ? shm_mb : c.shm_mem_size) << 20;
    size_t need = ConnTable::bytes_needed(static_cast<uint32_t>(c.tcp_max_connections)) + 4096;
    if (need > bytes)
        return "shared memory of " + std::to_string(bytes >> 20) + " MB is too small for tcp_max_connections=" +
               std::to_string(c.tcp_max_connections) + " (needs " + std::to_string((need >> 20) + 1) +
               " MB): raise shm_mem_size or -m";
    auto mapped = Shm::create(bytes);
    if (!mapped)
        return std::string("cannot map ") + std::to_string(bytes >> 20) + " MB of shared memory: " + std::strerror(errno);
    shm.emplace(std::move(*mapped));
    conns = ConnTable::create(*shm, static_cast<uint32_t>(c.tcp_max_connections));
    if (!conns)
        return "cannot place the connection table in shared memory";
    return {};
}

std::string Runtime::expand_listen_addrs()
{
    for (const auto& l : cfg->listens) {
        auto a = SockAddr::from_numeric(l.addr, l.port);
        if (!a)
            return l.loc.str() + ": listen address " + l.addr + " is not numeric";
        // As SER did, a wildcard address becomes one listener per local
        // address, so every Via and reply names a real address.
        std::vector<SockAddr> addrs = is_wildcard(*a) ? local_addresses(a->family(), l.port) : std::vector{*a};
        if (addrs.empty())
            return l.loc.str() + ": no local address of that family to listen on";
        for (const auto& one : addrs) {
            // 0.0.0.0 and one of its addresses both listed: one listener.
            if (std::any_of(listen_addrs.begin(), listen_addrs.end(),
                            [&](const ListenAddr& o) { return o.proto == l.proto && o.addr == one; }))
                continue;
            ListenAddr la;
            la.proto = l.proto;
            la.addr = one;
            la.advertise = one.str();
            la.proxy_protocol = l.proxy_protocol;
            listen_addrs.push_back(la);
        }
    }
    return {};
}

std::string Runtime::bind_listeners(const RoleTable& roles)
{
    // In listen order, each address claimed just before its sockets are bound.
    for (size_t i = 0; i < listen_addrs.size(); i++) {
        const Role* r = roles.server_of(*this, listen_addrs[i]);
        if (!r)
            continue;
        std::string err = claim(listen_addrs[i]);
        if (err.empty() && r->bind_listener)
            err = r->bind_listener(*this, i);
        if (!err.empty())
            return err;
    }
    return {};
}

std::string Runtime::run_role_setups(const RoleTable& roles)
{
    for (const Role& r : roles.roles())
        if (r.setup)
            if (std::string err = r.setup(*this); !err.empty())
                return err;
    return {};
}

std::string Runtime::init_transports()
{
    register_transport(Proto::Tcp, &tcp_transport());
    return tls_register(*cfg, listen_addrs);
}

std::string Runtime::claim(const ListenAddr& la)
{
    return claim_address(la, listen_locks);
}

std::string Runtime::open_channels(size_t n)
{
    const Config& c = *cfg;
    for (size_t i = 0; i < n; i++) {
        Channel ch;
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ch.fds) != 0)
            return std::string("socketpair() failed: ") + std::strerror(errno);
        // The send buffer bounds the largest datagram: it must hold a largest
        // message. Root may exceed net.core.wmem_max (SO_SNDBUFFORCE).
        int want = static_cast<int>(std::max<size_t>(4u << 20, 2 * chan_max_bytes(c)));
        setsockopt(ch.fds[0], SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
        setsockopt(ch.fds[0], SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want);
        setsockopt(ch.fds[1], SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
        setsockopt(ch.fds[1], SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want);
        int got = 0;
        socklen_t gl = sizeof got;
        getsockopt(ch.fds[1], SOL_SOCKET, SO_SNDBUF, &got, &gl);
        if (static_cast<size_t>(got) < chan_max_bytes(c) + 1024)
            return "tcp_max_msg_size=" + std::to_string(c.tcp_max_msg_size) +
                   " needs " + std::to_string(chan_max_bytes(c)) + "-byte worker channels, but the socket buffer is " +
                   std::to_string(got) + " bytes: lower tcp_max_msg_size or raise net.core.wmem_max";
        fcntl(ch.fds[0], F_SETFL, O_NONBLOCK);
        fcntl(ch.fds[1], F_SETFL, O_NONBLOCK);
        channels.push_back(ch);
    }
    return {};
}

namespace {

// tls_handshake_rate of the TLS listener `la`: its tls_domain's (the block
// without tls_server_name when several share it), else the global one.
int handshake_rate_of(const Config& cfg, const ListenAddr& la)
{
    const TlsDomainCfg* found = nullptr;
    for (const TlsDomainCfg& d : cfg.tls_domains)
        if (!d.client && d.port == la.addr.port() && d.addr == la.addr.ip() && (!found || d.params.server_name.empty()))
            found = &d;
    return found ? found->params.handshake_rate : cfg.tls.handshake_rate;
}

}  // namespace

std::string Runtime::map_statistics(const RoleTable& roles)
{
    // Sized now the processes and listeners are known: main, every child of
    // every role, and spares for roles still to come.
    size_t children = 0;
    for (const Role& r : roles.roles())
        children += r.count(*this);
    size_t slots = 1 + children + kSpareStatsSlots;
    stats = Stats::create(*shm, static_cast<uint32_t>(slots), static_cast<uint32_t>(listen_addrs.size()));
    if (!stats)
        return "shared memory of " + std::to_string(shm->size() >> 20) + " MB is too small for the statistics of " +
               std::to_string(slots) + " processes and " + std::to_string(listen_addrs.size()) +
               " listeners: raise shm_mem_size or -m";
    Stats::bind_local(*stats->slot(0));
    procs = ProcTable::create(*shm, static_cast<uint32_t>(children));
    log_level = shm->alloc<std::atomic<int>>();
    accept_gates = shm->alloc<RateGate>(std::max<size_t>(1, listen_addrs.size()));
    if (!procs || !log_level || !accept_gates)
        return "shared memory of " + std::to_string(shm->size() >> 20) + " MB is too small for the process table: "
               "raise shm_mem_size or -m";
    for (size_t i = 0; i < listen_addrs.size(); i++) {
        new (&accept_gates[i]) RateGate();
        if (listen_addrs[i].proto == Proto::Tls)
            accept_gates[i].limit = static_cast<uint32_t>(handshake_rate_of(*cfg, listen_addrs[i]));
    }
    return {};
}

const UdpListener* Runtime::udp_sender(const ListenAddr* from, int family) const
{
    if (from && from->proto == Proto::Udp && from->addr.family() == family)
        for (const auto& u : udp)
            if (&listen_addrs[u.listen_idx] == from && !u.fds.empty())
                return &u;
    for (const auto& u : udp)
        if (listen_addrs[u.listen_idx].addr.family() == family && !u.fds.empty())
            return &u;
    return nullptr;
}

}  // namespace ser

#include "proc/children.h"

#include "log.h"
#include "proxy/proxy.h"
#include "proc/tcp_worker.h"
#include "proc/udp_worker.h"
#include "proc/worker_sender.h"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

namespace ser {
namespace {

// --- udp receiver ---

std::string bind_udp_listener(Runtime& rt, size_t listen_idx)
{
    const ListenAddr& la = rt.listen_addrs[listen_idx];
    UdpListener u{listen_idx, {}};
    // One socket per receiver: the kernel hashes each peer onto one of
    // them, so one peer's messages stay in order in one process.
    for (int k = 0; k < rt.cfg->children; k++) {
        std::string err;
        int fd = open_bound_socket(la, SOCK_DGRAM, true, err);
        if (fd < 0)
            return err;
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        u.fds.push_back(fd);
    }
    rt.udp.push_back(std::move(u));
    return {};
}

size_t udp_receivers(const Runtime& rt)
{
    size_t n = 0;
    for (const auto& u : rt.udp)
        n += u.fds.size();
    return n;
}

// Receiver `index` of the role: which UDP listener (into rt.udp), which of its sockets.
std::pair<size_t, size_t> udp_slot(const Runtime& rt, size_t index)
{
    size_t u = 0;
    while (u + 1 < rt.udp.size() && index >= rt.udp[u].fds.size())
        index -= rt.udp[u++].fds.size();
    return {u, index};
}

ChildName udp_name(const Runtime& rt, size_t index)
{
    auto [u, k] = udp_slot(rt, index);
    const ListenAddr& la = rt.listen_addrs[rt.udp[u].listen_idx];
    return {"udp#" + std::to_string(u) + "." + std::to_string(k), la.addr.str() + " #" + std::to_string(k)};
}

int run_udp(ChildEnv& env)
{
    auto [u, k] = udp_slot(env.rt, env.index);
    StatsSlot stats = child_stats(env);
    WorkerSender sender(env.rt, nullptr, stats);
    PollDns dns;   // outlives the proxy: its resolver's sockets close through it
    Proxy proxy(*env.rt.cfg, sender, stats);
    dns.attach(proxy.enable_dns(dns));
    return run_udp_receiver(
        env.rt, u, k, stats, [&](std::string_view msg, const RecvInfo& ri) { proxy.on_message(msg, ri); }, env.stop,
        &dns);
}

// --- tcp worker ---

bool serves_stream(const Runtime& rt, const ListenAddr& la)
{
    return (la.proto == Proto::Tcp && !rt.cfg->disable_tcp) || (la.proto == Proto::Tls && !rt.cfg->disable_tls);
}

std::string bind_stream_listener(Runtime& rt, size_t listen_idx)
{
    const ListenAddr& la = rt.listen_addrs[listen_idx];
    // One SO_REUSEPORT listening socket per worker: the kernel spreads
    // new connections over the workers by address hash. (One shared
    // socket with EPOLLEXCLUSIVE gave nearly every connection to the
    // worker that was last busy.)
    StreamListener sl{listen_idx, {}};
    for (int k = 0; k < rt.cfg->tcp_children; k++) {
        std::string err;
        int fd = open_listening_socket(la, true, 1024, err);
        if (fd < 0)
            return err;
        sl.fds.push_back(fd);
    }
    rt.streams.push_back(std::move(sl));
    return {};
}

// A channel per worker, through which other processes hand it what to send
// on the connections it owns.
std::string open_worker_channels(Runtime& rt)
{
    // Outgoing stream connections need workers even with no stream listener.
    bool any_stream = std::any_of(rt.listen_addrs.begin(), rt.listen_addrs.end(),
                                  [](const ListenAddr& l) { return l.proto != Proto::Udp; });
    return rt.open_channels(any_stream ? static_cast<size_t>(rt.cfg->tcp_children) : 0);
}

std::string tcp_tag(size_t index)
{
    return "tcp#" + std::to_string(index);
}

int run_tcp(ChildEnv& env)
{
    StatsSlot stats = child_stats(env);
    TcpWorker worker(env.rt, static_cast<int>(env.index), stats);
    WorkerSender sender(env.rt, &worker, stats);
    ConnLoopDns dns(worker.loop());   // outlives the proxy: its resolver's sockets close through it
    Proxy proxy(*env.rt.cfg, sender, stats);
    dns.attach(proxy.enable_dns(dns));
    worker.set_handler([&](std::string_view msg, const RecvInfo& ri, StreamConn& c) {
        proxy.on_message(msg, ri, c.xprt->describe(c));
    });
    return worker.run(env.stop, env.hup);
}

// Its connections died with it: they leave the shared table.
void tcp_died(Runtime& rt, size_t index)
{
    size_t n = rt.conns->purge_owner(static_cast<int>(index));
    if (n)
        LOG_NOTICE("%zu connections of %s closed with it", n, tcp_tag(index).c_str());
}

}  // namespace

void register_udp_receivers(RoleTable& roles)
{
    Role r;
    r.name = "udp receiver";
    r.serves = [](const Runtime&, const ListenAddr& la) { return la.proto == Proto::Udp; };
    r.bind_listener = bind_udp_listener;
    r.count = udp_receivers;
    r.child_name = udp_name;
    r.run = run_udp;
    roles.add(std::move(r));
}

void register_tcp_workers(RoleTable& roles)
{
    Role r;
    r.name = "tcp worker";
    r.serves = serves_stream;
    r.bind_listener = bind_stream_listener;
    r.setup = open_worker_channels;
    // A worker is its channel's reader: one worker per channel.
    r.count = [](const Runtime& rt) { return rt.channels.size(); };
    r.child_name = [](const Runtime&, size_t index) { return ChildName{tcp_tag(index), std::to_string(index)}; };
    r.run = run_tcp;
    r.on_died = tcp_died;
    roles.add(std::move(r));
}

}  // namespace ser

#include "proc/children.h"

#include "log.h"
#include "proxy/proxy.h"
#include "proc/tcp_worker.h"
#include "io/tls_hooks.h"
#include "io/transport.h"
#include "proc/udp_worker.h"
#include "proc/worker_sender.h"

namespace ser {

std::string ChildSpec::name() const
{
    if (role == Role::TcpWorker)
        return "tcp#" + std::to_string(a);
    return "udp#" + std::to_string(a) + "." + std::to_string(b);
}

std::vector<ChildSpec> child_specs(const Runtime& rt)
{
    std::vector<ChildSpec> out;
    for (size_t i = 0; i < rt.udp.size(); i++)
        for (size_t k = 0; k < rt.udp[i].fds.size(); k++)
            out.push_back(ChildSpec{Role::UdpReceiver, i, k});
    for (size_t w = 0; w < rt.channels.size(); w++)
        out.push_back(ChildSpec{Role::TcpWorker, w, 0});
    for (size_t i = 0; i < out.size(); i++)
        out[i].stats_slot = static_cast<uint32_t>(i + 1);
    return out;
}

int run_child(Runtime& rt, const ChildSpec& spec, const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup)
{
    std::string role = spec.name();
    log::set_role(role.c_str());
    std::optional<StatsSlot> slot = rt.stats->slot(spec.stats_slot);
    if (!slot)
        LOG_ERR("no statistics slot %u (the block has %u): this process's counts are not seen", spec.stats_slot,
                rt.stats->slots());
    StatsSlot stats = slot.value_or(StatsSlot());
    Stats::bind_local(stats);
    if (spec.role == Role::UdpReceiver) {
        WorkerSender sender(rt, nullptr, stats);
        Proxy proxy(*rt.cfg, sender, stats);
        return run_udp_receiver(rt, spec.a, spec.b, stats,
                                [&](std::string_view msg, const RecvInfo& ri) { proxy.on_message(msg, ri); }, stop);
    }
    TcpWorker worker(rt, static_cast<int>(spec.a), stats);
    WorkerSender sender(rt, &worker, stats);
    Proxy proxy(*rt.cfg, sender, stats);
    worker.set_handler([&](std::string_view msg, const RecvInfo& ri, StreamConn& c) {
        proxy.on_message(msg, ri, c.xstate ? c.xstate->tls_facts() : nullptr);
    });
    return worker.run(stop, hup);
}

void on_child_died(Runtime& rt, const ChildSpec& spec)
{
    if (spec.role != Role::TcpWorker)
        return;
    size_t n = rt.conns->purge_owner(static_cast<int>(spec.a));
    if (n)
        LOG_NOTICE("%zu connections of %s closed with it", n, spec.name().c_str());
}

std::string init_transports(Runtime& rt)
{
    register_transport(Proto::Tcp, &tcp_transport());
    return tls_register(*rt.cfg, rt.listen_addrs, *rt.conns);
}

}  // namespace ser

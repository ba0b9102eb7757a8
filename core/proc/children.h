#pragma once
// The kinds of child processes and what each runs after fork.

#include "proc/runtime.h"

#include <csignal>
#include <string>
#include <vector>

namespace ser {

enum class Role { UdpReceiver, TcpWorker };

struct ChildSpec {
    Role role = Role::UdpReceiver;
    size_t a = 0;   // UdpReceiver: index into Runtime::udp; TcpWorker: worker index
    size_t b = 0;   // UdpReceiver: which socket of the listener
    uint32_t stats_slot = 0;    // its slot in Runtime::stats (0 is main's); a restart keeps it
    std::string name() const;   // "udp#0.1 (127.0.0.1:5060)", "tcp#2"
};

// Every child the runtime needs: `children` receivers per UDP listener, `tcp_children` workers.
std::vector<ChildSpec> child_specs(const Runtime& rt);
// Body of a child process; returns its exit code.
// `hup` is set by SIGHUP: workers then reload their TLS material.
int run_child(Runtime& rt, const ChildSpec& spec, const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup);
// Main's clean-up after a child died (its connections are gone with it).
void on_child_died(Runtime& rt, const ChildSpec& spec);
// Registers the stream transports (tcp; tls when built with it) and builds
// their contexts; "" or a fatal error. Main, before fork.
std::string init_transports(Runtime& rt);

}  // namespace ser

#pragma once
// Process roles: the kinds of child process, registered by main (nginx
// ngx_module_s, the SER/Kamailio process table). A role says what main opens
// for it before fork, how many children it has, what each runs after fork and
// what main does when one dies. The supervisor forks, names, restarts and
// stops the children of every registered role and knows nothing else of them.
//
// Adding a role is one registration (a Role given to RoleTable::add in main)
// plus its set-up step (Role::setup, or serves/bind_listener for listeners).

#include "proc/runtime.h"

#include <csignal>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace ser {

// What a child of a role is given after fork.
struct ChildEnv {
    Runtime& rt;
    size_t index;                        // 0 .. count-1 within its role
    const volatile sig_atomic_t& stop;   // set by SIGTERM: return soon
    volatile sig_atomic_t& hup;          // set by SIGHUP: reload TLS material, then clear it
    uint32_t stats_slot = 0;             // its slot in Runtime::stats (0 is main's)
};

// How one child is named.
struct ChildName {
    std::string tag;      // log prefix and main's lines about it: "udp#0.1", "tcp#1"
    std::string detail;   // after the role's name in the process title: "127.0.0.1:5060 #1", "1"
};

struct Role {
    std::string name;     // "udp receiver", "tcp worker": the process title starts with it

    // --- main, before fork (every hook may be empty) ---
    // Whether the role serves listen address `la`. Main then claims the
    // address (refusing one that another process serves) and calls
    // bind_listener to open the role's sockets on rt.listen_addrs[listen_idx].
    std::function<bool(const Runtime& rt, const ListenAddr& la)> serves;
    std::function<std::string(Runtime& rt, size_t listen_idx)> bind_listener;
    // The role's own set-up step, run once every listener is bound: channels,
    // devices, a control socket. "" or a message for the operator.
    std::function<std::string(Runtime& rt)> setup;

    // --- the supervisor (count, child_name and run are required) ---
    // How many children, once set up (from the config and what setup opened).
    std::function<size_t(const Runtime& rt)> count;
    std::function<ChildName(const Runtime& rt, size_t index)> child_name;
    // The child's body after fork; returns its exit code.
    std::function<int(ChildEnv& env)> run;
    // Main's clean-up after child `index` died, before it is restarted; may be empty.
    std::function<void(Runtime& rt, size_t index)> on_died;
};

// The registered roles, in registration order: set-up, forking and stopping
// follow it. Filled by main before Runtime::setup and not changed after.
class RoleTable {
public:
    void add(Role r) { roles_.push_back(std::move(r)); }
    const std::vector<Role>& roles() const { return roles_; }
    // The first role that serves `la`, or nullptr when none does (a tcp
    // listener with disable_tcp=yes is neither claimed nor bound).
    const Role* server_of(const Runtime& rt, const ListenAddr& la) const;

private:
    std::vector<Role> roles_;
};

// The process title of a child: "ser: " + role name [+ " " + detail].
std::string child_title(const Role& r, const ChildName& n);

// The child's statistics slot, also bound as Stats::local() for the code that
// cannot be handed it (TLS, made before fork). A slot past the block's end
// counts into a sink, and says so once. In the child, first thing.
StatsSlot child_stats(const ChildEnv& env);

}  // namespace ser

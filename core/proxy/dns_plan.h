#pragma once
// RFC 3263 §4 as a function of the answers known so far: given where a
// request goes (host, port if explicit, transport if explicit, sips), either
// the ordered targets, or the (name, type) queries still needed, or failure.
// The caller asks what is needed and calls again when answers come, so the
// same code serves a cache hit (no query) and a lookup that takes several
// rounds (NAPTR, then SRV, then A/AAAA).

#include "proxy/dns_select.h"

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ser::dns {

struct Lookup {
    std::string host;               // a name, not numeric
    uint16_t port = 0;              // 0: none given (SRV applies)
    std::optional<Proto> proto;     // transport= or forward_tcp() & co
    bool secure = false;            // sips: URI
};

struct Target {
    Proto proto = Proto::Udp;
    SockAddr addr;                  // with its port
    std::string name;               // the host name it came from (SRV target or host)
};

enum class PlanResult { Done, Need, Failed };

// known(name, type) returns the answer to that query, or nullptr when it has
// not been answered yet. Done: `out` holds the targets to try in order.
// Need: `need` holds the queries to ask (each once). Failed: the name has no
// address by any route.
using Known = std::function<const Answer*(const std::string& name, Type t)>;
PlanResult plan(const Lookup& l, const Known& known, std::mt19937& rng, std::vector<Target>& out,
                std::vector<std::pair<std::string, Type>>& need);

}  // namespace ser::dns

#pragma once
// Concurrent connections per source address (tcp_max_conns_per_ip): a fixed
// open-addressing hash of address -> count over memory its owner provides
// (the connection table's, in shared memory, under that table's lock). No
// lock of its own and no allocation; touched on accept and close only.

#include "net.h"

#include <cstdint>
#include <type_traits>

namespace ser {

// An address as the counts key it: the family and 16 bytes; an IPv4-mapped
// IPv6 address (a dual-stack socket's IPv4 peer) is the IPv4 address.
struct IpKey {
    uint8_t family = 0;   // AF_INET / AF_INET6; 0 = an empty slot
    uint8_t addr[16]{};

    static IpKey of(const SockAddr& a);
    bool operator==(const IpKey& o) const;
    size_t hash() const;
};

struct IpCount {
    IpKey key;
    uint32_t count = 0;
};
static_assert(std::is_trivially_copyable_v<IpCount>);

class IpCounts {
public:
    enum class Result { Ok, OverLimit, Full };

    // Slots for `max_entries` addresses at once: twice as many, a power of two
    // (probe chains stay short).
    static uint32_t slots_for(uint32_t max_entries);
    // Over `slots` (a power of two, from slots_for) zeroed IpCount records.
    IpCounts(IpCount* slots, uint32_t nslots) : s_(slots), n_(nslots) {}

    // Counts one more connection from `a` unless it has `limit` already
    // (OverLimit) or no slot is free for a new address (Full); then nothing
    // changes. The caller holds the lock that guards the slots.
    Result acquire(const SockAddr& a, uint32_t limit);
    // One connection from `a` fewer (an address at zero frees its slot).
    void release(const SockAddr& a);
    // Connections counted from `a` now.
    uint32_t count(const SockAddr& a) const;
    // Addresses with a count now.
    uint32_t used() const { return used_; }

private:
    uint32_t find(const IpKey& k) const;   // its slot, or n_ when absent

    IpCount* s_;
    uint32_t n_;
    uint32_t used_ = 0;
};

}  // namespace ser

// Linear probing with backward-shift deletion: no tombstones, so a table
// that sees millions of addresses come and go never degrades.
#include "shm/ip_counts.h"

#include <cstring>

namespace ser {

IpKey IpKey::of(const SockAddr& a)
{
    IpKey k;
    if (a.family() == AF_INET) {
        k.family = AF_INET;
        std::memcpy(k.addr, &reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr, 4);
    } else if (a.family() == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6)) {
            k.family = AF_INET;
            std::memcpy(k.addr, in6.s6_addr + 12, 4);
        } else {
            k.family = AF_INET6;
            std::memcpy(k.addr, in6.s6_addr, 16);
        }
    }
    return k;
}

bool IpKey::operator==(const IpKey& o) const
{
    return family == o.family && std::memcmp(addr, o.addr, sizeof addr) == 0;
}

size_t IpKey::hash() const
{
    // FNV-1a over the family and the address bytes.
    uint64_t h = 1469598103934665603ull ^ family;
    for (uint8_t b : addr)
        h = (h ^ b) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
}

uint32_t IpCounts::slots_for(uint32_t max_entries)
{
    uint32_t p = 2;
    while (p < 2ull * max_entries)
        p <<= 1;
    return p;
}

uint32_t IpCounts::find(const IpKey& k) const
{
    uint32_t mask = n_ - 1;
    for (uint32_t i = static_cast<uint32_t>(k.hash()) & mask, probes = 0; probes < n_; i = (i + 1) & mask, probes++) {
        if (s_[i].key.family == 0)
            return n_;
        if (s_[i].key == k)
            return i;
    }
    return n_;
}

IpCounts::Result IpCounts::acquire(const SockAddr& a, uint32_t limit)
{
    IpKey k = IpKey::of(a);
    if (k.family == 0)
        return Result::Ok;   // not an IP address: nothing to count it under
    if (uint32_t at = find(k); at < n_) {
        if (s_[at].count >= limit)
            return Result::OverLimit;
        s_[at].count++;
        return Result::Ok;
    }
    if (limit == 0)
        return Result::OverLimit;
    // Keep one slot empty: it ends every probe chain.
    if (used_ + 1 >= n_)
        return Result::Full;
    uint32_t mask = n_ - 1;
    uint32_t i = static_cast<uint32_t>(k.hash()) & mask;
    while (s_[i].key.family != 0)
        i = (i + 1) & mask;
    s_[i].key = k;
    s_[i].count = 1;
    used_++;
    return Result::Ok;
}

void IpCounts::release(const SockAddr& a)
{
    IpKey k = IpKey::of(a);
    uint32_t at = k.family ? find(k) : n_;
    if (at == n_)
        return;
    if (--s_[at].count > 0)
        return;
    // Backward shift: move up each later entry of the chain whose home slot
    // is not between the hole and it, so every lookup still finds it.
    uint32_t mask = n_ - 1;
    uint32_t hole = at;
    for (uint32_t j = (hole + 1) & mask; s_[j].key.family != 0; j = (j + 1) & mask) {
        uint32_t home = static_cast<uint32_t>(s_[j].key.hash()) & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        s_[hole] = s_[j];
        hole = j;
    }
    s_[hole] = IpCount{};
    used_--;
}

uint32_t IpCounts::count(const SockAddr& a) const
{
    IpKey k = IpKey::of(a);
    uint32_t at = k.family ? find(k) : n_;
    return at == n_ ? 0 : s_[at].count;
}

}  // namespace ser

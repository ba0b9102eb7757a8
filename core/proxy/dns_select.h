#pragma once
// The pure parts of RFC 3263 resolution, apart from any network: the records
// a lookup returns, the SRV order of RFC 2782 (priority, then a weighted
// random draw), the NAPTR choice of RFC 3263 §4.1 (SIP services only, by
// order and preference), and the bounded per-process cache that keeps
// answers for their TTL, negative ones (NXDOMAIN, NODATA) included.

#include "net.h"
#include "proto.h"

#include <cstdint>
#include <list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ser::dns {

enum class Type : uint16_t { A = 1, Aaaa = 28, Srv = 33, Naptr = 35 };

struct SrvRecord {
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    std::string target;
};

struct NaptrRecord {
    uint16_t order = 0;
    uint16_t preference = 0;
    std::string flags;
    std::string service;
    std::string replacement;
};

// One answer: what a query for (name, type) gave. Negative when the name does
// not exist or has no record of the type.
struct Answer {
    bool negative = false;
    std::vector<SockAddr> addrs;   // A / AAAA, port 0
    std::vector<SrvRecord> srv;
    std::vector<NaptrRecord> naptr;
};

// The SRV records in the order to try them: by priority, lowest first, and
// within one priority by the weighted draw of RFC 2782: a record's chance to
// come next is its weight over the sum of those left (weight 0 only when
// nothing else is left, or all are 0). A target of "." means "no service
// here": when it is the only record, the result is empty.
std::vector<SrvRecord> srv_order(std::vector<SrvRecord> recs, std::mt19937& rng);

// One NAPTR choice: the transport and the SRV name to query.
struct NaptrChoice {
    Proto proto;
    std::string srv_name;
};

// The SIP services of the records (SIP+D2U, SIP+D2T, SIPS+D2T as TLS; with
// `secure` only SIPS+D2T) with flag "s", by order, then preference; records
// of other services or flags are skipped. RFC 3263 §4.1.
std::vector<NaptrChoice> naptr_choices(std::vector<NaptrRecord> recs, bool secure);

// The SRV name of a transport: _sip._udp.host, _sip._tcp.host, _sips._tcp.host.
std::string srv_name(Proto p, std::string_view host);

// A bounded cache of answers keyed by (name, type), each kept until its TTL
// runs out. When full, an expired entry goes first, else the least recently
// used. Time is passed in (ms, any monotonic clock), so tests need no clock.
class Cache {
public:
    // capacity 0 keeps nothing.
    explicit Cache(size_t capacity) : cap_(capacity) {}
    // The answer for (name, type) if one is held and not expired at now_ms.
    const Answer* find(std::string_view name, Type t, int64_t now_ms);
    // Keeps a for ttl_s seconds from now_ms (a TTL of 0 is not kept).
    void put(std::string_view name, Type t, Answer a, uint32_t ttl_s, int64_t now_ms);
    size_t size() const { return map_.size(); }
    size_t capacity() const { return cap_; }

private:
    struct Entry {
        std::string key;
        Answer answer;
        int64_t expires_ms;
    };
    static std::string key(std::string_view name, Type t);
    size_t cap_;
    std::list<Entry> lru_;   // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> map_;
};

// The TTL to keep a negative answer for (RFC 2308 §5): the SOA's minimum
// (and its own TTL, the lower), `fallback_s` without a SOA, never over cap_s.
uint32_t negative_ttl(std::optional<uint32_t> soa_min, std::optional<uint32_t> soa_ttl, uint32_t fallback_s,
                      uint32_t cap_s);

}  // namespace ser::dns

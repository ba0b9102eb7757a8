#pragma once
// Socket addresses: one value type for IPv4/IPv6 endpoints, with parsing,
// printing and comparison; host:port splitting; the host's own addresses and
// name resolution (the only functions here that ask the system).

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;

    int family() const { return ss.ss_family; }
    uint16_t port() const;
    void set_port(uint16_t p);
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
    sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
    std::string ip() const;            // "1.2.3.4" or "::1" (no brackets)
    std::string ip_for_uri() const;    // "1.2.3.4" or "[::1]"
    std::string str() const;           // "1.2.3.4:5060" or "[::1]:5060"
    bool same_ip(const SockAddr& o) const;
    bool operator==(const SockAddr& o) const;
    size_t hash() const;

    // Numeric address (v4, v6 with or without brackets) and port; nullopt if not numeric.
    static std::optional<SockAddr> from_numeric(std::string_view ip, uint16_t port);
};

// An address block, "10.0.0.0/8", "2001:db8::/32" or a bare address (all
// bits). An IPv4 block also matches the IPv4-mapped form (::ffff:a.b.c.d)
// that a dual-stack listener reports for an IPv4 peer.
struct Cidr {
    int family = 0;            // AF_INET / AF_INET6
    uint8_t addr[16]{};        // network order; the bits past `bits` are zero
    int bits = 0;

    bool contains(const SockAddr& a) const;
    std::string str() const;
    // nullopt with the reason in *why for anything else.
    static std::optional<Cidr> parse(std::string_view s, std::string* why = nullptr);
};

// True for the wildcard addresses 0.0.0.0 and ::.
bool is_wildcard(const SockAddr& a);

// Every address of `family` on this host's interfaces that are up, with
// `port`, each once; IPv6 link-local addresses (they need a scope) are left
// out. Empty when getifaddrs fails. Any process; reads the interfaces now.
std::vector<SockAddr> local_addresses(int family, uint16_t port);

// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address (two or
// more ':' without brackets: all host). Views into the input; the host keeps
// an IPv6 reference's brackets; port is empty when there is none.
struct HostPort {
    std::string_view host;
    std::string_view port;
};
HostPort split_hostport(std::string_view hp);

// A port written as decimal digits, 1..65535; nullopt otherwise.
std::optional<uint16_t> parse_port(std::string_view s);

// Resolves a host name or address (numeric input never touches DNS). Names
// go through a blocking getaddrinfo and are then kept per process for 60 s
// (failures 10 s, at most 512 names). Prefers `family` when non-zero, else IPv4.
std::optional<SockAddr> resolve_host(std::string_view host, uint16_t port, int family = 0);

// One getaddrinfo for `host`, not cached: its first address (port 0) of
// `family` (IPv4 when 0), else its first of any family. nullopt when it does
// not resolve, with the resolver's reason in *why if given. Blocks.
std::optional<SockAddr> lookup_host(const std::string& host, int family, std::string* why = nullptr);

// What resolve_host's per-process cache asks about a name it does not hold
// (lookup_host) and the clock its entries age by (now_ms). Private: only
// NameCachePeer (tests/unit/core/test_net.cpp) puts fakes in their place.
class NameCache {
    friend class NameCachePeer;
    friend std::optional<SockAddr> resolve_host(std::string_view host, uint16_t port, int family);
    using Lookup = std::optional<SockAddr> (*)(const std::string& host, int family);
    using Clock = int64_t (*)();
    static Lookup lookup_;
    static Clock clock_;
    static size_t size();   // names held now
    static void clear();
};

}  // namespace ser

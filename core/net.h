#pragma once
// Socket addresses: one value type for IPv4/IPv6 endpoints, with parsing,
// printing and comparison. No I/O here.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Resolves a host name or address (numeric input never touches DNS). Names
// go through a blocking getaddrinfo and are then kept per process for 60 s
// (failures 10 s, at most 512 names). Prefers `family` when non-zero, else IPv4.
std::optional<SockAddr> resolve_host(std::string_view host, uint16_t port, int family = 0);

}  // namespace ser

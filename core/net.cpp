#include "net.h"

#include "clock.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <unordered_map>

namespace ser {

uint16_t SockAddr::port() const
{
    if (family() == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return 0;
}

void SockAddr::set_port(uint16_t p)
{
    if (family() == AF_INET)
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(p);
    else if (family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(p);
}

std::string SockAddr::ip() const
{
    char buf[INET6_ADDRSTRLEN] = "";
    if (family() == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    else if (family() == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
    return buf;
}

std::string SockAddr::ip_for_uri() const
{
    return family() == AF_INET6 ? "[" + ip() + "]" : ip();
}

std::string SockAddr::str() const
{
    if (family() == AF_UNIX)
        return "unix";
    return ip_for_uri() + ":" + std::to_string(port());
}

bool SockAddr::same_ip(const SockAddr& o) const
{
    if (family() != o.family())
        return false;
    if (family() == AF_INET)
        return reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in*>(&o.ss)->sin_addr.s_addr;
    if (family() == AF_INET6)
        return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr,
                           &reinterpret_cast<const sockaddr_in6*>(&o.ss)->sin6_addr, sizeof(in6_addr)) == 0;
    return false;
}

bool SockAddr::operator==(const SockAddr& o) const
{
    return same_ip(o) && port() == o.port();
}

size_t SockAddr::hash() const
{
    size_t h = std::hash<uint16_t>{}(port());
    if (family() == AF_INET)
        return h ^ (std::hash<uint32_t>{}(reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr) * 31);
    if (family() == AF_INET6) {
        const auto* a = &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
        uint64_t w[2];
        std::memcpy(w, a, sizeof w);
        return h ^ std::hash<uint64_t>{}(w[0] * 1000003u ^ w[1]);
    }
    return h;
}

std::optional<Cidr> Cidr::parse(std::string_view s, std::string* why)
{
    auto no = [&](const std::string& r) -> std::optional<Cidr> {
        if (why)
            *why = r;
        return std::nullopt;
    };
    size_t slash = s.find('/');
    std::string_view ip = s.substr(0, slash);
    auto a = SockAddr::from_numeric(ip, 0);
    if (!a)
        return no("\"" + std::string(s) + "\" is not an address or address/prefix (e.g. 10.0.0.0/8)");
    Cidr c;
    c.family = a->family();
    int max = c.family == AF_INET ? 32 : 128;
    c.bits = max;
    if (slash != std::string_view::npos) {
        std::string_view b = s.substr(slash + 1);
        int n = 0;
        if (b.empty() || b.size() > 3)
            return no("\"" + std::string(s) + "\": the prefix length must be 0.." + std::to_string(max));
        for (char ch : b) {
            if (ch < '0' || ch > '9')
                return no("\"" + std::string(s) + "\": the prefix length must be 0.." + std::to_string(max));
            n = n * 10 + (ch - '0');
        }
        if (n > max)
            return no("\"" + std::string(s) + "\": the prefix length must be 0.." + std::to_string(max));
        c.bits = n;
    }
    if (c.family == AF_INET)
        std::memcpy(c.addr, &reinterpret_cast<const sockaddr_in*>(&a->ss)->sin_addr, 4);
    else
        std::memcpy(c.addr, &reinterpret_cast<const sockaddr_in6*>(&a->ss)->sin6_addr, 16);
    for (int i = 0; i < 16; i++) {
        int keep = std::clamp(c.bits - i * 8, 0, 8);
        c.addr[i] &= static_cast<uint8_t>(0xff00u >> keep);
    }
    return c;
}

bool Cidr::contains(const SockAddr& a) const
{
    const uint8_t* p = nullptr;
    if (a.family() == AF_INET && family == AF_INET) {
        p = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr);
    } else if (a.family() == AF_INET6) {
        const auto* v6 = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr);
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (family == AF_INET6)
            p = v6;
        else if (std::memcmp(v6, mapped, 12) == 0)
            p = v6 + 12;
    }
    if (!p)
        return false;
    for (int i = 0; i * 8 < bits; i++) {
        int keep = std::min(bits - i * 8, 8);
        if ((p[i] & static_cast<uint8_t>(0xff00u >> keep)) != addr[i])
            return false;
    }
    return true;
}

std::string Cidr::str() const
{
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family, addr, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(bits);
}

std::optional<SockAddr> SockAddr::from_numeric(std::string_view ip, uint16_t port)
{
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']')
        ip = ip.substr(1, ip.size() - 2);
    if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    SockAddr a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len = sizeof(sockaddr_in);
        return a;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len = sizeof(sockaddr_in6);
        return a;
    }
    return std::nullopt;
}

bool is_wildcard(const SockAddr& a)
{
    if (a.family() == AF_INET)
        return reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (a.family() == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr);
    return false;
}

std::vector<SockAddr> local_addresses(int family, uint16_t port)
{
    std::vector<SockAddr> out;
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) != 0)
        return out;
    for (const ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP))
            continue;
        SockAddr a;
        a.len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        std::memcpy(&a.ss, i->ifa_addr, a.len);
        if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr))
            continue;
        a.set_port(port);
        if (std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(a);
    }
    freeifaddrs(ifs);
    return out;
}

HostPort split_hostport(std::string_view hp)
{
    constexpr size_t npos = std::string_view::npos;
    if (!hp.empty() && hp[0] == '[') {
        size_t close = hp.find(']');
        if (close == npos)
            return {hp, {}};
        bool has_port = close + 1 < hp.size() && hp[close + 1] == ':';
        return {hp.substr(0, close + 1), has_port ? hp.substr(close + 2) : std::string_view()};
    }
    size_t colon = hp.find(':');
    if (colon == npos || hp.find(':', colon + 1) != npos)
        return {hp, {}};  // no port, or a bare IPv6 address
    return {hp.substr(0, colon), hp.substr(colon + 1)};
}

std::optional<uint16_t> parse_port(std::string_view s)
{
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v == 0 || v > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(v);
}

std::optional<SockAddr> lookup_host(const std::string& host, int family, std::string* why)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        if (why)
            *why = rc != 0 ? gai_strerror(rc) : "no address";
        return std::nullopt;
    }
    const addrinfo* pick = res;
    for (const addrinfo* r = res; r; r = r->ai_next)
        if (r->ai_family == (family ? family : AF_INET)) { pick = r; break; }
    SockAddr a;
    std::memcpy(&a.ss, pick->ai_addr, pick->ai_addrlen);
    a.len = pick->ai_addrlen;
    a.set_port(0);
    freeaddrinfo(res);
    return a;
}

namespace {

// Names resolved by this process, kept for a while: getaddrinfo blocks the
// event loop, and a script that forwards to a name would otherwise ask DNS
// for every message. Bounded; a failure is remembered too, for less time.
struct CachedName {
    std::optional<SockAddr> addr;   // port 0
    int64_t expires_ms = 0;         // on NameCache::clock_
};
constexpr size_t kMaxCachedNames = 512;
constexpr int64_t kNameTtlMs = 60'000;
constexpr int64_t kFailureTtlMs = 10'000;

std::unordered_map<std::string, CachedName>& cached_names()
{
    static std::unordered_map<std::string, CachedName> names;
    return names;
}

}  // namespace

NameCache::Lookup NameCache::lookup_ = [](const std::string& host, int family) { return lookup_host(host, family); };
NameCache::Clock NameCache::clock_ = now_ms;

size_t NameCache::size()
{
    return cached_names().size();
}

void NameCache::clear()
{
    cached_names().clear();
}

std::optional<SockAddr> resolve_host(std::string_view host, uint16_t port, int family)
{
    if (auto a = SockAddr::from_numeric(host, port))
        return a;
    auto& cache = cached_names();
    std::string key = std::string(host) + "|" + std::to_string(family);
    int64_t now = NameCache::clock_();
    auto it = cache.find(key);
    if (it == cache.end() || it->second.expires_ms <= now) {
        if (cache.size() >= kMaxCachedNames)
            cache.clear();
        auto a = NameCache::lookup_(std::string(host), family);
        it = cache.insert_or_assign(key, CachedName{a, now + (a ? kNameTtlMs : kFailureTtlMs)}).first;
    }
    if (!it->second.addr)
        return std::nullopt;
    SockAddr a = *it->second.addr;
    a.set_port(port);
    return a;
}

}  // namespace ser

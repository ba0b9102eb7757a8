// The PROXY protocol header parser. Field layouts are those of HAProxy's
// proxy-protocol.txt; everything the spec leaves open (a v2 relay of a
// datagram onto a stream, TLVs that overrun the header) is refused.
#include "io/proxy_header.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace ser {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr char kV2Sig[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr std::string_view kV2Signature(kV2Sig, sizeof kV2Sig);

ProxyHeader failed(int version, const char* why)
{
    ProxyHeader h;
    h.status = ProxyHeader::Status::Error;
    h.version = version;
    h.error = why;
    return h;
}

// True when `buf` is a prefix of `whole` (or `whole` a prefix of it).
bool agrees(std::string_view buf, std::string_view whole)
{
    size_t n = std::min(buf.size(), whole.size());
    return buf.substr(0, n) == whole.substr(0, n);
}

// A decimal port, 0..65535, without a sign or leading zeros.
bool v1_port(std::string_view s, uint16_t& out)
{
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0'))
        return false;
    unsigned v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(ch - '0');
    }
    if (v > 65535)
        return false;
    out = static_cast<uint16_t>(v);
    return true;
}

bool v1_addr(std::string_view s, int family, uint16_t port, SockAddr& out)
{
    if (s.empty() || s.front() == '[')
        return false;
    auto a = SockAddr::from_numeric(s, port);
    if (!a || a->family() != family)
        return false;
    out = *a;
    return true;
}

// "PROXY TCP4 192.0.2.1 198.51.100.1 56324 5060\r\n" and its TCP6 and UNKNOWN forms.
ProxyHeader parse_v1(std::string_view buf)
{
    if (!agrees(buf, kV1Prefix))
        return failed(0, "not a PROXY protocol header");
    std::string_view window = buf.substr(0, kProxyV1Max);
    size_t end = window.find('\r');
    if (end == std::string_view::npos || end + 1 == window.size()) {
        if (window.find('\n') != std::string_view::npos)
            return failed(1, "v1 header line ends without CR LF");
        if (buf.size() >= kProxyV1Max)
            return failed(1, "v1 header longer than 107 bytes");
        return {};
    }
    if (window[end + 1] != '\n')
        return failed(1, "v1 header line ends without CR LF");
    if (end < kV1Prefix.size())
        return failed(1, "not a PROXY protocol header");
    std::string_view line = buf.substr(kV1Prefix.size(), end - kV1Prefix.size());
    ProxyHeader h;
    h.version = 1;
    h.length = end + 2;
    if (line.substr(0, 7) == "UNKNOWN" && (line.size() == 7 || line[7] == ' ')) {
        // The balancer could not say (not TCP); whatever follows is ignored.
        h.status = ProxyHeader::Status::Done;
        return h;
    }
    std::string_view f[5];
    size_t n = 0;
    while (n < 5) {
        size_t sp = line.find(' ');
        f[n++] = line.substr(0, sp);
        if (sp == std::string_view::npos) {
            line = {};
            break;
        }
        line.remove_prefix(sp + 1);
        if (n == 5)
            return failed(1, "v1 header has more than 5 fields");
    }
    if (n != 5)
        return failed(1, "v1 header needs PROTO SRC DST SRCPORT DSTPORT");
    int family = f[0] == "TCP4" ? AF_INET : f[0] == "TCP6" ? AF_INET6 : 0;
    if (!family)
        return failed(1, "v1 protocol is not TCP4, TCP6 or UNKNOWN");
    uint16_t sport = 0, dport = 0;
    if (!v1_port(f[3], sport) || !v1_port(f[4], dport))
        return failed(1, "v1 port is not a number 0..65535");
    if (!v1_addr(f[1], family, sport, h.src) || !v1_addr(f[2], family, dport, h.dst))
        return failed(1, family == AF_INET ? "v1 TCP4 address is not IPv4" : "v1 TCP6 address is not IPv6");
    h.has_addr = true;
    h.status = ProxyHeader::Status::Done;
    return h;
}

SockAddr v2_inet(const unsigned char* ip, const unsigned char* port, int family)
{
    SockAddr a;
    uint16_t p = static_cast<uint16_t>(port[0] << 8 | port[1]);
    if (family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
        s->sin_family = AF_INET;
        std::memcpy(&s->sin_addr, ip, 4);
        s->sin_port = htons(p);
        a.len = sizeof *s;
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
        s->sin6_family = AF_INET6;
        std::memcpy(&s->sin6_addr, ip, 16);
        s->sin6_port = htons(p);
        a.len = sizeof *s;
    }
    return a;
}

// The 16-byte fixed part, the address block of its family, then TLVs.
ProxyHeader parse_v2(std::string_view buf)
{
    if (!agrees(buf, kV2Signature))
        return failed(0, "not a PROXY protocol header");
    if (buf.size() < 16)
        return {};
    auto* p = reinterpret_cast<const unsigned char*>(buf.data());
    if ((p[12] >> 4) != 2)
        return failed(2, "v2 header with a version other than 2");
    int cmd = p[12] & 0xf;
    if (cmd > 1)
        return failed(2, "v2 command is neither LOCAL nor PROXY");
    int fam = p[13] >> 4, xport = p[13] & 0xf;
    if (fam > 3 || xport > 2)
        return failed(2, "v2 address family or transport unknown");
    size_t len = static_cast<size_t>(p[14] << 8 | p[15]);
    if (16 + len > kProxyV2Max)
        return failed(2, "v2 header longer than the 232 bytes accepted");
    if (buf.size() < 16 + len)
        return {};
    ProxyHeader h;
    h.version = 2;
    h.length = 16 + len;
    h.status = ProxyHeader::Status::Done;
    if (cmd == 0)
        return h;   // LOCAL: the balancer's own connection (a health check); nothing relayed
    static constexpr size_t kBlock[4] = {0, 12, 36, 216};
    size_t block = kBlock[fam];
    if (len < block)
        return failed(2, "v2 address block shorter than its family needs");
    if ((fam == 1 || fam == 2) && xport == 2)
        return failed(2, "v2 header relays a datagram onto a stream connection");
    for (size_t at = 16 + block; at < h.length;) {
        if (h.length - at < 3)
            return failed(2, "v2 TLV cut short");
        size_t vlen = static_cast<size_t>(p[at + 1] << 8 | p[at + 2]);
        if (vlen > h.length - at - 3)
            return failed(2, "v2 TLV runs past the header");
        at += 3 + vlen;
    }
    if (fam == 1 || fam == 2) {
        // UNSPEC and UNIX relay no address we could use: the real peer stands.
        int family = fam == 1 ? AF_INET : AF_INET6;
        size_t alen = fam == 1 ? 4 : 16;
        h.src = v2_inet(p + 16, p + 16 + 2 * alen, family);
        h.dst = v2_inet(p + 16 + alen, p + 16 + 2 * alen + 2, family);
        h.has_addr = true;
    }
    return h;
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view buf)
{
    if (buf.empty())
        return {};
    if (buf[0] == 'P')
        return parse_v1(buf);
    if (buf[0] == '\r')
        return parse_v2(buf);
    return failed(0, "not a PROXY protocol header");
}

}  // namespace ser

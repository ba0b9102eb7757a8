// listen=, connect= and tls_domain[...] addresses: proto:addr:port in its
// SER spellings, with host names resolved at start.
#include "cfg/cfg_check.h"
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>

#include <cstring>

namespace ser {

bool is_serial_word(std::string_view s)
{
    return s.size() == 6 && strncasecmp(s.data(), "serial", 6) == 0;
}

}  // namespace ser

namespace ser::cfg {
namespace {

// Turns an address or host value into numeric form.
bool resolve_addr(const Value& v, bool resolve, std::string& host, std::string& addr, int& family, Diags& d)
{
    unsigned char buf[sizeof(in6_addr)];
    switch (v.kind) {
    case Value::Kind::Ip4:
        if (inet_pton(AF_INET, v.text.c_str(), buf) != 1) {
            d.error(v.loc, "invalid IPv4 address \"" + v.text + "\"");
            return false;
        }
        host = addr = v.text;
        family = AF_INET;
        return true;
    case Value::Kind::Ip6: {
        std::string inner = v.text.substr(1, v.text.size() - 2);
        if (inet_pton(AF_INET6, inner.c_str(), buf) != 1) {
            d.error(v.loc, "invalid IPv6 address \"" + v.text + "\"");
            return false;
        }
        char out[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, buf, out, sizeof out);
        host = inner;
        addr = out;
        family = AF_INET6;
        return true;
    }
    case Value::Kind::Ident:
    case Value::Kind::Str:
        break;
    default:
        d.error(v.loc, "expected an address or host name, got \"" + v.text + "\"");
        return false;
    }
    host = v.text;
    if (host.empty()) {
        d.error(v.loc, "empty host name");
        return false;
    }
    if (!resolve) {
        addr = host;
        family = AF_INET;
        return true;
    }
    // Prefer IPv4 when a name has both, as SER did.
    std::string why;
    std::optional<SockAddr> a = lookup_host(host, AF_INET, &why);
    if (!a) {
        d.error(v.loc, "cannot resolve host \"" + host + "\": " + why);
        return false;
    }
    addr = a->ip();
    family = a->family();
    return true;
}

bool port_of(const Value& v, uint16_t& port, Diags& d)
{
    if (v.kind != Value::Kind::Int) {
        d.error(v.loc, "expected a port number, got \"" + v.text + "\"");
        return false;
    }
    if (v.num < 1 || v.num > 65535) {
        d.error(v.loc, "port " + v.text + " is out of range (1..65535)");
        return false;
    }
    port = static_cast<uint16_t>(v.num);
    return true;
}

}  // namespace

bool parse_listen(const Value& v, uint16_t default_port, bool resolve, ListenCfg& out, Diags& d)
{
    out.loc = v.loc;
    std::vector<Value> parts = v.kind == Value::Kind::Colon ? v.parts : std::vector<Value>{v};
    size_t i = 0;
    out.proto = Proto::Udp;
    bool proto_given = false;
    // "host:port" has no protocol: a word followed by a number is a host.
    bool host_port = parts.size() == 2 && parts[1].kind == Value::Kind::Int &&
                     !proto_from_name(parts[0].text) && parts[0].text != "sctp" && !is_serial_word(parts[0].text);
    if (parts.size() > 1 && parts[0].kind == Value::Kind::Ident && !host_port) {
        auto p = proto_from_name(parts[0].text);
        if (!p) {
            if (parts[0].text == "sctp")
                d.error(parts[0].loc, "sctp is not supported by ser; use udp, tcp or tls");
            else
                d.error(parts[0].loc, "unknown protocol \"" + parts[0].text + "\"; expected udp, tcp or tls");
            return false;
        }
        out.proto = *p;
        proto_given = true;
        i = 1;
    }
    if (i >= parts.size() || parts.size() - i > 2) {
        d.error(v.loc, "expected [proto:]address[:port], e.g. tls:127.0.0.1:5061 or udp:[::1]:5060");
        return false;
    }
    if (!resolve_addr(parts[i], resolve, out.host, out.addr, out.family, d))
        return false;
    if (parts.size() - i == 2) {
        if (!port_of(parts[i + 1], out.port, d))
            return false;
    } else {
        out.port = default_port == 0 ? 0 : (out.proto == Proto::Tls ? proto_default_port(Proto::Tls) : default_port);
    }
    if (!proto_given)
        out.proto = default_port == 0 ? Proto::Tcp : Proto::Udp;
    // Bare "listen=addr" in the global context means udp and tcp (SER 0.9
    // behaviour); the caller adds the tcp twin.
    out.any_proto = !proto_given;
    return true;
}

bool parse_addr_port(const Value& v, bool resolve, std::string& addr, int& family, uint16_t& port, Diags& d)
{
    if (v.kind != Value::Kind::Colon || v.parts.size() != 2) {
        d.error(v.loc, "expected IP:port, e.g. tls_domain[127.0.0.1:5061] or tls_domain[[::1]:5061]");
        return false;
    }
    std::string host;
    return resolve_addr(v.parts[0], resolve, host, addr, family, d) && port_of(v.parts[1], port, d);
}

}  // namespace ser::cfg

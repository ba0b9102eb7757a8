#include "proto.h"

#include <strings.h>

#include <string>

namespace ser {

std::string_view proto_name(Proto p)
{
    switch (p) {
    case Proto::Udp: return "udp";
    case Proto::Tcp: return "tcp";
    case Proto::Tls: return "tls";
    }
    return "?";
}

std::optional<Proto> proto_from_name(std::string_view s)
{
    for (Proto p : {Proto::Udp, Proto::Tcp, Proto::Tls}) {
        auto n = proto_name(p);
        if (n.size() == s.size() && strncasecmp(n.data(), s.data(), s.size()) == 0)
            return p;
    }
    return std::nullopt;
}

uint16_t proto_default_port(Proto p)
{
    switch (p) {
    case Proto::Udp:
    case Proto::Tcp: return 5060;
    case Proto::Tls: return 5061;
    }
    return 0;
}

}  // namespace ser

#pragma once
// The SIP transports (RFC 3261 §18) ser speaks, and their names as written in
// ser.cfg, in Via and in transport= URI parameters. The serial bridge's network
// side is no SIP transport: it has its own type (cfg/config.h, SerialEndpointCfg).

#include <cstdint>
#include <optional>
#include <string_view>

namespace ser {

enum class Proto : uint8_t { Udp, Tcp, Tls };
inline constexpr int kProtoCount = 3;

// "udp", "tcp", "tls".
std::string_view proto_name(Proto p);
// Case-insensitive inverse of proto_name; nullopt for anything else.
std::optional<Proto> proto_from_name(std::string_view s);
// 5060 for udp/tcp, 5061 for tls (RFC 3261 §19.1.2).
uint16_t proto_default_port(Proto p);
inline bool proto_is_stream(Proto p) { return p == Proto::Tcp || p == Proto::Tls; }

}  // namespace ser

#pragma once
// Transport protocols known to ser, and their names as written in ser.cfg.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ser {

enum class Proto : uint8_t { Udp, Tcp, Tls, Serial };
inline constexpr int kProtoCount = 4;

// "udp", "tcp", "tls", "serial".
std::string_view proto_name(Proto p);
// Case-insensitive inverse of proto_name; nullopt for anything else.
std::optional<Proto> proto_from_name(std::string_view s);
// 5060 for udp/tcp, 5061 for tls (RFC 3261 §19.1.2), 0 for serial.
uint16_t proto_default_port(Proto p);
inline bool proto_is_stream(Proto p) { return p == Proto::Tcp || p == Proto::Tls; }

}  // namespace ser

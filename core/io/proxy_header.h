#pragma once
// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2):
// what a load balancer sends first on a connection to say whom it is relaying.
// A pure parser over the bytes read so far; the connection loop reads them raw
// from the socket before any TLS byte or SIP frame.

#include "net.h"

#include <cstddef>
#include <string_view>

namespace ser {

// The most a header may take: v1 is at most 107 bytes with its CRLF; v2 is
// 16 bytes plus the address block and TLVs, of which we accept 216 (the
// size of the largest address block, AF_UNIX). Past that it is refused.
inline constexpr size_t kProxyV1Max = 107;
inline constexpr size_t kProxyV2Max = 16 + 216;
inline constexpr size_t kProxyHeaderMax = kProxyV2Max;

struct ProxyHeader {
    enum class Status { NeedMore, Done, Error };
    Status status = Status::NeedMore;
    size_t length = 0;            // Done: bytes the header took (what follows is the client's stream)
    int version = 0;              // 1 or 2, once known
    bool has_addr = false;        // Done: src/dst are the client's; false for v1 UNKNOWN, v2 LOCAL or an
                                  // address family we do not relay: the connection's own peer stands
    SockAddr src, dst;            // the client and the address it connected to (the balancer's front)
    const char* error = nullptr;  // Error: why, for the log line (static storage)
};

// Parses the start of `buf`, the bytes received so far on a new connection.
// NeedMore while the bytes are a proper prefix of a header that is still
// within the limits; Error as soon as they cannot be one (wrong signature,
// bad field, too long); Done with the length once a whole header is there.
ProxyHeader parse_proxy_header(std::string_view buf);

}  // namespace ser

#pragma once
// The seam between the SIP layer (route engine, proxy) and the transports:
// where a message came from, where one goes, and the Sender the proxy calls.
// Implemented by the worker processes (udp_worker, tcp_worker); faked in tests.

#include "net.h"
#include "proto.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// One of our listening addresses, as the SIP layer sees it.
struct ListenAddr {
    Proto proto = Proto::Udp;
    SockAddr addr;          // bound address; never 0.0.0.0 or :: (start-up expands those)
    std::string advertise;  // host[:port] written into Via / Record-Route ("1.2.3.4:5060", "[::1]:5061")
    bool proxy_protocol = false;  // stream: each connection starts with a PROXY header (from a load balancer)
};

// What the transport knows about a TLS connection a message arrived on.
struct TlsFacts {
    std::string version;   // "TLSv1.3"
    std::string cipher;    // "TLS_AES_256_GCM_SHA384"
    std::string peer_cn;   // subject CN of the peer certificate, "" if none
    std::string peer_subject;  // one-line subject of the peer certificate, "" if none
    std::string sni;       // the server name the client asked for, "" if none
    bool verified = false; // the peer certificate was presented and verified
    bool resumed = false;  // the session was resumed
    // The SIP domain identities of the peer certificate (RFC 5922 §7.1: the
    // hosts of its sip:/sips: URI SANs and its DNS SANs, else its CN), lower case.
    std::vector<std::string> peer_ids;
    std::vector<std::string> peer_ips;   // its IP SANs, as text
    std::string peer_fingerprint;        // "sha256:AB:CD:..." of the peer certificate, "" if none
};

// Where a received message came from.
struct RecvInfo {
    Proto proto = Proto::Udp;
    SockAddr src;           // the peer
    SockAddr dst;           // our local address it arrived on
    uint32_t conn_id = 0;   // stream connection id; 0 for udp
    const ListenAddr* listener = nullptr;  // the listener it arrived on
};

// Next addresses a stream send may fall back to (SendTarget::alternates).
inline constexpr size_t kMaxAlternates = 4;

// Where a message should go.
struct SendTarget {
    Proto proto = Proto::Udp;
    SockAddr dst;
    uint32_t conn_id = 0;   // non-zero: use this stream connection if it is still open
    std::string host;       // the name the destination was given by (TLS SNI and name checks)
    const ListenAddr* from = nullptr;  // udp: leave from this listener (nullptr: the first of the family)
    // Streams: where to go instead, in order, when the connect to dst fails
    // (the next SRV targets); at most kMaxAlternates.
    std::vector<SockAddr> alternates{};
};

// What the proxy needs from the transports. Implementations must not block
// beyond the configured send timeouts.
class Sender {
public:
    virtual ~Sender() = default;
    // Sends (or queues, for streams) `data` to `t`. False when it cannot leave:
    // no listener of that proto/family, connection gone and no address, queue full.
    virtual bool send(const SendTarget& t, std::string_view data) = 0;
    // The listener a message of proto `p` to `dst` leaves from (its address
    // goes into our Via); nullptr when there is none of that proto and family.
    virtual const ListenAddr* pick_listener(Proto p, const SockAddr& dst) const = 0;
    // Every listener (for `myself` checks).
    virtual const std::vector<ListenAddr>& listeners() const = 0;
};

}  // namespace ser

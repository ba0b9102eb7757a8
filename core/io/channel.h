#pragma once
// Messages handed to the TCP worker that owns (or will open) a connection:
// one datagram per message over the worker's unix socketpair. Bounded by the
// socket buffer: when it is full the message is dropped and counted, never queued
// without limit.

#include "io/msg_io.h"
#include "net.h"
#include "proto.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// SendConn / SendAddr: data for a connection or an address; Close: close
// connection conn_id (serctl conn.close).
enum class ChanKind : uint8_t { SendConn = 1, SendAddr = 2, Close = 3 };

struct ChanMsg {
    ChanKind kind = ChanKind::SendAddr;
    Proto proto = Proto::Tcp;
    uint32_t conn_id = 0;
    int16_t from = -1;       // index of the listener a new connection leaves from; -1: any
    SockAddr dst;
    std::string_view host;   // decode: points into the datagram
    std::string_view data;   // decode: points into the datagram
    std::vector<SockAddr> alternates;   // SendTarget::alternates (at most kMaxAlternates)
};

struct Config;

// The largest channel datagram a config needs: a largest message plus header.
size_t chan_max_bytes(const Config& cfg);

// Sends `m` on channel fd (non-blocking); false when the channel is full or the
// message too large.
bool chan_send(int fd, const ChanMsg& m);
// Decodes one datagram; nullopt when it is malformed.
std::optional<ChanMsg> chan_decode(std::string_view dgram);

}  // namespace ser

// Stream framing for SIP over TCP/TLS (RFC 3261 §18.3, RFC 5626 §4.4.1).
//
// A message on a stream is its header block (up to the empty line) plus
// exactly Content-Length bytes of body; Content-Length is mandatory there.
// next_frame() is stateless: the caller keeps the unconsumed bytes and calls
// again after each read. Each call rescans from the start of buf, so the cost
// per call is O(min(buf.size(), max_msg_size)); with the size cap that keeps
// the total per message bounded by reads * max_msg_size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ser::sip {

enum class FrameStatus {
    NeedMore,  // no complete frame yet: read more and call again
    Message,   // a SIP message of `length` bytes starts buf
    Ping,      // CRLFCRLF keep-alive (length 4): consume, answer with one CRLF
    Pong,      // a lone CRLF (length 2): consume and ignore (peer's pong)
    Error,     // unframeable stream: close the connection, log `error`
};

struct Frame {
    FrameStatus status = FrameStatus::NeedMore;
    size_t length = 0;  // bytes at the start of buf that form this frame
    std::string error;  // set for Error only
};

// Finds the first frame at the start of buf. Only the header lines needed for
// framing are looked at (Content-Length or its compact form `l`); the message
// itself still has to go through parse_message(). A buffer that holds exactly
// one CRLF gives NeedMore with length 2: it is a pong or half of a ping, and a
// caller waiting for a pong may take it as one. Messages whose header block or
// whole size exceeds max_msg_size give Error.
Frame next_frame(std::string_view buf, size_t max_msg_size);

}  // namespace ser::sip

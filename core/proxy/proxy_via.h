#pragma once
// Private to proxy*.cpp: the Via parameters the proxy adds or reads, and the
// deterministic hashes behind our branch and local To tags.

#include "route/route_engine.h"
#include "sip/sip_msg.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// A change of the original buffer: replace [start, end) by text.
struct Splice {
    size_t start = 0;
    size_t end = 0;
    std::string text;
};

// The changes to the sender's (top) Via of the request in ctx: received= when
// its host is not the source IP or rport is asked (RFC 3261 §18.2.1, RFC
// 3581), the rport value when asked (or force_rport()), and, when alias is
// set and the request came on a stream connection, i=<connection id, hex>.
// Offsets are into ctx.buf, in ascending order; empty if the Via was removed.
std::vector<Splice> top_via_fixes(const MsgContext& ctx, bool alias);

// Our branch for forwarding the request in ctx: "z9hG4bK" + a hash of the
// incoming branch and sent-by (or of Call-ID, CSeq number, From tag,
// Request-URI and sent-by for pre-RFC 3261 peers) and the fork index. The
// method is left out, so a CANCEL gets the branch of its INVITE.
std::string make_branch(const MsgContext& ctx);

// A To tag for local replies: a hash of fields that every retransmission of
// a request repeats (Call-ID, From tag, CSeq, top Via...), so it is stable.
std::string hash_tag(std::initializer_list<std::string_view> parts);

// The value of parameter `name` of Via value v in buf: a null view when
// absent, an empty one when present without a value.
std::string_view via_param(std::string_view buf, const sip::Via& v, std::string_view name);

}  // namespace ser

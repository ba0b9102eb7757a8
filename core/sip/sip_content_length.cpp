// The one Content-Length rule of every transport (datagram parser and stream
// framer alike); see sip_msg.h.
#include "sip/sip_msg.h"

#include <cstdint>

namespace ser::sip {

ClenStatus parse_content_length(std::string_view value, uint64_t max, uint64_t& out)
{
    size_t i = 0, n = value.size();
    while (i < n && is_lws(value[i]))
        ++i;
    size_t digits = i;
    uint64_t v = 0;
    bool over = false;
    for (; i < n && value[i] >= '0' && value[i] <= '9'; ++i) {
        uint64_t d = static_cast<uint64_t>(value[i] - '0');
        // Saturate instead of wrapping: any digit past max keeps it over max.
        if (over || v > (max - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    bool any = i > digits;
    while (i < n && is_lws(value[i]))
        ++i;
    if (!any || i != n)
        return ClenStatus::Malformed;   // empty, sign, hex, inner space, junk
    if (over)
        return ClenStatus::TooLarge;
    out = v;
    return ClenStatus::Ok;
}

}  // namespace ser::sip

// libFuzzer target: the SIP parser (core/sip/sip_parser.cpp) on one message,
// then the helpers the proxy calls on what it parsed. A message that parses
// must keep every view inside the buffer and its body within it.
#include "sip/sip_msg.h"
#include "sip/sip_uri.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace ser;

namespace {

bool inside(std::string_view buf, std::string_view v)
{
    return v.data() == nullptr || v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // An exact-size heap copy: ASan sees any read past the end.
    std::string copy(reinterpret_cast<const char*>(data), size);
    std::string_view buf(copy);
    sip::SipMsg m;
    sip::ParseResult r = sip::parse_message(buf, m, 65535);
    if (!r.ok) {
        FUZZ_CHECK(!r.error.empty());
        return 0;
    }
    FUZZ_CHECK(m.headers_end <= buf.size());
    FUZZ_CHECK(m.body_end() <= buf.size());
    FUZZ_CHECK(m.headers.size() <= sip::kMaxHeaders);
    FUZZ_CHECK(m.vias.size() <= sip::kMaxVias);
    FUZZ_CHECK(inside(buf, m.method) && inside(buf, m.uri) && inside(buf, m.call_id) && inside(buf, m.body));
    for (const sip::Header& h : m.headers) {
        FUZZ_CHECK(h.start <= h.end && h.end <= buf.size());
        FUZZ_CHECK(inside(buf, h.name) && inside(buf, h.value));
        sip::header_param(h.value, "tag");
        if (h.type == sip::HdrType::Route || h.type == sip::HdrType::Contact || h.type == sip::HdrType::To) {
            std::string_view u = sip::strip_name_addr(h.value);
            FUZZ_CHECK(inside(buf, u));
            sip::SipUri su;
            if (sip::parse_uri(u, su)) {
                FUZZ_CHECK(inside(buf, su.host) && inside(buf, su.params));
                sip::uri_param(su.params, "lr");
            }
        }
        size_t pos = 0;
        std::string_view item;
        size_t n = 0;
        while (sip::next_value(h.value, pos, item)) {
            FUZZ_CHECK(inside(buf, item));
            FUZZ_CHECK(++n <= h.value.size() + 1);
        }
    }
    for (const sip::Via& v : m.vias) {
        FUZZ_CHECK(v.start <= v.end && v.end <= buf.size());
        FUZZ_CHECK(v.header_index < m.headers.size());
        FUZZ_CHECK(inside(buf, v.host) && inside(buf, v.branch));
    }
    sip::SipUri ru;
    if (m.is_request && sip::parse_uri(m.uri, ru))
        FUZZ_CHECK(inside(buf, ru.host) && inside(buf, ru.user) && inside(buf, ru.headers));
    return 0;
}

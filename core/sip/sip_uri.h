// SIP/SIPS/tel URI parsing (RFC 3261 §19.1, RFC 3966) and name-addr helpers.
// Zero-copy: every view points into the string given to the parser.
#pragma once

#include <cstdint>
#include <string_view>

namespace ser::sip {

// A parsed URI. Escapes (%41) are kept as written. For tel: URIs the number is
// in user and host is empty. params is the text after the first ';' of the
// URI parameters without that ';', headers the text after '?' without the '?'.
struct SipUri {
    std::string_view scheme;  // "sip", "sips" or "tel", case as written
    std::string_view user;
    std::string_view password;
    std::string_view host;    // an IPv6 reference keeps its brackets
    uint16_t port = 0;        // 0 when absent
    std::string_view params;
    std::string_view headers;
    std::string_view transport;  // value of ;transport=, empty if absent
    std::string_view maddr;      // value of ;maddr=, empty if absent
    bool lr = false;             // ;lr present (with or without a value)
};

// Parses s as a sip:, sips: or tel: URI into out (reset first). Returns false
// for other schemes, whitespace or control characters, an empty host or user,
// a bad port (empty, non-digit, 0 or above 65535) or a bad IPv6 reference.
bool parse_uri(std::string_view s, SipUri& out);

// Returns the URI of a name-addr (the text inside <...>) or, for an addr-spec,
// the text before the first ';' (those are header parameters, RFC 3261
// §20.10). Empty when a '<' has no '>' or a quoted display name is unclosed.
std::string_view strip_name_addr(std::string_view v);

// Returns the value of URI parameter `name` (case-insensitive) in params as
// found in SipUri::params. Absent: a default (null) view; present without a
// value: an empty view whose data() is not null.
std::string_view uri_param(std::string_view params, std::string_view name);

}  // namespace ser::sip

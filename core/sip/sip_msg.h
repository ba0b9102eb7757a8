// SIP message model and parser entry point (RFC 3261 §7, §20).
//
// Zero-copy: every string_view in SipMsg points into the buffer given to
// parse_message(), and every offset is relative to its first byte, so the
// buffer must outlive the SipMsg. The parser never reads outside the buffer
// and bounds its work (kMaxHeaders, kMaxVias); it reports malformed input as
// a ParseResult, never by throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ser::sip {

inline constexpr size_t kMaxHeaders = 256;  // more header fields: rejected
inline constexpr size_t kMaxVias = 64;      // more via-parms in total: rejected

enum class HdrType : uint8_t {
    Other,
    Via,
    From,
    To,
    CallId,
    CSeq,
    ContentLength,
    ContentType,
    MaxForwards,
    Route,
    RecordRoute,
    Contact,
};

// One header field. start..end covers the whole field in the buffer: the name,
// folded continuation lines and the final line ending. value is trimmed of
// surrounding whitespace but may still contain folds (CRLF + SP/HTAB).
struct Header {
    HdrType type = HdrType::Other;
    std::string_view name;
    std::string_view value;
    size_t start = 0;
    size_t end = 0;
};

// One via-parm. start..end is its extent in the buffer without the separating
// comma or whitespace; port is 0 when absent; an IPv6 host keeps its brackets.
// rport is empty when has_rport is set but the parameter carried no value.
struct Via {
    std::string_view transport;
    std::string_view host;
    uint16_t port = 0;
    std::string_view branch;
    std::string_view received;
    bool has_rport = false;
    std::string_view rport;
    size_t start = 0;
    size_t end = 0;
    size_t header_index = 0;  // index into SipMsg::headers
};

struct SipMsg {
    bool is_request = false;
    std::string_view method;   // requests only
    std::string_view uri;      // requests only
    std::string_view version;  // as written, e.g. "SIP/2.0"
    int status = 0;            // responses only
    std::string_view reason;   // responses only, may be empty
    std::vector<Header> headers;
    std::vector<Via> vias;     // every via-parm, top-most first
    std::string_view call_id;
    std::string_view cseq_method;
    std::string_view from_tag;  // empty when absent
    std::string_view to_tag;    // empty when absent
    uint32_t cseq_num = 0;
    int max_forwards = -1;      // -1 when absent
    long content_length = -1;   // -1 when absent
    size_t headers_end = 0;     // offset just past the empty line
    std::string_view body;

    // Offset just past the body: where the message ends inside the buffer it
    // was parsed from. Bytes after it (in a datagram) belong to no message.
    size_t body_end() const { return headers_end + body.size(); }

    // Returns the first header of type t, or nullptr. The pointer is valid
    // until headers is modified.
    const Header* find(HdrType t) const;
};

struct ParseResult {
    bool ok = false;
    std::string error;  // short reason such as "missing Call-ID" when !ok
};

// Parses one complete SIP message (a datagram, or a frame cut by
// next_frame()) into out, replacing its contents. Views in out point into buf.
// Line endings may be CRLF or bare LF (accepted for robustness; RFC 3261 says
// CRLF). The body is what follows the headers, cut to Content-Length when that
// is smaller (RFC 3261 §18.3: the bytes after it are not part of the message;
// body_end() says where it ends); a shorter body is an error, and so is a
// Content-Length above max_msg_size (the transport's limit).
ParseResult parse_message(std::string_view buf, SipMsg& out, size_t max_msg_size = SIZE_MAX);

// RFC 3261 §7.5: the CRLFs (or bare LFs) before the start line, which the
// parser ignores; returns how many bytes they take at the start of buf.
size_t leading_crlfs(std::string_view buf);

enum class ClenStatus { Ok, Malformed, TooLarge };

// The Content-Length rule of every transport: 1*DIGIT (leading zeros are
// fine) with optional linear whitespace around it; anything else (a sign,
// hex, an inner space, an empty value) is Malformed. A value above max is
// TooLarge however many digits it has: the arithmetic saturates, never wraps.
ClenStatus parse_content_length(std::string_view value, uint64_t max, uint64_t& out);

// Maps a header name (long or compact form, any case) to its HdrType;
// names this proxy does not interpret are HdrType::Other.
HdrType header_type(std::string_view name);

// Returns the value of header parameter `name` (case-insensitive) in the first
// value of a header such as From/To/Contact/Route: parameters after the '>' of
// a name-addr, never URI parameters inside it. A quoted value is returned
// without its quotes. Absent: a default (null) view; present without a value:
// an empty view whose data() is not null.
std::string_view header_param(std::string_view hvalue, std::string_view name);

// Steps through the comma-separated values of a header value, ignoring commas
// inside quoted strings and <...>. pos starts at 0; on true, item holds the
// next value (trimmed) and pos has moved past it. False when no value is left.
bool next_value(std::string_view hvalue, size_t& pos, std::string_view& item);

// Given v[i] == '"', returns the index just past the closing quote of that
// quoted-string (backslash escapes honoured), or npos when it is unterminated.
size_t skip_quoted(std::string_view v, size_t i);

// ASCII case-insensitive equality, as used for header names, parameter names
// and the SIP version.
bool iequals(std::string_view a, std::string_view b);

// True for the characters of an RFC 3261 token (alphanum and -.!%*_+`'~).
// A table, inline: the parser asks it for nearly every byte of a header.
namespace detail {
struct TokenTable {
    bool t[256] = {};
    constexpr TokenTable()
    {
        for (int c = 'a'; c <= 'z'; c++)
            t[c] = t[c - 'a' + 'A'] = true;
        for (int c = '0'; c <= '9'; c++)
            t[c] = true;
        for (char c : std::string_view("-.!%*_+`'~"))
            t[static_cast<unsigned char>(c)] = true;
    }
};
inline constexpr TokenTable kTokenChars;
}  // namespace detail
inline bool is_token_char(char c) { return detail::kTokenChars.t[static_cast<unsigned char>(c)]; }

// Given v[i], the start of a host — a name or IPv4 address (alphanumerics and
// "-._") or an IPv6 reference ("[" hex digits, ':' and '.' "]") — returns the
// index just past it; i itself when no well-formed host starts there.
size_t scan_host(std::string_view v, size_t i);

// True for linear whitespace inside a (possibly folded) header value:
// SP, HTAB, and the CR/LF of a fold.
inline bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace ser::sip

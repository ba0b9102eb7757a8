// Stream framing: cuts SIP messages and RFC 5626 keep-alives out of a TCP/TLS
// byte stream. See sip_framing.h for the contract.
#include "sip/sip_framing.h"

#include "sip/sip_msg.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ser::sip {

namespace {

constexpr size_t npos = std::string_view::npos;
constexpr const char* kTooLarge = "message larger than tcp_max_msg_size";

Frame make(FrameStatus status, size_t length)
{
    return Frame{status, length, {}};
}

Frame fail(const char* why)
{
    return Frame{FrameStatus::Error, 0, why};
}

// Offset just past the empty line that ends the header block, or npos. Bare
// LF line endings count too, matching parse_message().
size_t header_end(std::string_view buf)
{
    size_t i = 0;
    for (;;) {
        const void* p = std::memchr(buf.data() + i, '\n', buf.size() - i);
        if (p == nullptr)
            return npos;
        size_t lf = static_cast<size_t>(static_cast<const char*>(p) - buf.data());
        if (lf + 1 < buf.size() && buf[lf + 1] == '\n')
            return lf + 2;
        if (lf + 2 < buf.size() && buf[lf + 1] == '\r' && buf[lf + 2] == '\n')
            return lf + 3;
        i = lf + 1;
    }
}

// Looks at one (possibly folded) header field; when it is Content-Length,
// checks its value (sip_content_length.cpp: the rule datagrams follow too)
// and merges it into found/value. Returns an error or nullptr.
const char* check_field(std::string_view f, size_t max, bool& found, uint64_t& value)
{
    size_t i = 0;
    while (i < f.size() && is_token_char(f[i]))
        ++i;
    std::string_view name = f.substr(0, i);
    if (!iequals(name, "content-length") && !iequals(name, "l"))
        return nullptr;
    while (i < f.size() && (f[i] == ' ' || f[i] == '\t'))
        ++i;
    if (i >= f.size() || f[i] != ':')
        return nullptr;  // not a header line; parse_message() judges it
    uint64_t v = 0;
    switch (parse_content_length(f.substr(i + 1), max, v)) {
    case ClenStatus::Malformed: return "bad Content-Length on stream";
    case ClenStatus::TooLarge: return kTooLarge;
    case ClenStatus::Ok: break;
    }
    if (found && v != value)
        return "conflicting Content-Length on stream";
    found = true;
    value = v;
    return nullptr;
}

// Scans the header fields of block (start line skipped) for Content-Length.
const char* find_content_length(std::string_view block, size_t max, bool& found, uint64_t& value)
{
    size_t pos = block.find('\n');
    pos = pos == npos ? block.size() : pos + 1;
    while (pos < block.size()) {
        size_t end = block.find('\n', pos);
        if (end == npos)
            end = block.size();
        while (end + 1 < block.size() && (block[end + 1] == ' ' || block[end + 1] == '\t')) {
            end = block.find('\n', end + 1);
            if (end == npos)
                end = block.size();
        }
        if (const char* err = check_field(block.substr(pos, end - pos), max, found, value))
            return err;
        pos = end + 1;
    }
    return nullptr;
}

}  // namespace

Frame next_frame(std::string_view buf, size_t max_msg_size)
{
    if (buf.empty())
        return make(FrameStatus::NeedMore, 0);
    if (buf[0] == '\r') {
        if (buf.size() >= 4 && buf.substr(0, 4) == "\r\n\r\n")
            return make(FrameStatus::Ping, 4);
        if (buf.size() < 4 && std::string_view("\r\n\r\n").starts_with(buf))
            return make(FrameStatus::NeedMore, buf.size() >= 2 ? 2 : 0);
        if (buf.size() >= 2 && buf[1] == '\n')
            return make(FrameStatus::Pong, 2);
    }
    size_t limit = std::min(buf.size(), max_msg_size);
    size_t hend = header_end(buf.substr(0, limit));
    if (hend == npos)
        return buf.size() >= max_msg_size ? fail(kTooLarge) : make(FrameStatus::NeedMore, 0);
    bool found = false;
    uint64_t cl = 0;
    if (const char* err = find_content_length(buf.substr(0, hend), max_msg_size - hend, found, cl))
        return fail(err);
    if (!found)
        return fail("missing Content-Length on stream");
    if (cl > max_msg_size - hend)  // hend <= max_msg_size here
        return fail(kTooLarge);
    size_t total = hend + static_cast<size_t>(cl);
    if (buf.size() < total)
        return make(FrameStatus::NeedMore, 0);
    return make(FrameStatus::Message, total);
}

}  // namespace ser::sip

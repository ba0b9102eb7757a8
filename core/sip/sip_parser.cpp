// SIP message parser: start line, header block, and the headers a stateless
// proxy must understand (Via, From, To, Call-ID, CSeq, Max-Forwards,
// Content-Length). Zero-copy; see sip_msg.h for the contract.
#include "sip/sip_msg.h"

#include "sip/sip_uri.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

namespace ser::sip {

namespace {

constexpr size_t npos = std::string_view::npos;

// Extent of one physical line: [begin, content_end) without the line ending,
// next = offset just past its LF.
struct Line {
    size_t begin = 0;
    size_t content_end = 0;
    size_t next = 0;
};

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

void skip_lws(std::string_view v, size_t& i)
{
    while (i < v.size() && is_lws(v[i]))
        ++i;
}

std::string_view read_token(std::string_view v, size_t& i)
{
    size_t s = i;
    while (i < v.size() && is_token_char(v[i]))
        ++i;
    return v.substr(s, i - s);
}

// Parses a non-empty all-digit string no larger than max.
bool parse_uint(std::string_view s, uint64_t max, uint64_t& out)
{
    if (s.empty())
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c))
            return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
        if (v > max)  // checked every digit: v * 10 cannot wrap while max < UINT64_MAX / 10
            return false;
    }
    out = v;
    return true;
}

// True when every NUL in line is the escaped byte of a quoted-pair inside a
// quoted-string (RFC 3261 §25.1: quoted-pair = "\\" (%x00-09 / %x0B-0C /
// %x0E-7F)), the one place SIP allows one (RFC 4475 §3.1.1.2). A quoted-string
// continued on a folded line is not followed: a NUL there is refused.
bool nuls_quoted(std::string_view line)
{
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (c == '\0')
            return false;
        if (c == '"')
            quoted = !quoted;
        else if (c == '\\' && quoted)
            ++i;   // the escaped byte, NUL included
    }
    return true;
}

// Cuts the physical line starting at pos. Rejects NUL bytes (but an escaped
// one in a quoted-string) and a CR that is not part of the line's CRLF; a
// missing LF means the message is truncated.
const char* next_line(std::string_view buf, size_t pos, Line& ln)
{
    const char* p = buf.data() + pos;
    const void* lf = std::memchr(p, '\n', buf.size() - pos);
    if (lf == nullptr)
        return "missing end of headers";
    size_t lfi = static_cast<size_t>(static_cast<const char*>(lf) - buf.data());
    size_t cend = lfi;
    if (cend > pos && buf[cend - 1] == '\r')
        --cend;
    if (std::memchr(p, '\0', cend - pos) != nullptr && !nuls_quoted(buf.substr(pos, cend - pos)))
        return "NUL byte in header";
    if (std::memchr(p, '\r', cend - pos) != nullptr)
        return "bare CR in header";
    ln = Line{pos, cend, lfi + 1};
    return nullptr;
}

bool is_version(std::string_view v)
{
    return iequals(v, "SIP/2.0");  // case-insensitive per RFC 3261 §7.1
}

const char* parse_status_line(std::string_view line, SipMsg& m)
{
    size_t sp = line.find(' ');
    if (sp == npos)
        return "bad status line";
    m.version = line.substr(0, sp);
    if (!is_version(m.version))
        return "bad SIP version";
    std::string_view rest = line.substr(sp + 1);
    if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' '))
        return "bad status code";
    uint64_t code = 0;
    if (!parse_uint(rest.substr(0, 3), 999, code) || code < 100 || code > 699)
        return "bad status code";
    m.is_request = false;
    m.status = static_cast<int>(code);
    m.reason = rest.size() > 3 ? rest.substr(4) : rest.substr(3);
    return nullptr;
}

const char* parse_request_line(std::string_view line, SipMsg& m)
{
    size_t sp1 = line.find(' ');
    size_t sp2 = line.rfind(' ');
    if (sp1 == npos || sp1 == 0 || sp2 == sp1)
        return "bad request line";
    if (sp2 + 1 == line.size())
        return "whitespace after SIP version";   // RFC 4475 §3.1.2.10
    m.method = line.substr(0, sp1);
    for (char c : m.method)
        if (!is_token_char(c))
            return "invalid method";
    m.uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (m.uri.empty())
        return "bad Request-URI";
    for (char c : m.uri) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return "bad Request-URI";
    }
    // scheme ":" (RFC 3986 §3.1): a "<" or anything but a scheme first is no URI.
    size_t colon = m.uri.find(':');
    if (colon == npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(m.uri[0])))
        return "bad Request-URI";
    for (char c : m.uri.substr(0, colon))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
            return "bad Request-URI";
    // A SIP or SIPS Request-URI may not carry headers (RFC 3261 §19.1.5;
    // RFC 4475 §3.1.2.11): they would be taken for the request's own.
    std::string_view scheme = m.uri.substr(0, colon);
    // A '?' in the user part is a user character; '@' is escaped in headers.
    size_t at = m.uri.rfind('@');
    size_t host = at == npos ? colon : at;
    if ((iequals(scheme, "sip") || iequals(scheme, "sips")) && m.uri.find('?', host) != npos)
        return "headers in Request-URI";
    m.version = line.substr(sp2 + 1);
    if (!is_version(m.version))
        return "bad SIP version";
    m.is_request = true;
    return nullptr;
}

// Splits one header field [ln.begin, vend) into name and trimmed value.
const char* split_header(std::string_view buf, size_t begin, size_t vend, Header& h)
{
    size_t i = begin;
    while (i < vend && is_token_char(buf[i]))
        ++i;
    if (i == begin)
        return "bad header name";
    h.name = buf.substr(begin, i - begin);
    size_t name_end = i;
    while (i < vend && is_sp(buf[i]))
        ++i;
    if (i < vend && buf[i] != ':' && i == name_end)
        return "bad header name";  // e.g. "Bad@Name: x"
    if (i >= vend || buf[i] != ':')
        return "header without colon";
    ++i;
    while (i < vend && is_lws(buf[i]))
        ++i;
    size_t e = vend;
    while (e > i && is_lws(buf[e - 1]))
        --e;
    h.value = buf.substr(i, e - i);
    h.type = header_type(h.name);
    return nullptr;
}

// Reads header fields from pos up to and including the empty line.
const char* parse_header_block(std::string_view buf, size_t pos, SipMsg& m)
{
    for (;;) {
        if (pos >= buf.size())
            return "missing end of headers";
        Line ln;
        if (const char* err = next_line(buf, pos, ln))
            return err;
        if (ln.content_end == ln.begin) {
            m.headers_end = ln.next;
            return nullptr;
        }
        if (is_sp(buf[pos]))
            return "continuation line without header";
        size_t vend = ln.content_end;
        size_t next = ln.next;
        while (next < buf.size() && is_sp(buf[next])) {
            Line cont;
            if (const char* err = next_line(buf, next, cont))
                return err;
            vend = cont.content_end;
            next = cont.next;
        }
        if (m.headers.size() == kMaxHeaders)
            return "too many headers";
        Header h;
        if (const char* err = split_header(buf, pos, vend, h))
            return err;
        h.start = pos;
        h.end = next;
        m.headers.push_back(h);
        pos = next;
    }
}

// Reads a Via host (IPv6 reference kept with brackets) and optional port.
const char* parse_sent_by(std::string_view v, size_t& i, Via& via)
{
    size_t n = v.size();
    size_t hs = i;
    i = scan_host(v, hs);
    if (i == hs)
        return "bad Via host";
    via.host = v.substr(hs, i - hs);
    size_t k = i;
    skip_lws(v, k);
    if (k < n && v[k] == ':') {
        ++k;
        skip_lws(v, k);
        size_t ps = k;
        while (k < n && is_digit(v[k]))
            ++k;
        uint64_t port = 0;
        if (!parse_uint(v.substr(ps, k - ps), 65535, port) || port == 0)
            return "bad Via port";
        via.port = static_cast<uint16_t>(port);
        i = k;
    }
    return nullptr;
}

// Reads one via-params value: a quoted-string or a run of token/host chars.
bool read_param_value(std::string_view v, size_t& i, std::string_view& out)
{
    size_t s = i;
    if (i < v.size() && v[i] == '"') {
        size_t e = skip_quoted(v, i);
        if (e == npos)
            return false;
        out = v.substr(s + 1, e - s - 2);
        i = e;
        return true;
    }
    while (i < v.size() && (is_token_char(v[i]) || v[i] == ':' || v[i] == '[' || v[i] == ']'))
        ++i;
    out = v.substr(s, i - s);
    return i > s;
}

// Reads `;name[=value]` parameters after sent-by; i ends after the last one.
const char* parse_via_params(std::string_view v, size_t& i, Via& via)
{
    for (;;) {
        size_t k = i;
        skip_lws(v, k);
        if (k >= v.size() || v[k] != ';')
            return nullptr;
        ++k;
        skip_lws(v, k);
        std::string_view name = read_token(v, k);
        if (name.empty())
            return "bad Via parameter";
        i = k;
        std::string_view value = v.substr(k, 0);
        skip_lws(v, k);
        if (k < v.size() && v[k] == '=') {
            ++k;
            skip_lws(v, k);
            if (!read_param_value(v, k, value))
                return "bad Via parameter";
            i = k;
        }
        if (iequals(name, "branch"))
            via.branch = value;
        else if (iequals(name, "received"))
            via.received = value;
        else if (iequals(name, "rport")) {
            via.has_rport = true;
            via.rport = value;
        }
    }
}

// Reads one via-parm: SIP / 2.0 / transport LWS sent-by *(; via-params).
const char* parse_via_parm(std::string_view v, size_t& i, Via& via)
{
    // SLASH = SWS "/" SWS (RFC 3261 §25.1)
    auto slash = [&] {
        skip_lws(v, i);
        if (i >= v.size() || v[i] != '/')
            return false;
        ++i;
        skip_lws(v, i);
        return true;
    };
    if (!iequals(read_token(v, i), "SIP") || !slash())
        return "bad Via protocol";
    if (read_token(v, i) != "2.0")
        return "bad Via version";
    if (!slash())
        return "bad Via protocol";
    via.transport = read_token(v, i);
    if (via.transport.empty())
        return "bad Via transport";
    size_t ws = i;
    skip_lws(v, i);
    if (i == ws)
        return "bad Via header";
    if (const char* err = parse_sent_by(v, i, via))
        return err;
    return parse_via_params(v, i, via);
}

// Appends every via-parm of header k to m.vias.
const char* parse_via_header(std::string_view buf, size_t k, SipMsg& m)
{
    std::string_view v = m.headers[k].value;
    size_t base = static_cast<size_t>(v.data() - buf.data());
    size_t i = 0;
    for (;;) {
        skip_lws(v, i);
        if (i >= v.size())
            return "bad Via header";  // empty value or trailing comma
        if (m.vias.size() == kMaxVias)
            return "too many Via values";
        Via via;
        size_t s = i;
        if (const char* err = parse_via_parm(v, i, via))
            return err;
        via.start = base + s;
        via.end = base + i;
        via.header_index = k;
        m.vias.push_back(via);
        skip_lws(v, i);
        if (i >= v.size())
            return nullptr;
        if (v[i] != ',')
            return "bad Via header";
        ++i;
    }
}

bool valid_name_addr(std::string_view v)
{
    std::string_view uri = strip_name_addr(v);
    return !uri.empty() && uri.find(':') != npos;
}

const char* parse_cseq(std::string_view v, SipMsg& m)
{
    size_t i = 0;
    while (i < v.size() && is_digit(v[i]))
        ++i;
    uint64_t num = 0;
    if (!parse_uint(v.substr(0, i), 0x7fffffffu, num))  // < 2**31, RFC 3261 §8.1.1.5
        return "bad CSeq";
    size_t ws = i;
    skip_lws(v, i);
    bool separated = i > ws;
    std::string_view method = read_token(v, i);
    if (!separated || method.empty() || i != v.size())
        return "bad CSeq";
    m.cseq_num = static_cast<uint32_t>(num);
    m.cseq_method = method;
    return nullptr;
}

// Per-message bookkeeping of the single-instance headers.
struct Seen {
    bool from = false, to = false, call_id = false, cseq = false, max_forwards = false;
    uint64_t max_clen = 0;   // largest Content-Length the transport allows
};

const char* once(bool& seen, const char* dup_error)
{
    if (seen)
        return dup_error;
    seen = true;
    return nullptr;
}

// Interprets the header at index k; typed fields of m are filled in.
const char* interpret_header(std::string_view buf, size_t k, SipMsg& m, Seen& seen)
{
    const Header& h = m.headers[k];
    const char* err = nullptr;
    uint64_t n = 0;
    switch (h.type) {
    case HdrType::Via:
        return parse_via_header(buf, k, m);
    case HdrType::From:
        if ((err = once(seen.from, "multiple From headers")))
            return err;
        m.from_tag = header_param(h.value, "tag");
        return valid_name_addr(h.value) ? nullptr : "bad From header";
    case HdrType::To:
        if ((err = once(seen.to, "multiple To headers")))
            return err;
        m.to_tag = header_param(h.value, "tag");
        return valid_name_addr(h.value) ? nullptr : "bad To header";
    case HdrType::CallId:
        if ((err = once(seen.call_id, "multiple Call-ID headers")))
            return err;
        m.call_id = h.value;
        for (char c : h.value)
            if (is_lws(c))
                return "bad Call-ID";
        return h.value.empty() ? "bad Call-ID" : nullptr;
    case HdrType::CSeq:
        if ((err = once(seen.cseq, "multiple CSeq headers")))
            return err;
        return parse_cseq(h.value, m);
    case HdrType::MaxForwards:
        if ((err = once(seen.max_forwards, "multiple Max-Forwards headers")))
            return err;
        if (!parse_uint(h.value, 255, n))
            return "bad Max-Forwards";
        m.max_forwards = static_cast<int>(n);
        return nullptr;
    case HdrType::ContentLength:
        switch (parse_content_length(h.value, seen.max_clen, n)) {
        case ClenStatus::Malformed: return "bad Content-Length";
        case ClenStatus::TooLarge: return "Content-Length over the maximum message size";
        case ClenStatus::Ok: break;
        }
        if (m.content_length >= 0 && m.content_length != static_cast<long>(n))
            return "conflicting Content-Length headers";
        m.content_length = static_cast<long>(n);
        return nullptr;
    default:
        return nullptr;
    }
}

const char* interpret_headers(std::string_view buf, SipMsg& m, size_t max_msg_size)
{
    Seen seen;
    seen.max_clen = std::min<uint64_t>(max_msg_size, std::numeric_limits<long>::max());
    for (size_t k = 0; k < m.headers.size(); ++k)
        if (const char* err = interpret_header(buf, k, m, seen))
            return err;
    if (m.vias.empty())
        return "missing Via";
    if (!seen.from)
        return "missing From";
    if (!seen.to)
        return "missing To";
    if (!seen.call_id)
        return "missing Call-ID";
    if (!seen.cseq)
        return "missing CSeq";
    if (m.is_request && m.cseq_method != m.method)
        return "CSeq method does not match request method";
    return nullptr;
}

const char* parse_all(std::string_view buf, SipMsg& m, size_t max_msg_size)
{
    size_t pos = leading_crlfs(buf);
    if (pos >= buf.size())
        return "empty message";
    Line first;
    if (const char* err = next_line(buf, pos, first))
        return err;
    std::string_view line = buf.substr(first.begin, first.content_end - first.begin);
    const char* err = (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/"))
                          ? parse_status_line(line, m)
                          : parse_request_line(line, m);
    if (err)
        return err;
    if ((err = parse_header_block(buf, first.next, m)))
        return err;
    if ((err = interpret_headers(buf, m, max_msg_size)))
        return err;
    size_t avail = buf.size() - m.headers_end;
    if (m.content_length < 0) {
        m.body = buf.substr(m.headers_end);
    } else if (static_cast<unsigned long>(m.content_length) > avail) {
        return "body shorter than Content-Length";
    } else {
        m.body = buf.substr(m.headers_end, static_cast<size_t>(m.content_length));
    }
    return nullptr;
}

}  // namespace

size_t leading_crlfs(std::string_view buf)
{
    size_t pos = 0;
    while (pos < buf.size() &&
           (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < buf.size() && buf[pos + 1] == '\n')))
        pos += buf[pos] == '\n' ? 1 : 2;
    return pos;
}

ParseResult parse_message(std::string_view buf, SipMsg& out, size_t max_msg_size)
{
    // Reuse the vectors' capacity across messages; reset everything else.
    std::vector<Header> headers = std::move(out.headers);
    std::vector<Via> vias = std::move(out.vias);
    headers.clear();
    vias.clear();
    out = SipMsg{};
    out.headers = std::move(headers);
    out.vias = std::move(vias);
    // A fresh SipMsg (one per message in the proxy) grows once, not five
    // times: a typical request has 10-20 headers and a Via or two.
    out.headers.reserve(24);
    out.vias.reserve(4);
    if (const char* err = parse_all(buf, out, max_msg_size))
        return ParseResult{false, err};
    return ParseResult{true, {}};
}

const Header* SipMsg::find(HdrType t) const
{
    for (const Header& h : headers)
        if (h.type == t)
            return &h;
    return nullptr;
}

}  // namespace ser::sip

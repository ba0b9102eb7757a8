// URI parsing, plus the lexical and header-value helpers declared in
// sip_msg.h (header_type, iequals, is_token_char, scan_host, header_param,
// next_value, skip_quoted): the name-addr ones walk the same display-name / <URI> /
// ;params structure as strip_name_addr().
#include "sip/sip_uri.h"

#include "sip/sip_msg.h"

#include <cctype>
#include <cstring>

namespace ser::sip {

namespace {

constexpr size_t npos = std::string_view::npos;

bool is_hex(char c)
{
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// Printable ASCII only, and every '%' starts a two-digit hex escape.
bool valid_uri_chars(std::string_view s)
{
    for (size_t i = 0; i < s.size(); ++i) {
        auto u = static_cast<unsigned char>(s[i]);
        if (u <= 0x20 || u >= 0x7f)
            return false;
        if (s[i] == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])))
            return false;
    }
    return true;
}

// Reads host [":" port] from the start of hp; i ends just after it.
bool parse_hostport(std::string_view hp, size_t& i, SipUri& out)
{
    size_t n = hp.size();
    i = scan_host(hp, 0);
    if (i == 0)
        return false;
    out.host = hp.substr(0, i);
    if (i < n && hp[i] == ':') {
        size_t ps = ++i;
        uint32_t port = 0;
        while (i < n && hp[i] >= '0' && hp[i] <= '9' && i - ps < 6)
            port = port * 10 + static_cast<uint32_t>(hp[i++] - '0');
        if (i == ps || port == 0 || port > 65535)
            return false;
        out.port = static_cast<uint16_t>(port);
    }
    return true;
}

// tel:number[;params] (RFC 3966); the number goes to user.
bool parse_tel(std::string_view rest, SipUri& out)
{
    size_t semi = rest.find(';');
    out.user = rest.substr(0, semi);
    if (semi != npos)
        out.params = rest.substr(semi + 1);
    return !out.user.empty();
}

// Index of the ';' that starts the header parameters of the first value of a
// From/To/Contact-style header value, or npos.
size_t params_start(std::string_view v)
{
    size_t i = 0;
    while (i < v.size()) {
        char c = v[i];
        if (c == '"') {
            i = skip_quoted(v, i);
            if (i == npos)
                return npos;
        } else if (c == '<') {
            size_t e = v.find('>', i + 1);
            if (e == npos)
                return npos;
            for (i = e + 1; i < v.size() && v[i] != ';'; ++i)
                if (v[i] == ',')
                    return npos;
            return i < v.size() ? i : npos;
        } else if (c == ';') {
            return i;
        } else if (c == ',') {
            return npos;
        } else {
            ++i;
        }
    }
    return npos;
}

}  // namespace

size_t scan_host(std::string_view v, size_t i)
{
    if (i < v.size() && v[i] == '[') {
        size_t close = v.find(']', i);
        if (close == npos || close == i + 1)
            return i;
        for (size_t k = i + 1; k < close; ++k)
            if (!is_hex(v[k]) && v[k] != ':' && v[k] != '.')
                return i;
        return close + 1;
    }
    auto host_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_';
    };
    size_t e = i;
    while (e < v.size() && host_char(v[e]))
        ++e;
    return e;
}

bool parse_uri(std::string_view s, SipUri& out)
{
    out = SipUri{};
    if (!valid_uri_chars(s))
        return false;
    size_t colon = s.find(':');
    if (colon == npos || colon == 0)
        return false;
    out.scheme = s.substr(0, colon);
    std::string_view rest = s.substr(colon + 1);
    if (iequals(out.scheme, "tel"))
        return parse_tel(rest, out);
    if (!iequals(out.scheme, "sip") && !iequals(out.scheme, "sips"))
        return false;
    // '@' may not appear unescaped in parameters or headers, so the first
    // one ends the userinfo.
    size_t at = rest.find('@');
    if (at != npos) {
        std::string_view userinfo = rest.substr(0, at);
        size_t pc = userinfo.find(':');
        out.user = userinfo.substr(0, pc);
        if (pc != npos)
            out.password = userinfo.substr(pc + 1);
        if (out.user.empty())
            return false;
        rest = rest.substr(at + 1);
    }
    size_t i = 0;
    if (!parse_hostport(rest, i, out))
        return false;
    if (i < rest.size() && rest[i] == ';') {
        size_t q = rest.find('?', i);
        size_t pe = q == npos ? rest.size() : q;
        out.params = rest.substr(i + 1, pe - i - 1);
        i = pe;
    }
    if (i < rest.size() && rest[i] == '?') {
        out.headers = rest.substr(i + 1);
        i = rest.size();
    }
    if (i != rest.size())
        return false;
    out.transport = uri_param(out.params, "transport");
    out.maddr = uri_param(out.params, "maddr");
    out.lr = uri_param(out.params, "lr").data() != nullptr;
    return true;
}

std::string_view uri_param(std::string_view params, std::string_view name)
{
    size_t i = 0;
    while (i < params.size()) {
        size_t e = params.find(';', i);
        if (e == npos)
            e = params.size();
        std::string_view p = params.substr(i, e - i);
        size_t eq = p.find('=');
        if (iequals(p.substr(0, eq), name))
            return eq == npos ? params.substr(e, 0) : p.substr(eq + 1);
        i = e + 1;
    }
    return {};
}

std::string_view strip_name_addr(std::string_view v)
{
    size_t i = 0;
    while (i < v.size() && is_lws(v[i]))
        ++i;
    size_t s = i;
    bool quoted = false;
    while (i < v.size()) {
        char c = v[i];
        if (c == '"') {
            i = skip_quoted(v, i);
            if (i == npos)
                return {};
            quoted = true;
        } else if (c == '<') {
            size_t e = v.find('>', i + 1);
            if (e == npos)
                return {};
            return v.substr(i + 1, e - i - 1);
        } else if (c == ';' || c == ',') {
            break;
        } else {
            ++i;
        }
    }
    size_t e = i;
    while (e > s && is_lws(v[e - 1]))
        --e;
    std::string_view spec = v.substr(s, e - s);
    // A display name without <...>, or whitespace inside, is no addr-spec.
    for (char c : spec)
        if (is_lws(c))
            return {};
    return quoted ? std::string_view{} : spec;
}

std::string_view header_param(std::string_view v, std::string_view name)
{
    size_t i = params_start(v);
    while (i < v.size() && v[i] == ';') {
        ++i;
        while (i < v.size() && is_lws(v[i]))
            ++i;
        size_t ns = i;
        while (i < v.size() && is_token_char(v[i]))
            ++i;
        std::string_view pname = v.substr(ns, i - ns);
        while (i < v.size() && is_lws(v[i]))
            ++i;
        std::string_view value = v.substr(i, 0);
        if (i < v.size() && v[i] == '=') {
            ++i;
            while (i < v.size() && is_lws(v[i]))
                ++i;
            size_t vs = i;
            if (i < v.size() && v[i] == '"') {
                i = skip_quoted(v, i);
                if (i == npos)
                    return {};
                value = v.substr(vs + 1, i - vs - 2);
            } else {
                while (i < v.size() && !is_lws(v[i]) && v[i] != ';' && v[i] != ',')
                    ++i;
                value = v.substr(vs, i - vs);
            }
        }
        if (!pname.empty() && iequals(pname, name))
            return value;
        // Skip anything malformed up to the next parameter or value.
        while (i < v.size() && v[i] != ';' && v[i] != ',') {
            i = v[i] == '"' ? skip_quoted(v, i) : i + 1;
            if (i == npos)
                return {};
        }
    }
    return {};
}

bool next_value(std::string_view v, size_t& pos, std::string_view& item)
{
    size_t i = pos;
    while (i < v.size() && (is_lws(v[i]) || v[i] == ','))
        ++i;
    if (i >= v.size()) {
        pos = v.size();
        return false;
    }
    size_t s = i;
    while (i < v.size() && v[i] != ',') {
        if (v[i] == '"') {
            i = skip_quoted(v, i);
        } else if (v[i] == '<') {
            i = v.find('>', i + 1);
            if (i != npos)
                ++i;
        } else {
            ++i;
        }
        if (i == npos)
            i = v.size();  // unterminated: the rest is one (malformed) value
    }
    size_t e = i;
    while (e > s && is_lws(v[e - 1]))
        --e;
    item = v.substr(s, e - s);
    pos = i;
    return true;
}

size_t skip_quoted(std::string_view v, size_t i)
{
    for (++i; i < v.size(); ++i) {
        if (v[i] == '\\')
            ++i;
        else if (v[i] == '"')
            return i + 1;
    }
    return npos;
}

HdrType header_type(std::string_view name)
{
    struct Entry {
        std::string_view name;
        HdrType type;
    };
    static constexpr Entry kNames[] = {
        {"via", HdrType::Via},           {"v", HdrType::Via},
        {"from", HdrType::From},         {"f", HdrType::From},
        {"to", HdrType::To},             {"t", HdrType::To},
        {"call-id", HdrType::CallId},    {"i", HdrType::CallId},
        {"cseq", HdrType::CSeq},         {"content-length", HdrType::ContentLength},
        {"l", HdrType::ContentLength},   {"content-type", HdrType::ContentType},
        {"c", HdrType::ContentType},     {"max-forwards", HdrType::MaxForwards},
        {"route", HdrType::Route},       {"record-route", HdrType::RecordRoute},
        {"contact", HdrType::Contact},   {"m", HdrType::Contact},
    };
    for (const Entry& e : kNames)
        if (iequals(name, e.name))
            return e.type;
    return HdrType::Other;
}

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

}  // namespace ser::sip

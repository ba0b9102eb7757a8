// sipload: parsing what the client needs of a SIP message, stream framing,
// and the buffer messages are built in.
#include <cerrno>
#include <cstring>
#include <ctime>

#include "sipload.h"

namespace sipload {

int64_t now_us() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void wait_tick(int tick_us) {
    if (tick_us <= 0) return;
    int64_t next = (now_us() / tick_us + 1) * tick_us;
    timespec ts{next / 1000000, (next % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !g_stop) {
    }
}

const char* proto_upper(Proto p) { return p == Proto::udp ? "UDP" : p == Proto::tcp ? "TCP" : "TLS"; }

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
    return v;
}

long to_long(std::string_view v) {
    long n = 0;
    bool any = false;
    for (char c : v) {
        if (c < '0' || c > '9') break;
        n = n * 10 + (c - '0');
        any = true;
    }
    return any ? n : -1;
}

// Content-Length of a header block, -1 if absent.
long content_length(std::string_view hdrs) {
    size_t pos = 0;
    while (pos < hdrs.size()) {
        size_t eol = hdrs.find('\n', pos);
        if (eol == std::string_view::npos) eol = hdrs.size();
        std::string_view line = hdrs.substr(pos, eol - pos);
        pos = eol + 1;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon));
        if (iequal(name, "content-length") || iequal(name, "l")) return to_long(trim(line.substr(colon + 1)));
    }
    return -1;
}

// The tag parameter of a From/To value.
std::string_view tag_of(std::string_view v) {
    size_t gt = v.rfind('>');
    size_t p = v.find(";tag=", gt == std::string_view::npos ? 0 : gt);
    if (p == std::string_view::npos) return {};
    std::string_view t = v.substr(p + 5);
    size_t end = t.find_first_of(";, \t");
    return end == std::string_view::npos ? t : t.substr(0, end);
}

void header(std::string_view line, std::string_view name, std::string_view value, Msg& out) {
    if (name.size() == 1) {  // compact forms
        switch (lower(name[0])) {
        case 'v': name = "via"; break;
        case 'i': name = "call-id"; break;
        case 'f': name = "from"; break;
        case 't': name = "to"; break;
        default: return;
        }
    }
    if (iequal(name, "via")) {
        if (out.nvias < 16) out.vias[out.nvias++] = line;
    } else if (iequal(name, "call-id")) {
        out.call_id = value;
    } else if (iequal(name, "cseq")) {
        out.cseq = to_long(value);
        size_t sp = value.find(' ');
        if (sp != std::string_view::npos) out.cseq_method = trim(value.substr(sp + 1));
    } else if (iequal(name, "from")) {
        out.from = value;
    } else if (iequal(name, "to")) {
        out.to = value;
        out.to_tag = tag_of(value);
    }
}

}  // namespace

bool parse(std::string_view m, Msg& out) {
    out = Msg{};
    while (m.starts_with("\r\n")) m.remove_prefix(2);
    size_t hdr_end = m.find("\r\n\r\n");
    if (hdr_end == std::string_view::npos) return false;
    out.body = m.substr(hdr_end + 4);
    std::string_view hdrs = m.substr(0, hdr_end + 2);
    size_t eol = hdrs.find("\r\n");
    std::string_view first = hdrs.substr(0, eol);
    if (first.starts_with("SIP/2.0 ")) {
        out.response = true;
        out.status = static_cast<int>(to_long(first.substr(8)));
    } else {
        size_t sp = first.find(' ');
        if (sp == std::string_view::npos || !first.ends_with(" SIP/2.0")) return false;
        out.method = first.substr(0, sp);
    }
    size_t pos = eol + 2;
    while (pos < hdrs.size()) {
        size_t next = hdrs.find("\r\n", pos);
        if (next == std::string_view::npos) break;
        std::string_view line = hdrs.substr(pos, next + 2 - pos);
        pos = next + 2;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        std::string_view name = trim(line.substr(0, colon));
        if (name.empty()) continue;
        header(line, name, trim(line.substr(colon + 1)), out);
    }
    return !out.call_id.empty() && out.cseq >= 0 && (out.response ? out.status >= 100 : true);
}

long frame(std::string_view buf, size_t limit) {
    size_t skip = 0;
    while (buf.size() - skip >= 2 && buf[skip] == '\r' && buf[skip + 1] == '\n') skip += 2;
    size_t hdr_end = buf.find("\r\n\r\n", skip);
    if (hdr_end == std::string_view::npos) return buf.size() - skip > limit ? -1 : 0;
    long cl = content_length(buf.substr(skip, hdr_end + 2 - skip));
    if (cl < 0) return -1;
    size_t total = hdr_end + 4 + static_cast<size_t>(cl);
    if (total > limit + skip) return -1;
    return buf.size() >= total ? static_cast<long>(total) : 0;
}

Out& Out::s(std::string_view v) {
    size_t k = v.size() < sizeof buf - n ? v.size() : sizeof buf - n;
    std::memcpy(buf + n, v.data(), k);
    n += k;
    return *this;
}

Out& Out::num(long v) {
    char tmp[24];
    int k = 0;
    bool neg = v < 0;
    unsigned long u = neg ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
    do {
        tmp[k++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) tmp[k++] = '-';
    while (k > 0 && n < sizeof buf) buf[n++] = tmp[--k];
    return *this;
}

}  // namespace sipload

// Local replies of the proxy (sl_send_reply, error replies) and the 400 for
// a request that did not parse but still names who to answer.
#include "proxy/proxy.h"
#include "proxy/proxy_via.h"

#include "log.h"

#include <utility>

#ifndef SER_VERSION
#define SER_VERSION "dev"
#endif

namespace ser {
namespace {

// The headers a reply copies from its request, as raw values.
struct ReplyHeaders {
    std::vector<std::string> vias;   // each Via header value, top first
    std::string from, to, call_id, cseq;
};

// A reason phrase may not hold line breaks (it comes from the script or a parse error).
std::string clean_reason(std::string_view r)
{
    std::string s(r);
    for (char& c : s)
        if (c == '\r' || c == '\n' || c == '\0')
            c = ' ';
    return s;
}

std::string format_reply(int code, std::string_view reason, const ReplyHeaders& h, bool server)
{
    std::string out = "SIP/2.0 " + std::to_string(code) + " " + clean_reason(reason) + "\r\n";
    for (const std::string& v : h.vias)
        out += "Via: " + v + "\r\n";
    out += "From: " + h.from + "\r\n";
    out += "To: " + h.to + "\r\n";
    out += "Call-ID: " + h.call_id + "\r\n";
    out += "CSeq: " + h.cseq + "\r\n";
    if (server)
        out += "Server: ser (" SER_VERSION ")\r\n";
    out += "Content-Length: 0\r\n\r\n";
    return out;
}

// Where a reply to the request with top Via v goes (RFC 3261 §18.2.2, RFC
// 3581): the same connection for streams; else the source IP, at the source
// port when rport was asked and at the Via port otherwise.
SendTarget reply_target(const RecvInfo& ri, const sip::Via* v, bool force_rport)
{
    SendTarget t{ri.proto, ri.src, 0, {}};
    t.from = ri.listener;   // a reply leaves from where the request came in
    if (proto_is_stream(ri.proto)) {
        // The same connection; if it is gone, a new one to the Via's port
        // at the source address (RFC 3261 §18.2.2), not to its ephemeral port.
        t.conn_id = ri.conn_id;
        if (v)
            t.dst.set_port(v->port ? v->port : proto_default_port(ri.proto));
        return t;
    }
    if (v && !v->has_rport && !force_rport)
        t.dst.set_port(v->port ? v->port : proto_default_port(ri.proto));
    return t;
}

// Header lines of a message that failed to parse: folded lines joined, names
// kept. False when a line holds bytes no reply may carry.
bool raw_headers(std::string_view buf, size_t pos, std::vector<sip::Header>& out)
{
    while (pos < buf.size() && out.size() < sip::kMaxHeaders) {
        size_t lf = buf.find('\n', pos);
        size_t end = lf == std::string_view::npos ? buf.size() : lf;
        std::string_view line = buf.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        pos = lf == std::string_view::npos ? buf.size() : lf + 1;
        if (line.empty())
            return true;
        for (char c : line)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return false;
        if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
            const char* vs = out.back().value.data();
            out.back().value = std::string_view(vs, static_cast<size_t>(line.data() + line.size() - vs));
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            continue;
        sip::Header h;
        h.name = line.substr(0, colon);
        while (!h.name.empty() && (h.name.back() == ' ' || h.name.back() == '\t'))
            h.name.remove_suffix(1);
        h.value = line.substr(colon + 1);
        while (!h.value.empty() && (h.value.front() == ' ' || h.value.front() == '\t'))
            h.value.remove_prefix(1);
        h.type = sip::header_type(h.name);
        out.push_back(h);
    }
    return true;
}

// True for a parse error of a header a 400 copies from its request as it came.
bool copied_defect(std::string_view error)
{
    for (std::string_view e : {"bad From header", "bad To header", "bad Call-ID", "bad CSeq"})
        if (error == e)
            return true;
    return false;
}

// Recovers Via, From, To, Call-ID and CSeq of a request that did not parse.
bool recover_headers(std::string_view buf, ReplyHeaders& rh, bool& is_ack)
{
    size_t pos = 0;
    while (pos < buf.size() && (buf[pos] == '\r' || buf[pos] == '\n'))
        ++pos;
    size_t eol = buf.find('\n', pos);
    std::string_view first = buf.substr(pos, eol == std::string_view::npos ? buf.size() - pos : eol - pos);
    size_t sp = first.find(' ');
    if (eol == std::string_view::npos || sp == 0 || sp == std::string_view::npos ||
        (first.size() >= 4 && sip::iequals(first.substr(0, 4), "SIP/")))
        return false;  // a response, or no request line at all
    for (char c : first.substr(0, sp))
        if (!sip::is_token_char(c))
            return false;
    is_ack = sip::iequals(first.substr(0, sp), "ACK");
    std::vector<sip::Header> hs;
    if (!raw_headers(buf, eol + 1, hs))
        return false;
    for (const sip::Header& h : hs) {
        std::string v(h.value);
        switch (h.type) {
        case sip::HdrType::Via: rh.vias.push_back(v); break;
        case sip::HdrType::From: rh.from = rh.from.empty() ? v : rh.from; break;
        case sip::HdrType::To: rh.to = rh.to.empty() ? v : rh.to; break;
        case sip::HdrType::CallId: rh.call_id = rh.call_id.empty() ? v : rh.call_id; break;
        case sip::HdrType::CSeq: rh.cseq = rh.cseq.empty() ? v : rh.cseq; break;
        default: break;
        }
    }
    return !rh.vias.empty() && !rh.from.empty() && !rh.to.empty() && !rh.call_id.empty() && !rh.cseq.empty();
}

bool has(std::string_view s, std::string_view part)
{
    return s.find(part) != std::string_view::npos;
}

}  // namespace

InvalidReason invalid_reason(std::string_view error)
{
    using R = InvalidReason;
    if (error.starts_with("multiple ") || error.starts_with("conflicting "))
        return R::Duplicate;
    if (error.starts_with("too many "))
        return R::TooMany;
    if (has(error, "CSeq method"))
        return R::CSeqMethod;
    if (has(error, "body shorter"))
        return R::Body;
    static constexpr std::pair<std::string_view, R> kByHeader[] = {
        {"Content-Length", R::ContentLength}, {"Request-URI", R::RequestUri}, {"Via", R::Via},
        {"From", R::From}, {" To", R::To}, {"Call-ID", R::CallId}, {"CSeq", R::CSeq},
        {"Max-Forwards", R::MaxForwards}, {"request line", R::StartLine}, {"status", R::StartLine},
        {"SIP version", R::StartLine}, {"method", R::StartLine}, {"whitespace after", R::StartLine},
    };
    for (const auto& [part, r] : kByHeader)
        if (has(error, part))
            return r;
    return R::Bytes;   // NUL, bare CR, header name or colon, truncated, empty
}

std::string Proxy::build_reply(const MsgContext& ctx, int code, std::string_view reason) const
{
    const sip::SipMsg& m = ctx.msg;
    ReplyHeaders rh;
    std::vector<Splice> fixes = top_via_fixes(ctx, false);
    for (size_t k = 0; k < m.headers.size(); ++k) {
        const sip::Header& h = m.headers[k];
        std::string v(h.value);
        size_t base = static_cast<size_t>(h.value.data() - ctx.buf.data());
        if (h.type == sip::HdrType::Via && k == m.vias[0].header_index && !fixes.empty()) {
            sip::Edits e;
            for (const Splice& s : fixes)
                e.replace(s.start - base, s.end - base, s.text);
            if (!e.apply(h.value, v))
                v = std::string(h.value);
        }
        switch (h.type) {
        case sip::HdrType::Via: rh.vias.push_back(std::move(v)); break;
        case sip::HdrType::From: rh.from = std::move(v); break;
        case sip::HdrType::To: rh.to = std::move(v); break;
        case sip::HdrType::CallId: rh.call_id = std::move(v); break;
        case sip::HdrType::CSeq: rh.cseq = std::move(v); break;
        default: break;
        }
    }
    if (m.to_tag.data() == nullptr && code > 100)
        rh.to += ";tag=" + hash_tag({m.call_id, m.from_tag, std::to_string(m.cseq_num), m.vias[0].branch,
                                     m.vias[0].host});
    return format_reply(code, reason, rh, cfg_.server_signature);
}

int Proxy::reply(MsgContext& ctx, int code, std::string_view reason)
{
    if (!ctx.msg.is_request || ctx.is_ack()) {
        LOG_DBG("no local reply to an ACK or a response");
        return -1;
    }
    if (code < 100 || code > 699)
        code = 500;
    std::string out = build_reply(ctx, code, reason);
    if (!send(reply_target(ctx.ri, &ctx.msg.vias[0], ctx.force_rport), out))
        return -1;
    stats_.count(Stat::RepliedLocally);
    ctx.replied = true;
    return 1;
}

void Proxy::on_bad_message(std::string_view buf, const RecvInfo& ri, const std::string& error)
{
    InvalidReason why = invalid_reason(error);
    // One info line per message, with the peer (info is not flood-limited by design).
    auto drop = [&](const char* because) {
        LOG_INFO_LIMITED("invalid message from %s %s dropped (%s): %s", std::string(proto_name(ri.proto)).c_str(),
                 ri.src.str().c_str(), because, error.c_str());
        stats_.count(DropReason::Malformed);
        stats_.invalid(why, false);
    };
    ReplyHeaders rh;
    bool is_ack = false;
    if (!recover_headers(buf, rh, is_ack))
        return drop("a response, or no request line, Via, From, To, Call-ID and CSeq to answer with");
    if (is_ack)
        return drop("an ACK gets no reply");
    if (!cfg_.reply_to_invalid)
        return drop("reply_to_invalid=no");
    if (sip::header_param(rh.to, "tag").data() == nullptr)
        rh.to += ";tag=" + hash_tag({rh.call_id, rh.from, rh.cseq, rh.vias[0]});
    std::string out = format_reply(400, "Bad Request (" + error + ")", rh, cfg_.server_signature);
    // Send only what parses, but for the client's own From, To, Call-ID or
    // CSeq copied back (RFC 4475 §3.1.2.4, .6, .15: those are what it
    // matches the answer by); a broken Via would leave no way back.
    sip::SipMsg check;
    sip::ParseResult pr = sip::parse_message(out, check);
    if (!pr.ok && (check.vias.empty() || !copied_defect(pr.error)))
        return drop("no valid reply possible");
    LOG_INFO_LIMITED("invalid request from %s %s: %s; answering 400", std::string(proto_name(ri.proto)).c_str(),
             ri.src.str().c_str(), error.c_str());
    const sip::Via* top = check.vias.empty() ? nullptr : &check.vias[0];
    if (!send(reply_target(ri, top, false), out)) {
        stats_.count(DropReason::SendFailure);
        stats_.invalid(why, false);
        return;
    }
    stats_.count(Stat::RepliedLocally);
    stats_.invalid(why, true);
}

}  // namespace ser

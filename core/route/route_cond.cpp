// Conditions of if (...): compiled once (regexes, addresses, networks,
// numbers), then tested per message. String equality is case-insensitive, as
// SER compared method and uri.
#include "log.h"
#include "route/route_program.h"
#include "sip/sip_uri.h"

#include <arpa/inet.h>

#include <cstring>

namespace ser {
namespace {

using cfg::Operand;
using VK = cfg::Value::Kind;

CmpOp to_op(const std::string& s)
{
    if (s == "!=") return CmpOp::Ne;
    if (s == "=~") return CmpOp::Match;
    if (s == "<") return CmpOp::Lt;
    if (s == ">") return CmpOp::Gt;
    if (s == "<=") return CmpOp::Le;
    if (s == ">=") return CmpOp::Ge;
    return CmpOp::Eq;
}

bool set_net(Cmp& c, std::string_view ip, long long prefix)
{
    auto a = SockAddr::from_numeric(ip, 0);
    if (!a || prefix < 0 || prefix > (a->family() == AF_INET ? 32 : 128))
        return false;
    c.rhs = Cmp::Rhs::Net;
    c.addr = *a;
    c.num = prefix;
    return true;
}

// src_ip / dst_ip: an address, a network, myself, or a quoted one of those or a name.
void compile_addr(const cfg::Value& v, Cmp& c)
{
    c.rhs = Cmp::Rhs::Never;
    if (v.text == "myself" && v.kind != VK::Str) {
        c.rhs = Cmp::Rhs::Myself;
        return;
    }
    if (v.kind == VK::Net && !v.parts.empty()) {
        set_net(c, v.parts[0].text, v.num);
        return;
    }
    size_t slash = v.text.find('/');
    if (slash != std::string::npos) {
        cfg::Value len;
        len.kind = VK::Str;
        len.text = v.text.substr(slash + 1);
        if (!set_net(c, std::string_view(v.text).substr(0, slash), value_int(len, -1)))
            LOG_ERR("%s: \"%s\" is not a network; the test is false", v.loc.str().c_str(), v.text.c_str());
        return;
    }
    std::optional<SockAddr> a = resolve_host(v.text, 0);
    if (!a) {
        LOG_ERR("%s: cannot resolve \"%s\"; the test is false", v.loc.str().c_str(), v.text.c_str());
        return;
    }
    c.rhs = Cmp::Rhs::Addr;
    c.addr = *a;
}

void compile_rhs(const cfg::OperandSpec& spec, const cfg::Value& v, Cmp& c)
{
    c.text = v.text;
    switch (spec.op) {
    case Operand::SrcIp: case Operand::DstIp:
        compile_addr(v, c);
        return;
    case Operand::Uri:
        c.rhs = (v.kind == VK::Ident && v.text == "myself") ? Cmp::Rhs::Myself : Cmp::Rhs::Text;
        return;
    case Operand::Proto: {
        auto p = proto_from_name(v.text);
        c.rhs = p || is_serial_word(v.text) ? Cmp::Rhs::Proto : Cmp::Rhs::Never;
        // No SIP message comes over serial: == never holds, != always does.
        c.num = p ? static_cast<long long>(*p) : -1;
        return;
    }
    case Operand::Af:
        c.rhs = Cmp::Rhs::Af;
        c.num = sip::iequals(v.text, "INET6") ? AF_INET6 : AF_INET;
        return;
    default:
        break;
    }
    if (spec.numeric) {
        c.rhs = Cmp::Rhs::Num;
        c.num = (v.kind == VK::Ident && v.text == "max_len") ? 65535 : value_int(v, 0);
        return;
    }
    c.rhs = Cmp::Rhs::Text;
}

std::unique_ptr<Cond> compile_cmp(const cfg::Expr& e)
{
    const cfg::OperandSpec* spec = cfg::find_operand(e.name);
    if (!spec)
        return nullptr;
    auto c = std::make_unique<Cond>();
    c->kind = Cond::Kind::Cmp;
    Cmp& cmp = c->cmp;
    cmp.operand = spec->op;
    cmp.op = to_op(e.op);
    if (cmp.op == CmpOp::Match) {
        cmp.re = Regex::compile(e.rhs.text, false);
        cmp.rhs = cmp.re ? Cmp::Rhs::Regex : Cmp::Rhs::Never;
        return c;
    }
    compile_rhs(*spec, e.rhs, cmp);
    return c;
}

bool in_net(const SockAddr& a, const SockAddr& net, long long prefix)
{
    if (a.family() != net.family())
        return false;
    const auto* x = reinterpret_cast<const unsigned char*>(
        a.family() == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr));
    const auto* y = reinterpret_cast<const unsigned char*>(
        net.family() == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&net.ss)->sin_addr)
                                : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&net.ss)->sin6_addr));
    size_t full = static_cast<size_t>(prefix / 8);
    if (std::memcmp(x, y, full) != 0)
        return false;
    int rest = static_cast<int>(prefix % 8);
    if (rest == 0)
        return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (x[full] & mask) == (y[full] & mask);
}

// The operand as text: what =~ matches and what == compares for strings.
std::string operand_text(const Cmp& c, const MsgContext& ctx)
{
    const TlsFacts* t = ctx.tls;
    switch (c.operand) {
    case Operand::Method: return std::string(ctx.msg.method);
    case Operand::Uri: return std::string(ctx.ruri());
    case Operand::SrcIp: return ctx.ri.src.ip();
    case Operand::DstIp: return ctx.ri.dst.ip();
    case Operand::SrcPort: return std::to_string(ctx.ri.src.port());
    case Operand::DstPort: return std::to_string(ctx.ri.dst.port());
    case Operand::Proto: return std::string(proto_name(ctx.ri.proto));
    case Operand::Af: return ctx.ri.src.family() == AF_INET6 ? "INET6" : "INET";
    case Operand::MsgLen: return std::to_string(ctx.buf.size());
    case Operand::TlsVersion: return t ? t->version : std::string();
    case Operand::TlsCipher: return t ? t->cipher : std::string();
    case Operand::TlsPeerCn: return t ? t->peer_cn : std::string();
    case Operand::TlsVerified: return t && t->verified ? "1" : "0";
    case Operand::FromDomain: return from_domain(ctx);
    case Operand::RuriDomain: return ruri_domain(ctx);
    }
    return {};
}

long long operand_num(const Cmp& c, const MsgContext& ctx)
{
    switch (c.operand) {
    case Operand::SrcPort: return ctx.ri.src.port();
    case Operand::DstPort: return ctx.ri.dst.port();
    case Operand::MsgLen: return static_cast<long long>(ctx.buf.size());
    case Operand::TlsVerified: return ctx.tls && ctx.tls->verified ? 1 : 0;
    default: return 0;
    }
}

bool num_cmp(CmpOp op, long long x, long long y)
{
    switch (op) {
    case CmpOp::Eq: return x == y;
    case CmpOp::Ne: return x != y;
    case CmpOp::Lt: return x < y;
    case CmpOp::Gt: return x > y;
    case CmpOp::Le: return x <= y;
    case CmpOp::Ge: return x >= y;
    case CmpOp::Match: return false;
    }
    return false;
}

// == for the non-numeric kinds; != is its negation.
bool equals(const Cmp& c, const Exec& ex)
{
    const MsgContext& ctx = ex.ctx;
    const SockAddr& addr = c.operand == Operand::DstIp ? ctx.ri.dst : ctx.ri.src;
    switch (c.rhs) {
    case Cmp::Rhs::Myself:
        if (c.operand == Operand::Uri) {
            sip::SipUri u;
            return sip::parse_uri(ctx.ruri(), u) && !u.host.empty() && ex.host.is_myself(u.host, u.port);
        }
        return ex.host.is_my_addr(addr);
    case Cmp::Rhs::Addr: return addr.same_ip(c.addr);
    case Cmp::Rhs::Net: return in_net(addr, c.addr, c.num);
    case Cmp::Rhs::Proto: return static_cast<long long>(ctx.ri.proto) == c.num;
    case Cmp::Rhs::Af: return ctx.ri.src.family() == c.num;
    default: return sip::iequals(operand_text(c, ctx), c.text);
    }
}

bool eval_cmp(const Cmp& c, const Exec& ex)
{
    switch (c.rhs) {
    case Cmp::Rhs::Never: return false;
    case Cmp::Rhs::Regex: return c.re->match(operand_text(c, ex.ctx));
    case Cmp::Rhs::Num: return num_cmp(c.op, operand_num(c, ex.ctx), c.num);
    default: break;
    }
    bool eq = equals(c, ex);
    return c.op == CmpOp::Ne ? !eq : eq;
}

std::unique_ptr<Cond> compile_call_cond(const Config& cfg, const cfg::Expr& e)
{
    auto c = std::make_unique<Cond>();
    if (e.kind == cfg::Expr::Kind::Name && (e.name == "true" || e.name == "false")) {
        c->value = e.name == "true";
        return c;
    }
    c->kind = Cond::Kind::Call;
    if (!compile_call(cfg, e.name, e.args, e.loc, c->call))
        return nullptr;
    return c;
}

}  // namespace

std::unique_ptr<Cond> compile_cond(const Config& cfg, const cfg::Expr& e)
{
    using K = cfg::Expr::Kind;
    switch (e.kind) {
    case K::Cmp:
        return compile_cmp(e);
    case K::Call: case K::Name:
        return compile_call_cond(cfg, e);
    default:
        break;
    }
    auto c = std::make_unique<Cond>();
    c->kind = e.kind == K::And ? Cond::Kind::And : e.kind == K::Or ? Cond::Kind::Or : Cond::Kind::Not;
    c->a = e.a ? compile_cond(cfg, *e.a) : nullptr;
    if (e.kind != K::Not)
        c->b = e.b ? compile_cond(cfg, *e.b) : nullptr;
    if (!c->a || (e.kind != K::Not && !c->b))
        return nullptr;
    return c;
}

bool eval_cond(const Cond& c, Exec& ex, bool& stop)
{
    switch (c.kind) {
    case Cond::Kind::Const: return c.value;
    case Cond::Kind::Cmp: return eval_cmp(c.cmp, ex);
    case Cond::Kind::Not: return !eval_cond(*c.a, ex, stop) && !stop;
    case Cond::Kind::And: return eval_cond(*c.a, ex, stop) && !stop && eval_cond(*c.b, ex, stop);
    case Cond::Kind::Or: {
        bool a = eval_cond(*c.a, ex, stop);
        return !stop && (a || eval_cond(*c.b, ex, stop));
    }
    case Cond::Kind::Call: {
        Outcome o = exec_call(c.call, ex);
        if (o.flow == Flow::Stop)
            stop = true;
        return o.value > 0;
    }
    }
    return false;
}

}  // namespace ser

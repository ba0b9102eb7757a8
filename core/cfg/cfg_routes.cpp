// Checks the route blocks: every action exists and gets the arguments it
// needs, every condition compares a known operand the way it can be compared,
// every route(N) exists, regular expressions compile.
#include "cfg/cfg_check.h"
#include "cfg/route_spec.h"

#include <regex.h>

#include <iterator>
#include <string>

namespace ser::cfg {
namespace {

constexpr ActionSpec kActions[] = {
    {"forward", 0, 2, {Arg::Host, Arg::Port}},
    {"forward_udp", 0, 2, {Arg::Host, Arg::Port}},
    {"forward_tcp", 0, 2, {Arg::Host, Arg::Port}},
    {"forward_tls", 0, 2, {Arg::Host, Arg::Port}},
    {"send", 1, 2, {Arg::Host, Arg::Port}},
    {"drop", 0, 0, {}},
    {"break", 0, 0, {}},
    {"exit", 0, 0, {}},
    {"return", 0, 1, {Arg::Int}},
    {"route", 1, 1, {Arg::Route}},
    {"log", 1, 2, {Arg::LogArg, Arg::Text}},
    {"sl_send_reply", 2, 2, {Arg::Code, Arg::Text}},
    {"sl_reply_error", 0, 0, {}},
    {"mf_process_maxfwd_header", 1, 1, {Arg::Int}},
    {"record_route", 0, 0, {}},
    {"loose_route", 0, 0, {}},
    {"search", 1, 1, {Arg::Regex}},
    {"append_hf", 1, 1, {Arg::Text}},
    {"remove_hf", 1, 1, {Arg::Header}},
    {"is_present_hf", 1, 1, {Arg::Header}},
    {"setflag", 1, 1, {Arg::Flag}},
    {"resetflag", 1, 1, {Arg::Flag}},
    {"isflagset", 1, 1, {Arg::Flag}},
    {"rewritehost", 1, 1, {Arg::Text}},
    {"sethost", 1, 1, {Arg::Text}},
    {"rewritehostport", 1, 1, {Arg::Text}},
    {"sethostport", 1, 1, {Arg::Text}},
    {"rewriteport", 1, 1, {Arg::Port}},
    {"setport", 1, 1, {Arg::Port}},
    {"rewriteuser", 1, 1, {Arg::Text}},
    {"setuser", 1, 1, {Arg::Text}},
    {"rewriteuri", 1, 1, {Arg::Text}},
    {"seturi", 1, 1, {Arg::Text}},
    {"force_rport", 0, 0, {}},
    {"is_peer_verified", 0, 0, {}},
    {"tls_peer_matches_from", 0, 0, {}},
    {"tls_peer_san", 1, 1, {Arg::Text}},
    {"t_relay", 0, 0, {}},
};

constexpr OperandSpec kOperands[] = {
    {"method", Operand::Method, false, false},
    {"uri", Operand::Uri, false, false},
    {"src_ip", Operand::SrcIp, false, true},
    {"dst_ip", Operand::DstIp, false, true},
    {"src_port", Operand::SrcPort, true, false},
    {"dst_port", Operand::DstPort, true, false},
    {"proto", Operand::Proto, false, false},
    {"af", Operand::Af, false, false},
    {"msg:len", Operand::MsgLen, true, false},
    {"tls_version", Operand::TlsVersion, false, false},
    {"tls_cipher", Operand::TlsCipher, false, false},
    {"tls_peer_cn", Operand::TlsPeerCn, false, false},
    {"tls_verified", Operand::TlsVerified, true, false},
    // Kamailio's pseudo-variables for the same facts
    {"$rm", Operand::Method, false, false},
    {"$ru", Operand::Uri, false, false},
    {"$si", Operand::SrcIp, false, true},
    {"$sp", Operand::SrcPort, true, false},
    {"$Ri", Operand::DstIp, false, true},
    {"$Rp", Operand::DstPort, true, false},
    {"$rd", Operand::RuriDomain, false, false},
    {"$fd", Operand::FromDomain, false, false},
};

bool check_regex(const Value& v, Diags& d)
{
    regex_t re;
    int rc = regcomp(&re, v.text.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char buf[256];
        regerror(rc, &re, buf, sizeof buf);
        d.error(v.loc, "bad regular expression \"" + v.text + "\": " + buf);
        return false;
    }
    regfree(&re);
    return true;
}

bool is_uri_part(const Value& v, std::string_view part)
{
    return v.kind == Value::Kind::Colon && v.parts.size() == 2 && v.parts[0].text == "uri" && v.parts[1].text == part;
}

void check_arg(const Config& cfg, std::string_view fn, Arg a, const Value& v, Diags& d)
{
    const std::string f(fn);
    auto need_int = [&](long long lo, long long hi, const char* what) {
        long long n = v.num;
        if (v.kind == Value::Kind::Str && !v.text.empty() &&
            v.text.find_first_not_of("0123456789") == std::string::npos && v.text.size() < 10)
            n = std::stoll(v.text);
        else if (v.kind != Value::Kind::Int) {
            d.error(v.loc, f + ": expected " + what + ", got \"" + v.text + "\"");
            return;
        }
        if (n < lo || n > hi)
            d.error(v.loc, f + ": " + what + " " + std::to_string(n) + " is out of range (" + std::to_string(lo) +
                           ".." + std::to_string(hi) + ")");
    };
    switch (a) {
    case Arg::None:
        break;
    case Arg::Host:
        if (!(v.kind == Value::Kind::Ip4 || v.kind == Value::Kind::Ip6 || v.kind == Value::Kind::Ident ||
              v.kind == Value::Kind::Str || is_uri_part(v, "host")))
            d.error(v.loc, f + ": expected a host (address, name or uri:host), got \"" + v.text + "\"");
        break;
    case Arg::Port:
        if (!is_uri_part(v, "port"))
            need_int(1, 65535, "port");
        break;
    case Arg::Code:
        need_int(100, 699, "status code");
        break;
    case Arg::Text:
    case Arg::Header:
        if (v.kind != Value::Kind::Str && v.kind != Value::Kind::Ident)
            d.error(v.loc, f + ": expected a quoted string, got \"" + v.text + "\"");
        else if (a == Arg::Header && v.text.find_first_of(" :\t\r\n") != std::string::npos)
            d.error(v.loc, f + ": \"" + v.text + "\" is not a header name");
        break;
    case Arg::Regex:
        if (v.kind != Value::Kind::Str)
            d.error(v.loc, f + ": expected a quoted regular expression, got \"" + v.text + "\"");
        else
            check_regex(v, d);
        break;
    case Arg::Flag:
        need_int(0, 31, "flag");
        break;
    case Arg::Int:
        need_int(-2147483648LL, 2147483647LL, "number");
        break;
    case Arg::LogArg:
        if (v.kind == Value::Kind::Int)
            need_int(-3, 9, "log level");
        else if (v.kind != Value::Kind::Str && v.kind != Value::Kind::Ident)
            d.error(v.loc, f + ": expected a log level or a quoted string, got \"" + v.text + "\"");
        break;
    case Arg::Route:
        if (v.kind != Value::Kind::Int && v.kind != Value::Kind::Ident)
            d.error(v.loc, "route: expected a route number or name, got \"" + v.text + "\"");
        else if (!cfg.find_route(v.text == "0" ? "" : v.text))
            d.error(v.loc, "route(" + v.text + ") calls route[" + v.text + "], which is never defined");
        break;
    }
}

void check_call(const Config& cfg, const std::string& name, const std::vector<Value>& args, const Loc& loc,
                Diags& d)
{
    const ActionSpec* spec = find_action(name);
    if (!spec) {
        std::vector<std::string_view> names;
        for (const auto& a : kActions)
            names.push_back(a.name);
        std::string hint = did_you_mean(name, names);
        d.error(loc, "unknown function \"" + name + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
        return;
    }
    int n = static_cast<int>(args.size());
    if (n < spec->min_args || n > spec->max_args) {
        std::string want = spec->min_args == spec->max_args
                               ? std::to_string(spec->min_args)
                               : std::to_string(spec->min_args) + " to " + std::to_string(spec->max_args);
        d.error(loc, name + "() takes " + want + " argument" + (spec->max_args == 1 ? "" : "s") + ", got " +
                     std::to_string(n));
        return;
    }
    for (int i = 0; i < n; i++)
        check_arg(cfg, name, spec->args[i], args[i], d);
    if (name == "t_relay")
        d.notice(loc, "t_relay(): ser is stateless; it forwards like forward() (no transaction: no retransmission "
                      "over UDP, no failure_route, no 100 Trying)");
}

void check_cmp(const Expr& e, Diags& d)
{
    const OperandSpec* op = find_operand(e.name);
    if (!op) {
        std::vector<std::string_view> names;
        for (const auto& o : kOperands)
            names.push_back(o.name);
        std::string hint = did_you_mean(e.name, names);
        d.error(e.loc, "unknown operand \"" + e.name + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
        return;
    }
    const Value& v = e.rhs;
    bool ordered = e.op == "<" || e.op == ">" || e.op == "<=" || e.op == ">=";
    if (ordered && !op->numeric) {
        d.error(e.loc, e.name + " cannot be compared with " + e.op + "; use ==, != or =~");
        return;
    }
    if (e.op == "=~") {
        if (v.kind != Value::Kind::Str)
            d.error(v.loc, "=~ needs a quoted regular expression, got \"" + v.text + "\"");
        else
            check_regex(v, d);
        return;
    }
    if (op->numeric) {
        bool max_len = op->op == Operand::MsgLen && v.kind == Value::Kind::Ident && v.text == "max_len";
        if (v.kind != Value::Kind::Int && !max_len)
            d.error(v.loc, e.name + " is compared with a number, got \"" + v.text + "\"");
        return;
    }
    if (op->op == Operand::Proto) {
        if ((!proto_from_name(v.text) && !is_serial_word(v.text)) || v.kind == Value::Kind::Str)
            d.error(v.loc, "proto is compared with UDP, TCP or TLS, got \"" + v.text + "\"");
        return;
    }
    if (op->op == Operand::Af) {
        if (v.kind != Value::Kind::Ident || (v.text != "INET" && v.text != "INET6" && v.text != "inet" && v.text != "inet6"))
            d.error(v.loc, "af is compared with INET or INET6, got \"" + v.text + "\"");
        return;
    }
    if (op->address) {
        bool ok = v.kind == Value::Kind::Ip4 || v.kind == Value::Kind::Ip6 || v.kind == Value::Kind::Net ||
                  (v.kind == Value::Kind::Ident && v.text == "myself") || v.kind == Value::Kind::Str;
        if (v.kind == Value::Kind::Net && (v.num < 0 || v.num > (v.parts[0].kind == Value::Kind::Ip4 ? 32 : 128)))
            d.error(v.loc, "bad prefix length in \"" + v.text + "\"");
        else if (!ok)
            d.error(v.loc, e.name + " is compared with an address, a network or myself, got \"" + v.text + "\"");
        return;
    }
    if (op->op == Operand::Uri && v.kind == Value::Kind::Ident && v.text != "myself")
        d.error(v.loc, "uri is compared with a quoted string or myself, got \"" + v.text + "\"");
}

void check_expr(const Config& cfg, const Expr& e, Diags& d)
{
    switch (e.kind) {
    case Expr::Kind::And:
    case Expr::Kind::Or:
        check_expr(cfg, *e.a, d);
        check_expr(cfg, *e.b, d);
        break;
    case Expr::Kind::Not:
        check_expr(cfg, *e.a, d);
        break;
    case Expr::Kind::Cmp:
        check_cmp(e, d);
        break;
    case Expr::Kind::Call:
        check_call(cfg, e.name, e.args, e.loc, d);
        break;
    case Expr::Kind::Name:
        if (e.name != "true" && e.name != "false")
            check_call(cfg, e.name, {}, e.loc, d);
        break;
    }
}

void check_body(const Config& cfg, const ActionList& body, Diags& d)
{
    for (const Action& a : body) {
        if (a.kind == Action::Kind::If) {
            check_expr(cfg, *a.cond, d);
            if (a.then_body)
                check_body(cfg, *a.then_body, d);
            if (a.else_body)
                check_body(cfg, *a.else_body, d);
        } else if (a.name == "=") {
            d.error(a.loc, "assignment \"" + a.args[0].text + " = ...\" is not allowed in a route block");
        } else {
            check_call(cfg, a.name, a.args, a.loc, d);
        }
    }
}

}  // namespace

const ActionSpec* find_action(std::string_view name)
{
    for (const auto& a : kActions)
        if (a.name == name)
            return &a;
    return nullptr;
}
const ActionSpec* action_begin() { return std::begin(kActions); }
const ActionSpec* action_end() { return std::end(kActions); }

const OperandSpec* find_operand(std::string_view name)
{
    for (const auto& o : kOperands)
        if (o.name == name)
            return &o;
    return nullptr;
}

void check_routes(Config& cfg, Diags& d)
{
    for (const auto& r : cfg.routes)
        check_body(cfg, r.body, d);
    // No SIP listener (a serial bridge alone): no route is needed.
    if (!cfg.find_route("") && !cfg.listens.empty())
        d.warning(Loc{cfg.file, 1, 1}, "no main route{} block: every request will be dropped");
}

}  // namespace ser::cfg

// The route engine: compiles route blocks into instruction lists and runs
// them with SER 0.9 semantics (see route_engine.h). Conditions are in
// route_cond.cpp, the message actions in route_actions.cpp.
#include "route/route_engine.h"

#include "log.h"
#include "route/route_program.h"

#include <cstring>

namespace ser {
namespace {

// SER's ROUTE_MAX_REC_LEV: route(N) nesting deeper than this is an error.
constexpr int kMaxRouteDepth = 100;

struct ActionName {
    std::string_view name;
    ActionId id;
};

constexpr ActionName kActionIds[] = {
    {"forward", ActionId::Forward},         {"forward_udp", ActionId::ForwardUdp},
    {"t_relay", ActionId::Forward},   // stateless here (ser -c says so)
    {"forward_tcp", ActionId::ForwardTcp},  {"forward_tls", ActionId::ForwardTls},
    {"send", ActionId::Send},               {"drop", ActionId::Drop},
    {"break", ActionId::Break},             {"exit", ActionId::Exit},
    {"return", ActionId::Return},           {"route", ActionId::Route},
    {"log", ActionId::Log},                 {"sl_send_reply", ActionId::SlSendReply},
    {"sl_reply_error", ActionId::SlReplyError}, {"mf_process_maxfwd_header", ActionId::MaxFwd},
    {"record_route", ActionId::RecordRoute}, {"loose_route", ActionId::LooseRoute},
    {"search", ActionId::Search},           {"append_hf", ActionId::AppendHf},
    {"remove_hf", ActionId::RemoveHf},      {"is_present_hf", ActionId::IsPresentHf},
    {"setflag", ActionId::SetFlag},         {"resetflag", ActionId::ResetFlag},
    {"isflagset", ActionId::IsFlagSet},     {"rewritehost", ActionId::RewriteHost},
    {"sethost", ActionId::RewriteHost},     {"rewritehostport", ActionId::RewriteHostPort},
    {"sethostport", ActionId::RewriteHostPort}, {"rewriteport", ActionId::RewritePort},
    {"setport", ActionId::RewritePort},     {"rewriteuser", ActionId::RewriteUser},
    {"setuser", ActionId::RewriteUser},     {"rewriteuri", ActionId::RewriteUri},
    {"seturi", ActionId::RewriteUri},       {"force_rport", ActionId::ForceRport},
    {"is_peer_verified", ActionId::IsPeerVerified},
    {"tls_peer_matches_from", ActionId::TlsPeerMatchesFrom}, {"tls_peer_san", ActionId::TlsPeerSan},
};

bool is_uri_part(const cfg::Value& v, std::string_view part)
{
    return v.kind == cfg::Value::Kind::Colon && v.parts.size() == 2 && v.parts[0].text == "uri" &&
           v.parts[1].text == part;
}

void compile_fwd(ActionId id, const std::vector<cfg::Value>& args, FwdSpec& f)
{
    switch (id) {
    case ActionId::ForwardUdp: f.proto = Proto::Udp; break;
    case ActionId::ForwardTcp: f.proto = Proto::Tcp; break;
    case ActionId::ForwardTls: f.proto = Proto::Tls; break;
    case ActionId::Send: f.proto = Proto::Udp; f.raw = true; break;
    default: break;
    }
    if (!args.empty()) {
        f.has_host = true;
        f.host_from_uri = is_uri_part(args[0], "host");
        if (!f.host_from_uri)
            f.host = args[0].text;
    }
    if (args.size() > 1) {
        f.port_from_uri = is_uri_part(args[1], "port");
        if (!f.port_from_uri)
            f.port = static_cast<uint16_t>(value_int(args[1], 0));
    }
}

// SER levels: -3 alert .. 4 debug; names L_ALERT..L_DBG accepted too.
long long log_level(const cfg::Value& v)
{
    static const std::pair<std::string_view, int> kNames[] = {
        {"L_ALERT", -3}, {"L_CRIT", -2}, {"L_ERR", -1}, {"L_WARN", 1},
        {"L_NOTICE", 2}, {"L_INFO", 3},  {"L_DBG", 4},
    };
    for (const auto& [n, l] : kNames)
        if (v.text == n)
            return l;
    return value_int(v, 4);
}

log::Level to_level(long long l)
{
    if (l <= -3)
        return log::Level::Alert;
    if (l >= 4)
        return log::Level::Debug;
    static const log::Level kMap[] = {log::Level::Crit, log::Level::Err, log::Level::Warn,
                                      log::Level::Warn, log::Level::Notice, log::Level::Info};
    return kMap[l + 2];
}

int route_index(const Config& cfg, const cfg::Value& v)
{
    std::string name = v.text == "0" ? std::string() : v.text;
    for (size_t i = 0; i < cfg.routes.size(); ++i)
        if (cfg.routes[i].name == name)
            return static_cast<int>(i);
    return -1;
}

std::vector<Instr> compile_list(const Config& cfg, const cfg::ActionList& body);

bool compile_instr(const Config& cfg, const cfg::Action& a, Instr& out)
{
    if (a.kind == cfg::Action::Kind::Call)
        return compile_call(cfg, a.name, a.args, a.loc, out.call);
    out.is_if = true;
    out.cond = compile_cond(cfg, *a.cond);
    if (a.then_body)
        out.then_body = compile_list(cfg, *a.then_body);
    if (a.else_body)
        out.else_body = compile_list(cfg, *a.else_body);
    return out.cond != nullptr;
}

std::vector<Instr> compile_list(const Config& cfg, const cfg::ActionList& body)
{
    std::vector<Instr> out;
    out.reserve(body.size());
    for (const cfg::Action& a : body) {
        Instr in;
        if (compile_instr(cfg, a, in))
            out.push_back(std::move(in));
        else
            LOG_ERR("%s: cannot compile \"%s\"; statement skipped", a.loc.str().c_str(), a.name.c_str());
    }
    return out;
}

Outcome exec_list(const std::vector<Instr>& list, Exec& ex)
{
    Outcome last;
    for (const Instr& in : list) {
        if (in.is_if) {
            bool stop = false;
            bool yes = eval_cond(*in.cond, ex, stop);
            if (stop)
                return Outcome{Flow::Stop, 0};
            const std::vector<Instr>& body = yes ? in.then_body : in.else_body;
            if (body.empty())
                continue;
            last = exec_list(body, ex);
        } else {
            last = exec_call(in.call, ex);
        }
        if (last.flow != Flow::Next)
            return last;
    }
    return last;
}

Outcome run_route(size_t index, Exec& ex)
{
    if (ex.depth >= kMaxRouteDepth) {
        LOG_ERR("route: nesting deeper than %d (a route calls itself?); returning false", kMaxRouteDepth);
        return Outcome{Flow::Next, -1};
    }
    ++ex.depth;
    Outcome o = exec_list(ex.prog.routes[index], ex);
    --ex.depth;
    if (o.flow == Flow::Stop || o.value == 0)
        return Outcome{Flow::Stop, 0};
    return Outcome{Flow::Next, o.value};
}

int reply_error(MsgContext& ctx, RouteHost& host)
{
    // The error was already answered (by the proxy or the script).
    if (ctx.replied)
        return 1;
    if (ctx.err_code == 0)
        return host.reply(ctx, 500, "Server Internal Error");
    return host.reply(ctx, ctx.err_code, ctx.err_reason);
}

int flag_op(MsgContext& ctx, ActionId id, long long n)
{
    uint32_t bit = 1u << (static_cast<unsigned>(n) & 31u);
    if (id == ActionId::SetFlag)
        ctx.flags |= bit;
    else if (id == ActionId::ResetFlag)
        ctx.flags &= ~bit;
    else
        return (ctx.flags & bit) ? 1 : -1;
    return 1;
}

// Every action that is neither flow control nor route(N).
// Whether `name` is one of the peer certificate's SIP identities (RFC 5922:
// whole names, case-insensitive, no wildcard) or its IP SANs; a certificate
// that did not verify counts for nothing.
bool peer_has(const TlsFacts& t, std::string_view name)
{
    if (!t.verified || name.empty())
        return false;
    if (name.back() == '.')
        name.remove_suffix(1);
    for (const std::string& id : t.peer_ids)
        if (sip::iequals(id, name))
            return true;
    std::string_view bare = name.size() > 2 && name.front() == '[' && name.back() == ']' ? name.substr(1, name.size() - 2) : name;
    for (const std::string& ip : t.peer_ips)
        if (ip == bare)
            return true;
    return false;
}

// tls_peer_matches_from(): the request came over TLS with a verified client
// certificate whose SIP identities cover the host of its From URI (a trunk
// authenticated by certificate may only speak for its own domain).
bool tls_peer_matches_from(const MsgContext& ctx)
{
    if (!ctx.tls || ctx.ri.proto != Proto::Tls || !ctx.msg.is_request)
        return false;
    return peer_has(*ctx.tls, from_domain(ctx));
}

bool tls_peer_san(const MsgContext& ctx, std::string_view name)
{
    return ctx.tls && ctx.ri.proto == Proto::Tls && peer_has(*ctx.tls, name);
}

int exec_simple(const Call& c, Exec& ex)
{
    MsgContext& ctx = ex.ctx;
    switch (c.id) {
    case ActionId::Forward: case ActionId::ForwardUdp: case ActionId::ForwardTcp:
    case ActionId::ForwardTls: case ActionId::Send:
        return ex.host.forward(ctx, c.fwd);
    case ActionId::Log:
        SER_LOG(to_level(c.num), "%s", expand_log_text(c.text, ctx).c_str());
        return 1;
    case ActionId::SlSendReply:
        return ex.host.reply(ctx, static_cast<int>(c.num), c.text);
    case ActionId::SlReplyError: return reply_error(ctx, ex.host);
    case ActionId::MaxFwd: return ctx.process_maxfwd(c.num);
    case ActionId::RecordRoute: return act_record_route(ctx);
    case ActionId::LooseRoute: return act_loose_route(ctx, ex.host);
    case ActionId::Search: return c.re && c.re->match(ctx.buf) ? 1 : -1;
    case ActionId::AppendHf: return act_append_hf(ctx, c.text);
    case ActionId::RemoveHf: return act_remove_hf(ctx, c.text);
    case ActionId::IsPresentHf: return act_is_present_hf(ctx, c.text);
    case ActionId::SetFlag: case ActionId::ResetFlag: case ActionId::IsFlagSet:
        return flag_op(ctx, c.id, c.num);
    case ActionId::ForceRport:
        ctx.force_rport = true;
        return 1;
    case ActionId::IsPeerVerified:
        return ctx.tls && ctx.ri.proto == Proto::Tls && ctx.tls->verified ? 1 : -1;
    case ActionId::TlsPeerMatchesFrom: return tls_peer_matches_from(ctx) ? 1 : -1;
    case ActionId::TlsPeerSan: return tls_peer_san(ctx, c.text) ? 1 : -1;
    default:
        return act_rewrite(ctx, c.id, c.text, c.num);
    }
}

}  // namespace

std::unique_ptr<Regex> Regex::compile(const std::string& pattern, bool newline)
{
    std::unique_ptr<Regex> r(new Regex);
    int flags = REG_EXTENDED | REG_ICASE | REG_NOSUB | (newline ? REG_NEWLINE : 0);
    int rc = regcomp(&r->re_, pattern.c_str(), flags);
    if (rc != 0) {
        char buf[256];
        regerror(rc, &r->re_, buf, sizeof buf);
        LOG_ERR("bad regular expression \"%s\": %s", pattern.c_str(), buf);
        return nullptr;  // compiled_ is false: the destructor frees nothing
    }
    r->compiled_ = true;
    return r;
}

bool Regex::match(std::string_view text) const
{
    // REG_STARTEND (glibc, BSD): the text needs no NUL terminator and may hold NULs.
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = static_cast<regoff_t>(text.size());
    const char* p = text.data() ? text.data() : "";
    return regexec(&re_, p, 1, m, REG_STARTEND) == 0;
}

long long value_int(const cfg::Value& v, long long fallback)
{
    if (v.kind == cfg::Value::Kind::Int)
        return v.num;
    const std::string& t = v.text;
    size_t i = (!t.empty() && t[0] == '-') ? 1 : 0;
    if (i >= t.size() || t.size() - i > 10 || t.find_first_not_of("0123456789", i) != std::string::npos)
        return fallback;
    return std::stoll(t);
}

bool compile_call(const Config& cfg, const std::string& name, const std::vector<cfg::Value>& args,
                  const cfg::Loc& loc, Call& out)
{
    const ActionName* row = nullptr;
    for (const ActionName& a : kActionIds)
        if (a.name == name)
            row = &a;
    if (!row)
        return false;
    out.id = row->id;
    out.loc = loc;
    switch (out.id) {
    case ActionId::Forward: case ActionId::ForwardUdp: case ActionId::ForwardTcp:
    case ActionId::ForwardTls: case ActionId::Send:
        compile_fwd(out.id, args, out.fwd);
        return true;
    case ActionId::Return: out.num = args.empty() ? 1 : value_int(args[0], 1); return true;
    case ActionId::Route: out.num = args.empty() ? -1 : route_index(cfg, args[0]); return out.num >= 0;
    case ActionId::Log:
        out.num = args.size() > 1 ? log_level(args[0]) : 4;
        out.text = args.empty() ? std::string() : args.back().text;
        return true;
    case ActionId::Search:
        out.re = args.empty() ? nullptr : Regex::compile(args[0].text, true);
        return out.re != nullptr;
    default:
        break;
    }
    if (!args.empty()) {
        out.num = value_int(args[0], 0);
        out.text = args.back().text;
    }
    if (out.id == ActionId::MaxFwd && args.empty())
        out.num = 70;
    return true;
}

Outcome exec_call(const Call& c, Exec& ex)
{
    switch (c.id) {
    case ActionId::Drop:
        ex.ctx.dropped = true;
        return Outcome{Flow::Stop, 0};
    case ActionId::Exit:
        return Outcome{Flow::Stop, 0};
    case ActionId::Break:
        return Outcome{Flow::Return, 1};
    case ActionId::Return:
        if (c.num == 0)
            return Outcome{Flow::Stop, 0};
        return Outcome{Flow::Return, static_cast<int>(c.num)};
    case ActionId::Route:
        return run_route(static_cast<size_t>(c.num), ex);
    default:
        break;
    }
    int r = exec_simple(c, ex);
    if (r == 0)
        return Outcome{Flow::Stop, 0};
    return Outcome{Flow::Next, r};
}

RouteEngine::RouteEngine(const Config& cfg) : prog_(std::make_unique<RouteProgram>())
{
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
        prog_->routes.push_back(compile_list(cfg, cfg.routes[i].body));
        if (cfg.routes[i].name.empty())
            prog_->main = static_cast<int>(i);
    }
}

RouteEngine::~RouteEngine() = default;

bool RouteEngine::has_main_route() const
{
    return prog_->main >= 0;
}

int RouteEngine::run(MsgContext& ctx, RouteHost& host) const
{
    if (prog_->main < 0)
        return 0;
    Exec ex{*prog_, ctx, host};
    Outcome o = exec_list(prog_->routes[static_cast<size_t>(prog_->main)], ex);
    return o.flow == Flow::Stop ? 0 : o.value;
}

}  // namespace ser

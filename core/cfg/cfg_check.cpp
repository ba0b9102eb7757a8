// The checking driver: runs the passes over the AST in a fixed order (globals,
// modules, blocks, cross-checks, routes, TLS material) and collects diagnostics.
#include "cfg/cfg_check.h"

#include "cfg/cfg_parse.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace ser::cfg {

std::string Diag::str() const
{
    static const char* const names[] = {"error", "warning", "notice"};
    return loc.str() + ": " + names[static_cast<int>(level)] + ": " + msg;
}

bool CheckResult::ok() const
{
    return std::none_of(diags.begin(), diags.end(),
                        [](const Diag& d) { return d.level == Diag::Level::Error; });
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates)
{
    std::string_view best;
    size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
    for (auto c : candidates) {
        // Levenshtein distance, two rows.
        std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
        for (size_t j = 0; j <= c.size(); j++)
            prev[j] = j;
        for (size_t i = 1; i <= word.size(); i++) {
            cur[0] = i;
            for (size_t j = 1; j <= c.size(); j++) {
                size_t sub = prev[j - 1] + (std::tolower(word[i - 1]) != std::tolower(c[j - 1]));
                cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
            }
            std::swap(prev, cur);
        }
        if (prev[c.size()] < best_d) {
            best_d = prev[c.size()];
            best = c;
        }
    }
    return std::string(best);
}

namespace {

const std::set<std::string> kBuiltinModules = {"sl", "maxfwd", "rr", "textops", "tls"};

void check_module(const Stmt& st, Config& cfg, Diags& d)
{
    std::string base = st.text.substr(st.text.rfind('/') == std::string::npos ? 0 : st.text.rfind('/') + 1);
    if (base.size() > 3 && base.compare(base.size() - 3, 3, ".so") == 0)
        base.resize(base.size() - 3);
    if (!kBuiltinModules.count(base)) {
        d.error(st.loc, "module \"" + st.text + "\" is not available: ser has sl, maxfwd, rr, "
                        "textops and tls built in, and loads no other modules");
        return;
    }
    d.notice(st.loc, "loadmodule \"" + st.text + "\": module " + base + " is built into ser");
    cfg.modules.push_back(ModuleCfg{base, st.loc});
}

// modparam() of a built-in module is refused rather than ignored: the TLS
// module's parameters are ser's tls_* globals (Kamailio's names mapped), the
// others have fixed settings.
std::string modparam_refusal(const Stmt& st)
{
    const std::string& mod = st.args[0].text;
    const std::string& param = st.args[1].text;
    std::string head = "modparam(\"" + mod + "\", \"" + param + "\", ...) is not available in ser: ";
    if (mod != "tls")
        return head + "module " + mod + " is built in with fixed settings; remove the line";
    static const std::pair<std::string_view, std::string_view> kTls[] = {
        {"certificate", "tls_certificate"}, {"private_key", "tls_private_key"}, {"ca_list", "tls_ca_list"},
        {"crl", "tls_crl"}, {"cipher_list", "tls_ciphers_list"}, {"tls_method", "tls_method"},
        {"verify_certificate", "tls_verify"}, {"require_certificate", "tls_require_certificate"},
        {"verify_depth", "tls_verify_depth"}, {"server_name", "tls_server_name (in a tls_domain block)"},
        {"handshake_timeout", "tls_handshake_timeout"}, {"send_timeout", "tls_send_timeout"},
        {"keylog_file", "tls_keylog_file"}, {"config", "tls_domain[IP:port] { ... } blocks in ser.cfg"},
        {"private_key_password", "tls_private_key_pass=\"file:...\""},
    };
    for (const auto& [k, ser] : kTls)
        if (param == k)
            return head + "write " + std::string(ser) + " instead (a global, or inside a tls_domain block)";
    return head + "the TLS settings are ser's tls_* parameters (see ser.cfg(5))";
}

// Assignments of a block body: every item must be "name = value".
template <typename F>
void for_each_assign(const Stmt& st, const char* what, Diags& d, F f)
{
    for (const Action& a : st.body) {
        if (a.kind == Action::Kind::Call && a.name == "=" && a.args.size() == 2) {
            Assign as{a.args[0].text, a.args[1], a.loc, {}};
            f(as);
        } else {
            d.error(a.loc, std::string("only name=value settings are allowed in a ") + what + " block");
        }
    }
}

void check_tls_block(const Stmt& st, Config& cfg, const CheckOptions& opt, Diags& d)
{
    TlsDomainCfg dom;
    dom.client = st.assign.name == "tls_client_domain";
    dom.loc = st.loc;
    dom.params = cfg.tls;
    if (!parse_addr_port(st.key, opt.resolve_hosts, dom.addr, dom.family, dom.port, d))
        return;
    for_each_assign(st, st.assign.name.c_str(), d, [&](const Assign& as) {
        apply_param(as, Ctx::TlsDomain, ParamTargets{nullptr, &dom.params, nullptr}, opt, d);
    });
    cfg.tls_domains.push_back(std::move(dom));
}

void check_serial_block(const Stmt& st, Config& cfg, const CheckOptions& opt, Diags& d)
{
    SerialCfg s;
    s.device = st.text;
    s.loc = st.loc;
    struct stat sb;
    if (s.device.empty())
        d.error(st.loc, "serial block needs a device path, e.g. serial \"/dev/ttyUSB0\" { ... }");
    else if (stat(s.device.c_str(), &sb) == 0 && !S_ISCHR(sb.st_mode))
        // Certain now; a missing or busy device is not: the bridge retries it.
        d.error(st.loc, "serial \"" + s.device + "\" is not a character device (a tty such as /dev/ttyUSB0)");
    bool tried_endpoint = false;   // a bad listen=/connect= was already reported
    bool tried_listen = false;
    Loc rfc2217_at = st.loc;
    for_each_assign(st, "serial", d, [&](const Assign& as) {
        tried_endpoint = tried_endpoint || as.name == "listen" || as.name == "connect";
        tried_listen = tried_listen || as.name == "listen";
        if (as.name == "rfc2217")
            rfc2217_at = as.loc;
        apply_param(as, Ctx::Serial, ParamTargets{nullptr, nullptr, &s}, opt, d);
    });
    if (s.listens.empty() && s.connects.empty() && !tried_endpoint)
        d.error(st.loc, "serial \"" + s.device + "\" has neither listen= nor connect=: nobody could reach the device");
    // RFC 2217 is spoken with listen= clients only; connect= links stay raw.
    if (s.rfc2217 && s.framing == Framing::Line)
        d.error(rfc2217_at, "rfc2217=yes cannot be combined with framing=line: a line end may fall inside a "
                            "telnet command; use framing=raw");
    if (s.rfc2217 && !tried_listen && !s.connects.empty())
        d.error(rfc2217_at, "rfc2217=yes is for listen= clients and this block has only connect= links, which "
                            "stay raw; add a listen= or drop rfc2217");
    for (auto& o : cfg.serials)
        if (o.device == s.device)
            d.error(st.loc, "serial \"" + s.device + "\" is already defined at " + o.loc.str());
    cfg.serials.push_back(std::move(s));
}

void check_route_block(const Stmt& st, Config& cfg, Diags& d)
{
    const std::string& kw = st.assign.name;
    if (kw != "route") {
        if (kw == "onreply_route" || kw == "failure_route" || kw == "branch_route")
            d.error(st.loc, kw + " needs the tm module, which ser does not have: ser is a stateless proxy");
        else if (kw == "tls_domain" || kw == "tls_client_domain")
            d.error(st.loc, kw + " needs an address: " + kw + "[IP:port] { ... }");
        else {
            auto s = did_you_mean(kw, {"route", "tls_domain", "tls_client_domain", "serial"});
            d.error(st.loc, "unknown block \"" + kw + "\"" + (s.empty() ? "" : "; did you mean \"" + s + "\"?"));
        }
        return;
    }
    RouteCfg r;
    r.loc = st.loc;
    r.body = st.body;
    if (st.has_key) {
        if (st.key.kind != Value::Kind::Int && st.key.kind != Value::Kind::Ident) {
            d.error(st.key.loc, "route index must be a number or a name");
            return;
        }
        r.name = st.key.text;
    }
    // SER numbers route 0 as the main route.
    if (r.name == "0")
        r.name.clear();
    for (const auto& o : cfg.routes)
        if (o.name == r.name) {
            d.error(st.loc, (r.name.empty() ? std::string("main route") : "route[" + r.name + "]") +
                            " is already defined at " + o.loc.str());
            return;
        }
    cfg.routes.push_back(std::move(r));
}

void check_block(const Stmt& st, Config& cfg, const CheckOptions& opt, Diags& d)
{
    const std::string& kw = st.assign.name;
    switch (st.kind) {
    case Stmt::Kind::LoadModule:
        if (kw == "loadmodule")
            check_module(st, cfg, d);
        else
            d.error(st.loc, "unknown statement \"" + kw + " \\\"...\\\"\"; expected loadmodule or include_file");
        break;
    case Stmt::Kind::Call:
        if (kw != "modparam")
            d.error(st.loc, "unknown statement \"" + kw + "(...)\" at top level; function calls belong in a route block");
        else if (st.args.size() != 3 || st.args[0].kind != Value::Kind::Str)
            d.error(st.loc, "modparam takes 3 arguments: modparam(\"module\", \"parameter\", value)");
        else if (!kBuiltinModules.count(st.args[0].text))
            d.error(st.args[0].loc, "modparam for module \"" + st.args[0].text + "\", which ser does not have");
        else
            d.error(st.loc, modparam_refusal(st));
        break;
    case Stmt::Kind::Serial:
        if (kw == "serial")
            check_serial_block(st, cfg, opt, d);
        else
            d.error(st.loc, "unknown block \"" + kw + "\"; a device block is written serial \"/dev/...\" { ... }");
        break;
    case Stmt::Kind::Route:
        if (st.has_key && (kw == "tls_domain" || kw == "tls_client_domain"))
            check_tls_block(st, cfg, opt, d);
        else
            check_route_block(st, cfg, d);
        break;
    case Stmt::Kind::Word:
        d.error(st.loc, "unexpected word \"" + kw + "\" at top level; expected name=value or a block");
        break;
    default:
        break;
    }
}

// A listener as written: "udp", "tcp" or "tls" (SIP or serial), address, port.
using ListenKey = std::tuple<std::string_view, std::string, uint16_t>;

void check_listens(Config& cfg, Diags& d)
{
    std::map<ListenKey, Loc> seen;
    auto add = [&](std::string_view net, const std::string& host, const std::string& addr, uint16_t port,
                   const Loc& loc) {
        // UDP and TCP may share a port; the serial bridge and SIP may not share a stream port.
        auto [it, fresh] = seen.emplace(ListenKey{net, addr, port}, loc);
        if (!fresh)
            d.error(loc, "duplicate listen " + std::string(net) + ":" + host + ":" + std::to_string(port) +
                         " (first at " + it->second.str() + ")");
    };
    for (const auto& l : cfg.listens)
        add(proto_name(l.proto), l.host, l.addr, l.port, l.loc);
    for (const auto& s : cfg.serials)
        for (const auto& l : s.listens) {
            if (seen.count(ListenKey{"tcp", l.addr, l.port}) || seen.count(ListenKey{"tls", l.addr, l.port}))
                d.error(l.loc, "serial listen on " + l.addr + ":" + std::to_string(l.port) +
                               " is already used by another listener");
            add(l.net_name(), l.host, l.addr, l.port, l.loc);
        }
}

// Whether a tls listener on addr:port (a wildcard address: any of its family) is dom's.
bool listener_matches(bool tls, const std::string& addr, int family, uint16_t port, const TlsDomainCfg& dom)
{
    if (!tls || port != dom.port)
        return false;
    if (addr == dom.addr)
        return true;
    return (addr == "0.0.0.0" || addr == "::") && family == dom.family;
}

void check_tls_domains(Config& cfg, Diags& d)
{
    for (size_t i = 0; i < cfg.tls_domains.size(); i++) {
        const auto& dom = cfg.tls_domains[i];
        for (size_t j = 0; j < i; j++) {
            const auto& o = cfg.tls_domains[j];
            if (o.client == dom.client && o.addr == dom.addr && o.port == dom.port &&
                o.params.server_name == dom.params.server_name)
                d.error(dom.loc, "tls_domain for " + dom.addr + ":" + std::to_string(dom.port) +
                                 (dom.params.server_name.empty() ? "" : " with tls_server_name \"" + dom.params.server_name + "\"") +
                                 " is already defined at " + o.loc.str());
        }
        if (dom.client)
            continue;
        bool found = std::any_of(cfg.listens.begin(), cfg.listens.end(), [&](const ListenCfg& l) {
            return listener_matches(l.proto == Proto::Tls, l.addr, l.family, l.port, dom);
        });
        for (const auto& s : cfg.serials)
            for (const auto& l : s.listens)
                found = found || listener_matches(l.tls, l.addr, l.family, l.port, dom);
        if (!found)
            d.error(dom.loc, "tls_domain[" + dom.addr + ":" + std::to_string(dom.port) +
                             "] matches no listen=tls:" + dom.addr + ":" + std::to_string(dom.port));
    }
}

// Where the config first uses TLS (a tls listener, connect or domain), if anywhere.
std::optional<Loc> first_tls_use(const Config& cfg)
{
    std::optional<Loc> first;
    auto consider = [&](const Loc& l) {
        if (!first || std::tie(l.line, l.col) < std::tie(first->line, first->col))
            first = l;
    };
    for (const auto& l : cfg.listens)
        if (l.proto == Proto::Tls)
            consider(l.loc);
    for (const auto& dom : cfg.tls_domains)
        consider(dom.loc);
    for (const auto& s : cfg.serials) {
        for (const auto& l : s.listens)
            if (l.tls)
                consider(l.loc);
        for (const auto& l : s.connects)
            if (l.tls)
                consider(l.loc);
    }
    return first;
}

// The control socket: remote control only when asked for, a group that exists.
void check_ctl(const Config& cfg, Diags& d)
{
    const CtlCfg& c = cfg.ctl;
    if (c.enabled && c.tcp && !c.allow_remote) {
        static const Cidr v4 = *Cidr::parse("127.0.0.0/8"), v6 = *Cidr::parse("::1");
        auto a = SockAddr::from_numeric(c.addr, c.port);
        if (a && !v4.contains(*a) && !v6.contains(*a))
            d.error(c.loc, "ctl_socket: " + c.addr + " is not a loopback address: anyone who reaches it controls "
                           "ser; use 127.0.0.1 or ::1, or set ctl_allow_remote=yes");
    }
    if (!c.group.empty() && !getgrnam(c.group.c_str()))
        d.error(c.group_loc, "ctl_group: no group named \"" + c.group + "\"");
}

// proxy_protocol listeners believe a header from proxy_protocol_from only:
// with none named, every connection would be refused.
void check_proxy_protocol(const Config& cfg, Diags& d)
{
    for (const auto& l : cfg.listens)
        if (l.proxy_protocol && cfg.proxy_protocol_from.empty())
            d.error(l.loc, "listen=" + std::string(proto_name(l.proto)) + ":" + l.host + ":" + std::to_string(l.port) +
                           " proxy_protocol needs proxy_protocol_from=, the load balancers that may send the "
                           "header (e.g. proxy_protocol_from=\"10.0.0.0/8\")");
}

void default_listens(Config& cfg, Diags& d, const Loc& where)
{
    // A config of serial blocks alone is a serial bridge, not a SIP server:
    // it listens where its blocks say and nowhere else.
    if (!cfg.listens.empty() || (!cfg.serials.empty() && cfg.routes.empty()))
        return;
    for (Proto p : {Proto::Udp, Proto::Tcp}) {
        if (p == Proto::Tcp && cfg.disable_tcp)
            continue;
        ListenCfg l;
        l.proto = p;
        l.host = l.addr = "0.0.0.0";
        l.family = AF_INET;
        l.port = cfg.port;
        l.loc = where;
        cfg.listens.push_back(std::move(l));
    }
    d.notice(where, "no listen= given: listening on udp and tcp 0.0.0.0:" + std::to_string(cfg.port));
}

}  // namespace

CheckResult check(const File& ast, const std::string& path, const CheckOptions& opt)
{
    Diags d;
    CheckResult res;
    Config& cfg = res.config;
    cfg.file = path;
    auto slash = path.rfind('/');
    cfg.dir = slash == std::string::npos ? std::string("./") : path.substr(0, slash + 1);
    cfg.tls.certificate = cfg.dir + "cert.pem";
    cfg.tls.private_key = cfg.dir + "cert.pem";

    // Globals first, so blocks see final global values whatever the order in
    // the file; listen= last, as SER filled in ports after reading everything.
    for (int pass = 0; pass < 2; pass++)
        for (const auto& st : ast.stmts)
            if (st.kind == Stmt::Kind::Assign && (st.assign.name == "listen") == (pass == 1))
                apply_param(st.assign, Ctx::Global, ParamTargets{&cfg, &cfg.tls, nullptr}, opt, d);
    for (const auto& st : ast.stmts)
        if (st.kind != Stmt::Kind::Assign)
            check_block(st, cfg, opt, d);

    if (cfg.tcp_max_write_queue < cfg.tcp_max_msg_size)
        d.error(Loc{path, 1, 1}, "tcp_max_write_queue=" + std::to_string(cfg.tcp_max_write_queue) +
                                 " is smaller than tcp_max_msg_size=" + std::to_string(cfg.tcp_max_msg_size) +
                                 ": a largest message could never be queued");
    default_listens(cfg, d, Loc{path, 1, 1});
    check_listens(cfg, d);
    check_proxy_protocol(cfg, d);
    check_tls_domains(cfg, d);
    if (auto first = first_tls_use(cfg)) {
        if (!tls_compiled_in())
            d.error(*first, "this config uses TLS, but ser was built without it: rebuild with make TLS=1");
        else if (!cfg.disable_tls)
            check_tls_material(cfg, opt, d);
    }
    check_ctl(cfg, d);
    if (cfg.disable_tcp)
        for (const auto& l : cfg.listens)
            if (l.proto == Proto::Tcp)
                d.warning(l.loc, "disable_tcp=yes: this TCP listener is not opened");
    if (cfg.disable_tls) {
        // SER's meaning for SIP: the TLS listeners are not opened; said, not silent.
        for (const auto& l : cfg.listens)
            if (l.proto == Proto::Tls)
                d.warning(l.loc, "disable_tls=yes: this TLS listener is not opened");
        // A bridge endpoint that would never open is a config that cannot mean it.
        for (const auto& s : cfg.serials)
            for (const auto* v : {&s.listens, &s.connects})
                for (const auto& e : *v)
                    if (e.tls)
                        d.error(e.loc, "serial \"" + s.device + "\": " + (v == &s.listens ? "listen" : "connect") +
                                           "=tls: while disable_tls=yes; drop one of the two");
    }
    // The main route goes first so the engine can find it at index 0.
    std::stable_sort(cfg.routes.begin(), cfg.routes.end(),
                     [](const RouteCfg& a, const RouteCfg& b) { return a.name.empty() && !b.name.empty(); });
    check_routes(cfg, d);
    res.diags = d.take();
    // Report in reading order: included files where they are included.
    auto rank = [&](const Diag& dg) {
        size_t best = 0;
        for (size_t i = 0; i < ast.stmts.size(); i++)
            if (ast.stmts[i].loc.file == dg.loc.file && ast.stmts[i].loc.line <= dg.loc.line)
                best = i + 1;
        return std::make_tuple(best, dg.loc.line, dg.loc.col);
    };
    std::vector<std::pair<std::tuple<size_t, int, int>, Diag>> keyed;
    for (auto& dg : res.diags)
        keyed.emplace_back(rank(dg), std::move(dg));
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    res.diags.clear();
    for (auto& [k, dg] : keyed)
        res.diags.push_back(std::move(dg));
    return res;
}

static CheckResult from_parse(ParseOutcome p, const std::string& name, const CheckOptions& opt)
{
    if (!p.file) {
        CheckResult r;
        r.diags.push_back(Diag{Diag::Level::Error, p.loc, p.error});
        return r;
    }
    return check(*p.file, name, opt);
}

CheckResult load_config(const std::string& path, const CheckOptions& opt)
{
    return from_parse(parse_file(path), path, opt);
}

CheckResult load_config_text(std::string_view text, const std::string& name, const CheckOptions& opt)
{
    return from_parse(parse_text(text, name), name, opt);
}

}  // namespace ser::cfg

namespace ser {
const RouteCfg* Config::find_route(const std::string& name) const
{
    for (const auto& r : routes)
        if (r.name == name)
            return &r;
    return nullptr;
}
}  // namespace ser

// The table of every parameter ser.cfg knows: name, where it may appear, and
// how its value is converted and checked (in the manner of nginx's ngx_command_t).
#include "cfg/cfg_check.h"
#include "net.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <array>
#include <optional>

namespace ser::cfg {
namespace {

// Which blocks a parameter is valid in.
constexpr unsigned G = 1u << static_cast<int>(Ctx::Global);
constexpr unsigned D = 1u << static_cast<int>(Ctx::TlsDomain);
constexpr unsigned S = 1u << static_cast<int>(Ctx::Serial);

using Setter = void (*)(const Assign&, ParamTargets&, const CheckOptions&, Diags&);

struct Param {
    std::string_view name;
    unsigned ctx;
    Setter set;
};

const char* kind_name(Value::Kind k)
{
    switch (k) {
    case Value::Kind::Int: return "number";
    case Value::Kind::Str: return "string";
    case Value::Kind::Ident: return "word";
    case Value::Kind::Ip4: return "IPv4 address";
    case Value::Kind::Ip6: return "IPv6 address";
    case Value::Kind::Net: return "network";
    case Value::Kind::Colon: return "address";
    }
    return "value";
}

std::string got(const Value& v)
{
    return std::string(kind_name(v.kind)) + " \"" + v.text + "\"";
}

std::optional<long long> as_int(const Assign& a, long long lo, long long hi, const char* unit, Diags& d)
{
    if (a.value.kind != Value::Kind::Int) {
        d.error(a.value.loc, a.name + ": expected a number" + (*unit ? std::string(" of ") + unit : "") +
                             ", got " + got(a.value));
        return std::nullopt;
    }
    if (a.value.num < lo || a.value.num > hi) {
        d.error(a.value.loc, a.name + ": " + a.value.text + " is out of range (" + std::to_string(lo) + ".." +
                             std::to_string(hi) + (*unit ? std::string(" ") + unit : "") + ")");
        return std::nullopt;
    }
    return a.value.num;
}

std::optional<bool> as_bool(const Assign& a, Diags& d)
{
    const Value& v = a.value;
    if (v.kind == Value::Kind::Int && (v.num == 0 || v.num == 1))
        return v.num == 1;
    if (v.kind == Value::Kind::Ident || v.kind == Value::Kind::Str) {
        std::string s = v.text;
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);
        for (auto t : {"yes", "on", "true", "enable", "enabled"})
            if (s == t) return true;
        for (auto f : {"no", "off", "false", "disable", "disabled"})
            if (s == f) return false;
    }
    d.error(v.loc, a.name + ": expected yes/no (or 1/0), got " + got(v));
    return std::nullopt;
}

std::optional<std::string> as_str(const Assign& a, Diags& d, bool allow_word = true)
{
    const Value& v = a.value;
    if (v.kind == Value::Kind::Str || (allow_word && v.kind == Value::Kind::Ident))
        return v.text;
    d.error(v.loc, a.name + ": expected a quoted string, got " + got(v));
    return std::nullopt;
}

// Picks one of `names` (case-insensitive); returns its index.
std::optional<size_t> as_choice(const Assign& a, std::initializer_list<std::string_view> names, Diags& d)
{
    const Value& v = a.value;
    std::string s = v.text;
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    size_t i = 0;
    std::string list;
    for (auto n : names) {
        if ((v.kind == Value::Kind::Ident || v.kind == Value::Kind::Str) && s == n)
            return i;
        list += (i ? ", " : "") + std::string(n);
        i++;
    }
    d.error(v.loc, a.name + ": expected one of " + list + ", got " + got(v));
    return std::nullopt;
}

template <auto M> struct Member;
template <typename C, typename V, V C::*M> struct Member<M> { using Class = C; };

template <typename C> C* target(ParamTargets& t);
template <> Config* target<Config>(ParamTargets& t) { return t.cfg; }
template <> TlsParams* target<TlsParams>(ParamTargets& t) { return t.tls; }
template <> SerialCfg* target<SerialCfg>(ParamTargets& t) { return t.serial; }
template <> CtlCfg* target<CtlCfg>(ParamTargets& t) { return &t.cfg->ctl; }

template <auto M> auto& field(ParamTargets& t)
{
    return target<typename Member<M>::Class>(t)->*M;
}

template <auto M, long long Lo, long long Hi>
void p_int(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto v = as_int(a, Lo, Hi, "", d))
        field<M>(t) = static_cast<std::remove_reference_t<decltype(field<M>(t))>>(*v);
}

template <auto M, long long Lo, long long Hi>
void p_seconds(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto v = as_int(a, Lo, Hi, "seconds", d))
        field<M>(t) = static_cast<int>(*v);
}

template <auto M>
void p_bool(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto v = as_bool(a, d))
        field<M>(t) = *v;
}

template <auto M>
void p_str(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto v = as_str(a, d))
        field<M>(t) = *v;
}

// A file name: relative names are taken from the directory of the file that
// names them (CFG_DIR for the main config, the included file's own directory).
template <auto M>
void p_path(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto v = as_str(a, d, false);
    if (!v)
        return;
    if (v->empty() && a.name != "tls_ca_list" && a.name != "tls_crl") {
        d.error(a.value.loc, a.name + ": file name is empty");
        return;
    }
    const std::string& base = a.loc.file;
    auto slash = base.rfind('/');
    std::string dir = slash == std::string::npos ? "" : base.substr(0, slash + 1);
    field<M>(t) = (v->empty() || (*v)[0] == '/') ? *v : dir + *v;
}

void p_obsolete(const Assign& a, ParamTargets&, const CheckOptions&, Diags& d)
{
    d.notice(a.loc, a.name + " has no effect in ser; accepted for SER 0.9 compatibility");
}

// SER 0.9 globals that changed what SER did on the wire: accepting them
// without that effect would silently change behaviour, so each is an error
// that says what ser does instead.
void p_had_effect(const Assign& a, ParamTargets&, const CheckOptions&, Diags& d)
{
    if (a.name == "reply_to_via")
        d.error(a.loc, "reply_to_via is not supported: ser sends replies to the source address and port "
                       "(RFC 3261 §18.2.2, RFC 3581), never to the Via's sent-by; remove it");
    else if (a.name == "mhomed")
        d.error(a.loc, "mhomed is not supported: ser picks the outgoing socket by transport and address "
                       "family among its listeners; remove it (list the addresses to use with listen=)");
    else
        d.error(a.loc, a.name + " is not supported: ser does not set the IP type of service on its sockets; "
                                "remove it (mark traffic with the firewall, e.g. iptables DSCP, instead)");
}

void p_unsupported(const Assign& a, ParamTargets&, const CheckOptions&, Diags& d)
{
    // It would change what Via and Record-Route say: ignoring it would send
    // replies to the wrong place, so it is refused rather than accepted.
    d.error(a.loc, a.name + " is not available in ser yet: Via and Record-Route carry the listen address; "
                   "remove it (or listen on the address peers must use)");
}

// The words after a listen= value: proxy_protocol, on a stream listener.
bool listen_options(const Assign& a, ListenCfg& l, Diags& d)
{
    bool ok = true;
    for (const Value& w : a.words) {
        if (w.text != "proxy_protocol") {
            auto hint = did_you_mean(w.text, {"proxy_protocol"});
            d.error(w.loc, "unknown listen option \"" + w.text + "\"" +
                           (hint.empty() ? "; the only one is proxy_protocol" : "; did you mean \"" + hint + "\"?"));
            ok = false;
        } else if (l.any_proto || l.proto == Proto::Udp) {
            d.error(w.loc, "proxy_protocol is for tcp and tls listeners (a PROXY header starts a stream; udp has "
                           "none): write listen=tcp:" + l.host + ":" + std::to_string(l.port) + " proxy_protocol");
            ok = false;
        } else {
            l.proxy_protocol = true;
        }
    }
    return ok;
}

void p_listen(const Assign& a, ParamTargets& t, const CheckOptions& o, Diags& d)
{
    ListenCfg l;
    if (!parse_listen(a.value, t.cfg->port, o.resolve_hosts, l, d) || !listen_options(a, l, d))
        return;
    bool twin = l.any_proto && !t.cfg->disable_tcp;
    t.cfg->listens.push_back(l);
    if (twin) {
        l.proto = Proto::Tcp;
        t.cfg->listens.push_back(std::move(l));
    }
}

void p_alias(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    const Value& v = a.value;
    bool ok = v.kind == Value::Kind::Ident || v.kind == Value::Kind::Str || v.kind == Value::Kind::Ip4 ||
              v.kind == Value::Kind::Ip6 ||
              (v.kind == Value::Kind::Colon && v.parts.size() == 2 && v.parts[1].kind == Value::Kind::Int);
    if (!ok) {
        d.error(v.loc, "alias: expected host or host:port, got " + got(v));
        return;
    }
    if (v.kind == Value::Kind::Colon && (v.parts[1].num < 1 || v.parts[1].num > 65535)) {
        d.error(v.parts[1].loc, "alias: port " + v.parts[1].text + " is out of range (1..65535)");
        return;
    }
    t.cfg->aliases.push_back(v.text);
}

void p_tls_method(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    std::string s = a.value.text;
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return c == '_' ? '.' : ::tolower(c); });
    if (s == "sslv2" || s == "sslv3") {
        d.error(a.value.loc, "tls_method=" + a.value.text + " is refused: " + (s == "sslv2" ? "SSLv2" : "SSLv3") +
                             " is broken (RFC 6176, RFC 7568 — DROWN, POODLE) and OpenSSL 3 no longer speaks it; "
                             "use sslv23 (best of TLS 1.2 and 1.3)");
        return;
    }
    static const std::array<std::pair<std::string_view, TlsMethod>, 7> names{{
        {"sslv23", TlsMethod::Sslv23}, {"tls", TlsMethod::Sslv23}, {"tlsv1", TlsMethod::Tlsv1},
        {"tlsv1.0", TlsMethod::Tlsv1}, {"tlsv1.1", TlsMethod::Tlsv1_1}, {"tlsv1.2", TlsMethod::Tlsv1_2},
        {"tlsv1.3", TlsMethod::Tlsv1_3}}};
    for (auto& [n, m] : names)
        if (s == n && (a.value.kind == Value::Kind::Ident || a.value.kind == Value::Kind::Str)) {
            t.tls->method = m;
            if (m == TlsMethod::Tlsv1 || m == TlsMethod::Tlsv1_1)
                d.warning(a.value.loc, "tls_method=" + a.value.text + " pins a deprecated TLS version (RFC 8996); "
                                       "use it only for legacy devices");
            return;
        }
    d.error(a.value.loc, "tls_method: expected sslv23, tlsv1, tlsv1.1, tlsv1.2 or tlsv1.3, got " + got(a.value));
}

// listen= and connect= of a serial block: the listen= syntax (no default port;
// tcp when no protocol is written), kept as the bridge's own endpoint type.
void p_serial_listen(const Assign& a, ParamTargets& t, const CheckOptions& o, Diags& d)
{
    ListenCfg l;
    if (!parse_listen(a.value, 0, o.resolve_hosts, l, d))
        return;
    if (l.proto == Proto::Udp) {
        d.error(a.value.loc, a.name + ": a serial bridge listens on tcp or tls, not udp");
        return;
    }
    if (l.port == 0) {
        d.error(a.value.loc, a.name + ": a serial bridge needs an explicit port, e.g. tls:0.0.0.0:10000");
        return;
    }
    SerialEndpointCfg e;
    e.tls = l.proto == Proto::Tls;
    e.host = std::move(l.host);
    e.addr = std::move(l.addr);
    e.family = l.family;
    e.port = l.port;
    e.loc = l.loc;
    (a.name == "listen" ? t.serial->listens : t.serial->connects).push_back(std::move(e));
}

void p_baudrate(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    // Any rate: termios2 with BOTHER sets 250000 or 31250 as well as 115200;
    // whether the UART can divide down to it is the driver's to say at open.
    if (auto v = as_int(a, 50, 4000000, "baud", d))
        t.serial->baudrate = static_cast<int>(*v);
}

void p_parity(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto i = as_choice(a, {"none", "even", "odd", "mark", "space"}, d))
        t.serial->parity = static_cast<Parity>(*i);
}

void p_flow(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto i = as_choice(a, {"none", "rtscts", "xonxoff"}, d))
        t.serial->flow_control = static_cast<FlowControl>(*i);
}

void p_framing(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto i = as_choice(a, {"raw", "line"}, d))
        t.serial->framing = static_cast<Framing>(*i);
}

// Where the private key's passphrase is: a file (mode 600) or the
// environment of ser; never ser.cfg itself, which is read by many.
void p_key_pass(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto v = as_str(a, d);
    if (!v)
        return;
    if (v->rfind("file:", 0) == 0 && v->size() > 5) {
        std::string path = v->substr(5);
        const std::string& base = a.loc.file;
        auto slash = base.rfind('/');
        if (path[0] != '/' && slash != std::string::npos)
            path = base.substr(0, slash + 1) + path;
        t.tls->private_key_pass = "file:" + path;
    } else if (v->rfind("env:", 0) == 0 && v->size() > 4) {
        t.tls->private_key_pass = *v;
    } else {
        d.error(a.value.loc, "tls_private_key_pass: expected \"file:PATH\" or \"env:VARIABLE\"; a passphrase written "
                             "in ser.cfg itself is refused (the file is read by many)");
    }
}

// tls_require_certificate: a boolean (SER), or optional_no_ca: a client is
// asked for a certificate, one from no known CA (a phone's self-signed one)
// is accepted unverified, and the script sees it and its fingerprint.
void p_require_cert(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if ((a.value.kind == Value::Kind::Ident || a.value.kind == Value::Kind::Str) && a.value.text == "optional_no_ca") {
        t.tls->optional_no_ca = true;
        t.tls->require_certificate = false;
        return;
    }
    if (auto v = as_bool(a, d)) {
        t.tls->require_certificate = *v;
        t.tls->optional_no_ca = false;
    }
}

void p_crl_expired(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto i = as_choice(a, {"refuse", "warn"}, d))
        t.tls->crl_expired_warn = *i == 1;
}

void p_banner(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto i = as_choice(a, {"none", "ser2sock"}, d))
        t.serial->banner = static_cast<Banner>(*i);
}

// "10.0.0.0/8, 192.168.1.7, 2001:db8::/32" (or one bare address or network)
// appended to `out`; false, with an error, when an item is not one or the
// list is empty. More lines of the same name add to the list.
bool cidr_list(const Assign& a, std::vector<Cidr>& out, Diags& d)
{
    const Value& val = a.value;
    std::optional<std::string> v;
    if (val.kind == Value::Kind::Ip4 || val.kind == Value::Kind::Ip6 || val.kind == Value::Kind::Net)
        v = val.text;
    else
        v = as_str(a, d, false);
    if (!v)
        return false;
    size_t n = 0;
    std::string_view rest = *v;
    while (!rest.empty()) {
        size_t cut = rest.find_first_of(", \t");
        std::string_view item = rest.substr(0, cut);
        rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
        if (item.empty())
            continue;
        std::string why;
        auto c = Cidr::parse(item, &why);
        if (!c) {
            d.error(a.value.loc, a.name + ": " + why);
            return false;
        }
        out.push_back(*c);
        n++;
    }
    if (n == 0) {
        d.error(a.value.loc, a.name + ": empty list; write the addresses, e.g. \"10.0.0.0/8, ::1\"");
        return false;
    }
    return true;
}

// allow= of a serial block: the sources that may connect.
void p_allow(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    cidr_list(a, t.serial->allow, d);
}

// proxy_protocol_from=: the load balancers whose PROXY header is believed.
void p_proxy_from(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    cidr_list(a, t.cfg->proxy_protocol_from, d);
}

// ctl_socket="unix:/run/ser/ser.ctl", "/run/ser/ser.ctl", "tcp:127.0.0.1:2049" or "none".
void p_ctl_socket(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto v = as_str(a, d, false);
    if (!v)
        return;
    CtlCfg& c = t.cfg->ctl;
    t.cfg->ctl_socket = *v;
    c.given = true;
    c.loc = a.value.loc;
    std::string_view s = *v;
    if (s == "none" || s.empty()) {
        c.enabled = false;
        return;
    }
    c.enabled = true;
    if (s.substr(0, 4) == "tcp:") {
        HostPort hp = split_hostport(s.substr(4));
        auto port = parse_port(hp.port);
        auto addr = SockAddr::from_numeric(hp.host, port.value_or(0));
        if (!port || !addr) {
            d.error(a.value.loc, "ctl_socket: expected tcp:ADDRESS:PORT with a numeric address, e.g. "
                                 "tcp:127.0.0.1:2049, got \"" + *v + "\"");
            return;
        }
        c.tcp = true;
        c.addr = addr->ip();
        c.family = addr->family();
        c.port = *port;
        return;
    }
    if (s.substr(0, 5) == "unix:")
        s = s.substr(5);
    if (s.empty() || s[0] != '/') {
        d.error(a.value.loc, "ctl_socket: a unix socket needs an absolute path (unix:/run/ser/ser.ctl), or write "
                             "tcp:ADDRESS:PORT or none; got \"" + *v + "\"");
        return;
    }
    if (s.size() >= 108) {
        d.error(a.value.loc, "ctl_socket: the path is longer than a unix socket address can hold (107 bytes)");
        return;
    }
    c.tcp = false;
    c.path = std::string(s);
}

void p_ctl_group(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    if (auto v = as_str(a, d)) {
        t.cfg->ctl.group = *v;
        t.cfg->ctl.group_loc = a.value.loc;
    }
}

// ctl_mode=0660 (octal, as chmod takes it).
void p_ctl_mode(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    const std::string& s = a.value.text;
    bool octal = (a.value.kind == Value::Kind::Int || a.value.kind == Value::Kind::Str) && !s.empty() &&
                 s.size() <= 4 && s.find_first_not_of("01234567") == std::string::npos;
    int m = octal ? static_cast<int>(std::stoi(s, nullptr, 8)) : -1;
    if (!octal || (m & ~0666)) {
        d.error(a.value.loc, "ctl_mode: expected octal permissions such as 0600 or 0660 (read/write bits only), got " +
                             got(a.value));
        return;
    }
    if (m & 0002) {
        char shown[8];
        std::snprintf(shown, sizeof shown, "%04o", static_cast<unsigned>(m));
        d.error(a.value.loc, std::string("ctl_mode: ") + shown + " lets every local user control ser; use ctl_group to share it");
    }
    t.cfg->ctl.mode = m;
}

void p_metrics_listen(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto v = as_str(a, d, false);
    if (!v)
        return;
    HostPort hp = split_hostport(*v);
    auto port = parse_port(hp.port);
    auto addr = SockAddr::from_numeric(hp.host, port.value_or(0));
    if (!port || !addr) {
        d.error(a.value.loc, "metrics_listen: expected ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:9090, got \"" +
                             *v + "\"");
        return;
    }
    t.cfg->metrics_listen = *v;
    t.cfg->metrics_addr = addr->ip();
    t.cfg->metrics_family = addr->family();
    t.cfg->metrics_port = *port;
}

void p_facility(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto i = as_choice(a, {"log_daemon", "log_user", "log_local0", "log_local1", "log_local2", "log_local3",
                           "log_local4", "log_local5", "log_local6", "log_local7"}, d);
    if (i) {
        std::string s = a.value.text;
        std::transform(s.begin(), s.end(), s.begin(), ::toupper);
        t.cfg->log_facility = s;
    }
}

// dns_servers="127.0.0.1:5353, [::1]" — numeric addresses, each with an
// optional port, separated by commas or blanks; checked here, not at start.
void p_dns_servers(const Assign& a, ParamTargets& t, const CheckOptions&, Diags& d)
{
    auto v = as_str(a, d);
    if (!v)
        return;
    std::vector<std::string> out;
    std::string cur;
    auto take = [&]() -> bool {
        if (cur.empty())
            return true;
        HostPort hp = split_hostport(cur);
        std::string host(hp.host);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        if (!SockAddr::from_numeric(host, 0) || (!hp.port.empty() && !parse_port(hp.port))) {
            d.error(a.value.loc, a.name + ": \"" + cur + "\" is not an IP address with an optional port");
            return false;
        }
        out.push_back(cur);
        cur.clear();
        return true;
    };
    for (char c : *v) {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!take())
                return;
        } else {
            cur += c;
        }
    }
    if (!take())
        return;
    if (out.empty()) {
        d.error(a.value.loc, a.name + ": no server given (leave it out to use /etc/resolv.conf)");
        return;
    }
    t.cfg->dns_servers = std::move(out);
}

const Param kParams[] = {
    // SER 0.9 core
    {"debug", G, p_int<&Config::debug, -3, 9>},
    {"fork", G, p_bool<&Config::fork>},
    {"log_stderror", G, p_bool<&Config::log_stderror>},
    {"log_facility", G, p_facility},
    {"children", G, p_int<&Config::children, 1, 1024>},
    {"tcp_children", G, p_int<&Config::tcp_children, 1, 1024>},
    {"port", G, p_int<&Config::port, 1, 65535>},
    {"alias", G, p_alias},
    {"listen", G, p_listen},
    {"disable_tcp", G, p_bool<&Config::disable_tcp>},
    {"tcp_max_connections", G, p_int<&Config::tcp_max_connections, 1, 1000000>},
    {"tcp_connection_lifetime", G, p_seconds<&Config::tcp_connection_lifetime, 1, 604800>},
    {"tcp_max_msg_size", G, p_int<&Config::tcp_max_msg_size, 1024, 16777216>},
    {"tcp_connect_timeout", G, p_seconds<&Config::tcp_connect_timeout, 1, 300>},
    {"tcp_send_timeout", G, p_seconds<&Config::tcp_send_timeout, 1, 300>},
    {"tcp_msg_read_timeout", G, p_seconds<&Config::tcp_msg_read_timeout, 1, 3600>},
    {"tcp_first_msg_timeout", G, p_seconds<&Config::tcp_first_msg_timeout, 1, 3600>},
    {"tcp_max_write_queue", G, p_int<&Config::tcp_max_write_queue, 4096, 67108864>},
    {"tcp_max_conns_per_ip", G, p_int<&Config::tcp_max_conns_per_ip, 0, 1000000>},
    {"proxy_protocol_from", G, p_proxy_from},
    {"udp_max_msg_size", G, p_int<&Config::udp_max_msg_size, 1024, 65535>},
    {"dns_servers", G, p_dns_servers},
    {"dns_timeout", G, p_int<&Config::dns_timeout, 10, 60000>},
    {"dns_retries", G, p_int<&Config::dns_retries, 0, 10>},
    {"dns_cache_size", G, p_int<&Config::dns_cache_size, 0, 1000000>},
    {"dns_max_pending", G, p_int<&Config::dns_max_pending, 1, 1000000>},
    {"shm_mem_size", G, p_int<&Config::shm_mem_size, 1, 65536>},
    {"worker_stall_timeout", G, p_seconds<&Config::worker_stall_timeout, 0, 3600>},
    {"ctl_socket", G, p_ctl_socket},
    {"ctl_mode", G, p_ctl_mode},
    {"ctl_group", G, p_ctl_group},
    {"ctl_allow_remote", G, p_bool<&CtlCfg::allow_remote>},
    {"ctl_max_clients", G, p_int<&CtlCfg::max_clients, 1, 1024>},
    {"ctl_timeout", G, p_seconds<&CtlCfg::timeout, 1, 3600>},
    {"ctl_max_request", G, p_int<&CtlCfg::max_request, 1024, 16777216>},
    {"metrics_listen", G, p_metrics_listen},
    {"user", G, p_str<&Config::user>},
    {"group", G, p_str<&Config::group>},
    {"pid_file", G, p_str<&Config::pid_file>},
    {"server_signature", G, p_bool<&Config::server_signature>},
    {"reply_to_invalid", G, p_bool<&Config::reply_to_invalid>},
    // SER 0.9 globals that mean nothing here
    {"check_via", G, p_obsolete}, {"dns", G, p_obsolete}, {"rev_dns", G, p_obsolete},
    {"fifo", G, p_obsolete}, {"fifo_mode", G, p_obsolete}, {"fifo_dir", G, p_obsolete},
    {"fifo_db_url", G, p_obsolete}, {"syn_branch", G, p_obsolete}, {"memlog", G, p_obsolete},
    {"sip_warning", G, p_obsolete}, {"unix_sock", G, p_obsolete}, {"unix_sock_children", G, p_obsolete},
    {"unix_tx_timeout", G, p_obsolete}, {"mhomed", G, p_had_effect}, {"dns_try_ipv6", G, p_obsolete},
    {"reply_to_via", G, p_had_effect}, {"max_while_loops", G, p_obsolete}, {"tos", G, p_had_effect},
    {"wdir", G, p_obsolete}, {"log_name", G, p_obsolete}, {"sock_mode", G, p_obsolete},
    {"workdir", G, p_obsolete}, {"chroot", G, p_obsolete}, {"tcp_accept_aliases", G, p_obsolete},
    {"disable_core_dump", G, p_obsolete}, {"open_files_limit", G, p_obsolete}, {"maxbuffer", G, p_obsolete},
    {"sock_user", G, p_obsolete}, {"sock_group", G, p_obsolete}, {"mcast_loopback", G, p_obsolete},
    {"mcast_ttl", G, p_obsolete}, {"tls_port_no", G, p_obsolete},
    {"advertised_address", G, p_unsupported}, {"advertised_port", G, p_unsupported},
    {"uid", G, p_str<&Config::user>}, {"gid", G, p_str<&Config::group>},
    // The SER TLS module's parameters, globally and per tls_domain
    {"disable_tls", G, p_bool<&Config::disable_tls>},
    {"tls_certificate", G | D, p_path<&TlsParams::certificate>},
    {"tls_private_key", G | D, p_path<&TlsParams::private_key>},
    {"tls_certificate2", G | D, p_path<&TlsParams::certificate2>},
    {"tls_private_key2", G | D, p_path<&TlsParams::private_key2>},
    {"tls_ca_list", G | D, p_path<&TlsParams::ca_list>},
    {"tls_crl", G | D, p_path<&TlsParams::crl>},
    {"tls_ciphers_list", G | D, p_str<&TlsParams::ciphers_list>},
    {"tls_method", G | D, p_tls_method},
    {"tls_verify", G | D, p_bool<&TlsParams::verify>},
    {"tls_require_certificate", G | D, p_require_cert},
    {"tls_verify_depth", G | D, p_int<&TlsParams::verify_depth, 0, 100>},
    {"tls_handshake_timeout", G | D, p_seconds<&TlsParams::handshake_timeout, 1, 3600>},
    {"tls_send_timeout", G | D, p_seconds<&TlsParams::send_timeout, 1, 3600>},
    {"tls_server_name", D, p_str<&TlsParams::server_name>},
    {"tls_crl_expired", G | D, p_crl_expired},
    {"tls_ocsp_response", G | D, p_path<&TlsParams::ocsp_response>},
    {"tls_private_key_pass", G | D, p_key_pass},
    {"tls_keylog_file", G, p_path<&Config::tls_keylog_file>},
    {"tls_handshake_rate", G | D, p_int<&TlsParams::handshake_rate, 0, 1000000>},
    {"tls_reload_check", G, p_seconds<&Config::tls_reload_check, 0, 86400>},
    {"tls_expiry_warn_days", G, p_int<&Config::tls_expiry_warn_days, 0, 3650>},
    // serial "DEVICE" { ... }
    {"baudrate", S, p_baudrate},
    {"parity", S, p_parity},
    {"databits", S, p_int<&SerialCfg::databits, 5, 8>},
    {"stopbits", S, p_int<&SerialCfg::stopbits, 1, 2>},
    {"flow_control", S, p_flow},
    {"connect", S, p_serial_listen},
    {"keep_clients", S, p_bool<&SerialCfg::keep_clients>},
    {"reopen_delay", S, p_int<&SerialCfg::reopen_delay, 0, 3600000>},
    {"init_string", S, p_str<&SerialCfg::init_string>},
    {"framing", S, p_framing},
    {"max_clients", S, p_int<&SerialCfg::max_clients, 1, 1024>},
    {"client_queue", S, p_int<&SerialCfg::client_queue, 4096, 67108864>},
    {"connect_buffer", S, p_int<&SerialCfg::connect_buffer, 0, 67108864>},
    {"banner", S, p_banner},
    {"terminal_init", S, p_bool<&SerialCfg::terminal_init>},
    {"rfc2217", S, p_bool<&SerialCfg::rfc2217>},
    {"allow", S, p_allow},
};

// listen= means a SIP listener globally and a device listener in a serial block.
const Param kSerialListen{"listen", S, p_serial_listen};

const char* ctx_name(Ctx c)
{
    switch (c) {
    case Ctx::Global: return "at top level";
    case Ctx::TlsDomain: return "in a tls_domain block";
    case Ctx::Serial: return "in a serial block";
    }
    return "";
}

}  // namespace

std::vector<std::string_view> param_names(Ctx ctx)
{
    std::vector<std::string_view> out;
    for (const auto& p : kParams)
        if (p.ctx & (1u << static_cast<int>(ctx)))
            out.push_back(p.name);
    if (ctx == Ctx::Serial)
        out.push_back(kSerialListen.name);
    return out;
}

void apply_param(const Assign& a, Ctx ctx, ParamTargets t, const CheckOptions& opt, Diags& d)
{
    unsigned bit = 1u << static_cast<int>(ctx);
    // Only a SIP listen= takes words after its value.
    if (!a.words.empty() && !(ctx == Ctx::Global && a.name == "listen")) {
        d.error(a.words[0].loc, "unexpected word \"" + a.words[0].text + "\" after " + a.name +
                                "=...; only listen= takes an option (proxy_protocol)");
        return;
    }
    if (ctx == Ctx::Serial && a.name == kSerialListen.name) {
        kSerialListen.set(a, t, opt, d);
        return;
    }
    const Param* any = nullptr;
    for (const auto& p : kParams) {
        if (p.name != a.name)
            continue;
        if (p.ctx & bit) {
            p.set(a, t, opt, d);
            // Later checks of TLS files report at the line that named them.
            if (t.tls && a.name.compare(0, 4, "tls_") == 0)
                t.tls->set_at[a.name] = a.value.loc;
            return;
        }
        any = &p;
    }
    if (any) {
        d.error(a.loc, a.name + " is not allowed " + ctx_name(ctx));
        return;
    }
    std::string hint = did_you_mean(a.name, param_names(ctx));
    d.error(a.loc, "unknown parameter \"" + a.name + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

}  // namespace ser::cfg

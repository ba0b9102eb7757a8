// ser --ser2sock (see ser2sock_compat.h). Behaviour follows ser2sock 1.4.5
// (nutechsoftware/ser2sock); where ser departs from it, the README's
// "ser2sock migration" says so and so does a warning at start.
#include "serial/ser2sock_compat.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace ser::serial::ser2sock {
namespace {

using cfg::Loc;
using cfg::Value;

enum class Kind { Str, Path, Int, Bool };

// A conf key and the option that sets the same thing (0: conf file only).
struct Key {
    std::string_view name;
    char flag;
    Kind kind;
};

constexpr Key kKeys[] = {
    {"device", 's', Kind::Str},
    {"port", 'p', Kind::Int},
    {"bind_ip", 'i', Kind::Str},
    {"baudrate", 'b', Kind::Int},
    {"daemonize", 'd', Kind::Bool},
    {"raw_device_mode", '0', Kind::Bool},
    {"send_terminal_init", 't', Kind::Bool},
    {"preserve_connections", 'c', Kind::Bool},
    {"device_open_delay", 'w', Kind::Int},
    {"pid_file", 'P', Kind::Path},
    {"encrypted", 'e', Kind::Bool},
    {"ca_certificate", 0, Kind::Path},
    {"ssl_certificate", 0, Kind::Path},
    {"ssl_key", 0, Kind::Path},
    {"ssl_crl", 0, Kind::Path},
};

// The rates ser2sock knows; it quietly used 9600 for any other.
constexpr int kSer2sockBauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};

// Where ser2sock's defaults apply: no file, no option.
const Loc kDefault{"ser --ser2sock", 0, 0};

// What a message about a setting starts with: "port = 0: " for a conf
// line; nothing for an option, whose place already reads "command line: -p 0".
std::string subject(const Setting& st)
{
    return st.loc.line > 0 ? st.origin + ": " : std::string();
}

const Key* key_named(std::string_view name)
{
    for (const Key& k : kKeys)
        if (k.name == name)
            return &k;
    return nullptr;
}

const Key* key_of_flag(char f)
{
    for (const Key& k : kKeys)
        if (k.flag == f)
            return &k;
    return nullptr;
}

std::string_view trim(std::string_view s)
{
    const char* ws = " \t\r\n\f\v";
    size_t a = s.find_first_not_of(ws);
    if (a == std::string_view::npos)
        return {};
    return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

std::optional<long long> to_int(std::string_view s)
{
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}

// A conf value: an inline comment (after white space) and one pair of
// quotes taken off. ser2sock kept both in the value, so that
// `port = 10000  # the default` worked by accident of atoi() and a quoted
// path never opened.
std::string conf_value(std::string_view v)
{
    for (size_t i = 1; i < v.size(); i++)
        if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
            v = trim(v.substr(0, i));
            break;
        }
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
    return std::string(v);
}

// ser2sock opened its files relative to the directory it was started in;
// a ser.cfg path is relative to the config file, so give the checker a full one.
std::string absolute(const std::string& p)
{
    if (p.empty() || p[0] == '/')
        return p;
    char buf[4096];
    if (!getcwd(buf, sizeof buf))
        return p;
    return std::string(buf) + "/" + p;
}

// --- AST pieces: what cfg.y would build for the equivalent ser.cfg --------

Value v_int(long long n, const Loc& l)
{
    Value v;
    v.kind = Value::Kind::Int;
    v.num = n;
    v.text = std::to_string(n);
    v.loc = l;
    return v;
}

Value v_text(Value::Kind k, std::string s, const Loc& l)
{
    Value v;
    v.kind = k;
    v.text = std::move(s);
    v.loc = l;
    return v;
}

class AstBuilder {
public:
    void global(std::string name, Value v)
    {
        cfg::Stmt st;
        st.kind = cfg::Stmt::Kind::Assign;
        st.loc = v.loc;
        st.assign = cfg::Assign{std::move(name), std::move(v), st.loc, {}};
        file_.stmts.push_back(std::move(st));
    }
    void item(std::string name, Value v)
    {
        cfg::Action a;
        a.kind = cfg::Action::Kind::Call;
        a.name = "=";
        a.loc = v.loc;
        a.args.push_back(v_text(Value::Kind::Ident, std::move(name), v.loc));
        a.args.push_back(std::move(v));
        serial_.body.push_back(std::move(a));
    }
    void serial(std::string device, const Loc& l)
    {
        serial_.kind = cfg::Stmt::Kind::Serial;
        serial_.assign.name = "serial";
        serial_.text = std::move(device);
        serial_.loc = l;
    }
    cfg::File take()
    {
        file_.stmts.push_back(std::move(serial_));
        return std::move(file_);
    }

private:
    cfg::File file_;
    cfg::Stmt serial_;
};

// Reads the settings into an AST and the Options; errors and warnings go to `d`.
class Translator {
public:
    Translator(const Settings& s, const Paths& p, cfg::Diags& d) : s_(s), paths_(p), d_(d) {}

    // False when there is nothing to check (no device).
    bool build(AstBuilder& b, Options& o)
    {
        const Setting* dev = s_.get("device");
        if (!dev || dev->value.empty()) {
            d_.error(dev ? dev->loc : kDefault,
                     "no serial device: give -s DEVICE or device = DEVICE in " + s_.conf_path +
                         " (ser --ser2sock -h lists the options)");
            return false;
        }
        // ser2sock logged each client and device event at any -g; ser's info level does.
        b.global("debug", v_int(s_.debug_level >= 2 ? 4 : 3, kDefault));
        b.global("log_facility", v_text(Value::Kind::Ident, "LOG_USER", kDefault));   // ser2sock's syslog facility
        b.serial(dev->value, dev->loc);
        if (auto baud = number("baudrate")) {
            const Setting& bs = *s_.get("baudrate");
            if (std::find(std::begin(kSer2sockBauds), std::end(kSer2sockBauds), *baud) == std::end(kSer2sockBauds))
                d_.warning(bs.loc, subject(bs) + "ser sets this rate; ser2sock knew only 1200..115200 and "
                                   "would have run the device at 9600");
            b.item("baudrate", v_int(*baud, bs.loc));
        }
        bool tls = flag("encrypted");
        listen(b, tls);
        if (const Setting* keep = s_.get("preserve_connections"))
            b.item("keep_clients", v_int(flag("preserve_connections"), keep->loc));
        if (auto ms = number("device_open_delay"))
            b.item("reopen_delay", v_int(*ms, s_.get("device_open_delay")->loc));
        banner(b);
        if (tls)
            tls_files(b);
        else
            for (std::string_view k : {"ca_certificate", "ssl_certificate", "ssl_key", "ssl_crl"})
                if (const Setting* t = s_.get(k))
                    d_.notice(t->loc, std::string(k) + " is used only with encrypted = 1 (-e)");
        options(o);
        return true;
    }

private:
    std::optional<long long> number(std::string_view key)
    {
        const Setting* st = s_.get(key);
        if (!st)
            return std::nullopt;
        auto n = to_int(st->value);
        if (!n)
            d_.error(st->loc, subject(*st) + "\"" + st->value + "\" is not a number");
        return n;
    }

    // ser2sock read its switches with atoi(): any number but 0 is on.
    bool flag(std::string_view key)
    {
        const Setting* st = s_.get(key);
        if (!st)
            return false;
        auto n = to_int(st->value);
        if (!n) {
            d_.error(st->loc, subject(*st) + "expected 0 or 1, got \"" + st->value +
                                  "\" (ser2sock would have read it as 0, off)");
            return false;
        }
        return *n != 0;
    }

    // listen=tcp:BIND:PORT or tls:BIND:PORT, defaults 0.0.0.0 and 10000;
    // none when the port or address is bad (the error is said).
    void listen(AstBuilder& b, bool tls)
    {
        const Setting* ip = s_.get("bind_ip");
        const Setting* port = s_.get("port");
        Loc ploc = port ? port->loc : kDefault;
        long long pn = 10000;
        if (port) {
            auto n = number("port");
            if (!n)
                return;
            pn = *n;
        }
        Value addr = v_text(Value::Kind::Ip4, "0.0.0.0", ip ? ip->loc : kDefault);
        if (ip) {
            unsigned char buf[16];
            if (inet_pton(AF_INET, ip->value.c_str(), buf) == 1)
                addr.text = ip->value;
            else if (inet_pton(AF_INET6, ip->value.c_str(), buf) == 1)
                addr = v_text(Value::Kind::Ip6, "[" + ip->value + "]", ip->loc);
            else {
                d_.error(ip->loc, subject(*ip) + "\"" + ip->value + "\" is not an IP address (ser2sock binds to a "
                                              "numeric address, as 127.0.0.1)");
                return;
            }
        }
        Value v = v_text(Value::Kind::Colon, "", ploc);
        const Setting* enc = s_.get("encrypted");
        v.parts.push_back(v_text(Value::Kind::Ident, tls ? "tls" : "tcp", enc ? enc->loc : kDefault));
        v.parts.push_back(addr);
        v.parts.push_back(v_int(pn, ploc));
        v.text = v.parts[0].text + ":" + addr.text + ":" + std::to_string(pn);
        b.item("listen", std::move(v));
    }

    // ser2sock's status lines unless raw_device_mode; -t only with them, as in ser2sock.
    void banner(AstBuilder& b)
    {
        const Setting* raw = s_.get("raw_device_mode");
        bool is_raw = flag("raw_device_mode");
        b.item("banner", v_text(Value::Kind::Ident, is_raw ? "none" : "ser2sock", raw ? raw->loc : kDefault));
        if (const Setting* t = s_.get("send_terminal_init"); t && flag("send_terminal_init")) {
            if (is_raw)
                d_.notice(t->loc, subject(*t) + "no effect with raw_device_mode (as in ser2sock)");
            else
                b.item("terminal_init", v_int(1, t->loc));
        }
    }

    // encrypted: ser2sock's TLS is the serial listener's, with a client
    // certificate of ca_certificate required.
    void tls_files(AstBuilder& b)
    {
        static const std::pair<std::string_view, const char*> files[] = {
            {"ssl_certificate", "tls_certificate"}, {"ssl_key", "tls_private_key"}, {"ca_certificate", "tls_ca_list"}};
        const Setting* enc = s_.get("encrypted");
        for (auto [key, param] : files) {
            const Setting* f = s_.get(key);
            if (!f || f->value.empty())
                d_.error(enc->loc, subject(*enc) + "needs " + std::string(key) + " = FILE in " + s_.conf_path +
                                       " (ser2sock takes its TLS files from the conf file only)");
            else
                b.global(param, v_text(Value::Kind::Str, absolute(f->value), f->loc));
        }
        if (const Setting* crl = s_.get("ssl_crl"))
            b.global("tls_crl", v_text(Value::Kind::Str, absolute(crl->value), crl->loc));
        else if (access(paths_.crl.c_str(), R_OK) == 0)
            b.global("tls_crl", v_text(Value::Kind::Str, paths_.crl, Loc{"ser2sock's default ssl_crl", 0, 0}));
        else
            d_.notice(enc->loc, "no revocation list: " + paths_.crl + " (ser2sock's default ssl_crl) is not there");
        b.global("tls_verify", v_int(1, enc->loc));
        b.global("tls_require_certificate", v_int(1, enc->loc));
    }

    // Without daemonize ser2sock stays in the foreground and logs to stderr;
    // with it, it forks, logs to syslog and writes its pid file.
    void options(Options& o)
    {
        bool daemon = flag("daemonize");
        o.foreground = !daemon || s_.foreground;
        o.log_stderr = !daemon || s_.log_stderr;
        const Setting* pf = s_.get("pid_file");
        if (!o.foreground)
            o.pid_file = pf ? absolute(pf->value) : paths_.pid_file;
        else if (pf)
            d_.notice(pf->loc, subject(*pf) + "the pid file is written only when ser daemonizes, as ser2sock did");
    }

    const Settings& s_;
    const Paths& paths_;
    cfg::Diags& d_;
};

// The command line's settings over the file's; where they disagree the
// command line wins, which is not what ser2sock 1.4.5 did: say so.
void merge(const Settings& cli, Settings& s, cfg::Diags& d)
{
    for (const auto& [k, v] : cli.keys) {
        auto it = s.keys.find(k);
        if (it != s.keys.end() && it->second.value != v.value)
            d.warning(v.loc, "wins over " + it->second.origin + " at " + it->second.loc.str() +
                                 " (ser2sock 1.4.5 read its conf file after the command line and kept the file's value)");
        s.keys[k] = v;
    }
    s.debug_level = cli.debug_level;
    s.foreground = cli.foreground;
    s.log_stderr = cli.log_stderr;
    if (s.debug_level >= 2)
        d.warning(Loc{"command line: -g " + std::to_string(s.debug_level), 0, 0},
                  "ser logs each client and device event at this level but, unlike ser2sock, never the device's bytes");
}

void load_conf(Settings& s, cfg::Diags& d)
{
    std::ifstream in(s.conf_path, std::ios::binary);
    if (!in) {
        if (s.conf_given)
            d.error(Loc{"command line: -f " + s.conf_path, 0, 0},
                    "cannot read " + s.conf_path + ": " + std::strerror(errno));
        else
            d.notice(Loc{s.conf_path, 0, 0}, "not there (" + std::string(std::strerror(errno)) +
                                                 "): ser2sock's settings come from the command line only");
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    s.conf_read = true;
    read_conf(text.str(), s.conf_path, s, d);
}

// Puts the key a conf line set in front of what the checker said about it:
// "device_open_delay: reopen_delay: 9999999 is out of range".
void name_conf_keys(const Settings& s, std::vector<cfg::Diag>& diags)
{
    for (cfg::Diag& dg : diags) {
        for (const auto& [k, v] : s.keys) {
            if (v.loc.line == 0 || dg.loc.file != v.loc.file || dg.loc.line != v.loc.line)
                continue;
            if (dg.msg.compare(0, k.size() + 1, k + ":") != 0)
                dg.msg = k + ": " + dg.msg;
            break;
        }
    }
}

}  // namespace

const Setting* Settings::get(std::string_view key) const
{
    auto it = keys.find(key);
    return it == keys.end() ? nullptr : &it->second;
}

const std::vector<std::string_view>& conf_keys()
{
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> v;
        for (const Key& k : kKeys)
            v.push_back(k.name);
        return v;
    }();
    return names;
}

void read_conf(std::string_view text, const std::string& path, Settings& s, cfg::Diags& d)
{
    int lineno = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        lineno++;
        Loc loc{path, lineno, 1};
        std::string_view line = trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';')
            continue;
        // ser2sock skips section lines and reads its keys wherever they are.
        if (line[0] == '[') {
            size_t close = line.find(']');
            std::string_view name = close == std::string_view::npos ? line.substr(1) : line.substr(1, close - 1);
            if (close == std::string_view::npos)
                d.warning(loc, "section line without ']': read as [" + std::string(name) + "]");
            if (trim(name) != "ser2sock")
                d.warning(loc, "section [" + std::string(trim(name)) + "]: ser2sock reads its keys in every "
                               "section, and so does ser; only [ser2sock] is expected here");
            continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            d.warning(loc, "\"" + std::string(line) + "\" is not key = value; ignored");
            continue;
        }
        std::string key(trim(line.substr(0, eq)));
        std::string value = conf_value(trim(line.substr(eq + 1)));
        const Key* k = key_named(key);
        if (!k) {
            std::string hint = cfg::did_you_mean(key, conf_keys());
            d.warning(loc, "unknown ser2sock key \"" + key + "\" ignored" +
                               (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
            continue;
        }
        if (value.empty()) {
            d.warning(loc, key + " has no value; ignored, as ser2sock does");
            continue;
        }
        s.keys[key] = Setting{value, loc, key + " = " + value};
    }
}

bool parse_args(const std::vector<std::string>& args, Settings& s, std::string& err)
{
    for (size_t i = 0; i < args.size(); i++) {
        const std::string& a = args[i];
        if (a.size() < 2 || a[0] != '-') {
            err = "unexpected argument \"" + a + "\": ser2sock's command line holds options only";
            return false;
        }
        if (a == "-h" || a == "-help") {
            s.help = true;
            continue;
        }
        char f = a[1];
        const Key* k = key_of_flag(f);
        if (!k && std::strchr("DEfg", f) == nullptr) {
            err = "unknown option " + a + " (ser2sock's are -p -s -i -b -d -0 -t -g -c -w -e -f -P -h; "
                                          "ser adds -D and -E)";
            return false;
        }
        bool takes_value = f == 'f' || f == 'g' || (k && k->kind != Kind::Bool);
        if (!takes_value && a.size() > 2) {
            // ser2sock looked at the letter after '-' only: -dc was -d.
            err = a + ": one option per argument, as ser2sock reads them (it would take this for -" + f + ")";
            return false;
        }
        std::string v;
        if (takes_value) {
            if (a.size() > 2)
                v = a.substr(2);
            else if (i + 1 < args.size())
                v = args[++i];
            else {
                err = "option -" + std::string(1, f) + " needs a value";
                return false;
            }
        }
        switch (f) {
        case 'D': s.foreground = true; continue;
        case 'E': s.log_stderr = true; continue;
        case 'f': s.conf_path = v; s.conf_given = true; continue;
        case 'g': {
            auto n = to_int(v);
            if (!n || *n < 0 || *n > 3) {
                err = "option -g: \"" + v + "\" is not a debug level 0..3";
                return false;
            }
            s.debug_level = static_cast<int>(*n);
            continue;
        }
        default: break;
        }
        std::string origin = "-" + std::string(1, f) + (takes_value ? " " + v : "");
        s.keys[std::string(k->name)] = Setting{takes_value ? v : "1", Loc{"command line: " + origin, 0, 0}, origin};
    }
    return true;
}

std::string usage_text()
{
    return "usage: ser --ser2sock [options]   (ser2sock's command line; ser also runs so when\n"
           "       started under the name ser2sock)\n"
           "  -f FILE   ser2sock.conf to read (default /etc/ser2sock/ser2sock.conf)\n"
           "  -p PORT   port to listen on (default 10000)\n"
           "  -s DEV    serial device, e.g. /dev/ttyUSB0\n"
           "  -i IP     address to listen on (default 0.0.0.0, every address)\n"
           "  -b BAUD   baud rate (default 9600)\n"
           "  -d        daemonize: fork, log to syslog, write the pid file\n"
           "  -P FILE   pid file when daemonized (default /var/run/ser2sock.pid)\n"
           "  -0        raw device mode: no !SER2SOCK status lines\n"
           "  -t        send the terminal init string to each new client\n"
           "  -g N      debug level 0..3\n"
           "  -c        keep clients connected while the device is away\n"
           "  -w MS     delay between attempts to open the device (default 5000)\n"
           "  -e        TLS with a client certificate required (files from the conf file)\n"
           "  -h        print this help and exit\n"
           "ser's own, in this mode:\n"
           "  -D        stay in the foreground even with -d / daemonize = 1\n"
           "  -E        log to stderr even with -d / daemonize = 1\n"
           "Options on the command line win over the conf file.\n";
}

Ser2sockLaunch translate(const std::vector<std::string>& args, const Paths& paths, const cfg::CheckOptions& opt)
{
    Ser2sockLaunch l;
    Settings cli;
    std::string err;
    if (!parse_args(args, cli, err)) {
        l.exit_code = 2;
        l.message = "ser --ser2sock: " + err + "\n(ser --ser2sock -h lists the options)\n";
        return l;
    }
    if (cli.help) {
        l.exit_code = 0;
        l.message = usage_text();
        return l;
    }
    cfg::Diags d;
    Settings s;
    s.conf_given = cli.conf_given;
    s.conf_path = cli.conf_given ? cli.conf_path : paths.conf;
    load_conf(s, d);
    merge(cli, s, d);
    l.quiet_notices = s.debug_level == 0;
    AstBuilder b;
    bool built = Translator(s, paths, d).build(b, l.opt);
    std::vector<cfg::Diag> own = d.take();
    bool own_errors = std::any_of(own.begin(), own.end(),
                                  [](const cfg::Diag& x) { return x.level == cfg::Diag::Level::Error; });
    if (built && !own_errors) {
        l.res = cfg::check(b.take(), s.conf_read ? s.conf_path : kDefault.file, opt);
        name_conf_keys(s, l.res.diags);
    }
    own.insert(own.end(), std::make_move_iterator(l.res.diags.begin()), std::make_move_iterator(l.res.diags.end()));
    l.res.diags = std::move(own);
    return l;
}

}  // namespace ser::serial::ser2sock

namespace ser {

Ser2sockLaunch ser2sock_launch(int n, char** args)
{
    return serial::ser2sock::translate(std::vector<std::string>(args, args + std::max(n, 0)),
                                       serial::ser2sock::Paths{});
}

}  // namespace ser

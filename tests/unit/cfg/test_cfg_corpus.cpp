// The config corpus: every tests/cfg/good/*.cfg must load without errors and
// match its "# check: KEY = VALUE" lines; every tests/cfg/bad/*.cfg must fail
// with its first error where its "# expect: [FILE:]LINE:COL: TEXT" line says.
// Each file is one CppUnit test, so the runner's count shows the corpus.
//
// Directives (comment lines anywhere in a case):
//   # expect: [FILE:]LINE:COL: TEXT   bad: the first error (FILE relative to the case's directory)
//   # check: KEY = VALUE              good: a value of the typed Config (see config_values())
//   # warning: LINE:COL: TEXT         good: such a warning is reported (in this file)
//   # notice: LINE:COL: TEXT          good: such a notice is reported (in this file)
//   # tls-only / # plain-only         checked only in a TLS=1 / a plain build
//   # in-certs-dir                    loaded from a copy in the generated certificate directory
// "@CERTS@" in a case (and in its expectations) is the directory of test
// certificates made at run time with the openssl command; "@DIR@" in an
// expectation is the case's directory as passed to the checker, with a '/'.
// In check values, newline, CR and tab are written \n, \r and \t; nothing
// else is escaped.
#include "cfg/cfg_check.h"
#include "cfg/config.h"

#include <cppunit/TestCaller.h>
#include <cppunit/extensions/HelperMacros.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ser::cfg::Diag;

// ---------------------------------------------------------------------------
// Where the corpus is and what is in it.

std::string top_dir()
{
    const char* t = std::getenv("SER_TOP");
    return (t && *t) ? std::string(t) : std::string(".");
}

// "tests/cfg/good" relative to the repository root, or SER_TOP/tests/cfg/good.
std::string corpus_dir(const char* kind)
{
    std::string top = top_dir();
    std::string rel = std::string("tests/cfg/") + kind;
    return top == "." ? rel : top + "/" + rel;
}

std::vector<std::string> case_files(const char* kind)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(corpus_dir(kind), ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".cfg")
            out.push_back(it->path().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_all(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string base_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string trim(std::string s)
{
    const char* ws = " \t\r\n";
    s.erase(0, s.find_first_not_of(ws) == std::string::npos ? s.size() : s.find_first_not_of(ws));
    s.erase(s.find_last_not_of(ws) + 1);
    return s;
}

void replace_all(std::string& s, const std::string& from, const std::string& to)
{
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
        s.replace(p, from.size(), to);
}

// ---------------------------------------------------------------------------
// Test certificates, made once per run in a private temporary directory.

class Certs {
public:
    static Certs& get()
    {
        static Certs c;
        return c;
    }
    // The directory, or "" (and why()) when openssl failed.
    const std::string& dir()
    {
        if (!tried_) {
            tried_ = true;
            make();
        }
        return dir_;
    }
    const std::string& why() const { return why_; }
    ~Certs()
    {
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }

private:
    void make()
    {
        char tmpl[] = "/tmp/ser-cfg-corpus-XXXXXX";
        if (!mkdtemp(tmpl)) {
            why_ = "mkdtemp failed";
            return;
        }
        std::string d = tmpl;
        // EC keys: quick to make. A CA; a server certificate and key signed by
        // it; an unrelated key (mismatch); the guide's relative names; an empty
        // and a garbage "PEM" file; a CRL issued by the CA.
        const char* ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        std::string cmd =
            "cd '" + d + "' && ("
            "openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 3650 -subj '/CN=ser test CA' && "
            "openssl req " + ec + " -keyout server.key -out server.csr -subj '/CN=127.0.0.1' && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 && "
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key && "
            "cp server.pem new_cert && cp server.key new_cert_key && cp ca.pem 'other ca' && "
            ": > empty.pem && echo 'this is not a PEM file' > garbage.pem && "
            ": > index.txt && echo 01 > crlnumber && "
            "printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=%s/index.txt\\ncrlnumber=%s/crlnumber\\n"
            "default_md=sha256\\ndefault_crl_days=30\\n' \"$PWD\" \"$PWD\" > ca.cnf && "
            "openssl ca -batch -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -out crl.pem && "
            "chmod 600 ca.key server.key other.key new_cert_key"
            ") >openssl.log 2>&1";
        int rc = std::system(cmd.c_str());
        if (rc != 0) {
            why_ = "openssl failed (rc " + std::to_string(rc) + "): " + read_all(d + "/openssl.log");
            std::error_code e;
            fs::remove_all(d, e);
            return;
        }
        dir_ = d;
    }
    bool tried_ = false;
    std::string dir_;
    std::string why_;
};

// ---------------------------------------------------------------------------
// One case: its directives.

struct Expect {
    std::string file;   // "" = the case itself
    int line = 0;
    int col = 0;
    std::string text;
};

struct Case {
    std::string path;                                      // as found (tests/cfg/bad/x.cfg)
    bool good = true;
    bool tls_only = false, plain_only = false, in_certs_dir = false;
    bool needs_certs = false;                              // mentions @CERTS@
    std::optional<Expect> expect;                          // bad
    std::vector<std::pair<std::string, std::string>> checks;
    std::vector<Expect> warnings, notices;
    std::vector<std::string> header_errors;                // malformed directives
};

// "[FILE:]LINE:COL: TEXT"
bool parse_loc_text(const std::string& s, Expect& e)
{
    // The text starts after the first ": " that follows LINE:COL.
    size_t sep = s.find(": ");
    while (sep != std::string::npos) {
        std::string loc = s.substr(0, sep);
        size_t c2 = loc.rfind(':');
        size_t c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : loc.rfind(':', c2 - 1);
        std::string line_s = loc.substr(c1 == std::string::npos ? 0 : c1 + 1,
                                        c2 == std::string::npos ? 0 : c2 - (c1 == std::string::npos ? 0 : c1 + 1));
        std::string col_s = c2 == std::string::npos ? "" : loc.substr(c2 + 1);
        auto digits = [](const std::string& x) {
            return !x.empty() && x.find_first_not_of("0123456789") == std::string::npos;
        };
        if (digits(line_s) && digits(col_s)) {
            e.file = c1 == std::string::npos ? "" : loc.substr(0, c1);
            e.line = std::stoi(line_s);
            e.col = std::stoi(col_s);
            e.text = s.substr(sep + 2);
            return true;
        }
        sep = s.find(": ", sep + 1);
    }
    return false;
}

Case read_case(const std::string& path, bool good)
{
    Case c;
    c.path = path;
    c.good = good;
    std::string text = read_all(path);
    c.needs_certs = text.find("@CERTS@") != std::string::npos;
    std::istringstream in(text);
    std::string raw;
    while (std::getline(in, raw)) {
        std::string line = trim(raw);
        if (line.rfind('#', 0) != 0)
            continue;
        std::string d = trim(line.substr(1));
        auto after = [&](const char* key) -> std::optional<std::string> {
            std::string k = key;
            if (d.rfind(k, 0) == 0)
                return trim(d.substr(k.size()));
            return std::nullopt;
        };
        if (d == "tls-only") {
            c.tls_only = true;
        } else if (d == "plain-only") {
            c.plain_only = true;
        } else if (d == "in-certs-dir") {
            c.in_certs_dir = true;
        } else if (auto v = after("expect:")) {
            Expect e;
            if (c.expect)
                c.header_errors.push_back("more than one '# expect:' line");
            else if (!parse_loc_text(*v, e))
                c.header_errors.push_back("bad '# expect:' line (want [FILE:]LINE:COL: TEXT): " + *v);
            else
                c.expect = e;
        } else if (auto v = after("check:")) {
            size_t eq = v->find('=');
            if (eq == std::string::npos)
                c.header_errors.push_back("bad '# check:' line (want KEY = VALUE): " + *v);
            else
                c.checks.emplace_back(trim(v->substr(0, eq)), trim(v->substr(eq + 1)));
        } else if (auto v = after("warning:")) {
            Expect e;
            if (parse_loc_text(*v, e))
                c.warnings.push_back(e);
            else
                c.header_errors.push_back("bad '# warning:' line: " + *v);
        } else if (auto v = after("notice:")) {
            Expect e;
            if (parse_loc_text(*v, e))
                c.notices.push_back(e);
            else
                c.header_errors.push_back("bad '# notice:' line: " + *v);
        }
    }
    if (!good && !c.expect)
        c.header_errors.push_back("a bad case needs '# expect: LINE:COL: TEXT' on its first line");
    if (good && c.expect)
        c.header_errors.push_back("a good case has an '# expect:' line");
    if (!good && !c.checks.empty())
        c.header_errors.push_back("a bad case has '# check:' lines");
    if (c.tls_only && c.plain_only)
        c.header_errors.push_back("both tls-only and plain-only");
    return c;
}

// ---------------------------------------------------------------------------
// The typed Config as KEY -> VALUE strings, for "# check:" lines.

std::string escape(const std::string& s)
{
    std::string o;
    for (char ch : s) {
        switch (ch) {
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default: o += ch;
        }
    }
    return o;
}

std::string yn(bool b) { return b ? "yes" : "no"; }

std::string addr_port(const std::string& addr, int family, unsigned port)
{
    std::string a = family == AF_INET6 ? "[" + addr + "]" : addr;
    return a + ":" + std::to_string(port);
}

std::string listen_str(const ser::ListenCfg& l)
{
    return std::string(ser::proto_name(l.proto)) + ":" + addr_port(l.addr, l.family, l.port);
}

std::string listen_str(const ser::SerialEndpointCfg& l)
{
    return std::string(l.net_name()) + ":" + addr_port(l.addr, l.family, l.port);
}

std::string method_name(ser::TlsMethod m)
{
    switch (m) {
    case ser::TlsMethod::Sslv23: return "sslv23";
    case ser::TlsMethod::Tlsv1: return "tlsv1";
    case ser::TlsMethod::Tlsv1_1: return "tlsv1.1";
    case ser::TlsMethod::Tlsv1_2: return "tlsv1.2";
    case ser::TlsMethod::Tlsv1_3: return "tlsv1.3";
    }
    return "?";
}

template <typename T, typename F>
std::string join(const std::vector<T>& v, F f)
{
    std::string o;
    for (size_t i = 0; i < v.size(); i++)
        o += (i ? "," : "") + f(v[i]);
    return o;
}

void tls_values(std::map<std::string, std::string>& m, const std::string& pre, const ser::TlsParams& p)
{
    m[pre + "certificate"] = p.certificate;
    m[pre + "private_key"] = p.private_key;
    m[pre + "ca_list"] = p.ca_list;
    m[pre + "ciphers_list"] = p.ciphers_list;
    m[pre + "crl"] = p.crl;
    m[pre + "server_name"] = p.server_name;
    m[pre + "method"] = method_name(p.method);
    m[pre + "verify"] = yn(p.verify);
    m[pre + "require_certificate"] = yn(p.require_certificate);
    m[pre + "handshake_timeout"] = std::to_string(p.handshake_timeout);
    m[pre + "send_timeout"] = std::to_string(p.send_timeout);
}

std::map<std::string, std::string> config_values(const ser::Config& c, const std::vector<Diag>& diags)
{
    std::map<std::string, std::string> m;
    auto count = [&](Diag::Level lv) {
        return std::to_string(std::count_if(diags.begin(), diags.end(), [&](const Diag& d) { return d.level == lv; }));
    };
    m["errors"] = count(Diag::Level::Error);
    m["warnings"] = count(Diag::Level::Warning);
    m["notices"] = count(Diag::Level::Notice);

    m["debug"] = std::to_string(c.debug);
    m["fork"] = yn(c.fork);
    m["log_stderror"] = yn(c.log_stderror);
    m["log_facility"] = c.log_facility;
    m["children"] = std::to_string(c.children);
    m["tcp_children"] = std::to_string(c.tcp_children);
    m["port"] = std::to_string(c.port);
    m["disable_tcp"] = yn(c.disable_tcp);
    m["tcp_max_connections"] = std::to_string(c.tcp_max_connections);
    m["tcp_connection_lifetime"] = std::to_string(c.tcp_connection_lifetime);
    m["tcp_max_msg_size"] = std::to_string(c.tcp_max_msg_size);
    m["tcp_connect_timeout"] = std::to_string(c.tcp_connect_timeout);
    m["tcp_send_timeout"] = std::to_string(c.tcp_send_timeout);
    m["tcp_msg_read_timeout"] = std::to_string(c.tcp_msg_read_timeout);
    m["tcp_first_msg_timeout"] = std::to_string(c.tcp_first_msg_timeout);
    m["tcp_max_write_queue"] = std::to_string(c.tcp_max_write_queue);
    m["tcp_max_conns_per_ip"] = std::to_string(c.tcp_max_conns_per_ip);
    m["proxy_protocol_from"] = join(c.proxy_protocol_from, [](const ser::Cidr& x) { return x.str(); });
    m["udp_max_msg_size"] = std::to_string(c.udp_max_msg_size);
    {
        std::string servers;
        for (const std::string& d : c.dns_servers)
            servers += (servers.empty() ? "" : " ") + d;
        m["dns_servers"] = servers;
    }
    m["dns_timeout"] = std::to_string(c.dns_timeout);
    m["dns_retries"] = std::to_string(c.dns_retries);
    m["dns_cache_size"] = std::to_string(c.dns_cache_size);
    m["dns_max_pending"] = std::to_string(c.dns_max_pending);
    m["shm_mem_size"] = std::to_string(c.shm_mem_size);
    m["worker_stall_timeout"] = std::to_string(c.worker_stall_timeout);
    m["ctl_socket"] = c.ctl_socket;
    m["user"] = c.user;
    m["group"] = c.group;
    m["pid_file"] = c.pid_file;
    m["server_signature"] = yn(c.server_signature);
    m["reply_to_invalid"] = yn(c.reply_to_invalid);
    m["disable_tls"] = yn(c.disable_tls);

    m["aliases"] = join(c.aliases, [](const std::string& a) { return a; });
    for (size_t i = 0; i < c.aliases.size(); i++)
        m["alias[" + std::to_string(i) + "]"] = c.aliases[i];

    m["listens"] = std::to_string(c.listens.size());
    for (size_t i = 0; i < c.listens.size(); i++) {
        std::string k = "listen[" + std::to_string(i) + "]";
        m[k] = listen_str(c.listens[i]);
        m[k + ".host"] = c.listens[i].host;
        m[k + ".proxy_protocol"] = yn(c.listens[i].proxy_protocol);
    }

    tls_values(m, "tls.", c.tls);
    m["tls_domains"] = std::to_string(c.tls_domains.size());
    for (size_t i = 0; i < c.tls_domains.size(); i++) {
        const auto& d = c.tls_domains[i];
        std::string k = "tls_domain[" + std::to_string(i) + "].";
        m[k + "addr"] = d.addr;
        m[k + "port"] = std::to_string(d.port);
        m[k + "client"] = yn(d.client);
        tls_values(m, k, d.params);
    }

    m["serials"] = std::to_string(c.serials.size());
    for (size_t i = 0; i < c.serials.size(); i++) {
        const auto& s = c.serials[i];
        std::string k = "serial[" + std::to_string(i) + "].";
        static const char* const parity[] = {"none", "even", "odd", "mark", "space"};
        static const char* const flow[] = {"none", "rtscts", "xonxoff"};
        static const char* const framing[] = {"raw", "line"};
        m[k + "device"] = s.device;
        m[k + "baudrate"] = std::to_string(s.baudrate);
        m[k + "parity"] = parity[static_cast<int>(s.parity)];
        m[k + "databits"] = std::to_string(s.databits);
        m[k + "stopbits"] = std::to_string(s.stopbits);
        m[k + "flow_control"] = flow[static_cast<int>(s.flow_control)];
        m[k + "keep_clients"] = yn(s.keep_clients);
        m[k + "reopen_delay"] = std::to_string(s.reopen_delay);
        m[k + "init_string"] = s.init_string;
        m[k + "framing"] = framing[static_cast<int>(s.framing)];
        m[k + "max_clients"] = std::to_string(s.max_clients);
        m[k + "banner"] = s.banner == ser::Banner::Ser2sock ? "ser2sock" : "none";
        m[k + "rfc2217"] = yn(s.rfc2217);
        m[k + "allow"] = join(s.allow, [](const ser::Cidr& x) { return x.str(); });
        m[k + "listens"] = std::to_string(s.listens.size());
        m[k + "connects"] = std::to_string(s.connects.size());
        for (size_t j = 0; j < s.listens.size(); j++)
            m[k + "listen[" + std::to_string(j) + "]"] = listen_str(s.listens[j]);
        for (size_t j = 0; j < s.connects.size(); j++)
            m[k + "connect[" + std::to_string(j) + "]"] = listen_str(s.connects[j]);
    }

    m["modules"] = join(c.modules, [](const ser::ModuleCfg& x) { return x.name; });
    m["routes"] = std::to_string(c.routes.size());
    m["route_names"] = join(c.routes, [](const ser::RouteCfg& r) { return r.name.empty() ? std::string("main") : r.name; });
    for (size_t i = 0; i < c.routes.size(); i++) {
        std::string k = "route[" + std::to_string(i) + "].";
        m[k + "name"] = c.routes[i].name.empty() ? "main" : c.routes[i].name;
        m[k + "actions"] = std::to_string(c.routes[i].body.size());
    }
    for (auto& [k, v] : m)
        v = escape(v);
    return m;
}

// 1/0, on/off, true/false compare equal to yes/no.
std::string norm_bool(const std::string& v)
{
    if (v == "1" || v == "yes" || v == "true" || v == "on")
        return "yes";
    if (v == "0" || v == "no" || v == "false" || v == "off")
        return "no";
    return v;
}

std::string diags_text(const std::vector<Diag>& diags)
{
    std::string o;
    for (const auto& d : diags)
        o += "\n    " + d.str();
    return o.empty() ? "\n    (no diagnostics)" : o;
}

// ---------------------------------------------------------------------------

int g_checked_good = 0, g_checked_bad = 0;
int g_skipped = 0;

class CfgCorpusTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CfgCorpusTest);
    CPPUNIT_TEST_SUITE_ADD_CUSTOM_TESTS(add_case_tests);
    CPPUNIT_TEST(testCorpusSize);
    CPPUNIT_TEST_SUITE_END();

public:
    // One test per corpus file; cases for the other build are left out.
    static void add_case_tests(TestSuiteBuilderContextType& context)
    {
        bool tls = ser::cfg::tls_compiled_in();
        for (const char* kind : {"good", "bad"}) {
            for (const auto& path : case_files(kind)) {
                Case c = read_case(path, std::string(kind) == "good");
                if ((c.tls_only && !tls) || (c.plain_only && tls)) {
                    g_skipped++;
                    continue;
                }
                CfgCorpusTest* f = context.makeFixture();
                f->case_ = c;
                context.addTest(new CppUnit::TestCaller<CfgCorpusTest>(
                    context.getTestNameFor(std::string(kind) + ":" + base_of(path)), &CfgCorpusTest::testCase, f));
            }
        }
    }

    void testCase()
    {
        const Case& c = case_;
        std::string who = c.path + ": ";
        if (!c.header_errors.empty()) {
            std::string all;
            for (const auto& e : c.header_errors)
                all += "\n    " + e;
            CPPUNIT_FAIL(who + "malformed case:" + all);
        }
        std::string certs;
        if (c.needs_certs || c.in_certs_dir) {
            certs = Certs::get().dir();
            if (certs.empty())
                CPPUNIT_FAIL(who + "cannot make test certificates: " + Certs::get().why());
        }
        auto subst = [&](std::string s, const std::string& dir) {
            replace_all(s, "@CERTS@", certs);
            replace_all(s, "@DIR@", dir);
            return s;
        };

        std::string text = subst(read_all(c.path), dir_of(c.path));
        std::string name = c.path;
        if (c.in_certs_dir) {
            // The config's relative file names then name the generated files.
            name = certs + "/" + base_of(c.path);
            std::ofstream(name, std::ios::binary) << text;
        }
        ser::cfg::CheckResult res = ser::cfg::load_config_text(text, name);
        std::string dir = dir_of(name);
        std::string diag_list = diags_text(res.diags);

        if (!c.good) {
            g_checked_bad++;
            const Expect& e = *c.expect;
            auto first = std::find_if(res.diags.begin(), res.diags.end(),
                                      [](const Diag& d) { return d.level == Diag::Level::Error; });
            if (first == res.diags.end())
                CPPUNIT_FAIL(who + "expected an error, got none; diagnostics:" + diag_list);
            std::string want_file = e.file.empty() ? name : dir_of(name) + e.file;
            std::string want_text = subst(e.text, dir);
            bool loc_ok = first->loc.file == want_file && first->loc.line == e.line && first->loc.col == e.col;
            bool text_ok = first->msg.find(want_text) != std::string::npos;
            if (!loc_ok || !text_ok)
                CPPUNIT_FAIL(who + "first error differs\n    expected: " + want_file + ":" + std::to_string(e.line) +
                             ":" + std::to_string(e.col) + ": error: ..." + want_text + "...\n    got:      " +
                             first->str() + "\n  all diagnostics:" + diag_list);
            CPPUNIT_ASSERT_MESSAGE(who + "ok() is true despite an error", !res.ok());
            return;
        }

        g_checked_good++;
        std::string problems;
        if (!res.ok())
            problems += "\n  the config has errors";
        auto values = config_values(res.config, res.diags);
        for (const auto& [key, want_raw] : c.checks) {
            auto it = values.find(key);
            if (it == values.end()) {
                problems += "\n  check " + key + ": no such key (or index out of range)";
                continue;
            }
            std::string want = subst(want_raw, dir);
            bool same = it->second == want || norm_bool(it->second) == norm_bool(want);
            if (!same)
                problems += "\n  check " + key + ": expected \"" + want + "\", got \"" + it->second + "\"";
        }
        auto find_diag = [&](Diag::Level lv, const Expect& e, const char* what) {
            bool found = std::any_of(res.diags.begin(), res.diags.end(), [&](const Diag& d) {
                return d.level == lv && d.loc.file == name && d.loc.line == e.line && d.loc.col == e.col &&
                       d.msg.find(subst(e.text, dir)) != std::string::npos;
            });
            if (!found)
                problems += std::string("\n  no ") + what + " at " + std::to_string(e.line) + ":" +
                            std::to_string(e.col) + " containing \"" + e.text + "\"";
        };
        for (const auto& e : c.warnings)
            find_diag(Diag::Level::Warning, e, "warning");
        for (const auto& e : c.notices)
            find_diag(Diag::Level::Notice, e, "notice");
        if (!problems.empty())
            CPPUNIT_FAIL(who + "good case differs:" + problems + "\n  diagnostics:" + diag_list);
    }

    // The corpus is where it should be and as large as promised; prints the counts.
    void testCorpusSize()
    {
        size_t good = case_files("good").size(), bad = case_files("bad").size();
        std::cerr << "cfg corpus: " << g_checked_good << " good, " << g_checked_bad << " bad checked ("
                  << good << " good and " << bad << " bad files, " << g_skipped << " for the other build)\n";
        CPPUNIT_ASSERT_MESSAGE("no corpus in " + corpus_dir("good") + " (run from the repository root or set SER_TOP)",
                               good > 0 && bad > 0);
        CPPUNIT_ASSERT_MESSAGE("fewer than 25 good cases", good >= 25);
        CPPUNIT_ASSERT_MESSAGE("fewer than 45 bad cases", bad >= 45);
    }

private:
    Case case_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CfgCorpusTest);

}  // namespace
